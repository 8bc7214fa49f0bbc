"""Scoring the validation set with the index's ``optional_edges`` column (shared/real-spectra README):
an optional edge is removed from both the expected and the predicted set."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np

from eels_core.forward.edges import edge_labels
from eels_core.real.real_spectra import (
    SHIPPED_REAL_SPECTRA_DIR,
    load_real_spectra_index,
    predict_summed_files,
    record_scored_edges,
)


def _index_copy(tmp_path: Path, optional: dict[str, str]) -> Path:
    """A copy of the shipped index (same files) whose rows get the given ``optional_edges``."""
    with open(SHIPPED_REAL_SPECTRA_DIR / "index.csv", newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    fields = list(rows[0]) + (["optional_edges"] if "optional_edges" not in rows[0] else [])
    for r in rows:
        r["file"] = str(SHIPPED_REAL_SPECTRA_DIR / r["file"])
        r["optional_edges"] = optional.get(Path(r["file"]).name.split("__", 1)[-1], "")
    with open(tmp_path / "index.csv", "w", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(f, fieldnames=fields)
        w.writeheader()
        w.writerows(rows)
    return tmp_path


def test_optional_edges_are_read_and_left_out_of_the_scored_set(tmp_path):
    folder = _index_copy(tmp_path, {"hl.msa": "O K"})
    records = {r.name: r for r in load_real_spectra_index(folder)}
    labels = edge_labels()
    assert records["hl.msa"].optional_edges == ("O K",)
    assert records["Cr_L_cl.hspy"].optional_edges == ()
    assert "O K" not in record_scored_edges(records["hl.msa"], labels)
    assert "Ti L2,3" in record_scored_edges(records["hl.msa"], labels)


def test_an_optional_edge_is_neither_required_nor_wrong(tmp_path):
    import torch

    from eels_core.learning.network import CNNBiLSTM

    torch.manual_seed(0)
    model = CNNBiLSTM().eval()
    labels = edge_labels()
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    plain = [r for r in load_real_spectra_index(_index_copy(tmp_path / "a", {})) if r.name == "hl.msa"]
    marked = [r for r in load_real_spectra_index(_index_copy(tmp_path / "b", {"hl.msa": "O K"})) if r.name == "hl.msa"]
    k = labels.index("O K")
    # a threshold near 0: every in-window edge is detected, O K included
    (a,) = predict_summed_files(plain, model=model, threshold=1e-12)
    (b,) = predict_summed_files(marked, model=model, threshold=1e-12)
    assert a.truth[k] and a.pred[k]
    assert not b.truth[k] and not b.pred[k]
    others = np.arange(len(labels)) != k
    assert np.array_equal(a.truth[others], b.truth[others]) and np.array_equal(a.pred[others], b.pred[others])
