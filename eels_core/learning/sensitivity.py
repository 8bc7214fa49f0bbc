"""Sensitivity of the trained network: the lowest detectable PSNR and jump ratio (paper, Table 4).

The paper's procedure ("Evaluation of model's sensitivity"): for each element, synthesise one
spectrum per library edge with the background exponent fixed at r = 1.88, add *white* Gaussian
noise (no Savitzky-Golay filter) of standard deviation ``min J_n(E) / 10`` over 50-1100 eV, and
scale the edge's peak down until the network no longer recognises the element. The lowest PSNR
still recognised (PSNR = I_p / sd, I_p the edge's peak above background) and the matching jump
ratio (I_p / I_o) are averaged over the library edges and over repeated noise draws.

We search the scale by bisection on the jump ratio (PSNR = jump ratio x I_o / sd), for all
variants and repeats of one element at once. Unstated in the paper, chosen here: the PSF is the
middle of Table 2's ranges (FWHM_g 0.85 eV, HWHM_l 0.35 eV), the tail exponent 2.8, no shift or
stretch, the full 90-1000 eV window, recognition = probability >= ``threshold`` (0.5).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from numpy.typing import NDArray

from ..forward.background import power_law_background
from ..forward.config import ELEMENTS, SynthesisConfig
from .preprocessing import preprocess_batch
from ..forward.synthesis import SpectrumParameters, edge_library_for, make_parameters, render_spectra

PAPER_TABLE_4 = {  # element: (PSNR, jump ratio), from the paper's Table 4
    "B": (23.00, 0.077), "C": (10.40, 0.071), "N": (5.87, 0.068), "O": (4.51, 0.088), "F": (3.45, 0.099),
    "Ca": (7.69, 0.075), "Sc": (6.29, 0.078), "Ti": (5.36, 0.083), "V": (3.99, 0.070), "Cr": (3.85, 0.083),
    "Mn": (3.50, 0.090), "Fe": (3.68, 0.116), "Co": (3.52, 0.130), "Ni": (3.05, 0.126), "Cu": (3.16, 0.158),
    "Si": (56.29, 0.059), "P": (50.26, 0.086), "S": (19.26, 0.049), "Cl": (16.82, 0.062), "Ar": (7.94, 0.040),
}


@dataclass(frozen=True)
class SensitivityResult:
    """Detectable PSNR and jump ratio of one element (means and standard deviations)."""

    symbol: str
    psnr: float
    psnr_sd: float
    jump_ratio: float
    jump_ratio_sd: float
    n_trials: int
    n_never_detected: int  # trials not recognised even at the largest scale tried


def sensitivity_noise_sd(config: SynthesisConfig, background_exponent: float = 1.88) -> float:
    """The paper's white-noise sd: min over the model grid of J_n(E), divided by 10."""
    return float(power_law_background(config.model_energy_ev[1], background_exponent)) / 10.0


def _single_edge_parameters(
    symbol: str, variants: NDArray[np.int64], jump_ratio: NDArray[np.float64], config: SynthesisConfig
) -> SpectrumParameters:
    """One single-edge spectrum per (variant, jump ratio): no shift or stretch, r = 1.88, mid PSF."""
    return SpectrumParameters.concatenate(
        [
            make_parameters(
                [symbol],
                variants=int(v),
                jump_ratio=float(jr),
                psf_fwhm_gauss_ev=float(np.mean(config.psf_fwhm_gauss_ev)),
                psf_hwhm_lorentz_ev=float(np.mean(config.psf_hwhm_lorentz_ev)),
                background_exponent=1.88,
                noise_coefficient=0.0,
                config=config,
            )
            for v, jr in zip(variants, jump_ratio)
        ]
    )


@torch.no_grad()
def detectable_limits(
    model: torch.nn.Module,
    symbol: str,
    n_repeats: int = 10,
    seed: int = 0,
    threshold: float = 0.5,
    n_bisections: int = 12,
    max_jump_ratio: float = 3.0,
    config: SynthesisConfig | None = None,
) -> SensitivityResult:
    """Lowest PSNR / jump ratio at which ``model`` recognises ``symbol`` (paper, Table 4).

    Parameters
    ----------
    model : torch.nn.Module
        A trained CNN-BiLSTM (eval mode is set here).
    symbol : str
        Element of Table 1.
    n_repeats : int
        Noise draws per library edge (paper: 100).
    seed : int
        Seed of the noise draws (the same noise is kept along the bisection).
    threshold : float
        Probability above which the element counts as recognised.
    n_bisections : int
        Bisection steps on log(jump ratio) between ``max_jump_ratio`` / 1000 and ``max_jump_ratio``.
    """
    if symbol not in ELEMENTS:
        raise ValueError(f"unknown element {symbol!r}; choose one of {', '.join(ELEMENTS)}")
    if n_repeats < 1 or n_bisections < 1:
        raise ValueError("n_repeats and n_bisections must be >= 1")
    config = (config or SynthesisConfig()).replace(noise_sd=0.0, shot_noise_dose=None)
    k = ELEMENTS.index(symbol)
    n_var = len(edge_library_for(config).elements[k].variants)
    variants = np.repeat(np.arange(n_var), n_repeats)
    n = variants.size
    sd = sensitivity_noise_sd(config)
    rng = np.random.default_rng([seed, k])
    noise = rng.normal(0.0, sd, size=(n, config.output_energy_axis().size))
    onset = np.array([edge_library_for(config).elements[k].variants[v].edge_onset_ev for v in variants])
    i_o = power_law_background(onset, 1.88)
    model.eval()
    device = next(model.parameters()).device

    def recognised(jr: NDArray[np.float64]) -> NDArray[np.bool_]:
        spectra = render_spectra(_single_edge_parameters(symbol, variants, jr, config), config)[0] + noise
        x = torch.from_numpy(preprocess_batch(spectra.astype(np.float32))).to(device)
        p = torch.sigmoid(model(x))[:, k].float().cpu().numpy()
        return p >= threshold

    lo = np.full(n, np.log(max_jump_ratio / 1000.0))
    hi = np.full(n, np.log(max_jump_ratio))
    never = ~recognised(np.exp(hi))
    for _ in range(n_bisections):
        mid = 0.5 * (lo + hi)
        ok = recognised(np.exp(mid))
        hi = np.where(ok, mid, hi)
        lo = np.where(ok, lo, mid)
    jr = np.exp(hi)[~never]
    psnr = jr * i_o[~never] / sd
    if jr.size == 0:
        return SensitivityResult(symbol, float("nan"), float("nan"), float("nan"), float("nan"), n, n)
    return SensitivityResult(
        symbol=symbol,
        psnr=float(psnr.mean()),
        psnr_sd=float(psnr.std()),
        jump_ratio=float(jr.mean()),
        jump_ratio_sd=float(jr.std()),
        n_trials=n,
        n_never_detected=int(never.sum()),
    )
