"""Tests of eels_core.real.fitting: known edges and backgrounds are recovered; bad inputs raise."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import yaml

from eels_core.real.fitting import (
    MultiGaussianFit,
    fit_multi_gaussian,
    fit_power_law_background,
    subtract_power_law_background,
)
from eels_core.forward.background import power_law
from eels_core.real.onsets import estimate_onsets
from eels_core.forward.profiles import near_edge_profile

# A Ti L2,3-like edge: four white-line peaks (L3 t2g/eg, L2 t2g/eg) on an L3 and an L2 step.
TI_L_PEAKS = np.array([[458.0, 1.2, 1.0], [460.3, 1.6, 1.4], [463.5, 1.5, 0.7], [465.6, 2.0, 0.9]])
TI_L_STEPS = np.array([[457.5, 1.5, 0.3], [463.0, 1.5, 0.15]])
# An O K-like edge: three broad peaks on one step.
O_K_PEAKS = np.array([[532.0, 1.5, 0.8], [537.5, 3.0, 1.0], [545.0, 5.0, 0.6]])
O_K_STEPS = np.array([[531.0, 2.0, 0.35]])


def _noisy(energy: np.ndarray, peaks: np.ndarray, steps: np.ndarray, noise: float, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return near_edge_profile(energy, peaks, steps) + rng.normal(0.0, noise, energy.size)


def _assert_peaks_recovered(fit: MultiGaussianFit, truth: np.ndarray) -> None:
    assert fit.peaks.shape == truth.shape
    np.testing.assert_allclose(fit.peaks[:, 0], truth[:, 0], atol=0.3)
    np.testing.assert_allclose(fit.peaks[:, 1], truth[:, 1], rtol=0.15)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_l23_like_edge_is_recovered(seed: int) -> None:
    energy = np.arange(440.0, 500.0, 0.1)
    signal = 5e3 * _noisy(energy, TI_L_PEAKS, TI_L_STEPS, noise=0.01, seed=seed)

    fit = fit_multi_gaussian(energy, signal, n_peaks=4, onset_ev=456.0, fit_range_ev=(452.0, 485.0), n_steps=2)

    _assert_peaks_recovered(fit, TI_L_PEAKS)
    np.testing.assert_allclose(fit.peaks[:, 2], 5e3 * TI_L_PEAKS[:, 2], rtol=0.25)
    assert fit.r_squared > 0.99
    assert fit.residual_rms == pytest.approx(5e3 * 0.01, rel=0.3)


def test_k_like_edge_is_recovered_with_one_step() -> None:
    energy = np.arange(515.0, 575.0, 0.2)
    signal = _noisy(energy, O_K_PEAKS, O_K_STEPS, noise=0.01, seed=3)

    fit = fit_multi_gaussian(energy, signal, n_peaks=3, onset_ev=530.0, fit_range_ev=(526.0, 565.0))

    _assert_peaks_recovered(fit, O_K_PEAKS)
    assert fit.steps.shape == (1, 3)
    assert fit.steps[0, 2] == pytest.approx(O_K_STEPS[0, 2], rel=0.2)
    assert fit.r_squared > 0.99


def test_given_initial_peaks_are_used() -> None:
    energy = np.arange(515.0, 575.0, 0.2)
    signal = _noisy(energy, O_K_PEAKS, O_K_STEPS, noise=0.01, seed=4)
    start = O_K_PEAKS + np.array([0.8, 0.5, -0.2])

    fit = fit_multi_gaussian(
        energy, signal, n_peaks=3, onset_ev=530.0, fit_range_ev=(526.0, 565.0), initial_peaks=start
    )

    _assert_peaks_recovered(fit, O_K_PEAKS)


def test_fit_respects_bounds() -> None:
    energy = np.arange(440.0, 500.0, 0.1)
    signal = _noisy(energy, TI_L_PEAKS, TI_L_STEPS, noise=0.05, seed=5)

    fit = fit_multi_gaussian(energy, signal, n_peaks=6, onset_ev=456.0, fit_range_ev=(452.0, 485.0), n_steps=2)

    assert np.all(fit.peaks[:, 0] >= 456.0 - 2.0) and np.all(fit.peaks[:, 0] <= 485.0)
    assert np.all((fit.peaks[:, 1] >= 0.6) & (fit.peaks[:, 1] <= 30.0))
    assert np.all(fit.peaks[:, 2] >= 0.0)
    assert np.all((fit.steps[:, 1] >= 0.5) & (fit.steps[:, 1] <= 20.0))
    assert np.all(fit.steps[:, 2] >= 0.0)


def test_step_centre_range_is_respected() -> None:
    energy = np.arange(515.0, 575.0, 0.2)
    signal = _noisy(energy, O_K_PEAKS, O_K_STEPS, noise=0.01, seed=11)

    fit = fit_multi_gaussian(
        energy, signal, n_peaks=3, onset_ev=530.0, fit_range_ev=(526.0, 565.0), step_centre_range_ev=(529.0, 533.0)
    )

    assert np.all((fit.steps[:, 0] >= 529.0) & (fit.steps[:, 0] <= 533.0))
    _assert_peaks_recovered(fit, O_K_PEAKS)


def test_step_centre_range_outside_fit_range_raises() -> None:
    energy = np.arange(515.0, 575.0, 0.2)
    with pytest.raises(ValueError, match="step_centre_range_ev"):
        fit_multi_gaussian(
            energy, np.ones(energy.size), 1, 530.0, (526.0, 565.0), step_centre_range_ev=(580.0, 590.0)
        )


def test_model_matches_profiles() -> None:
    energy = np.arange(515.0, 575.0, 0.2)
    signal = _noisy(energy, O_K_PEAKS, O_K_STEPS, noise=0.01, seed=6)
    fit = fit_multi_gaussian(energy, signal, n_peaks=3, onset_ev=530.0, fit_range_ev=(526.0, 565.0))

    np.testing.assert_allclose(fit.model(energy), near_edge_profile(energy, fit.peaks, fit.steps))


def test_to_variant_follows_library_schema() -> None:
    energy = np.arange(515.0, 575.0, 0.2)
    signal = 1e4 * _noisy(energy, O_K_PEAKS, O_K_STEPS, noise=0.01, seed=7)
    fit = fit_multi_gaussian(energy, signal, n_peaks=3, onset_ev=530.0, fit_range_ev=(526.0, 565.0))

    variant = fit.to_variant("test oxide", "synthetic", edge_onset_ev=530.0, tail_start_ev=565.0)

    assert set(variant) >= {"name", "source", "edge_onset_ev", "tail_start_ev", "peaks", "steps", "r_squared"}
    peaks, steps = np.array(variant["peaks"]), np.array(variant["steps"])
    assert peaks.shape[1] == 3 and steps.shape[1] == 3 and steps.shape[0] >= 1
    assert np.all(peaks[:, 1] >= 0.6) and np.all(steps[:, 1] >= 0.5)
    assert np.all(peaks[:, 2] > 0) and np.all(steps[:, 2] > 0)
    assert np.all(np.concatenate([peaks[:, 0], steps[:, 0]]) >= 528.0)
    grid = np.arange(528.0, 565.0, 0.05)
    assert np.max(near_edge_profile(grid, peaks, steps)) == pytest.approx(1.0, rel=1e-3)
    assert all(isinstance(x, float) for row in variant["peaks"] for x in row)


def test_to_variant_rejects_bad_tail_span() -> None:
    energy = np.arange(515.0, 575.0, 0.2)
    signal = _noisy(energy, O_K_PEAKS, O_K_STEPS, noise=0.01, seed=8)
    fit = fit_multi_gaussian(energy, signal, n_peaks=3, onset_ev=530.0, fit_range_ev=(526.0, 565.0))

    with pytest.raises(ValueError, match="tail_start_ev - edge_onset_ev"):
        fit.to_variant("x", "synthetic", edge_onset_ev=530.0, tail_start_ev=535.0)


def test_onset_of_a_background_subtracted_edge_finds_the_shifted_edge() -> None:
    energy = np.arange(515.0, 575.0, 0.2)
    shifted = O_K_PEAKS + np.array([4.0, 0.0, 0.0])
    signal = _noisy(energy, shifted, O_K_STEPS + np.array([4.0, 0.0, 0.0]), noise=0.005, seed=9)

    onset = estimate_onsets(energy, signal, [532.0], [True], subtract_background=False)[0]

    assert 532.0 <= onset <= 536.0


# ---------------------------------------------------------------------------------------------
# power-law background
# ---------------------------------------------------------------------------------------------


def test_power_law_background_is_recovered() -> None:
    rng = np.random.default_rng(10)
    energy = np.arange(300.0, 450.0, 0.5)
    counts = rng.poisson(power_law(energy, 3e11, 3.2)).astype(float)  # ~1e4 counts per channel

    amplitude, exponent = fit_power_law_background(energy, counts, (320.0, 400.0))

    assert exponent == pytest.approx(3.2, abs=0.05)
    np.testing.assert_allclose(power_law(energy, amplitude, exponent), power_law(energy, 3e11, 3.2), rtol=0.02)


def test_subtracting_background_leaves_the_edge() -> None:
    energy = np.arange(380.0, 500.0, 0.2)
    edge = 500.0 * near_edge_profile(energy, TI_L_PEAKS, TI_L_STEPS)
    background = power_law(energy, 2e12, 3.0)

    signal, (amplitude, exponent) = subtract_power_law_background(energy, background + edge, (420.0, 450.0))

    assert exponent == pytest.approx(3.0, abs=1e-6)
    assert amplitude == pytest.approx(2e12, rel=1e-5)
    np.testing.assert_allclose(signal, edge, atol=1e-6 * background.max())


# ---------------------------------------------------------------------------------------------
# bad inputs
# ---------------------------------------------------------------------------------------------


def test_background_window_with_too_few_channels_raises() -> None:
    energy = np.arange(300.0, 450.0, 1.0)
    with pytest.raises(ValueError, match="fewer than 10"):
        fit_power_law_background(energy, power_law(energy, 1e10, 3.0), (320.0, 325.0))


def test_background_window_outside_data_raises() -> None:
    energy = np.arange(300.0, 450.0, 1.0)
    with pytest.raises(ValueError, match="holds 0 channels"):
        fit_power_law_background(energy, power_law(energy, 1e10, 3.0), (100.0, 200.0))


def test_background_window_with_non_positive_counts_raises() -> None:
    energy = np.arange(300.0, 450.0, 1.0)
    counts = power_law(energy, 1e10, 3.0)
    counts[30] = -1.0
    with pytest.raises(ValueError, match="non-positive"):
        fit_power_law_background(energy, counts, (320.0, 360.0))


def test_reversed_window_raises() -> None:
    energy = np.arange(300.0, 450.0, 1.0)
    with pytest.raises(ValueError, match="start < end"):
        fit_power_law_background(energy, power_law(energy, 1e10, 3.0), (400.0, 320.0))


def test_mismatched_lengths_raise() -> None:
    with pytest.raises(ValueError, match="energy axis has 100 channels"):
        fit_multi_gaussian(np.arange(100.0), np.ones(99), 1, 50.0, (40.0, 80.0))


def test_nan_signal_raises() -> None:
    signal = np.ones(100)
    signal[10] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        fit_multi_gaussian(np.arange(100.0), signal, 1, 50.0, (40.0, 80.0))


def test_onset_outside_fit_range_raises() -> None:
    with pytest.raises(ValueError, match="onset_ev"):
        fit_multi_gaussian(np.arange(100.0), np.ones(100), 1, 90.0, (40.0, 80.0))


def test_too_many_peaks_for_range_raises() -> None:
    with pytest.raises(ValueError, match="parameters"):
        fit_multi_gaussian(np.arange(100.0), np.ones(100), 5, 42.0, (40.0, 50.0))


def test_negative_peak_count_raises() -> None:
    with pytest.raises(ValueError, match="n_peaks"):
        fit_multi_gaussian(np.arange(100.0), np.ones(100), -1, 50.0, (40.0, 80.0))


def test_initial_peaks_of_wrong_shape_raise() -> None:
    with pytest.raises(ValueError, match="initial_peaks"):
        fit_multi_gaussian(np.arange(100.0), np.ones(100), 2, 50.0, (40.0, 80.0), initial_peaks=[[55.0, 2.0, 1.0]])


# ---------------------------------------------------------------------------------------------
# the fitted library file written by scripts/fit_real_edges.py
# ---------------------------------------------------------------------------------------------

FITTED_LIBRARY = Path(__file__).resolve().parents[2] / "eels_core" / "data" / "edge_library_fitted.yaml"


def test_fitted_library_entries_follow_the_rules() -> None:
    if not FITTED_LIBRARY.is_file():
        pytest.skip(f"{FITTED_LIBRARY} not written yet (run scripts/fit_real_edges.py)")
    data = yaml.safe_load(FITTED_LIBRARY.read_text(encoding="utf-8"))

    assert data["schema_version"] == 1
    for element in data["elements"]:
        assert element["edge"] in ("K", "L2,3")
        for variant in element["variants"]:
            peaks, steps = np.array(variant["peaks"]).reshape(-1, 3), np.array(variant["steps"]).reshape(-1, 3)
            onset, tail = variant["edge_onset_ev"], variant["tail_start_ev"]
            assert variant["source"].startswith("fitted with eels_core.real.fitting.fit_multi_gaussian to ")
            assert variant["fitted_from"] and variant["license"]
            assert variant["r_squared"] >= 0.9
            assert steps.shape[0] >= 1
            assert np.all(peaks[:, 1] >= 0.6) and np.all(steps[:, 1] >= 0.5)
            assert np.all(peaks[:, 2] > 0) and np.all(steps[:, 2] > 0)
            centres = np.concatenate([peaks[:, 0], steps[:, 0]])
            assert np.all(centres >= onset - 2.0) and np.all(centres <= tail)
            assert 15.0 <= tail - onset <= 90.0
