"""The look-alike notes (eels_core.real.look_alikes) and their place in the eels-edges report."""

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from eels_core.forward.edges import edge_labels
from eels_core.learning.checkpoint import DEFAULT_WEIGHTS, sha256_of
from eels_core.real.cli import main
from eels_core.real.look_alikes import MIN_EXCESS, MIN_WINDOWS, look_alike_edges, look_alike_path, look_alike_table


def _row(distractor: str, onset: float, with_: dict, without: dict, eligible: int = 500) -> dict:
    labels = edge_labels()
    return {"distractor": distractor, "onset_ev": onset, "eligible": {e: eligible for e in labels},
            "named_with": {e: with_.get(e, 0.0) for e in labels}, "named_without": {e: without.get(e, 0.0) for e in labels}}


def _measured(weights: Path, rows: list[dict], sha: str | None = None) -> None:
    look_alike_path(weights).write_text(json.dumps({"models": [
        {"name": "shipped", "sha256": sha or sha256_of(weights), "rows": rows}]}))


def test_a_pair_is_listed_above_both_floors_once_per_edge_and_by_falling_excess(tmp_path):
    weights = tmp_path / "w.pt"
    weights.write_bytes(b"weights")
    rows = [_row("La M4,5 4f0", 832.0, {"Ni L2,3": 0.5}, {"Ni L2,3": 0.02}),
            _row("Ce M4,5 4f0", 883.0, {"Ni L2,3": 0.3}, {}),
            _row("Ce M4,5 4f1", 883.0, {"Ni L2,3": 0.35}, {"Ni L2,3": 0.01}),  # the same edge: counts once, its best
            _row("Be K", 111.0, {"Si L2,3": MIN_EXCESS - 0.01}, {}),  # below the excess floor
            _row("Pr M4,5 4f2", 931.0, {"Cu L2,3": 0.9}, {}, eligible=MIN_WINDOWS - 1)]  # too few windows
    _measured(weights, rows)
    table = look_alike_table(weights)
    assert list(table) == ["Ni L2,3"]
    assert [(f.look_alike, round(f.excess, 4)) for f in table["Ni L2,3"]] == [("La M4,5", 0.48), ("Ce M4,5", 0.34)]
    assert table["Ni L2,3"][0].as_dict() == {"edge": "Ni L2,3", "look_alike": "La M4,5", "edge_onset_ev": 832.0,
                                             "named_with": 0.5, "named_without": 0.02}
    assert [f.look_alike for f in look_alike_edges(["Ni L2,3", "O K"], (500.0, 860.0), weights)] == ["La M4,5"]
    assert look_alike_edges(["O K"], None, weights) == []


def test_no_notes_without_a_measurement_of_these_weights(tmp_path):
    weights = tmp_path / "w.pt"
    weights.write_bytes(b"weights")
    assert look_alike_table(weights) == {}  # nothing beside the weights
    _measured(weights, [_row("La M4,5 4f0", 832.0, {"Ni L2,3": 0.5}, {})], sha="0" * 64)
    assert look_alike_table(weights) == {}  # a measurement of other weights


def test_the_shipped_weights_have_their_measurement():
    """Weights shipped without measuring their look-alikes again would lose the notes: the file beside them names
    their sha256 and covers every edge outside the 20 that the training drew."""
    from eels_core.forward.edges import distractor_label, load_distractor_edges

    record = json.loads(look_alike_path().read_text())
    (model,) = [m for m in record["models"] if m["sha256"] == sha256_of(DEFAULT_WEIGHTS)]
    assert [r["distractor"] for r in model["rows"]] == [distractor_label(v) for v in load_distractor_edges("complete_4f")]
    table = look_alike_table()
    assert table and all(f.excess >= MIN_EXCESS for found in table.values() for f in found)


def _weights_noting_every_edge(tmp_path: Path, onset: float) -> Path:
    """A copy of the shipped weights whose measurement gives every edge of the 20 one look-alike at ``onset``."""
    weights = tmp_path / "cnn_bilstm.pt"
    shutil.copy(DEFAULT_WEIGHTS, weights)
    shutil.copy(DEFAULT_WEIGHTS.with_suffix(".json"), weights.with_suffix(".json"))
    _measured(weights, [_row("Xx K", onset, {e: 0.6 for e in edge_labels()}, {})])
    return weights


@pytest.mark.parametrize("onset,noted", [(450.0, True), (900.0, False)])
def test_the_report_notes_the_look_alikes_of_the_detected_edges_in_the_window(tmp_path, capsys, onset, noted):
    from eels_core.forward.synthesis import synthesize

    weights = _weights_noting_every_edge(tmp_path, onset)
    batch = synthesize(1, seed=4)
    from eels_core.forward.axis import network_energy_axis

    e = network_energy_axis()
    inside = (e >= 300.0) & (e <= 700.0)
    path = tmp_path / "spectrum.txt"
    np.savetxt(path, np.column_stack([e[inside], 1e4 * np.asarray(batch.spectra)[0][inside]]))
    assert main(["predict", str(path), "--json", "--weights", str(weights)]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["detected"], "the synthetic spectrum has edges the weights name"
    expected = [{"edge": d, "look_alike": "Xx K", "edge_onset_ev": onset, "named_with": 0.6, "named_without": 0.0}
                for d in report["detected"]] if noted else []
    assert report["look_alikes"] == expected
    assert main(["predict", str(path), "--weights", str(weights)]) == 0
    lines = [line for line in capsys.readouterr().out.splitlines() if line.startswith("look-alike:")]
    assert len(lines) == len(expected)
    assert all(f"could also be Xx K ({onset:.0f} eV)" in line and "60 % of the windows that hold Xx K" in line
               for line in lines)


def test_the_readme_examples_are_look_alikes_of_the_shipped_weights():
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    said = "(Pr M4,5 as Cu L2,3, La M4,5 as Ni L2,3, Be K as Si L2,3)"
    assert said in readme.replace("\n", " ")
    table = look_alike_table()
    for pair in said.strip("()").split(", "):
        look_alike, edge = pair.split(" as ")
        assert look_alike in [f.look_alike for f in table[edge]]
