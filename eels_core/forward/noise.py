"""Noise of a synthetic spectrum (paper: "Spectrum synthesis and data augmentation", Fig. 4).

The paper's noise is *fixed-pattern* (low-frequency) noise: white Gaussian noise of standard
deviation 0.0012, smoothed by a Savitzky-Golay filter of polynomial order 1 and odd frame length
31-59, then multiplied by a coefficient C in [1, 2].

Where the 0.0012 applies (a choice the paper leaves open, documented here and in chapter 04):
it is the standard deviation of the white noise *before* filtering, in units of the normalised
background J_n (J_n(50 eV) = 1), added on the network's 0.2 eV output grid. A frame of L channels
reduces it by about sqrt(L), so the added noise has sd ~ 0.0012 C / sqrt(L) ~ 1.6-4.3e-4.

Beyond the paper, :func:`shot_noise` adds Poisson noise at a given dose, because real spectra
are counted electrons.
"""

from __future__ import annotations

import functools
from typing import Callable

import numpy as np
import scipy.signal
import scipy.special
from numpy.typing import ArrayLike, NDArray

from ._jit import kernels
from .background import fit_power_law, power_law


def white_noise(noise_seeds: ArrayLike, n_channels: int, noise_sd: float) -> NDArray[np.float64]:
    """White Gaussian noise, one independent stream per spectrum.

    Parameters
    ----------
    noise_seeds : array_like of int, shape (b,)
        One seed per spectrum (stored with the spectrum, so its noise can be regenerated).
    n_channels : int
    noise_sd : float

    Returns
    -------
    ndarray, shape (b, n_channels)
    """
    streams = _WhiteNoise(noise_seeds, noise_sd)
    out = np.empty((len(streams), n_channels), dtype=np.float64)
    for i in range(len(streams)):
        streams.row(i, out[i])
    return out


class _WhiteNoise:
    """White noise of many spectra: row ``i`` is ``noise_sd`` times the first standard normal draws
    of ``np.random.Generator(np.random.SFC64(int(seed_i)))``.

    The generators' starting states are computed for all seeds at once (:func:`_sfc64_states`)
    and loaded into one reused generator, which is cheaper than seeding one generator per row.
    """

    def __init__(self, noise_seeds: ArrayLike, noise_sd: float) -> None:
        self.states = _sfc64_states(noise_seeds)
        self.noise_sd = noise_sd
        self._bits = np.random.SFC64(0)
        self._standard_normal = np.random.Generator(self._bits).standard_normal

    def __len__(self) -> int:
        return len(self.states)

    def row(self, i: int, out: NDArray[np.float64]) -> None:
        """Row ``i`` of the noise, written into ``out``."""
        self._bits.state = {"bit_generator": "SFC64", "state": {"state": self.states[i]}, "has_uint32": 0, "uinteger": 0}
        self._standard_normal(out=out)
        out *= self.noise_sd


def _sfc64_states(seeds: ArrayLike) -> NDArray[np.uint64]:
    """The state (b, 4) of ``np.random.SFC64(int(seed))`` for each seed, computed for all at once.

    numpy seeds SFC64 from a ``SeedSequence`` of the integer (hash of its two 32-bit words, pool
    of four, three 64-bit words drawn) and then runs the generator 12 steps; a compiled loop
    repeats those integer operations (:func:`eels_core.forward._kernels.sfc64_states`).
    ``tests/forward/test_synthesis.py`` compares the result with numpy's own seeding.
    """
    return kernels().sfc64_states(np.asarray(seeds, dtype=np.uint64).reshape(-1))


def _smooth_rows(rows: NDArray[np.floating], frames: NDArray[np.int64], order: int, out: NDArray[np.floating]) -> None:
    """Savitzky-Golay filter of each row into ``out`` (see :func:`savgol_smooth`)."""
    if order <= 1:
        kernels().moving_average(rows, np.ascontiguousarray(frames, dtype=np.int64), out)
    else:
        for i, frame in enumerate(frames):
            out[i] = scipy.signal.savgol_filter(rows[i], int(frame), order, mode="mirror")


def savgol_smooth(noise: ArrayLike, frame_lengths: ArrayLike, order: int = 1) -> NDArray[np.float64]:
    """Savitzky-Golay filter each row with its own odd frame length (edges: ``mode="mirror"``).

    Each row is filtered with :func:`scipy.signal.savgol_filter`, straight into the result. For
    ``order <= 1`` the Savitzky-Golay coefficients are all ``1 / frame`` (a first-order fit and a
    constant give the same centre value), so the moving average of
    :func:`scipy.ndimage.uniform_filter1d` is used, O(n) instead of O(n * frame): the same
    arithmetic, bit for bit, in one compiled loop over all rows
    (:func:`eels_core.forward._kernels.moving_average`).
    """
    x = np.ascontiguousarray(noise, dtype=np.float64)
    frames = np.broadcast_to(np.asarray(frame_lengths, dtype=np.int64).reshape(-1), x.shape[:1])
    out = np.empty_like(x)
    _smooth_rows(x, frames, order, out)
    return out


def fixed_pattern_noise(
    noise_seeds: ArrayLike,
    n_channels: int,
    noise_sd: float,
    frame_lengths: ArrayLike,
    noise_coefficient: ArrayLike,
    order: int = 1,
    clock: Callable[[str], None] | None = None,
    fast: bool = False,
) -> NDArray[np.float64] | NDArray[np.float32]:
    """The paper's noise: C * SavGol(N(0, noise_sd^2)), one row per spectrum.

    The white noise of each spectrum comes from its own seed: numpy's normal draws
    (:func:`white_noise`); or, with
    ``fast`` (the fast rendering, ``SynthesisConfig.render_version = 2``), :func:`white_noise_fast`
    for all spectra at once, in single precision throughout. ``clock(stage)``, if given, is called
    after each stage (profiling).
    """
    clock = clock or (lambda stage: None)
    frames = np.broadcast_to(np.asarray(frame_lengths, dtype=np.int64).reshape(-1), (len(np.atleast_1d(noise_seeds)),))
    dtype = np.float32 if fast else np.float64
    out = np.empty((frames.size, n_channels), dtype=dtype)
    if fast:
        white = white_noise_fast(noise_seeds, n_channels)
        white *= np.float32(noise_sd)
    else:
        white = white_noise(noise_seeds, n_channels, noise_sd)
    clock("white noise (random numbers)")
    _smooth_rows(white, frames, order, out)
    out *= np.asarray(noise_coefficient, dtype=dtype).reshape(-1, 1)
    clock("Savitzky-Golay filter")
    return out


#: Levels of the table of standard normal quantiles that the fast white noise draws from.
NORMAL_TABLE_SIZE: int = 1 << 16


@functools.lru_cache(maxsize=1)
def normal_quantile_table() -> NDArray[np.float32]:
    """The standard normal quantiles at ``(k + 1/2) / 65536``, k = 0 ... 65535, scaled to unit variance.

    Drawing a uniformly random entry is sampling the normal distribution by its inverse
    cumulative distribution, with the probability axis cut in 65,536 equal steps: the draws are
    normal to within that step, and no draw lies beyond 4.3 standard deviations (the noise is
    then smoothed over 31-59 channels, which leaves no trace of either).
    """
    q = scipy.special.ndtri((np.arange(NORMAL_TABLE_SIZE) + 0.5) / NORMAL_TABLE_SIZE)
    return (q / np.sqrt(np.mean(q**2))).astype(np.float32)


def white_noise_fast(noise_seeds: ArrayLike, n_channels: int) -> NDArray[np.float32]:
    """Standard normal white noise in single precision, one independent stream per spectrum.

    The noise of the fast rendering (``SynthesisConfig.render_version = 2``). Row ``i`` reads the
    raw 64-bit outputs of ``np.random.SFC64(int(seed_i))`` as little-endian 16-bit words, and
    each word picks an entry of :func:`normal_quantile_table` (one compiled loop,
    :func:`eels_core.forward._kernels.table_noise`). Cheaper than numpy's normal draws, because
    no logarithm or rejection is computed per draw.

    Parameters
    ----------
    noise_seeds : array_like of int, shape (b,)
    n_channels : int

    Returns
    -------
    ndarray, shape (b, n_channels), float32
    """
    states = _sfc64_states(noise_seeds)
    out = np.empty((len(states), int(n_channels)), dtype=np.float32)
    kernels().table_noise(states, normal_quantile_table(), out)
    return out


def shot_noise(
    spectra: ArrayLike, dose: ArrayLike, noise_seeds: ArrayLike
) -> NDArray[np.float64]:
    """Poisson-resampled spectra: ``Poisson(dose * I) / dose`` per row (beyond the paper).

    Parameters
    ----------
    spectra : array_like, shape (b, n)
        Noise-free intensities in J_n units (clipped at 0).
    dose : array_like, shape (b,)
        Electrons per channel where the intensity is 1 (i.e. at 50 eV).
    noise_seeds : array_like, shape (b,)
        Per-spectrum seeds (a stream independent of :func:`white_noise`'s).
    """
    x = np.clip(np.asarray(spectra, dtype=np.float64), 0.0, None)
    d = np.asarray(dose, dtype=np.float64).reshape(-1)
    seeds = np.asarray(noise_seeds, dtype=np.uint64).reshape(-1)
    out = np.empty_like(x)
    for i in range(x.shape[0]):
        rng = np.random.Generator(np.random.PCG64([int(seeds[i]), 1]))
        out[i] = rng.poisson(x[i] * d[i]) / d[i]
    return out


def noise_sd_after_filter(noise_sd: float, frame_length: int, order: int = 1) -> float:
    """Standard deviation of white noise after the Savitzky-Golay filter (centre coefficients)."""
    coeffs = scipy.signal.savgol_coeffs(int(frame_length), order)
    return float(noise_sd * np.sqrt(np.sum(coeffs**2)))


def local_snr(energy_ev: ArrayLike, spectrum: ArrayLike, window_ev: tuple[float, float]) -> float:
    """Signal-to-noise ratio of a spectrum in a smooth (edge-free) window.

    A power law ``A E^-r`` is fitted (log-log least squares) to the window; the SNR is the mean
    of the fit over the standard deviation of the residual. It measures white and low-frequency
    noise alike, so synthetic and real spectra can be compared on the same footing.

    Parameters
    ----------
    energy_ev, spectrum : array_like, shape (n,)
    window_ev : (float, float)
        An energy range without edges, e.g. the pre-edge region.

    Returns
    -------
    float
    """
    e = np.asarray(energy_ev, dtype=np.float64)
    s = np.asarray(spectrum, dtype=np.float64)
    inside = (e >= window_ev[0]) & (e <= window_ev[1])
    if inside.sum() < 20:
        raise ValueError(f"local_snr needs >= 20 channels in {window_ev} eV, found {int(inside.sum())}")
    if np.any(s[inside] <= 0):
        raise ValueError(f"local_snr needs positive intensities in {window_ev} eV")
    amplitude, exponent = fit_power_law(e[inside], s[inside])
    fit = power_law(e[inside], amplitude, exponent)
    return float(fit.mean() / np.std(s[inside] - fit))
