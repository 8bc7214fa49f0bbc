"""The edge library data file obeys its documented rules (eels_core/data/README.md)."""

import dataclasses

import numpy as np
import pytest
import xraydb

from eels_core.forward.config import ELEMENTS
from eels_core.forward.edges import (
    edge_template,
    extend_edge_tail,
    load_edge_library,
    validate_variant,
)

LIB = load_edge_library()


def test_twenty_elements_in_table_1_order_with_five_variants_each():
    assert LIB.symbols == ELEMENTS
    assert LIB.labels[0] == "B K" and LIB.labels[-1] == "Ar L2,3"
    for el in LIB.elements:
        assert len(el.variants) >= 5, el.symbol
        assert el.jump_ratio_range[0] == pytest.approx(0.15)
        assert 0.15 < el.jump_ratio_range[1] <= 1.5
        assert el.table1_n_edges >= 1


def test_every_variant_has_a_source_and_obeys_the_rules():
    for el in LIB.elements:
        for v in el.variants:
            assert len(v.source.strip()) > 10, v.name
            validate_variant(v, el.edge_onset_ev)  # raises on a broken rule


def test_reference_onsets_cross_checked_against_xraydb():
    """exspy (EELS) onsets vs xraydb X-ray edges: within 12 eV; the big gaps are the documented N, O, F K."""
    for el in LIB.elements:
        edge = "K" if el.edge == "K" else "L3"
        x = xraydb.xray_edge(el.symbol, edge).energy
        assert el.xraydb_onset_ev == pytest.approx(x, abs=0.05), el.symbol
        gap = abs(el.edge_onset_ev - x)
        assert gap < 12.0, el.symbol
        if gap > 5.0:
            assert el.symbol in ("N", "O", "F"), el.symbol


def test_validation_rejects_broken_variants():
    v = LIB.element("Ti").variants[0]
    with pytest.raises(ValueError, match="FWHM"):
        validate_variant(dataclasses.replace(v, peaks=np.array([[458.0, 0.2, 1.0]])), 456.0)
    with pytest.raises(ValueError, match="step"):
        validate_variant(dataclasses.replace(v, steps=np.zeros((0, 3))), 456.0)
    with pytest.raises(ValueError, match="8 eV"):
        moved = dataclasses.replace(
            v, edge_onset_ev=v.edge_onset_ev + 9, tail_start_ev=v.tail_start_ev + 9,
            peaks=v.peaks + [9.0, 0, 0], steps=v.steps + [9.0, 0, 0],
        )
        validate_variant(moved, v.edge_onset_ev)
    with pytest.raises(ValueError, match="centres"):
        validate_variant(dataclasses.replace(v, peaks=np.array([[600.0, 1.0, 1.0]])), 456.0)


def test_unknown_element_named():
    with pytest.raises(ValueError, match="unknown element 'Xx'"):
        LIB.element("Xx")


def _shape(v, rel):
    e = v.edge_onset_ev + rel
    p = edge_template(v, e)
    return p / p.max()


def test_overlapping_onsets_differ_by_shape():
    """Pairs with near onsets (N K/Sc L, O K/V L, S L/B K, Cl L/B K, Cl/Ar) have distinct mean shapes."""
    rel = np.arange(-5.0, 40.0, 0.2)
    for a, b in [("N", "Sc"), ("O", "V"), ("S", "B"), ("Cl", "B"), ("Cl", "Ar"), ("Cr", "Mn")]:
        sa = np.mean([_shape(v, rel) for v in LIB.element(a).variants], axis=0)
        sb = np.mean([_shape(v, rel) for v in LIB.element(b).variants], axis=0)
        corr = np.corrcoef(sa, sb)[0, 1]
        assert corr < 0.97, (a, b, corr)


def test_tail_extension_is_continuous_and_decays():
    v = LIB.element("Fe").variants[0]
    e = np.arange(650.0, 1100.0, 0.1)
    prof = edge_template(v, e)
    ext = extend_edge_tail(e, prof, v.tail_start_ev, 3.0)
    i = np.searchsorted(e, v.tail_start_ev)
    assert ext[i] == pytest.approx(prof[i], rel=1e-3)
    np.testing.assert_array_equal(ext[e <= v.tail_start_ev], prof[e <= v.tail_start_ev])
    far = e > v.tail_start_ev + 100
    np.testing.assert_allclose(ext[far], prof[far] * (e[far] / v.tail_start_ev) ** -3.0, rtol=1e-9)


def test_fitted_entries_are_held_out_by_default():
    assert not any(v.fitted for v in LIB.variants)
    with_fitted = load_edge_library(include_fitted=True)
    fitted = [v for v in with_fitted.variants if v.fitted]
    assert fitted and all("fitted" in v.source for v in fitted)


def test_elnes_variation_keeps_onsets_and_spin_orbit_and_is_reproducible():
    from eels_core.forward.edges import with_elnes_variation

    lib = load_edge_library()
    assert with_elnes_variation(lib, 0) is lib
    varied = with_elnes_variation(lib, 3)
    again = with_elnes_variation(lib, 3)
    for el, el_v, el_a in zip(lib.elements, varied.elements, again.elements):
        assert len(el_v.variants) == 4 * len(el.variants)
        for j, v in enumerate(el.variants):
            block = el_v.variants[4 * j: 4 * j + 4]
            assert block[0] is v  # the original first, then its copies
            for k, c in enumerate(block[1:], start=1):
                assert c.name.endswith(f"[ELNES variation {k}]")
                assert c.edge_onset_ev == v.edge_onset_ev and c.tail_start_ev == v.tail_start_ev
                assert c.peaks.shape == v.peaks.shape and not np.array_equal(c.peaks, v.peaks)
                np.testing.assert_array_equal(c.peaks, el_a.variants[4 * j + k].peaks)
                if el.edge != "K":  # L2,3: continuum steps (L3 and L2 thresholds) do not move
                    np.testing.assert_array_equal(c.steps[:, 0], v.steps[:, 0])
    with pytest.raises(ValueError, match="copies"):
        with_elnes_variation(lib, -1)


def test_elnes_variation_stretches_k_edge_resonances():
    from eels_core.forward.edges import jittered_variant

    v = load_edge_library().element("N").variants[0]
    rng = np.random.default_rng(0)
    c = jittered_variant(v, rng, spacing_scale=(1.2, 1.2), position_sd_ev=0.0, width_sd=0.0, amplitude_sd=0.0)
    np.testing.assert_allclose(c.peaks[:, 0] - v.edge_onset_ev, 1.2 * (v.peaks[:, 0] - v.edge_onset_ev))
    np.testing.assert_allclose(c.peaks[:, 1:], v.peaks[:, 1:])
