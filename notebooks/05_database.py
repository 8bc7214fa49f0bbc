# ---
# jupyter:
#   jupytext:
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 05 · The spectrum database
#
# **Reproduces:** Methods, "Database construction" and the end of "Spectrum synthesis and data
# augmentation" of Kong, Ji & Xin (2022): a database of 250,000 synthetic spectra in which 20, 20,
# 20, 15, 15 and 10 % of the spectra hold 1 to 6 edges, split 80/20 into training and validation
# sets ("Network construction").
#
# **Explains:** `eels_core.forward.database` (`write_database`, `open_database`), `eels_core.learning.datasets` (`SpectrumDataset`,
# `shard_dir`, `split_assignment`) and the command line `eels-core make-database`.
#
# **Prerequisites:** chapter 04 (how one spectrum is synthesised, and what `SynthesisConfig`
# holds), and chapters 01-03 behind it. Some familiarity with HDF5 files and with PyTorch's
# `Dataset` helps but is not required.
#
# Wherever the paper states a number, ours is printed beside it. With the CI parameters the
# database here is small (a few thousand spectra); the paper-scale run is one preset away (see the
# parameters cell).

# %% [markdown]
# ## What is written, and how
#
# `write_database(out, n, seed)` synthesises spectra `0 ... n-1` of the stream `seed` (chapter 04)
# and stores them with everything needed to use and to explain them:
#
# * `spectra` (n × 4551, float16 by default), `labels` (n × 20, multi-hot in Table 1 order),
#   `edge_onset_ev` and `jump_ratio` (n × 20), the global `index` of each spectrum and its `split`
#   (0 = training, 1 = validation);
# * `params/...`: every random draw behind each spectrum, so any spectrum can be re-rendered;
# * the configuration as JSON, its version, the seed and the sizes, as file attributes.
#
# The data go into *shards* of `shard_size` spectra, one HDF5 file each, in the folder
# `<stem>-shards/` next to the index file `<stem>.h5`. The index file holds no spectra itself: its
# datasets are HDF5 virtual datasets that stitch the shards together, so a reader sees a single
# `spectra` array. A shard is written under a temporary name and renamed only when complete; that
# makes an interrupted run resumable, as shown at the end of this chapter.

# %% tags=["parameters"]
n_spectra = 2_000  # spectra in the database (documented full value: 250_000, the paper's size)
seed = 0  # synthesis stream (documented: 0)
shard_size = 500  # spectra per shard file (documented full value: 10_000, the CLI default)
n_size_probe = 1_000  # spectra in the float32 probe used for the size estimate (full: 10_000)
n_bench = 2_048  # spectra per timed synthesize() call (full: 16_384, as benchmarks/bench_synthesis.py)
n_loop = 40  # spectra for the plain one-at-a-time loop (full: 300)
n_examples = 4  # validation spectra plotted

# %%
import contextlib
import importlib.util
import shutil
import tempfile
import time
from pathlib import Path

import h5py
import matplotlib.pyplot as plt
import numpy as np
from IPython.display import Markdown, display
from matplotlib.ticker import FormatStrFormatter, LogLocator

import eels_core
from eels_core.cli import main as eels_core_cli
from eels_core.forward.config import SynthesisConfig
from eels_core.forward.database import open_database, shard_dir, write_database
from eels_core.learning.datasets import SpectrumDataset
from eels_core.forward.synthesis import edge_library_for, render_spectrum_reference, synthesize

plt.rcParams.update({"figure.dpi": 100, "axes.grid": True, "grid.alpha": 0.3})
config = SynthesisConfig()  # the paper's Table 2
LABELS = edge_library_for(config).labels
PAPER_N = 250_000
PAPER_EDGE_SHARES = (20, 20, 20, 15, 15, 10)  # % of spectra with 1..6 edges (paper)

workdir = Path(tempfile.mkdtemp(prefix="eels-db-"))  # removed at the end of the chapter
db_path = workdir / "db.h5"

# %% [markdown]
# ## Writing the database
#
# The next cell writes the database and times it (timings vary from run to run, so that cell's
# output is not compared when the book is tested).

# %% tags=["nbval-ignore-output"]
t0 = time.perf_counter()
write_database(db_path, n=n_spectra, seed=seed, config=config, shard_size=shard_size, progress=False)
write_s = time.perf_counter() - t0
print(f"wrote {n_spectra:,} spectra in {write_s:.1f} s ({n_spectra / write_s:,.0f} spectra/s, "
      f"synthesis and HDF5 writing together)")

# %%
info = open_database(db_path)
print(f"spectra: {info.n:,} (paper: {PAPER_N:,}); seed {info.seed}; stored as {info.dtype}")
print(f"channels per spectrum: {info.energy_ev.size} ({info.energy_ev[0]:g}-{info.energy_ev[-1]:g} eV)")
print("configuration read back equals the paper's Table 2 defaults:", info.config == SynthesisConfig())
shards = sorted(shard_dir(db_path).glob("shard_*.h5"))
print(f"{len(shards)} shards of up to {info.shard_size:,} spectra:", ", ".join(p.name for p in shards))

# %% [markdown]
# ## What is in it
#
# Labels and the split are small, so we read them whole through the index file.

# %%
with h5py.File(db_path, "r") as f:
    labels = f["labels"][()]
    split = f["split"][()]
    param_names = sorted(f["params"])
print("per-spectrum parameters stored:", ", ".join(param_names))

n_edges = labels.sum(axis=1)
share_element = labels.mean(axis=0)
p_cfg = np.asarray(config.n_edges_probabilities)
expected_share = float(np.sum(np.arange(1, p_cfg.size + 1) * p_cfg)) / len(config.elements)

fig, (ax0, ax1) = plt.subplots(1, 2, figsize=(11, 3.8), gridspec_kw={"width_ratios": [2.2, 1]})
ax0.bar(range(len(LABELS)), 100 * share_element, color="C0")
ax0.axhline(100 * expected_share, color="k", ls="--", lw=1, label=f"expected {100 * expected_share:.2f} %")
ax0.set_xticks(range(len(LABELS)), LABELS, rotation=60, ha="right", fontsize=8)
ax0.set_ylabel("Spectra holding the edge (%)")
ax0.set_title("Class balance: share of spectra with each edge", fontsize=10)
ax0.set_ylim(0, 130 * share_element.max())
ax0.legend(fontsize=8, loc="upper right")
k = np.arange(1, 7)
ours = 100 * np.array([(n_edges == i).mean() for i in k])
ax1.bar(k - 0.2, ours, width=0.4, label=f"ours (n = {n_spectra:,})", color="C0")
ax1.bar(k + 0.2, PAPER_EDGE_SHARES, width=0.4, label="paper", color="0.6")
ax1.set_xlabel("Edges per spectrum")
ax1.set_ylabel("Spectra (%)")
ax1.set_title("Edges per spectrum", fontsize=10)
ax1.set_ylim(0, 1.3 * max(ours.max(), max(PAPER_EDGE_SHARES)))
ax1.legend(fontsize=8, loc="upper right")
fig.tight_layout()
plt.show()

# %% [markdown]
# Every edge is equally likely to be drawn, so each appears in the average number of edges per
# spectrum divided by 20 of the spectra (dashed line); the bars scatter around it by sampling noise
# only. The mix of edge counts is drawn with the paper's probabilities:

# %%
rows = ["| Edges per spectrum | Ours (count) | Ours (%) | Configured (%) | Paper (%) |", "|---|---|---|---|---|"]
for i, p_i, paper in zip(k, p_cfg, PAPER_EDGE_SHARES):
    rows.append(f"| {i} | {int((n_edges == i).sum()):,} | {100 * (n_edges == i).mean():.1f} | {100 * p_i:g} | {paper} |")
rows.append(f"| mean | {n_edges.mean():.3f} edges | | {expected_share * len(config.elements):.3f} edges | 3.15 edges |")
display(Markdown("\n".join(rows)))

# %% [markdown]
# ## The 80/20 split
#
# The paper picks 80 % of the spectra at random for training and keeps 20 % for validation. Our
# split is a seeded permutation of all indices with exactly 20 % marked for validation; it does not
# depend on the shard size. `SpectrumDataset(path, split=...)` serves one part or the other.

# %%
train_set = SpectrumDataset(db_path, split="train")
val_set = SpectrumDataset(db_path, split="validation")
rows = ["| Part | Ours (count) | Ours (%) | `SpectrumDataset` length | Paper |", "|---|---|---|---|---|"]
for name, code, ds, paper in (("training", 0, train_set, 0.8), ("validation", 1, val_set, 0.2)):
    rows.append(f"| {name} | {int((split == code).sum()):,} | {100 * (split == code).mean():.1f} | {len(ds):,} "
                f"| {100 * paper:.0f} % = {int(paper * PAPER_N):,} |")
display(Markdown("\n".join(rows)))
print("edges per spectrum, mean: training", f"{n_edges[split == 0].mean():.3f},",
      "validation", f"{n_edges[split == 1].mean():.3f}")

# %% [markdown]
# ## Spectra read back through `SpectrumDataset`
#
# A `SpectrumDataset` item is a pair of float32 tensors: the spectrum (4551 channels) and its 20
# labels, ready for a PyTorch `DataLoader`. Because spectrum `i` is a pure function of
# `(seed, i, config)`, the stored spectra can be checked against a fresh `synthesize` call; the only
# difference is the float16 rounding of the stored copy.

# %%
fig, axes = plt.subplots(n_examples, 1, figsize=(9, 2.4 * n_examples), sharex=True)
axes = np.atleast_1d(axes)
worst = 0.0
for ax, i in zip(axes, range(n_examples)):
    x, y = val_set[i]
    j = int(val_set.indices[i])  # global index of this validation spectrum
    fresh = synthesize(1, seed=seed, config=config, start=j).spectra[0]
    worst = max(worst, float(np.max(np.abs(x.numpy() - fresh) / np.abs(fresh))))
    names = [LABELS[c] for c in np.flatnonzero(y.numpy())]
    ax.plot(info.energy_ev, x.numpy(), color="k", lw=0.7)
    ax.set_yscale("log")
    ax.yaxis.set_minor_locator(LogLocator(subs=(2.0, 5.0)))
    ax.yaxis.set_minor_formatter(FormatStrFormatter("%g"))
    ax.yaxis.set_major_formatter(FormatStrFormatter("%g"))
    ax.tick_params(axis="y", which="minor", labelsize=7)
    ax.set_ylabel("Intensity (J$_n$)")
    ax.set_title(f"spectrum #{j}: " + ", ".join(names), fontsize=9, loc="left")
axes[-1].set_xlabel("Energy loss (eV)")
fig.tight_layout()
plt.show()
print(f"largest relative difference from a fresh synthesize() call: {worst:.1e} (float16 rounding: <= 4.9e-04)")
del train_set, val_set  # close the HDF5 handles before the files change below

# %% [markdown]
# ## Size on disk
#
# The bulk is the spectra: 4551 channels of 2 bytes (float16) or 4 bytes (float32). Labels,
# onsets, jump ratios and the parameters add a few hundred bytes per spectrum. We measure the
# float16 database above and a small float32 probe, and scale both to the paper's 250,000 spectra.
# float16 keeps about three significant digits, far finer than the noise of any spectrum here.

# %%
def folder_bytes(index_file):
    return index_file.stat().st_size + sum(p.stat().st_size for p in shard_dir(index_file).iterdir())


probe_path = workdir / "probe32.h5"
write_database(probe_path, n=n_size_probe, seed=seed, config=config, shard_size=shard_size, dtype="float32",
               progress=False)
rows = ["| Storage | Database measured | Bytes per spectrum | Spectra alone | Scaled to 250,000 spectra |",
        "|---|---|---|---|---|"]
for dtype, path, n in (("float16", db_path, n_spectra), ("float32", probe_path, n_size_probe)):
    per = folder_bytes(path) / n
    bare = info.energy_ev.size * np.dtype(dtype).itemsize
    rows.append(f"| {dtype} | {n:,} spectra | {per:,.0f} | {bare:,} | {per * PAPER_N / 1e9:.2f} GB |")
display(Markdown("\n".join(rows)))

# %% [markdown]
# ## Throughput
#
# How long would the paper's 250,000 spectra take? `benchmarks/bench_synthesis.py` times the
# vectorised `synthesize` on one and two threads against a plain loop that renders one spectrum
# at a time (`render_spectrum_reference`: the same physics, written the obvious way). We import
# its timing helper and run a smaller version here, for both renderings of the next section
# (`render_version` 1, the paper's formulation, and 2, the fast one). The numbers depend on the
# machine and on what else it is doing, so the output of the next cells is not compared when the
# book is tested.

# %% tags=["nbval-ignore-output"]
fast_config = config.replace(render_version=2)
candidates = [Path.cwd().parent, Path(eels_core.__file__).resolve().parents[1]]
repo = next((c for c in candidates if (c / "benchmarks" / "bench_synthesis.py").is_file()), None)
if repo is None:
    print("benchmarks/bench_synthesis.py not found: throughput not measured")
else:
    spec = importlib.util.spec_from_file_location("bench_synthesis", repo / "benchmarks" / "bench_synthesis.py")
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    rates = {}
    for version, cfg in ((1, config), (2, fast_config)):
        # keep_freed_memory: glibc keeps freed memory for reuse, as the database writer and training do
        synthesize(256, seed=99, config=cfg, keep_freed_memory=True)  # warm-up
        for t in (1, 2):
            rates[version, t] = bench.best_rate(
                lambda: synthesize(n_bench, seed=1, config=cfg, n_threads=t, keep_freed_memory=True), n_bench, 2
            )
    loop_params = synthesize(n_loop, seed=2, config=config).params
    loop_rate = bench.best_rate(lambda: [render_spectrum_reference(loop_params[i], config) for i in range(n_loop)],
                                n_loop, 1)
    for version in (1, 2):
        best = max(rates[version, 1], rates[version, 2])
        print(f"render_version {version}: {rates[version, 1]:7,.0f} spectra/s on 1 thread, {rates[version, 2]:7,.0f} on 2 "
              f"-> 250,000 spectra in {PAPER_N / best:.0f} s ({best / loop_rate:.0f}x the plain loop)")
    print(f"plain loop           : {loop_rate:7,.0f} spectra/s")
    print(f"write_database above : {n_spectra / write_s:7,.0f} spectra/s (render_version 1, synthesis + float16 HDF5)")

# %% [markdown]
# ## Two renderings of the same draws
#
# The paper's formulation follows Fig. 3 edge by edge: every edge $e_i$ is convolved with the
# spectrum's PSF $h$ (two FFTs over the whole 50-1100 eV model grid), scaled by
# $s_i = J_i \, I(E_i) / \max(e_i * h)$ so that its peak over the background at its onset
# $I(E_i)$ is its jump ratio $J_i$, and added. The convolution is linear,
#
# $$\sum_i s_i \, (e_i * h) = \Big(\sum_i s_i \, e_i\Big) * h ,$$
#
# so one FFT pair per spectrum would do, were it not for $\max(e_i * h)$, which needs each edge
# broadened on its own. The fast rendering (`SynthesisConfig(render_version=2)`) convolves each
# edge only over a window of the model grid around its template's maximum (wider with plural
# scattering, whose plasmon replicas carry intensity further; both widths are printed below),
# reads its peak there, then adds the scaled edges and convolves each spectrum once. It also
# evaluates the background in single precision on the model grid and resamples it with the
# edges, and draws the white noise from a table of normal quantiles indexed by the generator's
# raw 16-bit words instead of computing each normal draw.
#
# Both renderings then run their remaining loops compiled (with numba) rather than as chains of
# numpy calls: each tail's exponent over its tail only, the scaled edges added straight from
# template, tail and EXELFS without building each edge, the interpolation onto the stretched and
# shifted axis, the noise table and the moving average of the noise. Each loop performs the same
# floating-point operations in the same order as the numpy or scipy formula it replaces, so the
# spectra are the same to the last bit (`tests/forward/test_kernels.py` compares every loop with
# its formula).
#
# Both renderings use the same random draws: the labels, onsets, jump ratios and every parameter
# are identical, the noise is another stream of the same distribution, and the edges agree to a
# fraction of a percent, as the next cell measures. A database records its `render_version` in its
# configuration (`eels-core make-database --render-version 2`), so a database is always resumed
# and re-rendered with the rendering that wrote it. The paper's formulation stays the default,
# because the shipped weights were trained on it.

# %%
from eels_core.forward.noise import NORMAL_TABLE_SIZE
from eels_core.forward.synthesis import PEAK_WINDOW_PLURAL, PEAK_WINDOW_PSF, render_spectra

step_ev = config.model_energy_ev[2]
for name, window in (("PSF only", PEAK_WINDOW_PSF), ("with plural scattering", PEAK_WINDOW_PLURAL)):
    print(f"peak window, {name}: {window.channels * step_ev:.0f} eV from {window.before * step_ev:.1f} eV below the "
          f"template maximum, FFT of {window.fft} points")
print(f"normal quantiles in the noise table: {NORMAL_TABLE_SIZE:,}")
compare_params = synthesize(256, seed=seed, config=config).params
_, _, _, _, parts_paper = render_spectra(compare_params, config, return_components=True)
_, _, _, _, parts_fast = render_spectra(compare_params, fast_config, return_components=True)
peaks_paper = parts_paper.edges.max(axis=2)
peaks_fast = parts_fast.edges.max(axis=2)
present = peaks_paper > 0
peak_change = np.abs(peaks_fast[present] / peaks_paper[present] - 1)
noise_ratio = parts_fast.noise.std() / parts_paper.noise.std()
display(Markdown(
    f"Over {present.sum():,} edges of 256 spectra, the edge heights of the fast rendering differ from "
    f"the paper's formulation by at most {peak_change.max():.2%} (median {np.median(peak_change):.3%}); "
    f"the background by at most {np.max(np.abs(parts_fast.background / parts_paper.background - 1)):.1e} "
    f"of its value; the fixed-pattern noise has {noise_ratio:.3f} times the standard deviation."
))

# %% [markdown]
# ### Where the time goes
#
# `synthesize` renders blocks of 64 spectra with `render_spectra`. `render_stage_seconds` runs the
# same code with a clock read between its stages; the clock counts the CPU time of the calling
# thread, so other programs sharing the machine do not show up. We profile the spectra timed
# above with both renderings.
#
# In the paper's formulation three kinds of work stand out: the two FFTs of every edge, the
# background $J_n(E) = (E/50\,\mathrm{eV})^{-r}$ evaluated on every output channel as
# $\exp(-r \ln(E/50\,\mathrm{eV}))$ in float64, and one Gaussian draw per channel for the
# fixed-pattern noise. These are exactly what the fast rendering changes. What is left in the fast
# rendering is mostly work whose result fixes the output bits: the FFTs and numpy's
# single-precision exponential (of the tails, the background and the transfer functions), beside
# the compiled loops and the drawing of the parameters.

# %% tags=["nbval-ignore-output"]
from eels_core.forward.synthesis import BLOCK_SIZE, render_stage_seconds

profile_params = synthesize(n_bench, seed=1, config=config).params  # the spectra timed above
stage_seconds: dict[int, dict[str, float]] = {1: {}, 2: {}}
for version, cfg in ((1, config), (2, fast_config)):
    for start in range(0, n_bench, BLOCK_SIZE):
        block = profile_params[start : start + BLOCK_SIZE]
        for stage, sec in render_stage_seconds(block, cfg, keep_freed_memory=True).items():
            stage_seconds[version][stage] = stage_seconds[version].get(stage, 0.0) + sec
stages = list(dict.fromkeys([*stage_seconds[1], *stage_seconds[2]]))
profile_rows = ["| stage | render_version 1, µs per spectrum | render_version 2, µs per spectrum |", "|---|---|---|"]
profile_rows += [
    "| " + stage + " | " + " | ".join(f"{1e6 * stage_seconds[v][stage] / n_bench:.1f}" if stage in stage_seconds[v] else "—"
                                      for v in (1, 2)) + " |"
    for stage in stages
]
total = {v: sum(stage_seconds[v].values()) for v in (1, 2)}
profile_rows.append(f"| **total** | {1e6 * total[1] / n_bench:.1f} | {1e6 * total[2] / n_bench:.1f} |")
display(Markdown("\n".join(profile_rows)))
display(Markdown(
    f"One core renders {n_bench / total[1]:,.0f} spectra per CPU-second with the paper's formulation and "
    f"{n_bench / total[2]:,.0f} with the fast rendering ({total[1] / total[2]:.1f} times as many; "
    f"{n_bench:,} spectra profiled)."
))

# %% [markdown]
# The benchmark script itself records its figures, the machine and the targets it was written for
# in `benchmarks/RESULTS.md`, together with the limits it estimates (the floating-point work per
# spectrum over the peak of the cores, and the time of the calls that fix the bits); we read that
# record here:

# %% tags=["nbval-ignore-output"]
results_md = None if repo is None else repo / "benchmarks" / "RESULTS.md"
if results_md is None or not results_md.is_file():
    print("benchmarks/RESULTS.md not found: run `python benchmarks/bench_synthesis.py` and record its output there")
else:
    text = results_md.read_text(encoding="utf-8")
    synthesis = text.split("## Synthesis")[1].split("\n## ")[0]
    blocks = synthesis.split("\n\n")[1:]
    paragraphs = [p for p in blocks if not p.startswith("    ") and not p.startswith("|")]
    first_table = next(p for p in blocks if p.startswith("|"))  # the latest runs
    display(Markdown(paragraphs[0] + "\n\n" + first_table))

# %% [markdown]
# ## The paper-scale run from the command line
#
# The same database at the paper's size is one command (its size and running time are estimated in
# the two sections above):
#
# ```bash
# eels-core make-database --n 250000 --seed 0 --out db.h5      # shards in db-shards/
# eels-core info db.h5                                          # size, seed, dtype and config
# ```
#
# `--config changes.json` changes fields of `SynthesisConfig` (for example
# `{"shot_noise_dose": [1e4, 1e6]}`), `--dtype float32` keeps full precision, and
# `--shard-size` sets the spectra per file. Running the notebook with `--preset full`
# (`scripts/execute_notebooks.py`) writes the 250,000 spectra through the Python API instead.
#
# ### Resuming after an interruption
#
# A shard is first written as `shard_NNNNN.h5.tmp` and renamed when it is complete. If a run is
# killed, the complete shards stay, the half-written `.tmp` is discarded when the command is run
# again, and writing carries on with the first missing shard. To show it we damage our database as
# an interrupted run would leave it: one shard is missing and a partial `.tmp` file lies in its
# place. Then we run the *same* command through the command-line entry point.

# %%
sdir = shard_dir(db_path)
before = {p.name: (p.stat().st_ino, p.stat().st_mtime_ns) for p in sorted(sdir.glob("shard_*.h5"))}
victim = sorted(before)[len(before) // 2]
with h5py.File(sdir / victim, "r") as f:
    victim_spectra = f["spectra"][()]
(sdir / victim).unlink()
(sdir / (victim + ".tmp")).write_bytes(b"half a shard")  # what a killed run leaves behind
print(f"deleted {victim}; left a partial {victim}.tmp")

cmd = ["make-database", "--n", str(n_spectra), "--seed", str(seed), "--out", "db.h5",
       "--shard-size", str(shard_size), "--quiet"]
print("$ eels-core " + " ".join(cmd))
with contextlib.chdir(workdir):
    status = eels_core_cli(cmd)
print("exit status:", status)

# %%
rows = ["| Shard | Before | After |", "|---|---|---|"]
for name, old in before.items():
    p = sdir / name
    new = (p.stat().st_ino, p.stat().st_mtime_ns)
    rows.append(f"| {name} | {'deleted' if name == victim else 'complete'} | "
                f"{'kept as it was' if new == old else 'written again'} |")
display(Markdown("\n".join(rows)))
with h5py.File(sdir / victim, "r") as f:
    print("rewritten shard identical to the lost one:", bool(np.array_equal(f["spectra"][()], victim_spectra)))
print("stale .tmp removed:", not (sdir / (victim + ".tmp")).exists())
with h5py.File(db_path, "r") as f:
    print("labels through the index file unchanged:", bool(np.array_equal(f["labels"][()], labels)))

# %% [markdown]
# Only the missing shard was synthesised again, and it came out bit for bit the same, because a
# shard depends only on the seed, the configuration and its position. Resuming with *different*
# settings would mix two databases, so it is refused with a one-line message (exit status 2):

# %%
with contextlib.chdir(workdir):
    status = eels_core_cli(["make-database", "--n", str(n_spectra), "--seed", str(seed + 1), "--out", "db.h5",
                            "--shard-size", str(shard_size), "--quiet"])
print("exit status:", status)

# %%
shutil.rmtree(workdir)
print("temporary database folder removed")

# %% [markdown]
# ## Exercises
#
# 1. `SyntheticSpectrumStream` (in `eels_core.learning.datasets`) serves spectra straight from the
#    synthesis, without a database on disk. Check that its first spectra are those of a database
#    written with the same seed, and think about when you would prefer one or the other.
# 2. Write a small database whose spectra hold only C, N and O K edges, with 1-3 edges per
#    spectrum in equal shares, and verify its class balance.

# %% [markdown]
# :::{admonition} Solution
# :class: dropdown
#
# ```python
# import torch
# from eels_core.learning.datasets import SyntheticSpectrumStream
#
# tmp = Path(tempfile.mkdtemp())
# write_database(tmp / "db.h5", n=128, seed=3, shard_size=64, progress=False)
# disk = SpectrumDataset(tmp / "db.h5", split=None)
# for i, (x, y) in enumerate(SyntheticSpectrumStream(seed=3, n=128)):
#     x_disk, y_disk = disk[i]
#     assert torch.equal(y, y_disk)
#     assert torch.allclose(x, x_disk, rtol=1e-3)  # float16 on disk
# shutil.rmtree(tmp)
# ```
#
# The stream costs no disk and never repeats a spectrum, but it spends CPU
# time on every epoch (see the throughput above); a database on
# disk is read much faster than it is synthesised, fixes the training and validation sets for
# everyone who uses it, and keeps every parameter for later inspection, which is what the paper's
# fixed 250,000-spectrum set provides.
# :::

# %% [markdown]
# :::{admonition} Solution
# :class: dropdown
#
# ```python
# cfg = SynthesisConfig(elements=("C", "N", "O"), n_edges_probabilities=(1 / 3, 1 / 3, 1 / 3))
# tmp = Path(tempfile.mkdtemp())
# write_database(tmp / "cno.h5", n=1_000, seed=0, config=cfg, shard_size=500, progress=False)
# with h5py.File(tmp / "cno.h5", "r") as f:
#     lab = f["labels"][()]
# print(dict(zip(LABELS, lab.mean(axis=0).round(3))))  # C, N, O near 2/3; all others exactly 0
# shutil.rmtree(tmp)
# ```
#
# On average a spectrum holds (1 + 2 + 3) / 3 = 2 of the 3 edges, so each of C, N and O appears in
# about two thirds of the spectra. Labels keep all 20 entries in Table 1 order, so a network trained
# on this database has the same output layer as one trained on the full database.
# :::
