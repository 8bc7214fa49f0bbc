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

__all__ = [
    "PRESETS_FILE", "preset_names", "preset_description", "preset", "all_presets", "config_from_recipe", "load_recipe",
    "physics_beyond_paper",
]

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


#: Training settings that decide which windows the network sees (compared with TrainingConfig()).
_WINDOW_FIELDS = ("full_window_fraction", "min_window_ev", "onset_window_fraction")


def _changed(section: dict[str, Any] | None, reference: dict[str, Any], part: str) -> list[dict[str, Any]]:
    if not section:
        return []
    return [
        {"part": part, "setting": key, "value": value, "paper": reference[key]}
        for key, value in section.items()
        if key in reference and key != "version" and _plain(value) != _plain(reference[key])
    ]


def _plain(value: Any) -> Any:
    """Tuples as lists, so that a config read back from JSON compares equal to a dataclass field."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (tuple, list)):
        return [_plain(v) for v in value]
    return value


def physics_beyond_paper(training_config: dict[str, Any]) -> list[dict[str, Any]]:
    """What a training run showed the network beyond the paper's Table 2, setting by setting.

    Parameters
    ----------
    training_config : dict
        A :class:`~eels_core.learning.training.TrainingConfig` as a plain mapping (as checkpoints
        store it: ``dataclasses.asdict`` or its JSON).

    Returns
    -------
    list of dict
        One entry per setting that differs from the paper's: ``part`` (``synthesis``,
        ``rehearsal_synthesis``, ``acquisition`` or ``windows``), ``setting`` (the field name),
        ``value`` and ``paper`` (the paper's / the default value). The shipped weights' sidecar
        lists them as ``training_physics``.
    """
    paper = _plain(dataclasses.asdict(SynthesisConfig()))
    out = _changed(_plain(training_config.get("synthesis")), paper, "synthesis")
    out += _changed(_plain(training_config.get("rehearsal_synthesis")), paper, "rehearsal_synthesis")
    out += _changed(_plain(training_config.get("acquisition")), _plain(dataclasses.asdict(AcquisitionConfig())), "acquisition")
    defaults = dataclasses.asdict(TrainingConfig())
    windows = {k: training_config[k] for k in _WINDOW_FIELDS if k in training_config}
    out += _changed(windows, {k: _plain(defaults[k]) for k in _WINDOW_FIELDS}, "windows")
    return out
