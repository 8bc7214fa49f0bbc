"""The edge library: 20 core-loss edges as multi-Gaussian models (paper: "Edge modeling", Table 1).

The paper digitised ~400 literature edges (not public) and fitted each with a sum of Gaussians.
Our library is data, in ``eels_core/data/edge_library.yaml``: for each of the 20 Table 1 edges a
reference onset, the Table 1 jump-ratio range, and several variants (compounds, valence states),
each a list of Gaussian peaks plus error-function continuum steps with the source of its numbers.
Edges fitted to public real spectra (``edge_library_fitted.yaml``) can be added on request.

This module loads and validates the library and evaluates an edge on an energy grid:
:func:`edge_template` (unbroadened near-edge profile) and :func:`extend_edge_tail` (the paper's
inverse-power-law extension of the edge beyond its near-edge region). Beyond the paper,
:func:`exelfs_modulation` adds the extended fine structure (EXELFS) that modulates an edge for
tens to hundreds of eV above its near-edge region.
"""

from __future__ import annotations

import dataclasses
import functools
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import scipy.constants
import yaml
from numpy.typing import ArrayLike, NDArray

from .config import COMPUTED_COMPOUND_SET_NAMES, DISTRACTOR_TABLE_NAMES, ELEMENTS, SynthesisConfig
from .profiles import gaussian_peaks, near_edge_profile

LIBRARY_FILE = "edge_library.yaml"
FITTED_LIBRARY_FILE = "edge_library_fitted.yaml"
#: Variants added after the shipped model was trained (``SynthesisConfig.library_additions``): kept in
#: their own file so that the default library, and so every default synthesis stream, is unchanged.
ADDITIONS_FILE = "edge_library_additions.yaml"
#: Near-edge structures computed with FEFF10 (``SynthesisConfig.computed_elnes``), written by
#: ``scripts/compute_feff_elnes.py`` from ``computed_elnes_cases.yaml``.
COMPUTED_LIBRARY_FILE = "edge_library_computed.yaml"
#: Measured reference edges that are not validation spectra (``SynthesisConfig.measured_reference_edges``),
#: written by ``scripts/fit_measured_edges.py`` from the curves of ``eels_core/data/measured_edges/``.
MEASURED_LIBRARY_FILE = "edge_library_measured.yaml"
#: Edges that a library variant brings with it (boron nitride: B K with N K).
COMPANION_FILE = "edge_companions.yaml"
DISTRACTOR_FILE = "distractor_edges.yaml"
#: The distractor tables :func:`load_distractor_edges` reads: ``"curated"`` (13 hand-picked edges, the
#: default), ``"complete"`` (every edge of every element outside the 20 between 70 and 1000 eV) and
#: ``"complete_4f"`` (the same, the lanthanide M4,5 white lines with their M5:M4 heights by 4f occupancy),
#: the last two written by ``scripts/make_distractor_edge_table.py``.
DISTRACTOR_TABLES: dict[str, str] = dict(zip(DISTRACTOR_TABLE_NAMES, (
    DISTRACTOR_FILE, "distractor_edge_table.yaml", "distractor_edge_table_4f.yaml"), strict=True))
#: The distractor shape classes (``shape_classes`` of ``distractor_edge_table.yaml``) whose edges are sharp
#: lines on a weak step, as the labelled L2,3 edges of Ca-Ni are: the M4,5 white lines of Cs, Ba and the
#: lanthanides and the K L2,3 doublet (Egerton 2011, ch. 3; exspy's "Sharp peak"). They alone share the
#: labelled white lines' shape; ``SynthesisConfig.distractor_white_line_weight`` weights their draws.
WHITE_LINE_SHAPE_CLASSES = ("M4,5 white lines", "L2,3 white-line doublet")
#: Most distractor variants a table may hold: the synthesis stores the index as int8.
MAX_DISTRACTOR_VARIANTS = 127
SCHEMA_VERSION = 1


@dataclass(frozen=True)
class ComputedCompoundSet:
    """The files of one set of compounds whose K edges were computed with FEFF10.

    Attributes
    ----------
    cases_file : str
        Structures, settings and alignments of the calculations, each variant with the hand-typed
        variant it is compared with (read by ``scripts/compute_feff_elnes.py --cases``).
    library_file : str
        The variants ``scripts/compute_feff_elnes.py`` writes from them, in the edge-library schema.
    """

    cases_file: str
    library_file: str


#: Every set of computed compounds, by the :class:`~eels_core.forward.config.SynthesisConfig` field that
#: draws it (and that its cases file names as ``read_when``), in the order their variants join the
#: library. Each set has files of its own, so that adding one leaves the draws of the others unchanged:
#: common compounds (B, C, N, O, F K of MgO, rutile TiO2, ZnO, LiF, diamond, graphite, c-BN, GaN); a
#: second set (N, O, F K of TiN, AlN, NiO, SrTiO3, alpha-Al2O3, MgF2); a third, all nitrides (N K of
#: InN, AlN with q in the basal plane and along c, beta-Si3N4, ZrN); a fourth, carbides, a boride and
#: more oxides (C K of 3C-SiC and TiC, B K of TiB2, O K of CaO, MnO, alpha-Fe2O3, CeO2, alpha-quartz).
COMPUTED_COMPOUND_SETS: dict[str, ComputedCompoundSet] = dict(zip(COMPUTED_COMPOUND_SET_NAMES, (
    ComputedCompoundSet("computed_compounds_cases.yaml", "edge_library_computed_compounds.yaml"),
    ComputedCompoundSet("computed_compounds_2_cases.yaml", "edge_library_computed_compounds_2.yaml"),
    ComputedCompoundSet("computed_compounds_3_cases.yaml", "edge_library_computed_compounds_3.yaml"),
    ComputedCompoundSet("computed_compounds_4_cases.yaml", "edge_library_computed_compounds_4.yaml"),
), strict=True))


@dataclass(frozen=True)
class EdgeVariant:
    """One modelled edge of one compound (a row of the edge library).

    Attributes
    ----------
    symbol, edge : str
        Element and edge type, e.g. ``"Ti"``, ``"L2,3"``.
    name : str
        Compound / valence state, e.g. ``"TiO2 (rutile), Ti4+"``.
    source : str
        Where the peak positions come from (publication or fitted real spectrum).
    edge_onset_ev : float
        Where the edge starts to rise; the onset label of a synthetic spectrum.
    tail_start_ev : float
        Beyond this energy the edge is extended by an inverse power law.
    peaks : ndarray, shape (k, 3)
        Gaussian peaks: centre (eV), FWHM (eV), amplitude.
    steps : ndarray, shape (m, 3)
        Continuum steps: centre (eV), FWHM of the rise (eV), height.
    fitted : bool
        True for entries fitted to the shared real spectra.
    """

    symbol: str
    edge: str
    name: str
    source: str
    edge_onset_ev: float
    tail_start_ev: float
    peaks: NDArray[np.float64]
    steps: NDArray[np.float64]
    fitted: bool = False

    @property
    def label(self) -> str:
        """Edge name as in the paper, e.g. ``"Ti L2,3"``."""
        return f"{self.symbol} {self.edge}"


@dataclass(frozen=True)
class ElementEdge:
    """One of the 20 target edges with its variants and Table 1 data."""

    symbol: str
    edge: str
    edge_onset_ev: float
    onset_source: str
    xraydb_onset_ev: float
    jump_ratio_range: tuple[float, float]
    table1_n_edges: int
    variants: tuple[EdgeVariant, ...]

    @property
    def label(self) -> str:
        """Edge name as in the paper, e.g. ``"Ti L2,3"``."""
        return f"{self.symbol} {self.edge}"


@dataclass(frozen=True)
class EdgeLibrary:
    """The 20 target edges in Table 1 order, plus the bibliography of the library file."""

    elements: tuple[ElementEdge, ...]
    sources: dict[str, str]

    @property
    def symbols(self) -> tuple[str, ...]:
        """Element symbols in label order."""
        return tuple(e.symbol for e in self.elements)

    @property
    def labels(self) -> tuple[str, ...]:
        """Edge names in label order, e.g. ``("B K", ..., "Ar L2,3")``."""
        return tuple(e.label for e in self.elements)

    def element(self, symbol: str) -> ElementEdge:
        """The entry of one element; ``ValueError`` naming the allowed symbols otherwise."""
        for e in self.elements:
            if e.symbol == symbol:
                return e
        raise ValueError(f"unknown element {symbol!r}; the library has {', '.join(self.symbols)}")

    @property
    def variants(self) -> tuple[EdgeVariant, ...]:
        """All variants, element by element."""
        return tuple(v for e in self.elements for v in e.variants)


def _as_rows(value: Any, what: str, where: str) -> NDArray[np.float64]:
    arr = np.asarray(value if value is not None else [], dtype=np.float64).reshape(-1, 3)
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{where}: {what} must be finite numbers")
    return arr


def validate_variant(v: EdgeVariant, reference_onset_ev: float) -> None:
    """Check one variant against the library rules of ``eels_core/data/README.md``.

    Raises
    ------
    ValueError
        Naming the variant and the broken rule.
    """
    where = f"{v.label} variant {v.name!r}"
    if v.steps.shape[0] < 1:
        raise ValueError(f"{where}: needs at least one continuum step (an edge never returns to zero)")
    if np.any(v.peaks[:, 1] < 0.6):
        raise ValueError(f"{where}: every peak FWHM must be >= 0.6 eV")
    if np.any(v.steps[:, 1] < 0.5):
        raise ValueError(f"{where}: every step FWHM must be >= 0.5 eV")
    if np.any(v.peaks[:, 2] <= 0) or np.any(v.steps[:, 2] <= 0):
        raise ValueError(f"{where}: peak amplitudes and step heights must be > 0")
    centres = np.concatenate([v.peaks[:, 0], v.steps[:, 0]])
    if np.any(centres < v.edge_onset_ev - 2.0) or np.any(centres > v.tail_start_ev):
        raise ValueError(
            f"{where}: peak/step centres must lie in [edge_onset_ev - 2, tail_start_ev] = "
            f"[{v.edge_onset_ev - 2}, {v.tail_start_ev}]"
        )
    if abs(v.edge_onset_ev - reference_onset_ev) > 8.0:
        raise ValueError(
            f"{where}: edge_onset_ev {v.edge_onset_ev} is more than 8 eV from the reference onset {reference_onset_ev}"
        )
    if not 15.0 <= v.tail_start_ev - v.edge_onset_ev <= 90.0:
        raise ValueError(f"{where}: tail_start_ev - edge_onset_ev must be within [15, 90] eV")


def _parse_variants(entries: list[dict[str, Any]], symbol: str, edge: str, fitted: bool) -> list[EdgeVariant]:
    out = []
    for i, ent in enumerate(entries):
        where = f"{symbol} {edge} variant #{i}"
        try:
            out.append(
                EdgeVariant(
                    symbol=symbol,
                    edge=edge,
                    name=str(ent["name"]),
                    source=str(ent["source"]),
                    edge_onset_ev=float(ent["edge_onset_ev"]),
                    tail_start_ev=float(ent["tail_start_ev"]),
                    peaks=_as_rows(ent.get("peaks"), "peaks", where),
                    steps=_as_rows(ent.get("steps"), "steps", where),
                    fitted=fitted,
                )
            )
        except KeyError as exc:
            raise ValueError(f"{where}: missing field {exc.args[0]!r}") from None
    return out


def _read_yaml(path: Path | None, name: str) -> dict[str, Any]:
    if path is None:
        text = resources.files("eels_core.data").joinpath(name).read_text(encoding="utf-8")
    else:
        text = Path(path).read_text(encoding="utf-8")
    data = yaml.safe_load(text)
    if not isinstance(data, dict) or data.get("schema_version") != SCHEMA_VERSION:
        raise ValueError(f"{path or name}: not an edge library of schema_version {SCHEMA_VERSION}")
    return data


@functools.lru_cache(maxsize=8)
def load_edge_library(include_fitted: bool = False, path: str | None = None, include_additions: bool = False,
                      include_computed: bool = False, computed_compound_sets: tuple[str, ...] = (),
                      include_measured: bool = False) -> EdgeLibrary:
    """Load and validate the edge library.

    Parameters
    ----------
    include_fitted : bool
        Add the variants fitted to public real spectra (``edge_library_fitted.yaml``).
    path : str, optional
        Another library file of the same schema (default: the packaged one).
    include_additions : bool
        Add the variants of ``edge_library_additions.yaml`` after each element's own (and fitted)
        ones: near-edge structures added after the shipped model was trained (the h-BN N K with
        its sigma* taller than its pi*, the Sc3+ L2,3 multiplet pattern, ...).
    include_computed : bool
        Add the variants of ``edge_library_computed.yaml`` after those: near-edge structures
        computed with FEFF10 (h-BN B K and N K at the two limiting orientations to the beam).
    computed_compound_sets : tuple of str
        Names of sets of compounds (keys of :data:`COMPUTED_COMPOUND_SETS`) whose K edges, computed
        with FEFF10 up to 90 eV above their onsets, are added after those, in the order of
        :data:`COMPUTED_COMPOUND_SETS` whatever the order given.
    include_measured : bool
        Add the variants of ``edge_library_measured.yaml`` last: measured reference edges that are
        not validation spectra (the Mn L2,3 edges of five Mn oxides, ``scripts/fit_measured_edges.py``).

    Raises
    ------
    ValueError
        A name in ``computed_compound_sets`` that is not a set of computed compounds.

    Returns
    -------
    EdgeLibrary
        Elements in Table 1 order.
    """
    data = _read_yaml(Path(path) if path else None, LIBRARY_FILE)
    fitted: dict[str, list[EdgeVariant]] = {}
    if include_fitted:
        fdata = _read_yaml(None, FITTED_LIBRARY_FILE)
        for ent in fdata.get("elements", []):
            fitted.setdefault(ent["symbol"], []).extend(
                _parse_variants(ent.get("variants", []), ent["symbol"], ent["edge"], fitted=True)
            )
    unknown = sorted(set(computed_compound_sets) - set(COMPUTED_COMPOUND_SETS))
    if unknown:
        raise ValueError(f"computed_compound_sets: {', '.join(map(repr, unknown))} not a set of computed compounds; "
                         f"choose from {', '.join(COMPUTED_COMPOUND_SETS)}")
    for wanted, name in ((include_additions, ADDITIONS_FILE), (include_computed, COMPUTED_LIBRARY_FILE),
                         *((set_name in computed_compound_sets, files.library_file)
                           for set_name, files in COMPUTED_COMPOUND_SETS.items()),
                         (include_measured, MEASURED_LIBRARY_FILE)):
        if not wanted:
            continue
        for ent in _read_yaml(None, name).get("elements", []):
            fitted.setdefault(ent["symbol"], []).extend(
                _parse_variants(ent.get("variants", []), ent["symbol"], ent["edge"], fitted=False)
            )
    elements = []
    for ent in data["elements"]:
        symbol, edge = str(ent["symbol"]), str(ent["edge"])
        variants = _parse_variants(ent["variants"], symbol, edge, fitted=False) + fitted.get(symbol, [])
        ref = float(ent["edge_onset_ev"])
        for v in variants:
            validate_variant(v, ref)
        lo, hi = (float(x) for x in ent["jump_ratio_range"])
        elements.append(
            ElementEdge(
                symbol=symbol,
                edge=edge,
                edge_onset_ev=ref,
                onset_source=str(ent.get("onset_source", "")),
                xraydb_onset_ev=float(ent.get("xraydb_onset_ev", np.nan)),
                jump_ratio_range=(lo, hi),
                table1_n_edges=int(ent.get("table1_n_edges", 0)),
                variants=tuple(variants),
            )
        )
    symbols = tuple(e.symbol for e in elements)
    if symbols != ELEMENTS:
        raise ValueError(f"edge library elements {symbols} must be exactly Table 1's, in order: {ELEMENTS}")
    return EdgeLibrary(elements=tuple(elements), sources=dict(data.get("sources", {})))


def jittered_variant(
    variant: EdgeVariant,
    rng: np.random.Generator,
    spacing_scale: tuple[float, float] = (0.85, 1.15),
    position_sd_ev: float = 0.4,
    width_sd: float = 0.25,
    amplitude_sd: float = 0.35,
    copy: int = 0,
) -> EdgeVariant:
    """A randomly varied copy of a variant's near-edge structure (beyond the paper).

    The library holds a few compounds per edge; real specimens show near-edge structures in
    between and beside them. A copy keeps the variant's onset and continuum, and

    * for a K edge, stretches the distances of its peaks and steps from the onset by one factor
      drawn in ``spacing_scale`` (the energies of multiple-scattering resonances above an edge
      scale with the inverse square of the bond length, Natoli's rule [EG]: a few per cent in bond
      length move them by 10-15 per cent). L2,3 edges are not stretched: their L3-L2 distance is
      the atom's spin-orbit splitting, a fingerprint of the element;
    * moves every peak independently by a normal error of ``position_sd_ev``;
    * scales every width and amplitude by log-normal factors (``width_sd``, ``amplitude_sd``),
      keeping widths at or above the library's minimum (0.6 eV peaks, 0.5 eV steps).

    Returns
    -------
    EdgeVariant
        Valid under :func:`validate_variant`; named after the original with ``[ELNES variation k]``.
    """
    onset = variant.edge_onset_ev
    scale = rng.uniform(*spacing_scale)  # drawn for every edge, so the later draws do not depend on the type
    if variant.edge != "K":
        scale = 1.0
    peaks = variant.peaks.copy()
    steps = variant.steps.copy()
    peaks[:, 0] = onset + (peaks[:, 0] - onset) * scale + rng.normal(0.0, position_sd_ev, len(peaks))
    steps[:, 0] = onset + (steps[:, 0] - onset) * scale
    peaks[:, 1] = np.maximum(peaks[:, 1] * np.exp(rng.normal(0.0, width_sd, len(peaks))), 0.6)
    steps[:, 1] = np.maximum(steps[:, 1] * np.exp(rng.normal(0.0, width_sd, len(steps))), 0.5)
    peaks[:, 2] *= np.exp(rng.normal(0.0, amplitude_sd, len(peaks)))
    steps[:, 2] *= np.exp(rng.normal(0.0, amplitude_sd / 2, len(steps)))
    lo, hi = onset - 2.0, variant.tail_start_ev
    peaks[:, 0] = np.clip(peaks[:, 0], lo, hi)
    steps[:, 0] = np.clip(steps[:, 0], lo, hi)
    return dataclasses.replace(
        variant,
        name=f"{variant.name} [ELNES variation {copy}]",
        source=f"random variation of the variant above (eels_core.forward.edges.jittered_variant): {variant.source}",
        peaks=peaks,
        steps=steps,
    )


#: Smallest L2-L3 spin-orbit splitting (eV) for which :func:`keep_white_line_order` tells the two white lines
#: apart: Ca (3.5 eV) and above; the L2,3 edges of Si-Ar (0.6-2.2 eV) have no separate lines.
MIN_WHITE_LINE_SPLITTING_EV = 3.0


@functools.lru_cache(maxsize=32)
def l2_l3_splitting_ev(symbol: str) -> float:
    """The L2-L3 spin-orbit splitting of an element, eV: the difference of its L2 and L3 X-ray edges in
    xraydb (Elam et al.), e.g. 17.3 eV for Ni."""
    import xraydb

    return float(xraydb.xray_edge(symbol, "L2").energy - xraydb.xray_edge(symbol, "L3").energy)


def white_line_heights(variant: EdgeVariant, splitting_ev: float) -> tuple[float, float]:
    """The heights of an L2,3 variant's L3 and L2 white lines: the maxima of its Gaussian peaks (without the
    continuum) below and above ``edge_onset_ev + splitting_ev / 2``, up to ``1.5 * splitting_ev + 4`` eV above
    the onset."""
    onset = variant.edge_onset_ev
    energy = np.arange(onset - 2.0, onset + 1.5 * splitting_ev + 4.0, 0.05)
    lines = gaussian_peaks(energy, variant.peaks)
    upper = energy >= onset + splitting_ev / 2
    return float(lines[~upper].max()), float(lines[upper].max())


def keep_white_line_order(copy: EdgeVariant, original: EdgeVariant, splitting_ev: float) -> EdgeVariant:
    """A varied copy (:func:`jittered_variant`) of an L2,3 variant with its white lines in the original's order.

    When the original's L3 line (:func:`white_line_heights`) stands above its L2 and the copy's L3/L2 height
    ratio ``R`` came out below 1, the copy's L2 peaks (centres at least half the splitting above the onset)
    are scaled by ``R**2``, which turns the ratio into about ``1/R``: the random ratio is reflected about 1,
    so its spread is kept and its order is the original's. Anything else is returned unchanged.

    Parameters
    ----------
    copy, original : EdgeVariant
        The varied copy and the variant it was made from.
    splitting_ev : float
        The element's L2-L3 splitting (:func:`l2_l3_splitting_ev`), at least
        :data:`MIN_WHITE_LINE_SPLITTING_EV`.
    """
    if splitting_ev < MIN_WHITE_LINE_SPLITTING_EV:
        raise ValueError(f"splitting_ev = {splitting_ev}: below {MIN_WHITE_LINE_SPLITTING_EV} eV the L3 and L2 lines "
                         "are not told apart")
    l3, l2 = white_line_heights(original, splitting_ev)
    l3_copy, l2_copy = white_line_heights(copy, splitting_ev)
    if l3 <= l2 or l3_copy >= l2_copy:
        return copy
    ratio = l3_copy / l2_copy
    peaks = copy.peaks.copy()
    peaks[peaks[:, 0] >= copy.edge_onset_ev + splitting_ev / 2, 2] *= ratio**2
    return dataclasses.replace(copy, peaks=peaks)


def with_elnes_variation(library: EdgeLibrary, copies: int, seed: int = 0,
                         keeps_white_line_order: bool = False) -> EdgeLibrary:
    """The library with ``copies`` varied copies (:func:`jittered_variant`) after every variant.

    The copies of one variant depend only on ``seed`` and the variant's place in the library, so a
    library is the same in every process. ``copies = 0`` returns ``library`` itself. With
    ``keeps_white_line_order`` the copies of the L2,3 variants of elements whose white lines lie at least
    :data:`MIN_WHITE_LINE_SPLITTING_EV` apart keep their original's order (:func:`keep_white_line_order`);
    the random numbers drawn are the same either way.
    """
    if copies < 0:
        raise ValueError(f"copies = {copies}: must be >= 0")
    if copies == 0:
        return library
    elements = []
    for i, el in enumerate(library.elements):
        variants: list[EdgeVariant] = []
        splitting = l2_l3_splitting_ev(el.symbol) if keeps_white_line_order and el.edge == "L2,3" else 0.0
        for j, v in enumerate(el.variants):
            variants.append(v)
            for k in range(copies):
                rng = np.random.default_rng(np.random.SeedSequence(entropy=seed, spawn_key=(i, j, k)))
                copy = jittered_variant(v, rng, copy=k + 1)
                if splitting >= MIN_WHITE_LINE_SPLITTING_EV:
                    copy = keep_white_line_order(copy, v, splitting)
                validate_variant(copy, el.edge_onset_ev)
                variants.append(copy)
        elements.append(dataclasses.replace(el, variants=tuple(variants)))
    return EdgeLibrary(elements=tuple(elements), sources=library.sources)


@functools.lru_cache(maxsize=8)
def synthesis_library(include_fitted: bool = False, include_additions: bool = False, elnes_variation_copies: int = 0,
                      include_computed: bool = False, computed_compound_sets: tuple[str, ...] = (),
                      include_measured: bool = False, keeps_white_line_order: bool = False) -> EdgeLibrary:
    """:func:`load_edge_library` with the fitted, added, computed and measured variants asked for, then
    :func:`with_elnes_variation` (cached)."""
    library = load_edge_library(include_fitted=include_fitted, include_additions=include_additions,
                                include_computed=include_computed, computed_compound_sets=tuple(computed_compound_sets),
                                include_measured=include_measured)
    return with_elnes_variation(library, elnes_variation_copies, keeps_white_line_order=keeps_white_line_order)


def synthesis_library_for(config: SynthesisConfig) -> EdgeLibrary:
    """The library a synthesis configuration draws from (:func:`synthesis_library` with its fields)."""
    return synthesis_library(config.include_fitted_edges, config.library_additions, config.elnes_variation_copies,
                             config.computed_elnes, config.computed_compound_sets, config.measured_reference_edges,
                             config.elnes_variation_keeps_white_line_order)


@functools.lru_cache(maxsize=4)
def load_distractor_edges(table: str = "curated") -> tuple[EdgeVariant, ...]:
    """Edges of elements outside the 20, validated like the library's.

    Parameters
    ----------
    table : str
        ``"curated"`` (``distractor_edges.yaml``: 13 hand-picked edges; the default) or
        ``"complete"`` (``distractor_edge_table.yaml``: every K, L2,3, M2,3, M4,5, N4,5, N6,7 and
        O4,5 edge of the elements outside the 20 between 70 and 1000 eV, energies from xraydb,
        a near-edge shape per edge class from exspy's EELS-atlas descriptors; see
        ``scripts/make_distractor_edge_table.py``) or ``"complete_4f"``
        (``distractor_edge_table_4f.yaml``: the same, the lanthanide M4,5 white lines with their
        M5:M4 heights by 4f occupancy, one variant per occupancy). :class:`~eels_core.forward.config.SynthesisConfig`
        chooses with ``distractor_table``.
    """
    if table not in DISTRACTOR_TABLES:
        raise ValueError(f"distractor table {table!r}: choose one of {', '.join(DISTRACTOR_TABLES)}")
    name = DISTRACTOR_TABLES[table]
    data = _read_yaml(None, name)
    out: list[EdgeVariant] = []
    for ent in data["elements"]:
        if ent["symbol"] in ELEMENTS:
            raise ValueError(f"{name}: {ent['symbol']} is one of the 20 target elements")
        for v in _parse_variants(ent["variants"], str(ent["symbol"]), str(ent["edge"]), fitted=False):
            validate_variant(v, float(ent["edge_onset_ev"]))
            out.append(v)
    if len(out) > MAX_DISTRACTOR_VARIANTS:
        raise ValueError(f"{name}: {len(out)} variants, more than the {MAX_DISTRACTOR_VARIANTS} the synthesis can index")
    return tuple(out)


def distractor_label(variant: EdgeVariant) -> str:
    """A distractor variant's edge label, with its 4f occupancy where its name gives one (the white lines
    of ``"complete_4f"``, written ``"..., 4f2 (M5 the taller)"`` by ``scripts/make_distractor_edge_table.py``),
    e.g. ``"Pr M4,5 4f2"``; otherwise :attr:`EdgeVariant.label`, e.g. ``"Pr M4,5"``."""
    last = variant.name.rsplit(", ", 1)[-1]
    return f"{variant.label} {last.split(' ', 1)[0]}" if last.startswith("4f") else variant.label


@functools.lru_cache(maxsize=4)
def distractor_shape_classes(table: str = "curated") -> tuple[str | None, ...]:
    """The shape class of every variant of :func:`load_distractor_edges` ``(table)``, in its order: the
    ``shape_class`` of its entry in the complete table, None in the curated table (which names none)."""
    if table not in DISTRACTOR_TABLES:
        raise ValueError(f"distractor table {table!r}: choose one of {', '.join(DISTRACTOR_TABLES)}")
    data = _read_yaml(None, DISTRACTOR_TABLES[table])
    return tuple(ent.get("shape_class") for ent in data["elements"] for _ in ent["variants"])


@dataclass(frozen=True)
class CompanionRule:
    """An edge that comes with another: when ``symbol``'s edge is drawn in a variant whose name
    contains ``variant_contains``, ``companion``'s edge is added in a variant whose name contains
    ``companion_variant_contains`` (one row of ``edge_companions.yaml``)."""

    symbol: str
    variant_contains: str
    companion: str
    companion_variant_contains: str
    source: str


@functools.lru_cache(maxsize=1)
def load_companion_rules() -> tuple[CompanionRule, ...]:
    """The co-occurrence rules of ``edge_companions.yaml``; ``ValueError`` naming a bad row."""
    data = _read_yaml(None, COMPANION_FILE)
    rules = []
    for i, ent in enumerate(data.get("companions", [])):
        try:
            rule = CompanionRule(
                symbol=str(ent["when"]["symbol"]), variant_contains=str(ent["when"]["variant_contains"]),
                companion=str(ent["add"]["symbol"]), companion_variant_contains=str(ent["add"]["variant_contains"]),
                source=str(ent["source"]),
            )
        except (KeyError, TypeError) as exc:
            raise ValueError(f"{COMPANION_FILE}: companion #{i} lacks {exc}; give when/add symbol and variant_contains, and source") from None
        for sym in (rule.symbol, rule.companion):
            if sym not in ELEMENTS:
                raise ValueError(f"{COMPANION_FILE}: companion #{i}: {sym!r} is not one of the 20 elements")
        rules.append(rule)
    return tuple(rules)


def _companion_table(library: EdgeLibrary) -> tuple[NDArray[np.int64], list[NDArray[np.int64]], NDArray[np.int64]]:
    """For every (element, variant) of ``library``: the rule it triggers (-1: none); per rule, the
    companion's matching variants; per rule, the companion's element index."""
    rules = load_companion_rules()
    n_var = max(len(el.variants) for el in library.elements)
    trigger = np.full((len(library.elements), n_var), -1, dtype=np.int64)
    choices, target = [], []
    for r, rule in enumerate(rules):
        i = ELEMENTS.index(rule.symbol)
        for j, v in enumerate(library.elements[i].variants):
            if rule.variant_contains in v.name and trigger[i, j] < 0:
                trigger[i, j] = r
        k = ELEMENTS.index(rule.companion)
        match = [j for j, v in enumerate(library.elements[k].variants) if rule.companion_variant_contains in v.name]
        if not match and np.any(trigger[i] == r):  # a rule none of this library's variants triggers may lack its companion
            raise ValueError(f"{COMPANION_FILE}: no {rule.companion} variant named like {rule.companion_variant_contains!r}")
        choices.append(np.array(match, dtype=np.int64))
        target.append(k)
    return trigger, choices, np.array(target, dtype=np.int64)


def add_companion_edges(params: Any, rng: np.random.Generator, config: Any) -> Any:
    """Drawn spectrum parameters with the companion edges of ``edge_companions.yaml`` added (beyond the paper).

    Some compounds always show two of the 20 edges: boron nitride shows B K (pi* ~192 eV) whenever
    it shows N K (pi* ~401 eV), so a network that has only seen h-BN's N K alone may name it as
    Sc L2,3, whose onset lies 1 eV higher. For every drawn edge whose variant triggers a rule
    (:class:`CompanionRule`), with probability ``config.companion_probability``, the companion edge
    is put into the next free slot, in one of its matching variants, with a jump ratio and tail
    exponent drawn as the synthesis draws them, when the spectrum has a free slot, lacks the
    companion's element, and the companion's onset stays inside the output window after the
    spectrum's stretch and shift. The background-fit window of a background-subtracted spectrum
    moves below the companion when it is the lowest edge.

    Parameters
    ----------
    params : eels_core.forward.synthesis.SpectrumParameters
        Parameters drawn by ``sample_parameters`` (not changed).
    rng : numpy Generator
        Continues the stream that drew ``params``; the draws have fixed shapes.
    config : SynthesisConfig

    Returns
    -------
    SpectrumParameters
        ``params`` itself when ``config.companion_probability`` is 0 (nothing drawn).
    """
    p = float(config.companion_probability)
    if p <= 0:
        return params
    library = synthesis_library_for(config)
    trigger, choices, target = _companion_table(library)
    element = np.asarray(params.element_index).astype(np.int64)
    variant = np.asarray(params.variant_index).astype(np.int64)
    n, slots = element.shape
    u_add = rng.random((n, slots))
    u_variant = rng.random(n)
    u_jump = rng.random(n)
    tail_draw = rng.uniform(*config.tail_exponent, size=n)
    present = element >= 0
    rule = np.where(present, trigger[np.maximum(element, 0), np.maximum(variant, 0)], -1)
    candidates = np.flatnonzero(np.any((rule >= 0) & (u_add < p), axis=1))
    if candidates.size == 0:
        return params
    out = {name: np.array(getattr(params, name)) for name in
           ("n_edges", "element_index", "variant_index", "jump_ratio", "tail_exponent", "background_fit_reference_ev")}
    jr_max = np.array([el.jump_ratio_range[1] for el in library.elements])
    o0, o1, _ = config.output_energy_ev
    margin = config.onset_margin_ev
    for i in candidates:
        free = int(out["n_edges"][i])
        for k in np.flatnonzero((rule[i] >= 0) & (u_add[i] < p)):
            r = int(rule[i, k])
            comp = int(target[r])
            if free >= slots or np.any(out["element_index"][i] == comp):
                continue
            j = int(choices[r][int(u_variant[i] * len(choices[r]))])
            onset = library.elements[comp].variants[j].edge_onset_ev
            shown = onset * (1.0 + params.stretch[i]) + params.shift_ev[i]
            if not o0 + margin <= shown <= o1 - margin:
                continue
            if config.jump_ratio_max_scale == 1.0:
                jump = config.jump_ratio_min + u_jump[i] * (jr_max[comp] - config.jump_ratio_min)
            else:
                jump = config.jump_ratio_min * (jr_max[comp] * config.jump_ratio_max_scale / config.jump_ratio_min) ** u_jump[i]
            lowest = min(library.elements[int(e)].variants[int(v)].edge_onset_ev
                         for e, v in zip(out["element_index"][i], out["variant_index"][i]) if e >= 0)
            if onset < lowest:
                out["background_fit_reference_ev"][i] = max(out["background_fit_reference_ev"][i] - (lowest - onset),
                                                             config.model_energy_ev[0] + 1.0)
            out["element_index"][i, free] = comp
            out["variant_index"][i, free] = j
            out["jump_ratio"][i, free] = jump
            out["tail_exponent"][i, free] = tail_draw[i]
            free += 1
            out["n_edges"][i] = free
    return dataclasses.replace(params, **out)


def edge_template(variant: EdgeVariant, energy_ev: ArrayLike) -> NDArray[np.float64]:
    """Unbroadened near-edge profile of a variant (Gaussians + steps), with no tail extension."""
    return near_edge_profile(energy_ev, variant.peaks, variant.steps)


def extend_edge_tail(
    energy_ev: ArrayLike, profile: ArrayLike, tail_start_ev: float, tail_exponent: float
) -> NDArray[np.float64]:
    """Extend an edge beyond ``tail_start_ev`` by an inverse power law (paper: Fig. 3, Table 2).

    Above ``tail_start_ev`` the profile is multiplied by ``(E / tail_start_ev)^-tail_exponent``,
    so the edge is continuous and decays smoothly into the spectrum's high-energy end.

    Parameters
    ----------
    energy_ev, profile : array_like, shape (n,)
    tail_start_ev : float
    tail_exponent : float
        Positive exponent (paper: 1.8-3.8).

    Returns
    -------
    ndarray, shape (n,)
    """
    e = np.asarray(energy_ev, dtype=np.float64)
    return np.asarray(profile, dtype=np.float64) * tail_decay(e, tail_start_ev, tail_exponent)


def tail_decay(energy_ev: ArrayLike, tail_start_ev: ArrayLike, tail_exponent: ArrayLike) -> NDArray[np.float64]:
    """Factor ``min(1, (E / tail_start_ev)^-tail_exponent)``; broadcasts over all arguments."""
    e = np.asarray(energy_ev, dtype=np.float64)
    t = np.asarray(tail_start_ev, dtype=np.float64)
    s = np.asarray(tail_exponent, dtype=np.float64)
    return np.exp(-s * np.maximum(np.log(e / t), 0.0))


# k (1/Angstrom) of a free electron of 1 eV kinetic energy: sqrt(2 m_e e / hbar^2) * 1e-10 (~0.5123)
_WAVENUMBER_PER_SQRT_EV = float(
    np.sqrt(2.0 * scipy.constants.m_e * scipy.constants.e) / scipy.constants.hbar * 1e-10
)
#: Wavenumber (1/Angstrom; ~34 eV above the onset) from which the EXELFS has its full amplitude;
#: below it the near-edge peaks of the library describe the edge and the modulation grows in.
EXELFS_REFERENCE_K = 3.0


#: The structures and settings of the FEFF10 calculations (``scripts/compute_feff_elnes.py``).
COMPUTED_CASES_FILE = "computed_elnes_cases.yaml"


def computed_compound_pairs(compound_set: str = "computed_compounds") -> tuple[tuple[str, str, str], ...]:
    """Each computed compound variant with the hand-typed variant it is compared with: that of the same
    compound, or of the most alike one where the library has none.

    Parameters
    ----------
    compound_set : str
        One set of computed compounds, a key of :data:`COMPUTED_COMPOUND_SETS` (the first by default).

    Returns
    -------
    tuple of (symbol, computed name, hand-typed name)
        From the ``hand_variant`` of every variant in the cases file: the element, the name of the
        variant in the library written from it and the name of the variant of ``edge_library.yaml``
        it is compared with.
    """
    if compound_set not in COMPUTED_COMPOUND_SETS:
        raise ValueError(f"compound_set {compound_set!r}: one of {', '.join(COMPUTED_COMPOUND_SETS)}")
    text = resources.files("eels_core.data").joinpath(COMPUTED_COMPOUND_SETS[compound_set].cases_file).read_text(encoding="utf-8")
    return tuple((str(case["absorber"]), str(v["name"]), str(v["hand_variant"]))
                 for case in yaml.safe_load(text)["cases"] for v in case["variants"])


def measured_reference_pairs() -> tuple[tuple[str, str, str], ...]:
    """Each measured reference variant (``edge_library_measured.yaml``) with the hand-typed variant it
    is compared with (its ``compared_with``: the variant of ``edge_library.yaml`` of the same compound or
    oxidation state, whose continuum steps it takes).

    Returns
    -------
    tuple of (symbol, measured name, hand-typed name)
        In the order of the file.
    """
    data = _read_yaml(None, MEASURED_LIBRARY_FILE)
    return tuple((str(ent["symbol"]), str(v["name"]), str(v["compared_with"]))
                 for ent in data["elements"] for v in ent["variants"])


def computed_compound_variants(library: EdgeLibrary, compound_sets: tuple[str, ...]) -> NDArray[np.bool_]:
    """Which variants of ``library`` (in :attr:`EdgeLibrary.variants` order) are computed compounds.

    Parameters
    ----------
    library : EdgeLibrary
        A library, with or without ELNES variations (:func:`with_elnes_variation`).
    compound_sets : tuple of str
        Sets of computed compounds (keys of :data:`COMPUTED_COMPOUND_SETS`).

    Returns
    -------
    ndarray of bool, shape (n_variants,)
        True for a variant of one of those sets and for the ELNES variations of one.
    """
    names = {computed for name in compound_sets for _, computed, _ in computed_compound_pairs(name)}
    return np.array([v.name.split(" [ELNES variation ")[0] in names for v in library.variants], dtype=bool)


def _hexagonal_structure(structure: str) -> dict:
    """One structure of ``computed_elnes_cases.yaml``, checked to be a P6_3/mmc lattice."""
    text = resources.files("eels_core.data").joinpath(COMPUTED_CASES_FILE).read_text(encoding="utf-8")
    structures = yaml.safe_load(text)["structures"]
    if structure not in structures:
        raise ValueError(f"structure {structure!r}: not in {COMPUTED_CASES_FILE}; choose one of {', '.join(structures)}")
    entry = structures[structure]
    if entry["lattice"].get("kind") != "hexagonal" or entry.get("spacegroup") != "P6_3/mmc":
        raise ValueError(f"structure {structure!r}: lattice {entry['lattice'].get('kind')!r}, "
                         f"{entry.get('spacegroup')!r}; only hexagonal P6_3/mmc layers are handled")
    return entry


def neighbour_shells(structure: str, centre: str, max_distance_a: float = 4.0) -> list[tuple[str, int, float]]:
    """The shells of neighbours around an atom of a structure of ``computed_elnes_cases.yaml``.

    The atoms sit on the two-fold sites of P6_3/mmc, so that each listed position (x, y, z) has its
    partner at (y, x, z + 1/2) (the sites 2a-2d; h-BN: B on 2c, N on 2d). Neighbours within
    ``max_distance_a`` of the first atom of species ``centre`` are grouped by species and distance
    (to 0.01 Angstrom), nearest first: the shells j of :func:`exelfs_modulation`, whose EXAFS terms
    grow as their number of atoms over the squared distance.

    Parameters
    ----------
    structure : str
        Name of the structure (``"h-BN"``).
    centre : str
        Species of the atom at the centre (``"B"``).
    max_distance_a : float
        Largest distance (Angstrom).

    Returns
    -------
    list of (str, int, float)
        Species, number of atoms and distance (Angstrom) of each shell.

    Raises
    ------
    ValueError
        If the structure is not in the file, is not hexagonal P6_3/mmc, or has no ``centre``.
    """
    entry = _hexagonal_structure(structure)
    if centre not in entry["species"]:
        raise ValueError(f"species {centre!r}: not in {structure} ({', '.join(entry['species'])})")
    a, c = float(entry["lattice"]["a"]), float(entry["lattice"]["c"])
    basis = np.array([[a, 0.0, 0.0], [-a / 2.0, a * np.sqrt(3.0) / 2.0, 0.0], [0.0, 0.0, c]])
    sites = [(sp, np.array(xyz, dtype=np.float64)) for sp, xyz in zip(entry["species"], entry["coords"])]
    sites += [(sp, np.array([xyz[1], xyz[0], xyz[2] + 0.5])) for sp, xyz in sites]
    origin = next(xyz for sp, xyz in sites if sp == centre) @ basis
    reach = int(np.ceil(max_distance_a / min(a * np.sqrt(3.0) / 2.0, c))) + 1
    cells = np.array(np.meshgrid(*(np.arange(-reach, reach + 1),) * 3, indexing="ij")).reshape(3, -1).T
    found: dict[tuple[str, float], list[float]] = {}
    for sp, xyz in sites:
        d = np.linalg.norm((cells + xyz) @ basis - origin, axis=1)
        for r in d[(d > 1e-6) & (d <= max_distance_a)]:
            found.setdefault((sp, round(float(r), 2)), []).append(float(r))
    return [(sp, len(rs), float(np.mean(rs))) for (sp, _), rs in sorted(found.items(), key=lambda item: (item[0][1], item[0][0]))]


def nearest_neighbour_distance_a(structure: str) -> float:
    """Distance (Angstrom) between nearest unlike neighbours in a layered hexagonal structure of
    ``computed_elnes_cases.yaml`` (h-BN: B and N at a / sqrt(3) in the layer), the R of the first
    shell in :func:`exelfs_modulation`.

    Raises
    ------
    ValueError
        If the structure is not in the file or is not hexagonal P6_3/mmc.
    """
    return float(_hexagonal_structure(structure)["lattice"]["a"]) / float(np.sqrt(3.0))


def photoelectron_wavenumber(energy_above_onset_ev: ArrayLike) -> NDArray[np.float64]:
    """Wavenumber k (1/Angstrom) of the ejected core electron, free-electron dispersion.

    ``k = sqrt(2 m_e (E - E_0)) / hbar``, zero below the onset (the usual EXAFS / EXELFS variable).
    """
    de = np.maximum(np.asarray(energy_above_onset_ev, dtype=np.float64), 0.0)
    return _WAVENUMBER_PER_SQRT_EV * np.sqrt(de)


def exelfs_modulation(
    energy_ev: ArrayLike,
    edge_onset_ev: ArrayLike,
    amplitude: ArrayLike,
    distance_a: ArrayLike,
    phase: ArrayLike,
    debye_waller_a2: ArrayLike,
    *,
    second_amplitude: ArrayLike = 0.0,
    second_distance_a: ArrayLike = 1.0,
    second_phase: ArrayLike = 0.0,
    third_amplitude: ArrayLike = 0.0,
    third_distance_a: ArrayLike = 1.0,
    third_phase: ArrayLike = 0.0,
) -> NDArray[np.float64]:
    """Factor ``1 + chi(E)`` of the extended energy-loss fine structure (EXELFS) of an edge.

    The ejected core electron is back-scattered by the neighbouring atoms; the interference of
    outgoing and back-scattered waves modulates the edge intensity for hundreds of eV above the
    near-edge region. One shell in the single-scattering picture of EXAFS (Sayers, Stern & Lytle
    1971)::

        chi(k) = A g(k) sin(2 k R + phi),
        g(k) = (k / k_ref)^2                               for k < k_ref (near-edge region),
        g(k) = (k_ref / k) exp(-2 sigma^2 (k^2 - k_ref^2))  for k >= k_ref,

    with k from :func:`photoelectron_wavenumber`, ``k_ref`` = :data:`EXELFS_REFERENCE_K`, R the
    distance to the back-scattering neighbours and sigma^2 their mean-square relative
    displacement (Debye-Waller factor). The scattering amplitude's k-dependence and the phase
    shifts of real atoms are folded into A and phi.

    A second shell of neighbours further away adds its own term, ``A2 g(k) sin(2 k R2 + phi2)``,
    with the same envelope. Two shells beat against each other, so that the structure is no longer
    one slow oscillation: in h-BN the three N around a B at 1.446 Angstrom are followed by six B at
    2.504 and three N at 2.891 Angstrom (ratios sqrt(3) and 2, from the lattice in
    ``computed_elnes_cases.yaml``). A third shell adds ``A3 g(k) sin(2 k R3 + phi3)`` the same way
    (in h-BN the further shells of :func:`neighbour_shells`: two N of the next layers at 3.33, six B
    at 3.63 and six N at 3.82 Angstrom).

    Parameters
    ----------
    energy_ev : array_like, shape (n,)
    edge_onset_ev, amplitude, distance_a, phase, debye_waller_a2 : array_like
        Onset (eV), relative amplitude A at ``k_ref`` (0: no modulation), R (Angstrom), phi (rad)
        and sigma^2 (Angstrom^2); each a scalar or shape (m, 1) for m edges.
    second_amplitude, second_distance_a, second_phase : array_like, optional
        A2, R2 (Angstrom) and phi2 (rad) of a second shell, shaped as ``amplitude``; the default
        amplitude 0 leaves one shell.
    third_amplitude, third_distance_a, third_phase : array_like, optional
        A3, R3 (Angstrom) and phi3 (rad) of a third shell, the same way.

    Returns
    -------
    ndarray, shape (n,) or (m, n)
        1 below the onset; positive while the amplitudes sum to less than 1.
    """
    e = np.asarray(energy_ev, dtype=np.float64)
    k = photoelectron_wavenumber(e - np.asarray(edge_onset_ev, dtype=np.float64))
    sigma2 = np.asarray(debye_waller_a2, dtype=np.float64)
    k_ref = EXELFS_REFERENCE_K
    envelope = np.where(
        k < k_ref,
        (k / k_ref) ** 2,
        k_ref / np.maximum(k, k_ref) * np.exp(-2.0 * sigma2 * (k**2 - k_ref**2)),
    )
    oscillation = np.sin(2.0 * k * np.asarray(distance_a, dtype=np.float64) + np.asarray(phase, dtype=np.float64))
    chi = np.asarray(amplitude, dtype=np.float64) * envelope * oscillation
    further = ((second_amplitude, second_distance_a, second_phase), (third_amplitude, third_distance_a, third_phase))
    for shell_amplitude, shell_distance_a, shell_phase in further:
        a_shell = np.asarray(shell_amplitude, dtype=np.float64)
        if np.any(a_shell != 0):  # a shell of amplitude 0 leaves the arithmetic of the shells before it
            shell = np.sin(2.0 * k * np.asarray(shell_distance_a, dtype=np.float64)
                           + np.asarray(shell_phase, dtype=np.float64))
            chi = chi + a_shell * envelope * shell
    return 1.0 + chi


@functools.lru_cache(maxsize=1)
def _reference_onsets() -> tuple[float, ...]:
    return tuple(float(el.edge_onset_ev) for el in load_edge_library().elements)


def reference_onsets_ev() -> NDArray[np.float64]:
    """Reference onset of each of the 20 edges (Table 1 order), from the edge library."""
    return np.array(_reference_onsets())


@functools.lru_cache(maxsize=1)
def edge_labels() -> tuple[str, ...]:
    """The 20 edge names in Table 1 (= label) order."""
    return tuple(el.label for el in load_edge_library().elements)
