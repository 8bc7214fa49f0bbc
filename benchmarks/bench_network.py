"""Throughput of the CNN-BiLSTM on the CPU: FLOPs per spectrum, inference and training speed, and the
fraction of the CPU's float32 peak that inference reaches.

FLOPs per spectrum: the convolutions and dense layers counted by ``torch.utils.flop_counter``
(``FlopCounterMode``, a multiply-add = 2 FLOPs) on the model's layers, the BiLSTM by formula
(2 directions x L steps x 4 gates x H x (inputs + H) multiply-adds; the element-wise gate
arithmetic is not counted). The CPU's float32 peak: threads x clock x FLOPs per cycle and core of
the instruction set PyTorch uses (``torch.backends.cpu.get_cpu_capability()``: AVX2 with FMA = 32,
two 8-wide FMA units as on AMD Zen 2/3 and Intel since Haswell; AVX-512 = 64; otherwise 16); the
clock is the nominal one from ``/proc/cpuinfo`` (``cpu MHz``; ``lscpu``'s maximum if it reports
one). Boost clocks above it show up as fractions near or above 100 %, so a large float32 matrix
product (``torch.mm``, 1024 x 1024) is timed as well: the rate the CPU reaches in practice.

Inference: batch 256 of the shipped weights (``load_model()``), float32, under
``torch.inference_mode()``, along every path of ``INFERENCE_PATHS`` (``fast``: the batch in
chunks, one thread each, channels-last convolutions, the BiLSTM as one matrix product per step;
``fast-intraop``: the same kernels on the whole batch, each operation on all threads; ``fused``:
``CNNBiLSTM.forward`` with the batch norms folded; ``unfused``: the module as trained), and the
path the measured choice (``auto``) takes. bfloat16 only where the CPU has it natively. The
variants are timed in interleaved rounds (A, B, C, A, B, C, ...) and the median and range over
the rounds are printed, since other work on a shared machine slows whichever variant runs while
it runs; the load average is printed before and after, and so is the rate per second of this
process's CPU time (``time.process_time``), which other processes disturb far less: times the
number of threads it bounds what an idle machine reaches (spin-waiting threads count as busy). Training: batch 64, forward + masked BCE +
backward + clipping + Adam step. Inputs are prepared beforehand (synthesis and preprocessing are
not timed). A benchmark, not a test: it asserts nothing.

    python benchmarks/bench_network.py [--rounds 7] [--infer-batches 2] [--threads 2 1] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import statistics
import subprocess
import time
from typing import Callable

import numpy as np
import torch
from torch.utils.flop_counter import FlopCounterMode

from eels_core.learning.checkpoint import load_model
from eels_core.learning.network import (
    INFERENCE_PATHS, CNNBiLSTM, NetworkConfig, count_parameters, fused_for_inference, inference_autocast,
    native_bfloat16,
)
from eels_core.learning.preprocessing import preprocess_batch
from eels_core.forward.synthesis import synthesize
from eels_core.learning.training import masked_bce

TARGETS = {"train": 400, "inference_fraction_of_peak": 0.60, "inference_zen3_2_cores": 1700}
FLOPS_PER_CYCLE = {"AVX512": 64, "AVX2": 32}  # float32 FLOPs per cycle and core (two FMA units)


def cpu_clock_ghz() -> tuple[float, str]:
    """Nominal clock (GHz) and where it was read: lscpu's maximum if given, else /proc/cpuinfo."""
    try:
        out = subprocess.run(["lscpu"], capture_output=True, text=True, timeout=10).stdout
        m = re.search(r"CPU max MHz:\s*([\d.]+)", out)
        if m and float(m.group(1)) > 0:
            return float(m.group(1)) / 1000, "lscpu 'CPU max MHz'"
    except (OSError, subprocess.SubprocessError):
        pass
    try:
        with open("/proc/cpuinfo") as f:
            mhz = [float(v) for v in re.findall(r"cpu MHz\s*:\s*([\d.]+)", f.read())]
        if mhz:
            return max(mhz) / 1000, "/proc/cpuinfo 'cpu MHz'"
    except OSError:
        pass
    return float("nan"), "unknown"


def cpu_name() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            m = re.search(r"model name\s*:\s*(.+)", f.read())
        if m:
            return m.group(1).strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def flops_per_spectrum(model: CNNBiLSTM) -> dict:
    """FLOPs of one spectrum: convolutions and dense layers counted, the BiLSTM by formula."""
    model = model.eval()
    x = torch.zeros(1, model.config.n_inputs, 4551)
    with torch.no_grad():
        with FlopCounterMode(display=False) as conv_counter:
            h = model.features(x)
        n_steps, n_in = h.shape[-1], h.shape[1]
        pooled = torch.zeros(1, model.head[0].in_features)
        with FlopCounterMode(display=False) as head_counter:
            model.head(pooled)
    lstm = model.lstm
    lstm_flops = 0 if lstm is None else 2 * n_steps * 4 * lstm.hidden_size * (n_in + lstm.hidden_size) * 2
    # cross-check: the fast path's BiLSTM is matrix products only, which FlopCounterMode counts
    with torch.inference_mode(), FlopCounterMode(display=False) as fast_counter:
        fused_for_inference(model, path="fast-intraop")(x)
    return {
        "conv_flops": conv_counter.get_total_flops(),
        "lstm_flops": lstm_flops,
        "head_flops": head_counter.get_total_flops(),
        "total_flops": conv_counter.get_total_flops() + lstm_flops + head_counter.get_total_flops(),
        "fast_path_counted_flops": fast_counter.get_total_flops(),
        "lstm_steps": n_steps,
    }


def interleaved(fns: dict[str, Callable[[], None]], n_items: int, calls: int, rounds: int
                ) -> tuple[dict[str, list[float]], dict[str, list[float]]]:
    """Items per second of wall time and per second of this process's CPU time, of each fn, over
    ``rounds`` interleaved rounds (one warm-up call each first)."""
    for fn in fns.values():
        fn()
    wall: dict[str, list[float]] = {k: [] for k in fns}
    cpu: dict[str, list[float]] = {k: [] for k in fns}
    for _ in range(rounds):
        for k, fn in fns.items():
            t, c = time.perf_counter(), time.process_time()
            for _ in range(calls):
                fn()
            wall[k].append(n_items * calls / (time.perf_counter() - t))
            cpu[k].append(n_items * calls / max(time.process_time() - c, 1e-9))
    return wall, cpu


def spread(rates: list[float]) -> dict:
    return {"median": statistics.median(rates), "min": min(rates), "max": max(rates)}


def bfloat16_agreement(n: int) -> dict:
    """How many detections of the shipped model bfloat16 inference changes on n synthetic spectra."""
    from eels_core.learning.training import make_batch, predict_logits

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
    ap.add_argument("--infer-batch", type=int, default=256)
    ap.add_argument("--infer-batches", type=int, default=2, help="inference batches per timed round")
    ap.add_argument("--rounds", type=int, default=7, help="interleaved timing rounds (median and range reported)")
    ap.add_argument("--threads", type=int, nargs="+", default=[2, 1], help="torch thread counts to measure")
    ap.add_argument("--train-batch", type=int, default=64)
    ap.add_argument("--train-steps", type=int, default=5, help="timed training steps per round (0: no training)")
    ap.add_argument("--agreement-spectra", type=int, default=2000,
                    help="synthetic spectra on which bfloat16 and float32 detections are compared (native bfloat16 only)")
    ap.add_argument("--json", help="also write the figures to this JSON file")
    args = ap.parse_args()

    torch.manual_seed(0)
    data = synthesize(max(args.train_batch, args.infer_batch), seed=3)
    x_all = torch.from_numpy(preprocess_batch(data.spectra))
    y_all = torch.from_numpy(data.labels.astype(np.float32))
    x_train, y_train = x_all[: args.train_batch], y_all[: args.train_batch]
    mask = torch.ones_like(y_train)
    x_infer = x_all[: args.infer_batch]

    capability = torch.backends.cpu.get_cpu_capability()
    clock, clock_source = cpu_clock_ghz()
    per_cycle = FLOPS_PER_CYCLE.get(capability, 16)
    shipped = load_model().eval()
    flops = flops_per_spectrum(shipped)
    bf16 = native_bfloat16("cpu")
    result: dict = {
        "cpu": cpu_name(), "cpu_count": os.cpu_count(), "torch": torch.__version__,
        "cpu_capability": capability,
        "onednn_max_cpu_isa": os.environ.get("ONEDNN_MAX_CPU_ISA", ""),
        "aten_cpu_capability": os.environ.get("ATEN_CPU_CAPABILITY", ""),
        "clock_ghz": clock, "clock_source": clock_source, "flops_per_cycle_per_core": per_cycle,
        "native_bfloat16": bf16, "parameters": count_parameters(shipped), **flops,
        "load_average_start": os.getloadavg()[0],
    }
    gemm = torch.randn(1024, 1024)
    for threads in args.threads:
        torch.set_num_threads(threads)
        peak = threads * clock * per_cycle
        variants: dict[str, Callable[[], None]] = {}
        nets = {"unfused": shipped}
        for path in INFERENCE_PATHS:
            nets[path] = fused_for_inference(shipped, path=path)

        def infer(net: torch.nn.Module, precision: str = "float32") -> Callable[[], None]:
            def run() -> None:
                with torch.inference_mode(), inference_autocast(precision):
                    net(x_infer)
            return run

        for path in INFERENCE_PATHS:
            variants[path] = infer(nets[path])
        if bf16:
            variants["bfloat16 (fused, autocast)"] = infer(nets["fused"], "bfloat16")
        rates, cpu_rates = interleaved(variants, args.infer_batch, args.infer_batches, args.rounds)
        gemm_rates = interleaved({"mm": lambda: torch.mm(gemm, gemm)}, 2 * 1024**3, 5, args.rounds)[0]["mm"]
        result[f"{threads}_threads"] = {
            "peak_gflops": peak,
            "auto_chose": nets["auto"].chosen_path(x_infer),
            "gemm_1024_gflops": spread([r / 1e9 for r in gemm_rates]),
            "inference_spectra_per_s": {k: spread(v) for k, v in rates.items()},
            "inference_spectra_per_cpu_s": {k: spread(v) for k, v in cpu_rates.items()},
            # median spectra/s x FLOPs per spectrum over the peak of these threads
            "inference_fraction_of_peak": {
                k: float(np.median(v)) * flops["total_flops"] / (peak * 1e9) for k, v in rates.items()
            },
        }
        if args.train_steps > 0:
            model = CNNBiLSTM()
            opt = torch.optim.Adam(model.parameters(), lr=1e-3)

            def train_step() -> None:
                model.train()
                loss = masked_bce(model(x_train), y_train, mask)
                opt.zero_grad(set_to_none=True)
                loss.backward()
                torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
                opt.step()

            tr = interleaved({"train": train_step}, args.train_batch, args.train_steps, max(3, args.rounds // 2))[0]
            result[f"{threads}_threads"]["train_spectra_per_s"] = spread(tr["train"])
    result["load_average_end"] = os.getloadavg()[0]
    if bf16:
        result.update(bfloat16_agreement(args.agreement_spectra))

    mf = 1e-6
    print(f"CNN-BiLSTM, shipped weights, {result['parameters']:,} parameters; {result['cpu']}, "
          f"{result['cpu_count']} CPUs, torch {result['torch']}")
    print(f"  instruction set in use: {capability} (ONEDNN_MAX_CPU_ISA={result['onednn_max_cpu_isa'] or '-'}, "
          f"ATEN_CPU_CAPABILITY={result['aten_cpu_capability'] or '-'}); native bfloat16: {'yes' if bf16 else 'no'}")
    print(f"  FLOPs per spectrum: {flops['total_flops'] * mf:.1f} M = convolutions {flops['conv_flops'] * mf:.1f} M "
          f"(FlopCounterMode) + BiLSTM {flops['lstm_flops'] * mf:.1f} M (formula: 2 directions x "
          f"{flops['lstm_steps']} steps x 4 gates x H x (inputs + H) x 2) + dense {flops['head_flops'] * mf:.2f} M "
          f"(FlopCounterMode); FlopCounterMode on the fast path, whose BiLSTM is matrix products: "
          f"{flops['fast_path_counted_flops'] * mf:.1f} M")
    print(f"  peak: threads x {clock:.3f} GHz ({clock_source}) x {per_cycle} FLOP/cycle ({capability})")
    print(f"  load average (1 min): {result['load_average_start']:.2f} at the start, {result['load_average_end']:.2f} "
          f"at the end; medians [range] over {args.rounds} interleaved rounds of {args.infer_batches} x "
          f"{args.infer_batch} spectra")
    for threads in args.threads:
        r = result[f"{threads}_threads"]
        g = r["gemm_1024_gflops"]
        print(f"  {threads} thread{'s' if threads > 1 else ''}: peak {r['peak_gflops']:.1f} GFLOP/s; "
              f"1024x1024 float32 matrix product {g['median']:.1f} GFLOP/s [{g['min']:.1f}-{g['max']:.1f}] "
              f"({g['median'] / r['peak_gflops']:.0%} of peak)")
        for name, s in r["inference_spectra_per_s"].items():
            gf = s["median"] * flops["total_flops"] / 1e9
            label = f"{name} (-> {r['auto_chose']})" if name == "auto" else name
            c = r["inference_spectra_per_cpu_s"][name]["median"]
            print(f"    inference {label:24s} {s['median']:6.0f} spectra/s [{s['min']:5.0f}-{s['max']:5.0f}]"
                  f"  {gf:6.1f} GFLOP/s  {gf / r['peak_gflops']:5.1%} of peak  {gf / g['median']:5.1%} of the matrix"
                  f" product;  {c:5.0f} spectra per CPU-second")
        if "train_spectra_per_s" in r:
            s = r["train_spectra_per_s"]
            print(f"    training (batch {args.train_batch}) {s['median']:7.0f} spectra/s [{s['min']:.0f}-{s['max']:.0f}]")
    if bf16:
        print(f"  bfloat16 vs float32, shipped weights, {result['agreement_spectra']} synthetic spectra: "
              f"{result['bfloat16_changed_decisions']} of {result['agreement_decisions']} detections changed "
              f"(threshold 0.5), largest probability difference {result['bfloat16_max_probability_difference']:.3f}")
    else:
        print("  bfloat16: not native on this CPU (no AVX512-BF16/AMX): not timed (it would be emulated)")
    print(f"  issue targets, 2 cores: inference >= {TARGETS['inference_fraction_of_peak']:.0%} of the float32 peak "
          f"(>= {TARGETS['inference_zen3_2_cores']} spectra/s on a Zen 3), training >= {TARGETS['train']} spectra/s")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(result, f, indent=1)


if __name__ == "__main__":
    main()
