#!/usr/bin/env python
"""Compute K-edge near-edge structures with FEFF10 and add them to the edge library as variants.

For every case (a structure, an absorbing element and an edge) of a cases file
(``eels_core/data/computed_elnes_cases.yaml``, the h-BN edges, by default;
``computed_compounds_cases.yaml``, the K edges of common compounds, with ``--cases``) this script

1. builds the crystal with pymatgen (space group, lattice, sites),
2. writes the FEFF10 ELNES input (:class:`pymatgen.io.feff.sets.MPELNESSet`: absorbing element,
   edge, beam energy and direction, collection and convergence angles, cluster, SCF and FMS radii),
3. runs FEFF10 through the ``feff10-rs`` wheel in ``--work-dir/<case>`` (a case whose ``eels.dat``
   is already there is not computed again, so an interrupted run resumes where it stopped),
4. shifts the energy axis so that the first peak of the ``zz`` component (q along c: the pi* peak
   of a layered crystal) sits at the case's ``first_peak_ev``, or the rise of its orientation-
   averaged spectrum at its ``onset_ev`` (FEFF's absolute energies are approximate to a few eV,
   the feasibility notes; :func:`case_shift_ev`),
5. for each of the case's variants, combines the dipole cross-section tensor that ``eels.dat``
   holds: ``(1 - f) (xx + yy) / 2 + f zz`` with ``f = q_along_c``, the share of the momentum
   transfer along the crystal's c axis (z) (:func:`tensor_spectrum`),
6. fits Gaussian peaks plus one continuum step (:func:`eels_core.real.fitting.fit_multi_gaussian`,
   the library's own shape functions) and
7. writes the variants to ``--out`` (``eels_core/data/edge_library_computed.yaml`` by default), each
   with the calculation in its ``source``, and a plot of every fit to ``--plot-dir``.

FEFF10 and pymatgen are needed only to run this script again (``pip install feff10-rs==0.2.4
pymatgen==2026.10.24``); the package reads the YAML it writes. One case takes 3-11 minutes of one
core, two at once on two cores (GaN and graphite about 3, diamond and c-BN 9-11; FEFF10 runs
serially; ``--jobs`` runs several cases at once). A case whose FEFF10 run fails is named with the
path of its log (CaF2 F K stops in FEFF's potential stage at these settings and is left out).

Usage::

    .venv/bin/python scripts/compute_feff_elnes.py [--cases YAML] [--work-dir DIR] [--out YAML] [--plot-dir DIR] [--jobs N]
    .venv/bin/python scripts/compute_feff_elnes.py --cases eels_core/data/computed_compounds_cases.yaml \
        --out eels_core/data/edge_library_computed_compounds.yaml --work-dir runs/feff-compounds --jobs 2
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import yaml

REPO_ROOT = Path(__file__).resolve().parents[1]
if str(REPO_ROOT) not in sys.path:  # run as a plain script from a checkout
    sys.path.insert(0, str(REPO_ROOT))

from eels_core.forward.edges import COMPUTED_LIBRARY_FILE, SCHEMA_VERSION, ELEMENTS  # noqa: E402
from eels_core.real.fitting import MultiGaussianFit, fit_multi_gaussian  # noqa: E402

CASES_FILE = REPO_ROOT / "eels_core" / "data" / "computed_elnes_cases.yaml"
DEFAULT_OUT = REPO_ROOT / "eels_core" / "data" / COMPUTED_LIBRARY_FILE
DEFAULT_WORK_DIR = Path("runs/feff")
DEFAULT_PLOT_DIR = Path("/tmp/feff-fits")
#: Fit range relative to a case's onset, eV: from just before it to the case's tail start.
FIT_START_BEFORE_ONSET_EV = 3.0


def load_cases(path: Path = CASES_FILE) -> dict[str, Any]:
    """The structures, shared settings and cases of ``computed_elnes_cases.yaml``."""
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    if data.get("schema_version") != SCHEMA_VERSION:
        raise ValueError(f"{path}: not a cases file of schema_version {SCHEMA_VERSION}")
    return data


def case_dir_name(name: str) -> str:
    """A folder name for a case (letters, digits and dashes)."""
    return "".join(c if c.isalnum() else "-" for c in name).strip("-").lower()


#: Lattice kinds a structure may name, and the pymatgen constructor each one calls with ``a`` (and ``c``).
LATTICE_KINDS = ("cubic", "tetragonal", "hexagonal")


def build_structure(spec: dict[str, Any]) -> Any:
    """The pymatgen structure of one ``structures`` entry (a cubic, tetragonal or hexagonal lattice)."""
    lattice = spec["lattice"]
    kind = lattice["kind"]
    if kind not in LATTICE_KINDS:
        raise ValueError(f"lattice kind {kind!r}: one of {', '.join(LATTICE_KINDS)}")
    from pymatgen.core import Lattice, Structure

    if kind == "cubic":
        cell = Lattice.cubic(lattice["a"])
    elif kind == "tetragonal":
        cell = Lattice.tetragonal(lattice["a"], lattice["c"])
    else:
        cell = Lattice.hexagonal(lattice["a"], lattice["c"])
    return Structure.from_spacegroup(spec["spacegroup"], cell, spec["species"], spec["coords"])


def case_name(case: dict[str, Any]) -> str:
    """``structure absorber edge``, e.g. ``h-BN N K``."""
    return f"{case['structure']} {case['absorber']} {case['edge']}"


def case_k_max(case: dict[str, Any], settings: dict[str, Any]) -> float:
    """The largest photoelectron wavenumber of a case's calculation, 1/Angstrom.

    FEFF's ELNES ``ENERGY`` card computes up to ``k_max``, ``hbar^2 k_max^2 / 2 m`` = 3.81 eV A^2
    ``k_max^2`` above the edge: 4 /A (the card's default) reaches about 61 eV. A case's own
    ``k_max_per_a`` overrides the shared setting.
    """
    return float(case.get("k_max_per_a", settings["k_max_per_a"]))


def case_folder(work_dir: Path, case: dict[str, Any], settings: dict[str, Any]) -> Path:
    """The FEFF run folder of a case: its name and, when not the shared one, its ``k_max``."""
    folder = case_dir_name(case_name(case))
    if case_k_max(case, settings) != float(settings["k_max_per_a"]):
        folder += f"-kmax-{case_k_max(case, settings):g}".replace(".", "p")
    return work_dir / folder


def write_feff_input(case: dict[str, Any], structure: Any, settings: dict[str, Any], folder: Path) -> Path:
    """Write the FEFF10 ELNES input of one case into ``folder``; return the path of ``feff.inp``."""
    from pymatgen.io.feff.sets import MPELNESSet

    feff_set = MPELNESSet(
        case["absorber"], structure, edge=case["edge"], radius=settings["cluster_radius_a"],
        beam_energy=settings["beam_energy_kev"], beam_direction=settings.get("beam_direction"),
        collection_angle=settings["collection_angle_mrad"], convergence_angle=settings["convergence_angle_mrad"],
        user_tag_settings={"SCF": f"{settings['scf_radius_a']} 0 30 0.2 1", "FMS": f"{settings['fms_radius_a']} 0"},
        user_eels_settings={"ENERGY": f"{case_k_max(case, settings)} {settings['k_step_per_a']} 0.1"},
    )
    folder.mkdir(parents=True, exist_ok=True)
    feff_set.write_input(str(folder))
    return folder / "feff.inp"


#: Columns of FEFF's ``eels.dat``: energy, total, atomic background, fine structure, then the
#: cross-section tensor xx, xy, xz, yx, yy, yz, zx, zy, zz.
EELS_DAT_COLUMNS = ("energy", "total", "atomic-bg", "fine-struct", "xx", "xy", "xz", "yx", "yy", "yz", "zx", "zy", "zz")


def read_eels_dat(path: Path) -> dict[str, np.ndarray]:
    """The columns of a FEFF ``eels.dat`` by name (:data:`EELS_DAT_COLUMNS`)."""
    table = np.loadtxt(path, comments="#")
    if table.ndim != 2 or table.shape[1] != len(EELS_DAT_COLUMNS) or table.shape[0] < 10:
        raise ValueError(f"{path}: expected at least 10 rows of {len(EELS_DAT_COLUMNS)} columns "
                         f"({', '.join(EELS_DAT_COLUMNS)}), got shape {table.shape}")
    return {name: table[:, k].astype(float) for k, name in enumerate(EELS_DAT_COLUMNS)}


def tensor_spectrum(columns: dict[str, np.ndarray], q_along_c: float) -> np.ndarray:
    """The cross-section for momentum transfer a share ``q_along_c`` along the c axis (z).

    ``(1 - f) (xx + yy) / 2 + f zz``: 0 is q in the layers, 1/3 the orientation average, 1 q along c.
    """
    if not 0.0 <= q_along_c <= 1.0:
        raise ValueError(f"q_along_c = {q_along_c}: a share, between 0 and 1")
    return (1.0 - q_along_c) * 0.5 * (columns["xx"] + columns["yy"]) + q_along_c * columns["zz"]


def first_peak_ev(energy_ev: np.ndarray, intensity: np.ndarray) -> float:
    """Energy of the first local maximum that reaches a tenth of the spectrum's maximum."""
    from scipy.signal import find_peaks

    peaks, _ = find_peaks(intensity, height=0.1 * float(np.max(intensity)))
    if peaks.size == 0:
        raise ValueError("no near-edge peak above a tenth of the maximum")
    return float(energy_ev[peaks[0]])


#: A case aligned on its onset (``onset_ev``) has its onset where its orientation-averaged spectrum
#: first reaches this share of its maximum.
ONSET_SHARE_OF_MAXIMUM = 0.1


def first_reach_ev(energy_ev: np.ndarray, intensity: np.ndarray, share: float = ONSET_SHARE_OF_MAXIMUM) -> float:
    """Energy where ``intensity`` first reaches ``share`` of its maximum (linear between samples)."""
    level = share * float(np.max(intensity))
    k = int(np.argmax(intensity >= level))
    if k == 0:
        return float(energy_ev[0])
    e0, e1, y0, y1 = energy_ev[k - 1], energy_ev[k], intensity[k - 1], intensity[k]
    return float(e0 + (level - y0) * (e1 - e0) / (y1 - y0))


def case_shift_ev(columns: dict[str, np.ndarray], case: dict[str, Any]) -> float:
    """The energy shift of a case, one per calculation and the same for all its variants.

    A case with ``first_peak_ev`` has the first peak of its ``zz`` component (q along c, where the
    1s -> pi* transition of a layered crystal is strongest) put there: with q in the layers the pi*
    peak is absent, and aligning each variant on its own first peak would move its sigma* peaks
    there. A case with ``onset_ev`` has the energy where its orientation-averaged spectrum first
    reaches :data:`ONSET_SHARE_OF_MAXIMUM` of its maximum put there.
    """
    if "onset_ev" in case:
        return float(case["onset_ev"] - first_reach_ev(columns["energy"], tensor_spectrum(columns, 1.0 / 3.0)))
    return float(case["first_peak_ev"] - first_peak_ev(columns["energy"], columns["zz"]))


def case_onset_ev(case: dict[str, Any]) -> float:
    """The onset of a case's variants: its ``onset_ev``, or 1 eV before its ``first_peak_ev``."""
    return float(case["onset_ev"]) if "onset_ev" in case else float(case["first_peak_ev"]) - 1.0


def fit_case(energy_ev: np.ndarray, intensity: np.ndarray, case: dict[str, Any]) -> tuple[MultiGaussianFit, float]:
    """Fit Gaussian peaks plus one continuum step to an aligned spectrum (max 1).

    Returns
    -------
    the fit, and the onset used (:func:`case_onset_ev`)
    """
    signal = intensity / float(np.max(intensity))
    onset = case_onset_ev(case)
    stop = min(case["tail_start_ev"], float(energy_ev[-1]))
    fit = fit_multi_gaussian(energy_ev, signal, case["n_peaks"], onset,
                             (onset - FIT_START_BEFORE_ONSET_EV, stop),
                             n_steps=1, step_centre_range_ev=(onset, onset + 10.0))
    return fit, onset


def case_alignment(case: dict[str, Any]) -> str:
    """How a case's energies were aligned, with the source of the energy, for its variants' ``source``."""
    if "onset_ev" in case:
        return (f"onset (first reach of {ONSET_SHARE_OF_MAXIMUM:g} of the orientation-averaged maximum) aligned to "
                f"{case['onset_ev']} eV [{case['onset_source']}]")
    return f"first peak of zz (pi*) aligned to {case['first_peak_ev']} eV [{case['first_peak_source']}]"


def case_source(case: dict[str, Any], variant: dict[str, Any], settings: dict[str, Any], fit: MultiGaussianFit) -> str:
    """The ``source`` of a computed variant: the calculation, the tensor combination, the alignment and the fit."""
    return (
        f"FEFF10 (feff10-rs) ELNES of {case['structure']}, {case['absorber']} {case['edge']}, "
        f"cross-section tensor (1 - f)(xx + yy)/2 + f zz with f = {variant['q_along_c']} (share of q along c), "
        f"{settings['beam_energy_kev']} kV, collection {settings['collection_angle_mrad']} mrad, "
        f"convergence {settings['convergence_angle_mrad']} mrad, SCF {settings['scf_radius_a']} A, "
        f"FMS {settings['fms_radius_a']} A, k up to {case_k_max(case, settings)}/A [FEAS]; {case_alignment(case)}; fitted with eels_core.real.fitting.fit_multi_gaussian "
        f"(R^2 {fit.r_squared:.3f}) by scripts/compute_feff_elnes.py"
    )


def plot_fit(energy: np.ndarray, intensity: np.ndarray, fit: MultiGaussianFit, title: str, path: Path) -> None:
    """The aligned FEFF spectrum and its fitted profile."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 3.5))
    ax.plot(energy, intensity / np.max(intensity), label="FEFF10")
    ax.plot(energy, fit.model(energy), "--", label=f"fit (R$^2$ {fit.r_squared:.3f})")
    ax.set(xlabel="energy loss (eV)", ylabel="intensity (max 1)", title=title)
    ax.legend()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=90, bbox_inches="tight")
    plt.close(fig)


def run_case(job: tuple[dict[str, Any], dict[str, Any], dict[str, Any], Path]) -> tuple[str, float]:
    """Run FEFF10 for one case (its structure spec, the shared settings, its folder); return its name
    and the seconds it took. A module-level function, so that a process pool can run cases at once."""
    import feff10

    case, spec, settings, folder = job
    inp = write_feff_input(case, build_structure(spec), settings, folder)
    start = time.perf_counter()
    try:
        feff10.run(str(inp), str(folder))
    except Exception as exc:  # FEFF's own error class does not cross a process pool
        raise RuntimeError(f"{case_name(case)}: FEFF10 failed ({str(exc).splitlines()[0]}); its log is in "
                           f"{folder}/log1.dat. Remove the case from the cases file or change its settings.") from None
    return case_name(case), time.perf_counter() - start


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", type=Path, default=CASES_FILE,
                        help="the cases file (computed_elnes_cases.yaml, or computed_compounds_cases.yaml with "
                             "--out eels_core/data/edge_library_computed_compounds.yaml)")
    parser.add_argument("--work-dir", type=Path, default=DEFAULT_WORK_DIR, help="FEFF runs, one folder per case")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--plot-dir", type=Path, default=DEFAULT_PLOT_DIR)
    parser.add_argument("--jobs", type=int, default=1, help="FEFF10 runs at once (each uses one core)")
    args = parser.parse_args(argv)

    data = load_cases(args.cases)
    settings = data["settings"]
    missing = [case for case in data["cases"] if not (case_folder(args.work_dir, case, settings) / "eels.dat").exists()]
    if missing:
        from concurrent.futures import ProcessPoolExecutor

        jobs = [(case, data["structures"][case["structure"]], settings, case_folder(args.work_dir, case, settings))
                for case in missing]
        with ProcessPoolExecutor(max_workers=max(1, min(args.jobs, len(jobs)))) as pool:
            for name, seconds in pool.map(run_case, jobs):
                print(f"{name}: FEFF10 took {seconds:.0f} s", flush=True)
    grouped: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for case in data["cases"]:
        columns = read_eels_dat(case_folder(args.work_dir, case, settings) / "eels.dat")
        energy = columns["energy"] + case_shift_ev(columns, case)
        for wanted in case["variants"]:
            intensity = tensor_spectrum(columns, wanted["q_along_c"])
            fit, onset = fit_case(energy, intensity, case)
            print(f"{wanted['name']}: R^2 {fit.r_squared:.4f}, {len(fit.peaks)} peaks", flush=True)
            plot_fit(energy, intensity, fit, wanted["name"], args.plot_dir / f"{case_dir_name(wanted['name'])}.png")
            variant = fit.to_variant(wanted["name"], case_source(case, wanted, settings, fit), onset, case["tail_start_ev"])
            grouped.setdefault((case["absorber"], case["edge"]), []).append(variant)
    ordered = sorted(grouped, key=lambda key: ELEMENTS.index(key[0]))
    library = {
        "schema_version": SCHEMA_VERSION,
        "sources": data["sources"],
        "elements": [{"symbol": s, "edge": e, "variants": grouped[(s, e)]} for s, e in ordered],
    }
    header = (
        "# Near-edge structures computed with FEFF10, as edge-library variants (schema: eels_core/data/README.md).\n"
        f"# Written by scripts/compute_feff_elnes.py from eels_core/data/{args.cases.name}; do not edit by hand.\n"
        f"# Read when SynthesisConfig.{data['read_when']} is true.\n"
    )
    args.out.write_text(header + yaml.safe_dump(library, sort_keys=False, width=120, allow_unicode=True), encoding="utf-8")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
