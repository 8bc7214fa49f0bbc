"""Lazy reading (eels_core.real.io): big spectrum images stay on disk as dask arrays in their stored
dtype, are summed and iterated chunk by chunk, and lazy HyperSpy signals are taken without being
computed, their navigation calibration kept."""

from __future__ import annotations

import tracemalloc
from pathlib import Path

import dask
import dask.array as da
import numpy as np
import pytest
from dask.callbacks import Callback

from eels_core.real.io import Spectrum, as_spectrum, read_spectrum, spectrum_from_signal
from eels_core.real.real_spectra import SHIPPED_REAL_SPECTRA_DIR

DM3_LINE_SCAN = SHIPPED_REAL_SPECTRA_DIR / "files" / "joverbee_eelsmodel__T3_C3_region1_SI_HL_cal.dm3"
MSA = SHIPPED_REAL_SPECTRA_DIR / "files" / "hyperspy_exspy__coreloss_spectrum.msa"


def write_hspy(path: Path, data: np.ndarray, offset: float = 400.0, scale: float = 0.5) -> Path:
    from rsciio.hspy import file_writer

    axes = [{"size": n, "index_in_array": i, "name": "yx"[i], "scale": 2.5, "offset": -1.0 * i, "units": "nm",
             "navigate": True} for i, n in enumerate(data.shape[:-1])]
    axes.append({"size": data.shape[-1], "index_in_array": data.ndim - 1, "name": "Energy loss", "scale": scale,
                 "offset": offset, "units": "eV", "navigate": False})
    file_writer(str(path), {
        "data": data, "axes": axes, "metadata": {"General": {"title": "si"}, "Signal": {"signal_type": "EELS"}},
        "original_metadata": {}, "tmp_parameters": {}, "attributes": {"_lazy": False},
        "package_info": {"name": "eels_core-tests", "version": "0"}, "learning_results": {}, "models": {},
    })
    return path


def image(shape=(6, 5, 64), dtype=np.float32) -> np.ndarray:
    rng = np.random.default_rng(3)
    return rng.uniform(1.0, 1000.0, size=shape).astype(dtype)


class CountComputes(Callback):
    """Counts dask computations started while it is active."""

    def __init__(self) -> None:
        super().__init__()
        self.n = 0

    def _start(self, dsk) -> None:  # noqa: D401 - dask hook
        self.n += 1


# ---------------------------------------------------------------------------------------------
# files
# ---------------------------------------------------------------------------------------------


def test_lazy_hspy_keeps_dtype_shape_and_calibration(tmp_path: Path) -> None:
    data = image()
    path = write_hspy(tmp_path / "si.hspy", data)
    eager, lazy = read_spectrum(path), read_spectrum(path, lazy=True)

    assert lazy.lazy and not eager.lazy
    assert isinstance(lazy.counts, da.Array) and lazy.counts.dtype == np.float32
    assert lazy.navigation_shape == eager.navigation_shape == (6, 5) and lazy.n_spectra == 30
    np.testing.assert_array_equal(lazy.energy_ev, eager.energy_ev)
    np.testing.assert_array_equal(np.asarray(lazy.counts.compute()), eager.counts.astype(np.float32))
    assert lazy.metadata["navigation_axes"] == eager.metadata["navigation_axes"] == [
        {"name": "y", "units": "nm", "offset": 0.0, "scale": 2.5, "size": 6},
        {"name": "x", "units": "nm", "offset": -1.0, "scale": 2.5, "size": 5},
    ]


@pytest.mark.parametrize("path", [DM3_LINE_SCAN, MSA], ids=["dm3-line-scan", "msa-single"])
def test_lazy_reading_of_other_formats_matches_eager(path: Path) -> None:
    eager, lazy = read_spectrum(path), read_spectrum(path, lazy=True)
    assert lazy.lazy and lazy.counts.shape == eager.counts.shape
    np.testing.assert_allclose(np.asarray(lazy.counts.compute(), dtype=np.float64), eager.counts, rtol=1e-6)
    summed_lazy, summed = lazy.summed(), eager.summed()
    assert not summed_lazy.lazy
    np.testing.assert_allclose(summed_lazy.counts, summed.counts, rtol=1e-9)


def test_lazy_dm3_keeps_float32() -> None:
    assert read_spectrum(DM3_LINE_SCAN, lazy=True).counts.dtype == np.float32


def test_lazy_summed_equals_eager_summed(tmp_path: Path) -> None:
    data = image()
    path = write_hspy(tmp_path / "si.hspy", data)
    summed = read_spectrum(path, lazy=True).summed()
    np.testing.assert_allclose(summed.counts, data.astype(np.float64).sum(axis=(0, 1)), rtol=1e-12)
    assert summed.metadata["summed_spectra"] == 30 and summed.counts.dtype == np.float64


def test_lazy_summed_memory_is_bounded_by_chunks() -> None:
    """800 MB of float32 counts (never materialised) summed with a peak far below one float64 copy."""
    counts = da.ones((200, 256, 4096), dtype=np.float32, chunks=(4, 256, 4096)) * np.float32(2)  # 16 MB chunks
    spectrum = Spectrum(np.linspace(300.0, 700.0, 4096), counts)
    with dask.config.set(scheduler="threads", num_workers=2):
        tracemalloc.start()
        try:
            summed = spectrum.summed()
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
    np.testing.assert_array_equal(summed.counts, np.full(4096, 2 * 200 * 256.0))
    assert peak < 200e6, f"peak {peak / 1e6:.0f} MB"  # a float64 copy would be 1.7 GB


def test_lazy_nan_is_found_by_summed_and_by_iter_rows() -> None:
    data = image((4, 3, 16))
    data[2, 1, 5] = np.nan
    spectrum = Spectrum(np.arange(16.0) + 400.0, da.from_array(data, chunks=(1, 3, 16)), path="nan.hspy")
    with pytest.raises(ValueError, match="NaN or infinite"):
        spectrum.summed()
    rows = spectrum.iter_rows(batch_size=4)
    assert next(rows)[0] == 0  # spectra 0-3 are fine
    with pytest.raises(ValueError, match=r"nan.hspy \(spectra 4-7\)' contain 1 NaN"):
        next(rows)


def test_lazy_counts_that_cannot_be_read_name_the_file() -> None:
    def unreadable(block):
        raise OSError("Can't read data (truncated file)")

    counts = da.ones((4, 3, 16), chunks=(1, 3, 16)).map_blocks(unreadable, dtype=np.float64)
    spectrum = Spectrum(np.arange(16.0) + 400.0, counts, path="gone.hspy")
    for use in (spectrum.summed, lambda: next(spectrum.iter_rows(2)), spectrum.compute):
        with pytest.raises(ValueError, match=r"Could not read the counts of 'gone.hspy' \(OSError: Can't read data"):
            use()


# ---------------------------------------------------------------------------------------------
# iter_rows
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("batch_size", [1, 4, 7, 30, 1000])
@pytest.mark.parametrize("shape", [(6, 5, 16), (9, 16), (2, 3, 2, 16), (16,)], ids=["image", "line", "4d", "single"])
def test_iter_rows_gives_every_spectrum_once_in_order(shape, batch_size) -> None:
    data = image(shape)
    energy = 400.0 + np.arange(16.0)
    flat = data.reshape(-1, 16).astype(np.float64)
    for spectrum in (Spectrum(energy, data), Spectrum(energy, da.from_array(data, chunks=(*([2] * (len(shape) - 1)), 16)))):
        starts, batches = zip(*spectrum.iter_rows(batch_size))
        assert all(b.dtype == np.float64 and b.flags.writeable and b.shape[1] == 16 for b in batches)
        assert all(b.shape[0] == batch_size for b in batches[:-1]) and 0 < batches[-1].shape[0] <= batch_size
        assert list(starts) == list(range(0, flat.shape[0], batch_size))
        np.testing.assert_array_equal(np.concatenate(batches), flat)


def test_iter_rows_of_a_file_read_lazily_matches_the_file(tmp_path: Path) -> None:
    data = image((7, 9, 32))
    spectrum = read_spectrum(write_hspy(tmp_path / "si.hspy", data), lazy=True)
    got = np.concatenate([rows for _, rows in spectrum.iter_rows(10)])
    np.testing.assert_array_equal(got, data.reshape(-1, 32).astype(np.float64))


def test_iter_rows_copies_are_independent() -> None:
    spectrum = Spectrum(np.arange(4.0), np.ones((3, 4)))
    _, rows = next(spectrum.iter_rows(2))
    rows[:] = -1.0
    assert np.all(spectrum.counts == 1.0)


def test_iter_rows_refuses_a_batch_size_below_one() -> None:
    with pytest.raises(ValueError, match="batch_size must be a positive"):
        next(Spectrum(np.arange(4.0), np.ones((3, 4))).iter_rows(0))


def test_iter_rows_of_a_big_lazy_image_reads_a_block_at_a_time() -> None:
    counts = da.ones((64, 512, 2048), dtype=np.float32, chunks=(1, 512, 2048))  # 268 MB float32, never in memory
    spectrum = Spectrum(np.linspace(300.0, 700.0, 2048), counts)
    tracemalloc.start()
    try:
        n = 0
        for start, rows in spectrum.iter_rows(256):
            assert start == n
            n += rows.shape[0]
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert n == 64 * 512
    assert peak < 60e6, f"peak {peak / 1e6:.0f} MB"  # about 3 x 256 rows of 2048 float64 (4 MB each)


# ---------------------------------------------------------------------------------------------
# lazy Spectrum objects
# ---------------------------------------------------------------------------------------------


def test_read_spectrum_lazy_of_a_small_text_file_is_wrapped(tmp_path: Path) -> None:
    path = tmp_path / "s.txt"
    path.write_text("\n".join(f"{400 + i} {10 + i}" for i in range(50)))
    spectrum = read_spectrum(path, lazy=True)
    assert spectrum.lazy and spectrum.counts.shape == (50,)
    np.testing.assert_array_equal(spectrum.summed().counts, 10.0 + np.arange(50))
    assert not spectrum.compute().lazy


def test_lazy_counts_with_wrong_shape_or_complex_dtype_are_refused() -> None:
    energy = np.arange(8.0)
    with pytest.raises(ValueError, match=r"have shape \(3, 9\) but the energy axis has 8 channels"):
        Spectrum(energy, da.ones((3, 9)))
    with pytest.raises(ValueError, match="dtype complex128; an EELS spectrum needs real numbers"):
        Spectrum(energy, da.ones((3, 8), dtype=complex))
    with pytest.raises(ValueError, match="are complex numbers"):
        Spectrum(energy, np.ones((3, 8), dtype=complex))


# ---------------------------------------------------------------------------------------------
# HyperSpy signals (the optional 'hyperspy' extra)
# ---------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def hs():
    return pytest.importorskip("hyperspy.api")


def _calibrated_signal(hs, data, cls=None):
    signal = (cls or hs.signals.Signal1D)(data)
    energy = signal.axes_manager.signal_axes[0]
    energy.offset, energy.scale, energy.units, energy.name = 500.0, 0.25, "eV", "Energy loss"
    for axis, name, offset in zip(signal.axes_manager.navigation_axes, ("x", "y"), (1.0, -2.0)):
        axis.name, axis.units, axis.scale, axis.offset = name, "nm", 0.8, offset
    signal.metadata.General.title = "calibrated"
    return signal


def test_lazy_hyperspy_signal_is_taken_without_computing(hs) -> None:
    data = image((6, 5, 40))
    signal = _calibrated_signal(hs, data).as_lazy()
    with CountComputes() as counter:
        spectrum = spectrum_from_signal(signal)
        assert counter.n == 0
        assert spectrum.lazy and spectrum.counts.dtype == np.float32 and spectrum.counts.shape == (6, 5, 40)
        # navigation axes in array order (rows first): y then x, with their calibration
        assert spectrum.metadata["navigation_axes"] == [
            {"name": "y", "units": "nm", "offset": -2.0, "scale": 0.8, "size": 6},
            {"name": "x", "units": "nm", "offset": 1.0, "scale": 0.8, "size": 5},
        ]
        summed = spectrum.summed()
        assert counter.n >= 1
    np.testing.assert_allclose(spectrum.energy_ev, 500.0 + 0.25 * np.arange(40))
    np.testing.assert_allclose(summed.counts, data.astype(np.float64).sum(axis=(0, 1)), rtol=1e-12)


def test_exspy_eels_spectrum_lazy_and_not(hs) -> None:
    exspy = pytest.importorskip("exspy")
    data = image((3, 40))
    signal = _calibrated_signal(hs, data, exspy.signals.EELSSpectrum)
    eager = read_spectrum(signal)
    lazy = read_spectrum(signal.as_lazy())
    assert not eager.lazy and lazy.lazy and eager.metadata["signal_type"] == "EELS"
    assert eager.metadata["signal_class"] == "EELSSpectrum"
    np.testing.assert_array_equal(np.asarray(lazy.counts.compute(), dtype=np.float64), eager.counts)
    assert as_spectrum(signal, lazy=True).lazy


def test_hyperspy_signal_in_kev_and_uncalibrated(hs) -> None:
    signal = hs.signals.Signal1D(np.ones(30))
    with pytest.raises(ValueError, match=r"uncalibrated \(scale 1, offset 0, no units"):
        spectrum_from_signal(signal)
    axis = signal.axes_manager.signal_axes[0]
    axis.units, axis.offset, axis.scale = "keV", 0.4, 0.001
    assert spectrum_from_signal(signal).energy_ev[0] == pytest.approx(400.0)


def test_hyperspy_eds_signal_is_refused(hs) -> None:
    exspy = pytest.importorskip("exspy")
    signal = exspy.signals.EDSTEMSpectrum(np.ones(30))
    axis = signal.axes_manager.signal_axes[0]
    axis.units, axis.offset, axis.scale = "keV", 0.1, 0.01
    with pytest.raises(ValueError, match="holds a EDS_TEM spectrum .* not EELS.*set_signal_type"):
        spectrum_from_signal(signal)


def test_hyperspy_loaded_lazily_from_a_file(hs, tmp_path: Path) -> None:
    data = image((4, 3, 40))
    path = write_hspy(tmp_path / "si.hspy", data)
    signal = hs.load(path, lazy=True)
    with CountComputes() as counter:
        spectrum = read_spectrum(signal)
    assert counter.n == 0 and spectrum.lazy and spectrum.counts.dtype == np.float32
    np.testing.assert_array_equal(np.concatenate([r for _, r in spectrum.iter_rows(5)]), data.reshape(-1, 40))


def test_lazy_summed_in_a_safe_scale_names_the_spectra_with_nan() -> None:
    data = image((4, 3, 16)).astype(np.float64) * 1e300
    data[2, 1, 5] = np.inf
    spectrum = Spectrum(np.arange(16.0) + 400.0, da.from_array(data, chunks=(1, 3, 16)), path="inf.hspy")
    for safe_scale in (False, True):
        with pytest.raises(ValueError, match=r"inf.hspy \(spectra 6-7\)' contain 1 NaN or infinite values"):
            spectrum.summed(safe_scale=safe_scale, batch_size=2)
    data[2, 1, 5] = 1e300
    summed = Spectrum(np.arange(16.0) + 400.0, da.from_array(data, chunks=(1, 3, 16))).summed(safe_scale=True)
    np.testing.assert_allclose(summed.counts * summed.metadata["summed_scale"], data.sum(axis=(0, 1)), rtol=1e-12)


class CountingStore:
    """An array-like on 'disk' that records every region read from it (as h5py would decompress it)."""

    def __init__(self, data: np.ndarray) -> None:
        self.data, self.shape, self.dtype, self.ndim = data, data.shape, data.dtype, data.ndim
        self.reads: list[tuple[slice, ...]] = []

    def __getitem__(self, key):
        key = key if isinstance(key, tuple) else (key,)
        self.reads.append(tuple(k if isinstance(k, slice) else slice(k, k + 1) for k in key))
        return self.data[key]

    def chunk_reads(self, chunks: tuple[tuple[int, ...], ...]) -> np.ndarray:
        """How often each stored chunk (navigation axes) was touched by a read."""
        edges = [np.concatenate([[0], np.cumsum(c)]) for c in chunks[:2]]
        touched = np.zeros([len(c) for c in chunks[:2]], dtype=int)
        for read in self.reads:
            spans = []
            for axis, e in enumerate(edges):
                start, stop, _ = read[axis].indices(self.shape[axis]) if axis < len(read) else (0, self.shape[axis], 1)
                spans.append([i for i in range(len(e) - 1) if start < e[i + 1] and e[i] < stop])
            for i in spans[0]:
                for j in spans[1]:
                    touched[i, j] += 1
        return touched


@pytest.mark.parametrize(
    "chunks, batch_size",
    [(((11,) * 4, (5, 5), (8,)), 256), (((11,) * 4, (5, 5), (8,)), 25), (((5, 11, 3, 11, 14), (4, 6), (8,)), 7),
     (((11,) * 4, (5, 5), (8,)), 1)],
    ids=["batch-25-rows", "batch-2.5-rows", "irregular-chunks", "batch-1"],
)
def test_iter_rows_reads_each_chunk_of_a_lazy_image_once(chunks, batch_size) -> None:
    data = image((44, 10, 8))
    store = CountingStore(data)
    spectrum = Spectrum(400.0 + np.arange(8.0), da.from_array(store, chunks=chunks, asarray=True))
    got = list(spectrum.iter_rows(batch_size))
    np.testing.assert_array_equal(np.concatenate([rows for _, rows in got]), data.reshape(-1, 8))
    assert [start for start, _ in got] == list(range(0, 440, batch_size))
    np.testing.assert_array_equal(store.chunk_reads(chunks), np.ones((len(chunks[0]), len(chunks[1])), dtype=int))


def test_iter_rows_splits_only_a_chunk_too_big_for_one_block(monkeypatch) -> None:
    from eels_core.real import io

    data = image((44, 10, 8))  # float32: 320 bytes per index of the first axis
    store = CountingStore(data)
    chunks = ((30, 14), (10,), (8,))
    monkeypatch.setattr(io, "_MAX_BLOCK_BYTES", 320 * 16)  # 16 rows at most per read
    spectrum = Spectrum(400.0 + np.arange(8.0), da.from_array(store, chunks=chunks, asarray=True))
    np.testing.assert_array_equal(np.concatenate([r for _, r in spectrum.iter_rows(1000)]), data.reshape(-1, 8))
    rows_read = sorted(r[0].indices(44)[:2] for r in store.reads if r[0].indices(44)[1] > r[0].indices(44)[0])
    assert rows_read == [(0, 16), (16, 30), (30, 44)]  # the 30-row chunk in two pieces, the 14-row one whole
