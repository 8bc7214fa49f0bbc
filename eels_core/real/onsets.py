"""Where an edge starts: the one onset estimator of measured spectra.

For each edge inside the window, :func:`estimate_onsets` returns the leading flank of the steepest
rise of the background-subtracted, smoothed spectrum within +-15 eV of the element's reference
onset: the lowest energy in that range at which the slope reaches half of its largest value there.
The background is a power law ``A E^-r`` (:func:`eels_core.forward.background.fit_power_law`)
fitted to the 30 eV below the search range; the smoothing is a Gaussian of 1 eV standard deviation
(at least one channel). On synthetic spectra it lands within about 1 eV of the labelled onset
(median), and within 5 eV for most edges (``tests/real/test_predict_and_cli.py``). It locates an edge and
reveals an energy axis offset by less than 15 eV; it is not a threshold energy in the sense of XPS
tables.
"""

from __future__ import annotations

import numpy as np
import scipy.ndimage
from numpy.typing import ArrayLike, NDArray

from ..forward.axis import check_energy_axis, measured_window
from ..forward.background import fit_power_law, power_law
from ..forward.edges import reference_onsets_ev
from ..learning.preprocessing import edges_in_window

__all__ = ["estimate_onsets", "ONSET_SEARCH_HALF_WIDTH_EV", "ONSET_FIT_WIDTH_EV", "ONSET_SMOOTHING_EV"]

#: Half width (eV) of the search range around the reference onset for :func:`estimate_onsets`.
ONSET_SEARCH_HALF_WIDTH_EV = 15.0
#: Width (eV) of the pre-edge range the power-law background is fitted to.
ONSET_FIT_WIDTH_EV = 30.0
#: Standard deviation (eV) of the Gaussian smoothing before the derivative.
ONSET_SMOOTHING_EV = 1.0


def estimate_onsets(
    energy_ev: ArrayLike,
    counts: ArrayLike,
    reference_onsets: ArrayLike | None = None,
    in_window: ArrayLike | None = None,
    subtract_background: bool = True,
) -> NDArray[np.float64]:
    """Estimated onset of each edge: the leading flank of the steepest rise near its reference onset.

    For every edge whose reference onset ``r`` is inside the window: fit a power law to the
    counts in ``[r - 45, r - 15]`` eV (the part of it that was measured; if fewer than 5 channels,
    no background is removed), subtract it, smooth with a Gaussian of 1 eV (at least 1 channel)
    standard deviation, differentiate, and return the lowest energy in ``[r - 15, r + 15]`` eV
    (clipped to the measured axis) at which the derivative reaches half of its maximum in that
    range.

    Parameters
    ----------
    energy_ev : array_like (n,)
        Strictly increasing energy axis, eV.
    counts : array_like (n,) or (b, n)
    reference_onsets : array_like (k,), optional
        Default: the 20 reference onsets of the edge library.
    in_window : array_like (k,) of bool, optional
        Which edges to estimate (default: those inside the measured window); NaN for the others.
    subtract_background : bool
        Fit and remove the pre-edge power law (True, for counts as measured); False for a signal
        whose background was already subtracted.

    Returns
    -------
    ndarray (k,) or (b, k)
    """
    e = check_energy_axis(energy_ev, min_window_ev=None)  # measured_window checks the width when needed
    c = np.asarray(counts, dtype=np.float64)
    one = c.ndim == 1
    c = c.reshape(1, -1) if one else c.reshape(-1, c.shape[-1])
    refs = reference_onsets_ev() if reference_onsets is None else np.asarray(reference_onsets, dtype=np.float64)
    if in_window is None:
        in_window = edges_in_window(refs[None, :], np.array(measured_window(e)))[0]
    in_window = np.asarray(in_window, dtype=bool)
    out = np.full((c.shape[0], refs.size), np.nan)
    dispersion = float(np.median(np.diff(e)))
    sigma = max(ONSET_SMOOTHING_EV / dispersion, 1.0)
    pad = int(np.ceil(4 * sigma))
    for k in np.flatnonzero(in_window):
        r = refs[k]
        s0 = int(np.searchsorted(e, r - ONSET_SEARCH_HALF_WIDTH_EV))
        s1 = int(np.searchsorted(e, r + ONSET_SEARCH_HALF_WIDTH_EV, side="right"))
        if s1 - s0 < 3:
            continue
        f0 = int(np.searchsorted(e, r - ONSET_SEARCH_HALF_WIDTH_EV - ONSET_FIT_WIDTH_EV))
        lo, hi = min(f0, max(s0 - pad, 0)), min(s1 + pad, e.size)
        seg = c[:, lo:hi]
        x = e[lo:hi]
        if subtract_background and s0 - f0 >= 5:
            amplitude, exponent = fit_power_law(e[f0:s0], c[:, f0:s0])
            seg = seg - power_law(x[None, :], amplitude[:, None], exponent[:, None])
        smooth = scipy.ndimage.gaussian_filter1d(seg, sigma, axis=1, mode="nearest")
        slope = np.gradient(smooth, x, axis=1)[:, s0 - lo : s1 - lo]
        leading = slope >= 0.5 * slope.max(axis=1, keepdims=True)  # first channel at half the steepest slope
        out[:, k] = e[s0 + np.argmax(leading, axis=1)]
    return out[0] if one else out
