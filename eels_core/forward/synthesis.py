"""Spectrum synthesis and data augmentation (paper: Methods, "Spectrum synthesis ...", Figs 3-4, Table 2).

One synthetic spectrum is made in the order of the paper's Fig. 3:

1. pick 1-6 distinct edges (20/20/20/15/15/10 %), a library variant of each, and a jump ratio
   uniform in [0.15, Table 1 maximum];
2. extend each edge beyond its near-edge region by an inverse power law (exponent 1.8-3.8) and
   convolve it with the spectrum's PSF (Gaussian FWHM 0.1-1.6 eV (x) Lorentzian HWHM 0.1-0.6 eV),
   all on the 50-1100 eV model grid;
3. scale each edge so that its peak above the background, over the background at its onset,
   equals its jump ratio, and add the background J_n(E) = (E/50)^-r, r ~ N(1.88, 0.2);
4. contract/expand the energy axis by up to 1.5 % and shift it by up to 15 eV, sampling the result
   on the network's 90-1000 eV grid (0.2 eV, 4551 channels);
5. add the paper's fixed-pattern noise (and, beyond the paper and off by default, shot noise).

Every random choice is a :class:`SpectrumParameters` field, so a spectrum can be regenerated and
explained from its stored parameters (:func:`render_spectra`).

Reproducibility: spectra are made in canonical blocks of :data:`BLOCK_SIZE`; block ``k`` of seed
``s`` draws from ``SeedSequence(s, spawn_key=(k,))``. Spectrum ``i`` is therefore a pure function of
``(seed, i, config)``, and :func:`synthesize` returns bit-identical arrays whatever ``start``, ``n``
or the number of threads.
"""

from __future__ import annotations

import ctypes
import functools
import os
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, fields
from typing import Callable, Iterator, Sequence

import numpy as np
from numpy.typing import ArrayLike, NDArray
from tqdm.auto import tqdm

from .background import (
    BACKGROUND_REFERENCE_EV,
    extrapolated_background_fit,
    power_law_background,
    sample_background_exponent,
)
from .config import ELEMENTS, SynthesisConfig
from .edges import (
    WHITE_LINE_SHAPE_CLASSES,
    EdgeLibrary,
    EdgeVariant,
    add_companion_edges,
    computed_compound_variants,
    distractor_shape_classes,
    edge_template,
    exelfs_modulation,
    extend_edge_tail,
    load_distractor_edges,
    synthesis_library_for,
)
from ._jit import kernels
from .noise import fixed_pattern_noise, shot_noise
from .psf import convolve_psf, fft_length
from .scattering import plural_scattering_transfer

#: Number of spectra drawn together from one random stream (part of the reproducibility contract).
BLOCK_SIZE: int = 64
#: Most edges one spectrum can hold.
MAX_EDGES: int = 6
#: Most unlabelled distractor edges (elements outside the 20) one spectrum can hold.
MAX_DISTRACTORS: int = 2
N_ELEMENTS: int = len(ELEMENTS)


def _no_exelfs(n: int) -> dict[str, NDArray[np.float64]]:
    """EXELFS fields of n spectra whose edges all have smooth tails (amplitude 0)."""
    slots = MAX_EDGES + MAX_DISTRACTORS
    return {"exelfs_amplitude": np.zeros((n, slots)), "exelfs_distance_a": np.full((n, slots), 2.0),
            "exelfs_phase": np.zeros((n, slots)), "exelfs_debye_waller_a2": np.zeros(n),
            "exelfs_second_amplitude": np.zeros((n, slots)), "exelfs_second_distance_a": np.full((n, slots), 3.0),
            "exelfs_second_phase": np.zeros((n, slots)),
            "exelfs_third_amplitude": np.zeros((n, slots)), "exelfs_third_distance_a": np.full((n, slots), 4.0),
            "exelfs_third_phase": np.zeros((n, slots))}


#: The further shells of the extended fine structure, in the order of
#: :func:`~eels_core.forward.edges.exelfs_modulation`'s keywords and of their random draws.
FURTHER_SHELLS: tuple[str, ...] = ("second", "third")


def _further_shells(params: "SpectrumParameters", spec: ArrayLike, slot: ArrayLike) -> dict[str, NDArray[np.float64]]:
    """Keywords of :func:`exelfs_modulation` for the second and third shells of the edges in
    ``(spec, slot)``, shaped as ``params.exelfs_amplitude[spec, slot]``."""
    return {f"{shell}_{part}": getattr(params, f"exelfs_{shell}_{part}")[spec, slot]
            for shell in FURTHER_SHELLS for part in ("amplitude", "distance_a", "phase")}


def _draw_shell(rng: np.random.Generator, has_shell: NDArray[np.bool_], probability: float,
                amplitude_ratio: tuple[float, float], distance_ratio: tuple[float, float],
                amplitude: NDArray[np.float64], distance_a: NDArray[np.float64]) -> tuple[NDArray[np.float64], ...]:
    """Amplitude, distance and phase of a further shell on a share ``probability`` of the edges
    ``has_shell``, relative to the first shell's ``amplitude`` and ``distance_a`` (amplitude 0
    where it is not drawn)."""
    shape = has_shell.shape
    drawn = has_shell & (rng.random(shape) < probability)
    ratio = rng.uniform(*amplitude_ratio, size=shape)
    return (np.where(drawn, ratio * amplitude, 0.0), distance_a * rng.uniform(*distance_ratio, size=shape),
            rng.uniform(0.0, 2.0 * np.pi, size=shape))


@dataclass
class SpectrumParameters:
    """Every random choice behind a batch of spectra (struct of arrays, first axis = spectrum).

    Edge slots beyond ``n_edges`` hold ``element_index = -1``.
    """

    n_edges: NDArray[np.int8]
    element_index: NDArray[np.int8]  # (b, 6) index into Table 1 order, -1 = empty slot
    variant_index: NDArray[np.int16]  # (b, 6) index into that element's variants, -1 = empty
    jump_ratio: NDArray[np.float64]  # (b, 6)
    tail_exponent: NDArray[np.float64]  # (b, 6)
    psf_fwhm_gauss_ev: NDArray[np.float64]
    psf_hwhm_lorentz_ev: NDArray[np.float64]
    background_exponent: NDArray[np.float64]
    stretch: NDArray[np.float64]
    shift_ev: NDArray[np.float64]
    savgol_frame: NDArray[np.int16]
    noise_coefficient: NDArray[np.float64]
    noise_seed: NDArray[np.uint64]
    shot_noise_dose: NDArray[np.float64]  # NaN = no shot noise
    distractor_index: NDArray[np.int8]  # (b, 2) index into the distractor edges, -1 = none
    distractor_jump_ratio: NDArray[np.float64]  # (b, 2)
    distractor_tail_exponent: NDArray[np.float64]  # (b, 2)
    thickness: NDArray[np.float64]  # t / lambda of the plural scattering (0 = none)
    plasmon_energy_ev: NDArray[np.float64]
    plasmon_fwhm_ev: NDArray[np.float64]
    background_subtracted: NDArray[np.bool_]
    # the background that a background-subtracted spectrum had removed: errors of its fit, and
    # where (model energy) it was fitted; zeros / any energy: the true background
    background_fit_exponent_error: NDArray[np.float64]
    background_fit_scale_error: NDArray[np.float64]
    background_fit_reference_ev: NDArray[np.float64]
    # extended fine structure of each edge, slots 0-5 labelled, 6-7 distractors (amplitude 0: none)
    exelfs_amplitude: NDArray[np.float64]  # (b, 8)
    exelfs_distance_a: NDArray[np.float64]  # (b, 8)
    exelfs_phase: NDArray[np.float64]  # (b, 8)
    exelfs_debye_waller_a2: NDArray[np.float64]  # (b,)
    # share of the noise variance at the noise reference energy that is shot noise (1: all of it)
    noise_shot_fraction: NDArray[np.float64]  # (b,)
    # a second shell of neighbours in the extended fine structure (amplitude 0: one shell)
    exelfs_second_amplitude: NDArray[np.float64]  # (b, 8)
    exelfs_second_distance_a: NDArray[np.float64]  # (b, 8)
    exelfs_second_phase: NDArray[np.float64]  # (b, 8)
    # a third shell (amplitude 0: at most two)
    exelfs_third_amplitude: NDArray[np.float64]  # (b, 8)
    exelfs_third_distance_a: NDArray[np.float64]  # (b, 8)
    exelfs_third_phase: NDArray[np.float64]  # (b, 8)

    def __len__(self) -> int:
        return int(self.n_edges.shape[0])

    def __getitem__(self, index: slice | NDArray[np.integer] | int) -> "SpectrumParameters":
        if isinstance(index, (int, np.integer)):
            index = slice(int(index), int(index) + 1)
        return SpectrumParameters(**{f.name: getattr(self, f.name)[index] for f in fields(self)})

    def to_dict(self) -> dict[str, NDArray]:
        """Name -> array (for HDF5)."""
        return {f.name: getattr(self, f.name) for f in fields(self)}

    @classmethod
    def from_dict(cls, d: dict[str, NDArray]) -> "SpectrumParameters":
        """Inverse of :meth:`to_dict` (databases written before the background-fit, EXELFS and
        shot-fraction fields existed read as exact background subtraction, smooth edge tails and
        noise that is all shot noise where it follows the background)."""
        d = dict(d)
        n = len(np.asarray(d["n_edges"]))
        d.setdefault("background_fit_exponent_error", np.zeros(n))
        d.setdefault("background_fit_scale_error", np.zeros(n))
        d.setdefault("background_fit_reference_ev", np.full(n, BACKGROUND_REFERENCE_EV))
        for name, value in _no_exelfs(n).items():
            d.setdefault(name, value)
        d.setdefault("noise_shot_fraction", np.ones(n))
        return cls(**{f.name: np.asarray(d[f.name]) for f in fields(cls)})

    @classmethod
    def concatenate(cls, parts: list["SpectrumParameters"]) -> "SpectrumParameters":
        """Join batches along the spectrum axis."""
        return cls(**{f.name: np.concatenate([getattr(p, f.name) for p in parts]) for f in fields(cls)})


@dataclass
class SyntheticBatch:
    """Synthetic spectra with their labels and parameters.

    Attributes
    ----------
    energy_ev : ndarray, shape (n_channels,)
        Network input grid (eV).
    spectra : ndarray, shape (b, n_channels), float32
        Intensities in units of J_n (background = 1 at 50 eV).
    labels : ndarray, shape (b, 20), uint8
        Multi-hot presence of the 20 edges, Table 1 order.
    edge_onset_ev : ndarray, shape (b, 20), float32
        Onset of each present edge on the output axis (after stretch and shift); NaN if absent.
    jump_ratio : ndarray, shape (b, 20), float32
        Jump ratio of each present edge; 0 if absent.
    params : SpectrumParameters
    index : ndarray, shape (b,)
        Global index of each spectrum in the (seed, config) stream.
    """

    energy_ev: NDArray[np.float64]
    spectra: NDArray[np.float32]
    labels: NDArray[np.uint8]
    edge_onset_ev: NDArray[np.float32]
    jump_ratio: NDArray[np.float32]
    params: SpectrumParameters
    index: NDArray[np.int64]

    def __len__(self) -> int:
        return int(self.spectra.shape[0])


@dataclass
class SynthesisComponents:
    """The parts of rendered spectra, for plots (Fig. 3): all on the output grid."""

    background: NDArray[np.float64]  # (b, n)
    edges: NDArray[np.float64]  # (b, 6, n) scaled edges, zeros in empty slots
    distractors: NDArray[np.float64]  # (b, 2, n) unlabelled edges of other elements
    clean: NDArray[np.float64]  # (b, n) background + edges (+ shot noise if on)
    noise: NDArray[np.float64]  # (b, n) fixed-pattern noise


# ---------------------------------------------------------------------------- precomputation
@dataclass(frozen=True)
class _Tables:
    library: EdgeLibrary
    model_energy: NDArray[np.float64]
    output_energy: NDArray[np.float64]
    templates: NDArray[np.float32]  # (n_variants_total, n_fft) unbroadened near-edge profiles, zero-padded
    variant_offset: NDArray[np.int64]  # (20,) first flat variant of each element
    variant_draw_edge: NDArray[np.float64]  # (n_library_variants,) element index + its cumulative weighted share
    n_variants: NDArray[np.int64]  # (20,)
    onset_ev: NDArray[np.float64]  # (n_variants_total,)
    tail_start_ev: NDArray[np.float64]  # (n_variants_total,)
    log_model_energy: NDArray[np.float32]  # (n_model,)
    log_tail_start: NDArray[np.float32]  # (n_variants_total,)
    log_model_energy_over_reference: NDArray[np.float32]  # (n_model,) ln(E / 50 eV)
    peak_channel: NDArray[np.int64]  # (n_variants_total,) model channel of each template's maximum
    first_nonzero: NDArray[np.int64]  # (n_variants_total,) first model channel where a template is not 0
    jump_ratio_max: NDArray[np.float64]  # (20,)
    allowed: NDArray[np.int64]  # indices (Table 1 order) of the elements the config may draw
    distractors: tuple[EdgeVariant, ...]  # their templates follow the library's in `templates`
    distractor_white_line: NDArray[np.bool_]  # which distractors have a white-line shape class
    n_library_variants: int


@functools.lru_cache(maxsize=4)
def _tables(config: SynthesisConfig) -> _Tables:
    library = synthesis_library_for(config)
    e_model = config.model_energy_axis()
    distractors = load_distractor_edges(config.distractor_table)
    variants = library.variants + distractors
    templates = np.zeros((len(variants), fft_length(e_model.size)), dtype=np.float32)
    templates[:, : e_model.size] = np.stack([edge_template(v, e_model) for v in variants])
    n_var = np.array([len(el.variants) for el in library.elements], dtype=np.int64)
    offset = np.concatenate([[0], np.cumsum(n_var)[:-1]])
    return _Tables(
        library=library,
        model_energy=e_model,
        output_energy=config.output_energy_axis(),
        templates=templates,
        variant_offset=offset,
        variant_draw_edge=_variant_draw_edges(np.where(
            computed_compound_variants(library, config.computed_compound_sets), config.computed_compound_weight, 1.0),
            n_var, offset),
        n_variants=n_var,
        onset_ev=np.array([v.edge_onset_ev for v in variants]),
        tail_start_ev=np.array([v.tail_start_ev for v in variants]),
        log_model_energy=np.log(e_model).astype(np.float32),
        log_tail_start=np.log([v.tail_start_ev for v in variants]).astype(np.float32),
        log_model_energy_over_reference=np.log(e_model / BACKGROUND_REFERENCE_EV).astype(np.float32),
        peak_channel=np.argmax(templates[:, : e_model.size], axis=1).astype(np.int64),
        first_nonzero=_first_nonzero_channel(templates[:, : e_model.size]),
        jump_ratio_max=np.array([el.jump_ratio_range[1] for el in library.elements]),
        allowed=np.array([ELEMENTS.index(s) for s in config.elements], dtype=np.int64),
        distractors=distractors,
        distractor_white_line=np.array([c in WHITE_LINE_SHAPE_CLASSES
                                        for c in distractor_shape_classes(config.distractor_table)], dtype=bool),
        n_library_variants=len(library.variants),
    )


def _first_nonzero_channel(rows: NDArray[np.float32]) -> NDArray[np.int64]:
    """First channel of each row whose value is not exactly 0 (the row length for a row of zeros)."""
    nonzero = rows != 0
    return np.where(nonzero.any(axis=1), np.argmax(nonzero, axis=1), rows.shape[1]).astype(np.int64)


def edge_library_for(config: SynthesisConfig) -> EdgeLibrary:
    """The edge library a config draws from (with fitted edges if it asks for them)."""
    return _tables(config).library


# ---------------------------------------------------------------------------- sampling
def _block_rng(seed: int, block: int) -> np.random.Generator:
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence(entropy=seed, spawn_key=(block,))))


def _variant_draw_edges(weight: NDArray[np.float64], n_variants: NDArray[np.int64],
                        offset: NDArray[np.int64]) -> NDArray[np.float64]:
    """The upper edge of every variant's share of its element's summed ``weight``, on a line where
    element k spans [k, k + 1): a variant is drawn with probability proportional to its weight.
    ``offset``: each element's first variant (``_Tables.variant_offset``)."""
    element_of = np.repeat(np.arange(n_variants.size), n_variants)
    cumulative = np.cumsum(weight)
    start = cumulative[offset] - weight[offset]
    total = cumulative[offset + n_variants - 1] - start
    return element_of + (cumulative - start[element_of]) / total[element_of]


def _weighted_variant(u: NDArray[np.float64], element: NDArray[np.int64], t: _Tables) -> NDArray[np.int64]:
    """The variant of ``element`` whose share of the element's weights (``t.variant_draw_edge``) holds ``u``.

    The same uniform numbers as the unweighted draw (``floor(u * n_variants)``), mapped through the
    cumulative weights of each element's variants, so that only the mapping changes.
    """
    flat = np.searchsorted(t.variant_draw_edge, element + u, side="right")
    flat = np.minimum(flat, t.variant_offset[element] + t.n_variants[element] - 1)
    return flat - t.variant_offset[element]


def element_presence(config: SynthesisConfig, n: int, seed: int = 0) -> NDArray[np.bool_]:
    """Which of the 20 edges each of ``n`` drawn spectra holds, without rendering any.

    Parameters
    ----------
    config : SynthesisConfig
        The settings whose element draw is counted (``elements``, ``n_edges_probabilities``,
        ``emphasised_elements``).
    n : int
        Number of spectra drawn.
    seed : int
        Seed of ``np.random.default_rng`` passed to :func:`sample_parameters`.

    Returns
    -------
    ndarray of bool, shape (n, 20)
        Entry (i, j): spectrum i holds the edge of element j (Table 1 order).
    """
    element_index = sample_parameters(np.random.default_rng(seed), n, config).element_index
    return (element_index[:, :, None] == np.arange(N_ELEMENTS)[None, None, :]).any(axis=1)


def _element_keys(u: NDArray[np.float64], allowed: NDArray[np.int64], config: SynthesisConfig) -> NDArray[np.float64]:
    """Sort keys of the allowed elements (smallest first is drawn first) from uniform draws ``u`` (b, n_allowed).

    Without emphasis the keys are ``u`` itself: a uniform random permutation, the paper's draw. An element of
    ``config.emphasised_elements`` gets the key ``1 - (1 - u)^(1 / w)`` (w = ``config.element_emphasis_weight``),
    which puts it before the others as if each next element were drawn with probability proportional to its
    weight among those not yet drawn (weighted sampling without replacement by exponential keys: with
    ``-log(1 - key) = -log(1 - u) / w`` every key is an exponential variate of rate w).
    """
    if not config.emphasised_elements or config.element_emphasis_weight == 1.0:
        return u
    emphasised = np.isin(allowed, [ELEMENTS.index(e) for e in config.emphasised_elements])
    weight = np.where(emphasised, config.element_emphasis_weight, 1.0)
    return 1.0 - (1.0 - u) ** (1.0 / weight)


def sample_parameters(rng: np.random.Generator, n: int, config: SynthesisConfig) -> SpectrumParameters:
    """Draw the random choices of ``n`` spectra (paper, Table 2).

    The draws have fixed shapes whatever the outcome, so the stream is reproducible.
    """
    t = _tables(config)
    p = np.asarray(config.n_edges_probabilities, dtype=float)
    n_edges = (rng.choice(p.size, size=n, p=p / p.sum()) + 1).astype(np.int8)
    # distinct elements: the first n_edges of a random permutation of the allowed ones
    order = np.argsort(_element_keys(rng.random((n, t.allowed.size)), t.allowed, config), axis=1)[:, :MAX_EDGES]
    picked = t.allowed[order]
    if picked.shape[1] < MAX_EDGES:
        picked = np.pad(picked, ((0, 0), (0, MAX_EDGES - picked.shape[1])), constant_values=-1)
    present = np.arange(MAX_EDGES)[None, :] < n_edges[:, None]
    element_index = np.where(present, picked, -1).astype(np.int8)
    safe_el = np.maximum(element_index, 0)

    u_variant = rng.random((n, MAX_EDGES))
    if config.computed_compound_weight == 1.0:
        drawn = np.floor(u_variant * t.n_variants[safe_el])
    else:
        drawn = _weighted_variant(u_variant, safe_el, t)
    variant_index = np.where(present, drawn, -1).astype(np.int16)
    u_jr = rng.random((n, MAX_EDGES))
    jr_max = t.jump_ratio_max[safe_el]
    if config.jump_ratio_max_scale == 1.0:
        jump = np.where(present, config.jump_ratio_min + u_jr * (jr_max - config.jump_ratio_min), 0.0)
    else:  # beyond the paper: log-uniform up to the scaled maximum
        ratio = jr_max * config.jump_ratio_max_scale / config.jump_ratio_min
        jump = np.where(present, config.jump_ratio_min * ratio**u_jr, 0.0)
    tail = np.where(present, rng.uniform(*config.tail_exponent, size=(n, MAX_EDGES)), 0.0)

    fwhm = rng.uniform(*config.psf_fwhm_gauss_ev, size=n)
    hwhm = rng.uniform(*config.psf_hwhm_lorentz_ev, size=n)
    r = sample_background_exponent(
        rng, n, config.background_exponent_mean, config.background_exponent_sd, config.background_exponent_min
    )
    stretch = rng.uniform(-config.stretch_max, config.stretch_max, size=n)
    shift = rng.uniform(-config.shift_max_ev, config.shift_max_ev, size=n)
    f0, f1 = config.savgol_frame
    frame = (f0 + 2 * rng.integers(0, (f1 - f0) // 2 + 1, size=n)).astype(np.int16)
    coeff = rng.uniform(*config.noise_coefficient, size=n)
    seeds = rng.integers(0, 2**63 - 1, size=n, dtype=np.int64).astype(np.uint64)
    u_dose = rng.random(n)
    if config.shot_noise_dose is None:
        dose = np.full(n, np.nan)
    else:
        lo, hi = np.log(config.shot_noise_dose[0]), np.log(config.shot_noise_dose[1])
        dose = np.exp(lo + u_dose * (hi - lo))

    # beyond the paper: unlabelled distractor edges, plural scattering, background subtraction
    n_d_avail = len(t.distractors)
    has_d = rng.random(n) < config.distractor_probability
    n_d = np.where(has_d, 1 + rng.integers(0, MAX_DISTRACTORS, size=n), 0)
    d_keys = rng.random((n, n_d_avail))
    if config.distractor_white_line_weight != 1.0:  # successive draws weighted w: key 1 - (1 - u)^(1/w), u at w = 1
        weight = np.where(t.distractor_white_line, config.distractor_white_line_weight, 1.0)
        d_keys = 1.0 - (1.0 - d_keys) ** (1.0 / weight)
    d_pick = np.argsort(d_keys, axis=1)[:, :MAX_DISTRACTORS]
    d_index = np.where(np.arange(MAX_DISTRACTORS)[None, :] < n_d[:, None], d_pick, -1).astype(np.int8)
    d_jump = np.where(d_index >= 0, rng.uniform(*config.distractor_jump_ratio, size=(n, MAX_DISTRACTORS)), 0.0)
    d_tail = np.where(d_index >= 0, rng.uniform(*config.tail_exponent, size=(n, MAX_DISTRACTORS)), 0.0)
    thickness = rng.uniform(*config.thickness, size=n)
    plasmon_energy = rng.uniform(*config.plasmon_energy_ev, size=n)
    plasmon_fwhm = rng.uniform(*config.plasmon_fwhm_ev, size=n)
    bg_sub = rng.random(n) < config.background_subtracted_probability
    if config.background_exponent_range is not None:  # drawn last: the paper's stream stays as it was
        steep = rng.uniform(*config.background_exponent_range, size=n)
        if config.background_exponent_range_probability < 1.0:  # a further draw only when it is asked for
            steep = np.where(rng.random(n) < config.background_exponent_range_probability, steep, r)
        r = steep
    fit_exp_err, fit_scale_err = np.zeros(n), np.zeros(n)
    fit_gap = np.zeros(n)
    if config.background_fit_error_sd != (0.0, 0.0):  # after everything else, for the same reason
        fit_exp_err = rng.normal(0.0, config.background_fit_error_sd[0], size=n)
        fit_scale_err = np.maximum(rng.normal(0.0, config.background_fit_error_sd[1], size=n), -0.5)
        fit_gap = rng.uniform(3.0, 30.0, size=n)
    exelfs = _no_exelfs(n)
    if config.exelfs_probability > 0:  # after everything else, for the same reason
        slots = MAX_EDGES + MAX_DISTRACTORS
        has_edge = np.concatenate([present, d_index >= 0], axis=1)
        has_exelfs = has_edge & (rng.random((n, slots)) < config.exelfs_probability)
        exelfs["exelfs_amplitude"] = np.where(has_exelfs, rng.uniform(*config.exelfs_amplitude, size=(n, slots)), 0.0)
        exelfs["exelfs_distance_a"] = rng.uniform(*config.exelfs_distance_a, size=(n, slots))
        exelfs["exelfs_phase"] = rng.uniform(0.0, 2.0 * np.pi, size=(n, slots))
        exelfs["exelfs_debye_waller_a2"] = rng.uniform(*config.exelfs_debye_waller_a2, size=n)
        has_shell = has_exelfs
        for shell in FURTHER_SHELLS:  # further draws only when they are asked for
            probability = getattr(config, f"exelfs_{shell}_shell_probability")
            if probability == 0:
                break
            shell_fields = [f"exelfs_{shell}_{part}" for part in ("amplitude", "distance_a", "phase")]
            drawn = _draw_shell(rng, has_shell, probability, getattr(config, f"exelfs_{shell}_shell_amplitude_ratio"),
                                getattr(config, f"exelfs_{shell}_shell_distance_ratio"), exelfs["exelfs_amplitude"],
                                exelfs["exelfs_distance_a"])
            exelfs.update(zip(shell_fields, drawn))
            has_shell = exelfs[shell_fields[0]] > 0
    shot_fraction = np.ones(n)
    if config.noise_shot_fraction != (1.0, 1.0):  # after everything else, for the same reason
        shot_fraction = rng.uniform(*config.noise_shot_fraction, size=n)

    # keep every onset inside the output window: raise (or lower) the shift just enough
    flat = t.variant_offset[safe_el] + np.maximum(variant_index, 0)
    onset = t.onset_ev[flat] * (1.0 + stretch[:, None])
    o0, o1, _ = config.output_energy_ev
    m = config.onset_margin_ev
    need_low = (o0 + m) - np.where(present, onset, np.inf).min(axis=1)
    need_high = (o1 - m) - np.where(present, onset, -np.inf).max(axis=1)
    shift = np.minimum(np.maximum(shift, need_low), need_high)
    shift = np.clip(shift, -config.shift_max_ev, config.shift_max_ev)
    # the background fit window ends fit_gap eV below the lowest edge (model energy)
    lowest = np.where(present, t.onset_ev[flat], np.inf).min(axis=1)
    fit_reference = np.maximum(lowest - fit_gap, config.model_energy_ev[0] + 1.0)

    return SpectrumParameters(
        n_edges=n_edges,
        element_index=element_index,
        variant_index=variant_index,
        jump_ratio=jump,
        tail_exponent=tail,
        psf_fwhm_gauss_ev=fwhm,
        psf_hwhm_lorentz_ev=hwhm,
        background_exponent=r,
        stretch=stretch,
        shift_ev=shift,
        savgol_frame=frame,
        noise_coefficient=coeff,
        noise_seed=seeds,
        shot_noise_dose=dose,
        distractor_index=d_index,
        distractor_jump_ratio=d_jump,
        distractor_tail_exponent=d_tail,
        thickness=thickness,
        plasmon_energy_ev=plasmon_energy,
        plasmon_fwhm_ev=plasmon_fwhm,
        background_subtracted=bg_sub,
        background_fit_exponent_error=fit_exp_err,
        background_fit_scale_error=fit_scale_err,
        background_fit_reference_ev=fit_reference,
        **exelfs,
        noise_shot_fraction=shot_fraction,
    )


def make_parameters(
    elements: Sequence[str],
    variants: int | Sequence[int] = 0,
    jump_ratio: float | Sequence[float] = 0.5,
    tail_exponent: float | Sequence[float] = 2.8,
    psf_fwhm_gauss_ev: float = 0.85,
    psf_hwhm_lorentz_ev: float = 0.35,
    background_exponent: float = 1.88,
    stretch: float = 0.0,
    shift_ev: float = 0.0,
    savgol_frame: int = 45,
    noise_coefficient: float = 1.5,
    noise_seed: int = 0,
    shot_noise_dose: float | None = None,
    config: SynthesisConfig | None = None,
) -> SpectrumParameters:
    """The parameters of ONE spectrum, chosen by hand instead of drawn (for explorers and teaching).

    The result renders with :func:`render_spectra` / :func:`synthesis_stages` like a drawn spectrum.
    Values are not restricted to the ranges of Table 2 (``config``), only to what the model can
    render. Defaults are the middles of the Table 2 ranges. The options beyond the paper other than
    shot noise (distractor edges, plural scattering, background subtraction) are off.

    Parameters
    ----------
    elements : sequence of str
        1 to 6 distinct element symbols of Table 1 (e.g. ``("Ti", "O")``), one edge each.
    variants : int or sequence of int
        Library variant of each edge (an int: the same index for all).
    jump_ratio, tail_exponent : float or sequence of float
        Per edge (a float: the same for all); both > 0.
    psf_fwhm_gauss_ev, psf_hwhm_lorentz_ev : float
        PSF Gaussian FWHM and Lorentzian HWHM, eV (both > 0).
    background_exponent : float
        r of J_n(E) = (E / 50 eV)^-r (> 0).
    stretch, shift_ev : float
        Relative contraction/expansion (|stretch| < 0.5) and shift (eV) of the energy axis.
    savgol_frame : int
        Odd Savitzky-Golay frame length, longer than ``config.savgol_order``.
    noise_coefficient : float
        C >= 0 (0: no fixed-pattern noise).
    noise_seed : int
        Seed of this spectrum's noise streams (>= 0).
    shot_noise_dose : float, optional
        Electrons per channel where J_n = 1. Rendering applies it only with a config whose
        ``shot_noise_dose`` is set, so a dose with such a config missing is refused: use e.g.
        ``config.replace(shot_noise_dose=(dose, dose))`` for ``config`` and for rendering.
    config : SynthesisConfig, optional
        The config the spectrum will be rendered with (its edge library decides the variants).

    Raises
    ------
    ValueError
        Naming the offending argument.
    """
    config = config or SynthesisConfig()
    t = _tables(config)
    symbols = [str(s) for s in elements] if not isinstance(elements, str) else [elements]
    if not 1 <= len(symbols) <= MAX_EDGES:
        raise ValueError(f"elements: give 1 to {MAX_EDGES} element symbols, got {len(symbols)}")
    unknown = [s for s in symbols if s not in ELEMENTS]
    if unknown:
        raise ValueError(f"elements: unknown symbol(s) {unknown}; Table 1 has {', '.join(ELEMENTS)}")
    if len(set(symbols)) != len(symbols):
        raise ValueError(f"elements: each edge at most once, got {symbols}")
    k = len(symbols)
    el = np.array([ELEMENTS.index(s) for s in symbols], dtype=np.int64)

    def per_edge(name: str, value: float | Sequence[float], dtype: type) -> NDArray:
        arr = np.asarray(value, dtype=dtype)
        arr = np.full(k, arr, dtype=dtype) if arr.ndim == 0 else arr
        if arr.shape != (k,):
            raise ValueError(f"{name}: give one value or one per element ({k}), got shape {arr.shape}")
        if not np.all(np.isfinite(arr)):
            raise ValueError(f"{name} must be finite")
        return arr

    var = per_edge("variants", variants, np.int64)
    n_var = t.n_variants[el]
    bad = (var < 0) | (var >= n_var)
    if np.any(bad):
        i = int(np.flatnonzero(bad)[0])
        raise ValueError(f"variants: {symbols[i]} has variants 0-{n_var[i] - 1}, got {var[i]}")
    jr = per_edge("jump_ratio", jump_ratio, np.float64)
    tail = per_edge("tail_exponent", tail_exponent, np.float64)
    if np.any(jr <= 0) or np.any(tail <= 0):
        raise ValueError("jump_ratio and tail_exponent must be > 0")
    scalars = {"psf_fwhm_gauss_ev": psf_fwhm_gauss_ev, "psf_hwhm_lorentz_ev": psf_hwhm_lorentz_ev,
               "background_exponent": background_exponent, "stretch": stretch, "shift_ev": shift_ev,
               "noise_coefficient": noise_coefficient}
    for name, value in scalars.items():
        if not np.isfinite(float(value)):
            raise ValueError(f"{name} must be finite, got {value!r}")
    if psf_fwhm_gauss_ev <= 0 or psf_hwhm_lorentz_ev <= 0:
        raise ValueError("psf_fwhm_gauss_ev and psf_hwhm_lorentz_ev must be > 0")
    if background_exponent <= 0:
        raise ValueError(f"background_exponent must be > 0, got {background_exponent}")
    if not abs(stretch) < 0.5:
        raise ValueError(f"stretch = {stretch}: must be a relative change, |stretch| < 0.5")
    if int(savgol_frame) != savgol_frame or savgol_frame % 2 == 0 or savgol_frame <= config.savgol_order:
        raise ValueError(f"savgol_frame = {savgol_frame}: must be an odd integer > savgol_order ({config.savgol_order})")
    if noise_coefficient < 0:
        raise ValueError(f"noise_coefficient must be >= 0, got {noise_coefficient}")
    if int(noise_seed) != noise_seed or noise_seed < 0:
        raise ValueError(f"noise_seed = {noise_seed!r}: must be a non-negative integer")
    if shot_noise_dose is None:
        dose = np.nan
    else:
        if not (np.isfinite(shot_noise_dose) and shot_noise_dose > 0):
            raise ValueError(f"shot_noise_dose must be > 0 or None, got {shot_noise_dose!r}")
        if config.shot_noise_dose is None:
            raise ValueError(
                "shot_noise_dose is only rendered with a config that has shot noise on: pass "
                "config=config.replace(shot_noise_dose=(dose, dose)) here and when rendering"
            )
        dose = float(shot_noise_dose)

    def slots(values: NDArray, fill: float, dtype: type) -> NDArray:
        out = np.full((1, MAX_EDGES), fill, dtype=dtype)
        out[0, :k] = values
        return out

    return SpectrumParameters(
        n_edges=np.array([k], dtype=np.int8),
        element_index=slots(el, -1, np.int8),
        variant_index=slots(var, -1, np.int16),
        jump_ratio=slots(jr, 0.0, np.float64),
        tail_exponent=slots(tail, 0.0, np.float64),
        psf_fwhm_gauss_ev=np.array([psf_fwhm_gauss_ev], dtype=np.float64),
        psf_hwhm_lorentz_ev=np.array([psf_hwhm_lorentz_ev], dtype=np.float64),
        background_exponent=np.array([background_exponent], dtype=np.float64),
        stretch=np.array([stretch], dtype=np.float64),
        shift_ev=np.array([shift_ev], dtype=np.float64),
        savgol_frame=np.array([savgol_frame], dtype=np.int16),
        noise_coefficient=np.array([noise_coefficient], dtype=np.float64),
        noise_seed=np.array([noise_seed], dtype=np.uint64),
        shot_noise_dose=np.array([dose], dtype=np.float64),
        # beyond the paper, all off: no distractor edges, no plural scattering, background kept,
        # smooth edge tails
        distractor_index=np.full((1, MAX_DISTRACTORS), -1, dtype=np.int8),
        distractor_jump_ratio=np.zeros((1, MAX_DISTRACTORS)),
        distractor_tail_exponent=np.zeros((1, MAX_DISTRACTORS)),
        thickness=np.zeros(1),
        plasmon_energy_ev=np.array([float(np.mean(config.plasmon_energy_ev))]),
        plasmon_fwhm_ev=np.array([float(np.mean(config.plasmon_fwhm_ev))]),
        background_subtracted=np.zeros(1, dtype=bool),
        background_fit_exponent_error=np.zeros(1),
        background_fit_scale_error=np.zeros(1),
        background_fit_reference_ev=np.full(1, BACKGROUND_REFERENCE_EV),
        **_no_exelfs(1),
        noise_shot_fraction=np.ones(1),
    )


# ---------------------------------------------------------------------------- rendering
def output_to_model_energy(output_energy_ev: NDArray, stretch: NDArray, shift_ev: NDArray) -> NDArray[np.float64]:
    """Model energy seen at each output channel: x = (E - shift) / (1 + stretch).

    A feature at model energy E_m appears at ``E_m * (1 + stretch) + shift`` on the output axis.
    Returns shape (b, n) for per-spectrum ``stretch``/``shift`` of shape (b,).
    """
    s = np.asarray(stretch, dtype=np.float64)[..., None]
    d = np.asarray(shift_ev, dtype=np.float64)[..., None]
    return (np.asarray(output_energy_ev, dtype=np.float64) - d) / (1.0 + s)


def stretch_and_shift(
    model_values: NDArray, model_start_ev: float, model_step_ev: float, model_energy_at_output: NDArray
) -> NDArray:
    """Sample rows of model-grid values at the (stretched, shifted) output positions (linear interpolation).

    Parameters
    ----------
    model_values : ndarray, shape (b, n_model)
    model_start_ev, model_step_ev : float
        The uniform model grid.
    model_energy_at_output : ndarray, shape (b, n_out)
        From :func:`output_to_model_energy`, one row per row of ``model_values``.
    """
    i0, frac = _interpolation_weights(model_values.shape[-1], model_start_ev, model_step_ev, model_energy_at_output)
    return _interpolate(model_values, i0, frac.astype(model_values.dtype))


def _interpolation_weights(
    n_model: int, model_start_ev: float, model_step_ev: float, model_energy_at_output: NDArray
) -> tuple[NDArray[np.int64], NDArray[np.float64]]:
    """Left model-grid channel of each output position and the fraction of the step beyond it."""
    pos = np.asarray(model_energy_at_output) - model_start_ev
    pos /= model_step_ev
    # truncation is the floor for pos >= 0, and for pos < 0 both end at channel 0 after the clip
    i0 = pos.astype(np.int64)
    np.clip(i0, 0, n_model - 2, out=i0)
    return i0, np.subtract(pos, i0, out=pos)


def _interpolate(
    model_values: NDArray, i0: NDArray[np.int64], frac: NDArray, rows: NDArray[np.int64] | None = None
) -> NDArray:
    """``v0 + frac (v1 - v0)`` with ``v0, v1`` the values at channels ``i0, i0 + 1`` of each row.

    Row ``r`` of ``i0`` and ``frac`` reads row ``rows[r]`` of ``model_values`` (default: row ``r``).
    Rows whose channels are contiguous in memory are gathered with one flat :func:`numpy.take`
    (several times faster than :func:`numpy.take_along_axis`); the arithmetic is the same.
    ``i0`` is used as scratch space (overwritten).
    """
    v = model_values
    if rows is None and not (i0.ndim == 2 and i0.shape[0] == v.shape[0]):
        v0 = np.take_along_axis(v, i0, axis=-1)
        out = np.take_along_axis(v, i0 + 1, axis=-1)
    elif v.ndim == 2 and v.strides[1] == v.itemsize and v.size:
        row_stride = v.strides[0] // v.itemsize
        # every element of every row, and the padding between rows, as one 1-D view
        flat = np.lib.stride_tricks.as_strided(v, shape=((v.shape[0] - 1) * row_stride + v.shape[1],),
                                               strides=(v.itemsize,), writeable=False)
        index = i0
        index += (row_stride * (np.arange(v.shape[0]) if rows is None else rows))[:, None]
        v0 = np.take(flat, index)
        index += 1
        out = np.take(flat, index)
    else:
        v = v if rows is None else v[rows]
        v0 = np.take_along_axis(v, i0, axis=-1)
        out = np.take_along_axis(v, i0 + 1, axis=-1)
    out -= v0
    out *= frac
    out += v0
    return out


def refined_peak(rows: NDArray) -> NDArray[np.float64]:
    """Maximum of each row, refined by a parabola through the top channel and its two neighbours."""
    return _refined_peak_at(rows, np.argmax(rows, axis=1))


def _refined_peak_at(rows: NDArray, i: NDArray[np.int64]) -> NDArray[np.float64]:
    """:func:`refined_peak` given the channel ``i`` of each row's maximum."""
    j = np.clip(i, 1, rows.shape[1] - 2)
    r = np.arange(rows.shape[0])
    a, b, c = (rows[r, j - 1].astype(np.float64), rows[r, j].astype(np.float64), rows[r, j + 1].astype(np.float64))
    denom = a - 2.0 * b + c
    interior = (i == j) & (denom < 0)
    return np.where(interior, b - (a - c) ** 2 / (8.0 * np.where(interior, denom, -1.0)), rows[r, i])


def output_grid_peak(
    edges_model: NDArray, config: SynthesisConfig, stretch: NDArray, shift_ev: NDArray, half_width: int = 4,
    first_channel: NDArray[np.int64] | None = None,
) -> NDArray[np.float64]:
    """Largest value of each model-grid edge once resampled on the output grid.

    Only the output channels within ``half_width`` of where the model-grid maximum lands are
    resampled (cheap). If that position falls outside the output grid, the model-grid maximum
    refined by a parabola is returned instead. ``first_channel`` (one per row) says which model
    channel each row starts at, when the rows hold a window of the model grid (default: 0).
    """
    m0, _, dm = config.model_energy_ev
    o0, _, do = config.output_energy_ev
    n_out = int(round((config.output_energy_ev[1] - o0) / do)) + 1
    start = np.zeros(edges_model.shape[0], dtype=np.int64) if first_channel is None else first_channel
    i_peak = np.argmax(edges_model, axis=1)
    e_peak_out = (m0 + dm * (start + i_peak)) * (1.0 + stretch) + shift_ev
    j = np.rint((e_peak_out - o0) / do).astype(np.int64)[:, None] + np.arange(-half_width, half_width + 1)
    inside = (j[:, 0] >= 0) & (j[:, -1] < n_out)
    j = np.clip(j, 0, n_out - 1)
    x = (o0 + do * j - shift_ev[:, None]) / (1.0 + stretch[:, None])
    if first_channel is not None:
        x -= dm * start[:, None]
    local = stretch_and_shift(edges_model, m0, dm, x).max(axis=1).astype(np.float64)
    return np.where(inside, local, _refined_peak_at(edges_model, i_peak))


def noise_scale(background_exponent: NDArray, config: SynthesisConfig) -> NDArray[np.float64]:
    """Factor on the filtered noise of each spectrum (``config.noise_reference_ev``; 1 when None).

    ``(E_ref / 50)^(mean - r)``: the noise relative to the background at ``E_ref`` is then that of
    a spectrum whose background exponent is the paper's mean.
    """
    r = np.asarray(background_exponent, dtype=np.float64)
    if config.noise_reference_ev is None:
        return np.ones_like(r)
    return (config.noise_reference_ev / 50.0) ** (config.background_exponent_mean - r)


def noise_profile(
    background_exponent: NDArray,
    output_energy_ev: NDArray,
    config: SynthesisConfig,
    noise_shot_fraction: NDArray | None = None,
) -> NDArray[np.float64]:
    """Factor on the filtered noise of each spectrum and channel, shape (n, 1) or (n, n_channels).

    Parameters
    ----------
    background_exponent : ndarray (n,)
        r of each spectrum.
    output_energy_ev : ndarray (n_channels,)
        Energy of each channel.
    config : SynthesisConfig
        ``noise_reference_ev`` and ``noise_follows_background``.
    noise_shot_fraction : ndarray (n,), optional
        Share w of the noise variance at ``E_ref`` that is shot noise (None: 1 for every spectrum).

    Returns
    -------
    ndarray
        :func:`noise_scale` per spectrum and, with ``config.noise_follows_background``, the shape
        ``sqrt(w (E / E_ref)^(-r) + 1 - w)`` per channel (1 at ``E_ref``): shot noise, whose
        variance follows the background, and read-out noise, whose variance does not. Where w = 1
        it is ``(E / E_ref)^(-r/2)``.
    """
    r = np.asarray(background_exponent, dtype=np.float64)
    scale = noise_scale(r, config)[:, None]
    if not config.noise_follows_background:
        return scale
    e = np.asarray(output_energy_ev, dtype=np.float64)[None, :]
    shot = (e / config.noise_reference_ev) ** (-0.5 * r[:, None])
    w = np.ones_like(r) if noise_shot_fraction is None else np.asarray(noise_shot_fraction, dtype=np.float64)
    # where w = 1 this is exactly ``shot`` (the square root of a rounded square is the number itself)
    return scale * np.sqrt(w[:, None] * shot**2 + (1.0 - w[:, None]))


def render_spectra(
    params: SpectrumParameters,
    config: SynthesisConfig | None = None,
    return_components: bool = False,
    out: NDArray[np.float32] | None = None,
) -> tuple[NDArray[np.float32], NDArray[np.uint8], NDArray[np.float32], NDArray[np.float32]] | tuple[
    NDArray[np.float32], NDArray[np.uint8], NDArray[np.float32], NDArray[np.float32], SynthesisComponents
]:
    """Make spectra from their parameters (deterministic).

    Returns
    -------
    spectra : ndarray (b, n_out) float32
    labels : ndarray (b, 20) uint8
    edge_onset_ev : ndarray (b, 20) float32
    jump_ratio : ndarray (b, 20) float32
    components : SynthesisComponents, only if ``return_components``

    ``out`` (b, n_out) float32, optional, receives the spectra (which are then returned as ``out``).
    """
    return _render(params, config or SynthesisConfig(), return_components, out, _no_clock)


class _StageClock:
    """CPU time per stage of :func:`render_spectra`: ``clock(stage)`` adds the time the calling
    thread has run since its previous call to ``stage`` (profiling; :func:`render_stage_seconds`).
    CPU time rather than wall time, so that other programs sharing the machine do not show up."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}
        self._last = time.thread_time()

    def __call__(self, stage: str) -> None:
        now = time.thread_time()
        self.seconds[stage] = self.seconds.get(stage, 0.0) + now - self._last
        self._last = now


def _no_clock(stage: str) -> None:
    """The stage clock of normal rendering: records nothing."""


def render_stage_seconds(
    params: SpectrumParameters, config: SynthesisConfig | None = None, keep_freed_memory: bool = False
) -> dict[str, float]:
    """Where :func:`render_spectra` spends its time: CPU seconds per stage for these spectra.

    Runs the same code as :func:`render_spectra` (in the calling thread) with a clock read
    between stages; the stages come in the order they first ran. For profiling
    (``benchmarks/bench_synthesis.py``, chapter 05). ``keep_freed_memory`` as in
    :func:`synthesize` (profile with the setting the timed runs used).
    """
    if keep_freed_memory:
        _keep_freed_memory()
    clock = _StageClock()
    _render(params, config or SynthesisConfig(), False, None, clock)
    return clock.seconds


def _render(
    params: SpectrumParameters, config: SynthesisConfig, return_components: bool, out: NDArray[np.float32] | None,
    clock: Callable[[str], None],
) -> tuple:
    """:func:`render_spectra`, with ``clock(stage)`` called after each stage."""
    if config.render_version == 2:
        return _render_fast(params, config, return_components, out, clock)
    t = _tables(config)
    b = len(params)
    m0, _, dm = config.model_energy_ev
    rows = _model_grid_edges(params, config, clock)
    edges_model = rows.edges
    x = output_to_model_energy(t.output_energy, params.stretch, params.shift_ev)  # (b, n_out)

    # 4. sum the edges of each spectrum, then stretch + shift onto the output grid
    edge_sum = _sum_per_spectrum(rows, b)  # row p: spectrum rows.by_count[p]
    clock("sum the edges of each spectrum")
    i0, frac = _interpolation_weights(edges_model.shape[1], m0, dm, x)
    resampled = _interpolate(edge_sum, i0, frac.astype(edge_sum.dtype), rows=rows.position)
    clock("stretch and shift (interpolation)")
    background = power_law_background(x, params.background_exponent[:, None])
    clock("background (float64 log and exp)")
    clean = background + resampled if return_components else np.add(background, resampled, out=background)

    # 5. noise (and, beyond the paper, background subtraction)
    n_out = t.output_energy.size
    if config.shot_noise_dose is not None:
        clean = shot_noise(clean, params.shot_noise_dose, params.noise_seed)
        clock("shot noise")
    noise = fixed_pattern_noise(
        params.noise_seed, n_out, config.noise_sd, params.savgol_frame, params.noise_coefficient,
        config.savgol_order, clock,
    )
    if config.noise_reference_ev is not None:
        noise *= noise_profile(params.background_exponent, t.output_energy, config, params.noise_shot_fraction)
    spectra = clean + noise if return_components else np.add(clean, noise, out=clean)
    subtracted = np.flatnonzero(params.background_subtracted)
    if subtracted.size:
        spectra[subtracted] -= extrapolated_background_fit(
            x[subtracted], params.background_exponent[subtracted, None],
            params.background_fit_reference_ev[subtracted, None],
            params.background_fit_exponent_error[subtracted, None], params.background_fit_scale_error[subtracted, None],
        )
        clock("background subtraction")
    if out is None:
        spectra = spectra.astype(np.float32)
    else:
        out[...] = spectra  # the same float32 rounding as astype, without another array
        spectra = out
    clock("add the noise, float32 output")

    labels, onsets, jumps = _edge_labels(rows, params, t)
    if not return_components:
        return spectra, labels, onsets, jumps
    per_slot, per_distractor = _edge_components(stretch_and_shift(edges_model, m0, dm, x[rows.spectrum]), rows, b)
    return spectra, labels, onsets, jumps, SynthesisComponents(background, per_slot, per_distractor, clean, noise)


def _edge_labels(
    rows: _EdgeRows | _EdgeOrder, params: SpectrumParameters, t: _Tables
) -> tuple[NDArray[np.uint8], NDArray[np.float32], NDArray[np.float32]]:
    """Labels, onsets (on the output axis) and jump ratios (b, 20) of the labelled edges."""
    b = len(params)
    lab = rows.slot < MAX_EDGES
    spec_idx, slot_idx, el = rows.spectrum[lab], rows.slot[lab], rows.element[lab]
    labels = np.zeros((b, N_ELEMENTS), dtype=np.uint8)
    onsets = np.full((b, N_ELEMENTS), np.nan, dtype=np.float32)
    jumps = np.zeros((b, N_ELEMENTS), dtype=np.float32)
    labels[spec_idx, el] = 1
    onsets[spec_idx, el] = t.onset_ev[rows.flat[lab]] * (1.0 + params.stretch[spec_idx]) + params.shift_ev[spec_idx]
    jumps[spec_idx, el] = params.jump_ratio[spec_idx, slot_idx]
    return labels, onsets, jumps


def _edge_components(
    per_edge: NDArray, rows: _EdgeRows | _EdgeOrder, b: int
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Output-grid edges (one row per edge of ``rows``) placed by slot: (b, 6, n) and (b, 2, n)."""
    lab = rows.slot < MAX_EDGES
    n_out = per_edge.shape[1]
    per_slot = np.zeros((b, MAX_EDGES, n_out))
    per_slot[rows.spectrum[lab], rows.slot[lab]] = per_edge[lab]
    per_distractor = np.zeros((b, MAX_DISTRACTORS, n_out))
    per_distractor[rows.spectrum[~lab], rows.slot[~lab] - MAX_EDGES] = per_edge[~lab]
    return per_slot, per_distractor


@dataclass(frozen=True)
class PeakWindow:
    """The stretch of the model grid around an edge's template maximum that the fast rendering
    (``render_version = 2``) convolves on its own to find the edge's peak (its jump ratio).

    ``channels`` model channels from ``before`` channels below the template maximum on,
    zero-padded to an FFT of ``fft`` points. The window must hold the edge's maximum after the
    PSF (for a weak white line before a plateau it is on the plateau, up to the tail start 86 eV
    above the onset) and what the PSF and plural scattering carry onto it.
    """

    channels: int
    fft: int
    before: int


#: Window of the PSF alone: 128 eV (20 eV below the template maximum), FFT of 204.8 eV (0.2 eV grid).
#: Against the whole-grid convolution of every edge, the peak of 2,048 spectra of the paper's
#: Table 2 differs by at most 0.13 % (median 0.02 %).
PEAK_WINDOW_PSF = PeakWindow(channels=640, fft=1024, before=96)
#: Window with plural scattering, whose plasmon replicas carry intensity up to a few plasmon
#: energies higher: 307 eV (102 eV below the template maximum), FFT of 410 eV. Peaks within
#: 0.7 % (median 0.06 %) on 2,048 spectra of the real-data physics.
PEAK_WINDOW_PLURAL = PeakWindow(channels=1536, fft=2048, before=512)


def peak_window_for(config: SynthesisConfig) -> PeakWindow:
    """The :class:`PeakWindow` the fast rendering uses for ``config``: wider with plural scattering."""
    return PEAK_WINDOW_PLURAL if config.thickness[1] > 0 else PEAK_WINDOW_PSF


def _render_fast(
    params: SpectrumParameters, config: SynthesisConfig, return_components: bool, out: NDArray[np.float32] | None,
    clock: Callable[[str], None],
) -> tuple:
    """:func:`render_spectra` for ``config.render_version == 2``.

    The same physics and parameters as the paper's formulation (:func:`_render`), computed with
    less work:

    - each edge is convolved (PSF and plural scattering) only over a window of the model grid
      around its template's maximum (:class:`PeakWindow`, :func:`_windowed_edge_peaks`), to read
      its peak on the output grid and so its scale factor;
    - the scaled edges of a spectrum are added up first and convolved together: one FFT pair per
      spectrum instead of one per edge (the convolution is linear);
    - the background ``(E / 50)^-r`` is computed in single precision on the model grid and
      resampled with the edges (one interpolation; numpy's single-precision log and exp are
      vectorised), the output-grid positions in single precision;
    - the white noise is :func:`eels_core.forward.noise.white_noise_fast`.
    """
    t = _tables(config)
    b = len(params)
    m0, _, dm = config.model_energy_ev
    n_model, n_fft = t.model_energy.size, t.templates.shape[1]
    o = _edge_order(params, t)
    tails = _edge_tails(params, t, o, clock)  # rows in working order w
    w, spectrum = tails.w, tails.spectrum
    peak = _windowed_edge_peaks(tails, params, config)
    scale = o.jump_ratio[w] * power_law_background(t.onset_ev[tails.flat], params.background_exponent[spectrum]) / peak
    clock("edge peaks on the output grid")

    # the scaled edges of each spectrum added up (in working order, as a sparse matrix of the
    # scale factors times the edges would), then one convolution per spectrum
    total = np.empty((b, n_fft), dtype=np.float32)  # zero-padded for the Fourier transform
    kernels().add_scaled_edges(
        *tails.kernel_arguments(t.templates), t.first_nonzero, scale.astype(np.float32), spectrum, n_model, total
    )
    clock("sum the edges of each spectrum")
    plural = None
    if config.thickness[1] > 0:
        plural = plural_scattering_transfer(n_fft, dm, params.thickness, params.plasmon_energy_ev, params.plasmon_fwhm_ev)
        clock("plural-scattering transfer functions")
    edge_sum = convolve_psf(
        total, dm, params.psf_fwhm_gauss_ev, params.psf_hwhm_lorentz_ev, pad=0, extra_transfer=plural, clock=clock,
    )  # (b, n_fft): the model grid, then what the PSF carried into the padding
    background_model = np.multiply(t.log_model_energy_over_reference, -params.background_exponent.astype(np.float32)[:, None])
    np.exp(background_model, out=background_model)
    edge_sum[:, :n_model] += background_model
    clock("background (single precision)")
    step, offset = _output_positions(params, config)
    n_out = t.output_energy.size
    background = _resample(background_model, n_model, step, offset, n_out) if return_components else None
    clean = _resample(edge_sum, n_model, step, offset, n_out)
    clock("stretch and shift (interpolation)")

    if config.shot_noise_dose is not None:
        clean = shot_noise(clean, params.shot_noise_dose, params.noise_seed).astype(np.float32)
        clock("shot noise")
    noise = fixed_pattern_noise(
        params.noise_seed, n_out, config.noise_sd, params.savgol_frame, params.noise_coefficient,
        config.savgol_order, clock, fast=True,
    )
    if config.noise_reference_ev is not None:
        noise *= noise_profile(
            params.background_exponent, t.output_energy, config, params.noise_shot_fraction
        ).astype(np.float32)
    spectra = np.add(clean, noise, out=np.empty((b, n_out), dtype=np.float32) if out is None else out)
    subtracted = np.flatnonzero(params.background_subtracted)
    if subtracted.size:
        x = output_to_model_energy(t.output_energy, params.stretch[subtracted], params.shift_ev[subtracted])
        spectra[subtracted] -= extrapolated_background_fit(
            x, params.background_exponent[subtracted, None],
            params.background_fit_reference_ev[subtracted, None],
            params.background_fit_exponent_error[subtracted, None], params.background_fit_scale_error[subtracted, None],
        ).astype(np.float32)
        clock("background subtraction")
    clock("add the noise, float32 output")

    labels, onsets, jumps = _edge_labels(o, params, t)
    if not return_components:
        return spectra, labels, onsets, jumps
    per_edge = np.empty((spectrum.size, n_out))
    edges = _edges_of(t, tails, n_model)
    per_edge[w] = _each_edge_on_output_grid(edges * scale.astype(np.float32)[:, None], params, config, spectrum)
    per_slot, per_distractor = _edge_components(per_edge, o, b)
    return spectra, labels, onsets, jumps, SynthesisComponents(
        background.astype(np.float64), per_slot, per_distractor, clean.astype(np.float64), noise.astype(np.float64),
    )


def _windowed_edge_peaks(tails: _EdgeTails, params: SpectrumParameters, config: SynthesisConfig) -> NDArray[np.float64]:
    """Peak on the output grid of each model-grid edge after its spectrum's PSF (and plural
    scattering), convolving only the :class:`PeakWindow` around its template's maximum.

    The edges are the unscaled, tail-extended ones of ``tails``; only their windows are computed.
    """
    t = _tables(config)
    dm = config.model_energy_ev[2]
    n_model = t.model_energy.size
    plural = config.thickness[1] > 0
    peak_window = peak_window_for(config)
    width = peak_window.channels
    spectrum = tails.spectrum
    first = np.clip(t.peak_channel[tails.flat] - peak_window.before, 0, n_model - width)
    window = np.zeros((spectrum.size, peak_window.fft), dtype=np.float32)
    kernels().edge_windows(*tails.kernel_arguments(t.templates), n_model, first, window[:, :width])
    plural_transfer = None
    if plural:
        plural_transfer = plural_scattering_transfer(
            peak_window.fft, dm, params.thickness, params.plasmon_energy_ev, params.plasmon_fwhm_ev
        )
    convolved = convolve_psf(
        window, dm, params.psf_fwhm_gauss_ev, params.psf_hwhm_lorentz_ev, pad=0, extra_transfer=plural_transfer,
        rows=spectrum,
    )[:, :width]
    return output_grid_peak(convolved, config, params.stretch[spectrum], params.shift_ev[spectrum], first_channel=first)


def _output_positions(params: SpectrumParameters, config: SynthesisConfig) -> tuple[NDArray[np.float32], NDArray[np.float32]]:
    """Where the output channels of each spectrum fall on the model grid (the fast rendering).

    Output channel ``c`` of spectrum ``r`` sees the model energy ``(E_c - shift) / (1 + stretch)``,
    which is model channel ``c * step[r] + offset[r]``; both in single precision.
    """
    m0, _, dm = config.model_energy_ev
    o0, _, do = config.output_energy_ev
    step = (do / dm / (1.0 + params.stretch)).astype(np.float32)
    offset = (((o0 - params.shift_ev) / (1.0 + params.stretch) - m0) / dm).astype(np.float32)
    return step, offset


def _resample(
    model_rows: NDArray[np.float32], n_model: int, step: NDArray[np.float32], offset: NDArray[np.float32], n_out: int
) -> NDArray[np.float32]:
    """Each row of model-grid values (its first ``n_model`` channels) linearly interpolated at its
    output positions (:func:`_output_positions`), in single precision: the position's integer
    part (clipped to the grid) and the fraction beyond it, then ``v0 + fraction (v1 - v0)``."""
    out = np.empty((model_rows.shape[0], n_out), dtype=np.float32)
    kernels().interpolate_rows(np.ascontiguousarray(model_rows, dtype=np.float32), n_model, step, offset, out)
    return out


def _each_edge_on_output_grid(
    scaled_edges: NDArray[np.float32], params: SpectrumParameters, config: SynthesisConfig, spectrum: NDArray[np.int64]
) -> NDArray[np.float32]:
    """Every scaled model-grid edge convolved over the whole grid on its own and resampled on the
    output grid (the components of the fast rendering, for plots; its spectra do not need them)."""
    t = _tables(config)
    m0, _, dm = config.model_energy_ev
    n_model = t.model_energy.size
    padded = np.zeros((scaled_edges.shape[0], t.templates.shape[1]), dtype=np.float32)
    padded[:, :n_model] = scaled_edges
    plural = None
    if config.thickness[1] > 0:
        plural = plural_scattering_transfer(
            padded.shape[1], dm, params.thickness, params.plasmon_energy_ev, params.plasmon_fwhm_ev
        )
    each = convolve_psf(
        padded, dm, params.psf_fwhm_gauss_ev, params.psf_hwhm_lorentz_ev, pad=0, extra_transfer=plural, rows=spectrum,
    )[:, :n_model]
    x = output_to_model_energy(t.output_energy, params.stretch, params.shift_ev)
    return stretch_and_shift(each, m0, dm, x[spectrum])


def _sum_per_spectrum(rows: _EdgeRows, b: int) -> NDArray[np.float32]:
    """The edges of each of ``b`` spectra added up in slot order; row p is spectrum ``rows.by_count[p]``.

    Rank by rank, as ``((0 + e_0) + e_1) + ...``: the order of the additions is part of the result
    (``np.add.reduceat`` would associate them otherwise). The edges of rank k belong to the first
    spectra of ``by_count``, so each rank adds to a leading slice of the result.
    """
    total = np.zeros((b, rows.edges.shape[1]), dtype=rows.edges.dtype)
    start = 0
    for count in np.bincount(rows.rank):
        total[:count] += rows.edges[start : start + count]
        start += count
    return total


@dataclass
class _EdgeOrder:
    """All edges of a batch, one row each (labelled slots 0-5, distractor slots 6-7), in (rank,
    spectrum) order: the first edge of every spectrum, then the second edge of those that have
    one, ...; within a rank the spectra come in ``by_count`` order (most edges first), so the
    edges of rank k belong to the first spectra of that order."""

    spectrum: NDArray[np.int64]
    slot: NDArray[np.int64]
    rank: NDArray[np.int64]  # 0 for the spectrum's edge in its lowest slot, 1 for the next ...
    by_count: NDArray[np.int64]  # (b,) the spectra, most edges first (ties in spectrum order)
    position: NDArray[np.int64]  # (b,) place of each spectrum in by_count
    element: NDArray[np.int64]  # Table 1 index, -1 for distractors
    flat: NDArray[np.int64]  # row of the template table
    tail_exponent: NDArray[np.float64]
    jump_ratio: NDArray[np.float64]


@dataclass
class _EdgeRows(_EdgeOrder):
    """:class:`_EdgeOrder` with every edge built on the model grid (steps 2-3 of the synthesis)."""

    scale: NDArray[np.float64]  # unit template -> edge with its jump ratio
    edges: NDArray[np.float32]  # (rows, n_model): scaled, tail-extended, convolved


def _edge_order(params: SpectrumParameters, t: _Tables) -> _EdgeOrder:
    """Every edge of a batch (labelled slots, then distractors) in (rank, spectrum) order."""
    spec_l, slot_l = np.nonzero(params.element_index >= 0)
    el = params.element_index[spec_l, slot_l].astype(np.int64)
    flat_l = t.variant_offset[el] + params.variant_index[spec_l, slot_l].astype(np.int64)
    spec_d, slot_d = np.nonzero(params.distractor_index >= 0)
    flat_d = t.n_library_variants + params.distractor_index[spec_d, slot_d].astype(np.int64)
    spec = np.concatenate([spec_l, spec_d])
    slot = np.concatenate([slot_l, MAX_EDGES + slot_d])
    flat = np.concatenate([flat_l, flat_d])
    tail = np.concatenate([params.tail_exponent[spec_l, slot_l], params.distractor_tail_exponent[spec_d, slot_d]])
    jump = np.concatenate([params.jump_ratio[spec_l, slot_l], params.distractor_jump_ratio[spec_d, slot_d]])
    element = np.concatenate([el, np.full(spec_d.size, -1, dtype=np.int64)])
    # rows in (rank, spectrum) order (_EdgeRows), the rank being the place of an edge among its
    # spectrum's slots, the spectra with most edges first
    b = len(params)
    per_spectrum = np.bincount(spec, minlength=b)
    by_count = np.argsort(-per_spectrum, kind="stable")
    position = np.empty(b, dtype=np.int64)
    position[by_count] = np.arange(b)
    by_spectrum = np.argsort(position[spec] * (MAX_EDGES + MAX_DISTRACTORS) + slot, kind="stable")
    first_row = np.cumsum(per_spectrum[by_count]) - per_spectrum[by_count]  # of each position
    rank = np.arange(spec.size) - first_row[position[spec[by_spectrum]]]
    to_rank = np.argsort(rank * b + position[spec[by_spectrum]], kind="stable")
    order, rank = by_spectrum[to_rank], rank[to_rank]
    spec, slot, flat, tail, jump, element = (a[order] for a in (spec, slot, flat, tail, jump, element))
    return _EdgeOrder(spec, slot, rank, by_count, position, element, flat, tail, jump)


@dataclass
class _EdgeTails:
    """The edges of a batch in working order ``w`` (by the model channel where their power-law tail
    starts), and what turns each template into its edge: the tail factors and the EXELFS.

    Row ``k`` is edge ``w[k]`` of the :class:`_EdgeOrder`: template ``flat[k]`` times
    ``(E / E_tail)^-s`` on the channels ``first[k] ... n_model - 1`` (those factors are
    ``factor[start[k]:]``, all rows one after the other), times ``exelfs[exelfs_row[k]]`` when
    ``exelfs_row[k] >= 0``. :func:`_edges_of` builds the edges; the fast rendering reads only
    what it needs of them. The working order fixes the order in which the fast rendering adds the
    edges of a spectrum, so it is part of its result.
    """

    w: NDArray[np.int64]
    flat: NDArray[np.int64]
    spectrum: NDArray[np.int64]
    first: NDArray[np.int64]
    start: NDArray[np.int64]
    factor: NDArray[np.float32]
    exelfs_row: NDArray[np.int64]
    exelfs: NDArray[np.float32]  # (rows with EXELFS, n_model)

    def kernel_arguments(self, templates: NDArray[np.float32]) -> tuple:
        """What the compiled loops that read the edges take first (:mod:`eels_core.forward._kernels`)."""
        return templates, self.flat, self.first, self.start, self.factor, self.exelfs_row, self.exelfs


def _edge_tails(params: SpectrumParameters, t: _Tables, order: _EdgeOrder, clock: Callable[[str], None]) -> _EdgeTails:
    """The :class:`_EdgeTails` of a batch.

    The tail factor ``(E / E_tail)^-s = exp(-s (ln E - ln E_tail))`` is 1 below the first model
    channel at or above the tail start, so it is computed only from there on: the exponents of
    all tails one after the other into one array, in single precision, then one call of numpy's
    single-precision ``exp``.
    """
    first_tail_channel = np.searchsorted(t.log_model_energy, t.log_tail_start[order.flat])
    w = np.argsort(first_tail_channel, kind="stable")
    flat, spectrum, first = order.flat[w], order.spectrum[w], first_tail_channel[w]
    clock("edge bookkeeping")
    length = np.maximum(t.model_energy.size - first, 0)
    start = np.cumsum(length) - length
    factor = np.empty(int(length.sum()), dtype=np.float32)
    kernels().tail_exponents(
        t.log_model_energy, t.log_tail_start[flat], -order.tail_exponent[w].astype(np.float32), first, start, factor
    )
    np.exp(factor, out=factor)
    exelfs_row, exelfs = _exelfs_factors(params, spectrum, order.slot[w], t.onset_ev[flat], t.model_energy)
    clock("power-law tails")
    return _EdgeTails(w, flat, spectrum, first, start, factor, exelfs_row, exelfs)


def _edges_of(t: _Tables, tails: _EdgeTails, n_columns: int) -> NDArray[np.float32]:
    """The edges of ``tails`` (template x tail x EXELFS), ``n_columns >= n_model`` channels wide
    (the templates' zero padding beyond the model grid)."""
    n_model = t.model_energy.size
    out = np.empty((tails.flat.size, n_columns), dtype=np.float32)
    kernels().templates_times_tails(t.templates, tails.flat, tails.first, tails.start, tails.factor, n_model, out)
    rows = np.flatnonzero(tails.exelfs_row >= 0)
    if rows.size:
        out[rows, :n_model] *= tails.exelfs[tails.exelfs_row[rows]]
    return out


def _tail_extended_templates(
    params: SpectrumParameters, t: _Tables, order: _EdgeOrder, n_columns: int, clock: Callable[[str], None]
) -> tuple[NDArray[np.float32], NDArray[np.int64]]:
    """Each edge's template times its power-law tail (and EXELFS), ``n_columns`` model channels wide.

    The rows come back in working order ``w`` (:class:`_EdgeTails`); row ``i`` is edge ``w[i]``
    of ``order``.
    """
    tails = _edge_tails(params, t, order, clock)
    return _edges_of(t, tails, n_columns), tails.w


def _model_grid_edges(
    params: SpectrumParameters, config: SynthesisConfig, clock: Callable[[str], None] = _no_clock
) -> _EdgeRows:
    """Steps 2-3 of the synthesis for every edge of a batch, on the model grid.

    The rows come back in (rank, spectrum) order. While they are built they are kept in the
    order of the channel where their power-law tail starts (:func:`_tail_extended_templates`); every row is
    transformed on its own, so the order does not change its values.
    """
    t = _tables(config)
    m0, _, dm = config.model_energy_ev
    o = _edge_order(params, t)
    spec, slot, rank, flat, tail, jump = o.spectrum, o.slot, o.rank, o.flat, o.tail_exponent, o.jump_ratio

    # 2. edges on the model grid: template x power-law tail, convolved with each spectrum's PSF
    #    (and plural-scattering distribution), built straight into the zero-padded FFT buffer.
    n_model = t.model_energy.size
    n_fft = t.templates.shape[1]  # the templates are stored zero-padded to the FFT length
    buffer, w = _tail_extended_templates(params, t, o, n_fft, clock)
    spec_w = spec[w]
    plural = None
    if config.thickness[1] > 0:  # one transfer function per spectrum, shared by its edges
        plural = plural_scattering_transfer(n_fft, dm, params.thickness, params.plasmon_energy_ev, params.plasmon_fwhm_ev)
        clock("plural-scattering transfer functions")
    edges = convolve_psf(
        buffer, dm, params.psf_fwhm_gauss_ev, params.psf_hwhm_lorentz_ev, pad=0, extra_transfer=plural, rows=spec_w,
        clock=clock,
    )[:, :n_model]

    edges = edges[np.argsort(w)]  # back to (rank, spectrum) order, rows contiguous
    clock("reorder the edges")

    # 3. jump ratio: peak above background / background at the onset, with the peak read off the
    #    output grid (as one would read it off the recorded spectrum): the edge's model-grid
    #    maximum is resampled at the few output channels around it.
    i_o = power_law_background(t.onset_ev[flat], params.background_exponent[spec])
    peak = output_grid_peak(edges, config, params.stretch[spec], params.shift_ev[spec])
    scale = jump * i_o / peak
    clock("edge peaks on the output grid")
    edges *= scale.astype(np.float32)[:, None]
    clock("scale the edges")
    return _EdgeRows(**{f.name: getattr(o, f.name) for f in fields(o)}, scale=scale, edges=edges)


def _exelfs_factors(
    params: SpectrumParameters, spec: NDArray[np.int64], slot: NDArray[np.int64], onset_ev: NDArray[np.float64],
    model_energy: NDArray[np.float64],
) -> tuple[NDArray[np.int64], NDArray[np.float32]]:
    """The EXELFS modulation (model grid, single precision) of the edges that carry it, and for
    each edge the row of its modulation (-1 for none)."""
    amplitude = params.exelfs_amplitude[spec, slot]
    rows = np.flatnonzero(amplitude > 0)
    exelfs_row = np.full(spec.size, -1, dtype=np.int64)
    if rows.size == 0:
        return exelfs_row, np.zeros((0, model_energy.size), dtype=np.float32)
    exelfs_row[rows] = np.arange(rows.size)
    s_, k_ = spec[rows], slot[rows]
    factor = exelfs_modulation(
        model_energy, onset_ev[rows, None], amplitude[rows, None], params.exelfs_distance_a[s_, k_][:, None],
        params.exelfs_phase[s_, k_][:, None], params.exelfs_debye_waller_a2[s_][:, None],
        **{name: value[:, None] for name, value in _further_shells(params, s_, k_).items()},
    )
    return exelfs_row, factor.astype(np.float32)


def render_spectrum_reference(params: SpectrumParameters, config: SynthesisConfig | None = None) -> NDArray[np.float64]:
    """Make ONE spectrum the plain way: a loop over its edges with real-space convolution.

    The same physics as :func:`render_spectra`, written as one would on paper: each edge is
    extended, convolved with the PSF kernel built as Gaussian (x) Lorentzian
    (:func:`eels_core.forward.psf.psf_kernel`, :func:`scipy.signal.fftconvolve`), scaled to its jump ratio,
    added to the background, resampled with :func:`numpy.interp`, and the noise is filtered with
    :func:`scipy.signal.savgol_filter`. It is the baseline of ``benchmarks/bench_synthesis.py``
    and an independent check of the vectorised code (``tests/forward/test_synthesis.py``).

    Parameters
    ----------
    params : SpectrumParameters
        Parameters of exactly one spectrum.
    config : SynthesisConfig, optional

    Returns
    -------
    ndarray, shape (n_out,)
    """
    import scipy.signal

    from .noise import shot_noise, white_noise
    from .psf import psf_kernel
    from .scattering import low_loss_distribution

    if len(params) != 1:
        raise ValueError(f"render_spectrum_reference makes one spectrum; got parameters of {len(params)}")
    config = config or SynthesisConfig()
    t = _tables(config)
    m0, _, dm = config.model_energy_ev
    o0, _, do = config.output_energy_ev
    e_model = t.model_energy
    _, kernel = psf_kernel(dm, float(params.psf_fwhm_gauss_ev[0]), float(params.psf_hwhm_lorentz_ev[0]))
    r = float(params.background_exponent[0])
    x = (t.output_energy - params.shift_ev[0]) / (1.0 + params.stretch[0])
    total = np.zeros_like(e_model)
    edges = [
        (t.library.elements[el].variants[int(v)], float(s), float(jr), slot)
        for slot, (el, v, s, jr) in enumerate(
            zip(params.element_index[0], params.variant_index[0], params.tail_exponent[0], params.jump_ratio[0])
        )
        if el >= 0
    ] + [
        (t.distractors[d], float(s), float(jr), MAX_EDGES + slot)
        for slot, (d, s, jr) in enumerate(
            zip(params.distractor_index[0], params.distractor_tail_exponent[0], params.distractor_jump_ratio[0])
        )
        if d >= 0
    ]
    tau = float(params.thickness[0])
    if tau > 0:  # plural scattering: the continuous part of the low-loss distribution, in energy space
        e_ll = dm * np.arange(-int(300 / dm), int(300 / dm) + 1)
        zero_loss_weight, ll = low_loss_distribution(
            e_ll, tau, float(params.plasmon_energy_ev[0]), float(params.plasmon_fwhm_ev[0])
        )
    for variant, tail_exponent, jr, slot in edges:
        edge = extend_edge_tail(e_model, edge_template(variant, e_model), variant.tail_start_ev, tail_exponent)
        edge = edge * exelfs_modulation(
            e_model, variant.edge_onset_ev, params.exelfs_amplitude[0, slot], params.exelfs_distance_a[0, slot],
            params.exelfs_phase[0, slot], params.exelfs_debye_waller_a2[0],
            **_further_shells(params, 0, slot),
        )
        edge = scipy.signal.fftconvolve(edge, kernel, mode="same") * dm
        if tau > 0:
            edge = zero_loss_weight * edge + scipy.signal.fftconvolve(edge, ll, mode="same") * dm
        i = int(np.argmax(edge))
        j = round((e_model[i] * (1.0 + params.stretch[0]) + params.shift_ev[0] - o0) / do)
        if 4 <= j < t.output_energy.size - 4:
            peak = np.interp(x, e_model, edge).max()  # the peak as recorded on the output grid
        else:  # recorded outside the output grid: the model-grid maximum, refined by a parabola
            a, b, c = edge[max(i - 1, 0)], edge[i], edge[min(i + 1, edge.size - 1)]
            curved = 0 < i < edge.size - 1 and a - 2.0 * b + c < 0
            peak = b - (a - c) ** 2 / (8.0 * (a - 2.0 * b + c)) if curved else b
        i_o = (variant.edge_onset_ev / 50.0) ** (-r)
        total += edge * jr * i_o / peak
    background = (x / 50.0) ** (-r)
    clean = background + np.interp(x, e_model, total)
    if config.shot_noise_dose is not None:
        clean = shot_noise(clean[None, :], params.shot_noise_dose, params.noise_seed)[0]
    white = white_noise(params.noise_seed, t.output_energy.size, config.noise_sd)[0]
    noise = scipy.signal.savgol_filter(white, int(params.savgol_frame[0]), config.savgol_order, mode="mirror")
    if params.background_subtracted[0]:
        clean = clean - extrapolated_background_fit(
            x, r, float(params.background_fit_reference_ev[0]),
            float(params.background_fit_exponent_error[0]), float(params.background_fit_scale_error[0]),
        )
    if config.noise_reference_ev is not None:
        noise = noise * noise_profile(params.background_exponent, t.output_energy, config, params.noise_shot_fraction)[0]
    return clean + float(params.noise_coefficient[0]) * noise


@dataclass
class SynthesisStages:
    """One spectrum after each step of the paper's Fig. 3 (for plots and teaching).

    Model-grid arrays are on ``model_energy_ev``; output-grid arrays on ``output_energy_ev``.
    """

    model_energy_ev: NDArray[np.float64]
    output_energy_ev: NDArray[np.float64]
    labels: tuple[str, ...]  # edge names, one per edge below
    edges_unbroadened: NDArray[np.float64]  # (k, n_model) scaled, tail-extended, before the PSF
    edges_convolved: NDArray[np.float64]  # (k, n_model) after the PSF (Fig. 3a)
    background: NDArray[np.float64]  # (n_model,)  J_n on the model grid
    with_background: NDArray[np.float64]  # (n_model,) Fig. 3d
    stretched: NDArray[np.float64]  # (n_out,) Fig. 3e: contraction/expansion only
    shifted: NDArray[np.float64]  # (n_out,) Fig. 3f: and the shift
    final: NDArray[np.float64]  # (n_out,) Fig. 3g: and the noise (the network input)


def synthesis_stages(params: SpectrumParameters, config: SynthesisConfig | None = None) -> SynthesisStages:
    """Follow one spectrum through the synthesis steps (paper, Fig. 3 b-g).

    ``final`` equals :func:`render_spectra` of the same parameters (to float32 precision).
    """
    if len(params) != 1:
        raise ValueError(f"synthesis_stages follows one spectrum; got parameters of {len(params)}")
    config = config or SynthesisConfig()
    t = _tables(config)
    m0, _, dm = config.model_energy_ev
    final = render_spectra(params, config)[0][0].astype(np.float64)
    rows = _model_grid_edges(params, config)
    lab = rows.slot < MAX_EDGES
    unbroadened = np.array(
        [
            extend_edge_tail(t.model_energy, t.templates[f, : t.model_energy.size].astype(np.float64), t.tail_start_ev[f], float(s))
            * exelfs_modulation(
                t.model_energy, t.onset_ev[f], params.exelfs_amplitude[0, k], params.exelfs_distance_a[0, k],
                params.exelfs_phase[0, k], params.exelfs_debye_waller_a2[0],
                **_further_shells(params, 0, k),
            )
            * sc
            for f, s, sc, k in zip(rows.flat[lab], rows.tail_exponent[lab], rows.scale[lab], rows.slot[lab])
        ]
    )
    background = power_law_background(t.model_energy, float(params.background_exponent[0]))
    with_bg = background + rows.edges.astype(np.float64).sum(axis=0)  # distractors included
    stretched_x = output_to_model_energy(t.output_energy, params.stretch, np.zeros(1))
    shifted_x = output_to_model_energy(t.output_energy, params.stretch, params.shift_ev)
    return SynthesisStages(
        model_energy_ev=t.model_energy,
        output_energy_ev=t.output_energy,
        labels=tuple(t.library.elements[e].label for e in rows.element[lab]),
        edges_unbroadened=unbroadened,
        edges_convolved=rows.edges[lab].astype(np.float64),
        background=background,
        with_background=with_bg,
        stretched=stretch_and_shift(with_bg[None, :], m0, dm, stretched_x)[0],
        shifted=stretch_and_shift(with_bg[None, :], m0, dm, shifted_x)[0],
        final=final,
    )


# ---------------------------------------------------------------------------- public entry point
def _synthesize_block(
    seed: int, block: int, config: SynthesisConfig, out: NDArray[np.float32] | None = None
) -> SyntheticBatch:
    rng = _block_rng(seed, block)
    params = add_companion_edges(sample_parameters(rng, BLOCK_SIZE, config), rng, config)  # no draw when off
    spectra, labels, onsets, jumps = render_spectra(params, config, out=out)
    index = block * BLOCK_SIZE + np.arange(BLOCK_SIZE, dtype=np.int64)
    return SyntheticBatch(_tables(config).output_energy, spectra, labels, onsets, jumps, params, index)


def _join(parts: list[SyntheticBatch], sl: slice) -> dict:
    """Labels, parameters and indices of consecutive blocks, joined and sliced to the request."""
    return dict(
        labels=np.concatenate([p.labels for p in parts])[sl],
        edge_onset_ev=np.concatenate([p.edge_onset_ev for p in parts])[sl],
        jump_ratio=np.concatenate([p.jump_ratio for p in parts])[sl],
        params=SpectrumParameters.concatenate([p.params for p in parts])[sl],
        index=np.concatenate([p.index for p in parts])[sl],
    )


def _check_request(n: int, seed: int, start: int) -> None:
    if isinstance(n, bool) or int(n) != n or n <= 0:
        raise ValueError(f"n = {n!r}: the number of spectra must be a positive integer")
    if isinstance(seed, bool) or int(seed) != seed or seed < 0:
        raise ValueError(f"seed = {seed!r}: must be a non-negative integer")
    if int(start) != start or start < 0:
        raise ValueError(f"start = {start!r}: must be a non-negative integer")


_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3  # glibc <malloc.h>


@functools.lru_cache(maxsize=1)
def _keep_freed_memory() -> bool:
    """Ask the C library to keep freed memory for reuse (glibc ``mallopt``; once per process).

    A process-wide setting that stays for the life of the process, so it is applied only on
    request (``keep_freed_memory=True`` of :func:`synthesize` / :func:`iter_blocks`), never by
    default.

    Rendering a block allocates and frees some 40 MB of arrays. By default glibc returns much of
    that to the kernel after every block and the next block page-faults it back in, which costs
    about a quarter of the synthesis time. With this, arrays below 32 MB come from the heap and
    up to 256 MB of freed memory stays with the process (synthesis needs a few tens of MB per
    thread). Elsewhere than Linux with glibc it does nothing. Returns whether it was applied.
    """
    if not sys.platform.startswith("linux"):
        return False
    try:
        mallopt = ctypes.CDLL("libc.so.6").mallopt
    except (OSError, AttributeError):  # another C library
        return False
    return bool(mallopt(_M_MMAP_THRESHOLD, 32 << 20)) and bool(mallopt(_M_TRIM_THRESHOLD, 256 << 20))


def iter_blocks(
    seed: int,
    first_block: int,
    n_blocks: int,
    config: SynthesisConfig,
    n_threads: int | None = None,
    out_for: Callable[[int], NDArray[np.float32] | None] | None = None,
    keep_freed_memory: bool = False,
) -> Iterator[SyntheticBatch]:
    """Yield canonical blocks ``first_block ... first_block + n_blocks - 1`` in order (threaded).

    ``out_for(block)`` may return a (64, n_out) float32 array that receives that block's spectra.
    ``keep_freed_memory=True`` makes the C library keep freed memory in the process for reuse,
    process-wide (:func:`_keep_freed_memory`; the trade-off is in :func:`synthesize`).
    """
    if keep_freed_memory:
        _keep_freed_memory()
    threads = n_threads or min(2, os.cpu_count() or 1)
    blocks = range(first_block, first_block + n_blocks)

    def make(k: int) -> SyntheticBatch:
        return _synthesize_block(seed, k, config, out_for(k) if out_for else None)

    if threads == 1 or n_blocks == 1:
        for k in blocks:
            yield make(k)
        return
    with ThreadPoolExecutor(max_workers=threads) as pool:
        # bounded look-ahead keeps memory flat for long runs
        window = 2 * threads
        futures = [pool.submit(make, k) for k in blocks[:window]]
        for j in range(n_blocks):
            done = futures[j].result()
            futures[j] = None  # type: ignore[call-overload]
            nxt = j + window
            if nxt < n_blocks:
                futures.append(pool.submit(make, blocks[nxt]))
            yield done


def synthesize(
    n: int,
    seed: int = 0,
    config: SynthesisConfig | None = None,
    start: int = 0,
    n_threads: int | None = None,
    progress: bool = False,
    keep_freed_memory: bool = False,
) -> SyntheticBatch:
    """Synthesise ``n`` labelled spectra: indices ``start ... start + n - 1`` of the stream ``seed``.

    Parameters
    ----------
    n : int
        Number of spectra (> 0).
    seed : int
        Seed of the stream (>= 0).
    config : SynthesisConfig, optional
        Randomness ranges (default: the paper's Table 2).
    start : int
        Global index of the first spectrum; ``synthesize(10, s, start=5)`` equals
        ``synthesize(15, s)[5:]`` bit for bit.
    n_threads : int, optional
        Worker threads (default: up to 2). Does not change the result.
    progress : bool
        Show a tqdm progress bar.
    keep_freed_memory : bool
        Opt in to faster long runs (see Notes). Does not change the result.

    Returns
    -------
    SyntheticBatch

    Notes
    -----
    With ``keep_freed_memory=True`` (Linux with glibc; elsewhere nothing happens) glibc is asked,
    with ``mallopt``, to keep freed memory for reuse instead of handing it back to the system
    after every block (:func:`_keep_freed_memory`). That saves the page faults that otherwise cost
    about a quarter of the synthesis time, but it changes the allocator of the whole process, for
    the rest of its life: arrays below 32 MB then come from the heap, and the process may hold up
    to 256 MB it no longer uses. So it is off by default; the project's own long runs (the
    database writer, the training stream, the synthesis benchmark) switch it on.
    """
    _check_request(n, seed, start)
    config = config or SynthesisConfig()
    first, last = start // BLOCK_SIZE, (start + n - 1) // BLOCK_SIZE
    spectra = np.empty((n, _tables(config).output_energy.size), dtype=np.float32)

    def out_for(block: int) -> NDArray[np.float32] | None:
        """Blocks wholly inside the request render straight into the result."""
        lo = block * BLOCK_SIZE - start
        return spectra[lo : lo + BLOCK_SIZE] if lo >= 0 and lo + BLOCK_SIZE <= n else None

    parts = []
    for part in tqdm(
        iter_blocks(seed, first, last - first + 1, config, n_threads, out_for, keep_freed_memory),
        total=last - first + 1,
        disable=not progress,
        desc="synthesising",
        unit="block",
    ):
        keep = (part.index >= start) & (part.index < start + n)
        if out_for(int(part.index[0]) // BLOCK_SIZE) is None:  # a partial block at either end
            spectra[part.index[keep] - start] = part.spectra[keep]
        parts.append(part)
    lo = start - first * BLOCK_SIZE
    return SyntheticBatch(energy_ev=parts[0].energy_ev, spectra=spectra, **_join(parts, slice(lo, lo + n)))
