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


def test_further_fresh_streams_are_scored_and_recorded(score_real, tmp_path):
    """--synthetic-streams K scores the paper physics on K more fresh streams of the --synthetic size, each of
    its own seed (none of them the validation seed), and records every stream's figures."""
    from ship_model import FRESH_STREAM_SEEDS, VALIDATION_SEED

    out = tmp_path / "cpu-joint-acquired.json"
    score_real.main(["--synthetic", "16", "--synthetic-streams", "2", "--record", str(out), "--label", "streams"])
    (run,) = json.loads(out.read_text())["runs"]
    streams = run["synthetic_paper_physics_streams"]
    assert streams["n_spectra"] == 16 and streams["seeds"] == list(FRESH_STREAM_SEEDS[:2])
    assert VALIDATION_SEED not in FRESH_STREAM_SEEDS and len(set(FRESH_STREAM_SEEDS)) == len(FRESH_STREAM_SEEDS)
    assert all(len(streams[k]) == 2 and all(0.0 <= v <= 1.0 for v in streams[k])
               for k in ("f1", "exact_accuracy", "precision", "recall"))
    assert run["synthetic_paper_physics"]["seed"] == VALIDATION_SEED
    with pytest.raises(SystemExit):
        score_real.main(["--synthetic-streams", "2"])  # needs --synthetic N
