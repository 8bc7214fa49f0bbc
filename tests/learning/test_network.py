"""Network shape and outputs, one optimiser step, shared preprocessing, checkpoints."""

import copy
import json

import numpy as np
import pytest
import torch

from eels_core.learning import network
from eels_core.learning.network import (FAST_CHUNK, INFERENCE_PATH_ENV, INFERENCE_PATHS, CNNBiLSTM, FusedCNNBiLSTM,
                                        NetworkConfig, WindowedForward, choose_inference_path, count_parameters,
                                        fused_for_inference)
from eels_core.learning.preprocessing import CONTRAST_FLOOR, energy_coordinate, edges_in_window, preprocess_batch, preprocess_spectrum, sample_windows, stretch_contrast
from eels_core.forward.axis import network_energy_axis
from eels_core.forward.synthesis import synthesize
from eels_core.learning.checkpoint import save_checkpoint
from eels_core.learning.presets import preset
from eels_core.learning.training import _payload, masked_bce
from eels_core.learning.checkpoint import CheckpointError, export_weights, load_checkpoint, load_model


def test_output_shape_and_probabilities():
    torch.manual_seed(0)
    m = CNNBiLSTM()
    x = torch.randn(5, 4, 4551)
    logits = m(x)
    assert logits.shape == (5, 20)
    p = m.predict_proba(x)
    assert p.shape == (5, 20) and float(p.min()) >= 0 and float(p.max()) <= 1
    assert m.training  # predict_proba restores the mode
    assert 100_000 < count_parameters(m) < 1_000_000
    assert NetworkConfig().sequence_length == 72


def test_fused_inference_copy_gives_the_same_logits_and_leaves_the_model_alone():
    torch.manual_seed(2)
    m = CNNBiLSTM()
    m.train()
    x = torch.randn(8, 4, 4551)
    for _ in range(3):  # batch-norm running statistics away from their initial values
        m(x * 3 + 1)
    m.eval()
    with torch.no_grad():
        ref = m(x)
    before = {k: v.clone() for k, v in m.state_dict().items()}
    fused = fused_for_inference(m)
    assert not any(isinstance(layer, torch.nn.BatchNorm1d) for layer in fused.features)
    with torch.inference_mode():
        torch.testing.assert_close(fused(x), ref, rtol=1e-4, atol=1e-4)
    assert all(torch.equal(v, m.state_dict()[k]) for k, v in before.items())
    assert any(isinstance(layer, torch.nn.BatchNorm1d) for layer in m.features)


def test_ablation_variant_without_lstm_runs():
    m = CNNBiLSTM(NetworkConfig(use_lstm=False))
    assert m(torch.randn(2, 4, 4551)).shape == (2, 20)
    with pytest.raises(ValueError, match="kernel_size"):
        NetworkConfig(kernel_size=10)


def test_one_optimiser_step_lowers_the_loss_on_a_fixed_batch():
    torch.manual_seed(1)
    b = synthesize(32, seed=1)
    x = torch.from_numpy(preprocess_batch(b.spectra))
    y = torch.from_numpy(b.labels.astype(np.float32))
    mask = torch.ones_like(y)
    m = CNNBiLSTM()
    m.eval()  # fixed batch-norm statistics and no dropout, so the two losses are comparable
    opt = torch.optim.Adam(m.parameters(), lr=1e-3)
    before = masked_bce(m(x), y, mask)
    opt.zero_grad()
    before.backward()
    opt.step()
    with torch.no_grad():
        after = masked_bce(m(x), y, mask)
    assert float(after) < float(before.detach())


def test_training_and_prediction_preprocessing_identical():
    """A synthetic spectrum through the training path and through the real-spectrum path."""
    b = synthesize(3, seed=2)
    e = network_energy_axis()
    train_in = preprocess_batch(b.spectra, np.array([[200.0, 700.0]] * 3))
    pred_in = preprocess_spectrum(e[(e >= 200) & (e <= 700)], b.spectra[:, (e >= 200) & (e <= 700)])
    np.testing.assert_allclose(pred_in, train_in, atol=1e-5)
    # any intensity scale gives the same input
    np.testing.assert_allclose(preprocess_batch(b.spectra * 1234.5), preprocess_batch(b.spectra), atol=1e-5)


def test_stretch_contrast_lifts_only_rows_below_the_floor():
    mask = np.zeros((4, 10), dtype=bool)
    mask[:, 2:8] = True
    z = np.zeros((4, 10))
    z[0, 2:8] = [0.01, -0.01, 0.02, -0.02, 0.0, 0.0]  # flat: below the floor
    z[1, 2:8] = [1.0, -1.0, 0.5, -0.5, 0.2, -0.2]  # already varied enough
    z[3, 2:8] = [0.1, -0.1, 0.1, -0.1, 0.1, -0.1]
    out = stretch_contrast(z, mask, floor=0.3)
    rms = np.sqrt((out[:, 2:8] ** 2).mean(axis=1))
    assert rms[0] == pytest.approx(0.3) and rms[3] == pytest.approx(0.3)
    np.testing.assert_array_equal(out[1], z[1])  # unchanged
    np.testing.assert_array_equal(out[2], 0.0)  # constant row: nothing to stretch, no division by zero
    np.testing.assert_allclose(out[0] / out[0, 2], z[0] / z[0, 2])  # shape kept, only scaled
    assert np.all(out[:, :2] == 0) and np.all(out[:, 8:] == 0)  # outside the window stays 0
    np.testing.assert_array_equal(stretch_contrast(z, mask, floor=0.0), z)  # 0 switches it off


def test_contrast_floor_undoes_most_of_a_large_pedestal():
    """A narrow window on a constant level 100x the signal: without the floor the edges nearly vanish
    from channel 1; with it they come back close to their size without the pedestal."""
    b = synthesize(8, seed=3)
    window = np.array([[500.0, 580.0]] * 8)
    e = network_energy_axis()
    inside = (e >= 500) & (e <= 580)
    pedestal = 100.0 * np.median(b.spectra[:, inside], axis=1, keepdims=True)
    clean = preprocess_batch(b.spectra, window, contrast_floor=0.0)
    flat_off = preprocess_batch(b.spectra + pedestal, window, contrast_floor=0.0)
    flat_on = preprocess_batch(b.spectra + pedestal, window)
    size = lambda x: np.sqrt((x[:, 1, inside] ** 2).mean(axis=1))  # noqa: E731
    assert np.all(size(flat_off) < 0.05 * size(clean))
    rms_on = np.sqrt((flat_on[:, 0, inside] ** 2).mean(axis=1))
    np.testing.assert_allclose(rms_on, CONTRAST_FLOOR, rtol=1e-4)
    assert np.all(size(flat_on) > 10 * size(flat_off))
    # full-range spectra vary far more than the floor: untouched
    np.testing.assert_array_equal(preprocess_batch(b.spectra), preprocess_batch(b.spectra, contrast_floor=0.0))


@pytest.mark.parametrize(
    "energy,message",
    [(np.linspace(2000, 2100, 100), "overlaps"), (np.linspace(100, 115, 100), "overlaps"),
     (np.r_[np.linspace(100, 300, 50), np.linspace(200, 400, 50)], "strictly increasing"),
     (np.r_[np.nan, np.linspace(100, 400, 99)], "NaN")],
)
def test_bad_energy_axes(energy, message):
    with pytest.raises(ValueError, match=message):
        preprocess_spectrum(energy, np.ones_like(energy))


def test_preprocessing_reads_windows_down_to_the_narrowest_training_window():
    # the width a model accepts is checked by predict_edges (narrowest_window_ev); the preprocessing
    # itself reads any window a model may have been trained on
    e = np.linspace(100, 130, 100)
    x = preprocess_spectrum(e, np.ones_like(e))
    assert abs(float(x[0, 2].sum()) * 0.2 - 30.0) < 0.5  # the window channel covers the 30 eV


def test_nan_counts_refused():
    e = np.linspace(300, 700, 400)
    c = np.ones_like(e)
    c[10] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        preprocess_spectrum(e, c)


def test_windows_and_in_window_rule():
    w = sample_windows(np.random.default_rng(0), 2000, full_fraction=0.25)
    assert np.all(w[:, 1] - w[:, 0] >= 60 - 1e-9) and w.min() >= 90 and w.max() <= 1000
    assert np.mean((w[:, 0] == 90) & (w[:, 1] == 1000)) == pytest.approx(0.25, abs=0.03)
    inside = edges_in_window(np.array([[100.0, 300.0, np.nan, 690.0]]), np.array([[96.0, 700.0]]))
    assert inside.tolist() == [[False, True, False, False]]


def test_checkpoint_round_trip_and_refusals(tmp_path):
    torch.manual_seed(3)
    cfg = preset("cpu-ci")
    m = CNNBiLSTM(cfg.network)
    ckpt = tmp_path / "checkpoint.pt"
    save_checkpoint(ckpt, _payload(m, cfg, 10, [{"step": 10}], None))
    w = export_weights(ckpt, tmp_path / "w.pt", {"note": "test"})
    loaded = load_model(w)
    x = torch.randn(2, 4, 4551)
    m.eval()
    torch.testing.assert_close(loaded(x), m(x))
    assert json.loads((tmp_path / "w.json").read_text())["note"] == "test"

    # tampered: one byte changed -> sha256 mismatch
    data = bytearray(w.read_bytes())
    data[len(data) // 2] ^= 0xFF
    bad = tmp_path / "bad.pt"
    bad.write_bytes(bytes(data))
    (tmp_path / "bad.json").write_text((tmp_path / "w.json").read_text())
    with pytest.raises(CheckpointError, match="sha256"):
        load_model(bad)

    # mismatched: other labels / other architecture
    state = torch.load(w, weights_only=True)
    state["labels"] = state["labels"][::-1]
    torch.save(state, tmp_path / "labels.pt")
    with pytest.raises(CheckpointError, match="labels"):
        load_checkpoint(tmp_path / "labels.pt")
    state = torch.load(w, weights_only=True)
    state["network_config"]["lstm_hidden"] = 50
    torch.save(state, tmp_path / "arch.pt")
    with pytest.raises(CheckpointError, match="do not fit"):
        load_model(tmp_path / "arch.pt")
    (tmp_path / "junk.pt").write_text("not a checkpoint")
    with pytest.raises(CheckpointError, match="not a readable"):
        load_checkpoint(tmp_path / "junk.pt")
    with pytest.raises(FileNotFoundError):
        load_checkpoint(tmp_path / "missing.pt")


def _trained_statistics(m: CNNBiLSTM, seed: int) -> CNNBiLSTM:
    """``m`` with batch-norm running statistics away from their initial values, in eval mode."""
    g = torch.Generator().manual_seed(seed)
    m.train()
    with torch.no_grad():
        for _ in range(3):
            m(torch.randn(8, m.config.n_inputs, 4551, generator=g) * 3 + 1)
    return m.eval()


@pytest.mark.parametrize("path", [p for p in INFERENCE_PATHS if p != "auto"])
@pytest.mark.parametrize("config", [NetworkConfig(), NetworkConfig(use_lstm=False),
                                    NetworkConfig(conv_channels=(6, 6, 12, 12, 12, 12, 12), kernel_size=5, lstm_hidden=17)],
                         ids=["default", "cnn-only", "small"])
def test_every_inference_path_gives_the_logits_of_the_plain_forward_pass(path, config):
    torch.manual_seed(5)
    m = _trained_statistics(CNNBiLSTM(config), seed=6)
    fused = fused_for_inference(m, path=path)
    assert isinstance(fused, FusedCNNBiLSTM) and fused.chosen_path() == path
    threads = torch.get_num_threads()
    torch.set_num_threads(2)  # the fast path splits the batch over two threads
    try:
        for n in (1, 7, 70):  # one chunk; one chunk per thread (4 + 3, 35 + 35)
            x = torch.randn(n, 4, 4551)
            with torch.no_grad():
                ref = m(x)
            with torch.inference_mode():
                out = fused(x)
            assert out.shape == (n, 20)
            assert float((out - ref).abs().max()) < 1e-4, (path, n)
            assert torch.get_num_threads() == 2  # restored after the split
    finally:
        torch.set_num_threads(threads)


def test_fast_paths_on_the_shipped_model_and_real_inputs():
    b = synthesize(40, seed=7)
    x = torch.from_numpy(preprocess_batch(b.spectra, np.array([[90.0, 1000.0]] * 20 + [[300.0, 700.0]] * 20)))
    m = load_model()
    with torch.no_grad():
        ref = m(x)
    for path in ("fast", "fast-intraop"):
        with torch.no_grad():  # plain no_grad (not inference mode): the output is an ordinary tensor
            out = fused_for_inference(m, path=path)(x)
        assert float((out - ref).abs().max()) < 1e-4
        assert not out.is_inference() and not out.requires_grad
    assert (torch.sigmoid(out) >= 0.5).eq(torch.sigmoid(ref) >= 0.5).all()


def test_fast_path_falls_back_to_the_plain_forward_pass_where_it_does_not_apply():
    torch.manual_seed(8)
    m = _trained_statistics(CNNBiLSTM(NetworkConfig(conv_channels=(4,) * 6, lstm_hidden=8)), seed=9)
    fused = fused_for_inference(m, path="fast")
    x = torch.randn(3, 4, 4551)
    with torch.no_grad():
        ref = m(x)
    out = fused(x)  # gradients on: the plain forward pass, which autograd can follow
    assert out.requires_grad and float((out.detach() - ref).abs().max()) < 1e-4
    out.sum().backward()
    assert fused.features[0].weight.grad is not None
    m64 = fused_for_inference(copy.deepcopy(m).double(), path="fast")  # another dtype: the plain forward pass
    with torch.no_grad():
        assert m64(x.double()).dtype == torch.float64


def test_fused_copy_of_a_subclass_keeps_its_class_and_bad_paths_are_refused(monkeypatch):
    class Custom(CNNBiLSTM):
        pass

    m = Custom(NetworkConfig(conv_channels=(4,), lstm_hidden=4)).eval()
    assert type(fused_for_inference(m)) is Custom
    with pytest.raises(ValueError, match="path = 'quick'"):
        fused_for_inference(m, path="quick")
    monkeypatch.setenv(INFERENCE_PATH_ENV, "turbo")
    with pytest.raises(ValueError, match=f"{INFERENCE_PATH_ENV}='turbo'.*fast-intraop"):
        fused_for_inference(m)
    monkeypatch.setenv(INFERENCE_PATH_ENV, "unfused")
    assert fused_for_inference(CNNBiLSTM(m.config)).chosen_path() == "unfused"


def test_measured_path_choice_is_kept_for_the_process():
    m = fused_for_inference(_trained_statistics(CNNBiLSTM(NetworkConfig(conv_channels=(4,) * 6, lstm_hidden=8)), 10),
                            path="auto")
    x = torch.randn(FAST_CHUNK, 4, 4551)
    before = dict(network._chosen_paths)
    with torch.inference_mode():
        m(x[:2])  # small batch: the fast path, nothing measured yet
        assert network._chosen_paths == before
        out = m(x)  # measures once ...
    chosen = m.chosen_path(x)
    assert chosen in INFERENCE_PATHS and chosen != "auto"
    assert len(network._chosen_paths) == len(before) + 1
    assert choose_inference_path(m) == chosen  # ... and keeps the answer
    assert choose_inference_path(m._unfused()) == chosen  # the same architecture: the same answer
    with torch.no_grad():
        assert float((out - m._unfused()(x)).abs().max()) < 1e-4


def _window_inputs(n: int, window: slice, seed: int) -> torch.Tensor:
    """Network inputs of spectra measured on ``window`` only: data in channels 0-1 there, zeros
    elsewhere, the coverage mask and the energy coordinate in channels 2-3."""
    g = torch.Generator().manual_seed(seed)
    x = torch.zeros(n, 4, 4551)
    x[:, :2, window] = torch.randn(n, 2, window.stop - window.start, generator=g)
    x[:, 2, window] = 1.0
    x[:, 3] = torch.from_numpy(energy_coordinate())
    return x


@pytest.mark.parametrize("config", [NetworkConfig(), NetworkConfig(use_lstm=False)], ids=["cnn-bilstm", "cnn-only"])
def test_windowed_forward_fast_kernels_and_plain_layers_give_the_full_forward_pass(config, monkeypatch):
    torch.manual_seed(11)
    m = _trained_statistics(CNNBiLSTM(config), seed=12)
    threads = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        for window in (slice(0, 4551), slice(1050, 3050), slice(25, 550), slice(3800, 4551), slice(2000, 2004)):
            x = _window_inputs(9, window, seed=window.start)
            with torch.no_grad():
                ref = m(x)
            forward = WindowedForward(m, window)
            assert forward.fast_steps is not None
            for path in ("fast", "fast-intraop", "fused"):  # fused: the plain layers, as before
                monkeypatch.setenv(INFERENCE_PATH_ENV, path)
                with torch.inference_mode():
                    out = forward(x[:, :2, window])
                assert float((out - ref).abs().max()) < 1e-4, (window, path)
    finally:
        torch.set_num_threads(threads)


def test_bilstm_kernel_equals_pytorch_lstm_from_given_states_and_uneven_lengths():
    torch.manual_seed(13)
    lstm = torch.nn.LSTM(6, 5, batch_first=True, bidirectional=True)
    weight, bias, hidden = network._lstm_weights(lstm)
    x_fwd, x_bwd = torch.randn(3, 7, 6), torch.randn(3, 4, 6)
    h0, c0 = torch.randn(2, 1, 5), torch.randn(2, 1, 5)
    fwd = torch.nn.LSTM(6, 5, batch_first=True)
    bwd = torch.nn.LSTM(6, 5, batch_first=True)
    with torch.no_grad():
        for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"):
            getattr(fwd, f"{name}_l0").copy_(getattr(lstm, f"{name}_l0"))
            getattr(bwd, f"{name}_l0").copy_(getattr(lstm, f"{name}_l0_reverse"))
        ref_f, _ = fwd(x_fwd, (h0[:1].expand(1, 3, 5).contiguous(), c0[:1].expand(1, 3, 5).contiguous()))
        ref_b, _ = bwd(x_bwd, (h0[1:].expand(1, 3, 5).contiguous(), c0[1:].expand(1, 3, 5).contiguous()))
    for kernel in (network._bilstm_run, network._bilstm_kernel()):  # plain Python and TorchScript
        with torch.inference_mode():
            out = kernel(x_fwd, x_bwd, weight, bias, hidden, h0, c0)
        torch.testing.assert_close(out[1:8, 0, :, 6:].transpose(0, 1), ref_f, rtol=0, atol=1e-5)
        torch.testing.assert_close(out[1:5, 1, :, 6:].transpose(0, 1), ref_b, rtol=0, atol=1e-5)
