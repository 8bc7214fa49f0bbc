"""One preprocessing for training and prediction: spectrum -> network input.

The network sees a spectrum on the paper's 90-1000 eV grid (0.2 eV, 4551 channels) as four
channels:

0. ``log(I / median(I))`` inside the measured window, minus its mean there (scale-free: counts,
   J_n units or any gain give the same input); intensities are clamped at ``1e-4 x median`` before
   the log, because noisy spectra dip below zero at high energy; a spectrum whose channel 0
   varies less than ``CONTRAST_FLOOR`` (root-mean-square) is scaled up to it
   (:func:`stretch_contrast`: a narrow window on a large constant pedestal);
1. the same minus its running mean over +-10 eV (inside the window): a high-passed copy in which
   the edges stand out from the steep background;
2. the *coverage mask*: 1 where the spectrum was measured, 0 elsewhere (real spectra rarely span
   90-1000 eV);
3. the energy coordinate ``(E - 545) / 455`` in [-1, 1], so that convolutions know where on the
   energy axis a feature is (edges of different elements differ by position as much as by shape).

Outside the window channel 0 is 0. :func:`preprocess_batch` is used on synthetic batches during
training and :func:`preprocess_spectrum` on measured spectra; both call :func:`_normalise`, so the
network sees the same transformation in both cases (``tests/learning/test_network.py`` checks it).
Before anything else, both repair isolated dead, hot and negative channels with the one
:func:`eels_core.learning.defects.repair_bad_channels` (on the grid for training batches, on the
recorded channels for measured spectra).
"""

from __future__ import annotations

import numpy as np
import scipy.ndimage
from numpy.typing import ArrayLike, NDArray

from ..forward.axis import (
    GRID_START_EV,
    GRID_STEP_EV,
    GRID_STOP_EV,
    MIN_WINDOW_EV,
    N_CHANNELS,
    check_counts,
    check_energy_axis,
    measured_window,
    network_energy_axis,
)
from .defects import repair_bad_channels

N_INPUTS = 4
#: Half width (eV) of the running mean removed in the high-passed channel.
HIGHPASS_HALF_WIDTH_EV = 10.0
#: Narrowest random window of the first training phase and of the windowed validation (eV).
TRAINING_MIN_WINDOW_EV = 60.0
#: An edge counts as inside a window when window_start + 5 <= onset <= window_stop - 20 eV.
ONSET_MARGIN_LOW_EV, ONSET_MARGIN_HIGH_EV = 5.0, 20.0
#: Measured spectra whose channels are narrower than this fraction of the grid step are binned onto
#: the grid rather than interpolated (:func:`resample_rows`).
FINE_DISPERSION_FRACTION = 0.75
_CLAMP = 1e-4
#: Smallest root-mean-square of channel 0 inside the window. A spectrum whose log intensities vary
#: less (a narrow window on a large constant pedestal: a 1 % edge on an unsubtracted dark level)
#: is stretched up to it, so that its edges are as large in the input as those the network
#: learned from. Chosen on synthetic spectra only (chapter 08): 0.3 gave the best windowed exact
#: accuracy without loss on the paper's physics.
CONTRAST_FLOOR = 0.3


def energy_coordinate() -> NDArray[np.float32]:
    """Channel 2 of the input: the energy mapped linearly to [-1, 1]."""
    e = network_energy_axis()
    mid, half = (GRID_START_EV + GRID_STOP_EV) / 2, (GRID_STOP_EV - GRID_START_EV) / 2
    return ((e - mid) / half).astype(np.float32)


def _masked_median(x: NDArray[np.float64], mask: NDArray) -> NDArray[np.float64]:
    """Row medians of ``x`` (NaN outside ``mask``): ``np.nanmedian(x, axis=1, keepdims=True)``.

    The result is bit-for-bit that of ``np.nanmedian``. When every row shares one contiguous mask
    (always the case for measured spectra, which share one energy axis) and the covered values
    hold no NaN, it is computed as ``np.median`` of that slice, which partitions all rows at once;
    ``np.nanmedian`` loops over the rows in Python (``apply_along_axis``) and dominates the
    preprocessing time of a large spectrum image. The order statistics, and the mean of the two
    middle values for an even count, are the same numbers either way.
    """
    if x.shape[0] > 0 and mask.shape == x.shape:
        cols = np.flatnonzero(mask[0])
        if (
            cols.size > 0
            and cols[-1] - cols[0] + 1 == cols.size
            and bool(np.all(mask == mask[:1]))
        ):
            covered = x[:, cols[0] : cols[-1] + 1]
            if not np.isnan(covered).any():
                return np.median(covered, axis=1, keepdims=True)
    return np.nanmedian(x, axis=1, keepdims=True)


def _normalise(intensity: NDArray, mask: NDArray, contrast_floor: float = CONTRAST_FLOOR) -> NDArray[np.float32]:
    """Channel 0 from resampled intensities (b, n) and a boolean coverage mask (b, n)."""
    x = np.where(mask, intensity, np.nan).astype(np.float64)
    med = _masked_median(x, mask)
    med = np.where(np.isfinite(med) & (med > 0), med, 1.0)
    z = np.log(np.maximum(x / med, _CLAMP))
    z -= np.nanmean(z, axis=1, keepdims=True)
    z = np.where(mask, z, 0.0)
    return stretch_contrast(z, mask, contrast_floor).astype(np.float32)


def stretch_contrast(z: NDArray, mask: NDArray, floor: float = CONTRAST_FLOOR) -> NDArray[np.float64]:
    """Scale each row of channel 0 whose root-mean-square inside ``mask`` is below ``floor`` up to it.

    A constant pedestal ``P`` under a spectrum ``S`` turns ``log(P + S)`` into roughly
    ``log(P) + S / P``: the edges shrink in proportion to ``S / P`` and a narrow window on a large
    pedestal looks almost flat to a network trained on unit-scale log spectra. Multiplying the
    centred log intensities by ``floor / rms`` restores their size; rows at or above the floor,
    and rows that are constant (rms 0), are returned unchanged.

    Parameters
    ----------
    z : ndarray, shape (b, n)
        Centred log intensities, 0 outside the window.
    mask : ndarray of bool, shape (b, n)
        Measured channels.
    floor : float
        Target root-mean-square; 0 switches the stretch off.

    Returns
    -------
    ndarray, shape (b, n)
    """
    z = np.asarray(z, dtype=np.float64)
    n = np.maximum(np.count_nonzero(mask, axis=1), 1)
    rms = np.sqrt(np.einsum("ij,ij->i", z, z) / n)
    scale = np.where((rms > 0) & (rms < floor), floor / np.where(rms > 0, rms, 1.0), 1.0)
    return z * scale[:, None]


def _highpass(z: NDArray[np.float32], mask: NDArray) -> NDArray[np.float32]:
    """z minus its running mean over the measured channels within +-10 eV."""
    size = 2 * int(round(HIGHPASS_HALF_WIDTH_EV / GRID_STEP_EV)) + 1
    m = mask.astype(np.float32)
    num = scipy.ndimage.uniform_filter1d(z * m, size, axis=1, mode="constant")
    den = scipy.ndimage.uniform_filter1d(m, size, axis=1, mode="constant")
    return np.where(mask, z - num / np.maximum(den, 1e-6), 0.0).astype(np.float32)


def assemble_inputs(intensity: NDArray, mask: NDArray, contrast_floor: float = CONTRAST_FLOOR) -> NDArray[np.float32]:
    """Stack the four input channels: (b, 4, 4551). ``contrast_floor``: see :func:`stretch_contrast`."""
    b = intensity.shape[0]
    out = np.empty((b, N_INPUTS, N_CHANNELS), dtype=np.float32)
    out[:, 0] = _normalise(intensity, mask, contrast_floor)
    out[:, 1] = _highpass(out[:, 0], mask)
    out[:, 2] = mask
    out[:, 3] = energy_coordinate()[None, :]
    return out


def preprocess_batch(
    spectra: ArrayLike, window_ev: ArrayLike | None = None, contrast_floor: float = CONTRAST_FLOOR,
    repair: bool = True,
) -> NDArray[np.float32]:
    """Network input of spectra already on the 4551-channel grid (synthetic batches).

    Parameters
    ----------
    spectra : array_like, shape (b, 4551)
    window_ev : array_like, shape (b, 2), optional
        Measured window (start, stop) in eV per spectrum; channels outside are masked.
        None: the full grid.
    contrast_floor : float
        Smallest root-mean-square of channel 0 (:func:`stretch_contrast`); 0 switches it off.
        Training and prediction use the default; other values are for studying it (chapter 08).
    repair : bool
        Repair isolated dead, hot and negative channels inside each window first
        (:func:`~eels_core.learning.defects.repair_bad_channels`).
    """
    x = np.asarray(spectra)
    if x.ndim != 2 or x.shape[1] != N_CHANNELS:
        raise ValueError(f"spectra must have shape (b, {N_CHANNELS}) on the 90-1000 eV grid, got {x.shape}")
    e = network_energy_axis()
    if window_ev is None:
        mask = np.ones(x.shape, dtype=bool)
    else:
        w = np.asarray(window_ev, dtype=np.float64).reshape(-1, 2)
        mask = (e[None, :] >= w[:, :1]) & (e[None, :] <= w[:, 1:])
    if repair:
        x = repair_bad_channels(x, mask).counts
    return assemble_inputs(x, mask, contrast_floor)


def preprocess_spectrum(energy_ev: ArrayLike, counts: ArrayLike, repair: bool = True) -> NDArray[np.float32]:
    """Network input of measured spectra on any energy axis.

    Parameters
    ----------
    energy_ev : array_like, shape (n,)
        Strictly increasing energy-loss axis (eV).
    counts : array_like, shape (n,) or (b, n)
        Intensities (any scale). Resampled onto the 0.2 eV grid by :func:`resample_rows` (linear
        interpolation; binning for channels finer than the grid).
    repair : bool
        Repair isolated dead, hot and negative channels first, on the recorded channels
        (:func:`~eels_core.learning.defects.repair_bad_channels`); False for counts already repaired.

    Returns
    -------
    ndarray, shape (b, 4, 4551)
    """
    e, c = _checked_counts(energy_ev, counts)
    if repair:
        c = repair_bad_channels(c).counts
    grid = network_energy_axis()
    lo, hi = measured_window(e, min_window_ev=NARROWEST_TRAINING_WINDOW_EV)  # the model's own limit: predict_edges
    mask = np.broadcast_to((grid >= lo) & (grid <= hi), (c.shape[0], grid.size))
    return assemble_inputs(resample_rows(grid, e, c), mask)


def resample_rows(grid: ArrayLike, energy_ev: ArrayLike, counts: ArrayLike) -> NDArray[np.float64]:
    """Measured spectra (b, n) on axis ``energy_ev`` resampled onto ``grid`` (the 0.2 eV network grid).

    A spectrum recorded with channels at least about as wide as the grid step is interpolated
    linearly (:func:`interp_rows`). One recorded with finer channels (median spacing below
    ``FINE_DISPERSION_FRACTION x 0.2 eV``, e.g. 0.035 or 0.1 eV per channel) is *binned*
    instead: each grid point takes the mean of the measured channels whose centres fall within
    +-0.1 eV of it, which is what a detector with 0.2 eV channels would have recorded; linear
    interpolation would keep the full per-channel noise of the finer channels (binning k channels
    divides it by about sqrt(k)). Grid points covered by fewer than two channels (the window
    ends) fall back to interpolation.

    Parameters
    ----------
    grid : array_like, shape (m,)
        Increasing target positions, evenly spaced by ``GRID_STEP_EV``.
    energy_ev : array_like, shape (n,)
        Strictly increasing measured axis.
    counts : array_like, shape (b, n)

    Returns
    -------
    ndarray, shape (b, m)
    """
    out = interp_rows(grid, energy_ev, counts)
    e = np.asarray(energy_ev, dtype=np.float64)
    if np.median(np.diff(e)) >= FINE_DISPERSION_FRACTION * GRID_STEP_EV:
        return out
    g, c = np.asarray(grid, dtype=np.float64), np.asarray(counts, dtype=np.float64)
    bounds = np.concatenate([g - GRID_STEP_EV / 2, [g[-1] + GRID_STEP_EV / 2]])
    idx = np.searchsorted(e, bounds, side="left")
    per_bin = np.diff(idx)
    cumulative = np.concatenate([np.zeros((c.shape[0], 1)), np.cumsum(c, axis=1)], axis=1)
    binned = per_bin >= 2
    sums = cumulative[:, idx[1:][binned]] - cumulative[:, idx[:-1][binned]]
    out[:, binned] = sums / per_bin[binned]
    return np.ascontiguousarray(out)


def _checked_counts(energy_ev: ArrayLike, counts: ArrayLike) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """A checked energy axis and the counts as (b, n) float64; ValueError naming the problem."""
    e = check_energy_axis(energy_ev, min_window_ev=NARROWEST_TRAINING_WINDOW_EV)
    c = check_counts(counts, e.size)
    return e, c.reshape(-1, e.size)


def window_slice(energy_ev: ArrayLike) -> slice:
    """The channels of the 4551-channel grid inside the measured window of ``energy_ev``."""
    grid = network_energy_axis()
    lo, hi = measured_window(energy_ev, min_window_ev=NARROWEST_TRAINING_WINDOW_EV)
    inside = np.flatnonzero((grid >= lo) & (grid <= hi))
    return slice(int(inside[0]), int(inside[-1]) + 1)


def preprocess_window(
    energy_ev: ArrayLike, counts: ArrayLike, repair: bool = True
) -> tuple[NDArray[np.float32], slice]:
    """Channels 0 and 1 of :func:`preprocess_spectrum`, computed on the measured window only.

    Outside the window those channels are 0, and channels 2 (mask) and 3 (energy coordinate) are
    the same for every spectrum on one energy axis, so a spectrum image needs only this part per
    pixel (:func:`eels_core.real.predict.predict_edges` uses it). Same arithmetic as
    :func:`preprocess_spectrum` on the same values; only the order of the sums in the mean and
    the running mean can differ, i.e. by float rounding (< 1e-5, ``tests/real/test_predict_and_cli.py``).
    ``repair`` as in :func:`preprocess_spectrum`.

    Returns
    -------
    inputs : ndarray, shape (b, 2, n_window), float32
    window : slice
        Where those channels sit on the 4551-channel grid.
    """
    e, c = _checked_counts(energy_ev, counts)
    if repair:
        c = repair_bad_channels(c).counts
    window = window_slice(e)
    grid = network_energy_axis()[window]
    resampled = resample_rows(grid, e, c)
    full = np.ones(resampled.shape, dtype=bool)
    out = np.empty((c.shape[0], 2, grid.size), dtype=np.float32)
    out[:, 0] = _normalise(resampled, full)
    out[:, 1] = _highpass(out[:, 0], full)
    return out, window


def interp_rows(x: ArrayLike, xp: ArrayLike, fp: ArrayLike) -> NDArray[np.float64]:
    """``np.interp(x, xp, row)`` for every row of ``fp`` at once, with identical results.

    All rows share the axis ``xp``, so the bracketing channels and their spacings are found once
    and every row is interpolated in a few array operations instead of a Python loop. The
    arithmetic is numpy's own (``slope * (x - xp[j]) + fp[j]``, ``fp[j]`` exactly at a sample,
    the end values outside ``xp``), so the numbers are bit-for-bit those of ``np.interp``
    (``tests/learning/test_network.py`` checks it).

    Parameters
    ----------
    x : array_like, shape (m,)
        Where to interpolate (finite).
    xp : array_like, shape (n,)
        Strictly increasing sample positions, n >= 2.
    fp : array_like, shape (b, n)
        Finite values at ``xp``, one row per spectrum.

    Returns
    -------
    ndarray, shape (b, m)
    """
    x = np.asarray(x, dtype=np.float64)
    xp = np.asarray(xp, dtype=np.float64)
    fp = np.asarray(fp, dtype=np.float64)
    if fp.ndim != 2 or fp.shape[1] != xp.size or xp.size < 2:
        raise ValueError(f"fp must have shape (b, {xp.size}) with at least 2 samples, got {fp.shape}")
    j = np.searchsorted(xp, x, side="right") - 1  # xp[j] <= x < xp[j + 1]
    below, above = j < 0, j >= xp.size - 1  # left of xp[0]; at or right of xp[-1]
    j = np.clip(j, 0, xp.size - 2)
    exact = x == xp[j]
    y0, y1 = np.take(fp, j, axis=1), np.take(fp, j + 1, axis=1)  # C-contiguous, like np.stack(rows)
    slope = (y1 - y0) / (xp[j + 1] - xp[j])
    out = slope * (x - xp[j]) + y0
    out[:, exact] = y0[:, exact]
    out[:, below] = fp[:, :1]
    out[:, above] = fp[:, -1:]
    # C order matters: numpy's SIMD log takes other code paths on strided arrays (last-ulp changes)
    return np.ascontiguousarray(out)


def edges_in_window(onset_ev: ArrayLike, window_ev: ArrayLike) -> NDArray[np.bool_]:
    """Which onsets lie inside their window: ``start + 5 <= onset <= stop - 20`` eV; NaN -> False.

    ``onset_ev`` (b, k) and ``window_ev`` (b, 2) or (2,).

    A window narrower than ``MIN_WINDOW_EV`` (35 eV; one white-line pair, drawn by training
    recipes with ``min_window_ev`` below 35) would never hold a counted onset under that rule, so
    there the upper margin shrinks to ``width - 15`` eV (at least 5): at 35 eV the two agree, at
    20 eV an onset counts in ``[start + 5, stop - 5]``. The same rule labels the training windows
    and scores predictions.
    """
    o = np.asarray(onset_ev, dtype=np.float64)
    w = np.asarray(window_ev, dtype=np.float64).reshape(-1, 2)
    high = np.full((len(w), 1), ONSET_MARGIN_HIGH_EV)
    width = w[:, 1] - w[:, 0]
    narrow = width < MIN_WINDOW_EV
    if narrow.any():
        high[narrow, 0] = np.clip(width[narrow] - 15.0, 5.0, ONSET_MARGIN_HIGH_EV)
    with np.errstate(invalid="ignore"):
        return (o >= w[:, :1] + ONSET_MARGIN_LOW_EV) & (o <= w[:, 1:] - high)


#: Narrowest window the training may draw (eV): narrower than ``MIN_WINDOW_EV`` (35 eV, what
#: prediction accepts from a model trained on wider windows), so that a model trained with it can
#: name edges in 20-35 eV windows (one white-line pair; :func:`narrowest_window_ev`).
NARROWEST_TRAINING_WINDOW_EV = 20.0


def narrowest_window_ev(training_min_window_ev: float | None) -> float:
    """The narrowest measured window (eV) a model may be asked about, from how it was trained.

    ``MIN_WINDOW_EV`` (35 eV) for a model trained on windows of at least that width (or of unknown
    width: None); a model trained on narrower windows (``TrainingConfig.min_window_ev``) accepts
    windows down to its narrowest training window, never below ``NARROWEST_TRAINING_WINDOW_EV``.
    """
    if training_min_window_ev is None or training_min_window_ev >= MIN_WINDOW_EV:
        return MIN_WINDOW_EV
    return max(float(training_min_window_ev), NARROWEST_TRAINING_WINDOW_EV)


def sample_windows(
    rng: np.random.Generator,
    n: int,
    full_fraction: float = 0.3,
    min_width_ev: float = TRAINING_MIN_WINDOW_EV,
    onsets_ev: ArrayLike | None = None,
    onset_fraction: float = 0.0,
    before_onset_ev: tuple[float, float] = (0.0, 10.0),
) -> NDArray[np.float64]:
    """Random measured windows for training: full range with probability ``full_fraction``, else a
    random sub-range of at least ``min_width_ev`` (width log-uniform in min_width-910 eV, position
    uniform).

    Beyond that (``onset_fraction > 0``), a share ``onset_fraction`` of the sub-range windows
    starts just below an edge onset, ``before_onset_ev`` (0-10 eV) below it: half of them below the
    onset of an edge in the spectrum (``onsets_ev``), half below one of the 20 reference onsets,
    present in the spectrum or not. Measured windows start anywhere relative to the onsets; a
    network that has seen window starts at random places only rarely sees one 5 eV below Sc L2,3,
    and may take the window border itself for the edge. The labels follow the usual rule
    (:func:`edges_in_window`: an onset less than 5 eV inside the window is left out of the loss).
    These draws come after the others, so ``onset_fraction = 0`` gives the windows as before.

    Parameters
    ----------
    rng : numpy Generator
    n : int
    full_fraction : float
    min_width_ev : float
        Narrowest window, eV, at least ``NARROWEST_TRAINING_WINDOW_EV``.
    onsets_ev : array_like, shape (n, k), optional
        Onsets of the edges present in each spectrum, NaN for absent ones (a synthetic batch's
        ``edge_onset_ev``); needed when ``onset_fraction > 0``.
    onset_fraction : float
    before_onset_ev : (float, float)
        Range (uniform) of the distance from the window start up to the onset, eV.
    """
    if not NARROWEST_TRAINING_WINDOW_EV <= min_width_ev <= GRID_STOP_EV - GRID_START_EV:
        raise ValueError(
            f"min_width_ev = {min_width_ev}: must lie in [{NARROWEST_TRAINING_WINDOW_EV:g}, "
            f"{GRID_STOP_EV - GRID_START_EV:g}] eV"
        )
    if not 0.0 <= onset_fraction <= 1.0:
        raise ValueError(f"onset_fraction = {onset_fraction}: must be a probability in [0, 1]")
    width = np.exp(rng.uniform(np.log(min_width_ev), np.log(GRID_STOP_EV - GRID_START_EV), n))
    start = GRID_START_EV + rng.random(n) * (GRID_STOP_EV - GRID_START_EV - width)
    full = rng.random(n) < full_fraction
    start = np.where(full, GRID_START_EV, start)
    stop = np.where(full, GRID_STOP_EV, start + width)
    if onset_fraction > 0:
        from ..forward.edges import reference_onsets_ev

        if onsets_ev is None:
            raise ValueError("sample_windows: onset_fraction > 0 needs the spectra's onsets (onsets_ev)")
        onsets = np.asarray(onsets_ev, dtype=np.float64).reshape(n, -1)
        anchored = (rng.random(n) < onset_fraction) & ~full
        use_present = rng.random(n) < 0.5
        u_pick = rng.random(n)
        refs = reference_onsets_ev()
        ref_pick = refs[rng.integers(0, refs.size, size=n)]
        offset = rng.uniform(*before_onset_ev, size=n)
        present = np.isfinite(onsets)
        n_present = present.sum(axis=1)
        # the k-th present onset of each row, k drawn uniformly
        k = np.minimum((u_pick * n_present).astype(np.int64), np.maximum(n_present - 1, 0))
        order = np.argsort(~present, axis=1, kind="stable")
        chosen = np.take_along_axis(np.where(present, onsets, np.nan), order, axis=1)[np.arange(n), k]
        anchor = np.where(use_present & (n_present > 0), chosen, ref_pick)
        a_start = np.clip(anchor - offset, GRID_START_EV, GRID_STOP_EV - min_width_ev)
        start = np.where(anchored, a_start, start)
        stop = np.where(anchored, np.minimum(a_start + width, GRID_STOP_EV), stop)
    return np.stack([start, stop], axis=1)
