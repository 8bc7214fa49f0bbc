"""Training: beats the base rate, resumes after an interruption, runs under torchrun (gloo, 2 CPUs)."""

import dataclasses
import json
import os
import subprocess
import sys

import numpy as np
import pytest
import torch

import eels_core.learning.training as training
from eels_core.forward.acquisition import AcquisitionConfig
from eels_core.learning.metrics import evaluate
from eels_core.learning.network import CNNBiLSTM, NetworkConfig
from eels_core.learning.presets import all_presets, preset
from eels_core.learning.training import TrainingConfig, base_rate_loss, stream_batch, train, validation_data

TINY = TrainingConfig(
    steps=6, batch_size=64, validate_every=3, n_validation=64, checkpoint_every=2,
    network=NetworkConfig(conv_channels=(4, 8, 8), lstm_hidden=8, dense_units=16),
)


def test_ci_preset_trains_far_below_the_untrained_loss():
    cfg = preset("cpu-ci")
    result = train(cfg, progress=False)
    final = result.history[-1]
    assert final["step"] == cfg.steps
    torch.manual_seed(cfg.seed)
    untrained = training.validate(CNNBiLSTM(cfg.network), validation_data(cfg), torch.device("cpu"))["loss"]
    # the untrained network is near log 2 per label; 300 steps reach about the constant predictor
    assert final["loss"] < 0.75 * untrained, (final["loss"], untrained)
    assert final["loss"] < 1.1 * result.base_rate_loss, (final["loss"], result.base_rate_loss)


def test_the_network_learns_the_labels_of_one_fixed_batch():
    """Optimisation works on any CPU: Adam memorises one fixed batch of 16 spectra, driving its loss
    to a small fraction of the constant predictor's (a margin no rounding difference between
    instruction sets can close)."""
    torch.manual_seed(0)
    data = stream_batch(TrainingConfig(batch_size=16, full_window_fraction=1.0), 0)
    model = CNNBiLSTM(NetworkConfig(conv_channels=(16, 16, 32, 32, 32, 32), lstm_hidden=32, dense_units=64, dropout=0.0))
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
    model.train()
    losses = []
    for _ in range(150):
        optimizer.zero_grad()
        loss = training.masked_bce(model(data.inputs), data.targets, data.loss_mask)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    assert min(losses[-20:]) < 0.25 * base_rate_loss(data.targets, data.loss_mask), losses[-20:]


def test_base_rate_is_the_constant_predictor_loss():
    data = validation_data(TINY)
    p = data.targets.mean(0).clamp(1e-6, 1 - 1e-6)
    const = torch.log(p / (1 - p)).expand_as(data.targets)
    worse = torch.zeros_like(data.targets)  # p = 0.5 everywhere
    assert base_rate_loss(data.targets, data.loss_mask) == pytest.approx(
        float(training.masked_bce(const, data.targets, data.loss_mask)), rel=1e-4
    )
    assert float(training.masked_bce(worse, data.targets, data.loss_mask)) > base_rate_loss(data.targets, data.loss_mask)


def test_resume_after_interruption_gives_the_same_model(tmp_path, monkeypatch):
    full = train(TINY, out_dir=tmp_path / "full", progress=False)

    real_batch = training.stream_batch

    def interrupted(cfg, step, rank=0, world=1):
        if step == 4:
            raise KeyboardInterrupt  # as if killed during step 5
        return real_batch(cfg, step, rank, world)

    monkeypatch.setattr(training, "stream_batch", interrupted)
    with pytest.raises(KeyboardInterrupt):
        train(TINY, out_dir=tmp_path / "cut", progress=False)
    state = torch.load(tmp_path / "cut" / "checkpoint.pt", weights_only=True)
    assert state["step"] == 4
    monkeypatch.setattr(training, "stream_batch", real_batch)
    resumed = train(TINY, out_dir=tmp_path / "cut", progress=False)
    for (k, a), b in zip(full.model.state_dict().items(), resumed.model.state_dict().values()):
        torch.testing.assert_close(a, b, msg=k)
    assert [h["step"] for h in resumed.history] == [3, 6]


def test_resume_refuses_another_configuration(tmp_path):
    train(dataclasses.replace(TINY, steps=2), out_dir=tmp_path, progress=False)
    with pytest.raises(ValueError, match="another training configuration"):
        train(dataclasses.replace(TINY, steps=2, learning_rate=1e-4), out_dir=tmp_path, progress=False)


@pytest.mark.parametrize("changes,field", [({"steps": 0}, "steps"), ({"learning_rate": 2.0}, "learning_rate"),
                                           ({"gradient_clip": 0.0}, "gradient_clip"),
                                           ({"min_window_ev": 15.0}, "min_window_ev")])
def test_bad_training_config(changes, field):
    with pytest.raises(ValueError, match=field):
        TrainingConfig(**changes)
    with pytest.raises(ValueError, match="unknown preset"):
        preset("gpu-huge")


def test_config_round_trip():
    for name in all_presets():
        cfg = preset(name)
        assert TrainingConfig.from_dict(json.loads(json.dumps(cfg.to_dict()))) == cfg


def test_a_recorded_config_without_newer_fields_is_the_same_config():
    cfg = preset("cpu-long")
    recorded = cfg.to_dict()
    del recorded["acquisition"], recorded["min_window_ev"]  # written before these fields existed
    assert cfg.same_as(json.dumps(recorded))
    assert not preset("cpu-joint-acquired").same_as(json.dumps(recorded))
    assert not cfg.same_as("not json")


def test_shipped_recipe_batches_use_narrow_windows_and_the_augmentations():
    cfg = dataclasses.replace(preset("cpu-joint-acquired"), batch_size=256,
                              acquisition=AcquisitionConfig(coarse_dispersion_probability=1.0))
    plain = dataclasses.replace(cfg, acquisition=AcquisitionConfig())
    a, b = stream_batch(cfg, 4), stream_batch(plain, 4)
    assert torch.equal(a.targets, b.targets)  # the augmentation never changes the labels
    assert not torch.equal(a.inputs, b.inputs)
    assert torch.equal(a.inputs[:, 2:], b.inputs[:, 2:])  # same windows (mask and energy channels)
    assert torch.equal(stream_batch(cfg, 4).inputs, a.inputs)  # reproducible
    coverage = a.inputs[:, 2].sum(1) * 0.2
    assert coverage.min() < 60 and coverage.min() >= cfg.min_window_ev - 0.5


def test_ddp_under_torchrun_with_gloo(tmp_path):
    """Unchanged code under torchrun: 2 CPU processes, gloo backend."""
    out = tmp_path / "ddp"
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2",
           "-m", "eels_core.cli", "train", "--preset", "cpu-ci", "--steps", "4", "--out", str(out),
           "--threads", "1", "--quiet"]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=600, env=env)
    assert proc.returncode == 0, proc.stderr[-3000:]
    log = (out / "train.log").read_text()
    assert "world 2" in log
    state = torch.load(out / "checkpoint.pt", weights_only=True)
    assert state["step"] == 4


def test_rehearsal_batches_come_from_the_other_physics_on_odd_steps():
    from eels_core.forward.config import SynthesisConfig
    from eels_core.forward.synthesis import synthesize

    cfg = dataclasses.replace(preset("cpu-joint-acquired"), batch_size=64, acquisition=AcquisitionConfig(),
                              full_window_fraction=1.0)
    odd, even = stream_batch(cfg, 1), stream_batch(cfg, 2)
    paper = synthesize(64, seed=cfg.data_seed + 1, config=SynthesisConfig(), start=64)
    real = synthesize(64, seed=cfg.data_seed, config=cfg.synthesis, start=128)
    torch.testing.assert_close(odd.inputs, training.make_batch(paper.spectra, paper.labels, paper.edge_onset_ev, None).inputs)
    torch.testing.assert_close(even.inputs, training.make_batch(real.spectra, real.labels, real.edge_onset_ev, None).inputs)
    assert preset("cpu-long").rehearsal_synthesis is None


def test_rehearsal_every_sets_how_often_the_other_physics_comes():
    from eels_core.forward.config import SynthesisConfig
    from eels_core.forward.synthesis import synthesize

    cfg = dataclasses.replace(preset("cpu-joint-acquired"), batch_size=16, acquisition=AcquisitionConfig(),
                              full_window_fraction=1.0, rehearsal_every=4)

    def from_stream(step, seed, config):
        b = synthesize(16, seed=seed, config=config, start=16 * step)
        return training.make_batch(b.spectra, b.labels, b.edge_onset_ev, None).inputs

    for step in range(8):
        rehearsal = step in (3, 7)
        expected = (from_stream(step, cfg.data_seed + 1, SynthesisConfig()) if rehearsal
                    else from_stream(step, cfg.data_seed, cfg.synthesis))
        torch.testing.assert_close(stream_batch(cfg, step).inputs, expected)
    for bad in (1, 0, 2.5):
        with pytest.raises(ValueError, match="rehearsal_every"):
            dataclasses.replace(cfg, rehearsal_every=bad)


def test_rehearsal_batches_can_skip_the_augmentations():
    augment = AcquisitionConfig(coarse_dispersion_probability=1.0, pedestal_probability=1.0)
    cfg = dataclasses.replace(preset("cpu-joint-acquired"), batch_size=32, acquisition=augment, augment_rehearsal=True)
    clean = dataclasses.replace(cfg, acquisition=AcquisitionConfig())
    skip = dataclasses.replace(cfg, augment_rehearsal=False)
    assert preset("cpu-joint-acquired").augment_rehearsal is False
    # odd step = rehearsal: augmented by default, clean with augment_rehearsal=False
    assert not torch.equal(stream_batch(cfg, 3).inputs, stream_batch(clean, 3).inputs)
    assert torch.equal(stream_batch(skip, 3).inputs, stream_batch(clean, 3).inputs)
    # even step = the new physics: augmented either way
    assert torch.equal(stream_batch(skip, 4).inputs, stream_batch(cfg, 4).inputs)
    assert not torch.equal(stream_batch(skip, 4).inputs, stream_batch(clean, 4).inputs)


def test_validation_ignores_detections_at_a_window_border():
    data = validation_data(dataclasses.replace(TINY, n_validation=64), windowed=True)

    class Constant(torch.nn.Module):  # says "yes" to every edge
        def forward(self, x):
            return torch.full((x.shape[0], 20), 5.0)

    model = Constant()
    model.weight = torch.nn.Parameter(torch.zeros(1))
    report = training.validate(model, data, torch.device("cpu"))
    truth = data.targets.numpy() > 0
    yes = np.ones_like(truth)
    counted = data.loss_mask.numpy() > 0
    assert (~counted).any()  # the windows do cut edges
    expected = evaluate(truth, yes & counted).as_dict()
    assert report["precision"] == pytest.approx(expected["precision"])
    assert report["exact_accuracy"] == pytest.approx(expected["exact_accuracy"])
    assert report["precision"] > evaluate(truth, yes).precision


def test_cli_seed_overrides_reach_the_recorded_config(tmp_path):
    out = tmp_path / "seeded"
    cmd = [sys.executable, "-m", "eels_core.cli", "train", "--preset", "cpu-ci", "--steps", "2", "--batch-size", "8",
           "--seed", "3", "--data-seed", "0", "--out", str(out), "--threads", "1", "--quiet"]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=600, env={**os.environ, "OMP_NUM_THREADS": "1"})
    assert proc.returncode == 0, proc.stderr[-3000:]
    recorded = json.loads(torch.load(out / "checkpoint.pt", weights_only=True)["training_config"])
    assert (recorded["seed"], recorded["data_seed"]) == (3, 0)  # 0 is an override too, not "unset"
    assert preset("cpu-ci", steps=2, batch_size=8, seed=3, data_seed=0).same_as(json.dumps(recorded))
    assert not preset("cpu-ci", steps=2, batch_size=8, data_seed=0).same_as(json.dumps(recorded))


def test_cli_init_from_override_starts_from_the_given_weights(tmp_path):
    base = [sys.executable, "-m", "eels_core.cli", "train", "--preset", "cpu-ci", "--steps", "1", "--batch-size", "8",
            "--threads", "1", "--quiet"]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    first = tmp_path / "first"
    assert subprocess.run(base + ["--out", str(first)], capture_output=True, timeout=600, env=env).returncode == 0
    second = tmp_path / "second"
    proc = subprocess.run(base + ["--out", str(second), "--init-from", str(first / "checkpoint.pt")],
                          capture_output=True, text=True, timeout=600, env=env)
    assert proc.returncode == 0, proc.stderr[-3000:]
    recorded = json.loads(torch.load(second / "checkpoint.pt", weights_only=True)["training_config"])
    assert recorded["init_from"] == str(first / "checkpoint.pt")
    missing = subprocess.run(base + ["--out", str(tmp_path / "third"), "--init-from", str(tmp_path / "none.pt")],
                             capture_output=True, text=True, timeout=600, env=env)
    assert missing.returncode != 0 and "--init-from" in missing.stderr and "no such file" in missing.stderr


def test_windows_can_start_just_below_an_onset_and_be_20_ev_wide():
    from eels_core.forward.edges import reference_onsets_ev
    from eels_core.learning.preprocessing import NARROWEST_TRAINING_WINDOW_EV, sample_windows

    rng_a, rng_b = np.random.default_rng(7), np.random.default_rng(7)
    onsets = np.full((4000, 20), np.nan)
    onsets[:, 11] = 708.0  # every spectrum holds one edge at 708 eV
    plain = sample_windows(np.random.default_rng(7), 4000, 0.2, 20.0)
    same = sample_windows(rng_a, 4000, 0.2, 20.0, onsets, 0.0)
    np.testing.assert_array_equal(plain, same)  # off: the windows as before
    w = sample_windows(rng_b, 4000, 0.2, 20.0, onsets, 0.5)
    width = w[:, 1] - w[:, 0]
    assert width.min() >= NARROWEST_TRAINING_WINDOW_EV - 1e-9 and width.min() < 25.0
    assert w[:, 0].min() >= 90.0 and w[:, 1].max() <= 1000.0
    below = lambda x: (x - w[:, 0] >= 0.0) & (x - w[:, 0] <= 10.0)  # noqa: E731
    # about a fifth start 0-10 eV below the spectrum's own onset (0.8 x 0.5 x 0.5), far more than by chance
    assert 0.15 < below(708.0).mean() < 0.3
    assert below(708.0).mean() > 10 * below(708.0)[np.all(plain == w, axis=1)].mean() - 1e-9
    # and the others below the 20 reference onsets, present or not (Sc L2,3 without Sc)
    assert below(float(reference_onsets_ev()[6])).mean() > 0.005
    with pytest.raises(ValueError, match="onsets_ev"):
        sample_windows(np.random.default_rng(0), 10, 0.2, 35.0, None, 0.5)
    with pytest.raises(ValueError, match="min_width_ev"):
        sample_windows(np.random.default_rng(0), 10, 0.2, 15.0)


def test_narrow_windows_shrink_the_upper_margin_and_agree_with_the_rule_from_35_ev():
    from eels_core.learning.preprocessing import ONSET_MARGIN_HIGH_EV, ONSET_MARGIN_LOW_EV, edges_in_window

    onsets = np.array([[708.0, np.nan], [708.0, 721.0], [708.0, 721.0], [708.0, np.nan], [708.0, np.nan]])
    windows = np.array([[700.0, 720.0], [700.0, 725.0], [690.0, 760.0], [704.0, 724.0], [700.0, 735.0]])
    got = edges_in_window(onsets, windows)
    assert got[0, 0] and got[1, 0] and not got[1, 1]  # 20-25 eV windows around Fe L3: Fe counts
    assert not got[3, 0]  # but not 4 eV after the window start
    with np.errstate(invalid="ignore"):  # from 35 eV: start + 5 <= onset <= stop - 20
        wide = (onsets[2:] >= windows[2:, :1] + ONSET_MARGIN_LOW_EV) & (onsets[2:] <= windows[2:, 1:] - ONSET_MARGIN_HIGH_EV)
    np.testing.assert_array_equal(got[2:], wide)
    np.testing.assert_array_equal(got[4], edges_in_window(onsets[4:], windows[4:])[0])
    cfg = dataclasses.replace(TINY, min_window_ev=20.0, onset_window_fraction=0.5, full_window_fraction=0.0,
                              batch_size=128)
    batch = stream_batch(cfg, 0)
    coverage = batch.inputs[:, 2].sum(1) * 0.2
    assert coverage.min() < 30
    assert torch.equal(stream_batch(cfg, 0).inputs, batch.inputs)
    with pytest.raises(ValueError, match="min_window_ev"):
        dataclasses.replace(TINY, min_window_ev=10.0)
    with pytest.raises(ValueError, match="onset_window_fraction"):
        dataclasses.replace(TINY, onset_window_fraction=1.5)
