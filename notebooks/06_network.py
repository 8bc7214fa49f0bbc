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
# # 06 · The CNN-BiLSTM network
#
# **Reproduces:** Methods, "Network construction" of Kong, Ji & Xin (2022) and the architecture of
# their Fig. 5: convolutional layers with kernel 11 and batch normalisation, ReLU / LeakyReLU(0.01)
# activations, a bidirectional LSTM with 100 hidden units, dense layers with 20 % dropout and 20
# sigmoid outputs on a 90-1000 eV spectrum sampled every 0.2 eV.
#
# **Explains:** `eels_core.learning.network` (`NetworkConfig`, `CNNBiLSTM`, `count_parameters`, `summary`)
# and `eels_core.learning.preprocessing` (`preprocess_batch`, `preprocess_spectrum`, `sample_windows`,
# `edges_in_window`).
#
# **Prerequisites:** chapter 04 (what a synthetic spectrum and its labels are) and chapter 05 (the
# database the network can be trained from). Some PyTorch: what a `nn.Module`, a 1-D convolution
# and an LSTM are. Chapter 07 trains the network; this chapter builds it and asks which of its
# parts matter.
#
# Wherever the paper states a number, ours is printed beside it.

# %% [markdown]
# ## Parameters
#
# The ablation at the end trains three variants of the network. With the CI values below it takes
# about a minute on two CPU cores and shows only the first steps of training (a smoke test); the
# full values (`parameters/full.yaml`, for a GPU) train each variant long enough to compare.

# %% tags=["parameters"]
seed = 0  # spectrum shown in the input figures (stream seed; documented: 0)
ablation_steps = 120  # optimiser steps per ablation variant (full: 3000)
ablation_batch_size = 32  # spectra per step in the ablation (full: 64)
ablation_validate_every = 30  # steps between validations (full: 250)
ablation_n_validation = 256  # validation spectra (full: 2048)
throughput_batches = 3  # batches timed for the throughput estimate (full: 20)

# %%
import re
import time
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import torch
import yaml
from IPython.display import Markdown, display

import eels_core.learning.network as network_module
from eels_core import plotting
from eels_core.forward.config import ELEMENTS
from eels_core.learning.network import (
    CNNBiLSTM,
    NetworkConfig,
    count_parameters,
    fused_for_inference,
    inference_autocast,
    native_bfloat16,
    summary,
)
from eels_core.learning.preprocessing import (CONTRAST_FLOOR, GRID_STEP_EV, HIGHPASS_HALF_WIDTH_EV, MIN_WINDOW_EV, N_CHANNELS,
                                              N_INPUTS, preprocess_batch, preprocess_spectrum)
from eels_core.forward.axis import network_energy_axis
from eels_core.forward.synthesis import synthesize
from eels_core.learning.presets import preset
from eels_core.learning.training import TrainingConfig, train

torch.set_num_threads(1)  # reproducible floats (and a fair share of a shared machine)
torch.manual_seed(0)
plt.rcParams.update({"figure.dpi": 100, "axes.grid": True, "grid.alpha": 0.3})
energy = network_energy_axis()
print(f"input grid: {energy[0]:g}-{energy[-1]:g} eV in {GRID_STEP_EV:g} eV steps = {N_CHANNELS} channels; "
      f"running mean half-width h = {HIGHPASS_HALF_WIDTH_EV:g} eV; CONTRAST_FLOOR = {CONTRAST_FLOOR:g}")

# %% [markdown]
# ## What the network sees: four input channels
#
# The paper feeds the raw spectrum, one vector of intensities on the 0.2 eV grid, to the first
# convolution. We feed four channels of the same length instead, all made by one function so that
# training (synthetic batches, `preprocess_batch`) and prediction (measured spectra,
# `preprocess_spectrum`) cannot drift apart. With $I(E)$ the intensity, $W$ the measured window
# and $\langle\cdot\rangle_W$ a mean over it:
#
# 0. **log-intensity** $x_0(E) = \log\bigl(I(E)/\operatorname{median}_W I\bigr) - \bigl\langle
#    \log(I/\operatorname{median}_W I)\bigr\rangle_W$ inside $W$, 0 outside. The logarithm turns the
#    power-law background $A E^{-r}$ into a gentle slope $-r \log E$ and an edge into a step whose
#    height depends on the jump ratio, not on the dose; dividing by the median makes the input
#    independent of the intensity scale (counts, $J_n$ units or any detector gain). A spectrum whose
#    $x_0$ varies very little (root-mean-square below `CONTRAST_FLOOR`: a narrow window on a large
#    constant pedestal) is stretched up to that floor; chapter 08 shows why.
# 1. **high-passed log-intensity** $x_1(E) = x_0(E) - \langle x_0 \rangle_{[E-h,\,E+h]}$, a running
#    mean of half-width $h$ removed. The steep background is gone and the edges stand out as sharp
#    features.
# 2. **coverage mask** $x_2(E) = 1$ inside $W$, 0 elsewhere. Real spectra rarely span the whole
#    grid; the mask tells the network which zeros are "no data" rather than "flat signal".
# 3. **energy coordinate** $x_3(E)$, the energy mapped linearly to $[-1, 1]$. Convolutions are
#    translation-invariant; this channel tells them *where* on the axis a feature sits (an O K edge
#    and a Cr L₂,₃ edge look alike, a few tens of eV apart).
#
# Below: one synthetic spectrum over the full range (left) and the same spectrum as if only part of
# it had been measured (right).

# %%
batch = synthesize(64, seed=seed)
n_edges = batch.labels.sum(axis=1)
k = int(np.flatnonzero(n_edges >= 4)[0])  # first spectrum of the stream with at least four edges
present = np.flatnonzero(batch.labels[k])
present = present[np.argsort(batch.edge_onset_ev[k, present])]
onsets = batch.edge_onset_ev[k, present]
window = (380.0, 760.0)
x_full = preprocess_batch(batch.spectra[k : k + 1])[0]
x_crop = preprocess_batch(batch.spectra[k : k + 1], np.array([window]))[0]
inside = (energy >= window[0]) & (energy <= window[1])
print(f"spectrum #{k}: edges " + ", ".join(f"{ELEMENTS[j]} ({o:.0f} eV)" for j, o in zip(present, onsets)))
print(f"input shape: {x_full.shape} (channels, energy); window of the right-hand column: {window[0]:g}-{window[1]:g} eV")

# %% tags=["hide-input"]
titles = ["0: log(I / median), centred", f"1: high-passed (±{HIGHPASS_HALF_WIDTH_EV:g} eV running mean removed)",
          "2: coverage mask", "3: energy coordinate"]
fig, axes = plt.subplots(5, 2, figsize=(10, 10.5), sharex=True,
                         gridspec_kw={"height_ratios": [1.3, 1, 1, 0.6, 0.6]})
for col, (x, label) in enumerate([(x_full, "full range 90-1000 eV"), (x_crop, f"window {window[0]:g}-{window[1]:g} eV")]):
    ax = axes[0, col]
    if col == 0:
        ax.semilogy(energy, batch.spectra[k], color="0.2", lw=0.7)
    else:
        ax.semilogy(energy, batch.spectra[k], color="0.75", lw=0.7, label="not measured")
        ax.semilogy(energy[inside], batch.spectra[k, inside], color="0.2", lw=0.7, label="measured window")
        ax.legend(fontsize=8, loc="upper right")
    ax.set_title(f"Spectrum, {label}", fontsize=10)
    for c in range(N_INPUTS):
        ax = axes[c + 1, col]
        ax.plot(energy, x[c], color=f"C{c}", lw=0.7)
        ax.set_title(titles[c], fontsize=9, loc="left")
    for ax in axes[:3, col]:
        for o in onsets:
            ax.axvline(o, color="C3", lw=0.6, ls=":")
axes[0, 0].set_ylabel("Intensity (J$_n$)")
for ax in axes[-1]:
    ax.set_xlabel("Energy loss (eV)")
for c in range(N_INPUTS):
    lo = min(axes[c + 1, 0].get_ylim()[0], axes[c + 1, 1].get_ylim()[0])
    hi = max(axes[c + 1, 0].get_ylim()[1], axes[c + 1, 1].get_ylim()[1])
    for ax in axes[c + 1]:
        ax.set_ylim((-0.1, 1.1) if c == 2 else (lo, hi))
for j, o in zip(present, onsets):
    axes[0, 0].text(o + 4, 0.96, ELEMENTS[j], transform=axes[0, 0].get_xaxis_transform(), fontsize=8,
                    color="C3", ha="left", va="top")
fig.tight_layout()
plt.show()

# %% [markdown]
# In the full-range column the dotted lines are the labelled onsets: each one is a step in channel
# 0 and a sharp feature in channel 1. In the window, channel 0 is re-normalised on the measured part
# only (its median and mean come from the window), and everything outside the window is exactly
# zero in channels 0-2.
#
# The same function handles a measured spectrum on its own axis. If we cut the synthetic spectrum to
# the window, pretend it came from a detector with arbitrary gain, and call `preprocess_spectrum`,
# the network input is the same as above:

# %%
x_measured = preprocess_spectrum(energy[inside], 5000.0 * batch.spectra[k, inside])[0]
print("max |difference| to the windowed synthetic input:", f"{np.abs(x_measured - x_crop).max():.1e}")
print(f"narrowest window accepted: {MIN_WINDOW_EV:g} eV")
try:
    preprocess_spectrum(np.linspace(950, 1100, 751), np.ones(751))
except ValueError as exc:
    print("ValueError:", exc)

# %% [markdown]
# ## The architecture as a table
#
# `eels_core.learning.network.summary(model)` runs one dummy spectrum through the model with a forward hook
# on every layer and returns one row per layer: its name, what it is, the shape of its output
# (without the batch dimension) and its trainable parameters. The pooling step, which has no
# parameters and is not a module, gets a row of its own.

# %%
model = CNNBiLSTM()  # NetworkConfig() defaults
rows = summary(model)
lines = ["| # | Module | Layer | Output shape | Parameters |", "|---|---|---|---|---|"]
for i, r in enumerate(rows):
    shape = " × ".join(str(s) for s in r["output_shape"])
    lines.append(f"| {i} | `{r['name']}` | {r['layer']} | {shape} | {r['parameters']:,} |")
lines.append(f"| | | **total** | | **{sum(r['parameters'] for r in rows):,}** |")
display(Markdown("\n".join(lines)))
assert sum(r["parameters"] for r in rows) == count_parameters(model)

# %%
cfg = model.config
n_conv = len(cfg.conv_channels)
step_ev = GRID_STEP_EV * 2**n_conv
receptive = 1 + (cfg.kernel_size - 1) * sum(2**i for i in range(n_conv))  # stride 2 in every conv
by_part = {part: sum(r["parameters"] for r in rows if r["name"].startswith(part)) for part in ("features", "lstm", "head")}
print(f"trainable parameters: {count_parameters(model):,}")
print("  by part: " + ", ".join(f"{p} {v:,} ({100 * v / count_parameters(model):.0f} %)" for p, v in by_part.items()))

# %% [markdown]
# With $n$ stride-2 convolutions of kernel $k$ on a grid of step $\Delta E$, one step of the
# sequence the LSTM reads covers $2^n \Delta E$, and its receptive field is
#
# $$R = 1 + (k - 1)\sum_{i=0}^{n-1} 2^i = 1 + (k-1)(2^n - 1) \ \text{channels}.$$

# %%
first = next(r for r in rows if r["layer"].startswith("Conv1d"))
display(Markdown(
    f"Three numbers to keep in mind:\n\n"
    f"* The convolutions are cheap in parameters but expensive in arithmetic: the first layer produces "
    f"{' × '.join(str(v) for v in first['output_shape'])} values per spectrum from only {first['parameters']:,} weights. "
    f"Most of the parameters sit in the BiLSTM (four gates × two directions) and in the head.\n"
    f"* The LSTM reads a sequence of {cfg.sequence_length} steps, not {N_CHANNELS}: $n$ = {n_conv}, one step every "
    f"{step_ev:.1f} eV.\n"
    f"* Each of those steps sees $R$ = {receptive} channels = {receptive * GRID_STEP_EV:.0f} eV of the spectrum, so a "
    f"step next to an edge onset sees the pre-edge background and the first tens of eV of the edge together. "
    f"That is what the edge shape lives in."))

# %% [markdown]
# And the paper's own numbers beside ours. Fig. 5b of the paper draws the layers but the text gives
# no channel counts, number of convolutions or dense-layer widths; those rows are ours alone.

# %%
paper_rows = [
    ("Input", "1 × 4551 (90-1000 eV, 0.2 eV)", f"{cfg.n_inputs} × {N_CHANNELS} (same grid)"),
    ("Convolution kernel", "11", f"{cfg.kernel_size}"),
    ("Convolutional layers", "not stated (Fig. 5b)", f"{n_conv}, stride 2, channels {', '.join(map(str, cfg.conv_channels))}"),
    ("Batch normalisation", "after each convolution", "after each convolution"),
    ("Activations", "ReLU and LeakyReLU(0.01)", "ReLU / LeakyReLU(0.01), alternating"),
    ("LSTM", "bidirectional, 100 hidden units", f"{'bidirectional' if cfg.use_lstm else 'none'}, {cfg.lstm_hidden} hidden units"),
    ("Sequence read by the LSTM", "not stated", f"{cfg.sequence_length} steps of {step_ev:.1f} eV"),
    ("LSTM output used", "not stated (Fig. 5b unrolled)", "max and mean over all steps"),
    ("Dense layers", "not stated", f"{cfg.dense_units} units, then {cfg.n_outputs}"),
    ("Dropout", "20 % after each dense layer", f"{100 * cfg.dropout:g} % after the hidden dense layer"),
    ("Outputs", "20 sigmoid units (Table 1)", f"{cfg.n_outputs} logits; sigmoid in `predict_proba`"),
    ("Parameters", "not stated", f"{count_parameters(model):,}"),
    ("Framework", "MATLAB", f"PyTorch {torch.__version__.split('+')[0]}"),
]
display(Markdown("\n".join(["| | Paper | Ours |", "|---|---|---|"] + [f"| {a} | {b} | {c} |" for a, b, c in paper_rows])))

# %% [markdown]
# ## Fig. 5b, redrawn
#
# The schematic below is drawn from the `summary` rows, so it follows the configuration. Box
# heights grow with the logarithm of the sequence length; the numbers are channels × length.

# %% tags=["hide-input"]
fig, ax = plt.subplots(figsize=(13, 4.2))
plotting.architecture(rows, ax)
ax.set_title(f"CNN-BiLSTM as built by CNNBiLSTM(NetworkConfig()): {count_parameters(model):,} parameters",
             fontsize=10)
plt.show()

# %% [markdown]
# ## Where and why we deviate from the paper
#
# The module docstring of `eels_core.learning.network` lists the deviations; it is printed here so the list
# in the book is the one in the code.

# %%
doc = network_module.__doc__
bullets = doc[doc.index("* **") :].strip()
bullets = re.sub(r":\w+:`~?([^`]+)`", r"`\1`", bullets).replace("``", "`")
bullets = re.sub(r"\n  +", " ", bullets)  # unwrap the continuation lines of each bullet
display(Markdown(bullets))

# %% [markdown]
# Why each of them, in more words:
#
# * **Shorter sequence before the LSTM.** An LSTM is sequential: step $t$ needs step $t-1$, so its
#   cost grows with the length and cannot be parallelised along it. Over every channel of the grid
#   it trains so slowly on two CPU cores that a run of the paper's size would take weeks. The
#   stride-2 convolutions cut the length by $2^n$ while the number of channels grows (the layer
#   table above), so little information is thrown away; the ablation below halves the cut.
# * **Pooling over all LSTM outputs.** With only the final hidden states, the forward direction's
#   last state is dominated by the high-energy end of the spectrum and the backward direction's by
#   the low-energy end, and an early prototype learned the edges near the two ends first. Max-pooling
#   asks "did an edge of this kind occur anywhere?", which is the question the labels answer; the
#   mean adds a smooth summary.
# * **Four input channels.** The paper trains and validates on spectra that all span 90-1000 eV and
#   share one normalisation. A measured spectrum usually covers a few hundred eV and has an
#   arbitrary intensity scale, so a network used on real data needs a scale-free input and to know
#   which channels were measured. The high-passed and energy channels are cheap hints that speed up
#   learning; the first convolution could learn both, given time.
# * **Logits out, sigmoid outside.** Mathematically the same network; `BCEWithLogitsLoss` avoids
#   the log of a sigmoid that has rounded to 0 or 1.
#
# One smaller difference is not in the docstring: the paper puts 20 % dropout "after each dense
# layer"; we drop out after the hidden dense layer only, since dropping a unit of the *output*
# layer would simply delete that edge's prediction for the step.

# %% [markdown]
# ## Ablation: does the BiLSTM matter? A smoke test, and the command that answers it
#
# The paper's argument for the BiLSTM is that "a pure CNN structure is insensitive to the
# positional/sequential information" and that the position of an edge relative to the others
# matters. Three variants, with identical data, seeds and settings, test it:
#
# * **CNN-BiLSTM**: the default network;
# * **CNN only**: `use_lstm=False`, the convolutional features max- and mean-pooled directly (the
#   energy channel still tells the convolutions where they are);
# * **less downsampling**: one convolution fewer, so the LSTM reads a sequence twice as long of
#   steps half as wide.
#
# Whether the BiLSTM earns its parameters shows only when each variant trains to convergence,
# which no CI build can afford, and this book holds no full-size result of it. With the CI values
# below each variant sees a few thousand spectra: a **smoke test** that all three build, train and
# validate, whose ranking answers nothing. The full-size comparison is made by
#
# ```bash
# python scripts/execute_notebooks.py --parameters full --only 06_network
# ```
#
# with the values of `parameters/full.yaml` (printed below). All three use full-range spectra and
# the learning rate of the `cpu-ci` preset of chapter 07.

# %%
variants = {
    "CNN-BiLSTM (default)": NetworkConfig(),
    "CNN only (no LSTM)": NetworkConfig(use_lstm=False),
    "less downsampling": NetworkConfig(conv_channels=(8, 16, 32, 64, 64)),
}
results = {}
for name, net in variants.items():
    cfg_train = TrainingConfig(
        steps=ablation_steps, batch_size=ablation_batch_size, learning_rate=preset("cpu-ci").learning_rate,
        validate_every=ablation_validate_every, n_validation=ablation_n_validation,
        full_window_fraction=1.0, checkpoint_every=0, network=net,
    )
    results[name] = train(cfg_train, progress=False)
base_rate = next(iter(results.values())).base_rate_loss

lines = ["| Variant | LSTM steps | Parameters | Val. loss | vs base rate | F1 |", "|---|---|---|---|---|---|"]
for name, r in results.items():
    h = r.history[-1]
    steps_lstm = f"{r.model.config.sequence_length} of {GRID_STEP_EV * 2 ** len(r.model.config.conv_channels):.1f} eV" \
        if r.model.config.use_lstm else "—"
    lines.append(f"| {name} | {steps_lstm} | {count_parameters(r.model):,} | {h['loss']:.3f} | {h['loss'] - base_rate:+.3f} | "
                 f"{h['f1']:.3f} |")
display(Markdown("\n".join(lines)))
full_abl = (yaml.safe_load(Path("../parameters/full.yaml").read_text()) or {}).get("06_network", {})
print(f"smoke test: {ablation_steps} steps x {ablation_batch_size} spectra = {ablation_steps * ablation_batch_size:,} spectra "
      f"per variant, base-rate loss {base_rate:.3f}; full size: {full_abl.get('ablation_steps', '?')} steps x "
      f"{full_abl.get('ablation_batch_size', '?')} spectra")

# %% tags=["hide-input"]
fig, ax = plt.subplots(figsize=(7, 4))
for i, (name, r) in enumerate(results.items()):
    ax.plot([h["step"] for h in r.history], [h["loss"] for h in r.history], "o-", color=f"C{i}", label=name)
ax.axhline(base_rate, color="k", ls="--", lw=1, label="base rate (constant prediction)")
ax.set_xlabel("Optimiser step")
ax.set_ylabel("Validation loss (masked BCE)")
ax.set_title(f"Smoke test of the ablation: {ablation_steps} steps × {ablation_batch_size} spectra", fontsize=10)
ax.legend(fontsize=8)
plt.show()

# %% [markdown]
# At this size the networks are only starting to leave the base rate, and the F1 at a 0.5
# threshold is near zero because few probabilities have crossed 0.5. What a full-size run would
# have to weigh: the energy channel gives the convolutions the position the paper's argument is
# about, and max-pooling asks "is there an edge of this kind anywhere?" without recurrence; the
# recurrent layer holds a large share of the parameters and sits between the features and the
# classifier, so it must learn before the convolutions get useful gradients through it; and each
# LSTM step already covers a stretch several edges wide. The default keeps the BiLSTM because
# this book reproduces the paper's architecture.
#
# ## Throughput
#
# How fast is the default network here? Inference runs the way `predict_edges` and
# `predict_logits` run it: on `fused_for_inference(model)`, an eval-mode copy in which every batch
# norm is folded into the convolution before it (the same logits, one pass less over the data per
# layer), optionally in bfloat16 (`inference_autocast("bfloat16")`, fast only on CPUs with native
# bfloat16 instructions). The notebook measures with one thread and a few batches;
# `benchmarks/bench_network.py` measures properly, and the {doc}`reproduce` page shows its figures
# with what they aim for.

# %% tags=["nbval-ignore-output"]
def throughput(model, batch_size, n_batches, training, precision="float32"):
    x = torch.from_numpy(preprocess_batch(synthesize(batch_size, seed=1).spectra))
    y = torch.zeros(batch_size, cfg.n_outputs)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    model.train(training)

    def once():
        if training:
            loss = torch.nn.functional.binary_cross_entropy_with_logits(model(x), y)
            opt.zero_grad()
            loss.backward()
            opt.step()
        else:
            with torch.inference_mode(), inference_autocast(precision):
                model(x)

    once()  # warm-up
    t0 = time.perf_counter()
    for _ in range(n_batches):
        once()
    return batch_size * n_batches / (time.perf_counter() - t0)


bench_model = CNNBiLSTM()
print(f"threads: {torch.get_num_threads()}")
rate_train = throughput(bench_model, 64, throughput_batches, True)
fused_model = fused_for_inference(bench_model)
rate_infer = throughput(fused_model, 256, throughput_batches, False)
print(f"training  (batch 64):  {rate_train:6.0f} spectra/s")
print(f"inference (batch 256): {rate_infer:6.0f} spectra/s float32")
if native_bfloat16():  # elsewhere bfloat16 would be emulated (slow), so predict_edges runs float32
    print(f"                       {throughput(fused_model, 256, throughput_batches, False, 'bfloat16'):6.0f} spectra/s bfloat16")
else:
    print("bfloat16: not native on this CPU, not measured")

# %% [markdown]
# ## Takeaways

# %%
display(Markdown(
    f"* The network reads {N_INPUTS} channels per energy (log-intensity, its high-passed copy, the coverage mask and "
    "the energy), made by one function for training and prediction, so measured spectra of any window and scale "
    "reach it as synthetic ones do.\n"
    f"* {n_conv} stride-2 convolutions turn {N_CHANNELS} channels into {cfg.sequence_length} steps of "
    f"{step_ev:.1f} eV, each seeing {receptive * GRID_STEP_EV:.0f} eV; the BiLSTM reads those steps and the head "
    f"pools them: {count_parameters(model):,} parameters in all.\n"
    "* Whether the BiLSTM is needed is a full-size question; the ablation here is a smoke test."))

# %% [markdown]
# ## Exercises
#
# 1. Change the kernel size to 7 (`NetworkConfig(kernel_size=7)`). How do the parameter count and
#    the receptive field of one LSTM step change? Is that still enough context to see an edge
#    together with its pre-edge background?
# 2. `preprocess_spectrum` is documented as scale-free. Check it: feed the same measured spectrum
#    with three different gains and compare the network inputs. Then add a constant offset (a
#    badly subtracted dark current) instead: is the input still unchanged, and why not?
# 3. Build the variant without the LSTM and with the same number of parameters as the default
#    (hint: widen `dense_units`). Does `summary` confirm your arithmetic?

# %% [markdown]
# :::{admonition} Solution
# :class: dropdown
#
# ```python
# m7 = CNNBiLSTM(NetworkConfig(kernel_size=7))
# print(count_parameters(m7))                      # fewer conv weights; LSTM and head unchanged
# rf = 1 + (7 - 1) * sum(2**i for i in range(6))   # 379 channels
# print(rf * 0.2)                                  # about 76 eV
# ```
#
# Only the convolution weights scale with the kernel (7/11 of them), so the total drops from 290,308
# to 252,804: the LSTM and the head do not change. The receptive field shrinks from 126 eV to about 76 eV: a
# step at an onset then sees some 30 eV of pre-edge and 40 eV of edge, which is still a step but
# loses much of the near-edge shape that distinguishes, for example, N K from Sc L2,3.
# :::

# %% [markdown]
# :::{admonition} Solution
# :class: dropdown
#
# ```python
# e, c = energy[inside], batch.spectra[k, inside]
# xs = [preprocess_spectrum(e, g * c) for g in (1.0, 37.0, 1e5)]
# print(max(np.abs(a - xs[0]).max() for a in xs))      # ~1e-7: float32 rounding
# x_off = preprocess_spectrum(e, c + 0.5 * np.median(c))
# print(np.abs(x_off - xs[0])[0, 0].max())             # ~0.09: changed
# ```
#
# A gain multiplies every channel, and `log(g I / median(g I)) = log(I / median(I))`. An offset is
# added, not multiplied: it flattens the background in the log and shrinks the relative height of
# every edge, so the input changes. Real spectra need their dark reference subtracted before they
# reach the network; in a narrow window the contrast floor of chapter 08 undoes the worst of an
# offset, but it cannot give back the background's true slope.
# :::

# %% [markdown]
# :::{admonition} Solution
# :class: dropdown
#
# The default has 290,308 parameters, 103,600 of them in the convolutions and batch norms. Without
# the LSTM the head's first layer sees 2 × 64 = 128 pooled features, so a dense layer of width `d`
# costs `(128 + 1) d` plus `20 d + 20` for the output layer. Solving
# `103,600 + 149 d + 20 = 290,308` gives `d ≈ 1253`.
#
# ```python
# m = CNNBiLSTM(NetworkConfig(use_lstm=False, dense_units=1253))
# rows = summary(m)
# print(count_parameters(m), sum(r["parameters"] for r in rows))   # both 290,317
# ```
#
# The comparison is then fair in parameters, but not in what the parameters can do: the dense layer
# sees only the pooled summary, never the order of the steps.
# :::
