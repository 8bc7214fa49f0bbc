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
# # 11 · Spectrum images
#
# **Reproduces:** the use the paper's Introduction and Conclusion argue for, beyond its
# experiments: with fast detectors, EELS produces line scans and spectrum images of thousands of
# spectra, and edge recognition has to be automatic to keep up. We label every pixel of the
# measured line scans of our validation set and of a spectrum image assembled from two of them,
# and turn the 20 probabilities into per-element profiles and maps.
#
# **Explains:** `eels_core.real.predict` (`predict_edges` on 2-D and 3-D data: `EdgePrediction`
# with `probabilities`, `detected`, `onset_ev`, `valid` per pixel; HyperSpy signals in and out:
# `EdgePrediction.to_signals`, `add_detected_elements`) and `eels_core.real.cli`
# (`eels-edges predict FILE --maps OUT`, `write_maps`).
#
# **Prerequisites:** chapter 10 (reading files, `predict_edges`, the in-window rule, the scoring
# of the real spectra). Every number about the network is computed from the shipped weights; the
# prose never quotes one.

# %% tags=["parameters"]
threshold = 0.5  # probability at or above which an edge is reported
scan_name = "T3_C3_region1_SI_HL_cal.dm3"  # the measured line scan shown in detail (Ca-Fe oxide)
matrix_name = "T3_A3_region1_HL_SI.dm3"  # BN line scan: the matrix of the assembled image
particle_name = "T3_C3_region2_SI_HL_cal.dm3"  # Ca-Fe oxide line scan: the particle
image_size = 24  # pixels per side of the assembled spectrum image (full: 64)
particle_radius = 0.3  # radius of the particle, in units of the image width
interface_width = 0.06  # width of the particle's edge (same units)
batch_size = 128  # spectra per forward pass (memory, not results)
fit_pixels = 4  # pixels of the line scan fitted with an exspy model (full: 100)

# %%
import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import torch
from IPython.display import Image, Markdown, display

from eels_core.real.io import read_spectrum
from eels_core.real.predict import predict_edges
from eels_core.forward.edges import edge_labels, reference_onsets_ev
from eels_core.learning.preprocessing import ONSET_MARGIN_HIGH_EV, ONSET_MARGIN_LOW_EV, interp_rows
from eels_core.real.real_spectra import find_real_spectra_dir, load_real_spectra_index
from eels_core.learning.checkpoint import DEFAULT_WEIGHTS, load_model

torch.set_num_threads(1)  # deterministic and polite on a shared CPU
plt.rcParams.update({"figure.dpi": 100, "axes.grid": True, "grid.alpha": 0.3})

LABELS = edge_labels()
REF = dict(zip(LABELS, reference_onsets_ev()))
model = load_model()
meta = json.loads(DEFAULT_WEIGHTS.with_suffix(".json").read_text())
print(f"weights: {DEFAULT_WEIGHTS.name}, training step {meta.get('step')}")

folder = find_real_spectra_dir()
records = {r.name: r for r in load_real_spectra_index(folder)}

# %% [markdown]
# ## A measured line scan
#
# `T3_C3_region1` is one of the ESTEEM round-robin specimens (a Ca-Fe oxide, JEOL 3000F at
# 300 kV): 100 spectra of 1024 channels, 312-824 eV, which holds Ca L₂,₃ (346 eV), O K (532 eV) and
# Fe L₂,₃ (708 eV). `read_spectrum` keeps it as a 2-D array, pixels first. The image below shows
# every spectrum as a row (logarithm of the counts), with the summed spectrum under it.

# %%
scan_rec = records[scan_name]
scan = read_spectrum(scan_rec.path)
e = scan.energy_ev
print(f"{scan_name}: counts {scan.counts.shape}, {e[0]:.1f}-{e[-1]:.1f} eV; expected: {', '.join(scan_rec.expected_edges)}")
total = scan.counts.sum(axis=1)
print(f"counts per pixel vary by {100 * total.std() / total.mean():.1f} % (standard deviation / mean)")

fig, (ax0, ax1) = plt.subplots(2, 1, figsize=(9, 6), sharex=True, gridspec_kw={"height_ratios": [2, 1]})
ax0.imshow(np.log10(np.clip(scan.counts, 1, None)), aspect="auto", cmap="magma",
           extent=(e[0], e[-1], scan.n_spectra - 0.5, -0.5), interpolation="nearest")
ax0.set_ylabel("pixel along the scan")
ax0.grid(False)
ax1.semilogy(e, scan.summed().counts, color="k", lw=0.8)
for name in scan_rec.expected_edges:
    for ax in (ax0, ax1):
        ax.axvline(REF[name], color="c", ls=":", lw=1)
    ax1.text(REF[name], 0.95, f" {name}", transform=ax1.get_xaxis_transform(), va="top", fontsize=8)
ax1.set_xlabel("Energy loss (eV)")
ax1.set_ylabel("summed counts")
ax0.set_title(f"{scan_name}: log10(counts) of every pixel", fontsize=10)
plt.show()

# %% [markdown]
# The round-robin specimens were made to be uniform, and the counts per pixel barely change along
# the scan, so no element should come and go here: this scan tests whether the answer is *stable*
# from pixel to pixel. A scan with contrast follows below.
#
# ## Every pixel labelled
#
# `predict_edges(spectrum)` on a 2-D (or 3-D) spectrum returns arrays with the navigation axes in
# front: `probabilities` and `detected` of shape `(100, 20)`, `onset_ev` the same, and `valid`
# `(100,)` (False for a pixel without positive counts, which gets probability 0). The probability
# of every edge inside the window, along the scan:

# %%
res = predict_edges(scan, model=model, threshold=threshold, batch_size=batch_size)
print("probabilities", res.probabilities.shape, "| valid pixels", int(res.valid.sum()), "of", res.valid.size)
inside = [k for k in np.argsort(reference_onsets_ev()) if res.in_window[k]]
expected = [LABELS.index(x) for x in scan_rec.expected_edges]

fig, ax = plt.subplots(figsize=(9, 3.6))
x = np.arange(scan.n_spectra)
for k in inside:
    if k in expected:
        ax.plot(x, res.probabilities[:, k], lw=1.6, label=LABELS[k])
    else:
        ax.plot(x, res.probabilities[:, k], lw=0.7, color="0.6")
ax.plot([], [], lw=0.7, color="0.6", label="other edges in the window")
ax.axhline(threshold, color="k", ls="--", lw=0.8)
ax.set_ylim(-0.03, 1.03)
ax.set_xlabel("pixel along the scan")
ax.set_ylabel("probability")
ax.legend(fontsize=8, ncol=4, loc="center right")
ax.set_title(f"{scan_name}: edge probabilities per pixel (dashed: threshold)", fontsize=10)
plt.show()

lines = ["| Edge | Expected | Pixels detected | Mean probability | Min–max probability |", "|---|---|---|---|---|"]
for k in inside:
    p = res.probabilities[:, k]
    lines.append(f"| {LABELS[k]} | {'yes' if k in expected else ''} | {int(res.detected[:, k].sum())} of {p.size} | "
                 f"{p.mean():.3f} | {p.min():.3f}–{p.max():.3f} |")
display(Markdown("\n".join(lines)))

# %% [markdown]
# A classical elemental profile for comparison: the counts in the 30 eV above each expected edge,
# after subtracting a power law fitted to the 25 eV below it, pixel by pixel (the "two-window" or
# background-subtracted map of every EELS package). It measures *how much* of an element there is;
# the network says *whether* its edge is there. The estimated onset (chapter 10) is computed per
# pixel too.

# %%
def edge_signal(energy, counts, onset, pre=25.0, post=30.0):
    """Counts in [onset, onset + post] above a power law fitted to [onset - pre - 5, onset - 5], per spectrum."""
    c = counts.reshape(-1, counts.shape[-1])
    fit = (energy >= onset - pre - 5) & (energy < onset - 5)
    win = (energy >= onset) & (energy <= onset + post)
    lx = np.log(energy[fit])
    ly = np.log(np.clip(c[:, fit], 1e-9, None))
    slope = ((lx - lx.mean()) * (ly - ly.mean(axis=1, keepdims=True))).sum(axis=1) / ((lx - lx.mean()) ** 2).sum()
    intercept = ly.mean(axis=1) - slope * lx.mean()
    background = np.exp(intercept[:, None] + slope[:, None] * np.log(energy[win])[None, :])
    return (c[:, win] - background).sum(axis=1).reshape(counts.shape[:-1])


fig, axes = plt.subplots(1, 3, figsize=(11, 3.2))
for ax, k in zip(axes, expected):
    sig = edge_signal(e, scan.counts, REF[LABELS[k]])
    ax.plot(x, sig / sig.mean(), color="C1", lw=1, label="edge signal / mean")
    ax.plot(x, res.probabilities[:, k], color="C0", lw=1.4, label="probability")
    ax.set_title(f"{LABELS[k]}: onset {np.nanmedian(res.onset_ev[:, k]):.1f} eV (median)", fontsize=9)
    ax.set_xlabel("pixel")
    ax.set_ylim(-0.05, max(1.3, float(np.max(sig / sig.mean())) * 1.05))
axes[0].legend(fontsize=8)
fig.tight_layout()
plt.show()
for k in expected:
    o = res.onset_ev[:, k]
    print(f"{LABELS[k]:8s} estimated onset per pixel: median {np.nanmedian(o):.1f} eV, "
          f"spread (5-95 %) {np.nanpercentile(o, 5):.1f}-{np.nanpercentile(o, 95):.1f} eV, reference {REF[LABELS[k]]:.1f} eV")

# %% [markdown]
# ## All measured line scans and stacks
#
# The same for every multi-spectrum file of the validation set: the share of pixels in which each
# edge is detected. Expected edges (inside the window) are in bold; a good answer has bold edges
# near 100 % and nothing else.

# %%
def allowed(rec):
    return [x for x in LABELS if rec.energy_min_ev + ONSET_MARGIN_LOW_EV <= REF[x] <= rec.energy_max_ev - ONSET_MARGIN_HIGH_EV]


lines = ["| File | Pixels | Edges detected (share of pixels) |", "|---|---|---|"]
for rec in records.values():
    if rec.n_spectra < 2:
        continue
    spec = read_spectrum(rec.path)
    r = predict_edges(spec, model=model, threshold=threshold, batch_size=batch_size, onsets=False)
    share = r.detected.reshape(-1, len(LABELS)).mean(axis=0)
    cells = []
    for name in sorted(allowed(rec), key=REF.get):
        k = LABELS.index(name)
        if name in rec.expected_edges or share[k] > 0:
            cell = f"{name} {100 * share[k]:.0f} %"
            cells.append(f"**{cell}**" if name in rec.expected_edges else cell)
    lines.append(f"| `{rec.name}` | {rec.n_spectra} | {', '.join(cells)} |")
display(Markdown("\n".join(lines)))

# %% [markdown]
# ## A spectrum image with contrast
#
# None of the line scans or spectrum images of the validation set has edges that change across
# it, so we assemble a spectrum image from two measured line scans: a Ca-Fe oxide "particle" (`T3_C3_region2`) in a BN
# "matrix" (`T3_A3_region1`). Both are resampled onto a 0.5 eV axis over their common range
# (about 307-641 eV, printed below: it holds N K, Ca L₂,₃ and O K, while B K and Fe L₂,₃ fall
# outside it), scaled to the same mean counts, and mixed pixel by pixel with a particle fraction that falls smoothly from 1
# inside a disc to 0 outside, as a beam straddling an interface would see it. Pixel `(i, j)` takes
# its two spectra from the pixels of the two scans in turn, so each pixel carries the real noise of
# one measured spectrum of each material.

# %%
matrix, particle = read_spectrum(records[matrix_name].path), read_spectrum(records[particle_name].path)
lo, hi = max(matrix.energy_ev[0], particle.energy_ev[0]), min(matrix.energy_ev[-1], particle.energy_ev[-1])
axis = np.arange(np.ceil(lo * 2) / 2, hi, 0.5)
m_rows = interp_rows(axis, matrix.energy_ev, matrix.counts)
p_rows = interp_rows(axis, particle.energy_ev, particle.counts)
p_rows *= m_rows.mean() / p_rows.mean()

n = image_size
yy, xx = np.mgrid[0:n, 0:n] / (n - 1)
radius = np.hypot(xx - 0.5, yy - 0.5)
fraction = 1 / (1 + np.exp((radius - particle_radius) / interface_width))  # particle share per pixel
index = np.arange(n * n).reshape(n, n)
image = ((1 - fraction)[..., None] * m_rows[index % len(m_rows)]
         + fraction[..., None] * p_rows[index % len(p_rows)])
print(f"assembled spectrum image: {image.shape}, {axis[0]:.1f}-{axis[-1]:.1f} eV")

res_img = predict_edges(axis, image, model=model, threshold=threshold, batch_size=batch_size)
show = [LABELS.index(x) for x in ("N K", "Ca L2,3", "O K")]
fig, axes = plt.subplots(1, 4, figsize=(13, 3.3))
im = axes[0].imshow(fraction, vmin=0, vmax=1, cmap="cividis")
axes[0].set_title("particle fraction (truth)", fontsize=9)
for ax, k in zip(axes[1:], show):
    im = ax.imshow(res_img.probabilities[..., k], vmin=0, vmax=1, cmap="viridis")
    ax.contour(fraction, levels=[0.5], colors="w", linewidths=0.8)
    ax.set_title(f"{LABELS[k]} probability", fontsize=9)
for ax in axes:
    ax.set_xticks([])
    ax.set_yticks([])
    ax.grid(False)
fig.colorbar(im, ax=axes, shrink=0.8, label="probability")
plt.show()

# %% [markdown]
# The white circle marks where the particle makes up half of the spectrum. Where the two
# materials mix, each edge fades; the network's probability against the particle fraction shows
# how much of an element's edge it needs before it reports it:

# %%
fig, ax = plt.subplots(figsize=(7, 3.6))
for k, sign in zip(show, (-1, 1, 1)):
    truth = fraction if sign > 0 else 1 - fraction  # N K belongs to the matrix
    ax.scatter(truth.ravel(), res_img.probabilities[..., k].ravel(), s=6, alpha=0.5, label=LABELS[k])
ax.axhline(threshold, color="k", ls="--", lw=0.8)
ax.set_xlabel("share of the spectrum from the material that has the edge")
ax.set_ylabel("probability")
ax.legend(fontsize=8)
plt.show()
for k, sign in zip(show, (-1, 1, 1)):
    truth = (fraction if sign > 0 else 1 - fraction).ravel()
    det = res_img.detected[..., k].ravel()
    share = truth[det]
    msg = f"lowest share at which it is detected: {share.min():.2f}" if det.any() else "never detected"
    print(f"{LABELS[k]:8s} detected in {int(det.sum())} of {det.size} pixels; {msg}")

# %% [markdown]
# ## The command line: `eels-edges predict FILE --maps OUT`
#
# The same maps come out of the `eels-edges` command. For a line scan or spectrum image it prints
# the table of the summed spectrum and the share of pixels per edge, and `--maps OUT` writes, for
# every edge inside the window, the probability (`*_probability.npy`), the detection
# (`*_presence.npy`) and the estimated onset (`*_onset_ev.npy`) with the navigation shape of the
# file, a PNG (a map, or a profile for a line scan), an `overview.png`, the full stack
# `probabilities.npy` and a manifest `maps.json`. A progress bar (on stderr) follows the pixels;
# `--quiet` turns it off. We save the assembled image as a HyperSpy file (rosettasciio's writer)
# and run the command on it and on the measured line scan:

# %%
def eels_edges(*args, cwd):
    proc = subprocess.run([sys.executable, "-m", "eels_core.real.cli", "predict", *args, "--quiet"],
                          capture_output=True, text=True, cwd=cwd)
    if proc.returncode:
        raise RuntimeError(proc.stderr)
    return proc.stdout


def write_hspy(path, energy, data):
    from rsciio.hspy import file_writer

    axes = [{"size": s, "index_in_array": i, "name": name, "scale": 1.0, "offset": 0.0, "units": "px", "navigate": True}
            for i, (s, name) in enumerate(zip(data.shape[:-1], "yx"))]
    axes.append({"size": energy.size, "index_in_array": data.ndim - 1, "name": "Energy loss",
                 "scale": float(energy[1] - energy[0]), "offset": float(energy[0]), "units": "eV", "navigate": False})
    file_writer(str(path), {
        "data": data.astype(np.float32), "axes": axes, "original_metadata": {}, "tmp_parameters": {},
        "metadata": {"General": {"title": path.stem}, "Signal": {"signal_type": "EELS"}},
        "attributes": {"_lazy": False}, "package_info": {"name": "eels_core", "version": ""},
        "learning_results": {}, "models": {},
    })


work = Path(tempfile.mkdtemp(prefix="eels-maps-"))
write_hspy(work / "particle_in_bn.hspy", axis, image)
out = eels_edges("particle_in_bn.hspy", "--maps", "maps_image", cwd=work)
print("\n".join(out.splitlines()[3:]))  # without the lines naming the file, its axis and the weights
written = sorted(p.name for p in (work / "maps_image").iterdir())
print(f"\n{len(written)} files in maps_image/, e.g.:", ", ".join(f for f in written if f.startswith("O_K")))
print("O_K_probability.npy:", np.load(work / "maps_image" / "O_K_probability.npy").shape)
display(Image(filename=str(work / "maps_image" / "overview.png"), width=820))

# %%
out = eels_edges(str(scan_rec.path), "--maps", "maps_scan", "--json", cwd=work)
report = json.loads(out)
print("pixels:", json.dumps(report["pixels"]["edges"][:3], indent=None))
print("files:", len(report["maps"]["files"]), "| maps.json lists them:",
      json.loads((work / "maps_scan" / "maps.json").read_text())["files"] == report["maps"]["files"])
display(Image(filename=str(work / "maps_scan" / "O_K.png"), width=560))
shutil.rmtree(work)  # the images are embedded in the notebook now

# %% [markdown]
# ## From named edges to a quantitative model (HyperSpy and exspy)
#
# The network answers *which* edges a spectrum holds; quantifying them, with a background model,
# ionisation cross-sections and a least-squares fit, is what exspy (the EELS part of HyperSpy)
# does. The two meet in a HyperSpy signal: `predict_edges` takes one as it is (a lazy one is read
# chunk by chunk), `EdgePrediction.to_signals()` returns the probability of each edge as a
# HyperSpy signal whose axes are the navigation axes of the input (name, offset, scale, units),
# and `add_detected_elements(signal, result)` writes the elements of the detected edges into
# `signal.metadata.Sample.elements`, where exspy's `create_model` looks for them. We load the
# measured line scan with HyperSpy and hand it over:

# %%
import logging
import warnings

import hyperspy.api as hs

from eels_core.real.predict import add_detected_elements

logging.getLogger("hyperspy").setLevel(logging.ERROR)  # optional accelerators (numba, numexpr) not installed
with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # deprecation notices of the plugin loader
    s = hs.load(scan_rec.path, signal_type="EELS")
res_hs = predict_edges(s, model=model, threshold=threshold, batch_size=batch_size)
profiles = res_hs.to_signals()  # edge name -> Signal1D along the scan
o_k = profiles["O K"]
ax_nav, ax_map = s.axes_manager.navigation_axes[0], o_k.axes_manager.signal_axes[0]
print(type(s).__name__, s.data.shape, "->", o_k.metadata.General.title, o_k.data.shape)
print(f"scan axis of the signal: offset {ax_nav.offset}, scale {ax_nav.scale:.3f}; "
      f"of the O K profile: offset {ax_map.offset}, scale {ax_map.scale:.3f}")
print("same probabilities as from the file:", bool(np.allclose(res_hs.probabilities, res.probabilities, atol=1e-5)))
print("elements detected in more than half of the pixels:", res_hs.detected_elements(min_fraction=0.5))

# %% [markdown]
# exspy builds one ionisation edge per element and shell inside the energy range, on a power-law
# background. Its default cross-sections (the Dirac-Hartree-Slater GOS of exspy's data set) are
# downloaded on first use; offline, the hydrogenic GOS that ships with exspy is used instead,
# without near-edge fine structure, so the fit below shows how the hand-over works, not a final
# quantification. The model also needs the microscope: 300 kV for this specimen, and convergence
# and collection semi-angles, which the file does not record (the values below are placeholders
# that change the cross-sections, and so the absolute numbers). We fit the first pixels:

# %%
part = s.inav[:fit_pixels]
elements = add_detected_elements(part, res_hs, min_fraction=0.5)
print("metadata.Sample.elements:", list(part.metadata.Sample.elements))
part.set_microscope_parameters(beam_energy=300.0, convergence_angle=10.0, collection_angle=20.0)
with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    eels_model = part.create_model(auto_background=True, GOS="hydrogenic")
    eels_model.multifit(kind="smart", show_progressbar=False)  # exspy's edge-by-edge fit for EELS models
edges_fitted = [c for c in eels_model if hasattr(c, "intensity") and c.name != "PowerLaw"]
print("model components:", ", ".join(c.name for c in eels_model))
lines = ["| Edge | " + " | ".join(f"pixel {i}" for i in range(fit_pixels)) + " |",
         "|---|" + "---|" * fit_pixels]
for c in edges_fitted:
    values = np.atleast_1d(c.intensity.map["values"])
    lines.append(f"| {c.name} | " + " | ".join(f"{v:.4g}" for v in values) + " |")
display(Markdown("Fitted edge intensities (exspy's units: the scale of the cross-section; placeholder "
                 "angles):\n\n" + "\n".join(lines)))

# %% tags=["hide-input"]
eels_model.axes_manager.indices = (0,)
energy_axis = part.axes_manager.signal_axes[0]
channel = energy_axis.scale if energy_axis.is_binned else 1.0  # a binned (counts) axis: per channel
curve = channel * sum(c.function(energy_axis.axis) for c in eels_model if c.active)
residual = np.abs(part.data[0] - curve).mean() / part.data[0].mean()
print(f"pixel 0: mean absolute residual {100 * residual:.1f} % of the mean counts")
fig, ax = plt.subplots(figsize=(9, 3.6))
ax.plot(energy_axis.axis, part.data[0], color="k", lw=0.8, label="pixel 0")
ax.plot(energy_axis.axis, curve, color="C3", lw=1.2, label="exspy model")
for name in ("Ca L2,3", "O K", "Fe L2,3"):
    ax.axvline(REF[name], color="c", ls=":", lw=1)
ax.set_yscale("log")
ax.set_xlabel("Energy loss (eV)")
ax.set_ylabel("counts")
ax.legend(fontsize=8)
ax.set_title("first pixel of the line scan and the model built from the detected elements", fontsize=10)
plt.show()

# %% [markdown]
# Where the measured white lines of Ca L₂,₃ and Fe L₂,₃ stand above the smooth hydrogenic edges,
# the model cannot follow them; exspy's `enable_fine_structure()` adds a flexible near-edge
# component for that, and a low-loss spectrum (`create_model(low_loss=...)`) takes plural
# scattering into account. What the network contributed is the list of elements: the model was
# built without naming any of them by hand.

# %% [markdown]
# ## Exercises
#
# 1. Bin the measured line scan by 4 (sum groups of 4 neighbouring pixels) and label it again.
#    How do the per-pixel probabilities of the expected edges change, and why?
# 2. Make the particle of the assembled image smaller than the width of its interface
#    (`particle_radius = 0.05`). At the centre the particle share then stays well below 1. Which
#    edges are still reported there?
# 3. Label every pixel of `HLmulti_02_cal.dm3` (200 spectra of hexagonal BN) and plot the
#    estimated B K onset against the pixel. Is the energy axis stable over the stack?

# %% [markdown]
# :::{admonition} Solution
# :class: dropdown
#
# ```python
# binned = scan.counts[: scan.n_spectra // 4 * 4].reshape(-1, 4, scan.n_channels).sum(axis=1)
# rb = predict_edges(e, binned, model=model, threshold=threshold)
# for k in expected:
#     print(LABELS[k], res.probabilities[:, k].mean().round(3), rb.probabilities[:, k].mean().round(3),
#           res.probabilities[:, k].std().round(3), rb.probabilities[:, k].std().round(3))
# ```
#
# Summing four spectra halves the relative shot noise. The network's input is scale-free (the
# spectrum is divided by its median before the logarithm), so binning changes only the noise: the
# probabilities should move towards those of the summed spectrum of chapter 10 and vary less from
# pixel to pixel. Compare the printed means and standard deviations.
# :::

# %% [markdown]
# :::{admonition} Solution
# :class: dropdown
#
# ```python
# small = 1 / (1 + np.exp((radius - 0.05) / interface_width))
# img = (1 - small)[..., None] * m_rows[index % len(m_rows)] + small[..., None] * p_rows[index % len(p_rows)]
# rs = predict_edges(axis, img, model=model, threshold=threshold)
# c = n // 2
# print("particle share at the centre:", small[c, c].round(2))
# print("reported at the centre:", rs.detected_edges((c, c)))
# ```
#
# A particle smaller than the interface width never dominates any pixel: the matrix contributes
# most of every spectrum, and whether Ca L₂,₃ and O K are still reported at the centre depends on
# how small a share of an edge the network needs, which the scatter plot above measured.
# :::

# %% [markdown]
# :::{admonition} Solution
# :class: dropdown
#
# ```python
# bn = read_spectrum(records["HLmulti_02_cal.dm3"].path)
# rb = predict_edges(bn, model=model, threshold=threshold)
# k = LABELS.index("B K")
# plt.plot(rb.onset_ev[:, k]); plt.xlabel("spectrum"); plt.ylabel("estimated B K onset (eV)"); plt.show()
# print(np.percentile(rb.onset_ev[:, k], [5, 50, 95]))
# ```
#
# The onset is estimated on a channel grid (0.5 eV here) after a 1 eV smoothing, so a stable axis
# gives the same value, or values one channel apart, for all 200 spectra; a drifting spectrometer
# would show as a trend.
# :::
