"""Tests of eels_core.real.io: every real spectrum in shared/real-spectra reads as index.csv says,
and bad files fail with a clear error."""

from __future__ import annotations

import csv
import os
from pathlib import Path

import numpy as np
import pytest

from eels_core.real.io import Spectrum, as_spectrum, read_spectrum, spectrum_from_signal
from eels_core.real.real_spectra import SHIPPED_REAL_SPECTRA_DIR, find_real_spectra_dir

# EELS_REAL_SPECTRA_DIR, else ../shared/real-spectra, else the copy shipped in eels_core/data
REAL_SPECTRA_DIR = Path(os.environ.get("EELS_REAL_SPECTRA_DIR") or find_real_spectra_dir() or SHIPPED_REAL_SPECTRA_DIR)
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
    with pytest.raises(ValueError, match="not strictly increasing"):
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


def test_truncated_msa_raises(tmp_path: Path) -> None:
    path = _write_msa(tmp_path / "full.msa", 400.0, 0.5, np.linspace(100.0, 50.0, 40))
    lines = path.read_text().splitlines()
    path.write_text("\n".join(lines[: len(lines) // 2]) + "\n")  # header says 40 points, ~14 left
    with pytest.raises(ValueError, match="truncated"):
        read_spectrum(path)


def test_empty_file_raises(tmp_path: Path) -> None:
    path = tmp_path / "empty.dm3"
    path.write_bytes(b"")
    with pytest.raises(ValueError, match="empty"):
        read_spectrum(path)


def test_msa_date_time_warnings_are_silenced(tmp_path: Path) -> None:
    """rosettasciio logs 'malformed DATE/TIME' for headers like '12:30 PM'; read_spectrum drops those."""
    import logging

    from rsciio.msa import file_reader

    class Collect(logging.Handler):
        def __init__(self) -> None:
            super().__init__()
            self.messages: list[str] = []

        def emit(self, record: logging.LogRecord) -> None:
            self.messages.append(record.getMessage())

    path = _write_msa(tmp_path / "dated.msa", 400.0, 0.5, np.ones(10))
    text = path.read_text().replace("#TITLE       : test", "#TITLE       : test\n#DATE        : 5/6\n#TIME        : 12:30 PM")
    path.write_text(text)
    logger, collect = logging.getLogger("rsciio.msa._api"), Collect()
    logger.addHandler(collect)
    level = logger.level
    logger.setLevel(logging.WARNING)  # whatever other code set on the 'rsciio' logger
    try:
        file_reader(str(path))  # rosettasciio alone complains ...
        assert any("malformed" in m.lower() for m in collect.messages)
        collect.messages.clear()
        spectrum = read_spectrum(path)  # ... but not through eels_core
    finally:
        logger.removeHandler(collect)
        logger.setLevel(level)
    assert spectrum.n_channels == 10
    assert not any("malformed" in m.lower() for m in collect.messages)


def test_shipped_copy_of_the_real_spectra_is_complete() -> None:
    """eels_core/data/real_spectra: every file of its index.csv, unmodified (sha1), with attribution."""
    import hashlib

    with (SHIPPED_REAL_SPECTRA_DIR / "index.csv").open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    attribution = (SHIPPED_REAL_SPECTRA_DIR / "ATTRIBUTION.md").read_text()
    total = 0
    for row in rows:
        data = (SHIPPED_REAL_SPECTRA_DIR / row["file"]).read_bytes()
        total += len(data)
        assert hashlib.sha1(data).hexdigest() == row["sha1"], row["file"]
        assert Path(row["file"]).name in attribution and row["commit"] in attribution
        assert row["license"] in attribution
    assert total < 10 * 2**20


# ---------------------------------------------------------------------------------------------
# HyperSpy signals in memory, duck-typed (HyperSpy is not a dependency): small fakes
# ---------------------------------------------------------------------------------------------


class _Axis:
    def __init__(self, size, offset=0.0, scale=1.0, units="eV", index_in_array=None, name="", navigate=False):
        self.size, self.offset, self.scale, self.units = size, offset, scale, units
        self.index_in_array, self.name, self.navigate = index_in_array, name, navigate


class _AxesManager:
    def __init__(self, signal_axes, navigation_axes=()):
        self.signal_axes = tuple(signal_axes)
        self.navigation_axes = tuple(navigation_axes)


class _Node:
    def __init__(self, **kw):
        self.__dict__.update(kw)


class _FakeSignal1D:
    """What eels_core needs of a HyperSpy Signal1D / EELSSpectrum: data, axes_manager, metadata."""

    def __init__(self, data, energy_axis, navigation_axes=(), title="fake"):
        self.data = data
        self.axes_manager = _AxesManager([energy_axis], navigation_axes)
        self.metadata = _Node(General=_Node(title=title), Signal=_Node(signal_type="EELS"))


def test_hyperspy_like_spectrum_is_accepted() -> None:
    counts = np.linspace(100.0, 50.0, 30)
    signal = _FakeSignal1D(counts, _Axis(30, offset=400.0, scale=0.5))
    spectrum = read_spectrum(signal)

    np.testing.assert_allclose(spectrum.energy_ev, 400.0 + 0.5 * np.arange(30))
    np.testing.assert_allclose(spectrum.counts, counts)
    assert spectrum.metadata["format"] == "hyperspy-signal"
    assert spectrum.metadata["title"] == "fake" and spectrum.metadata["signal_type"] == "EELS"
    assert as_spectrum(signal).n_channels == 30 and as_spectrum(spectrum) is spectrum


def test_hyperspy_like_kev_axis_is_converted() -> None:
    signal = _FakeSignal1D(np.ones(20), _Axis(20, offset=0.5, scale=0.001, units="keV"))
    spectrum = spectrum_from_signal(signal)
    assert spectrum.energy_ev[0] == pytest.approx(500.0)
    assert spectrum.dispersion_ev == pytest.approx(1.0)


def test_hyperspy_like_spectrum_image_and_line_scan_keep_their_shape() -> None:
    image = np.arange(3 * 4 * 25, dtype=float).reshape(3, 4, 25) + 1.0  # HyperSpy order: (y, x, energy)
    nav = [_Axis(4, units="nm", index_in_array=1, navigate=True), _Axis(3, units="nm", index_in_array=0, navigate=True)]
    spectrum = read_spectrum(_FakeSignal1D(image, _Axis(25, offset=300.0, index_in_array=2), nav))
    assert spectrum.counts.shape == (3, 4, 25) and spectrum.navigation_shape == (3, 4)
    np.testing.assert_allclose(spectrum.counts, image)
    assert [a["size"] for a in spectrum.metadata["navigation_axes"]] == [3, 4]

    scan = read_spectrum(_FakeSignal1D(image[0], _Axis(25, offset=300.0), [_Axis(4, units="nm", navigate=True)]))
    assert scan.counts.shape == (4, 25) and scan.n_spectra == 4


def test_hyperspy_like_decreasing_axis_is_reversed_and_unit_navigation_dropped() -> None:
    data = np.arange(10, dtype=float).reshape(1, 10) + 1.0
    signal = _FakeSignal1D(data, _Axis(10, offset=500.0, scale=-1.0), [_Axis(1, units="nm", index_in_array=0)])
    spectrum = read_spectrum(signal)
    assert spectrum.counts.shape == (10,)
    np.testing.assert_allclose(spectrum.energy_ev, np.arange(491.0, 501.0))
    np.testing.assert_allclose(spectrum.counts, data[0, ::-1])


@pytest.mark.parametrize(
    "signal,message",
    [
        (_FakeSignal1D(np.ones(10), _Axis(10, units="nm")), "no energy axis"),
        (_FakeSignal1D(np.ones(10), _Axis(10, units="<undefined>")), "no energy axis: its signal axis is uncalibrated"),
        (_FakeSignal1D(np.ones(10), _Axis(12)), "12 channels"),
        (_FakeSignal1D(np.r_[np.ones(9), np.nan], _Axis(10, offset=400.0)), "NaN or infinite"),
    ],
    ids=["nm-units", "undefined-units", "size-mismatch", "nan"],
)
def test_bad_hyperspy_like_signals_raise(signal, message) -> None:
    with pytest.raises(ValueError, match=message):
        read_spectrum(signal)


def test_hyperspy_like_signal2d_raises() -> None:
    signal = _FakeSignal1D(np.ones((4, 4)), _Axis(4))
    signal.axes_manager = _AxesManager([_Axis(4), _Axis(4)])
    with pytest.raises(ValueError, match="2 signal axes"):
        read_spectrum(signal)


def test_summed_in_a_safe_scale_does_not_overflow() -> None:
    counts = np.full((64, 64, 50), 1e307)
    counts[..., 10] = 5e306
    spectrum = Spectrum(np.linspace(400.0, 449.0, 50), counts, path="huge.msa")
    with pytest.raises(ValueError, match=r"'huge.msa' overflows float64.*summed\(safe_scale=True\)"):
        spectrum.summed()
    summed = spectrum.summed(safe_scale=True, batch_size=100)
    assert np.isfinite(summed.counts).all() and summed.metadata["summed_scale"] == 1e307
    np.testing.assert_allclose(summed.counts, np.where(np.arange(50) == 10, 0.5, 1.0) * 64 * 64, rtol=1e-12)
    assert summed.metadata["summed_spectra"] == 64 * 64


def test_summed_in_a_safe_scale_times_its_scale_is_the_plain_sum() -> None:
    rng = np.random.default_rng(5)
    counts = rng.uniform(-2.0, 1000.0, size=(7, 5, 30))
    counts[6, 4, 3] = 4000.0  # the largest count comes in the last batch: earlier sums are rescaled
    spectrum = Spectrum(np.arange(30.0) + 400.0, counts)
    summed = spectrum.summed(safe_scale=True, batch_size=4)
    assert summed.metadata["summed_scale"] == 4000.0
    np.testing.assert_allclose(summed.counts * 4000.0, counts.sum(axis=(0, 1)), rtol=1e-12)
    single = Spectrum(np.arange(30.0) + 400.0, counts[0, 0]).summed(safe_scale=True)
    np.testing.assert_allclose(single.counts, counts[0, 0] / np.abs(counts[0, 0]).max(), rtol=1e-15)
    zeros = Spectrum(np.arange(4.0), np.zeros((3, 4))).summed(safe_scale=True)
    assert zeros.metadata["summed_scale"] == 1.0 and not zeros.counts.any()
