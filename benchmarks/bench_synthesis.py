"""Throughput of the forward model: `synthesize` against the plain one-spectrum loop, where the
time goes, and how far that is from what the machine could do.

Prints, and with --json writes, for one physics (the paper's Table 2, or the real-data physics):

* spectra/s of ``synthesize`` on 1 and 2 threads and of the plain loop
  (``render_spectrum_reference``, one spectrum at a time), interleaved in every repeat so that
  all three see the same machine; the median and the range over the repeats;
* spectra per CPU-second of the 1-thread runs and of the loop (process CPU time: what one core
  does when nothing else competes for it, which a machine shared with other programs does not
  show in wall time), and from them an estimate for 2 otherwise idle cores;
* where ``render_spectra`` spends its CPU time, stage by stage (``render_stage_seconds``);
* two limits: the floating-point work per spectrum over the peak of the cores (FMA, 8 float32
  lanes), and the floor set by the library calls whose results fix every output bit (the FFTs,
  numpy's exponentials of the tails, transfer functions and background, the random numbers of
  the noise);
* the instruction sets numpy detected and used, and the load average before and after.

Issue targets on 2 cores: >= 10,000 spectra/s and >= 20x the plain loop, in the same run.
A benchmark, not a test: it asserts nothing.

    python benchmarks/bench_synthesis.py [--n 16384] [--n-loop 300] [--repeats 5] [--physics paper]
                                         [--render-version 2] [--profile-blocks 32] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time

import numpy as np
import scipy
import scipy.fft

from eels_core.forward.background import power_law_background
from eels_core.forward.config import SynthesisConfig
from eels_core.forward.noise import white_noise, white_noise_fast
from eels_core.forward.synthesis import (
    BLOCK_SIZE,
    _block_rng,
    _edge_order,
    _edge_tails,
    _model_grid_edges,
    _tables,
    output_to_model_energy,
    peak_window_for,
    render_spectrum_reference,
    render_stage_seconds,
    sample_parameters,
    synthesize,
)

#: Issue targets on 2 cores (printed next to the figures; nothing is asserted).
TARGET_SPECTRA_PER_S = 10_000
TARGET_SPEEDUP = 20
#: Floating-point operations per cycle and core: two 256-bit FMA units, 8 float32 lanes, 2 flops each.
FLOPS_PER_CYCLE_AVX2_FMA_FLOAT32 = 32


def best_rate(fn, n: int, repeats: int) -> float:
    """Best spectra/s over ``repeats`` runs of fn() (which makes n spectra)."""
    best = np.inf
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t)
    return n / best


def timed(fn) -> tuple[float, float]:
    """Wall seconds and process CPU seconds of one call."""
    w, c = time.perf_counter(), time.process_time()
    fn()
    return time.perf_counter() - w, time.process_time() - c


def summary(values: list[float]) -> dict[str, float]:
    """Median, smallest and largest of repeated figures."""
    return {"median": float(np.median(values)), "min": float(np.min(values)), "max": float(np.max(values))}


def cpu_description() -> dict:
    """What the CPU is and which instruction sets numpy found and dispatches to."""
    from numpy._core._multiarray_umath import __cpu_features__ as features

    info: dict[str, str] = {}
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                key, _, value = line.partition(":")
                info.setdefault(key.strip(), value.strip())
    except OSError:
        pass
    model = info.get("model name") or platform.processor() or platform.machine()
    mhz = float(info["cpu MHz"]) if "cpu MHz" in info else None
    simd = np.__config__.CONFIG.get("SIMD Extensions", {})
    return {
        "cpu": model,
        "cpu_mhz": mhz,
        "cpu_count": os.cpu_count(),
        "cpu_features": {k: bool(features.get(k)) for k in ("AVX", "FMA3", "AVX2", "AVX512F", "AVX512_SKX")},
        "numpy_simd_baseline": list(simd.get("baseline", [])),
        "numpy_simd_dispatched": list(simd.get("found", [])),
        "numpy": np.__version__,
        "scipy": scipy.__version__,
        "python": platform.python_version(),
        "libc": " ".join(platform.libc_ver()),
    }


def flops_per_spectrum(rows_per_spectrum: float, config: SynthesisConfig) -> dict[str, float]:
    """Rough floating-point work of one spectrum, by kind (an exp or log counted as 20 operations).

    FFTs: 2.5 n log2 n per real transform of length n. The paper's formulation transforms every
    edge forward and back over the whole grid; the fast one (``render_version = 2``) every edge
    over its peak window and every spectrum once over the whole grid.
    """
    t = _tables(config)
    n_fft, n_model, n_out = t.templates.shape[1], t.model_energy.size, t.output_energy.size
    n_freq = n_fft // 2 + 1
    if config.render_version == 2:
        n_window = peak_window_for(config).fft
        fft = 2 * 2.5 * n_fft * np.log2(n_fft) + rows_per_spectrum * 2 * 2.5 * n_window * np.log2(n_window)
        background = n_model * (20 + 2)
    else:
        fft = rows_per_spectrum * 2 * 2.5 * n_fft * np.log2(n_fft)
        background = n_out * (2 * 20 + 2)
    tails = rows_per_spectrum * 0.6 * n_model * (20 + 4)  # ~60 % of the grid above the tail start
    transfer = n_freq * (20 + 4) + rows_per_spectrum * n_freq * 2
    noise = n_out * (15 + 4)  # a normal draw, the running mean, the coefficient
    resample_and_sum = n_out * 10 + rows_per_spectrum * n_model * 3  # interpolation; scale, sum, peak search
    parts = {"FFT": fft, "tails": tails, "transfer functions": transfer, "background": background,
             "noise": noise, "resampling, sums, peaks": resample_and_sum}
    parts["total"] = float(sum(parts.values()))
    return {k: float(v) for k, v in parts.items()}


def bit_floor_seconds_per_block(config: SynthesisConfig, seed: int, blocks: int) -> dict[str, float]:
    """CPU seconds per block of the library calls that fix the output bits (one thread).

    The same calls, on arrays of the same shapes, as the renderer makes. Both renderings: the
    single-precision exp of every edge's tail factors and of the PSF transfer functions. The
    paper's formulation: rfft and irfft of every edge row, the float64 log and exp of the
    background, the SFC64 normal draws of every spectrum. The fast one: rfft and irfft of every
    spectrum and of every edge's peak window, the single-precision exp of the background on the
    model grid, the raw SFC64 words and the table lookups of the noise.
    """
    t = _tables(config)
    fast = config.render_version == 2
    n_fft = t.templates.shape[1]
    secs = {"FFT": 0.0, "exp of tails and transfer functions": 0.0, "background log and exp": 0.0, "noise draws": 0.0}
    for k in range(blocks):
        params = sample_parameters(_block_rng(seed, k), BLOCK_SIZE, config)
        tails = _edge_tails(params, t, _edge_order(params, t), lambda stage: None)
        rows = tails.flat.size
        if fast:
            n_window = peak_window_for(config).fft
            arrays = [t.templates[np.arange(BLOCK_SIZE) % t.templates.shape[0]],
                      t.templates[np.arange(rows) % t.templates.shape[0], :n_window]]
            transfer_shapes = [(BLOCK_SIZE, n_fft // 2 + 1), (BLOCK_SIZE, n_window // 2 + 1)]
        else:
            arrays = [t.templates[np.arange(rows) % t.templates.shape[0]]]
            transfer_shapes = [(BLOCK_SIZE, n_fft // 2 + 1)]
        x = output_to_model_energy(t.output_energy, params.stretch, params.shift_ev)
        c = time.thread_time()
        for buffer in arrays:
            spec = scipy.fft.rfft(buffer, axis=-1)
            scipy.fft.irfft(spec, n=buffer.shape[1], axis=-1)
        secs["FFT"] += time.thread_time() - c
        exponents = [-tails.factor.copy()] + [np.full(shape, -0.5, dtype=np.float32) for shape in transfer_shapes]
        c = time.thread_time()
        for e in exponents:
            np.exp(e, out=e)
        secs["exp of tails and transfer functions"] += time.thread_time() - c
        c = time.thread_time()
        if fast:
            np.exp(t.log_model_energy_over_reference * -params.background_exponent.astype(np.float32)[:, None])
        else:
            power_law_background(x, params.background_exponent[:, None])
        secs["background log and exp"] += time.thread_time() - c
        c = time.thread_time()
        if fast:
            white_noise_fast(params.noise_seed, t.output_energy.size)
        else:
            white_noise(params.noise_seed, t.output_energy.size, config.noise_sd)
        secs["noise draws"] += time.thread_time() - c
    return {k: v / blocks for k, v in secs.items()}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=16384, help="spectra per synthesize() run")
    ap.add_argument("--n-loop", type=int, default=300, help="spectra per run of the plain loop")
    ap.add_argument("--repeats", type=int, default=5, help="interleaved repeats (medians and ranges over them)")
    ap.add_argument("--physics", choices=("paper", "real"), default="paper",
                    help="SynthesisConfig() or SynthesisConfig.with_real_data_physics()")
    ap.add_argument("--render-version", type=int, choices=(1, 2), default=2,
                    help="SynthesisConfig.render_version: 2, the fast rendering (default); 1, the paper's formulation")
    ap.add_argument("--profile-blocks", type=int, default=32, help="blocks of 64 spectra for the stage profile")
    ap.add_argument("--json", help="also write the figures to this JSON file")
    args = ap.parse_args()

    config = SynthesisConfig() if args.physics == "paper" else SynthesisConfig.with_real_data_physics()
    config = config.replace(render_version=args.render_version)
    load_before = os.getloadavg()
    synthesize(256, seed=99, config=config, keep_freed_memory=True)  # warm-up: library tables, FFT plans, memory
    loop_params = synthesize(args.n_loop, seed=2, config=config, keep_freed_memory=True).params

    def plain_loop() -> None:
        for i in range(args.n_loop):
            render_spectrum_reference(loop_params[i], config)

    wall: dict[str, list[float]] = {"1": [], "2": [], "loop": []}
    cpu_1, cpu_2, cpu_loop = [], [], []
    for _ in range(args.repeats):
        for threads in (1, 2):
            w, c = timed(lambda: synthesize(args.n, seed=1, config=config, n_threads=threads, keep_freed_memory=True))
            wall[str(threads)].append(args.n / w)
            (cpu_1 if threads == 1 else cpu_2).append(args.n / c)
        w, c = timed(plain_loop)
        wall["loop"].append(args.n_loop / w)
        cpu_loop.append(args.n_loop / c)

    profile: dict[str, float] = {}
    rows = 0
    for k in range(args.profile_blocks):
        params = sample_parameters(_block_rng(3, k), BLOCK_SIZE, config)
        rows += _model_grid_edges(params, config.replace(render_version=1)).flat.size
        for stage, s in render_stage_seconds(params, config, keep_freed_memory=True).items():
            profile[stage] = profile.get(stage, 0.0) + s
    n_profiled = args.profile_blocks * BLOCK_SIZE
    profile_total = sum(profile.values())
    floor = bit_floor_seconds_per_block(config, 3, min(args.profile_blocks, 8))
    load_after = os.getloadavg()

    cpu = cpu_description()
    cores = min(2, os.cpu_count() or 1)  # the figures are for 2 cores
    flops = flops_per_spectrum(rows / n_profiled, config)
    peak = cores * (cpu["cpu_mhz"] or 0.0) * 1e6 * FLOPS_PER_CYCLE_AVX2_FMA_FLOAT32
    flop_limit = peak / flops["total"] if peak else float("nan")
    floor_rate = cores * BLOCK_SIZE / sum(floor.values())
    rate_2 = summary(wall["2"])
    loop = summary(wall["loop"])
    result = {
        **cpu,
        "physics": args.physics,
        "render_version": args.render_version,
        "n": args.n,
        "n_loop": args.n_loop,
        "repeats": args.repeats,
        "load_average_before": [round(v, 2) for v in load_before],
        "load_average_after": [round(v, 2) for v in load_after],
        "synthesize_1_thread_spectra_per_s": summary(wall["1"]),
        "synthesize_2_threads_spectra_per_s": rate_2,
        "plain_loop_spectra_per_s": loop,
        "speedup_vs_plain_loop": {"median": rate_2["median"] / loop["median"],
                                  "per_repeat": [a / b for a, b in zip(wall["2"], wall["loop"])]},
        "seconds_for_250k": 250_000 / rate_2["median"],
        "synthesize_1_thread_spectra_per_cpu_second": summary(cpu_1),
        "synthesize_2_threads_spectra_per_cpu_second": summary(cpu_2),
        "plain_loop_spectra_per_cpu_second": summary(cpu_loop),
        # what 2 otherwise idle cores would give if the two threads never waited for each other
        "idle_2_cores_estimate_spectra_per_s": cores * float(np.median(cpu_1)),
        "idle_2_cores_estimate_speedup": cores * float(np.median(cpu_1)) / float(np.median(cpu_loop)),
        "stage_cpu_seconds_per_spectrum": {k: v / n_profiled for k, v in profile.items()},
        "stage_fraction": {k: v / profile_total for k, v in profile.items()},
        "profile_spectra_per_cpu_second": n_profiled / profile_total,
        "edges_per_spectrum": rows / n_profiled,
        "flops_per_spectrum": flops,
        "peak_flops_2_cores_float32_fma": peak,
        "flop_limit_spectra_per_s": flop_limit,
        "fraction_of_flop_limit": rate_2["median"] / flop_limit,
        "bit_floor_cpu_seconds_per_block": floor,
        "bit_floor_spectra_per_s_2_cores": floor_rate,
        "fraction_of_bit_floor": rate_2["median"] / floor_rate,
    }

    def show(name: str, s: dict[str, float]) -> None:
        print(f"{name:38s} {s['median']:8,.0f}  (range {s['min']:,.0f}-{s['max']:,.0f})")

    print(f"{cpu['cpu']}, {cpu['cpu_count']} CPUs at {cpu['cpu_mhz']} MHz; numpy dispatches "
          f"{'/'.join(cpu['numpy_simd_dispatched'])} over baseline {'/'.join(cpu['numpy_simd_baseline'])}; "
          f"AVX2 {cpu['cpu_features']['AVX2']}, AVX512F {cpu['cpu_features']['AVX512F']}")
    print(f"physics: {args.physics}, render_version {args.render_version}; load average before {load_before[0]:.2f}, after {load_after[0]:.2f}; "
          f"medians of {args.repeats} interleaved repeats")
    show("synthesize, 1 thread (spectra/s)", summary(wall["1"]))
    show("synthesize, 2 threads (spectra/s)", rate_2)
    show("plain loop (spectra/s)", loop)
    print(f"{'speed-up over the plain loop':38s} {result['speedup_vs_plain_loop']['median']:8.1f} x   "
          f"(targets: {TARGET_SPECTRA_PER_S:,} spectra/s, {TARGET_SPEEDUP} x)")
    show("1 thread, spectra per CPU-second", summary(cpu_1))
    show("2 threads, spectra per CPU-second", summary(cpu_2))
    show("plain loop, spectra per CPU-second", summary(cpu_loop))
    print(f"{'2 idle cores (estimate)':38s} {result['idle_2_cores_estimate_spectra_per_s']:8,.0f}  "
          f"spectra/s, {result['idle_2_cores_estimate_speedup']:.1f} x the loop "
          f"(2 x the 1-thread rate per CPU-second)")
    print(f"\nwhere the CPU time goes ({n_profiled} spectra, 1 thread, "
          f"{result['profile_spectra_per_cpu_second']:,.0f} spectra per CPU-second):")
    for stage, s in profile.items():
        print(f"  {stage:42s} {1e6 * s / n_profiled:7.1f} us/spectrum  {100 * s / profile_total:5.1f} %")
    print(f"\n{rows / n_profiled:.2f} edges per spectrum; ~{flops['total'] / 1e6:.2f} MFLOP per spectrum "
          f"({flops['FFT'] / flops['total']:.0%} FFT); 2 cores peak {peak / 1e9:.0f} GFLOP/s -> limit "
          f"{flop_limit:,.0f} spectra/s; reached {result['fraction_of_flop_limit']:.1%}")
    print(f"floor of the calls that fix the bits: {', '.join(f'{k} {1e3 * v:.1f} ms' for k, v in floor.items())} "
          f"per block -> {floor_rate:,.0f} spectra/s on 2 cores; reached {result['fraction_of_bit_floor']:.0%}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(result, f, indent=2)


if __name__ == "__main__":
    main()
