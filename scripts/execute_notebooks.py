#!/usr/bin/env python
"""Execute the book's notebooks with papermill.

Every ``notebooks/NN_*.py`` (Jupytext percent format, the source of truth) is converted to a
notebook in memory, run with papermill (kernel ``python3``, working directory ``notebooks/``)
with a parameter set, and written to ``book/<stem>.ipynb``, which is what the
Jupyter Book renders (Jupyter Book 1 never reads anything under ``_build/``).

    .venv/bin/python scripts/execute_notebooks.py                  # CI-sized parameters
    .venv/bin/python scripts/execute_notebooks.py --parameters full    # paper scale (GPU)
    .venv/bin/python scripts/execute_notebooks.py --only 01_edge_modelling --out /tmp/nb
    .venv/bin/python scripts/execute_notebooks.py --jobs auto      # one notebook per core at once (at most 4)

Parameter sets live in ``parameters/<name>.yaml`` as ``{notebook_stem: {parameter: value}}``; a notebook
without an entry runs with the defaults of its ``parameters`` cell. A parameter set naming a parameter
that the notebook's ``parameters`` cell does not define is an error (a typo would otherwise run
the notebook at its default, possibly paper-scale, size).

Reproducibility: each run records in the executed notebook the sha256 of its source, its
parameters, the sha256 of the shipped weights it read and the CPU instructions PyTorch used. When
``book/<stem>.ipynb`` from an earlier run of the same source, parameters and weights on the same
instructions is there (the main job, ``scripts/build_book.sh``, leaves them), :func:`execute` compares the new
outputs with it, after the replacements of ``tests/book/output_sanitize.cfg`` (times, addresses,
temporary paths), and reports every cell whose text output changed: the check that a re-run gives
the same book, without executing any notebook twice in one run. Cells tagged
``nbval-ignore-output`` (timings, machine-dependent figures) are not compared.

Importable: tests/book/test_notebooks.py uses ``find_notebooks``, ``load_parameters``, ``execute``
and ``changed_outputs``.
"""

from __future__ import annotations

import argparse
import ast
import concurrent.futures
import configparser
import functools
import hashlib
import json
import os
import re
import sys
import time
from collections.abc import Iterator
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
NOTEBOOK_DIR = REPO / "notebooks"
PARAMETER_DIR = REPO / "parameters"
DEFAULT_OUT = REPO / "book"
NOTEBOOK_GLOB = "[0-9][0-9]_*.py"
KERNEL = "python3"
TIMEOUT_S = 900
#: The most notebooks ``--jobs auto`` executes at once (each kernel holds its own data and model).
MAX_AUTO_JOBS = 4
SANITIZE = REPO / "tests" / "book" / "output_sanitize.cfg"
#: Output types whose text is compared between runs (images are not: PNG bytes differ between
#: matplotlib builds without any visible change).
COMPARED = ("text/plain", "text/markdown", "text/latex")
#: Tag of cells whose outputs may differ between runs (the tag nbval uses for the same purpose).
IGNORE_TAG = "nbval-ignore-output"
#: The shipped weights the chapters load: other weights give other outputs, not an irreproducible run.
WEIGHTS = REPO / "eels_core" / "weights" / "cnn_bilstm.pt"


def find_notebooks(only: list[str] | None = None) -> list[Path]:
    """Notebook sources ``notebooks/NN_*.py``, sorted; ``only`` restricts to those stems."""
    found = sorted(NOTEBOOK_DIR.glob(NOTEBOOK_GLOB))
    if only:
        stems = {p.stem: p for p in found}
        missing = [s for s in only if s not in stems]
        if missing:
            raise SystemExit(f"no such notebook(s): {', '.join(missing)} (have: {', '.join(stems) or 'none'})")
        found = [stems[s] for s in only]
    return found


def load_parameters(name: str) -> dict[str, dict]:
    """``parameters/<name>.yaml`` as ``{stem: {param: value}}`` (empty file -> ``{}``)."""
    import yaml

    path = PARAMETER_DIR / f"{name}.yaml"
    if not path.is_file():
        raise SystemExit(f"no parameter set {path.relative_to(REPO)}")
    data = yaml.safe_load(path.read_text()) or {}
    if not isinstance(data, dict) or not all(isinstance(v, dict) or v is None for v in data.values()):
        raise SystemExit(f"{path}: expected a mapping {{notebook_stem: {{param: value}}}}")
    return {stem: dict(params or {}) for stem, params in data.items()}


def read_notebook(path: Path):
    """The percent-format ``.py`` as an nbformat notebook (pairing metadata dropped)."""
    import jupytext

    nb = jupytext.read(path)
    nb.metadata.get("jupytext", {}).pop("formats", None)
    nb.metadata["kernelspec"] = {"name": KERNEL, "display_name": "Python 3", "language": "python"}
    return nb


def parameters_cells(nb) -> list:
    return [c for c in nb.cells if "parameters" in c.get("metadata", {}).get("tags", [])]


def parameter_names(nb) -> set[str]:
    """Names assigned at top level in the notebook's ``parameters`` cell(s)."""
    names: set[str] = set()
    for cell in parameters_cells(nb):
        for node in ast.parse(cell.source).body:
            targets = node.targets if isinstance(node, ast.Assign) else [getattr(node, "target", None)]
            names.update(t.id for t in targets if isinstance(t, ast.Name))
    return names


@functools.lru_cache(maxsize=1)
def _pytorch_capability() -> str:
    """The instructions of PyTorch's own kernels, fixed when PyTorch starts (``ATEN_CPU_CAPABILITY`` can lower them)."""
    import torch  # here, not at the top: the runner's other functions do without it

    return torch.backends.cpu.get_cpu_capability()


def cpu_instructions() -> dict:
    """The CPU instructions that the chapters' PyTorch computes with: PyTorch's own kernels
    (:func:`_pytorch_capability`) and the ceiling ``ONEDNN_MAX_CPU_ISA`` sets for oneDNN's.

    Floats, and so the digits that the training chapters print, differ between instruction sets
    (``.ci/run`` runs as on a CPU without AVX-512), so a run is compared only with an earlier run
    on the same ones.
    """
    return {"pytorch": _pytorch_capability(), "onednn_max": os.environ.get("ONEDNN_MAX_CPU_ISA")}


def _fingerprint(path: Path, parameters: dict) -> dict:
    """What decides a notebook's outputs: its source, its parameters, the shipped weights (:data:`WEIGHTS`)
    and the CPU instructions (:func:`cpu_instructions`)."""
    return {"source_sha256": hashlib.sha256(path.read_bytes()).hexdigest(), "parameters": parameters,
            "weights_sha256": hashlib.sha256(WEIGHTS.read_bytes()).hexdigest() if WEIGHTS.is_file() else None,
            "cpu_instructions": cpu_instructions()}


def _sanitize_rules() -> list[tuple[re.Pattern, str]]:
    cfg = configparser.ConfigParser(interpolation=None)
    cfg.read(SANITIZE)
    return [(re.compile(cfg[s]["regex"]), cfg[s]["replace"]) for s in cfg.sections()]


def _cell_texts(nb: dict, rules: list[tuple[re.Pattern, str]]) -> list[str]:
    """The sanitised text outputs of every code cell, one string per cell."""
    texts = []
    for cell in nb.get("cells", []):
        if cell.get("cell_type") != "code":
            continue
        if IGNORE_TAG in cell.get("metadata", {}).get("tags", []):
            texts.append("")
            continue
        parts, stream = [], None
        for out in cell.get("outputs", []):
            if out.get("output_type") == "stream":
                text = "".join(out.get("text", ""))
                if parts and out.get("name") == stream:  # one stream, flushed in pieces: the same text
                    parts[-1] += text
                else:
                    parts.append(text)
                stream = out.get("name")
                continue
            stream = None
            for kind in COMPARED:
                if kind in out.get("data", {}):
                    parts.append("".join(out["data"][kind]))
        text = "\n".join(parts)
        for pattern, replacement in rules:
            text = pattern.sub(replacement, text)
        texts.append(text)
    return texts


def changed_outputs(previous: dict, current: dict) -> list[str]:
    """Cells whose sanitised text output differs between two executions of one notebook."""
    rules = _sanitize_rules()
    old, new = _cell_texts(previous, rules), _cell_texts(current, rules)
    if len(old) != len(new):
        return [f"{len(old)} code cells before, {len(new)} now"]
    return [f"code cell {k + 1}: {a[:160]!r} -> {b[:160]!r}" for k, (a, b) in enumerate(zip(old, new)) if a != b]


def previous_run(out: Path, path: Path, parameters: dict) -> dict | None:
    """The executed notebook of an earlier run of the same source and parameters, if any."""
    try:
        nb = json.loads(out.read_text())
    except (OSError, ValueError):
        return None
    return nb if nb.get("metadata", {}).get("eels_edge_book") == _fingerprint(path, parameters) else None


def execute(path: Path, out_dir: Path = DEFAULT_OUT, parameters: dict | None = None,
            timeout: int = TIMEOUT_S) -> Path:
    """Run one notebook; return the executed ``.ipynb``. Raises on a failing cell, and with
    ``RuntimeError`` when the outputs differ from an earlier run of the same source and
    parameters (see the module docstring).

    The executed notebook (with the failing cell's traceback, if any) is written either way.
    """
    import papermill

    parameters = dict(parameters or {})
    nb = read_notebook(path)
    nb.metadata["eels_edge_book"] = _fingerprint(path, parameters)
    unknown = set(parameters) - parameter_names(nb)
    if unknown:
        raise ValueError(f"{path.stem}: the parameter set sets {sorted(unknown)}, not defined in its 'parameters' cell")
    # Progress bars are noise in a rendered book and make output comparisons timing-dependent.
    # Export TQDM_DISABLE= (empty) to keep them.
    os.environ.setdefault("TQDM_DISABLE", "1")
    out_dir.mkdir(parents=True, exist_ok=True)
    out = out_dir / f"{path.stem}.ipynb"
    before = previous_run(out, path, parameters)
    papermill.execute_notebook(
        nb, str(out), parameters=parameters, kernel_name=KERNEL, language="python",
        cwd=str(path.parent), execution_timeout=timeout, progress_bar=False,
    )
    if before is not None:
        changed = changed_outputs(before, json.loads(out.read_text()))
        if changed:
            raise RuntimeError(f"{path.stem}: outputs differ from the previous run of the same source:\n  "
                               + "\n  ".join(changed[:10]))
    return out


def _jobs(text: str) -> int:
    """``--jobs``: a positive number of processes, or ``auto`` (one per core, at most :data:`MAX_AUTO_JOBS`)."""
    if text == "auto":
        return max(1, min(MAX_AUTO_JOBS, os.cpu_count() or 1))
    try:
        jobs = int(text)
    except ValueError:
        jobs = 0
    if jobs < 1:
        raise argparse.ArgumentTypeError(f"--jobs takes a positive number or 'auto', not {text!r}")
    return jobs


def _run_one(path: Path, out_dir: Path, params: dict, timeout: int) -> tuple[str, bool, str, float]:
    """Execute one notebook; return its stem, whether it ran, the output path or the error, and the seconds taken."""
    # one write per line (text and newline together): the lines of processes running at once do not interleave
    print(f"--> {path.stem}  {params or '(defaults)'}\n", end="", flush=True)
    t0 = time.perf_counter()
    try:
        out = execute(path, out_dir, params, timeout)
    except Exception as exc:  # papermill's error names the cell and carries the traceback
        return path.stem, False, str(exc), time.perf_counter() - t0
    return path.stem, True, os.path.relpath(out), time.perf_counter() - t0


def _results(calls: list[tuple], jobs: int) -> Iterator[tuple[str, bool, str, float]]:
    """:func:`_run_one` of every call, in order with one job, else as the ``jobs`` processes finish them."""
    if jobs == 1:
        yield from (_run_one(*call) for call in calls)
        return
    with concurrent.futures.ProcessPoolExecutor(jobs) as pool:
        for future in concurrent.futures.as_completed([pool.submit(_run_one, *call) for call in calls]):
            yield future.result()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--parameters", default="ci", help="parameters/<name>.yaml (ci, full); default ci")
    ap.add_argument("--only", action="append", metavar="STEM", help="run only this notebook (repeatable)")
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT, help="output folder (default: book/)")
    ap.add_argument("--timeout", type=int, default=TIMEOUT_S, help="per-cell timeout, s (default 900)")
    ap.add_argument("--jobs", type=_jobs, default=1, metavar="N",
                    help=f"notebooks executed at once, each in its own process and kernel; 'auto': one per core, "
                         f"at most {MAX_AUTO_JOBS} (default 1; with more, the timings that chapters print include "
                         "the sharing of the cores)")
    args = ap.parse_args(argv)

    parameter_set = load_parameters(args.parameters)
    notebooks = find_notebooks(args.only)
    if not notebooks:
        print(f"no notebooks matching {NOTEBOOK_DIR.relative_to(REPO)}/{NOTEBOOK_GLOB}")
        return 0
    for stem in sorted(set(parameter_set) - {p.stem for p in sorted(NOTEBOOK_DIR.glob(NOTEBOOK_GLOB))}):
        print(f"warning: parameter set {args.parameters!r} has an entry for unknown notebook {stem!r}", file=sys.stderr)

    failed = []
    t_all = time.perf_counter()
    jobs = min(args.jobs, len(notebooks))
    cpu_instructions()  # PyTorch imported once, here: the processes of --jobs inherit it
    calls = [(p, args.out, parameter_set.get(p.stem, {}), args.timeout) for p in notebooks]
    for stem, ran, detail, seconds in _results(calls, jobs):
        if not ran:
            failed.append(stem)
            print(f"FAIL {stem}  {seconds:7.1f} s\n{detail}\n", end="", file=sys.stderr, flush=True)
        else:
            print(f"ok   {stem}  {seconds:7.1f} s  -> {detail}\n", end="", flush=True)
    print(f"{len(notebooks) - len(failed)}/{len(notebooks)} notebooks ok in {time.perf_counter() - t_all:.1f} s"
          + (f" ({jobs} at once)" if jobs > 1 else ""))
    if failed:
        print(f"failed notebooks: {', '.join(sorted(failed))}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
