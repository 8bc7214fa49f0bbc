"""The measured reference edges (eels_core/data/measured_edges/, edge_library_measured.yaml) and their study."""

import hashlib
import importlib.util
import json
import sys
from pathlib import Path

import numpy as np
import pytest
import yaml

from eels_core.forward.config import SynthesisConfig
from eels_core.forward.edges import (
    load_edge_library,
    measured_reference_pairs,
    synthesis_library_for,
)
from eels_core.forward.profiles import near_edge_profile
from eels_core.forward.synthesis import sample_parameters

REPO = Path(__file__).resolve().parents[2]
CURVES = REPO / "eels_core" / "data" / "measured_edges" / "mnedgenet"
LIBRARY = REPO / "eels_core" / "data" / "edge_library_measured.yaml"


def _script(name: str):
    spec = importlib.util.spec_from_file_location(name, REPO / "scripts" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


fit_script = _script("fit_measured_edges")


def test_curves_are_the_copied_files_with_their_licence():
    sums = dict(line.split()[::-1] for line in (CURVES / "SHA256SUMS").read_text().splitlines())
    csvs = sorted(p.name for p in CURVES.glob("*.csv"))
    assert sorted(sums) == csvs and len(csvs) == 7
    for name in csvs:
        assert hashlib.sha256((CURVES / name).read_bytes()).hexdigest() == sums[name]
    assert (CURVES / "LICENSE").read_text().startswith("MIT License")
    assert {item.file for item in fit_script.MEASURED} == set(csvs)


def test_uniform_curve_averages_repeated_energies_and_sorts():
    energy = np.array([1.0, 1.3, 1.3, 1.1, 1.6])
    intensity = np.array([0.0, 2.0, 4.0, 1.0, 6.0])
    grid, values = fit_script.uniform_curve(energy, intensity, step_ev=0.1)
    assert np.allclose(np.diff(grid), 0.1) and grid[0] == 1.0 and grid[-1] == pytest.approx(1.6) and grid.size == 7
    assert np.allclose(np.interp([1.1, 1.3], grid, values), [1.0, 3.0])  # the two points at 1.3 eV averaged


def test_library_steps_replace_the_fitted_ones_moved_with_the_onset():
    hand = load_edge_library().element("Mn").variants[0]
    fitted = {"edge_onset_ev": hand.edge_onset_ev - 1.0, "tail_start_ev": hand.edge_onset_ev + 22.0,
              "peaks": [[640.0, 1.0, 0.5], [651.0, 1.5, 0.2]], "steps": [[640.0, 1.0, 0.01]]}
    out = fit_script.with_library_steps(fitted, hand)
    steps, peaks = np.array(out["steps"]), np.array(out["peaks"])
    assert np.allclose(steps[:, 0], hand.steps[:, 0] - 1.0) and np.allclose(steps[:, 1], hand.steps[:, 1])
    grid = np.arange(out["edge_onset_ev"] - 2.0, out["tail_start_ev"], 0.05)
    assert near_edge_profile(grid, peaks, steps).max() == pytest.approx(1.0, abs=1e-3)
    assert peaks[0, 2] / peaks[1, 2] == pytest.approx(0.5 / 0.2, rel=1e-3)  # the peaks keep their ratios


def test_the_library_is_what_the_script_fits():
    """A fresh fit of one curve gives its library entry (the fit is deterministic)."""
    item = next(i for i in fit_script.MEASURED if i.file == "Data3_LaMnO3.csv")
    energy, signal = fit_script.pre_edge_subtracted_curve(item.file)
    onset, fit = fit_script.fit_curve(energy, signal)
    hand = {v.name: v for v in load_edge_library().element("Mn").variants}[item.compared_with]
    fresh = fit_script.with_library_steps(fit.to_variant(item.name, "", onset, fit.fit_range_ev[1]), hand)
    entry = next(v for v in yaml.safe_load(LIBRARY.read_text())["elements"][0]["variants"] if v["name"] == item.name)
    assert entry["edge_onset_ev"] == fresh["edge_onset_ev"] and entry["r_squared"] == fresh["r_squared"]
    assert np.allclose(entry["peaks"], fresh["peaks"], rtol=1e-3, atol=1e-3)
    assert np.allclose(entry["steps"], fresh["steps"], rtol=1e-3, atol=1e-3)
    assert entry["r_squared"] >= fit_script.MIN_R_SQUARED


def test_measured_variants_join_only_when_asked_and_name_their_source():
    plain = [v.name for v in load_edge_library().element("Mn").variants]
    both = [v.name for v in load_edge_library(include_measured=True).element("Mn").variants]
    pairs = measured_reference_pairs()
    assert both == plain + [measured for _, measured, _ in pairs] and len(pairs) == 7
    assert all(symbol == "Mn" and hand in plain for symbol, _, hand in pairs)
    assert not any("measured" in v.name for v in synthesis_library_for(SynthesisConfig()).variants)
    for variant in yaml.safe_load(LIBRARY.read_text())["elements"][0]["variants"]:
        assert "xinhuolin/MnEdgeNet" in variant["source"] and "(MIT" in variant["source"]
        assert (REPO / variant["fitted_from"]).is_file() and variant["license"] == "MIT"


def test_a_config_with_measured_edges_draws_them():
    config = SynthesisConfig.with_real_data_physics().replace(measured_reference_edges=True, elements=("Mn",),
                                                              n_edges_probabilities=(1.0,))
    names = [v.name for v in synthesis_library_for(config).element("Mn").variants]
    params = sample_parameters(np.random.default_rng(0), 400, config)
    drawn = {names[i] for i in params.variant_index[:, 0]}
    assert {measured for _, measured, _ in measured_reference_pairs()} <= drawn


def test_measured_study_record_pairs_every_measured_variant():
    """The recorded study (experiments/diagnostics/measured-mn-study.json) pairs each measured variant with
    its hand-typed one, uses seeds of its own, and runs as recorded."""
    pv = _script("physics_validation")
    record = json.loads((REPO / "experiments" / "diagnostics" / "measured-mn-study.json").read_text())
    assert record["set"] == pv.STUDIES["measured_mn"][1] and record["seeds"] == pv.MEASURED_MN_STUDY_SEEDS
    others = [seeds for _, seeds in pv.COMPOUNDS_SETS.values()]
    assert pv.MEASURED_MN_STUDY_SEEDS not in others
    rows = record["models"][0]["rows"]
    assert [(r["kind"], r["variant"]) for r in rows] == [
        row for _, measured, hand in measured_reference_pairs() for row in (("hand-typed", hand), ("measured", measured))]
    from eels_core.learning.checkpoint import load_model

    small = pv.measured_mn_study(load_model(), 4)
    assert [(r["kind"], r["variant"], r["edge"]) for r in small] == [(r["kind"], r["variant"], "Mn L2,3") for r in rows]
