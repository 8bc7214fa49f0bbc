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
#     render_markdown_format: myst  # tables and math in display(Markdown(...)) outputs
# ---

# %% [markdown]
# # 02 · Point spread function
#
# **Reproduces:** Methods, "Edge modeling" (the point-spread-function part: the Gaussian
# monochromaticity term, the Lorentzian detector term and their convolution) and Fig. 1c (the Mn
# L2,3 edge before and after the PSF), with the PSF ranges of Table 2.
#
# **Explains:** `eels_core.forward.psf` (and uses `eels_core.forward.edges` for the edge of Fig. 1c).
#
# **Prerequisites:** chapter 01 (what a library edge is: Gaussian peaks plus continuum steps);
# convolution, and the idea that convolving in energy space is multiplying in Fourier space;
# the Gaussian and Lorentzian line shapes.
#
# Where the paper gives a number (a range, a formula), ours is printed beside it, so the two can
# be compared at a glance.

# %% [markdown]
# A recorded spectrum is never the "true" one: every feature is smeared by the instrument. The
# paper models this smearing as a point spread function (PSF) that the unbroadened edge
# $I_u(E)$ is convolved with, $I_r(E) = I_u(E) \otimes \mathrm{PSF}$, and builds the PSF from two
# physical causes:
#
# * the **energy spread of the incoming beam** (its lack of monochromaticity), a Gaussian
#   $\mathrm{PSF}_\mathrm{amono}(E) \propto e^{-E^2/2\sigma^2}$ with
#   $\sigma = \mathrm{FWHM}_g / (2\sqrt{2\ln 2})$;
# * the **detector**: light spreading in the scintillator and the fibre-optic coupler gives a
#   Lorentzian $\mathrm{PSF}_\mathrm{detector}(E) \propto \mathrm{HWHM}_l / (E^2 + \mathrm{HWHM}_l^2)$,
#   with long, slowly decaying wings.
#
# Their convolution, normalised to unit area, is a **Voigt profile**. During synthesis every
# spectrum gets its own PSF, with $\mathrm{FWHM}_g$ drawn from 0.1-1.6 eV and $\mathrm{HWHM}_l$
# from 0.1-0.6 eV (Table 2).
#
# One detail of the text: a sentence of the paper calls $\mathrm{HWHM}_l$ "the full width at
# half maximum of the Lorentzian". The symbol (HWHM, also in Table 2) and the formula above both
# make it the *half* width, so `eels_core` reads it as the half width: the Lorentzian's full width
# is $2\,\mathrm{HWHM}_l$, i.e. 0.2-1.2 eV.

# %%
import matplotlib.pyplot as plt
import numpy as np
import scipy.fft
from IPython.display import Markdown, display
from scipy.special import voigt_profile

from eels_core.forward.config import SynthesisConfig
from eels_core.forward.edges import edge_template, extend_edge_tail, load_edge_library
from eels_core.forward.psf import (
    convolve_psf,
    gaussian_psf,
    gaussian_sigma,
    lorentzian_psf,
    measured_fwhm,
    psf_fwhm,
    psf_kernel,
    psf_transfer_function,
)
from eels_core.forward.synthesis import refined_peak

# %% tags=["parameters"]
# Every tunable value of this chapter. The defaults run in a few seconds on a CPU.
# Full values (parameters/full.yaml): n_random_psfs = 2000; everything else as here.
kernel_spacing_ev = 0.01  # grid spacing of the energy-space PSF kernels, eV
kernel_half_width_ev = 60.0  # the kernels span -60 ... +60 eV
n_random_psfs = 100  # random (FWHM_g, HWHM_l) pairs from Table 2 checked against scipy (full: 2000)
seed = 2  # seed of those random draws
edge_element = "Mn"  # the edge of Fig. 1c
edge_variant = 0  # index into that element's library variants (0: MnO)
edge_spacing_ev = 0.05  # grid spacing for the edge examples, eV
tail_exponent = 2.8  # inverse-power-law tail of the edge (middle of Table 2's 1.8-3.8)

# %% [markdown]
# The paper's ranges are the defaults of `eels_core.forward.config.SynthesisConfig`:

# %%
cfg = SynthesisConfig()
print(f"FWHM_g range: paper 0.1-1.6 eV, eels_core {cfg.psf_fwhm_gauss_ev[0]}-{cfg.psf_fwhm_gauss_ev[1]} eV")
print(f"HWHM_l range: paper 0.1-0.6 eV, eels_core {cfg.psf_hwhm_lorentz_ev[0]}-{cfg.psf_hwhm_lorentz_ev[1]} eV")
print(f"sigma = FWHM_g / 2 sqrt(2 ln 2): FWHM_g = 1 eV gives sigma = {float(gaussian_sigma(1.0)):.4f} eV")

# %% [markdown]
# ## The two factors and their convolution
#
# `gaussian_psf` and `lorentzian_psf` are the two factors, each with unit area.
# `psf_kernel` builds the PSF literally as the paper writes it: both factors sampled on a
# symmetric grid and convolved numerically. We look at three pairs: the sharpest PSF of Table 2,
# a middle one, and the broadest.

# %%
pairs = [(0.1, 0.1), (0.8, 0.3), (1.6, 0.6)]  # (FWHM_g, HWHM_l) in eV
kernels = {p: psf_kernel(kernel_spacing_ev, *p, half_width_ev=kernel_half_width_ev) for p in pairs}

fig, axes = plt.subplots(2, 3, figsize=(12, 6.5), sharex="row")
for j, (fg, hl) in enumerate(pairs):
    e, k = kernels[(fg, hl)]
    g = gaussian_psf(e, fg)
    lor = lorentzian_psf(e, hl)
    for i, ax in enumerate(axes[:, j]):
        ax.plot(e, g, color="tab:blue", lw=1.2, label="Gaussian (beam energy spread)")
        ax.plot(e, lor, color="tab:orange", lw=1.2, label="Lorentzian (detector)")
        ax.plot(e, k, color="k", lw=1.8, ls="--", label="Voigt = Gaussian $\\otimes$ Lorentzian")
        if i == 0:
            ax.set_xlim(-3, 3)
            ax.set_title(f"FWHM$_g$ = {fg} eV, HWHM$_l$ = {hl} eV")
        else:
            ax.set_yscale("log")
            ax.set_xlim(-20, 20)
            ax.set_ylim(1e-5, 2 * max(g.max(), lor.max()))
            ax.set_xlabel("energy relative to the line, E (eV)")
axes[0, 0].legend(fontsize=8, loc="upper left")
axes[0, 0].set_ylabel("PSF (1/eV), linear")
axes[1, 0].set_ylabel("PSF (1/eV), log scale")
fig.suptitle("The PSF's two factors and their convolution (paper: Methods, Edge modeling)")
fig.tight_layout()
plt.show()

# %% [markdown]
# On the linear scale (top) the Voigt looks like a slightly widened Gaussian. The log scale
# (bottom) tells a different story: a Gaussian has fallen by many orders of magnitude a few eV
# from its centre, while the Voigt inherits the Lorentzian's $1/E^2$ wings. Those wings are the
# part the paper warns is "often neglected" in the field; they move intensity from a sharp peak
# into its surroundings, several eV away. The fraction of the PSF's area lying more than 2 eV
# from the centre makes the point in numbers:

# %%
rows = ["| FWHM$_g$ (eV) | HWHM$_l$ (eV) | area beyond ±2 eV, Gaussian alone | area beyond ±2 eV, Voigt |",
        "|---:|---:|---:|---:|"]
for fg, hl in pairs:
    e, k = kernels[(fg, hl)]
    far = np.abs(e) > 2.0
    g = gaussian_psf(e, fg)
    rows.append(
        f"| {fg} | {hl} | {g[far].sum() * kernel_spacing_ev:.1e} | {k[far].sum() * kernel_spacing_ev:.3f} |"
    )
display(Markdown("\n".join(rows)))

# %% [markdown]
# ## Checking the kernel: scipy's Voigt, unit area and width
#
# Three properties are checked for each pair:
#
# * `psf_kernel` agrees with `scipy.special.voigt_profile` (an independent implementation of
#   the same convolution, through the Faddeeva function);
# * the kernel has unit area (the synthesis must not change an edge's total intensity);
# * its measured full width at half maximum equals `psf_fwhm`, the Olivero-Longbothum formula
#   $0.5346\,f_L + \sqrt{0.2166\,f_L^2 + f_G^2}$ with $f_G = \mathrm{FWHM}_g$ and
#   $f_L = 2\,\mathrm{HWHM}_l$.
#
# The half-maximum crossings are found by linear interpolation (`eels_core.forward.psf.measured_fwhm`).

# %%
def check(fg, hl):
    e, k = psf_kernel(kernel_spacing_ev, fg, hl, half_width_ev=kernel_half_width_ev)
    ref = voigt_profile(e, float(gaussian_sigma(fg)), hl)
    return {
        "max_rel_diff": np.abs(k - ref).max() / ref.max(),
        "area": k.sum() * kernel_spacing_ev,
        "fwhm_measured": measured_fwhm(e, k),
        "fwhm_formula": psf_fwhm(fg, hl),
    }


table_pairs = pairs + [(1.6, 0.1), (0.1, 0.6)]
rows = ["| FWHM$_g$ (eV) | HWHM$_l$ (eV) | max \\|kernel − scipy\\| / peak | area | measured FWHM (eV) | `psf_fwhm` (eV) |",
        "|---:|---:|---:|---:|---:|---:|"]
for fg, hl in table_pairs:
    c = check(fg, hl)
    rows.append(
        f"| {fg} | {hl} | {c['max_rel_diff']:.1e} | {c['area']:.6f} | {c['fwhm_measured']:.3f} | {c['fwhm_formula']:.3f} |"
    )
display(Markdown("\n".join(rows)))

# %% [markdown]
# The remaining difference from scipy, a few parts per thousand of the peak at most, comes
# from cutting the kernel at ±60 eV: the Lorentzian wings beyond that hold a fraction of about
# $2\,\mathrm{HWHM}_l / (\pi \cdot 60\ \mathrm{eV})$ of the area, which the renormalisation
# puts back into the centre. The same checks on random PSFs drawn from the full Table 2 ranges:

# %%
rng = np.random.default_rng(seed)
fg_draw = rng.uniform(*cfg.psf_fwhm_gauss_ev, size=n_random_psfs)
hl_draw = rng.uniform(*cfg.psf_hwhm_lorentz_ev, size=n_random_psfs)
checks = [check(a, b) for a, b in zip(fg_draw, hl_draw)]
worst_diff = max(c["max_rel_diff"] for c in checks)
worst_area = max(abs(c["area"] - 1) for c in checks)
worst_fwhm = max(abs(c["fwhm_measured"] / c["fwhm_formula"] - 1) for c in checks)
fwhms = np.array([c["fwhm_formula"] for c in checks])
print(f"{n_random_psfs} random PSFs from Table 2's ranges:")
print(f"  largest |kernel - scipy voigt_profile| / peak : {worst_diff:.1e}")
print(f"  largest |area - 1|                           : {'< 1e-12' if worst_area < 1e-12 else f'{worst_area:.1e}'}")
print(f"  largest |measured FWHM / psf_fwhm - 1|        : {worst_fwhm:.1e}")
print(f"  Voigt FWHM over the sample: {fwhms.min():.2f}-{fwhms.max():.2f} eV "
      f"(Table 2 extremes: {psf_fwhm(0.1, 0.1):.2f}-{psf_fwhm(1.6, 0.6):.2f} eV)")

# %% [markdown]
# So the total resolution of a synthetic spectrum ranges from about 0.24 eV (a monochromated
# beam on a sharp detector) to 2.3 eV (the broad energy spread of a thermionic source on a
# diffuse detector): the synthetic database covers instruments of quite different quality, as
# the paper intends.
#
# ## The transfer function: the PSF in Fourier space
#
# For the synthesis itself `eels_core` does not build the kernel. The Fourier transform of a
# Gaussian is a Gaussian, that of a Lorentzian is a decaying exponential, and the transform of a
# convolution is the product of the transforms, so the PSF's transfer function has a closed form:
#
# $$
# H(f) = \exp\!\left(-2\pi^2\sigma^2 f^2\right)\,\exp\!\left(-2\pi\,\mathrm{HWHM}_l\,|f|\right),
# \qquad f \text{ in cycles per eV}.
# $$
#
# `psf_transfer_function` evaluates it and `convolve_psf` multiplies a spectrum's FFT by it. This
# is exact (no truncated wings), $H(0) = 1$ guarantees unit area, and each spectrum of a batch
# can have its own PSF in one vectorised call. Below, $H$ is compared with the discrete Fourier
# transform of the energy-space kernel.

# %%
fig, ax = plt.subplots(figsize=(7.5, 4.2))
colors = ["tab:green", "tab:purple", "tab:red"]
for (fg, hl), col in zip(pairs, colors):
    e, k = kernels[(fg, hl)]
    n = e.size
    h = psf_transfer_function(n, kernel_spacing_ev, fg, hl)
    f = scipy.fft.rfftfreq(n, d=kernel_spacing_ev)
    h_numeric = np.abs(scipy.fft.rfft(np.fft.ifftshift(k))) * kernel_spacing_ev
    ax.plot(f, h, color=col, lw=2, label=f"closed form, FWHM$_g$ = {fg}, HWHM$_l$ = {hl} eV")
    ax.plot(f[::40], h_numeric[::40], "o", ms=3, color=col, mfc="none")
    ax.plot(f, np.exp(-2 * np.pi**2 * float(gaussian_sigma(fg)) ** 2 * f**2), color=col, lw=1, ls=":")
ax.plot([], [], "o", ms=3, color="gray", mfc="none", label="|FFT| of the energy-space kernel")
ax.plot([], [], ":", color="gray", label="Gaussian factor alone")
ax.set_yscale("log")
ax.set_ylim(1e-4, 1.5)
ax.set_xlim(0, 4)
ax.set_xlabel("frequency f (cycles per eV)")
ax.set_ylabel("transfer function H(f)")
ax.set_title("The PSF in Fourier space")
ax.legend(fontsize=8)
fig.tight_layout()
plt.show()

# %% [markdown]
# The dotted lines show what the Gaussian alone would pass: the Lorentzian factor damps every
# frequency further, already at low $f$ (its exponent is linear in $|f|$, not quadratic), which
# is why it matters even when $\mathrm{HWHM}_l$ is small next to $\mathrm{FWHM}_g$.
#
# Finally, the fast FFT route and the paper's energy-space route agree: convolving a one-channel
# impulse with `convolve_psf` returns the PSF itself, which we compare with scipy's Voigt.
# (The FFT treats the signal as periodic; `convolve_psf` appends zeros before transforming, by
# default at least 1024 channels, so that the Lorentzian wings leaving one end of the spectrum do
# not come back, visibly, at the other.)

# %%
n_imp, dx = 4096, 0.05
impulse = np.zeros(n_imp)
impulse[n_imp // 2] = 1 / dx  # unit area
e_imp = (np.arange(n_imp) - n_imp // 2) * dx
print("convolve_psf(impulse) vs scipy voigt_profile:")
for fg, hl in pairs:
    out = convolve_psf(impulse, dx, fg, hl)
    ref = voigt_profile(e_imp, float(gaussian_sigma(fg)), hl)
    print(f"  FWHM_g = {fg} eV, HWHM_l = {hl} eV: max |diff| / peak = {np.abs(out - ref).max() / ref.max():.1e}; "
          f"H(0) = {float(psf_transfer_function(n_imp, dx, fg, hl)[0]):.1f} (unit area)")

# %% [markdown]
# ## Fig. 1c: an edge before and after the PSF
#
# The paper's Fig. 1c shows an Mn L2,3 edge before and after the convolution. We take a
# variant of our library (chapter 01), extend it beyond its near-edge region with the
# inverse-power-law tail the synthesis uses (`extend_edge_tail`, exponent in the middle of the
# 1.8-3.8 range), and convolve it with the sharpest and the broadest PSF of Table 2. A third curve
# uses a *Gaussian-only* PSF with the same FWHM as the broadest Voigt, i.e. the model one gets by
# neglecting the detector's Lorentzian.

# %%
library = load_edge_library()
variant = library.element(edge_element).variants[edge_variant]
e_edge = np.arange(variant.edge_onset_ev - 60.0, variant.tail_start_ev + 120.0, edge_spacing_ev)
raw = extend_edge_tail(e_edge, edge_template(variant, e_edge), variant.tail_start_ev, tail_exponent)

narrow, wide = (0.1, 0.1), (1.6, 0.6)
fwhm_wide = psf_fwhm(*wide)
curves = {
    "unbroadened (library model)": raw,
    f"narrow PSF: FWHM$_g$ = {narrow[0]}, HWHM$_l$ = {narrow[1]} eV": convolve_psf(raw, edge_spacing_ev, *narrow),
    f"wide PSF: FWHM$_g$ = {wide[0]}, HWHM$_l$ = {wide[1]} eV": convolve_psf(raw, edge_spacing_ev, *wide),
    f"Gaussian only, FWHM = {fwhm_wide:.2f} eV (no Lorentzian)": convolve_psf(raw, edge_spacing_ev, fwhm_wide, 0.0),
}
styles = [dict(color="0.5", lw=2.5), dict(color="tab:blue", lw=1.5),
          dict(color="tab:red", lw=1.8), dict(color="tab:red", lw=1.2, ls="--")]

fig, axes = plt.subplots(1, 2, figsize=(12, 4.3))
for (name, y), st in zip(curves.items(), styles):
    axes[0].plot(e_edge, y, label=name, **st)
    axes[1].plot(e_edge, y, **st)
axes[0].set_xlim(variant.edge_onset_ev - 8, variant.tail_start_ev + 10)
axes[0].set_title(f"{variant.label}, {variant.name}: before and after the PSF (cf. Fig. 1c)")
axes[0].legend(fontsize=8)
axes[1].set_yscale("log")
axes[1].set_ylim(1e-4, 2 * raw.max())
axes[1].set_xlim(variant.edge_onset_ev - 25, variant.edge_onset_ev + 25)
axes[1].set_title("the same, log scale: the Lorentzian wings precede the onset")
for ax in axes:
    ax.axvline(variant.edge_onset_ev, color="k", lw=0.6, ls=":")
    ax.set_xlabel("energy loss (eV)")
    ax.set_ylabel("edge intensity (library units)")
fig.tight_layout()
plt.show()

# %%
print(f"{variant.label} ({variant.name}), onset {variant.edge_onset_ev} eV: highest point of the edge")
p_raw = refined_peak(raw[None, :])[0]
for name, y in curves.items():
    p = refined_peak(y[None, :])[0]
    print(f"  {name.replace('$_g$', '_g').replace('$_l$', '_l'):58s} {p:6.3f}  ({p / p_raw:6.1%} of unbroadened)")

# %% [markdown]
# Broadening keeps the area of the white lines but spreads them out, so the peak drops; with the
# broadest PSF the L3 line loses close to half its height and its multiplet structure merges
# into a single broad peak. The log-scale panel shows the Lorentzian wings reaching several eV *below* the
# onset: intensity appears where the unbroadened edge has none, something a Gaussian-only
# model (dashed) does not produce. Even at the same FWHM, the Voigt lowers the peak further
# than the Gaussian does, because its wings hold more of the area.
#
# ## Broadening lowers the peak, so the jump ratio is set afterwards
#
# How much the peak drops depends on both PSF widths and on how sharp the edge is. Over the
# Table 2 ranges, for the variant above:

# %%
fg_grid = np.linspace(*cfg.psf_fwhm_gauss_ev, 16)
fig, ax = plt.subplots(figsize=(7, 4))
for hl, col in zip([0.1, 0.35, 0.6], ["tab:blue", "tab:purple", "tab:red"]):
    conv = convolve_psf(np.tile(raw, (fg_grid.size, 1)), edge_spacing_ev, fg_grid, np.full(fg_grid.size, hl))
    ax.plot(fg_grid, refined_peak(conv) / p_raw, "o-", ms=3, color=col, label=f"HWHM$_l$ = {hl} eV")
ax.set_xlabel("Gaussian FWHM$_g$ (eV)")
ax.set_ylabel("peak after PSF / peak before")
ax.set_title(f"{variant.label} ({variant.name}): peak height vs PSF width")
ax.set_ylim(0, 1.05)
ax.grid(alpha=0.3)
ax.legend()
fig.tight_layout()
plt.show()

# %% [markdown]
# The three curves are far apart while each is fairly flat: for this sharp white line the
# detector's Lorentzian sets most of the loss, and the whole Gaussian range changes the peak less
# than going from the smallest to the largest $\mathrm{HWHM}_l$. Leaving the Lorentzian out of the
# model would therefore bias the synthetic spectra toward sharp peaks.
#
# The same ratio for every variant of every element, at the broadest PSF of Table 2
# (FWHM$_g$ = 1.6 eV, HWHM$_l$ = 0.6 eV): sharp white lines and $\pi^*$ peaks lose the most,
# smooth edges hardly anything.

# %%
rows = ["| edge | variants | peak kept, min over variants | peak kept, max over variants |",
        "|---|---:|---:|---:|"]
kept_all = []
for el in library.elements:
    kept = []
    for v in el.variants:
        e_v = np.arange(v.edge_onset_ev - 40.0, v.tail_start_ev + 100.0, edge_spacing_ev)
        y = extend_edge_tail(e_v, edge_template(v, e_v), v.tail_start_ev, tail_exponent)
        kept.append(refined_peak(convolve_psf(y, edge_spacing_ev, *wide)[None, :])[0] / refined_peak(y[None, :])[0])
    kept_all += kept
    rows.append(f"| {el.label} | {len(el.variants)} | {min(kept):.2f} | {max(kept):.2f} |")
display(Markdown("\n".join(rows)))
print(f"over all {len(kept_all)} variants, the broadest PSF keeps {min(kept_all):.2f}-{max(kept_all):.2f} of the peak")

# %% [markdown]
# The jump ratio (chapter 03) is defined from the *peak* of the recorded edge. If an edge were
# scaled to its drawn jump ratio first and broadened afterwards, its actual jump ratio would be
# lower by these factors (down to about 0.3 for the sharpest edges), and the labels of the
# database would be wrong in a way that depends on the random PSF. The synthesis therefore works
# in the order of the paper's Fig. 3: tail extension, then the PSF (`convolve_psf`, one PSF per
# spectrum), and only then the scaling to the drawn jump ratio, using the peak of the *convolved*
# edge (`eels_core.forward.synthesis.render_spectra`, step 3). Chapter 03 measures jump ratios on
# synthetic spectra and finds them equal to the drawn ones.

# %% [markdown]
# ## Beyond the paper: coarser resolution, and two edges that meet
#
# Table 2 stops at $\mathrm{FWHM}_g$ = 1.6 eV. That covers cold and Schottky field-emission guns
# and LaB$_6$ cathodes, but not every spectrum users bring: the energy spread of a thermionic
# tungsten filament is 1-3 eV (JEOL glossary, "energy spread, energy width"; about 3 eV for W,
# 1.5 eV for LaB$_6$, 0.7 eV for a Schottky FEG and 0.3 eV for a cold FEG at 100 kV per
# globalsino.com/EM/page4960.html), and a spectrum image summed over pixels adds the drift of the
# energy axis during the scan. Broad resolution changes which edges look alike. Below, the h-BN
# N K edge (π* at 401 eV, σ* near 408 eV) and the Sc L₂,₃ edge of Sc₂O₃ (L₃ and L₂ white lines
# 402-409 eV) under a Schottky-like and a tungsten-like PSF, each scaled to its own peak.

# %%
hbn = library.element("N").variants[0]
sc = library.element("Sc").variants[0]
e_pair = np.arange(380.0, 470.0, edge_spacing_ev)
fig, axes = plt.subplots(1, 2, figsize=(10, 3.4), sharey=True)
for ax, fwhm_g in zip(axes, [0.8, 3.0]):
    for v, colour in [(hbn, "C0"), (sc, "C3")]:
        y = extend_edge_tail(e_pair, edge_template(v, e_pair), v.tail_start_ev, tail_exponent)
        y = convolve_psf(y, edge_spacing_ev, fwhm_g, 0.3)
        ax.plot(e_pair, y / y.max(), color=colour, label=f"{v.label}: {v.name}")
    ax.set_title(f"FWHM$_g$ = {fwhm_g} eV, HWHM$_l$ = 0.3 eV")
    ax.set_xlabel("energy loss (eV)")
    ax.set_xlim(392, 440)
axes[0].set_ylabel("edge / its peak")
axes[0].legend(fontsize=8)
fig.tight_layout()
plt.show()

# %% [markdown]
# At 0.8 eV the Sc white lines are two sharp doublets and the h-BN π* a single sharp peak; at
# 3 eV both edges are two rounded humps on the same 10 eV of the axis. With the ±15 eV
# calibration shifts of the training (chapter 04) their positions do not separate them; the
# relative height of the two humps and what follows the second do (the N K σ* structure goes on
# for 30 eV, the Sc edge drops to its continuum). In measured h-BN the π* is often as strong as
# the σ* (it depends on the orientation of the layers), which moves N K toward the Sc shape: this
# is the Sc L₂,₃ answer that the shipped model gives on thick h-BN (chapter 10). The
# `cpu-joint-resolution` preset of chapter 07 draws $\mathrm{FWHM}_g$ up to 3 eV on its
# measured-spectrum batches
# (`SynthesisConfig.with_real_data_physics(psf_fwhm_gauss_ev=(0.1, 3.0))`).

# %% [markdown]
# ## Exercises
#
# 1. **Voigt widths add in a simple way.** Convolving with two PSFs in turn is convolving with
#    one PSF. Using `psf_transfer_function`, show that a PSF $(\mathrm{FWHM}_{g1}, \mathrm{HWHM}_{l1})$
#    followed by $(\mathrm{FWHM}_{g2}, \mathrm{HWHM}_{l2})$ equals a single PSF, and find its
#    parameters.
# 2. **What if the detector were ignored?** For the broadest PSF of Table 2, how much of the PSF's
#    area lies more than 5 eV from the centre, and how much would a Gaussian of the same FWHM put
#    there?

# %% [markdown]
# :::{admonition} Solution
# :class: dropdown
#
# The transfer function is $\exp(-2\pi^2\sigma^2 f^2 - 2\pi\,\mathrm{HWHM}_l |f|)$; a product of
# two such functions has the same form with $\sigma^2 = \sigma_1^2 + \sigma_2^2$ and
# $\mathrm{HWHM}_l = \mathrm{HWHM}_{l1} + \mathrm{HWHM}_{l2}$: Gaussian FWHMs add in quadrature,
# Lorentzian widths add linearly.
#
# ```python
# import numpy as np
# from eels_core.forward.psf import psf_transfer_function
#
# h1 = psf_transfer_function(4096, 0.05, 0.8, 0.2)
# h2 = psf_transfer_function(4096, 0.05, 0.6, 0.3)
# h = psf_transfer_function(4096, 0.05, np.hypot(0.8, 0.6), 0.2 + 0.3)
# print(np.abs(h1 * h2 - h).max())  # ~1e-16
# ```
# :::

# %% [markdown]
# :::{admonition} Solution
# :class: dropdown
#
# ```python
# import numpy as np
# from eels_core.forward.psf import gaussian_psf, psf_fwhm, psf_kernel
#
# e, k = psf_kernel(0.01, 1.6, 0.6, half_width_ev=200.0)
# far = np.abs(e) > 5.0
# print(k[far].sum() * 0.01)                                   # about 0.076
# print(gaussian_psf(e, psf_fwhm(1.6, 0.6))[far].sum() * 0.01)  # about 5e-7
# ```
#
# About 8 % of the Voigt's area lies beyond ±5 eV, and essentially none of a Gaussian's. A
# model without the Lorentzian misplaces that intensity: it stays in the white lines instead of
# raising the region around them, including below the onset.
# :::
