"""Access to the compiled loops of :mod:`eels_core.forward._kernels`, imported on first use
(importing numba takes a noticeable fraction of a second, which code that never synthesises
should not pay)."""

from __future__ import annotations

from types import ModuleType


def kernels() -> ModuleType:
    """The module :mod:`eels_core.forward._kernels` (compiled on first use, then cached on disk)."""
    from . import _kernels

    return _kernels
