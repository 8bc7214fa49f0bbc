"""Shipped network weights: export a trained checkpoint, and load it with every check.

The trained model lives in ``eels_core/weights/`` as two files:

* ``cnn_bilstm.pt``: the checkpoint (format name and version, network config, label order,
  preprocessing version, training config, state dict; no optimiser state);
* ``cnn_bilstm.json``: its metadata: sha256 of the ``.pt``, data seed, training curve, metrics.

:func:`load_model` refuses, with a message saying what to do, a file whose sha256 does not match
its metadata (tampered or truncated), another format or version, another label order or
preprocessing, or a state dict that does not fit the network config.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

import torch

from ..forward.config import ELEMENTS
from .network import CNNBiLSTM, NetworkConfig

CHECKPOINT_FORMAT = "eels-edge-book CNN-BiLSTM checkpoint"
CHECKPOINT_VERSION = 1
PREPROCESSING_VERSION = 1

WEIGHTS_DIR = Path(__file__).resolve().parents[1] / "weights"
DEFAULT_WEIGHTS = WEIGHTS_DIR / "cnn_bilstm.pt"


class CheckpointError(ValueError):
    """A checkpoint that cannot be used, with the reason and the fix."""


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
    except Exception as exc:  # noqa: BLE001 - any unpickling failure means 'not a checkpoint'
        raise CheckpointError(
            f"{path} is not a readable PyTorch checkpoint of tensors and plain values "
            f"({type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}); "
            "use weights written by eels-core train or scripts/ship_model.py"
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
    meta = metadata_path(p)
    if verify_sha256 and meta.exists():
        want = json.loads(meta.read_text()).get("sha256")
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
    return state


def load_model(path: str | os.PathLike[str] | None = None, verify_sha256: bool = True) -> CNNBiLSTM:
    """The trained CNN-BiLSTM in eval mode (default: the shipped weights)."""
    state = load_checkpoint(path, verify_sha256)
    try:
        model = CNNBiLSTM(NetworkConfig(**state["network_config"]))
        model.load_state_dict(state["state_dict"], strict=True)
    except (RuntimeError, TypeError, ValueError) as exc:
        raise CheckpointError(
            f"{path or DEFAULT_WEIGHTS}: the weights do not fit the network config stored with them ({exc})"
        ) from None
    model.eval()
    return model
