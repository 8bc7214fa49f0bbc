"""Point spread function of the spectrometer (paper: Methods, "Edge modeling", Fig. 1c).

The paper writes the PSF as the convolution of a Gaussian (energy spread of the beam, FWHM_g
0.1-1.6 eV) with a Lorentzian (light diffusion in the scintillator and fibre coupler, HWHM_l
0.1-0.6 eV), normalised to unit area; that is a Voigt profile.

Two views of the same function are given:

* :func:`psf_kernel` builds the PSF in energy space, literally as Gaussian (x) Lorentzian, for plots
  and for checking against :func:`scipy.special.voigt_profile`;
* :func:`psf_transfer_function` gives its Fourier transform in closed form,
  ``exp(-2 pi^2 sigma^2 f^2 - 2 pi HWHM |f|)``; :func:`convolve_psf` multiplies by it, which is
  exact, has unit area (the zero-frequency value is 1) and is vectorised over a batch of spectra,
  each with its own PSF.
"""

from __future__ import annotations

from typing import Callable

import numpy as np
import scipy.fft
import scipy.signal
from numpy.typing import ArrayLike, NDArray

from ._jit import kernels
from .profiles import FWHM_PER_SIGMA


def gaussian_sigma(psf_fwhm_gauss: ArrayLike) -> NDArray[np.float64]:
    """Standard deviation of a Gaussian from its FWHM: sigma = FWHM / (2 sqrt(2 ln 2))."""
    return np.asarray(psf_fwhm_gauss, dtype=np.float64) / FWHM_PER_SIGMA


def gaussian_psf(energy_ev: ArrayLike, psf_fwhm_gauss: float) -> NDArray[np.float64]:
    """Unit-area Gaussian PSF_amono(E) of FWHM ``psf_fwhm_gauss`` (eV), centred at 0."""
    e = np.asarray(energy_ev, dtype=np.float64)
    s = float(gaussian_sigma(psf_fwhm_gauss))
    return np.exp(-0.5 * (e / s) ** 2) / (s * np.sqrt(2 * np.pi))


def lorentzian_psf(energy_ev: ArrayLike, psf_hwhm_lorentz: float) -> NDArray[np.float64]:
    """Unit-area Lorentzian PSF_detector(E) = (HWHM / pi) / (E^2 + HWHM^2), centred at 0."""
    e = np.asarray(energy_ev, dtype=np.float64)
    g = float(psf_hwhm_lorentz)
    return (g / np.pi) / (e**2 + g**2)


def psf_kernel(
    spacing_ev: float, psf_fwhm_gauss: float, psf_hwhm_lorentz: float, half_width_ev: float = 50.0
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """The PSF in energy space, computed as the paper writes it: Gaussian (x) Lorentzian.

    Both factors are sampled on a symmetric grid of the given spacing and convolved numerically
    (:func:`scipy.signal.fftconvolve`); the result is renormalised to unit area on that grid (the
    Lorentzian wings beyond ``half_width_ev`` are lost, a fraction ~2 HWHM / (pi half_width)).

    Parameters
    ----------
    spacing_ev : float
        Grid spacing (eV).
    psf_fwhm_gauss : float
        FWHM of the Gaussian factor (eV).
    psf_hwhm_lorentz : float
        HWHM of the Lorentzian factor (eV).
    half_width_ev : float
        The kernel spans [-half_width_ev, +half_width_ev].

    Returns
    -------
    energy_ev, psf : ndarray
        Kernel abscissa (eV, centred on 0) and values (1/eV, ``sum(psf) * spacing == 1``).
    """
    if spacing_ev <= 0 or psf_fwhm_gauss <= 0 or psf_hwhm_lorentz <= 0 or half_width_ev <= 0:
        raise ValueError(
            "psf_kernel needs spacing_ev, psf_fwhm_gauss, psf_hwhm_lorentz and half_width_ev > 0; got "
            f"{spacing_ev}, {psf_fwhm_gauss}, {psf_hwhm_lorentz}, {half_width_ev}"
        )
    n = int(round(half_width_ev / spacing_ev))
    e = spacing_ev * np.arange(-n, n + 1)
    g = gaussian_psf(e, psf_fwhm_gauss)
    lor = lorentzian_psf(e, psf_hwhm_lorentz)
    k = scipy.signal.fftconvolve(g, lor, mode="same") * spacing_ev
    k /= k.sum() * spacing_ev
    return e, k


def psf_fwhm(psf_fwhm_gauss: float, psf_hwhm_lorentz: float) -> float:
    """FWHM of the Voigt PSF (Olivero & Longbothum 1977 approximation, accurate to 0.02 %)."""
    fg = float(psf_fwhm_gauss)
    fl = 2.0 * float(psf_hwhm_lorentz)
    return 0.5346 * fl + float(np.sqrt(0.2166 * fl**2 + fg**2))


def measured_fwhm(energy_ev: ArrayLike, values: ArrayLike) -> float:
    """FWHM of a single-peaked curve, with both half-maximum crossings interpolated linearly.

    Parameters
    ----------
    energy_ev, values : array_like, shape (n,)
        A sampled peak whose half-maximum crossings lie inside the array.
    """
    e = np.asarray(energy_ev, dtype=np.float64)
    k = np.asarray(values, dtype=np.float64)
    half = k.max() / 2
    above = np.flatnonzero(k >= half)
    lo, hi = above[0], above[-1]
    if lo == 0 or hi == k.size - 1:
        raise ValueError("the half-maximum crossings must lie inside the array; widen the energy range")
    left = np.interp(half, [k[lo - 1], k[lo]], [e[lo - 1], e[lo]])
    right = np.interp(half, [k[hi + 1], k[hi]], [e[hi + 1], e[hi]])
    return float(right - left)


def psf_transfer_function(
    n_fft: int, spacing_ev: float, psf_fwhm_gauss: ArrayLike, psf_hwhm_lorentz: ArrayLike
) -> NDArray[np.float64]:
    """Fourier transform of the unit-area PSF at the ``rfft`` frequencies of an ``n_fft`` grid.

    Parameters
    ----------
    n_fft : int
        Length of the (real) FFT.
    spacing_ev : float
        Grid spacing (eV).
    psf_fwhm_gauss, psf_hwhm_lorentz : array_like, shape (b,) or scalar
        One PSF per spectrum.

    Returns
    -------
    ndarray, shape (b, n_fft // 2 + 1) (or (n_fft // 2 + 1,) for scalars)
        ``exp(-2 pi^2 sigma^2 f^2) * exp(-2 pi HWHM |f|)``; equals 1 at f = 0 (unit area).
    """
    f = scipy.fft.rfftfreq(n_fft, d=spacing_ev)
    s = gaussian_sigma(psf_fwhm_gauss)[..., None]
    g = np.asarray(psf_hwhm_lorentz, dtype=np.float64)[..., None]
    return np.exp(-2.0 * np.pi**2 * s**2 * f**2 - 2.0 * np.pi * g * f)


def _transfer_function_f32(
    n_fft: int, spacing_ev: float, psf_fwhm_gauss: ArrayLike, psf_hwhm_lorentz: ArrayLike
) -> NDArray[np.float32]:
    """:func:`psf_transfer_function` in single precision, for batched float32 convolution."""
    f = scipy.fft.rfftfreq(n_fft, d=spacing_ev).astype(np.float32)
    a = (-2.0 * np.pi**2 * gaussian_sigma(psf_fwhm_gauss) ** 2).astype(np.float32).reshape(-1)
    c = (-2.0 * np.pi * np.asarray(psf_hwhm_lorentz, dtype=np.float64)).astype(np.float32).reshape(-1)
    a, c = np.broadcast_arrays(a, c)
    out = np.empty((a.size, f.size), dtype=np.float32)
    kernels().quadratic_rows(np.ascontiguousarray(a), np.ascontiguousarray(c), f, out)  # a f^2 + c f
    return np.exp(out, out=out)


def fft_length(n: int, pad: int | None = None) -> int:
    """FFT length used by :func:`convolve_psf` for ``n`` samples (default pad ``max(1024, n // 5)``)."""
    if pad is None:
        pad = max(1024, n // 5)
    return scipy.fft.next_fast_len(n + pad, real=True)


def convolve_psf(
    signal: ArrayLike,
    spacing_ev: float,
    psf_fwhm_gauss: ArrayLike,
    psf_hwhm_lorentz: ArrayLike,
    pad: int | None = None,
    extra_transfer: NDArray[np.complexfloating] | None = None,
    rows: NDArray[np.integer] | None = None,
    clock: Callable[[str], None] | None = None,
) -> NDArray[np.floating]:
    """Convolve each row of ``signal`` with its own PSF (exact Voigt, via FFT).

    Parameters
    ----------
    signal : array_like, shape (b, n) or (n,)
        Spectra on a uniform grid. float32 input stays float32 (faster).
    spacing_ev : float
        Grid spacing (eV).
    psf_fwhm_gauss, psf_hwhm_lorentz : array_like, shape (b,) or scalar
        PSF parameters for each row.
    pad : int, optional
        Zero padding added at the end before the FFT, so the Lorentzian wings of the high-energy
        end do not wrap onto the low-energy start. Default: ``max(1024, n // 5)`` rounded up to
        a fast FFT length.
    extra_transfer : ndarray, shape (b, n_fft // 2 + 1), optional
        Another transfer function to apply in the same pass (e.g. plural scattering,
        :func:`eels_core.forward.scattering.plural_scattering_transfer`); needs ``n_fft`` =
        :func:`fft_length` of the input.
    rows : ndarray of int, shape (b,), optional
        Which PSF each row of ``signal`` uses: the PSF parameters (and the rows of
        ``extra_transfer``) are then given once per distinct PSF, for example once per spectrum
        when the rows are the edges of several spectra, and each transfer function is evaluated
        once instead of once per row. The result is the same, bit for bit, as repeating the
        parameters per row.
    clock : callable, optional
        Profiling hook: ``clock(stage)`` is called after each stage.

    Returns
    -------
    ndarray, same shape and dtype as ``signal``
    """
    clock = clock or (lambda stage: None)
    x = np.asarray(signal)
    if not np.issubdtype(x.dtype, np.floating):
        x = x.astype(np.float64)
    n = x.shape[-1]
    n_fft = fft_length(n, pad)
    if x.dtype == np.float32:
        h = _transfer_function_f32(n_fft, spacing_ev, psf_fwhm_gauss, psf_hwhm_lorentz).reshape(
            np.broadcast_shapes(np.shape(psf_fwhm_gauss), np.shape(psf_hwhm_lorentz)) + (-1,)
        )
    else:
        h = psf_transfer_function(n_fft, spacing_ev, psf_fwhm_gauss, psf_hwhm_lorentz)
    clock("PSF transfer functions")
    spec = scipy.fft.rfft(x, n=n_fft, axis=-1)
    clock("FFT of the edges")
    if rows is not None:
        h = h[rows]
        extra_transfer = None if extra_transfer is None else extra_transfer[rows]
    spec *= h
    if extra_transfer is not None:
        spec *= extra_transfer
    clock("multiply by the transfer functions")
    out = scipy.fft.irfft(spec, n=n_fft, axis=-1)[..., :n].astype(x.dtype, copy=False)
    clock("inverse FFT")
    return out
