"""How a measurement differs from the synthetic 0.2 eV grid: augmentations applied at training time.

Beyond the paper. The paper's synthetic spectra are all recorded at 0.2 eV per channel with a
background that is a pure power law. Real spectra are often recorded at a coarser dispersion
(0.3-1 eV per channel) and resampled onto the network grid by :mod:`eels_core.learning.preprocessing`, and
some carry a constant pedestal (a dark-current or gain reference that was not subtracted, or a
slowly varying plural-scattering background that a power law over a short window does not
describe). This module imitates both on synthetic spectra that are already on the 0.2 eV grid:

* :func:`coarsen_dispersion` averages the spectrum over wider channels (a box of the channel
  width, as a detector pixel integrates), optionally adds counting noise to each wide channel
  (a coarse survey spectrum is noisy channel by channel, and the linear interpolation turns that
  into a saw-tooth texture the 0.2 eV synthetic noise never has), and interpolates it back onto
  the grid linearly, exactly as :func:`eels_core.learning.preprocessing.preprocess_window` resamples a
  coarse measured spectrum;
* :func:`add_pedestal` adds a constant, a random fraction of the spectrum's median inside its
  measured window;
* :func:`add_background_component` adds a second, steeper power law that starts at the window's
  low end: a background that is curved on a log-log plot, as the tail of the plasmons and of
  lower-lying edges is below about 200 eV, where the paper's single power law is too straight;
* :func:`add_splice_step` multiplies everything above one energy by a factor near 1: a spectrum
  spliced from acquisitions at several energy offsets (a wide survey on a detector that covers a
  few hundred eV at a time) keeps a step where two parts meet when their exposures or gain
  references disagree, a step that is not an edge;
* :func:`add_low_loss_tail` adds the tail of the low-loss region: a survey that starts in the
  low-loss region (zero-loss peak and plasmons inside the recorded range) shows above 90 eV the
  higher plasmon multiples and the steep valence-loss tail (:func:`eels_core.forward.scattering.low_loss_tail`:
  Drude plasmon, Poisson plural scattering in t/lambda, tail ~E^-r), falling by orders of
  magnitude between 90 and ~250 eV, where the 90-200 eV edges (Si, P, S L2,3, B K) sit;
* :func:`add_bad_channels` spoils a few isolated channels as detectors do: dead channels (0
  counts), weak ones (~1 % of their neighbours), hot spikes and negative values (dark-reference
  over-subtraction), up to ~1 % of the channels; on a coarse spectrum they hit the wide channels,
  before the resampling onto the grid.

Channels up to 10 eV wide (``dispersion_ev``) cover the coarsest surveys (8 eV/channel).

:class:`AcquisitionConfig` holds the probabilities and ranges; :func:`apply_acquisition` draws and
applies them to a batch. The labels do not change: the edges are still there. Chapter 04 shows
the effect and chapter 10 the reason (a 1 eV/channel survey spectrum in the real set).
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from .axis import GRID_START_EV, GRID_STEP_EV, GRID_STOP_EV, N_CHANNELS, network_energy_axis
from .scattering import low_loss_tail


#: A splice step lies at least this far inside the measured window (eV).
SPLICE_MARGIN_EV = 10.0
#: Widest channel (eV) of a simulated coarse detector (the coarsest measured surveys: ~8 eV).
MAX_DISPERSION_EV = 10.0
#: Bad-channel kinds (:func:`add_bad_channels`).
BAD_CHANNEL_KINDS: tuple[str, ...] = ("dead", "weak", "hot", "negative")
#: Where the low-loss tail's size is set: its value at the grid start relative to the spectrum's
#: median over this range (eV).
LOW_LOSS_REFERENCE_EV = (90.0, 100.0)


@dataclass(frozen=True)
class AcquisitionConfig:
    """Probabilities and ranges of the measurement augmentations (all off by default).

    Parameters
    ----------
    coarse_dispersion_probability : float
        Share of spectra recorded at a coarser dispersion than the 0.2 eV grid.
    dispersion_ev : (float, float)
        Range (uniform) of that dispersion, eV per channel; must lie in [0.2, 10] (the coarsest
        measured surveys have ~8 eV channels).
    dispersion_log_uniform : bool
        Draw the dispersion log-uniformly in ``dispersion_ev`` instead (as many spectra at 0.3-1 eV
        as at 1-3 or 3-10 eV, where a uniform draw up to 10 eV would make most of them very coarse).
    counting_noise : (float, float)
        Range (log-uniform) of the counting noise added to the wide channels: its standard
        deviation relative to the spectrum's median inside the window, at that median (it scales
        as the square root of the intensity, like Poisson noise). (0, 0): none.
    pedestal_probability : float
        Share of spectra that get a constant pedestal.
    pedestal_fraction : (float, float)
        Range (log-uniform) of the pedestal in units of the spectrum's median inside its window.
    extra_background_probability : float
        Share of spectra that get a second, steeper power-law background
        (:func:`add_background_component`).
    extra_background_fraction : (float, float)
        Range (log-uniform) of its height at the window's low end, in units of the spectrum's
        median inside the window.
    extra_background_exponent : (float, float)
        Range (uniform) of its exponent (the paper's background has r ~ 1.9).
    splice_probability : float
        Share of spectra spliced from two or three parts (:func:`add_splice_step`, one or two steps).
    splice_step : (float, float)
        Range (log-uniform) of the relative size of a step, up or down with equal odds.
    low_loss_probability : float
        Share of spectra that carry the tail of the low-loss region (:func:`add_low_loss_tail`).
    low_loss_thickness : (float, float)
        Range (uniform) of the relative thickness t/lambda of the Poisson plural scattering.
    low_loss_plasmon_energy_ev, low_loss_plasmon_fwhm_ev : (float, float)
        Ranges (uniform) of the plasmon energy E_p (most solids: 15-30 eV) and width.
    low_loss_tail_exponent : (float, float)
        Range (uniform) of the exponent r of the single-scattering valence-loss tail ~E^-r.
    low_loss_fraction : (float, float)
        Range (log-uniform) of the tail's height at 90 eV relative to the spectrum's median over
        90-100 eV.
    bad_channel_probability : float
        Share of spectra with isolated bad channels (:func:`add_bad_channels`).
    bad_channel_fraction : (float, float)
        Range (log-uniform) of the share of the window's channels that are bad (at least one).
    """

    coarse_dispersion_probability: float = 0.0
    dispersion_ev: tuple[float, float] = (0.3, 1.0)
    dispersion_log_uniform: bool = False
    counting_noise: tuple[float, float] = (0.002, 0.03)
    pedestal_probability: float = 0.0
    pedestal_fraction: tuple[float, float] = (0.05, 1.0)
    extra_background_probability: float = 0.0
    extra_background_fraction: tuple[float, float] = (0.1, 3.0)
    extra_background_exponent: tuple[float, float] = (3.0, 8.0)
    splice_probability: float = 0.0
    splice_step: tuple[float, float] = (0.02, 0.15)
    low_loss_probability: float = 0.0
    low_loss_thickness: tuple[float, float] = (0.3, 2.5)
    low_loss_plasmon_energy_ev: tuple[float, float] = (15.0, 30.0)
    low_loss_plasmon_fwhm_ev: tuple[float, float] = (3.0, 12.0)
    low_loss_tail_exponent: tuple[float, float] = (3.0, 6.0)
    low_loss_fraction: tuple[float, float] = (0.3, 30.0)
    bad_channel_probability: float = 0.0
    bad_channel_fraction: tuple[float, float] = (0.0005, 0.01)

    def __post_init__(self) -> None:
        for name in ("dispersion_ev", "counting_noise", "pedestal_fraction", "extra_background_fraction",
                     "extra_background_exponent", "splice_step", "low_loss_thickness", "low_loss_plasmon_energy_ev",
                     "low_loss_plasmon_fwhm_ev", "low_loss_tail_exponent", "low_loss_fraction", "bad_channel_fraction"):
            v = getattr(self, name)
            if isinstance(v, list):
                object.__setattr__(self, name, tuple(v))
        for name in ("coarse_dispersion_probability", "pedestal_probability", "extra_background_probability",
                     "splice_probability", "low_loss_probability", "bad_channel_probability"):
            p = getattr(self, name)
            if not 0.0 <= p <= 1.0:
                raise ValueError(f"{name} = {p}: must be a probability in [0, 1]")
        a, b = self.dispersion_ev
        if not (GRID_STEP_EV <= a <= b <= MAX_DISPERSION_EV):
            raise ValueError(
                f"dispersion_ev = {self.dispersion_ev!r}: need {GRID_STEP_EV} <= min <= max <= {MAX_DISPERSION_EV:g} eV"
            )
        for name, lo, hi in (("low_loss_thickness", 0.0, 5.0), ("low_loss_plasmon_energy_ev", 3.0, 60.0),
                             ("low_loss_plasmon_fwhm_ev", 0.5, 40.0), ("low_loss_tail_exponent", 3.0, 10.0),
                             ("low_loss_fraction", 1e-3, 1e3), ("bad_channel_fraction", 1e-5, 0.05)):
            a, b = getattr(self, name)
            if not (lo <= a <= b <= hi) or (name in ("low_loss_fraction", "bad_channel_fraction") and a <= 0):
                raise ValueError(f"{name} = {getattr(self, name)!r}: need {lo:g} <= min <= max <= {hi:g}")
        a, b = self.counting_noise
        if not ((a == b == 0.0) or 0.0 < a <= b <= 1.0):
            raise ValueError(f"counting_noise = {self.counting_noise!r}: need (0, 0) or 0 < min <= max <= 1")
        a, b = self.pedestal_fraction
        if not (0.0 < a <= b <= 100.0 and math.isfinite(b)):
            raise ValueError(f"pedestal_fraction = {self.pedestal_fraction!r}: need 0 < min <= max <= 100")
        a, b = self.extra_background_fraction
        if not (0.0 < a <= b <= 100.0):
            raise ValueError(
                f"extra_background_fraction = {self.extra_background_fraction!r}: need 0 < min <= max <= 100"
            )
        a, b = self.extra_background_exponent
        if not (0.0 < a <= b <= 20.0):
            raise ValueError(f"extra_background_exponent = {self.extra_background_exponent!r}: need 0 < min <= max <= 20")
        a, b = self.splice_step
        if not (0.0 < a <= b <= 0.5):
            raise ValueError(f"splice_step = {self.splice_step!r}: need 0 < min <= max <= 0.5")

    def to_dict(self) -> dict[str, Any]:
        """JSON-able dict."""
        return {f.name: list(v) if isinstance(v := getattr(self, f.name), tuple) else v for f in dataclasses.fields(self)}

    @property
    def enabled(self) -> bool:
        """Whether any augmentation can happen."""
        return (
            self.coarse_dispersion_probability > 0
            or self.pedestal_probability > 0
            or self.extra_background_probability > 0
            or self.splice_probability > 0
            or self.low_loss_probability > 0
            or self.bad_channel_probability > 0
        )


def coarsen_dispersion(
    spectrum: NDArray,
    dispersion_ev: float,
    phase_ev: float = 0.0,
    noise: float = 0.0,
    rng: np.random.Generator | None = None,
    window_ev: tuple[float, float] | None = None,
    bad_channel_fraction: float = 0.0,
    bad_channel_rng: np.random.Generator | None = None,
) -> NDArray[np.float64]:
    """A grid spectrum as recorded with wider channels and resampled back onto the grid.

    Parameters
    ----------
    spectrum : ndarray, shape (4551,)
        Intensities on the network grid (90-1000 eV, 0.2 eV).
    dispersion_ev : float
        Channel width of the simulated detector, eV (>= 0.2).
    phase_ev : float
        Where the first channel boundary lies relative to the grid start, eV (in [0, dispersion)).
    noise : float
        Counting noise of the wide channels: standard deviation relative to the median channel
        value inside ``window_ev``, at that median; it scales as the square root of the channel
        value (Poisson-like). 0: none.
    rng : numpy Generator
        Needed when ``noise > 0``.
    window_ev : (float, float), optional
        The measured window whose median sets the noise scale (default: the whole grid).
    bad_channel_fraction : float
        Share of the wide channels inside the window spoiled by :func:`add_bad_channels` after the
        counting noise (0: none); needs ``bad_channel_rng``.
    bad_channel_rng : numpy Generator, optional

    Returns
    -------
    ndarray, shape (4551,)
        Channel means (box average over each channel) interpolated linearly onto the grid; the
        grid points beyond the first and last channel centres take those channels' values.
    """
    y = np.asarray(spectrum, dtype=np.float64)
    if y.shape != (N_CHANNELS,):
        raise ValueError(f"spectrum must have shape ({N_CHANNELS},), got {y.shape}")
    if dispersion_ev < GRID_STEP_EV:
        raise ValueError(f"dispersion_ev = {dispersion_ev}: must be >= the grid step {GRID_STEP_EV} eV")
    step = GRID_STEP_EV
    e = network_energy_axis()
    # running integral of the piecewise-constant spectrum (each grid value covers +-step/2)
    bounds_fine = np.concatenate([[e[0] - step / 2], e + step / 2])
    cumulative = np.concatenate([[0.0], np.cumsum(y) * step])
    start = bounds_fine[0] + (phase_ev % dispersion_ev)
    n = int(np.floor((bounds_fine[-1] - start) / dispersion_ev + 1e-9))
    if n < 2:
        raise ValueError(f"dispersion_ev = {dispersion_ev} leaves fewer than 2 channels on the grid")
    edges = start + dispersion_ev * np.arange(n + 1)
    means = np.diff(np.interp(edges, bounds_fine, cumulative)) / dispersion_ev
    centres = (edges[:-1] + edges[1:]) / 2
    if noise > 0:
        if rng is None:
            raise ValueError("coarsen_dispersion: noise > 0 needs a random generator (rng)")
        lo, hi = window_ev if window_ev is not None else (e[0], e[-1])
        inside = (centres >= lo) & (centres <= hi)
        median = abs(float(np.median(means[inside]))) if inside.any() else abs(float(np.median(means)))
        means = means + noise * np.sqrt(median * np.abs(means)) * rng.standard_normal(means.size)
    if bad_channel_fraction > 0:
        if bad_channel_rng is None:
            raise ValueError("coarsen_dispersion: bad_channel_fraction > 0 needs a random generator (bad_channel_rng)")
        lo, hi = window_ev if window_ev is not None else (e[0], e[-1])
        means = add_bad_channels(means, centres, (lo, hi), bad_channel_fraction, bad_channel_rng)
    return np.interp(e, centres, means)


def add_bad_channels(
    values: NDArray, centres_ev: NDArray, window_ev: tuple[float, float], fraction: float, rng: np.random.Generator
) -> NDArray[np.float64]:
    """Spoil a few isolated channels of a recorded spectrum, as detectors and their references do.

    ``max(1, round(fraction x n))`` of the ``n`` channels whose centres lie inside ``window_ev`` are
    picked at random, and each becomes one of (equal odds):

    * ``dead``: 0 counts (a dead pixel column);
    * ``weak``: 0.5-2 % of its neighbours (a pixel with almost no gain);
    * ``hot``: its neighbours plus 2-100 times them (a hot pixel, or an X-ray or cosmic-ray hit);
    * ``negative``: minus 5-100 % of its neighbours (a dark reference over-subtracted there).

    "Neighbours" is the median of the three channels on either side. Isolated bad channels are
    what a careless acquisition leaves; a network that has never seen one reads a spike as a white
    line or a hole as an edge onset.

    Parameters
    ----------
    values, centres_ev : ndarray, shape (m,)
        Channel values and centre energies (the wide channels of :func:`coarsen_dispersion`, or the
        0.2 eV grid).
    window_ev : (float, float)
    fraction : float
        Share of the window's channels to spoil, in (0, 1].
    rng : numpy Generator

    Returns
    -------
    ndarray, shape (m,)
        A new array; channels outside the window and the unpicked ones are unchanged.
    """
    y = np.array(values, dtype=np.float64)
    c = np.asarray(centres_ev, dtype=np.float64)
    if y.shape != c.shape or y.ndim != 1:
        raise ValueError(f"values and centres_ev must be 1-D of one length, got {y.shape} and {c.shape}")
    if not 0.0 < fraction <= 1.0:
        raise ValueError(f"fraction = {fraction}: must be in (0, 1]")
    inside = np.flatnonzero((c >= window_ev[0]) & (c <= window_ev[1]))
    if inside.size == 0:
        return y
    count = max(1, int(round(fraction * inside.size)))
    picked = inside[rng.choice(inside.size, size=min(count, inside.size), replace=False)]
    kind = rng.integers(0, len(BAD_CHANNEL_KINDS), size=picked.size)
    level = rng.random(picked.size)
    clean = y.copy()
    for i, k, u in zip(picked, kind, level):
        around = np.concatenate([clean[max(i - 3, 0):i], clean[i + 1:i + 4]])
        ref = abs(float(np.median(around))) if around.size else abs(float(clean[i]))
        name = BAD_CHANNEL_KINDS[int(k)]
        if name == "dead":
            y[i] = 0.0
        elif name == "weak":
            y[i] = ref * 10.0 ** (-2.3 + 0.6 * u)
        elif name == "hot":
            y[i] = ref * (1.0 + 10.0 ** (0.3 + 1.7 * u))
        else:
            y[i] = -ref * (0.05 + 0.95 * u)
    return y


def add_low_loss_tail(
    spectrum: NDArray,
    fraction: float,
    thickness: float,
    plasmon_energy_ev: float,
    plasmon_fwhm_ev: float,
    tail_exponent: float,
) -> NDArray[np.float64]:
    """The spectrum plus the tail of the low-loss region above 90 eV.

    The plural-scattering valence-loss spectrum :func:`eels_core.forward.scattering.low_loss_tail`
    (plasmon multiples at ~n E_p with Poisson weights in t/lambda, a single-scattering tail ~E^-r),
    scaled so that at 90 eV it is ``fraction`` times the spectrum's median over 90-100 eV
    (:data:`LOW_LOSS_REFERENCE_EV`). It falls by two to three orders of magnitude between 90 and
    250 eV: a survey that starts in the low-loss region is steep and curved there, with the
    highest plasmon multiples as broad bumps, and unchanged far above.
    """
    y = np.asarray(spectrum, dtype=np.float64)
    if y.shape != (N_CHANNELS,):
        raise ValueError(f"spectrum must have shape ({N_CHANNELS},), got {y.shape}")
    if not fraction > 0:
        raise ValueError(f"fraction = {fraction}: must be positive")
    e = network_energy_axis()
    tail = low_loss_tail(e, thickness, plasmon_energy_ev, plasmon_fwhm_ev, tail_exponent)
    ref = (e >= LOW_LOSS_REFERENCE_EV[0]) & (e <= LOW_LOSS_REFERENCE_EV[1])
    level = abs(float(np.median(y[ref])))
    if tail[0] <= 0 or level == 0:
        return y.copy()
    return y + fraction * level * tail / tail[0]


def add_pedestal(spectrum: NDArray, window_ev: tuple[float, float], fraction: float) -> NDArray[np.float64]:
    """The spectrum plus a constant ``fraction x`` its median inside ``window_ev``
    (:func:`add_background_component` with exponent 0)."""
    return add_background_component(spectrum, window_ev, fraction, 0.0)


def add_background_component(
    spectrum: NDArray, window_ev: tuple[float, float], fraction: float, exponent: float
) -> NDArray[np.float64]:
    """The spectrum plus ``fraction x median x (E / E_start)^-exponent``.

    ``E_start`` is the window's low end and ``median`` the spectrum's median inside the window:
    the added power law equals ``fraction x median`` where the measurement starts and falls off
    faster than the paper's background when ``exponent`` exceeds r. With :func:`add_pedestal`
    (exponent 0) it spans the backgrounds a single power law fitted to the whole window does not
    describe.
    """
    y = np.asarray(spectrum, dtype=np.float64)
    if y.shape != (N_CHANNELS,):
        raise ValueError(f"spectrum must have shape ({N_CHANNELS},), got {y.shape}")
    e = network_energy_axis()
    inside = (e >= window_ev[0]) & (e <= window_ev[1])
    if not inside.any():
        raise ValueError(f"window {window_ev!r} holds no grid point")
    start = max(float(window_ev[0]), GRID_START_EV)
    return y + fraction * abs(float(np.median(y[inside]))) * (e / start) ** (-exponent)


def add_splice_step(spectrum: NDArray, at_ev: float, factor: float) -> NDArray[np.float64]:
    """The spectrum with every channel at or above ``at_ev`` multiplied by ``factor``.

    Two parts of a spliced spectrum that were recorded with slightly different exposures, gain
    references or dark levels meet in a step: a relative jump of ``factor - 1`` at ``at_ev`` with
    nothing before or after it, unlike an edge, which has a shape (chapter 04).
    """
    y = np.asarray(spectrum, dtype=np.float64)
    if y.shape != (N_CHANNELS,):
        raise ValueError(f"spectrum must have shape ({N_CHANNELS},), got {y.shape}")
    if not factor > 0:
        raise ValueError(f"factor = {factor}: must be positive")
    return np.where(network_energy_axis() >= at_ev, y * factor, y)


def apply_acquisition(
    spectra: NDArray, windows: NDArray | None, rng: np.random.Generator, config: AcquisitionConfig
) -> NDArray[np.float32]:
    """Draw and apply the measurement augmentations to a batch (a new array; labels unchanged).

    Parameters
    ----------
    spectra : ndarray, shape (b, 4551)
    windows : ndarray, shape (b, 2), or None for the full range
    rng : numpy Generator
        The draws have fixed shapes whatever the outcome, so a run is reproducible.
    config : AcquisitionConfig
    """
    x = np.array(spectra, dtype=np.float64)
    b = x.shape[0]
    if windows is None:
        windows = np.tile([[GRID_START_EV, GRID_STOP_EV]], (b, 1))
    coarse = rng.random(b) < config.coarse_dispersion_probability
    if config.dispersion_log_uniform:  # the same number of draws as the uniform one
        dispersion = np.exp(rng.uniform(np.log(config.dispersion_ev[0]), np.log(config.dispersion_ev[1]), size=b))
    else:
        dispersion = rng.uniform(*config.dispersion_ev, size=b)
    phase = rng.random(b)
    if config.counting_noise[1] > 0:
        lo_n, hi_n = np.log(config.counting_noise[0]), np.log(config.counting_noise[1])
        noise = np.exp(rng.uniform(lo_n, hi_n, size=b))
    else:
        noise = np.zeros(b)
    noise_seeds = rng.integers(0, 2**63 - 1, size=b)
    pedestal = rng.random(b) < config.pedestal_probability
    lo, hi = np.log(config.pedestal_fraction[0]), np.log(config.pedestal_fraction[1])
    fraction = np.exp(rng.uniform(lo, hi, size=b))
    extra = rng.random(b) < config.extra_background_probability
    lo, hi = np.log(config.extra_background_fraction[0]), np.log(config.extra_background_fraction[1])
    extra_fraction = np.exp(rng.uniform(lo, hi, size=b))
    extra_exponent = rng.uniform(*config.extra_background_exponent, size=b)
    # drawn after everything above, so that adding splices changed none of the earlier draws
    splice = rng.random(b) < config.splice_probability
    n_steps = 1 + (rng.random(b) < 0.5)
    lo, hi = np.log(config.splice_step[0]), np.log(config.splice_step[1])
    step_size = np.exp(rng.uniform(lo, hi, size=(b, 2))) * rng.choice([-1.0, 1.0], size=(b, 2))
    step_position = rng.random((b, 2))
    # drawn after everything above, so that the low-loss tail and bad channels changed no earlier draw
    low_loss = rng.random(b) < config.low_loss_probability
    ll_thickness = rng.uniform(*config.low_loss_thickness, size=b)
    ll_energy = rng.uniform(*config.low_loss_plasmon_energy_ev, size=b)
    ll_fwhm = rng.uniform(*config.low_loss_plasmon_fwhm_ev, size=b)
    ll_exponent = rng.uniform(*config.low_loss_tail_exponent, size=b)
    lo, hi = np.log(config.low_loss_fraction[0]), np.log(config.low_loss_fraction[1])
    ll_fraction = np.exp(rng.uniform(lo, hi, size=b))
    bad = rng.random(b) < config.bad_channel_probability
    lo, hi = np.log(config.bad_channel_fraction[0]), np.log(config.bad_channel_fraction[1])
    bad_fraction = np.where(bad, np.exp(rng.uniform(lo, hi, size=b)), 0.0)
    bad_seeds = rng.integers(0, 2**63 - 1, size=b)
    for i in np.flatnonzero(low_loss):
        x[i] = add_low_loss_tail(x[i], float(ll_fraction[i]), float(ll_thickness[i]), float(ll_energy[i]),
                                 float(ll_fwhm[i]), float(ll_exponent[i]))
    for i in np.flatnonzero(extra):
        x[i] = add_background_component(x[i], (float(windows[i, 0]), float(windows[i, 1])), float(extra_fraction[i]),
                                        float(extra_exponent[i]))
    for i in np.flatnonzero(splice):
        lo_s, hi_s = float(windows[i, 0]) + SPLICE_MARGIN_EV, float(windows[i, 1]) - SPLICE_MARGIN_EV
        if hi_s <= lo_s:
            continue
        for k in range(int(n_steps[i])):
            x[i] = add_splice_step(x[i], lo_s + step_position[i, k] * (hi_s - lo_s), 1.0 + float(step_size[i, k]))
    for i in np.flatnonzero(pedestal):
        x[i] = add_pedestal(x[i], (float(windows[i, 0]), float(windows[i, 1])), float(fraction[i]))
    for i in np.flatnonzero(coarse):
        window = (float(windows[i, 0]), float(windows[i, 1]))
        x[i] = coarsen_dispersion(x[i], float(dispersion[i]), float(phase[i] * dispersion[i]), float(noise[i]),
                                  np.random.default_rng(int(noise_seeds[i])), window,
                                  float(bad_fraction[i]), np.random.default_rng(int(bad_seeds[i])))
    for i in np.flatnonzero(bad & ~coarse):  # on the grid's own 0.2 eV channels
        window = (float(windows[i, 0]), float(windows[i, 1]))
        x[i] = add_bad_channels(x[i], network_energy_axis(), window, float(bad_fraction[i]),
                                np.random.default_rng(int(bad_seeds[i])))
    return x.astype(np.float32)
