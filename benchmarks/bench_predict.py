"""Speed of labelling a spectrum image end to end with `predict_edges`.

A synthetic 256 x 256 spectrum image (65,536 spectra of 1024 channels, 400-809.2 eV at 0.4 eV per
channel) is made from tiles of synthesized spectra (`eels_core.forward.synthesis.synthesize`, resampled
onto that axis and scaled to counts, each pixel with its own intensity), and labelled by
`predict_edges` with the shipped weights: probabilities, detections and estimated onsets of all
20 edges for every pixel. Issue target on 2 CPU cores: <= 35 s. A benchmark, not a test: it
asserts nothing.

    python benchmarks/bench_predict.py [--size 256] [--threads 2] [--plain 2048] [--json out.json]

``--plain N`` also times the plain forward pass (``fast=False``: the full network on every
pixel) on the first N pixels, for comparison (0: skip). Besides the wall time, the CPU time of the
process is printed: on a machine shared with other jobs the wall time includes waiting for a core.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time

import numpy as np
import torch

from eels_core.real.predict import predict_edges
from eels_core.forward.axis import network_energy_axis
from eels_core.forward.synthesis import synthesize
from eels_core.learning.checkpoint import load_model


def make_image(size: int, n_channels: int = 1024, start_ev: float = 400.0, step_ev: float = 0.4,
               n_tiles: int = 256, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Energy axis and a (size, size, n_channels) float32 spectrum image of tiled synthetic spectra."""
    energy = start_ev + step_ev * np.arange(n_channels)
    batch = synthesize(n_tiles, seed=seed)
    grid = network_energy_axis()
    tiles = np.stack([np.interp(energy, grid, s) for s in batch.spectra]) * 1e5
    rng = np.random.default_rng(seed)
    index = rng.integers(0, n_tiles, size=(size, size))
    scale = rng.uniform(0.5, 2.0, size=(size, size, 1)).astype(np.float32)
    return energy, tiles.astype(np.float32)[index] * scale


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--size", type=int, default=256, help="pixels per side (default 256)")
    ap.add_argument("--threads", type=int, default=2, help="torch threads (default 2)")
    ap.add_argument("--batch-size", type=int, default=256, help="spectra per forward pass")
    ap.add_argument("--plain", type=int, default=2048, help="pixels for the fast=False comparison (0: skip)")
    ap.add_argument("--json", help="also write the figures to this JSON file")
    args = ap.parse_args()

    torch.set_num_threads(args.threads)
    t0 = time.perf_counter()
    model = load_model()
    t_load = time.perf_counter() - t0
    energy, image = make_image(args.size)
    n = image.shape[0] * image.shape[1]
    predict_edges(energy, image[0, :8], model=model)  # warm-up (library tables, torch kernels)

    t0, c0 = time.perf_counter(), time.process_time()
    result = predict_edges(energy, image, model=model, batch_size=args.batch_size)
    t_total, cpu_total = time.perf_counter() - t0, time.process_time() - c0
    figures = {
        "image": list(image.shape),
        "threads": args.threads,
        "model_load_s": round(t_load, 2),
        "predict_edges_s": round(t_total, 1),
        "predict_edges_cpu_s": round(cpu_total, 1),
        "spectra_per_s": round(n / t_total, 1),
        "target_s": 35.0,
        "detected_edges_per_pixel": round(float(result.detected.sum(axis=-1).mean()), 3),
    }
    if args.plain:
        m = min(args.plain, n)
        flat = image.reshape(-1, energy.size)[:m]
        t0 = time.perf_counter()
        plain = predict_edges(energy, flat, model=model, batch_size=args.batch_size, fast=False)
        t_plain = time.perf_counter() - t0
        t0 = time.perf_counter()
        fast = predict_edges(energy, flat, model=model, batch_size=args.batch_size)
        t_fast = time.perf_counter() - t0
        figures.update({
            "comparison_pixels": m,
            "plain_s_per_1000": round(1000 * t_plain / m, 2),
            "fast_s_per_1000": round(1000 * t_fast / m, 2),
            "max_probability_difference": float(np.abs(plain.probabilities - fast.probabilities).max()),
        })
    figures["machine"] = f"{platform.machine()}, {os.cpu_count()} CPUs; load average {os.getloadavg()[0]:.1f} at the end"
    print(f"spectrum image {image.shape}: predict_edges {t_total:.1f} s ({n / t_total:.0f} spectra/s, "
          f"{args.threads} threads; target <= 35 s: {'met' if t_total <= 35 else 'NOT met'})")
    print(json.dumps(figures, indent=1))
    if args.json:
        with open(args.json, "w") as f:
            json.dump(figures, f, indent=1)


if __name__ == "__main__":
    main()
