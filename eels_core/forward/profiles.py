"""Analytic shapes of an unbroadened ionisation edge: Gaussian peaks and error-function steps.

The paper (Methods, "Edge modeling", Fig. 1a) fits each digitised edge with a sum of Gaussians.
We add one or more error-function steps for the ionisation continuum, since an edge never returns
to zero after its onset. These two functions are shared by the edge library (`eels_core.forward.edges`)
and the fitting code (`eels_core.real.fitting`), so a fitted edge and a library edge mean the same thing.
"""

from __future__ import annotations

from typing import Callable

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.special import erf

#: FWHM / sigma of a Gaussian, 2 sqrt(2 ln 2).
FWHM_PER_SIGMA: float = float(2.0 * np.sqrt(2.0 * np.log(2.0)))


def _sum_of_rows(
    energy_ev: ArrayLike, rows: ArrayLike, shape: Callable[[NDArray[np.float64], NDArray[np.float64]], NDArray[np.float64]]
) -> NDArray[np.float64]:
    """Sum over rows ``(centre, FWHM, height)`` of ``height * shape(E - centre, sigma)``."""
    e = np.asarray(energy_ev, dtype=np.float64)
    r = np.asarray(rows, dtype=np.float64).reshape(-1, 3)
    if r.size == 0:
        return np.zeros_like(e)
    sigma = r[:, 1:2] / FWHM_PER_SIGMA
    return np.sum(r[:, 2:3] * shape(e[None, :] - r[:, 0:1], sigma), axis=0)


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
    return _sum_of_rows(energy_ev, peaks, lambda d, sigma: np.exp(-0.5 * (d / sigma) ** 2))


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
    return _sum_of_rows(energy_ev, steps, lambda d, sigma: 0.5 * (1.0 + erf(d / (sigma * np.sqrt(2.0)))))


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
