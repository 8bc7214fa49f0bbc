"""eels_core.real.io on every kind of file: what rosettasciio reads as an EELS spectrum reads here
(the content decides, not the extension), unusual text and EMSA files read as they should, and bad
or untrustworthy files fail with one clear message. Every file is written in tmp_path."""

from __future__ import annotations

import codecs
import gzip
import os
import re
import shutil
import warnings
import zipfile
from pathlib import Path

import h5py
import numpy as np
import pytest

import eels_core.real.io as io_module
from eels_core.real.io import SpectrumReadWarning, read_spectrum
from eels_core.real.real_spectra import SHIPPED_REAL_SPECTRA_DIR

REAL_FILES = SHIPPED_REAL_SPECTRA_DIR / "files"
DM3_LINE_SCAN = REAL_FILES / "joverbee_eelsmodel__T3_C3_region1_SI_HL_cal.dm3"  # 100 x 1024, 312 eV, 0.5 eV/ch
DM4_IMAGE = REAL_FILES / "hyperspy_hyperspy__EELS_SI.dm4"  # 2 x 2 x 2048, 300 eV, 1 eV/ch

ENERGY = 400.0 + 0.5 * np.arange(40)
COUNTS = 1e4 * (ENERGY / 400.0) ** -3


# ---------------------------------------------------------------------------------------------
# writers
# ---------------------------------------------------------------------------------------------


def emsa_lines(counts=COUNTS, offset=400.0, scale=0.5, xunits="eV", datatype="Y", npoints=None,
               signaltype="ELS", drop=(), x=None, ncolumns=1) -> list[str]:
    """Lines of an EMSA file; `drop` removes header keywords, `x` gives an XY file's X column."""
    header = {
        "FORMAT": "EMSA/MAS Spectral Data File", "VERSION": "1.0", "TITLE": "test",
        "NPOINTS": str(len(counts) if npoints is None else npoints), "NCOLUMNS": str(ncolumns),
        "XUNITS": xunits, "YUNITS": "counts", "DATATYPE": datatype, "XPERCHAN": str(scale), "OFFSET": str(offset),
        "SIGNALTYPE": signaltype,
    }
    lines = [f"#{k:<12}: {v}" for k, v in header.items() if k not in drop]
    lines.append("#SPECTRUM    : Spectral Data Starts Here")
    if datatype == "XY":
        xs = ENERGY[: len(counts)] if x is None else x
        lines += [f"{a:.4f}, {c}" for a, c in zip(xs, counts)]
    else:
        values = [f"{c}" for c in counts]
        lines += [", ".join(values[i : i + ncolumns]) + "," for i in range(0, len(values), ncolumns)]
    return lines + ["#ENDOFDATA   : End Of Data and File"]


def write_emsa(path: Path, lines: list[str] | None = None, **kw) -> Path:
    path.write_text("\n".join(emsa_lines(**kw) if lines is None else lines) + "\n", encoding="utf-8")
    return path


def write_hspy(path: Path, data, offset=300.0, scale=0.5, units="eV", signal_type="EELS", nav_units="nm",
               signal_axes=1) -> Path:
    """A HyperSpy file written with rosettasciio (any extension)."""
    from rsciio.hspy import file_writer

    data = np.asarray(data)
    n_nav = data.ndim - signal_axes
    axes = [
        {"size": n, "index_in_array": i, "name": f"nav{i}", "scale": 2.0 + i, "offset": 10.0 * i, "units": nav_units,
         "navigate": True}
        for i, n in enumerate(data.shape[:n_nav])
    ]
    for i in range(n_nav, data.ndim):
        axes.append({"size": data.shape[i], "index_in_array": i, "name": "Energy loss", "scale": scale,
                     "offset": offset, "units": units, "navigate": False})
    target = path if path.suffix == ".hspy" else path.with_name(path.name + ".tmp.hspy")
    file_writer(str(target), {
        "data": data, "axes": axes, "metadata": {"General": {"title": path.stem}, "Signal": {"signal_type": signal_type}},
        "original_metadata": {}, "tmp_parameters": {}, "attributes": {"_lazy": False},
        "package_info": {"name": "eels_core-tests", "version": "0"}, "learning_results": {}, "models": {},
    })
    if target != path:
        target.rename(path)
    return path


def write_text(path: Path, rows: list[str], encoding="utf-8", newline="\n", bom: bytes = b"") -> Path:
    path.write_bytes(bom + (newline.join(rows) + newline).encode(encoding))
    return path


def _bytes(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


def two_columns(delimiter=" ", decimal=".") -> list[str]:
    return [f"{e}{delimiter}{c:.3f}".replace(".", decimal) if decimal != "." else f"{e}{delimiter}{c:.3f}"
            for e, c in zip(ENERGY, COUNTS)]


def rsciio_signal(data, energy_index=-1, offset=400.0, scale=0.5):
    data = np.asarray(data, dtype=np.float32)
    energy_index %= data.ndim
    axes = []
    for i, n in enumerate(data.shape):
        if i == energy_index:
            axes.append({"size": n, "index_in_array": i, "name": "Energy loss", "scale": scale, "offset": offset,
                         "units": "eV", "navigate": False})
        else:
            axes.append({"size": n, "index_in_array": i, "name": f"nav{i}", "scale": 1.5, "offset": 0.0, "units": "nm",
                         "navigate": True})
    return {"data": data, "axes": axes, "metadata": {"General": {"title": "t"}, "Signal": {"signal_type": "EELS"}},
            "original_metadata": {}}


def assert_reads_as(spectrum, energy=ENERGY, counts=COUNTS, rtol=1e-6):
    np.testing.assert_allclose(spectrum.energy_ev, energy, rtol=1e-9, atol=1e-6)
    np.testing.assert_allclose(spectrum.counts, counts, rtol=rtol)


# ---------------------------------------------------------------------------------------------
# files rosettasciio reads as EELS read here, whatever their extension
# ---------------------------------------------------------------------------------------------


def _image():
    return np.arange(3 * 4 * 40, dtype=np.float32).reshape(3, 4, 40) + 1.0


GOOD_FILES = {
    # EMSA under other names
    "emsa-saved-as-txt": lambda t: (write_emsa(t / "s.txt"), {}),
    "emsa-saved-as-csv": lambda t: (write_emsa(t / "s.csv"), {}),
    "emsa-without-extension": lambda t: (write_emsa(t / "spectrum"), {}),
    "emsa-ems-extension": lambda t: (write_emsa(t / "s.ems"), {}),
    "emsa-with-utf8-bom": lambda t: (write_text(t / "s.msa", emsa_lines(), bom=codecs.BOM_UTF8), {}),
    "emsa-crlf-line-ends": lambda t: (write_text(t / "s.msa", emsa_lines(), newline="\r\n"), {}),
    "emsa-utf16": lambda t: (write_text(t / "s.msa", emsa_lines(), encoding="utf-16"), {}),
    "emsa-no-space-after-colon": lambda t: (
        write_emsa(t / "s.msa", [ln.replace(" : ", ":").replace("    ", "") for ln in emsa_lines()]), {}),
    "emsa-lowercase-keywords": lambda t: (
        write_emsa(t / "s.msa", [ln.split(":")[0].lower() + ":" + ln.split(":", 1)[1] if ln.startswith("#") else ln
                                 for ln in emsa_lines()]), {}),
    "emsa-indented-header": lambda t: (write_emsa(t / "s.msa", ["  " + ln for ln in emsa_lines()]), {}),
    "emsa-blank-lines-in-data": lambda t: (
        write_emsa(t / "s.msa", sum(([ln, ""] for ln in emsa_lines()), [])), {}),
    "emsa-five-values-per-row": lambda t: (write_emsa(t / "s.msa", ncolumns=5), {}),
    "emsa-xy-consistent-x-column": lambda t: (write_emsa(t / "s.msa", datatype="XY"), {}),
    "emsa-xy-rounded-x-column": lambda t: (write_emsa(t / "s.msa", datatype="XY", x=np.round(ENERGY + 0.1, 1)), {}),
    "emsa-xy-x-column-only": lambda t: (write_emsa(t / "s.msa", datatype="XY", drop=("OFFSET", "XPERCHAN")),
                                         {"energy_axis_source": "X column"}),
    "emsa-kev-axis": lambda t: (write_emsa(t / "s.msa", offset=0.4, scale=0.0005, xunits="keV"), {}),
    "emsa-values-with-units-and-spaced-exponent": lambda t: (
        write_emsa(t / "s.msa", [ln.replace("0.5", "5.0 E-01 eV") if ln.startswith("#XPERCHAN") else ln
                                 for ln in emsa_lines()]), {}),
    "emsa-no-signal-type": lambda t: (write_emsa(t / "s.msa", drop=("SIGNALTYPE",)), {}),
    # HyperSpy HDF5 under other names
    "hspy": lambda t: (write_hspy(t / "s.hspy", COUNTS.astype(np.float32), offset=400.0), {}),
    "hspy-named-hdf5": lambda t: (write_hspy(t / "s.hdf5", COUNTS.astype(np.float32), offset=400.0), {}),
    "hspy-named-h5": lambda t: (write_hspy(t / "s.h5", COUNTS.astype(np.float32), offset=400.0), {}),
    "hspy-named-dat": lambda t: (write_hspy(t / "s.dat", COUNTS.astype(np.float32), offset=400.0), {}),
    "hspy-integer-counts": lambda t: (write_hspy(t / "i.hspy", np.round(COUNTS).astype(np.int32), offset=400.0),
                                      {"counts": np.round(COUNTS)}),
    "hspy-kev-axis": lambda t: (write_hspy(t / "k.hspy", COUNTS.astype(np.float32), offset=0.4, scale=0.0005,
                                           units="keV"), {}),
    "hspy-decreasing-axis": lambda t: (write_hspy(t / "d.hspy", COUNTS[::-1].astype(np.float32), offset=419.5,
                                                  scale=-0.5), {}),
    # other rosettasciio formats
    "ripple-rpl": lambda t: (_ripple(t), {}),
    "emd-ncem": lambda t: (_emd(t), {}),
    # text
    "text-comments-before-header": lambda t: (write_text(t / "s.txt", ["# exported", "# by a tool",
                                                                        "energy counts", *two_columns()]), {}),
    "text-utf8-bom": lambda t: (write_text(t / "s.txt", two_columns(), bom=codecs.BOM_UTF8), {}),
    "text-utf8-bom-and-header": lambda t: (write_text(t / "s.csv", ["eV,counts", *two_columns(",")],
                                                      bom=codecs.BOM_UTF8), {}),
    "text-utf16": lambda t: (write_text(t / "s.txt", two_columns("\t"), encoding="utf-16"), {}),
    "text-semicolon": lambda t: (write_text(t / "s.csv", two_columns(";")), {}),
    "text-tab": lambda t: (write_text(t / "s.tsv", two_columns("\t")), {}),
    "text-decimal-comma-semicolon": lambda t: (write_text(t / "s.csv", two_columns(";", ",")), {}),
    "text-decimal-comma-blank": lambda t: (write_text(t / "s.txt", two_columns("  ", ",")), {}),
    "text-trailing-delimiter": lambda t: (write_text(t / "s.csv", [r + "," for r in two_columns(",")]), {}),
    "text-crlf-and-blank-lines": lambda t: (write_text(t / "s.dat", sum(([r, ""] for r in two_columns()), []),
                                                       newline="\r\n"), {}),
    "text-kev-header": lambda t: (write_text(t / "s.txt", ["Energy (keV)\tCounts",
                                                           *(f"{e / 1000:.4f}\t{c}" for e, c in zip(ENERGY, COUNTS))]),
                                  {"energy_units_from_header": "keV"}),
    "text-inline-comments": lambda t: (write_text(t / "s.txt", [r + "  # note" for r in two_columns()]), {}),
    "text-percent-comments": lambda t: (write_text(t / "s.txt", ["% MATLAB export", *two_columns()]), {}),
    "text-in-msa-without-header": lambda t: (write_text(t / "s.msa", two_columns()), {"warns": "no EMSA header"}),
}


def _ripple(tmp: Path) -> Path:
    from rsciio.ripple import file_writer

    file_writer(str(tmp / "s.rpl"), rsciio_signal(COUNTS[None, :].repeat(3, axis=0)))
    return tmp / "s.rpl"


def _emd(tmp: Path) -> Path:
    from rsciio.emd import file_writer

    file_writer(str(tmp / "s.emd"), rsciio_signal(COUNTS[None, :].repeat(3, axis=0)))
    return tmp / "s.emd"


@pytest.mark.parametrize("case", list(GOOD_FILES), ids=list(GOOD_FILES))
def test_files_rosettasciio_reads_read_here(case: str, tmp_path: Path) -> None:
    path, expect = GOOD_FILES[case](tmp_path)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        spectrum = read_spectrum(path)
    read_warnings = [str(w.message) for w in caught if issubclass(w.category, SpectrumReadWarning)]
    if "warns" in expect:
        assert any(expect["warns"] in m for m in read_warnings), read_warnings
        assert spectrum.metadata["warnings"] == read_warnings
    else:
        assert read_warnings == []
    counts = expect.get("counts", COUNTS)
    rows = spectrum.counts.reshape(-1, spectrum.n_channels)
    for row in rows:  # line scans repeat the spectrum
        np.testing.assert_allclose(row, counts, rtol=1e-4 if case.startswith("text") else 1e-6)
    np.testing.assert_allclose(spectrum.energy_ev, ENERGY, rtol=0, atol=0.11 if "rounded" in case else 1e-6)
    for key in ("energy_axis_source", "energy_units_from_header"):
        if key in expect:
            assert spectrum.metadata[key] == expect[key]


def test_dm3_renamed_reads_by_its_content(tmp_path: Path) -> None:
    renamed = tmp_path / "scan.dat"
    shutil.copyfile(DM3_LINE_SCAN, renamed)
    original, spectrum = read_spectrum(DM3_LINE_SCAN), read_spectrum(renamed)
    assert spectrum.metadata["format"] == "digitalmicrograph" and spectrum.navigation_shape == (100,)
    np.testing.assert_array_equal(spectrum.counts, original.counts)
    np.testing.assert_array_equal(spectrum.energy_ev, original.energy_ev)


def test_dm4_spectrum_image_with_energy_first_in_the_array() -> None:
    spectrum = read_spectrum(DM4_IMAGE)
    assert spectrum.counts.shape == (2, 2, 2048)
    assert spectrum.energy_ev[0] == pytest.approx(300.0) and spectrum.dispersion_ev == pytest.approx(1.0)
    assert [a["units"] for a in spectrum.metadata["navigation_axes"]] == ["µm", "µm"]


def test_hspy_spectrum_image_keeps_navigation_calibration(tmp_path: Path) -> None:
    image = _image()
    spectrum = read_spectrum(write_hspy(tmp_path / "si.hspy", image, offset=400.0))
    np.testing.assert_array_equal(spectrum.counts, image)
    nav = spectrum.metadata["navigation_axes"]
    assert [(a["name"], a["units"], a["scale"], a["offset"], a["size"]) for a in nav] == [
        ("nav0", "nm", 2.0, 0.0, 3), ("nav1", "nm", 3.0, 10.0, 4)]


def test_hspy_non_uniform_energy_axis(tmp_path: Path) -> None:
    from rsciio.hspy import file_writer

    energy = 400.0 + np.cumsum(np.linspace(0.4, 0.6, 40))
    file_writer(str(tmp_path / "nu.hspy"), {
        "data": COUNTS.astype(np.float32), "axes": [{"axis": energy, "name": "E", "units": "eV", "navigate": False}],
        "metadata": {"General": {"title": "nu"}, "Signal": {"signal_type": "EELS"}}, "original_metadata": {},
        "tmp_parameters": {}, "attributes": {"_lazy": False}, "package_info": {"name": "t", "version": "0"},
        "learning_results": {}, "models": {},
    })
    assert_reads_as(read_spectrum(tmp_path / "nu.hspy"), energy, COUNTS)


def test_zspy_store_reads_or_names_the_missing_package(tmp_path: Path) -> None:
    """A .zspy folder (HyperSpy's zarr format): read with zarr when it is installed, else one clear line."""
    store = tmp_path / "s.zspy"
    try:
        import zarr  # noqa: F401
    except ImportError:
        store.mkdir()
        (store / ".zgroup").write_text('{"zarr_format": 2}')
        with pytest.raises(ValueError, match=r"needs the Python package .zarr.*pip install zarr, or save the signal as .hspy"):
            read_spectrum(store)
        return
    from rsciio.zspy import file_writer

    signal = rsciio_signal(COUNTS)
    signal.update(tmp_parameters={}, attributes={"_lazy": False}, learning_results={}, models={},
                  package_info={"name": "t", "version": "0"})
    file_writer(str(store), signal)
    assert_reads_as(read_spectrum(store))


# ---------------------------------------------------------------------------------------------
# EMSA files that are read, with a stated warning
# ---------------------------------------------------------------------------------------------


def _commented_last_row(tmp: Path) -> Path:
    lines = emsa_lines()
    lines[-2] = "#" + lines[-2]  # the last data row commented out; NPOINTS still counts it
    return write_emsa(tmp / "s.msa", lines)


def _missing_last_row(tmp: Path) -> Path:
    lines = emsa_lines()
    del lines[-2]
    return write_emsa(tmp / "s.msa", lines)


def _short_by_three_of_five(tmp: Path) -> Path:
    return write_emsa(tmp / "s.msa", counts=COUNTS[:37], npoints=40, ncolumns=5)


def _more_points_than_declared(tmp: Path) -> Path:
    return write_emsa(tmp / "s.msa", npoints=38)


WARNED_EMSA = {
    "emsa-last-row-commented-out": (_commented_last_row, 39, "last data row is missing or commented out"),
    "emsa-last-row-missing": (_missing_last_row, 39, "last data row is missing or commented out"),
    "emsa-last-row-short-ncolumns-5": (_short_by_three_of_five, 37, "the last 3 channels absent"),
    "emsa-more-points-than-npoints": (_more_points_than_declared, 40, "correct #NPOINTS"),
}


@pytest.mark.parametrize("case", list(WARNED_EMSA), ids=list(WARNED_EMSA))
def test_emsa_with_a_short_or_long_data_block_reads_with_a_warning(case: str, tmp_path: Path) -> None:
    make, n_read, message = WARNED_EMSA[case]
    path = make(tmp_path)
    with pytest.warns(SpectrumReadWarning, match=message) as caught:
        spectrum = read_spectrum(path)
    assert len(caught) == 1 and str(path) in str(caught[0].message)
    assert spectrum.n_channels == n_read
    assert_reads_as(spectrum, ENERGY[:n_read], COUNTS[:n_read])
    assert spectrum.metadata["warnings"] == [str(caught[0].message)]


# ---------------------------------------------------------------------------------------------
# bad, damaged or untrustworthy files: one clear error each
# ---------------------------------------------------------------------------------------------


def _hdf5_without_hyperspy(tmp: Path) -> Path:
    with h5py.File(tmp / "other.hdf5", "w") as handle:
        handle["data"] = np.ones(10)
    return tmp / "other.hdf5"


def _truncated_hdf5(tmp: Path) -> Path:
    path = write_hspy(tmp / "cut.hdf5", np.ones((4, 200), np.float32))
    path.write_bytes(path.read_bytes()[:3000])
    return path


def _npy(tmp: Path) -> Path:
    np.save(tmp / "s.npy", COUNTS)
    return tmp / "s.npy"


def _fifo(tmp: Path) -> Path:
    os.mkfifo(tmp / "pipe.msa")
    return tmp / "pipe.msa"


BAD_FILES = {
    # the file system
    "missing-file": (lambda t: t / "nope.msa", FileNotFoundError, "not found"),
    "directory": (lambda t: (t / "folder.msa").mkdir() or t / "folder.msa", IsADirectoryError, "is a folder"),
    "fifo": (_fifo, ValueError, "not a regular file"),
    "empty-file": (lambda t: _bytes(t / "e.msa", b""), ValueError, "empty"),
    "empty-txt": (lambda t: _bytes(t / "e.txt", b""), ValueError, "empty"),
    "blank-lines-only": (lambda t: write_text(t / "b.txt", ["", "   ", ""]), ValueError, "holds no data rows"),
    "comments-only": (lambda t: write_text(t / "c.txt", ["# a", "# b"]), ValueError, "holds no data rows"),
    # not a spectrum at all
    "binary-garbage-txt": (lambda t: _bytes(t / "g.txt", bytes(range(256)) * 4), ValueError,
                           "Could not read .* as a text file: it holds binary data"),
    "binary-garbage-msa": (lambda t: _bytes(t / "g.msa", b"\x00\x07" * 100), ValueError,
                           "as an EMSA \\(text\\) file: it holds binary data"),
    "binary-garbage-no-extension": (lambda t: _bytes(t / "blob", b"\x01\x02\x00\x99" * 50),
                                    ValueError, "Unsupported file extension '' .*binary data"),
    "binary-garbage-dm3": (lambda t: _bytes(t / "g.dm3", b"\x00\x01not a gatan file" * 10),
                           ValueError, "Could not read .* as a DigitalMicrograph file"),
    "text-named-dm4": (lambda t: write_text(t / "s.dm4", two_columns()), ValueError,
                       "does not start with a DM3/DM4 header \\(it holds text\\)"),
    "text-named-hspy": (lambda t: write_text(t / "s.hspy", two_columns()), ValueError, "has no HDF5 signature"),
    "gzip-compressed": (lambda t: _bytes(t / "s.msa.gz", gzip.compress("\n".join(emsa_lines()).encode())),
                        ValueError, "gzip-compressed.*decompress it first"),
    "zip-archive": (lambda t: _zip(t), ValueError, "ZIP archive.*unpack it first"),
    "png-image": (lambda t: _bytes(t / "s.png", b"\x89PNG\r\n\x1a\n" + b"\x00" * 64),
                  ValueError, "PNG image"),
    "pdf": (lambda t: _bytes(t / "s.txt", b"%PDF-1.7\n" + b"\x00" * 64), ValueError,
            "PDF document"),
    "text-then-binary": (lambda t: _bytes(t / "s.txt", "".join(f"{400 + 0.01 * i:.2f} {i}\n" for i in range(8000)).encode()
                                          + b"\x00\x17" * 100), ValueError, "binary data follow its first 65536 bytes"),
    "unknown-extension-text": (lambda t: write_text(t / "s.xyz", two_columns()), ValueError,
                               "Unsupported file extension '.xyz'.*text but not EMSA"),
    # damaged containers
    "truncated-hdf5": (_truncated_hdf5, ValueError, "Could not read .* as an HDF5 file.*truncated or corrupt"),
    "hdf5-not-hyperspy": (_hdf5_without_hyperspy, ValueError,
                          "HDF5 file without HyperSpy's file_format mark; rosettasciio's .* readers found no spectrum"),
    "truncated-dm3": (lambda t: _bytes(t / "cut.dm3", DM3_LINE_SCAN.read_bytes()[:200_000]),
                      ValueError, "Could not read .* as a digitalmicrograph file"),
    # EMSA headers that cannot be trusted or parsed
    "emsa-no-offset-no-xperchan": (lambda t: write_emsa(t / "s.msa", drop=("OFFSET", "XPERCHAN")), ValueError,
                                   "no energy calibration: its EMSA header lacks #OFFSET and #XPERCHAN.*add '#OFFSET"),
    "emsa-no-xperchan": (lambda t: write_emsa(t / "s.msa", drop=("XPERCHAN",)), ValueError,
                         "lacks #XPERCHAN \\(read without it"),
    "emsa-no-offset": (lambda t: write_emsa(t / "s.msa", drop=("OFFSET",)), ValueError, "lacks #OFFSET \\("),
    "emsa-no-xunits": (lambda t: write_emsa(t / "s.msa", drop=("XUNITS",)), ValueError,
                       "lacks #XUNITS; add '#XUNITS : eV'"),
    "emsa-xunits-nm": (lambda t: write_emsa(t / "s.msa", xunits="nm"), ValueError, "no energy axis.*'nm'"),
    "emsa-xperchan-not-a-number": (lambda t: write_emsa(t / "s.msa", scale="half"), ValueError,
                                   "#XPERCHAN has the value 'half', which is not a number"),
    "emsa-xperchan-zero": (lambda t: write_emsa(t / "s.msa", scale=0.0), ValueError, "not strictly increasing"),
    "emsa-xy-x-column-contradicts-header": (lambda t: write_emsa(t / "s.msa", datatype="XY", offset=300.0),
                                            ValueError, "X column of this XY EMSA file contradicts its header"),
    "emsa-xy-x-column-other-step": (lambda t: write_emsa(t / "s.msa", datatype="XY", scale=0.25), ValueError,
                                    "contradicts its header: channel 39"),
    "emsa-no-datatype": (lambda t: write_emsa(t / "s.msa", drop=("DATATYPE",)), ValueError,
                         "#DATATYPE is 'missing'.*add '#DATATYPE : Y'"),
    "emsa-no-spectrum-line": (lambda t: write_emsa(t / "s.msa", [ln for ln in emsa_lines() if "#SPECTRUM" not in ln]),
                              ValueError, "no '#SPECTRUM' line"),
    "emsa-text-in-data": (lambda t: write_emsa(t / "s.msa", emsa_lines()[:20] + ["n/a,"] + emsa_lines()[20:]),
                          ValueError, "as an EMSA file \\(ValueError"),
    "emsa-truncated": (lambda t: write_emsa(t / "s.msa", emsa_lines()[:30]), ValueError,
                       "truncated or corrupt: its header declares 40 points"),
    "emsa-no-data": (lambda t: write_emsa(t / "s.msa", emsa_lines()[:12]), ValueError, "holds no data points"),
    "emsa-eds-spectrum": (lambda t: write_emsa(t / "s.msa", signaltype="EDS"), ValueError,
                          "holds a EDS_SEM spectrum .*not EELS.*'#SIGNALTYPE : ELS'"),
    # text that is not two trustworthy columns
    "text-one-column": (lambda t: write_text(t / "s.txt", [f"{c}" for c in COUNTS]), ValueError,
                        "one column \\(counts only, no energy axis\\)"),
    "text-three-columns": (lambda t: write_text(t / "s.txt", [f"{e} {c} 1" for e, c in zip(ENERGY, COUNTS)]),
                           ValueError, "has 3 columns; a text spectrum needs exactly two"),
    "text-decimal-comma-and-comma-delimiter": (lambda t: write_text(t / "s.csv", two_columns(",", ",")), ValueError,
                                               "4 columns.*separate the columns with ';' or a tab"),
    "text-ragged-row": (lambda t: write_text(t / "s.txt", two_columns()[:10] + ["410.0"] + two_columns()[10:]),
                        ValueError, "line 11 has 1 columns but line 1 has 2"),
    "text-footer": (lambda t: write_text(t / "s.txt", two_columns() + ["end of data"]), ValueError,
                    "line 41 \\('end of data'\\) is not 2 numbers separated by blanks"),
    "text-words-only": (lambda t: write_text(t / "s.txt", ["no numbers here"]), ValueError, "no line holds numbers"),
    "text-many-header-lines": (lambda t: write_text(t / "s.txt", [f"header {i}" for i in range(8)] + two_columns()),
                               ValueError, "line 6 .* are not numbers; keep at most one header line"),
    "text-nan": (lambda t: write_text(t / "s.txt", ["400 1", "401 nan", "402 3"]), ValueError, "1 NaN or infinite"),
    "text-inf": (lambda t: write_text(t / "s.txt", ["400 1", "401 inf", "402 3"]), ValueError, "NaN or infinite"),
    "text-non-monotonic": (lambda t: write_text(t / "s.txt", ["400 1", "402 1", "401 1", "403 1"]), ValueError,
                           "not strictly increasing"),
    "text-duplicate-energies": (lambda t: write_text(t / "s.txt", ["400 1", "401 1", "401 1", "402 1"]), ValueError,
                                "not strictly increasing"),
    "text-single-row": (lambda t: write_text(t / "s.txt", ["400 1"]), ValueError, "at least 2 channels"),
    # rosettasciio files without a usable energy axis
    "hspy-uncalibrated-axis": (lambda t: write_hspy(t / "u.hspy", COUNTS, offset=0.0, scale=1.0, units="<undefined>"),
                               ValueError, "uncalibrated \\(scale 1, offset 0, no units"),
    "hspy-axis-without-units": (lambda t: write_hspy(t / "u.hspy", COUNTS, offset=400.0, scale=0.5, units=""),
                                ValueError, "units are 'undefined', not eV or keV \\(scale 0.5, offset 400"),
    "hspy-axis-in-nm": (lambda t: write_hspy(t / "u.hspy", COUNTS, units="nm"), ValueError, "'nm', not eV"),
    "hspy-image-not-spectrum": (lambda t: write_hspy(t / "i.hspy", np.ones((8, 8)), units="nm", signal_axes=2),
                                ValueError, "holds no spectrum \\(signals with \\[2\\] signal axes"),
    "hspy-eds-signal": (lambda t: write_hspy(t / "x.hspy", COUNTS, signal_type="EDS_TEM"), ValueError,
                        "holds a EDS_TEM spectrum .*not EELS"),
    "hspy-complex-data": (lambda t: write_hspy(t / "c.hspy", COUNTS * (1 + 1j)), ValueError, "complex"),
    "hspy-nan-counts": (lambda t: write_hspy(t / "n.hspy", np.r_[COUNTS[:-1], np.nan]), ValueError,
                        "1 NaN or infinite"),
    "npy-no-calibration": (_npy, ValueError, "uncalibrated"),
}


def _zip(tmp: Path) -> Path:
    with zipfile.ZipFile(tmp / "s.msa.zip", "w") as archive:
        archive.writestr("s.msa", "\n".join(emsa_lines()))
    return tmp / "s.msa.zip"


@pytest.mark.parametrize("case", list(BAD_FILES), ids=list(BAD_FILES))
def test_bad_files_fail_with_one_clear_message(case: str, tmp_path: Path) -> None:
    make, error, message = BAD_FILES[case]
    if case == "fifo" and not hasattr(os, "mkfifo"):
        pytest.skip("no named pipes on this platform")
    path = make(tmp_path)
    with pytest.raises(error, match=message) as raised:
        read_spectrum(path)
    text = str(raised.value)
    assert "\n" not in text.strip()
    assert str(path) in text or path.name in text, text


def test_permission_denied_is_named(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = write_emsa(tmp_path / "locked.msa")
    if os.name == "posix" and os.geteuid() != 0:
        path.chmod(0)
    else:  # root (and Windows) read anything: make opening fail the way the OS would
        def refuse(file_path):
            raise PermissionError(13, "Permission denied", str(file_path))

        monkeypatch.setattr(io_module, "_open_binary", refuse)
    try:
        with pytest.raises(PermissionError, match=r"Cannot read '.*locked.msa': permission denied; make the file"):
            read_spectrum(path)
    finally:
        path.chmod(0o644)


def test_input_kinds_are_at_least_35() -> None:
    """The bad or unusual inputs tested in this file (every id is a distinct kind)."""
    kinds = set(GOOD_FILES) | set(WARNED_EMSA) | set(BAD_FILES)
    assert len(kinds) == len(GOOD_FILES) + len(WARNED_EMSA) + len(BAD_FILES)
    assert len(kinds) >= 35


@pytest.mark.parametrize("case", list(BAD_FILES), ids=list(BAD_FILES))
def test_bad_files_through_the_command_are_one_line_and_exit_2(case: str, tmp_path: Path, capsys) -> None:
    """The same files given to ``eels-edges predict``: one line on stderr, exit status 2, no traceback."""
    from eels_core.real.cli import main

    make, _, message = BAD_FILES[case]
    if case == "fifo" and not hasattr(os, "mkfifo"):
        pytest.skip("no named pipes on this platform")
    rc = main(["predict", str(make(tmp_path))])
    out, err = capsys.readouterr()
    assert rc == 2 and out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("eels-edges: error: "), err
    assert re.search(message, lines[0]), lines[0]


def test_the_cli_reports_the_readers_warning_in_json_and_text(tmp_path: Path, capsys) -> None:
    """An EMSA file one row short is read with a warning that eels-edges passes on to the user."""
    import json

    from eels_core.real.cli import main

    energy = 400.0 + 0.5 * np.arange(200)
    lines = emsa_lines(counts=1e5 * (energy / 400.0) ** -3.0)
    lines[-2] = "#" + lines[-2]  # the last data row commented out; NPOINTS still counts it
    path = write_emsa(tmp_path / "s.msa", lines)
    assert main(["predict", str(path), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert len(report["reading_warnings"]) == 1 and "NPOINTS" in report["reading_warnings"][0]
    assert main(["predict", str(path)]) == 0
    assert "note: " in capsys.readouterr().out
