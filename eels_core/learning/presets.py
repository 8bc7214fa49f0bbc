"""Training presets and recipes: a training run described as data.

A *recipe* is a YAML mapping (``eels_core/data/training_presets.yaml`` holds the four *presets*
a reader needs; ``experiments/recipes/*.yaml`` the recipes that were tried and not shipped)::

    description: one sentence
    training: {steps: 18000, learning_rate: 0.002, ...}      # TrainingConfig fields
    synthesis: {physics: real-data, elnes_variation_copies: 4}  # base physics, then changed fields
    rehearsal_synthesis: {physics: paper}                    # optional
    acquisition: {coarse_dispersion_probability: 0.25}       # AcquisitionConfig fields
    network: {...}                                           # NetworkConfig fields (optional)

``physics: paper`` starts from the paper's Table 2 (:class:`~eels_core.forward.config.SynthesisConfig`),
``physics: real-data`` from :meth:`~eels_core.forward.config.SynthesisConfig.with_real_data_physics`.
"""

from __future__ import annotations

import dataclasses
import functools
import os
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from ..forward.acquisition import AcquisitionConfig
from ..forward.config import SynthesisConfig
from .network import NetworkConfig
from .training import TrainingConfig

__all__ = ["PRESETS_FILE", "preset_names", "preset_description", "preset", "all_presets", "config_from_recipe", "load_recipe"]

PRESETS_FILE = "training_presets.yaml"
_PHYSICS = {"paper": SynthesisConfig, "real-data": SynthesisConfig.with_real_data_physics}
_SECTIONS = {"description", "name", "training", "synthesis", "rehearsal_synthesis", "acquisition", "network"}


def _synthesis(section: dict[str, Any] | None, where: str) -> SynthesisConfig | None:
    if section is None:
        return None
    fields = dict(section)
    physics = fields.pop("physics", "paper")
    if physics not in _PHYSICS:
        raise ValueError(f"{where}: physics = {physics!r}; choose one of {', '.join(_PHYSICS)}")
    for key, value in fields.items():
        if isinstance(value, list):
            fields[key] = tuple(value)
    return _PHYSICS[physics](**fields)


def _tuples(section: dict[str, Any]) -> dict[str, Any]:
    return {k: tuple(v) if isinstance(v, list) else v for k, v in section.items()}


def config_from_recipe(recipe: dict[str, Any], where: str = "recipe") -> TrainingConfig:
    """The :class:`~eels_core.learning.training.TrainingConfig` a recipe mapping describes.

    Raises
    ------
    ValueError
        An unknown section or field, named with ``where`` (the file and recipe).
    """
    if not isinstance(recipe, dict):
        raise ValueError(f"{where}: a recipe must be a mapping, got {type(recipe).__name__}")
    unknown = sorted(set(recipe) - _SECTIONS)
    if unknown:
        raise ValueError(f"{where}: unknown section(s) {unknown}; known: {sorted(_SECTIONS)}")
    try:
        rehearsal = recipe.get("rehearsal_synthesis")
        return TrainingConfig(
            **recipe.get("training", {}),
            synthesis=_synthesis(recipe.get("synthesis", {}), where) or SynthesisConfig(),
            rehearsal_synthesis=None if rehearsal is None else _synthesis(rehearsal, where),
            acquisition=AcquisitionConfig(**_tuples(recipe.get("acquisition", {}))),
            network=NetworkConfig(**_tuples(recipe.get("network", {}))),
        )
    except TypeError as exc:  # an unknown field name
        raise ValueError(f"{where}: {exc}") from None


@functools.lru_cache(maxsize=1)
def _presets() -> dict[str, dict[str, Any]]:
    text = resources.files("eels_core.data").joinpath(PRESETS_FILE).read_text(encoding="utf-8")
    return yaml.safe_load(text)


def preset_names() -> tuple[str, ...]:
    """Names of the presets, in the order of the presets file."""
    return tuple(_presets())


def preset_description(name: str) -> str:
    """One-sentence description of a preset."""
    return str(_presets()[name]["description"])


def preset(name: str, **changes: Any) -> TrainingConfig:
    """A preset by name, optionally with some :class:`TrainingConfig` fields changed."""
    if name not in _presets():
        raise ValueError(
            f"unknown preset {name!r}; choose one of {', '.join(preset_names())}, or give a recipe file "
            "(eels-core train --recipe experiments/recipes/NAME.yaml)"
        )
    return dataclasses.replace(config_from_recipe(_presets()[name], f"{PRESETS_FILE}: {name}"), **changes)


def all_presets() -> dict[str, TrainingConfig]:
    """Every preset by name, in the order of the presets file."""
    return {name: preset(name) for name in preset_names()}


def load_recipe(path: str | os.PathLike[str]) -> tuple[str, TrainingConfig]:
    """Name (the file stem unless the file gives ``name``) and config of a recipe file."""
    p = Path(path)
    try:
        recipe = yaml.safe_load(p.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ValueError(f"{p}: cannot read the recipe ({exc.strerror or exc})") from None
    except yaml.YAMLError as exc:
        raise ValueError(f"{p}: not valid YAML ({' '.join(str(exc).split())})") from None
    name = str(recipe.get("name", p.stem)) if isinstance(recipe, dict) else p.stem
    return name, config_from_recipe(recipe, str(p))
