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


def test_complete_distractor_table_covers_every_edge_family_outside_the_20():
    import yaml
    from importlib import resources

    from eels_core.forward.edges import MAX_DISTRACTOR_VARIANTS, load_distractor_edges

    curated, complete = load_distractor_edges(), load_distractor_edges("complete")
    assert len(curated) == 13 and [v.name for v in curated] == [v.name for v in load_distractor_edges("curated")]
    assert len(curated) < len(complete) <= MAX_DISTRACTOR_VARIANTS
    assert not {v.symbol for v in complete} & set(ELEMENTS)
    data = yaml.safe_load(resources.files("eels_core.data").joinpath("distractor_edge_table.yaml").read_text())
    labels = {(e["symbol"], e["edge"]) for e in data["elements"]}
    # the failure cases named in the text: La M4,5 (read as Ni L2,3), Ba M4,5 (Co L2,3), Ru M4,5 (C K)
    for needed in [("La", "M4,5"), ("Ba", "M4,5"), ("Ru", "M4,5"), ("Ce", "N4,5"), ("Be", "K"), ("W", "N4,5")]:
        assert needed in labels, needed
    for ent in data["elements"]:
        subs = ent["xraydb_subedges_ev"]
        for sub, energy in subs.items():  # the X-ray energies are xraydb's
            assert energy == pytest.approx(xraydb.xray_edge(ent["symbol"], sub).energy, abs=0.05)
        # the onset is the lowest sub-edge, exspy's (EELS) value where it has one within 8 eV
        assert ent["edge_onset_ev"] == pytest.approx(min(ent["subedges_ev"].values()), abs=0.05)
        assert abs(ent["edge_onset_ev"] - ent["xraydb_onset_ev"]) <= 8.0
        assert 70.0 <= ent["edge_onset_ev"] < 1000.0
        assert ent["shape_class"] in data["shape_classes"]
    la = next(e for e in data["elements"] if (e["symbol"], e["edge"]) == ("La", "M4,5"))
    assert la["subedges_ev"] == {"M5": 832.0, "M4": 849.0}  # EELS energies, not the X-ray 836/853
    with pytest.raises(ValueError, match="curated"):
        load_distractor_edges("all")


def test_distractor_shapes_follow_their_edge_class():
    from eels_core.forward.edges import load_distractor_edges

    by_name = {v.label: v for v in load_distractor_edges("complete")}
    e = np.arange(60.0, 1100.0, 0.1)

    def peak_position(label):
        v = by_name[label]
        return e[np.argmax(edge_template(v, e))] - v.edge_onset_ev

    def sharpest(label):
        return by_name[label].peaks[:, 1].min()

    # lanthanide M4,5: two sharp white lines, the M4 (upper) the tallest, 17 eV apart for La
    la = by_name["La M4,5"]
    assert sharpest("La M4,5") <= 2.0 and peak_position("La M4,5") == pytest.approx(849.0 + 1.5 - 832.0, abs=0.3)
    # 4d-element M4,5: a delayed maximum, far above the onset and broad
    assert peak_position("Zr M4,5") > 15.0 and sharpest("Zr M4,5") >= 2.0
    assert peak_position("Ru M4,5") > 15.0
    # lanthanide N4,5: the giant resonance ~12 eV above the onset; Lu's very delayed
    assert 8.0 < peak_position("Gd N4,5") < 16.0 and peak_position("Lu N4,5") > 25.0
    # K L2,3: a sharp doublet like Ca's
    assert sharpest("K L2,3") < 1.2
    assert la.edge_onset_ev == pytest.approx(832.0)


def test_library_additions_are_held_out_by_default_and_keep_their_sources():
    with_added = load_edge_library(include_additions=True)
    for el, el_a in zip(LIB.elements, with_added.elements):
        for v, v_a in zip(el.variants, el_a.variants):  # the library's own come first, unchanged
            assert v_a.name == v.name and np.array_equal(v_a.peaks, v.peaks) and np.array_equal(v_a.steps, v.steps)
        for v in el_a.variants[len(el.variants):]:
            assert len(v.source) > 20
            validate_variant(v, el.edge_onset_ev)
    added = {el.symbol: len(el_a.variants) - len(el.variants) for el, el_a in zip(LIB.elements, with_added.elements)}
    assert added["N"] >= 2 and added["B"] >= 1 and added["Sc"] >= 1


def test_added_variants_separate_sc_l23_from_h_bn_n_k():
    """Sc3+ has four sharp lines with one at 403-405 eV where h-BN's N K has its valley; h-BN has one
    sharp pi* and a broad sigma* taller than it (the fact-sheet addendum)."""
    lib = load_edge_library(include_additions=True)
    e = np.arange(395.0, 440.0, 0.05)
    sc = next(v for v in lib.element("Sc").variants if "multiplet" in v.name)
    bn = next(v for v in lib.element("N").variants if "sigma* taller" in v.name)
    y_sc, y_bn = edge_template(sc, e), edge_template(bn, e)
    valley = (e > 403.0) & (e < 405.0)
    assert y_sc[valley].max() > 0.8 * y_sc.max()  # a Sc line in the window
    assert y_bn[valley].max() < 0.5 * y_bn.max()  # the h-BN valley
    # four sharp Sc lines above 401 eV: four local maxima
    above = y_sc[(e > 401) & (e < 410)]
    maxima = np.flatnonzero((above[1:-1] > above[:-2]) & (above[1:-1] > above[2:]))
    assert maxima.size == 4
    # h-BN: the sigma* (406-411 eV) taller than the pi* (400-402 eV), and structure beyond 410 eV
    assert y_bn[(e > 406) & (e < 411)].max() > y_bn[(e > 400) & (e < 402)].max()
    assert y_bn[(e > 412) & (e < 430)].max() > 3 * y_sc[(e > 412) & (e < 430)].max()


def _table_maker():
    """scripts/make_distractor_edge_table.py, imported as a module."""
    import importlib.util
    from pathlib import Path

    script = Path(__file__).resolve().parents[2] / "scripts" / "make_distractor_edge_table.py"
    spec = importlib.util.spec_from_file_location("make_distractor_edge_table", script)
    maker = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(maker)
    return maker


def test_the_complete_distractor_table_follows_its_shape_data_file():
    """distractor_edge_table.yaml is what scripts/make_distractor_edge_table.py makes of
    distractor_edge_shapes.yaml: each edge's class and shape, and the class descriptions."""
    from importlib import resources

    import yaml

    maker = _table_maker()
    data_dir = resources.files("eels_core.data")
    table = yaml.safe_load(data_dir.joinpath("distractor_edge_table.yaml").read_text())
    shapes = yaml.safe_load(data_dir.joinpath("distractor_edge_shapes.yaml").read_text())
    assert shapes["source"] and "Egerton" in shapes["source"] and "exspy" in shapes["source"]
    assert table["shape_classes"] == {cls: c["description"] for cls, c in shapes["classes"].items()}
    assert {e["shape_class"] for e in table["elements"]} == set(shapes["classes"])  # every class used
    for ent in table["elements"]:
        cls = maker.shape_class(ent["atomic_number"], ent["edge"])
        assert ent["shape_class"] == cls, (ent["symbol"], ent["edge"])
        energies = sorted(ent["subedges_ev"].values())
        energies = [e for e in energies if e - energies[0] <= maker.MAX_SPLIT_EV]
        made, written = maker.shape(ent["atomic_number"], cls, energies), ent["variants"][0]
        assert written["tail_start_ev"] == pytest.approx(made["tail_start_ev"], abs=0.11), ent["symbol"]
        for key in ("peaks", "steps"):  # the sub-edge energies in the table are rounded to 0.1 eV
            assert np.shape(written[key]) == np.shape(made[key]), (ent["symbol"], key)
            np.testing.assert_allclose(written[key], made[key], atol=0.11, err_msg=f"{ent['symbol']} {ent['edge']} {key}")
    with pytest.raises(ValueError, match="no shape class for the N2,3 family"):
        maker.shape_class(60, "N2,3")


def test_the_4f_table_is_the_complete_one_with_white_line_heights_by_4f_occupancy():
    """distractor_edge_table_4f.yaml is the complete table but for the lanthanide M4,5 white lines, which
    get one variant per 4f occupancy of m45_white_lines_by_4f, their M5:M4 heights from its law."""
    from importlib import resources

    import yaml

    maker = _table_maker()
    data_dir = resources.files("eels_core.data")
    complete = yaml.safe_load(data_dir.joinpath("distractor_edge_table.yaml").read_text())
    by_4f = yaml.safe_load(data_dir.joinpath("distractor_edge_table_4f.yaml").read_text())
    law = yaml.safe_load(data_dir.joinpath("distractor_edge_shapes.yaml").read_text())["m45_white_lines_by_4f"]
    assert "4F" in by_4f["sources"] and "arXiv:2101.06794" in by_4f["sources"]["4F"]
    assert len(complete["elements"]) == len(by_4f["elements"])
    changed = set()
    for a, b in zip(complete["elements"], by_4f["elements"]):
        assert {k: v for k, v in a.items() if k != "variants"} == {k: v for k, v in b.items() if k != "variants"}
        if a["shape_class"] == law["class"] and a["symbol"] in law["occupancies"]:
            changed.add(a["symbol"])
            occupancies = law["occupancies"][a["symbol"]]
            assert len(b["variants"]) == len(occupancies)
            for n, v in zip(occupancies, b["variants"]):
                assert f"4f{n}" in v["name"] and "[4F]" in v["source"]
                assert [p[2] for p in v["peaks"]] == pytest.approx(maker.white_line_heights(n), abs=5e-4)
                assert v["steps"] == a["variants"][0]["steps"] and v["tail_start_ev"] == a["variants"][0]["tail_start_ev"]
                assert [p[:2] for p in v["peaks"]] == [p[:2] for p in a["variants"][0]["peaks"]]
        else:
            assert a["variants"] == b["variants"]
    # every lanthanide-like white-line edge below 1000 eV is drawn by occupancy: Cs-Nd
    assert changed == {"Cs", "Ba", "La", "Ce", "Pr", "Nd"} == set(law["occupancies"])
    import logging

    assert maker.build("complete_4f")["elements"] == by_4f["elements"]
    assert logging.root.manager.disable == logging.NOTSET  # building a table leaves logging as it found it


def test_m5_is_the_taller_white_line_from_4f1_on():
    """The order of the lanthanide M5 and M4 lines by 4f occupancy: M4 the taller for 4f0 (the class's own
    heights), M5 from 4f1 on, the ratio falling with each 4f electron and gone at 4f13."""
    from eels_core.forward.edges import distractor_label, load_distractor_edges

    maker = _table_maker()
    assert maker.white_line_heights(0) == pytest.approx([0.85, 1.0], abs=5e-4)
    ratios = [maker.m4_to_m5(n) for n in range(14)]
    assert ratios[0] > 1.0 > ratios[1] and all(b < a for a, b in zip(ratios, ratios[1:])) and ratios[13] == 0.0
    with pytest.raises(ValueError, match="4f14 has no 4f hole"):
        maker.m4_to_m5(14)
    e = np.arange(860.0, 1060.0, 0.05)
    variants = {distractor_label(v): v for v in load_distractor_edges("complete_4f") if v.edge == "M4,5"}

    def line_heights(v):  # the spectrum at the M5 line and at the M4 line
        y = edge_template(v, e)
        return [y[np.argmin(abs(e - c))] for c in v.peaks[:, 0]]

    m5, m4 = line_heights(variants["Ce M4,5 4f0"])
    assert m4 > m5  # CeO2
    for name in ("Ce M4,5 4f1", "Pr M4,5 4f2", "Nd M4,5 4f3"):
        m5, m4 = line_heights(variants[name])
        assert m5 > m4, name
    # chapter 04: the Pr M5 line lies on Cu L3 (931 eV), its M4 line on Cu L2
    from pathlib import Path

    from eels_core.forward.edges import edge_labels, reference_onsets_ev

    cu_l3 = reference_onsets_ev()[edge_labels().index("Cu L2,3")]
    assert variants["Pr M4,5 4f2"].edge_onset_ev == cu_l3 == 931.0
    chapter = (Path(__file__).resolve().parents[2] / "notebooks" / "04_synthesis_and_augmentation.py").read_text()
    assert "its M$_5$ line lies on Cu L$_3$ (931 eV)" in chapter
    # the complete table keeps M4 the taller for every ion
    pr = next(v for v in load_distractor_edges("complete") if v.label == "Pr M4,5")
    assert pr.peaks[1, 2] > pr.peaks[0, 2] and distractor_label(pr) == "Pr M4,5"


def test_neighbour_shells_of_boron_in_h_bn():
    """The shells around B in h-BN from its lattice (a 2.504, c 6.661 Angstrom): three N in the layer at
    a / sqrt(3), six B at a, three N at 2a / sqrt(3), two N of the next layers at c / 2, six B at
    sqrt(a^2 / 3 + c^2 / 4), six N at sqrt(7 / 3) a; N sees the same shells with B and N swapped."""
    from eels_core.forward.edges import neighbour_shells

    a, c = 2.504, 6.661
    expected = [("N", 3, a / np.sqrt(3)), ("B", 6, a), ("N", 3, 2 * a / np.sqrt(3)), ("N", 2, c / 2),
                ("B", 6, np.hypot(a / np.sqrt(3), c / 2)), ("N", 6, np.sqrt(7 / 3) * a)]
    shells = neighbour_shells("h-BN", "B", 4.0)
    assert [(sp, n) for sp, n, _ in shells] == [(sp, n) for sp, n, _ in expected]
    np.testing.assert_allclose([r for *_, r in shells], [r for *_, r in expected], atol=1e-9)
    swapped = {"B": "N", "N": "B"}
    assert [(swapped[sp], n) for sp, n, _ in neighbour_shells("h-BN", "N", 4.0)] == [(sp, n) for sp, n, _ in shells]
    assert len(neighbour_shells("h-BN", "B", 2.6)) == 2
    # the synthesis draws its second and third shells where these are (SynthesisConfig's defaults)
    from eels_core.forward.config import SynthesisConfig

    cfg, (_, n1, r1) = SynthesisConfig(), shells[0]
    ratio = np.array([r / r1 for *_, r in shells])
    weight = np.array([(n / r**2) / (n1 / r1**2) for _, n, r in shells])
    for (lo, hi), (a_lo, a_hi), taken in (
            (cfg.exelfs_second_shell_distance_ratio, cfg.exelfs_second_shell_amplitude_ratio, [1]),
            (cfg.exelfs_third_shell_distance_ratio, cfg.exelfs_third_shell_amplitude_ratio, [2, 3, 4, 5])):
        inside = (ratio >= lo - 1e-9) & (ratio <= hi + 1e-9) & (weight >= a_lo) & (weight <= a_hi)
        assert np.flatnonzero(inside).tolist() == taken
    with pytest.raises(ValueError, match="not in h-BN"):
        neighbour_shells("h-BN", "C")
    with pytest.raises(ValueError, match="choose one of h-BN"):
        neighbour_shells("graphite", "C")


def test_nearest_neighbour_distance_of_h_bn_is_the_in_layer_bond():
    from eels_core.forward.edges import nearest_neighbour_distance_a

    assert nearest_neighbour_distance_a("h-BN") == pytest.approx(1.4457, abs=1e-3)  # 2.504 A / sqrt(3)
    with pytest.raises(ValueError, match="choose one of h-BN"):
        nearest_neighbour_distance_a("graphite")


def test_white_line_order_is_kept_by_reflecting_the_ratio_and_only_where_asked():
    from eels_core.forward.edges import (
        MIN_WHITE_LINE_SPLITTING_EV,
        keep_white_line_order,
        l2_l3_splitting_ev,
        white_line_heights,
        with_elnes_variation,
    )

    assert l2_l3_splitting_ev("Ni") == pytest.approx(
        xraydb.xray_edge("Ni", "L2").energy - xraydb.xray_edge("Ni", "L3").energy)
    ni = LIB.element("Ni").variants[0]
    split = l2_l3_splitting_ev("Ni")
    l3, l2 = white_line_heights(ni, split)
    assert l3 > 2 * l2  # NiO: the L3 line the taller
    # a copy whose L2 lines came out 1.6 times the L3 line: reflected to about 1/1.6 of it
    upper = ni.peaks[:, 0] >= ni.edge_onset_ev + split / 2
    swapped = ni.peaks.copy()
    swapped[upper, 2] *= 1.6 * l3 / l2
    copy = dataclasses.replace(ni, peaks=swapped)
    kept = keep_white_line_order(copy, ni, split)
    ratio_before = np.divide(*white_line_heights(copy, split))
    ratio_after = np.divide(*white_line_heights(kept, split))
    assert ratio_before < 1 < ratio_after and ratio_after == pytest.approx(1 / ratio_before, rel=0.05)
    np.testing.assert_array_equal(kept.peaks[~upper], ni.peaks[~upper])  # the L3 lines untouched
    assert keep_white_line_order(ni, ni, split) is ni  # already in order
    ti = LIB.element("Ti").variants[1]  # SrTiO3: L2 the taller in the library, left as it is
    s_ti = l2_l3_splitting_ev("Ti")
    assert np.divide(*white_line_heights(ti, s_ti)) < 1 and keep_white_line_order(ti, ti, s_ti) is ti
    with pytest.raises(ValueError, match="splitting"):
        keep_white_line_order(ni, ni, MIN_WHITE_LINE_SPLITTING_EV - 1)
    # in the varied library: no copy of an L3-taller variant has L2 the taller; the same draws otherwise
    plain, kept_lib = with_elnes_variation(LIB, 4), with_elnes_variation(LIB, 4, keeps_white_line_order=True)
    changed = 0
    for el, el_p, el_k in zip(LIB.elements, plain.elements, kept_lib.elements):
        for j, v in enumerate(el.variants):
            for k in range(1, 5):
                c_p, c_k = el_p.variants[5 * j + k], el_k.variants[5 * j + k]
                np.testing.assert_array_equal(c_p.peaks[:, :2], c_k.peaks[:, :2])
                if el.edge != "L2,3" or l2_l3_splitting_ev(el.symbol) < MIN_WHITE_LINE_SPLITTING_EV:
                    np.testing.assert_array_equal(c_p.peaks, c_k.peaks)
                    continue
                s = l2_l3_splitting_ev(el.symbol)
                if np.divide(*white_line_heights(v, s)) > 1:
                    assert np.divide(*white_line_heights(c_k, s)) >= 1
                changed += not np.array_equal(c_p.peaks, c_k.peaks)
    assert changed > 0


def test_white_line_order_needs_varied_copies():
    from eels_core.forward.config import SynthesisConfig
    from eels_core.forward.edges import synthesis_library_for

    with pytest.raises(ValueError, match="elnes_variation_copies"):
        SynthesisConfig(elnes_variation_keeps_white_line_order=True)
    config = SynthesisConfig(elnes_variation_copies=2, elnes_variation_keeps_white_line_order=True)
    assert synthesis_library_for(config) is not synthesis_library_for(config.replace(
        elnes_variation_keeps_white_line_order=False))
