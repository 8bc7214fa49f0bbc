"""Resampling a measured spectrum onto the network grid (eels_core.learning.preprocessing.resample_rows) and
scoring the real-spectra validation set (eels_core.real.real_spectra)."""

from __future__ import annotations

import numpy as np
import pytest

from eels_core.learning.preprocessing import GRID_STEP_EV, interp_rows, preprocess_spectrum, preprocess_window, resample_rows
from eels_core.forward.axis import network_energy_axis
from eels_core.real.real_spectra import SHIPPED_REAL_SPECTRA_DIR, load_real_spectra_index, scored_edges


def test_coarse_channels_are_interpolated_exactly_as_before():
    e = np.arange(300.0, 700.0, 0.5)
    c = np.random.default_rng(0).random((3, e.size)) + 1
    grid = network_energy_axis()
    assert np.array_equal(resample_rows(grid, e, c), interp_rows(grid, e, c))


def test_fine_channels_are_binned_not_interpolated():
    rng = np.random.default_rng(1)
    e = np.arange(500.0, 580.0, 0.035)
    grid = network_energy_axis()
    grid = grid[(grid >= e[0]) & (grid <= e[-1])]
    slope = 1000.0 + 2.0 * (e - 500.0)
    noisy = slope + rng.normal(0.0, 10.0, (4, e.size))
    binned = resample_rows(grid, e, noisy)
    linear = interp_rows(grid, e, noisy)
    truth = 1000.0 + 2.0 * (grid - 500.0)
    inner = slice(2, -2)
    # a straight line survives binning (the bin mean of a line is its value at the bin centre,
    # up to where the 0.035 eV channels fall inside the 0.2 eV bin)
    assert np.allclose(resample_rows(grid, e, slope[None])[0, inner], truth[inner], atol=2 * 0.035)
    # ~5.7 channels per bin: the noise drops by about sqrt(5.7) ~ 2.4 against interpolation
    ratio = np.std(linear[:, inner] - truth[inner]) / np.std(binned[:, inner] - truth[inner])
    assert 1.9 < ratio < 3.0


def test_fine_channels_windowed_and_full_inputs_agree():
    e = np.arange(511.2, 582.85, 0.035)
    c = 600 + np.random.default_rng(2).normal(0, 1, (2, e.size))
    full = preprocess_spectrum(e, c)
    part, window = preprocess_window(e, c)
    assert np.allclose(full[:, :2, window], part, atol=1e-5)


def test_scored_edges_rule():
    # window 357-664 eV: Ti L2,3 (456) and O K (532) count, Fe L2,3 (708) and C K (284) do not
    assert scored_edges(["Ti L2,3", "O K", "Fe L2,3", "C K"], 357.0, 664.0) == ["Ti L2,3", "O K"]
    # margins: onset >= start + 5 and <= stop - 20
    assert scored_edges(["O K"], 527.0, 552.0) == ["O K"]
    assert scored_edges(["O K"], 527.5, 552.0) == []
    assert scored_edges(["O K"], 500.0, 551.9) == []


def test_shipped_index_reads():
    records = load_real_spectra_index(SHIPPED_REAL_SPECTRA_DIR)
    assert len(records) == 22
    assert all(r.path.exists() for r in records)
    assert {r.quality_tier for r in records} <= {"A", "B", "C"}
    assert GRID_STEP_EV == pytest.approx(0.2)


def _summed_with_random_model(names):
    """(model, items) of :func:`predict_summed_files` on the shipped files ``names`` with an untrained,
    seeded network: the scoring rules are tested, not the answers."""
    import torch

    from eels_core.learning.network import CNNBiLSTM
    from eels_core.real.real_spectra import predict_summed_files

    torch.manual_seed(0)
    model = CNNBiLSTM().eval()
    records = [r for r in load_real_spectra_index(SHIPPED_REAL_SPECTRA_DIR) if r.name in names]
    return model, predict_summed_files(records, model=model, threshold=0.5)


def test_predict_summed_files_scores_only_in_window_edges():
    from eels_core.forward.edges import edge_labels

    _, items = _summed_with_random_model(("hl.msa", "Cr_L_cl.hspy"))
    labels = edge_labels()
    for it in items:
        allowed = set(scored_edges(labels, it.record.energy_min_ev, it.record.energy_max_ev))
        expected = [x for x in it.record.expected_edges if x in allowed]
        assert [labels[k] for k in np.flatnonzero(it.truth)] == [x for x in labels if x in expected]
        assert all(labels[k] in allowed for k in np.flatnonzero(it.pred))
        assert it.refused is None and it.result.probabilities.shape == (20,)
    hl = next(it for it in items if it.record.name == "hl.msa")
    assert {labels[k] for k in np.flatnonzero(hl.truth)} == {"Ti L2,3", "O K"}


def test_predict_pixel_files_scores_each_pixel_with_the_file_truth():
    from eels_core.forward.edges import edge_labels
    from eels_core.real.real_spectra import predict_pixel_files

    model, items = _summed_with_random_model(("hl.msa", "EELS_SI.dm4"))
    labels = edge_labels()
    everything = predict_pixel_files(items, model=model, threshold=1e-12)  # every edge detected
    assert [px.item.record.name for px in everything] == ["EELS_SI.dm4"]  # the single spectrum is skipped
    px = everything[0]
    assert px.n_scored == 4 and px.truth.shape == px.pred.shape == (4, 20)
    assert np.all(px.truth == px.item.truth[None, :])
    r = px.item.record
    allowed = np.isin(labels, scored_edges(labels, r.energy_min_ev, r.energy_max_ev))
    assert np.all(px.pred == allowed[None, :])  # everything detected, but only in-window edges count
    assert predict_pixel_files(items, model=model, pixel_step=3)[0].n_scored == 2  # pixels 0 and 3
    with pytest.raises(ValueError, match="pixel_step"):
        predict_pixel_files(items, model=model, pixel_step=0)
