"""Near-edge structures computed with FEFF10 (eels_core/data/edge_library_computed.yaml) and the
script that writes them (scripts/compute_feff_elnes.py; FEFF10 itself is not run here)."""

import importlib.util
from pathlib import Path

import numpy as np
import pytest

from eels_core.forward.config import ELEMENTS, SynthesisConfig
from eels_core.forward.edges import (ComputedCompoundSet, add_companion_edges, computed_compound_pairs, edge_template,
                                     load_edge_library)
from eels_core.forward.synthesis import edge_library_for, sample_parameters

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "compute_feff_elnes.py"
spec = importlib.util.spec_from_file_location("compute_feff_elnes", SCRIPT)
feff = importlib.util.module_from_spec(spec)
spec.loader.exec_module(feff)

ORIENTATIONS = ("q in the layers", "q isotropic", "q two-thirds along c")
EXTENDED = ", to 90 eV"


def computed(symbol, suffix=""):
    """The computed variants of one element by orientation; ``suffix`` ", to 90 eV": those computed and
    fitted up to 90 eV above the onset."""
    library = load_edge_library(include_computed=True)
    variants = library.elements[ELEMENTS.index(symbol)].variants
    return {o: next(v for v in variants if f"computed (FEFF10, {o}{suffix})" in v.name) for o in ORIENTATIONS}


def test_computed_variants_only_when_asked_and_with_their_calculation_as_source():
    plain = load_edge_library()
    assert not any("FEFF10, q" in v.name for v in plain.variants)
    for symbol in ("B", "N"):
        for suffix in ("", EXTENDED):
            variants = computed(symbol, suffix)
            assert len(variants) == 3
            for v in variants.values():
                assert "FEFF10" in v.source and "share of q along c" in v.source and "R^2" in v.source
    cases = feff.load_cases()
    assert {w["name"] for c in cases["cases"] for w in c["variants"]} == {
        v.name for s in ("B", "N") for suffix in ("", EXTENDED) for v in computed(s, suffix).values()}


@pytest.mark.parametrize("symbol", ["B", "N"])
def test_extended_calculations_reach_90_ev_above_the_onset(symbol):
    """The cases with a larger k range are computed beyond 90 eV above the edge (3.81 eV A^2 k^2) and
    fitted up to 90 eV above the onset; the first ones end where the near-edge peaks do."""
    cases = feff.load_cases()
    settings = cases["settings"]
    for case in cases["cases"]:
        if case["absorber"] != symbol:
            continue
        k_max = feff.case_k_max(case, settings)
        extended = all(EXTENDED in w["name"] for w in case["variants"])
        assert extended == (k_max > settings["k_max_per_a"])
        if extended:
            assert 3.81 * k_max**2 > 100.0 and case["tail_start_ev"] - (case["first_peak_ev"] - 1.0) >= 88.0
    for o, v in computed(symbol, EXTENDED).items():
        assert v.tail_start_ev - v.edge_onset_ev >= 88.0 and "k up to 5.3/A" in v.source
        assert max(c for c, _, _ in v.peaks) > v.edge_onset_ev + 50.0  # structure beyond the first ones
        assert computed(symbol)[o].tail_start_ev - computed(symbol)[o].edge_onset_ev < 50.0


def test_case_folders_keep_the_first_calculations_where_they_were(tmp_path):
    cases = feff.load_cases()
    folders = [feff.case_folder(tmp_path, c, cases["settings"]) for c in cases["cases"]]
    assert len(set(folders)) == len(folders)
    assert tmp_path / "h-bn-n-k" in folders and tmp_path / "h-bn-n-k-kmax-5p3" in folders


@pytest.mark.parametrize("symbol, pi_star_ev", [("N", 401.0), ("B", 191.9)])
def test_pi_star_grows_with_the_share_of_q_along_c(symbol, pi_star_ev):
    """The 1s -> pi* transition of a layered crystal is polarised along c [CHA93]: no pi* with q in
    the layers, a sharp one at the aligned energy when q turns towards c."""
    e = np.arange(pi_star_ev - 5.0, pi_star_ev + 40.0, 0.05)
    heights = []
    for o in ORIENTATIONS:
        profile = edge_template(computed(symbol)[o], e)
        near = np.abs(e - pi_star_ev) <= 0.6
        heights.append(profile[near].max() / profile.max())
    assert heights[0] < 0.2 < heights[2]
    assert heights[0] < heights[1] < heights[2]


def test_tensor_spectrum_combines_the_components():
    columns = {name: np.full(4, float(k)) for k, name in enumerate(feff.EELS_DAT_COLUMNS)}
    trace = (columns["xx"] + columns["yy"] + columns["zz"]) / 3.0
    assert np.allclose(feff.tensor_spectrum(columns, 1.0 / 3.0), trace)
    assert np.allclose(feff.tensor_spectrum(columns, 0.0), (columns["xx"] + columns["yy"]) / 2.0)
    assert np.allclose(feff.tensor_spectrum(columns, 1.0), columns["zz"])
    with pytest.raises(ValueError, match="between 0 and 1"):
        feff.tensor_spectrum(columns, 1.5)


def test_read_eels_dat_names_its_columns_and_refuses_other_tables(tmp_path):
    path = tmp_path / "eels.dat"
    table = np.column_stack([np.linspace(395.0, 460.0, 20)] + [np.arange(20.0) * k for k in range(1, 13)])
    np.savetxt(path, table, header="Energy total ...")
    columns = feff.read_eels_dat(path)
    assert np.allclose(columns["energy"], table[:, 0]) and np.allclose(columns["zz"], table[:, 12])
    np.savetxt(path, table[:, :5])
    with pytest.raises(ValueError, match="13 columns"):
        feff.read_eels_dat(path)


def test_one_shift_per_calculation_puts_the_pi_star_of_zz_at_the_case_energy():
    e = np.arange(395.0, 460.0, 0.25)
    pi_star = np.exp(-0.5 * ((e - 398.0) / 0.4) ** 2)
    sigma_star = np.exp(-0.5 * ((e - 412.0) / 2.0) ** 2)
    columns = {"energy": e, "xx": sigma_star, "yy": sigma_star, "zz": pi_star + 0.3 * sigma_star}
    case = {"first_peak_ev": 401.0, "tail_start_ev": 445.0, "n_peaks": 2}
    shift = feff.case_shift_ev(columns, case)
    assert shift == pytest.approx(3.0, abs=0.25)
    # q in the layers has no pi*: its sigma* keeps its distance from where pi* would be
    fit, onset = feff.fit_case(e + shift, feff.tensor_spectrum(columns, 0.0), case)
    assert onset == 400.0 and fit.r_squared > 0.99
    assert fit.peaks[np.argmax(fit.peaks[:, 2]), 0] == pytest.approx(415.0, abs=0.5)


def test_computed_hbn_brings_its_boron_edge_computed_for_the_same_orientation():
    config = SynthesisConfig.with_real_data_physics().replace(
        elements=("N", "B"), n_edges_probabilities=(1.0,), computed_elnes=True, library_additions=True,
        companion_probability=1.0)
    rng = np.random.default_rng(3)
    params = add_companion_edges(sample_parameters(rng, 400, config), rng, config)  # as the synthesis does
    library = edge_library_for(config)
    pairs = 0
    for row_el, row_var in zip(params.element_index, params.variant_index):
        drawn = library.elements[row_el[0]].variants[row_var[0]].name  # slot 0: the drawn edge, slot 1: its companion
        for o in ORIENTATIONS:
            if f"computed (FEFF10, {o})" in drawn:
                assert row_el[1] >= 0 and {ELEMENTS[row_el[0]], ELEMENTS[row_el[1]]} == {"N", "B"}
                assert f"computed (FEFF10, {o})" in library.elements[row_el[1]].variants[row_var[1]].name
                pairs += 1
    assert pairs > 20


# ---------------------------------------------------------------- K edges of common compounds
COMPOUNDS_CASES = Path(__file__).resolve().parents[2] / "eels_core" / "data" / "computed_compounds_cases.yaml"
COMPOUNDS_2_CASES = COMPOUNDS_CASES.with_name("computed_compounds_2_cases.yaml")
COMPOUNDS_3_CASES = COMPOUNDS_CASES.with_name("computed_compounds_3_cases.yaml")
COMPOUNDS_4_CASES = COMPOUNDS_CASES.with_name("computed_compounds_4_cases.yaml")
#: Each set of compounds: its cases file, its name (the SynthesisConfig field that draws it, and the
#: name load_edge_library takes), and the K edges it computes.
COMPOUND_SETS = (
    (COMPOUNDS_CASES, "computed_compounds", {"B", "C", "N", "O", "F"}),
    (COMPOUNDS_2_CASES, "computed_compounds_2", {"N", "O", "F"}),
    (COMPOUNDS_3_CASES, "computed_compounds_3", {"N"}),
    (COMPOUNDS_4_CASES, "computed_compounds_4", {"B", "C", "O"}),
)
SET_IDS = ["first set", "second set", "third set", "fourth set"]


@pytest.mark.parametrize("cases_file, field, symbols", COMPOUND_SETS, ids=SET_IDS)
def test_compound_variants_only_when_asked_beside_the_hand_typed_ones_they_are_compared_with(cases_file, field, symbols):
    from eels_core.forward.edges import COMPUTED_COMPOUND_SETS, computed_compound_pairs

    plain = load_edge_library()
    both = load_edge_library(computed_compound_sets=(field,))
    assert COMPUTED_COMPOUND_SETS[field].cases_file == cases_file.name
    assert not any("computed (FEFF10" in v.name for v in plain.variants)
    assert not any("computed (FEFF10" in v.name for v in load_edge_library(include_computed=True).variants
                   if "h-BN" not in v.name)
    pairs = computed_compound_pairs(field)
    assert {s for s, _, _ in pairs} == symbols
    assert len(pairs) == sum(len(case["variants"]) for case in feff.load_cases(cases_file)["cases"])
    for symbol, computed_name, hand_name in pairs:
        names = [v.name for v in both.element(symbol).variants]
        assert hand_name in [v.name for v in plain.element(symbol).variants]  # a hand-typed variant
        v = both.element(symbol).variants[names.index(computed_name)]
        assert "FEFF10" in v.source and "R^2" in v.source and "aligned to" in v.source
        assert v.tail_start_ev - v.edge_onset_ev >= 88.0 and "k up to 5.3/A" in v.source
        assert max(c for c, _, _ in v.peaks) > v.edge_onset_ev + 40.0  # structure beyond the first peaks
    assert getattr(SynthesisConfig(), field) is False
    drawn = SynthesisConfig(**{field: True})
    assert drawn.computed_compound_sets == (field,)
    assert len(edge_library_for(drawn).variants) == len(edge_library_for(SynthesisConfig()).variants) + len(pairs)


def test_the_sets_of_compounds_add_up_and_name_no_variant_twice():
    from eels_core.forward.edges import computed_compound_pairs

    names = [{name for _, name, _ in computed_compound_pairs(field)} for _, field, _ in COMPOUND_SETS]
    assert sum(len(n) for n in names) == len(set().union(*names))
    every = SynthesisConfig(**{field: True for _, field, _ in COMPOUND_SETS})
    assert every.computed_compound_sets == tuple(field for _, field, _ in COMPOUND_SETS)
    assert len(edge_library_for(every).variants) == len(edge_library_for(SynthesisConfig()).variants) + sum(map(len, names))
    # the sets join the library in one order whatever the order asked for
    forward = load_edge_library(computed_compound_sets=("computed_compounds", "computed_compounds_3"))
    backward = load_edge_library(computed_compound_sets=("computed_compounds_3", "computed_compounds"))
    assert [v.name for v in forward.variants] == [v.name for v in backward.variants]
    with pytest.raises(ValueError, match="one of computed_compounds, computed_compounds_2, computed_compounds_3"):
        computed_compound_pairs("computed_elnes")
    with pytest.raises(ValueError, match="'computed_elnes' not a set of computed compounds; choose from computed_compounds, "):
        load_edge_library(computed_compound_sets=("computed_elnes",))


@pytest.mark.parametrize("cases_file", [cases_file for cases_file, *_ in COMPOUND_SETS], ids=SET_IDS)
def test_compound_cases_are_aligned_on_a_sourced_energy_and_name_their_structures_source(cases_file):
    cases = feff.load_cases(cases_file)
    for case in cases["cases"]:
        assert ("onset_ev" in case) != ("first_peak_ev" in case)
        source = case.get("onset_source", case.get("first_peak_source"))
        assert source in cases["sources"]
        assert cases["structures"][case["structure"]]["source"] in cases["sources"]
        assert case["tail_start_ev"] - feff.case_onset_ev(case) == pytest.approx(88.0)
    first_folder = {COMPOUNDS_CASES: "w/mgo-o-k", COMPOUNDS_2_CASES: "w/tin-n-k", COMPOUNDS_3_CASES: "w/inn-n-k",
                    COMPOUNDS_4_CASES: "w/sic-c-k"}[cases_file]
    assert feff.case_folder(Path("w"), cases["cases"][0], cases["settings"]) == Path(first_folder)
    # each cases file names the config field that draws what is written from it, as the written file says;
    # for the sets of compounds that field is also the set's name in COMPUTED_COMPOUND_SETS
    from eels_core.forward.edges import COMPUTED_COMPOUND_SETS

    data = COMPOUNDS_CASES.parent
    for name, files in {"computed_elnes": ComputedCompoundSet("computed_elnes_cases.yaml", "edge_library_computed.yaml"),
                        **COMPUTED_COMPOUND_SETS}.items():
        flag = feff.load_cases(data / files.cases_file)["read_when"]
        assert flag == name and isinstance(getattr(SynthesisConfig(), flag), bool)
        assert f"Read when SynthesisConfig.{flag} is true." in (data / files.library_file).read_text().splitlines()[2]
    assert [files.cases_file for files in COMPUTED_COMPOUND_SETS.values()] == [c.name for c, _, _ in COMPOUND_SETS]
    with pytest.raises(ValueError, match="lattice kind 'monoclinic'"):
        feff.build_structure({"lattice": {"kind": "monoclinic", "a": 1.0}})


def test_first_reach_interpolates_between_samples():
    e = np.array([530.0, 531.0, 532.0, 533.0])
    y = np.array([0.0, 0.0, 0.2, 1.0])
    assert feff.first_reach_ev(e, y, 0.1) == pytest.approx(531.5)
    assert feff.first_reach_ev(e, y + 1.0, 0.1) == 530.0  # already above at the first sample


def test_a_case_aligned_on_its_onset_rises_there_whatever_its_orientation():
    e = np.arange(525.0, 640.0, 0.25)
    rise = 1.0 / (1.0 + np.exp(-(e - 536.0) / 0.3))
    peak = np.exp(-0.5 * ((e - 540.0) / 1.5) ** 2)
    columns = {"energy": e, "xx": rise * 0.5 + peak, "yy": rise * 0.5 + peak, "zz": rise * 0.5 + peak}
    case = {"onset_ev": 532.0, "onset_source": "EX", "tail_start_ev": 620.0, "n_peaks": 2}
    shift = feff.case_shift_ev(columns, case)
    isotropic = feff.tensor_spectrum(columns, 1.0 / 3.0)
    assert feff.first_reach_ev(e + shift, isotropic) == pytest.approx(532.0)
    fit, onset = feff.fit_case(e + shift, isotropic, case)
    assert onset == 532.0 and fit.r_squared > 0.98
    assert "onset" in feff.case_alignment(case) and "[EX]" in feff.case_alignment(case) and "pi*" in feff.case_alignment({"first_peak_ev": 1.0,
                                                                                  "first_peak_source": "X"})


def test_every_written_variant_states_the_alignment_of_its_case():
    """The source of each computed variant, h-BN and compounds alike, holds its case's alignment as
    the script now words it (so the h-BN library written before the onset alignment existed still
    reads as the script would write it)."""
    data = COMPOUNDS_CASES.parent
    for cases_file, flags in (("computed_elnes_cases.yaml", {"include_computed": True}),
                              *((cases.name, {"computed_compound_sets": (field,)}) for cases, field, _ in COMPOUND_SETS)):
        library = load_edge_library(**flags)
        for case in feff.load_cases(data / cases_file)["cases"]:
            element = library.element(case["absorber"])
            for wanted in case["variants"]:
                v = next(v for v in element.variants if v.name == wanted["name"])
                assert feff.case_alignment(case) in v.source
                assert v.edge_onset_ev == pytest.approx(feff.case_onset_ev(case))


def test_computed_compound_weight_draws_the_computed_variants_more_often_only_when_set():
    from eels_core.forward.edges import computed_compound_variants

    cfg = SynthesisConfig().with_real_data_physics().replace(
        library_additions=True, computed_compounds=True, computed_compounds_2=True, computed_compounds_3=True,
        elnes_variation_copies=2)
    assert cfg.computed_compound_weight == 1.0
    library = edge_library_for(cfg)
    computed = computed_compound_variants(library, cfg.computed_compound_sets)
    flat_names = [v.name for v in library.variants]
    assert computed.sum() == 3 * sum(len(pairs) for pairs in
                                     (computed_compound_pairs(s) for s in cfg.computed_compound_sets))
    assert all(("FEFF10" in n) for n, c in zip(flat_names, computed) if c)  # every computed variant is a FEFF10 one
    offsets = np.concatenate([[0], np.cumsum([len(e.variants) for e in library.elements])[:-1]])
    n_sym = ELEMENTS.index("N")
    in_n = computed[offsets[n_sym]:offsets[n_sym] + len(library.elements[n_sym].variants)]
    share = {}
    for weight in (1.0, 4.0):
        params = sample_parameters(np.random.default_rng(5), 40000, cfg.replace(computed_compound_weight=weight))
        drawn = params.variant_index[params.element_index == n_sym]
        share[weight] = in_n[drawn].mean()
    k, m = in_n.sum(), in_n.size
    assert share[1.0] == pytest.approx(k / m, abs=0.02)
    assert share[4.0] == pytest.approx(4 * k / (m - k + 4 * k), abs=0.02)
    # the weighted draw maps the same uniform numbers, so the other parameters do not change
    a = sample_parameters(np.random.default_rng(5), 500, cfg)
    b = sample_parameters(np.random.default_rng(5), 500, cfg.replace(computed_compound_weight=4.0))
    np.testing.assert_array_equal(a.element_index, b.element_index)
    np.testing.assert_array_equal(a.jump_ratio, b.jump_ratio)
    with pytest.raises(ValueError, match="needs a set of computed compounds"):
        SynthesisConfig().replace(computed_compound_weight=2.0)
    with pytest.raises(ValueError, match=r"must be in \[1, 100\]"):
        cfg.replace(computed_compound_weight=0.5)
