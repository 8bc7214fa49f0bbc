"""Every notebook runs end to end with the CI preset, and follows the book's conventions.

Executed notebooks land in book/<stem>.ipynb, where scripts/run_tests.sh re-runs them with
nbval and the Jupyter Book renders them.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
_spec = importlib.util.spec_from_file_location("execute_notebooks", REPO / "scripts" / "execute_notebooks.py")
xnb = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(xnb)

NOTEBOOKS = xnb.find_notebooks()
IDS = [p.stem for p in NOTEBOOKS]


def test_notebook_names():
    """Only NN_topic.py notebooks are run; anything else in notebooks/ is probably misnamed."""
    stray = [p.name for p in xnb.NOTEBOOK_DIR.glob("*.py") if p not in NOTEBOOKS]
    assert not stray, f"notebooks not named NN_topic.py (never executed): {stray}"


def test_presets_name_existing_notebooks():
    for name in ("ci", "full"):
        unknown = set(xnb.load_preset(name)) - set(IDS)
        assert not unknown, f"presets/{name}.yaml has entries for missing notebooks: {sorted(unknown)}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_notebook_conventions(path):
    nb = xnb.read_notebook(path)
    assert len(xnb.parameters_cells(nb)) == 1, "needs exactly one cell tagged 'parameters'"
    first_md = next((c.source for c in nb.cells if c.cell_type == "markdown"), "")
    assert "Reproduces" in first_md, "first markdown cell must say which paper section it reproduces ('Reproduces ...')"
    assert "eels_core" in first_md, "first markdown cell must name the eels_core module(s) it explains"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_notebook_executes(path):
    params = xnb.load_preset("ci").get(path.stem, {})
    out = xnb.execute(path, xnb.DEFAULT_OUT, params)
    assert out.is_file()
