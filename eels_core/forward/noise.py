"""Noise of a synthetic spectrum (paper: "Spectrum synthesis and data augmentation", Fig. 4).

The paper's noise is *fixed-pattern* (low-frequency) noise: white Gaussian noise of standard
deviation 0.0012, smoothed by a Savitzky-Golay filter of polynomial order 1 and odd frame length
31-59, then multiplied by a coefficient C in [1, 2].

Where the 0.0012 applies (a choice the paper leaves open, documented here and in chapter 04):
it is the standard deviation of the white noise *before* filtering, in units of the normalised
background J_n (J_n(50 eV) = 1), added on the network's 0.2 eV output grid. A frame of L channels
reduces it by about sqrt(L), so the added noise has sd ~ 0.0012 C / sqrt(L) ~ 1.6-4.3e-4.

Beyond the paper, :func:`shot_noise` adds Poisson noise at a given dose, because real spectra
are counted electrons.
"""

from __future__ import annotations

import numpy as np
import scipy.ndimage
import scipy.signal
from numpy.typing import ArrayLike, NDArray

from .background import fit_power_law, power_law


def white_noise(noise_seeds: ArrayLike, n_channels: int, noise_sd: float) -> NDArray[np.float64]:
    """White Gaussian noise, one independent stream per spectrum.

    Parameters
    ----------
    noise_seeds : array_like of int, shape (b,)
        One seed per spectrum (stored with the spectrum, so its noise can be regenerated).
    n_channels : int
    noise_sd : float

    Returns
    -------
    ndarray, shape (b, n_channels)
    """
    seeds = np.asarray(noise_seeds, dtype=np.uint64).reshape(-1)
    out = np.empty((seeds.size, n_channels), dtype=np.float64)
    for i, s in enumerate(seeds):
        np.random.Generator(np.random.SFC64(int(s))).standard_normal(out=out[i])
    out *= noise_sd
    return out


def savgol_smooth(noise: ArrayLike, frame_lengths: ArrayLike, order: int = 1) -> NDArray[np.float64]:
    """Savitzky-Golay filter each row with its own odd frame length (edges: ``mode="mirror"``).

    Rows sharing a frame length are filtered together with :func:`scipy.signal.savgol_filter`.
    For ``order <= 1`` the Savitzky-Golay coefficients are all ``1 / frame`` (a first-order fit
    and a constant give the same centre value), so the identical moving average of
    :func:`scipy.ndimage.uniform_filter1d` is used: O(n) instead of O(n * frame).
    """
    x = np.asarray(noise, dtype=np.float64)
    frames = np.asarray(frame_lengths, dtype=np.int64).reshape(-1)
    out = np.empty_like(x)
    for frame in np.unique(frames):
        rows = np.flatnonzero(frames == frame)
        if order <= 1:
            out[rows] = scipy.ndimage.uniform_filter1d(x[rows], int(frame), axis=-1, mode="mirror")
        else:
            out[rows] = scipy.signal.savgol_filter(x[rows], int(frame), order, axis=-1, mode="mirror")
    return out


def fixed_pattern_noise(
    noise_seeds: ArrayLike,
    n_channels: int,
    noise_sd: float,
    frame_lengths: ArrayLike,
    noise_coefficient: ArrayLike,
    order: int = 1,
) -> NDArray[np.float64]:
    """The paper's noise: C * SavGol(N(0, noise_sd^2)), one row per spectrum."""
    c = np.asarray(noise_coefficient, dtype=np.float64).reshape(-1, 1)
    return c * savgol_smooth(white_noise(noise_seeds, n_channels, noise_sd), frame_lengths, order)


def shot_noise(
    spectra: ArrayLike, dose: ArrayLike, noise_seeds: ArrayLike
) -> NDArray[np.float64]:
    """Poisson-resampled spectra: ``Poisson(dose * I) / dose`` per row (beyond the paper).

    Parameters
    ----------
    spectra : array_like, shape (b, n)
        Noise-free intensities in J_n units (clipped at 0).
    dose : array_like, shape (b,)
        Electrons per channel where the intensity is 1 (i.e. at 50 eV).
    noise_seeds : array_like, shape (b,)
        Per-spectrum seeds (a stream independent of :func:`white_noise`'s).
    """
    x = np.clip(np.asarray(spectra, dtype=np.float64), 0.0, None)
    d = np.asarray(dose, dtype=np.float64).reshape(-1)
    seeds = np.asarray(noise_seeds, dtype=np.uint64).reshape(-1)
    out = np.empty_like(x)
    for i in range(x.shape[0]):
        rng = np.random.Generator(np.random.PCG64([int(seeds[i]), 1]))
        out[i] = rng.poisson(x[i] * d[i]) / d[i]
    return out


def noise_sd_after_filter(noise_sd: float, frame_length: int, order: int = 1) -> float:
    """Standard deviation of white noise after the Savitzky-Golay filter (centre coefficients)."""
    coeffs = scipy.signal.savgol_coeffs(int(frame_length), order)
    return float(noise_sd * np.sqrt(np.sum(coeffs**2)))


def local_snr(energy_ev: ArrayLike, spectrum: ArrayLike, window_ev: tuple[float, float]) -> float:
    """Signal-to-noise ratio of a spectrum in a smooth (edge-free) window.

    A power law ``A E^-r`` is fitted (log-log least squares) to the window; the SNR is the mean
    of the fit over the standard deviation of the residual. It measures white and low-frequency
    noise alike, so synthetic and real spectra can be compared on the same footing.

    Parameters
    ----------
    energy_ev, spectrum : array_like, shape (n,)
    window_ev : (float, float)
        An energy range without edges, e.g. the pre-edge region.

    Returns
    -------
    float
    """
    e = np.asarray(energy_ev, dtype=np.float64)
    s = np.asarray(spectrum, dtype=np.float64)
    inside = (e >= window_ev[0]) & (e <= window_ev[1])
    if inside.sum() < 20:
        raise ValueError(f"local_snr needs >= 20 channels in {window_ev} eV, found {int(inside.sum())}")
    if np.any(s[inside] <= 0):
        raise ValueError(f"local_snr needs positive intensities in {window_ev} eV")
    amplitude, exponent = fit_power_law(e[inside], s[inside])
    fit = power_law(e[inside], amplitude, exponent)
    return float(fit.mean() / np.std(s[inside] - fit))
