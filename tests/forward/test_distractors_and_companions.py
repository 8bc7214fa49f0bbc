"""Beyond the paper, as data read by the synthesis: the complete distractor table, the library
additions and companion edges (B K with N K in boron nitride). All off by default."""

import numpy as np
import pytest

from eels_core.forward.config import ELEMENTS, SynthesisConfig
from eels_core.forward.edges import add_companion_edges, load_distractor_edges, synthesis_library
from eels_core.forward.synthesis import render_spectra, render_spectrum_reference, sample_parameters, synthesize

REAL = SynthesisConfig.with_real_data_physics()
B, N = ELEMENTS.index("B"), ELEMENTS.index("N")


def test_new_fields_default_off_and_leave_the_stream_alone():
    c = SynthesisConfig()
    assert c.distractor_table == "curated" and c.companion_probability == 0.0 and not c.library_additions
    rng = np.random.default_rng(4)
    params = sample_parameters(rng, 64, REAL)
    state = rng.bit_generator.state
    assert add_companion_edges(params, rng, REAL) is params
    assert rng.bit_generator.state == state  # nothing drawn when off
    with pytest.raises(ValueError, match="distractor_table"):
        SynthesisConfig(distractor_table="everything")
    with pytest.raises(ValueError, match="companion_probability"):
        SynthesisConfig(companion_probability=1.5)


def test_complete_distractor_table_is_drawn_unlabelled_and_renders_as_the_plain_loop():
    cfg = REAL.replace(distractor_table="complete", distractor_probability=1.0, noise_sd=0.0)
    b = synthesize(128, seed=31, config=cfg)
    drawn = b.params.distractor_index[b.params.distractor_index >= 0]
    assert drawn.max() >= len(load_distractor_edges())  # beyond the 13 curated ones
    assert drawn.max() < len(load_distractor_edges("complete"))
    # same labelled edges as without the distractors: distractors are never labelled
    plain = synthesize(128, seed=31, config=cfg.replace(distractor_probability=0.0))
    np.testing.assert_array_equal(b.labels, plain.labels)
    for i in range(4):
        ref = render_spectrum_reference(b.params[i], cfg)
        np.testing.assert_allclose(b.spectra[i], ref, rtol=0, atol=3e-3 * np.abs(ref).max())


def test_h_bn_n_k_brings_its_b_k():
    cfg = REAL.replace(companion_probability=1.0, library_additions=True, elnes_variation_copies=1)
    b = synthesize(640, seed=32, config=cfg)
    lib = synthesis_library(False, True, 1)
    p = b.params
    names = [[lib.elements[e].variants[v].name if e >= 0 else "" for e, v in zip(p.element_index[i], p.variant_index[i])]
             for i in range(len(b))]
    h_bn_n = np.array([any("h-BN" in n and e == N for n, e in zip(names[i], p.element_index[i])) for i in range(len(b))])
    assert h_bn_n.sum() > 10
    plain = synthesize(640, seed=32, config=cfg.replace(companion_probability=0.0))
    had_room = h_bn_n & (plain.params.n_edges < 6) & (plain.labels[:, B] == 0)
    assert had_room.sum() > 5
    assert np.all(b.labels[had_room, B] == 1)  # every h-BN N K with a free slot has a B K
    # the added B K is an h-BN variant in the next free slot, labelled with its onset
    for i in np.flatnonzero(had_room):
        slot = int(plain.params.n_edges[i])
        assert p.element_index[i, slot] == B and "h-BN" in names[i][slot]
        assert np.isfinite(b.edge_onset_ev[i, B])
    # without the companions, h-BN N K is as often alone as any other edge
    both = lambda x: np.mean(x.labels[:, B] & x.labels[:, N])  # noqa: E731
    assert both(b) > 2 * both(plain)
    # the rest of the stream (all other draws) is unchanged
    np.testing.assert_array_equal(b.params.shift_ev, plain.params.shift_ev)
    np.testing.assert_array_equal(b.params.noise_seed, plain.params.noise_seed)


def test_companion_keeps_the_rendering_consistent():
    cfg = REAL.replace(companion_probability=1.0, library_additions=True, noise_sd=0.0)
    b = synthesize(256, seed=33, config=cfg)
    pair = np.flatnonzero(b.labels[:, B] & b.labels[:, N])[:3]
    assert pair.size == 3
    for i in pair:
        np.testing.assert_array_equal(render_spectra(b.params[int(i)], cfg)[0][0], b.spectra[i])
