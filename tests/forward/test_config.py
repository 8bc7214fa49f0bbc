"""Every bad configuration raises a ValueError naming the field and what is allowed."""

import pytest

from eels_core.forward.config import CONFIG_VERSION, ELEMENTS, SynthesisConfig


def test_defaults_are_the_papers_table_2():
    c = SynthesisConfig()
    assert c.psf_fwhm_gauss_ev == (0.1, 1.6)
    assert c.psf_hwhm_lorentz_ev == (0.1, 0.6)
    assert c.tail_exponent == (1.8, 3.8)
    assert (c.background_exponent_mean, c.background_exponent_sd, c.background_exponent_min) == (1.88, 0.2, 0.1)
    assert c.stretch_max == 0.015 and c.shift_max_ev == 15.0
    assert c.noise_sd == 0.0012 and c.savgol_frame == (31, 59) and c.savgol_order == 1
    assert c.noise_coefficient == (1.0, 2.0)
    assert c.n_edges_probabilities == (0.20, 0.20, 0.20, 0.15, 0.15, 0.10)
    assert c.output_energy_axis().size == 4551
    assert c.output_energy_axis()[[0, -1]].tolist() == pytest.approx([90.0, 1000.0])
    assert c.model_energy_axis()[[0, -1]].tolist() == pytest.approx([50.0, 1100.0])
    assert len(ELEMENTS) == 20


def test_json_round_trip():
    c = SynthesisConfig(elements=("Ti", "O"), n_edges_probabilities=(0.5, 0.5), shot_noise_dose=(10.0, 1000.0))
    assert SynthesisConfig.from_json(c.to_json()) == c


@pytest.mark.parametrize(
    "changes,field",
    [
        ({"psf_fwhm_gauss_ev": (-0.1, 1.6)}, "psf_fwhm_gauss_ev"),
        ({"psf_fwhm_gauss_ev": (1.6, 0.1)}, "psf_fwhm_gauss_ev"),
        ({"psf_hwhm_lorentz_ev": (0.1, 50.0)}, "psf_hwhm_lorentz_ev"),
        ({"tail_exponent": (3.8, 1.8)}, "tail_exponent"),
        ({"jump_ratio_min": -0.1}, "jump_ratio_min"),
        ({"jump_ratio_min": 0.0}, "jump_ratio_min"),
        ({"elements": ("Ti", "Xx")}, "elements"),
        ({"elements": ()}, "elements"),
        ({"elements": ("Ti", "Ti")}, "elements"),
        ({"n_edges_probabilities": (0.5, 0.4)}, "n_edges_probabilities"),
        ({"n_edges_probabilities": (0.5, -0.5, 1.0)}, "n_edges_probabilities"),
        ({"elements": ("Ti",), "n_edges_probabilities": (0.5, 0.5)}, "n_edges_probabilities"),
        ({"savgol_frame": (30, 60)}, "savgol_frame"),
        ({"savgol_order": 40}, "savgol_order"),
        ({"noise_sd": -1.0}, "noise_sd"),
        ({"noise_coefficient": (2.0, 1.0)}, "noise_coefficient"),
        ({"stretch_max": 0.5}, "stretch_max"),
        ({"shift_max_ev": -1.0}, "shift_max_ev"),
        ({"background_exponent_sd": -0.2}, "background_exponent_sd"),
        ({"background_exponent_min": 5.0}, "background_exponent_min"),
        ({"shot_noise_dose": (0.0, 10.0)}, "shot_noise_dose"),
        ({"model_energy_ev": (80.0, 1100.0, 0.2)}, "model_energy_ev"),
        ({"output_energy_ev": (90.0, 1000.0, -0.2)}, "output_energy_ev"),
        ({"version": CONFIG_VERSION + 1}, "version"),
    ],
)
def test_bad_config_names_the_field(changes, field):
    with pytest.raises(ValueError, match=field):
        SynthesisConfig(**changes)


def test_unknown_field_is_named():
    with pytest.raises(ValueError, match="psf_fwhm"):
        SynthesisConfig.from_dict({"psf_fwhm": [0.1, 1.0]})


def test_elnes_variation_copies_must_be_a_small_integer():
    from eels_core.forward.config import SynthesisConfig

    assert SynthesisConfig(elnes_variation_copies=4).elnes_variation_copies == 4
    for bad in (-1, 21, 2.5):
        with pytest.raises(ValueError, match="elnes_variation_copies"):
            SynthesisConfig(elnes_variation_copies=bad)
