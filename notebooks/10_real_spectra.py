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
#   mystnb:
#     render_markdown_format: myst  # tables in display(Markdown(...)) outputs
# ---

# %% [markdown]
# # 10 · Real spectra
#
# **Reproduces:** Results, "Network validation" of Kong, Ji & Xin (2022): the network on measured
# spectra, scored with the paper's metrics (the real-data bars of Fig. 6a: precision 0.98, recall
# 0.99, F1 0.99, exact accuracy 94.9 %, recognition accuracy 98.9 %), and Fig. 7 (one edge in
# several materials), here the O K edge in the oxides of our validation set instead of the paper's
# C K. It adds what the paper does not show: a per-file table, spectrum images scored pixel by
# pixel, a classical automatic edge finder (pyTEMlib) and a "predict nothing" baseline on the same
# files with the same scoring, and an analysis of every failure.
#
# **Explains:** `eels_core.real.io` (`read_spectrum`, `Spectrum`, `spectrum_from_signal`),
# `eels_core.real.predict` (`predict_edges`, `EdgePrediction`, `estimate_onsets`, `occlusion_scan`),
# `eels_core.real.real_spectra` (`find_real_spectra_dir`, `load_real_spectra_index`, `scored_edges`,
# `predict_summed_files`, `predict_pixel_files`), the resampling of measured axes
# (`eels_core.learning.preprocessing.resample_rows`) and the `eels-edges` command (`eels_core.real.cli`).
#
# **Prerequisites:** chapter 06 (the network's four input channels and the measured window),
# chapter 07 (training; the weights shipped in `eels_core/weights/`) and chapter 08 (the metrics,
# the threshold, the in-window rule). Chapter 04 compares the noise of these spectra with synthetic
# ones.
#
# Every number about the network is computed here from the shipped weights; the prose never quotes
# one. Read the printed outputs.

# %% tags=["parameters"]
threshold = 0.5  # probability at or above which an edge is reported (chapter 08)
pixel_step = 2  # score every pixel_step-th pixel of line scans and spectrum images (full: 1)
batch_size = 128  # spectra per forward pass (memory, not results)

# %%
import json
import subprocess
import sys

import matplotlib.pyplot as plt
import numpy as np
import torch
from IPython.display import Markdown, display

from eels_core.forward.config import SynthesisConfig
from eels_core.real.io import read_spectrum, spectrum_from_signal
from eels_core.learning.metrics import evaluate, per_spectrum_scores
from eels_core.real.predict import occlusion_scan, predict_edges
from eels_core.forward.edges import edge_labels, reference_onsets_ev
from eels_core.forward.axis import MIN_WINDOW_EV
from eels_core.real.real_spectra import (
    SHIPPED_REAL_SPECTRA_DIR,
    find_real_spectra_dir,
    load_real_spectra_index,
    predict_pixel_files,
    predict_summed_files,
    scored_edges,
)
from eels_core.forward.synthesis import SpectrumParameters, edge_library_for, make_parameters, render_spectra
from eels_core.learning.checkpoint import DEFAULT_WEIGHTS, load_model

torch.set_num_threads(1)  # deterministic and polite on a shared CPU
plt.rcParams.update({"figure.dpi": 100, "axes.grid": True, "grid.alpha": 0.3})

LABELS = edge_labels()
REF = dict(zip(LABELS, reference_onsets_ev()))
model = load_model()
meta = json.loads(DEFAULT_WEIGHTS.with_suffix(".json").read_text())
print(f"weights: {DEFAULT_WEIGHTS.name}, training step {meta.get('step')}, status: {meta.get('status', 'final')}")

folder = find_real_spectra_dir()
records = load_real_spectra_index(folder)
source = "the copy shipped in eels_core/data/real_spectra" if folder == SHIPPED_REAL_SPECTRA_DIR else "shared/real-spectra"
print(f"{len(records)} files from {source}")

# %% [markdown]
# ## The validation set
#
# The paper tests its network on 177 spectra from the EELS Atlas, the EELS database and its
# authors' own microscopes; that collection is not public. Ours is smaller and public: 22 files
# from open-source repositories (HyperSpy, exspy, EELSModel, pyEELSMODEL, EELS DB through NOMAD,
# a study of amorphous ice), each with the edges a materials scientist expects from its material
# and a quality tier (A clean, B usable with a caveat, C labels uncertain). A copy ships with the
# package (`eels_core/data/real_spectra`, with an `ATTRIBUTION.md` naming the repository, commit
# and license of every file), so this chapter builds without the project's shared folder.
#
# Real files do things the synthetic database does not: windows much narrower than 90-1000 eV,
# energy axes off by several eV, line scans and spectrum images, edges of elements outside the
# paper's 20 (Sr M, La M, U N), a background-subtracted spectrum, a zero-loss peak.
#
# **Which edges count.** An edge can only be recognised if its onset was measured, with some
# spectrum on both sides. We use the rule of chapter 08 and of the project's notes on the peer
# tools: an expected edge counts when `energy_min + 5 eV <= onset <= energy_max - 20 eV` (reference
# onset, window from `index.csv`), and predictions are restricted the same way. `predict_edges`
# applies the same rule to the measured axis, so it never reports an edge it could not have seen.

# %%
in_window = scored_edges  # the labels whose onset lies inside lo + 5 ... hi - 20 eV


def short(name, n=34):
    return name if len(name) <= n else name[: n - 1] + "…"


rows = ["| # | File | Material | Format | Window (eV) | Spectra | Tier | Expected | Scored (in window) |",
        "|---|---|---|---|---|---|---|---|---|"]
for i, r in enumerate(records):
    scored = in_window(r.expected_edges, r.energy_min_ev, r.energy_max_ev)
    rows.append(f"| {i} | `{short(r.name)}` | {r.material.split(' (')[0]} | {r.path.suffix[1:]} | "
                f"{r.energy_min_ev:.0f}–{r.energy_max_ev:.0f} | {r.n_spectra} | {r.quality_tier} | "
                f"{', '.join(r.expected_edges)} | {', '.join(scored) or '—'} |")
display(Markdown("\n".join(rows)))

# %% [markdown]
# ## Reading any EELS file
#
# `read_spectrum` turns every format of the set into one object, a `Spectrum`: an increasing
# energy axis in eV (keV axes converted, decreasing ones reversed) and the counts with the energy
# channels last. A single spectrum is 1-D, a line scan 2-D, a spectrum image 3-D. EMSA, Gatan
# DigitalMicrograph and HyperSpy files go through rosettasciio (its harmless warnings about
# unreadable date and time fields in EMSA headers are dropped); two-column text through NumPy.
# A truncated or corrupt file, an axis without eV/keV units, a non-monotonic axis or NaN counts
# raise a `ValueError` that says what is wrong.

# %%
seen = {}
for r in records:
    seen.setdefault(r.path.suffix, r)
for ext, r in seen.items():
    s = read_spectrum(r.path)
    print(f"{ext:6s} {short(r.name, 40):40s} counts {str(s.counts.shape):12s} "
          f"{s.energy_ev[0]:7.1f}-{s.energy_ev[-1]:7.1f} eV, {s.dispersion_ev:.3g} eV/channel, via {s.metadata['reader']}")

# %% [markdown]
# A HyperSpy signal that is already in memory (`Signal1D`, `EELSSpectrum`) is accepted as it is,
# without HyperSpy being a dependency of `eels_core`: `spectrum_from_signal` only reads `data` and
# the first signal axis of `axes_manager` (`offset`, `scale`, `size`, `units`). A stand-in with
# those attributes shows it, here a 2 x 3 spectrum image on a keV axis:

# %%
class Axis:  # what HyperSpy's DataAxis offers, as far as eels_core is concerned
    def __init__(self, size, offset=0.0, scale=1.0, units="eV", index_in_array=None):
        self.size, self.offset, self.scale, self.units, self.index_in_array = size, offset, scale, units, index_in_array


class AxesManager:
    def __init__(self, signal_axes, navigation_axes=()):
        self.signal_axes, self.navigation_axes = tuple(signal_axes), tuple(navigation_axes)


class LooksLikeEELSSpectrum:
    def __init__(self, data, energy_axis, navigation_axes=()):
        self.data, self.axes_manager = data, AxesManager([energy_axis], navigation_axes)


fake = LooksLikeEELSSpectrum(
    np.ones((2, 3, 500)), Axis(500, offset=0.4, scale=0.0005, units="keV", index_in_array=2),
    [Axis(3, units="nm", index_in_array=1), Axis(2, units="nm", index_in_array=0)],
)
s = spectrum_from_signal(fake)
print(f"counts {s.counts.shape}, energy {s.energy_ev[0]:.1f}-{s.energy_ev[-1]:.1f} eV, {s.dispersion_ev:.2f} eV/channel")

# %% [markdown]
# ## Naming the edges of one spectrum
#
# `predict_edges(energy_ev, counts)` (or `predict_edges(spectrum)`) resamples the spectrum onto the
# network's 0.2 eV grid (`resample_rows`: linear interpolation of channels 0.15 eV wide or wider;
# finer channels, such as the 0.035 eV of the amorphous-ice files, are averaged in 0.2 eV bins, as
# a detector with 0.2 eV channels would have recorded them, which divides their noise by the
# square root of the number of channels per bin), builds the four input channels of chapter 06
# exactly as in training,
# and returns an `EdgePrediction`: the 20 probabilities, the detections (probability above the
# threshold *and* onset inside the window) and, for every edge inside the window, an **estimated
# onset**. The onset is deliberately simple and documented in `eels_core.real.predict`: within ±15 eV
# of the element's reference onset, subtract a power law fitted to the 30 eV below that range,
# smooth with a 1 eV Gaussian, and take the lowest energy at which the slope reaches half of its
# largest value there, i.e. where the steepest rise begins. On synthetic spectra that is within
# about 1 eV of the labelled onset; on a measured one it shows an energy axis that is off by a
# few eV. It cannot see offsets beyond the ±15 eV it searches.
#
# SrTiO₃ (`hl.msa`, 357-664 eV) holds Ti L₂,₃ and O K:

# %%
demo = next(r for r in records if r.name == "hl.msa")
spec = read_spectrum(demo.path)
res = predict_edges(spec, model=model, threshold=threshold)
lines = ["| Edge | Probability | Detected | Estimated onset (eV) | Reference onset (eV) |", "|---|---|---|---|---|"]
for row in res.edge_table():
    onset = "—" if row["onset_ev"] is None else f"{row['onset_ev']:.1f}"
    lines.append(f"| {row['edge']} | {row['probability']:.3f} | {'yes' if row['detected'] else 'no'} | {onset} | "
                 f"{row['reference_onset_ev']:.1f} |")
display(Markdown("\n".join(lines)))
print("expected:", ", ".join(demo.expected_edges), "| detected:", ", ".join(res.detected_edges()) or "nothing")

fig, ax = plt.subplots(figsize=(9, 3.4))
ax.plot(spec.energy_ev, spec.counts, color="k", lw=0.8)
for row in res.edge_table():
    if row["edge"] in demo.expected_edges or row["detected"]:
        color = "C2" if row["detected"] and row["edge"] in demo.expected_edges else "C3"
        ax.axvline(row["reference_onset_ev"], color=color, ls=":", lw=1)
        if row["onset_ev"] is not None:
            ax.axvline(row["onset_ev"], color=color, ls="-", lw=1)
        ax.text(row["reference_onset_ev"], 0.95, f" {row['edge']}\n p = {row['probability']:.2f}", color=color,
                transform=ax.get_xaxis_transform(), va="top", fontsize=8)
ax.set_xlabel("Energy loss (eV)")
ax.set_ylabel("Counts")
ax.set_title("hl.msa (SrTiO$_3$): dotted = reference onset, solid = estimated onset; green = found, red = wrong",
             fontsize=9)
plt.show()

# %% [markdown]
# ## Every file, summed
#
# Line scans and spectrum images are first summed over their pixels, as in the notes that scored
# the classical tools; the per-pixel score comes further down. A file whose window overlaps
# 90-1000 eV by less than 35 eV (`MIN_WINDOW_EV`) would be refused by `predict_edges` (the
# network was never trained on narrower windows) and would count as a file in which nothing was
# found, exactly as an empty answer of a classical tool counts.

# %%
# `predict_summed_files` (in `eels_core.real.real_spectra`) runs `predict_edges` on each summed file and
# restricts truth and prediction to the in-window edges; a refused window counts as nothing found.
summed = predict_summed_files(records, model=model, threshold=threshold)

Y_true = np.array([it.truth for it in summed])
Y_pred = np.array([it.pred for it in summed])
per_file = per_spectrum_scores(Y_true, Y_pred)
ours = evaluate(Y_true, Y_pred)


def names(mask):
    return ", ".join(LABELS[k] for k in np.flatnonzero(mask)) or "—"


lines = ["| # | File | Tier | Expected (scored) | Predicted | P | R | F1 |", "|---|---|---|---|---|---|---|---|"]
for i, it in enumerate(summed):
    r = it.record
    pred = f"*refused: window < {MIN_WINDOW_EV:g} eV*" if it.refused else names(it.pred)
    extra = [x for x in (it.result.detected_edges() if it.result else []) if not it.pred[LABELS.index(x)]]
    if extra:
        pred += f" (+ outside the scored window: {', '.join(extra)})"
    ok = "" if per_file.f1[i] == 1 else " ✗"
    lines.append(f"| {i} | `{short(r.name)}` | {r.quality_tier} | {names(it.truth)} | {pred} | "
                 f"{per_file.precision[i]:.2f} | {per_file.recall[i]:.2f} | {per_file.f1[i]:.2f}{ok} |")
display(Markdown("\n".join(lines)))

# %% [markdown]
# ## Fig. 6a, real-data column: ours beside the paper's
#
# Below, the paper's five real-data numbers, ours on the summed files, ours pixel by pixel (next
# section), the classical tool of the next-but-one section, and the trivial "predict nothing"
# baseline, all on the same 22 files with the same rule. "Predict nothing" has precision 1 by the
# 0/0 convention of chapter 08 (it makes no false claim); its other bars are the share of files
# with nothing to find.

# %%
PAPER_REAL = {"precision": 0.98, "recall": 0.99, "f1": 0.99, "exact_accuracy": 0.949, "recognition_accuracy": 0.989}
# Recorded in the project's notes (shared/notes/peers.md) by running pyTEMlib 0.2026.6.0 on the same
# 22 summed files with the same scoring; NOT run here (see "A classical peer" below).
PYTEMLIB_RECORDED = {
    "pyTEMlib find_edges (recorded)": {"precision": 0.90, "recall": 0.49, "f1": 0.50, "exact_accuracy": 0.27,
                                       "recognition_accuracy": 0.32},
    "pyTEMlib auto_id_edges, patched (recorded)": {"precision": 0.90, "recall": 0.58, "f1": 0.59,
                                                   "exact_accuracy": 0.36, "recognition_accuracy": 0.45},
}
nothing = evaluate(Y_true, np.zeros_like(Y_pred)).as_dict()
METRICS = ["precision", "recall", "f1", "exact_accuracy", "recognition_accuracy"]
print(f"ours, summed files ({ours.n_spectra}):", {k: round(v, 3) for k, v in ours.as_dict().items() if k in METRICS})
print("predict nothing:            ", {k: round(nothing[k], 3) for k in METRICS})

# %% [markdown]
# ## Pixel by pixel
#
# The files with more than one spectrum are line scans, stacks and one small spectrum image. Each
# pixel is a noisier spectrum than the sum; the truth of every pixel is taken to be the truth of its file, which is
# right for these homogeneous round-robin specimens and stacks, and an approximation in general
# (a pixel in vacuum has no edges). `predict_edges` labels all pixels of a file in batches; the
# parts of the network that do not depend on the data (everything outside the measured window)
# are computed once per file, not once per pixel.

# %%
# `predict_pixel_files` (in `eels_core.real.real_spectra`) labels every `pixel_step`-th pixel of each
# line scan and spectrum image, with the same in-window rule as for the summed files.
pixel_files = predict_pixel_files(summed, model=model, threshold=threshold, pixel_step=pixel_step,
                                  batch_size=batch_size)
pixel_rows = []
for px in pixel_files:
    r, i = px.item.record, summed.index(px.item)
    rep = evaluate(px.truth, px.pred)
    pixel_rows.append(f"| `{short(r.name)}` | {px.n_scored} of {px.item.spectrum.n_spectra} | {names(px.item.truth)} | "
                      f"{rep.f1:.2f} | {rep.exact_accuracy:.2f} | {rep.recognition_accuracy:.2f} | "
                      f"{per_file.f1[i]:.2f} |")
pixels = evaluate(np.concatenate([px.truth for px in pixel_files]), np.concatenate([px.pred for px in pixel_files]))
display(Markdown("\n".join(["| File | Pixels scored | Expected | F1 | Exact | Recognition | F1 of the sum |",
                            "|---|---|---|---|---|---|---|"] + pixel_rows)))
print(f"all pixels ({pixels.n_spectra}):", {k: round(v, 3) for k, v in pixels.as_dict().items() if k in METRICS})

# %% [markdown]
# The bars:

# %%
groups = [
    ("paper, real spectra (177)", PAPER_REAL, "0.3"),
    (f"ours, summed files ({ours.n_spectra})", ours.as_dict(), "C0"),
    (f"ours, pixels ({pixels.n_spectra})", pixels.as_dict(), "C9"),
    *[(name, vals, c) for (name, vals), c in zip(PYTEMLIB_RECORDED.items(), ["C1", "C3"])],
    ("predict nothing", nothing, "0.75"),
]
fig, ax = plt.subplots(figsize=(10, 4))
width = 0.8 / len(groups)
x = np.arange(len(METRICS))
for j, (name, vals, color) in enumerate(groups):
    heights = [vals[m] for m in METRICS]
    hatch = "//" if "recorded" in name else None
    bars = ax.bar(x + (j - (len(groups) - 1) / 2) * width, heights, width, label=name, color=color, hatch=hatch,
                  edgecolor="white" if hatch else None)
    for b, h in zip(bars, heights):
        ax.text(b.get_x() + b.get_width() / 2, h + 0.01, f"{h:.2f}", ha="center", va="bottom", fontsize=6, rotation=90)
ax.set_xticks(x, ["precision", "recall", "F1", "exact accuracy", "recognition accuracy"])
ax.set_ylim(0, 1.18)
ax.set_ylabel("score (mean over spectra / share of spectra)")
ax.legend(fontsize=7, ncol=3, loc="upper center", bbox_to_anchor=(0.5, -0.12))
ax.set_title("Real spectra: the paper's Fig. 6a real-data bars and ours (hatched: recorded, not run here)", fontsize=9)
plt.show()

# %% [markdown]
# The issue sets three targets for the summed files: mean F1 of at least 0.95, exact accuracy of
# at least 0.85, and better than the classical peer on every metric. Computed:

# %%
best_peer = {m: max(v[m] for v in PYTEMLIB_RECORDED.values()) for m in METRICS}
checks = [
    ("mean F1 >= 0.95", ours.f1 >= 0.95, f"{ours.f1:.3f}"),
    ("exact accuracy >= 0.85", ours.exact_accuracy >= 0.85, f"{ours.exact_accuracy:.3f}"),
] + [(f"{m} better than pyTEMlib (best recorded {best_peer[m]:.2f})", ours.as_dict()[m] > best_peer[m],
      f"{ours.as_dict()[m]:.3f}") for m in METRICS]
for what, ok, value in checks:
    print(f"{'met    ' if ok else 'NOT met'}  {what}: ours {value}")
print(f"\n{sum(ok for _, ok, _ in checks)} of {len(checks)} targets met with the shipped weights "
      f"(training step {meta.get('step')}).")
invisible = [it.record.name for it in summed if "not visible" in it.record.notes.lower()]
if invisible:
    ceiling = 1 - len(invisible) / len(summed)
    print(f"{len(invisible)} file(s) expect an edge that the index notes call not visible ({', '.join(invisible)}): "
          f"a network that names only what it can see scores F1 0 there, so its mean F1 is at most {ceiling:.3f}, "
          f"and then only with every other file exactly right.")

# %% [markdown]
# Two cautions when reading these numbers against the paper's. Our set is eight times smaller, so
# one file moves the mean F1 by 0.045 and the exact accuracy by 4.5 points. And it is harder in
# places the paper's set probably was not: narrow windows, uncalibrated axes, edges of elements
# outside the vocabulary sitting on top of target edges, and two files whose labels the index
# itself marks as uncertain (tier C).

# %% [markdown]
# ## Fig. 7: one edge in many materials
#
# The paper's Fig. 7 shows the network finding the C K edge in carbon materials whose fine
# structure differs (graphite, diamond, polymers ...). The oxygen K edge plays that role in our
# set: its near-edge structure in a transition-metal oxide (a pre-peak from O 2p - metal 3d
# hybridisation), in a perovskite, in a garnet, in a rare-earth nickelate and in ice are all
# different. Each panel shows the O K region of one material (background subtracted, scaled to
# its maximum), the truth, the network's O K probability and the estimated onset against the
# reference 532 eV.

# %%
ok_items, seen_material = [], set()
for it in summed:
    r = it.record
    material = r.material.split(" (")[0]
    if it.truth[LABELS.index("O K")] and material not in seen_material and it.result is not None:
        seen_material.add(material)
        ok_items.append(it)

k_o = LABELS.index("O K")
fig, ax = plt.subplots(figsize=(8, 1.2 + 0.85 * len(ok_items)))
for j, it in enumerate(ok_items):
    s, r, res_o = it.spectrum.summed(), it.record, it.result
    e, c = s.energy_ev, s.counts
    pre = (e >= max(e[0], 512.0)) & (e < 526.0)  # power-law background just below the edge
    if pre.sum() > 5:
        fit = np.polyfit(np.log(e[pre]), np.log(np.clip(c[pre], 1e-9, None)), 1)
        background = lambda x: np.exp(np.polyval(fit, np.log(x)))  # noqa: E731
    else:
        background = lambda x: np.full(x.shape, c[(e >= 505) & (e <= 600)].min())  # noqa: E731
    m = (e >= 505.0) & (e <= 600.0)
    net = c[m] - background(e[m])
    post = (e[m] >= 528.0) & (e[m] <= 560.0)
    net = np.clip(net / np.max(net[post]), -0.3, 1.2)
    y0 = 1.35 * (len(ok_items) - 1 - j)
    found = bool(res_o.detected[k_o])
    ax.plot(e[m], y0 + net, color="C2" if found else "C3", lw=1)
    onset = res_o.onset_ev[k_o]
    ax.plot([onset, onset], [y0 - 0.1, y0 + 1.0], color="k", lw=0.8)
    ax.text(603, y0 + 0.4, f"{r.material.split(' (')[0][:32]}\ntruth O K · p = {res_o.probabilities[k_o]:.2f}"
            f" · onset {onset:.1f} eV", fontsize=7, va="center")
ax.axvline(REF["O K"], color="0.5", ls=":", lw=1)
ax.set_xlim(505, 680)
ax.set_yticks([])
ax.set_xlabel("Energy loss (eV)")
ax.set_title("O K in the oxides of the validation set (green: detected, red: missed; "
             "black tick: estimated onset; dotted: 532 eV)", fontsize=9)
plt.show()

# %% [markdown]
# ## A classical peer: pyTEMlib
#
# pyTEMlib (Gerd Duscher's TEM toolkit) has automatic edge identification: `find_edges` locates
# steps in the second derivative and assigns each to the nearest tabulated edge; `auto_id_edges`
# adds a ranking. We wanted to run it live, side by side, as an optional `peers` extra. We checked
# its current wheel (0.2026.6.0, `pip download --no-deps pytemlib`): it installs fine on its own,
# but declares as hard dependencies JupyterLab, `jupyter`, `nodejs`, `npm`, `fastmcp`, `ollama`,
# SimpleITK, scikit-image, scikit-learn, plotly, pandas, ase, spglib, xraylib, pyNSID, sidpy and
# SciFiReaders, i.e. a second notebook stack, an LLM client and an MCP server. We did not add that to
# the book's environment. The pyTEMlib bars above are therefore the figures **recorded** in the
# project's notes (`shared/notes/peers.md`) by running it on the same 22 summed files with the same
# in-window scoring; they are not recomputed here.
#
# What the notes record about its behaviour explains the low recall: it smooths and pairs peaks in
# channels rather than eV (blind at >= 1 eV/channel), ignores the first 50 channels plus 20 eV (so
# narrow windows come back empty), and assigns each step to the nearest tabulated onset without
# element priors (O K becomes Sb M₅, B K becomes Lu/Hf N₅). As shipped, `auto_id_edges` raises a
# `TypeError` on every spectrum in which it finds something (since a 2025 refactor it passes a
# nested dictionary to `assign_likely_edges`); the recorded row wraps `list_all_edges` to restore
# the earlier behaviour, so it is "pyTEMlib as it used to work", not as it works today.

# %%
lines = ["| Method | P | R | F1 | Exact | Recognition | Source |", "|---|---|---|---|---|---|---|"]
table_rows = [("CNN-BiLSTM (ours), summed files", ours.as_dict(), "computed here"),
              ("CNN-BiLSTM (ours), pixels", pixels.as_dict(), "computed here"),
              *[(n, v, "recorded (peers.md)") for n, v in PYTEMLIB_RECORDED.items()],
              ("predict nothing", nothing, "computed here"),
              ("paper, real spectra (177)", PAPER_REAL, "paper, Fig. 6a")]
for name, vals, src in table_rows:
    lines.append(f"| {name} | " + " | ".join(f"{vals[m]:.2f}" for m in METRICS) + f" | {src} |")
display(Markdown("\n".join(lines)))

# %% [markdown]
# ## Failure analysis
#
# Every summed file with a wrong answer, with what went wrong and what the index says about the
# file. Missed edges (false negatives) are listed with the network's probability, extra ones
# (false positives) too. The last column names causes that can be read off the data: a refused
# window, labels the index marks as uncertain, an energy axis the index marks as uncalibrated,
# and a known edge of a non-target element (not one of the 20) within 15 eV of an extra edge.

# %%
# Edges of elements outside the 20-edge vocabulary that occur in this set (approximate onsets in
# eV, from standard EELS edge tables), and the words of index.csv that say the element is there.
NON_TARGET = {"Sr M5": 133, "Sr M4": 135, "Sr M3": 269, "Sr M2": 280, "Y M5": 157, "Y M4": 159, "La M5": 832,
              "La M4": 849, "U N7": 381, "U N6": 391, "U N5": 738, "U N4": 778, "Al L3": 73}
PRESENT_IF = {"Sr": ("SrTiO3",), "Y": ("Y3Al5O12", "YAG"), "La": ("La2NiO4", "La M"), "U": ("uranium", "U N"),
              "Al": ("Y3Al5O12", "YAG", "Al L")}


def causes(it, fn, fp):
    r = it.record
    out = []
    if it.refused:
        out.append(f"window narrower than {MIN_WINDOW_EV:g} eV: refused")
    if r.quality_tier == "C":
        out.append("tier C: labels uncertain")
    if "UNCALIBRATED" in r.notes:
        out.append("energy axis offset (index notes)")
    text = f"{r.material} {r.notes}"
    for x in fp:
        near = [n for n, e0 in NON_TARGET.items() if abs(e0 - REF[x]) <= 15
                and r.energy_min_ev <= e0 <= r.energy_max_ev
                and any(word in text for word in PRESENT_IF[n.split()[0]])]
        if near:
            out.append(f"{x} near non-target {', '.join(sorted(set(near)))}")
    return "; ".join(dict.fromkeys(out)) or "—"


lines = ["| # | File | Tier | Missed (p) | Extra (p) | Likely cause | Index notes |", "|---|---|---|---|---|---|---|"]
n_fail = 0
for i, it in enumerate(summed):
    if per_file.f1[i] == 1:
        continue
    n_fail += 1
    probs = it.result.probabilities if it.result is not None else np.zeros(len(LABELS))
    fn = [LABELS[k] for k in np.flatnonzero(it.truth & ~it.pred)]
    fp = [LABELS[k] for k in np.flatnonzero(~it.truth & it.pred)]
    fmt = lambda xs: ", ".join(f"{x} ({probs[LABELS.index(x)]:.2f})" for x in xs) or "—"  # noqa: E731
    r = it.record
    lines.append(f"| {i} | `{short(r.name)}` | {r.quality_tier} | {fmt(fn)} | {fmt(fp)} | {causes(it, fn, fp)} | "
                 f"{short(r.notes, 60) or '—'} |")
if n_fail:
    display(Markdown("\n".join(lines)))
print(f"{n_fail} of {len(summed)} summed files are not exactly right.")
conf_fn = int((Y_true & ~Y_pred).sum())
conf_fp = int((~Y_true & Y_pred).sum())
print(f"missed edges: {conf_fn} of {int(Y_true.sum())}; extra edges: {conf_fp}")
by_tier = {t: [per_file.f1[i] for i, it in enumerate(summed) if it.record.quality_tier == t] for t in "ABC"}
print("mean F1 by quality tier:", ", ".join(f"{t} {np.mean(v):.2f} ({len(v)} files)" for t, v in by_tier.items() if v))

# %% [markdown]
# How to read the table. A **refused** file (a window narrower than 35 eV) would cost the network
# a whole file; none of the 22 is refused, since training includes windows down to 35 eV. **Tier
# C** files carry labels their curators doubt: the amorphous-ice N K window, for instance, is
# expected to hold N K at trace level that is not visible in the data, so a miss there is
# arguably right. An **offset axis** moves every edge: the network was trained with shifts of up
# to ±15 eV, so a 20 eV offset is outside its experience, and an edge may then be named after its
# neighbour. **Non-target** edges (U N, La M, Sr M) are not among the 20 labels; unless the
# training data taught the network to ignore them, it can mistake one for a target edge at the
# same energy. Errors without such a cause are the network's own. Thick h-BN is the hardest
# material of the set: Sc L₂,₃ (onset 402 eV) sits on top of N K (401 eV), and the B K side of a
# thick specimen has plasmon replicas and the oscillations of B K's extended fine structure where
# Cl, Ar L₂,₃ and C K would be.
#
# **What the training recipe changed.** The table below puts the shipped weights (computed here)
# beside models that were scored on the same 22 files with the same rule while recipes were being
# tried. Those models are not shipped, so their rows are *recorded* figures, like the pyTEMlib rows
# above, not re-run. Until 2026-11-30 the shipped model was trained in phases: the paper's physics
# first (`cpu-long`), then a fine-tuning with the measured-spectrum physics (`cpu-finetune`);
# its row is "phases 1 + 2". From that second phase: the first shipped model (fine-tuned with
# plural scattering, distractor edges and background-subtracted spectra only); an intermediate one
# with the shipped recipe minus the counting noise of coarse channels and the weak-π* h-BN
# variants; and a trial that also drew jump ratios up to three times the Table 1 maxima. From a
# third phase on top of the phase-2 weights (`cpu-refine`, chapter 07, 4,000 steps at a learning
# rate of 2e-4 unless said otherwise): trial a with thicker specimens (t/λ up to 1.5), pedestals
# up to 100 times the median, curved backgrounds and 10 % background-subtracted spectra; trial b,
# a plus varied near-edge structures (chapter 01); trial c, b plus backgrounds as steep as the
# measured ones (r uniform in 1.5-5 with the noise scaled to the background, chapter 03) and jump
# ratios up to three times Table 1; trial d, c with clean (unaugmented) rehearsal batches, 6,000
# steps at a learning rate of 3e-4: the `cpu-refine` preset as it stands. None of these moved the
# real-spectra scores by more than about one file, and every third-phase trial lost accuracy on
# the paper's own physics.
#
# What did move them was to stop training in phases. The `cpu-joint*` presets (chapter 07) train
# from scratch, 18,000 steps, with clean spectra of the paper's physics on the odd steps and the
# measured-spectrum physics on the even ones. `cpu-joint-mild` (the second phase's physics plus
# varied near-edge structures) gave the best scores on these files of any model so far. Trained
# again with other random numbers (`--seed 1 --data-seed 10`), the same recipe named Sc L₂,₃ on
# every h-BN file and got four files fewer exactly right: on 22 files, four of them nearly the
# same h-BN specimen, the spread between two runs of one recipe is as large as the differences
# between recipes, and a single run's score is not the recipe's.
#
# Can a rule that leaves these files out pick between recipes? Before three new candidates were
# scored (that second seed; `cpu-joint-mild-extend`, a second, shorter cosine cycle on fresh
# spectra for the `cpu-joint-mild` model; and `cpu-joint-exelfs`), the rule was written down: the
# highest exact accuracy on 4,000 synthetic spectra of the measured-spectrum physics (the last
# column), provided the paper-physics scores stay at 0.98 and 0.90 (issue 3). It chose the
# extended model, which was better than `cpu-joint-mild` on every synthetic test and worse on the
# measured spectra, summed and pixel by pixel. Among the four models of the mild recipe (its two
# seeds, the extension and the EXELFS variant) the measured-physics synthetic exact accuracy and
# the pixel scores ranked in exactly opposite orders: more accuracy on the synthetic
# measured-spectrum physics came with less on measured spectra, the gap between simulation and
# measurement that the forward model has not closed. The extended model
# was therefore withdrawn and `cpu-joint-mild` stays the shipped model, which makes its row the
# best of several tries on these files rather than an unbiased estimate: its second seed says what
# a typical run of the recipe scores. `cpu-joint-exelfs` adds the extended fine structure of
# chapter 01 to half of the edges of the even steps; it still named Ar L₂,₃ and C K on two of
# the h-BN files. `cpu-joint-resolution` adds an instrument resolution up to 3 eV
# and background-subtraction residuals; it scored a little higher on the paper's physics and
# lower on the measured files, mostly by naming Sc L₂,₃ on every h-BN file again: a broad
# resolution makes the two edges more alike (chapter 02). `cpu-joint`, with the steep backgrounds
# and strong edges of trial c on its even steps, learned so much more slowly (paper-physics F1
# 0.70 against 0.92 for `cpu-joint-mild` after 3,000 steps, 1,000 spectra) that it was stopped
# there to free the core.
#
# The pixel columns score every second pixel of the line scans and spectrum images (552 pixels,
# the "Pixel by pixel" table above), where they were measured. The last three columns are the
# paper-physics synthetic F1 and exact accuracy (chapter 08's test, 4,000 spectra), which the
# shipped model must keep at 0.98 and 0.90, and the exact accuracy on 4,000 synthetic spectra of
# the measured-spectrum physics, where it was measured; two file-level probabilities show where
# the models differ: the Ca L₂,₃ of the 1 eV/channel survey and the O K
# of the tier-C `EELS_SI`. With 22 files one file moves the mean F1 by 0.045. These 22 files chose
# between the earlier recipes, so they are no longer an unseen test of them; the real spectra the
# project is also judged on are.
#
# **The contrast floor.** Every recorded row not marked "with the contrast floor" was scored before
# the preprocessing gained its contrast floor (chapter 08). The amorphous-ice O K file is an edge of
# about 1 % on a level of some 600 counts in a 71 eV window; without the floor, the ten models of
# the third-phase and one-phase trials whose weights are still on disk (the shipped ones among them)
# all gave its O K a probability below 0.03. With the floor, which was chosen on synthetic spectra
# with pedestals and never on these files, each of the ten finds it (0.63 for `cpu-joint`, 0.997 or
# more for the others): the first row is the shipped weights computed here with the floor, not
# retrained for it. The other ice file, the tier-C N K window, stays wrong: the edge is not visible
# there (the failure table above shows what is reported instead).
#
# **Splice steps and large pedestals in training.** `cpu-joint-splice` (chapter 07) trains the mild
# recipe with the floor, pedestals up to 100 times the median and splice steps. Before either of its
# two seeds was scored, the rule was written down: replace the shipped weights only if the two
# seeds' mean F1 on the summed files beats the shipped weights with the floor (0.920) and their mean
# pixel F1 reaches 0.938, so that the recipe and not one lucky seed has to be better. Their mean
# summed F1 was 0.890, so the shipped weights stayed. On synthetic spectra the recipe does what it
# was made for: with a 10 % splice step, both seeds report a false edge in 4 % of the spectra
# against 27 % for the shipped weights (chapter 08's test on 800 other spectra). On the measured
# files the survey's false Mn L₂,₃ weakened (0.38 and 0.59 against 0.95), but both seeds named Sc
# L₂,₃ on all four h-BN files, which is where the F1 went; the survey's false Si L₂,₃ and missed Fe
# L₂,₃ remain. Scored with the floor as well, the second seed of `cpu-joint-mild` itself names Sc
# L₂,₃ on all four h-BN files too (its row): as recipes, the two are alike on these files, and the
# shipped run is the better of its two seeds.
#
# **Four runs averaged.** Is the h-BN answer the bad luck of single runs? The four 18,000-step runs
# of the last two recipes (`cpu-joint-mild` and `cpu-joint-splice`, two seeds each, none picked by
# its score) were averaged: the ensemble reports an edge where the mean of the four probabilities
# reaches the threshold. The rule, written before it was scored: only if it beat the shipped weights
# on the summed files would it be distilled into one network (four networks cost four times the
# inference time, and the benchmark of a 256 x 256 spectrum image, `benchmarks/bench_predict.py`,
# leaves room for one: {doc}`reproduce`). On synthetic spectra the ensemble is a little better than
# the shipped weights, as averaging usually is; on the summed files it is worse, because it names Sc
# L₂,₃ on three of the four h-BN files. The confusion is what the recipe learns, and the shipped run
# is the exception rather than the rule; the h-BN section of the occlusion analysis below shows that
# it comes from the edge library, not from the training.
#
# **More varied near-edge structures.** If the measured h-BN lies outside the library's shapes, a
# network that has met more shapes around each compound might place it better. `cpu-joint-elnes20`
# (chapter 07) trains the mild recipe with 20 randomly varied copies of every library variant
# instead of 4, two seeds, under the rule of the splice recipe (the two seeds' mean summed F1 must
# beat the shipped weights' 0.920, their mean pixel F1 reach 0.938), written before either was
# scored. Their summed F1 was 0.900 and 0.882, so the shipped weights stayed. The recipe did move
# what it aimed at: each seed named Sc L₂,₃ on two of the four h-BN files, where the two earlier
# recipes' other three runs named it on all four, and pixel by pixel both seeds are the best models
# recorded here (their rows: pixel F1 and exact accuracy well above the shipped weights'). On the
# summed files the errors moved elsewhere: C K beside B K on the h-BN files, and for the second
# seed a missed O K and an extra V L₂,₃ on a TiO₂ file. Since the rule compares a recipe's mean with
# the best run so far, a recipe has to be clearly better to replace it; this one is better in
# pixels and on synthetic spectra and no better on the summed files.

# %%
# Scored with this chapter's rule when they were trained (2026-11-25 and 2026-11-30); "synthetic":
# 4,000 spectra of seed 2026 (scripts/ship_model.py's rule) of the paper's physics (F1, exact) and
# of the measured-spectrum physics (exact), where measured. The shipped weights' own synthetic
# scores come from their metadata.
RECIPES_RECORDED = {
    "cpu-joint-elnes20 (recorded, with the contrast floor)": {
        "precision": 0.8818, "recall": 0.9394, "f1": 0.9004, "exact_accuracy": 0.8182, "recognition_accuracy": 0.9091,
        "survey Ca L2,3": 1.00, "EELS_SI O K": 0.99, "pixel F1": 0.9721, "pixel exact": 0.8768,
        "synthetic F1": 0.9891, "synthetic exact": 0.9497, "synthetic measured exact": 0.9097},
    "cpu-joint-elnes20, second seed (recorded, with the contrast floor)": {
        "precision": 0.8636, "recall": 0.9167, "f1": 0.8820, "exact_accuracy": 0.7727, "recognition_accuracy": 0.8636,
        "survey Ca L2,3": 0.99, "EELS_SI O K": 0.96, "pixel F1": 0.9619, "pixel exact": 0.8279,
        "synthetic F1": 0.9887, "synthetic exact": 0.9473, "synthetic measured exact": 0.9020},
    "ensemble of four runs: mean probability (recorded, with the contrast floor)": {
        "precision": 0.8864, "recall": 0.9394, "f1": 0.9078, "exact_accuracy": 0.7727, "recognition_accuracy": 0.9091,
        "survey Ca L2,3": 1.00, "EELS_SI O K": 0.98, "pixel F1": 0.9453, "pixel exact": 0.7373,
        "synthetic F1": 0.9881, "synthetic exact": 0.9447, "synthetic measured exact": 0.9025},
    "cpu-joint-mild, second seed (recorded, with the contrast floor)": {
        "precision": 0.8515, "recall": 0.9167, "f1": 0.8671, "exact_accuracy": 0.6818, "recognition_accuracy": 0.8636,
        "survey Ca L2,3": 1.00, "EELS_SI O K": 0.97, "pixel F1": 0.911, "pixel exact": 0.6196,
        "synthetic F1": 0.988, "synthetic exact": 0.946, "synthetic measured exact": 0.905},
    "cpu-joint-splice (recorded, with the contrast floor)": {
        "precision": 0.871, "recall": 0.939, "f1": 0.897, "exact_accuracy": 0.727, "recognition_accuracy": 0.909,
        "survey Ca L2,3": 1.00, "EELS_SI O K": 0.99, "pixel F1": 0.927, "pixel exact": 0.658,
        "synthetic F1": 0.985, "synthetic exact": 0.931, "synthetic measured exact": 0.883},
    "cpu-joint-splice, second seed (recorded, with the contrast floor)": {
        "precision": 0.852, "recall": 0.939, "f1": 0.882, "exact_accuracy": 0.727, "recognition_accuracy": 0.909,
        "survey Ca L2,3": 1.00, "EELS_SI O K": 0.97, "pixel F1": 0.942, "pixel exact": 0.736,
        "synthetic F1": 0.985, "synthetic exact": 0.928, "synthetic measured exact": 0.869},
    "phases 1 + 2, shipped 2026-11-25 to 11-30 (recorded)": {
        "precision": 0.897, "recall": 0.803, "f1": 0.746, "exact_accuracy": 0.591, "recognition_accuracy": 0.773,
        "survey Ca L2,3": 0.85, "EELS_SI O K": 0.37,
        "synthetic F1": 0.986, "synthetic exact": 0.936, "synthetic measured exact": 0.858},
    "cpu-joint-mild-extend (recorded)": {
        "precision": 0.902, "recall": 0.894, "f1": 0.841, "exact_accuracy": 0.682, "recognition_accuracy": 0.864,
        "survey Ca L2,3": 1.00, "EELS_SI O K": 0.97, "pixel F1": 0.891, "pixel exact": 0.598,
        "synthetic F1": 0.990, "synthetic exact": 0.951, "synthetic measured exact": 0.912},
    "cpu-joint-mild, second seed (recorded)": {
        "precision": 0.897, "recall": 0.871, "f1": 0.822, "exact_accuracy": 0.636, "recognition_accuracy": 0.818,
        "survey Ca L2,3": 1.00, "EELS_SI O K": 0.97, "pixel F1": 0.911, "pixel exact": 0.620,
        "synthetic F1": 0.988, "synthetic exact": 0.946, "synthetic measured exact": 0.905},
    "cpu-joint-exelfs (recorded)": {
        "precision": 0.908, "recall": 0.894, "f1": 0.842, "exact_accuracy": 0.727, "recognition_accuracy": 0.864,
        "survey Ca L2,3": 1.00, "EELS_SI O K": 0.99, "pixel F1": 0.931, "pixel exact": 0.708,
        "synthetic F1": 0.989, "synthetic exact": 0.948, "synthetic measured exact": 0.899},
    "cpu-joint-resolution (recorded)": {
        "precision": 0.867, "recall": 0.894, "f1": 0.816, "exact_accuracy": 0.636, "recognition_accuracy": 0.864,
        "survey Ca L2,3": 1.00, "EELS_SI O K": 0.99, "pixel F1": 0.902, "pixel exact": 0.540,
        "synthetic F1": 0.988, "synthetic exact": 0.944, "synthetic measured exact": 0.887},
    "first shipped model (recorded)": {"precision": 0.886, "recall": 0.849, "f1": 0.787, "exact_accuracy": 0.591,
                                       "recognition_accuracy": 0.818, "survey Ca L2,3": None, "EELS_SI O K": None},
    "intermediate recipe (recorded)": {"precision": 0.889, "recall": 0.833, "f1": 0.780, "exact_accuracy": 0.636,
                                       "recognition_accuracy": 0.818, "survey Ca L2,3": 0.10, "EELS_SI O K": 0.53},
    "trial: jump ratios x3 (recorded)": {"precision": 0.879, "recall": 0.803, "f1": 0.735, "exact_accuracy": 0.545,
                                         "recognition_accuracy": 0.773, "survey Ca L2,3": None, "EELS_SI O K": None},
    "phase-3 trial a (recorded)": {"precision": 0.917, "recall": 0.780, "f1": 0.746, "exact_accuracy": 0.545,
                                   "recognition_accuracy": 0.727, "survey Ca L2,3": 0.73, "EELS_SI O K": 0.05,
        "synthetic F1": 0.960, "synthetic exact": 0.819},
    "phase-3 trial b (recorded)": {"precision": 0.932, "recall": 0.765, "f1": 0.746, "exact_accuracy": 0.545,
                                   "recognition_accuracy": 0.682, "survey Ca L2,3": 0.68, "EELS_SI O K": 0.06,
        "synthetic F1": 0.961, "synthetic exact": 0.822},
    "phase-3 trial c (recorded)": {"precision": 0.917, "recall": 0.803, "f1": 0.761, "exact_accuracy": 0.591,
                                   "recognition_accuracy": 0.773, "survey Ca L2,3": 0.71, "EELS_SI O K": 0.17,
        "synthetic F1": 0.968, "synthetic exact": 0.850},
    "phase-3 trial d (recorded)": {"precision": 0.920, "recall": 0.765, "f1": 0.739, "exact_accuracy": 0.500,
                                   "recognition_accuracy": 0.682, "survey Ca L2,3": 0.65, "EELS_SI O K": 0.28,
        "synthetic F1": 0.962, "synthetic exact": 0.832},
}
def file_probability(name_part, edge):
    it = next(x for x in summed if name_part in x.record.name)
    return None if it.result is None else float(it.result.probabilities[LABELS.index(edge)])


shipped_synthetic = meta.get("metrics", {}).get("paper_physics_full_range", {})
current = {**ours.as_dict(), "survey Ca L2,3": file_probability("EELS_total_1eV", "Ca L2,3"),
           "EELS_SI O K": file_probability("EELS_SI", "O K"),
           "synthetic F1": shipped_synthetic.get("f1"), "synthetic exact": shipped_synthetic.get("exact_accuracy"),
           "synthetic measured exact": meta.get("metrics", {}).get("real_data_physics_full_range", {}).get("exact_accuracy"),
           "pixel F1": pixels.f1, "pixel exact": pixels.exact_accuracy}
columns = METRICS + ["pixel F1", "pixel exact", "survey Ca L2,3", "EELS_SI O K", "synthetic F1", "synthetic exact",
                     "synthetic measured exact"]
def fmt(value, column):
    if value is None:
        return "—"
    return f"{value:.3f}" if column.startswith(("synthetic", "pixel")) else f"{value:.2f}"


lines = ["| Model | " + " | ".join(c.replace("_", " ") for c in columns) + " |", "|---" * (len(columns) + 1) + "|"]
for name, vals in [("shipped weights (computed here)", current), *RECIPES_RECORDED.items()]:
    lines.append(f"| {name} | " + " | ".join(fmt(vals.get(c), c) for c in columns) + " |")
display(Markdown("\n".join(lines)))

# %% [markdown]
# ### What the network looks at: an occlusion scan
#
# Why Sc L₂,₃ on boron nitride? `occlusion_scan` (in `eels_core.real.predict`) replaces one 10 eV range
# after another by the power law through its two ends, so that whatever near-edge structure was
# there disappears, and records the 20 probabilities each time. Where a probability drops, the
# network relied on that range. Below, the h-BN file with the most confident Sc L₂,₃ answer: the
# spectrum with the occluded range's centre on the same axis as the probabilities of N K, Sc L₂,₃
# and the B K-side edges.

# %%
def plot_occlusion(spectrum, scan, title, colours, onset_of=None):
    """The spectrum over the scanned range (log counts) above the probabilities of some edges
    against the centre of the occluded range; ``onset_of``: an edge whose reference onset is marked."""
    fig, (ax_s, ax_p) = plt.subplots(2, 1, figsize=(9, 5.2), sharex=True, gridspec_kw={"height_ratios": [1, 1.3]})
    keep = (spectrum.energy_ev >= scan.centre_ev[0] - 10) & (spectrum.energy_ev <= scan.centre_ev[-1] + 10)
    ax_s.plot(spectrum.energy_ev[keep], spectrum.counts[keep], color="k", lw=0.8)
    ax_s.set_yscale("log")
    ax_s.set_ylabel("Counts")
    ax_s.set_title(title, fontsize=9)
    for edge, colour in colours.items():
        ax_p.plot(scan.centre_ev, scan.of(edge), color=colour,
                  label=f"{edge} (as measured: {scan.unoccluded[LABELS.index(edge)]:.2f})")
    if onset_of is not None:
        for ax in (ax_s, ax_p):
            ax.axvline(REF[onset_of], color=colours[onset_of], ls="--", lw=0.8)
    ax_p.axhline(threshold, color="0.5", ls=":", lw=1)
    ax_p.set_ylim(-0.02, 1.02)
    ax_p.set_xlabel("Centre of the occluded range (eV)")
    ax_p.set_ylabel("Probability")
    ax_p.legend(fontsize=8, loc="lower left")
    fig.tight_layout()
    plt.show()


def sc_probability(it):
    return -1.0 if it.result is None else float(it.result.probabilities[LABELS.index("Sc L2,3")])


# boron nitride: the files that expect both B K and N K (the ice file that expects N K alone is not one)
bn_items = [it for it in summed if "B K" in it.record.expected_edges and "N K" in it.record.expected_edges
            and it.result is not None]
if bn_items:
    worst = max(bn_items, key=sc_probability)
    spec_bn = worst.spectrum.summed()
    scan = occlusion_scan(spec_bn.energy_ev, spec_bn.counts, width_ev=10.0, step_ev=2.0,
                          span_ev=(max(spec_bn.energy_ev[0], 150.0), min(spec_bn.energy_ev[-1], 470.0)), model=model)
    plot_occlusion(spec_bn, scan, f"{worst.record.name}: probability with a 10 eV range occluded, against the "
                   "range's centre", {"N K": "C2", "Sc L2,3": "C3", "B K": "C0", "Cl L2,3": "C1"})
    drop = scan.centre_ev[np.argmin(scan.of("Sc L2,3"))]
    print(f"Sc L2,3: {scan.unoccluded[LABELS.index('Sc L2,3')]:.2f} as measured, lowest "
          f"({scan.of('Sc L2,3').min():.2f}) with {drop - 5:.0f}-{drop + 5:.0f} eV occluded; N K there: "
          f"{scan.of('N K')[np.argmin(scan.of('Sc L2,3'))]:.2f}")

# %% [markdown]
# The Sc L₂,₃ answer rests on the first ten eV or so above the N K onset, where these h-BN
# spectra show two peaks a few eV apart, about as high as each other: the pattern of Sc's L₃ and
# L₂ white lines, which sit on top of N K (402 against 401 eV). The library's h-BN N K variants
# have a σ* peak followed by a weaker, broader one there. Whether a model gives the Sc answer on
# a given h-BN file changes from one training run to the next (the recipe table above: two seeds
# of one recipe disagree on three of the four files), so these probabilities sit near the
# threshold. A sourced measurement of the h-BN N K σ* structure in the library is the physics
# the rest needs, and the validation files must not supply it.

# %% [markdown]
# Is the library's h-BN enough to provoke the same answer? Below, synthetic h-BN (B K and N K, the
# two h-BN variants of each, chapter 01) is rendered with the paper's forward model for a range of
# instrument resolutions and jump ratios, cut to the window of the file above, and labelled by the
# same network through the same `predict_edges` call as the measured files.

# %%
def synthetic_hbn_probabilities(window_ev, n_noise=4, seed=0):
    """Probabilities (n, 20) of the network for synthetic h-BN spectra cut to ``window_ev``, and the
    N K jump ratio (n,) of each: every combination of the library's h-BN variants of B K and N K,
    three Gaussian PSF widths and three N K jump ratios (B K's twice as large), ``n_noise`` noise
    draws each."""
    cfg = SynthesisConfig()
    lib = edge_library_for(cfg)
    hbn = {s: [i for i, v in enumerate(lib.element(s).variants) if v.name.startswith("h-BN")] for s in ("B", "N")}
    rng = np.random.default_rng(seed)
    combos = [(vb, vn, fwhm, jr, k) for vb in hbn["B"] for vn in hbn["N"] for fwhm in (0.6, 1.2, 2.0)
              for jr in (0.3, 1.0, 3.0) for k in range(n_noise)]
    params = [
        make_parameters(["B", "N"], variants=[vb, vn], jump_ratio=[2 * jr, jr], psf_fwhm_gauss_ev=fwhm,
                        background_exponent=float(rng.uniform(2.0, 4.0)), noise_seed=k,
                        shift_ev=float(rng.uniform(-3.0, 3.0)), config=cfg)
        for vb, vn, fwhm, jr, k in combos
    ]
    spectra = render_spectra(SpectrumParameters.concatenate(params), cfg)[0]
    energy = cfg.output_energy_axis()
    keep = (energy >= window_ev[0]) & (energy <= window_ev[1])
    result = predict_edges(energy[keep], spectra[:, keep], model=model, threshold=threshold, onsets=False)
    return result.probabilities, np.array([c[3] for c in combos])


if bn_items:
    p_syn, jr_syn = synthetic_hbn_probabilities((spec_bn.energy_ev[0], spec_bn.energy_ev[-1]))
    for edge in ("N K", "Sc L2,3"):
        k = LABELS.index(edge)
        measured = [float(it.result.probabilities[k]) for it in bn_items]
        print(f"{edge}: reported in {np.mean(p_syn[:, k] >= threshold):.0%} of {len(p_syn)} synthetic h-BN spectra "
              f"(mean probability {p_syn[:, k].mean():.2f}); in {sum(q >= threshold for q in measured)} of the "
              f"{len(measured)} measured h-BN files ({', '.join(f'{q:.2f}' for q in measured)})")
    n_k = LABELS.index("N K")
    print("synthetic N K found, by N K jump ratio:",
          ", ".join(f"{jr:g}: {np.mean(p_syn[jr_syn == jr, n_k] >= threshold):.0%}" for jr in np.unique(jr_syn)))

# %% [markdown]
# Compare the two rates of Sc L₂,₃. If the network (all but) never names Sc on the library's h-BN,
# at any of the three resolutions, the answer on the measured files is not a confusion that the
# training data contains and left unresolved: the measured h-BN N K differs from every h-BN shape
# the library gives the network. (Where synthetic N K itself is missed, look at the last line: the
# misses sit at the weak jump ratios, where the paper's noise, large at 400 eV on a steep
# background, hides the edge.) An ensemble of four trained networks (the recipe table above) named
# Sc on three of the four files, so more runs of the same physics do not remove it either.

# %% [markdown]
# The same scan for the strongest extra edge that any h-BN file shows between B K and N K. An
# answer that rests on an edge's onset drops when the few eV of that onset are occluded; one that
# drops when a range tens of eV above B K is occluded rests on the modulations of B K's own tail,
# the extended fine structure (EXELFS) of chapter 01, which the paper's smooth power-law tails
# leave out.

# %%
def strongest_bk_side_extra(items):
    """(item, edge, probability) of the most probable unexpected edge with its onset 200-380 eV."""
    best = (None, None, -1.0)
    for it in items:
        for edge in LABELS:
            if edge in it.record.expected_edges or not 200.0 <= REF[edge] <= 380.0:
                continue
            p = float(it.result.probabilities[LABELS.index(edge)])
            if p > best[2]:
                best = (it, edge, p)
    return best


extra_item, extra_edge, extra_p = strongest_bk_side_extra(bn_items) if bn_items else (None, None, -1.0)
if extra_item is None:
    print("no h-BN file was predicted")
else:
    spec_x = extra_item.spectrum.summed()
    scan_x = occlusion_scan(spec_x.energy_ev, spec_x.counts, width_ev=10.0, step_ev=2.0,
                            span_ev=(max(spec_x.energy_ev[0], 180.0), 380.0), model=model)
    plot_occlusion(spec_x, scan_x, f"{extra_item.record.name}: {extra_edge} with a 10 eV range occluded",
                   {extra_edge: "C3", "B K": "C0"}, onset_of=extra_edge)
    low = int(np.argmin(scan_x.of(extra_edge)))
    centre = scan_x.centre_ev[low]
    print(f"{extra_edge}: {extra_p:.2f} as measured ({'reported' if extra_p >= threshold else 'not reported'}); "
          f"lowest ({scan_x.of(extra_edge)[low]:.2f}) with {centre - 5:.0f}-{centre + 5:.0f} eV occluded, "
          f"{centre - REF['B K']:.0f} eV above the B K onset and {centre - REF[extra_edge]:+.0f} eV from the "
          f"{extra_edge} onset ({REF[extra_edge]:.0f} eV)")

# %% [markdown]
# Read the printed line against the edge's own onset (dashed). When the range that removes the
# answer lies tens of eV above the onset of the extra edge and far above B K, the network did not
# see that edge's onset: it read a dip and a rise in the long tail of a strong B K edge, where a
# thick crystal's B K oscillates (and where a trace of carbon contamination would start its C K
# edge, 284 eV), as the delayed maximum of another edge. Chapter 07's `cpu-joint-exelfs` trains
# with such oscillations on the tails of synthetic edges; it still gave such answers on two of
# the four h-BN files (the recipe table above), so this failure needs more than a weak
# single-shell modulation.

# %% [markdown]
# The estimated onsets give a second diagnosis that needs no labels: for every expected edge the
# network found, the distance between the estimated and the reference onset. A few eV either way is normal
# (chemical shifts, the definition of the onset, calibration); an estimate at the end of the
# ±15 eV search range means the axis or the naming is off by at least that much. An offset larger
# than the search range can go unnoticed, because the search then lands on a later feature of the
# same edge (exercise 3).

# %%
lines = ["| File | Edge | Estimated onset (eV) | Reference (eV) | Difference (eV) |", "|---|---|---|---|---|"]
for it in summed:
    if it.result is None:
        continue
    for row in it.result.edge_table(only_detected=True):
        if row["onset_ev"] is None or row["edge"] not in it.record.expected_edges:
            continue
        d = row["onset_ev"] - row["reference_onset_ev"]
        flag = " (end of search range)" if abs(d) >= 14.5 else ""
        lines.append(f"| `{short(it.record.name, 30)}` | {row['edge']} | {row['onset_ev']:.1f} | "
                     f"{row['reference_onset_ev']:.1f} | {d:+.1f}{flag} |")
display(Markdown("\n".join(lines) if len(lines) > 2 else "No expected edge was detected: no onsets to compare."))

# %% [markdown]
# ## The same from the command line
#
# `eels-edges predict FILE` prints the table of one file; `--json` prints a stable JSON object
# (schema `eels-edges.predict/1`, documented in `eels_core.real.cli` and the README); for a line
# scan or spectrum image it adds the share of pixels in which each edge is found, and `--maps OUT`
# writes per-edge maps (chapter 11). Bad input (a missing or truncated file, an axis without
# units, NaN counts, a window outside 90-1000 eV ...) gets one line on stderr and exit status 2.
# Run from the data folder so that the printed paths are short:

# %%
def eels_edges(*args):
    proc = subprocess.run([sys.executable, "-m", "eels_core.real.cli", "predict", *args],
                          capture_output=True, text=True, cwd=folder / "files")
    return proc.returncode, proc.stdout, proc.stderr


rc, out, err = eels_edges("hyperspy_exspy__coreloss_spectrum.msa", "--threshold", str(threshold))
print(out.split("\n", 3)[3])  # without the lines naming the file, its axis and the weights
rc, out, err = eels_edges("hyperspy_exspy__coreloss_spectrum.msa", "--json")
report = json.loads(out)
print("JSON keys:", ", ".join(report))
print("edges[0]:", json.dumps(report["edges"][0]))
rc, out, err = eels_edges("hyperspy_exspy__Cr_L_cl.hspy")
print(f"exit status {rc}; stderr: {err.strip()}")

# %% [markdown]
# ## Exercises
#
# 1. The threshold was fixed at 0.5 on synthetic spectra (chapter 08). Recompute the summed-file
#    metrics for thresholds 0.2, 0.3, ..., 0.8. Is 0.5 also a good choice on real spectra? Why is
#    choosing it on these 22 files a bad idea?
# 2. Score only the tier-A files. How much of the gap to the paper's numbers comes from files whose
#    labels or axes are doubtful?
# 3. `T3_A3_region2_HL_SI.dm3` has an uncalibrated axis, about 20 eV low. Plot its summed spectrum
#    beside that of region 1 of the same specimen, then shift its axis by +20 eV
#    (`Spectrum(spec.energy_ev + 20, spec.counts)`) and predict again. Compare the estimated B K and
#    N K onsets before and after. Why does the onset estimate not reveal this offset?

# %% [markdown]
# :::{admonition} Solution
# :class: dropdown
#
# ```python
# probs = np.array([it.result.probabilities if it.result is not None else np.zeros(20) for it in summed])
# allowed = np.array([[x in in_window(LABELS, it.record.energy_min_ev, it.record.energy_max_ev)
#                      for x in LABELS] for it in summed])
# for th in np.arange(0.2, 0.81, 0.1):
#     print(f"{th:.1f}", evaluate(Y_true, (probs >= th) & allowed).as_dict())
# ```
#
# A well-trained network puts most probabilities near 0 or 1, and the metrics then change little
# between 0.3 and 0.7. Choosing the threshold on the same 22 files that are used to report the
# score would tune the method on its test set: the reported number would be optimistic. A
# threshold must be chosen on separate data (chapter 08 uses synthetic validation spectra).
# :::

# %% [markdown]
# :::{admonition} Solution
# :class: dropdown
#
# ```python
# tier_a = [i for i, it in enumerate(summed) if it.record.quality_tier == "A"]
# print(len(tier_a), evaluate(Y_true[tier_a], Y_pred[tier_a]).as_dict())
# ```
#
# Compare with the all-file numbers above: the difference is the share of the error that comes
# from tier B and C files (a narrow, background-subtracted window, an uncalibrated axis, a
# distractor-rich uranium spectrum, uncertain labels).
# :::

# %% [markdown]
# :::{admonition} Solution
# :class: dropdown
#
# ```python
# from eels_core.real.io import Spectrum
# rec = next(r for r in records if r.name == "T3_A3_region2_HL_SI.dm3")
# spec = read_spectrum(rec.path).summed()
# for shift in (0.0, 20.0):
#     res = predict_edges(Spectrum(spec.energy_ev + shift, spec.counts), model=model, threshold=threshold)
#     print(shift, [(r["edge"], r["probability"], r["onset_ev"]) for r in res.edge_table()
#                   if r["edge"] in ("B K", "N K")])
# ```
#
# On the raw axis the π* peaks of B K and N K sit near 170 and 380 eV, about 20 eV below the
# reference onsets and beyond the ±15 eV shifts of the training data. The onset search looks only
# at 173-203 eV and 386-416 eV, where it finds the rise of the σ* part of each edge, a few eV from
# the reference values: the estimate is plausible and wrong. With the +20 eV correction it finds
# the π* rise instead. The lesson: the estimated onset checks small calibration errors, not large
# ones; a plot (or a reference edge such as the zero-loss peak) is still needed for those.
# :::
