"""The notebook runner's reproducibility check: a re-run must give the same text outputs."""

from __future__ import annotations

import argparse
import importlib.util
import json
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
_spec = importlib.util.spec_from_file_location("execute_notebooks", REPO / "scripts" / "execute_notebooks.py")
xnb = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(xnb)


def _nb(*outputs: dict, fingerprint: dict | None = None) -> dict:
    cells = [{"cell_type": "markdown", "source": "# t"}]
    cells += [{"cell_type": "code", "source": "x", "outputs": [out]} for out in outputs]
    return {"cells": cells, "metadata": {"eels_edge_book": fingerprint} if fingerprint else {}}


def _stream(text: str) -> dict:
    return {"output_type": "stream", "name": "stdout", "text": text}


def test_same_outputs_up_to_times_and_addresses_are_unchanged():
    a = _nb(_stream("F1 0.912 in 3.2 s at 0x7f00aa\n"), {"output_type": "execute_result", "data": {"text/plain": "42"}})
    b = _nb(_stream("F1 0.912 in 4.9 s at 0x7f11bb\n"), {"output_type": "execute_result", "data": {"text/plain": "42"}})
    assert xnb.changed_outputs(a, b) == []


def test_a_changed_number_or_cell_count_is_reported():
    a = _nb(_stream("F1 0.912\n"), _stream("ok\n"))
    changed = xnb.changed_outputs(a, _nb(_stream("F1 0.913\n"), _stream("ok\n")))
    assert len(changed) == 1 and changed[0].startswith("code cell 1:") and "0.913" in changed[0]
    assert xnb.changed_outputs(a, _nb(_stream("F1 0.912\n"))) == ["2 code cells before, 1 now"]


def test_one_stream_flushed_in_pieces_is_the_same_output():
    """A cell's stdout may reach the notebook as one output or as several, as the kernel flushes it; the text
    is the same. A different stream, or a display between the pieces, still counts as another output."""
    whole = _nb(_stream("$ eels-core make-database\nwrote db.h5\n"))
    pieces = _nb(_stream("$ eels-core make-database\n"))
    pieces["cells"][1]["outputs"].append(_stream("wrote db.h5\n"))
    assert xnb.changed_outputs(whole, pieces) == []
    assert xnb.changed_outputs(pieces, whole) == []
    other = _nb(_stream("$ eels-core make-database\n"))
    other["cells"][1]["outputs"].append({"output_type": "stream", "name": "stderr", "text": "wrote db.h5\n"})
    assert xnb.changed_outputs(whole, other)
    between = _nb(_stream("$ eels-core make-database\n"))
    between["cells"][1]["outputs"] += [{"output_type": "display_data", "data": {"text/markdown": "| a |"}},
                                      _stream("wrote db.h5\n")]
    assert xnb.changed_outputs(whole, between)
    assert xnb.changed_outputs(pieces, _nb(_stream("$ eels-core make-database\nwrote db.h6\n")))


def test_cells_tagged_to_ignore_are_not_compared():
    a, b = _nb(_stream("took 12 spectra/s\n")), _nb(_stream("took 19 spectra/s\n"))
    assert xnb.changed_outputs(a, b)
    for nb in (a, b):
        nb["cells"][1]["metadata"] = {"tags": [xnb.IGNORE_TAG]}
    assert xnb.changed_outputs(a, b) == []


def test_images_are_not_compared():
    png = {"output_type": "display_data", "data": {"image/png": "AAAA", "text/plain": "<Figure>"}}
    other = {"output_type": "display_data", "data": {"image/png": "BBBB", "text/plain": "<Figure>"}}
    assert xnb.changed_outputs(_nb(png), _nb(other)) == []


def test_only_a_run_of_the_same_source_and_parameters_is_compared(tmp_path):
    source = tmp_path / "01_x.py"
    source.write_text("# %%\nx = 1\n")
    out = tmp_path / "01_x.ipynb"
    out.write_text(json.dumps(_nb(_stream("1\n"), fingerprint=xnb._fingerprint(source, {"n": 2}))))
    assert xnb.previous_run(out, source, {"n": 2}) is not None
    assert xnb.previous_run(out, source, {"n": 3}) is None
    source.write_text("# %%\nx = 2\n")
    assert xnb.previous_run(out, source, {"n": 2}) is None
    assert xnb.previous_run(tmp_path / "missing.ipynb", source, {}) is None


def test_a_run_with_other_weights_is_not_compared(tmp_path, monkeypatch):
    """New shipped weights change the outputs legitimately: the earlier run is not compared."""
    source = tmp_path / "01_x.py"
    source.write_text("# %%\nx = 1\n")
    weights = tmp_path / "w.pt"
    weights.write_bytes(b"old")
    monkeypatch.setattr(xnb, "WEIGHTS", weights)
    out = tmp_path / "01_x.ipynb"
    out.write_text(json.dumps(_nb(_stream("1\n"), fingerprint=xnb._fingerprint(source, {}))))
    assert xnb.previous_run(out, source, {}) is not None
    weights.write_bytes(b"new")
    assert xnb.previous_run(out, source, {}) is None


def test_a_run_on_other_cpu_instructions_is_not_compared(tmp_path, monkeypatch):
    """Floats differ between instruction sets (.ci/run runs as on a CPU without AVX-512): a book
    executed on the machine's own instructions is not compared with a run limited to AVX2."""
    source = tmp_path / "01_x.py"
    source.write_text("# %%\nx = 1\n")
    out = tmp_path / "01_x.ipynb"
    monkeypatch.delenv("ONEDNN_MAX_CPU_ISA", raising=False)
    out.write_text(json.dumps(_nb(_stream("1\n"), fingerprint=xnb._fingerprint(source, {}))))
    assert xnb.previous_run(out, source, {}) is not None
    monkeypatch.setenv("ONEDNN_MAX_CPU_ISA", "AVX2")
    assert xnb.cpu_instructions()["onednn_max"] == "AVX2"
    assert xnb.previous_run(out, source, {}) is None


def test_jobs_execute_notebooks_at_once_and_name_the_one_that_fails(tmp_path, monkeypatch, capsys):
    """``--jobs 2``: every notebook is executed (each in a process of its own) and written; a failing
    one is named with its error, and the exit status is 1."""
    sources = tmp_path / "notebooks"
    sources.mkdir()
    for stem in ("01_a", "02_b"):
        (sources / f"{stem}.py").write_text('# %% tags=["parameters"]\nn = 1\n\n# %%\nprint(n + 1)\n')
    (sources / "03_c.py").write_text('# %% tags=["parameters"]\nn = 1\n\n# %%\nraise ValueError("broken on purpose")\n')
    monkeypatch.setattr(xnb, "NOTEBOOK_DIR", sources)
    # the worker processes find the runner by its name, as they do when it runs as a script
    monkeypatch.syspath_prepend(str(REPO / "scripts"))
    monkeypatch.setitem(sys.modules, "execute_notebooks", xnb)
    out = tmp_path / "out"
    assert xnb.main(["--jobs", "2", "--out", str(out)]) == 1
    printed = capsys.readouterr()
    assert "2/3 notebooks ok" in printed.out and "(2 at once)" in printed.out
    assert "failed notebooks: 03_c" in printed.err and "broken on purpose" in printed.err
    assert sorted(p.name for p in out.glob("*.ipynb")) == ["01_a.ipynb", "02_b.ipynb", "03_c.ipynb"]
    executed = json.loads((out / "02_b.ipynb").read_text())
    streams = [o for c in executed["cells"] for o in c.get("outputs", []) if o.get("output_type") == "stream"]
    assert ["".join(o["text"]) for o in streams] == ["2\n"]


def test_jobs_is_a_positive_number_or_auto():
    assert xnb._jobs("3") == 3
    assert 1 <= xnb._jobs("auto") <= xnb.MAX_AUTO_JOBS
    for bad in ("0", "-1", "two"):
        try:
            xnb._jobs(bad)
        except argparse.ArgumentTypeError as exc:
            assert bad in str(exc)
        else:
            raise AssertionError(f"--jobs {bad} was accepted")
