"""scripts/score_real.py --record: the script that measures a model writes its results file."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def score_real():
    sys.path.insert(0, str(REPO / "scripts"))
    spec = importlib.util.spec_from_file_location("score_real", REPO / "scripts" / "score_real.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_record_writes_a_run_with_provenance_and_replaces_the_same_measurement(score_real, tmp_path, capsys):
    out = tmp_path / "cpu-joint-acquired.json"
    score_real.main(["--record", str(out), "--label", "shipped"])
    data = json.loads(out.read_text())
    assert data["schema"] == score_real.RESULTS_SCHEMA
    assert data["recipe"] == "cpu-joint-acquired" and data["recipe_file"] == "eels_core/data/training_presets.yaml"
    (run,) = data["runs"]
    assert run["label"] == "shipped" and len(run["weights_sha256"]) == 64
    assert run["measured_by"].startswith("scripts/score_real.py --record")
    assert run["scoring"]["optional_edges"] is True and run["scoring"]["threshold"] == 0.5
    assert run["real_summed"]["n_spectra"] == len(run["files"]) == 22
    printed = capsys.readouterr().out
    assert f"'f1': {run['real_summed']['f1']}" in printed.replace("np.float64(", "").replace(")", "")
    # the same weights scored the same way again: replaced, not appended; another run is appended
    score_real.record_run(out, {**run, "label": "again"})
    assert [r["label"] for r in json.loads(out.read_text())["runs"]] == ["again"]
    score_real.record_run(out, {**run, "weights_sha256": "0" * 64, "label": "other"})
    assert [r["label"] for r in json.loads(out.read_text())["runs"]] == ["again", "other"]


def test_recipe_of_names_the_recipe_file(score_real, tmp_path):
    info = score_real.recipe_of(Path("experiments/results/cpu-joint-splice.json"))
    assert info["recipe_file"] == "experiments/recipes/cpu-joint-splice.yaml" and info["description"]
    assert score_real.recipe_of(Path("x/no-such-recipe.json"))["recipe_file"] is None


def test_record_refuses_a_file_of_another_kind(score_real, tmp_path):
    other = tmp_path / "other.json"
    other.write_text(json.dumps({"schema": "something else", "runs": []}))
    with pytest.raises(SystemExit, match="not a results file"):
        score_real.record_run(other, {"weights_sha256": "x", "scoring": {}})
