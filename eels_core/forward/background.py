"""Inverse-power-law background and the jump ratio (paper: Methods, "Background and jump ratio", Fig. 2).

The background under the core-loss edges is ``J(E) ~ E^-r``; the paper normalises it to
``J_n(E) = E^-r / 50^-r`` (1 at 50 eV) and draws r ~ N(1.88, 0.2), cutting values below 0.1.

The jump ratio of an edge (Fig. 2) is the intensity of the edge's peak above the background,
I_p, divided by the background at the edge's start point, I_o.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

#: Energy (eV) at which the normalised background equals 1 (the start of the paper's model grid).
BACKGROUND_REFERENCE_EV: float = 50.0


def power_law_background(
    energy_ev: ArrayLike, background_exponent: ArrayLike, reference_ev: float = BACKGROUND_REFERENCE_EV
) -> NDArray[np.float64]:
    """Normalised background J_n(E) = (E / 50)^-r.

    Parameters
    ----------
    energy_ev : array_like
        Energies (eV); broadcast against ``background_exponent``.
    background_exponent : array_like
        The exponent r (> 0).
    reference_ev : float
        Energy where J_n = 1 (paper: 50 eV).

    Returns
    -------
    ndarray
    """
    e = np.asarray(energy_ev, dtype=np.float64)
    if np.any(e <= 0):
        raise ValueError("power_law_background needs energies > 0 eV")
    r = np.asarray(background_exponent, dtype=np.float64)
    return np.exp(-r * np.log(e / reference_ev))


def power_law(energy_ev: ArrayLike, amplitude: ArrayLike, exponent: ArrayLike) -> NDArray[np.float64]:
    """The background ``A * E**-r`` of a measured spectrum (A in counts at 1 eV).

    Parameters
    ----------
    energy_ev : array_like
        Energy loss in eV (> 0).
    amplitude, exponent : array_like
        A and r, broadcast against ``energy_ev`` (e.g. shape (b, 1) for b spectra).
    """
    return np.asarray(amplitude, dtype=np.float64) * power_law_background(energy_ev, exponent, reference_ev=1.0)


def fit_power_law(energy_ev: ArrayLike, counts: ArrayLike) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Least-squares power law ``A * E**-r`` through counts: a straight line in log-log space.

    The one background fit of the package (pre-edge background of real spectra, onset estimation,
    signal-to-noise estimates). Counts at or below zero (noise on a weak background) are clamped to
    1e-6 of the row's largest absolute count before the logarithm.

    Parameters
    ----------
    energy_ev : array_like, shape (n,)
        Energies of the fitting window, eV (> 0).
    counts : array_like, shape (n,) or (b, n)
        Counts in the window, one spectrum per row.

    Returns
    -------
    amplitude, exponent : ndarray, shape () or (b,)
        A and r of each row; evaluate with :func:`power_law`.
    """
    e = np.asarray(energy_ev, dtype=np.float64)
    c = np.asarray(counts, dtype=np.float64)
    one = c.ndim == 1
    c = c.reshape(-1, e.size)
    if e.ndim != 1 or e.size < 2 or np.any(e <= 0):
        raise ValueError("fit_power_law needs at least 2 energies, all > 0 eV")
    floor = 1e-6 * np.maximum(np.max(np.abs(c), axis=1, keepdims=True), 1e-300)
    y = np.log(np.maximum(c, floor))
    x = np.log(e)[None, :]
    xm, ym = x.mean(), y.mean(axis=1, keepdims=True)
    slope = ((x - xm) * (y - ym)).sum(axis=1) / ((x - xm) ** 2).sum()
    log_amplitude = ym[:, 0] - slope * xm
    amplitude, exponent = np.exp(log_amplitude), -slope
    return (amplitude[0], exponent[0]) if one else (amplitude, exponent)


def extrapolated_background_fit(
    energy_ev: ArrayLike,
    background_exponent: ArrayLike,
    fit_reference_ev: ArrayLike,
    exponent_error: ArrayLike = 0.0,
    scale_error: ArrayLike = 0.0,
    reference_ev: float = BACKGROUND_REFERENCE_EV,
) -> NDArray[np.float64]:
    """A power law fitted just below the first edge and extrapolated, as background subtraction does.

    The fit meets the true background J_n(E) = (E / 50)^-r at ``fit_reference_ev`` up to a relative
    error ``scale_error`` and has the exponent ``r + exponent_error``:

        B_fit(E) = (1 + scale_error) J_n(E_fit) (E / E_fit)^-(r + exponent_error).

    Subtracting it leaves J_n - B_fit: a residual that is ``-scale_error J_n`` at the fit window and
    grows with the distance from it when the exponent is off (Egerton 2011, section 4.4: the
    extrapolation error of the power-law fit). With both errors 0 it is the true background.

    ``energy_ev``, ``background_exponent`` (the true r) and ``reference_ev`` are those of
    :func:`power_law_background`, broadcast against ``fit_reference_ev`` (where the fit is anchored:
    the pre-edge fit window, eV) and the errors ``exponent_error`` (of the fitted exponent) and
    ``scale_error`` (relative, of the fitted level at ``fit_reference_ev``). Returns an ndarray.
    """
    e_fit = np.asarray(fit_reference_ev, dtype=np.float64)
    r = np.asarray(background_exponent, dtype=np.float64)
    level = (1.0 + np.asarray(scale_error, dtype=np.float64)) * power_law_background(e_fit, r, reference_ev)
    ratio = np.asarray(energy_ev, dtype=np.float64) / e_fit
    return level * power_law_background(ratio, r + np.asarray(exponent_error, dtype=np.float64), 1.0)


def sample_background_exponent(
    rng: np.random.Generator, n: int, mean: float = 1.88, sd: float = 0.2, minimum: float = 0.1
) -> NDArray[np.float64]:
    """Draw n background exponents r ~ N(mean, sd), redrawing values below ``minimum``."""
    r = rng.normal(mean, sd, size=n)
    bad = r < minimum
    while np.any(bad):
        r[bad] = rng.normal(mean, sd, size=int(bad.sum()))
        bad = r < minimum
    return r


def jump_ratio(peak_above_background: ArrayLike, background_at_onset: ArrayLike) -> NDArray[np.float64]:
    """Jump ratio I_p / I_o (paper, Fig. 2)."""
    return np.asarray(peak_above_background, dtype=np.float64) / np.asarray(background_at_onset, dtype=np.float64)


def measure_jump_ratio(
    energy_ev: ArrayLike,
    spectrum: ArrayLike,
    background: ArrayLike,
    edge_onset_ev: float,
    window_ev: float = 60.0,
) -> float:
    """Measure the jump ratio of one edge on a spectrum whose background is known.

    I_p is the largest channel of ``spectrum - background`` from 2 eV before the onset to
    ``window_ev`` after it; I_o is the background interpolated at the onset (paper, Fig. 2).

    Parameters
    ----------
    energy_ev, spectrum, background : array_like, shape (n,)
    edge_onset_ev : float
    window_ev : float

    Returns
    -------
    float
    """
    e = np.asarray(energy_ev, dtype=np.float64)
    bg = np.asarray(background, dtype=np.float64)
    s = np.asarray(spectrum, dtype=np.float64) - bg
    inside = (e >= edge_onset_ev - 2.0) & (e <= edge_onset_ev + window_ev)
    if inside.sum() < 3:
        raise ValueError(f"fewer than 3 channels between {edge_onset_ev - 2} and {edge_onset_ev + window_ev} eV")
    i_o = float(np.interp(edge_onset_ev, e, bg))
    return float(s[inside].max() / i_o)
