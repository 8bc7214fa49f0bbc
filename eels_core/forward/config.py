"""Configuration of the forward model: the randomness ranges of the paper's Table 2.

A :class:`SynthesisConfig` holds every range the synthesis draws from, the energy grids, and the
edge-library choice. It validates itself on construction: a bad value raises a ``ValueError`` that
names the field and the allowed range. It round-trips through JSON (``to_dict`` / ``from_dict``) so
that a database on disk records exactly how it was made; :data:`CONFIG_VERSION` changes whenever the
meaning of a field or the random stream changes, and readers refuse a database of another version.
"""

from __future__ import annotations

import dataclasses
import json
import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

#: Version of the configuration schema *and* of the random stream it implies. Bump it when the
#: same (seed, config) would no longer give the same spectra.
CONFIG_VERSION: int = 3  # 3: a 13th distractor edge (U N6,7) changes every stream

#: The 20 target edges, in the order of the paper's Table 1 (the network's label order).
ELEMENTS: tuple[str, ...] = (
    "B", "C", "N", "O", "F", "Ca", "Sc", "Ti", "V", "Cr",
    "Mn", "Fe", "Co", "Ni", "Cu", "Si", "P", "S", "Cl", "Ar",
)

#: The sets of compounds whose K edges were computed with FEFF10, each named by the boolean field of
#: :class:`SynthesisConfig` that draws it, in the order their variants join the library
#: (:data:`eels_core.forward.edges.COMPUTED_COMPOUND_SETS` holds their files).
COMPUTED_COMPOUND_SET_NAMES: tuple[str, ...] = ("computed_compounds", "computed_compounds_2", "computed_compounds_3",
                                                 "computed_compounds_4")
#: The distractor tables ``SynthesisConfig.distractor_table`` may name
#: (:data:`eels_core.forward.edges.DISTRACTOR_TABLES` holds their files); every one but the first names
#: a shape class per edge.
DISTRACTOR_TABLE_NAMES: tuple[str, ...] = ("curated", "complete", "complete_4f")


def _range_ok(name: str, value: tuple[float, float], lo: float, hi: float) -> None:
    """Raise if ``value`` is not an ordered pair inside [lo, hi]."""
    if len(value) != 2:
        raise ValueError(f"{name} must be a (min, max) pair, got {value!r}")
    a, b = float(value[0]), float(value[1])
    if not (math.isfinite(a) and math.isfinite(b)):
        raise ValueError(f"{name} must be finite, got {value!r}")
    if a > b:
        raise ValueError(f"{name}: min {a} > max {b}; give (min, max) with min <= max")
    if a < lo or b > hi:
        raise ValueError(f"{name} = {value!r} is outside the allowed range [{lo}, {hi}]")


@dataclass(frozen=True)
class SynthesisConfig:
    """Randomness ranges and grids of the forward model (paper, Table 2).

    Parameters
    ----------
    elements : tuple of str
        Edges that may be drawn (symbols of Table 1). Labels always have 20 entries in Table 1
        order; elements left out here are simply never present.
    n_edges_probabilities : tuple of float
        Probability of a spectrum holding 1, 2, ... 6 edges (paper: 20/20/20/15/15/10 %).
    psf_fwhm_gauss_ev : (float, float)
        Range of the FWHM of the Gaussian (beam energy spread) part of the PSF, eV (0.1-1.6).
    psf_hwhm_lorentz_ev : (float, float)
        Range of the HWHM of the Lorentzian (detector) part of the PSF, eV (0.1-0.6).
    tail_exponent : (float, float)
        Range of the inverse-power-law exponent that extends each edge beyond its near-edge
        region (paper: powers -3.8 to -1.8, stored here as positive exponents).
    background_exponent_mean, background_exponent_sd, background_exponent_min : float
        The background exponent r ~ N(1.88, 0.2), redrawn while below 0.1.
    jump_ratio_min : float
        Lower end of every element's jump-ratio range (paper: 0.15). The upper end is the
        element's Table 1 maximum from the edge library.
    stretch_max : float
        Maximum relative contraction/expansion of the energy axis (paper: 1.5 % = 0.015).
    shift_max_ev : float
        Maximum shift of the energy axis, eV (paper: 15).
    noise_sd : float
        Standard deviation of the white Gaussian noise *before* the Savitzky-Golay filter, in units
        of the normalised background J_n (J_n(50 eV) = 1) (paper: 0.0012).
    savgol_frame : (int, int)
        Range of the odd Savitzky-Golay frame length (paper: 30-60, i.e. odd 31-59).
    savgol_order : int
        Polynomial order of the Savitzky-Golay filter (paper: 1).
    noise_coefficient : (float, float)
        Range of the coefficient C that scales the filtered noise (paper: 1-2).
    shot_noise_dose : (float, float) or None
        Beyond the paper: if given, Poisson shot noise is added with a dose drawn log-uniformly in
        this range, in electrons per output channel where J_n = 1 (50 eV). None: off (the paper).
    model_energy_ev : (float, float, float)
        Model grid (start, stop, step), eV; the paper models 50-1100 eV.
    output_energy_ev : (float, float, float)
        Network input grid (start, stop, step), eV; the paper uses 90-1000 eV at 0.2 eV.
    onset_margin_ev : float
        Every drawn edge's onset is kept at least this far inside the output grid: when the
        random shift would push the lowest onset below ``start + margin`` (only Si L2,3 at
        99 eV can), the shift is raised just enough.
    include_fitted_edges : bool
        Also draw edges fitted to the shared real spectra (off by default: those spectra are the
        validation set).
    library_additions : bool
        Also draw the variants of ``eels_core/data/edge_library_additions.yaml`` (near-edge
        structures added after the shipped model was trained, each with its source: the h-BN
        N K and B K with sigma* taller than pi*, a computed h-BN N K, the Sc3+ L2,3 multiplet
        pattern). Off by default, so that the default variant draws are unchanged.
    computed_elnes : bool
        Also draw the variants of ``eels_core/data/edge_library_computed.yaml``: near-edge
        structures computed with FEFF10 by ``scripts/compute_feff_elnes.py`` (h-BN B K and N K
        with the beam along the c axis and in the layers). Off by default.
    computed_compounds : bool
        Also draw the variants of ``eels_core/data/edge_library_computed_compounds.yaml``: the B,
        C, N, O and F K edges of common compounds (MgO, rutile TiO2, ZnO, LiF, diamond, graphite, c-BN,
        GaN) computed with FEFF10 up to 90 eV above their onsets by ``scripts/compute_feff_elnes.py``
        from ``computed_compounds_cases.yaml``. Off by default.
    computed_compounds_2 : bool
        Also draw the variants of ``eels_core/data/edge_library_computed_compounds_2.yaml``: the N,
        O and F K edges of a second set of compounds (TiN, AlN, NiO, SrTiO3, alpha-Al2O3, MgF2),
        computed the same way from ``computed_compounds_2_cases.yaml``. Off by default.
    computed_compounds_3 : bool
        Also draw the variants of ``eels_core/data/edge_library_computed_compounds_3.yaml``: the N K
        edges of a third set, all nitrides (InN, AlN with q in the basal plane and along c,
        beta-Si3N4, ZrN), computed the same way from ``computed_compounds_3_cases.yaml``. Off by default.
    computed_compounds_4 : bool
        Also draw the variants of ``eels_core/data/edge_library_computed_compounds_4.yaml``: the K
        edges of a fourth set, carbides, a boride and more oxides (C K of 3C-SiC and TiC, B K of
        TiB2, O K of CaO, MnO, alpha-Fe2O3, CeO2 and alpha-quartz), computed the same way from
        ``computed_compounds_4_cases.yaml``. Off by default.
    measured_reference_edges : bool
        Also draw the variants of ``eels_core/data/edge_library_measured.yaml``: measured reference
        edges that are not validation spectra, fitted by ``scripts/fit_measured_edges.py`` (the Mn
        L2,3 edges of MnO, YBaMn3AlO7, LaMnO3, SrMnO3 and MnO2 of the MIT-licensed repository
        xinhuolin/MnEdgeNet, the one measured source the fact sheet names). Off by default.
    computed_compound_weight : float
        Relative weight with which an edge of a target element is drawn in one of the variants of the
        sets of computed compounds this config draws (and their ELNES variations), against 1 for
        every other variant of that element. 1 (the default): every variant equally likely, the
        same draws as before the field existed; other values need at least one set of computed
        compounds.

    Beyond the paper (all off by default, so ``SynthesisConfig()`` is the paper's Table 2; see
    :meth:`with_real_data_physics` for the settings the shipped model is fine-tuned with):

    thickness : (float, float)
        Range of the relative thickness t / lambda. Each edge is convolved with the plural
        scattering distribution exp(t/lambda (P - 1)) of a plasmon P (paper: "multiple scattering
        effect", not parameterised there). (0, 0): off.
    plasmon_energy_ev, plasmon_fwhm_ev : (float, float)
        Ranges of the plasmon energy and width (Lorentzian) for the plural scattering.
    distractor_probability : float
        Probability that a spectrum also holds 1-2 unlabelled edges of elements outside the 20
        (``eels_core/data/distractor_edges.yaml``: Ba M4,5, La M4,5, Sb M4,5, U N4,5 ...).
    distractor_jump_ratio : (float, float)
        Jump-ratio range of the distractor edges.
    distractor_table : str
        Which distractor edges are drawn (:func:`eels_core.forward.edges.load_distractor_edges`):
        ``"curated"`` (13 hand-picked edges, ``distractor_edges.yaml``; the default) or
        ``"complete"`` (every K, L2,3, M2,3, M4,5, N4,5, N6,7 and O4,5 edge of every element
        outside the 20 between 70 and 1000 eV, ``distractor_edge_table.yaml``, with a near-edge
        shape per edge class: lanthanide M4,5 white lines, delayed M4,5 maxima of the 4d
        elements, N4,5 giant resonances ...) or ``"complete_4f"`` (the same, with the M5:M4 heights
        of the lanthanide white lines by 4f occupancy, M5 the taller from Ce3+ on,
        ``distractor_edge_table_4f.yaml``).
    distractor_white_line_weight : float
        Relative weight with which the distractor edges of a white-line shape class
        (:data:`eels_core.forward.edges.WHITE_LINE_SHAPE_CLASSES`: the M4,5 white lines of Cs, Ba
        and the lanthanides, the K L2,3 doublet) are drawn, against 1 for every other edge of the
        complete table: the only distractors shaped like the labelled L2,3 white lines (Ba M4,5 at
        781/796 eV on Co L2,3 at 779/794, La M4,5 at 832/849 below Ni L2,3 at 855/872). 1 (the
        default): every edge equally likely, the same draws as before the field existed; other
        values need a table with shape classes (``"complete"`` or ``"complete_4f"``).
    companion_probability : float
        Probability that an edge drawn in a variant that never occurs alone (h-BN N K, h-BN B K)
        brings its companion edge, as listed in ``eels_core/data/edge_companions.yaml`` (boron
        nitride shows B K and N K together), when the spectrum has a free slot and lacks the
        companion's element (:func:`eels_core.forward.edges.add_companion_edges`). 0: off.
    background_subtracted_probability : float
        Probability that a spectrum is delivered with its power-law background subtracted (as
        some public spectra are).
    background_fit_error_sd : (float, float)
        Standard deviations of the errors of the background that such a spectrum had subtracted:
        of its exponent and of its relative level where it was fitted (a window 3-30 eV below the
        first edge; :func:`eels_core.forward.background.extrapolated_background_fit`). Measured
        background-subtracted spectra keep a residual that grows away from the fit window rather
        than noise around zero. (0, 0): the true background is subtracted.
    elnes_variation_copies : int
        Randomly varied copies of every library variant drawn alongside the originals
        (:func:`eels_core.forward.edges.with_elnes_variation`: peak spacings from the onset stretched by
        0.85-1.15, positions, widths and amplitudes perturbed), so that the network meets near-edge
        structures between and beside the library's compounds. 0: the library as it is.
    elnes_variation_keeps_white_line_order : bool
        With ``elnes_variation_copies``: a varied copy of an L2,3 variant (Ca-Cu) whose L3 white line
        stands above its L2 keeps it so (:func:`eels_core.forward.edges.keep_white_line_order`). Off by
        default: the amplitudes are then perturbed independently, and the copy of a variant with L3 the
        taller (every typed V-Cu variant) can come out with L2 the taller; a lanthanide's M4,5 pair, M4
        the taller and as far apart as a 3d metal's L3 and L2 lines, then looks like that metal's edge.
    exelfs_probability : float
        Probability that an edge (labelled or distractor) carries extended energy-loss fine
        structure (:func:`eels_core.forward.edges.exelfs_modulation`): weak oscillations of its intensity
        that continue tens to hundreds of eV above the near-edge region, which a network that
        has only seen smooth power-law tails may take for the onset of another edge. 0: off.
    exelfs_amplitude : (float, float)
        Range of the relative amplitude A of those oscillations where they are strongest (~34 eV
        above the onset).
    exelfs_distance_a : (float, float)
        Range of the distance R (Angstrom) to the back-scattering neighbours: first shells of
        light-element solids ~1.4-2.5, further shells up to ~4.5. It sets the period, ~60 eV
        (R = 1.5) to ~20 eV (R = 4.5) at 60 eV above the onset.
    exelfs_debye_waller_a2 : (float, float)
        Range of the Debye-Waller factor sigma^2 (Angstrom^2) that damps them at high k.
    exelfs_second_shell_probability : float
        Probability that an edge with extended fine structure also has a second shell of
        neighbours (``second_*`` of :func:`~eels_core.forward.edges.exelfs_modulation`), whose
        oscillation beats against the first. 0: one shell (no further random draws).
    exelfs_second_shell_distance_ratio : (float, float)
        Range of R2 / R of that shell: sqrt(2) = 1.41 for the metal-metal shell of a rock-salt
        oxide, sqrt(3) = 1.73 (B-B) and 2 (second B-N) in h-BN (from the lattice in
        ``computed_elnes_cases.yaml``).
    exelfs_second_shell_amplitude_ratio : (float, float)
        Range of A2 / A. The EXAFS amplitude goes as N / R^2 (N neighbours): six B at 2.504
        Angstrom against three N at 1.446 in h-BN give about 0.67 before the back-scattering
        strengths of B and N, which the range brackets.
    exelfs_third_shell_probability : float
        Probability that an edge with a second shell also has a third (``third_*`` of
        :func:`~eels_core.forward.edges.exelfs_modulation`). 0: at most two shells (no further
        random draws).
    exelfs_third_shell_distance_ratio : (float, float)
        Range of R3 / R. Around B in h-BN (:func:`~eels_core.forward.edges.neighbour_shells`)
        the shells after the six B at sqrt(3) R are three N at 2R, two N of the next layers at
        2.30R, six B at 2.51R and six N at 2.65R.
    exelfs_third_shell_amplitude_ratio : (float, float)
        Range of A3 / A: N / R^2 against the first shell gives 0.25, 0.13, 0.32 and 0.29 for those
        four h-BN shells, before a larger Debye-Waller damping of the distant shells.
    background_exponent_range : (float, float) or None
        If given, r is drawn uniformly in this range instead of N(mean, sd): measured core-loss
        backgrounds have r between about 2 and 6 (Egerton), steeper than the paper's 1.88 +- 0.2,
        particularly below ~500 eV. None: the paper's normal draw.
    noise_reference_ev : float or None
        If given, the filtered noise of a spectrum is scaled by ``(E_ref / 50)^(mean - r)`` (mean =
        ``background_exponent_mean``): its size relative to the background at ``E_ref`` is then the
        same for every r, as when a steeper spectrum is recorded with a longer exposure. Without
        it, the paper's noise (fixed in J_n units) buries every edge above ~200 eV when r is 4.
        None: the paper's noise.
    noise_follows_background : bool
        With ``noise_reference_ev``: the filtered noise of every channel is further scaled by
        ``(E / E_ref)^(-r/2)`` (E the channel's energy), so that its size follows the square root of
        the background, as the shot noise of a measured spectrum does: it is the same at ``E_ref``,
        smaller relative to the background below it and larger above it, but no longer grows as fast
        as the background falls. False: the same size at every channel (the paper's).
    noise_shot_fraction : (float, float)
        With ``noise_follows_background``: range of the share w of the noise variance at ``E_ref``
        that is shot noise, drawn uniformly per spectrum; the rest is read-out and dark noise of
        the detector, whose size does not depend on the counts. The noise factor of a channel is
        then ``sqrt(w (E / E_ref)^(-r) + 1 - w)``: w = 1 is the square-root shape above, w = 0 the
        paper's flat noise. (1, 1), the default, draws nothing.
    jump_ratio_max_scale : float
        Multiplies the upper end of every element's jump-ratio range (Table 1). When it is above 1
        the jump ratio is drawn log-uniformly between ``jump_ratio_min`` and the scaled maximum
        (thick specimens and concentrated elements give measured jump ratios of 1-5 where
        Table 1 stops at 0.5-1.3). 1: the paper's uniform draw.
    emphasised_elements : tuple of str
        Beyond the paper: elements (of ``elements``) drawn more often than the others, with
        ``element_emphasis_weight``. A spectrum's elements are still distinct; they are drawn one
        after another, each with probability proportional to its weight among those not yet drawn
        (the paper draws them with equal weights). () : none (the paper's draw).
    element_emphasis_weight : float
        Weight of each of ``emphasised_elements`` in that draw (the others weigh 1); 1: the paper's.
    render_version : int
        How spectra are computed from their parameters (the parameters, labels, onsets and jump
        ratios are the same for both; the spectra differ in their float rounding and their noise
        draws). 1 (default; every database without this field): the paper's formulation, each
        edge convolved on its own over the whole model grid, the background in double precision
        and the white noise from numpy's normal draws; each step bit-identical to the plain
        formulation. 2: the fast version (chapter 05; :class:`eels_core.forward.synthesis.PeakWindow`,
        :func:`eels_core.forward.noise.white_noise_fast`): each edge is convolved over a window
        of the model grid only to find its peak (its jump ratio), the scaled edges of a spectrum
        are convolved together in one FFT pair, the background is computed in single precision
        on the model grid, and the white noise is read from a table of normal quantiles.
    """

    elements: tuple[str, ...] = ELEMENTS
    n_edges_probabilities: tuple[float, ...] = (0.20, 0.20, 0.20, 0.15, 0.15, 0.10)
    psf_fwhm_gauss_ev: tuple[float, float] = (0.1, 1.6)
    psf_hwhm_lorentz_ev: tuple[float, float] = (0.1, 0.6)
    tail_exponent: tuple[float, float] = (1.8, 3.8)
    background_exponent_mean: float = 1.88
    background_exponent_sd: float = 0.2
    background_exponent_min: float = 0.1
    jump_ratio_min: float = 0.15
    stretch_max: float = 0.015
    shift_max_ev: float = 15.0
    noise_sd: float = 0.0012
    savgol_frame: tuple[int, int] = (31, 59)
    savgol_order: int = 1
    noise_coefficient: tuple[float, float] = (1.0, 2.0)
    shot_noise_dose: tuple[float, float] | None = None
    model_energy_ev: tuple[float, float, float] = (50.0, 1100.0, 0.2)
    output_energy_ev: tuple[float, float, float] = (90.0, 1000.0, 0.2)
    onset_margin_ev: float = 3.0
    include_fitted_edges: bool = False
    library_additions: bool = False
    computed_elnes: bool = False
    computed_compounds: bool = False
    computed_compounds_2: bool = False
    computed_compounds_3: bool = False
    computed_compounds_4: bool = False
    measured_reference_edges: bool = False
    computed_compound_weight: float = 1.0
    thickness: tuple[float, float] = (0.0, 0.0)
    plasmon_energy_ev: tuple[float, float] = (15.0, 30.0)
    plasmon_fwhm_ev: tuple[float, float] = (3.0, 12.0)
    distractor_probability: float = 0.0
    distractor_jump_ratio: tuple[float, float] = (0.15, 1.0)
    distractor_table: str = "curated"
    distractor_white_line_weight: float = 1.0
    companion_probability: float = 0.0
    background_subtracted_probability: float = 0.0
    background_fit_error_sd: tuple[float, float] = (0.0, 0.0)
    elnes_variation_copies: int = 0
    elnes_variation_keeps_white_line_order: bool = False
    exelfs_probability: float = 0.0
    exelfs_amplitude: tuple[float, float] = (0.02, 0.2)
    exelfs_distance_a: tuple[float, float] = (1.4, 4.5)
    exelfs_debye_waller_a2: tuple[float, float] = (0.002, 0.012)
    exelfs_second_shell_probability: float = 0.0
    exelfs_second_shell_distance_ratio: tuple[float, float] = (1.4, 2.0)
    exelfs_second_shell_amplitude_ratio: tuple[float, float] = (0.3, 1.0)
    exelfs_third_shell_probability: float = 0.0
    exelfs_third_shell_distance_ratio: tuple[float, float] = (2.0, 2.7)
    exelfs_third_shell_amplitude_ratio: tuple[float, float] = (0.1, 0.4)
    background_exponent_range: tuple[float, float] | None = None
    background_exponent_range_probability: float = 1.0
    noise_reference_ev: float | None = None
    noise_follows_background: bool = False
    noise_shot_fraction: tuple[float, float] = (1.0, 1.0)
    jump_ratio_max_scale: float = 1.0
    emphasised_elements: tuple[str, ...] = ()
    element_emphasis_weight: float = 1.0
    render_version: int = 1
    version: int = field(default=CONFIG_VERSION)

    def __post_init__(self) -> None:
        # Normalise sequences to tuples so that the frozen config is hashable and JSON round-trips.
        for f in dataclasses.fields(self):
            v = getattr(self, f.name)
            if isinstance(v, list):
                object.__setattr__(self, f.name, tuple(v))
        self._validate()

    # ------------------------------------------------------------------ validation
    def _validate(self) -> None:
        if self.version != CONFIG_VERSION:
            raise ValueError(
                f"version = {self.version}: this eels_core reads config version {CONFIG_VERSION} "
                "only; regenerate the database with this version"
            )
        unknown = [e for e in self.elements if e not in ELEMENTS]
        if unknown:
            raise ValueError(f"elements: unknown element(s) {unknown}; allowed: {', '.join(ELEMENTS)}")
        if len(self.elements) == 0:
            raise ValueError("elements must name at least one of: " + ", ".join(ELEMENTS))
        if len(set(self.elements)) != len(self.elements):
            raise ValueError("elements: each element may appear only once")
        p = np.asarray(self.n_edges_probabilities, dtype=float)
        if p.ndim != 1 or not 1 <= p.size <= 6 or np.any(p < 0) or not np.isclose(p.sum(), 1.0):
            raise ValueError(
                "n_edges_probabilities must hold 1 to 6 non-negative probabilities (for 1, 2, ... edges) "
                f"summing to 1, got {self.n_edges_probabilities!r}"
            )
        if np.flatnonzero(p > 0).max() + 1 > len(self.elements):
            raise ValueError(
                f"n_edges_probabilities allows {np.flatnonzero(p > 0).max() + 1} edges per spectrum but "
                f"elements has only {len(self.elements)}"
            )
        _range_ok("psf_fwhm_gauss_ev", self.psf_fwhm_gauss_ev, 0.01, 10.0)
        _range_ok("psf_hwhm_lorentz_ev", self.psf_hwhm_lorentz_ev, 0.0, 5.0)
        _range_ok("tail_exponent", self.tail_exponent, 0.0, 10.0)
        if not 0.5 <= self.background_exponent_mean <= 6.0:
            raise ValueError(f"background_exponent_mean = {self.background_exponent_mean} outside [0.5, 6]")
        if not 0.0 <= self.background_exponent_sd <= 2.0:
            raise ValueError(f"background_exponent_sd = {self.background_exponent_sd} outside [0, 2]")
        if not 0.0 <= self.background_exponent_min < self.background_exponent_mean:
            raise ValueError(
                f"background_exponent_min = {self.background_exponent_min} must be in "
                f"[0, background_exponent_mean = {self.background_exponent_mean})"
            )
        if not 0.0 < self.jump_ratio_min <= 5.0:
            raise ValueError(f"jump_ratio_min = {self.jump_ratio_min} outside (0, 5]")
        if not 0.0 <= self.stretch_max <= 0.1:
            raise ValueError(f"stretch_max = {self.stretch_max} outside [0, 0.1]")
        if not 0.0 <= self.shift_max_ev <= 30.0:
            raise ValueError(f"shift_max_ev = {self.shift_max_ev} outside [0, 30] eV")
        if not 0.0 <= self.noise_sd <= 1.0:
            raise ValueError(f"noise_sd = {self.noise_sd} outside [0, 1]")
        _range_ok("savgol_frame", self.savgol_frame, 3, 501)
        if any(int(v) != v or int(v) % 2 == 0 for v in self.savgol_frame):
            raise ValueError(f"savgol_frame = {self.savgol_frame!r}: both ends must be odd integers")
        if not 0 <= self.savgol_order < min(self.savgol_frame):
            raise ValueError(
                f"savgol_order = {self.savgol_order} must be >= 0 and smaller than the shortest frame "
                f"{min(self.savgol_frame)}"
            )
        _range_ok("noise_coefficient", self.noise_coefficient, 0.0, 100.0)
        if self.shot_noise_dose is not None:
            _range_ok("shot_noise_dose", self.shot_noise_dose, 1e-3, 1e12)
            if self.shot_noise_dose[0] <= 0:
                raise ValueError("shot_noise_dose must be positive (electrons per channel at 50 eV)")
        m0, m1, dm = self.model_energy_ev
        o0, o1, do = self.output_energy_ev
        if not (0 < m0 < m1 and 0 < dm <= 1.0):
            raise ValueError(f"model_energy_ev = {self.model_energy_ev!r}: need 0 < start < stop and 0 < step <= 1 eV")
        if not (0 < o0 < o1 and 0 < do <= 5.0):
            raise ValueError(f"output_energy_ev = {self.output_energy_ev!r}: need 0 < start < stop and 0 < step <= 5 eV")
        # Every output point maps back to model energy x = (E - shift) / (1 + stretch); the model
        # grid must cover all of them for the largest stretch and shift.
        lo = (o0 - self.shift_max_ev) / (1 + self.stretch_max)
        hi = (o1 + self.shift_max_ev) / (1 - self.stretch_max)
        if lo < m0 or hi > m1:
            raise ValueError(
                f"model_energy_ev {self.model_energy_ev!r} must cover output_energy_ev {self.output_energy_ev!r} "
                f"after stretch_max and shift_max_ev: need start <= {lo:.1f} and stop >= {hi:.1f} eV"
            )
        if not 0.0 <= self.onset_margin_ev <= 100.0:
            raise ValueError(f"onset_margin_ev = {self.onset_margin_ev} outside [0, 100] eV")
        _range_ok("thickness", self.thickness, 0.0, 3.0)
        _range_ok("plasmon_energy_ev", self.plasmon_energy_ev, 3.0, 60.0)
        _range_ok("plasmon_fwhm_ev", self.plasmon_fwhm_ev, 0.5, 40.0)
        _range_ok("distractor_jump_ratio", self.distractor_jump_ratio, 0.01, 5.0)
        _range_ok("exelfs_amplitude", self.exelfs_amplitude, 0.0, 0.9)
        _range_ok("exelfs_distance_a", self.exelfs_distance_a, 0.5, 10.0)
        _range_ok("exelfs_debye_waller_a2", self.exelfs_debye_waller_a2, 0.0, 0.05)
        _range_ok("exelfs_second_shell_distance_ratio", self.exelfs_second_shell_distance_ratio, 1.0, 4.0)
        _range_ok("exelfs_second_shell_amplitude_ratio", self.exelfs_second_shell_amplitude_ratio, 0.0, 1.5)
        _range_ok("exelfs_third_shell_distance_ratio", self.exelfs_third_shell_distance_ratio, 1.0, 5.0)
        _range_ok("exelfs_third_shell_amplitude_ratio", self.exelfs_third_shell_amplitude_ratio, 0.0, 1.5)
        if self.distractor_table not in DISTRACTOR_TABLE_NAMES:
            raise ValueError(f"distractor_table = {self.distractor_table!r}: choose one of "
                             f"{', '.join(repr(n) for n in DISTRACTOR_TABLE_NAMES)}")
        if not 1.0 <= self.computed_compound_weight <= 100.0:
            raise ValueError(f"computed_compound_weight = {self.computed_compound_weight!r}: must be in [1, 100]")
        if self.computed_compound_weight != 1.0 and not self.computed_compound_sets:
            raise ValueError(f"computed_compound_weight = {self.computed_compound_weight!r} needs a set of computed "
                             "compounds to weight: set one of " + ", ".join(COMPUTED_COMPOUND_SET_NAMES))
        if not 1.0 <= self.distractor_white_line_weight <= 100.0:
            raise ValueError(f"distractor_white_line_weight = {self.distractor_white_line_weight!r}: must be in [1, 100]")
        if self.distractor_white_line_weight != 1.0 and self.distractor_table == "curated":
            raise ValueError(f"distractor_white_line_weight = {self.distractor_white_line_weight!r} needs "
                             "distractor_table = 'complete' or 'complete_4f' (the curated table names no shape classes)")
        for name in ("distractor_probability", "background_subtracted_probability", "exelfs_probability",
                     "exelfs_second_shell_probability", "exelfs_third_shell_probability",
                     "background_exponent_range_probability",
                     "companion_probability"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise ValueError(f"{name} = {getattr(self, name)} outside [0, 1]")
        if len(self.background_fit_error_sd) != 2 or not all(0.0 <= v <= 1.0 for v in self.background_fit_error_sd):
            raise ValueError(f"background_fit_error_sd = {self.background_fit_error_sd}: two standard deviations in [0, 1]")
        if self.background_exponent_range is not None:
            _range_ok("background_exponent_range", self.background_exponent_range, 0.1, 8.0)
        if self.noise_reference_ev is not None and not 50.0 <= self.noise_reference_ev <= 2000.0:
            raise ValueError(f"noise_reference_ev = {self.noise_reference_ev} outside [50, 2000] eV (or None)")
        if self.noise_follows_background and self.noise_reference_ev is None:
            raise ValueError("noise_follows_background needs noise_reference_ev (the energy where the noise keeps its size)")
        _range_ok("noise_shot_fraction", self.noise_shot_fraction, 0.0, 1.0)
        if self.noise_shot_fraction != (1.0, 1.0) and not self.noise_follows_background:
            raise ValueError("noise_shot_fraction needs noise_follows_background (the shot noise whose share it draws)")
        if not 1.0 <= self.jump_ratio_max_scale <= 10.0:
            raise ValueError(f"jump_ratio_max_scale = {self.jump_ratio_max_scale} outside [1, 10]")
        outside = [e for e in self.emphasised_elements if e not in self.elements]
        if outside:
            raise ValueError(f"emphasised_elements: {outside} not among the elements drawn ({', '.join(self.elements)}); "
                             "add them to elements or leave them out")
        if len(set(self.emphasised_elements)) != len(self.emphasised_elements):
            raise ValueError("emphasised_elements: each element may appear only once")
        if not 1.0 <= self.element_emphasis_weight <= 20.0:
            raise ValueError(f"element_emphasis_weight = {self.element_emphasis_weight} outside [1, 20]")
        if self.element_emphasis_weight != 1.0 and not self.emphasised_elements:
            raise ValueError(f"element_emphasis_weight = {self.element_emphasis_weight} needs emphasised_elements "
                             "(the elements it weighs); name them or leave the weight at 1")
        if isinstance(self.render_version, bool) or self.render_version not in (1, 2):
            raise ValueError(f"render_version = {self.render_version!r}: must be 1 (the paper's formulation) or 2 (fast)")
        if int(self.elnes_variation_copies) != self.elnes_variation_copies or not 0 <= self.elnes_variation_copies <= 20:
            raise ValueError(f"elnes_variation_copies = {self.elnes_variation_copies!r}: must be an integer in [0, 20]")
        if self.elnes_variation_keeps_white_line_order and self.elnes_variation_copies == 0:
            raise ValueError("elnes_variation_keeps_white_line_order = True needs elnes_variation_copies > 0 (it constrains "
                             "the varied copies); set elnes_variation_copies or leave it False")

    @property
    def computed_compound_sets(self) -> tuple[str, ...]:
        """The sets of computed compounds this config draws (:data:`COMPUTED_COMPOUND_SET_NAMES` whose
        field is true), in library order."""
        return tuple(name for name in COMPUTED_COMPOUND_SET_NAMES if getattr(self, name))

    # ------------------------------------------------------------------ grids
    def model_energy_axis(self) -> NDArray[np.float64]:
        """Model energy grid (eV), paper: 50-1100 eV."""
        return _grid(*self.model_energy_ev)

    def output_energy_axis(self) -> NDArray[np.float64]:
        """Network input energy grid (eV), paper: 90-1000 eV at 0.2 eV (4551 channels)."""
        return _grid(*self.output_energy_ev)

    # ------------------------------------------------------------------ (de)serialisation
    def to_dict(self) -> dict[str, Any]:
        """Plain-JSON dict of every field (tuples become lists)."""
        return json.loads(json.dumps(dataclasses.asdict(self)))

    def to_json(self) -> str:
        """JSON text of :meth:`to_dict`, keys sorted (a stable fingerprint)."""
        return json.dumps(self.to_dict(), sort_keys=True)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "SynthesisConfig":
        """Build a config from a dict; unknown keys raise ``ValueError`` naming them."""
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(d) - names)
        if unknown:
            raise ValueError(f"unknown config field(s) {unknown}; known fields: {sorted(names)}")
        return cls(**d)

    @classmethod
    def from_json(cls, text: str) -> "SynthesisConfig":
        """Inverse of :meth:`to_json`."""
        return cls.from_dict(json.loads(text))

    @classmethod
    def with_real_data_physics(cls, **changes: Any) -> "SynthesisConfig":
        """The paper's Table 2 plus plural scattering (t/lambda 0-0.8), unlabelled distractor edges
        (30 % of spectra) and background-subtracted spectra (3 %): what real spectra show and the
        paper's synthesis leaves out. The shipped model sees it on every other training step."""
        base = dict(thickness=(0.0, 0.8), distractor_probability=0.3, background_subtracted_probability=0.03)
        return cls(**{**base, **changes})

    def replace(self, **changes: Any) -> "SynthesisConfig":
        """A copy with some fields changed (validated again)."""
        return dataclasses.replace(self, **changes)


def _grid(start: float, stop: float, step: float) -> NDArray[np.float64]:
    """Inclusive grid ``start, start+step, ..., stop`` without floating-point drift."""
    n = int(round((stop - start) / step)) + 1
    return start + step * np.arange(n, dtype=np.float64)
