"""Name the edges of measured spectra with the trained network.

:func:`predict_edges` takes an energy axis and counts (one spectrum, a line scan or a spectrum
image), applies the same preprocessing as training (:mod:`eels_core.preprocessing`), and returns
per-edge probabilities and detections. An edge is never reported when its reference onset lies
outside the measured window (``start + 5 <= onset <= stop - 20`` eV, clipped to 90-1000 eV).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from numpy.typing import ArrayLike, NDArray
from tqdm.auto import tqdm

from .config import ELEMENTS
from .edges import load_edge_library
from .preprocessing import edges_in_window, measured_window, preprocess_spectrum


@dataclass(frozen=True)
class EdgePrediction:
    """Per-edge probabilities and detections (last axis: the 20 edges in Table 1 order)."""

    labels: tuple[str, ...]
    probabilities: NDArray[np.float32]  # (..., 20)
    detected: NDArray[np.bool_]  # (..., 20): probability >= threshold and inside the window
    in_window: NDArray[np.bool_]  # (20,): reference onset inside the measured window
    window_ev: tuple[float, float]
    threshold: float

    def detected_edges(self, index: tuple[int, ...] = ()) -> list[str]:
        """Names of the edges detected in one spectrum (``index`` into the navigation axes)."""
        row = self.detected[index] if index else self.detected
        if row.ndim != 1:
            raise ValueError("give the index of one spectrum of the line scan / spectrum image")
        return [self.labels[i] for i in np.flatnonzero(row)]


def reference_onsets_ev() -> NDArray[np.float64]:
    """Reference onset of each of the 20 edges (Table 1 order), from the edge library."""
    return np.array([el.edge_onset_ev for el in load_edge_library().elements])


def predict_edges(
    energy_ev: ArrayLike,
    counts: ArrayLike,
    model: torch.nn.Module | None = None,
    threshold: float = 0.5,
    batch_size: int = 256,
    progress: bool = False,
) -> EdgePrediction:
    """Probabilities and detections of the 20 edges.

    Parameters
    ----------
    energy_ev : array_like, shape (n,)
        Strictly increasing energy-loss axis in eV.
    counts : array_like, shape (n,), (m, n) or (h, w, n)
        One spectrum, a line scan or a spectrum image.
    model : torch.nn.Module, optional
        Default: the shipped weights (:func:`eels_core.weights.load_model`).
    threshold : float
        Probability at or above which an edge is reported.
    batch_size : int
        Spectra per forward pass.
    progress : bool
        tqdm bar over batches (for spectrum images).
    """
    if not 0.0 < threshold < 1.0:
        raise ValueError(f"threshold = {threshold}: must be between 0 and 1")
    if model is None:
        from .weights import load_model

        model = load_model()
    c = np.asarray(counts, dtype=np.float64)
    e = np.asarray(energy_ev, dtype=np.float64)
    if c.shape[-1] != e.size:
        raise ValueError(f"counts have {c.shape[-1]} channels on the last axis but the energy axis has {e.size}")
    nav = c.shape[:-1]
    flat = c.reshape(-1, e.size)
    window = measured_window(e)
    model.eval()
    device = next(model.parameters()).device
    probs = np.empty((flat.shape[0], len(ELEMENTS)), dtype=np.float32)
    starts = range(0, flat.shape[0], batch_size)
    for s in tqdm(starts, disable=not progress, desc="labelling", unit="batch"):
        x = torch.from_numpy(preprocess_spectrum(e, flat[s : s + batch_size])).to(device)
        with torch.no_grad():
            probs[s : s + batch_size] = torch.sigmoid(model(x)).float().cpu().numpy()
    inside = edges_in_window(reference_onsets_ev()[None, :], np.array(window))[0]
    probs = probs.reshape(nav + (len(ELEMENTS),))
    detected = (probs >= threshold) & inside
    labels = tuple(el.label for el in load_edge_library().elements)
    return EdgePrediction(labels, probs, detected, inside, window, threshold)
