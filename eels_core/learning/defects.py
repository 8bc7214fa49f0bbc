"""Dead, hot and negative detector channels: found and repaired before the network sees a spectrum.

A detector channel can fail on its own: it records nothing (a dead channel, 0 counts), much less
than its neighbours (a cold channel), a spike (a hot channel, a cosmic ray) or a negative value (a
bad dark reference). The network input is the logarithm of the intensities, so one such channel
becomes a deep or tall one-channel spike, and spikes near an onset look like edges to a network
that never saw them. No physical feature of an EELS spectrum is one channel wide: the point-spread
function and the lifetime broadening spread even the sharpest white line over neighbouring
channels. :func:`repair_bad_channels` therefore looks for channels that stand out from the median
of their neighbours by much more than the local noise, and replaces them by linear interpolation
between the nearest good channels.

The test of channel ``i`` of a spectrum ``y`` (each spectrum divided by its largest magnitude first,
so any finite scale gives the same answer):

* ``ref_i``: median of ``y`` over ``i - 3 ... i + 3`` (mirrored at the ends), the local level;
* ``noise_i``: the ``NOISE_RANK``-th (5th) largest step ``|y[k + 1] - y[k]|`` among the 16 pairs
  of channels on each side of ``i`` (pairs holding ``i`` left out), floored at
  ``NOISE_FLOOR x ref_i``; two other bad channels nearby (two steps each) do not raise it;
* the local level is *determined* when ``ref_i > NOISE_FACTOR x noise_i`` and ``ref_i`` exceeds
  ``NOISE_FACTOR`` counting quanta (the smallest non-zero step nearby: one electron in a sparse
  spectrum of 0s and 1s);
* low (dead, cold or negative): determined, and ``y_i`` below ``LOW_RATIO`` (1/4) of ``ref_i`` and
  of both neighbours;
* high (hot): determined, and ``y_i`` above ``HIGH_RATIO`` (4) times ``ref_i`` and both
  neighbours (a one-channel spike, not the top of a peak, which its neighbours share).

At most ``max_fraction`` of the channels of a spectrum are repaired (those that stand out most).
The same function is applied to synthetic training batches (:func:`eels_core.learning.preprocessing.preprocess_batch`,
on the 0.2 eV grid) and to measured spectra on their own channels, before resampling
(:func:`~eels_core.learning.preprocessing.preprocess_spectrum`,
:func:`~eels_core.learning.preprocessing.preprocess_window`, :func:`eels_core.real.predict.predict_edges`).
The thresholds were chosen on synthetic spectra with the sharpest point-spread function of
Table 2 recorded at 0.2-2 eV per channel, on Poisson counts, and on the shipped real spectra, in
which they flag only the zeros that energy-aligned spectrum images hold at their first and last
channels (``tests/learning/test_defects.py``). A dead channel is found where the counts are
above about 100 per channel; in sparser spectra a zero is within the counting noise and is left
alone, and so is a single count in a spectrum of 0s and 1s.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

#: Half width (channels) of the median that gives each channel's local level.
MEDIAN_HALF_WIDTH = 3
#: Pairs of channels on each side from which the local noise is taken.
NOISE_HALF_WIDTH = 16
#: The local level of a bad channel exceeds this many times the local noise and counting quantum.
NOISE_FACTOR = 3.0
#: The local noise is the NOISE_RANK-th largest step |y[k + 1] - y[k]| near the channel.
NOISE_RANK = 5
#: Least local noise, relative to the local level (noise-free synthetic spectra).
NOISE_FLOOR = 2e-3
#: A low channel holds less than this fraction of its local level.
LOW_RATIO = 0.25
#: A hot channel holds more than this multiple of its local level and of both neighbours.
HIGH_RATIO = 4.0
#: Steps below this (counts scaled to a largest magnitude of 1) are ties, not counting quanta.
QUANTUM_TOLERANCE = 1e-9
#: Largest fraction of a spectrum's channels that is repaired.
MAX_FRACTION = 0.02


@dataclass(frozen=True)
class RepairedCounts:
    """The result of :func:`repair_bad_channels`.

    Attributes
    ----------
    counts : ndarray, float64, same shape as the input
        The counts with the bad channels replaced (the input values elsewhere, bit for bit).
    repaired : ndarray of bool, same shape
        True where a channel was repaired.
    """

    counts: NDArray[np.float64]
    repaired: NDArray[np.bool_]

    @property
    def n_repaired(self) -> NDArray[np.int64]:
        """Number of repaired channels of each spectrum (shape: the input without its last axis)."""
        return np.count_nonzero(self.repaired, axis=-1)


def _reflect(index: NDArray[np.int64], n: int) -> NDArray[np.int64]:
    """Indices mirrored into ``0 ... n - 1`` (``-1 -> 1``, ``n -> n - 2``), as scipy's 'mirror' mode."""
    if n == 1:
        return np.zeros_like(index)
    period = 2 * (n - 1)
    k = np.mod(index, period)
    return np.where(k < n, k, period - k)


def _neighbour_max(y: NDArray[np.float64]) -> NDArray[np.float64]:
    """The larger of each channel's two neighbours (mirrored at the ends)."""
    padded = np.pad(y, ((0, 0), (1, 1)), mode="reflect")
    return np.maximum(padded[:, :-2], padded[:, 2:])


def find_bad_channels(
    counts: ArrayLike, valid: ArrayLike | None = None, max_fraction: float = MAX_FRACTION
) -> NDArray[np.bool_]:
    """Isolated dead, cold, hot or negative channels (module docstring); True where bad.

    Parameters
    ----------
    counts : array_like, shape (n,) or (b, n)
        Finite intensities on the recorded channels (any scale, any sign).
    valid : array_like of bool, shape (n,) or (b, n), optional
        Channels that may be flagged (e.g. the measured window of a training spectrum on the grid);
        default all.
    max_fraction : float
        At most this fraction of the channels of a spectrum is flagged (those that stand out most).

    Returns
    -------
    ndarray of bool, the shape of ``counts``

    Raises
    ------
    ValueError
        Counts of another dimension, or holding NaN or infinite values.
    """
    x = np.asarray(counts, dtype=np.float64)
    if x.ndim not in (1, 2):
        raise ValueError(f"counts must be one spectrum (n,) or a batch (b, n), got shape {x.shape}")
    x2 = x.reshape(-1, x.shape[-1])
    b, n = x2.shape
    bad = np.zeros((b, n), dtype=bool)
    if n < 2 * MEDIAN_HALF_WIDTH + 1 or b == 0:
        return bad.reshape(x.shape)
    if not np.all(np.isfinite(x2)):
        raise ValueError("find_bad_channels: the counts hold NaN or infinite values; drop or fix those first")
    scale = np.max(np.abs(x2), axis=1, keepdims=True)
    y = x2 / np.where(scale > 0, scale, 1.0)  # in [-1, 1]: no overflow whatever the units
    # both tests need a channel far from both neighbours: a cheap pre-selection, then the full test
    neighbour_max = _neighbour_max(y)
    candidate = (y < LOW_RATIO * neighbour_max) | (y > HIGH_RATIO * neighbour_max)
    if valid is not None:
        candidate &= np.broadcast_to(np.asarray(valid, dtype=bool), x.shape).reshape(b, n)
    rows, cols = np.nonzero(candidate)
    if rows.size == 0:
        return bad.reshape(x.shape)
    window = _reflect(cols[:, None] + np.arange(-MEDIAN_HALF_WIDTH, MEDIAN_HALF_WIDTH + 1), n)
    ref = np.median(y[rows[:, None], window], axis=1)
    # local noise: |first differences| on both sides, pairs holding the channel itself left out
    d = np.abs(np.diff(y, axis=1))
    pairs = np.concatenate([np.arange(-NOISE_HALF_WIDTH - 1, -1), np.arange(1, NOISE_HALF_WIDTH + 1)])
    diffs = d[rows[:, None], _reflect(cols[:, None] + pairs, n - 1)]
    # the fifth largest of the 32 steps: blind to two other bad channels nearby (two steps each),
    # and the size of the counting steps in a sparse spectrum of 0s and 1s
    noise = np.maximum(np.partition(diffs, -NOISE_RANK, axis=1)[:, -NOISE_RANK], NOISE_FLOOR * np.abs(ref))
    # counts of a sparse spectrum come in quanta (one electron): the smallest step that is not a tie
    quantum = np.min(np.where(diffs > QUANTUM_TOLERANCE, diffs, np.inf), axis=1)
    value, nb = y[rows, cols], neighbour_max[rows, cols]
    # the local level must stand clear of the noise and of the counting quantum: in a sparse
    # spectrum a zero or a single count is noise, not a defect
    with np.errstate(invalid="ignore"):
        determined = (ref > NOISE_FACTOR * noise) & ~(ref <= NOISE_FACTOR * quantum)
    low = determined & (value < LOW_RATIO * ref) & (value < LOW_RATIO * nb)
    high = determined & (value > HIGH_RATIO * np.maximum(nb, ref))
    hit = low | high
    rows, cols = rows[hit], cols[hit]
    score = np.abs(value - ref)[hit] / np.maximum(noise[hit], np.finfo(float).tiny)
    bad[rows, cols] = True
    limit = int(np.floor(max_fraction * n))
    counts_per_row = np.bincount(rows, minlength=b)
    for r in np.flatnonzero(counts_per_row > limit):  # keep the channels that stand out most
        mine = rows == r
        keep = cols[mine][np.argsort(score[mine])[::-1][:limit]]
        bad[r] = False
        bad[r, keep] = True
    return bad.reshape(x.shape)


def interpolate_channels(counts: ArrayLike, bad: ArrayLike) -> NDArray[np.float64]:
    """Replace the ``bad`` channels of every row by linear interpolation between its nearest good
    channels (by channel index; the end value beyond the last good channel). Rows with no good
    channel are returned unchanged."""
    x = np.array(counts, dtype=np.float64)
    m = np.asarray(bad, dtype=bool)
    if not m.any():
        return x
    y = x.reshape(-1, x.shape[-1])
    mb = m.reshape(y.shape)
    n = y.shape[1]
    idx = np.broadcast_to(np.arange(n), y.shape)
    left = np.maximum.accumulate(np.where(mb, -1, idx), axis=1)
    right = np.minimum.accumulate(np.where(mb, n, idx)[:, ::-1], axis=1)[:, ::-1]
    rows, cols = np.nonzero(mb)
    lo, hi = left[rows, cols], right[rows, cols]
    has_lo, has_hi = lo >= 0, hi < n
    y_lo = y[rows, np.clip(lo, 0, n - 1)]
    y_hi = y[rows, np.clip(hi, 0, n - 1)]
    t = np.where(has_lo & has_hi, (cols - lo) / np.maximum(hi - lo, 1), 0.0)
    value = np.where(has_lo & has_hi, y_lo + t * (y_hi - y_lo), np.where(has_lo, y_lo, y_hi))
    ok = has_lo | has_hi
    y[rows[ok], cols[ok]] = value[ok]
    return y.reshape(x.shape)


def repair_bad_channels(
    counts: ArrayLike, valid: ArrayLike | None = None, max_fraction: float = MAX_FRACTION
) -> RepairedCounts:
    """Find isolated dead, cold, hot and negative channels and interpolate over them.

    The one repair of the package: training batches and measured spectra both go through it
    (module docstring). Parameters as :func:`find_bad_channels`.

    Returns
    -------
    RepairedCounts
        ``counts`` (float64, the input's shape) and ``repaired`` (bool mask).

    Examples
    --------
    >>> import numpy as np
    >>> y = 1000.0 * np.linspace(1.0, 0.5, 200)
    >>> y[80] = 0.0
    >>> fixed = repair_bad_channels(y)
    >>> np.flatnonzero(fixed.repaired).tolist(), round(float(fixed.counts[80]), 1)
    ([80], 799.0)
    """
    bad = find_bad_channels(counts, valid, max_fraction)
    return RepairedCounts(interpolate_channels(counts, bad), bad)
