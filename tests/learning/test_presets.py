"""Presets and recipes are data: every file loads, names are unique, errors name the file."""

from __future__ import annotations

from pathlib import Path

import pytest

from eels_core.cli import _parser
from eels_core.learning.presets import config_from_recipe, load_recipe, preset, preset_names
from eels_core.learning.training import TrainingConfig

REPO = Path(__file__).resolve().parents[2]
RECIPES = sorted((REPO / "experiments" / "recipes").glob("*.yaml"))


def test_the_four_presets_a_reader_needs():
    assert preset_names() == ("cpu-ci", "cpu-long", "cpu-joint-acquired", "gpu-full")
    assert preset("cpu-joint-acquired").rehearsal_synthesis is not None
    assert preset("gpu-full").data == "db.h5"


@pytest.mark.parametrize("path", RECIPES, ids=[p.stem for p in RECIPES])
def test_every_tried_recipe_loads_and_is_not_a_preset(path):
    name, cfg = load_recipe(path)
    assert name == path.stem
    assert isinstance(cfg, TrainingConfig)
    assert name not in preset_names()


def test_recipes_exist():
    assert len(RECIPES) >= 8


def test_cli_help_lists_every_preset(capsys):
    with pytest.raises(SystemExit):
        _parser().parse_args(["train", "--help"])
    out = capsys.readouterr().out
    for name in preset_names():
        assert name in out


def test_unknown_recipe_section_and_field_are_named(tmp_path):
    with pytest.raises(ValueError, match=r"where: unknown section\(s\) \['trainig'\]"):
        config_from_recipe({"trainig": {}}, "where")
    with pytest.raises(ValueError, match="stepz"):
        config_from_recipe({"training": {"stepz": 3}}, "where")
    with pytest.raises(ValueError, match="physics = 'measured'"):
        config_from_recipe({"synthesis": {"physics": "measured"}}, "where")
    bad = tmp_path / "bad.yaml"
    bad.write_text("training: [1, 2\n")
    with pytest.raises(ValueError, match="bad.yaml: not valid YAML"):
        load_recipe(bad)


def test_physics_beyond_paper_lists_each_changed_setting_once():
    import dataclasses
    import json

    from eels_core.learning.presets import physics_beyond_paper

    assert physics_beyond_paper(dataclasses.asdict(preset("cpu-long"))) == []  # the paper's physics only
    acquired = preset("cpu-joint-acquired")
    entries = physics_beyond_paper(json.loads(json.dumps(dataclasses.asdict(acquired))))  # as a checkpoint stores it
    found = {(e["part"], e["setting"]): e for e in entries}
    assert len(found) == len(entries)
    assert found[("acquisition", "low_loss_probability")]["value"] == 0.2
    assert found[("acquisition", "low_loss_probability")]["paper"] == 0.0
    assert found[("synthesis", "distractor_table")]["value"] == "complete"
    assert found[("windows", "min_window_ev")]["value"] == 20.0
    assert ("synthesis", "thickness") in found and ("synthesis", "psf_fwhm_gauss_ev") not in found


def test_shipped_weights_record_their_training_physics_and_the_selection_rule():
    from eels_core.learning.checkpoint import DEFAULT_WEIGHTS, read_sidecar
    from eels_core.learning.presets import physics_beyond_paper

    meta = read_sidecar(DEFAULT_WEIGHTS)
    assert meta["training_physics"] == physics_beyond_paper(meta["phases"][-1]["training_config"])
    assert meta["training_physics"], "the shipped model was trained beyond the paper's physics"
    rule = (REPO / meta["selection"]["rule_source"]).read_text()
    assert meta["selection"]["rule"].startswith("Selection rule") and "admissible" in meta["selection"]["rule"]
    assert all(line.strip() in rule for line in meta["selection"]["rule"].splitlines())
    for applied in meta["selection"]["applied"]:
        assert (REPO / applied["record"]).is_file()
    # every application of a rule on record names the weights it kept or chose: the sidecar lists them all
    listed = {applied["record"] for applied in meta["selection"]["applied"]}
    on_record = {f"experiments/selection/{p.name}" for p in (REPO / "experiments" / "selection").glob("*.json")}
    assert on_record <= listed, f"selection records missing from the sidecar: {sorted(on_record - listed)}"
    import importlib.util

    spec = importlib.util.spec_from_file_location("physics_validation", REPO / meta["selection"]["rule_source"])
    pv = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(pv)
    assert meta["selection"]["rule"] == pv.selection_rule(), "the sidecar states an older rule than the one in force"
