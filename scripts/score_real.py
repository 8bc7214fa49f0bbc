"""Score a weights file on the real-spectra validation set (summed files) and print every file.

    python scripts/score_real.py [--weights PATH] [--threshold 0.5] [--synthetic 4000] [--pixel-step 2]

The real spectra are validation data: use this to compare training recipes, never to tune on.
"""

from __future__ import annotations

import argparse

import numpy as np
import torch

from eels_core.forward.config import SynthesisConfig
from eels_core.learning.metrics import evaluate, per_spectrum_scores
from eels_core.forward.edges import edge_labels
from eels_core.real.real_spectra import load_real_spectra_index, predict_pixel_files, predict_summed_files
from eels_core.learning.checkpoint import DEFAULT_WEIGHTS, load_model


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--weights", default=str(DEFAULT_WEIGHTS), help="weights or checkpoint file")
    ap.add_argument("--threshold", type=float, default=0.5)
    ap.add_argument("--synthetic", type=int, default=0, metavar="N",
                    help="also score N paper-physics synthetic spectra (full range; ship_model.py's test)")
    ap.add_argument("--pixel-step", type=int, default=0, metavar="K",
                    help="also score every K-th pixel of the line scans and spectrum images (chapter 10 uses 2)")
    args = ap.parse_args()
    torch.set_num_threads(1)
    labels = edge_labels()
    model = load_model(args.weights)
    items = predict_summed_files(load_real_spectra_index(), model, args.threshold)
    truth = np.array([it.truth for it in items])
    pred = np.array([it.pred for it in items])
    f1 = per_spectrum_scores(truth, pred).f1

    def names(mask: np.ndarray) -> str:
        return ",".join(labels[k] for k in np.flatnonzero(mask)) or "-"

    for it, f in zip(items, f1):
        probs = ""
        if it.result is not None:
            p = it.result.probabilities
            top = [k for k in np.argsort(p)[::-1][:4] if p[k] >= 0.05]
            probs = " ".join(f"{labels[k]}:{p[k]:.2f}" for k in top)
        mark = "  " if f == 1 else "XX"
        print(f"{mark} {it.record.name[:38]:38s} {it.record.quality_tier} truth={names(it.truth):22s} "
              f"pred={names(it.pred):26s} F1={f:.2f} | {probs or it.refused}")
    print("real spectra (summed files):", evaluate(truth, pred).as_dict())
    if args.pixel_step > 0:
        px = predict_pixel_files(items, model, args.threshold, pixel_step=args.pixel_step)
        print(f"real spectra (every {args.pixel_step}th pixel):",
              evaluate(np.concatenate([f.truth for f in px]), np.concatenate([f.pred for f in px])).as_dict())
    if args.synthetic:
        from ship_model import synthetic_metrics  # scripts/ is on sys.path when this file runs

        print(f"paper physics ({args.synthetic} synthetic spectra, full range):",
              synthetic_metrics(model, SynthesisConfig(), args.synthetic, False))


if __name__ == "__main__":
    main()
