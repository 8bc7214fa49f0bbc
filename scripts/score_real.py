"""Score a weights file on the real-spectra validation set (summed files) and print every file.

    python scripts/score_real.py [--weights PATH] [--threshold 0.5] [--pixel-step 2]
        [--synthetic 4000 [--synthetic-streams 10]] [--synthetic-measured 4000]
        [--record experiments/results/NAME.json --label "seed 1, data seed 10"]

The real spectra are validation data: use this to compare training recipes, never to tune on.
Scoring follows the index's README: edges inside the window with margins, ``optional_edges`` left
out of truth and prediction (``eels_core.real.real_spectra.record_scored_edges``).

``--record`` adds this measurement as one run to a results file (JSON, created if missing; a run
of the same weights scored the same way is replaced): the weights' sha256, the code's commit, the
command line, the scoring rule, the metrics and every file's truth, prediction and probabilities.
The appendix of the book renders ``experiments/results/*.json``.
"""

from __future__ import annotations

import argparse
import json
import shlex
import subprocess
import sys
from pathlib import Path

import numpy as np
import torch

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from eels_core.forward.config import SynthesisConfig  # noqa: E402
from eels_core.forward.edges import edge_labels  # noqa: E402
from eels_core.learning.checkpoint import DEFAULT_WEIGHTS, load_model, sha256_of  # noqa: E402
from eels_core.learning.metrics import evaluate, per_spectrum_scores  # noqa: E402
from eels_core.learning.preprocessing import CONTRAST_FLOOR  # noqa: E402
from eels_core.real.real_spectra import (  # noqa: E402
    find_real_spectra_dir,
    load_real_spectra_index,
    predict_pixel_files,
    predict_summed_files,
)

RESULTS_SCHEMA = "eels-edge-book.results/1"


def _rounded(metrics: dict) -> dict:
    return {k: (round(v, 4) if isinstance(v, float) else v) for k, v in metrics.items()}


def _code_commit() -> str | None:
    """The repository's HEAD commit, with ``+changes`` when the working tree differs from it."""
    try:
        head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=REPO, capture_output=True, text=True, check=True)
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=REPO,
                               capture_output=True, text=True, check=True)
    except (OSError, subprocess.CalledProcessError):
        return None
    return head.stdout.strip() + ("+changes" if dirty.stdout.strip() else "")


def _relative(path: Path) -> str:
    path = path.resolve()
    return str(path.relative_to(REPO)) if path.is_relative_to(REPO) else str(path)


def recipe_of(results_path: Path) -> dict:
    """Recipe name, file and description for a results file named after its recipe
    (``experiments/results/NAME.json`` -> ``experiments/recipes/NAME.yaml`` or the preset NAME)."""
    import yaml

    from eels_core.learning.presets import preset_description, preset_names

    name = results_path.stem
    recipe_file = REPO / "experiments" / "recipes" / f"{name}.yaml"
    if recipe_file.is_file():
        data = yaml.safe_load(recipe_file.read_text()) or {}
        return {"recipe": name, "recipe_file": _relative(recipe_file), "description": data.get("description", "")}
    if name in preset_names():
        return {"recipe": name, "recipe_file": "eels_core/data/training_presets.yaml",
                "description": preset_description(name)}
    return {"recipe": name, "recipe_file": None, "description": ""}


def record_run(results_path: Path, run: dict) -> dict:
    """Add ``run`` to the results file (replacing a run with the same weights and scoring)."""
    if results_path.is_file():
        data = json.loads(results_path.read_text())
        if data.get("schema") != RESULTS_SCHEMA:
            raise SystemExit(f"score_real.py: error: {results_path} is not a results file ({RESULTS_SCHEMA})")
    else:
        data = {"schema": RESULTS_SCHEMA, **recipe_of(results_path), "runs": []}
    same = lambda r: (r.get("weights_sha256") == run["weights_sha256"] and r.get("scoring") == run["scoring"])  # noqa: E731
    data["runs"] = [r for r in data["runs"] if not same(r)] + [run]
    results_path.parent.mkdir(parents=True, exist_ok=True)
    results_path.write_text(json.dumps(data, indent=1, ensure_ascii=False) + "\n")
    return data


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--weights", default=str(DEFAULT_WEIGHTS), help="weights or checkpoint file")
    ap.add_argument("--threshold", type=float, default=0.5)
    ap.add_argument("--synthetic", type=int, default=0, metavar="N",
                    help="also score N paper-physics synthetic spectra (full range; ship_model.py's test)")
    ap.add_argument("--synthetic-streams", type=int, default=0, metavar="K",
                    help="with --synthetic N: also score the paper physics on K further fresh streams of N spectra "
                         "(ship_model.FRESH_STREAM_SEEDS), to show how much one stream moves the figures")
    ap.add_argument("--synthetic-measured", type=int, default=0, metavar="N",
                    help="also score N synthetic spectra of the measured-spectrum physics (full range)")
    ap.add_argument("--pixel-step", type=int, default=0, metavar="K",
                    help="also score every K-th pixel of the line scans and spectrum images (chapter 10 uses 2)")
    ap.add_argument("--record", type=Path, metavar="JSON",
                    help="add this measurement to a results file, e.g. experiments/results/NAME.json")
    ap.add_argument("--label", help="what distinguishes this run, e.g. 'seed 1, data seed 10' (with --record)")
    args = ap.parse_args(argv)
    if args.synthetic_streams and not args.synthetic:
        ap.error("--synthetic-streams K needs --synthetic N (the number of spectra per stream)")
    torch.set_num_threads(1)
    labels = edge_labels()
    model = load_model(args.weights)
    folder = find_real_spectra_dir()
    items = predict_summed_files(load_real_spectra_index(folder), model, args.threshold)
    truth = np.array([it.truth for it in items])
    pred = np.array([it.pred for it in items])
    f1 = per_spectrum_scores(truth, pred).f1

    def names(mask: np.ndarray) -> str:
        return ",".join(labels[k] for k in np.flatnonzero(mask)) or "-"

    files = []
    for it, f in zip(items, f1):
        probs = ""
        if it.result is not None:
            p = it.result.probabilities
            top = [k for k in np.argsort(p)[::-1][:4] if p[k] >= 0.05]
            probs = " ".join(f"{labels[k]}:{p[k]:.2f}" for k in top)
        mark = "  " if f == 1 else "XX"
        print(f"{mark} {it.record.name[:38]:38s} {it.record.quality_tier} truth={names(it.truth):22s} "
              f"pred={names(it.pred):26s} F1={f:.2f} | {probs or it.refused}")
        files.append({
            "file": it.record.name, "tier": it.record.quality_tier,
            "truth": [labels[k] for k in np.flatnonzero(it.truth)],
            "pred": [labels[k] for k in np.flatnonzero(it.pred)],
            "f1": round(float(f), 4), "refused": it.refused,
            "probabilities": None if it.result is None else
            {x: round(float(q), 4) for x, q in zip(labels, it.result.probabilities)},
        })
    summed = evaluate(truth, pred).as_dict()
    print("real spectra (summed files):", summed)
    run: dict = {
        "label": args.label or Path(args.weights).name,
        "weights": _relative(Path(args.weights)),
        "weights_sha256": sha256_of(args.weights),
        "code_commit": _code_commit(),
        "measured_by": shlex.join(["scripts/score_real.py", *(sys.argv[1:] if argv is None else argv)]),
        "scoring": {"threshold": args.threshold, "window_margins_ev": [5.0, 20.0], "optional_edges": True,
                    "contrast_floor": CONTRAST_FLOOR,
                    "index_sha256": sha256_of(folder / "index.csv") if folder is not None else None},
        "real_summed": _rounded(summed),
        "files": files,
    }
    if args.pixel_step > 0:
        px = predict_pixel_files(items, model, args.threshold, pixel_step=args.pixel_step)
        pixels = evaluate(np.concatenate([f.truth for f in px]), np.concatenate([f.pred for f in px])).as_dict()
        print(f"real spectra (every {args.pixel_step}th pixel):", pixels)
        run["real_pixels"] = {**_rounded(pixels), "pixel_step": args.pixel_step}
    if args.synthetic or args.synthetic_measured:
        from ship_model import VALIDATION_SEED, synthetic_metrics  # scripts/ is on sys.path when this file runs

        for key, n, config, what in (
            ("synthetic_paper_physics", args.synthetic, SynthesisConfig(), "paper physics"),
            ("synthetic_measured_physics", args.synthetic_measured, SynthesisConfig.with_real_data_physics(),
             "measured-spectrum physics"),
        ):
            if n:
                m = synthetic_metrics(model, config, n, False)
                print(f"{what} ({n} synthetic spectra, full range):", m)
                run[key] = {**_rounded(m), "seed": VALIDATION_SEED}
        if args.synthetic_streams:
            from ship_model import FRESH_STREAM_SEEDS

            if args.synthetic_streams > len(FRESH_STREAM_SEEDS):
                raise SystemExit(f"score_real.py: error: at most {len(FRESH_STREAM_SEEDS)} further streams")
            seeds = list(FRESH_STREAM_SEEDS[:args.synthetic_streams])
            streams = [synthetic_metrics(model, SynthesisConfig(), args.synthetic, False, seed) for seed in seeds]
            run["synthetic_paper_physics_streams"] = {
                "n_spectra": args.synthetic, "seeds": seeds,
                **{k: [round(m[k], 4) for m in streams] for k in ("f1", "exact_accuracy", "precision", "recall")}}
            f1s = np.array(run["synthetic_paper_physics_streams"]["f1"])
            print(f"paper physics on {len(seeds)} further streams of {args.synthetic}: F1 mean {f1s.mean():.4f}, "
                  f"{f1s.min():.4f}-{f1s.max():.4f}")
    if args.record:
        data = record_run(args.record, run)
        print(f"recorded in {args.record} ({len(data['runs'])} run{'s' if len(data['runs']) > 1 else ''})")


if __name__ == "__main__":
    main()
