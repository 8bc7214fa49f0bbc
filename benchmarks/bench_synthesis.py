"""Throughput of the forward model: vectorised `synthesize` vs a plain one-spectrum-at-a-time loop.

Prints spectra/s of both and their ratio (issue target on 2 CPU cores: >= 4,000 spectra/s, i.e.
250,000 in <= 60 s, and >= 10x the plain loop). A benchmark, not a test: it asserts nothing.

    python benchmarks/bench_synthesis.py [--n 16384] [--n-loop 300] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time

import numpy as np

from eels_core.forward.config import SynthesisConfig
from eels_core.forward.synthesis import render_spectrum_reference, synthesize


def best_rate(fn, n: int, repeats: int) -> float:
    """Best spectra/s over `repeats` runs of fn() (which makes n spectra)."""
    best = np.inf
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t)
    return n / best


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=16384, help="spectra per vectorised run")
    ap.add_argument("--n-loop", type=int, default=300, help="spectra for the plain loop")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--json", help="also write the figures to this JSON file")
    args = ap.parse_args()

    config = SynthesisConfig()
    synthesize(256, seed=99, config=config)  # warm-up: library tables, FFT plans
    rates = {}
    for threads in (1, 2):
        rates[threads] = best_rate(
            lambda: synthesize(args.n, seed=1, config=config, n_threads=threads), args.n, args.repeats
        )
    params = synthesize(args.n_loop, seed=2, config=config).params

    def plain_loop() -> None:
        for i in range(args.n_loop):
            render_spectrum_reference(params[i], config)

    loop_rate = best_rate(plain_loop, args.n_loop, 1)
    best = max(rates.values())
    result = {
        "cpu_count": os.cpu_count(),
        "machine": platform.processor() or platform.machine(),
        "n": args.n,
        "synthesize_1_thread_spectra_per_s": round(rates[1]),
        "synthesize_2_threads_spectra_per_s": round(rates[2]),
        "plain_loop_spectra_per_s": round(loop_rate),
        "speedup_vs_plain_loop": round(best / loop_rate, 1),
        "seconds_for_250k": round(250_000 / best, 1),
    }
    print(f"synthesize, 1 thread : {rates[1]:8.0f} spectra/s")
    print(f"synthesize, 2 threads: {rates[2]:8.0f} spectra/s  (250,000 spectra in {250_000 / best:.0f} s)")
    print(f"plain loop           : {loop_rate:8.0f} spectra/s")
    print(f"speed-up             : {best / loop_rate:8.1f} x")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(result, f, indent=2)


if __name__ == "__main__":
    main()
