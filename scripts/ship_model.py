"""Export a trained checkpoint as the shipped weights, with its metrics and training record.

    .venv/bin/python scripts/ship_model.py runs/cpu-finetune/checkpoint.pt \
        --phase runs/cpu-long/checkpoint.pt --n-validation 4000
    .venv/bin/python scripts/ship_model.py runs/cpu-refine/checkpoint.pt \
        --previous-phases eels_core/weights/cnn_bilstm.json      # a phase on top of the shipped weights

Writes eels_core/weights/cnn_bilstm.pt and cnn_bilstm.json (sha256, configs, data seeds, the
training curve of every phase, validation metrics on synthetic spectra made with a seed no
training run used, full range and windowed, and the run times read from the train logs).
New weights need their look-alike notes measured again (``eels-edges predict`` gives none for weights
without them; a test asks for the shipped weights' measurement)::

    .venv/bin/python scripts/physics_validation.py --n 500 --look-alike-study eels_core/weights/cnn_bilstm.look-alikes.json
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
from pathlib import Path

import numpy as np
import torch

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from eels_core.forward.config import SynthesisConfig  # noqa: E402
from eels_core.learning.metrics import evaluate  # noqa: E402
from eels_core.learning.preprocessing import sample_windows  # noqa: E402
from eels_core.forward.synthesis import synthesize  # noqa: E402
from eels_core.learning.training import make_batch, predict_logits  # noqa: E402
from eels_core.learning.checkpoint import DEFAULT_WEIGHTS, export_weights, load_model, metadata_path, sha256_of  # noqa: E402
from eels_core.learning.presets import physics_beyond_paper  # noqa: E402

sys.path.insert(0, str(REPO / "scripts"))
from physics_validation import selection_rule  # noqa: E402

VALIDATION_SEED = 2026  # never used for training (the training streams use data seeds 0-13)
#: Further fresh streams of the synthetic test (``score_real.py --synthetic-streams``): seeds that no training
#: run, validation set or study uses, to show how much one stream of n spectra moves the figures.
FRESH_STREAM_SEEDS = tuple(range(5001, 5011))


def synthetic_metrics(model: torch.nn.Module, config: SynthesisConfig, n: int, windowed: bool,
                      seed: int = VALIDATION_SEED) -> dict:
    """The paper's metrics on n fresh synthetic spectra of the stream ``seed`` (windows: random >= 60 eV
    sub-ranges)."""
    b = synthesize(n, seed=seed, config=config)
    windows = sample_windows(np.random.default_rng(seed), n, 0.0) if windowed else None
    batch = make_batch(b.spectra, b.labels, b.edge_onset_ev, windows)
    prob = torch.sigmoid(predict_logits(model, batch.inputs, torch.device("cpu"))).numpy()
    keep = batch.loss_mask.numpy() > 0  # edges at a window border are neither rewarded nor penalised
    truth = batch.targets.numpy() > 0
    pred = (prob >= 0.5) & keep
    if windowed:  # score windows that hold at least one countable edge, as chapter 08 does
        rows = truth.any(axis=1)
        truth, pred = truth[rows], pred[rows]
    return evaluate(truth, pred).as_dict()


def _shown_path(path: str) -> str:
    """A checkpoint's path as the sidecar records it: relative to the repository when inside it."""
    p = Path(path).resolve()
    return str(p.relative_to(REPO)) if p.is_relative_to(REPO) else str(p)


def provenance(training_config: dict, selection_records: list[str]) -> dict:
    """The sidecar's ``training_physics`` (every setting beyond the paper's Table 2) and
    ``selection`` (the rule, written before scoring, and the records where it was applied)."""
    records = []
    for path in selection_records:
        record = json.loads((REPO / path).read_text())
        records.append({"record": path, "candidate": record["candidate"], "selected": record["scores"]["selected"]})
    return {
        "training_physics": physics_beyond_paper(training_config),
        "selection": {"rule_source": "scripts/physics_validation.py", "rule": selection_rule(), "applied": records},
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("checkpoint", nargs="?", help="final training checkpoint (not with --annotate-only)")
    ap.add_argument("--phase", action="append", default=[], help="earlier phase checkpoints (in order)")
    ap.add_argument("--n-validation", type=int, default=4000)
    ap.add_argument("--wall-time", type=float, action="append", default=[],
                    help="wall time (s) of each phase, in order, when its history has no elapsed_s")
    ap.add_argument("--out", default=str(DEFAULT_WEIGHTS))
    ap.add_argument("--previous-phases", metavar="JSON",
                    help="metadata file of the shipped weights this run was fine-tuned from "
                         "(e.g. eels_core/weights/cnn_bilstm.json): its phases come first, so the record "
                         "stays complete when the earlier checkpoints are no longer on disk")
    ap.add_argument("--selection", metavar="JSON", action="append", default=[],
                    help="selection record(s) of experiments/selection/ in which the rule of "
                         "scripts/physics_validation.py compared these weights with others (repeatable)")
    ap.add_argument("--recipe", metavar="NAME",
                    help="the preset or experiments/recipes/ recipe the weights were trained with "
                         "(its results file experiments/results/NAME.json holds every scored seed)")
    ap.add_argument("--annotate-only", action="store_true",
                    help="only add training_physics and selection to the sidecar of the weights at --out "
                         "(the weights and their metrics stay as they are)")
    args = ap.parse_args()
    torch.set_num_threads(2)
    if not args.annotate_only and not args.checkpoint:
        ap.error("give the final training checkpoint (or --annotate-only)")
    if args.annotate_only:
        sidecar = metadata_path(Path(args.out))
        meta = json.loads(sidecar.read_text())
        meta.update(provenance(meta["phases"][-1]["training_config"], args.selection))
        if args.recipe:
            meta["recipe"] = args.recipe
        sidecar.write_text(json.dumps(meta, indent=1) + "\n")
        print(f"wrote {sidecar}")
        return

    phases = []
    if args.previous_phases:
        previous = json.loads(Path(args.previous_phases).read_text())
        phases.extend(previous["phases"])
        phases[-1]["shipped_sha256"] = previous["sha256"]  # the weights the next phase started from
    for path in [*args.phase, args.checkpoint]:
        state = torch.load(path, map_location="cpu", weights_only=True)
        history = json.loads(state["history"])
        wall = args.wall_time[len(phases)] if len(args.wall_time) > len(phases) else history[-1].get("elapsed_s")
        phases.append(
            {
                "checkpoint": _shown_path(path),
                "checkpoint_sha256": sha256_of(path),
                "steps_done": int(state["step"]),
                "training_config": json.loads(state["training_config"]),
                "history": history,
                "wall_time_s": round(wall) if wall is not None else None,
                # an average of seeds' weights: its config and history are its first source's
                **({"averaged_from": state["averaged_from"]} if "averaged_from" in state else {}),
            }
        )
    tmp = Path(args.out).with_suffix(".tmp.pt")
    export_weights(args.checkpoint, tmp, {})
    model = load_model(tmp)
    metrics = {
        "validation_seed": VALIDATION_SEED,
        "n_validation": args.n_validation,
        "paper_physics_full_range": synthetic_metrics(model, SynthesisConfig(), args.n_validation, False),
        "paper_physics_windowed": synthetic_metrics(model, SynthesisConfig(), args.n_validation, True),
        "real_data_physics_full_range": synthetic_metrics(
            model, SynthesisConfig.with_real_data_physics(), args.n_validation, False
        ),
    }
    tmp.unlink()
    tmp.with_suffix(".json").unlink()
    meta = {
        "description": (f"CNN-BiLSTM trained on CPU in {len(phases)} phase{'s' if len(phases) > 1 else ''} "
                        "(see `phases`); metrics on fresh synthetic spectra"),
        "phases": phases,
        "metrics": metrics,
        "machine": f"{platform.machine()} {platform.processor()}, torch {torch.__version__}",
        **({"recipe": args.recipe} if args.recipe else {}),
        **provenance(phases[-1]["training_config"], args.selection),
    }
    out = export_weights(args.checkpoint, args.out, meta)
    print(json.dumps(metrics, indent=1))
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
