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
3. a near-edge shape per edge class (``eels_core/data/distractor_edge_shapes.yaml``: which class
   each edge family has by atomic number, and each class's peaks and steps), placed on the EELS
   energies of the sub-edges: exspy's onsets (Gatan EELS Atlas, energies in solids) where exspy lists the sub-edge
   within 8 eV of xraydb's, xraydb's X-ray edge energies otherwise. The classes are the edge-shape descriptors of exspy's table (threshold 'Sharp peak' /
   'Broad peak', edge 'Delayed maximum' / 'Abrupt onset' / 'Very delayed', from the Gatan EELS
   Atlas) and the textbook classes (Egerton 2011, ch. 3: white lines of the lanthanide M4,5 and of
   K L2,3, delayed maxima of the 4d-element M4,5, the giant 4d -> 4f resonance of the lanthanide
   N4,5). Widths, delays and amplitude ratios are modelling choices (unsourced), kept in that
   data file with the classes.

The output lists, per entry, the xraydb sub-edge energies, exspy's onset and descriptors where
exspy has the edge, and the class. ``tests/forward/test_edges.py`` checks the file against xraydb.

With ``--table complete_4f`` it writes ``distractor_edge_table_4f.yaml`` (``SynthesisConfig.distractor_table
= "complete_4f"``): the same table, but the M4,5 white lines of each ion of ``m45_white_lines_by_4f`` in the
shapes file get their M5:M4 heights from the ion's 4f occupancy (M5 the taller from 4f1 on), one variant
per occupancy (:func:`white_line_heights`).

Usage::

    .venv/bin/python scripts/make_distractor_edge_table.py [--table complete|complete_4f] [--out FILE]
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
#: The tables this script writes, by the name ``SynthesisConfig.distractor_table`` gives them.
TABLE_FILES: dict[str, Path] = {"complete": OUT, "complete_4f": ROOT / "eels_core" / "data" / "distractor_edge_table_4f.yaml"}
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

#: Shape class per edge family and atomic number, and each class's description and shape.
SHAPES_FILE = ROOT / "eels_core" / "data" / "distractor_edge_shapes.yaml"
SHAPES: dict[str, Any] = yaml.safe_load(SHAPES_FILE.read_text(encoding="utf-8"))
#: Shape classes: what each looks like, and why (the numbers are modelling choices).
SHAPE_CLASSES: dict[str, str] = {cls: spec["description"] for cls, spec in SHAPES["classes"].items()}


def shape_class(z: int, family: str) -> str:
    """The shape class of an edge family of element number ``z``: the first rule of the family in
    ``SHAPES_FILE`` whose atomic-number range holds ``z``."""
    for rule in SHAPES["families"].get(family, []):
        if rule.get("z_min", z) <= z <= rule.get("z_max", z):
            return str(rule["class"])
    raise ValueError(f"no shape class for the {family} family of Z = {z} in {SHAPES_FILE.name}")


def m4_to_m5(n: int) -> float:
    """The M4/M5 height ratio of the lanthanide white lines of an ion with ``n`` 4f electrons (the law of
    ``m45_white_lines_by_4f`` in the shapes file: exponential in ``n``, 0 at 4f13, whose one hole an M4
    electron cannot reach in a dipole transition)."""
    law = SHAPES["m45_white_lines_by_4f"]
    if not 0 <= n <= 13:
        raise ValueError(f"4f occupancy {n}: the M4,5 white lines need 0-13 4f electrons (4f14 has no 4f hole)")
    return 0.0 if n == 13 else float(law["m4_to_m5_at_4f0"]) * float(law["factor_per_4f_electron"]) ** n


def white_line_heights(n: int) -> list[float]:
    """Heights of the M5 and M4 lines (in the class's peak order), the taller 1, for ``n`` 4f electrons."""
    ratio = m4_to_m5(n)
    return [1.0, ratio] if ratio <= 1.0 else [1.0 / ratio, 1.0]


def _r(x: float) -> float:
    return round(float(x), 1)


def shape(z: int, cls: str, energies: list[float], heights: list[float] | None = None) -> dict[str, Any]:
    """Peaks, steps and tail start of one edge, from its class and sub-edge energies (eV); ``heights``
    replaces the amplitudes of the class's peaks, in their order."""
    lo, hi = energies[0], energies[-1]
    split = hi - lo
    if cls not in SHAPES["classes"]:
        raise ValueError(f"unknown shape class {cls!r}")
    spec = SHAPES["classes"][cls]
    anchors = {"lo": lo, "hi": hi}
    params = {name: value + per_z * (z - z0) for name, (value, per_z, z0) in spec.get("params", {}).items()}

    def number(x: float | str) -> float:
        return params[x] if isinstance(x, str) else x

    def position(anchor: str, *offsets: float | str) -> float:
        at = anchors[anchor]
        for offset in offsets:  # left to right, as the classes are written
            at = at + number(offset)
        return at

    peaks = [[position(anchor, offset), number(w), a] for anchor, offset, w, a in spec["peaks"]]
    if heights is not None:
        if len(heights) != len(peaks):
            raise ValueError(f"{cls}: {len(heights)} heights for {len(peaks)} peaks")
        peaks = [[c, w, h] for (c, w, _), h in zip(peaks, heights)]
    steps = [[position(anchor, offset), number(w), h] for anchor, offset, w, h in spec["steps"]]
    tail = position(*spec["tail"])
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
    previous = logging.root.manager.disable
    logging.disable(logging.WARNING)  # exspy's import logs; put the level back, or later logging stays silenced
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            from exspy._misc.elements import elements
    finally:
        logging.disable(previous)
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


def build(table: str = "complete") -> dict[str, Any]:
    """The distractor table ``table`` (a key of :data:`TABLE_FILES`)."""
    if table not in TABLE_FILES:
        raise ValueError(f"table {table!r}: choose one of {', '.join(TABLE_FILES)}")
    by_4f = SHAPES["m45_white_lines_by_4f"] if table == "complete_4f" else None
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
            source = (f"sub-edge energies [EX-ATLAS] where listed, else [XR]; shape class '{cls}' [EX-ATLAS] [EG]; widths, delays "
                      "and ratios unsourced (scripts/make_distractor_edge_table.py)")
            if by_4f is not None and cls == by_4f["class"] and el in by_4f["occupancies"]:
                entry["variants"] = [{
                    "name": f"{el} {fam}, {cls}, 4f{n} ({'M4' if m4_to_m5(n) > 1.0 else 'M5'} the taller)",
                    "source": source + "; M5:M4 heights by 4f occupancy [4F]",
                    **shape(z, cls, energies, white_line_heights(n)),
                } for n in by_4f["occupancies"][el]]
            else:
                entry["variants"] = [{"name": f"{el} {fam}, {cls}", "source": source, **shape(z, cls, energies)}]
            entries.append(entry)
    check_left_out_families_are_not_in_the_atlas(atlas, kept_symbols)
    n_variants = sum(len(e["variants"]) for e in entries)
    if n_variants > MAX_DISTRACTOR_VARIANTS:
        raise SystemExit(f"{n_variants} variants: the synthesis indexes at most {MAX_DISTRACTOR_VARIANTS}")
    import exspy

    sources = {"4F": " ".join(by_4f["source"].split())} if by_4f is not None else {}
    return {
        "schema_version": 1,
        "sources": {**sources,
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
# radioactive elements Tc, Pm, Po-Ac, Pa), with a near-edge shape per edge class{by_4f}.
# WRITTEN BY scripts/make_distractor_edge_table.py{option} - do not edit by hand; change the script.
# Read by eels_core.forward.edges.load_distractor_edges("{table}") when
# SynthesisConfig.distractor_table = "{table}". Same schema as edge_library.yaml; extra keys per
# entry (xraydb_subedges_ev, shape_class, exspy_*) document where each number comes from.
"""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--table", choices=list(TABLE_FILES), default="complete")
    parser.add_argument("--out", type=Path, help="where to write it (default: the table's file in eels_core/data)")
    args = parser.parse_args(argv)
    args.out = args.out or TABLE_FILES[args.table]
    data = build(args.table)
    header = HEADER.format(
        table=args.table, option="" if args.table == "complete" else f" --table {args.table}",
        by_4f="" if args.table == "complete" else ",\n# the lanthanide M4,5 white lines with their M5:M4 heights by 4f occupancy")
    text = header + yaml.safe_dump(data, sort_keys=False, width=120, allow_unicode=True, default_flow_style=None)
    args.out.write_text(text, encoding="utf-8")
    print(f"{args.out}: {len(data['elements'])} distractor edges, {sum(len(e['variants']) for e in data['elements'])} variants")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
