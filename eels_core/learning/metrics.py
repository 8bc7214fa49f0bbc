"""Metrics of the paper ("Prediction validation"), plus per-element confusion, a threshold chooser,
and the PSNR and jump ratio of an edge (paper: "Evaluation of model's sensitivity").

Per spectrum, with NE_c correctly predicted edges, NE_p predicted edges and NE_r real edges:
precision = NE_c / NE_p, recall = NE_c / NE_r, F1 = their harmonic mean. Exact accuracy is the
share of spectra predicted exactly (F1 = 1); recognition accuracy the share whose recall is 1.

Empty sets: 0 / 0 counts as 1 (a spectrum with no real edges and no predictions is perfect; one
with no predictions but real edges has precision 1, recall 0, F1 0). ``../shared/notes/peers.md``
scores the classical tools the same way.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray


def _as_bool(a: ArrayLike, name: str) -> NDArray[np.bool_]:
    x = np.asarray(a)
    if x.ndim == 1:
        x = x[None, :]
    if x.ndim != 2:
        raise ValueError(f"{name} must be (n_spectra, n_edges) multi-hot, got shape {x.shape}")
    return x.astype(bool)


def _ratio(num: NDArray, den: NDArray) -> NDArray[np.float64]:
    """num / den with 0 / 0 = 1."""
    out = np.ones(num.shape, dtype=np.float64)
    nz = den > 0
    out[nz] = num[nz] / den[nz]
    return out


@dataclass(frozen=True)
class SpectrumScores:
    """Per-spectrum precision, recall and F1 (arrays of shape (n_spectra,))."""

    precision: NDArray[np.float64]
    recall: NDArray[np.float64]
    f1: NDArray[np.float64]


def per_spectrum_scores(y_true: ArrayLike, y_pred: ArrayLike) -> SpectrumScores:
    """Precision, recall and F1 of each spectrum (paper's equations).

    Parameters
    ----------
    y_true, y_pred : array_like, shape (n_spectra, n_edges)
        Multi-hot truth and prediction (0/1 or bool).
    """
    t, p = _as_bool(y_true, "y_true"), _as_bool(y_pred, "y_pred")
    if t.shape != p.shape:
        raise ValueError(f"y_true {t.shape} and y_pred {p.shape} differ in shape")
    ne_c = (t & p).sum(axis=1)
    precision = _ratio(ne_c, p.sum(axis=1))
    recall = _ratio(ne_c, t.sum(axis=1))
    denom = precision + recall
    f1 = np.where(denom > 0, 2 * precision * recall / np.where(denom > 0, denom, 1), 0.0)
    return SpectrumScores(precision, recall, f1)


def exact_accuracy(y_true: ArrayLike, y_pred: ArrayLike) -> float:
    """Share of spectra whose predicted edge set equals the true set (Acc = N_exa / N)."""
    t, p = _as_bool(y_true, "y_true"), _as_bool(y_pred, "y_pred")
    return float(np.mean(np.all(t == p, axis=1)))


def recognition_accuracy(y_true: ArrayLike, y_pred: ArrayLike) -> float:
    """Share of spectra on which every real edge is found (recall = 1; Rec = N_rec / N)."""
    return float(np.mean(per_spectrum_scores(y_true, y_pred).recall == 1.0))


@dataclass(frozen=True)
class Report:
    """The paper's five numbers (Fig. 6a): mean precision, recall, F1; exact and recognition accuracy."""

    precision: float
    recall: float
    f1: float
    exact_accuracy: float
    recognition_accuracy: float
    n_spectra: int

    def as_dict(self) -> dict[str, float]:
        """Rounded plain dict (for JSON and tables)."""
        return {k: (round(v, 4) if isinstance(v, float) else v) for k, v in self.__dict__.items()}


def evaluate(y_true: ArrayLike, y_pred: ArrayLike) -> Report:
    """All paper metrics at once."""
    s = per_spectrum_scores(y_true, y_pred)
    return Report(
        precision=float(s.precision.mean()),
        recall=float(s.recall.mean()),
        f1=float(s.f1.mean()),
        exact_accuracy=exact_accuracy(y_true, y_pred),
        recognition_accuracy=float(np.mean(s.recall == 1.0)),
        n_spectra=int(np.asarray(y_true).reshape(-1, np.asarray(y_true).shape[-1]).shape[0]),
    )


def per_element_confusion(y_true: ArrayLike, y_pred: ArrayLike) -> NDArray[np.int64]:
    """Counts per element: array (n_edges, 4) of TP, FP, FN, TN."""
    t, p = _as_bool(y_true, "y_true"), _as_bool(y_pred, "y_pred")
    return np.stack(
        [(t & p).sum(0), (~t & p).sum(0), (t & ~p).sum(0), (~t & ~p).sum(0)], axis=1
    ).astype(np.int64)


def choose_threshold(
    y_true: ArrayLike, probabilities: ArrayLike, candidates: ArrayLike | None = None, metric: str = "f1"
) -> tuple[float, float]:
    """The probability threshold that maximises a metric on labelled data.

    Parameters
    ----------
    y_true : (n, k) multi-hot
    probabilities : (n, k) in [0, 1]
    candidates : thresholds to try (default 0.05, 0.10, ... 0.95)
    metric : "f1" (mean per-spectrum F1) or "exact" (exact accuracy)

    Returns
    -------
    (threshold, metric value)
    """
    if metric not in ("f1", "exact"):
        raise ValueError(f"metric = {metric!r}: use 'f1' or 'exact'")
    prob = np.asarray(probabilities, dtype=np.float64)
    cands = np.arange(0.05, 0.951, 0.05) if candidates is None else np.asarray(candidates, dtype=np.float64)
    best = (0.5, -1.0)
    for th in cands:
        pred = prob >= th
        value = per_spectrum_scores(y_true, pred).f1.mean() if metric == "f1" else exact_accuracy(y_true, pred)
        if value > best[1] + 1e-12:
            best = (float(th), float(value))
    return best


def psnr(peak_above_background: ArrayLike, noise_sd: ArrayLike) -> NDArray[np.float64]:
    """Peak signal-to-noise ratio of an edge: I_p / sd (paper, "Peak signal noise ratio")."""
    return np.asarray(peak_above_background, dtype=np.float64) / np.asarray(noise_sd, dtype=np.float64)


def fit_edge_thresholds(
    probabilities: ArrayLike,
    y_true: ArrayLike,
    counted: ArrayLike | None = None,
    grid: ArrayLike | None = None,
    sweeps: int = 3,
) -> NDArray[np.float64]:
    """One decision threshold per edge that maximises the mean per-spectrum F1 (coordinate ascent).

    Starting from 0.5 for every edge, each sweep visits the edges in label order and sets the edge's
    threshold to the grid value with the highest mean F1 (:func:`per_spectrum_scores`) over all spectra,
    the other thresholds held; ties go to the value nearest 0.5.

    Parameters
    ----------
    probabilities : array_like, shape (n_spectra, n_edges)
        The network's probabilities.
    y_true : array_like, shape (n_spectra, n_edges)
        Multi-hot truth.
    counted : array_like, shape (n_spectra, n_edges), optional
        Where an edge counts (e.g. the training's loss mask): elsewhere it is neither named nor true.
    grid : array_like, optional
        Candidate thresholds, each in (0, 1); default 0.10, 0.125, ..., 0.90.
    sweeps : int
        Passes over the edges.

    Returns
    -------
    ndarray, shape (n_edges,)
        The thresholds (grid values).
    """
    prob = np.asarray(probabilities, dtype=np.float64)
    truth = _as_bool(y_true, "y_true")
    keep = np.ones(truth.shape, bool) if counted is None else _as_bool(counted, "counted")
    if prob.ndim != 2 or not prob.shape == truth.shape == keep.shape:
        raise ValueError(f"probabilities {prob.shape}, y_true {truth.shape} and counted {keep.shape} must have the "
                         "same (n_spectra, n_edges) shape")
    truth &= keep
    grid = np.linspace(0.1, 0.9, 33) if grid is None else np.asarray(grid, dtype=np.float64)
    if grid.ndim != 1 or grid.size == 0 or np.any((grid <= 0) | (grid >= 1)):
        raise ValueError("grid must be a non-empty 1-d list of thresholds between 0 and 1 (exclusive)")
    if sweeps < 1:
        raise ValueError(f"sweeps = {sweeps}: must be at least 1")
    order = np.argsort(np.abs(grid - 0.5), kind="stable")  # first of equal scores: nearest 0.5
    thresholds = np.full(prob.shape[1], 0.5)
    for _ in range(sweeps):
        for edge in range(prob.shape[1]):
            named = (prob >= thresholds) & keep
            mean_f1 = []
            for t in grid[order]:
                named[:, edge] = (prob[:, edge] >= t) & keep[:, edge]
                mean_f1.append(per_spectrum_scores(truth, named).f1.mean())
            thresholds[edge] = grid[order][int(np.argmax(mean_f1))]
    return thresholds
