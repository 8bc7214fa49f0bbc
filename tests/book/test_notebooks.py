"""Every notebook runs end to end with the CI parameter set, and follows the book's conventions.

Executed notebooks land in book/<stem>.ipynb, where the Jupyter Book renders them; a notebook
whose earlier run of the same source is there must give the same text outputs.
"""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
_spec = importlib.util.spec_from_file_location("execute_notebooks", REPO / "scripts" / "execute_notebooks.py")
xnb = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(xnb)

NOTEBOOKS = xnb.find_notebooks()
IDS = [p.stem for p in NOTEBOOKS]


def test_notebook_names():
    """Only NN_topic.py notebooks are run; anything else in notebooks/ is probably misnamed."""
    stray = [p.name for p in xnb.NOTEBOOK_DIR.glob("*.py") if p not in NOTEBOOKS]
    assert not stray, f"notebooks not named NN_topic.py (never executed): {stray}"


def test_presets_name_existing_notebooks():
    for name in ("ci", "full"):
        unknown = set(xnb.load_parameters(name)) - set(IDS)
        assert not unknown, f"parameters/{name}.yaml has entries for missing notebooks: {sorted(unknown)}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_notebook_conventions(path):
    nb = xnb.read_notebook(path)
    assert len(xnb.parameters_cells(nb)) == 1, "needs exactly one cell tagged 'parameters'"
    first_md = next((c.source for c in nb.cells if c.cell_type == "markdown"), "")
    assert "Reproduces" in first_md, "first markdown cell must say which paper section it reproduces ('Reproduces ...')"
    assert "eels_core" in first_md, "first markdown cell must name the eels_core module(s) it explains"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_notebook_executes(path):
    params = xnb.load_parameters("ci").get(path.stem, {})
    out = xnb.execute(path, xnb.DEFAULT_OUT, params)
    assert out.is_file()


# A solution block: ```{admonition} Solution or :::{admonition} Solution, whose options (the
# ":name: value" lines right after it) include ":class: dropdown" (collapsed until clicked).
SOLUTION = re.compile(
    r"(?:`{3,}|:{3,})\{admonition\}[ \t]*Solution[^\n]*\n(?:[ \t]*:[\w-]+:[^\n]*\n)*?[ \t]*:class:[^\n]*\bdropdown\b"
)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_notebook_teaching_structure(path):
    """Opens with what it reproduces and its prerequisites; ends with 1-3 exercises whose
    solutions are collapsed ({admonition} Solution with :class: dropdown)."""
    nb = xnb.read_notebook(path)
    md = [c.source for c in nb.cells if c.cell_type == "markdown"]
    assert md and "Prerequisites" in md[0], "first markdown cell must list the 'Prerequisites'"
    headings = [(k, h.strip()) for k, src in enumerate(md) for h in re.findall(r"^##[ \t]+(.+)$", src, re.M)]
    exercises = [k for k, h in headings if re.match(r"Exercises\b", h)]
    assert exercises, "needs a '## Exercises' section"
    later = [h for k, h in headings if k > exercises[-1]]
    assert not later, f"'## Exercises' must be the last section; found after it: {later}"
    n_items = len(re.findall(r"^\d+\.[ \t]", md[exercises[-1]], re.M))
    assert n_items <= 3, f"{n_items} exercises; keep 1-3"
    n_solutions = len(SOLUTION.findall("\n".join(md[exercises[-1]:])))
    assert n_solutions >= 1, "exercises need at least one '{admonition} Solution' with ':class: dropdown'"


def test_figure_map_covers_every_figure_and_table():
    """book/figure_map.md names a chapter for every figure and table of the paper, and every
    chapter it links to is in _toc.yml."""
    text = (REPO / "book" / "figure_map.md").read_text()
    rows = {m.group(1).strip(): m.group(2) for m in re.finditer(r"^\|\s*((?:Fig|Table)\.?\s*[^|]+?)\s*\|(.*)$", text, re.M)}
    wanted = ["Fig. 1a", "Fig. 1b", "Fig. 1c", "Fig. 2", *[f"Fig. 3{c}" for c in "abcdefg"], "Fig. 4",
              "Fig. 5a-c", "Fig. 6a", "Fig. 6b", "Fig. 7", "Table 1", "Table 2", "Table 3", "Table 4"]
    missing = [w for w in wanted if w not in rows or "{doc}" not in rows[w]]
    assert not missing, f"figure_map.md has no chapter link for: {missing}"
    toc = (REPO / "_toc.yml").read_text()
    docs = set(re.findall(r"\{doc\}`([^`<]+)`", text))
    absent = sorted(d for d in docs if f"book/{d}" not in toc)
    assert not absent, f"figure_map.md links to pages missing from _toc.yml: {absent}"


def test_chapter_01_background_figures_hold_for_the_library():
    """Chapter 01's introduction quotes two textbook figures as static prose: Ti L2,3 starts near
    456 eV, and the L3 and L2 white lines of the 3d transition metals lie about 5-20 eV apart. The
    edge library the chapter then builds must agree with both."""
    from eels_core.forward.edges import edge_labels, load_edge_library, reference_onsets_ev

    assert dict(zip(edge_labels(), reference_onsets_ev()))["Ti L2,3"] == pytest.approx(456.0, abs=1.0)
    library = load_edge_library()
    for symbol in ("Sc", "Ti", "V", "Cr", "Mn", "Fe", "Co", "Ni", "Cu"):
        for variant in library.element(symbol).variants:
            if len(variant.steps) == 2:  # one continuum step at L3, one at L2
                distance = float(abs(variant.steps[1, 0] - variant.steps[0, 0]))
                assert 4.0 <= distance <= 21.0, f"{symbol} {variant.name}: L3-L2 {distance:.1f} eV"



def test_results_files_the_pages_render_are_complete():
    """experiments/results/*.json (the appendix's log) and benchmarks/results (the reproduce page's
    tables) hold what the pages read, each run with its provenance."""
    import json
    import sys

    for path in sorted((REPO / "experiments" / "results").glob("*.json")):
        data = json.loads(path.read_text())
        assert data["schema"] == "eels-edge-book.results/1", path.name
        assert data["runs"], f"{path.name}: no runs"
        for run in data["runs"]:
            assert run.get("label") and run.get("measured_by") and isinstance(run.get("scoring"), dict), (path.name, run)
            assert run.get("recorded_in_commit") or run.get("code_commit"), f"{path.name} {run['label']}: no provenance"
            if data.get("recipe_file"):
                assert (REPO / data["recipe_file"]).is_file(), f"{path.name}: {data['recipe_file']} missing"
    sys.path.insert(0, str(REPO / "book" / "_ext"))
    import results_tables

    tables = results_tables.load_tables()
    assert set(tables) == {"bench_synthesis", "bench_network", "bench_predict"}
    for name in tables:
        rows = results_tables.benchmark_rows(name)
        assert rows and all(measured != "—" for _, measured, aim in rows if aim != "—"), name
    assert results_tables.met({"at_least": 10}, 9.9) is False and results_tables.met({"at_most": 35}, 27.5) is True
    nested = {"2_threads": {"rate": {"auto": {"median": 1716.4, "min": 1646.8, "max": 2172.8}}}, "flat": 3.0}
    assert results_tables.figure(nested, "2_threads.rate.auto") == 1716.4
    assert results_tables.figure(nested, "flat") == 3.0
    assert results_tables.figure(nested, "2_threads.rate.fast") is None
    assert results_tables.figure(nested, "flat.deeper") is None
    with pytest.raises(FileNotFoundError, match="--json"):
        results_tables.benchmark_rows("bench_synthesis", results_dir=_tables_without_json(tables))


def _tables_without_json(tables):
    import tempfile

    import yaml

    folder = Path(tempfile.mkdtemp())
    (folder / "tables.yaml").write_text(yaml.safe_dump(tables))
    return folder


def test_chapter_07_states_the_shipped_phases_as_they_were_trained():
    """The prose of chapter 07 names every fine-tuning phase of the shipped weights with its recipe
    file and step count (the fifth to eighth, the tenth, twelfth, thirteenth and fourteenth, and the twenty-third to
    twenty-fifth as the average of two seeds,
    the last as the seed
    the prose names), and the measured backgrounds and pedestals of the last phase as its recipe draws them."""
    import json

    from eels_core.learning.presets import load_recipe

    text = (REPO / "notebooks" / "07_training.py").read_text()
    prose = " ".join(line[2:] for line in text.splitlines() if line.startswith("# "))
    phases = json.loads((REPO / "eels_core" / "weights" / "cnn_bilstm.json").read_text())["phases"]
    named = re.findall(r"`experiments/recipes/([\w-]+)\.yaml`, fine-tunes [\w ]+? for ([\d,]+)\s+steps", prose)
    assert len(named) == len(phases) - 1 == 24, named
    for (recipe, steps), phase in zip(named, phases[1:]):
        if "averaged_from" in phase:  # two seeds of the recipe, their weights averaged
            assert phase["checkpoint"] == f"runs/{recipe}-averaged/checkpoint.pt"
            assert [s["checkpoint"] for s in phase["averaged_from"]] == [
                f"runs/{recipe}/checkpoint.pt", f"runs/{recipe}-s1/checkpoint.pt"]
        else:
            assert phase["checkpoint"] in (f"runs/{recipe}/checkpoint.pt", f"runs/{recipe}-s1/checkpoint.pt")
        assert int(steps.replace(",", "")) == phase["steps_done"] == load_recipe(
            REPO / "experiments" / "recipes" / f"{recipe}.yaml")[1].steps
    last_recipe = load_recipe(REPO / "experiments" / "recipes" / f"{named[-1][0]}.yaml")[1]
    last = last_recipe.synthesis
    assert last.background_exponent_range == (1.5, 5.0) and "between 1.5 and 5" in prose
    assert last.background_exponent_range_probability == 0.5 and "half of its measured-physics spectra" in prose
    assert last.noise_follows_background and last.jump_ratio_max_scale == 3.0 and "three times the Table 1" in prose
    assert len(phases) == 25 and "the shipped model's twenty-five phases" in prose
    # the commands block: each phase after the first four took about 20-60 minutes (two seeds at once)
    walls = [phase["wall_time_s"] for phase in phases[4:]]
    assert 20 <= round(min(walls) / 60) and max(walls) <= 60 * 60 and "# # about 20-60 minutes;" in text
    assert [i for i, phase in enumerate(phases) if "averaged_from" in phase] == [4, 5, 6, 7, 9, 11, 12, 13, 22, 23, 24]
    assert ("The fifth to eighth phases, the tenth, twelfth, thirteenth and fourteenth, and the twenty-third to "
            "twenty-fifth train two") in " ".join(prose.split())
    assert phases[-1]["checkpoint"] == f"runs/{named[-1][0]}-averaged/checkpoint.pt" and "its average is the shipped model" in prose
    assert "fine-tunes that average for 8,000 steps at the twenty-fourth's rate" in " ".join(prose.split())
    assert phases[-2]["checkpoint"] == f"runs/{named[-2][0]}-averaged/checkpoint.pt"
    assert "fine-tunes the average of its two seeds for" in " ".join(prose.split())
    assert phases[-3]["checkpoint"] == f"runs/{named[-3][0]}-averaged/checkpoint.pt" and "fine-tunes its first seed for 12,000" in prose
    assert phases[-4]["checkpoint"] == f"runs/{named[-4][0]}/checkpoint.pt"
    assert phases[-5]["checkpoint"] == f"runs/{named[-5][0]}-s1/checkpoint.pt" and "fine-tunes its second seed for" in prose
    assert phases[-6]["checkpoint"] == f"runs/{named[-6][0]}-s1/checkpoint.pt"
    assert phases[-7]["checkpoint"] == f"runs/{named[-7][0]}-s1/checkpoint.pt"
    assert phases[-8]["checkpoint"] == f"runs/{named[-8][0]}/checkpoint.pt" and "fine-tunes the first seed of the eighteenth" in prose
    assert phases[-9]["checkpoint"] == f"runs/{named[-9][0]}/checkpoint.pt" and "fine-tunes its first seed" in prose
    assert phases[-10]["checkpoint"] == f"runs/{named[-10][0]}/checkpoint.pt" and "fine-tunes the first seed of the sixteenth" in prose
    assert phases[-11]["checkpoint"] == f"runs/{named[-11][0]}-s1/checkpoint.pt" and "fine-tunes its second seed" in prose
    assert last.exelfs_probability == 0.7 and last.exelfs_second_shell_probability == 1.0
    assert "the structure on 70 % of the edges, every one of them with two shells" in prose
    # the fifteenth phase: a third shell on 70 % of the edges with two, the computed compound K edges, four times
    # the rate; the sixteenth: the second set of computed compounds at the same rate; the seventeenth: the third;
    # the eighteenth: the seventeenth's physics for 8,000 more steps at half the rate; the nineteenth: the
    # seventeenth's schedule with the white-line distractors drawn five times as often; the twentieth: the
    # nineteenth's schedule and physics with them drawn ten times as often; the twenty-first: the twentieth's
    # schedule with the lanthanide white lines by 4f occupancy and the computed compounds drawn three times as often;
    # the twenty-second: the twenty-first's schedule and physics with the fourth set of computed compounds
    (twentyfourth, twentythird, twentysecond, twentyfirst, twentieth, nineteenth, eighteenth, seventeenth, sixteenth,
     fifteenth, fourteenth) = (load_recipe(REPO / "experiments" / "recipes" / f"{named[k][0]}.yaml")[1]
                               for k in (-2, -3, -4, -5, -6, -7, -8, -9, -10, -11, -12))
    assert fifteenth.synthesis.exelfs_third_shell_probability == 0.7 and last.exelfs_third_shell_probability == 0.7
    assert "a third shell on 70 % of the edges that carry two" in prose
    assert fifteenth.synthesis.computed_compounds and not fourteenth.synthesis.computed_compounds
    assert fifteenth.learning_rate == 4 * fourteenth.learning_rate and "at four times the rate" in prose
    assert sixteenth.synthesis.computed_compounds_2 and not fifteenth.synthesis.computed_compounds_2
    assert sixteenth.learning_rate == fifteenth.learning_rate and sixteenth.steps == fifteenth.steps
    assert "at the same rate, with the K edges computed for a second set of compounds" in prose
    assert seventeenth.synthesis.computed_compounds_3 and not sixteenth.synthesis.computed_compounds_3
    assert seventeenth.learning_rate == fifteenth.learning_rate and seventeenth.steps == fifteenth.steps
    assert "at the same rate, with the N K edges computed for a third set, all nitrides" in prose
    assert eighteenth.synthesis == seventeenth.synthesis and eighteenth.acquisition == seventeenth.acquisition
    assert 2 * eighteenth.learning_rate == seventeenth.learning_rate and eighteenth.steps == 8000
    assert "of the same physics at half the rate" in prose
    assert nineteenth.synthesis == seventeenth.synthesis.replace(distractor_white_line_weight=5.0)
    assert nineteenth.acquisition == seventeenth.acquisition and nineteenth.steps == seventeenth.steps
    assert nineteenth.learning_rate == seventeenth.learning_rate and "at the rate of the seventeenth" in prose
    assert "with the distractor edges shaped like white lines drawn five times as often" in prose
    assert twentieth.synthesis == nineteenth.synthesis.replace(distractor_white_line_weight=10.0)
    assert twentieth.acquisition == nineteenth.acquisition and twentieth.steps == nineteenth.steps == 12000
    assert twentieth.learning_rate == nineteenth.learning_rate
    assert "12,000 steps more at the same rate with those edges drawn ten times as often" in prose
    assert twentyfirst.synthesis == twentieth.synthesis.replace(distractor_table="complete_4f", computed_compound_weight=3.0)
    assert twentyfirst.acquisition == twentieth.acquisition and twentyfirst.steps == twentieth.steps
    assert twentyfirst.learning_rate == twentieth.learning_rate
    assert twentysecond.synthesis == twentyfirst.synthesis.replace(computed_compounds_4=True)
    assert twentysecond.acquisition == twentyfirst.acquisition and twentysecond.steps == twentyfirst.steps == 12000
    assert twentysecond.learning_rate == twentyfirst.learning_rate
    assert "with the K edges computed for a fourth set of compounds" in prose
    # the twenty-third: the twenty-second's schedule and physics with the varied L2,3 copies kept in order and the
    # measured Mn edges; the twenty-fourth: its physics for 8,000 more steps at half the rate
    assert twentythird.synthesis == twentysecond.synthesis.replace(
        elnes_variation_keeps_white_line_order=True, measured_reference_edges=True)
    assert twentythird.acquisition == twentysecond.acquisition and twentythird.steps == twentysecond.steps
    assert twentythird.learning_rate == twentysecond.learning_rate
    assert "keeping their white lines in order and the measured Mn L$_{2,3}$ edges drawn" in " ".join(prose.split())
    assert twentyfourth.synthesis == twentythird.synthesis and twentyfourth.acquisition == twentythird.acquisition
    assert 2 * twentyfourth.learning_rate == twentythird.learning_rate and twentyfourth.steps == 8000
    assert "8,000 steps more of the same physics at half the rate" in " ".join(prose.split())
    # the twenty-fifth: the twenty-fourth's physics, schedule and rate with N drawn three times as often
    assert last == twentyfourth.synthesis.replace(emphasised_elements=("N",), element_emphasis_weight=3.0)
    assert last_recipe.acquisition == twentyfourth.acquisition and last_recipe.steps == twentyfourth.steps
    assert last_recipe.learning_rate == twentyfourth.learning_rate
    assert "with N drawn three times as often as each other element (chapter 04)" in " ".join(prose.split())
    assert "with the lanthanide M$_{4,5}$ white lines drawn by 4f" in prose and "4f   occupancy (chapter 04)" in prose
    assert "the variants of the computed compounds drawn three times as often" in prose
    acquisition = last_recipe.acquisition
    assert acquisition.pedestal_probability == 0.5 and acquisition.pedestal_fraction[1] == 100.0
    assert "pedestals under half of them" in prose and "up to 100 times the median" in prose
    # chapter 04 names the phases whose recipes draw pedestals up to 100 times the median
    up_to_100 = [i + 2 for i, (recipe, _) in enumerate(named) if load_recipe(
        REPO / "experiments" / "recipes" / f"{recipe}.yaml")[1].acquisition.pedestal_fraction[1] == 100.0]
    chapter_04 = (REPO / "notebooks" / "04_synthesis_and_augmentation.py").read_text()
    assert up_to_100 == list(range(10, 26)) and "100 times it in the tenth to twenty-fifth training phases" in " ".join(
        line[2:] for line in chapter_04.splitlines() if line.startswith("# "))
