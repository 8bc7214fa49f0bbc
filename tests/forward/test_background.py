"""Background J_n(E) = (E/50)^-r and the jump-ratio definition (paper, Fig. 2)."""

import numpy as np
import pytest

from eels_core.forward.background import (
    jump_ratio,
    measure_jump_ratio,
    power_law_background,
    sample_background_exponent,
)


@pytest.mark.parametrize("r", [0.1, 1.88, 3.0])
def test_background_is_one_at_50_ev_and_a_power_law(r):
    assert power_law_background(50.0, r) == pytest.approx(1.0)
    e = np.array([100.0, 200.0, 1000.0])
    np.testing.assert_allclose(power_law_background(e, r), (e / 50.0) ** -r)


def test_background_rejects_non_positive_energy():
    with pytest.raises(ValueError, match="energies > 0"):
        power_law_background([0.0, 10.0], 1.88)


def test_background_exponent_distribution_and_cut():
    rng = np.random.default_rng(0)
    r = sample_background_exponent(rng, 200_000)
    assert r.mean() == pytest.approx(1.88, abs=0.003)
    assert r.std() == pytest.approx(0.2, abs=0.003)
    r = sample_background_exponent(rng, 10_000, mean=0.3, sd=0.3, minimum=0.1)
    assert r.min() >= 0.1


def test_measure_jump_ratio_of_a_known_edge():
    e = 300.0 + 0.2 * np.arange(500)
    bg = power_law_background(e, 2.0)
    i_o = float(power_law_background(340.0, 2.0))
    on_channel = 0.7 * i_o * np.exp(-0.5 * ((e - 345.0) / 0.8) ** 2)
    assert measure_jump_ratio(e, bg + on_channel, bg, 340.0) == pytest.approx(0.7, rel=1e-9)
    # a peak between two channels is recorded lower: I_p is read off the channels
    between = 0.7 * i_o * np.exp(-0.5 * ((e - 345.1) / 0.8) ** 2)
    assert measure_jump_ratio(e, bg + between, bg, 340.0) == pytest.approx(0.7 * np.exp(-0.5 * (0.1 / 0.8) ** 2))
    assert jump_ratio(0.35, 0.5) == pytest.approx(0.7)
