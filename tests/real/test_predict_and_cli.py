"""The prediction API (eels_core.real.predict) and the ``eels-edges`` command (eels_core.real.cli).

Bad input must give one line on stderr and exit status 2, never a traceback: every case of the
issue is made here, in tmp_path.
"""

from __future__ import annotations

import functools
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from eels_core.real.cli import SCHEMA, main
from eels_core.real.io import Spectrum
from eels_core.learning.network import CNNBiLSTM, NetworkConfig, native_bfloat16
from eels_core.real.predict import predict_edges
from eels_core.real.onsets import estimate_onsets
from eels_core.forward.edges import reference_onsets_ev
from eels_core.learning.preprocessing import _masked_median, interp_rows, preprocess_spectrum, preprocess_window
from eels_core.forward.axis import network_energy_axis
from eels_core.real.real_spectra import SHIPPED_REAL_SPECTRA_DIR
from eels_core.forward.synthesis import synthesize

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def batch():
    return synthesize(24, seed=4)


@pytest.fixture(scope="module")
def random_model():
    torch.manual_seed(0)
    return CNNBiLSTM().eval()


def _cut(batch, lo, hi):
    e = network_energy_axis()
    keep = (e >= lo) & (e <= hi)
    return e[keep], np.asarray(batch.spectra[:, keep], dtype=np.float64)


# ---------------------------------------------------------------------------------------------
# preprocessing speed-ups: same numbers as before
# ---------------------------------------------------------------------------------------------


def test_interp_rows_is_np_interp_bit_for_bit():
    rng = np.random.default_rng(1)
    xp = np.sort(rng.uniform(100, 900, 500))
    xp = np.unique(xp)
    fp = rng.normal(size=(7, xp.size)) * 1e3
    x = np.r_[np.linspace(50, 950, 3001), xp[::17], xp[0], xp[-1]]
    expected = np.stack([np.interp(x, xp, row) for row in fp])
    got = interp_rows(x, xp, fp)
    assert got.flags["C_CONTIGUOUS"]
    np.testing.assert_array_equal(got, expected)


def test_masked_median_is_nanmedian_bit_for_bit():
    rng = np.random.default_rng(2)
    x = rng.lognormal(size=(9, 4551))
    shared = np.zeros((9, 4551), bool)
    shared[:, 700:2901] = True  # one window for all rows (the fast path)
    own = np.zeros_like(shared)
    for i in range(9):
        own[i, 100 * i : 100 * i + 1000 + i] = True  # a window per row (training batches)
    for mask in (shared, own, np.ones_like(shared)):
        xm = np.where(mask, x, np.nan)
        np.testing.assert_array_equal(_masked_median(xm, mask), np.nanmedian(xm, axis=1, keepdims=True))
    holed = np.where(shared, x, np.nan)
    holed[3, 1000] = np.nan  # a NaN inside the window falls back to nanmedian
    np.testing.assert_array_equal(_masked_median(holed, shared), np.nanmedian(holed, axis=1, keepdims=True))


def test_preprocess_window_equals_the_window_of_preprocess_spectrum(batch):
    for lo, hi in [(200.0, 700.0), (90.0, 1000.0), (431.3, 498.7)]:
        e, c = _cut(batch, lo, hi)
        full = preprocess_spectrum(e, c[:5])
        part, window = preprocess_window(e, c[:5])
        np.testing.assert_allclose(part, full[:, :2, window], atol=1e-5)
        assert np.all(full[:, :2, : window.start] == 0) and np.all(full[:, :2, window.stop :] == 0)
        assert np.all(full[:, 2, window] == 1) and full[:, 2].sum() == 5 * (window.stop - window.start)


# ---------------------------------------------------------------------------------------------
# predict_edges
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("use_lstm", [True, False], ids=["cnn-bilstm", "cnn-only"])
@pytest.mark.parametrize("window", [(90.0, 1000.0), (300.0, 700.0), (95.0, 200.0), (850.0, 1000.0)])
def test_fast_path_equals_the_plain_forward_pass(batch, use_lstm, window):
    torch.manual_seed(3)
    model = CNNBiLSTM(NetworkConfig(use_lstm=use_lstm)).eval()
    e, c = _cut(batch, *window)
    fast = predict_edges(e, c, model=model, fast=True, onsets=False, batch_size=7)
    plain = predict_edges(e, c, model=model, fast=False, onsets=False)
    with torch.no_grad():
        direct = torch.sigmoid(model(torch.from_numpy(preprocess_spectrum(e, c)))).numpy()
    np.testing.assert_allclose(plain.probabilities, direct, atol=1e-6)
    np.testing.assert_allclose(fast.probabilities, direct, atol=1e-4)


def test_bfloat16_inference_is_close_to_float32_and_bad_precision_is_refused(batch):
    torch.manual_seed(4)
    model = CNNBiLSTM().eval()
    e, c = _cut(batch, 300.0, 700.0)
    p32 = predict_edges(e, c, model=model, onsets=False).probabilities
    if native_bfloat16("cpu"):
        p16 = predict_edges(e, c, model=model, onsets=False, precision="bfloat16").probabilities
        assert not np.array_equal(p16, p32)  # it really ran in another arithmetic
        np.testing.assert_allclose(p16, p32, atol=0.05)
    else:  # emulated or unavailable: a warning, and float32's numbers
        with pytest.warns(UserWarning, match="bfloat16 is not native"):
            p16 = predict_edges(e, c, model=model, onsets=False, precision="bfloat16").probabilities
        np.testing.assert_array_equal(p16, p32)
    with pytest.raises(ValueError, match="precision"):
        predict_edges(e, c, model=model, precision="float16")


def test_shapes_window_restriction_and_onsets(batch, random_model):
    e, c = _cut(batch, 300.0, 700.0)
    image = c[:12].reshape(3, 4, -1)
    result = predict_edges(e, image, model=random_model, threshold=0.3)
    assert result.probabilities.shape == (3, 4, 20) and result.navigation_shape == (3, 4)
    assert result.onset_ev.shape == (3, 4, 20) and result.valid.shape == (3, 4) and result.valid.all()
    refs = reference_onsets_ev()
    expected_inside = (refs >= 305.0) & (refs <= 680.0)
    np.testing.assert_array_equal(result.in_window, expected_inside)
    assert not result.detected[..., ~expected_inside].any()
    assert np.isnan(result.onset_ev[..., ~expected_inside]).all()
    assert np.isfinite(result.onset_ev[..., expected_inside]).all()
    np.testing.assert_array_equal(result.detected, (result.probabilities >= 0.3) & expected_inside)
    # one pixel alone gives the same numbers as inside the image
    single = predict_edges(e, image[1, 2], model=random_model, threshold=0.3)
    np.testing.assert_allclose(single.probabilities, result.probabilities[1, 2], atol=1e-5)
    np.testing.assert_allclose(single.onset_ev, result.onset_ev[1, 2])
    rows = single.edge_table()
    assert [r["edge"] for r in rows] == [result.labels[k] for k in np.argsort(refs) if expected_inside[k]]
    assert set(rows[0]) == {"edge", "element", "probability", "detected", "onset_ev", "reference_onset_ev"}
    with pytest.raises(ValueError, match="index of one spectrum"):
        result.detected_edges()


def test_predict_accepts_a_spectrum_object(batch, random_model):
    e, c = _cut(batch, 300.0, 700.0)
    a = predict_edges(Spectrum(e, c[:3]), model=random_model)
    b = predict_edges(e, c[:3], model=random_model)
    np.testing.assert_array_equal(a.probabilities, b.probabilities)


def test_all_zero_or_negative_counts_raise_and_empty_pixels_are_flagged(batch, random_model):
    e, c = _cut(batch, 300.0, 700.0)
    with pytest.raises(ValueError, match="zero or negative"):
        predict_edges(e, np.zeros_like(c[:2]), model=random_model)
    with pytest.raises(ValueError, match="zero or negative"):
        predict_edges(e, -c[:2], model=random_model)
    mixed = c[:3].copy()
    mixed[1] = 0.0
    result = predict_edges(e, mixed, model=random_model)
    np.testing.assert_array_equal(result.valid, [True, False, True])
    assert not result.probabilities[1].any() and not result.detected[1].any()
    assert np.isnan(result.onset_ev[1]).all()


@pytest.mark.parametrize("threshold", [0.0, 1.0, -0.1])
def test_bad_threshold_raises(batch, random_model, threshold):
    e, c = _cut(batch, 300.0, 700.0)
    with pytest.raises(ValueError, match="threshold"):
        predict_edges(e, c[:1], model=random_model, threshold=threshold)


def test_onset_of_a_clean_step_is_the_step():
    from scipy.special import erf

    e = np.arange(300.0, 700.0, 0.25)
    for step in (524.0, 528.0, 540.0):  # O K reference 532 eV
        counts = 1e6 * (e / 300.0) ** -3 * (1 + 0.3 * (0.5 + 0.5 * erf((e - step) / 0.3)))
        # the 1 eV smoothing puts the half-maximum slope about 1.2 eV before a sharp step
        assert step - 2.0 <= estimate_onsets(e, counts)[3] <= step


def test_onsets_on_synthetic_spectra():
    """Estimated vs labelled onsets of synthetic spectra (shifted by up to +-15 eV)."""
    b = synthesize(200, seed=11)
    est = estimate_onsets(b.energy_ev, b.spectra, in_window=np.ones(20, bool))
    present = b.labels.astype(bool)
    err = (est - b.edge_onset_ev)[present]
    assert np.median(np.abs(err)) < 1.5
    assert np.mean(np.abs(err) <= 5.0) > 0.8


# ---------------------------------------------------------------------------------------------
# the eels-edges command: bad input
# ---------------------------------------------------------------------------------------------


def _text(path: Path, energy, counts) -> Path:
    path.write_text("\n".join(f"{a} {b}" for a, b in zip(energy, counts)) + "\n")
    return path


def _msa(path: Path, offset: float, scale: float, counts, xunits: str = "eV") -> Path:
    header = [
        "#FORMAT      : EMSA/MAS Spectral Data File", "#VERSION     : 1.0", "#TITLE       : test",
        f"#NPOINTS     : {len(counts)}", "#NCOLUMNS    : 1", f"#XUNITS      : {xunits}", "#YUNITS      : counts",
        "#DATATYPE    : Y", f"#XPERCHAN    : {scale}", f"#OFFSET      : {offset}", "#SIGNALTYPE  : ELS",
        "#SPECTRUM    : Spectral Data Starts Here",
    ]
    path.write_text("\n".join(header + [f"{c}," for c in counts] + ["#ENDOFDATA   : End Of Data and File"]) + "\n")
    return path


def _hspy(path: Path, data, offset: float = 300.0, scale: float = 0.5) -> Path:
    """A HyperSpy file of a line scan (2-D) or spectrum image (3-D), written with rosettasciio."""
    from rsciio.hspy import file_writer

    data = np.asarray(data, dtype=np.float32)
    axes = [
        {"size": n, "index_in_array": i, "name": "yx"[i] if data.ndim == 3 else "x", "scale": 1.0, "offset": 0.0,
         "units": "nm", "navigate": True}
        for i, n in enumerate(data.shape[:-1])
    ]
    axes.append({"size": data.shape[-1], "index_in_array": data.ndim - 1, "name": "Energy loss", "scale": scale,
                 "offset": offset, "units": "eV", "navigate": False})
    file_writer(str(path), {
        "data": data, "axes": axes, "metadata": {"General": {"title": path.stem}, "Signal": {"signal_type": "EELS"}},
        "original_metadata": {}, "tmp_parameters": {}, "attributes": {"_lazy": False},
        "package_info": {"name": "eels_core", "version": "test"}, "learning_results": {}, "models": {},
    })
    return path


def _power_law(energy):
    return 1e5 * (np.asarray(energy) / 300.0) ** -3


def _bad_missing(tmp):
    return [str(tmp / "nope.msa")], "not found"


def _bad_extension(tmp):
    (tmp / "s.xyz").write_text("400 1\n401 2\n")
    return [str(tmp / "s.xyz")], "Unsupported file extension"


def _bad_no_energy_axis(tmp):
    return [str(_msa(tmp / "nm.msa", 400.0, 0.5, np.ones(200), xunits="nm"))], "no energy axis"


def _bad_non_monotonic(tmp):
    e = np.linspace(400, 600, 201)
    e[100] = e[98]
    return [str(_text(tmp / "zigzag.txt", e, _power_law(e)))], "is not strictly increasing (it stops increasing at channel"


def _bad_nan(tmp):
    e = np.linspace(400, 600, 201)
    c = _power_law(e)
    c[50] = np.nan
    return [str(_text(tmp / "nan.txt", e, c))], "NaN or infinite"


def _bad_inf(tmp):
    e = np.linspace(400, 600, 201)
    c = _power_law(e)
    c[50] = np.inf
    return [str(_text(tmp / "inf.dat", e, c))], "NaN or infinite"


def _bad_all_zero(tmp):
    e = np.linspace(400, 600, 201)
    return [str(_text(tmp / "zero.txt", e, np.zeros(201)))], "all zero"


def _bad_negative(tmp):
    e = np.linspace(400, 600, 201)
    return [str(_text(tmp / "negative.txt", e, -_power_law(e)))], "zero or negative"


@functools.cache
def _shipped_narrowest_window_ev() -> float:
    """The narrowest window the shipped weights accept (their ``narrowest_window_ev``; weights loaded once)."""
    from eels_core.learning.checkpoint import load_model

    return float(load_model().narrowest_window_ev)


def _bad_window_outside(tmp):
    e = np.linspace(1500, 2000, 501)
    least = _shipped_narrowest_window_ev()
    return [str(_text(tmp / "high.txt", e, _power_law(e)))], f"overlaps the model's 90-1000 eV range by 0.0 eV; at least {least:g} eV"


def _bad_window_narrow(tmp):
    least = _shipped_narrowest_window_ev()
    width = least - 5.0  # narrower than the weights accept
    e = np.linspace(400, 400 + width, 201)
    return [str(_text(tmp / "narrow.txt", e, _power_law(e)))], (
        f"overlaps the model's 90-1000 eV range by {width:.1f} eV; at least {least:g} eV"
    )


def _bad_window_mostly_outside(tmp):
    least = _shipped_narrowest_window_ev()
    width = least - 5.0
    e = np.linspace(1000 - width, 1400, 431)  # overlaps 90-1000 eV by less than the weights accept
    return [str(_text(tmp / "edge.txt", e, _power_law(e)))], f"by {width:.1f} eV; at least {least:g} eV are needed"


def _bad_corrupt_dm3(tmp):
    (tmp / "garbage.dm3").write_bytes(b"\x00\x01not a gatan file" * 10)
    return [str(tmp / "garbage.dm3")], "Could not read"


def _bad_truncated_msa(tmp):
    path = _msa(tmp / "cut.msa", 400.0, 0.5, _power_law(400 + 0.5 * np.arange(400)))
    path.write_text(path.read_text()[: len(path.read_text()) // 2])
    return [str(path)], "truncated"


def _bad_truncated_hspy(tmp):
    path = _hspy(tmp / "cut.hspy", np.ones((2, 200)))
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    return [str(path)], "Could not read"


def _bad_truncated_dm3(tmp):
    real = SHIPPED_REAL_SPECTRA_DIR / "files" / "joverbee_eelsmodel__T3_C3_region1_SI_HL_cal.dm3"
    (tmp / "cut.dm3").write_bytes(real.read_bytes()[:200_000])
    return [str(tmp / "cut.dm3")], "Could not read"


def _bad_empty(tmp):
    (tmp / "empty.msa").write_bytes(b"")
    return [str(tmp / "empty.msa")], "empty"


def _bad_threshold(tmp):
    e = np.linspace(400, 600, 201)
    return [str(_text(tmp / "ok.txt", e, _power_law(e))), "--threshold", "1.5"], "--threshold"


def _bad_maps_on_single(tmp):
    e = np.linspace(400, 600, 201)
    return [str(_text(tmp / "ok.txt", e, _power_law(e))), "--maps", str(tmp / "maps")], "single spectrum"


def _bad_sum_and_maps(tmp):
    return [str(_hspy(tmp / "scan.hspy", np.ones((3, 400)))), "--sum", "--maps", str(tmp / "m")], "exclude each other"


def _bad_option(tmp):
    return ["--no-such-option", "x.msa"], "unrecognized arguments"


BAD_INPUTS = {
    "missing-file": _bad_missing,
    "unsupported-format": _bad_extension,
    "no-energy-axis": _bad_no_energy_axis,
    "non-monotonic-axis": _bad_non_monotonic,
    "nan": _bad_nan,
    "inf": _bad_inf,
    "all-zero": _bad_all_zero,
    "negative": _bad_negative,
    "window-outside-90-1000": _bad_window_outside,
    "window-narrower-than-60": _bad_window_narrow,
    "window-overlap-under-60": _bad_window_mostly_outside,
    "corrupt-dm3": _bad_corrupt_dm3,
    "truncated-msa": _bad_truncated_msa,
    "truncated-hspy": _bad_truncated_hspy,
    "truncated-dm3": _bad_truncated_dm3,
    "empty-file": _bad_empty,
    "bad-threshold": _bad_threshold,
    "maps-on-single-spectrum": _bad_maps_on_single,
    "sum-with-maps": _bad_sum_and_maps,
    "unknown-option": _bad_option,
}


@pytest.mark.parametrize("case", list(BAD_INPUTS), ids=list(BAD_INPUTS))
def test_bad_input_is_one_line_and_exit_2(case, tmp_path, capsys):
    argv, message = BAD_INPUTS[case](tmp_path)
    rc = main(["predict", *argv])
    out, err = capsys.readouterr()
    assert rc == 2
    assert out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("eels-edges: error: ") and message in lines[0], lines[0]
    assert "Traceback" not in err


@pytest.mark.parametrize("case", ["missing-file", "corrupt-dm3", "nan"])
def test_bad_input_in_a_real_process(case, tmp_path):
    """The same through ``python -m eels_core.real.cli`` (what the console script runs)."""
    argv, message = BAD_INPUTS[case](tmp_path)
    proc = subprocess.run(
        [sys.executable, "-m", "eels_core.real.cli", "predict", *argv],
        capture_output=True, text=True, cwd=REPO, timeout=300,
    )
    assert proc.returncode == 2
    assert proc.stdout == ""
    assert proc.stderr.count("\n") == 1 and message in proc.stderr and "Traceback" not in proc.stderr


def test_console_script_is_declared():
    import tomllib

    scripts = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["scripts"]
    assert scripts["eels-edges"] == "eels_core.real.cli:main"
    assert scripts["eels-core"] == "eels_core.cli:main"


# ---------------------------------------------------------------------------------------------
# the eels-edges command: results
# ---------------------------------------------------------------------------------------------

JSON_KEYS = {
    "schema", "file", "n_channels", "energy_range_ev", "dispersion_ev", "window_ev", "navigation_shape",
    "n_spectra", "spectrum", "threshold", "precision", "model", "edges", "detected", "outside_window", "pixels",
    "maps", "repaired_channels", "reading_warnings", "look_alikes",
}


def _synthetic_text(tmp_path: Path, batch, lo=300.0, hi=700.0) -> Path:
    e, c = _cut(batch, lo, hi)
    return _text(tmp_path / "synthetic.txt", e, 1e4 * c[0])


def test_json_report_of_a_spectrum(tmp_path, capsys, batch):
    path = _synthetic_text(tmp_path, batch)
    assert main(["predict", str(path), "--json", "--threshold", "0.4"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert set(report) == JSON_KEYS and report["schema"] == SCHEMA
    assert report["spectrum"] == "single" and report["navigation_shape"] == [] and report["n_spectra"] == 1
    assert report["threshold"] == 0.4 and report["pixels"] is None and report["maps"] is None
    assert report["precision"] == "float32"
    assert report["window_ev"] == [300.0, 700.0]
    assert set(report["model"]) == {"weights", "sha256", "step"}
    refs = dict(zip(report_labels(), reference_onsets_ev()))
    for row in report["edges"]:
        assert 305.0 <= refs[row["edge"]] <= 680.0
        assert row["detected"] == (row["probability"] >= 0.4)
        assert row["onset_ev"] is None or abs(row["onset_ev"] - row["reference_onset_ev"]) <= 15.0
    assert report["detected"] == [r["edge"] for r in report["edges"] if r["detected"]]
    assert len(report["edges"]) + len(report["outside_window"]) == 20
    from eels_core.real.look_alikes import look_alike_edges

    assert report["look_alikes"] == [f.as_dict() for f in look_alike_edges(report["detected"], (300.0, 700.0))]


def report_labels():
    from eels_core.forward.edges import edge_labels

    return edge_labels()


def test_text_report_of_a_spectrum(tmp_path, capsys, batch):
    path = _synthetic_text(tmp_path, batch)
    assert main(["predict", str(path)]) == 0
    out = capsys.readouterr().out
    assert "window used 300.0-700.0 eV" in out
    assert "not detected (inside the window):" in out and "outside the window (not checked):" in out


def test_spectrum_image_maps(tmp_path, capsys, batch):
    e, c = _cut(batch, 300.0, 700.0)
    assert np.allclose(np.diff(e), 0.2)
    path = _hspy(tmp_path / "si.hspy", 1e4 * c[:6].reshape(2, 3, -1), offset=float(e[0]), scale=0.2)
    out_dir = tmp_path / "maps"
    assert main(["predict", str(path), "--json", "--maps", str(out_dir), "--quiet"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["spectrum"] == "summed" and report["navigation_shape"] == [2, 3] and report["n_spectra"] == 6
    assert report["pixels"]["n_valid"] == 6
    assert [r["edge"] for r in report["pixels"]["edges"]] == [r["edge"] for r in report["edges"]]
    files = sorted(p.name for p in out_dir.iterdir())
    assert report["maps"]["files"] == files and report["maps"]["directory"] == str(out_dir)
    for row in report["edges"]:
        tag = row["edge"].replace(",", "").replace(" ", "_")
        for suffix in ("_probability.npy", "_presence.npy", "_onset_ev.npy", ".png"):
            assert tag + suffix in files
        prob = np.load(out_dir / f"{tag}_probability.npy")
        assert prob.shape == (2, 3) and prob.dtype == np.float32
        np.testing.assert_array_equal(np.load(out_dir / f"{tag}_presence.npy"), prob >= 0.5)
    stack = np.load(out_dir / "probabilities.npy")
    assert stack.shape == (2, 3, 20)
    manifest = json.loads((out_dir / "maps.json").read_text())
    assert manifest["files"] == files and manifest["navigation_shape"] == [2, 3]
    assert (out_dir / "overview.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_line_scan_maps_and_sum(tmp_path, capsys, batch):
    e, c = _cut(batch, 300.0, 700.0)
    path = _hspy(tmp_path / "scan.hspy", 1e4 * c[:5], offset=float(e[0]), scale=0.2)
    assert main(["predict", str(path), "--maps", str(tmp_path / "m"), "--quiet"]) == 0
    out = capsys.readouterr().out
    assert "line scan 5 (5 spectra)" in out and "per pixel (5 of 5 pixels" in out and "maps written to" in out
    assert np.load(tmp_path / "m" / "O_K_probability.npy").shape == (5,)
    assert main(["predict", str(path), "--sum", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["spectrum"] == "summed" and report["pixels"] is None and report["maps"] is None


def test_occlusion_scan_finds_the_range_the_model_relies_on():
    from eels_core.real.predict import occlusion_scan

    class LooksAt530(torch.nn.Module):
        """Logit of O K = 500 x the mean high-passed input in 530-540 eV - 2 (a stand-in network)."""

        def __init__(self):
            super().__init__()
            self.w = torch.nn.Parameter(torch.zeros(1))
            e = torch.from_numpy(network_energy_axis())
            self.register_buffer("sel", ((e >= 530) & (e <= 540)).float())

        def forward(self, x):
            out = torch.full((x.shape[0], 20), -5.0)
            out[:, 3] = 500.0 * (x[:, 1] * self.sel).sum(1) / self.sel.sum() - 2.0
            return out

    e = np.arange(450.0, 650.0, 0.5)
    counts = 1e6 * (e / 450.0) ** -3.0
    counts += np.where(e >= 532, 1.5e5 * np.exp(-((e - 535.0) / 2.0) ** 2), 0.0)  # a peak at 535 eV
    scan = occlusion_scan(e, counts, width_ev=10.0, step_ev=5.0, model=LooksAt530().eval())
    p = scan.of("O K")
    assert scan.unoccluded[3] > 0.9
    assert p[np.argmin(abs(scan.centre_ev - 535.0))] < 0.5 < p[np.argmin(abs(scan.centre_ev - 600.0))]
    assert scan.probabilities.shape == (scan.centre_ev.size, 20)
    with pytest.raises(ValueError, match="one spectrum"):
        occlusion_scan(e, np.ones((2, e.size)), model=LooksAt530())


def test_a_narrow_window_is_refused_or_read_as_the_model_was_trained(random_model):
    e = np.arange(700.0, 725.0, 0.25)  # 25 eV around Fe L3
    counts = 1e4 * (e / 700.0) ** -3.0 + 2e3 * (e > 708.0)
    random_model.narrowest_window_ev = 35.0
    with pytest.raises(ValueError, match="by 24.8 eV; at least 35 eV are needed"):
        predict_edges(e, counts, model=random_model)
    random_model.narrowest_window_ev = 20.0  # as load_model sets it for weights trained on 20 eV windows
    result = predict_edges(e, counts, model=random_model)
    assert result.probabilities.shape == (20,) and np.all(np.isfinite(result.probabilities))
    assert result.window_ev == pytest.approx((700.0, 724.75))
    del random_model.narrowest_window_ev
