#!/usr/bin/env python
"""Execute the book's notebooks with papermill.

Every ``notebooks/NN_*.py`` (Jupytext percent format, the source of truth) is converted to a
notebook in memory, run with papermill (kernel ``python3``, working directory ``notebooks/``)
with a parameter set, and written to ``book/<stem>.ipynb``, which is what the
Jupyter Book renders (Jupyter Book 1 never reads anything under ``_build/``).

    .venv/bin/python scripts/execute_notebooks.py                  # CI-sized parameters
    .venv/bin/python scripts/execute_notebooks.py --parameters full    # paper scale (GPU)
    .venv/bin/python scripts/execute_notebooks.py --only 01_edge_modelling --out /tmp/nb

Parameter sets live in ``parameters/<name>.yaml`` as ``{notebook_stem: {parameter: value}}``; a notebook
without an entry runs with the defaults of its ``parameters`` cell. A parameter set naming a parameter
that the notebook's ``parameters`` cell does not define is an error (a typo would otherwise run
the notebook at its default, possibly paper-scale, size).

Importable: tests/book/test_notebooks.py uses ``find_notebooks``, ``load_parameters`` and ``execute``.
"""

from __future__ import annotations

import argparse
import ast
import os
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
NOTEBOOK_DIR = REPO / "notebooks"
PARAMETER_DIR = REPO / "parameters"
DEFAULT_OUT = REPO / "book"
NOTEBOOK_GLOB = "[0-9][0-9]_*.py"
KERNEL = "python3"
TIMEOUT_S = 900


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


def execute(path: Path, out_dir: Path = DEFAULT_OUT, parameters: dict | None = None,
            timeout: int = TIMEOUT_S) -> Path:
    """Run one notebook; return the executed ``.ipynb``. Raises on a failing cell.

    The executed notebook (with the failing cell's traceback, if any) is written either way.
    """
    import papermill

    parameters = dict(parameters or {})
    nb = read_notebook(path)
    unknown = set(parameters) - parameter_names(nb)
    if unknown:
        raise ValueError(f"{path.stem}: the parameter set sets {sorted(unknown)}, not defined in its 'parameters' cell")
    # Progress bars are noise in a rendered book and make nbval comparisons timing-dependent.
    # Export TQDM_DISABLE= (empty) to keep them.
    os.environ.setdefault("TQDM_DISABLE", "1")
    out_dir.mkdir(parents=True, exist_ok=True)
    out = out_dir / f"{path.stem}.ipynb"
    papermill.execute_notebook(
        nb, str(out), parameters=parameters, kernel_name=KERNEL, language="python",
        cwd=str(path.parent), execution_timeout=timeout, progress_bar=False,
    )
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--parameters", default="ci", help="parameters/<name>.yaml (ci, full); default ci")
    ap.add_argument("--only", action="append", metavar="STEM", help="run only this notebook (repeatable)")
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT, help="output folder (default: book/)")
    ap.add_argument("--timeout", type=int, default=TIMEOUT_S, help="per-cell timeout, s (default 900)")
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
    for path in notebooks:
        params = parameter_set.get(path.stem, {})
        print(f"--> {path.stem}  {params or '(defaults)'}", flush=True)
        t0 = time.perf_counter()
        try:
            out = execute(path, args.out, params, args.timeout)
        except Exception as exc:  # papermill's error names the cell and carries the traceback
            failed.append(path.stem)
            print(f"FAIL {path.stem}  {time.perf_counter() - t0:7.1f} s\n{exc}", file=sys.stderr, flush=True)
        else:
            print(f"ok   {path.stem}  {time.perf_counter() - t0:7.1f} s  -> {os.path.relpath(out)}", flush=True)
    print(f"{len(notebooks) - len(failed)}/{len(notebooks)} notebooks ok in {time.perf_counter() - t_all:.1f} s")
    if failed:
        print(f"failed notebooks: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
