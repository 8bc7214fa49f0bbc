#!/usr/bin/env python
"""Write ``eels_core/data/distractor_edge_table.yaml``: every edge of every element outside the 20.

The synthesis can add unlabelled "distractor" edges of elements the network must not name
(``SynthesisConfig.distractor_probability``). ``distractor_edges.yaml`` holds 13 hand-picked ones;
this script writes the complete table (``SynthesisConfig.distractor_table = "complete"``):

1. every element from Li to U except the 20 of the paper's Table 1 and the radioactive elements
   without a stable or long-lived isotope that a specimen would hold (Tc, Pm, Po-Ac, Pa);
2. every edge family of it whose lower sub-edge lies in ``[70, 1000)`` eV in xraydb
   (``xraydb.xray_edges``; 70 eV because the delayed maximum of an edge 20 eV below the 90 eV
   window start is still inside it): K, L2,3, M2,3, M4,5, N4,5, N6,7, O4,5. Left out: the s-shell
   edges (L1, M1, N1, O1), weak small steps, and the N2,3 / O2,3 edges of the heavy elements;
   the EELS Atlas behind exspy's edge table lists none of these for a stable element (checked
   below: :func:`check_left_out_families_are_not_in_the_atlas`);
3. a near-edge shape per edge class (:data:`SHAPE_CLASSES`), placed on the EELS energies of the
   sub-edges: exspy's onsets (Gatan EELS Atlas, energies in solids) where exspy lists the sub-edge
   within 8 eV of xraydb's, xraydb's X-ray edge energies otherwise. The classes are the edge-shape descriptors of exspy's table (threshold 'Sharp peak' /
   'Broad peak', edge 'Delayed maximum' / 'Abrupt onset' / 'Very delayed', from the Gatan EELS
   Atlas) and the textbook classes (Egerton 2011, ch. 3: white lines of the lanthanide M4,5 and of
   K L2,3, delayed maxima of the 4d-element M4,5, the giant 4d -> 4f resonance of the lanthanide
   N4,5). Widths, delays and amplitude ratios are modelling choices (unsourced), kept in the
   class table below.

The output lists, per entry, the xraydb sub-edge energies, exspy's onset and descriptors where
exspy has the edge, and the class. ``tests/forward/test_edges.py`` checks the file against xraydb.

Usage::

    .venv/bin/python scripts/make_distractor_edge_table.py [--out eels_core/data/distractor_edge_table.yaml]
"""

from __future__ import annotations

import argparse
import logging
import sys
import warnings
from pathlib import Path
from typing import Any

import xraydb
import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from eels_core.forward.config import ELEMENTS  # noqa: E402
from eels_core.forward.edges import MAX_DISTRACTOR_VARIANTS  # noqa: E402

OUT = ROOT / "eels_core" / "data" / "distractor_edge_table.yaml"
#: Lower sub-edge energies (eV) of the edges kept.
ENERGY_RANGE_EV = (70.0, 1000.0)
#: Largest sub-edge splitting modelled in one entry (eV): its shape must end 90 eV above the onset.
MAX_SPLIT_EV = 60.0
#: No stable or long-lived isotope: never in a specimen (Th and U are kept).
RADIOACTIVE = ("Tc", "Pm", "Po", "At", "Rn", "Fr", "Ra", "Ac", "Pa")
#: Edge family -> its xraydb sub-edges, lower-energy (onset) sub-edge first.
FAMILIES: dict[str, tuple[str, ...]] = {
    "K": ("K",),
    "L2,3": ("L3", "L2"),
    "M2,3": ("M3", "M2"),
    "M4,5": ("M5", "M4"),
    "N4,5": ("N5", "N4"),
    "N6,7": ("N7", "N6"),
    "O4,5": ("O5", "O4"),
}
LEFT_OUT = {"L1": ("L1",), "M1": ("M1",), "N1": ("N1",), "O1": ("O1",), "N2,3": ("N3", "N2"), "O2,3": ("O3", "O2")}

#: Shape classes: what each looks like, and why (the numbers are modelling choices).
SHAPE_CLASSES: dict[str, str] = {
    "K abrupt onset": "sawtooth: a step with a small peak at the onset and a broad maximum ~15 eV above "
                      "(exspy 'Abrupt onset' for Be K and Ne K)",
    "L2,3 white-line doublet": "two sharp lines at L3 and L2 on a small step, like Ca L2,3 (exspy 'Sharp peak' "
                               "for K L2,3; Egerton ch. 3)",
    "L2,3 delayed maximum": "sharp threshold peaks, then a broad maximum ~27 eV above the onset "
                            "(exspy 'Sharp peak / Delayed maximum' for Al L2,3)",
    "M4,5 delayed maximum": "a weak step, then a broad maximum 15-26 eV above the onset, later for heavier "
                            "elements (exspy 'Delayed maximum' for the 4d-5p elements Rb-Xe; Egerton ch. 3)",
    "M4,5 white lines": "sharp M5 and M4 lines, M4 the taller, on a weak step (exspy 'Sharp peak' for Cs, Ba "
                        "and the lanthanides; Egerton ch. 3: La M4,5 832/849 eV)",
    "M2,3 lines": "two broad lines at M3 and M2 (2:1) on a step (exspy 'Sharp peak' for Rb-Rh M2,3)",
    "M2,3 delayed": "broad maxima ~8 eV above M3 and M2 (exspy 'Delayed maximum' for Zn and Ag-I M2,3)",
    "N4,5 giant resonance": "the 4d -> 4f resonance: a broad peak ~12 eV above the onset (exspy 'Broad peak / "
                            "Delayed maximum' for Cs-Yb N4,5)",
    "N4,5 very delayed": "a broad maximum ~30 eV above the onset (exspy 'Very delayed' for Lu N4,5)",
    "N4,5 broad lines": "two broad maxima above N5 and N4 (3:2) on a step (5d elements and actinides; not in "
                        "exspy's table; shape unsourced)",
    "N6,7 delayed": "a broad maximum ~15 eV above N7 (Au-Bi N6,7; not in exspy's table; shape unsourced)",
    "N6,7 broad lines": "two broad lines at N7 and N6 (4:3, the 4f7/2 : 4f5/2 occupancies) for the actinides",
    "O4,5 giant resonance": "the 5d -> 5f resonance: a broad peak ~12 eV above the onset (exspy 'Broad peak / "
                            "Delayed maximum' for Th and U O4,5)",
}


def shape_class(z: int, family: str) -> str:
    """The shape class of an edge family of element number ``z``."""
    if family == "K":
        return "K abrupt onset"
    if family == "L2,3":
        return "L2,3 white-line doublet" if z >= 19 else "L2,3 delayed maximum"
    if family == "M4,5":
        return "M4,5 white lines" if z >= 55 else "M4,5 delayed maximum"
    if family == "M2,3":
        return "M2,3 lines" if 36 <= z <= 45 else "M2,3 delayed"
    if family == "N4,5":
        if z <= 70:
            return "N4,5 giant resonance"
        return "N4,5 very delayed" if z == 71 else "N4,5 broad lines"
    if family == "N6,7":
        return "N6,7 broad lines" if z >= 89 else "N6,7 delayed"
    if family == "O4,5":
        return "O4,5 giant resonance"
    raise ValueError(f"no shape class for the {family} family")


def _r(x: float) -> float:
    return round(float(x), 1)


def shape(z: int, cls: str, energies: list[float]) -> dict[str, Any]:
    """Peaks, steps and tail start of one edge, from its class and sub-edge energies (eV)."""
    lo, hi = energies[0], energies[-1]
    split = hi - lo
    peaks: list[list[float]]
    steps: list[list[float]]
    if cls == "K abrupt onset":
        peaks = [[lo + 1.5, 1.5, 0.45], [lo + 15.0, 10.0, 0.5]]
        steps = [[lo + 0.5, 1.2, 0.5]]
        tail = lo + 45.0
    elif cls == "L2,3 white-line doublet":
        peaks = [[lo + 1.6, 0.9, 1.0], [hi + 1.6, 1.0, 0.9]]
        steps = [[lo + 1.4, 1.5, 0.15]]
        tail = hi + 35.0
    elif cls == "L2,3 delayed maximum":
        peaks = [[lo + 6.0, 1.5, 0.5], [lo + 8.0, 2.0, 0.6], [lo + 26.5, 10.0, 1.0], [lo + 46.5, 12.0, 0.5]]
        steps = [[lo + 4.5, 2.0, 0.3]]
        tail = lo + 58.0
    elif cls == "M4,5 delayed maximum":
        delay = 15.0 + 0.6 * (z - 36)
        width = 12.0 + 0.5 * (z - 36)
        peaks = [[lo + 2.0, 2.0, 0.12], [lo + delay, width, 1.0]]
        steps = [[lo + 1.0, 3.0, 0.25]]
        tail = lo + delay + width + 15.0
    elif cls == "M4,5 white lines":
        peaks = [[lo + 1.5, 1.8, 0.85], [hi + 1.5, 2.0, 1.0]]
        steps = [[lo + 1.0, 2.0, 0.06]]
        tail = hi + 40.0
    elif cls == "M2,3 lines":
        width = 2.5 + 0.15 * (z - 36)
        peaks = [[lo + 1.5, width, 1.0], [hi + 1.5, width, 0.5]]
        steps = [[lo + 1.0, 2.0, 0.3]]
        tail = hi + 30.0
    elif cls == "M2,3 delayed":
        peaks = [[lo + 8.0, 10.0, 1.0], [hi + 8.0, 10.0, 0.5]]
        steps = [[lo + 1.5, 3.0, 0.25]]
        tail = hi + 30.0
    elif cls in ("N4,5 giant resonance", "O4,5 giant resonance"):
        peaks = [[lo + 2.0, 2.0, 0.1], [lo + 12.0, 12.0, 1.0]]
        steps = [[lo + 1.0, 3.0, 0.15]]
        tail = lo + 40.0
    elif cls == "N4,5 very delayed":
        peaks = [[lo + 30.0, 20.0, 1.0]]
        steps = [[lo + 2.0, 4.0, 0.2]]
        tail = lo + 65.0
    elif cls == "N4,5 broad lines":
        peaks = [[lo + 4.0, 8.0, 1.0], [hi + 4.0, 9.0, 0.7]]
        steps = [[lo + 2.0, 5.0, 0.2], [hi + 2.0, 5.0, 0.15]]
        tail = hi + 40.0
    elif cls == "N6,7 delayed":
        peaks = [[lo + 15.0, 12.0, 1.0]]
        steps = [[lo + 1.5, 3.0, 0.3]]
        tail = lo + 45.0
    elif cls == "N6,7 broad lines":
        peaks = [[lo + 3.0, 6.0, 1.0], [hi + 3.0, 7.0, 0.75]]
        steps = [[lo + 2.0, 5.0, 0.2], [hi + 2.0, 5.0, 0.15]]
        tail = hi + 42.0
    else:
        raise ValueError(f"unknown shape class {cls!r}")
    if not 15.0 <= tail - lo <= 90.0 or split < 0:
        raise ValueError(f"{cls}: tail start {tail - lo:.1f} eV above the onset is outside [15, 90] eV")
    return {
        "edge_onset_ev": _r(lo),
        "tail_start_ev": _r(tail),
        "peaks": [[_r(c), _r(w), round(a, 3)] for c, w, a in peaks],
        "steps": [[_r(c), _r(w), round(a, 3)] for c, w, a in steps],
    }


def _subedge_ev(atlas: dict[str, dict[str, Any]], el: str, fam: str, sub: str, xray_ev: float) -> float:
    """EELS energy of one sub-edge: exspy's onset for it (or for the whole family when exspy lists the
    family as one edge, e.g. 'L2,3') if within 8 eV of the X-ray energy, else the X-ray energy."""
    for key in (sub, fam):
        rec = atlas.get(el, {}).get(key)
        if rec and abs(float(rec["onset_energy (eV)"]) - xray_ev) <= 8.0:
            return float(rec["onset_energy (eV)"])
    return xray_ev


def exspy_edges() -> dict[str, dict[str, Any]]:
    """exspy's EELS edge table (Gatan EELS Atlas): element -> edge -> record."""
    logging.disable(logging.WARNING)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from exspy._misc.elements import elements
    return {el: dict(d["Atomic_properties"].get("Binding_energies", {})) for el, d in elements.items()}


def check_left_out_families_are_not_in_the_atlas(atlas: dict[str, dict[str, Any]], symbols: list[str]) -> None:
    """Raise if exspy lists a left-out (s-shell, N2,3, O2,3) edge of a kept element as a Major edge
    in the energy range; Minor ones are allowed (they are what the atlas calls hard to see)."""
    lo, hi = ENERGY_RANGE_EV
    for el in symbols:
        for fam, subs in LEFT_OUT.items():
            for sub in subs:
                rec = atlas.get(el, {}).get(sub)
                if rec and lo <= rec["onset_energy (eV)"] < hi and rec.get("relevance") == "Major":
                    raise SystemExit(f"exspy lists {el} {sub} as a Major edge: keep the {fam} family")


def build() -> dict[str, Any]:
    atlas = exspy_edges()
    entries = []
    kept_symbols = []
    for z in range(3, 93):
        el = xraydb.atomic_symbol(z)
        if el in ELEMENTS or el in RADIOACTIVE:
            continue
        kept_symbols.append(el)
        table = xraydb.xray_edges(el)
        for fam, subs in FAMILIES.items():
            present = [s for s in subs if s in table]
            if not present:
                continue
            # EELS energies in solids: exspy's (EELS Atlas) onset of a sub-edge where it has one, the
            # X-ray edge energy otherwise (the two agree within a few eV for these shells)
            sub_energy = {s: _subedge_ev(atlas, el, fam, s, float(table[s].energy)) for s in present}
            energies = sorted(sub_energy.values())
            if not ENERGY_RANGE_EV[0] <= energies[0] < ENERGY_RANGE_EV[1]:
                continue
            # a sub-edge more than MAX_SPLIT_EV above the onset is not modelled with it (it lies
            # above 1000 eV for every such edge: Cs and Ba M2)
            energies = [e for e in energies if e - energies[0] <= MAX_SPLIT_EV]
            cls = shape_class(z, fam)
            records = [atlas.get(el, {}).get(s) for s in subs] + [atlas.get(el, {}).get(fam)]
            records = [r for r in records if r]
            entry: dict[str, Any] = {
                "symbol": el,
                "edge": fam,
                "atomic_number": z,
                "edge_onset_ev": _r(energies[0]),
                "xraydb_onset_ev": _r(min(table[s].energy for s in present)),
                "xraydb_subedges_ev": {s: _r(table[s].energy) for s in present},
                "subedges_ev": {s: _r(e) for s, e in sub_energy.items()},
                "shape_class": cls,
            }
            if records:
                entry["exspy_onset_ev"] = _r(min(r["onset_energy (eV)"] for r in records))
                entry["exspy_shape"] = f"{records[0].get('threshold', '')} / {records[0].get('edge', '')}".strip()
                entry["exspy_relevance"] = records[0].get("relevance", "")
            variant = {
                "name": f"{el} {fam}, {cls}",
                "source": f"sub-edge energies [EX-ATLAS] where listed, else [XR]; shape class '{cls}' [EX-ATLAS] [EG]; widths, delays and ratios "
                          "unsourced (scripts/make_distractor_edge_table.py)",
                **shape(z, cls, energies),
            }
            entry["variants"] = [variant]
            entries.append(entry)
    check_left_out_families_are_not_in_the_atlas(atlas, kept_symbols)
    if len(entries) > MAX_DISTRACTOR_VARIANTS:
        raise SystemExit(f"{len(entries)} entries: the synthesis indexes at most {MAX_DISTRACTOR_VARIANTS}")
    import exspy

    return {
        "schema_version": 1,
        "sources": {
            "XR": f"xraydb {xraydb.__version__}, xraydb.xray_edges(element): X-ray edge energies",
            "EX-ATLAS": f"exspy {exspy.__version__}, exspy/_misc/elements.py, Binding_energies: EELS onsets, "
                        "'threshold' / 'edge' shape descriptors and 'relevance' from the Gatan EELS Atlas",
            "EG": "R. F. Egerton, Electron Energy-Loss Spectroscopy in the Electron Microscope, 3rd ed., "
                  "Springer (2011), ch. 3: classes of edge shapes",
        },
        "shape_classes": SHAPE_CLASSES,
        "elements": entries,
    }


HEADER = """\
# Complete table of distractor edges: every K, L2,3, M2,3, M4,5, N4,5, N6,7 and O4,5 edge with its
# lower sub-edge in 70-1000 eV of every element outside the paper's 20 (Li-U, without the
# radioactive elements Tc, Pm, Po-Ac, Pa), with a near-edge shape per edge class.
# WRITTEN BY scripts/make_distractor_edge_table.py - do not edit by hand; change the script.
# Read by eels_core.forward.edges.load_distractor_edges("complete") when
# SynthesisConfig.distractor_table = "complete". Same schema as edge_library.yaml; extra keys per
# entry (xraydb_subedges_ev, shape_class, exspy_*) document where each number comes from.
"""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args(argv)
    data = build()
    text = HEADER + yaml.safe_dump(data, sort_keys=False, width=120, allow_unicode=True, default_flow_style=None)
    args.out.write_text(text, encoding="utf-8")
    print(f"{args.out}: {len(data['elements'])} distractor edges")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
