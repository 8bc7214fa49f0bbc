"""Reading measured EELS spectra into one form, :class:`Spectrum`.

The paper tests the network on "real spectra collected from experiments". Those come in the
formats of the field: EMSA/MAS (``.msa``), Gatan DigitalMicrograph (``.dm3``/``.dm4``), HyperSpy
(``.hspy``/``.hdf5``, ``.zspy``), the other formats rosettasciio reads (Ripple ``.rpl``, TIA
``.emi``/``.ser``, EMD, NeXus ...) and plain two-column text. Binary formats are read with
rosettasciio, EMSA with rosettasciio's EMSA parser after a check of its header, and text with the
small parser below.

**The content decides, not the extension.** A file is recognised by its first bytes: an HDF5
signature (HyperSpy, EMD, NeXus), a DigitalMicrograph header, an EMSA header (``#FORMAT : EMSA/MAS``
... ``#SPECTRUM``) or text. So an EMSA file saved as ``.txt`` reads as EMSA and a HyperSpy file
named ``.hdf5`` as HyperSpy. Text without an EMSA header is read as two columns (energy loss in eV,
then counts) when its extension says text (``.txt``, ``.csv``, ``.dat``, ``.tsv``) or EMSA.

**An axis that cannot be trusted is refused, never guessed.** An EMSA file without ``#OFFSET`` /
``#XPERCHAN`` (rosettasciio would assume 0 eV and 1 eV per channel), an XY EMSA file whose X column
contradicts its header, an energy axis without units, or an uncalibrated one (scale 1, offset 0,
no units: channel numbers) each raise a ``ValueError`` that names the problem and the fix. A file
that is readable but not quite as declared (an EMSA file whose last data row is missing or
commented out) is read with a :class:`SpectrumReadWarning`, whose text is also kept in
``Spectrum.metadata["warnings"]``.

**Big spectrum images can stay on disk.** ``read_spectrum(path, lazy=True)`` returns a
:class:`Spectrum` whose ``counts`` is a dask array in the file's own dtype (no float64 copy of
the whole image); :meth:`Spectrum.summed` and :meth:`Spectrum.iter_rows` then work chunk by chunk.

A HyperSpy ``Signal1D`` / ``EELSSpectrum`` already in memory, lazy or not, is accepted too
(:func:`spectrum_from_signal`), without HyperSpy being a dependency: anything with a ``data``
array and an ``axes_manager`` whose signal axis has ``offset``, ``scale``, ``size`` and
``units`` will do.

Whatever the source, a :class:`Spectrum` holds an increasing energy-loss axis in eV and the counts
with the energy channels on the last axis: a single spectrum is 1-D, a line scan 2-D and a
spectrum image 3-D (navigation axes first, in the file's / array's order, their calibration in
``metadata["navigation_axes"]``).
"""

from __future__ import annotations

import codecs
import contextlib
import importlib
import io
import logging
import math
import os
import re
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

import numpy as np
from numpy.typing import NDArray

from ..forward.axis import check_counts, check_energy_axis

__all__ = [
    "Spectrum",
    "SpectrumReadWarning",
    "read_spectrum",
    "as_spectrum",
    "spectrum_from_signal",
    "ENERGY_UNITS_TO_EV",
    "RSCIIO_FORMATS",
    "TEXT_FORMATS",
    "EMSA_EXTENSIONS",
    "SUPPORTED_EXTENSIONS",
]

#: Multiplier that takes an energy axis in the given units to eV.
ENERGY_UNITS_TO_EV: dict[str, float] = {"ev": 1.0, "kev": 1.0e3}

#: The usual extensions of EELS files read through rosettasciio, and the rosettasciio plugin of
#: each. Any other extension rosettasciio registers is tried with its plugins too.
RSCIIO_FORMATS: dict[str, str] = {
    ".msa": "msa",
    ".emsa": "msa",
    ".ems": "msa",
    ".mas": "msa",
    ".dm3": "digitalmicrograph",
    ".dm4": "digitalmicrograph",
    ".hspy": "hspy",
    ".hdf5": "hspy",
    ".zspy": "zspy",
}

#: Extensions of EMSA/MAS files.
EMSA_EXTENSIONS: tuple[str, ...] = (".msa", ".emsa", ".ems", ".mas")

#: File extensions read as two-column text (energy loss in eV, then counts).
TEXT_FORMATS: tuple[str, ...] = (".txt", ".csv", ".dat", ".tsv")

SUPPORTED_EXTENSIONS: tuple[str, ...] = tuple(RSCIIO_FORMATS) + TEXT_FORMATS

#: Signal types (HyperSpy names; EMSA ``#SIGNALTYPE`` after rosettasciio's mapping) that declare a
#: spectrum of another technique; such a signal is refused rather than named as EELS.
NON_EELS_SIGNAL_TYPES: tuple[str, ...] = ("EDS", "CL", "WDS", "XRF", "AES", "PES", "GAM")


class SpectrumReadWarning(UserWarning):
    """A file was read, but not exactly as its header declares (the message says what was done)."""


# --------------------------------------------------------------------------------------------
# Spectrum
# --------------------------------------------------------------------------------------------


def _is_lazy_array(values: Any) -> bool:
    """True for a dask array (checked without importing dask)."""
    return type(values).__module__.startswith("dask.") and hasattr(values, "chunks") and hasattr(values, "compute")


@dataclass(frozen=True, eq=False)
class Spectrum:
    """A measured EELS spectrum, line scan or spectrum image.

    Attributes
    ----------
    energy_ev : ndarray, shape (n_channels,)
        Energy-loss axis in eV, strictly increasing.
    counts : ndarray or dask array, shape (..., n_channels)
        Intensities; energy channels on the last axis, navigation axes (if any) before it.
    metadata : dict
        What the reader knew about the file (format, axes, rosettasciio metadata, warnings).
    path : str
        The file the spectrum was read from.

    Notes
    -----
    In memory (the default), both arrays are stored as read-only float64 copies, so a
    ``Spectrum`` cannot be changed after it is made; derive a new one instead
    (``dataclasses.replace``). Both are checked on creation (``forward.axis.check_energy_axis`` /
    ``check_counts``).

    Lazy (``counts`` a dask array, :attr:`lazy` True): the counts stay in their stored dtype
    (e.g. float32) and on disk. Only their shape is checked on creation; NaN / infinite values
    are found chunk by chunk when the counts are used: :meth:`iter_rows` checks every batch it
    yields with ``check_counts``, and :meth:`summed` adds those batches.
    """

    energy_ev: NDArray[np.float64]
    counts: Any
    metadata: dict[str, Any] = field(default_factory=dict)
    path: str = ""

    def __post_init__(self) -> None:
        energy = _read_only_float_array(self.energy_ev, "energy axis", self.path)
        check_energy_axis(energy, self.path, min_window_ev=None)
        if _is_lazy_array(self.counts):
            counts = _checked_lazy_counts(self.counts, energy.size, self.path)
        else:
            counts = _read_only_float_array(self.counts, "counts", self.path)
            check_counts(counts, energy.size, self.path)
        object.__setattr__(self, "energy_ev", energy)
        object.__setattr__(self, "counts", counts)

    @property
    def lazy(self) -> bool:
        """True when ``counts`` is a dask array (read with ``lazy=True``, or a lazy signal)."""
        return _is_lazy_array(self.counts)

    @property
    def n_channels(self) -> int:
        """Number of energy channels."""
        return int(self.energy_ev.size)

    @property
    def navigation_shape(self) -> tuple[int, ...]:
        """Shape of the navigation axes: ``()`` for a single spectrum."""
        return tuple(int(n) for n in self.counts.shape[:-1])

    @property
    def n_spectra(self) -> int:
        """Number of spectra (pixels) held: 1 for a single spectrum."""
        return int(np.prod(self.navigation_shape, dtype=np.int64))

    @property
    def dispersion_ev(self) -> float:
        """Median channel width in eV."""
        return float(np.median(np.diff(self.energy_ev))) if self.n_channels > 1 else float("nan")

    def summed(self, safe_scale: bool = False, batch_size: int = 256) -> "Spectrum":
        """Sum over the navigation axes (all pixels of a line scan or spectrum image).

        Parameters
        ----------
        safe_scale : bool
            False: the plain sum. True: the sum divided by the largest magnitude of any count,
            so that e.g. 262,144 spectra of 1e307 add up without overflow;
            ``metadata["summed_scale"]`` holds that divisor (1.0 when all counts are zero), and
            ``counts * metadata["summed_scale"]`` is the plain sum.
        batch_size : int
            Spectra added at a time (:meth:`iter_rows`); bounds the float64 working memory.

        Returns
        -------
        Spectrum
            A 1-D spectrum in memory on the same energy axis; ``metadata["summed_spectra"]``
            records how many spectra were added. An in-memory 1-D spectrum is returned unchanged
            when ``safe_scale`` is False.

        Raises
        ------
        ValueError
            NaN or infinite counts (from ``check_counts`` in :meth:`iter_rows`, naming the
            spectra), or a plain sum that overflows float64 (use ``safe_scale=True``).

        Notes
        -----
        In memory or lazy, the spectra are added one :meth:`iter_rows` batch at a time in float64,
        so a lazy image is read chunk by chunk and memory is bounded by about one block of chunks
        whatever the size of the image.
        """
        if self.counts.ndim == 1 and not self.lazy and not safe_scale:
            return self
        total = np.zeros(self.n_channels)
        scale = 0.0
        for _, rows in self.iter_rows(batch_size):  # float64 copies, checked by check_counts
            if not safe_scale:
                with np.errstate(over="ignore"):  # an overflow is reported below
                    total += rows.sum(axis=0)
                continue
            peak = float(np.max(np.abs(rows))) if rows.size else 0.0
            if peak > scale:
                total *= scale / peak if scale > 0 else 0.0
                scale = peak
            if scale > 0:
                rows /= scale
                total += rows.sum(axis=0)
        if not np.all(np.isfinite(total)):
            raise ValueError(
                f"The sum of the {self.n_spectra} spectra of '{self.path}' overflows float64 (counts near the "
                "largest float64); sum them with summed(safe_scale=True), which divides by the largest count."
            )
        metadata = {**self.metadata}
        if self.counts.ndim > 1:
            metadata["summed_spectra"] = self.n_spectra
        if safe_scale:
            metadata["summed_scale"] = scale if scale > 0 else 1.0
        return Spectrum(self.energy_ev, total, metadata, self.path)

    def iter_rows(self, batch_size: int = 256) -> Iterator[tuple[int, NDArray[np.float64]]]:
        """The spectra one batch at a time, in C order of the navigation axes.

        Parameters
        ----------
        batch_size : int
            Spectra per batch (the last batch may be shorter).

        Yields
        ------
        start : int
            Flat index of the first spectrum of the batch (``np.unravel_index(start,
            navigation_shape)`` gives its pixel).
        rows : ndarray, shape (b, n_channels), float64
            A writable copy of the batch. A single spectrum is one batch of one row.

        Raises
        ------
        ValueError
            ``batch_size`` < 1; for a lazy spectrum, a batch with NaN or infinite values (from
            ``check_counts``, naming the spectra of the batch).

        Notes
        -----
        A lazy spectrum is read in blocks of whole chunks of its first navigation axis (enough
        chunks for one batch, at most 128 MiB in the stored dtype; only a single chunk bigger than
        that is read in 128 MiB pieces), so each chunk of a file stored in small chunks (e.g.
        HyperSpy's 11 x 11 pixels) is read and decompressed once, not once per batch. A block is
        kept in its stored dtype and converted to float64 one batch at a time; memory is bounded
        by about one block plus two batches, whatever the size of the image.
        """
        if int(batch_size) < 1:
            raise ValueError(f"batch_size must be a positive number of spectra, got {batch_size}.")
        batch_size = int(batch_size)
        n = self.n_channels
        if not self.lazy:
            flat = self.counts.reshape(-1, n)
            for start in range(0, flat.shape[0], batch_size):
                yield start, np.array(flat[start : start + batch_size], dtype=np.float64)
            return
        yield from _iter_lazy_rows(self.counts, batch_size, n, self.path)

    def compute(self) -> "Spectrum":
        """An in-memory (float64) copy of a lazy spectrum; an in-memory one is returned as is."""
        if not self.lazy:
            return self
        return Spectrum(self.energy_ev, _compute(self.counts, self.path), dict(self.metadata), self.path)


def _compute(values: Any, path: str) -> NDArray[Any]:
    """``values.compute()`` as a NumPy array; a failure to read the file is one ValueError naming it."""
    try:
        return np.asarray(values.compute())
    except MemoryError:
        raise
    except Exception as exc:  # noqa: BLE001 - h5py, the file system, a plugin: all mean the data cannot be read
        raise ValueError(
            f"Could not read the counts of '{path}' ({type(exc).__name__}: {' '.join(str(exc).split())}); the file "
            "is truncated or corrupt, or was moved while being read: copy it again."
        ) from exc


#: Largest block (bytes, stored dtype) that iter_rows reads at once to follow the chunks of a lazy array.
_MAX_BLOCK_BYTES = 128 * 2**20


def _chunk_blocks(chunks0: tuple[int, ...], rows_wanted: int, max_rows: int) -> Iterator[tuple[int, int]]:
    """(start, stop) blocks of the first axis that follow its chunks ``chunks0``.

    Each block is whole consecutive chunks, at least ``rows_wanted`` rows where the chunks allow,
    at most ``max_rows`` rows; a single chunk longer than ``max_rows`` is split into pieces of
    ``max_rows`` rows (the only case in which a chunk is read more than once).
    """
    start = stop = 0
    for size in chunks0:
        if stop > start and (stop - start >= rows_wanted or stop - start + size > max_rows):
            yield start, stop
            start = stop
        if size > max_rows:  # a chunk too big for one read
            for a in range(stop, stop + size, max_rows):
                yield a, min(a + max_rows, stop + size)
            start = stop = stop + size
            continue
        stop += size
    if stop > start:
        yield start, stop


def _iter_lazy_rows(counts: Any, batch_size: int, n: int, path: str) -> Iterator[tuple[int, NDArray[np.float64]]]:
    """Batches of rows of a dask array of shape (..., n), read in chunk-aligned blocks of its first axis."""
    if counts.ndim == 1:
        rows = np.asarray(_compute(counts, path), dtype=np.float64)[None, :]
        check_counts(rows, n, path)
        yield 0, rows
        return
    nav = tuple(int(k) for k in counts.shape[:-1])
    inner = max(int(np.prod(nav[1:], dtype=np.int64)), 1)  # spectra per index of the first axis
    rows_wanted = -(-batch_size // inner)  # first-axis indices that hold one batch
    max_rows = max(1, _MAX_BLOCK_BYTES // (inner * n * counts.dtype.itemsize))
    pending: list[NDArray[Any]] = []
    n_pending, start = 0, 0

    def emit(rows: NDArray[Any], first: int) -> tuple[int, NDArray[np.float64]]:
        rows = np.array(rows, dtype=np.float64)  # float64 one batch at a time
        check_counts(rows, n, f"{path} (spectra {first}-{first + rows.shape[0] - 1})")
        return first, rows

    for a0, a1 in _chunk_blocks(tuple(int(c) for c in counts.chunks[0]), rows_wanted, max_rows):
        block = _compute(counts[a0:a1], path).reshape(-1, n)  # the stored dtype
        pending.append(block)
        n_pending += block.shape[0]
        if n_pending < batch_size:
            continue
        joined = np.concatenate(pending) if len(pending) > 1 else pending[0]
        cut = (n_pending // batch_size) * batch_size
        for i in range(0, cut, batch_size):
            yield emit(joined[i : i + batch_size], start)
            start += batch_size
        pending = [joined[cut:]] if cut < n_pending else []
        n_pending -= cut
    if n_pending:
        yield emit(np.concatenate(pending) if len(pending) > 1 else pending[0], start)


def _checked_lazy_counts(counts: Any, n_channels: int, path: str) -> Any:
    """Check the dtype and shape of lazy counts (their values are checked chunk by chunk later)."""
    dtype = np.dtype(counts.dtype)
    if dtype.kind not in "biuf":
        raise ValueError(
            f"The counts of '{path}' have dtype {dtype}; an EELS spectrum needs real numbers "
            "(for complex data, take the real part or the modulus first)."
        )
    if counts.ndim == 0 or counts.shape[-1] != n_channels:
        check_counts(np.broadcast_to(np.float64(0.0), counts.shape), n_channels, path)  # raises the shape error
    return counts


def read_spectrum(path: str | os.PathLike[str] | Any, lazy: bool = False) -> Spectrum:
    """Read an EELS spectrum, line scan or spectrum image from a file (or a HyperSpy signal).

    Parameters
    ----------
    path : str, Path or HyperSpy-like signal
        File to read, recognised by its content (module docstring): EMSA/MAS, DigitalMicrograph
        ``.dm3``/``.dm4``, HyperSpy ``.hspy``/``.hdf5``/``.zspy``, the other rosettasciio
        formats by extension, and two-column text (``.txt``/``.csv``/``.dat``/``.tsv``: energy
        loss in eV, then counts; ``#`` comments, one header line, tab, ``;``, ``,`` or blank
        separators, decimal commas with ``;`` / tab / blanks). An object with ``data`` and
        ``axes_manager`` attributes (a HyperSpy ``Signal1D`` or ``EELSSpectrum``) is converted
        by :func:`spectrum_from_signal`.
    lazy : bool
        Keep the counts on disk as a dask array in their stored dtype (rosettasciio's
        ``lazy=True`` where the plugin has it: HyperSpy, zspy, DigitalMicrograph, EMD ...; small
        formats are read and wrapped). See :class:`Spectrum` for what is checked when.

    Returns
    -------
    Spectrum
        Energy axis in eV (keV axes are converted), counts with the energy channels last.
        Navigation axes of length 1 are dropped, so a single spectrum is always 1-D.

    Raises
    ------
    FileNotFoundError
        If `path` does not exist.
    IsADirectoryError, PermissionError, OSError
        A folder (other than a ``.zspy`` store), a file that cannot be opened.
    ValueError
        An empty, truncated, corrupt or unrecognised file; a file without an EELS spectrum;
        an energy axis without calibration or units, or one that contradicts itself; NaN or
        infinite values (in memory). Every message names the file and the fix.

    Warns
    -----
    SpectrumReadWarning
        An EMSA file whose last data row is missing or commented out, or that holds more points
        than its header declares; an EMSA-named file without an EMSA header, read as text.
    """
    if _is_signal_like(path):
        spectrum = spectrum_from_signal(path)
        return _as_lazy(spectrum) if lazy and not spectrum.lazy else spectrum
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(
            f"read_spectrum takes a file path or a HyperSpy signal, got a {type(path).__name__}; "
            "for arrays use Spectrum(energy_ev, counts)."
        )
    file_path = Path(path)
    kind, plugins, text = _detect_format(file_path)
    if kind == "emsa":
        spectrum = _read_emsa(file_path, text, lazy)
    elif kind in ("text", "text-named-emsa"):
        spectrum = _read_two_column_text(file_path, text, lazy, named_emsa=kind == "text-named-emsa")
    else:
        spectrum = _read_with_rsciio(file_path, plugins, lazy, foreign_hdf5=kind == "hdf5-other")
    return _as_lazy(spectrum) if lazy and not spectrum.lazy else spectrum


def as_spectrum(source: "Spectrum | str | os.PathLike[str] | Any", lazy: bool = False) -> Spectrum:
    """A :class:`Spectrum` from a Spectrum (returned as is), a file path or a HyperSpy-like signal."""
    if isinstance(source, Spectrum):
        return source
    return read_spectrum(source, lazy=lazy)


def _as_lazy(spectrum: Spectrum) -> Spectrum:
    """The same spectrum with its counts wrapped in a dask array (one chunk per block of rows)."""
    import dask.array as da

    counts = spectrum.counts
    chunks = tuple(["auto"] * (counts.ndim - 1) + [-1])
    return Spectrum(spectrum.energy_ev, da.from_array(counts, chunks=chunks), spectrum.metadata, spectrum.path)


# --------------------------------------------------------------------------------------------
# what is this file? (content first, extension second)
# --------------------------------------------------------------------------------------------

_HDF5_SIGNATURE = b"\x89HDF\r\n\x1a\n"
_DM_SIGNATURES = (b"\x00\x00\x00\x03", b"\x00\x00\x00\x04")
#: First bytes of files that are certainly not a spectrum, and what they are.
_FOREIGN_SIGNATURES: tuple[tuple[bytes, str, str], ...] = (
    (b"\x1f\x8b", "a gzip-compressed file", "decompress it first (gunzip)"),
    (b"BZh", "a bzip2-compressed file", "decompress it first (bunzip2)"),
    (b"\xfd7zXZ\x00", "an xz-compressed file", "decompress it first (unxz)"),
    (b"7z\xbc\xaf\x27\x1c", "a 7-Zip archive", "unpack it first"),
    (b"PK\x03\x04", "a ZIP archive", "unpack it first"),
    (b"Rar!", "a RAR archive", "unpack it first"),
    (b"%PDF", "a PDF document", "export the spectrum itself (e.g. as .msa) instead"),
    (b"\x89PNG\r\n\x1a\n", "a PNG image", "export the spectrum itself (e.g. as .msa), not a picture of it"),
    (b"\xff\xd8\xff", "a JPEG image", "export the spectrum itself (e.g. as .msa), not a picture of it"),
)
_HEAD_BYTES = 65536
#: EMSA keywords; a text with three of them as '#KEY :' lines is an EMSA file.
_EMSA_KEYWORDS = ("FORMAT", "VERSION", "NPOINTS", "NCOLUMNS", "XUNITS", "YUNITS", "DATATYPE", "XPERCHAN", "OFFSET",
                  "SIGNALTYPE", "SPECTRUM")
_EMSA_KEYWORD_LINE = re.compile(r"^[ \t\ufeff]*#[ \t]*(" + "|".join(_EMSA_KEYWORDS) + r")[ \t]*:", re.IGNORECASE | re.MULTILINE)


def _looks_like_emsa(text: str) -> bool:
    """An EMSA header: at least three of its keywords as '#KEY :' lines (in the first 20000 characters)."""
    return len({m.upper() for m in _EMSA_KEYWORD_LINE.findall(text[:20000])}) >= 3


def _open_binary(file_path: Path) -> Any:
    """``open(file_path, "rb")`` (one place, so that tests can make it fail)."""
    return open(file_path, "rb")


def _read_bytes(file_path: Path, limit: int | None = None) -> bytes:
    """The first `limit` bytes of a file (all when None), with one-line messages for OS errors."""
    try:
        with _open_binary(file_path) as handle:
            return handle.read() if limit is None else handle.read(limit)
    except PermissionError as exc:
        raise PermissionError(
            f"Cannot read '{file_path}': permission denied; make the file readable (e.g. chmod u+r) or copy it "
            "somewhere you can read."
        ) from exc
    except IsADirectoryError as exc:  # pragma: no cover - directories are caught before
        raise IsADirectoryError(f"'{file_path}' is a folder, not a spectrum file.") from exc
    except OSError as exc:
        raise OSError(f"Cannot read '{file_path}': {exc.strerror or exc}; check the disk or copy the file again.") from exc


def _decode_text(data: bytes) -> str | None:
    """The text of `data` (BOM-aware UTF-8/UTF-16, else Latin-1), or None when it looks binary."""
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError:
            return None
    if data.startswith(codecs.BOM_UTF8):
        data = data[len(codecs.BOM_UTF8) :]
    if b"\x00" in data:
        return None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        if exc.start >= len(data) - 3:  # a multi-byte character cut by the head read
            text = data[: exc.start].decode("utf-8")
        else:
            text = data.decode("latin-1")
    controls = sum(1 for ch in text[:4096] if ord(ch) < 32 and ch not in "\t\n\r\f\v")
    return None if controls > 0.01 * max(len(text[:4096]), 1) else text


def _whole_text(file_path: Path, head: bytes, head_text: str) -> str:
    """The text of a whole file whose first bytes (`head`) decoded as `head_text`."""
    if len(head) < _HEAD_BYTES:
        return head_text
    text = _decode_text(_read_bytes(file_path))
    if text is None:
        raise ValueError(
            f"Could not read '{file_path}' as text: binary data follow its first {_HEAD_BYTES} bytes of text; the file "
            "is corrupt (copy it again)."
        )
    return text


def _describe_bytes(head: bytes) -> str:
    return "binary data (first bytes " + " ".join(f"{b:02x}" for b in head[:8]) + ")"


def _detect_format(file_path: Path) -> tuple[str, tuple[str, ...], str]:
    """(kind, rosettasciio plugin modules, text) for a path.

    kind is 'emsa', 'text', 'text-named-emsa', 'rsciio' or 'hdf5-other' (an HDF5 file that is not a
    HyperSpy file: the plugins are tried in turn).

    Raises the one-line errors for a missing file, a folder, an empty, unreadable, compressed
    or unrecognised file.
    """
    ext = file_path.suffix.lower()
    if file_path.is_dir():
        if ext == ".zspy" or any((file_path / marker).exists() for marker in (".zgroup", "zarr.json")):
            return "rsciio", ("rsciio.zspy",), ""
        raise IsADirectoryError(
            f"'{file_path}' is a folder, not a spectrum file; give the path of a file inside it "
            "(a .zspy folder is read as a HyperSpy zarr store)."
        )
    if not file_path.exists():
        raise FileNotFoundError(f"EELS spectrum file not found: '{file_path}'; check the path.")
    if not file_path.is_file():
        raise ValueError(f"'{file_path}' is not a regular file (a device, pipe or socket); give a spectrum file.")
    if file_path.stat().st_size == 0:
        raise ValueError(f"'{file_path}' is empty (0 bytes); the file was not written completely.")
    head = _read_bytes(file_path, _HEAD_BYTES)
    if not head:  # pragma: no cover - st_size said otherwise (a file emptied meanwhile)
        raise ValueError(f"'{file_path}' is empty (0 bytes); the file was not written completely.")
    if head.startswith(_HDF5_SIGNATURE) or any(head[o : o + 8] == _HDF5_SIGNATURE for o in (512, 1024, 2048)):
        plugins = _hdf5_plugins(file_path, ext)
        return ("rsciio" if plugins == ("rsciio.hspy",) else "hdf5-other"), plugins, ""
    if head[:4] in _DM_SIGNATURES:
        return "rsciio", ("rsciio.digitalmicrograph",), ""
    for signature, what, fix in _FOREIGN_SIGNATURES:
        if head.startswith(signature):
            if signature == b"PK\x03\x04" and ext == ".zspy":
                return "rsciio", ("rsciio.zspy",), ""
            raise ValueError(f"Could not read '{file_path}': it is {what}, not a spectrum file; {fix}.")
    text = _decode_text(head)
    if text is not None and _looks_like_emsa(text):
        return "emsa", (), _whole_text(file_path, head, text)
    if ext in TEXT_FORMATS or ext in EMSA_EXTENSIONS:
        if text is None:
            what = "an EMSA (text)" if ext in EMSA_EXTENSIONS else "a text"
            raise ValueError(
                f"Could not read '{file_path}' as {what} file: it holds {_describe_bytes(head)}; the file is "
                f"corrupt or of another format than its extension '{file_path.suffix}' says."
            )
        return ("text" if ext in TEXT_FORMATS else "text-named-emsa"), (), _whole_text(file_path, head, text)
    if ext in (".dm3", ".dm4"):
        raise ValueError(
            f"Could not read '{file_path}' as a DigitalMicrograph file: it does not start with a DM3/DM4 header "
            f"(it holds {'text' if text is not None else _describe_bytes(head)}); the file is corrupt or of another format."
        )
    if ext in (".hspy", ".hdf5", ".h5", ".emd", ".nxs"):
        raise ValueError(
            f"Could not read '{file_path}' as an HDF5 file (HyperSpy, EMD, NeXus): it has no HDF5 signature "
            f"(it holds {'text' if text is not None else _describe_bytes(head)}); the file is corrupt or of another format."
        )
    plugins = _rsciio_plugins_for_extension(ext)
    if plugins:
        return "rsciio", plugins, ""
    content = "text but not EMSA" if text is not None else _describe_bytes(head)
    raise ValueError(
        f"Unsupported file extension '{file_path.suffix}' for '{file_path}' (its content is {content}); "
        f"use one of {', '.join(SUPPORTED_EXTENSIONS)} or another format rosettasciio reads, and name a "
        "two-column text spectrum (energy loss in eV, counts) .txt, .csv or .dat."
    )


def _rsciio_plugins_for_extension(ext: str) -> tuple[str, ...]:
    """rosettasciio plugin modules registered for a file extension (with or without the dot)."""
    if not ext:
        return ()
    from rsciio import IO_PLUGINS

    wanted = ext.lstrip(".").lower()
    return tuple(
        plugin["api"] for plugin in IO_PLUGINS if wanted in (e.lower() for e in plugin.get("file_extensions", ()))
    )


def _hdf5_plugins(file_path: Path, ext: str) -> tuple[str, ...]:
    """rosettasciio plugins to try on an HDF5 file: HyperSpy when it says so, else EMD, NeXus, USID ..."""
    import h5py

    try:
        with h5py.File(file_path, "r") as handle:
            file_format = handle.attrs.get("file_format", b"")
    except Exception as exc:  # noqa: BLE001 - h5py raises OSError, KeyError ... on damaged files
        raise ValueError(
            f"Could not read '{file_path}' as an HDF5 file ({type(exc).__name__}: {exc}); the file is truncated or "
            "corrupt: copy it again."
        ) from exc
    if isinstance(file_format, bytes):
        file_format = file_format.decode("utf-8", "replace")
    if str(file_format) == "HyperSpy":
        return ("rsciio.hspy",)
    hdf5_plugins = ("rsciio.emd", "rsciio.nexus", "rsciio.usid", "rsciio.hspy")
    by_extension = [p for p in _rsciio_plugins_for_extension(ext) if p not in hdf5_plugins]
    return tuple(dict.fromkeys([*by_extension, *hdf5_plugins]))


# --------------------------------------------------------------------------------------------
# HyperSpy signals in memory (duck-typed: HyperSpy is not a dependency)
# --------------------------------------------------------------------------------------------


def _is_signal_like(obj: Any) -> bool:
    """True for objects that look like a HyperSpy signal (``data`` and ``axes_manager``)."""
    return not isinstance(obj, (str, bytes, os.PathLike)) and hasattr(obj, "data") and hasattr(obj, "axes_manager")


def _attribute_path(obj: Any, dotted: str, default: Any = "") -> Any:
    """``obj.a.b.c`` for ``dotted = "a.b.c"``, or ``default`` when any link is missing."""
    for name in dotted.split("."):
        try:
            obj = getattr(obj, name)
        except Exception:  # noqa: BLE001 - HyperSpy's metadata tree raises its own errors
            return default
    return obj


def _clean_units(units: Any) -> str:
    """Axis units as a string; '' for none, HyperSpy's ``<undefined>`` or traits' Undefined."""
    text = "" if units is None else str(units).strip()
    return "" if text.lower() in ("", "<undefined>", "undefined", "none", "<auto>") else text


def _plain(value: Any) -> Any:
    """A JSON-friendly Python value: numpy scalars unwrapped, traits' Undefined as ''."""
    if isinstance(value, np.generic):
        return value.item()
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    text = str(value)
    return "" if text.lower() in ("<undefined>", "undefined") else text


def _axis_summary(axis: Any) -> dict[str, Any]:
    """Name, units, offset, scale and size of an axis (HyperSpy axis object or rosettasciio dict)."""
    get = axis.get if isinstance(axis, dict) else (lambda key, default=None: getattr(axis, key, default))
    summary = {key: _plain(get(key, None)) for key in ("name", "offset", "scale", "size")}
    summary["units"] = _clean_units(get("units", None))
    return {key: summary[key] for key in ("name", "units", "offset", "scale", "size")}



def _uncalibrated(scale: Any, offset: Any) -> bool:
    """True when an axis has the defaults of no calibration: scale 1 (or none), offset 0 (or none)."""
    try:
        return float(1.0 if scale is None else scale) == 1.0 and float(0.0 if offset is None else offset) == 0.0
    except (TypeError, ValueError):
        return False


def _no_energy_units_message(where: str, units: str, scale: Any, offset: Any, fix: str) -> str:
    if not units and _uncalibrated(scale, offset):
        return (
            f"{where} has no energy axis: its signal axis is uncalibrated (scale 1, offset 0, no units: channel "
            f"numbers, not eV); calibrate the energy axis and save again ({fix})."
        )
    return (
        f"{where} has no energy axis: its signal axis units are '{units or 'undefined'}', not eV or keV "
        f"(scale {_plain(scale)}, offset {_plain(offset)}); set them ({fix})."
    )


_HYPERSPY_FIX = "e.g. s.axes_manager.signal_axes[0].units = 'eV', with its scale and offset"


def _check_signal_type(signal_type: str, where: str, fix: str) -> None:
    """Refuse a signal that declares another spectroscopy (EDS, CL ...)."""
    kind = str(signal_type or "").strip().upper()
    if any(kind.startswith(t) for t in NON_EELS_SIGNAL_TYPES):
        raise ValueError(
            f"{where} holds a {signal_type} spectrum (its signal type), not EELS; eels_core names EELS edges only. "
            f"If it is an EELS spectrum, set its signal type ({fix})."
        )


def spectrum_from_signal(signal: Any) -> Spectrum:
    """Convert a HyperSpy ``Signal1D`` / ``EELSSpectrum`` (or any look-alike) to a :class:`Spectrum`.

    HyperSpy is not imported: the signal is read through its attributes only, so any object with

    * ``data``: an array (NumPy, anything ``np.asarray`` accepts, or a dask array: a lazy
      signal stays lazy, nothing is computed), and
    * ``axes_manager.signal_axes[0]``: the energy axis, with ``offset``, ``scale``, ``size`` and
      ``units`` (``"eV"`` or ``"keV"``), optionally ``index_in_array`` (default: the last array
      axis) and, for a non-uniform axis (``is_uniform`` False), the values in ``axis``,

    is accepted. ``axes_manager.navigation_axes`` (optional) describe the other axes; their name,
    units, offset, scale and size are kept in ``metadata["navigation_axes"]`` (array order), so
    that maps can be given calibrated axes. A keV axis is converted to eV, a decreasing one
    reversed; navigation axes of length 1 are dropped, so a line scan stays 2-D and a spectrum
    image 3-D (array order, as HyperSpy stores them: rows first).

    Raises
    ------
    ValueError
        No signal axis, more than one, an uncalibrated axis or units other than eV / keV, a
        signal type of another spectroscopy (EDS, CL ...), a size that does not match the data,
        or (in memory) NaN / infinite values.
    """
    name = type(signal).__name__
    manager = signal.axes_manager
    signal_axes = list(getattr(manager, "signal_axes", ()) or ())
    if len(signal_axes) != 1:
        raise ValueError(
            f"the {name} has {len(signal_axes)} signal axes; an EELS spectrum needs exactly one, the "
            "energy-loss axis (a HyperSpy Signal1D / EELSSpectrum)."
        )
    axis = signal_axes[0]
    title = str(_attribute_path(signal, "metadata.General.title") or "")
    where = f"the {name}" + (f" '{title}'" if title else "")
    units = _clean_units(getattr(axis, "units", ""))
    if units.lower() not in ENERGY_UNITS_TO_EV:
        raise ValueError(
            _no_energy_units_message(where, units, getattr(axis, "scale", None), getattr(axis, "offset", None), _HYPERSPY_FIX)
        )
    signal_type = str(_attribute_path(signal, "metadata.Signal.signal_type") or "")
    _check_signal_type(signal_type, where, "s.set_signal_type('EELS')")
    data = signal.data
    if not _is_lazy_array(data):
        if np.iscomplexobj(data):
            raise ValueError(f"{where} holds complex data; an EELS spectrum needs real counts (take the real part first).")
        data = np.asarray(data)
    if data.ndim == 0 or math.prod(data.shape) == 0:
        raise ValueError(f"{where} holds no data.")
    index = getattr(axis, "index_in_array", None)
    index = data.ndim - 1 if index is None else int(index)
    if getattr(axis, "is_uniform", True) is False and getattr(axis, "axis", None) is not None:
        energy = np.asarray(axis.axis, dtype=np.float64)
    else:
        size = int(getattr(axis, "size", data.shape[index]))
        energy = float(getattr(axis, "offset", 0.0)) + float(getattr(axis, "scale", 1.0)) * np.arange(size)
    energy = energy * ENERGY_UNITS_TO_EV[units.lower()]
    if energy.size != data.shape[index]:
        raise ValueError(
            f"{where}'s energy axis has {energy.size} channels but its data have {data.shape[index]} "
            f"along array axis {index}."
        )
    counts = _moveaxis_last(data, index)
    nav_axes = list(getattr(manager, "navigation_axes", ()) or ())
    nav_axes = sorted(nav_axes, key=lambda a: int(getattr(a, "index_in_array", 0) or 0))
    nav_dicts = [_axis_summary(a) for a in nav_axes]
    counts, nav_dicts = _drop_unit_navigation_axes(counts, nav_dicts)
    metadata = {
        "format": "hyperspy-signal",
        "reader": "eels_core.real.io.spectrum_from_signal",
        "energy_axis": _axis_summary(axis),
        "navigation_axes": nav_dicts,
        "signal_type": signal_type,
        "title": title,
        "signal_class": name,
        "warnings": [],
    }
    label = title or f"<{name}>"
    energy, counts = _make_increasing(energy, counts)
    return Spectrum(energy, counts, metadata, label)


# --------------------------------------------------------------------------------------------
# rosettasciio formats
# --------------------------------------------------------------------------------------------

#: rosettasciio log messages that are harmless for EELS: unreadable DATE / TIME fields of EMSA
#: headers (e.g. "12:30 PM"). They are dropped while eels_core reads a file.
_HARMLESS_RSCIIO_MESSAGES = re.compile(r"malformed (TIME|DATE)", re.IGNORECASE)


class _DropHarmlessRsciioWarnings(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return not _HARMLESS_RSCIIO_MESSAGES.search(record.getMessage())


@contextlib.contextmanager
def _quiet_rsciio() -> Iterator[None]:
    """Drop rosettasciio's date/time header warnings (only those) while reading a file.

    A logger's filters only see records made by that logger, so the filter goes on the logger of
    every rosettasciio module that exists (``rsciio.msa._api`` emits these).
    """
    names = ["rsciio"] + [n for n in logging.root.manager.loggerDict if n.startswith("rsciio.")]
    loggers = [logging.getLogger(n) for n in names]
    filt = _DropHarmlessRsciioWarnings()
    for lg in loggers:
        lg.addFilter(filt)
    try:
        yield
    finally:
        for lg in loggers:
            lg.removeFilter(filt)


def _plugin_name(api: str) -> str:
    return api.rsplit(".", 1)[-1]


def _call_rsciio(api: str, file_path: Path, lazy: bool) -> list[dict[str, Any]]:
    """Run a rosettasciio plugin's ``file_reader`` (lazily when asked and the plugin can)."""
    reader = importlib.import_module(api).file_reader  # imported first, so that its loggers exist
    with _quiet_rsciio():
        if lazy:
            try:
                return reader(str(file_path), lazy=True)
            except NotImplementedError:  # no lazy reading in this plugin: read, wrap afterwards
                pass
        return reader(str(file_path))


def _missing_package_message(file_path: Path, plugin: str, exc: ImportError) -> str:
    package = getattr(exc, "name", None) or str(exc)
    if plugin == "zspy":
        return (
            f"Reading '{file_path}' (a HyperSpy .zspy store) needs the Python package 'zarr' (with numcodecs), which "
            f"is not installed (importing '{package}' failed); pip install zarr, or save the signal as .hspy instead."
        )
    return (
        f"Reading '{file_path}' ({plugin} format) needs the Python package '{package}', which is not installed; "
        f"pip install {package}."
    )


def _read_with_rsciio(file_path: Path, plugins: tuple[str, ...], lazy: bool, foreign_hdf5: bool = False) -> Spectrum:
    """Read a file with the first of `plugins` that gives an EELS spectrum."""
    failures: list[tuple[str, BaseException]] = []
    refusals: list[ValueError] = []
    for api in plugins:
        plugin = _plugin_name(api)
        try:
            signals = _call_rsciio(api, file_path, lazy)
        except ImportError as exc:
            if len(plugins) == 1:
                raise ValueError(_missing_package_message(file_path, plugin, exc)) from exc
            failures.append((plugin, exc))
            continue
        except Exception as exc:  # noqa: BLE001 - rosettasciio raises many types on corrupt files
            failures.append((plugin, exc))
            continue
        try:
            return _spectrum_from_signals(signals, file_path, plugin, lazy)
        except ValueError as exc:
            refusals.append(exc)
    if foreign_hdf5:
        first = refusals[0] if refusals else failures[0][1]
        raise ValueError(
            f"Could not read '{file_path}' as an EELS spectrum: it is an HDF5 file without HyperSpy's file_format mark; "
            f"rosettasciio's {', '.join(_plugin_name(p) for p in plugins)} readers found no spectrum in it (first "
            f"answer: {type(first).__name__}: {' '.join(str(first).split())}); save the spectrum from HyperSpy as .hspy."
        ) from first
    if refusals:
        raise refusals[0]
    plugin, exc = failures[0]
    tried = "" if len(failures) == 1 else f" (also tried: {', '.join(p for p, _ in failures[1:])})"
    raise ValueError(
        f"Could not read '{file_path}' as a {plugin} file ({type(exc).__name__}: {' '.join(str(exc).split())}){tried}; "
        "the file may be truncated or corrupt (copy it again), or of another format than its extension says."
    ) from exc


def _signal_axis_dicts(axes: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The signal (non-navigation) axes of a rosettasciio signal."""
    return [axis for axis in axes if not axis.get("navigate", False)]


def _signal_type(signal: dict[str, Any]) -> str:
    return str((signal.get("metadata", {}) or {}).get("Signal", {}).get("signal_type", "") or "")


def _spectrum_from_signals(signals: list[dict[str, Any]], file_path: Path, plugin: str, lazy: bool,
                           extra_metadata: dict[str, Any] | None = None) -> Spectrum:
    """The first EELS spectrum among rosettasciio's signals, or the clearest refusal."""
    with_energy = [s for s in signals if _energy_axis_index(s["axes"]) is not None]
    eels = [s for s in with_energy if not any(_signal_type(s).upper().startswith(t) for t in NON_EELS_SIGNAL_TYPES)]
    if eels:
        return _spectrum_from_signal_dict(eels[0], file_path, plugin, len(signals), lazy, extra_metadata)
    fix = "EMSA: '#SIGNALTYPE : ELS'; HyperSpy: s.set_signal_type('EELS')"
    if with_energy:
        _check_signal_type(_signal_type(with_energy[0]), f"'{file_path}'", fix)
    for signal in signals:
        signal_axes = _signal_axis_dicts(signal["axes"])
        if len(signal_axes) == 1:
            axis = signal_axes[0]
            units = _clean_units(axis.get("units"))
            emsa_fix = "'#XUNITS : eV'" if plugin == "msa" else _HYPERSPY_FIX
            raise ValueError(
                _no_energy_units_message(f"'{file_path}'", units, axis.get("scale"), axis.get("offset"), emsa_fix)
            )
    dims = [len(_signal_axis_dicts(s["axes"])) for s in signals]
    raise ValueError(
        f"'{file_path}' has no energy axis: it holds no spectrum (signals with {dims} signal axes and none in eV "
        "or keV); an EELS file holds spectra with one energy-loss axis in eV."
    )


def _energy_axis_index(axes: list[dict[str, Any]]) -> int | None:
    """Index of the energy-loss axis among rosettasciio axis dicts, or None if there is none.

    The energy axis is the one in eV or keV. If several are, the signal axis
    (``navigate`` False) wins, then the last one.
    """
    candidates = [i for i, axis in enumerate(axes) if _clean_units(axis.get("units")).lower() in ENERGY_UNITS_TO_EV]
    if not candidates:
        return None
    signal_axes = [i for i in candidates if not axes[i].get("navigate", False)]
    return (signal_axes or candidates)[-1]


def _energy_axis_from_dict(axis: dict[str, Any]) -> NDArray[np.float64]:
    """Energy axis in eV built from a rosettasciio axis dict (offset, scale, size, units)."""
    if axis.get("axis") is not None:  # non-uniform axis
        values = np.asarray(axis["axis"], dtype=np.float64)
    else:
        size = int(axis["size"])
        offset = axis.get("offset")
        scale = axis.get("scale")
        values = float(0.0 if offset is None else offset) + float(1.0 if scale is None else scale) * np.arange(size)
    return values * ENERGY_UNITS_TO_EV[_clean_units(axis["units"]).lower()]


def _spectrum_from_signal_dict(
    signal: dict[str, Any], file_path: Path, plugin: str, n_signals: int, lazy: bool = False,
    extra_metadata: dict[str, Any] | None = None,
) -> Spectrum:
    """Turn one rosettasciio signal dict into a Spectrum (energy axis moved last)."""
    axes = signal["axes"]
    data = signal["data"]
    if not (lazy and _is_lazy_array(data)):
        data = np.asarray(data.compute() if _is_lazy_array(data) else data)
        if np.iscomplexobj(data):
            raise ValueError(f"'{file_path}' holds complex data; an EELS spectrum needs real counts.")
    if math.prod(data.shape) == 0:
        raise ValueError(f"'{file_path}' holds no data channels; the file is empty or truncated.")
    energy_index = _energy_axis_index(axes)
    assert energy_index is not None
    array_index = int(axes[energy_index].get("index_in_array", energy_index) or 0)
    energy_ev = _energy_axis_from_dict(axes[energy_index])
    if energy_ev.size != data.shape[array_index]:
        raise ValueError(
            f"'{file_path}': its energy axis has {energy_ev.size} channels but the data have {data.shape[array_index]}; "
            "the file is corrupt."
        )
    counts = _moveaxis_last(data, array_index)
    nav_axes = sorted(
        (axis for i, axis in enumerate(axes) if i != energy_index),
        key=lambda axis: int(axis.get("index_in_array", 0) or 0),
    )
    counts, nav_summaries = _drop_unit_navigation_axes(counts, [_axis_summary(a) for a in nav_axes])
    metadata = {
        "format": plugin,
        "reader": f"rsciio.{plugin}",
        "energy_axis": _axis_summary(axes[energy_index]),
        "navigation_axes": nav_summaries,
        "signal_type": _signal_type(signal),
        "title": (signal.get("metadata", {}) or {}).get("General", {}).get("title", ""),
        "n_signals_in_file": n_signals,
        "rsciio_metadata": signal.get("metadata", {}),
        "original_metadata": signal.get("original_metadata", {}),
        "warnings": [],
        **(extra_metadata or {}),
    }
    energy_ev, counts = _make_increasing(energy_ev, counts)
    return Spectrum(energy_ev, counts, metadata, str(file_path))


def _moveaxis_last(data: Any, index: int) -> Any:
    """Move array axis `index` to the end (NumPy or dask, without computing)."""
    if index in (-1, data.ndim - 1):
        return data
    if _is_lazy_array(data):
        import dask.array as da

        return da.moveaxis(data, index, -1)
    return np.moveaxis(data, index, -1)


def _drop_unit_navigation_axes(counts: Any, nav_axes: list[dict[str, Any]]) -> tuple[Any, list[dict[str, Any]]]:
    """Remove navigation axes of length 1 (e.g. a single spectrum stored as a 1 x n image)."""
    keep = [i for i, n in enumerate(counts.shape[:-1]) if n != 1]
    index = tuple(slice(None) if (i in keep or i == counts.ndim - 1) else 0 for i in range(counts.ndim))
    kept_axes = [nav_axes[i] for i in keep] if len(nav_axes) == counts.ndim - 1 else nav_axes
    return counts[index], kept_axes


# --------------------------------------------------------------------------------------------
# EMSA / MAS
# --------------------------------------------------------------------------------------------

_EMSA_FIX_CALIBRATION = (
    "add '#OFFSET : <energy loss of the first channel>' and '#XPERCHAN : <energy per channel>' (in #XUNITS) "
    "to the header"
)


def _emsa_header(lines: list[str]) -> tuple[dict[str, str], int | None]:
    """Keywords of an EMSA header (upper case, values as text) and the index of the first data line
    (None without a '#SPECTRUM' line)."""
    header: dict[str, str] = {}
    for i, line in enumerate(lines):
        stripped = line.strip()
        if not stripped.startswith("#"):
            continue
        key, _, value = stripped.lstrip("#").partition(":")
        key = key.strip().upper()
        if key == "SPECTRUM":
            return header, i + 1
        if key in ("TITLE", "COMMENT") and key in header:
            header[key] += " " + value.strip()
        else:
            header.setdefault(key, value.strip())
    return header, None


def _canonical_emsa_lines(lines: list[str], data_start: int, numbers: dict[str, float | None]) -> list[str]:
    """Header lines rewritten as '#KEY: value' (what rosettasciio's parser splits on), with the values of
    the keywords in `numbers` as read here; data lines as they are."""
    out = []
    for i, line in enumerate(lines):
        stripped = line.strip()
        if i < data_start and stripped.startswith("#"):
            key, sep, value = stripped.lstrip("#").partition(":")
            key = key.strip()
            if numbers.get(key.upper()) is not None:
                value = repr(numbers[key.upper()])
            out.append(f"#{key}: {value.strip().replace(': ', ':')}\n" if sep else f"#{key}\n")
        elif i < data_start:
            out.append("\n" if not stripped else f"#{stripped}\n")  # stray text in the header: a comment
        else:
            out.append(line.lstrip(" \t") if line.strip() else "\n")
    return out


_LEADING_NUMBER = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)(\s*[eE]\s*[+-]?\d+)?")


def _emsa_number(header: dict[str, str], key: str, file_path: Path) -> float | None:
    """A numeric header value, None when absent or empty.

    Read as rosettasciio intends, and a little more: '2.0 E-06' (a blank inside the exponent)
    and '0.5 eV' (a unit after the number) are numbers too.
    """
    raw = header.get(key, "").strip()
    if not raw:
        return None
    try:
        return float(raw)
    except ValueError:
        pass
    leading = _LEADING_NUMBER.match(raw)
    if leading:
        return float(re.sub(r"\s+", "", leading.group(0)))
    raise ValueError(
        f"'{file_path}': the EMSA keyword #{key} has the value '{raw}', which is not a number; correct the header."
    )


def _emsa_data_columns(lines: list[str], data_start: int, datatype: str) -> tuple[list[float], list[float]]:
    """(x, y) of the data lines, split as rosettasciio does (commas or blanks)."""
    xs: list[float] = []
    ys: list[float] = []
    for line in lines[data_start:]:
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        parts = stripped.replace(",", " ").split()
        if datatype == "XY":
            xs.extend(float(parts[k]) for k in range(0, len(parts) - 1, 2))
            ys.extend(float(parts[k]) for k in range(1, len(parts), 2))
        else:
            ys.extend(float(p) for p in parts)
    return xs, ys


def _read_emsa(file_path: Path, text: str, lazy: bool) -> Spectrum:
    """Read an EMSA/MAS file after checking its header (module docstring)."""
    from rsciio.msa._api import parse_msa_string

    lines = text.splitlines(keepends=True)
    header, data_start = _emsa_header(lines)
    where = f"'{file_path}'"
    if data_start is None:
        raise ValueError(
            f"Could not read {where} as an EMSA file: its header has no '#SPECTRUM' line before the data; "
            "add '#SPECTRUM : Spectral Data Starts Here' above the first data row."
        )
    datatype = header.get("DATATYPE", "").strip().upper()
    if datatype not in ("Y", "XY"):
        raise ValueError(
            f"Could not read {where} as an EMSA file: #DATATYPE is '{header.get('DATATYPE', 'missing')}', "
            "not Y or XY; add '#DATATYPE : Y' (one counts column) or '#DATATYPE : XY' (energy, counts)."
        )
    numbers = {key: _emsa_number(header, key, file_path) for key in ("NPOINTS", "NCOLUMNS", "OFFSET", "XPERCHAN")}
    try:
        xs, ys = _emsa_data_columns(lines, data_start, datatype)
        canonical = _canonical_emsa_lines(lines, data_start, numbers)
        with _quiet_rsciio():
            signals = parse_msa_string(io.StringIO("".join(canonical)), filename=str(file_path))
    except Exception as exc:  # noqa: BLE001 - a non-numeric data row, a broken header ...
        raise ValueError(
            f"Could not read {where} as an EMSA file ({type(exc).__name__}: {' '.join(str(exc).split())}); "
            "every line after '#SPECTRUM' must hold numbers (or start with '#')."
        ) from exc
    signal = signals[0]
    n_points = len(ys)
    if n_points == 0:
        raise ValueError(f"{where} holds no data points after its '#SPECTRUM' line; the file is empty or truncated.")
    notes: list[str] = []
    n_declared = numbers["NPOINTS"]
    per_row = max(1, int(numbers["NCOLUMNS"] or 1))
    if n_declared is not None and int(n_declared) > 0 and int(n_declared) != n_points:
        missing = int(n_declared) - n_points
        if 0 < missing <= per_row:
            notes.append(
                f"{where}: its EMSA header declares {int(n_declared)} points (#NPOINTS) but the data hold {n_points}: "
                f"the last data row is missing or commented out; read the {n_points} points present (energy axis from "
                f"the header, the last {missing} channel{'s' if missing > 1 else ''} absent)."
            )
        elif missing < 0:
            notes.append(
                f"{where}: its EMSA header declares {int(n_declared)} points (#NPOINTS) but the data hold {n_points}; "
                f"read all {n_points} (energy axis from the header); correct #NPOINTS."
            )
        else:
            raise ValueError(
                f"{where} is truncated or corrupt: its header declares {int(n_declared)} points (#NPOINTS) but it holds "
                f"{n_points}; copy the complete file."
            )
    units = _clean_units(header.get("XUNITS"))
    if units.lower() not in ENERGY_UNITS_TO_EV:
        if not units:
            raise ValueError(
                f"{where} has no energy axis units: its EMSA header lacks #XUNITS; add '#XUNITS : eV' (or keV)."
            )
        signal["axes"][0]["units"] = units
        return _spectrum_from_signals(signals, file_path, "msa", lazy)  # 'no energy axis', units named
    offset, scale = numbers["OFFSET"], numbers["XPERCHAN"]
    axis: dict[str, Any] = {"size": n_points, "index_in_array": 0, "name": header.get("XLABEL", "") or "Energy loss",
                            "units": units, "navigate": False}
    source = "header"
    if datatype == "XY" and len(xs) == n_points:
        x = np.asarray(xs, dtype=np.float64)
        if offset is None or scale is None:
            axis["axis"] = x  # the X column is the axis: no calibration to guess
            source = "X column"
        else:
            from_header = offset + scale * np.arange(n_points)
            worst = int(np.argmax(np.abs(x - from_header)))
            if abs(x[worst] - from_header[worst]) > 0.5 * abs(scale) + 1e-9 * max(1.0, abs(x[worst])):
                raise ValueError(
                    f"{where}: the X column of this XY EMSA file contradicts its header: channel {worst} is at "
                    f"{x[worst]:g} {units} by the X column but {from_header[worst]:g} {units} by #OFFSET {offset:g} and "
                    f"#XPERCHAN {scale:g}; correct whichever is wrong (or delete #OFFSET and #XPERCHAN to use the X "
                    "column)."
                )
    if source == "header":
        missing_keys = [k for k, v in (("OFFSET", offset), ("XPERCHAN", scale)) if v is None]
        if missing_keys:
            names = " and ".join(f"#{k}" for k in missing_keys)
            raise ValueError(
                f"{where} has no energy calibration: its EMSA header lacks {names} (read without "
                f"{'them' if len(missing_keys) > 1 else 'it'}, the axis would be channel numbers taken as "
                f"{units}); {_EMSA_FIX_CALIBRATION}."
            )
        axis.update(offset=offset, scale=scale)
    signal["axes"] = [axis]
    signal["data"] = np.asarray(ys, dtype=np.float64)
    spectrum = _spectrum_from_signals(signals, file_path, "msa", lazy, {"energy_axis_source": source})
    spectrum.metadata["warnings"].extend(notes)
    for note in notes:  # only once the spectrum is known to be good
        warnings.warn(note, SpectrumReadWarning, stacklevel=3)
    return spectrum


# --------------------------------------------------------------------------------------------
# two-column text
# --------------------------------------------------------------------------------------------

_COMMENT_PREFIXES = ("#", "%", "//")
_DELIMITERS: tuple[tuple[str | None, str], ...] = (("\t", "tab"), (";", "';'"), (",", "','"), (None, "blanks"))


def _parse_fields(line: str, delimiter: str | None) -> list[float] | None:
    """The numbers of a line split at `delimiter` (None: blanks), or None when a field is not a number.

    With a delimiter other than ',' a decimal comma ('12,5') is read as a decimal point.
    """
    parts = line.split(delimiter) if delimiter is not None else line.split()
    parts = [p.strip() for p in parts]
    while parts and parts[-1] == "":  # a trailing delimiter
        parts.pop()
    if not parts or any(p == "" for p in parts):
        return None
    try:
        if delimiter == ",":
            return [float(p) for p in parts]
        return [float(p.replace(",", ".")) if p.count(",") == 1 and "." not in p else float(p) for p in parts]
    except ValueError:
        return None


def _read_two_column_text(file_path: Path, text: str, lazy: bool = False, named_emsa: bool = False) -> Spectrum:
    """Read a text file of two columns, energy loss (eV, or keV when its header says so) then counts."""
    delimiter: str | None = None
    delimiter_name = ""
    header_lines: list[str] = []
    rows: list[list[float]] = []
    first_row_line = 0
    lines = text.splitlines()
    what = "an EMSA file (no '#FORMAT : EMSA/MAS' / '#SPECTRUM' header) nor as" if named_emsa else "as"
    for lineno, raw in enumerate(lines, start=1):
        line = raw.split("#", 1)[0].strip().lstrip("\ufeff")  # '#' starts a comment, also after the numbers
        if not line or line.startswith(_COMMENT_PREFIXES):
            continue
        if not rows:
            for candidate, name in _DELIMITERS:
                values = _parse_fields(line, candidate)
                if values is not None:
                    delimiter, delimiter_name, first_row_line = candidate, name, lineno
                    rows.append(values)
                    break
            else:
                if len(header_lines) >= 5:
                    raise ValueError(
                        f"Could not read '{file_path}' {what} two numeric columns (energy loss in eV, counts): "
                        f"line {lineno} ('{line[:60]}') and the lines before it are not numbers; keep at most one "
                        "header line and '#' comments."
                    )
                header_lines.append(line)
            continue
        values = _parse_fields(line, delimiter)
        if values is None:
            raise ValueError(
                f"Could not read '{file_path}' {what} two numeric columns (energy loss in eV, counts): line {lineno} "
                f"('{line[:60]}') is not {len(rows[0])} numbers separated by {delimiter_name} like line "
                f"{first_row_line}; remove it or make it a '#' comment."
            )
        if len(values) != len(rows[0]):
            raise ValueError(
                f"Could not read '{file_path}': line {lineno} has {len(values)} columns but line {first_row_line} has "
                f"{len(rows[0])}; every row needs the same two columns (energy loss in eV, counts)."
            )
        rows.append(values)
    if not rows:
        if header_lines:
            raise ValueError(
                f"Could not read '{file_path}' {what} two numeric columns (energy loss in eV, counts): no line holds "
                f"numbers (first line: '{header_lines[0][:60]}')."
            )
        raise ValueError(f"'{file_path}' holds no data rows (only blank or '#' comment lines); the file is empty.")
    n_columns = len(rows[0])
    if n_columns == 1:
        raise ValueError(
            f"'{file_path}' has one column (counts only, no energy axis); a text spectrum needs exactly two "
            "(energy loss in eV, then counts), or use an EMSA file with #OFFSET and #XPERCHAN."
        )
    if n_columns != 2:
        hint = (
            " (with decimal commas, separate the columns with ';' or a tab)"
            if delimiter == "," and n_columns == 4 else ""
        )
        raise ValueError(
            f"'{file_path}' has {n_columns} columns; a text spectrum needs exactly two "
            f"(energy loss in eV, then counts){hint}."
        )
    table = np.asarray(rows, dtype=np.float64)
    units = "eV"
    if header_lines and re.search(r"\bkev\b", header_lines[-1], re.IGNORECASE):
        units = "keV"
    energy_ev, counts = _make_increasing(table[:, 0] * ENERGY_UNITS_TO_EV[units.lower()], table[:, 1])
    notes = []
    if named_emsa:
        notes.append(
            f"'{file_path}' has no EMSA header (no '#FORMAT : EMSA/MAS' / '#SPECTRUM' lines); read as two-column "
            "text (energy loss in eV, counts)."
        )
    metadata = {
        "format": "text",
        "reader": "eels_core.real.io (two-column text)",
        "energy_units_assumed" if units == "eV" else "energy_units_from_header": units,
        "delimiter": delimiter_name,
        "header_lines": header_lines,
        "warnings": notes,
    }
    spectrum = Spectrum(energy_ev, counts, metadata, str(file_path))
    for note in notes:
        warnings.warn(note, SpectrumReadWarning, stacklevel=3)
    return spectrum


# --------------------------------------------------------------------------------------------
# checks shared by every format
# --------------------------------------------------------------------------------------------


def _make_increasing(energy_ev: Any, counts: Any) -> tuple[NDArray[np.float64], Any]:
    """Reverse a strictly decreasing energy axis (and the counts with it); leave others alone."""
    energy_ev = np.asarray(energy_ev, dtype=np.float64)
    if energy_ev.size > 1 and np.all(np.isfinite(energy_ev)) and np.all(np.diff(energy_ev) < 0):
        return energy_ev[::-1], counts[..., ::-1]
    return energy_ev, counts


def _read_only_float_array(values: Any, what: str = "counts", source: str = "") -> NDArray[np.float64]:
    """A read-only float64 copy of `values` (complex values are refused, not cut to their real part)."""
    if np.iscomplexobj(values):
        where = f" of '{source}'" if source else ""
        raise ValueError(f"The {what}{where} are complex numbers; an EELS spectrum needs real values.")
    array = np.array(values, dtype=np.float64, copy=True)
    array.setflags(write=False)
    return array
