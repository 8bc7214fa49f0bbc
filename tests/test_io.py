"""Tests of eels_core.io: every real spectrum in shared/real-spectra reads as index.csv says,
and bad files fail with a clear error."""

from __future__ import annotations

import csv
import os
from pathlib import Path

import numpy as np
import pytest

from eels_core.io import Spectrum, read_spectrum

REAL_SPECTRA_DIR = Path(
    os.environ.get(
        "EELS_REAL_SPECTRA_DIR",
        Path(__file__).resolve().parents[2] / "shared" / "real-spectra",
    )
)
INDEX_CSV = REAL_SPECTRA_DIR / "index.csv"


def _index_rows() -> list:
    """One pytest param per index.csv row, or a single skipped param if the folder is absent."""
    if not INDEX_CSV.is_file():
        reason = f"real spectra not found at {REAL_SPECTRA_DIR} (set EELS_REAL_SPECTRA_DIR)"
        return [pytest.param(None, marks=pytest.mark.skip(reason=reason), id="no-real-spectra")]
    with INDEX_CSV.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    return [pytest.param(row, id=Path(row["file"]).name) for row in rows]


@pytest.mark.parametrize("row", _index_rows())
def test_real_spectrum_matches_index(row: dict[str, str]) -> None:
    spectrum = read_spectrum(REAL_SPECTRA_DIR / row["file"])
    dispersion = float(row["dispersion_eV"])

    assert spectrum.energy_ev.ndim == 1
    assert np.all(np.diff(spectrum.energy_ev) > 0)
    assert spectrum.counts.shape[-1] == spectrum.energy_ev.size == int(row["n_channels"])
    assert spectrum.n_spectra == int(row["n_spectra"])
    assert spectrum.energy_ev[0] == pytest.approx(float(row["energy_min_eV"]), abs=dispersion)
    assert spectrum.energy_ev[-1] == pytest.approx(float(row["energy_max_eV"]), abs=dispersion)
    assert spectrum.dispersion_ev == pytest.approx(dispersion, rel=1e-3)
    assert np.all(np.isfinite(spectrum.counts))


@pytest.mark.parametrize("row", _index_rows())
def test_summed_is_one_spectrum_of_all_pixels(row: dict[str, str]) -> None:
    spectrum = read_spectrum(REAL_SPECTRA_DIR / row["file"])
    summed = spectrum.summed()

    assert summed.counts.shape == spectrum.energy_ev.shape
    assert summed.counts.sum() == pytest.approx(spectrum.counts.sum(), rel=1e-9)
    np.testing.assert_array_equal(summed.energy_ev, spectrum.energy_ev)


# ---------------------------------------------------------------------------------------------
# small files made on the fly
# ---------------------------------------------------------------------------------------------


def _write_two_column(path: Path, energy: np.ndarray, counts: np.ndarray, delimiter: str = " ") -> Path:
    path.write_text("\n".join(f"{e}{delimiter}{c}" for e, c in zip(energy, counts)) + "\n")
    return path


def _write_msa(path: Path, offset_ev: float, scale: float, counts: np.ndarray, xunits: str = "eV") -> Path:
    header = [
        "#FORMAT      : EMSA/MAS Spectral Data File",
        "#VERSION     : 1.0",
        "#TITLE       : test",
        f"#NPOINTS     : {counts.size}",
        "#NCOLUMNS    : 1",
        f"#XUNITS      : {xunits}",
        "#YUNITS      : counts",
        "#DATATYPE    : Y",
        f"#XPERCHAN    : {scale}",
        f"#OFFSET      : {offset_ev}",
        "#SIGNALTYPE  : ELS",
        "#SPECTRUM    : Spectral Data Starts Here",
    ]
    body = [f"{c}," for c in counts]
    path.write_text("\n".join(header + body + ["#ENDOFDATA   : End Of Data and File"]) + "\n")
    return path


def test_two_column_text_reads(tmp_path: Path) -> None:
    energy = np.linspace(400.0, 450.0, 101)
    counts = 1e4 * (energy / 400.0) ** -3
    spectrum = read_spectrum(_write_two_column(tmp_path / "s.txt", energy, counts))

    np.testing.assert_allclose(spectrum.energy_ev, energy)
    np.testing.assert_allclose(spectrum.counts, counts)


def test_csv_with_header_and_decreasing_axis_reads_increasing(tmp_path: Path) -> None:
    energy = np.linspace(450.0, 400.0, 51)
    counts = np.arange(51.0)
    path = tmp_path / "s.csv"
    path.write_text("energy_eV,counts\n" + "\n".join(f"{e},{c}" for e, c in zip(energy, counts)) + "\n")
    spectrum = read_spectrum(path)

    np.testing.assert_allclose(spectrum.energy_ev, energy[::-1])
    np.testing.assert_allclose(spectrum.counts, counts[::-1])


def test_msa_kev_axis_is_converted_to_ev(tmp_path: Path) -> None:
    counts = np.linspace(100.0, 50.0, 20)
    spectrum = read_spectrum(_write_msa(tmp_path / "kev.msa", 0.5, 0.001, counts, xunits="keV"))

    assert spectrum.energy_ev[0] == pytest.approx(500.0)
    assert spectrum.dispersion_ev == pytest.approx(1.0)
    np.testing.assert_allclose(spectrum.counts, counts)


def test_spectrum_is_immutable() -> None:
    spectrum = Spectrum(np.arange(5.0), np.ones(5))
    with pytest.raises(ValueError):
        spectrum.counts[0] = 2.0
    with pytest.raises(AttributeError):
        spectrum.path = "other"  # type: ignore[misc]


def test_summed_adds_navigation_axes() -> None:
    counts = np.arange(2 * 3 * 4, dtype=float).reshape(2, 3, 4)
    summed = Spectrum(np.arange(4.0), counts).summed()

    np.testing.assert_allclose(summed.counts, counts.sum(axis=(0, 1)))
    assert summed.metadata["summed_spectra"] == 6


def test_missing_file_raises(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="not found"):
        read_spectrum(tmp_path / "nope.msa")


def test_unsupported_extension_raises(tmp_path: Path) -> None:
    path = tmp_path / "spectrum.xyz"
    path.write_text("1 2\n3 4\n")
    with pytest.raises(ValueError, match="Unsupported file extension"):
        read_spectrum(path)


def test_text_with_nan_raises(tmp_path: Path) -> None:
    energy = np.linspace(400.0, 450.0, 11)
    counts = np.ones(11)
    counts[4] = np.nan
    with pytest.raises(ValueError, match="NaN or infinite"):
        read_spectrum(_write_two_column(tmp_path / "nan.txt", energy, counts))


def test_text_with_inf_raises(tmp_path: Path) -> None:
    energy = np.linspace(400.0, 450.0, 11)
    counts = np.ones(11)
    counts[2] = np.inf
    with pytest.raises(ValueError, match="NaN or infinite"):
        read_spectrum(_write_two_column(tmp_path / "inf.dat", energy, counts))


def test_non_monotonic_axis_raises(tmp_path: Path) -> None:
    energy = np.array([400.0, 401.0, 402.0, 401.5, 403.0, 404.0])
    with pytest.raises(ValueError, match="not monotonic"):
        read_spectrum(_write_two_column(tmp_path / "zigzag.txt", energy, np.ones(6)))


def test_three_columns_raise(tmp_path: Path) -> None:
    path = tmp_path / "three.txt"
    path.write_text("400 1 2\n401 1 2\n402 1 2\n")
    with pytest.raises(ValueError, match="exactly two"):
        read_spectrum(path)


def test_garbage_msa_raises(tmp_path: Path) -> None:
    path = tmp_path / "garbage.msa"
    path.write_text("this is not an EMSA file\njust some words\n")
    with pytest.raises(ValueError):
        read_spectrum(path)


def test_msa_without_energy_units_raises(tmp_path: Path) -> None:
    path = _write_msa(tmp_path / "nounits.msa", 400.0, 0.5, np.ones(10), xunits="nm")
    with pytest.raises(ValueError, match="no energy axis"):
        read_spectrum(path)


def test_binary_garbage_dm3_raises(tmp_path: Path) -> None:
    path = tmp_path / "garbage.dm3"
    path.write_bytes(b"\x00\x01not a gatan file" * 10)
    with pytest.raises(ValueError, match="Could not read"):
        read_spectrum(path)
