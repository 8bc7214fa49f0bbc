"""Training of the CNN-BiLSTM (paper: Table 3; "Network construction").

Paper settings kept (Table 3): initial learning rate 1e-3, gradient clipping at 1, shuffling every
epoch, validation every 50 iterations, 80/20 train/validation split. The paper does not name its
optimiser; we use Adam. Added: a cosine decay of the
learning rate, random measured windows (with a coverage mask) so the network works on real
spectra that do not span 90-1000 eV, checkpoints and resume, CUDA + bf16 autocast when present,
DDP under ``torchrun``.

Data: either generated on the fly (``data="stream"``: step k of rank r uses spectra
``(k * world + r) * batch ...`` of the synthesis stream, so no spectrum is seen twice) or read from a
database written by :func:`eels_core.forward.database.write_database` (``data="/path/db.h5"``; the
DataLoader reshuffles every epoch).

Named configurations (presets such as ``cpu-ci`` and the shipped ``cpu-joint-acquired``) are data:
:mod:`eels_core.learning.presets`.
"""

from __future__ import annotations

import copy
import dataclasses
import json
import math
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import numpy as np
import torch
import torch.distributed as dist
from torch import nn
from tqdm.auto import tqdm

from ..forward.acquisition import AcquisitionConfig, apply_acquisition
from ..forward.config import ELEMENTS, SynthesisConfig
from .checkpoint import (
    CHECKPOINT_FORMAT,
    CHECKPOINT_VERSION,
    PREPROCESSING_VERSION,
    read_checkpoint_file,
    save_checkpoint,
)
from .metrics import evaluate
from .network import CNNBiLSTM, NetworkConfig, count_parameters, fused_for_inference, inference_autocast
from .preprocessing import (
    NARROWEST_TRAINING_WINDOW_EV,
    TRAINING_MIN_WINDOW_EV,
    edges_in_window,
    preprocess_batch,
    sample_windows,
)
from ..forward.synthesis import synthesize

#: Global index where validation spectra start in every synthesis stream (far from training data).
VALIDATION_START = 2**40


@dataclass(frozen=True)
class TrainingConfig:
    """Everything that defines a training run (stored in the checkpoint).

    Parameters
    ----------
    steps : int
        Optimiser steps.
    batch_size : int
        Spectra per step (per process under DDP).
    learning_rate : float
        Initial learning rate (paper: 1e-3); cosine decay to ``learning_rate * final_lr_fraction``.
    gradient_clip : float
        Gradient-norm threshold (paper: 1).
    validate_every : int
        Steps between validations (paper: 50).
    n_validation : int
        Validation spectra (fixed, from the same stream far beyond the training indices).
    data : str
        ``"stream"`` or the path of a database index file.
    data_seed : int
        Seed of the synthesis stream.
    seed : int
        Seed of the network initialisation and of the windows.
    full_window_fraction : float
        Share of training spectra shown over the full 90-1000 eV range (others get a random
        window of >= ``min_window_ev``).
    min_window_ev : float
        Narrowest random training window, eV (default 60; the shipped model's fine-tuning phase
        uses 35, the narrowest window :func:`eels_core.real.predict.predict_edges` accepts; down to
        ``NARROWEST_TRAINING_WINDOW_EV`` = 20 for a model meant for narrower windows).
    onset_window_fraction : float
        Share of the random windows that start 0-10 eV below an edge onset (of an edge in the
        spectrum or any of the 20; :func:`~eels_core.learning.preprocessing.sample_windows`), so
        that a window border just below an onset is not taken for the edge. 0: off.
    rehearsal_synthesis : SynthesisConfig, optional
        When given, one training step in every ``rehearsal_every`` (the last of each group: the odd
        steps for 2) draws its spectra from this configuration instead of ``synthesis`` (from the
        stream of seed ``data_seed + 1``): a fine-tuning run on new physics keeps rehearsing what
        the first phase learned. Validation always uses ``synthesis``.
    rehearsal_every : int
        With ``rehearsal_synthesis``: one step in this many is a rehearsal step (2, the default:
        every other step; 4: one in four, so that three in four show the new physics). At least 2.
    acquisition : AcquisitionConfig
        Measurement augmentations applied to the training (and validation) spectra: coarser
        dispersion, constant pedestal (:mod:`eels_core.forward.acquisition`; off by default).
    augment_rehearsal : bool
        Whether the rehearsal batches get the measurement augmentations too (True, as in the
        second phase) or are the rehearsed physics as it is (False: the third phase keeps showing
        the network clean paper-physics spectra).
    checkpoint_every : int
        Steps between checkpoints (0: only at the end).
    init_from : str, optional
        Checkpoint or weights file whose network weights start the run (fine-tuning); the
        optimiser starts afresh.
    network : NetworkConfig
    synthesis : SynthesisConfig
    """

    steps: int = 300
    batch_size: int = 64
    learning_rate: float = 1e-3
    final_lr_fraction: float = 0.02
    gradient_clip: float = 1.0
    validate_every: int = 50
    n_validation: int = 1024
    data: str = "stream"
    data_seed: int = 0
    seed: int = 0
    full_window_fraction: float = 0.3
    checkpoint_every: int = 500
    init_from: str | None = None
    min_window_ev: float = TRAINING_MIN_WINDOW_EV
    onset_window_fraction: float = 0.0
    network: NetworkConfig = field(default_factory=NetworkConfig)
    synthesis: SynthesisConfig = field(default_factory=SynthesisConfig)
    rehearsal_synthesis: SynthesisConfig | None = None
    acquisition: AcquisitionConfig = field(default_factory=AcquisitionConfig)
    augment_rehearsal: bool = True
    rehearsal_every: int = 2

    def __post_init__(self) -> None:
        for name in ("steps", "batch_size", "validate_every", "n_validation"):
            v = getattr(self, name)
            if int(v) != v or v <= 0:
                raise ValueError(f"{name} = {v!r}: must be a positive integer")
        if not 0 < self.learning_rate < 1:
            raise ValueError(f"learning_rate = {self.learning_rate}: must be in (0, 1)")
        if not 0 <= self.final_lr_fraction <= 1:
            raise ValueError(f"final_lr_fraction = {self.final_lr_fraction}: must be in [0, 1]")
        if self.gradient_clip <= 0:
            raise ValueError(f"gradient_clip = {self.gradient_clip}: must be > 0")
        if not 0 <= self.full_window_fraction <= 1:
            raise ValueError(f"full_window_fraction = {self.full_window_fraction}: must be in [0, 1]")
        if not NARROWEST_TRAINING_WINDOW_EV <= self.min_window_ev <= 910:
            raise ValueError(f"min_window_ev = {self.min_window_ev}: must be in [{NARROWEST_TRAINING_WINDOW_EV:g}, 910] eV")
        if not 0 <= self.onset_window_fraction <= 1:
            raise ValueError(f"onset_window_fraction = {self.onset_window_fraction}: must be in [0, 1]")
        if int(self.rehearsal_every) != self.rehearsal_every or self.rehearsal_every < 2:
            raise ValueError(f"rehearsal_every = {self.rehearsal_every!r}: must be an integer of at least 2 (one rehearsal "
                             "step in that many; leave rehearsal_synthesis out for none)")
        if self.checkpoint_every < 0:
            raise ValueError(f"checkpoint_every = {self.checkpoint_every}: must be >= 0")

    def to_dict(self) -> dict[str, Any]:
        """JSON-able dict (nested configs included)."""
        d = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}
        d["network"] = self.network.to_dict()
        d["synthesis"] = self.synthesis.to_dict()
        d["rehearsal_synthesis"] = None if self.rehearsal_synthesis is None else self.rehearsal_synthesis.to_dict()
        d["acquisition"] = self.acquisition.to_dict()
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "TrainingConfig":
        """Inverse of :meth:`to_dict`."""
        d = dict(d)
        d["network"] = NetworkConfig(**d.get("network", {}))
        d["synthesis"] = SynthesisConfig.from_dict(d.get("synthesis", {}))
        rehearsal = d.get("rehearsal_synthesis")
        d["rehearsal_synthesis"] = None if rehearsal is None else SynthesisConfig.from_dict(rehearsal)
        d["acquisition"] = AcquisitionConfig(**d.get("acquisition", {}))
        return cls(**d)

    def same_as(self, recorded: str) -> bool:
        """Whether a checkpoint's recorded config (JSON) is this config; fields added since it was
        written count as their defaults."""
        try:
            return TrainingConfig.from_dict(json.loads(recorded)).to_dict() == self.to_dict()
        except (TypeError, ValueError):
            return False


@dataclass
class Batch:
    """Network inputs, targets and the mask of labels that count in the loss."""

    inputs: torch.Tensor  # (b, 4, 4551)
    targets: torch.Tensor  # (b, 20) edges present AND inside the window
    loss_mask: torch.Tensor  # (b, 20) 0 where an edge sits at the window border (ambiguous)


def make_batch(
    spectra: np.ndarray,
    labels: np.ndarray,
    onsets: np.ndarray,
    windows: np.ndarray | None,
) -> Batch:
    """Preprocess synthetic spectra for the network, with window-aware targets.

    An edge is a target when present and its onset lies in ``[start + 5, stop - 20]`` eV of the
    window. A present edge just outside that range (onset within 30 eV below the start, or in the
    last 20 eV) is partly visible and ambiguous: it is left out of the loss. In a window narrower
    than ``MIN_WINDOW_EV`` (35 eV) the upper margin shrinks with the width
    (:func:`~eels_core.learning.preprocessing.edges_in_window`).
    """
    if windows is None:
        windows = np.tile([[90.0, 1000.0]], (len(spectra), 1))
    inside = edges_in_window(onsets, windows) & (labels > 0)
    with np.errstate(invalid="ignore"):
        near = (labels > 0) & ~inside & (onsets >= windows[:, :1] - 30.0) & (onsets <= windows[:, 1:])
    return Batch(
        inputs=torch.from_numpy(preprocess_batch(spectra, windows)),
        targets=torch.from_numpy(inside.astype(np.float32)),
        loss_mask=torch.from_numpy((~near).astype(np.float32)),
    )


def _window_rng(seed: int, step: int, rank: int) -> np.random.Generator:
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence(entropy=seed, spawn_key=(step, rank, 7))))


def stream_batch(cfg: TrainingConfig, step: int, rank: int = 0, world: int = 1) -> Batch:
    """Training batch of one step from the synthesis stream (fresh spectra every step)."""
    start = (step * world + rank) * cfg.batch_size
    rehearsal = cfg.rehearsal_synthesis is not None and step % cfg.rehearsal_every == cfg.rehearsal_every - 1
    if rehearsal:
        b = synthesize(cfg.batch_size, seed=cfg.data_seed + 1, config=cfg.rehearsal_synthesis, start=start, keep_freed_memory=True)
    else:
        b = synthesize(cfg.batch_size, seed=cfg.data_seed, config=cfg.synthesis, start=start, keep_freed_memory=True)
    windows = sample_windows(_window_rng(cfg.seed, step, rank), cfg.batch_size, cfg.full_window_fraction, cfg.min_window_ev,
                             b.edge_onset_ev, cfg.onset_window_fraction)
    spectra = b.spectra
    if cfg.acquisition.enabled and (cfg.augment_rehearsal or not rehearsal):
        spectra = apply_acquisition(spectra, windows, _window_rng(cfg.seed, step, rank + 1_000_003), cfg.acquisition)
    return make_batch(spectra, b.labels, b.edge_onset_ev, windows)


def validation_data(cfg: TrainingConfig, windowed: bool = False) -> Batch:
    """The fixed validation set: full range, or with random windows (``windowed=True``)."""
    b = synthesize(cfg.n_validation, seed=cfg.data_seed, config=cfg.synthesis, start=VALIDATION_START)
    windows = sample_windows(_window_rng(cfg.seed + 1, 0, 0), cfg.n_validation, 0.0) if windowed else None
    spectra = b.spectra
    if cfg.acquisition.enabled:
        spectra = apply_acquisition(spectra, windows, _window_rng(cfg.seed + 1, 0, 1_000_003), cfg.acquisition)
    return make_batch(spectra, b.labels, b.edge_onset_ev, windows)


def database_validation_data(path: str, n: int) -> Batch:
    """The first ``n`` spectra of a database's validation split (the paper's 20 %), full range."""
    from .datasets import SpectrumDataset

    ds = SpectrumDataset(path, "validation")
    if len(ds) == 0:
        raise ValueError(f"{path} has no validation spectra (validation_fraction = 0)")
    items = [ds[i] for i in range(min(n, len(ds)))]
    x = torch.stack([a for a, _ in items]).numpy()
    y = torch.stack([b for _, b in items]).numpy()
    return make_batch(x, y, _onsets_unknown(y), None)


# ---------------------------------------------------------------------------- helpers
def choose_device(prefer: str | None = None) -> torch.device:
    """CUDA when available (or ``prefer``), else CPU."""
    if prefer:
        return torch.device(prefer)
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def masked_bce(logits: torch.Tensor, targets: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Binary cross-entropy over the labels that count."""
    loss = nn.functional.binary_cross_entropy_with_logits(logits, targets, reduction="none")
    return (loss * mask).sum() / mask.sum().clamp_min(1.0)


def base_rate_loss(targets: torch.Tensor, mask: torch.Tensor) -> float:
    """Loss of the best constant predictor (each label's frequency): what training must beat."""
    p = ((targets * mask).sum(0) / mask.sum(0).clamp_min(1)).clamp(1e-6, 1 - 1e-6)
    logits = torch.log(p / (1 - p)).expand_as(targets)
    return float(masked_bce(logits, targets, mask))


@torch.no_grad()
def predict_logits(
    model: nn.Module, inputs: torch.Tensor, device: torch.device, batch_size: int = 512, precision: str = "float32"
) -> torch.Tensor:
    """Logits of ``inputs`` in eval mode, batched (a CNNBiLSTM runs as its
    :func:`~eels_core.learning.network.fused_for_inference` copy; ``model`` itself is left as it was).
    ``precision``: see :func:`~eels_core.learning.network.inference_autocast`."""
    core = _bare(model)
    if isinstance(core, CNNBiLSTM):
        net = fused_for_inference(core)  # batch norms folded: the same logits, faster
    else:
        net = copy.deepcopy(core).eval()
    with torch.inference_mode(), inference_autocast(precision, device):
        out = [net(inputs[i : i + batch_size].to(device)).float().cpu() for i in range(0, len(inputs), batch_size)]
    return torch.cat(out)


def validate(model: nn.Module, data: Batch, device: torch.device, threshold: float = 0.5) -> dict[str, float]:
    """Validation loss and the paper's metrics at ``threshold``."""
    logits = predict_logits(model, data.inputs, device)
    loss = float(masked_bce(logits, data.targets, data.loss_mask))
    # an edge at the window border (loss mask 0) is neither rewarded nor penalised, as in chapter 08
    pred = ((torch.sigmoid(logits) >= threshold) & (data.loss_mask > 0)).numpy()
    report = evaluate(data.targets.numpy(), pred)
    return {"loss": loss, **{k: v for k, v in report.as_dict().items() if k != "n_spectra"}}


def _lr_at(cfg: TrainingConfig, step: int) -> float:
    warm = min(1.0, (step + 1) / max(1, min(100, cfg.steps // 10)))
    cos = 0.5 * (1 + math.cos(math.pi * min(step, cfg.steps) / cfg.steps))
    return cfg.learning_rate * warm * (cfg.final_lr_fraction + (1 - cfg.final_lr_fraction) * cos)


# ---------------------------------------------------------------------------- checkpoints
def _payload(
    model: nn.Module, cfg: TrainingConfig, step: int, history: list[dict], optimizer: torch.optim.Optimizer | None
) -> dict[str, Any]:
    core = _bare(model)
    payload: dict[str, Any] = {
        "format": CHECKPOINT_FORMAT,
        "format_version": CHECKPOINT_VERSION,
        "preprocessing_version": PREPROCESSING_VERSION,
        "labels": list(ELEMENTS),
        "network_config": core.config.to_dict(),
        "training_config": json.dumps(cfg.to_dict()),
        "step": step,
        "history": json.dumps(history),
        "state_dict": {k: v.detach().cpu() for k, v in core.state_dict().items()},
    }
    if optimizer is not None:
        payload["optimizer"] = optimizer.state_dict()
        payload["torch_rng_state"] = torch.get_rng_state()  # dropout draws continue after a resume
    return payload


# ---------------------------------------------------------------------------- training loop
@dataclass
class TrainingResult:
    """What :func:`train` returns."""

    model: CNNBiLSTM
    history: list[dict[str, float]]
    checkpoint: Path | None
    config: TrainingConfig
    seconds: float
    spectra_per_second: float
    base_rate_loss: float


def _bare(model: nn.Module) -> nn.Module:
    """The network inside a DistributedDataParallel wrapper (or the model itself)."""
    return model.module if isinstance(model, nn.parallel.DistributedDataParallel) else model


def _dist_info() -> tuple[int, int]:
    if dist.is_available() and dist.is_initialized():
        return dist.get_rank(), dist.get_world_size()
    return 0, 1


def train(
    cfg: TrainingConfig,
    out_dir: str | os.PathLike[str] | None = None,
    device: str | None = None,
    progress: bool = True,
    log: Callable[[str], None] | None = None,
    resume: bool = True,
) -> TrainingResult:
    """Train a CNN-BiLSTM; resumes from ``out_dir/checkpoint.pt`` if it exists.

    Under ``torchrun`` (``WORLD_SIZE > 1``) the process group is initialised here (NCCL on CUDA,
    gloo on CPU) and the model is wrapped in DistributedDataParallel; rank 0 validates, logs and
    writes checkpoints.
    """
    if int(os.environ.get("WORLD_SIZE", "1")) > 1 and not dist.is_initialized():
        dist.init_process_group("nccl" if torch.cuda.is_available() else "gloo")
    rank, world = _dist_info()
    dev = choose_device(device)
    if dev.type == "cuda" and world > 1:
        dev = torch.device("cuda", int(os.environ.get("LOCAL_RANK", "0")))
        torch.cuda.set_device(dev)
    torch.manual_seed(cfg.seed)
    model = CNNBiLSTM(cfg.network).to(dev)
    optimizer = torch.optim.Adam(model.parameters(), lr=cfg.learning_rate)
    out = Path(out_dir) if out_dir is not None else None
    ckpt = out / "checkpoint.pt" if out is not None else None
    step0, history = 0, []
    if cfg.init_from is not None and not (resume and ckpt is not None and ckpt.exists()):
        init = read_checkpoint_file(cfg.init_from)
        if init.get("format") != CHECKPOINT_FORMAT:
            raise ValueError(f"init_from {cfg.init_from} is not a CNN-BiLSTM checkpoint of this project")
        model.load_state_dict(init["state_dict"])
    if resume and ckpt is not None and ckpt.exists():
        state = read_checkpoint_file(ckpt)
        if not cfg.same_as(state.get("training_config", "")):
            raise ValueError(f"{ckpt} belongs to another training configuration: use another out_dir")
        model.load_state_dict(state["state_dict"])
        optimizer.load_state_dict(state["optimizer"])
        step0, history = int(state["step"]), json.loads(state["history"])
        torch.set_rng_state(state["torch_rng_state"])
    if world > 1:
        model = nn.parallel.DistributedDataParallel(model, device_ids=[dev.index] if dev.type == "cuda" else None)
    say = log or (lambda s: None)
    if rank != 0:
        val = None
    elif cfg.data == "stream":
        val = validation_data(cfg)
    else:
        val = database_validation_data(cfg.data, cfg.n_validation)
    base = base_rate_loss(val.targets, val.loss_mask) if val is not None else float("nan")
    if rank == 0 and step0 == 0:
        say(f"device {dev}, {count_parameters(model)} parameters, world {world}, base-rate loss {base:.4f}")

    loader_iter = None
    if cfg.data != "stream":
        from .datasets import SpectrumDataset

        dataset = SpectrumDataset(cfg.data, "train")
        sampler = (
            torch.utils.data.distributed.DistributedSampler(dataset, world, rank, seed=cfg.seed) if world > 1 else None
        )
        loader = torch.utils.data.DataLoader(
            dataset, batch_size=cfg.batch_size, shuffle=sampler is None, sampler=sampler, drop_last=True,
            num_workers=min(4, os.cpu_count() or 1), generator=torch.Generator().manual_seed(cfg.seed),
        )

        def db_batches() -> Any:
            epoch = 0
            while True:
                if sampler is not None:
                    sampler.set_epoch(epoch)
                for x, y in loader:  # shuffled anew every epoch (Table 3)
                    yield x, y
                epoch += 1

        loader_iter = db_batches()

    amp = dev.type == "cuda"
    t0, seen = time.perf_counter(), 0
    bar = tqdm(range(step0, cfg.steps), initial=step0, total=cfg.steps, disable=not progress or rank != 0, desc="training")
    model.train()
    for step in bar:
        if loader_iter is None:
            batch = stream_batch(cfg, step, rank, world)
        else:
            x, y = next(loader_iter)
            batch = make_batch(x.numpy(), y.numpy(), _onsets_unknown(y.numpy()), None)
        for g in optimizer.param_groups:
            g["lr"] = _lr_at(cfg, step)
        with torch.autocast(dev.type, dtype=torch.bfloat16, enabled=amp):
            logits = model(batch.inputs.to(dev, non_blocking=True))
        loss = masked_bce(logits.float(), batch.targets.to(dev), batch.loss_mask.to(dev))
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), cfg.gradient_clip)
        optimizer.step()
        seen += cfg.batch_size * world
        done = step + 1
        if rank == 0 and (done % cfg.validate_every == 0 or done == cfg.steps):
            # the bare module: a DDP forward would start collectives that the other ranks never join
            metrics = validate(_bare(model), val, dev)
            rec = {"step": done, "train_loss": float(loss.detach()), "lr": _lr_at(cfg, step),
                   "elapsed_s": round(time.perf_counter() - t0, 1), **metrics}
            history.append(rec)
            bar.set_postfix(loss=f"{float(loss.detach()):.3f}", val_f1=f"{metrics['f1']:.3f}")
            say(json.dumps(rec))
        if ckpt is not None and rank == 0 and cfg.checkpoint_every and done % cfg.checkpoint_every == 0:
            save_checkpoint(ckpt, _payload(model, cfg, done, history, optimizer))
    seconds = time.perf_counter() - t0
    if ckpt is not None and rank == 0:
        save_checkpoint(ckpt, _payload(model, cfg, cfg.steps, history, optimizer))
    if world > 1:
        dist.barrier()  # every rank leaves together, after rank 0 has validated and saved
    core = _bare(model)
    return TrainingResult(core, history, ckpt, cfg, seconds, seen / max(seconds, 1e-9), base)


def _onsets_unknown(labels: np.ndarray) -> np.ndarray:
    """Database batches are shown over the full range: every present edge is inside."""
    return np.where(labels > 0, 500.0, np.nan)
