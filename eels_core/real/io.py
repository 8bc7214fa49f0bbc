"""Reading measured EELS spectra into one in-memory form, :class:`Spectrum`.

The paper tests the network on "real spectra collected from experiments". Those come in the
formats of the field: EMSA/MAS (``.msa``), Gatan DigitalMicrograph (``.dm3``/``.dm4``), HyperSpy
HDF5 (``.hspy``) and plain two-column text. The binary and EMSA formats are read with
rosettasciio; two-column text (energy loss, then counts) with :func:`numpy.loadtxt`.

A HyperSpy ``Signal1D`` / ``EELSSpectrum`` already in memory is accepted too
(:func:`spectrum_from_signal`), without HyperSpy being a dependency: anything with a ``data``
array and an ``axes_manager`` whose first signal axis has ``offset``, ``scale``, ``size`` and
``units`` will do.

Whatever the source, a :class:`Spectrum` holds an increasing energy-loss axis in eV and the counts
with the energy channels on the last axis: a single spectrum is 1-D, a line scan 2-D and a
spectrum image 3-D (navigation axes first, in the file's / array's order).
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator

import numpy as np
from numpy.typing import NDArray

from ..forward.axis import check_counts, check_energy_axis

#: Multiplier that takes an energy axis in the given units to eV.
ENERGY_UNITS_TO_EV: dict[str, float] = {"ev": 1.0, "kev": 1.0e3}

#: File extensions read through rosettasciio, and the rosettasciio plugin for each.
RSCIIO_FORMATS: dict[str, str] = {
    ".msa": "msa",
    ".emsa": "msa",
    ".dm3": "digitalmicrograph",
    ".dm4": "digitalmicrograph",
    ".hspy": "hspy",
}

#: File extensions read as two-column text (energy loss in eV, then counts).
TEXT_FORMATS: tuple[str, ...] = (".txt", ".csv", ".dat")

SUPPORTED_EXTENSIONS: tuple[str, ...] = tuple(RSCIIO_FORMATS) + TEXT_FORMATS


@dataclass(frozen=True, eq=False)
class Spectrum:
    """A measured EELS spectrum, line scan or spectrum image.

    Attributes
    ----------
    energy_ev : ndarray, shape (n_channels,)
        Energy-loss axis in eV, strictly increasing.
    counts : ndarray, shape (..., n_channels)
        Intensities; energy channels on the last axis, navigation axes (if any) before it.
    metadata : dict
        What the reader knew about the file (format, axes, rosettasciio metadata).
    path : str
        The file the spectrum was read from.

    Notes
    -----
    Both arrays are stored as read-only float64 copies, so a ``Spectrum`` cannot be changed
    after it is made; derive a new one instead (``dataclasses.replace``).
    """

    energy_ev: NDArray[np.float64]
    counts: NDArray[np.float64]
    metadata: dict[str, Any] = field(default_factory=dict)
    path: str = ""

    def __post_init__(self) -> None:
        energy = _read_only_float_array(self.energy_ev)
        counts = _read_only_float_array(self.counts)
        check_energy_axis(energy, self.path, min_window_ev=None)
        check_counts(counts, energy.size, self.path)
        object.__setattr__(self, "energy_ev", energy)
        object.__setattr__(self, "counts", counts)

    @property
    def n_channels(self) -> int:
        """Number of energy channels."""
        return int(self.energy_ev.size)

    @property
    def navigation_shape(self) -> tuple[int, ...]:
        """Shape of the navigation axes: ``()`` for a single spectrum."""
        return tuple(self.counts.shape[:-1])

    @property
    def n_spectra(self) -> int:
        """Number of spectra (pixels) held: 1 for a single spectrum."""
        return int(np.prod(self.navigation_shape, dtype=np.int64))

    @property
    def dispersion_ev(self) -> float:
        """Median channel width in eV."""
        return float(np.median(np.diff(self.energy_ev))) if self.n_channels > 1 else float("nan")

    def summed(self) -> "Spectrum":
        """Sum over the navigation axes (all pixels of a line scan or spectrum image).

        Returns
        -------
        Spectrum
            A 1-D spectrum on the same energy axis; ``metadata["summed_spectra"]`` records
            how many spectra were added. A 1-D spectrum is returned unchanged.
        """
        if self.counts.ndim == 1:
            return self
        summed_counts = self.counts.reshape(-1, self.n_channels).sum(axis=0)
        metadata = {**self.metadata, "summed_spectra": self.n_spectra}
        return Spectrum(self.energy_ev, summed_counts, metadata, self.path)


def read_spectrum(path: str | os.PathLike[str] | Any) -> Spectrum:
    """Read an EELS spectrum, line scan or spectrum image from a file (or a HyperSpy signal).

    Parameters
    ----------
    path : str, Path or HyperSpy-like signal
        File to read. Supported: ``.msa``/``.emsa`` (EMSA/MAS), ``.dm3``/``.dm4`` (Gatan),
        ``.hspy`` (HyperSpy HDF5), and ``.txt``/``.csv``/``.dat`` (two columns: energy loss
        in eV, then counts). An object with ``data`` and ``axes_manager`` attributes (a
        HyperSpy ``Signal1D`` or ``EELSSpectrum``) is converted by :func:`spectrum_from_signal`.

    Returns
    -------
    Spectrum
        Energy axis in eV (keV axes are converted), counts with the energy channels last.
        Navigation axes of length 1 are dropped, so a single spectrum is always 1-D.

    Raises
    ------
    FileNotFoundError
        If `path` does not exist.
    ValueError
        If the extension is not supported, the file is empty, truncated or cannot be parsed, it
        has no energy axis, the energy axis is not monotonic, or the data hold NaN or infinite
        values.
    """
    if _is_signal_like(path):
        return spectrum_from_signal(path)
    file_path = Path(path)
    if not file_path.is_file():
        raise FileNotFoundError(f"EELS spectrum file not found: '{file_path}'; check the path.")
    if file_path.stat().st_size == 0:
        raise ValueError(f"'{file_path}' is empty (0 bytes); the file was not written completely.")
    extension = file_path.suffix.lower()
    if extension in TEXT_FORMATS:
        return _read_two_column_text(file_path)
    if extension in RSCIIO_FORMATS:
        return _read_with_rsciio(file_path, RSCIIO_FORMATS[extension])
    raise ValueError(
        f"Unsupported file extension '{file_path.suffix}' for '{file_path}'; "
        f"use one of {', '.join(SUPPORTED_EXTENSIONS)}."
    )


def as_spectrum(source: "Spectrum | str | os.PathLike[str] | Any") -> Spectrum:
    """A :class:`Spectrum` from a Spectrum (returned as is), a file path or a HyperSpy-like signal."""
    if isinstance(source, Spectrum):
        return source
    return read_spectrum(source)


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


def _signal_axis_summary(axis: Any) -> dict[str, Any]:
    """The name, units, offset, scale and size of a HyperSpy axis object."""
    return {key: getattr(axis, key, None) for key in ("name", "units", "offset", "scale", "size")}


def spectrum_from_signal(signal: Any) -> Spectrum:
    """Convert a HyperSpy ``Signal1D`` / ``EELSSpectrum`` (or any look-alike) to a :class:`Spectrum`.

    HyperSpy is not imported: the signal is read through its attributes only, so any object with

    * ``data``: an array (NumPy, or anything ``np.asarray`` accepts, e.g. a lazy dask array), and
    * ``axes_manager.signal_axes[0]``: the energy axis, with ``offset``, ``scale``, ``size`` and
      ``units`` (``"eV"`` or ``"keV"``), optionally ``index_in_array`` (default: the last array
      axis) and, for a non-uniform axis (``is_uniform`` False), the values in ``axis``,

    is accepted. ``axes_manager.navigation_axes`` (optional) describe the other axes. A keV axis
    is converted to eV, a decreasing one reversed; navigation axes of length 1 are dropped, so a
    line scan stays 2-D and a spectrum image 3-D (array order, as HyperSpy stores them: rows first).

    Raises
    ------
    ValueError
        No signal axis, more than one, units other than eV / keV, a size that does not match the
        data, or NaN / infinite values.
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
    units = str(getattr(axis, "units", "") or "").strip()
    if units.lower() not in ENERGY_UNITS_TO_EV:
        raise ValueError(
            f"the {name} has no energy axis: its signal axis units are '{units or 'undefined'}', not eV "
            "or keV; set them, e.g. s.axes_manager.signal_axes[0].units = 'eV'."
        )
    data = np.asarray(signal.data)
    if data.ndim == 0 or data.size == 0:
        raise ValueError(f"the {name} holds no data.")
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
            f"the {name}'s energy axis has {energy.size} channels but its data have {data.shape[index]} "
            f"along array axis {index}."
        )
    counts = np.moveaxis(data, index, -1)
    nav_axes = list(getattr(manager, "navigation_axes", ()) or ())
    nav_axes = sorted(nav_axes, key=lambda a: int(getattr(a, "index_in_array", 0) or 0))
    nav_dicts = [_signal_axis_summary(a) for a in nav_axes]
    counts, nav_dicts = _drop_unit_navigation_axes(counts, nav_dicts)
    metadata = {
        "format": "hyperspy-signal",
        "reader": "eels_core.real.io.spectrum_from_signal",
        "energy_axis": _signal_axis_summary(axis),
        "navigation_axes": nav_dicts,
        "signal_type": str(_attribute_path(signal, "metadata.Signal.signal_type")),
        "title": str(_attribute_path(signal, "metadata.General.title")),
        "signal_class": name,
    }
    where = metadata["title"] or f"<{name}>"
    energy, counts = _make_increasing(energy, counts, Path(where))
    return Spectrum(energy, counts, metadata, where)


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


def _rsciio_reader(plugin: str) -> Callable[..., list[dict[str, Any]]]:
    """The ``file_reader`` of a rosettasciio plugin (imported lazily: h5py is heavy)."""
    if plugin == "msa":
        from rsciio.msa import file_reader
    elif plugin == "digitalmicrograph":
        from rsciio.digitalmicrograph import file_reader
    elif plugin == "hspy":
        from rsciio.hspy import file_reader
    else:  # pragma: no cover - RSCIIO_FORMATS only names the three above
        raise ValueError(f"No rosettasciio reader is wired up for plugin '{plugin}'.")
    return file_reader


def _read_with_rsciio(file_path: Path, plugin: str) -> Spectrum:
    """Read a file with rosettasciio and keep the first signal that has an energy axis."""
    try:
        reader = _rsciio_reader(plugin)  # imported first, so that its loggers exist for the filter
        with _quiet_rsciio():
            signals = reader(str(file_path))
    except Exception as exc:  # rosettasciio raises many types on corrupt files
        raise ValueError(
            f"Could not read '{file_path}' as a {plugin} file ({type(exc).__name__}: {exc}); "
            "check that the file is complete and of the format its extension says."
        ) from exc
    for signal in signals:
        if _energy_axis_index(signal["axes"]) is not None:
            return _spectrum_from_signal_dict(signal, file_path, plugin, len(signals))
    units = [[axis.get("units") for axis in signal["axes"]] for signal in signals]
    raise ValueError(
        f"'{file_path}' has no energy axis: no signal axis is in eV or keV (axis units found: "
        f"{units}); an EELS file needs its energy axis units set (for EMSA: '#XUNITS : eV')."
    )


def _energy_axis_index(axes: list[dict[str, Any]]) -> int | None:
    """Index of the energy-loss axis among rosettasciio axis dicts, or None if there is none.

    The energy axis is the one in eV or keV. If several are, the signal axis
    (``navigate`` False) wins, then the last one.
    """
    candidates = [
        i for i, axis in enumerate(axes) if str(axis.get("units", "")).strip().lower() in ENERGY_UNITS_TO_EV
    ]
    if not candidates:
        return None
    signal_axes = [i for i in candidates if not axes[i].get("navigate", False)]
    return (signal_axes or candidates)[-1]


def _energy_axis_from_dict(axis: dict[str, Any]) -> NDArray[np.float64]:
    """Energy axis in eV built from a rosettasciio axis dict (offset, scale, size, units)."""
    if "axis" in axis:  # non-uniform axis
        values = np.asarray(axis["axis"], dtype=np.float64)
    else:
        size = int(axis["size"])
        values = float(axis.get("offset", 0.0)) + float(axis.get("scale", 1.0)) * np.arange(size)
    return values * ENERGY_UNITS_TO_EV[str(axis["units"]).strip().lower()]


def _spectrum_from_signal_dict(
    signal: dict[str, Any], file_path: Path, plugin: str, n_signals: int
) -> Spectrum:
    """Turn one rosettasciio signal dict into a Spectrum (energy axis moved last)."""
    axes = signal["axes"]
    data = np.asarray(signal["data"])
    if data.size == 0:
        raise ValueError(f"'{file_path}' holds no data channels; the file is empty or truncated.")
    _check_declared_size(signal, data, file_path)
    energy_index = _energy_axis_index(axes)
    assert energy_index is not None
    array_index = int(axes[energy_index].get("index_in_array", energy_index))
    energy_ev = _energy_axis_from_dict(axes[energy_index])
    counts = np.moveaxis(data, array_index, -1)
    nav_axes = sorted(
        (axis for i, axis in enumerate(axes) if i != energy_index),
        key=lambda axis: int(axis.get("index_in_array", 0)),
    )
    counts, nav_axes = _drop_unit_navigation_axes(counts, nav_axes)
    metadata = {
        "format": plugin,
        "reader": f"rsciio.{plugin}",
        "energy_axis": _axis_summary(axes[energy_index]),
        "navigation_axes": [_axis_summary(axis) for axis in nav_axes],
        "signal_type": signal.get("metadata", {}).get("Signal", {}).get("signal_type", ""),
        "title": signal.get("metadata", {}).get("General", {}).get("title", ""),
        "n_signals_in_file": n_signals,
        "rsciio_metadata": signal.get("metadata", {}),
        "original_metadata": signal.get("original_metadata", {}),
    }
    energy_ev, counts = _make_increasing(energy_ev, counts, file_path)
    return Spectrum(energy_ev, counts, metadata, str(file_path))


def _check_declared_size(signal: dict[str, Any], data: NDArray[Any], file_path: Path) -> None:
    """Raise ValueError when an EMSA file holds fewer points than its header declares (truncated).

    rosettasciio reads what is there without complaint, so a half-copied ``.msa`` would otherwise
    pass as a spectrum on a shorter axis.
    """
    header = signal.get("original_metadata", {}) or {}
    declared = header.get("NPOINTS")
    if declared is None:
        return
    try:
        n_declared = int(float(declared))
    except (TypeError, ValueError):
        return
    if n_declared > 0 and data.shape[-1] != n_declared:
        raise ValueError(
            f"'{file_path}' is truncated or corrupt: its header declares {n_declared} points (#NPOINTS) but "
            f"it holds {data.shape[-1]}; copy the complete file."
        )


def _axis_summary(axis: dict[str, Any]) -> dict[str, Any]:
    """The name, units, offset, scale and size of a rosettasciio axis dict."""
    return {key: axis.get(key) for key in ("name", "units", "offset", "scale", "size")}


def _drop_unit_navigation_axes(
    counts: NDArray[Any], nav_axes: list[dict[str, Any]]
) -> tuple[NDArray[Any], list[dict[str, Any]]]:
    """Remove navigation axes of length 1 (e.g. a single spectrum stored as a 1 x n image)."""
    keep = [i for i, n in enumerate(counts.shape[:-1]) if n != 1]
    squeeze = tuple(i for i in range(counts.ndim - 1) if i not in keep)
    kept_axes = [nav_axes[i] for i in keep] if len(nav_axes) == counts.ndim - 1 else nav_axes
    return np.squeeze(counts, axis=squeeze), kept_axes


# --------------------------------------------------------------------------------------------
# two-column text
# --------------------------------------------------------------------------------------------


def _read_two_column_text(file_path: Path) -> Spectrum:
    """Read a text file of two columns, energy loss (eV) then counts."""
    delimiter = "," if file_path.suffix.lower() == ".csv" else None
    try:
        table = np.loadtxt(file_path, delimiter=delimiter, comments="#", ndmin=2)
    except ValueError:
        try:  # one header line (column names) is common in exported spectra
            table = np.loadtxt(file_path, delimiter=delimiter, comments="#", ndmin=2, skiprows=1)
        except ValueError as exc:
            raise ValueError(
                f"Could not read '{file_path}' as two numeric columns (energy loss in eV, counts): "
                f"{exc}; remove text other than one header line or '#' comments."
            ) from exc
    if table.shape[0] == 0:
        raise ValueError(f"'{file_path}' holds no data rows; the file is empty.")
    if table.shape[1] != 2:
        raise ValueError(
            f"'{file_path}' has {table.shape[1]} columns; a text spectrum needs exactly two "
            "(energy loss in eV, then counts)."
        )
    energy_ev, counts = _make_increasing(table[:, 0], table[:, 1], file_path)
    metadata = {"format": "text", "reader": "numpy.loadtxt", "energy_units_assumed": "eV"}
    return Spectrum(energy_ev, counts, metadata, str(file_path))


# --------------------------------------------------------------------------------------------
# checks shared by every format
# --------------------------------------------------------------------------------------------


def _make_increasing(
    energy_ev: NDArray[Any], counts: NDArray[Any], file_path: Path
) -> tuple[NDArray[Any], NDArray[Any]]:
    """Reverse a strictly decreasing energy axis (and the counts with it); leave others alone."""
    energy_ev = np.asarray(energy_ev, dtype=np.float64)
    if energy_ev.size > 1 and np.all(np.isfinite(energy_ev)) and np.all(np.diff(energy_ev) < 0):
        return energy_ev[::-1], np.asarray(counts)[..., ::-1]
    return energy_ev, counts


def _read_only_float_array(values: Any) -> NDArray[np.float64]:
    """A read-only float64 copy of `values`."""
    array = np.array(values, dtype=np.float64, copy=True)
    array.setflags(write=False)
    return array
