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

import json
import os
from pathlib import Path
from typing import Any

import torch

from .config import ELEMENTS
from .network import CNNBiLSTM, NetworkConfig
from .training import CHECKPOINT_FORMAT, CHECKPOINT_VERSION, PREPROCESSING_VERSION, sha256_of

WEIGHTS_DIR = Path(__file__).resolve().parent / "weights"
DEFAULT_WEIGHTS = WEIGHTS_DIR / "cnn_bilstm.pt"


class CheckpointError(ValueError):
    """A checkpoint that cannot be used, with the reason and the fix."""


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
    state = torch.load(checkpoint, map_location="cpu", weights_only=False)
    state.pop("optimizer", None)
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
    try:
        state = torch.load(p, map_location="cpu", weights_only=False)
    except Exception as exc:  # noqa: BLE001 - any unpickling failure means 'not a checkpoint'
        raise CheckpointError(f"{p} is not a readable PyTorch checkpoint ({type(exc).__name__}: {exc})") from None
    if not isinstance(state, dict) or state.get("format") != CHECKPOINT_FORMAT:
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
