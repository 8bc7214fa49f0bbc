"""The sensitivity search (paper, Table 4) with a stand-in model whose answer is known."""

import math

import numpy as np
import pytest
import torch

from eels_core.forward.config import ELEMENTS
from eels_core.learning.sensitivity import PAPER_TABLE_4, detectable_limits, sensitivity_noise_sd
from eels_core.forward.config import SynthesisConfig


class ThresholdModel(torch.nn.Module):
    """Recognises every element once the high-passed input (channel 1) exceeds `level` anywhere."""

    def __init__(self, level: float):
        super().__init__()
        self.level = level
        self.dummy = torch.nn.Parameter(torch.zeros(1))

    def forward(self, x):
        peak = x[:, 1].amax(dim=1, keepdim=True)
        return (1000.0 * (peak - self.level)).expand(-1, len(ELEMENTS)) + 0 * self.dummy


def test_noise_sd_is_the_papers():
    assert sensitivity_noise_sd(SynthesisConfig()) == pytest.approx((1100 / 50) ** -1.88 / 10)


def test_bisection_finds_a_limit_that_grows_with_the_models_threshold():
    low = detectable_limits(ThresholdModel(0.3), "Ti", n_repeats=1, n_bisections=10)
    high = detectable_limits(ThresholdModel(0.6), "Ti", n_repeats=1, n_bisections=10)
    assert low.n_never_detected == 0 and high.n_never_detected == 0
    assert 0 < low.jump_ratio < high.jump_ratio < 3.0
    assert high.psnr / high.jump_ratio == pytest.approx(low.psnr / low.jump_ratio, rel=0.2)  # PSNR = jr I_o / sd
    assert low.n_trials == 6  # one trial per library variant


def test_never_detected_is_reported_not_hidden():
    r = detectable_limits(ThresholdModel(1e6), "Fe", n_repeats=1, n_bisections=2)
    assert r.n_never_detected == r.n_trials and math.isnan(r.psnr)


def test_paper_table_and_errors():
    assert set(PAPER_TABLE_4) == set(ELEMENTS)
    with pytest.raises(ValueError, match="unknown element"):
        detectable_limits(ThresholdModel(0.3), "Xx")
