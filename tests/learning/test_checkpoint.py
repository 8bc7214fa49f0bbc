"""Safe weights (eels_core.learning.checkpoint): crafted pickles, bad sidecars and NaN weights are refused,
each with one message naming the file and the fix."""

from __future__ import annotations

import builtins
import json
from pathlib import Path

import pytest
import torch

from eels_core.learning.checkpoint import (
    DEFAULT_WEIGHTS,
    CheckpointError,
    load_checkpoint,
    load_model,
    read_checkpoint_file,
    read_sidecar,
    sha256_of,
)
from eels_core.forward.axis import N_CHANNELS
from eels_core.real.cli import main
from eels_core.real.real_spectra import SHIPPED_REAL_SPECTRA_DIR

SPECTRUM = SHIPPED_REAL_SPECTRA_DIR / "files" / "joverbee_pyEELSMODEL__hl.msa"


@pytest.fixture(scope="module")
def shipped_state():
    return torch.load(DEFAULT_WEIGHTS, map_location="cpu", weights_only=True)


def _write(tmp: Path, state: dict, name: str = "w.pt", sidecar: dict | None | bool = True) -> Path:
    path = tmp / name
    torch.save(state, path)
    if sidecar is True:
        sidecar = {"sha256": sha256_of(path), "format": state["format"], "format_version": state["format_version"],
                   "network_config": state["network_config"], "step": state["step"]}
    if isinstance(sidecar, dict):
        path.with_suffix(".json").write_text(json.dumps(sidecar))
    return path


class _RunsCode:
    """Unpickling this calls open(marker, 'w'), i.e. creates the marker file."""

    def __init__(self, marker: Path) -> None:
        self.marker = str(marker)

    def __reduce__(self):
        return (builtins.open, (self.marker, "w"))


@pytest.mark.parametrize("with_sidecar", [False, True], ids=["no-sidecar", "matching-sidecar"])
def test_a_pickle_that_would_run_code_is_refused_without_running_it(tmp_path, shipped_state, with_sidecar, capsys):
    marker = tmp_path / "marker"
    state = dict(shipped_state)
    state["payload"] = _RunsCode(marker)
    path = _write(tmp_path, state, sidecar=with_sidecar)
    for load in (read_checkpoint_file, load_checkpoint, load_model):
        with pytest.raises(CheckpointError, match="not a readable PyTorch checkpoint") as info:
            load(path)
        assert str(path) in str(info.value) and "export_weights" in str(info.value)
        assert not marker.exists()
    # and from the command line: one line, exit 2, nothing run
    assert main(["predict", str(SPECTRUM), "--weights", str(path)]) == 2
    assert not marker.exists()
    assert "not a readable PyTorch checkpoint" in capsys.readouterr().err


def test_the_shipped_weights_and_their_sidecar_pass(shipped_state):
    meta = read_sidecar(DEFAULT_WEIGHTS)
    assert meta is not None and meta["sha256"] == sha256_of(DEFAULT_WEIGHTS)
    assert load_checkpoint()["step"] == shipped_state["step"]


@pytest.mark.parametrize("bad", ["nan", "inf"])
@pytest.mark.parametrize("with_sidecar", [False, True], ids=["no-sidecar", "sidecar"])
def test_non_finite_weights_are_refused(tmp_path, shipped_state, bad, with_sidecar):
    state = dict(shipped_state)
    sd = {k: v.clone() for k, v in state["state_dict"].items()}
    name = next(k for k, v in sd.items() if v.is_floating_point() and v.numel() > 10)
    sd[name].view(-1)[3] = float(bad)
    state["state_dict"] = sd
    path = _write(tmp_path, state, sidecar=with_sidecar)
    with pytest.raises(CheckpointError, match="NaN or infinite") as info:
        load_model(path)
    assert str(path) in str(info.value) and "retrain" in str(info.value)


SIDECAR_CASES = {
    "not-json": "{sha256: nope",
    "a-list": [1, 2, 3],
    "step-as-string": {"step": "18000"},
    "version-as-bool": {"format_version": True},
    "missing-sha256": {"sha256": None},
    "sha256-not-hex": {"sha256": "zz" * 32},
    "config-as-list": {"network_config": [4, 20]},
    "history-as-string": {"history": "[]"},
    "other-network": {"network_config": {"n_inputs": 4, "lstm_hidden": 7}},
    "other-format-version": {"format_version": 99},
}


@pytest.mark.parametrize("case", list(SIDECAR_CASES), ids=list(SIDECAR_CASES))
def test_a_bad_sidecar_is_refused_naming_the_file_and_the_fix(tmp_path, shipped_state, case):
    path = _write(tmp_path, shipped_state)
    meta = path.with_suffix(".json")
    good = json.loads(meta.read_text())
    change = SIDECAR_CASES[case]
    if isinstance(change, str):
        meta.write_text(change)
    elif isinstance(change, list):
        meta.write_text(json.dumps(change))
    else:
        data = {**good, **change}
        data = {k: v for k, v in data.items() if v is not None}
        meta.write_text(json.dumps(data))
    with pytest.raises(CheckpointError) as info:
        load_model(path)
    message = str(info.value)
    assert str(meta) in message and "export_weights" in message, message
    # verify_sha256=False still checks the schema: a sidecar is either valid or refused
    with pytest.raises(CheckpointError):
        load_checkpoint(path, verify_sha256=False)


def test_a_directory_missing_state_dict_and_cli_refusals(tmp_path, shipped_state, capsys):
    with pytest.raises(CheckpointError, match="directory"):
        load_model(tmp_path)
    state = {k: v for k, v in shipped_state.items() if k != "state_dict"}
    path = _write(tmp_path, state, sidecar=False)
    with pytest.raises(CheckpointError, match="state dict"):
        load_model(path)
    path = _write(tmp_path, shipped_state, name="v.pt")
    path.with_suffix(".json").write_text("[]")
    assert main(["predict", str(SPECTRUM), "--weights", str(path)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("eels-edges: error: ") and "v.json" in err[0]


def test_the_window_a_model_accepts_follows_its_training_windows(tmp_path, shipped_state):
    from eels_core.learning.checkpoint import save_checkpoint
    from eels_core.learning.preprocessing import narrowest_window_ev

    shipped_training = json.loads(shipped_state["training_config"])
    assert load_model().narrowest_window_ev == narrowest_window_ev(shipped_training.get("min_window_ev"))
    assert narrowest_window_ev(None) == 35.0 and narrowest_window_ev(60.0) == 35.0
    assert narrowest_window_ev(25.0) == 25.0 and narrowest_window_ev(10.0) == 20.0
    state = dict(shipped_state)
    training = json.loads(state["training_config"])
    for trained_on, accepted in ((20.0, 20.0), (60.0, 35.0)):
        training["min_window_ev"] = trained_on
        state["training_config"] = json.dumps(training)
        path = tmp_path / f"windows-{trained_on:g}.pt"
        save_checkpoint(path, state)
        assert load_model(path).narrowest_window_ev == accepted


def test_averaged_weights_are_the_mean_of_the_checkpoints(tmp_path, shipped_state):
    from eels_core.learning.checkpoint import average_checkpoints, save_checkpoint

    other = dict(shipped_state)
    torch.manual_seed(0)
    other["state_dict"] = {k: v + torch.randn_like(v) if v.is_floating_point() else v + 7
                           for k, v in shipped_state["state_dict"].items()}
    a, b = _write(tmp_path, shipped_state, "a.pt", sidecar=False), _write(tmp_path, other, "b.pt", sidecar=False)
    averaged = average_checkpoints([a, b])
    for name, tensor in shipped_state["state_dict"].items():
        if tensor.is_floating_point():
            torch.testing.assert_close(averaged["state_dict"][name], (tensor + other["state_dict"][name]) / 2)
        else:  # integer counters (batches seen by a batch normalisation) are the first checkpoint's
            assert torch.equal(averaged["state_dict"][name], tensor)
    assert [d["sha256"] for d in averaged["averaged_from"]] == [sha256_of(a), sha256_of(b)]
    assert "optimizer" not in averaged and averaged["network_config"] == shipped_state["network_config"]
    # the average of one checkpoint with itself is that checkpoint, and it loads as a model
    path = tmp_path / "same.pt"
    save_checkpoint(path, average_checkpoints([a, a]))
    model = load_model(path)
    for name, tensor in model.state_dict().items():
        assert torch.equal(tensor, shipped_state["state_dict"][name])
    with pytest.raises(ValueError, match="at least two"):
        average_checkpoints([a])
    wider = dict(shipped_state, network_config=dict(shipped_state["network_config"], lstm_hidden=7))
    with pytest.raises(ValueError, match="network_config"):
        average_checkpoints([a, _write(tmp_path, wider, "c.pt", sidecar=False)])


def test_a_shifted_output_bias_names_what_per_edge_thresholds_name(tmp_path, shipped_state):
    from eels_core.learning.checkpoint import save_checkpoint, shift_output_bias

    thresholds = torch.linspace(0.2, 0.8, len(shipped_state["labels"]))
    shifted = shift_output_bias(shipped_state, thresholds)
    assert shifted["edge_thresholds"] == dict(zip(shipped_state["labels"], thresholds.double().tolist()))
    assert "optimizer" not in shifted
    path = tmp_path / "shifted.pt"
    save_checkpoint(path, shifted)
    original, moved = load_model(), load_model(path)
    torch.manual_seed(3)
    x = torch.randn(48, 4, N_CHANNELS)
    with torch.no_grad():
        p_original, p_moved = original.predict_proba(x), moved.predict_proba(x)
    near = (p_original - thresholds).abs() < 1e-5  # float rounding may decide a tie either way
    assert torch.equal((p_original >= thresholds)[~near], (p_moved >= 0.5)[~near])
    assert not torch.allclose(p_original, p_moved)  # the probabilities themselves move
    # every other tensor is untouched
    last = [k for k in shipped_state["state_dict"] if k.startswith("head.")][-1]
    for name, tensor in shipped_state["state_dict"].items():
        assert torch.equal(shifted["state_dict"][name], tensor) == (name != last)
    with pytest.raises(ValueError, match="one per edge"):
        shift_output_bias(shipped_state, [0.5] * 3)
    with pytest.raises(ValueError, match="between 0 and 1"):
        shift_output_bias(shipped_state, [0.5] * (len(thresholds) - 1) + [1.0])
    with pytest.raises(ValueError, match="already shifted"):
        shift_output_bias(shifted, thresholds)
