"""Measurement augmentations: coarser dispersion, a constant pedestal, a curved background and splice
steps (eels_core.forward.acquisition)."""

import numpy as np
import pytest

from eels_core.forward.acquisition import (
    AcquisitionConfig,
    add_background_component,
    add_pedestal,
    add_splice_step,
    apply_acquisition,
    coarsen_dispersion,
)
from eels_core.forward.axis import N_CHANNELS
from eels_core.forward.axis import network_energy_axis

E = network_energy_axis()


def test_grid_dispersion_with_aligned_channels_changes_nothing():
    y = (E / 50.0) ** -3.0
    np.testing.assert_allclose(coarsen_dispersion(y, 0.2, 0.0), y, rtol=1e-9)


@pytest.mark.parametrize("dispersion", [0.3, 0.5, 1.0, 2.5])
def test_coarse_channels_keep_constants_and_ramps(dispersion):
    np.testing.assert_allclose(coarsen_dispersion(np.full(N_CHANNELS, 3.0), dispersion, 0.13), 3.0, rtol=1e-12)
    ramp = 2.0 + 0.01 * E
    out = coarsen_dispersion(ramp, dispersion, 0.07)
    inner = (E > 95) & (E < 995)  # beyond the first/last channel centre the value is held
    # exact up to the piecewise-constant reading of the grid values (at most slope x step / 2)
    np.testing.assert_allclose(out[inner], ramp[inner], rtol=0, atol=0.01 * 0.1)


def test_coarse_channels_blur_a_sharp_peak_and_keep_its_area():
    y = np.zeros(N_CHANNELS)
    y[2000] = 1.0  # one 0.2 eV channel at 490 eV
    out = coarsen_dispersion(y, 1.0, 0.3)
    assert out.max() < 0.5  # a 1 eV channel averages five grid channels
    assert out.sum() == pytest.approx(1.0, rel=1e-6)  # linear interpolation keeps the area
    assert abs(E[np.argmax(out)] - 490.0) < 1.0


def test_pedestal_is_a_fraction_of_the_window_median():
    y = (E / 50.0) ** -2.0
    out = add_pedestal(y, (400.0, 600.0), 0.5)
    inside = (E >= 400) & (E <= 600)
    np.testing.assert_allclose(out - y, 0.5 * np.median(y[inside]))
    with pytest.raises(ValueError, match="no grid point"):
        add_pedestal(y, (2000.0, 2100.0), 0.5)


def test_background_component_is_a_steeper_power_law_from_the_window_start():
    y = (E / 50.0) ** -2.0
    out = add_background_component(y, (150.0, 600.0), 2.0, 5.0)
    inside = (E >= 150) & (E <= 600)
    added = out - y
    assert added[np.argmin(abs(E - 150.0))] == pytest.approx(2.0 * np.median(y[inside]))
    # log-log slope of the added part is -5 everywhere
    slope = np.diff(np.log(added)) / np.diff(np.log(E))
    np.testing.assert_allclose(slope, -5.0, rtol=1e-6)
    # the sum is curved on a log-log plot: its local exponent steepens towards the window start
    local = -np.diff(np.log(out)) / np.diff(np.log(E))
    assert local[np.argmin(abs(E - 160))] > local[np.argmin(abs(E - 580))] > 2.0
    with pytest.raises(ValueError, match="no grid point"):
        add_background_component(y, (2000.0, 2100.0), 1.0, 4.0)


def test_apply_acquisition_is_reproducible_and_off_by_default():
    rng = np.random.default_rng(0)
    spectra = ((E[None, :] / 50.0) ** -rng.uniform(1.5, 3.0, (32, 1))).astype(np.float32)
    windows = np.tile([[300.0, 700.0]], (32, 1))
    np.testing.assert_array_equal(apply_acquisition(spectra, windows, np.random.default_rng(1), AcquisitionConfig()), spectra)
    cfg = AcquisitionConfig(coarse_dispersion_probability=0.5, pedestal_probability=0.5)
    a = apply_acquisition(spectra, windows, np.random.default_rng(1), cfg)
    b = apply_acquisition(spectra, None, np.random.default_rng(1), cfg)
    np.testing.assert_array_equal(a, apply_acquisition(spectra, windows, np.random.default_rng(1), cfg))
    changed = np.any(a != spectra, axis=1)
    assert 0 < changed.sum() < 32
    assert not np.array_equal(a, b)  # the pedestal is relative to the window's median
    # the extra background adds to the draws without changing the other augmentations' draws
    cfg_extra = AcquisitionConfig(coarse_dispersion_probability=0.5, pedestal_probability=0.5,
                                  extra_background_probability=0.5)
    c = apply_acquisition(spectra, windows, np.random.default_rng(1), cfg_extra)
    assert np.any(c != a, axis=1).sum() > 0


@pytest.mark.parametrize(
    "changes,field",
    [({"coarse_dispersion_probability": 1.5}, "coarse_dispersion_probability"),
     ({"dispersion_ev": (0.1, 1.0)}, "dispersion_ev"),
     ({"pedestal_fraction": (0.0, 1.0)}, "pedestal_fraction"),
     ({"pedestal_probability": -0.1}, "pedestal_probability"),
     ({"extra_background_probability": 2.0}, "extra_background_probability"),
     ({"extra_background_fraction": (0.0, 1.0)}, "extra_background_fraction"),
     ({"extra_background_exponent": (5.0, 3.0)}, "extra_background_exponent"),
     ({"splice_probability": 1.1}, "splice_probability"),
     ({"splice_step": (0.0, 0.1)}, "splice_step"),
     ({"splice_step": (0.1, 0.9)}, "splice_step")],
)
def test_bad_acquisition_config_names_the_field(changes, field):
    with pytest.raises(ValueError, match=field):
        AcquisitionConfig(**changes)
    with pytest.raises(ValueError, match="dispersion_ev"):
        coarsen_dispersion(np.ones(N_CHANNELS), 0.1)


def test_counting_noise_of_coarse_channels_scales_like_poisson():
    flat = np.full(N_CHANNELS, 4.0)
    quiet = coarsen_dispersion(flat, 1.0, 0.0)
    noisy = coarsen_dispersion(flat, 1.0, 0.0, noise=0.01, rng=np.random.default_rng(3))
    centre = np.isclose((E - 90.4) % 1.0, 0.0, atol=1e-6) | np.isclose((E - 90.4) % 1.0, 1.0, atol=1e-6)
    channels = noisy[centre & (E > 100) & (E < 990)]  # the grid points on the 1 eV channel centres
    assert np.std(channels) == pytest.approx(0.01 * 4.0, rel=0.15)
    np.testing.assert_allclose(quiet, 4.0)
    bright = coarsen_dispersion(np.where(E < 500, 16.0, 4.0), 1.0, 0.0, noise=0.01,
                                rng=np.random.default_rng(3), window_ev=(600.0, 900.0))
    lo, hi = bright[centre & (E > 100) & (E < 490)], bright[centre & (E > 510) & (E < 990)]
    assert np.std(lo) / np.std(hi) == pytest.approx(2.0, rel=0.25)  # sqrt(16 / 4)
    with pytest.raises(ValueError, match="rng"):
        coarsen_dispersion(flat, 1.0, 0.0, noise=0.01)
    with pytest.raises(ValueError, match="counting_noise"):
        AcquisitionConfig(counting_noise=(0.0, 0.1))


def test_splice_step_scales_everything_above_its_energy():
    y = (E / 100.0) ** -2.5
    z = add_splice_step(y, 400.0, 1.1)
    np.testing.assert_array_equal(z[E < 400.0], y[E < 400.0])
    np.testing.assert_allclose(z[E >= 400.0], 1.1 * y[E >= 400.0])
    with pytest.raises(ValueError, match="factor"):
        add_splice_step(y, 400.0, 0.0)


def test_apply_acquisition_splices_one_or_two_steps_inside_the_window():
    rng = np.random.default_rng(0)
    spectra = ((E[None, :] / 50.0) ** -rng.uniform(1.5, 3.0, (64, 1))).astype(np.float32)
    windows = np.tile([[300.0, 700.0]], (64, 1))
    b = apply_acquisition(spectra, windows, np.random.default_rng(2), AcquisitionConfig(splice_probability=1.0))
    n_steps = []
    for i in range(64):
        ratio = b[i].astype(np.float64) / spectra[i]
        jumps = np.flatnonzero(np.abs(np.diff(ratio)) > 1e-4)
        assert 1 <= jumps.size <= 2  # one or two steps in every spectrum
        assert np.all((E[jumps + 1] >= 310.0) & (E[jumps + 1] <= 690.0))  # 10 eV inside the window
        sizes = np.abs(ratio[jumps + 1] / ratio[jumps] - 1.0)
        assert np.all((sizes > 0.02 * 0.98) & (sizes < 0.15 * 1.02))
        n_steps.append(jumps.size)
    assert 10 < n_steps.count(2) < 54  # two steps in about half of them
