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


def test_white_line_distractors_are_drawn_more_often_only_when_weighted():
    from eels_core.forward.edges import WHITE_LINE_SHAPE_CLASSES, distractor_shape_classes

    edges, classes = load_distractor_edges("complete"), distractor_shape_classes("complete")
    assert len(classes) == len(edges) and set(distractor_shape_classes("curated")) == {None}
    white = np.array([c in WHITE_LINE_SHAPE_CLASSES for c in classes])
    assert {f"{e.symbol} {e.edge}" for e, w in zip(edges, white) if w} == {
        "K L2,3", "Cs M4,5", "Ba M4,5", "La M4,5", "Ce M4,5", "Pr M4,5", "Nd M4,5"}
    cfg = REAL.replace(distractor_table="complete", distractor_probability=1.0)
    assert cfg.distractor_white_line_weight == 1.0
    first = {}
    for weight in (1.0, 5.0):
        params = sample_parameters(np.random.default_rng(7), 20000, cfg.replace(distractor_white_line_weight=weight))
        first[weight] = white[params.distractor_index[:, 0]].mean()
    # the first distractor is a white-line one with probability 7 w / (86 + 7 w)
    assert first[1.0] == pytest.approx(white.sum() / white.size, abs=0.01)
    assert first[5.0] == pytest.approx(5 * white.sum() / (white.size - white.sum() + 5 * white.sum()), abs=0.015)
    with pytest.raises(ValueError, match="needs distractor_table = 'complete'"):
        REAL.replace(distractor_white_line_weight=5.0)
    with pytest.raises(ValueError, match=r"must be in \[1, 100\]"):
        cfg.replace(distractor_white_line_weight=0.5)


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
