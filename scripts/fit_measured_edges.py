#!/usr/bin/env python
"""Fit measured reference edges that are not validation spectra, for the edge library.

The measured Mn L2,3 edges of ``eels_core/data/measured_edges/mnedgenet/`` (seven curves of MnO,
LaMnO3, SrMnO3, MnO2 and YBaMn3AlO7 from the MIT-licensed repository xinhuolin/MnEdgeNet, folder
``test_Mn_spectra``; see the README there) are the only measured spectra the fact sheet of this
project names as a training source. For every curve listed in ``MEASURED`` below this script

1. reads the two columns (energy in eV, intensity) and puts them on a uniform 0.1 eV axis: the
   curves were digitised, so their energies repeat and are not always increasing
   (:func:`uniform_curve`);
2. subtracts the flat pre-edge level (the median of the first :data:`PRE_EDGE_EV` eV);
3. finds where the edge starts to rise (:func:`eels_core.real.onsets.estimate_onsets`);
4. fits Gaussian peaks plus two continuum steps (:func:`eels_core.real.fitting.fit_multi_gaussian`)
   from 6 eV below that onset to the curve's end;
5. writes the fits in the edge-library schema to ``eels_core/data/edge_library_measured.yaml``.

The curves end 20-25 eV above the onset and their continuum was removed, or never was one
(they return to the pre-edge level after L2, unlike a measured core-loss edge). So each variant
keeps its fitted peaks and takes the continuum steps of the library's hand-typed variant of the
same oxidation state (``compared_with``), moved with the onset; the library's power-law tail
continues it beyond the curve's end.

Usage::

    .venv/bin/python scripts/fit_measured_edges.py [--out YAML] [--plot-dir DIR]
"""

from __future__ import annotations

import argparse
import csv
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import yaml

REPO_ROOT = Path(__file__).resolve().parents[1]
if str(REPO_ROOT) not in sys.path:  # run as a plain script from a checkout
    sys.path.insert(0, str(REPO_ROOT))

from eels_core.forward.edges import load_edge_library  # noqa: E402
from eels_core.forward.profiles import near_edge_profile  # noqa: E402
from eels_core.real.fitting import MultiGaussianFit, fit_multi_gaussian  # noqa: E402
from eels_core.real.onsets import estimate_onsets  # noqa: E402

DATA_DIR = REPO_ROOT / "eels_core" / "data"
CURVES_DIR = DATA_DIR / "measured_edges" / "mnedgenet"
DEFAULT_OUT = DATA_DIR / "edge_library_measured.yaml"
SOURCE_REPO = "xinhuolin/MnEdgeNet"
SOURCE_COMMIT = "9f39d80cef5412443af450c7c7a8ad86fa3aca6c"
LICENSE = "MIT"
#: Mn L2,3 reference onset of the library (exspy, from the Gatan EELS Atlas), eV.
MN_ONSET_EV = 640.0
#: Step of the uniform axis the digitised curves are put on, eV.
GRID_STEP_EV = 0.1
#: Length of the curve's start taken as its flat pre-edge level, eV.
PRE_EDGE_EV = 1.5
#: Gaussian peaks per fit: the L3 and L2 white lines of these oxides each show two to four
#: multiplet features at this resolution.
N_PEAKS = 7
#: Fits with a lower coefficient of determination are not written.
MIN_R_SQUARED = 0.97


@dataclass(frozen=True)
class MeasuredEdge:
    """One curve to fit: its file, the compound, and the hand-typed variant of the same oxidation state."""

    file: str
    name: str
    compared_with: str


#: The curves of the folder, with the compound each shows (the file name) and its Mn oxidation state
#: (MnO, YBaMn3AlO7: Mn2+; LaMnO3: Mn3+; SrMnO3, MnO2: Mn4+, by charge balance).
MEASURED: tuple[MeasuredEdge, ...] = (
    MeasuredEdge("Data2_MnO.csv", "MnO, Mn2+ (measured, MnEdgeNet Data2_MnO)", "MnO, Mn2+ (d5)"),
    MeasuredEdge("Data3_MnO.csv", "MnO, Mn2+ (measured, MnEdgeNet Data3_MnO)", "MnO, Mn2+ (d5)"),
    MeasuredEdge("Data2_YBaMn3AlO7.csv", "YBaMn3AlO7, Mn2+ (measured, MnEdgeNet Data2_YBaMn3AlO7)", "MnO, Mn2+ (d5)"),
    MeasuredEdge("Data2_LaMnO3.csv", "LaMnO3, Mn3+ (measured, MnEdgeNet Data2_LaMnO3)", "LaMnO3, Mn3+"),
    MeasuredEdge("Data3_LaMnO3.csv", "LaMnO3, Mn3+ (measured, MnEdgeNet Data3_LaMnO3)", "LaMnO3, Mn3+"),
    MeasuredEdge("Data2_SrMnO3.csv", "SrMnO3, Mn4+ (measured, MnEdgeNet Data2_SrMnO3)", "SrMnO3, Mn4+"),
    MeasuredEdge("Data3_MnO2.csv", "MnO2, Mn4+ (measured, MnEdgeNet Data3_MnO2)", "MnO2, Mn4+"),
)


def read_curve(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """The two columns of a curve (header line first), as read."""
    with path.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.reader(handle))[1:]
    data = np.array([[float(a), float(b)] for a, b in rows])
    return data[:, 0], data[:, 1]


def uniform_curve(energy_ev: np.ndarray, intensity: np.ndarray, step_ev: float = GRID_STEP_EV
                  ) -> tuple[np.ndarray, np.ndarray]:
    """A digitised curve on a uniform axis: points of one energy averaged, sorted, linearly interpolated.

    Parameters
    ----------
    energy_ev, intensity : ndarray, shape (n,)
        The curve as digitised (energies may repeat and need not increase).
    step_ev : float
        Step of the uniform axis, eV.

    Returns
    -------
    energy_ev, intensity : ndarray
        From the first energy of the curve, ``step_ev`` apart, up to its last energy.
    """
    unique, inverse = np.unique(energy_ev, return_inverse=True)
    mean = np.bincount(inverse, weights=intensity) / np.bincount(inverse)
    grid = unique[0] + step_ev * np.arange(int(np.floor((unique[-1] - unique[0]) / step_ev + 1e-9)) + 1)
    return grid, np.interp(grid, unique, mean)


def pre_edge_subtracted_curve(file: str) -> tuple[np.ndarray, np.ndarray]:
    """One curve of :data:`CURVES_DIR` (its file name) on the uniform axis of :func:`uniform_curve`, its flat
    pre-edge level (the median of its first :data:`PRE_EDGE_EV` eV) subtracted: what :func:`fit_curve` fits."""
    energy, signal = uniform_curve(*read_curve(CURVES_DIR / file))
    return energy, signal - np.median(signal[energy < energy[0] + PRE_EDGE_EV])


def fit_curve(energy_ev: np.ndarray, signal: np.ndarray) -> tuple[float, MultiGaussianFit]:
    """The onset and the multi-Gaussian fit of one pre-edge-subtracted curve."""
    onset = float(estimate_onsets(energy_ev, signal, [MN_ONSET_EV], [True], subtract_background=False)[0])
    fit_range = (max(onset - 6.0, float(energy_ev[0])), float(energy_ev[-1]))
    fit = fit_multi_gaussian(energy_ev, signal, N_PEAKS, onset, fit_range, n_steps=2,
                             step_centre_range_ev=(onset - 2.0, onset + 16.0))
    return onset, fit


def with_library_steps(variant: dict[str, Any], hand_typed: Any) -> dict[str, Any]:
    """``variant`` (of :meth:`MultiGaussianFit.to_variant`) with the continuum steps of ``hand_typed``
    (an :class:`~eels_core.forward.edges.EdgeVariant`), moved by the difference of their onsets, and
    its amplitudes scaled again so that the profile's maximum is 1."""
    shift = variant["edge_onset_ev"] - hand_typed.edge_onset_ev
    steps = np.array(hand_typed.steps, dtype=float)
    steps[:, 0] += shift
    peaks = np.array(variant["peaks"], dtype=float)
    grid = np.arange(variant["edge_onset_ev"] - 2.0, variant["tail_start_ev"], 0.05)
    scale = float(np.max(near_edge_profile(grid, peaks, steps)))
    return {**variant,
            "peaks": [[round(float(c), 3), round(float(w), 3), float(f"{a / scale:.4g}")] for c, w, a in peaks],
            "steps": [[round(float(c), 3), round(float(w), 3), float(f"{h / scale:.4g}")] for c, w, h in steps]}


def yaml_header(command: str) -> str:
    """Comment block at the top of the library file."""
    return (
        "# Edge library entries fitted to measured reference edges that are not validation spectra.\n"
        "# Produced by:\n"
        f"#   {command}\n"
        f"# From the curves of eels_core/data/measured_edges/mnedgenet/ ({SOURCE_REPO} @ {SOURCE_COMMIT[:12]},\n"
        f"# {LICENSE}; see the README there): each put on a uniform {GRID_STEP_EV} eV axis, its flat pre-edge\n"
        "# level subtracted, fitted with Gaussian peaks and two continuum steps\n"
        "# (eels_core.real.fitting.fit_multi_gaussian). The curves carry no continuum, so each variant\n"
        "# keeps its fitted peaks and takes the continuum steps of the hand-typed variant named in\n"
        "# compared_with (moved with the onset). Drawn with SynthesisConfig(measured_reference_edges=True).\n"
        "# Do not edit by hand; rerun the script.\n"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(DEFAULT_OUT), help="library YAML to write")
    parser.add_argument("--plot-dir", default=None, help="folder for one PNG per fit (none by default)")
    args = parser.parse_args(argv)

    hand = {v.name: v for v in load_edge_library().element("Mn").variants}
    variants = []
    for item in MEASURED:
        energy, signal = pre_edge_subtracted_curve(item.file)
        onset, fit = fit_curve(energy, signal)
        print(f"{item.file:22s} onset={onset:7.2f} R2={fit.r_squared:.4f} ok={fit.success}")
        if fit.r_squared < MIN_R_SQUARED:
            raise SystemExit(f"{item.file}: R^2 = {fit.r_squared:.3f} < {MIN_R_SQUARED}; change N_PEAKS or the fit range")
        source = (f"peaks fitted with eels_core.real.fitting.fit_multi_gaussian to {SOURCE_REPO}/test_Mn_spectra/"
                  f"{item.file} @ {SOURCE_COMMIT} ({LICENSE}; the repository does not say whether the curves are "
                  f"EELS or XAS); continuum steps of the hand-typed variant '{item.compared_with}' (unsourced)")
        variant = fit.to_variant(item.name, source, onset, fit.fit_range_ev[1])
        variant = with_library_steps(variant, hand[item.compared_with])
        variant["compared_with"] = item.compared_with
        variant["fitted_from"] = f"eels_core/data/measured_edges/mnedgenet/{item.file}"
        variant["license"] = LICENSE
        variants.append(variant)
        if args.plot_dir:
            import matplotlib

            matplotlib.use("Agg")
            import matplotlib.pyplot as plt

            Path(args.plot_dir).mkdir(parents=True, exist_ok=True)
            fig, ax = plt.subplots(figsize=(6, 3.5))
            ax.plot(energy, signal, lw=1, color="k", label="curve, pre-edge subtracted")
            ax.plot(energy, fit.model(energy), lw=1, color="tab:blue", label=f"fit, R² = {fit.r_squared:.4f}")
            ax.set(xlabel="energy loss (eV)", title=item.name)
            ax.legend(fontsize=7)
            fig.savefig(Path(args.plot_dir) / f"{Path(item.file).stem}.png", dpi=90, bbox_inches="tight")
            plt.close(fig)

    command = "python scripts/fit_measured_edges.py" + ("".join(f" {a}" for a in argv) if argv else "")
    library = {"schema_version": 1, "elements": [{"symbol": "Mn", "edge": "L2,3", "variants": variants}]}
    out = Path(args.out)
    with out.open("w", encoding="utf-8") as handle:
        handle.write(yaml_header(command))
        yaml.safe_dump(library, handle, sort_keys=False, default_flow_style=None, allow_unicode=True, width=1000)
    print(f"wrote {len(variants)} variants to {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
