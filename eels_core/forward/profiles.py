"""Analytic shapes of an unbroadened ionisation edge: Gaussian peaks and error-function steps.

The paper (Methods, "Edge modeling", Fig. 1a) fits each digitised edge with a sum of Gaussians.
We add one or more error-function steps for the ionisation continuum, since an edge never returns
to zero after its onset. These two functions are shared by the edge library (`eels_core.forward.edges`)
and the fitting code (`eels_core.real.fitting`), so a fitted edge and a library edge mean the same thing.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.special import erf

#: FWHM / sigma of a Gaussian, 2 sqrt(2 ln 2).
FWHM_PER_SIGMA: float = float(2.0 * np.sqrt(2.0 * np.log(2.0)))


def gaussian_peaks(energy_ev: ArrayLike, peaks: ArrayLike) -> NDArray[np.float64]:
    """Sum of Gaussian peaks.

    Parameters
    ----------
    energy_ev : array_like, shape (n,)
        Energy-loss axis in eV.
    peaks : array_like, shape (k, 3)
        One row per peak: centre (eV), FWHM (eV), amplitude (peak height).

    Returns
    -------
    ndarray, shape (n,)
        The summed peaks evaluated on `energy_ev`.
    """
    e = np.asarray(energy_ev, dtype=np.float64)
    p = np.asarray(peaks, dtype=np.float64).reshape(-1, 3)
    if p.size == 0:
        return np.zeros_like(e)
    sigma = p[:, 1:2] / FWHM_PER_SIGMA
    return np.sum(p[:, 2:3] * np.exp(-0.5 * ((e[None, :] - p[:, 0:1]) / sigma) ** 2), axis=0)


def continuum_steps(energy_ev: ArrayLike, steps: ArrayLike) -> NDArray[np.float64]:
    """Sum of error-function steps (the ionisation continuum of an edge).

    Parameters
    ----------
    energy_ev : array_like, shape (n,)
        Energy-loss axis in eV.
    steps : array_like, shape (m, 3)
        One row per step: centre (eV), FWHM of the rise (the FWHM of its Gaussian
        derivative, eV), height far above the step.

    Returns
    -------
    ndarray, shape (n,)
        The summed steps evaluated on `energy_ev`.
    """
    e = np.asarray(energy_ev, dtype=np.float64)
    s = np.asarray(steps, dtype=np.float64).reshape(-1, 3)
    if s.size == 0:
        return np.zeros_like(e)
    sigma = s[:, 1:2] / FWHM_PER_SIGMA
    z = (e[None, :] - s[:, 0:1]) / (sigma * np.sqrt(2.0))
    return np.sum(s[:, 2:3] * 0.5 * (1.0 + erf(z)), axis=0)


def near_edge_profile(energy_ev: ArrayLike, peaks: ArrayLike, steps: ArrayLike) -> NDArray[np.float64]:
    """Unbroadened near-edge profile: Gaussian peaks plus continuum steps.

    Parameters
    ----------
    energy_ev : array_like, shape (n,)
        Energy-loss axis in eV.
    peaks : array_like, shape (k, 3)
        Gaussian peaks, see :func:`gaussian_peaks`.
    steps : array_like, shape (m, 3)
        Continuum steps, see :func:`continuum_steps`.

    Returns
    -------
    ndarray, shape (n,)
    """
    return gaussian_peaks(energy_ev, peaks) + continuum_steps(energy_ev, steps)
