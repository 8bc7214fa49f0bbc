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

_REPO = Path(__file__).resolve().parents[1]
#: The copy of the validation set shipped with the package (GPL / Apache / ODbL data, see its
#: ATTRIBUTION.md).
SHIPPED_REAL_SPECTRA_DIR = Path(__file__).resolve().parent / "data" / "real_spectra"


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
        )
        for r in rows
    ]
