#!/usr/bin/env python
"""Fit the edges of the shared real spectra with multi-Gaussian models (the paper's Fig. 1a-b).

For every (file, edge) pair listed in ``FITS`` below this script

1. reads the file with :func:`eels_core.real.io.read_spectrum` and sums a spectrum image or line
   scan over its pixels,
2. subtracts a power-law pre-edge background fitted on a window before the edge
   (:func:`eels_core.real.fitting.subtract_power_law_background`),
3. finds where the edge starts to rise near its reference onset
   (:func:`eels_core.real.onsets.estimate_onsets`; real energy axes are offset by a few eV),
4. fits Gaussian peaks plus continuum steps (:func:`eels_core.real.fitting.fit_multi_gaussian`),
5. writes the fitted edges in the edge-library schema to ``eels_core/data/edge_library_fitted.yaml``
   and a plot of each fit to ``--plot-dir``.

Windows, ranges and peak counts are chosen per EDGE TYPE (``EDGE_TYPES``); ``FITS`` only says
which public file each library entry came from (attribution), plus the one file whose background
was already removed. Edges that the data do not allow to be fitted are listed in ``NOT_FITTED``
with the reason, and copied into the YAML header.

The real spectra are the validation set, so these entries are held out of training by default
(``SynthesisConfig.include_fitted_edges=False``).

Usage::

    .venv/bin/python scripts/fit_real_edges.py [--spectra-dir DIR] [--out YAML] [--plot-dir DIR]
"""

from __future__ import annotations

import argparse
import csv
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import yaml

REPO_ROOT = Path(__file__).resolve().parents[1]
if str(REPO_ROOT) not in sys.path:  # run as a plain script from a checkout
    sys.path.insert(0, str(REPO_ROOT))

from eels_core.forward.background import power_law  # noqa: E402
from eels_core.real.fitting import (  # noqa: E402
    MultiGaussianFit,
    fit_multi_gaussian,
    subtract_power_law_background,
)
from eels_core.real.onsets import estimate_onsets  # noqa: E402
from eels_core.real.io import read_spectrum  # noqa: E402
from eels_core.forward.profiles import continuum_steps, gaussian_peaks  # noqa: E402

DEFAULT_SPECTRA_DIR = REPO_ROOT.parent / "shared" / "real-spectra"
DEFAULT_OUT = REPO_ROOT / "eels_core" / "data" / "edge_library_fitted.yaml"
DEFAULT_PLOT_DIR = Path("/tmp/fits")

#: Order of the paper's Table 1 (the network's label order).
TABLE1_ORDER = ("B C N O F Ca Sc Ti V Cr Mn Fe Co Ni Cu Si P S Cl Ar").split()


@dataclass(frozen=True)
class EdgeType:
    """How an edge of one kind is fitted.

    Attributes
    ----------
    reference_onset_ev : float
        Reference EELS onset (exspy table, from the Gatan EELS Atlas), eV.
    n_peaks : int
        Gaussian peaks in the near-edge region.
    n_steps : int
        Continuum steps: 1 for K edges, 2 for L2,3 (L3 and L2).
    span_ev : float
        Near-edge region fitted above the onset; its end becomes the variant's tail start.
    step_window_ev : (float, float)
        Where continuum steps may be centred, relative to the estimated onset, eV: at the
        onset for a K edge; up to the L2 threshold (spin-orbit splitting, <= ~15 eV for these
        elements) for an L2,3 edge.
    background_ev : (float, float)
        Pre-edge background window, relative to the reference onset, eV.
    """

    reference_onset_ev: float
    n_peaks: int
    n_steps: int
    span_ev: float
    step_window_ev: tuple[float, float]
    background_ev: tuple[float, float] = (-40.0, -6.0)


K_STEP_WINDOW_EV = (-2.0, 8.0)
L23_STEP_WINDOW_EV = (-2.0, 16.0)


#: Fitting choices per edge type (symbol, edge).
EDGE_TYPES: dict[tuple[str, str], EdgeType] = {
    ("B", "K"): EdgeType(188.0, n_peaks=5, n_steps=1, span_ev=35.0, step_window_ev=K_STEP_WINDOW_EV),
    ("N", "K"): EdgeType(401.0, n_peaks=5, n_steps=1, span_ev=35.0, step_window_ev=K_STEP_WINDOW_EV),
    ("O", "K"): EdgeType(532.0, n_peaks=5, n_steps=1, span_ev=35.0, step_window_ev=K_STEP_WINDOW_EV),
    ("Ca", "L2,3"): EdgeType(346.0, n_peaks=4, n_steps=2, span_ev=20.0, step_window_ev=L23_STEP_WINDOW_EV, background_ev=(-30.0, -5.0)),
    ("Ti", "L2,3"): EdgeType(456.0, n_peaks=5, n_steps=2, span_ev=25.0, step_window_ev=L23_STEP_WINDOW_EV),
    ("Cr", "L2,3"): EdgeType(575.0, n_peaks=3, n_steps=2, span_ev=24.0, step_window_ev=L23_STEP_WINDOW_EV),
    ("Mn", "L2,3"): EdgeType(640.0, n_peaks=3, n_steps=2, span_ev=30.0, step_window_ev=L23_STEP_WINDOW_EV),
    ("Fe", "L2,3"): EdgeType(708.0, n_peaks=3, n_steps=2, span_ev=30.0, step_window_ev=L23_STEP_WINDOW_EV),
}


@dataclass(frozen=True)
class EdgeFit:
    """One library entry to produce: which file (index.csv ``file``), which edge, what name."""

    file: str
    symbol: str
    edge: str
    name: str
    background_subtracted: bool = False  # the file's pre-edge is already ~0: no power law


F = "files/"
#: Which public file each fitted library entry comes from (attribution, not tuning).
FITS: tuple[EdgeFit, ...] = (
    EdgeFit(F + "joverbee_pyEELSMODEL__hl.msa", "Ti", "L2,3", "SrTiO3, Ti4+ (pyEELSMODEL hl.msa)"),
    EdgeFit(F + "joverbee_pyEELSMODEL__hl.msa", "O", "K", "SrTiO3 (pyEELSMODEL hl.msa)"),
    EdgeFit(F + "joverbee_eelsmodel__T3_D3_region1_SI_HL.dm3", "Ti", "L2,3", "SrTiO3, Ti4+ (round robin T3_D region 1)"),
    EdgeFit(F + "joverbee_eelsmodel__T3_D3_region1_SI_HL.dm3", "O", "K", "SrTiO3 (round robin T3_D region 1)"),
    EdgeFit(F + "joverbee_eelsmodel__T3_D3_region2_SI_HL.dm3", "Ti", "L2,3", "SrTiO3, Ti4+ (round robin T3_D region 2)"),
    EdgeFit(F + "joverbee_eelsmodel__T3_D3_region2_SI_HL.dm3", "O", "K", "SrTiO3 (round robin T3_D region 2)"),
    EdgeFit(F + "joverbee_eelsmodel__T3_B3_region1_SI_HL_cal.dm3", "Ti", "L2,3", "TiO2, Ti4+ (round robin T3_B region 1)"),
    EdgeFit(F + "joverbee_eelsmodel__T3_B3_region1_SI_HL_cal.dm3", "O", "K", "TiO2 (round robin T3_B region 1)"),
    EdgeFit(F + "joverbee_eelsmodel__T3_B3_region2_SI_HL_cal.dm3", "Ti", "L2,3", "TiO2, Ti4+ (round robin T3_B region 2)"),
    EdgeFit(F + "joverbee_eelsmodel__T3_B3_region2_SI_HL_cal.dm3", "O", "K", "TiO2 (round robin T3_B region 2)"),
    EdgeFit(F + "joverbee_eelsmodel__T3_B3_region1_4-10x2sEcal.dm3", "Ti", "L2,3", "TiO2, Ti4+ (round robin T3_B calibration spectrum)"),
    EdgeFit(F + "joverbee_eelsmodel__T3_B3_region1_4-10x2sEcal.dm3", "O", "K", "TiO2 (round robin T3_B calibration spectrum)"),
    EdgeFit(F + "hyperspy_exspy__coreloss_spectrum.msa", "O", "K", "Mn oxide (exspy coreloss_spectrum.msa)"),
    EdgeFit(F + "hyperspy_exspy__coreloss_spectrum.msa", "Mn", "L2,3", "Mn oxide (exspy coreloss_spectrum.msa)"),
    EdgeFit(F + "hyperspy_exspy__Cr_L_cl.hspy", "Cr", "L2,3", "Cr compound (exspy Cr_L_cl.hspy)", background_subtracted=True),
    EdgeFit(F + "joverbee_eelsmodel__HLmulti_02_cal.dm3", "B", "K", "h-BN (eelsmodel HLmulti_02_cal.dm3)"),
    EdgeFit(F + "joverbee_eelsmodel__HLmulti_02_cal.dm3", "N", "K", "h-BN (eelsmodel HLmulti_02_cal.dm3)"),
    EdgeFit(F + "joverbee_eelsmodel__T3_A3_region1_HL_SI.dm3", "B", "K", "BN (round robin T3_A region 1)"),
    EdgeFit(F + "joverbee_eelsmodel__T3_A3_region1_HL_SI.dm3", "N", "K", "BN (round robin T3_A region 1)"),
    EdgeFit(F + "joverbee_eelsmodel__T3_A3_region3_SI_HL2_cal.dm3", "B", "K", "BN (round robin T3_A region 3)"),
    EdgeFit(F + "joverbee_eelsmodel__T3_A3_region3_SI_HL2_cal.dm3", "N", "K", "BN (round robin T3_A region 3)"),
    EdgeFit(F + "joverbee_eelsmodel__T3_C3_region1_SI_HL_cal.dm3", "Ca", "L2,3", "Ca-Fe oxide (round robin T3_C region 1)"),
    EdgeFit(F + "joverbee_eelsmodel__T3_C3_region1_SI_HL_cal.dm3", "O", "K", "Ca-Fe oxide (round robin T3_C region 1)"),
    EdgeFit(F + "joverbee_eelsmodel__T3_C3_region1_SI_HL_cal.dm3", "Fe", "L2,3", "Ca-Fe oxide (round robin T3_C region 1)"),
    EdgeFit(F + "joverbee_eelsmodel__T3_C3_region2_SI_HL_cal.dm3", "Ca", "L2,3", "Ca-Fe oxide (round robin T3_C region 2)"),
    EdgeFit(F + "joverbee_eelsmodel__T3_C3_region2_SI_HL_cal.dm3", "O", "K", "Ca-Fe oxide (round robin T3_C region 2)"),
    EdgeFit(F + "joverbee_eelsmodel__T3_C3_region2_SI_HL_cal.dm3", "Fe", "L2,3", "Ca-Fe oxide (round robin T3_C region 2)"),
    EdgeFit(F + "joverbee_eelsmodel__T3_C3_region1_EELS_Carbon.dm3", "Ca", "L2,3", "Ca-Fe oxide (round robin T3_C EELS_Carbon)"),
    EdgeFit(F + "joverbee_eelsmodel__T3_C3_region1_EELS_Carbon.dm3", "O", "K", "Ca-Fe oxide (round robin T3_C EELS_Carbon)"),
    EdgeFit(F + "nomad-coe_nomad-parser-eelsdb__data.msa", "O", "K", "Y3Al5O12 (eelsdb 21692)"),
    EdgeFit(F + "hyperspy_hyperspy__La2NiO4_eels.txt", "O", "K", "La2NiO4 (hyperspy La2NiO4_eels.txt)"),
    EdgeFit(F + "joverbee_pyEELSMODEL__testU.hspy", "O", "K", "uranium oxide (pyEELSMODEL testU.hspy)"),
    EdgeFit(
        F + "XiaobenZhang_Amorphous-Ice-EELS-Processing__0008-20260215_1412__RT_0.2mol_HNO3__aligned_O.msa",
        "O", "K", "amorphous ice, 0.2 mol% HNO3 (Amorphous-Ice-EELS-Processing)",
    ),
)

#: Fits with a lower coefficient of determination are not written to the library.
MIN_R_SQUARED: float = 0.9

#: Edges expected in the real spectra that are deliberately not fitted, and why.
NOT_FITTED: tuple[tuple[str, str], ...] = (
    ("hyperspy_hyperspy__La2NiO4_eels.txt: Ni L2,3", "overlapped by La M4,5 (832/849 eV); a power-law background cannot separate them"),
    ("joverbee_eelsmodel__T3_A3_region2_HL_SI.dm3: B K, N K", "uncalibrated axis, edges ~20 eV below their true energy"),
    ("joverbee_eelsmodel__T3_C3_region2_EELS_total_1eV.dm3: Ca L2,3, O K, Fe L2,3", "1 eV/channel survey, too coarse for near-edge structure"),
    ("hyperspy_hyperspy__EELS_SI.dm4: O K", "1 eV/channel, 4 pixels, material unknown (tier C)"),
    ("XiaobenZhang_..._aligned_N.msa: N K", "trace N, edge not visible in the data"),
)


# --------------------------------------------------------------------------------------------


def spectra_dir_from_env(cli_value: str | None) -> Path:
    """The real-spectra folder: command line, else $EELS_REAL_SPECTRA_DIR, else ../shared/real-spectra."""
    return Path(cli_value or os.environ.get("EELS_REAL_SPECTRA_DIR") or DEFAULT_SPECTRA_DIR)


def read_index(spectra_dir: Path) -> dict[str, dict[str, str]]:
    """index.csv rows keyed by their ``file`` column."""
    with (spectra_dir / "index.csv").open(newline="", encoding="utf-8") as handle:
        return {row["file"]: row for row in csv.DictReader(handle)}


def source_line(row: dict[str, str]) -> str:
    """The ``source`` of a fitted variant, naming repository, path, commit and license."""
    return (
        f"fitted with eels_core.real.fitting.fit_multi_gaussian to {row['source_repo']}/{row['path_in_repo']} "
        f"@ {row['commit']} ({row['license']})"
    )


def fit_edge(
    energy_ev: np.ndarray, counts: np.ndarray, edge_type: EdgeType, background_subtracted: bool
) -> tuple[np.ndarray, tuple[float, float] | None, tuple[float, float] | None, float, MultiGaussianFit]:
    """Background-subtract, locate the onset and fit one edge.

    Returns
    -------
    signal, background (A, r) or None, background window or None, onset eV, fit
    """
    ref = edge_type.reference_onset_ev
    if background_subtracted:
        signal, background, window = counts.astype(float), None, None
    else:
        start = max(ref + edge_type.background_ev[0], energy_ev[0] + 1.0)
        window = (start, ref + edge_type.background_ev[1])
        signal, background = subtract_power_law_background(energy_ev, counts, window)
    onset = float(estimate_onsets(energy_ev, signal, [ref], [True], subtract_background=False)[0])
    fit_range = (onset - 6.0, min(onset + edge_type.span_ev, float(energy_ev[-1])))
    step_range = (onset + edge_type.step_window_ev[0], onset + edge_type.step_window_ev[1])
    fit = fit_multi_gaussian(
        energy_ev, signal, edge_type.n_peaks, onset, fit_range,
        n_steps=edge_type.n_steps, step_centre_range_ev=step_range,
    )
    return signal, background, window, onset, fit


def plot_fit(
    path: Path,
    title: str,
    energy_ev: np.ndarray,
    counts: np.ndarray,
    signal: np.ndarray,
    background: tuple[float, float] | None,
    window: tuple[float, float] | None,
    fit: MultiGaussianFit,
) -> None:
    """Two panels: the raw spectrum with its background, and the edge with the fitted model."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    lo, hi = fit.fit_range_ev
    fig, (ax_raw, ax_fit) = plt.subplots(2, 1, figsize=(7, 7))
    view = (energy_ev >= (window[0] if window else lo) - 5) & (energy_ev <= hi + 10)
    ax_raw.plot(energy_ev[view], counts[view], lw=0.8, color="k", label="summed counts")
    if background is not None and window is not None:
        ax_raw.plot(energy_ev[view], power_law(energy_ev[view], *background), color="tab:red",
                    label=f"A E^-r, r = {background[1]:.2f}")
        ax_raw.axvspan(*window, color="tab:red", alpha=0.1, label="background window")
    ax_raw.set_ylabel("counts")
    ax_raw.legend(fontsize=8)
    ax_raw.set_title(title, fontsize=9)

    inside = (energy_ev >= lo) & (energy_ev <= hi)
    e = energy_ev[inside]
    ax_fit.plot(e, signal[inside], lw=0.8, color="k", label="background-subtracted")
    ax_fit.plot(e, fit.model(e), color="tab:blue", label=f"model, R² = {fit.r_squared:.4f}")
    for row in fit.peaks:
        ax_fit.plot(e, gaussian_peaks(e, row), lw=0.7, ls="--", color="tab:green")
    ax_fit.plot(e, continuum_steps(e, fit.steps), lw=0.7, ls=":", color="tab:orange", label="steps")
    ax_fit.plot(e, signal[inside] - fit.model(e), lw=0.5, color="grey", label="residual")
    ax_fit.axvline(fit.onset_ev, color="tab:purple", lw=0.7, label=f"onset {fit.onset_ev:.1f} eV")
    ax_fit.set_xlabel("energy loss (eV)")
    ax_fit.set_ylabel("counts")
    ax_fit.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)


def yaml_header(command: str, not_fitted: tuple[tuple[str, str], ...]) -> str:
    """Comment block at the top of the fitted library file; `not_fitted` is (edge, reason)."""
    skipped = "\n".join(f"#   - {what}: {why}" for what, why in not_fitted)
    return (
        "# Edge library entries fitted to public real EELS spectra (shared/real-spectra).\n"
        "# Produced by:\n"
        f"#   {command}\n"
        "# Each spectrum image / line scan is summed over its pixels, a power-law background A*E^-r\n"
        "# fitted on a pre-edge window is subtracted, and the edge is fitted with Gaussian peaks plus\n"
        "# error-function continuum steps (eels_core.real.fitting.fit_multi_gaussian); amplitudes are\n"
        "# relative (profile maximum = 1). Schema: see eels_core/data/README.md. Energies are on each\n"
        "# file's own axis (not re-calibrated), so onsets differ from the reference by up to 8 eV.\n"
        "#\n"
        "# HELD OUT OF TRAINING BY DEFAULT (SynthesisConfig.include_fitted_edges=False): the real\n"
        "# spectra these edges come from are the validation set, so training on them would leak.\n"
        "#\n"
        f"# Fits with R^2 < {MIN_R_SQUARED} are rejected. Expected edges not in this file:\n"
        f"{skipped}\n"
        "# Do not edit by hand; rerun the script.\n"
    )


def build_library(variants: list[tuple[str, str, dict[str, Any]]]) -> dict[str, Any]:
    """Group (symbol, edge, variant) triples into the library schema, in Table 1 order."""
    grouped: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for symbol, edge, variant in variants:
        grouped.setdefault((symbol, edge), []).append(variant)
    ordered = sorted(grouped, key=lambda key: TABLE1_ORDER.index(key[0]))
    return {
        "schema_version": 1,
        "elements": [{"symbol": s, "edge": e, "variants": grouped[(s, e)]} for s, e in ordered],
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--spectra-dir", default=None, help="folder with index.csv (default: ../shared/real-spectra)")
    parser.add_argument("--out", default=str(DEFAULT_OUT), help="fitted library YAML to write")
    parser.add_argument("--plot-dir", default=str(DEFAULT_PLOT_DIR), help="folder for one PNG per fit")
    args = parser.parse_args(argv)

    spectra_dir = spectra_dir_from_env(args.spectra_dir)
    index = read_index(spectra_dir)
    plot_dir = Path(args.plot_dir)
    plot_dir.mkdir(parents=True, exist_ok=True)

    variants: list[tuple[str, str, dict[str, Any]]] = []
    rejected: list[tuple[str, str]] = []
    for item in FITS:
        row = index[item.file]
        spectrum = read_spectrum(spectra_dir / item.file).summed()
        edge_type = EDGE_TYPES[(item.symbol, item.edge)]
        signal, background, window, onset, fit = fit_edge(
            spectrum.energy_ev, spectrum.counts, edge_type, item.background_subtracted
        )
        stem = Path(item.file).stem.split("__", 1)[-1][:40]
        label = f"{item.symbol} {item.edge}"
        plot_fit(
            plot_dir / f"{item.symbol}_{item.edge.replace(',', '')}__{stem}.png",
            f"{label}: {item.name}", spectrum.energy_ev, spectrum.counts, signal, background, window, fit,
        )
        bg_text = f"r={background[1]:5.2f}" if background else "no bg  "
        if fit.r_squared < MIN_R_SQUARED:
            rejected.append((f"{Path(item.file).name}: {label}",
                             f"fit rejected, R^2 = {fit.r_squared:.3f} < {MIN_R_SQUARED} "
                             f"(background exponent {bg_text.strip()})"
                             + ("; the pre-edge rises, so a power-law background does not apply"
                                if background and background[1] < 0 else "")))
            print(f"{label:9s} R2={fit.r_squared:.4f} {bg_text} REJECTED  {item.name}")
            continue
        variant = fit.to_variant(item.name, source_line(row), onset, fit.fit_range_ev[1])
        variant["fitted_from"] = f"shared/real-spectra/{item.file}"
        variant["license"] = row["license"]
        variants.append((item.symbol, item.edge, variant))
        print(f"{label:9s} R2={fit.r_squared:.4f} {bg_text} onset={onset:7.2f} peaks={len(variant['peaks'])} "
              f"steps={len(variant['steps'])} ok={fit.success}  {item.name}")

    command = "python scripts/fit_real_edges.py" + ("".join(f" {a}" for a in argv) if argv else "")
    out = Path(args.out)
    with out.open("w", encoding="utf-8") as handle:
        handle.write(yaml_header(command, NOT_FITTED + tuple(rejected)))
        yaml.safe_dump(build_library(variants), handle, sort_keys=False, default_flow_style=None,
                       allow_unicode=True, width=1000)
    print(f"wrote {len(variants)} variants to {out}; plots in {plot_dir}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
