"""Name the edges of measured spectra with the trained network.

:func:`predict_edges` takes an energy axis and counts (one spectrum, a line scan or a spectrum
image), applies the same preprocessing as training (:mod:`eels_core.preprocessing`), and returns
per-edge probabilities, detections and an estimated onset of every edge. An edge is never
reported when its reference onset lies outside the measured window (``start + 5 <= onset <=
stop - 20`` eV, clipped to 90-1000 eV).

Estimated onset (:func:`estimate_onsets`)
    For each edge inside the window: the leading flank of the steepest rise of the background-
    subtracted, smoothed spectrum within +-15 eV of the element's reference onset, i.e. the lowest
    energy in that range at which the slope reaches half of its largest value there. The
    background is a power law ``A E^-r`` fitted (straight line in log-log) to the 30 eV below the
    search range; the smoothing is a Gaussian of 1 eV standard deviation (at least one channel).
    On synthetic spectra it lands within about 1 eV of the labelled onset (median), and within
    5 eV for most edges (``tests/test_cli_predict.py``). It locates an edge, and reveals an energy
    axis offset by less than 15 eV; it is not a threshold energy in the sense of XPS tables.

Speed on spectrum images
    All spectra of a line scan or spectrum image share one energy axis, hence one measured
    window. Outside it the network input is the same for every pixel (no data, the coverage mask
    and the energy coordinate), so by default (``fast=True``) :func:`predict_edges` computes the
    layers of the network there once, and per pixel only where the window can reach: the
    convolutions on the receptive field of the window, each LSTM direction from the state in which
    it enters the window. Resampling and normalisation are vectorised over pixels
    (:func:`eels_core.preprocessing.preprocess_window`). The probabilities equal those of the plain
    forward pass of :func:`eels_core.preprocessing.preprocess_spectrum` up to float rounding
    (``tests/test_cli_predict.py`` checks < 1e-4); ``fast=False`` runs the plain pass.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np
import scipy.ndimage
import torch
from numpy.typing import ArrayLike, NDArray
from torch import nn
from tqdm.auto import tqdm

from .config import ELEMENTS
from .edges import load_edge_library
from .network import inference_autocast
from .preprocessing import (
    N_CHANNELS,
    check_energy_axis,
    edges_in_window,
    energy_coordinate,
    measured_window,
    preprocess_spectrum,
    preprocess_window,
    window_slice,
)

#: Half width (eV) of the search range around the reference onset for :func:`estimate_onsets`.
ONSET_SEARCH_HALF_WIDTH_EV = 15.0
#: Width (eV) of the pre-edge range the power-law background is fitted to.
ONSET_FIT_WIDTH_EV = 30.0
#: Standard deviation (eV) of the Gaussian smoothing before the derivative.
ONSET_SMOOTHING_EV = 1.0


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
                "probability": round(float(prob[k]), 4),
                "detected": bool(det[k]),
                "onset_ev": None if not np.isfinite(onset[k]) else round(float(onset[k]), 1),
                "reference_onset_ev": round(float(ref[k]), 1),
            })
        return rows


@functools.lru_cache(maxsize=1)
def _reference_onsets() -> tuple[float, ...]:
    return tuple(float(el.edge_onset_ev) for el in load_edge_library().elements)


def reference_onsets_ev() -> NDArray[np.float64]:
    """Reference onset of each of the 20 edges (Table 1 order), from the edge library."""
    return np.array(_reference_onsets())


@functools.lru_cache(maxsize=1)
def edge_labels() -> tuple[str, ...]:
    """The 20 edge names in Table 1 (= label) order."""
    return tuple(el.label for el in load_edge_library().elements)


# --------------------------------------------------------------------------------------------
# onsets
# --------------------------------------------------------------------------------------------


def estimate_onsets(
    energy_ev: ArrayLike,
    counts: ArrayLike,
    reference_onsets: ArrayLike | None = None,
    in_window: ArrayLike | None = None,
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

    Returns
    -------
    ndarray (k,) or (b, k)
    """
    e = check_energy_axis(energy_ev)
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
        if s0 - f0 >= 5:
            seg = seg - _power_law_background(e[f0:s0], c[:, f0:s0], x)
        smooth = scipy.ndimage.gaussian_filter1d(seg, sigma, axis=1, mode="nearest")
        slope = np.gradient(smooth, x, axis=1)[:, s0 - lo : s1 - lo]
        leading = slope >= 0.5 * slope.max(axis=1, keepdims=True)  # first channel at half the steepest slope
        out[:, k] = e[s0 + np.argmax(leading, axis=1)]
    return out[0] if one else out


def _power_law_background(fit_e: NDArray, fit_counts: NDArray, at_e: NDArray) -> NDArray[np.float64]:
    """Least-squares line in log-log through (fit_e, fit_counts) per row, evaluated at at_e.

    Counts at or below zero (noise) are clamped to 1e-6 of the row's largest value in the range.
    """
    floor = 1e-6 * np.maximum(np.max(np.abs(fit_counts), axis=1, keepdims=True), 1e-300)
    y = np.log(np.maximum(fit_counts, floor))
    x = np.log(fit_e)[None, :]
    xm, ym = x.mean(), y.mean(axis=1, keepdims=True)
    slope = ((x - xm) * (y - ym)).sum(axis=1, keepdims=True) / ((x - xm) ** 2).sum()
    return np.exp(ym + slope * (np.log(at_e)[None, :] - xm))


# --------------------------------------------------------------------------------------------
# the network, per pixel only where the window reaches
# --------------------------------------------------------------------------------------------


class _WindowedForward:
    """Logits of a CNNBiLSTM for many spectra on one measured window (see the module docstring).

    ``template`` is the network input of a pixel with no data: zeros in channels 0-1, the
    coverage mask and the energy coordinate in channels 2-3. Every activation outside the
    "dependent" range of a layer (positions whose receptive field misses the window) equals the
    template's, so it is computed once; the batch is run on the dependent range only.
    """

    def __init__(self, model: nn.Module, window: slice) -> None:
        self.model = model
        self.window = window
        device = next(model.parameters()).device
        self.device = device
        template = torch.zeros(1, 4, N_CHANNELS, device=device)
        template[0, 2, window] = 1.0
        template[0, 3] = torch.from_numpy(energy_coordinate()).to(device)
        self.coordinate = template[0, 3, window].clone()
        # per convolution: the module, and the template inputs it reads left and right of the
        # dependent range [a, b) of its input (zeros for the padding); None for the other layers
        self.layers: list[tuple[nn.Module, tuple[torch.Tensor, torch.Tensor] | None]] = []
        a, b = window.start, window.stop
        h = template
        with torch.inference_mode():
            for layer in model.features:
                out = layer(h)
                if isinstance(layer, nn.Conv1d):
                    (k,), (s,), (p,) = layer.kernel_size, layer.stride, layer.padding
                    if k < s or p < s - 1:
                        raise NotImplementedError("kernel shorter than the stride or padding < stride - 1")
                    # output q reads inputs [q*s - p, q*s - p + k): it depends on the window
                    # when that range meets [a, b)
                    a_out = max((a + p - k) // s + 1, 0)
                    b_out = min(-(-(b + p) // s), out.shape[-1])
                    i0, i1 = a_out * s - p, (b_out - 1) * s - p + k  # input range those outputs read
                    padded = nn.functional.pad(h, (p, p + k))  # the convolution's zero padding
                    sides = (padded[:, :, i0 + p : a + p].contiguous(), padded[:, :, b + p : i1 + p].contiguous())
                    self.layers.append((layer, sides))
                    a, b = a_out, b_out
                else:
                    self.layers.append((layer, None))
                h = out
            self.features_template = h  # (1, C, L)
            self.a, self.b = a, b
            self.plan = self._fused_plan(model, template[:, 2:, window])
            if model.lstm is not None:
                self._prepare_lstm(model.lstm, h)

    def _fused_plan(self, model: nn.Module, constant_window: torch.Tensor) -> list[tuple]:
        """The per-batch steps, with each batch norm (eval) folded into the convolution before it.

        The first convolution is split: channels 2-3 (mask, energy coordinate) are the same for
        every pixel, so their part of the output is computed once here; per batch only channels
        0-1 are convolved (the template's channels 0-1 are zero outside the window).
        """
        feats = list(model.features)
        plan: list[tuple] = []
        i = 0
        while i < len(feats):
            layer, sides = self.layers[i]
            if sides is None:
                plan.append(("module", layer))
                i += 1
                continue
            weight = layer.weight
            bias = layer.bias if layer.bias is not None else torch.zeros(weight.shape[0], device=weight.device)
            scale, shift = torch.ones_like(bias), torch.zeros_like(bias)
            nxt = feats[i + 1] if i + 1 < len(feats) else None
            if isinstance(nxt, nn.BatchNorm1d):
                inv = torch.rsqrt(nxt.running_var + nxt.eps)
                scale = inv * (nxt.weight if nxt.weight is not None else 1.0)
                shift = (nxt.bias if nxt.bias is not None else 0.0) - nxt.running_mean * scale
                i += 2
            else:
                i += 1
            w = weight * scale[:, None, None]
            bf = bias * scale + shift
            if not plan and w.shape[1] == 4:  # the first layer: split the constant channels off
                left, right = sides
                x23 = torch.cat([left[:, 2:], constant_window, right[:, 2:]], dim=2)
                const = nn.functional.conv1d(x23, w[:, 2:].contiguous(), bf, stride=layer.stride)
                plan.append(("conv0", w[:, :2].contiguous(), const, layer.stride, left.shape[-1], right.shape[-1]))
            else:
                plan.append(("conv", w.contiguous(), bf, layer.stride, sides))
        return plan

    @staticmethod
    def supports(model: nn.Module) -> bool:
        """The model is a CNNBiLSTM-like module this class can run (else: plain forward)."""
        lstm = getattr(model, "lstm", None)
        layers_ok = all(
            isinstance(m, (nn.Conv1d, nn.BatchNorm1d, nn.ReLU, nn.LeakyReLU, nn.Dropout, nn.Identity))
            for m in getattr(model, "features", [None])
        )
        conv_ok = all(
            m.dilation == (1,) and m.groups == 1 and m.padding_mode == "zeros" and isinstance(m.padding, tuple)
            for m in getattr(model, "features", []) if isinstance(m, nn.Conv1d)
        )
        bn_ok = all(
            m.track_running_stats and m.running_var is not None
            for m in getattr(model, "features", []) if isinstance(m, nn.BatchNorm1d)
        )
        lstm_ok = lstm is None or (
            isinstance(lstm, nn.LSTM) and lstm.num_layers == 1 and lstm.bidirectional and lstm.batch_first
            and lstm.proj_size == 0
        )
        return bool(layers_ok and conv_ok and bn_ok and lstm_ok and hasattr(model, "head") and not model.training)

    def _prepare_lstm(self, lstm: nn.LSTM, features: torch.Tensor) -> None:
        def direction(suffix: str) -> nn.LSTM:
            d = nn.LSTM(lstm.input_size, lstm.hidden_size, batch_first=True, bias=lstm.bias).to(self.device)
            with torch.no_grad():
                for name in ("weight_ih", "weight_hh") + (("bias_ih", "bias_hh") if lstm.bias else ()):
                    getattr(d, f"{name}_l0").copy_(getattr(lstm, f"{name}_l0{suffix}"))
            return d.eval()

        self.fwd, self.bwd = direction(""), direction("_reverse")
        seq = features.transpose(1, 2)  # (1, L, C)
        a, b, L = self.a, self.b, seq.shape[1]
        hidden = lstm.hidden_size
        zeros = torch.zeros(1, 1, hidden, device=self.device)
        # forward direction before the window, backward direction after it: the same for all pixels
        if a > 0:
            self.fwd_out, self.fwd_state = self.fwd(seq[:, :a], (zeros, zeros))
        else:
            self.fwd_out, self.fwd_state = seq.new_zeros(1, 0, hidden), (zeros, zeros)
        if b < L:
            out, self.bwd_state = self.bwd(seq[:, b:].flip(1), (zeros, zeros))
            self.bwd_out = out.flip(1)
        else:
            self.bwd_out, self.bwd_state = seq.new_zeros(1, 0, hidden), (zeros, zeros)

    def __call__(self, window_inputs: torch.Tensor) -> torch.Tensor:
        """Logits (b, 20) from channels 0-1 on the window, ``(b, 2, n_window)``."""
        nb = window_inputs.shape[0]
        y = window_inputs
        if self.plan and self.plan[0][0] != "conv0":  # no split first convolution: all four channels
            y = torch.cat([y, torch.ones_like(y[:, :1]), self.coordinate.expand(nb, 1, -1)], dim=1)
        for step in self.plan:
            if step[0] == "module":  # activation, dropout (eval), unfused batch norm: position by position
                y = step[1](y)
            elif step[0] == "conv0":
                _, weight, const, stride, n_left, n_right = step
                y = nn.functional.conv1d(nn.functional.pad(y, (n_left, n_right)), weight, None, stride=stride) + const
            else:
                _, weight, bias, stride, (left, right) = step
                x = torch.cat([left.expand(nb, -1, -1), y, right.expand(nb, -1, -1)], dim=2)
                y = nn.functional.conv1d(x, weight, bias, stride=stride)
        feats = self.features_template.expand(nb, -1, -1)
        a, b = self.a, self.b
        model = self.model
        if model.lstm is None:
            full = torch.cat([feats[:, :, :a], y, feats[:, :, b:]], dim=2)
            pooled = torch.cat([full.amax(dim=2), full.mean(dim=2)], dim=1)
            return model.head(pooled)
        seq_dep = y.transpose(1, 2)  # (b, b-a, C)
        seq_after = feats[:, :, b:].transpose(1, 2)
        seq_before = feats[:, :, :a].transpose(1, 2)
        h0, c0 = (t.expand(-1, nb, -1).contiguous() for t in self.fwd_state)
        fwd_rest, _ = self.fwd(torch.cat([seq_dep, seq_after], dim=1), (h0, c0))
        h0, c0 = (t.expand(-1, nb, -1).contiguous() for t in self.bwd_state)
        bwd_rest, _ = self.bwd(torch.cat([seq_before, seq_dep], dim=1).flip(1), (h0, c0))
        fwd = torch.cat([self.fwd_out.expand(nb, -1, -1), fwd_rest], dim=1)
        bwd = torch.cat([bwd_rest.flip(1), self.bwd_out.expand(nb, -1, -1)], dim=1)
        h = torch.cat([fwd, bwd], dim=2)
        pooled = torch.cat([h.amax(dim=1), h.mean(dim=1)], dim=1)
        return model.head(pooled)


# --------------------------------------------------------------------------------------------
# predict_edges
# --------------------------------------------------------------------------------------------


def _positive_signal(counts: NDArray[np.float64], energy_ev: NDArray[np.float64], window: tuple[float, float]) -> NDArray[np.bool_]:
    """Spectra whose median count inside the measured window is > 0."""
    inside = (energy_ev >= window[0]) & (energy_ev <= window[1])
    return np.median(counts[:, inside], axis=1) > 0


def _as_axis_and_counts(energy_ev: Any, counts: Any) -> tuple[NDArray[np.float64], NDArray[Any]]:
    if counts is None:  # a Spectrum, a path or a HyperSpy-like signal
        from .io import as_spectrum

        spectrum = as_spectrum(energy_ev)
        return spectrum.energy_ev, spectrum.counts
    return np.asarray(energy_ev, dtype=np.float64), np.asarray(counts)


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
) -> EdgePrediction:
    """Probabilities, detections and estimated onsets of the 20 edges.

    Parameters
    ----------
    energy_ev : array_like, shape (n,)
        Strictly increasing energy-loss axis in eV. Or, with ``counts`` omitted, a
        :class:`~eels_core.io.Spectrum`, a file path or a HyperSpy signal.
    counts : array_like, shape (n,), (m, n) or (h, w, n)
        One spectrum, a line scan or a spectrum image (energy channels last).
    model : torch.nn.Module, optional
        Default: the shipped weights (:func:`eels_core.weights.load_model`).
    threshold : float
        Probability at or above which an edge is reported.
    batch_size : int
        Spectra per forward pass.
    progress : bool
        tqdm bar over the spectra (for spectrum images).
    onsets : bool
        Estimate the onset of every edge inside the window (:func:`estimate_onsets`).
    fast : bool
        Compute pixel-independent parts of the network once (module docstring); False: the
        plain forward pass of :func:`~eels_core.preprocessing.preprocess_spectrum` per batch.
    precision : {"float32", "bfloat16"}
        Arithmetic of the network (:func:`~eels_core.network.inference_autocast`): bfloat16 is
        about twice as fast on CPUs with native bfloat16 support, with probabilities that differ
        by a few hundredths at most.

    Raises
    ------
    ValueError
        A bad energy axis (not increasing, non-finite, less than ``MIN_WINDOW_EV`` (35 eV) inside 90-1000 eV), counts
        that do not match it, NaN / infinite counts, or no spectrum with positive counts.
    """
    if not 0.0 < threshold < 1.0:
        raise ValueError(f"threshold = {threshold}: must be between 0 and 1")
    if batch_size < 1:
        raise ValueError(f"batch_size = {batch_size}: must be at least 1")
    e, c = _as_axis_and_counts(energy_ev, counts)
    window = measured_window(e)  # checks the axis
    if c.ndim == 0 or c.shape[-1] != e.size:
        raise ValueError(f"counts have shape {c.shape} but the energy axis has {e.size} channels; energy must be last")
    nav = c.shape[:-1]
    flat = c.reshape(-1, e.size)
    if flat.shape[0] == 0:
        raise ValueError("no spectra: the navigation axes have length 0")
    if model is None:
        from .weights import load_model

        model = load_model()
    model.eval()
    device = next(model.parameters()).device
    autocast = inference_autocast(precision, device)  # checks precision; entered once per batch
    refs = reference_onsets_ev()
    inside = edges_in_window(refs[None, :], np.array(window))[0]

    n = flat.shape[0]
    probs = np.zeros((n, len(ELEMENTS)), dtype=np.float32)
    onset = np.full((n, len(ELEMENTS)), np.nan)
    valid = np.zeros(n, dtype=bool)
    forward: Callable[[NDArray[np.float64]], torch.Tensor]
    windowed = None
    if fast and _WindowedForward.supports(model):
        try:
            windowed = _WindowedForward(model, window_slice(e))
        except NotImplementedError:
            windowed = None
    if windowed is not None:

        def forward(rows: NDArray[np.float64]) -> torch.Tensor:
            return windowed(torch.from_numpy(preprocess_window(e, rows)[0]).to(device))
    else:

        def forward(rows: NDArray[np.float64]) -> torch.Tensor:
            return model(torch.from_numpy(preprocess_spectrum(e, rows)).to(device))

    with tqdm(total=n, disable=not progress, desc="labelling", unit="spectra") as bar, torch.inference_mode():
        for s in range(0, n, batch_size):
            rows = np.asarray(flat[s : s + batch_size], dtype=np.float64)
            if not np.all(np.isfinite(rows)):
                bad = int(np.count_nonzero(~np.isfinite(rows)))
                raise ValueError(f"the counts contain {bad} NaN or infinite values; fix or drop those channels")
            ok = _positive_signal(rows, e, window)
            valid[s : s + rows.shape[0]] = ok
            if ok.any():
                with autocast:
                    logits = forward(rows[ok])
                p = torch.sigmoid(logits.float()).cpu().numpy()
                probs[s : s + rows.shape[0]][ok] = p
                if onsets:
                    onset[s : s + rows.shape[0]][ok] = estimate_onsets(e, rows[ok], refs, inside)
            bar.update(rows.shape[0])
    if not valid.any():
        raise ValueError(
            "the counts are all zero or negative inside the measured window "
            f"({window[0]:.1f}-{window[1]:.1f} eV): an EELS spectrum needs positive counts "
            "(raw counts or electrons, not a background-subtracted or empty signal)"
        )
    shape = nav + (len(ELEMENTS),)
    probs = probs.reshape(shape)
    detected = (probs >= threshold) & inside
    return EdgePrediction(
        labels=edge_labels(),
        probabilities=probs,
        detected=detected,
        in_window=inside,
        window_ev=window,
        threshold=threshold,
        onset_ev=onset.reshape(shape) if onsets else None,
        reference_onset_ev=refs,
        valid=valid.reshape(nav),
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
    c = np.asarray(counts, dtype=np.float64)
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
            r = np.log(c[a] / c[b]) / np.log(e[b] / e[a])
            rows[i, inner] = c[a] * (e[inner] / e[a]) ** (-r)
        else:  # not positive (background-subtracted data): a straight line instead
            rows[i, inner] = np.interp(e[inner], [e[a], e[b]], [c[a], c[b]])
    probabilities = predict_edges(e, np.vstack([c[None, :], rows]), model=model, onsets=False).probabilities
    return OcclusionScan(centres, float(width_ev), probabilities[1:], probabilities[0])
