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


# ---------------------------------------------------------------------------- the low-loss region
def test_low_loss_distribution_is_poisson_in_thickness_with_plasmon_multiples():
    from eels_core.forward.scattering import drude_loss_function, low_loss_tail, single_valence_loss

    e = np.arange(0.0, 1000.0, 0.2)
    s = single_valence_loss(e, 20.0, 5.0, 4.5)
    assert s.sum() * 0.2 == pytest.approx(1.0, rel=1e-6)
    assert e[np.argmax(s)] == pytest.approx(20.0, abs=0.5)
    far = (e > 200) & (e < 800)
    slope = np.polyfit(np.log(e[far]), np.log(s[far]), 1)[0]
    assert slope == pytest.approx(-4.5, abs=0.05)  # single scattering falls as E^-r
    drude = drude_loss_function(e, 20.0, 5.0)
    assert np.polyfit(np.log(e[far]), np.log(drude[far]), 1)[0] == pytest.approx(-3.0, abs=0.05)
    for tau in (0.3, 1.0, 2.5):
        j = low_loss_tail(e, tau, 20.0, 5.0, 4.5)
        assert j.sum() * 0.2 == pytest.approx(1.0 - np.exp(-tau), rel=1e-4)  # all but the zero-loss peak
    # the n-th plasmon is a peak near n E_p whose weight relative to the first grows as t/lambda / n
    j = low_loss_tail(e, 2.0, 20.0, 3.0, 4.5)
    maxima = e[1:-1][(j[1:-1] > j[:-2]) & (j[1:-1] > j[2:])]
    for n in (1, 2, 3):
        assert np.min(abs(maxima - 20.0 * n)) < 1.5, n
    at = lambda jj, x: float(jj[np.argmin(abs(e - x))])  # noqa: E731
    thin = low_loss_tail(e, 0.5, 20.0, 3.0, 4.5)
    assert at(j, 40.0) / at(j, 20.0) == pytest.approx(4.0 * at(thin, 40.0) / at(thin, 20.0), rel=0.1)


def test_low_loss_tail_falls_steeply_between_90_and_250_ev():
    from eels_core.forward.acquisition import add_low_loss_tail

    y = (E / 50.0) ** -2.0
    out = add_low_loss_tail(y, 10.0, 1.0, 20.0, 6.0, 4.5)
    added = out - y
    ref = (E >= 90) & (E <= 100)
    assert added[0] == pytest.approx(10.0 * np.median(y[ref]))
    at = lambda x: float(added[np.argmin(abs(E - x))])  # noqa: E731
    assert at(250.0) < 0.01 * at(90.0)  # orders of magnitude in 160 eV
    assert np.all(np.diff(added[E < 300]) < 0)  # falls all the way (no multiple peaks above 90 eV here)
    assert np.all(added[E > 600] < 0.01 * y[E > 600])  # far above: under 1 % of the spectrum
    # a thick specimen with a low plasmon keeps its high multiples above 90 eV: bumps at n E_p
    thick = add_low_loss_tail(y, 10.0, 3.0, 16.0, 3.0, 4.0) - y
    local = -np.diff(np.log(thick[E < 160])) / np.diff(np.log(E[E < 160]))
    assert local.max() - local.min() > 2.0  # the local slope swings around each bump
    with pytest.raises(ValueError, match="fraction"):
        add_low_loss_tail(y, 0.0, 1.0, 20.0, 6.0, 4.5)


# ---------------------------------------------------------------------------- bad channels
def test_bad_channels_are_isolated_inside_the_window_and_of_each_kind():
    from eels_core.forward.acquisition import add_bad_channels

    y = 100.0 * (E / 50.0) ** -2.0
    out = add_bad_channels(y, E, (300.0, 700.0), 0.01, np.random.default_rng(0))
    changed = np.flatnonzero(out != y)
    inside = (E >= 300) & (E <= 700)
    assert changed.size == round(0.01 * inside.sum())
    assert np.all(inside[changed])
    ratio = out[changed] / y[changed]
    assert np.any(ratio == 0) and np.any((ratio > 0.004) & (ratio < 0.021))  # dead and weak
    assert np.any(ratio > 2.9) and np.any(ratio < -0.04)  # hot and negative
    assert np.all((ratio == 0) | ((ratio > 0.004) & (ratio < 0.021)) | (ratio > 2.9) | ((ratio < -0.04) & (ratio > -1.01)))
    one = add_bad_channels(y, E, (300.0, 700.0), 1e-6, np.random.default_rng(1))
    assert np.count_nonzero(one != y) == 1  # at least one
    np.testing.assert_array_equal(add_bad_channels(y, E, (2000.0, 2100.0), 0.01, np.random.default_rng(1)), y)


def test_bad_channels_of_a_coarse_spectrum_hit_whole_wide_channels():
    y = np.full(N_CHANNELS, 5.0)
    out = coarsen_dispersion(y, 4.0, 0.0, window_ev=(300.0, 700.0), bad_channel_fraction=0.01,
                             bad_channel_rng=np.random.default_rng(2))
    bad = np.flatnonzero(np.abs(out - 5.0) > 1e-9)
    assert bad.size > 0
    # interpolated from a 4 eV channel: each defect spans ~8 eV of the grid (a triangle), not one point
    runs = np.split(bad, np.flatnonzero(np.diff(bad) > 1) + 1)
    assert all(len(r) >= 30 for r in runs)
    with pytest.raises(ValueError, match="bad_channel_rng"):
        coarsen_dispersion(y, 4.0, 0.0, bad_channel_fraction=0.01)


def test_channels_up_to_10_ev():
    y = np.zeros(N_CHANNELS)
    y[2000] = 1.0
    out = coarsen_dispersion(y, 8.0, 0.0)
    assert out.sum() == pytest.approx(1.0, rel=1e-6) and out.max() < 0.05
    AcquisitionConfig(dispersion_ev=(1.0, 10.0))
    with pytest.raises(ValueError, match="dispersion_ev"):
        AcquisitionConfig(dispersion_ev=(1.0, 12.0))


def test_new_augmentations_are_off_by_default_and_leave_the_earlier_draws_alone():
    rng = np.random.default_rng(0)
    spectra = ((E[None, :] / 50.0) ** -rng.uniform(1.5, 3.0, (64, 1))).astype(np.float32)
    windows = np.tile([[90.0, 700.0]], (64, 1))
    base = AcquisitionConfig(coarse_dispersion_probability=0.3, pedestal_probability=0.3)
    assert not AcquisitionConfig().enabled
    assert AcquisitionConfig(low_loss_probability=0.1).enabled and AcquisitionConfig(bad_channel_probability=0.1).enabled
    a = apply_acquisition(spectra, windows, np.random.default_rng(3), base)
    b = apply_acquisition(spectra, windows, np.random.default_rng(3),
                          AcquisitionConfig(coarse_dispersion_probability=0.3, pedestal_probability=0.3,
                                            low_loss_probability=0.5, bad_channel_probability=0.5))
    np.testing.assert_array_equal(b, apply_acquisition(spectra, windows, np.random.default_rng(3),
                                                       AcquisitionConfig(coarse_dispersion_probability=0.3,
                                                                         pedestal_probability=0.3,
                                                                         low_loss_probability=0.5,
                                                                         bad_channel_probability=0.5)))
    changed = np.any(a != b, axis=1)
    assert 20 < changed.sum() < 64  # about 3 in 4 spectra get one or both
    low = E < 120
    steeper = (np.log(b[:, low][:, 0] / b[:, low][:, -1]) > np.log(a[:, low][:, 0] / a[:, low][:, -1]) + 0.05)
    assert steeper.sum() > 15  # the low-loss tail steepens the start of the survey
    with pytest.raises(ValueError, match="low_loss_tail_exponent"):
        AcquisitionConfig(low_loss_tail_exponent=(2.0, 5.0))
    with pytest.raises(ValueError, match="bad_channel_probability"):
        AcquisitionConfig(bad_channel_probability=2.0)


def test_log_uniform_dispersion_spreads_over_decades():
    spike = np.zeros((400, N_CHANNELS), dtype=np.float32)
    spike[:, 2000] = 1.0  # one grid channel: a wide channel averages it down to ~0.2 eV / dispersion
    share_below_1_ev = {}
    for log in (False, True):
        cfg = AcquisitionConfig(coarse_dispersion_probability=1.0, dispersion_ev=(0.3, 10.0), counting_noise=(0.0, 0.0),
                                dispersion_log_uniform=log)
        out = apply_acquisition(spike, None, np.random.default_rng(9), cfg)
        np.testing.assert_allclose(out.sum(axis=1), 1.0, rtol=0.1)  # channels up to 10 eV keep the area (roughly)
        estimated = 0.2 / out.max(axis=1)  # within a factor ~2 of each spectrum's dispersion
        share_below_1_ev[log] = float(np.mean(estimated < 1.0))
    assert share_below_1_ev[True] > 0.2 and share_below_1_ev[False] < 0.1
