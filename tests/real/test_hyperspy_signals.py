"""HyperSpy in and out: predict_edges on (lazy) signals, maps as calibrated signals, detected
elements into metadata.Sample.elements for exspy (the optional 'hyperspy' extra)."""

from __future__ import annotations

import warnings

import exspy
import hyperspy.api as hs
import numpy as np
import pytest

from eels_core.forward.axis import network_energy_axis
from eels_core.forward.synthesis import make_parameters, render_spectra
from eels_core.learning.checkpoint import load_model
from eels_core.real.io import read_spectrum
from eels_core.real.predict import EdgePrediction, add_detected_elements, predict_edges

E = network_energy_axis()
KEEP = (E >= 300.0) & (E <= 700.0)


@pytest.fixture(scope="module")
def model():
    return load_model()


@pytest.fixture(scope="module")
def cube():
    """2 x 3 pixels: Ti + O in the first row, Mn + O in the second (300-700 eV, 0.2 eV)."""
    rows = []
    for elements in (("Ti", "O"), ("Mn", "O")):
        for seed in range(3):
            rows.append(render_spectra(make_parameters(elements, noise_seed=seed))[0][0][KEEP])
    return 1e4 * np.asarray(rows, dtype=np.float64).reshape(2, 3, -1)


def _signal(data, cls=None):
    cls = cls or exspy.signals.EELSSpectrum
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        s = cls(data)
    ax = s.axes_manager.signal_axes[0]
    ax.offset, ax.scale, ax.units, ax.name = 300.0, 0.2, "eV", "Energy loss"
    for axis, (name, offset, scale) in zip(s.axes_manager.navigation_axes, (("x", 10.0, 0.25), ("y", -3.0, 0.5))):
        axis.name, axis.units, axis.offset, axis.scale = name, "nm", offset, scale
    return s


def test_predict_edges_takes_signals_and_lazy_signals(model, cube):
    s = _signal(cube)
    direct = predict_edges(E[KEEP], cube, model=model, onsets=False)
    from_signal = predict_edges(s, model=model, onsets=False)
    from_lazy = predict_edges(s.as_lazy(), model=model, onsets=False, batch_size=2)
    np.testing.assert_array_equal(from_signal.probabilities, direct.probabilities)
    np.testing.assert_allclose(from_lazy.probabilities, direct.probabilities, atol=1e-6)
    assert from_signal.detected_edges((0, 0)) == ["O K", "Ti L2,3"]
    assert from_signal.detected_edges((1, 2)) == ["O K", "Mn L2,3"]


def test_maps_come_back_as_signals_with_the_input_calibration(model, cube):
    s = _signal(cube)
    result = predict_edges(s, model=model)
    maps = result.to_signals()
    assert set(maps) == {result.labels[k] for k in np.flatnonzero(result.in_window)}
    ti = maps["Ti L2,3"]
    assert isinstance(ti, hs.signals.Signal2D) and ti.data.shape == (2, 3)
    np.testing.assert_array_equal(ti.data, result.probabilities[..., 7])
    x, y = ti.axes_manager.signal_axes
    assert (x.name, x.units, x.offset, x.scale, x.size) == ("x", "nm", 10.0, 0.25, 3)
    assert (y.name, y.units, y.offset, y.scale, y.size) == ("y", "nm", -3.0, 0.5, 2)
    assert ti.metadata.General.title == "Ti L2,3 probability"
    detected = result.to_signals("detected")["Mn L2,3"]
    assert detected.data.dtype == bool and detected.data.tolist() == [[False] * 3, [True] * 3]
    onset = result.to_signals("onset_ev", only_in_window=False)
    assert len(onset) == 20 and np.isnan(onset["B K"].data).all()
    assert np.all(np.abs(onset["O K"].data - 532.0) < 10.0)
    # a line scan gives Signal1D profiles
    line = predict_edges(_signal(cube[0]), model=model, onsets=False).to_signals()["O K"]
    assert isinstance(line, hs.signals.Signal1D) and line.axes_manager.signal_axes[0].scale == 0.25


def test_maps_of_a_file_keep_its_navigation_calibration(tmp_path, model, cube):
    s = _signal(cube, hs.signals.Signal1D)
    s.save(tmp_path / "si.hspy")
    result = predict_edges(read_spectrum(tmp_path / "si.hspy", lazy=True), model=model, onsets=False)
    x, y = result.to_signals()["O K"].axes_manager.signal_axes
    assert (x.offset, x.scale, y.offset, y.scale, x.units) == (10.0, 0.25, -3.0, 0.5, "nm")


def test_to_signals_refusals(model, cube):
    single = predict_edges(E[KEEP], cube[0, 0], model=model, onsets=False)
    with pytest.raises(ValueError, match="line scan or spectrum image"):
        single.to_signals()
    image = predict_edges(E[KEEP], cube, model=model, onsets=False)
    with pytest.raises(ValueError, match="quantity"):
        image.to_signals("jump_ratio")
    with pytest.raises(ValueError, match="onsets=True"):
        image.to_signals("onset_ev")
    # arrays carry no calibration: pixel axes named y, x
    y, x = image.to_signals()["O K"].axes_manager.signal_axes[::-1]
    assert (y.name, x.name, x.scale, x.offset) == ("y", "x", 1.0, 0.0)


def test_detected_elements_go_to_metadata_and_exspy_builds_the_model(model, cube):
    s = _signal(cube)
    s.set_microscope_parameters(beam_energy=200.0, convergence_angle=10.0, collection_angle=20.0)
    result = predict_edges(s, model=model, onsets=False)
    assert result.detected_elements() == ["Ti", "O", "Mn"]
    assert result.detected_elements(min_fraction=0.6) == ["O"]
    assert add_detected_elements(s, result) == ["Mn", "O", "Ti"]
    assert list(s.metadata.Sample.elements) == ["Mn", "O", "Ti"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        m = s.create_model(auto_background=True, GOS="hydrogenic")  # offline: no GOS download
    names = {c.name for c in m}
    assert {"O_K", "Ti_L3", "Mn_L3"} <= names
    # a plain Signal1D gets the metadata too; elements already there are kept
    plain = _signal(cube, hs.signals.Signal1D)
    plain.metadata.set_item("Sample.elements", ["C"])
    assert add_detected_elements(plain, result, min_fraction=0.6) == ["C", "O"]
    with pytest.raises(ValueError, match="HyperSpy signal"):
        add_detected_elements(np.zeros(3), result)


def test_a_single_spectrum_signal_and_detected_elements_of_one_spectrum(model, cube):
    s = _signal(cube[1, 1])
    result = predict_edges(s, model=model)
    assert isinstance(result, EdgePrediction) and result.navigation_shape == ()
    assert result.detected_elements() == ["O", "Mn"]
    assert add_detected_elements(s, result) == ["Mn", "O"]
