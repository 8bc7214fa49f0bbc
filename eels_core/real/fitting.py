"""Multi-Gaussian modelling of measured ionisation edges (the paper's Fig. 1a-b).

The paper (Methods, "Edge modeling") digitises core-loss edges and fits each with a
multi-Gaussian model "to locate the coordinates of the peaks and smooth out the noise effects".
This module does the same on measured spectra:

1. remove the pre-edge background, modelled as the usual inverse power law ``A * E**-r`` fitted
   on a window before the edge (:func:`fit_power_law_background`,
   :func:`subtract_power_law_background`);
2. fit the background-subtracted edge with Gaussian peaks plus error-function continuum steps
   (:func:`fit_multi_gaussian`), using the very model functions of :mod:`eels_core.forward.profiles`, so
   that a fitted edge can go into the edge library unchanged (:meth:`MultiGaussianFit.to_variant`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.ndimage import gaussian_filter1d
from scipy.optimize import least_squares, nnls
from scipy.signal import find_peaks, peak_widths

from ..forward.axis import check_counts, check_energy_axis
from ..forward.background import fit_power_law, power_law
from ..forward.profiles import continuum_steps, gaussian_peaks, near_edge_profile

#: Allowed FWHM of a fitted Gaussian peak, eV. The lower limit is the edge library's rule.
PEAK_FWHM_BOUNDS_EV: tuple[float, float] = (0.6, 30.0)
#: Allowed FWHM of the rise of a fitted continuum step, eV.
STEP_FWHM_BOUNDS_EV: tuple[float, float] = (0.5, 20.0)
#: Fewest channels a pre-edge background window may hold.
MIN_BACKGROUND_CHANNELS: int = 10
#: How far below the edge onset a peak or step centre may lie (edge library rule), eV.
CENTRE_BELOW_ONSET_EV: float = 2.0
#: Allowed span between a variant's edge onset and its tail start (edge library rule), eV.
TAIL_SPAN_BOUNDS_EV: tuple[float, float] = (15.0, 90.0)
#: Extra starting FWHMs (eV) tried for all automatic initial peaks: least squares on sums of
#: Gaussians has local minima (a broad peak standing in for the continuum), so several starts
#: are fitted and the best kept.
START_PEAK_FWHMS_EV: tuple[float, ...] = (1.5, 3.0)
#: Peaks weaker than this fraction of the strongest are left out of a library variant.
NEGLIGIBLE_AMPLITUDE_FRACTION: float = 1e-3


# --------------------------------------------------------------------------------------------
# input checks
# --------------------------------------------------------------------------------------------


def _as_spectrum_arrays(
    energy_ev: ArrayLike, values: ArrayLike, name: str
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """The checked energy axis and one spectrum's values on it (:mod:`eels_core.forward.axis`)."""
    energy = check_energy_axis(energy_ev, min_window_ev=None)
    data = check_counts(values, energy.size, name)
    if data.ndim != 1:
        raise ValueError(f"{name} must be one spectrum, got shape {data.shape}; sum a spectrum image over its pixels first.")
    return energy, data


def _window_mask(energy: NDArray[np.float64], window_ev: ArrayLike, name: str) -> NDArray[np.bool_]:
    """Boolean mask of the channels inside ``window_ev = (start, end)`` (inclusive)."""
    window = np.asarray(window_ev, dtype=np.float64)
    if window.shape != (2,) or not np.all(np.isfinite(window)) or window[0] >= window[1]:
        raise ValueError(f"{name} must be (start_ev, end_ev) with start < end, got {window_ev!r}.")
    return (energy >= window[0]) & (energy <= window[1])


# --------------------------------------------------------------------------------------------
# pre-edge background
# --------------------------------------------------------------------------------------------


def fit_power_law_background(
    energy_ev: ArrayLike, counts: ArrayLike, window_ev: tuple[float, float]
) -> tuple[float, float]:
    """Fit the pre-edge background ``A * E**-r`` on a window before an edge.

    Least squares on a straight line in log-log space, ``log I = log A - r log E``.

    Parameters
    ----------
    energy_ev : array_like, shape (n,)
        Energy-loss axis in eV, increasing.
    counts : array_like, shape (n,)
        Measured intensity.
    window_ev : (float, float)
        Start and end of the pre-edge fitting window, eV.

    Returns
    -------
    A, r : float
        Amplitude and exponent of the power law.

    Raises
    ------
    ValueError
        If the window holds fewer than ``MIN_BACKGROUND_CHANNELS`` channels, or any counts or
        energies in it are not positive (a power law cannot be fitted in log space then).
    """
    energy, data = _as_spectrum_arrays(energy_ev, counts, "counts")
    inside = _window_mask(energy, window_ev, "window_ev")
    n_inside = int(np.count_nonzero(inside))
    if n_inside < MIN_BACKGROUND_CHANNELS:
        raise ValueError(
            f"The background window {tuple(window_ev)} eV holds {n_inside} channels, fewer than "
            f"{MIN_BACKGROUND_CHANNELS}; widen it or move it inside the measured range "
            f"{energy[0]:g}-{energy[-1]:g} eV."
        )
    e_win, i_win = energy[inside], data[inside]
    if np.any(i_win <= 0) or np.any(e_win <= 0):
        raise ValueError(
            f"The background window {tuple(window_ev)} eV has non-positive counts or energies, so a "
            "power law cannot be fitted; move the window or check whether the background was "
            "already subtracted."
        )
    amplitude, exponent = fit_power_law(e_win, i_win)
    return float(amplitude), float(exponent)


def subtract_power_law_background(
    energy_ev: ArrayLike, counts: ArrayLike, window_ev: tuple[float, float]
) -> tuple[NDArray[np.float64], tuple[float, float]]:
    """Subtract a power-law pre-edge background fitted on `window_ev`.

    Parameters
    ----------
    energy_ev, counts, window_ev
        See :func:`fit_power_law_background`.

    Returns
    -------
    signal : ndarray, shape (n,)
        ``counts - A * E**-r`` over the whole axis (the edge signal above the window).
    (A, r) : tuple of float
        The fitted background.
    """
    amplitude, exponent = fit_power_law_background(energy_ev, counts, window_ev)
    energy = np.asarray(energy_ev, dtype=np.float64)
    signal = np.asarray(counts, dtype=np.float64) - power_law(energy, amplitude, exponent)
    return signal, (amplitude, exponent)


# --------------------------------------------------------------------------------------------
# the multi-Gaussian edge model
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class MultiGaussianFit:
    """Result of :func:`fit_multi_gaussian`.

    Attributes
    ----------
    peaks : ndarray, shape (k, 3)
        Gaussian peaks, rows [centre eV, FWHM eV, amplitude], sorted by centre.
    steps : ndarray, shape (m, 3)
        Continuum steps, rows [centre eV, FWHM of the rise eV, height], sorted by centre.
    residual_rms : float
        Root-mean-square of (data - model) over the fit range, in the units of the signal.
    r_squared : float
        Coefficient of determination of the model over the fit range.
    onset_ev : float
        Edge onset the fit was given.
    fit_range_ev : (float, float)
        Energy range that was fitted.
    success : bool
        Whether scipy.optimize.least_squares reported convergence.
    message : str
        The optimiser's message.
    """

    peaks: NDArray[np.float64]
    steps: NDArray[np.float64]
    residual_rms: float
    r_squared: float
    onset_ev: float
    fit_range_ev: tuple[float, float]
    success: bool = True
    message: str = ""

    def model(self, energy_ev: ArrayLike) -> NDArray[np.float64]:
        """The fitted near-edge profile (peaks plus steps) on `energy_ev`."""
        return near_edge_profile(energy_ev, self.peaks, self.steps)

    def to_variant(
        self, name: str, source: str, edge_onset_ev: float, tail_start_ev: float
    ) -> dict[str, Any]:
        """This fit as one variant of the edge library (schema of ``eels_core/data/README.md``).

        Amplitudes and heights are made relative: the profile is scaled so that its maximum
        between ``edge_onset_ev - 2`` and ``tail_start_ev`` is 1. Peaks weaker than
        ``NEGLIGIBLE_AMPLITUDE_FRACTION`` of the strongest, and steps of zero height, are left out.

        Parameters
        ----------
        name : str
            Variant name, e.g. ``"SrTiO3 (pyEELSMODEL hl.msa)"``.
        source : str
            Where the fitted spectrum came from.
        edge_onset_ev : float
            Where this edge starts to rise, eV.
        tail_start_ev : float
            Energy beyond which the library lets the edge decay as a power law, eV.

        Returns
        -------
        dict
            Keys ``name, source, edge_onset_ev, tail_start_ev, peaks, steps, r_squared``;
            numbers are plain Python floats.

        Raises
        ------
        ValueError
            If the variant would break an edge-library rule (tail span, centres before the
            onset or after the tail start, no positive step).
        """
        span = tail_start_ev - edge_onset_ev
        if not TAIL_SPAN_BOUNDS_EV[0] <= span <= TAIL_SPAN_BOUNDS_EV[1]:
            raise ValueError(
                f"tail_start_ev - edge_onset_ev = {span:g} eV is outside the library's "
                f"{TAIL_SPAN_BOUNDS_EV} eV; choose a tail start 15-90 eV above the onset."
            )
        strongest = float(self.peaks[:, 2].max(initial=0.0))
        peaks = self.peaks[(self.peaks[:, 2] > NEGLIGIBLE_AMPLITUDE_FRACTION * strongest) & (self.peaks[:, 2] > 0)]
        steps = self.steps[self.steps[:, 2] > 0]
        if steps.shape[0] == 0:
            raise ValueError(
                f"Variant '{name}' has no continuum step of positive height; refit with a step "
                "(an ionisation edge never returns to zero after its onset)."
            )
        centres = np.concatenate([peaks[:, 0], steps[:, 0]])
        low, high = edge_onset_ev - CENTRE_BELOW_ONSET_EV, tail_start_ev
        if np.any(centres < low) or np.any(centres > high):
            raise ValueError(
                f"Variant '{name}' has peak or step centres outside [{low:g}, {high:g}] eV "
                f"(edge_onset_ev - 2 to tail_start_ev): {np.round(centres, 2).tolist()}; refit "
                "with onset_ev and fit_range_ev matching this onset and tail start."
            )
        grid = np.arange(low, high, 0.05)
        scale = float(np.max(near_edge_profile(grid, peaks, steps)))
        return {
            "name": name,
            "source": source,
            "edge_onset_ev": _round(edge_onset_ev, 2),
            "tail_start_ev": _round(tail_start_ev, 2),
            "peaks": [[_round(c, 3), _round(w, 3), _significant(a / scale)] for c, w, a in peaks],
            "steps": [[_round(c, 3), _round(w, 3), _significant(h / scale)] for c, w, h in steps],
            "r_squared": _round(self.r_squared, 4),
        }


def _round(value: float, decimals: int) -> float:
    """A plain Python float rounded to `decimals` places."""
    return float(round(float(value), decimals))


def _significant(value: float, digits: int = 4) -> float:
    """A plain Python float with `digits` significant digits."""
    return float(f"{float(value):.{digits}g}")


# --------------------------------------------------------------------------------------------
# initial guesses
# --------------------------------------------------------------------------------------------


def _smooth(signal: NDArray[np.float64], dispersion_ev: float, width_ev: float = 0.4) -> NDArray[np.float64]:
    """Gaussian-smoothed copy of `signal` (sigma `width_ev`, at least one channel)."""
    return gaussian_filter1d(signal, sigma=max(1.0, width_ev / dispersion_ev), mode="nearest")


def initial_step_guess(
    energy_ev: NDArray[np.float64], signal: NDArray[np.float64], onset_ev: float, fit_range_ev: tuple[float, float]
) -> NDArray[np.float64]:
    """Initial continuum step: at the onset, 2 eV rise, height = mean signal near the range end.

    Returns
    -------
    ndarray, shape (1, 3)
        [centre eV, FWHM eV, height].
    """
    inside = _window_mask(energy_ev, fit_range_ev, "fit_range_ev")
    e_fit, s_fit = energy_ev[inside], signal[inside]
    tail = e_fit >= e_fit[-1] - 0.1 * (e_fit[-1] - e_fit[0])
    height = max(float(np.mean(s_fit[tail])), 0.01 * float(np.max(np.abs(s_fit))))
    return np.array([[onset_ev, 2.0, height]])


def initial_peak_guesses(
    energy_ev: NDArray[np.float64],
    signal: NDArray[np.float64],
    n_peaks: int,
    centre_range_ev: tuple[float, float],
    steps: NDArray[np.float64],
    rank_on_excess: bool = False,
) -> NDArray[np.float64]:
    """Initial Gaussian peaks at the most prominent local maxima of the smoothed edge.

    The `n_peaks` local maxima of the smoothed signal with the largest prominence inside
    `centre_range_ev` become peaks: FWHM from their half-prominence width, amplitude the excess
    over the initial `steps` (at least 30 % of the signal there). If there are fewer maxima than
    `n_peaks`, the rest are placed one by one at the largest remaining excess of the data over
    steps and peaks so far.

    With `rank_on_excess` the maxima are looked for in the excess over the steps instead of
    in the signal itself (this favours peaks above the continuum over those below the step).

    Returns
    -------
    ndarray, shape (n_peaks, 3)
        [centre eV, FWHM eV, amplitude], sorted by centre.
    """
    dispersion = float(np.median(np.diff(energy_ev)))
    smooth = _smooth(signal, dispersion)
    excess = smooth - continuum_steps(energy_ev, steps)
    ranked = excess if rank_on_excess else smooth
    allowed = (energy_ev >= centre_range_ev[0]) & (energy_ev <= centre_range_ev[1])
    maxima, props = find_peaks(ranked, prominence=0.0)
    keep = allowed[maxima] & (ranked[maxima] > 0)
    maxima, prominences = maxima[keep], props["prominences"][keep]
    chosen = maxima[np.argsort(prominences)[::-1][:n_peaks]]
    widths = peak_widths(ranked, chosen, rel_height=0.5)[0] * dispersion if chosen.size else np.array([])
    rows = [
        [energy_ev[i], float(np.clip(w, PEAK_FWHM_BOUNDS_EV[0], 8.0)), max(excess[i], 0.3 * smooth[i])]
        for i, w in zip(chosen, widths)
    ]
    while len(rows) < n_peaks:
        remaining = np.where(allowed, excess - gaussian_peaks(energy_ev, np.array(rows).reshape(-1, 3)), -np.inf)
        i = int(np.argmax(remaining))
        rows.append([energy_ev[i], 2.0, max(float(remaining[i]), 0.01 * float(np.max(np.abs(excess))))])
    peaks = np.array(rows, dtype=np.float64).reshape(-1, 3)
    return peaks[np.argsort(peaks[:, 0])]


def additional_step_guesses(
    peaks: NDArray[np.float64], first_step: NDArray[np.float64], n_extra: int
) -> NDArray[np.float64]:
    """Extra continuum steps (e.g. the L2 step of an L2,3 edge) under the strongest peaks.

    The total height of `first_step` is shared equally among all steps. Extra steps sit at the
    centres of the strongest peaks lying more than 2 eV above the first step, in energy order
    (when there are too few, 3 eV apart above the last one).
    """
    onset = float(first_step[0, 0])
    later = peaks[peaks[:, 0] > onset + 2.0]
    strongest = later[np.argsort(later[:, 2])[::-1][:n_extra], 0] if later.size else np.array([])
    centres = list(np.sort(strongest))
    while len(centres) < n_extra:
        centres.append((centres[-1] if centres else onset) + 3.0)
    height = float(first_step[0, 2]) / (n_extra + 1)
    first = np.array([[onset, first_step[0, 1], height]])
    extra = np.array([[c, 2.0, height] for c in centres]).reshape(-1, 3)
    return np.vstack([first, extra])


# --------------------------------------------------------------------------------------------
# the fit
# --------------------------------------------------------------------------------------------


def _parameter_bounds(
    n_peaks: int, n_steps: int, centre_range_ev: tuple[float, float], step_range_ev: tuple[float, float]
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Lower and upper bounds of the flat parameter vector [peaks..., steps...] (rows of 3)."""
    peak_low = [centre_range_ev[0], PEAK_FWHM_BOUNDS_EV[0], 0.0]
    peak_high = [centre_range_ev[1], PEAK_FWHM_BOUNDS_EV[1], np.inf]
    step_low = [step_range_ev[0], STEP_FWHM_BOUNDS_EV[0], 0.0]
    step_high = [step_range_ev[1], STEP_FWHM_BOUNDS_EV[1], np.inf]
    lower = np.array(peak_low * n_peaks + step_low * n_steps, dtype=np.float64)
    upper = np.array(peak_high * n_peaks + step_high * n_steps, dtype=np.float64)
    return lower, upper


def _step_centre_range(
    requested_ev: tuple[float, float], centre_range_ev: tuple[float, float]
) -> tuple[float, float]:
    """`requested_ev` clipped to the allowed centre range; ValueError if nothing is left."""
    low, high = max(requested_ev[0], centre_range_ev[0]), min(requested_ev[1], centre_range_ev[1])
    if not low < high:
        raise ValueError(
            f"step_centre_range_ev {tuple(requested_ev)} does not overlap the allowed centre range "
            f"{centre_range_ev[0]:g}-{centre_range_ev[1]:g} eV (fit range, not below onset - 2 eV)."
        )
    return (float(low), float(high))


def _with_fwhm(peaks: NDArray[np.float64], fwhm_ev: float) -> NDArray[np.float64]:
    """A copy of `peaks` with every FWHM set to `fwhm_ev`."""
    out = peaks.copy()
    out[:, 1] = fwhm_ev
    return out


def _split_parameters(params: NDArray[np.float64], n_peaks: int) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Flat parameter vector -> (peaks (k, 3), steps (m, 3))."""
    return params[: 3 * n_peaks].reshape(-1, 3), params[3 * n_peaks :].reshape(-1, 3)


def _sorted_rows(rows: NDArray[np.float64]) -> NDArray[np.float64]:
    """Rows sorted by their first column (centre)."""
    return rows[np.argsort(rows[:, 0])] if rows.size else rows.reshape(0, 3)


def _inside_bounds(
    x0: NDArray[np.float64], lower: NDArray[np.float64], upper: NDArray[np.float64]
) -> NDArray[np.float64]:
    """`x0` clipped strictly inside the bounds (least_squares needs a feasible start)."""
    margin = 1e-6 * np.maximum(1.0, np.abs(x0))
    return np.clip(x0, lower + margin, np.where(np.isfinite(upper), upper - margin, np.inf))


def _unit_basis(energy_ev: NDArray[np.float64], shapes: NDArray[np.float64], n_peaks: int) -> NDArray[np.float64]:
    """Columns: each peak and each step of unit amplitude; `shapes` rows are [centre, FWHM]."""
    columns = [gaussian_peaks(energy_ev, [c, w, 1.0]) for c, w in shapes[:n_peaks]]
    columns += [continuum_steps(energy_ev, [c, w, 1.0]) for c, w in shapes[n_peaks:]]
    return np.column_stack(columns)


def _projected_fit(
    energy_ev: NDArray[np.float64],
    data: NDArray[np.float64],
    shapes0: NDArray[np.float64],
    n_peaks: int,
    bounds: tuple[NDArray[np.float64], NDArray[np.float64]],
) -> NDArray[np.float64]:
    """Variable-projection fit: least squares over centres and FWHMs, amplitudes by NNLS.

    Amplitudes and heights enter the model linearly, so for given centres and widths the
    best non-negative ones follow from :func:`scipy.optimize.nnls`. Optimising only the
    centres and widths this way avoids the local minima in which a step swallows a peak.

    Returns
    -------
    ndarray, shape (k + m, 3)
        Peak rows then step rows, [centre, FWHM, amplitude or height].
    """
    lower, upper = bounds

    def residuals(flat_shapes: NDArray[np.float64]) -> NDArray[np.float64]:
        basis = _unit_basis(energy_ev, flat_shapes.reshape(-1, 2), n_peaks)
        return basis @ nnls(basis, data)[0] - data

    x0 = _inside_bounds(shapes0.ravel(), lower, upper)
    shapes = least_squares(residuals, x0, bounds=(lower, upper), max_nfev=5000).x.reshape(-1, 2)
    amplitudes = nnls(_unit_basis(energy_ev, shapes, n_peaks), data)[0]
    return np.column_stack([shapes, amplitudes])


def fit_multi_gaussian(
    energy_ev: ArrayLike,
    signal: ArrayLike,
    n_peaks: int,
    onset_ev: float,
    fit_range_ev: tuple[float, float],
    n_steps: int = 1,
    initial_peaks: ArrayLike | None = None,
    step_centre_range_ev: tuple[float, float] | None = None,
) -> MultiGaussianFit:
    """Fit Gaussian peaks plus error-function continuum steps to a background-subtracted edge.

    The model is :func:`eels_core.forward.profiles.near_edge_profile`, fitted with
    :func:`scipy.optimize.least_squares` within bounds: peak and step centres inside the fit
    range and no lower than ``onset_ev - 2`` eV (the edge library's rule), peak FWHM in
    ``PEAK_FWHM_BOUNDS_EV``, step FWHM in ``STEP_FWHM_BOUNDS_EV``, amplitudes and heights >= 0.
    The fit runs in two stages: a variable-projection fit (centres and widths by least
    squares, amplitudes by non-negative linear least squares), then all parameters together.

    Parameters
    ----------
    energy_ev : array_like, shape (n,)
        Energy-loss axis in eV, increasing.
    signal : array_like, shape (n,)
        Background-subtracted edge signal.
    n_peaks : int
        Number of Gaussian peaks (0 allowed).
    onset_ev : float
        Energy where the edge starts to rise, eV; the first step starts here.
    fit_range_ev : (float, float)
        Energy range to fit, eV. Start it a few eV before the onset so the flat pre-edge
        anchors the step.
    n_steps : int, default 1
        Number of continuum steps (2 suits L2,3 edges: one each under L3 and L2).
    initial_peaks : array_like, shape (n_peaks, 3), optional
        Starting peaks [centre, FWHM, amplitude]. By default they are found automatically
        with :func:`initial_peak_guesses`, ranking the local maxima of the signal and, in a
        second start, those of its excess over the initial step. Each start is also tried with
        all peak FWHMs set to each of ``START_PEAK_FWHMS_EV``; the fit of least cost is kept.
    step_centre_range_ev : (float, float), optional
        Narrower range for the step centres (e.g. near the onset for a K edge, so that the
        continuum is not modelled as a step at the end of the range). Default: the range
        allowed for peak centres.

    Returns
    -------
    MultiGaussianFit

    Raises
    ------
    ValueError
        On mismatched or non-finite inputs, a fit range with fewer channels than parameters,
        an onset outside the fit range, or `initial_peaks` of the wrong shape.
    """
    energy, data = _as_spectrum_arrays(energy_ev, signal, "signal")
    if int(n_peaks) != n_peaks or n_peaks < 0 or int(n_steps) != n_steps or n_steps < 1:
        raise ValueError(f"n_peaks must be an integer >= 0 and n_steps >= 1, got {n_peaks} and {n_steps}.")
    n_peaks, n_steps = int(n_peaks), int(n_steps)
    inside = _window_mask(energy, fit_range_ev, "fit_range_ev")
    n_params = 3 * (n_peaks + n_steps)
    if np.count_nonzero(inside) <= n_params:
        raise ValueError(
            f"fit_range_ev {tuple(fit_range_ev)} holds {np.count_nonzero(inside)} channels, not more than "
            f"the {n_params} parameters; widen the range or fit fewer peaks."
        )
    e_fit, s_fit = energy[inside], data[inside]
    if not e_fit[0] <= onset_ev <= e_fit[-1]:
        raise ValueError(
            f"onset_ev = {onset_ev:g} eV lies outside the fitted channels {e_fit[0]:g}-{e_fit[-1]:g} eV; "
            "choose a fit range that contains the edge onset."
        )
    centre_range = (max(e_fit[0], onset_ev - CENTRE_BELOW_ONSET_EV), float(e_fit[-1]))

    scale = float(np.max(np.abs(s_fit))) or 1.0
    s_norm = s_fit / scale
    first_step = initial_step_guess(e_fit, s_norm, onset_ev, (e_fit[0], e_fit[-1]))
    if initial_peaks is None:
        starts = [
            initial_peak_guesses(e_fit, s_norm, n_peaks, centre_range, first_step, rank_on_excess=flag)
            for flag in (False, True)
        ]
        starts += [_with_fwhm(p0, fwhm) for p0 in list(starts) for fwhm in START_PEAK_FWHMS_EV]
    else:
        peaks0 = np.asarray(initial_peaks, dtype=np.float64)
        if peaks0.shape != (n_peaks, 3):
            raise ValueError(
                f"initial_peaks must have shape ({n_peaks}, 3) rows [centre eV, FWHM eV, amplitude], "
                f"got {peaks0.shape}."
            )
        starts = [peaks0 * np.array([1.0, 1.0, 1.0 / scale])]

    step_range = (
        centre_range if step_centre_range_ev is None else _step_centre_range(step_centre_range_ev, centre_range)
    )
    lower, upper = _parameter_bounds(n_peaks, n_steps, centre_range, step_range)
    shape_columns = np.ones(lower.size, dtype=bool)
    shape_columns[2::3] = False  # amplitudes / heights are solved linearly in stage 1

    def residuals(params: NDArray[np.float64]) -> NDArray[np.float64]:
        peaks, steps = _split_parameters(params, n_peaks)
        return near_edge_profile(e_fit, peaks, steps) - s_norm

    results = []
    for peaks0 in starts:
        steps0 = additional_step_guesses(peaks0, first_step, n_steps - 1) if n_steps > 1 else first_step
        rows0 = np.vstack([peaks0, steps0])
        projected = _projected_fit(
            e_fit, s_norm, rows0[:, :2], n_peaks, (lower[shape_columns], upper[shape_columns])
        )
        x0 = _inside_bounds(projected.ravel(), lower, upper)
        results.append(least_squares(residuals, x0, bounds=(lower, upper), x_scale="jac", max_nfev=20000))
    result = min(results, key=lambda r: r.cost)
    peaks, steps = _split_parameters(result.x.copy(), n_peaks)
    peaks[:, 2] *= scale
    steps[:, 2] *= scale
    residual = result.fun * scale
    total = float(np.sum((s_fit - s_fit.mean()) ** 2))
    r_squared = 1.0 - float(np.sum(residual**2)) / total if total > 0 else float("nan")
    return MultiGaussianFit(
        peaks=_sorted_rows(peaks),
        steps=_sorted_rows(steps),
        residual_rms=float(np.sqrt(np.mean(residual**2))),
        r_squared=r_squared,
        onset_ev=float(onset_ev),
        fit_range_ev=(float(fit_range_ev[0]), float(fit_range_ev[1])),
        success=bool(result.success),
        message=str(result.message),
    )
