"""The validation set of real spectra: where it is and what each file is expected to show.

The 22 public core-loss spectra of ``shared/real-spectra`` (see its README) are a *validation*
set, never training data. This module finds the folder and reads its ``index.csv``.

Search order for the folder: the environment variable ``EELS_REAL_SPECTRA_DIR``; then
``shared/real-spectra`` beside or inside the repository checkout; then the copy shipped with the
package, ``eels_core/data/real_spectra`` (same layout; its ``ATTRIBUTION.md`` names the source
and license of every file), so the book builds without the shared folder.
"""

from __future__ import annotations

import csv
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Sequence

if TYPE_CHECKING:
    import numpy as np
    from numpy.typing import NDArray

_REPO = Path(__file__).resolve().parents[2]
#: The copy of the validation set shipped with the package (GPL / Apache / ODbL data, see its
#: ATTRIBUTION.md).
SHIPPED_REAL_SPECTRA_DIR = Path(__file__).resolve().parents[1] / "data" / "real_spectra"


def find_real_spectra_dir() -> Path | None:
    """The folder holding ``index.csv`` and ``files/``, or None when it is not available."""
    candidates = []
    if os.environ.get("EELS_REAL_SPECTRA_DIR"):
        candidates.append(Path(os.environ["EELS_REAL_SPECTRA_DIR"]))
    candidates += [_REPO.parent / "shared" / "real-spectra", _REPO / "shared" / "real-spectra", SHIPPED_REAL_SPECTRA_DIR]
    for c in candidates:
        if (c / "index.csv").is_file():
            return c
    return None


@dataclass(frozen=True)
class RealSpectrumRecord:
    """One row of ``index.csv``."""

    path: Path
    material: str
    expected_edges: tuple[str, ...]  # e.g. ("O K", "Mn L2,3")
    energy_min_ev: float
    energy_max_ev: float
    dispersion_ev: float
    n_spectra: int
    quality_tier: str
    notes: str
    source_repo: str
    license: str
    #: Edges of elements in the specimen whose edge is not visible in the data (index column
    #: ``optional_edges``): neither required nor wrong, so they are left out of truth and prediction.
    optional_edges: tuple[str, ...] = ()

    @property
    def name(self) -> str:
        """Short display name (file name without the repository prefix)."""
        return self.path.name.split("__", 1)[-1]


def load_real_spectra_index(folder: Path | None = None) -> list[RealSpectrumRecord]:
    """Read ``index.csv`` of the real-spectra folder.

    Raises
    ------
    FileNotFoundError
        When no folder is found (set ``EELS_REAL_SPECTRA_DIR``).
    """
    folder = folder or find_real_spectra_dir()
    if folder is None:
        raise FileNotFoundError(
            "no real-spectra folder found: set EELS_REAL_SPECTRA_DIR to the folder holding index.csv"
        )
    with open(folder / "index.csv", newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    return [
        RealSpectrumRecord(
            path=folder / r["file"],
            material=r["material"],
            expected_edges=tuple(e.strip() for e in r["expected_edges"].split(";") if e.strip()),
            energy_min_ev=float(r["energy_min_eV"]),
            energy_max_ev=float(r["energy_max_eV"]),
            dispersion_ev=float(r["dispersion_eV"]),
            n_spectra=int(r["n_spectra"]),
            quality_tier=r["quality_tier"],
            notes=r["notes"],
            source_repo=r["source_repo"],
            license=r["license"],
            optional_edges=tuple(e.strip() for e in (r.get("optional_edges") or "").split(";") if e.strip()),
        )
        for r in rows
    ]


def scored_edges(labels: Sequence[str], energy_min_ev: float, energy_max_ev: float) -> list[str]:
    """The labels whose reference onset lies inside a measured window with margins.

    The scoring rule of chapters 08 and 10 (and of the project's notes on the classical peers): an
    edge counts when ``energy_min + 5 eV <= onset <= energy_max - 20 eV`` (reference onset of
    :func:`eels_core.real.predict.reference_onsets_ev`). For a file of the index, use
    :func:`record_scored_edges`, which also leaves out the record's ``optional_edges``.
    """
    from .predict import edge_labels, reference_onsets_ev
    from ..learning.preprocessing import edges_in_window

    ref = dict(zip(edge_labels(), reference_onsets_ev()))
    onsets = [[ref[x] for x in labels]]
    inside = edges_in_window(onsets, (energy_min_ev, energy_max_ev))[0] if labels else []
    return [x for x, ok in zip(labels, inside) if ok]


def record_scored_edges(record: RealSpectrumRecord, labels: Sequence[str]) -> list[str]:
    """The labels scored on one file: inside its window (:func:`scored_edges`) and not optional.

    The index's README: an optional edge (in the specimen, not visible in the data) is removed from
    both the expected and the predicted set before precision, recall, F1 and exact accuracy.
    """
    return [x for x in scored_edges(labels, record.energy_min_ev, record.energy_max_ev)
            if x not in record.optional_edges]


@dataclass
class SummedFileResult:
    """The network's answer on one file of the validation set, its pixels summed.

    Attributes
    ----------
    record : RealSpectrumRecord
    spectrum : Spectrum
        The file as read (:func:`eels_core.real.io.read_spectrum`), pixels not summed.
    truth, pred : ndarray of bool, shape (20,)
        Expected and detected edges (Table 1 order), both restricted by :func:`record_scored_edges`.
    result : EdgePrediction or None
        None when ``predict_edges`` refused the window (``refused`` then holds its message);
        such a file counts as one in which nothing was found.
    """

    record: RealSpectrumRecord
    spectrum: Any
    truth: "NDArray[np.bool_]"
    pred: "NDArray[np.bool_]"
    result: Any
    refused: str | None


def predict_summed_files(
    records: Sequence[RealSpectrumRecord], model: Any = None, threshold: float = 0.5
) -> list[SummedFileResult]:
    """Run :func:`eels_core.real.predict.predict_edges` on every file (line scans and spectrum images
    summed over their pixels) and score it against the record's expected edges.

    Parameters
    ----------
    records : sequence of RealSpectrumRecord
        From :func:`load_real_spectra_index`.
    model : torch.nn.Module, optional
        The network (default: the shipped weights).
    threshold : float
        Detection threshold on the probability.
    """
    import numpy as np

    from .io import read_spectrum
    from .predict import edge_labels, predict_edges

    labels = edge_labels()
    out = []
    for r in records:
        allowed = set(record_scored_edges(r, labels))
        result, refused, detected = None, None, []
        spectrum = read_spectrum(r.path)
        try:
            result = predict_edges(spectrum.summed(), model=model, threshold=threshold)
            detected = result.detected_edges()
        except ValueError as exc:  # the window is too narrow for the network
            refused = str(exc)
        truth = np.array([x in r.expected_edges and x in allowed for x in labels])
        pred = np.array([x in detected and x in allowed for x in labels])
        out.append(SummedFileResult(r, spectrum, truth, pred, result, refused))
    return out


@dataclass
class PixelFileResult:
    """The network's answer on the pixels of one line scan or spectrum image of the validation set.

    Attributes
    ----------
    item : SummedFileResult
        The file's summed result (record, spectrum, summed truth).
    truth, pred : ndarray of bool, shape (n_scored, 20)
        Per scored pixel: the file's expected edges (every pixel takes the truth of its file) and
        the detections, both restricted by :func:`record_scored_edges`.
    """

    item: SummedFileResult
    truth: "NDArray[np.bool_]"
    pred: "NDArray[np.bool_]"

    @property
    def n_scored(self) -> int:
        """Pixels scored (every ``pixel_step``-th pixel of the file)."""
        return int(self.truth.shape[0])


def predict_pixel_files(
    items: Sequence[SummedFileResult],
    model: Any = None,
    threshold: float = 0.5,
    pixel_step: int = 1,
    batch_size: int = 256,
) -> list[PixelFileResult]:
    """Run :func:`eels_core.real.predict.predict_edges` on the pixels of every line scan and spectrum
    image among ``items`` (single spectra and refused windows are skipped).

    Parameters
    ----------
    items : sequence of SummedFileResult
        From :func:`predict_summed_files` (the files are read once, there).
    model : torch.nn.Module, optional
        The network (default: the shipped weights).
    threshold : float
        Detection threshold on the probability.
    pixel_step : int
        Score every ``pixel_step``-th pixel (1: all), in the file's flattened pixel order.
    batch_size : int
        Spectra per forward pass.
    """
    import numpy as np

    from .predict import edge_labels, predict_edges

    if pixel_step < 1:
        raise ValueError(f"pixel_step = {pixel_step}: must be a positive integer")
    labels = edge_labels()
    out = []
    for it in items:
        s = it.spectrum
        if s.counts.ndim == 1 or it.refused:
            continue
        flat = s.counts.reshape(-1, s.n_channels)[::pixel_step]
        res = predict_edges(s.energy_ev, flat, model=model, threshold=threshold, batch_size=batch_size, onsets=False)
        r = it.record
        allowed = np.isin(labels, record_scored_edges(r, labels))
        truth = np.repeat(it.truth[None, :], flat.shape[0], axis=0)
        out.append(PixelFileResult(it, truth, res.detected & allowed[None, :]))
    return out
