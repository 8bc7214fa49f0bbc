"""Name the edges of measured spectra with the trained network.

:func:`predict_edges` takes an energy axis and counts (one spectrum, a line scan or a spectrum
image), applies the same preprocessing as training (:mod:`eels_core.learning.preprocessing`), and returns
per-edge probabilities, detections and an estimated onset of every edge. An edge is never
reported when its reference onset lies outside the measured window (``start + 5 <= onset <=
stop - 20`` eV, clipped to 90-1000 eV).

Estimated onset
    :func:`eels_core.real.onsets.estimate_onsets`: the leading flank of the steepest rise near
    each edge's reference onset.

Speed on spectrum images
    All spectra of a line scan or spectrum image share one energy axis, hence one measured
    window. Outside it the network input is the same for every pixel (no data, the coverage mask
    and the energy coordinate), so by default (``fast=True``) :func:`predict_edges` computes the
    layers of the network there once, and per pixel only where the window can reach: the
    convolutions on the receptive field of the window, each LSTM direction from the state in which
    it enters the window. Resampling and normalisation are vectorised over pixels
    (:func:`eels_core.learning.preprocessing.preprocess_window`). The probabilities equal those of the plain
    forward pass of :func:`eels_core.learning.preprocessing.preprocess_spectrum` up to float rounding
    (``tests/real/test_predict_and_cli.py`` checks < 1e-4); ``fast=False`` runs the plain pass.

Bad channels
    Isolated dead, cold, hot and negative channels are repaired before the network and the
    onset estimator see a spectrum (:func:`eels_core.learning.defects.repair_bad_channels`, the
    repair training batches go through too); the result says which channels were repaired
    (``repaired_channels_ev``, ``repaired_count``). ``repair=False`` switches it off.

Any scale
    Each spectrum is divided by its largest magnitude before anything else, so counts of any
    finite scale (1e-300 ... 1e307) give the same probabilities, without overflow.

Big spectrum images
    A lazy :class:`~eels_core.real.io.Spectrum` (``read_spectrum(path, lazy=True)``) or a lazy
    HyperSpy signal is labelled batch by batch (:meth:`~eels_core.real.io.Spectrum.iter_rows`):
    memory holds two batches of spectra (the one being labelled and the next, prepared in a second
    thread) plus the per-pixel results, whatever the file size.
    :func:`summed_counts` sums one chunk-wise, in a safe scale.

HyperSpy
    :func:`predict_edges` accepts HyperSpy signals (lazy ones too); :meth:`EdgePrediction.to_signals`
    returns the maps as HyperSpy signals with the navigation axes of the input, and
    :func:`add_detected_elements` writes the detected elements into a signal's
    ``metadata.Sample.elements`` for exspy's ``add_elements`` / ``create_model``.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, Callable, Iterator

import numpy as np
import torch
from numpy.typing import ArrayLike, NDArray
from torch import nn
from tqdm.auto import tqdm

from ..forward.axis import MIN_WINDOW_EV, check_counts, check_energy_axis, measured_window
from ..forward.background import fit_power_law, power_law
from ..forward.config import ELEMENTS
from ..forward.edges import edge_labels, reference_onsets_ev
from ..learning.defects import repair_bad_channels
from ..learning.network import WindowedForward, inference_autocast
from ..learning.preprocessing import (
    NARROWEST_TRAINING_WINDOW_EV,
    edges_in_window,
    preprocess_spectrum,
    preprocess_window,
    window_slice,
)
from .onsets import estimate_onsets

#: What :meth:`EdgePrediction.to_signals` can map.
SIGNAL_QUANTITIES = ("probability", "detected", "onset_ev")


@dataclass(frozen=True)
class EdgePrediction:
    """Per-edge probabilities, detections and onsets (last axis: the 20 edges in Table 1 order).

    Attributes
    ----------
    labels : tuple of str
        Edge names, e.g. ``"O K"``, ``"Mn L2,3"``.
    probabilities : ndarray (..., 20), float32
        Network output; 0 for a spectrum with no positive signal (see ``valid``).
    detected : ndarray (..., 20), bool
        ``probability >= threshold`` and the edge inside the measured window.
    in_window : ndarray (20,), bool
        Reference onset inside the measured window (only these can be detected).
    window_ev : (float, float)
        Measured window, clipped to 90-1000 eV.
    threshold : float
    onset_ev : ndarray (..., 20), float64, optional
        Estimated onset (:func:`estimate_onsets`) of each edge inside the window; NaN elsewhere.
    reference_onset_ev : ndarray (20,), optional
        Reference onsets of the edge library.
    valid : ndarray (...), bool, optional
        False for spectra (pixels) without positive counts in the window; they get probability 0.
    repaired_count : ndarray (...), int32, optional
        Number of channels repaired in each spectrum (dead, cold, hot or negative;
        :func:`~eels_core.learning.defects.repair_bad_channels`).
    repaired_channels_ev : ndarray (k,), float64, optional
        Energies (eV) of the channels repaired in at least one spectrum, increasing.
    repaired_spectra : ndarray (k,), int64, optional
        In how many spectra each of those channels was repaired.
    navigation_axes : tuple of dict, optional
        Calibration of the navigation axes of the input, array order (``name``, ``units``,
        ``offset``, ``scale``, ``size``), when the input had it (a file or a HyperSpy signal).
    """

    labels: tuple[str, ...]
    probabilities: NDArray[np.float32]
    detected: NDArray[np.bool_]
    in_window: NDArray[np.bool_]
    window_ev: tuple[float, float]
    threshold: float
    onset_ev: NDArray[np.float64] | None = None
    reference_onset_ev: NDArray[np.float64] | None = None
    valid: NDArray[np.bool_] | None = None
    repaired_count: NDArray[np.int32] | None = None
    repaired_channels_ev: NDArray[np.float64] | None = None
    repaired_spectra: NDArray[np.int64] | None = None
    navigation_axes: tuple[dict[str, Any], ...] | None = None

    @property
    def navigation_shape(self) -> tuple[int, ...]:
        """``()`` for one spectrum, ``(m,)`` for a line scan, ``(h, w)`` for a spectrum image."""
        return tuple(self.probabilities.shape[:-1])

    def _row(self, array: NDArray[Any], index: tuple[int, ...]) -> NDArray[Any]:
        row = array[index] if index else array
        if row.ndim != 1:
            raise ValueError("give the index of one spectrum of the line scan / spectrum image")
        return row

    def detected_edges(self, index: tuple[int, ...] = ()) -> list[str]:
        """Names of the edges detected in one spectrum (``index`` into the navigation axes)."""
        row = self._row(self.detected, index)
        return [self.labels[i] for i in np.flatnonzero(row)]

    def detected_elements(self, min_fraction: float = 0.0) -> list[str]:
        """Chemical symbols of the detected edges, by reference onset.

        For a line scan or spectrum image: the elements detected in more than ``min_fraction`` of
        the valid pixels (default: in any pixel).
        """
        det = self.detected.reshape(-1, len(self.labels))
        if self.valid is not None:
            det = det[self.valid.reshape(-1)]
        if det.shape[0] == 0:
            return []
        share = det.mean(axis=0)
        refs = self.reference_onset_ev if self.reference_onset_ev is not None else reference_onsets_ev()
        hits = [k for k in np.argsort(refs, kind="stable") if det[:, k].any() and share[k] > min_fraction]
        return list(dict.fromkeys(self.labels[k].split()[0] for k in hits))

    def edge_table(self, index: tuple[int, ...] = (), only_detected: bool = False) -> list[dict[str, Any]]:
        """One dict per edge inside the window, by reference onset: the rows of the CLI table.

        Keys: ``edge``, ``element``, ``probability`` (rounded to 4 decimals), ``detected``,
        ``onset_ev`` (estimated, 0.1 eV; None if not estimated), ``reference_onset_ev``.
        """
        prob = self._row(self.probabilities, index)
        det = self._row(self.detected, index)
        onset = self._row(self.onset_ev, index) if self.onset_ev is not None else np.full(prob.shape, np.nan)
        ref = self.reference_onset_ev if self.reference_onset_ev is not None else reference_onsets_ev()
        rows = []
        for k in sorted(np.flatnonzero(self.in_window), key=lambda j: ref[j]):
            if only_detected and not det[k]:
                continue
            rows.append({
                "edge": self.labels[k],
                "element": self.labels[k].split()[0],
                "probability": round(float(prob[k]), 4) if np.isfinite(prob[k]) else None,
                "detected": bool(det[k]),
                "onset_ev": None if not np.isfinite(onset[k]) else round(float(onset[k]), 1),
                "reference_onset_ev": round(float(ref[k]), 1),
            })
        return rows

    def to_signals(self, quantity: str = "probability", only_in_window: bool = True) -> dict[str, Any]:
        """Per-edge maps as HyperSpy signals, with the navigation axes of the input.

        Parameters
        ----------
        quantity : {"probability", "detected", "onset_ev"}
            What to map: the network's probability (float32), the detection (bool) or the
            estimated onset (float64, NaN where not estimated).
        only_in_window : bool
            Only the edges inside the measured window (the others are never detected).

        Returns
        -------
        dict
            Edge name -> ``hyperspy.signals.Signal2D`` for a spectrum image (image axes: the
            input's navigation axes, same name, units, offset and scale), ``Signal1D`` for a line
            scan. Titles such as ``"O K probability"``.

        Raises
        ------
        ValueError
            A single spectrum (nothing to map), or an unknown ``quantity``.
        ImportError
            HyperSpy is not installed (``pip install eels-edge-book[hyperspy]``).
        """
        if quantity not in SIGNAL_QUANTITIES:
            raise ValueError(f"quantity = {quantity!r}: choose one of {', '.join(SIGNAL_QUANTITIES)}")
        nav = self.navigation_shape
        if len(nav) not in (1, 2):
            raise ValueError(
                f"to_signals needs a line scan or spectrum image, this prediction has navigation shape {nav}; "
                "for one spectrum use edge_table() or detected_edges()"
            )
        if quantity == "onset_ev" and self.onset_ev is None:
            raise ValueError("this prediction has no onsets (predict_edges(..., onsets=False)); use onsets=True")
        try:
            import hyperspy.api as hs
        except ImportError as exc:  # pragma: no cover - hyperspy is the optional 'hyperspy' extra
            raise ImportError(
                "to_signals needs HyperSpy: pip install 'eels-edge-book[hyperspy]' (or hyperspy>=2.1)"
            ) from exc
        data = {"probability": self.probabilities, "detected": self.detected, "onset_ev": self.onset_ev}[quantity]
        axes = _signal_axes(self.navigation_axes, nav)
        cls = hs.signals.Signal2D if len(nav) == 2 else hs.signals.Signal1D
        out = {}
        for k in range(len(self.labels)):
            if only_in_window and not self.in_window[k]:
                continue
            signal = cls(np.array(data[..., k]), axes=[dict(a) for a in axes])
            signal.metadata.General.title = f"{self.labels[k]} {quantity.replace('_ev', ' (eV)')}"
            out[self.labels[k]] = signal
        return out


def _signal_axes(navigation_axes: tuple[dict[str, Any], ...] | None, nav: tuple[int, ...]) -> list[dict[str, Any]]:
    """HyperSpy axis dicts (array order) for maps of navigation shape ``nav``."""
    default_names = ("y", "x") if len(nav) == 2 else ("x",)
    axes = []
    for i, size in enumerate(nav):
        given = dict(navigation_axes[i]) if navigation_axes and len(navigation_axes) == len(nav) else {}
        axis = {"size": int(size), "name": given.get("name") or default_names[i],
                "units": given.get("units") or "", "navigate": False}
        for key, default in (("offset", 0.0), ("scale", 1.0)):
            value = given.get(key)
            axis[key] = float(value) if isinstance(value, (int, float)) and np.isfinite(value) else default
        if int(given.get("size") or size) != size:  # calibration of another shape: do not guess
            axis.update(offset=0.0, scale=1.0, units="")
        axes.append(axis)
    return axes


def add_detected_elements(signal: Any, result: EdgePrediction, min_fraction: float = 0.0) -> list[str]:
    """Put the elements of the detected edges into ``signal.metadata.Sample.elements``.

    So that exspy can take over: ``s.add_elements`` is then not needed, and
    ``s.create_model()`` adds an ionisation edge for each element (with the GOS data exspy has).

    Parameters
    ----------
    signal : HyperSpy signal
        Usually the signal ``result`` was predicted from.
    result : EdgePrediction
    min_fraction : float
        For a line scan / spectrum image: only elements detected in more than this fraction of the
        valid pixels (default: any pixel).

    Returns
    -------
    list of str
        The elements now in ``metadata.Sample.elements`` (those already there are kept), sorted.
    """
    if not (hasattr(signal, "metadata") and hasattr(signal.metadata, "set_item")):
        raise ValueError(
            f"add_detected_elements needs a HyperSpy signal (with metadata), got {type(signal).__name__}"
        )
    found = result.detected_elements(min_fraction)
    have = list(signal.metadata.get_item("Sample.elements", default=[]) or [])
    elements = sorted(set(have) | set(found))
    if hasattr(signal, "add_elements") and found:  # exspy's EELSSpectrum: its own bookkeeping
        signal.add_elements(found)
        elements = sorted(set(signal.metadata.get_item("Sample.elements", default=[]) or []) | set(elements))
    signal.metadata.set_item("Sample.elements", elements)
    return elements


# --------------------------------------------------------------------------------------------
# predict_edges
# --------------------------------------------------------------------------------------------


def _positive_signal(counts: NDArray[np.float64], energy_ev: NDArray[np.float64], window: tuple[float, float]) -> NDArray[np.bool_]:
    """Spectra whose median count inside the measured window is > 0."""
    inside = (energy_ev >= window[0]) & (energy_ev <= window[1])
    return np.median(counts[:, inside], axis=1) > 0


def unit_scale(rows: NDArray[np.float64]) -> NDArray[np.float64]:
    """Each row divided by its largest magnitude (all-zero rows unchanged): values in [-1, 1]."""
    peak = np.max(np.abs(rows), axis=1, keepdims=True)
    return rows / np.where(peak > 0, peak, 1.0)


def _is_lazy(values: Any) -> bool:
    return type(values).__module__.startswith("dask.") and hasattr(values, "compute")


def _source(energy_ev: Any, counts: Any) -> tuple[NDArray[np.float64], Any, Any]:
    """(energy axis, counts (ndarray or a lazy Spectrum's dask array), Spectrum or None)."""
    if counts is None:  # a Spectrum, a path or a HyperSpy-like signal
        from .io import as_spectrum

        spectrum = as_spectrum(energy_ev)
        return spectrum.energy_ev, spectrum.counts, spectrum
    e = np.asarray(energy_ev, dtype=np.float64)
    if _is_lazy(counts):
        from .io import Spectrum

        spectrum = Spectrum(e, counts)
        return spectrum.energy_ev, spectrum.counts, spectrum
    return e, np.asarray(counts), None


def _batches(flat: Any, spectrum: Any, batch_size: int) -> Any:
    """(start, float64 rows) batches of at most ``batch_size`` spectra: a lazy Spectrum read in
    chunk-aligned blocks (:meth:`~eels_core.real.io.Spectrum.iter_rows`), else slices of ``flat``."""
    if spectrum is not None and getattr(spectrum, "lazy", False):
        yield from spectrum.iter_rows(batch_size)
        return
    for s in range(0, flat.shape[0], batch_size):
        yield s, np.asarray(flat[s : s + batch_size], dtype=np.float64)


def summed_counts(source: Any, batch_size: int = 256) -> NDArray[np.float64]:
    """The sum of all spectra of a Spectrum (lazy or not), chunk by chunk, in a safe scale.

    Returns the summed counts divided by a positive constant (the largest magnitude of any
    count), so that the sum of 262,144 spectra of 1e307 does not overflow; the probabilities do
    not depend on the scale. NaN or infinite counts raise ValueError. A thin call of
    :meth:`Spectrum.summed(safe_scale=True) <eels_core.real.io.Spectrum.summed>`.
    """
    from .io import as_spectrum

    return as_spectrum(source).summed(safe_scale=True, batch_size=batch_size).counts


@dataclass(frozen=True)
class _PreparedBatch:
    """One batch of :func:`predict_edges` ready for the network: everything but the network's pass."""

    start: int
    stop: int
    ok: NDArray[np.bool_]  # spectra with positive counts in the window
    inputs: NDArray[np.float32] | None  # network input of the ``ok`` spectra (None: none is ok)
    onset_ev: NDArray[np.float64] | None  # estimated onsets of the ``ok`` spectra
    repaired_count: NDArray[np.int32]
    repaired_per_channel: NDArray[np.int64]


def _prepare_batch(
    start: int, rows: NDArray[np.float64], e: NDArray[np.float64], window: tuple[float, float],
    network_input: Callable[[NDArray[np.float64]], NDArray[np.float32]], repair: bool,
    onset_args: tuple[NDArray[np.float64], NDArray[np.bool_]] | None,
) -> _PreparedBatch:
    """Check, scale and repair one batch, and make its network input and onsets."""
    if not np.all(np.isfinite(rows)):
        bad = int(np.count_nonzero(~np.isfinite(rows)))
        raise ValueError(f"the counts contain {bad} NaN or infinite values; fix or drop those channels")
    rows = unit_scale(rows)  # any finite scale: no overflow below
    repaired_count = np.zeros(rows.shape[0], dtype=np.int32)
    repaired_per_channel = np.zeros(e.size, dtype=np.int64)
    if repair:
        fixed = repair_bad_channels(rows)
        rows = fixed.counts
        repaired_count[:] = fixed.n_repaired
        repaired_per_channel += np.count_nonzero(fixed.repaired, axis=0)
    ok = _positive_signal(rows, e, window)
    inputs = onset_ev = None
    if ok.any():
        inputs = network_input(rows[ok])
        if onset_args is not None:
            onset_ev = estimate_onsets(e, rows[ok], *onset_args)
    return _PreparedBatch(start, start + rows.shape[0], ok, inputs, onset_ev, repaired_count, repaired_per_channel)


def _prepare_next(batches: Iterator[tuple[int, NDArray[np.float64]]],
                  prepare: Callable[[int, NDArray[np.float64]], _PreparedBatch]) -> _PreparedBatch | None:
    """The next batch, read and prepared (None when there is none left)."""
    item = next(batches, None)
    return None if item is None else prepare(*item)


def predict_edges(
    energy_ev: Any,
    counts: ArrayLike | None = None,
    model: nn.Module | None = None,
    threshold: float = 0.5,
    batch_size: int = 256,
    progress: bool = False,
    onsets: bool = True,
    fast: bool = True,
    precision: str = "float32",
    repair: bool = True,
) -> EdgePrediction:
    """Probabilities, detections and estimated onsets of the 20 edges.

    Parameters
    ----------
    energy_ev : array_like, shape (n,)
        Strictly increasing energy-loss axis in eV. Or, with ``counts`` omitted, a
        :class:`~eels_core.real.io.Spectrum` (lazy or not), a file path or a HyperSpy signal
        (lazy or not).
    counts : array_like, shape (n,), (m, n) or (h, w, n)
        One spectrum, a line scan or a spectrum image (energy channels last); a dask array is
        read chunk by chunk.
    model : torch.nn.Module, optional
        Default: the shipped weights (:func:`eels_core.learning.checkpoint.load_model`).
    threshold : float
        Probability at or above which an edge is reported.
    batch_size : int
        Spectra per forward pass. A lazy source is read in whole chunks of its first navigation
        axis (at most 128 MiB at a time, :meth:`~eels_core.real.io.Spectrum.iter_rows`) and
        labelled ``batch_size`` spectra at a time. The next batch is read and prepared in a
        second thread while the network labels the current one.
    progress : bool
        tqdm bar over the spectra (for spectrum images).
    onsets : bool
        Estimate the onset of every edge inside the window (:func:`estimate_onsets`).
    fast : bool
        Compute pixel-independent parts of the network once (module docstring); False: the
        plain forward pass of :func:`~eels_core.learning.preprocessing.preprocess_spectrum` per batch.
    precision : {"float32", "bfloat16"}
        Arithmetic of the network (:func:`~eels_core.learning.network.inference_autocast`): bfloat16 is
        about twice as fast on CPUs with native bfloat16 support, with probabilities that differ
        by a few hundredths at most.
    repair : bool
        Repair isolated dead, hot and negative channels first (module docstring).

    Raises
    ------
    ValueError
        A bad energy axis (not increasing, non-finite, less than the model's ``narrowest_window_ev`` (20 eV
        for the shipped weights, 35 eV for weights trained on wider windows only) inside 90-1000 eV), counts
        that do not match it, NaN / infinite counts, or no spectrum with positive counts.
    """
    if not 0.0 < threshold < 1.0:
        raise ValueError(f"threshold = {threshold}: must be between 0 and 1")
    if batch_size < 1:
        raise ValueError(f"batch_size = {batch_size}: must be at least 1")
    e, c, spectrum = _source(energy_ev, counts)
    check_energy_axis(e, min_window_ev=NARROWEST_TRAINING_WINDOW_EV)  # the window width is checked for the model below
    if c.ndim == 0 or c.shape[-1] != e.size:
        check_counts(np.broadcast_to(np.float64(0.0), c.shape), e.size)  # raises: the energy channels are not the last axis
    nav = tuple(int(k) for k in c.shape[:-1])
    n = int(np.prod(nav, dtype=np.int64))
    if n == 0:
        raise ValueError("no spectra: the navigation axes have length 0")
    flat = None if _is_lazy(c) else c.reshape(n, e.size)
    if model is None:
        from ..learning.checkpoint import load_model

        model = load_model()
    model.eval()
    window = measured_window(e, min_window_ev=getattr(model, "narrowest_window_ev", MIN_WINDOW_EV))
    device = next(model.parameters()).device
    autocast = inference_autocast(precision, device)  # checks precision; entered once per batch
    refs = reference_onsets_ev()
    inside = edges_in_window(refs[None, :], np.array(window))[0]

    probs = np.zeros((n, len(ELEMENTS)), dtype=np.float32)
    onset = np.full((n, len(ELEMENTS)), np.nan) if onsets else None
    valid = np.zeros(n, dtype=bool)
    repaired_count = np.zeros(n, dtype=np.int32)
    repaired_per_channel = np.zeros(e.size, dtype=np.int64)
    windowed = None
    if fast and WindowedForward.supports(model):
        try:
            windowed = WindowedForward(model, window_slice(e))
        except NotImplementedError:
            windowed = None
    if windowed is not None:
        network: Callable[[torch.Tensor], torch.Tensor] = windowed

        def network_input(rows: NDArray[np.float64]) -> NDArray[np.float32]:
            return preprocess_window(e, rows, repair=False)[0]
    else:
        network = model

        def network_input(rows: NDArray[np.float64]) -> NDArray[np.float32]:
            return preprocess_spectrum(e, rows, repair=False)

    def prepare(start: int, rows: NDArray[np.float64]) -> _PreparedBatch:
        return _prepare_batch(start, rows, e, window, network_input, repair, (refs, inside) if onsets else None)

    # The numpy work of batch k+1 (reading, repair, resampling, onsets) runs in a second thread
    # while the network labels batch k: the two overlap instead of taking turns on the cores.
    batches = _batches(flat, spectrum, batch_size)
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="eels-edges-prepare") as pool, tqdm(
        total=n, disable=not progress, desc="labelling", unit="spectra"
    ) as bar, torch.inference_mode():
        pending = pool.submit(_prepare_next, batches, prepare)
        while (ready := pending.result()) is not None:
            pending = pool.submit(_prepare_next, batches, prepare)
            s, stop, ok = ready.start, ready.stop, ready.ok
            valid[s:stop] = ok
            repaired_count[s:stop] = ready.repaired_count
            repaired_per_channel += ready.repaired_per_channel
            if ready.inputs is not None:
                with autocast:
                    logits = network(torch.from_numpy(ready.inputs).to(device))
                p = torch.sigmoid(logits.float()).cpu().numpy()
                probs[s:stop][ok] = np.nan_to_num(p, nan=0.0)  # never NaN (a finite input gives a finite output)
                if onset is not None:
                    onset[s:stop][ok] = ready.onset_ev
            bar.update(stop - s)
    if not valid.any():
        raise ValueError(
            "the counts are all zero or negative inside the measured window "
            f"({window[0]:.1f}-{window[1]:.1f} eV): an EELS spectrum needs positive counts "
            "(raw counts or electrons, not a background-subtracted or empty signal)"
        )
    shape = nav + (len(ELEMENTS),)
    probs = probs.reshape(shape)
    detected = (probs >= threshold) & inside
    channels = np.flatnonzero(repaired_per_channel)
    nav_axes = None
    if spectrum is not None:
        given = (spectrum.metadata or {}).get("navigation_axes")
        if isinstance(given, (list, tuple)) and len(given) == len(nav):
            nav_axes = tuple(dict(a) for a in given)
    return EdgePrediction(
        labels=edge_labels(),
        probabilities=probs,
        detected=detected,
        in_window=inside,
        window_ev=window,
        threshold=threshold,
        onset_ev=onset.reshape(shape) if onset is not None else None,
        reference_onset_ev=refs,
        valid=valid.reshape(nav),
        repaired_count=repaired_count.reshape(nav),
        repaired_channels_ev=e[channels],
        repaired_spectra=repaired_per_channel[channels],
        navigation_axes=nav_axes,
    )


@dataclass(frozen=True)
class OcclusionScan:
    """What part of a spectrum an edge's probability rests on (:func:`occlusion_scan`).

    Attributes
    ----------
    centre_ev : ndarray, shape (k,)
        Centre of each occluded range.
    width_ev : float
        Width of the occluded ranges.
    probabilities : ndarray, shape (k, 20)
        The 20 probabilities with that range occluded.
    unoccluded : ndarray, shape (20,)
        The probabilities of the spectrum as measured.
    """

    centre_ev: NDArray[np.float64]
    width_ev: float
    probabilities: NDArray[np.float32]
    unoccluded: NDArray[np.float32]

    def of(self, edge: str) -> NDArray[np.float32]:
        """The probability of one edge (e.g. ``"Sc L2,3"``) for every occluded range."""
        return self.probabilities[:, edge_labels().index(edge)]


def occlusion_scan(
    energy_ev: ArrayLike,
    counts: ArrayLike,
    width_ev: float = 10.0,
    step_ev: float = 2.0,
    span_ev: tuple[float, float] | None = None,
    model: nn.Module | None = None,
) -> OcclusionScan:
    """Occlude one energy range after another and record the network's probabilities.

    Each range ``[c - width/2, c + width/2]`` is replaced by the power law through the counts at
    its two ends (a featureless background), so a near-edge feature inside it disappears while the
    rest of the spectrum stays as measured. Where an edge's probability drops, the network relied
    on what was there: a diagnostic of a surprising detection, not a correction of it.

    Parameters
    ----------
    energy_ev : array_like, shape (n,)
    counts : array_like, shape (n,)
        One spectrum (sum a spectrum image first); positive at the ends of every range.
    width_ev, step_ev : float
        Width of the occluded range and distance between successive centres, eV.
    span_ev : (float, float), optional
        Range of the centres (default: the measured window inside 90-1000 eV).
    model : torch.nn.Module, optional
        Default: the shipped weights.
    """
    e = check_energy_axis(energy_ev)
    c = check_counts(counts, e.size)
    if c.shape != e.shape:
        raise ValueError(f"counts must be one spectrum of {e.size} channels, got shape {c.shape}")
    if width_ev <= 0 or step_ev <= 0:
        raise ValueError(f"width_ev = {width_ev} and step_ev = {step_ev} must be > 0")
    lo, hi = span_ev if span_ev is not None else measured_window(e)
    centres = np.arange(lo + width_ev / 2, hi - width_ev / 2 + 1e-9, step_ev)
    if centres.size == 0:
        raise ValueError(f"no occluded range of {width_ev} eV fits into {lo:.1f}-{hi:.1f} eV")
    rows = np.repeat(c[None, :], centres.size, axis=0)
    for i, centre in enumerate(centres):
        a = max(int(np.searchsorted(e, centre - width_ev / 2)) - 1, 0)
        b = min(int(np.searchsorted(e, centre + width_ev / 2)), e.size - 1)
        inner = slice(a + 1, b)
        if c[a] > 0 and c[b] > 0:
            amplitude, exponent = fit_power_law(e[[a, b]], c[[a, b]])
            rows[i, inner] = power_law(e[inner], amplitude, exponent)
        else:  # not positive (background-subtracted data): a straight line instead
            rows[i, inner] = np.interp(e[inner], [e[a], e[b]], [c[a], c[b]])
    probabilities = predict_edges(e, np.vstack([c[None, :], rows]), model=model, onsets=False).probabilities
    return OcclusionScan(centres, float(width_ev), probabilities[1:], probabilities[0])
