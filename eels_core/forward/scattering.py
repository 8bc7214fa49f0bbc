"""Plural (multiple) scattering: core-loss edges convolved with the low-loss distribution.

In a specimen of relative thickness t / lambda, a fast electron that ionises an inner shell may
also excite plasmons; the recorded edge is the single-scattering edge convolved with the
plural-scattering distribution (Poisson statistics of the number of plasmon events):

    LL(E) = exp(-t/lambda) * sum_n (t/lambda)^n / n! * P^{*n}(E),

whose Fourier transform is ``exp(t/lambda * (P^(f) - 1))``. The paper lists the multiple
scattering effect among the experimental conditions of its synthesis but gives no parameters; we
model the plasmon P as a Lorentzian of energy E_p and width Gamma (a Drude-like loss peak).
"""

from __future__ import annotations

import numpy as np
import scipy.fft
from numpy.typing import ArrayLike, NDArray


def plasmon_transfer(frequency: ArrayLike, plasmon_energy_ev: ArrayLike, plasmon_fwhm_ev: ArrayLike) -> NDArray[np.complex128]:
    """Fourier transform of a unit-area Lorentzian plasmon peak at E_p of FWHM Gamma.

    ``exp(-2 pi i f E_p - pi Gamma |f|)``; broadcasts (plasmon parameters as column vectors).
    """
    f = np.asarray(frequency, dtype=np.float64)
    ep = np.asarray(plasmon_energy_ev, dtype=np.float64)[..., None]
    gam = np.asarray(plasmon_fwhm_ev, dtype=np.float64)[..., None]
    return np.exp(-2j * np.pi * f * ep - np.pi * gam * np.abs(f))


def plural_scattering_transfer(
    n_fft: int, spacing_ev: float, thickness: ArrayLike, plasmon_energy_ev: ArrayLike, plasmon_fwhm_ev: ArrayLike
) -> NDArray[np.complex64]:
    """``exp(t/lambda (P^(f) - 1))`` at the rfft frequencies; shape (b, n_fft // 2 + 1).

    Equals 1 everywhere for t/lambda = 0 (no plural scattering) and 1 at f = 0 (area kept).
    """
    f = scipy.fft.rfftfreq(n_fft, d=spacing_ev)
    t = np.asarray(thickness, dtype=np.float64)[..., None]
    return np.exp(t * (plasmon_transfer(f, plasmon_energy_ev, plasmon_fwhm_ev) - 1.0)).astype(np.complex64)


def low_loss_distribution(
    energy_ev: ArrayLike, thickness: float, plasmon_energy_ev: float, plasmon_fwhm_ev: float, n_max: int = 8
) -> tuple[float, NDArray[np.float64]]:
    """The plural-scattering distribution in energy space, for plots.

    Returns the weight of the unscattered (zero-loss) part, exp(-t/lambda), and the continuous
    part sum_{n>=1} Poisson(n) * P^{*n}(E) (the n-fold self-convolution of a Lorentzian is a
    Lorentzian at n E_p of width n Gamma).
    """
    e = np.asarray(energy_ev, dtype=np.float64)
    out = np.zeros_like(e)
    weight = np.exp(-thickness)
    for n in range(1, n_max + 1):
        weight_n = np.exp(-thickness) * thickness**n / np.prod(np.arange(1, n + 1))
        hw = n * plasmon_fwhm_ev / 2
        out += weight_n * (hw / np.pi) / ((e - n * plasmon_energy_ev) ** 2 + hw**2)
    return float(weight), out
