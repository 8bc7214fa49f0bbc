"""Lazy public names of a subpackage (PEP 562): a name's module is imported when it is first used.

So ``import eels_core.real.predict`` imports the forward model's axis and edge library, the network
and one checkpoint module, and never the synthesis or the training code.
"""

from __future__ import annotations

import importlib
from typing import Any, Callable


def attach(package: str, names: dict[str, list[str]]) -> tuple[Callable[[str], Any], Callable[[], list[str]], list[str]]:
    """``__getattr__``, ``__dir__`` and ``__all__`` for ``package`` exporting ``{module: [names]}``."""
    where = {name: module for module, exported in names.items() for name in exported}

    def __getattr__(name: str) -> Any:
        if name not in where:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        return getattr(importlib.import_module(f"{package}.{where[name]}"), name)

    def __dir__() -> list[str]:
        return sorted(where)

    return __getattr__, __dir__, sorted(where)
