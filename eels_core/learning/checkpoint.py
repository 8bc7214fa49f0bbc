"""Shipped network weights: export a trained checkpoint, and load it with every check.

The trained model lives in ``eels_core/weights/`` as two files:

* ``cnn_bilstm.pt``: the checkpoint (format name and version, network config, label order,
  preprocessing version, training config, state dict; no optimiser state);
* ``cnn_bilstm.json``: its metadata: sha256 of the ``.pt``, data seed, training curve, metrics.

Loading is safe against crafted files: the checkpoint is unpickled with ``torch.load(...,
weights_only=True)``, which builds tensors, numbers, strings and containers only and refuses any
other object, so a file cannot run code (a pickle whose ``__reduce__`` calls a function is
refused before the call). Whoever supplies a weights file also supplies its sidecar, so the
sha256 there detects damage, not malice.

:func:`load_model` refuses, with one message that names the file and says what to do, a sidecar
that is not valid JSON or not of the schema :data:`SIDECAR_SCHEMA` (required keys and their
types), a file whose sha256 does not match its sidecar (modified or truncated), a sidecar that
describes another format or network than the checkpoint, another format or version, another label
order or preprocessing, a state dict that does not fit the network config, and NaN or infinite
weights.
"""

from __future__ import annotations

import hashlib
import json
import os
import pickle
import re
from pathlib import Path
from typing import Any

import torch

from ..forward.config import ELEMENTS
from .network import CNNBiLSTM, NetworkConfig
from .preprocessing import narrowest_window_ev

CHECKPOINT_FORMAT = "eels-edge-book CNN-BiLSTM checkpoint"
CHECKPOINT_VERSION = 1
PREPROCESSING_VERSION = 1

WEIGHTS_DIR = Path(__file__).resolve().parents[1] / "weights"
DEFAULT_WEIGHTS = WEIGHTS_DIR / "cnn_bilstm.pt"


class CheckpointError(ValueError):
    """A checkpoint that cannot be used, with the reason and the fix."""


#: The JSON sidecar of a weights file: required keys and their types ...
SIDECAR_REQUIRED: dict[str, type | tuple[type, ...]] = {
    "sha256": str,
    "format": str,
    "format_version": int,
    "network_config": dict,
    "step": int,
}
#: ... and optional keys, checked when present (other keys are free-form metadata).
SIDECAR_OPTIONAL: dict[str, type | tuple[type, ...]] = {
    "training_config": dict,
    "history": list,
    "metrics": dict,
    "phases": list,
    "description": str,
    "machine": str,
    "wall_time_s": (int, float),
    "training_physics": list,
    "selection": dict,
    "recipe": str,
}
SIDECAR_SCHEMA = {"required": SIDECAR_REQUIRED, "optional": SIDECAR_OPTIONAL}
_SIDECAR_FIX = (
    "restore it together with the weights file it belongs to, or write both again with "
    "eels_core.learning.checkpoint.export_weights"
)


def _type_name(t: type | tuple[type, ...]) -> str:
    names = {str: "a string", int: "an integer", float: "a number", dict: "an object", list: "a list"}
    ts = t if isinstance(t, tuple) else (t,)
    return " or ".join(names.get(x, x.__name__) for x in ts)


def read_sidecar(weights: str | os.PathLike[str]) -> dict[str, Any] | None:
    """The validated JSON sidecar of a weights file; None when there is none.

    Raises
    ------
    CheckpointError
        Unreadable, not JSON, not an object, a required key missing, or a key of the wrong type
        (:data:`SIDECAR_SCHEMA`); the message names the file and the fix.
    """
    meta = metadata_path(Path(weights))
    if not meta.exists():
        return None
    try:
        data = json.loads(meta.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
        detail = " ".join(str(exc).split())[:120]
        raise CheckpointError(f"{meta}: the weights' sidecar is not readable JSON ({type(exc).__name__}: {detail}); "
                              f"{_SIDECAR_FIX}") from None
    if not isinstance(data, dict):
        raise CheckpointError(f"{meta}: the weights' sidecar holds a JSON {type(data).__name__}, not an object; {_SIDECAR_FIX}")
    problems = [f"'{k}' is missing" for k in SIDECAR_REQUIRED if k not in data]
    for key, want in {**SIDECAR_REQUIRED, **SIDECAR_OPTIONAL}.items():
        if key in data and (not isinstance(data[key], want) or isinstance(data[key], bool)):
            problems.append(f"'{key}' is {type(data[key]).__name__} {json.dumps(data[key])[:40]}, not {_type_name(want)}")
    sha = data.get("sha256")
    if isinstance(sha, str) and not re.fullmatch(r"[0-9a-f]{64}", sha):
        problems.append("'sha256' is not 64 lower-case hex digits")
    if problems:
        raise CheckpointError(f"{meta}: the weights' sidecar does not match its schema ({'; '.join(problems)}); {_SIDECAR_FIX}")
    return data


def _check_finite(path: Path, state_dict: dict[str, Any]) -> None:
    """Refuse NaN or infinite weights (a diverged training or a damaged file)."""
    bad = {}
    for name, value in state_dict.items():
        if isinstance(value, torch.Tensor) and value.is_floating_point():
            n = int((~torch.isfinite(value)).sum())
            if n:
                bad[name] = n
    if bad:
        first = next(iter(bad))
        raise CheckpointError(
            f"{path}: {sum(bad.values())} weights are NaN or infinite ({len(bad)} tensors, e.g. {first}): the training "
            "diverged or the file is damaged; use an earlier checkpoint or retrain"
        )


def sha256_of(path: str | os.PathLike[str]) -> str:
    """Hex sha256 of a file."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def read_checkpoint_file(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Unpickle a checkpoint with ``weights_only=True``: tensors, numbers, strings and containers only.

    A crafted file cannot run code here. Raises :class:`CheckpointError` naming the file when it is
    not such a payload.
    """
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as exc:  # weights_only refused an object: never loaded, never run
        found = re.search(r"GLOBAL ([\w.]+)", str(exc))
        what = f" ({found.group(1)})" if found else ""
        raise CheckpointError(
            f"{path} is not a readable PyTorch checkpoint of tensors and plain values: it holds other Python "
            f"objects{what}, refused because loading them could run code; use weights written by eels-core train "
            "or eels_core.learning.checkpoint.export_weights"
        ) from None
    except Exception as exc:  # noqa: BLE001 - any other failure means 'not a checkpoint'
        detail = re.sub(r"\x1b\[[0-9;]*m", "", " ".join(str(exc).split()))[:100]
        raise CheckpointError(
            f"{path} is not a readable PyTorch checkpoint of tensors and plain values "
            f"({type(exc).__name__}: {detail}); use weights written by eels-core train or "
            "eels_core.learning.checkpoint.export_weights"
        ) from None
    if not isinstance(state, dict):
        raise CheckpointError(f"{path} holds a {type(state).__name__}, not a checkpoint dict")
    return state


def save_checkpoint(path: Path, payload: dict[str, Any]) -> str:
    """Write a checkpoint atomically; returns its sha256."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    torch.save(payload, tmp)
    os.replace(tmp, path)
    return sha256_of(path)


def average_checkpoints(paths: list[str | os.PathLike[str]]) -> dict[str, Any]:
    """The average of the weights of several checkpoints of one network (a "weight average").

    Parameters
    ----------
    paths : list of path
        Two or more checkpoints of the same format, network config, labels and preprocessing, e.g.
        the seeds of one recipe that fine-tunes the same weights.

    Returns
    -------
    dict
        A checkpoint payload (for :func:`save_checkpoint`): the first checkpoint's fields without its
        optimiser and random-number state, its state dict replaced by the mean of every floating-point
        tensor (parameters and the batch normalisations' running statistics; integer counters are
        the first checkpoint's), and ``averaged_from``: the path and sha256 of each checkpoint.

    Raises
    ------
    ValueError
        Fewer than two paths, or checkpoints of different networks.
    """
    if len(paths) < 2:
        raise ValueError(f"average_checkpoints needs at least two checkpoints, got {len(paths)}")
    states = [read_checkpoint_file(p) for p in paths]
    first = states[0]
    for path, state in zip(paths[1:], states[1:]):
        for key in ("format", "format_version", "preprocessing_version", "labels", "network_config"):
            if state.get(key) != first.get(key):
                raise ValueError(f"{path}: its '{key}' differs from {paths[0]}'s; only one network's weights can be averaged")
        if set(state["state_dict"]) != set(first["state_dict"]):
            raise ValueError(f"{path}: its state dict has other tensors than {paths[0]}'s")
    averaged = {
        name: (torch.stack([s["state_dict"][name] for s in states]).mean(dim=0) if tensor.is_floating_point()
               else tensor.clone())
        for name, tensor in first["state_dict"].items()
    }
    out = {k: v for k, v in first.items() if k not in ("optimizer", "torch_rng_state", "state_dict")}
    out["state_dict"] = averaged
    out["averaged_from"] = [{"checkpoint": str(p), "sha256": sha256_of(p)} for p in paths]
    return out


def shift_output_bias(payload: dict[str, Any], thresholds: Any) -> dict[str, Any]:
    """A checkpoint whose probability reaches 0.5 where ``payload``'s reaches each edge's threshold.

    The bias of the network's last layer for edge c is lowered by logit(t_c): the logit z - logit(t_c)
    is at least 0 exactly where sigmoid(z) is at least t_c, so one pass at the usual threshold 0.5
    names the edges that per-edge thresholds t_c would name.

    Parameters
    ----------
    payload : dict
        A checkpoint payload (:func:`read_checkpoint_file`).
    thresholds : array_like, shape (n_outputs,)
        One threshold per edge, in label order, each between 0 and 1 (exclusive).

    Returns
    -------
    dict
        The payload without optimiser and random-number state, its output bias shifted, and
        ``edge_thresholds``: the thresholds by edge name.

    Raises
    ------
    ValueError
        Thresholds of another length or outside (0, 1), or a payload already shifted (its
        ``edge_thresholds`` would no longer describe it).
    """
    if "edge_thresholds" in payload:
        raise ValueError("this checkpoint's output bias is already shifted (it has edge_thresholds); shift the original")
    labels = list(payload["labels"])
    t = torch.as_tensor(thresholds, dtype=torch.float64).flatten()
    if t.numel() != len(labels):
        raise ValueError(f"{t.numel()} thresholds for {len(labels)} outputs ({', '.join(labels)}): give one per edge")
    if bool(((t <= 0) | (t >= 1)).any()):
        raise ValueError("every threshold must lie between 0 and 1 (exclusive)")
    key = max((k for k in payload["state_dict"] if re.fullmatch(r"head\.\d+\.bias", k)),
              key=lambda k: int(k.split(".")[1]))  # the output layer: the head's last
    state = {k: v.clone() for k, v in payload["state_dict"].items()}
    bias = state[key]
    state[key] = (bias.double() - torch.logit(t)).to(bias.dtype)
    out = {k: v for k, v in payload.items() if k not in ("optimizer", "torch_rng_state", "state_dict")}
    out["state_dict"] = state
    out["edge_thresholds"] = {name: float(v) for name, v in zip(labels, t.tolist())}
    return out


def metadata_path(weights: Path) -> Path:
    """The JSON sidecar of a weights file."""
    return weights.with_suffix(".json")


def export_weights(checkpoint: str | os.PathLike[str], out: str | os.PathLike[str], metadata: dict[str, Any]) -> Path:
    """Write shippable weights (no optimiser state) and their JSON metadata with the sha256.

    Parameters
    ----------
    checkpoint : path
        A training checkpoint (``train(..., out_dir)/checkpoint.pt``).
    out : path
        Weights file to write, e.g. ``eels_core/weights/cnn_bilstm.pt``.
    metadata : dict
        Extra JSON fields (metrics, timings, command line ...).
    """
    state = read_checkpoint_file(checkpoint)
    state.pop("optimizer", None)
    state.pop("torch_rng_state", None)
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".tmp")
    torch.save(state, tmp)
    os.replace(tmp, out)
    meta = {
        "sha256": sha256_of(out),
        "format": state["format"],
        "format_version": state["format_version"],
        "network_config": state["network_config"],
        "training_config": json.loads(state["training_config"]),
        "step": state["step"],
        "history": json.loads(state["history"]),
        **metadata,
    }
    metadata_path(out).write_text(json.dumps(meta, indent=1) + "\n")
    return out


def load_checkpoint(path: str | os.PathLike[str] | None = None, verify_sha256: bool = True) -> dict[str, Any]:
    """Read and check a checkpoint; returns its payload dict.

    Raises
    ------
    FileNotFoundError
        No such file.
    CheckpointError
        Checksum, format, version, labels or preprocessing do not match this eels_core.
    """
    p = Path(path) if path is not None else DEFAULT_WEIGHTS
    if not p.exists():
        raise FileNotFoundError(f"{p}: no such weights file; train one (chapter 07) or pass the right path")
    if not p.is_file():
        raise CheckpointError(f"{p} is a directory, not a weights file; pass the .pt file inside it")
    meta = metadata_path(p)
    sidecar = read_sidecar(p)
    if verify_sha256 and sidecar is not None:
        want = sidecar["sha256"]
        got = sha256_of(p)
        if want != got:
            raise CheckpointError(
                f"{p}: sha256 {got[:12]}... does not match {meta.name} ({str(want)[:12]}...): the file was "
                "modified or truncated; restore it from git or retrain"
            )
    state = read_checkpoint_file(p)
    if state.get("format") != CHECKPOINT_FORMAT:
        raise CheckpointError(f"{p} is not an eels-edge-book CNN-BiLSTM checkpoint")
    if state.get("format_version") != CHECKPOINT_VERSION:
        raise CheckpointError(
            f"{p} has checkpoint format version {state.get('format_version')}, this eels_core reads "
            f"{CHECKPOINT_VERSION}: retrain or use a matching eels_core"
        )
    if state.get("labels") != list(ELEMENTS):
        raise CheckpointError(f"{p} predicts other labels {state.get('labels')}; expected Table 1's {list(ELEMENTS)}")
    if state.get("preprocessing_version") != PREPROCESSING_VERSION:
        raise CheckpointError(
            f"{p} was trained with preprocessing version {state.get('preprocessing_version')}, this eels_core "
            f"uses {PREPROCESSING_VERSION}: retrain"
        )
    if not isinstance(state.get("network_config"), dict) or not isinstance(state.get("state_dict"), dict):
        raise CheckpointError(f"{p} lacks its network config or state dict; use weights written by export_weights")
    if sidecar is not None:
        for key in ("format", "format_version", "network_config"):
            if sidecar[key] != json.loads(json.dumps(state.get(key), default=str)):  # tuples as JSON lists
                raise CheckpointError(
                    f"{meta}: its '{key}' does not match the checkpoint {p.name} ({json.dumps(sidecar[key])[:60]} vs "
                    f"{json.dumps(state.get(key), default=str)[:60]}): the sidecar belongs to other weights; {_SIDECAR_FIX}"
                )
    _check_finite(p, state["state_dict"])
    return state


def load_model(path: str | os.PathLike[str] | None = None, verify_sha256: bool = True) -> CNNBiLSTM:
    """The trained CNN-BiLSTM in eval mode (default: the shipped weights).

    Its attribute ``narrowest_window_ev`` is the narrowest measured window the weights may be asked
    about (:func:`~eels_core.learning.preprocessing.narrowest_window_ev` of their training's
    ``min_window_ev``): 35 eV, or down to 20 eV for weights trained on such windows.
    """
    state = load_checkpoint(path, verify_sha256)
    try:
        model = CNNBiLSTM(NetworkConfig(**state["network_config"]))
        model.load_state_dict(state["state_dict"], strict=True)
    except (RuntimeError, TypeError, ValueError) as exc:
        raise CheckpointError(
            f"{path or DEFAULT_WEIGHTS}: the weights do not fit the network config stored with them ({exc})"
        ) from None
    model.eval()
    training = json.loads(state["training_config"]) if isinstance(state.get("training_config"), str) else {}
    # how narrow a measured window these weights may be asked about (predict_edges reads it)
    model.narrowest_window_ev = narrowest_window_ev(training.get("min_window_ev"))
    return model
