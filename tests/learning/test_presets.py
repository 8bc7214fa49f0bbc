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
    assert preset_names() == ("cpu-ci", "cpu-long", "cpu-joint-mild", "gpu-full")
    assert preset("cpu-joint-mild").rehearsal_synthesis is not None
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
