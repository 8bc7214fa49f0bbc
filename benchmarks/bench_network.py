"""Throughput of the CNN-BiLSTM on the CPU: training and inference, in spectra per second.

Training: batch 64, forward + masked BCE + backward + gradient clipping + Adam step, in train
mode. Inference: batch 256, the path ``predict_logits`` / ``predict_proba`` take: the eval-mode
copy with batch norms folded into the convolutions (``fused_for_inference``), under
``torch.inference_mode()``, in float32 (the default) and in bfloat16
(``inference_autocast("bfloat16")``, opt-in); the unfused module in eval mode is timed too, for
comparison. Finally the number of detections that bfloat16 changes is counted on 2,000 synthetic
spectra with the shipped weights. Both on the default
``NetworkConfig()`` with inputs prepared beforehand (synthesis and preprocessing are not timed;
``benchmarks/bench_synthesis.py`` measures the synthesis). Issue targets on 2 CPU cores:
training >= 400 spectra/s, inference >= 2,000 spectra/s. A benchmark, not a test: it asserts
nothing.

    python benchmarks/bench_network.py [--train-batches 10] [--infer-batches 8] [--repeats 3] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time

import numpy as np
import torch

from eels_core.learning.network import CNNBiLSTM, NetworkConfig, count_parameters, fused_for_inference, inference_autocast
from eels_core.learning.preprocessing import preprocess_batch
from eels_core.forward.synthesis import synthesize
from eels_core.learning.training import masked_bce

TARGETS = {"train": 400, "inference": 2000}


def best_rate(fn, batch_size: int, n_batches: int, repeats: int) -> float:
    """Best spectra/s over ``repeats`` timings of ``n_batches`` calls of fn() (after one warm-up call)."""
    fn()
    best = np.inf
    for _ in range(repeats):
        t = time.perf_counter()
        for _ in range(n_batches):
            fn()
        best = min(best, time.perf_counter() - t)
    return batch_size * n_batches / best


def bfloat16_agreement(n: int) -> dict:
    """How many detections of the shipped model bfloat16 inference changes on n synthetic spectra."""
    from eels_core.learning.training import make_batch, predict_logits
    from eels_core.learning.checkpoint import load_model

    b = synthesize(n, seed=2026)
    x = make_batch(b.spectra, b.labels, b.edge_onset_ev, None).inputs
    model = load_model()
    p32 = torch.sigmoid(predict_logits(model, x, torch.device("cpu"))).numpy()
    p16 = torch.sigmoid(predict_logits(model, x, torch.device("cpu"), precision="bfloat16")).numpy()
    return {
        "agreement_spectra": n,
        "agreement_decisions": int(p32.size),
        "bfloat16_changed_decisions": int(((p32 >= 0.5) != (p16 >= 0.5)).sum()),
        "bfloat16_max_probability_difference": float(np.abs(p32 - p16).max()),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--train-batch", type=int, default=64)
    ap.add_argument("--infer-batch", type=int, default=256)
    ap.add_argument("--train-batches", type=int, default=10, help="timed training steps per repeat")
    ap.add_argument("--infer-batches", type=int, default=8, help="timed inference batches per repeat")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--threads", type=int, nargs="+", default=[2, 1], help="torch thread counts to measure")
    ap.add_argument("--agreement-spectra", type=int, default=2000,
                    help="synthetic spectra on which bfloat16 and float32 detections are compared")
    ap.add_argument("--json", help="also write the figures to this JSON file")
    args = ap.parse_args()

    torch.manual_seed(0)
    data = synthesize(max(args.train_batch, args.infer_batch), seed=3)
    x_all = torch.from_numpy(preprocess_batch(data.spectra))
    y_all = torch.from_numpy(data.labels.astype(np.float32))
    x_train, y_train = x_all[: args.train_batch], y_all[: args.train_batch]
    mask = torch.ones_like(y_train)
    x_infer = x_all[: args.infer_batch]

    result: dict = {
        "cpu_count": os.cpu_count(),
        "machine": platform.processor() or platform.machine(),
        "torch": torch.__version__,
        "parameters": count_parameters(CNNBiLSTM()),
        "sequence_length": NetworkConfig().sequence_length,
    }
    for threads in args.threads:
        torch.set_num_threads(threads)
        model = CNNBiLSTM()
        opt = torch.optim.Adam(model.parameters(), lr=1e-3)

        def train_step() -> None:
            model.train()
            loss = masked_bce(model(x_train), y_train, mask)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()

        def infer_unfused() -> None:
            model.eval()
            with torch.no_grad():
                model(x_infer)

        fused = fused_for_inference(model)

        def infer(precision: str = "float32") -> None:
            with torch.inference_mode(), inference_autocast(precision):
                fused(x_infer)

        result[f"train_{threads}_threads_spectra_per_s"] = round(
            best_rate(train_step, args.train_batch, args.train_batches, args.repeats))
        result[f"inference_{threads}_threads_spectra_per_s"] = round(
            best_rate(infer, args.infer_batch, args.infer_batches, args.repeats))
        result[f"inference_unfused_{threads}_threads_spectra_per_s"] = round(
            best_rate(infer_unfused, args.infer_batch, args.infer_batches, args.repeats))
        result[f"inference_bfloat16_{threads}_threads_spectra_per_s"] = round(
            best_rate(lambda: infer("bfloat16"), args.infer_batch, args.infer_batches, args.repeats))
    result.update(bfloat16_agreement(args.agreement_spectra))

    print(f"CNN-BiLSTM, {result['parameters']:,} parameters, LSTM sequence {result['sequence_length']} steps; "
          f"{result['cpu_count']} CPUs ({result['machine']}), torch {result['torch']}")
    for threads in args.threads:
        tr = result[f"train_{threads}_threads_spectra_per_s"]
        inf = result[f"inference_{threads}_threads_spectra_per_s"]
        unf = result[f"inference_unfused_{threads}_threads_spectra_per_s"]
        bf = result[f"inference_bfloat16_{threads}_threads_spectra_per_s"]
        print(f"  {threads} thread{'s' if threads > 1 else ' '}: training (batch {args.train_batch}) {tr:6d} spectra/s"
              f"   inference (batch {args.infer_batch}) float32 {inf:6d} spectra/s, bfloat16 {bf:6d} spectra/s"
              f" (unfused float32 module: {unf})")
    print(f"  bfloat16 vs float32, shipped weights, {result['agreement_spectra']} synthetic spectra: "
          f"{result['bfloat16_changed_decisions']} of {result['agreement_decisions']} detections changed "
          f"(threshold 0.5), largest probability difference {result['bfloat16_max_probability_difference']:.3f}")
    print(f"  issue targets on 2 cores: training >= {TARGETS['train']}, inference >= {TARGETS['inference']} spectra/s")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(result, f, indent=1)


if __name__ == "__main__":
    main()
