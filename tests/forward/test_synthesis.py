"""The forward model: labels, jump ratios, onsets, class balance, determinism, errors."""

import numpy as np
import pytest

from eels_core.forward.background import measure_jump_ratio, power_law_background
from eels_core.forward.config import ELEMENTS, SynthesisConfig
from eels_core.forward.synthesis import (
    BLOCK_SIZE,
    MAX_EDGES,
    output_to_model_energy,
    render_spectra,
    SpectrumParameters,
    make_parameters,
    render_spectrum_reference,
    synthesis_stages,
    synthesize,
)

NOISE_FREE = SynthesisConfig(noise_sd=0.0)
SINGLE_EDGE = SynthesisConfig(noise_sd=0.0, n_edges_probabilities=(1.0,))


def test_shapes_types_and_label_consistency():
    b = synthesize(300, seed=3)
    assert b.spectra.shape == (300, 4551) and b.spectra.dtype == np.float32
    assert np.all(np.isfinite(b.spectra))
    assert b.labels.shape == (300, 20)
    np.testing.assert_array_equal(b.labels.sum(axis=1), b.params.n_edges)
    # onset and jump ratio present exactly where the label is
    np.testing.assert_array_equal(np.isfinite(b.edge_onset_ev), b.labels == 1)
    assert np.all((b.jump_ratio > 0) == (b.labels == 1))
    np.testing.assert_array_equal(b.index, np.arange(300))


def test_jump_ratios_within_table_1_ranges():
    from eels_core.forward.edges import load_edge_library

    lib = load_edge_library()
    b = synthesize(2000, seed=4)
    for k, el in enumerate(lib.elements):
        jr = b.jump_ratio[b.labels[:, k] == 1, k]
        assert jr.size > 0, el.symbol
        assert jr.min() >= 0.15 - 1e-6
        assert jr.max() <= el.jump_ratio_range[1] + 1e-6


@pytest.mark.parametrize("render_version,median_tolerance", [(1, 1e-3), (2, 2e-3)], ids=["paper", "fast"])
def test_measured_jump_ratio_equals_sampled(render_version, median_tolerance):
    """Single-edge, noise-free spectra: the jump ratio measured on the output equals the drawn one,
    in both renderings (the fast one reads each edge's peak off a window of the model grid)."""
    b = synthesize(400, seed=5, config=SINGLE_EDGE.replace(render_version=render_version))
    x = output_to_model_energy(b.energy_ev, b.params.stretch, b.params.shift_ev)
    rel = []
    for i in range(len(b)):
        k = int(np.flatnonzero(b.labels[i])[0])
        bg = power_law_background(x[i], b.params.background_exponent[i])
        measured = measure_jump_ratio(b.energy_ev, b.spectra[i], bg, float(b.edge_onset_ev[i, k]), window_ev=95.0)
        rel.append(measured / b.jump_ratio[i, k] - 1)
    rel = np.abs(rel)
    assert np.max(rel) < 0.02, f"worst relative error {np.max(rel):.4f}"
    assert np.median(rel) < median_tolerance


def test_onset_labels_match_edge_positions():
    """The edge appears where its label says, after stretch and shift."""
    b = synthesize(64, seed=6, config=SINGLE_EDGE)
    spectra, labels, onsets, jumps, comp = render_spectra(b.params, SINGLE_EDGE, return_components=True)
    np.testing.assert_array_equal(spectra, b.spectra)
    e = b.energy_ev
    big_shift = 0
    for i in range(len(b)):
        k = int(np.flatnonzero(labels[i])[0])
        edge = comp.edges[i, 0]
        onset = float(onsets[i, k])
        peak = edge.max()
        # nothing of the edge well before its labelled onset, most of it after
        assert edge[e < onset - 5.0].max(initial=0.0) < 0.05 * peak
        assert edge[(e >= onset) & (e <= onset + 95)].max() == pytest.approx(peak)
        # the edge's peak sits where the model-grid peak lands after stretch and shift
        stages = synthesis_stages(b.params[i], SINGLE_EDGE)
        model_peak_ev = stages.model_energy_ev[np.argmax(stages.edges_convolved[0])]
        expected = model_peak_ev * (1 + b.params.stretch[i]) + b.params.shift_ev[i]
        assert e[np.argmax(edge)] == pytest.approx(expected, abs=0.45)
        moved = abs(expected - model_peak_ev)
        big_shift += moved > 5
    assert big_shift > 10  # the check is not vacuous: many edges moved by more than 5 eV


def test_edge_count_distribution_over_10000_spectra():
    b = synthesize(10_000, seed=7)
    counts = np.bincount(b.params.n_edges, minlength=7)[1:] / 10_000
    np.testing.assert_allclose(counts, [0.20, 0.20, 0.20, 0.15, 0.15, 0.10], atol=0.02)
    # classes balanced: every element appears, none more than 1.5x the mean
    per_element = b.labels.sum(axis=0)
    assert per_element.min() > 0.66 * per_element.mean()
    assert per_element.max() < 1.5 * per_element.mean()


@pytest.mark.parametrize("start,n", [(0, 1), (5, 70), (63, 2), (100, 150)])
def test_bit_identical_whatever_the_batch(start, n):
    whole = synthesize(260, seed=11)
    part = synthesize(n, seed=11, start=start)
    np.testing.assert_array_equal(part.spectra, whole.spectra[start : start + n])
    np.testing.assert_array_equal(part.labels, whole.labels[start : start + n])
    single = synthesize(n, seed=11, start=start, n_threads=1)
    np.testing.assert_array_equal(single.spectra, part.spectra)


def test_other_seed_other_spectra():
    assert not np.array_equal(synthesize(8, seed=1).spectra, synthesize(8, seed=2).spectra)


def test_render_from_stored_parameters_regenerates():
    b = synthesize(BLOCK_SIZE, seed=12)
    again = render_spectra(b.params[10:20])[0]
    np.testing.assert_allclose(again, b.spectra[10:20], rtol=0, atol=1e-6)


def test_vectorised_equals_plain_reference_loop():
    """The batched FFT path and the plain real-space loop agree (independent implementations)."""
    b = synthesize(24, seed=13)
    for i in range(len(b)):
        ref = render_spectrum_reference(b.params[i])
        np.testing.assert_allclose(b.spectra[i], ref, rtol=0, atol=2e-3 * np.abs(ref).max())


def test_noise_level_follows_the_paper():
    """Noise sd ~ 0.0012 * C / sqrt(frame) on the output grid (the documented choice)."""
    clean = synthesize(64, seed=14, config=NOISE_FREE)
    noisy = synthesize(64, seed=14)
    noise = noisy.spectra.astype(np.float64) - clean.spectra
    expected = 0.0012 * noisy.params.noise_coefficient / np.sqrt(noisy.params.savgol_frame)
    measured = noise[:, 200:-200].std(axis=1)
    np.testing.assert_allclose(measured, expected, rtol=0.35)
    assert np.median(measured / expected) == pytest.approx(1.0, abs=0.1)


def test_shot_noise_option_adds_poisson_noise():
    cfg = SynthesisConfig(noise_sd=0.0, shot_noise_dose=(1e4, 1e4))
    clean = synthesize(16, seed=15, config=NOISE_FREE)
    shot = synthesize(16, seed=15, config=cfg)
    resid = (shot.spectra.astype(np.float64) - clean.spectra)[:, :500]
    expected_sd = np.sqrt(clean.spectra[:, :500] / 1e4)
    assert np.std(resid / expected_sd) == pytest.approx(1.0, abs=0.1)


def test_subset_of_elements_and_onsets_inside_window():
    cfg = SynthesisConfig(elements=("Si", "O", "Fe"), n_edges_probabilities=(0.3, 0.3, 0.4))
    b = synthesize(500, seed=16, config=cfg)
    allowed = [ELEMENTS.index(s) for s in ("Si", "O", "Fe")]
    assert set(np.flatnonzero(b.labels.sum(axis=0))) == set(allowed)
    on = b.edge_onset_ev[np.isfinite(b.edge_onset_ev)]
    assert on.min() >= 90.0 + cfg.onset_margin_ev - 1e-3 and on.max() <= 1000.0


@pytest.mark.parametrize(
    "kwargs,message",
    [({"n": 0}, "positive integer"), ({"n": -5}, "positive integer"), ({"n": 2.5}, "positive integer"),
     ({"n": 4, "seed": -1}, "seed"), ({"n": 4, "start": -3}, "start")],
)
def test_bad_requests(kwargs, message):
    with pytest.raises(ValueError, match=message):
        synthesize(**kwargs)


def test_max_edges_is_six():
    b = synthesize(500, seed=17)
    assert b.params.element_index.shape[1] == MAX_EDGES
    assert b.params.n_edges.max() == 6


def test_local_snr_recovers_known_noise():
    from eels_core.forward.noise import local_snr

    e = np.arange(300.0, 340.0, 0.2)
    clean = 5.0 * (e / 50) ** -2.5
    noisy = clean + np.random.default_rng(0).normal(0, clean.mean() / 40, e.size)
    assert local_snr(e, noisy, (300, 340)) == pytest.approx(40, rel=0.15)
    with pytest.raises(ValueError, match="channels"):
        local_snr(e, noisy, (300, 301))


# ---------------------------------------------------------------------------- make_parameters
def _rebuild(p):
    """make_parameters() arguments that reproduce the one drawn spectrum ``p``."""
    slots = np.flatnonzero(p.element_index[0] >= 0)
    return dict(
        elements=[ELEMENTS[int(e)] for e in p.element_index[0, slots]],
        variants=p.variant_index[0, slots].tolist(),
        jump_ratio=p.jump_ratio[0, slots].tolist(),
        tail_exponent=p.tail_exponent[0, slots].tolist(),
        psf_fwhm_gauss_ev=float(p.psf_fwhm_gauss_ev[0]),
        psf_hwhm_lorentz_ev=float(p.psf_hwhm_lorentz_ev[0]),
        background_exponent=float(p.background_exponent[0]),
        stretch=float(p.stretch[0]),
        shift_ev=float(p.shift_ev[0]),
        savgol_frame=int(p.savgol_frame[0]),
        noise_coefficient=float(p.noise_coefficient[0]),
        noise_seed=int(p.noise_seed[0]),
    )


def test_make_parameters_reproduces_drawn_spectra():
    """Hand-made parameters equal to drawn ones render the very same spectrum."""
    from eels_core.forward.synthesis import make_parameters

    b = synthesize(8, seed=21)
    for i in range(len(b)):
        p = make_parameters(**_rebuild(b.params[i]))
        spectra, labels, onsets, jumps = render_spectra(p)
        np.testing.assert_array_equal(spectra[0], b.spectra[i])
        np.testing.assert_array_equal(labels[0], b.labels[i])
        np.testing.assert_array_equal(onsets[0], b.edge_onset_ev[i])


def test_make_parameters_defaults_components_and_shot_noise():
    from eels_core.forward.synthesis import make_parameters

    p = make_parameters(["Ti", "O"], noise_coefficient=0.0)
    assert len(p) == 1 and int(p.n_edges[0]) == 2
    assert list(p.element_index[0]) == [ELEMENTS.index("Ti"), ELEMENTS.index("O"), -1, -1, -1, -1]
    spectra, labels, _, jumps, comp = render_spectra(p, return_components=True)
    assert labels[0].sum() == 2 and jumps[0, ELEMENTS.index("Ti")] == pytest.approx(0.5)
    # no noise: the spectrum is exactly background + its two edges
    np.testing.assert_allclose(spectra[0], comp.background[0] + comp.edges[0].sum(axis=0), rtol=1e-5)
    assert np.all(comp.edges[0, 2:] == 0)
    # shot noise needs a config that renders it, and then changes the spectrum
    with pytest.raises(ValueError, match="config"):
        make_parameters(["Ti"], shot_noise_dose=1e4)
    cfg = SynthesisConfig().replace(shot_noise_dose=(1e4, 1e4))
    noisy = render_spectra(make_parameters(["Ti"], shot_noise_dose=1e4, config=cfg), cfg)[0]
    quiet = render_spectra(make_parameters(["Ti"]))[0]
    assert not np.allclose(noisy, quiet)


@pytest.mark.parametrize(
    "kwargs,message",
    [({"elements": []}, "1 to 6"), ({"elements": list(ELEMENTS[:7])}, "1 to 6"),
     ({"elements": ["Xx"]}, "unknown"), ({"elements": ["Ti", "Ti"]}, "at most once"),
     ({"elements": ["Ti"], "variants": 99}, "variants"), ({"elements": ["Ti", "O"], "jump_ratio": [1, 2, 3]}, "jump_ratio"),
     ({"elements": ["Ti"], "jump_ratio": 0}, "> 0"), ({"elements": ["Ti"], "psf_fwhm_gauss_ev": 0}, "psf"),
     ({"elements": ["Ti"], "stretch": 0.7}, "stretch"), ({"elements": ["Ti"], "savgol_frame": 44}, "savgol_frame"),
     ({"elements": ["Ti"], "noise_coefficient": -1}, "noise_coefficient"),
     ({"elements": ["Ti"], "background_exponent": float("nan")}, "finite")],
)
def test_make_parameters_refuses_bad_values(kwargs, message):
    from eels_core.forward.synthesis import make_parameters

    with pytest.raises(ValueError, match=message):
        make_parameters(**kwargs)


# ---------------------------------------------------------------- beyond the paper
REAL = SynthesisConfig.with_real_data_physics()


def test_paper_config_has_the_extensions_off():
    c = SynthesisConfig()
    assert c.thickness == (0.0, 0.0) and c.distractor_probability == 0 and c.background_subtracted_probability == 0
    b = synthesize(128, seed=21)
    assert np.all(b.params.distractor_index == -1) and np.all(b.params.thickness == 0)
    assert not b.params.background_subtracted.any()


def test_distractor_edges_are_present_but_unlabelled():
    from eels_core.forward.edges import load_distractor_edges

    d = load_distractor_edges()
    assert len(d) >= 10 and all(v.symbol not in ELEMENTS for v in d)
    cfg = SynthesisConfig(noise_sd=0.0, distractor_probability=1.0, n_edges_probabilities=(1.0,))
    b = synthesize(64, seed=22, config=cfg)
    assert np.all((b.params.distractor_index >= 0).sum(axis=1) >= 1)
    assert np.all(b.labels.sum(axis=1) == 1)  # only the one labelled edge
    spectra, _, _, _, comp = render_spectra(b.params, cfg, return_components=True)
    assert np.all(comp.distractors.max(axis=2).max(axis=1) > 0)
    np.testing.assert_allclose(
        comp.background + comp.edges.sum(axis=1) + comp.distractors.sum(axis=1), spectra, rtol=1e-4, atol=1e-6
    )


def test_plural_scattering_keeps_area_and_adds_a_plasmon_replica():
    from eels_core.forward.scattering import low_loss_distribution, plural_scattering_transfer

    h = plural_scattering_transfer(4096, 0.2, np.array([0.0, 0.5]), np.array([20.0, 20.0]), np.array([5.0, 5.0]))
    assert np.allclose(h[0], 1.0) and h[1, 0] == pytest.approx(1.0)  # off / unit area
    e = np.arange(-200, 400, 0.05)
    zl, ll = low_loss_distribution(e, 0.5, 20.0, 5.0)
    assert zl + np.trapezoid(ll, e) == pytest.approx(1.0, abs=0.01)  # Lorentzian wings beyond the grid
    assert e[np.argmax(ll)] == pytest.approx(20.0, abs=0.1)
    thin = make_parameters(["Ti"], config=NOISE_FREE)
    thick_cfg = NOISE_FREE.replace(thickness=(0.0, 1.0))
    thick = SpectrumParameters.concatenate([thin])
    thick.thickness[:] = 0.8
    s_thin = render_spectra(thin, thick_cfg, return_components=True)[4].edges[0, 0]
    s_thick = render_spectra(thick, thick_cfg, return_components=True)[4].edges[0, 0]
    e_out = NOISE_FREE.output_energy_axis()
    after = (e_out > 475) & (e_out < 500)  # one plasmon above the Ti L2,3 white lines
    assert s_thick[after].mean() > 1.5 * s_thin[after].mean()
    assert s_thick.max() == pytest.approx(s_thin.max(), rel=1e-3)  # both scaled to the same jump ratio


def test_background_subtracted_spectra():
    cfg = SynthesisConfig(noise_sd=0.0, background_subtracted_probability=1.0)
    b = synthesize(16, seed=23, config=cfg)
    assert b.params.background_subtracted.all()
    spectra, _, _, _, comp = render_spectra(b.params, cfg, return_components=True)
    np.testing.assert_allclose(spectra, comp.edges.sum(axis=1), atol=1e-5)


def test_background_subtraction_with_fit_errors_leaves_the_extrapolation_residual():
    from eels_core.forward.background import extrapolated_background_fit, power_law_background
    from eels_core.forward.synthesis import SpectrumParameters, output_to_model_energy, render_spectrum_reference

    exact = SynthesisConfig(noise_sd=0.0, background_subtracted_probability=1.0)
    cfg = exact.replace(background_fit_error_sd=(0.3, 0.1))
    b = synthesize(16, seed=23, config=cfg)
    p = b.params
    # drawn after everything else: the spectra's other choices are those of the exact subtraction
    np.testing.assert_array_equal(b.labels, synthesize(16, seed=23, config=exact).labels)
    assert np.abs(p.background_fit_exponent_error).max() > 0.1 and p.background_fit_scale_error.min() >= -0.5
    lowest = np.array([min(o for o in row if np.isfinite(o)) for row in b.edge_onset_ev])
    e_fit_out = p.background_fit_reference_ev * (1 + p.stretch) + p.shift_ev  # fit window on the output axis
    assert np.all(lowest - e_fit_out > 3.0 * 0.95) and np.all(lowest - e_fit_out < 30.0 * 1.05 + 1.0)
    # the residual is exactly the true background minus the extrapolated fit
    x = output_to_model_energy(cfg.output_energy_axis(), p.stretch, p.shift_ev)
    residual = power_law_background(x, p.background_exponent[:, None]) - extrapolated_background_fit(
        x, p.background_exponent[:, None], p.background_fit_reference_ev[:, None],
        p.background_fit_exponent_error[:, None], p.background_fit_scale_error[:, None])
    _, _, _, _, comp = render_spectra(p, cfg, return_components=True)
    np.testing.assert_allclose(b.spectra, comp.edges.sum(axis=1) + residual, atol=1e-5)
    # at the fit window the residual is -scale_error x the background there
    at_fit = power_law_background(p.background_fit_reference_ev, p.background_exponent)
    np.testing.assert_allclose(
        power_law_background(p.background_fit_reference_ev, p.background_exponent)
        - extrapolated_background_fit(p.background_fit_reference_ev, p.background_exponent,
                                      p.background_fit_reference_ev, p.background_fit_exponent_error,
                                      p.background_fit_scale_error),
        -p.background_fit_scale_error * at_fit, rtol=1e-9)
    for i in range(3):
        ref = render_spectrum_reference(p[i], cfg)
        np.testing.assert_allclose(b.spectra[i], ref, rtol=0, atol=3e-3 * np.abs(ref).max())
    # databases written before these fields existed read as exact subtraction
    old = {k: v for k, v in p.to_dict().items() if not k.startswith("background_fit_")}
    back = SpectrumParameters.from_dict(old)
    assert np.all(back.background_fit_exponent_error == 0) and np.all(back.background_fit_scale_error == 0)
    np.testing.assert_allclose(render_spectra(back, exact)[0], synthesize(16, seed=23, config=exact).spectra, atol=1e-6)


def test_real_data_physics_matches_the_plain_loop():
    b = synthesize(12, seed=24, config=REAL.replace(distractor_probability=1.0, thickness=(0.3, 0.8)))
    cfg = REAL.replace(distractor_probability=1.0, thickness=(0.3, 0.8))
    for i in range(len(b)):
        ref = render_spectrum_reference(b.params[i], cfg)
        np.testing.assert_allclose(b.spectra[i], ref, rtol=0, atol=3e-3 * np.abs(ref).max())


def test_elnes_variation_draws_from_the_varied_library():
    cfg = SynthesisConfig(elnes_variation_copies=2)
    a = synthesize(32, seed=5, config=cfg)
    np.testing.assert_array_equal(a.spectra, synthesize(32, seed=5, config=cfg).spectra)
    from eels_core.forward.edges import load_edge_library

    n_original = np.array([len(el.variants) for el in load_edge_library().elements])
    slots = a.params.element_index >= 0
    idx, elem = a.params.variant_index[slots], a.params.element_index[slots]
    assert np.all(idx < 3 * n_original[elem])  # the originals and two copies of each
    assert np.any(idx % 3 != 0)  # copies (every variant is followed by its two copies) are drawn
    assert not np.array_equal(a.spectra, synthesize(32, seed=5).spectra)


def test_steeper_backgrounds_stronger_edges_and_scaled_noise():
    from eels_core.forward.edges import load_edge_library
    from eels_core.forward.synthesis import noise_scale, render_spectrum_reference

    paper = synthesize(256, seed=9)
    cfg = SynthesisConfig(background_exponent_range=(1.5, 5.0), noise_reference_ev=300.0, jump_ratio_max_scale=3.0)
    wide = synthesize(256, seed=9, config=cfg)
    # r is drawn last: the elements and variants of the paper's stream are unchanged
    np.testing.assert_array_equal(wide.labels, paper.labels)
    r = wide.params.background_exponent
    assert 1.5 <= r.min() and r.max() <= 5.0 and r.std() > 0.8  # uniform, not N(1.88, 0.2)
    jr_max = np.array([el.jump_ratio_range[1] for el in load_edge_library().elements])
    present = wide.labels > 0
    assert np.all(wide.jump_ratio[present] <= 3.0 * np.broadcast_to(jr_max, present.shape)[present] + 1e-6)
    assert np.mean(wide.jump_ratio[present] > np.broadcast_to(jr_max, present.shape)[present]) > 0.2
    # the noise factor keeps the noise-to-background ratio at E_ref independent of r
    factors = noise_scale(np.array([1.88, 3.0, 5.0]), cfg)
    np.testing.assert_allclose(factors[0], 1.0)
    background_ref = (300.0 / 50.0) ** -np.array([1.88, 3.0, 5.0])
    np.testing.assert_allclose(factors / background_ref, 1.0 / background_ref[0])
    np.testing.assert_array_equal(noise_scale(r, SynthesisConfig()), 1.0)
    # the batched renderer and the one-spectrum reference agree with these options too
    one = wide.params[3:4]
    ref = render_spectrum_reference(one, cfg)
    np.testing.assert_allclose(wide.spectra[3], ref, rtol=0, atol=3e-3 * np.abs(ref).max())


def test_noise_that_follows_the_background():
    from eels_core.forward.synthesis import noise_profile, noise_scale, render_spectra, render_spectrum_reference

    cfg = SynthesisConfig(background_exponent_range=(1.5, 5.0), noise_reference_ev=300.0, noise_follows_background=True)
    flat = cfg.replace(noise_follows_background=False)
    r = np.array([1.88, 3.0, 5.0])
    energy = np.array([150.0, 300.0, 600.0, 900.0])
    profile = noise_profile(r, energy, cfg)
    np.testing.assert_allclose(profile[:, 1], noise_scale(r, cfg))  # unchanged at E_ref
    np.testing.assert_allclose(noise_profile(r, energy, flat), noise_scale(r, cfg)[:, None])  # one factor per spectrum
    # relative to the background (E/E_ref)^-r the noise grows as (E/E_ref)^(r/2), not (E/E_ref)^r
    relative = profile / (energy[None, :] / 300.0) ** -r[:, None]
    np.testing.assert_allclose(relative / relative[:, 1:2], (energy[None, :] / 300.0) ** (0.5 * r[:, None]))
    # the same spectra, with noise that follows the background: smaller where the background is high
    wide = synthesize(64, seed=5, config=cfg)
    same = synthesize(64, seed=5, config=flat)
    np.testing.assert_array_equal(wide.labels, same.labels)
    _, _, _, _, parts = render_spectra(wide.params, cfg, return_components=True)
    _, _, _, _, flat_parts = render_spectra(wide.params, flat, return_components=True)
    grid = cfg.output_energy_axis()
    low, high = grid < 250.0, grid > 400.0
    steep = wide.params.background_exponent > 3.0
    assert np.all(np.std(parts.noise[steep][:, low], axis=1) > np.std(flat_parts.noise[steep][:, low], axis=1))
    assert np.all(np.std(parts.noise[steep][:, high], axis=1) < np.std(flat_parts.noise[steep][:, high], axis=1))
    # the batched renderers and the one-spectrum reference agree
    ref = render_spectrum_reference(wide.params[3:4], cfg)
    for version in (1, 2):
        spectra = synthesize(8, seed=5, config=cfg.replace(render_version=version)).spectra
        # float32 rendering of a noise that is up to (90/300)^(-5/2) = 20 times the flat one at 90 eV
        np.testing.assert_allclose(spectra[3], ref, rtol=0, atol=5e-3 * np.abs(ref).max())
    with pytest.raises(ValueError, match="noise_follows_background"):
        SynthesisConfig(noise_follows_background=True)


def test_noise_with_a_share_of_read_out_noise():
    from eels_core.forward.synthesis import SpectrumParameters, noise_profile, render_spectrum_reference

    counted = SynthesisConfig(background_exponent_range=(1.5, 5.0), noise_reference_ev=300.0, noise_follows_background=True)
    mixed = counted.replace(noise_shot_fraction=(0.0, 1.0))
    r = np.array([3.0, 3.0, 3.0])
    energy = np.array([100.0, 300.0, 900.0])
    w = np.array([1.0, 0.0, 0.5])
    profile = noise_profile(r, energy, mixed, w)
    flat = noise_profile(r, energy, counted.replace(noise_follows_background=False))
    np.testing.assert_array_equal(profile[0], noise_profile(r, energy, counted)[0])  # all shot noise, to the bit
    np.testing.assert_allclose(profile[1], np.full(3, flat[1, 0]))  # all read-out noise: the flat one
    np.testing.assert_allclose(profile[:, 1], flat[:, 0])  # every share: the same size at E_ref
    # half and half: the variances add
    np.testing.assert_allclose(profile[2] ** 2, 0.5 * profile[0] ** 2 + 0.5 * profile[1] ** 2)
    # the share is drawn last: labels and every other parameter as without it
    a = synthesize(200, seed=3, config=counted)
    b = synthesize(200, seed=3, config=mixed)
    np.testing.assert_array_equal(a.labels, b.labels)
    np.testing.assert_array_equal(a.params.background_exponent, b.params.background_exponent)
    np.testing.assert_array_equal(a.params.noise_shot_fraction, 1.0)
    share = b.params.noise_shot_fraction
    assert share.min() >= 0.0 and share.max() <= 1.0 and 0.3 < share.mean() < 0.7
    # databases written before the field read as all shot noise
    old = {k: v for k, v in b.params.to_dict().items() if k != "noise_shot_fraction"}
    np.testing.assert_array_equal(SpectrumParameters.from_dict(old).noise_shot_fraction, 1.0)
    # the batched renderers and the one-spectrum reference agree
    i = int(np.argmin(np.abs(share[:8] - 0.5)))
    ref = render_spectrum_reference(b.params[i:i + 1], mixed)
    for version in (1, 2):
        spectra = synthesize(8, seed=3, config=mixed.replace(render_version=version)).spectra
        np.testing.assert_allclose(spectra[i], ref, rtol=0, atol=5e-3 * np.abs(ref).max())
    with pytest.raises(ValueError, match="noise_shot_fraction needs noise_follows_background"):
        SynthesisConfig(noise_shot_fraction=(0.0, 1.0))
    with pytest.raises(ValueError, match="noise_shot_fraction"):
        counted.replace(noise_shot_fraction=(0.5, 1.5))


def test_steep_backgrounds_on_a_fraction_of_the_spectra():
    paper = synthesize(400, seed=11)
    every = synthesize(400, seed=11, config=SynthesisConfig(background_exponent_range=(3.0, 5.0)))
    half = synthesize(400, seed=11, config=SynthesisConfig(background_exponent_range=(3.0, 5.0),
                                                           background_exponent_range_probability=0.5))
    np.testing.assert_array_equal(half.labels, paper.labels)
    r_paper, r_every, r_half = (b.params.background_exponent for b in (paper, every, half))
    kept = r_half == r_paper
    steep = r_half == r_every
    assert np.all(kept | steep)  # each spectrum has one draw or the other
    assert 0.4 < steep.mean() < 0.6
    assert np.all(r_half[steep] >= 3.0) and np.all(r_half[kept] < 3.0)
    # probability 1 (the default) gives every spectrum the steep draw, probability 0 none
    assert np.all((r_every >= 3.0) & (r_every <= 5.0))
    none = synthesize(400, seed=11, config=SynthesisConfig(background_exponent_range=(3.0, 5.0),
                                                           background_exponent_range_probability=0.0))
    np.testing.assert_array_equal(none.params.background_exponent, r_paper)
    with pytest.raises(ValueError, match="background_exponent_range_probability"):
        SynthesisConfig(background_exponent_range=(3.0, 5.0), background_exponent_range_probability=1.5)


@pytest.mark.parametrize("changes,field", [
    ({"background_exponent_range": (0.0, 5.0)}, "background_exponent_range"),
    ({"noise_reference_ev": 10.0}, "noise_reference_ev"),
    ({"jump_ratio_max_scale": 0.5}, "jump_ratio_max_scale"),
    ({"background_fit_error_sd": (0.1, -0.1)}, "background_fit_error_sd"),
    ({"exelfs_probability": 1.5}, "exelfs_probability"),
    ({"exelfs_amplitude": (0.2, 0.1)}, "exelfs_amplitude"),
    ({"exelfs_distance_a": (0.1, 3.0)}, "exelfs_distance_a"),
    ({"exelfs_debye_waller_a2": (-0.01, 0.01)}, "exelfs_debye_waller_a2"),
    ({"exelfs_second_shell_probability": -0.1}, "exelfs_second_shell_probability"),
    ({"exelfs_second_shell_distance_ratio": (0.5, 2.0)}, "exelfs_second_shell_distance_ratio"),
    ({"exelfs_second_shell_amplitude_ratio": (0.5, 0.2)}, "exelfs_second_shell_amplitude_ratio"),
    ({"exelfs_third_shell_probability": 1.5}, "exelfs_third_shell_probability"),
    ({"exelfs_third_shell_distance_ratio": (3.0, 2.0)}, "exelfs_third_shell_distance_ratio"),
    ({"exelfs_third_shell_amplitude_ratio": (-0.1, 0.2)}, "exelfs_third_shell_amplitude_ratio"),
    ({"emphasised_elements": ("N", "U")}, "emphasised_elements"),
    ({"elements": ("B", "C"), "n_edges_probabilities": (1.0,), "emphasised_elements": ("N",)}, "emphasised_elements"),
    ({"emphasised_elements": ("N", "N")}, "emphasised_elements"),
    ({"emphasised_elements": ("N",), "element_emphasis_weight": 0.5}, "element_emphasis_weight"),
    ({"element_emphasis_weight": 3.0}, "element_emphasis_weight"),
])
def test_bad_real_data_options(changes, field):
    with pytest.raises(ValueError, match=field):
        SynthesisConfig(**changes)


def test_exelfs_modulates_edge_tails_and_leaves_the_other_draws_alone():
    plain = synthesize(64, seed=31, config=REAL)
    assert np.all(plain.params.exelfs_amplitude == 0)
    cfg = REAL.replace(exelfs_probability=1.0)
    b = synthesize(64, seed=31, config=cfg)
    p = b.params
    # drawn after everything else: elements, jump ratios and the rest of the stream are unchanged
    np.testing.assert_array_equal(b.labels, plain.labels)
    np.testing.assert_array_equal(p.jump_ratio, plain.params.jump_ratio)
    np.testing.assert_array_equal(p.distractor_index, plain.params.distractor_index)
    has_edge = np.concatenate([p.element_index >= 0, p.distractor_index >= 0], axis=1)
    assert np.all((p.exelfs_amplitude > 0) == has_edge)
    lo, hi = cfg.exelfs_amplitude
    assert lo <= p.exelfs_amplitude[has_edge].min() and p.exelfs_amplitude.max() <= hi
    assert not np.allclose(b.spectra, plain.spectra, atol=1e-4)
    # the batched renderer, the plain loop and the teaching stages agree
    for i in range(3):
        ref = render_spectrum_reference(p[i], cfg)
        np.testing.assert_allclose(b.spectra[i], ref, rtol=0, atol=3e-3 * np.abs(ref).max())
    one = p[0:1]
    np.testing.assert_allclose(synthesis_stages(one, cfg).final, b.spectra[0], rtol=0, atol=1e-5)
    # databases written before these fields existed read as smooth tails
    old = {k: v for k, v in p.to_dict().items() if not k.startswith("exelfs_")}
    back = SpectrumParameters.from_dict(old)
    np.testing.assert_allclose(render_spectra(back, REAL)[0], plain.spectra, atol=1e-6)


def test_exelfs_modulation_follows_the_single_scattering_formula():
    from eels_core.forward.edges import EXELFS_REFERENCE_K, exelfs_modulation, photoelectron_wavenumber

    # a free electron of 100 eV has k = 5.123 / Angstrom (wavelength 1.226 Angstrom)
    np.testing.assert_allclose(photoelectron_wavenumber(100.0), 2 * np.pi / 1.2264, rtol=1e-3)
    e = np.arange(150.0, 900.0, 0.05)
    onset = 300.0
    f = exelfs_modulation(e, onset, 0.2, 2.5, 0.0, 0.0)
    assert np.all(f[e <= onset] == 1.0)
    assert np.all(exelfs_modulation(e, onset, 0.0, 2.5, 0.3, 0.01) == 1.0)
    k = photoelectron_wavenumber(e - onset)
    # zeros of sin(2kR): successive ones are pi / (2R) apart in k
    above = (k > EXELFS_REFERENCE_K) & (k < 10)
    crossings = k[above][np.flatnonzero(np.diff(np.sign(f[above] - 1.0)) != 0)]
    np.testing.assert_allclose(np.diff(crossings), np.pi / (2 * 2.5), atol=0.02)
    # the envelope: A at k_ref, A k_ref / k beyond it (no damping), continuous
    envelope = np.abs(f - 1.0)
    near = np.abs(k - EXELFS_REFERENCE_K) < 0.4
    assert envelope[near].max() <= 0.2 + 1e-9
    far = (k > 8) & (k < 9)
    assert 0.2 * EXELFS_REFERENCE_K / 9 - 1e-6 <= envelope[far].max() <= 0.2 * EXELFS_REFERENCE_K / 8
    damped = np.abs(exelfs_modulation(e, onset, 0.2, 2.5, 0.0, 0.01) - 1.0)
    assert damped[far].max() < 0.5 * envelope[far].max()  # exp(-2 * 0.01 * (64 - 9)) = 0.33
    # one modulation per edge when the parameters are columns
    two = exelfs_modulation(e, np.array([[300.0], [500.0]]), np.array([[0.2], [0.1]]), 2.5, 0.0, 0.0)
    assert two.shape == (2, e.size)
    np.testing.assert_allclose(two[0], f)


def test_a_second_shell_adds_its_own_oscillation():
    """Two shells: chi is the sum of the two single-shell terms, with one envelope; amplitude 0 for the
    second shell gives the one-shell modulation bit for bit."""
    from eels_core.forward.edges import exelfs_modulation

    e = np.arange(150.0, 900.0, 0.05)
    one = exelfs_modulation(e, 300.0, 0.2, 1.45, 0.3, 0.005)
    other = exelfs_modulation(e, 300.0, 0.1, 2.5, 1.1, 0.005)
    both = exelfs_modulation(e, 300.0, 0.2, 1.45, 0.3, 0.005, second_amplitude=0.1, second_distance_a=2.5,
                             second_phase=1.1)
    np.testing.assert_allclose(both - 1.0, (one - 1.0) + (other - 1.0), atol=1e-12)
    assert np.array_equal(exelfs_modulation(e, 300.0, 0.2, 1.45, 0.3, 0.005, second_amplitude=0.0), one)
    assert np.abs(both - one).max() > 0.05  # the second shell is seen


def test_a_third_shell_adds_its_own_oscillation():
    """Three shells: chi is the sum of the three single-shell terms; amplitude 0 for the third shell
    gives the two-shell modulation bit for bit."""
    from eels_core.forward.edges import exelfs_modulation

    e = np.arange(150.0, 900.0, 0.05)
    two = exelfs_modulation(e, 300.0, 0.2, 1.45, 0.3, 0.005, second_amplitude=0.1, second_distance_a=2.5,
                            second_phase=1.1)
    third = exelfs_modulation(e, 300.0, 0.05, 3.33, 2.0, 0.005)
    three = exelfs_modulation(e, 300.0, 0.2, 1.45, 0.3, 0.005, second_amplitude=0.1, second_distance_a=2.5,
                              second_phase=1.1, third_amplitude=0.05, third_distance_a=3.33, third_phase=2.0)
    np.testing.assert_allclose(three - 1.0, (two - 1.0) + (third - 1.0), atol=1e-12)
    assert np.array_equal(exelfs_modulation(e, 300.0, 0.2, 1.45, 0.3, 0.005, second_amplitude=0.1,
                                            second_distance_a=2.5, second_phase=1.1, third_amplitude=0.0), two)
    assert np.abs(three - two).max() > 0.02  # the third shell is seen


@pytest.mark.parametrize("shell, fewer, on, probability", [
    ("second", {"exelfs_probability": 1.0}, "exelfs_amplitude", 0.5),
    ("third", {"exelfs_probability": 1.0, "exelfs_second_shell_probability": 0.5}, "exelfs_second_amplitude", 0.6),
])
def test_further_shells_are_drawn_only_when_asked_and_rendered_alike(shell, fewer, on, probability):
    """A second shell is drawn only on edges with extended fine structure, a third only on edges with
    a second, each only with its probability above 0 (the streams with fewer shells keep their bits);
    the batched renderer, the plain loop and the teaching stages agree on it."""
    cfg = REAL.replace(**fewer)
    plain = synthesize(32, seed=31, config=cfg)
    amplitude = f"exelfs_{shell}_amplitude"
    assert not getattr(plain.params, amplitude).any()
    more = cfg.replace(**{f"exelfs_{shell}_shell_probability": probability})
    b = synthesize(32, seed=31, config=more)
    p = b.params
    for name in ("exelfs_amplitude", "exelfs_distance_a", on):
        np.testing.assert_array_equal(getattr(p, name), getattr(plain.params, name))
    drawn, under = getattr(p, amplitude) > 0, getattr(p, on) > 0
    assert drawn.any() and (under & ~drawn).any() and not (drawn & ~under).any()
    ratio = getattr(p, amplitude)[drawn] / p.exelfs_amplitude[drawn]
    lo, hi = getattr(more, f"exelfs_{shell}_shell_amplitude_ratio")
    assert lo <= ratio.min() and ratio.max() <= hi
    r = getattr(p, f"exelfs_{shell}_distance_a")[drawn] / p.exelfs_distance_a[drawn]
    lo, hi = getattr(more, f"exelfs_{shell}_shell_distance_ratio")
    assert lo - 1e-12 <= r.min() and r.max() <= hi + 1e-12
    with_shell = np.flatnonzero(drawn.any(axis=1))[:3]
    for i in with_shell:
        ref = render_spectrum_reference(p[int(i)], more)
        np.testing.assert_allclose(b.spectra[i], ref, rtol=0, atol=3e-3 * np.abs(ref).max())
    i = int(with_shell[0])
    np.testing.assert_allclose(synthesis_stages(p[i:i + 1], more).final, b.spectra[i], rtol=0, atol=1e-5)
    assert not np.allclose(b.spectra[with_shell], plain.spectra[with_shell], atol=1e-4)


# ---------------------------------------------------------------------------- the fast renderer
# Each optimisation of render_spectra keeps every spectrum's bits: the tests below compare each
# optimised step with its plain formulation bit for bit, and the whole renderer with the
# independent one-spectrum loop for several seeds and both physics.

@pytest.mark.parametrize("seed", [0, 31, 2024])
@pytest.mark.parametrize("physics", ["paper", "real", "real-all-extras"])
def test_fast_renderer_equals_plain_reference_loop(seed, physics):
    config = {
        "paper": SynthesisConfig(),
        "real": REAL,
        "real-all-extras": REAL.replace(distractor_probability=1.0, background_subtracted_probability=0.5,
                                        background_fit_error_sd=(0.05, 0.05), exelfs_probability=0.5),
    }[physics]
    b = synthesize(10, seed=seed, config=config, start=64 * seed)
    for i in range(len(b)):
        ref = render_spectrum_reference(b.params[i], config)
        np.testing.assert_allclose(b.spectra[i], ref, rtol=0, atol=3e-3 * np.abs(ref).max())


def test_render_stage_seconds_profiles_the_same_rendering():
    from eels_core.forward.synthesis import render_stage_seconds, sample_parameters, _block_rng

    params = sample_parameters(_block_rng(3, 0), BLOCK_SIZE, REAL)
    seconds = render_stage_seconds(params, REAL)
    for stage in ("FFT of the edges", "inverse FFT", "background (float64 log and exp)",
                  "white noise (random numbers)", "Savitzky-Golay filter", "plural-scattering transfer functions"):
        assert seconds[stage] > 0, stage
    assert all(v >= 0 for v in seconds.values())
    assert "plural-scattering transfer functions" not in render_stage_seconds(params[:4], SynthesisConfig())


def test_noise_streams_are_numpys_sfc64_streams():
    """The vectorised seeding gives the state of np.random.SFC64(seed), so every spectrum's noise
    is the stream its stored noise_seed names."""
    from eels_core.forward.noise import _sfc64_states, white_noise

    rng = np.random.default_rng(8)
    seeds = np.concatenate([[0, 1, 2**32 - 1, 2**32, 2**63 - 2], rng.integers(0, 2**63 - 1, 300)]).astype(np.uint64)
    expected = np.array([np.random.SFC64(int(s)).state["state"]["state"] for s in seeds])
    np.testing.assert_array_equal(_sfc64_states(seeds), expected)
    white = white_noise(seeds[:6], 500, 0.0012)
    for i, s in enumerate(seeds[:6]):
        plain = np.random.Generator(np.random.SFC64(int(s))).standard_normal(500) * 0.0012
        np.testing.assert_array_equal(white[i], plain)


def test_fixed_pattern_noise_row_by_row_equals_the_plain_formula():
    from eels_core.forward.noise import fixed_pattern_noise, savgol_smooth, white_noise
    import scipy.ndimage
    import scipy.signal

    seeds, frames, coeff = np.arange(12, dtype=np.uint64) * 977, 31 + 2 * (np.arange(12) % 5), 1 + np.arange(12) / 12
    white = white_noise(seeds, 800, 0.0012)
    for order in (1, 2):
        plain = np.empty_like(white)
        for frame in np.unique(frames):  # rows sharing a frame filtered together
            rows = frames == frame
            plain[rows] = (scipy.ndimage.uniform_filter1d(white[rows], frame, axis=-1, mode="mirror") if order == 1
                           else scipy.signal.savgol_filter(white[rows], frame, order, axis=-1, mode="mirror"))
        np.testing.assert_array_equal(savgol_smooth(white, frames, order), plain)
        np.testing.assert_array_equal(fixed_pattern_noise(seeds, 800, 0.0012, frames, coeff, order),
                                      coeff[:, None] * plain)


def test_interpolation_by_flat_gathers_equals_take_along_axis():
    from eels_core.forward.synthesis import stretch_and_shift

    def plain(values, x):
        pos = (x - 50.0) / 0.2
        i0 = np.clip(np.floor(pos).astype(np.int64), 0, values.shape[1] - 2)
        frac = (pos - i0).astype(values.dtype)
        v0, v1 = np.take_along_axis(values, i0, axis=-1), np.take_along_axis(values, i0 + 1, axis=-1)
        return v0 + frac * (v1 - v0)

    rng = np.random.default_rng(2)
    base = rng.random((7, 400)).astype(np.float32)
    x = 50.0 + rng.uniform(-3, 85, (7, 300))  # includes positions left of the grid (clipped)
    for values in (base, base[:, :350], np.asfortranarray(base), base.astype(np.float64)):
        np.testing.assert_array_equal(stretch_and_shift(values, 50.0, 0.2, x), plain(values, x))


def test_edge_sums_tails_and_peaks_equal_their_plain_formulation():
    from eels_core.forward.synthesis import (
        _edge_order, _edge_tails, _edges_of, _model_grid_edges, _sum_per_spectrum, _tables, output_grid_peak,
        refined_peak, sample_parameters, _block_rng,
    )

    config = REAL.replace(distractor_probability=0.6)
    params = sample_parameters(_block_rng(5, 1), BLOCK_SIZE, config)
    rows = _model_grid_edges(params, config)
    # the edges of each spectrum added slot by slot, as ((0 + e0) + e1) + ...
    plain = np.zeros((BLOCK_SIZE, rows.edges.shape[1]), dtype=np.float32)
    for k in range(MAX_EDGES + 2):
        sel = np.flatnonzero(rows.slot == k)
        plain[rows.spectrum[sel]] += rows.edges[sel]
    np.testing.assert_array_equal(_sum_per_spectrum(rows, BLOCK_SIZE), plain[rows.by_count])
    assert not np.array_equal(rows.by_count, np.arange(BLOCK_SIZE))  # the reordering is exercised
    # each tail evaluated from its own first tail channel = from the lowest one (factor 1 below)
    t = _tables(config)
    n_model = t.model_energy.size
    tails = _edge_tails(params, t, _edge_order(params, t), lambda stage: None)
    first = np.searchsorted(t.log_model_energy, t.log_tail_start[tails.flat])
    np.testing.assert_array_equal(first, tails.first)
    whole = t.templates[tails.flat, :n_model].copy()
    j0 = int(first.min())
    d = np.maximum(t.log_model_energy[None, j0:] - t.log_tail_start[tails.flat][:, None], np.float32(0.0))
    d *= -_edge_order(params, t).tail_exponent[tails.w].astype(np.float32)[:, None]
    whole[:, j0:] *= np.exp(d)
    np.testing.assert_array_equal(_edges_of(t, tails, n_model), whole)
    # a peak that falls outside the output grid is the refined model-grid maximum
    far = np.full(rows.edges.shape[0], -5000.0)  # every peak lands far left of the output grid
    np.testing.assert_array_equal(output_grid_peak(rows.edges, config, np.zeros_like(far), far), refined_peak(rows.edges))


def test_the_allocator_setting_is_applied_only_on_request(monkeypatch):
    from eels_core.forward import synthesis
    from eels_core.forward.synthesis import _block_rng, iter_blocks, render_stage_seconds, sample_parameters

    applied = []
    monkeypatch.setattr(synthesis, "_keep_freed_memory", lambda: applied.append(1) or True)
    plain = synthesize(8, seed=41)
    next(iter_blocks(41, 0, 1, SynthesisConfig(), n_threads=1))
    render_stage_seconds(sample_parameters(_block_rng(41, 0), 2, SynthesisConfig()))
    assert applied == []  # a library call leaves the process-wide allocator alone
    kept = synthesize(8, seed=41, keep_freed_memory=True)
    assert applied == [1]
    np.testing.assert_array_equal(kept.spectra, plain.spectra)  # the setting never changes a value
    next(iter_blocks(41, 0, 1, SynthesisConfig(), n_threads=1, keep_freed_memory=True))
    render_stage_seconds(sample_parameters(_block_rng(41, 0), 2, SynthesisConfig()), keep_freed_memory=True)
    assert applied == [1, 1, 1]


def test_emphasised_elements_are_drawn_by_their_weight():
    from eels_core.forward.synthesis import sample_parameters

    n = 40_000
    one_edge = SynthesisConfig(n_edges_probabilities=(1.0,))
    plain = sample_parameters(np.random.default_rng(3), n, one_edge)
    # weight 1 is the paper's draw, bit for bit
    same = sample_parameters(np.random.default_rng(3), n, one_edge.replace(emphasised_elements=("N", "Sc")))
    np.testing.assert_array_equal(same.element_index, plain.element_index)
    np.testing.assert_array_equal(same.jump_ratio, plain.jump_ratio)
    weighted = sample_parameters(np.random.default_rng(3), n, one_edge.replace(
        emphasised_elements=("N", "Sc"), element_emphasis_weight=3.0))
    # one edge: each emphasised element with probability 3 / (18 + 2 * 3), each other with 1 / 24
    for symbol, expected in (("N", 3 / 24), ("Sc", 3 / 24), ("B", 1 / 24), ("Cu", 1 / 24)):
        share = np.mean(weighted.element_index[:, 0] == ELEMENTS.index(symbol))
        assert abs(share - expected) < 4 * np.sqrt(expected * (1 - expected) / n), (symbol, share, expected)
    # the draws after the elements are the paper's stream's
    np.testing.assert_array_equal(weighted.background_exponent, plain.background_exponent)
    # several edges: still distinct elements, and the emphasised ones in more spectra than the others
    many = sample_parameters(np.random.default_rng(4), 5000, SynthesisConfig(
        emphasised_elements=("N",), element_emphasis_weight=3.0))
    for row, k in zip(many.element_index, many.n_edges):
        assert len(set(row[:k].tolist())) == k and np.all(row[k:] == -1)
    held = [np.mean((many.element_index == ELEMENTS.index(e)).any(axis=1)) for e in ("N", "O")]
    assert held[0] > 1.8 * held[1]


def test_element_presence_counts_the_drawn_elements():
    from eels_core.forward.synthesis import element_presence, sample_parameters

    config = SynthesisConfig(emphasised_elements=("N",), element_emphasis_weight=3.0)
    present = element_presence(config, 500, seed=4)
    params = sample_parameters(np.random.default_rng(4), 500, config)
    assert present.shape == (500, len(ELEMENTS)) and present.dtype == bool
    np.testing.assert_array_equal(present.sum(axis=1), params.n_edges)
    for i, row in enumerate(params.element_index):
        assert set(np.flatnonzero(present[i])) == set(row[row >= 0].tolist())
