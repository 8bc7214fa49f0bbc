"""Figures of the book's chapters (matplotlib), kept out of the pages so that they read as text.

Only the notebooks import this module; nothing in the package depends on it. Every function draws
on axes it is given or makes one figure, and returns the figure; the page calls ``plt.show()``.
"""

from __future__ import annotations

from typing import Any, Mapping, Sequence

import numpy as np
from numpy.typing import NDArray

METRICS = ("precision", "recall", "f1", "exact_accuracy", "recognition_accuracy")
METRIC_NAMES = ("precision", "recall", "F1", "exact accuracy", "recognition accuracy")


def metric_bars(groups: Sequence[tuple[str, Mapping[str, float], str]], title: str, hatched: Sequence[str] = ()):
    """Grouped bars of the paper's five metrics (Fig. 6a), one bar per group and metric.

    Parameters
    ----------
    groups : sequence of (label, {metric: value}, colour)
    title : str
    hatched : labels drawn hatched (figures recorded elsewhere, not computed on the page)
    """
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(10, 4))
    width = 0.8 / len(groups)
    x = np.arange(len(METRICS))
    for j, (name, values, colour) in enumerate(groups):
        heights = [values.get(m, np.nan) for m in METRICS]
        hatch = "//" if name in hatched else None
        bars = ax.bar(x + (j - (len(groups) - 1) / 2) * width, heights, width, label=name, color=colour,
                      hatch=hatch, edgecolor="white" if hatch else None)
        for b, h in zip(bars, heights):
            if np.isfinite(h):
                ax.text(b.get_x() + b.get_width() / 2, h + 0.01, f"{h:.2f}", ha="center", va="bottom",
                        fontsize=6, rotation=90)
    ax.set_xticks(x, METRIC_NAMES)
    ax.set_ylim(0, 1.18)
    ax.set_ylabel("mean over spectra / share of spectra")
    ax.legend(fontsize=7, ncol=3, loc="upper center", bbox_to_anchor=(0.5, -0.12))
    ax.set_title(title, fontsize=9)
    return fig


def spectrum_with_edges(energy_ev: NDArray, counts: NDArray, rows: Sequence[Mapping[str, Any]],
                        expected: Sequence[str], title: str):
    """A spectrum with the reference (dotted) and estimated (solid) onsets of some edges.

    ``rows``: :meth:`eels_core.real.predict.EdgePrediction.edge_table` rows to mark; green where the
    edge is detected and expected, red where it is detected but not expected or expected and missed.
    """
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(9, 3.4))
    ax.plot(energy_ev, counts, color="k", lw=0.8)
    for row in rows:
        colour = "C2" if row["detected"] and row["edge"] in expected else "C3"
        ax.axvline(row["reference_onset_ev"], color=colour, ls=":", lw=1)
        if row.get("onset_ev") is not None:
            ax.axvline(row["onset_ev"], color=colour, ls="-", lw=1)
        ax.text(row["reference_onset_ev"], 0.95, f" {row['edge']}\n p = {row['probability']:.2f}", color=colour,
                transform=ax.get_xaxis_transform(), va="top", fontsize=8)
    ax.set_xlabel("Energy loss (eV)")
    ax.set_ylabel("Counts")
    ax.set_title(title, fontsize=9)
    return fig


def edge_panels(panels: Sequence[Mapping[str, Any]], reference_onset_ev: float, span_ev: tuple[float, float],
                pre_edge_ev: tuple[float, float], title: str):
    """One edge in several materials (Fig. 7): background-subtracted, scaled, stacked.

    Each panel: ``energy_ev``, ``counts``, ``label`` (text beside the curve), ``detected`` (bool) and
    ``onset_ev`` (estimated onset or None). The background is the package's power-law fit
    (:func:`eels_core.forward.background.fit_power_law`) over ``pre_edge_ev``.
    """
    import matplotlib.pyplot as plt

    from .forward.background import fit_power_law, power_law

    fig, ax = plt.subplots(figsize=(8, 1.2 + 0.85 * len(panels)))
    for j, p in enumerate(panels):
        e, c = np.asarray(p["energy_ev"]), np.asarray(p["counts"], dtype=float)
        pre = (e >= max(e[0], pre_edge_ev[0])) & (e < pre_edge_ev[1])
        shown = (e >= span_ev[0]) & (e <= span_ev[1])
        if pre.sum() > 5:
            amplitude, exponent = fit_power_law(e[pre], c[pre])
            net = c[shown] - power_law(e[shown], amplitude, exponent)
        else:  # too little pre-edge inside the window: subtract its lowest level
            net = c[shown] - c[shown].min()
        after = (e[shown] >= reference_onset_ev - 4) & (e[shown] <= reference_onset_ev + 28)
        net = np.clip(net / np.max(net[after]), -0.3, 1.2)
        y0 = 1.35 * (len(panels) - 1 - j)
        ax.plot(e[shown], y0 + net, color="C2" if p["detected"] else "C3", lw=1)
        if p.get("onset_ev") is not None:
            ax.plot([p["onset_ev"]] * 2, [y0 - 0.1, y0 + 1.0], color="k", lw=0.8)
        ax.text(span_ev[1] + 3, y0 + 0.4, p["label"], fontsize=7, va="center")
    ax.axvline(reference_onset_ev, color="0.5", ls=":", lw=1)
    ax.set_xlim(span_ev[0], span_ev[1] + 80)
    ax.set_yticks([])
    ax.set_xlabel("Energy loss (eV)")
    ax.set_title(title, fontsize=9)
    return fig


def occlusion(energy_ev: NDArray, counts: NDArray, scan: Any, labels: Sequence[str], colours: Mapping[str, str],
              threshold: float, title: str, marks: Mapping[str, float] = {}):
    """The spectrum (log counts) above the probabilities of some edges against the centre of the
    occluded range (:class:`eels_core.real.predict.OcclusionScan`); ``marks``: energies to draw."""
    import matplotlib.pyplot as plt

    fig, (ax_s, ax_p) = plt.subplots(2, 1, figsize=(9, 5.2), sharex=True, gridspec_kw={"height_ratios": [1, 1.3]})
    keep = (energy_ev >= scan.centre_ev[0] - 10) & (energy_ev <= scan.centre_ev[-1] + 10)
    ax_s.plot(energy_ev[keep], counts[keep], color="k", lw=0.8)
    ax_s.set_yscale("log")
    ax_s.set_ylabel("Counts")
    ax_s.set_title(title, fontsize=9)
    for edge, colour in colours.items():
        ax_p.plot(scan.centre_ev, scan.of(edge), color=colour,
                  label=f"{edge} (as measured: {scan.unoccluded[list(labels).index(edge)]:.2f})")
    for edge, energy in marks.items():
        for ax in (ax_s, ax_p):
            ax.axvline(energy, color=colours.get(edge, "0.4"), ls="--", lw=0.8)
    ax_p.axhline(threshold, color="0.5", ls=":", lw=1)
    ax_p.set_ylim(-0.02, 1.02)
    ax_p.set_xlabel("Centre of the occluded range (eV)")
    ax_p.set_ylabel("Probability")
    ax_p.legend(fontsize=8, loc="lower left")
    fig.tight_layout()
    return fig


def architecture(rows: Sequence[Mapping[str, Any]], ax) -> None:
    """Fig. 5b redrawn from :func:`eels_core.learning.network.summary` rows: one box per conv block,
    the LSTM, the pooling and the dense layers; box heights grow with the log of the sequence length."""
    from matplotlib.patches import FancyArrowPatch, FancyBboxPatch

    from .learning.preprocessing import N_CHANNELS, N_INPUTS

    blocks = [("Input", f"{N_INPUTS} × {N_CHANNELS}", N_CHANNELS, "0.85")]
    conv = [r for r in rows if r["layer"].startswith("Conv1d")]
    acts = [r for r in rows if r["name"].startswith("features") and "ReLU" in r["layer"]]
    for r, a in zip(conv, acts):
        c, n = r["output_shape"]
        act = "Leaky\nReLU" if a["layer"].startswith("Leaky") else "ReLU"
        blocks.append((f"Conv\nk 11, s 2\nBN\n{act}", f"{c} × {n}", n, "#9ecae1"))
    lstm = [r for r in rows if r["name"] == "lstm"]
    if lstm:
        n, h = lstm[0]["output_shape"]
        blocks.append(("BiLSTM\n100 units\n→ fwd\n← bwd", f"{n} × {h}", n, "#fdae6b"))
    pool = next(r for r in rows if r["name"] == "(pool)")
    blocks.append(("max\n& mean\nover\nsteps", f"{pool['output_shape'][0]}", 1, "#c7e9c0"))
    linear = [r for r in rows if r["layer"].startswith("Linear")]
    blocks.append(("Dense\nLeaky\nReLU\nDrop 0.2", f"{linear[0]['output_shape'][0]}", 1, "#c7e9c0"))
    blocks.append(("Dense\n→\nsigmoid", f"{linear[-1]['output_shape'][0]} edges", 1, "#fcbba1"))

    width, gap = 1.0, 0.42
    for i, (name, shape, n, color) in enumerate(blocks):
        h = 1.5 + 2.0 * np.log(n) / np.log(N_CHANNELS)
        x0 = i * (width + gap)
        ax.add_patch(FancyBboxPatch((x0, -h / 2), width, h, boxstyle="round,pad=0.02,rounding_size=0.08",
                                    fc=color, ec="0.25", lw=1))
        ax.text(x0 + width / 2, 0, name, ha="center", va="center", fontsize=8, linespacing=1.3)
        ax.text(x0 + width / 2, -h / 2 - 0.15, shape, ha="center", va="top", fontsize=8, color="0.2")
        if i:
            ax.add_patch(FancyArrowPatch((x0 - gap + 0.03, 0), (x0 - 0.03, 0), arrowstyle="-|>",
                                         mutation_scale=10, color="0.3", lw=1))
    x_a, x_b = 1 * (width + gap), len(conv) * (width + gap) + width
    y_top = 1.5 / 2 + 2.0 / 2 + 0.3
    ax.annotate("", (x_a, y_top), (x_b, y_top), arrowprops=dict(arrowstyle="<->", color="C0"))
    ax.text((x_a + x_b) / 2, y_top + 0.1, f"feature extraction: {len(conv)} convolutions, each halves the length "
            f"({N_CHANNELS} → {conv[-1]['output_shape'][1]})", ha="center", va="bottom", fontsize=9, color="C0")
    x_c, x_d = (len(conv) + 2) * (width + gap), len(blocks) * (width + gap) - gap
    ax.annotate("", (x_c, y_top), (x_d, y_top), arrowprops=dict(arrowstyle="<->", color="C2"))
    ax.text((x_c + x_d) / 2, y_top + 0.1, "classification", ha="center", va="bottom", fontsize=9, color="C2")
    ax.set_xlim(-0.1, x_d + 0.1)
    ax.set_ylim(-y_top - 0.15, y_top + 0.45)
    ax.set_aspect("equal")
    ax.axis("off")
