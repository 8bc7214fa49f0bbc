"""Sphinx extension and helpers: benchmark results as tables, read from data files.

Each benchmark writes its figures with ``--json benchmarks/results/<name>.json``;
``benchmarks/results/tables.yaml`` says which figures a reader sees, in which words, and what each
aims for on two CPU cores. The directive

.. code-block:: markdown

    ```{benchmark-table} bench_synthesis
    ```

renders one benchmark: what it measures, the command that measures it, and a table of quantity,
measured value and aim. :func:`benchmark_rows` builds the same rows for a notebook.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
RESULTS = REPO / "benchmarks" / "results"


def load_tables(results_dir: Path = RESULTS) -> dict[str, dict[str, Any]]:
    """``tables.yaml``: per benchmark its title, what it measures and the rows shown."""
    import yaml

    return yaml.safe_load((results_dir / "tables.yaml").read_text())


def _format(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, float) and (abs(value) < 0.01 and value != 0):
        return f"{value:.1e}"
    if isinstance(value, float) and abs(value) >= 100:
        return f"{value:,.0f}"
    if isinstance(value, float) and not value.is_integer():
        return f"{value:,.2f}".rstrip("0").rstrip(".")
    return f"{value:,.0f}" if isinstance(value, (int, float)) else str(value)


def aim(row: dict[str, Any]) -> str:
    """The row's aim in words (``>= 4,000``), or an empty string."""
    if "at_least" in row:
        return f">= {_format(row['at_least'])}"
    if "at_most" in row:
        return f"<= {_format(row['at_most'])}"
    return ""


def met(row: dict[str, Any], value: Any) -> bool | None:
    """Whether ``value`` reaches the row's aim (None: no aim or no value)."""
    if value is None or ("at_least" not in row and "at_most" not in row):
        return None
    return value >= row["at_least"] if "at_least" in row else value <= row["at_most"]


def figure(figures: dict[str, Any], key: str) -> Any:
    """The figure ``key`` of a results file: a top-level key, or a dotted path into nested
    objects (``2_threads.inference_spectra_per_s.auto``); a repeated measurement
    (``{"median": ..., "min": ..., "max": ...}``) gives its median. None when absent."""
    value: Any = figures
    for part in key.split("."):
        if not isinstance(value, dict) or part not in value:
            return None
        value = value[part]
    if isinstance(value, dict) and "median" in value:
        value = value["median"]
    return value


def benchmark_rows(name: str, results_dir: Path = RESULTS) -> list[tuple[str, str, str]]:
    """(quantity, measured, aim on 2 cores) for every row of benchmark ``name``.

    Raises
    ------
    FileNotFoundError
        When ``benchmarks/results/<name>.json`` is missing (run the benchmark with ``--json``).
    """
    spec = load_tables(results_dir)[name]
    path = results_dir / f"{name}.json"
    if not path.is_file():
        raise FileNotFoundError(f"{path}: missing; run python benchmarks/{name}.py --json benchmarks/results/{name}.json")
    figures = json.loads(path.read_text())
    out = []
    for row in spec["rows"]:
        value = figure(figures, row["key"])
        verdict = met(row, value)
        target = aim(row) + ("" if verdict is None else " (met)" if verdict else " (not met)")
        out.append((row["label"], _format(value), target or "—"))
    return out


def machine(name: str, results_dir: Path = RESULTS) -> str:
    """Where the figures were measured, as the results file says."""
    figures = json.loads((results_dir / f"{name}.json").read_text())
    cpus = figures.get("cpu_count")
    return ", ".join(str(x) for x in (figures.get("machine") or figures.get("cpu"), f"{cpus} CPU cores" if cpus else None,
                                      figures.get("torch") and f"torch {figures['torch']}") if x)


def _table_node(header: tuple[str, ...], rows: list[tuple[str, ...]], parse_inline):
    from docutils import nodes

    table = nodes.table(classes=["benchmark-table"])
    group = nodes.tgroup(cols=len(header))
    table += group
    for _ in header:
        group += nodes.colspec(colwidth=1)

    def row_node(cells):
        row = nodes.row()
        for text in cells:
            entry = nodes.entry()
            para = nodes.paragraph()
            para += parse_inline(text)
            entry += para
            row += entry
        return row

    head = nodes.thead()
    head += row_node(header)
    body = nodes.tbody()
    for r in rows:
        body += row_node(r)
    group += head
    group += body
    return table


def _inline(text: str):
    """Plain text with ``code`` spans as literal nodes."""
    from docutils import nodes

    parts = text.split("`")
    return [nodes.literal(p, p) if k % 2 else nodes.Text(p) for k, p in enumerate(parts) if p]


def setup(app):
    from docutils import nodes
    from sphinx.util.docutils import SphinxDirective

    class BenchmarkTable(SphinxDirective):
        required_arguments = 1
        has_content = False

        def run(self):
            name = self.arguments[0]
            spec = load_tables()[name]
            self.env.note_dependency(str(RESULTS / f"{name}.json"))
            self.env.note_dependency(str(RESULTS / "tables.yaml"))
            what = nodes.paragraph()
            what += _inline(spec["what"])
            command = f"python benchmarks/{name}.py --json benchmarks/results/{name}.json"
            code = nodes.literal_block(command, command, language="bash")
            table = _table_node(("Quantity", "Measured", "Aim on 2 cores"), benchmark_rows(name), _inline)
            where = nodes.paragraph()
            where += nodes.Text(f"Measured on: {machine(name)}.")
            return [what, code, table, where]

    app.add_directive("benchmark-table", BenchmarkTable)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
