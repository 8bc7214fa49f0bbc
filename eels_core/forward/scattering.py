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


# ---------------------------------------------------------------------------- the low-loss region
#: Grid step (eV) on which the low-loss distribution is built: the network grid's.
LOW_LOSS_STEP_EV = 0.2
#: FFT length of that grid: 16384 x 0.2 eV = 3277 eV, far beyond 1000 eV, so that the steep tails do
#: not wrap around.
LOW_LOSS_FFT = 16384


def drude_loss_function(energy_ev: ArrayLike, plasmon_energy_ev: float, plasmon_fwhm_ev: float) -> NDArray[np.float64]:
    """Energy-loss function Im[-1/epsilon(E)] of a free-electron (Drude) metal.

    ``E Gamma E_p^2 / ((E^2 - E_p^2)^2 + (E Gamma)^2)`` (Egerton 2011, section 3.3.1): a peak at the
    plasmon energy E_p of width ~Gamma that falls as ``Gamma E_p^2 / E^3`` far above it; 0 at E <= 0.
    """
    e = np.maximum(np.asarray(energy_ev, dtype=np.float64), 0.0)
    ep, gam = float(plasmon_energy_ev), float(plasmon_fwhm_ev)
    return e * gam * ep**2 / ((e**2 - ep**2) ** 2 + (e * gam) ** 2)


def single_valence_loss(
    energy_ev: ArrayLike, plasmon_energy_ev: float, plasmon_fwhm_ev: float, tail_exponent: float
) -> NDArray[np.float64]:
    """Single-scattering valence-loss distribution S(E), unit area (per eV), for E >= 0.

    The Drude loss function (:func:`drude_loss_function`) above ``E_p`` steepened by
    ``(E / E_p)^(3 - r)``, so that far above the plasmon it falls as ``E^-r``. The Drude tail alone
    falls as E^-3; the angular collection factor ``ln(1 + beta^2 / theta_E^2)``, which shrinks as
    ``theta_E ~ E`` grows, and the decay of the single-electron (interband) excitations make measured
    valence-loss tails steeper, which a single exponent ``r`` (3-6) stands for (Egerton 2011,
    sections 3.3 and 4.4: inverse power laws with r between 2 and 6 below ~500 eV).
    """
    e = np.asarray(energy_ev, dtype=np.float64)
    ep = float(plasmon_energy_ev)
    s = drude_loss_function(e, ep, plasmon_fwhm_ev) * (np.maximum(e, ep) / ep) ** (3.0 - float(tail_exponent))
    step = float(np.mean(np.diff(e))) if e.size > 1 else 1.0
    area = s.sum() * step
    return s / area if area > 0 else s


def low_loss_tail(
    energy_ev: ArrayLike,
    thickness: float,
    plasmon_energy_ev: float,
    plasmon_fwhm_ev: float,
    tail_exponent: float,
) -> NDArray[np.float64]:
    """The plural-scattering valence-loss spectrum (zero-loss peak excluded) per unit incident
    intensity, evaluated at ``energy_ev`` (eV >= 0): the low-loss region's contribution to a core-loss
    spectrum that starts in it.

    With S the single-scattering distribution (:func:`single_valence_loss`) and t/lambda the relative
    thickness, the Poisson statistics of independent scattering events (Egerton 2011, section 3.7.1)
    give ::

        J(E) = exp(-t/lambda) sum_{n >= 1} (t/lambda)^n / n!  S^{*n}(E),

    whose Fourier transform is ``exp(-t/lambda) (exp(t/lambda s(f)) - 1)``: the n-th plasmon at
    ~n E_p (weights Poisson in t/lambda, widths growing with n) and a tail that falls steeply, as
    ``E^-r``, then more slowly where the multiple-scattering terms take over. Computed on a 0.2 eV
    grid by FFT (:data:`LOW_LOSS_FFT` points) and interpolated onto ``energy_ev``.
    """
    e_out = np.asarray(energy_ev, dtype=np.float64)
    grid = LOW_LOSS_STEP_EV * np.arange(LOW_LOSS_FFT)
    s = single_valence_loss(grid, plasmon_energy_ev, plasmon_fwhm_ev, tail_exponent)
    s[grid > 0.5 * grid[-1]] = 0.0  # room for the convolutions: no wrap-around
    s /= s.sum() * LOW_LOSS_STEP_EV
    spectrum = scipy.fft.rfft(s * LOW_LOSS_STEP_EV)
    tau = float(thickness)
    transfer = np.exp(-tau) * np.expm1(tau * spectrum)
    j = scipy.fft.irfft(transfer, n=LOW_LOSS_FFT) / LOW_LOSS_STEP_EV
    return np.interp(e_out, grid, np.maximum(j, 0.0))
