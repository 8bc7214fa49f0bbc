"""The energy axis: the paper's 90-1000 eV grid, and the one validator of measured axes and counts.

Every spectrum the package handles, synthetic or measured, ends up on the grid of the paper's
Methods (90-1000 eV in 0.2 eV steps, 4551 channels). Measured spectra arrive on their own axes;
:func:`check_energy_axis` and :func:`check_counts` are the only checks of such an axis and of the
counts recorded on it (the readers, the preprocessing, the prediction and the command line all
call them), so a bad input gets the same message whichever door it came in by.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

__all__ = [
    "GRID_START_EV",
    "GRID_STOP_EV",
    "GRID_STEP_EV",
    "N_CHANNELS",
    "MIN_WINDOW_EV",
    "network_energy_axis",
    "check_energy_axis",
    "check_counts",
    "measured_window",
]

#: The network input grid (paper: 90-1000 eV at 0.2 eV).
GRID_START_EV, GRID_STOP_EV, GRID_STEP_EV = 90.0, 1000.0, 0.2
N_CHANNELS = int(round((GRID_STOP_EV - GRID_START_EV) / GRID_STEP_EV)) + 1
#: Narrowest measured window (eV) inside 90-1000 eV on which edges are named: the shipped model's
#: training saw windows down to this width.
MIN_WINDOW_EV = 35.0


def network_energy_axis() -> NDArray[np.float64]:
    """The 4551-channel grid, 90-1000 eV."""
    return GRID_START_EV + GRID_STEP_EV * np.arange(N_CHANNELS)


def _where(source: str) -> str:
    return f" of '{source}'" if source else ""


def check_energy_axis(
    energy_ev: ArrayLike, source: str = "", min_window_ev: float | None = MIN_WINDOW_EV
) -> NDArray[np.float64]:
    """Validate a measured energy axis; returns it as a float64 array.

    Parameters
    ----------
    energy_ev : array_like, shape (n,)
        Energy-loss axis in eV.
    source : str
        File or object the axis came from, named in the messages.
    min_window_ev : float or None
        Least overlap with the 90-1000 eV grid, eV; None: no overlap needed (a reader checks the
        axis before anyone asks whether edges can be named on it).

    Returns
    -------
    ndarray, shape (n,)

    Raises
    ------
    ValueError
        Not 1-D with at least 2 channels, NaN or infinite values, not strictly increasing (the
        first channel where it stops increasing is named), or less than ``min_window_ev`` inside
        90-1000 eV. Each message says how to fix it.
    """
    e = np.asarray(energy_ev, dtype=np.float64)
    where = _where(source)
    if e.ndim != 1 or e.size < 2:
        raise ValueError(f"The energy axis{where} must be 1-D with at least 2 channels, got shape {e.shape}.")
    if not np.all(np.isfinite(e)):
        raise ValueError(f"The energy axis{where} contains NaN or infinite values; fix or drop those channels.")
    steps = np.diff(e)
    if not np.all(steps > 0):
        bad = int(np.argmax(steps <= 0))
        raise ValueError(
            f"The energy axis{where} is not strictly increasing (it stops increasing at channel {bad + 1}, "
            f"{e[bad + 1]:g} eV); sort the channels by energy loss and remove duplicates, or fix the calibration."
        )
    if min_window_ev is not None:
        overlap = min(e[-1], GRID_STOP_EV) - max(e[0], GRID_START_EV)
        if overlap < min_window_ev:
            raise ValueError(
                f"The energy range{where} {e[0]:.1f}-{e[-1]:.1f} eV overlaps the model's "
                f"{GRID_START_EV:.0f}-{GRID_STOP_EV:.0f} eV range by {max(overlap, 0.0):.1f} eV; at least "
                f"{min_window_ev:g} eV are needed to name edges (check the energy calibration: offset and "
                "dispersion)."
            )
    return e


def check_counts(counts: ArrayLike, n_channels: int, source: str = "") -> NDArray[np.float64]:
    """Validate counts recorded on an axis of ``n_channels``; returns them as float64 (energy last).

    Raises
    ------
    ValueError
        The last axis is not the energy axis, or NaN / infinite values (their number is given).
    """
    c = np.asarray(counts, dtype=np.float64)
    where = _where(source)
    if c.ndim == 0 or c.shape[-1] != n_channels:
        raise ValueError(
            f"The counts{where} have shape {c.shape} but the energy axis has {n_channels} channels; "
            "the energy channels must be the last axis."
        )
    if not np.all(np.isfinite(c)):
        n_bad = int(np.count_nonzero(~np.isfinite(c)))
        raise ValueError(f"The counts{where} contain {n_bad} NaN or infinite values; fix or drop those channels.")
    return c


def measured_window(
    energy_ev: ArrayLike, source: str = "", min_window_ev: float = MIN_WINDOW_EV
) -> tuple[float, float]:
    """The part of a measured axis inside 90-1000 eV: (start, stop) in eV (the axis is checked,
    with at least ``min_window_ev`` inside 90-1000 eV)."""
    e = check_energy_axis(energy_ev, source, min_window_ev)
    return max(float(e[0]), GRID_START_EV), min(float(e[-1]), GRID_STOP_EV)
