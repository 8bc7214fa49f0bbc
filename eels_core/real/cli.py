"""Command line ``eels-edges``: name the core-loss edges of a measured EELS file.

::

    eels-edges predict FILE [--json] [--threshold T] [--maps OUT [--overwrite]] [--sum] [--weights PT] [--precision P] [--quiet]

FILE is anything :func:`eels_core.real.io.read_spectrum` reads (``.msa``, ``.dm3``, ``.dm4``,
``.hspy``, two-column ``.txt``/``.csv``/``.dat``).

* A single spectrum: a table of the detected edges (name, probability, estimated onset), a
  ``look-alike:`` line for each edge outside the 20 in the window that these weights are known to name
  as a detected edge (``look_alikes`` below), then the edges inside the window that were not
  detected, and those outside it (never reported).
* A line scan or spectrum image: the same table for the summed spectrum, and, per pixel, the share
  of pixels in which each edge is detected (``--sum``: the summed spectrum only, faster).
  ``--maps OUT`` also writes per-edge maps into the folder OUT (see below), with a progress bar.

Bad channels: isolated dead, cold, hot or negative channels are repaired before the network sees
the spectrum (:func:`eels_core.learning.defects.repair_bad_channels`); the text output says which
(``note: repaired ...``), the JSON lists them under ``repaired_channels``.

Big files: a file larger than :data:`LAZY_READ_BYTES` (256 MiB) is read lazily
(``read_spectrum(FILE, lazy=True)``, where the format allows it: HyperSpy ``.hspy``/``.zspy``,
DigitalMicrograph and others) and labelled chunk by chunk, so memory stays bounded whatever the
size of the spectrum image; ``--sum`` sums it chunk by chunk in a safe scale.

Bad input (missing file, unsupported format, no energy axis, non-monotonic axis, NaN/inf counts,
all-zero or negative counts, a window outside 90-1000 eV or narrower there than the weights
accept (their ``narrowest_window_ev``: 20 eV for the shipped weights), a corrupt
or truncated file, unsafe or damaged weights, a ``--maps`` folder that cannot be written or is
not empty without ``--overwrite`` (checked before the run), a bad option) prints one line
``eels-edges: error: ...`` on stderr and exits with status 2. Exit status 0: success; 1: an
unexpected internal error (one line, please report). The JSON never holds NaN or Infinity.

JSON output (``--json``), schema ``eels-edges.predict/1``
---------------------------------------------------------
One object on stdout. Keys (stable; new keys may be added, none removed or renamed within ``/1``):

``schema``
    ``"eels-edges.predict/1"``.
``file``
    FILE as given.
``n_channels``, ``energy_range_ev``, ``dispersion_ev``
    The file's energy axis: channel count, ``[first, last]`` energy (eV), median channel width.
``window_ev``
    ``[start, stop]``: the measured range clipped to the model's 90-1000 eV. Only edges whose
    reference onset lies in ``[start + 5, stop - 20]`` can be reported.
``navigation_shape``, ``n_spectra``
    ``[]`` and 1 for one spectrum, ``[m]`` for a line scan, ``[rows, columns]`` for an image.
``spectrum``
    ``"single"``, or ``"summed"`` when ``edges`` describes the sum of all pixels.
``threshold``
    Probability at or above which an edge counts as detected.
``precision``
    ``"float32"`` (default) or ``"bfloat16"``: the arithmetic of the network (``--precision``).
``model``
    ``{"weights": path, "sha256": hex or null, "step": training step or null}``.
``edges``
    Every edge inside the window, by reference onset: ``{"edge": "O K", "element": "O",
    "probability": 0.9731, "detected": true, "onset_ev": 531.4, "reference_onset_ev": 532.0}``.
    ``probability`` has 4 decimals; ``onset_ev`` (estimated: where the background-subtracted,
    smoothed spectrum starts its steepest rise within +-15 eV of the reference, see
    :func:`eels_core.real.predict.estimate_onsets`) has 0.1 eV and is null when it was not estimated.
``detected``
    Names of the detected edges (those of ``edges`` with ``detected`` true), by reference onset.
``look_alikes``
    Edges outside the 20 whose onset lies in the window and that the weights are known to name as a
    detected edge (:mod:`eels_core.real.look_alikes`): ``[{"edge": "Ni L2,3", "look_alike": "La M4,5",
    "edge_onset_ev": 832.0, "named_with": 0.48, "named_without": 0.0}, ...]``, the shares of synthetic
    windows in which the detected edge is named where it is not, with that edge outside the 20 and
    without it. ``[]`` when there are none, or for weights without such a measurement. A note for the
    reader, never a change to ``detected``; the text output prints each as a ``look-alike:`` line.
``reading_warnings``
    What the reader said about the file (e.g. an EMSA file one data row short of its NPOINTS);
    empty for a clean file. The text output prints each as a ``note:`` line.
``repaired_channels``
    Channels of the labelled spectrum (single or summed) repaired before the network saw it:
    ``[{"channel": 1640, "energy_ev": 500.0}, ...]`` (channel index in the file; energy 0.001 eV);
    ``[]`` when none.
``outside_window``
    Names of the edges that cannot be checked on this window.
``pixels``
    null for a single spectrum or with ``--sum``; else ``{"n_valid": pixels with positive counts,
    "edges": [{"edge", "detected_fraction", "mean_probability"}, ...], "repaired": {"n_spectra",
    "n_channels"}}`` over the pixels, same order as ``edges`` (fractions and means with 4
    decimals); ``repaired`` counts the pixels with at least one repaired channel and the channels
    repaired in at least one pixel.
``maps``
    null without ``--maps``; else ``{"directory": OUT, "files": [names written, sorted]}``.

Maps (``--maps OUT``)
---------------------
For every edge inside the window, with ``TAG`` its name with spaces as ``_`` and commas removed
(``O_K``, ``Fe_L23``): ``TAG_probability.npy`` (float32, navigation shape), ``TAG_presence.npy``
(bool: probability >= threshold), ``TAG_onset_ev.npy`` (float64, NaN where not estimated) and
``TAG.png`` (a map for a spectrum image, a profile for a line scan); also ``overview.png`` (all
edges), ``probabilities.npy`` (navigation shape x 20, Table 1 order) and ``maps.json`` (labels,
window, threshold, file list).
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import warnings
from pathlib import Path
from typing import Any, NoReturn

import numpy as np

SCHEMA = "eels-edges.predict/1"
#: Files larger than this are read lazily and labelled chunk by chunk.
LAZY_READ_BYTES = 256 * 1024**2


class _Parser(argparse.ArgumentParser):
    """argparse that reports a usage error as one line (and exit status 2)."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"eels-edges: error: {message} (see eels-edges predict --help)\n")


def _parser() -> argparse.ArgumentParser:
    p = _Parser(prog="eels-edges", description="Name the core-loss edges of an EELS file with the CNN-BiLSTM.")
    sub = p.add_subparsers(dest="command", required=True, parser_class=_Parser)
    pr = sub.add_parser(
        "predict",
        help="detect edges in a spectrum, line scan or spectrum image",
        description="Detect the 20 edges of the paper's Table 1 in FILE. For a line scan or spectrum image: "
        "the summed spectrum, the share of pixels per edge, and with --maps per-edge maps.",
    )
    pr.add_argument("file", metavar="FILE", help="spectrum file: .msa, .dm3, .dm4, .hspy, or two-column .txt/.csv/.dat")
    pr.add_argument("--json", action="store_true", help="print one JSON object (schema eels-edges.predict/1)")
    pr.add_argument("--threshold", type=float, default=0.5, help="probability for a detection (default 0.5)")
    pr.add_argument("--maps", metavar="OUT", help="write per-edge maps (PNG and .npy) of a line scan / spectrum image into OUT")
    pr.add_argument("--overwrite", action="store_true", help="with --maps: write into OUT even if it already holds files")
    pr.add_argument("--sum", action="store_true", help="line scan / spectrum image: label the summed spectrum only")
    pr.add_argument("--weights", metavar="PT", help="weights file (default: the shipped eels_core/weights/cnn_bilstm.pt)")
    pr.add_argument("--batch-size", type=int, default=256, help="spectra per forward pass (default 256)")
    pr.add_argument("--precision", choices=("float32", "bfloat16"), default="float32",
                    help="network arithmetic (default float32; bfloat16 is about twice as fast on CPUs with "
                         "native bfloat16 support, probabilities differ by a few hundredths)")
    pr.add_argument("--quiet", action="store_true", help="no progress bar")
    return p


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split()) or type(exc).__name__


def _tag(label: str) -> str:
    """File-name tag of an edge: 'O K' -> 'O_K', 'Fe L2,3' -> 'Fe_L23'."""
    return label.replace(",", "").replace(" ", "_")


def _check_maps_folder(out: str, overwrite: bool) -> None:
    """Refuse, before any work, a ``--maps`` folder that cannot be written or would be overwritten."""
    import os

    path = Path(out)
    if path.exists() and not path.is_dir():
        raise ValueError(f"--maps '{out}' is a file, not a folder; choose a folder name for the maps")
    if path.is_dir():
        held = sorted(p.name for p in path.iterdir())
        if held and not overwrite:
            raise ValueError(
                f"--maps folder '{out}' is not empty ({len(held)} entries, e.g. '{held[0]}'); pass --overwrite to "
                "write the maps into it anyway, or choose a new folder"
            )
        if not os.access(path, os.W_OK | os.X_OK):
            raise ValueError(f"--maps folder '{out}' is not writable (permission denied); choose a folder you can write to")
        return
    parent = path.absolute().parent
    while not parent.exists():
        parent = parent.parent
    if not parent.is_dir():
        raise ValueError(f"--maps '{out}': '{parent}' is a file, so the folder cannot be made; choose another path")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise ValueError(f"--maps '{out}' cannot be made: '{parent}' is not writable (permission denied); "
                         "choose a folder you can write to")


def _check_options(args: argparse.Namespace) -> None:
    """Checks of the options alone, before the file is read."""
    if not 0.0 < args.threshold < 1.0:
        raise ValueError(f"--threshold {args.threshold:g}: must be between 0 and 1")
    if args.batch_size < 1:
        raise ValueError(f"--batch-size {args.batch_size}: must be at least 1")
    if args.sum and args.maps:
        raise ValueError("--sum and --maps exclude each other: maps need the per-pixel prediction")
    if args.overwrite and not args.maps:
        raise ValueError("--overwrite applies to --maps only; add --maps OUT or drop --overwrite")
    if args.maps:
        _check_maps_folder(args.maps, args.overwrite)


def _check_input(args: argparse.Namespace, spectrum: Any, summed: Any, narrowest_window_ev: float) -> tuple[float, float]:
    """Checks before the network runs: the window (as narrow as the weights accept), positive counts.
    Returns the window."""
    from ..forward.axis import measured_window

    window = measured_window(spectrum.energy_ev, args.file, narrowest_window_ev)
    inside = (spectrum.energy_ev >= window[0]) & (spectrum.energy_ev <= window[1])
    if not np.median(summed[inside]) > 0:
        what = "all zero" if not np.any(summed[inside]) else "zero or negative"
        raise ValueError(
            f"'{args.file}': the counts are {what} inside the window {window[0]:.1f}-{window[1]:.1f} eV; "
            "an EELS spectrum needs positive counts (not an empty or background-subtracted signal)"
        )
    if spectrum.counts.ndim == 1 and args.maps:
        raise ValueError(f"--maps: '{args.file}' holds a single spectrum; maps need a line scan or spectrum image")
    return window


def _model_info(weights: str | None) -> dict[str, Any]:
    from ..learning.checkpoint import DEFAULT_WEIGHTS, read_sidecar

    path = Path(weights) if weights else DEFAULT_WEIGHTS
    info: dict[str, Any] = {"weights": str(path), "sha256": None, "step": None}
    data = read_sidecar(path)  # validated when the model was loaded
    if data is not None:
        info["sha256"], info["step"] = data["sha256"], data["step"]
    return info


def _pixel_summary(result: Any) -> dict[str, Any]:
    valid = result.valid.reshape(-1)
    probs = result.probabilities.reshape(-1, len(result.labels))[valid]
    det = result.detected.reshape(-1, len(result.labels))[valid]
    refs = result.reference_onset_ev
    rows = []
    for k in sorted(np.flatnonzero(result.in_window), key=lambda j: refs[j]):
        rows.append({
            "edge": result.labels[k],
            "detected_fraction": round(float(det[:, k].mean()), 4) if valid.any() else 0.0,
            "mean_probability": round(float(probs[:, k].mean()), 4) if valid.any() else 0.0,
        })
    repaired = {
        "n_spectra": int(np.count_nonzero(result.repaired_count)) if result.repaired_count is not None else 0,
        "n_channels": int(result.repaired_channels_ev.size) if result.repaired_channels_ev is not None else 0,
    }
    return {"n_valid": int(valid.sum()), "edges": rows, "repaired": repaired}


def _repaired_channels(result: Any, energy_ev: np.ndarray) -> list[dict[str, Any]]:
    """The repaired channels of a one-spectrum prediction: channel index and energy."""
    if result.repaired_channels_ev is None:
        return []
    index = np.searchsorted(energy_ev, result.repaired_channels_ev)
    return [{"channel": int(i), "energy_ev": round(float(v), 3)} for i, v in zip(index, result.repaired_channels_ev)]


def _finite_json(value: Any) -> Any:
    """``value`` with every non-finite float replaced by None (strict JSON: no NaN / Infinity)."""
    if isinstance(value, float):
        return value if np.isfinite(value) else None
    if isinstance(value, dict):
        return {k: _finite_json(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite_json(v) for v in value]
    return value


def write_maps(result: Any, out: str | Path, source: str = "") -> list[str]:
    """Write the per-edge maps of a line-scan / spectrum-image prediction into ``out``.

    Files: see the module docstring. Returns the names written, sorted.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    nav = result.navigation_shape
    if len(nav) not in (1, 2):
        raise ValueError(f"maps need a line scan or spectrum image, got navigation shape {nav}")
    refs = result.reference_onset_ev
    edges = sorted(np.flatnonzero(result.in_window), key=lambda j: refs[j])
    written: list[str] = []

    def save(name: str, array: np.ndarray) -> None:
        np.save(out / name, array)
        written.append(name)

    def draw(ax: Any, k: int, fig: Any) -> None:
        prob = result.probabilities[..., k]
        share = float(result.detected[..., k].mean())
        if len(nav) == 2:
            im = ax.imshow(prob, vmin=0, vmax=1, cmap="viridis", interpolation="nearest")
            fig.colorbar(im, ax=ax, shrink=0.8, label="probability")
            ax.xaxis.set_major_locator(MaxNLocator(integer=True))
            ax.yaxis.set_major_locator(MaxNLocator(integer=True))
            ax.set_xlabel("column")
            ax.set_ylabel("row")
        else:
            x = np.arange(nav[0])
            ax.plot(x, prob, color="C0", lw=1.2)
            ax.fill_between(x, 0, 1, where=result.detected[..., k], color="C2", alpha=0.15, step="mid", lw=0)
            ax.axhline(result.threshold, color="0.4", ls="--", lw=0.8)
            ax.set_ylim(-0.03, 1.03)
            ax.set_xlabel("pixel along the scan")
            ax.set_ylabel("probability")
        ax.set_title(f"{result.labels[k]}: detected in {100 * share:.0f} % of pixels", fontsize=9)

    for k in edges:
        tag = _tag(result.labels[k])
        save(f"{tag}_probability.npy", result.probabilities[..., k].astype(np.float32))
        save(f"{tag}_presence.npy", result.detected[..., k])
        if result.onset_ev is not None:
            save(f"{tag}_onset_ev.npy", result.onset_ev[..., k])
        fig = Figure(figsize=(5, 3.6) if len(nav) == 2 else (6, 2.8))
        FigureCanvasAgg(fig)
        draw(fig.add_subplot(), k, fig)
        fig.tight_layout()
        fig.savefig(out / f"{tag}.png", dpi=100)
        written.append(f"{tag}.png")
    if edges:
        ncol = min(len(edges), 3)
        nrow = -(-len(edges) // ncol)
        fig = Figure(figsize=(4.2 * ncol, (3.2 if len(nav) == 2 else 2.4) * nrow))
        FigureCanvasAgg(fig)
        for i, k in enumerate(edges):
            draw(fig.add_subplot(nrow, ncol, i + 1), k, fig)
        fig.suptitle(Path(source).name if source else "edge maps", fontsize=10)
        fig.tight_layout(rect=(0, 0, 1, 1 - 0.3 / fig.get_figheight()))
        fig.savefig(out / "overview.png", dpi=100)
        written.append("overview.png")
    save("probabilities.npy", result.probabilities.astype(np.float32))
    manifest = {
        "source": source,
        "labels": list(result.labels),
        "navigation_shape": list(nav),
        "window_ev": [round(float(v), 3) for v in result.window_ev],
        "threshold": result.threshold,
        "edges": [result.labels[k] for k in edges],
        "files": sorted(written + ["maps.json"]),
    }
    (out / "maps.json").write_text(json.dumps(manifest, indent=1) + "\n")
    written.append("maps.json")
    return sorted(written)


def _format_text(report: dict[str, Any]) -> str:
    lines = [f"file: {report['file']}"]
    lines += [f"note: {w}" for w in report.get("reading_warnings", [])]
    nav = report["navigation_shape"]
    kind = {0: "spectrum", 1: "line scan", 2: "spectrum image"}.get(len(nav), "data set")
    shape = " x ".join(str(n) for n in nav)
    lo, hi = report["energy_range_ev"]
    size = f" {shape} ({report['n_spectra']} spectra)" if nav else ""
    lines.append(
        f"{kind}{size}: {report['n_channels']} channels, "
        f"{lo:.1f}-{hi:.1f} eV ({report['dispersion_ev']:.3g} eV/channel); window used "
        f"{report['window_ev'][0]:.1f}-{report['window_ev'][1]:.1f} eV"
    )
    model = report["model"]
    lines.append(f"model: {model['weights']} (step {model['step']}); threshold {report['threshold']:g}")
    lines.append("")
    title = "summed spectrum" if report["spectrum"] == "summed" else "spectrum"
    detected = [r for r in report["edges"] if r["detected"]]
    if detected:
        lines.append(f"edges detected in the {title}:")
        lines.append(f"  {'edge':<9} {'probability':>11} {'onset (eV)':>11} {'reference (eV)':>15}")
        for r in detected:
            onset = "-" if r["onset_ev"] is None else f"{r['onset_ev']:.1f}"
            lines.append(f"  {r['edge']:<9} {r['probability']:>11.4f} {onset:>11} {r['reference_onset_ev']:>15.1f}")
    else:
        lines.append(f"no edges detected in the {title}")
    for f in report.get("look_alikes", []):
        lines.append(f"look-alike: {f['edge']} could also be {f['look_alike']} ({f['edge_onset_ev']:.0f} eV), which "
                     f"these weights cannot name: in synthetic spectra without {f['edge']} they name it in "
                     f"{100 * f['named_with']:.0f} % of the windows that hold {f['look_alike']} and in "
                     f"{100 * f['named_without']:.0f} % of those that do not")
    missed = [f"{r['edge']} {r['probability']:.4f}" for r in report["edges"] if not r["detected"]]
    lines.append("not detected (inside the window): " + (", ".join(missed) or "none"))
    lines.append("outside the window (not checked): " + (", ".join(report["outside_window"]) or "none"))
    repaired = report.get("repaired_channels") or []
    if repaired:
        where = ", ".join(f"{r['energy_ev']:.1f}" for r in repaired[:10]) + (" ..." if len(repaired) > 10 else "")
        lines.append(f"note: repaired {len(repaired)} bad channel{'s' if len(repaired) > 1 else ''} (dead, hot or "
                     f"negative) of the {title} before labelling, at {where} eV")
    if report["pixels"] is not None:
        px = report["pixels"]
        lines.append("")
        lines.append(f"per pixel ({px['n_valid']} of {report['n_spectra']} pixels with positive counts):")
        lines.append(f"  {'edge':<9} {'pixels detected':>16} {'mean probability':>17}")
        for r in px["edges"]:
            lines.append(f"  {r['edge']:<9} {100 * r['detected_fraction']:>15.1f}% {r['mean_probability']:>17.4f}")
        fixed = px.get("repaired") or {}
        if fixed.get("n_spectra"):
            lines.append(f"note: repaired bad channels (dead, hot or negative) in {fixed['n_spectra']} of "
                         f"{report['n_spectra']} pixels ({fixed['n_channels']} distinct channels) before labelling")
    if report["maps"] is not None:
        lines.append("")
        lines.append(f"maps written to {report['maps']['directory']}: {len(report['maps']['files'])} files "
                     f"({', '.join(f for f in report['maps']['files'] if f.endswith('.png'))})")
    return "\n".join(lines)


def _read(path: str) -> Any:
    """The spectrum of FILE: lazily (chunk by chunk later) when the file is larger than LAZY_READ_BYTES."""
    from .io import read_spectrum

    try:
        big = Path(path).is_file() and Path(path).stat().st_size > LAZY_READ_BYTES
    except OSError:
        big = False
    return read_spectrum(path, lazy=True) if big else read_spectrum(path)


def predict_file(args: argparse.Namespace) -> dict[str, Any]:
    """Run the prediction for parsed arguments; returns the JSON report (module docstring)."""
    _check_options(args)
    spectrum = _read(args.file)

    from .look_alikes import look_alike_edges
    from .predict import predict_edges, summed_counts

    summed = summed_counts(spectrum, args.batch_size)  # chunk by chunk, in a safe scale

    from ..learning.checkpoint import load_model

    model = load_model(args.weights)
    window = _check_input(args, spectrum, summed, model.narrowest_window_ev)
    e = spectrum.energy_ev
    result = predict_edges(e, summed, model=model, threshold=args.threshold, precision=args.precision)
    per_pixel = None
    if spectrum.counts.ndim > 1 and not args.sum:
        per_pixel = predict_edges(
            spectrum, model=model, threshold=args.threshold,
            batch_size=args.batch_size, progress=not args.quiet, precision=args.precision,
        )
    maps = None
    if args.maps and per_pixel is not None:
        maps = {"directory": str(args.maps), "files": write_maps(per_pixel, args.maps, str(args.file))}
    refs = result.reference_onset_ev
    return {
        "schema": SCHEMA,
        "file": str(args.file),
        "n_channels": int(e.size),
        "energy_range_ev": [round(float(e[0]), 3), round(float(e[-1]), 3)],
        "dispersion_ev": round(spectrum.dispersion_ev, 5),
        "window_ev": [round(float(window[0]), 3), round(float(window[1]), 3)],
        "navigation_shape": list(spectrum.navigation_shape),
        "n_spectra": spectrum.n_spectra,
        "spectrum": "summed" if spectrum.counts.ndim > 1 else "single",
        "threshold": args.threshold,
        "precision": args.precision,
        "model": _model_info(args.weights),
        "edges": result.edge_table(),
        "detected": result.detected_edges(),
        "look_alikes": [f.as_dict() for f in look_alike_edges(result.detected_edges(), window, args.weights)],
        "repaired_channels": _repaired_channels(result, e),
        "outside_window": [result.labels[k] for k in sorted(np.flatnonzero(~result.in_window), key=lambda j: refs[j])],
        "pixels": _pixel_summary(per_pixel) if per_pixel is not None else None,
        "maps": maps,
    }


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``eels-edges`` command; returns the exit status."""
    from .io import SpectrumReadWarning

    try:
        args = _parser().parse_args(argv)
    except SystemExit as exc:  # --help (0) or a usage error (2, one line already printed)
        return int(exc.code or 0)
    # rosettasciio's log handler writes to stdout, which would break --json; its errors reach us as
    # exceptions anyway
    rsciio_logger = logging.getLogger("rsciio")
    level = rsciio_logger.level
    rsciio_logger.setLevel(logging.CRITICAL)
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            report = predict_file(args)
        # what the reader had to say about the file (e.g. an EMSA file one data row short); other
        # libraries' warnings stay out of the report
        report["reading_warnings"] = list(dict.fromkeys(
            " ".join(str(w.message).split()) for w in caught if issubclass(w.category, SpectrumReadWarning)
        ))
    except (ValueError, FileNotFoundError, OSError) as exc:
        print(f"eels-edges: error: {_one_line(exc)}", file=sys.stderr)
        return 2
    except MemoryError:
        print("eels-edges: error: out of memory; try --sum, a smaller --batch-size, or a machine with more memory",
              file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("eels-edges: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # noqa: BLE001 - one line, never a traceback
        print(f"eels-edges: error: unexpected {type(exc).__name__}: {_one_line(exc)} (please report this)", file=sys.stderr)
        return 1
    finally:
        rsciio_logger.setLevel(level)
    print(json.dumps(_finite_json(report), indent=1, allow_nan=False) if args.json else _format_text(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
