"""The package's layering: forward model -> network and training -> real data, one way only."""

from __future__ import annotations

import subprocess
import sys

import pytest


def _modules_after(statement: str) -> set[str]:
    code = f"{statement}; import sys; print('\\n'.join(m for m in sys.modules if m.startswith('eels_core')))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    return set(out.split())


@pytest.mark.parametrize("statement", [
    "import eels_core.real.predict",
    "from eels_core.real.predict import predict_edges",
    "import eels_core.real.cli",
    "from eels_core import predict_edges",
])
def test_inference_never_imports_training_or_synthesis(statement):
    loaded = _modules_after(statement)
    assert "eels_core.real.predict" in loaded or "eels_core.real.cli" in loaded
    for forbidden in ("eels_core.learning.training", "eels_core.forward.synthesis", "eels_core.forward.acquisition",
                      "eels_core.forward.database"):
        assert forbidden not in loaded, f"{statement} imports {forbidden}"


def test_the_forward_model_never_imports_the_network_nor_torch():
    code = ("import eels_core.forward.synthesis, eels_core.forward.database, sys; "
            "print('\\n'.join(m for m in sys.modules if m.startswith(('eels_core', 'torch'))))")
    loaded = set(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split())
    assert not any(m.startswith(("eels_core.learning", "eels_core.real", "torch")) for m in loaded), loaded


@pytest.mark.parametrize("package", ["eels_core", "eels_core.forward", "eels_core.learning", "eels_core.real"])
def test_every_declared_public_name_resolves(package):
    mod = __import__(package, fromlist=["__all__"])
    assert mod.__all__
    for name in mod.__all__:
        assert getattr(mod, name) is not None, name
    with pytest.raises(AttributeError, match="no attribute"):
        getattr(mod, "no_such_name")
