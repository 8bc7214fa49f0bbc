"""Peak memory and wall time of ``eels-edges predict`` on a big spectrum image.

Writes a chunked HyperSpy file of ``rows x columns x 2048`` float32 spectra (default 512 x 512:
2 GiB) into a temporary folder, runs ``eels-edges predict FILE --sum --json`` and the per-pixel
``eels-edges predict FILE --json`` on it in separate processes, and prints each run's peak
resident memory (``ru_maxrss`` of the child process), wall time and CPU time (on a shared
machine the wall time includes waiting for a core). The file is deleted at the end.

The spectra: 16 synthetic spectra of the paper's physics (:func:`eels_core.forward.synthesis.synthesize`,
seed 5) cut to 300-709.4 eV (0.2 eV, 2048 channels), scaled to 1000 counts at their median, one per
64 x 64 tile, with Gaussian counting noise (standard deviation sqrt(counts)); written with
HyperSpy's default chunks (11 x 11 pixels x 2048 channels) and compression (gzip), as a user's
``s.save("x.hspy")`` would.

Usage::

    python benchmarks/bench_big_image.py                       # 512 x 512, --sum and per pixel
    python benchmarks/bench_big_image.py --rows 128 --runs pixels  # a 128 x 512 slice, per pixel
    python benchmarks/bench_big_image.py --runs sum stub           # per pixel without the network

``stub`` runs the per-pixel command with the network replaced by a stand-in that returns zeros:
it measures everything else (reading, repair, preprocessing, onsets, the report), whose memory is
what could grow with the file; the network itself holds one batch at a time.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

N_CHANNELS = 2048
OFFSET_EV = 300.0
SCALE_EV = 0.2
TILE = 64


def _base_spectra() -> np.ndarray:
    from eels_core.forward.axis import network_energy_axis
    from eels_core.forward.synthesis import synthesize

    e = network_energy_axis()
    start = int(np.searchsorted(e, OFFSET_EV))
    rows = synthesize(16, seed=5).spectra[:, start : start + N_CHANNELS].astype(np.float64)
    return 1000.0 * rows / np.median(rows, axis=1, keepdims=True)


def make_file(path: Path, rows: int, columns: int) -> float:
    """Write the test image chunk by chunk (bounded memory); returns the seconds it took."""
    import dask.array as da
    import hyperspy.api as hs

    base = _base_spectra()

    def block(block_info=None):
        info = block_info[None]
        (r0, r1), (c0, c1), _ = info["array-location"]
        rng = np.random.default_rng([r0, c0])
        ii, jj = np.meshgrid(np.arange(r0, r1), np.arange(c0, c1), indexing="ij")
        which = ((ii // TILE) * 7 + (jj // TILE)) % len(base)
        clean = base[which]
        return (clean + np.sqrt(clean) * rng.standard_normal(clean.shape)).astype(np.float32)

    from rsciio._hierarchical import get_signal_chunks

    chunks = get_signal_chunks((rows, columns, N_CHANNELS), np.float32, signal_axes=(2,))
    shape = (rows, columns, N_CHANNELS)
    data = da.map_blocks(block, chunks=da.core.normalize_chunks(chunks, shape), dtype=np.float32,
                         meta=np.array((), dtype=np.float32))
    assert data.shape == shape
    s = hs.signals.Signal1D(data).as_lazy()
    s.set_signal_type("EELS")
    ax = s.axes_manager.signal_axes[0]
    ax.offset, ax.scale, ax.units, ax.name = OFFSET_EV, SCALE_EV, "eV", "Energy loss"
    for axis in s.axes_manager.navigation_axes:
        axis.units, axis.scale = "nm", 0.5
    t0 = time.perf_counter()
    s.save(path, chunks=chunks, overwrite=True)
    return time.perf_counter() - t0


#: Replaces the network in a ``--runs stub`` child: zeros for every spectrum, no work, so that the run
#: measures reading, repair, preprocessing, onsets and the report: all that could grow with the file.
STUB = """
import torch
import eels_core.learning.checkpoint as ck


class Stub(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.w = torch.nn.Parameter(torch.zeros(1))

    def forward(self, x):
        return torch.full((x.shape[0], 20), -9.0)


ck.load_model = lambda *a, **k: Stub()
"""


def measure(args: list[str], stub: bool = False) -> dict:
    """Run ``eels-edges`` in a child process; its peak RSS (MiB), wall and CPU time (s) and report."""
    code = (
        (STUB if stub else "")
        + "\nimport sys, resource, time; from eels_core.real.cli import main; t = time.perf_counter(); "
        f"rc = main({args!r}); "
        "u = resource.getrusage(resource.RUSAGE_SELF); "
        "sys.stderr.write('@@%d %.2f %d %.2f' % (rc, time.perf_counter() - t, u.ru_maxrss, u.ru_utime + u.ru_stime))"
    )
    t0 = time.perf_counter()
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    wall = time.perf_counter() - t0
    tail = proc.stderr.rsplit("@@", 1)
    if len(tail) != 2:
        raise RuntimeError(f"eels-edges failed: {proc.stderr[-2000:]}")
    rc, inner, maxrss_kib, cpu = tail[1].split()
    report = json.loads(proc.stdout) if int(rc) == 0 else None
    return {"exit": int(rc), "peak_rss_mib": int(maxrss_kib) / 1024, "wall_s": wall, "predict_s": float(inner),
            "cpu_s": float(cpu), "load_average": os.getloadavg()[0], "report": report}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--rows", type=int, default=512)
    p.add_argument("--columns", type=int, default=512)
    p.add_argument("--runs", nargs="+", choices=("sum", "pixels", "stub"), default=["sum", "pixels"],
                   help="sum: --sum; pixels: per pixel; stub: per pixel with the network replaced by a stand-in")
    p.add_argument("--dir", default=None, help="where to write the file (default: a new temporary folder)")
    p.add_argument("--keep", action="store_true", help="keep the file")
    p.add_argument("--json", help="also write the figures to this JSON file")
    a = p.parse_args()
    folder = Path(a.dir) if a.dir else Path(tempfile.mkdtemp(prefix="eels-big-image-"))
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"si_{a.rows}x{a.columns}x{N_CHANNELS}.hspy"
    try:
        if not path.exists():
            seconds = make_file(path, a.rows, a.columns)
            print(f"wrote {path} ({path.stat().st_size / 2**30:.2f} GiB on disk, "
                  f"{a.rows * a.columns * N_CHANNELS * 4 / 2**30:.2f} GiB of float32) in {seconds:.0f} s", flush=True)
        results = {}
        for run in a.runs:
            args = ["predict", str(path), "--json", "--quiet"] + (["--sum"] if run == "sum" else [])
            r = measure(args, stub=run == "stub")
            results[run] = r
            detected = r["report"]["detected"] if r["report"] else None
            print(f"{run:>6}: exit {r['exit']}, peak RSS {r['peak_rss_mib']:.0f} MiB, wall {r['wall_s']:.1f} s "
                  f"(of which in main {r['predict_s']:.1f} s), CPU {r['cpu_s']:.1f} s, load average "
                  f"{r['load_average']:.1f} at the end; {a.rows * a.columns} spectra; detected {detected}", flush=True)
        figures = {"image": [a.rows, a.columns, N_CHANNELS],
                   **{k: {kk: vv for kk, vv in v.items() if kk != "report"} for k, v in results.items()}}
        print(json.dumps(figures))
        if a.json:
            Path(a.json).write_text(json.dumps(figures, indent=1) + "\n")
    finally:
        if not a.keep:
            shutil.rmtree(folder) if not a.dir else path.unlink(missing_ok=True)


if __name__ == "__main__":
    main()
