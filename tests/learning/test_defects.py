"""Dead, hot and negative channels (eels_core.learning.defects): found, repaired, and never an edge."""

from __future__ import annotations

import numpy as np
import pytest

from eels_core.forward.axis import network_energy_axis
from eels_core.forward.synthesis import make_parameters, render_spectra, synthesize
from eels_core.learning.defects import MAX_FRACTION, find_bad_channels, interpolate_channels, repair_bad_channels
from eels_core.learning.preprocessing import preprocess_batch, preprocess_spectrum, preprocess_window

E = network_energy_axis()


def _power_law(n: int = 2048, level: float = 1e4) -> tuple[np.ndarray, np.ndarray]:
    e = np.linspace(300.0, 811.75, n)
    return e, level * (e / 300.0) ** -3


def _box(rows: np.ndarray, dispersion_ev: float) -> np.ndarray:
    """Grid spectra as recorded with wider channels (channel means)."""
    k = int(round(dispersion_ev / 0.2))
    n = rows.shape[1] // k * k
    return rows[:, :n].reshape(rows.shape[0], -1, k).mean(axis=2)


@pytest.fixture(scope="module")
def clean():
    return synthesize(192, seed=3).spectra.astype(np.float64)


@pytest.fixture(scope="module")
def white_lines():
    """The sharpest spectra the forward model makes: narrowest PSF of Table 2, jump ratios up to 10,
    every library variant of Ti and Mn L2,3 (white lines) and C K (pi* peak), no noise."""
    rows = []
    for element in ("Ti", "Mn", "C", "Fe", "Ni", "Cu", "V", "Cr", "N"):
        for variant in range(4):
            for jump in (0.5, 3.0, 10.0):
                try:
                    p = make_parameters((element,), variants=variant, jump_ratio=jump, psf_fwhm_gauss_ev=0.1,
                                        psf_hwhm_lorentz_ev=0.1, noise_coefficient=0.0)
                except ValueError:  # fewer library variants for this element
                    continue
                rows.append(render_spectra(p)[0][0])
    return np.asarray(rows, dtype=np.float64)


@pytest.mark.parametrize("kind,value", [("dead", 0.0), ("one-percent", 0.01), ("hot", 30.0), ("negative", -1.0),
                                        ("mildly-hot", 6.0)])
def test_one_bad_channel_is_found_and_repaired(kind, value):
    e, y = _power_law()
    bad = y.copy()
    j = 1000
    bad[j] = value * y[j]
    fixed = repair_bad_channels(bad)
    assert np.flatnonzero(fixed.repaired).tolist() == [j]
    assert fixed.counts[j] == pytest.approx(y[j], rel=1e-3)  # interpolated from its neighbours
    np.testing.assert_array_equal(np.delete(fixed.counts, j), np.delete(bad, j))  # the rest bit for bit
    assert int(fixed.n_repaired) == 1


def test_two_adjacent_dead_channels_and_the_first_and_last_channel():
    e, y = _power_law()
    bad = y.copy()
    bad[[700, 701, 0, y.size - 1]] = 0.0
    fixed = repair_bad_channels(bad)
    assert np.flatnonzero(fixed.repaired).tolist() == [0, 700, 701, y.size - 1]
    np.testing.assert_allclose(fixed.counts[[700, 701]], y[[700, 701]], rtol=1e-3)
    assert fixed.counts[0] == bad[1] and fixed.counts[-1] == bad[-2]  # the nearest good channel beyond the ends


def test_clean_synthetic_spectra_have_no_bad_channel_at_any_dispersion(clean):
    assert not find_bad_channels(clean).any()
    for dispersion in (0.4, 1.0, 2.0):
        assert not find_bad_channels(_box(clean, dispersion)).any(), dispersion


def test_sharp_white_lines_and_the_carbon_pi_star_peak_are_not_bad_channels(white_lines):
    assert white_lines.shape[0] >= 60
    assert not find_bad_channels(white_lines).any()
    for dispersion in (0.4, 0.6, 1.0, 2.0):
        assert not find_bad_channels(_box(white_lines, dispersion)).any(), dispersion


def test_counting_noise_is_not_a_defect():
    rng = np.random.default_rng(1)
    e = np.linspace(200.0, 800.0, 2048)
    for level in (0.1, 1.0, 10.0, 100.0, 1e4):
        counts = rng.poisson(level * (e / 500.0) ** -3, size=(100, e.size)).astype(np.float64)
        flagged = find_bad_channels(counts).sum()
        assert flagged <= 2, (level, flagged)  # of 204,800 channels
        # a detector gain, a dark level and read-out noise change nothing
        scaled = 0.37 * counts + 2.0 + rng.normal(0.0, 0.05, counts.shape)
        assert find_bad_channels(scaled).sum() <= 2, level


def test_dead_channels_are_found_in_noisy_spectra_with_enough_counts():
    rng = np.random.default_rng(2)
    e = np.linspace(300.0, 800.0, 2048)
    counts = rng.poisson(1000.0 * (e / 300.0) ** -2, size=(50, e.size)).astype(np.float64)  # >= 140 counts
    where = rng.integers(10, e.size - 10, size=(50, 3))
    for r in range(50):
        counts[r, where[r]] = 0.0
    found = find_bad_channels(counts)
    assert all(found[r, where[r]].all() for r in range(50))
    assert found.sum() <= 150 + 2


def test_repair_is_scale_free_and_idempotent():
    e, y = _power_law()
    bad = y.copy()
    bad[[400, 900, 1500]] = [0.0, 50.0 * y[900], -y[1500]]
    masks = [find_bad_channels(bad * s) for s in (1e-300, 1e-6, 1.0, 1e300)]
    for m in masks[1:]:
        np.testing.assert_array_equal(m, masks[0])
    assert np.flatnonzero(masks[0]).tolist() == [400, 900, 1500]
    fixed = repair_bad_channels(bad)
    assert not find_bad_channels(fixed.counts).any()


def test_at_most_max_fraction_of_a_spectrum_is_repaired():
    e, y = _power_law()
    bad = y.copy()
    rng = np.random.default_rng(3)
    dead = rng.choice(np.arange(5, y.size - 5, 11), size=100, replace=False)  # 5 % of the channels
    bad[dead] = 0.0
    found = find_bad_channels(bad)
    assert found.sum() == int(MAX_FRACTION * y.size)
    assert set(np.flatnonzero(found)) <= set(dead)


def test_valid_mask_limits_the_search_and_bad_input_is_refused():
    e, y = _power_law()
    bad = y.copy()
    bad[[100, 1000]] = 0.0
    valid = np.zeros(y.size, bool)
    valid[500:] = True
    assert np.flatnonzero(find_bad_channels(bad, valid)).tolist() == [1000]
    with pytest.raises(ValueError, match="NaN or infinite"):
        find_bad_channels(np.r_[bad[:-1], np.nan])
    with pytest.raises(ValueError, match="one spectrum"):
        find_bad_channels(np.ones((2, 2, 50)))
    assert not find_bad_channels(np.ones(5)).any()  # too short to judge: nothing flagged
    assert not find_bad_channels(np.zeros((3, 100))).any()


def test_interpolate_channels_by_index():
    x = np.array([[1.0, 2.0, 99.0, 4.0, 5.0], [7.0, 0.0, 0.0, 0.0, 3.0]])
    bad = np.array([[False, False, True, False, False], [True, True, False, False, False]])
    np.testing.assert_allclose(interpolate_channels(x, bad), [[1.0, 2.0, 3.0, 4.0, 5.0], [0.0, 0.0, 0.0, 0.0, 3.0]])
    everything = interpolate_channels(x, np.ones_like(bad))
    np.testing.assert_array_equal(everything, x)  # no good channel: unchanged


def test_training_and_measured_preprocessing_use_the_same_repair(clean):
    row = clean[:1].copy()
    j = int(np.searchsorted(E, 500.0))
    spiked = row.copy()
    spiked[0, j] = 0.0
    # training batches (grid, with a window) and measured spectra give the clean input back
    window = np.array([[300.0, 700.0]])
    np.testing.assert_allclose(preprocess_batch(spiked, window), preprocess_batch(row, window), atol=0.02)
    assert np.abs(preprocess_batch(spiked, window, repair=False) - preprocess_batch(row, window)).max() > 1.0
    keep = (E >= 300.0) & (E <= 700.0)
    measured = preprocess_spectrum(E[keep], spiked[:, keep])
    np.testing.assert_allclose(measured, preprocess_spectrum(E[keep], repair_bad_channels(spiked[:, keep]).counts,
                                                             repair=False))
    np.testing.assert_allclose(measured, preprocess_spectrum(E[keep], row[:, keep]), atol=0.02)
    part, _ = preprocess_window(E[keep], spiked[:, keep])
    np.testing.assert_allclose(part, preprocess_window(E[keep], row[:, keep])[0], atol=0.02)
    # outside the window of a training spectrum nothing is touched
    assert not find_bad_channels(spiked, (E >= 600.0) & (E <= 700.0)).any()
