"""The fast rendering (``SynthesisConfig.render_version = 2``): the same draws, the same labels and
jump ratios, spectra within a small fraction of the paper's formulation, its own noise stream,
determinism, and how a database records it."""

import h5py
import numpy as np
import pytest
import scipy.stats

from eels_core.cli import main
from eels_core.forward.config import SynthesisConfig
from eels_core.forward.database import open_database, remake_command
from eels_core.forward.noise import (
    NORMAL_TABLE_SIZE,
    fixed_pattern_noise,
    normal_quantile_table,
    white_noise_fast,
)
from eels_core.forward.synthesis import (
    BLOCK_SIZE,
    _block_rng,
    render_spectra,
    render_stage_seconds,
    sample_parameters,
    synthesize,
)

PAPER = SynthesisConfig()
REAL = SynthesisConfig.with_real_data_physics()


def _fast(config: SynthesisConfig) -> SynthesisConfig:
    return config.replace(render_version=2)


def _edge_peaks(components) -> np.ndarray:
    """Largest value of every edge component (labelled and distractor), one per slot."""
    return np.concatenate([components.edges, components.distractors], axis=1).max(axis=2)


@pytest.mark.parametrize("physics,peak_tolerance", [("paper", 0.002), ("real", 0.01)])
def test_same_draws_and_labels_and_spectra_close_to_the_papers_formulation(physics, peak_tolerance):
    config = {"paper": PAPER, "real": REAL.replace(distractor_probability=0.6)}[physics]
    params = sample_parameters(_block_rng(7, 3), 4 * BLOCK_SIZE, config)
    paper = render_spectra(params, config, return_components=True)
    fast = render_spectra(params, _fast(config), return_components=True)
    np.testing.assert_array_equal(fast[1], paper[1])  # labels
    np.testing.assert_array_equal(fast[2], paper[2])  # onsets
    np.testing.assert_array_equal(fast[3], paper[3])  # jump ratios
    # each edge's height: the peak read off a window of the model grid, not off the whole convolution
    p_paper, p_fast = _edge_peaks(paper[4]), _edge_peaks(fast[4])
    present = p_paper > 0
    np.testing.assert_array_equal(p_fast > 0, present)
    assert np.max(np.abs(p_fast[present] / p_paper[present] - 1)) < peak_tolerance
    # noise-free spectra: the edges within a small fraction of their heights, the background (single
    # precision, resampled from the model grid) within a few parts in a million
    edges_paper, edges_fast = paper[4].clean - paper[4].background, fast[4].clean - fast[4].background
    scale = p_paper.max(axis=1, keepdims=True)
    assert np.max(np.abs(edges_fast - edges_paper) / scale) < peak_tolerance
    np.testing.assert_allclose(fast[4].background, paper[4].background, rtol=2e-5)
    # the components add up to the spectrum
    parts = fast[4].background + fast[4].edges.sum(axis=1) + fast[4].distractors.sum(axis=1)
    if physics == "paper":  # (the real-data physics subtracts a fitted background from some spectra)
        np.testing.assert_allclose(parts, fast[4].clean, rtol=0, atol=2e-5 * float(np.abs(fast[4].clean).max()))
    kept = ~params.background_subtracted.astype(bool)  # the others have a fitted background taken off
    np.testing.assert_allclose(fast[0][kept], (fast[4].clean + fast[4].noise)[kept].astype(np.float32), rtol=0, atol=1e-6)
    # without components the spectra are the same bits
    np.testing.assert_array_equal(render_spectra(params, _fast(config))[0], fast[0])


@pytest.mark.parametrize("config", [PAPER, REAL], ids=["paper", "real"])
def test_bit_identical_whatever_the_batch_and_threads(config):
    config = _fast(config)
    whole = synthesize(200, seed=12, config=config, n_threads=2)
    one_thread = synthesize(200, seed=12, config=config, n_threads=1)
    np.testing.assert_array_equal(whole.spectra, one_thread.spectra)
    part = synthesize(70, seed=12, config=config, start=100)
    np.testing.assert_array_equal(part.spectra, whole.spectra[100:170])
    again = render_spectra(whole.params[30:33], config)[0]  # three spectra rendered alone
    np.testing.assert_array_equal(again, whole.spectra[30:33])


def test_fast_and_paper_renderings_differ_only_in_the_rendering():
    paper = synthesize(64, seed=3)
    fast = synthesize(64, seed=3, config=_fast(PAPER))
    np.testing.assert_array_equal(fast.labels, paper.labels)
    np.testing.assert_array_equal(fast.params.noise_seed, paper.params.noise_seed)
    assert not np.array_equal(fast.spectra, paper.spectra)  # the noise is another stream


def test_white_noise_is_the_table_read_by_each_spectrums_sfc64_stream():
    seeds = np.array([0, 1, 977, 2**40 + 3], dtype=np.uint64)
    white = white_noise_fast(seeds, 1001)
    assert white.shape == (4, 1001) and white.dtype == np.float32
    table = normal_quantile_table()
    for i, s in enumerate(seeds):
        words = np.random.SFC64(int(s)).random_raw(251).astype("<u8").view("<u2")[:1001]
        np.testing.assert_array_equal(white[i], table[words])
        np.testing.assert_array_equal(white_noise_fast(seeds[i : i + 1], 1001)[0], white[i])


def test_the_normal_table_is_a_unit_normal():
    table = normal_quantile_table()
    assert table.size == NORMAL_TABLE_SIZE and np.all(np.diff(table) > 0)
    np.testing.assert_allclose(table, -table[::-1], atol=1e-6)  # symmetric
    assert abs(float(np.mean(table.astype(np.float64) ** 2)) - 1.0) < 1e-6
    assert 4.2 < table.max() < 4.4
    draws = white_noise_fast(np.arange(300), 4551).ravel()
    assert abs(draws.mean()) < 3e-3 and abs(draws.std() - 1.0) < 3e-3
    assert abs(scipy.stats.kurtosis(draws)) < 0.02
    assert scipy.stats.kstest(draws[:200_000], "norm").pvalue > 1e-3


def test_filtered_noise_has_the_papers_level():
    seeds, frames, coeff = np.arange(400), 31 + 2 * (np.arange(400) % 15), 1 + np.arange(400) / 400
    fast = fixed_pattern_noise(seeds, 2000, 0.0012, frames, coeff, fast=True)
    paper = fixed_pattern_noise(seeds + 10_000, 2000, 0.0012, frames, coeff)
    assert fast.dtype == np.float32
    ratio = fast.std(axis=1) / paper.std(axis=1)
    assert abs(np.median(ratio) - 1.0) < 0.05
    # order 2: the Savitzky-Golay filter proper
    smooth2 = fixed_pattern_noise(seeds[:5], 500, 1.0, np.full(5, 31), np.ones(5), order=2, fast=True)
    assert smooth2.shape == (5, 500) and np.all(np.isfinite(smooth2))


def test_stage_profile_names_the_fast_stages():
    params = sample_parameters(_block_rng(3, 0), BLOCK_SIZE, PAPER)
    seconds = render_stage_seconds(params, _fast(PAPER))
    for stage in ("edge peaks on the output grid", "sum the edges of each spectrum", "background (single precision)",
                  "white noise (random numbers)", "stretch and shift (interpolation)"):
        assert seconds[stage] > 0, stage
    assert "background (float64 log and exp)" not in seconds


@pytest.mark.parametrize("value", [0, 3, True, 2.5])
def test_bad_render_version_is_named(value):
    with pytest.raises(ValueError, match="render_version"):
        SynthesisConfig(render_version=value)


def test_configs_without_the_field_read_as_the_papers_formulation():
    recorded = PAPER.to_dict()
    del recorded["render_version"]
    assert SynthesisConfig.from_dict(recorded).render_version == 1
    assert SynthesisConfig.from_json(_fast(PAPER).to_json()).render_version == 2


def test_database_records_the_render_version_and_refuses_to_mix(tmp_path, capsys):
    out = tmp_path / "fast.h5"
    args = ["make-database", "--n", "64", "--out", str(out), "--shard-size", "64", "--quiet"]
    assert main(args + ["--render-version", "2"]) == 0
    db = open_database(out, verify=True)
    assert db.config.render_version == 2
    with h5py.File(out, "r") as f:
        stored = f["spectra"][()]
    np.testing.assert_array_equal(stored, synthesize(64, seed=0, config=_fast(PAPER)).spectra.astype(np.float16))
    assert "--render-version 2" in remake_command(db)
    capsys.readouterr()
    assert main(args) == 2  # the paper's formulation into the same --out would mix two databases
    assert "config differ" in capsys.readouterr().err
