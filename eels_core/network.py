"""The CNN-BiLSTM of the paper's Fig. 5, in PyTorch.

Paper: convolutional layers with kernel 11, batch normalisation after each, ReLU / LeakyReLU(0.01)
activations, a bidirectional LSTM with 100 hidden units, dense layers with 20 % dropout and 20
sigmoid outputs, on a 4551-channel spectrum (90-1000 eV at 0.2 eV).

Deviations (each shown in the book's network chapter, with an ablation where it matters):

* **Sequence shortened before the LSTM.** Stride-2 convolutions shorten 4551 channels by
  ``2**n_conv`` (default 64: 72 steps of 12.8 eV). An LSTM over all 4551 steps trains at < 10
  spectra/s on two CPU cores.
* **Pooling over the BiLSTM outputs** (max and mean over the sequence) instead of using its final
  states, which biases a network towards edges at the two ends of the spectrum.
* **Four input channels** instead of one: the normalised log-intensity, its high-passed copy, a
  coverage mask for spectra that do not span 90-1000 eV, and the energy coordinate
  (see :mod:`eels_core.preprocessing`).
* The network returns *logits*; :meth:`CNNBiLSTM.predict_proba` applies the sigmoid. Training
  uses ``BCEWithLogitsLoss`` (the same model, numerically safer).
"""

from __future__ import annotations

import copy
from dataclasses import asdict, dataclass
from typing import Callable

import torch
from torch import nn

from .preprocessing import N_CHANNELS, N_INPUTS


@dataclass(frozen=True)
class NetworkConfig:
    """Hyper-parameters of :class:`CNNBiLSTM` (stored in every checkpoint)."""

    n_inputs: int = N_INPUTS
    n_outputs: int = 20
    conv_channels: tuple[int, ...] = (8, 16, 32, 48, 64, 64)
    kernel_size: int = 11
    lstm_hidden: int = 100
    use_lstm: bool = True
    dense_units: int = 128
    dropout: float = 0.2

    def __post_init__(self) -> None:
        object.__setattr__(self, "conv_channels", tuple(int(c) for c in self.conv_channels))
        if self.kernel_size % 2 == 0 or self.kernel_size < 1:
            raise ValueError(f"kernel_size = {self.kernel_size}: must be a positive odd integer")
        if not self.conv_channels or min(self.conv_channels) < 1:
            raise ValueError("conv_channels must list at least one positive channel count")
        if not 0 <= self.dropout < 1:
            raise ValueError(f"dropout = {self.dropout}: must be in [0, 1)")
        if self.lstm_hidden < 1 or self.dense_units < 1:
            raise ValueError("lstm_hidden and dense_units must be positive")

    def to_dict(self) -> dict:
        """Plain dict (for checkpoints)."""
        d = asdict(self)
        d["conv_channels"] = list(self.conv_channels)
        return d

    @property
    def sequence_length(self) -> int:
        """Length of the sequence the LSTM sees (4551 halved once per convolution)."""
        n = N_CHANNELS
        for _ in self.conv_channels:
            n = (n + 1) // 2
        return n


class CNNBiLSTM(nn.Module):
    """CNN-BiLSTM edge recogniser (paper Fig. 5, with the documented deviations).

    Input: (batch, 4, 4551) from :mod:`eels_core.preprocessing`. Output: (batch, 20) logits in
    Table 1 order.
    """

    def __init__(self, config: NetworkConfig | None = None) -> None:
        super().__init__()
        self.config = config or NetworkConfig()
        c = self.config
        layers: list[nn.Module] = []
        prev = c.n_inputs
        for i, ch in enumerate(c.conv_channels):
            layers += [
                nn.Conv1d(prev, ch, c.kernel_size, stride=2, padding=c.kernel_size // 2, bias=False),
                nn.BatchNorm1d(ch),
                nn.ReLU() if i % 2 == 0 else nn.LeakyReLU(0.01),
            ]
            prev = ch
        self.features = nn.Sequential(*layers)
        if c.use_lstm:
            self.lstm: nn.LSTM | None = nn.LSTM(prev, c.lstm_hidden, batch_first=True, bidirectional=True)
            pooled = 4 * c.lstm_hidden
        else:
            self.lstm = None
            pooled = 2 * prev
        self.head = nn.Sequential(
            nn.Linear(pooled, c.dense_units),
            nn.LeakyReLU(0.01),
            nn.Dropout(c.dropout),
            nn.Linear(c.dense_units, c.n_outputs),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Logits (batch, 20)."""
        h = self.features(x)  # (b, ch, L)
        if self.lstm is not None:
            h, _ = self.lstm(h.transpose(1, 2))  # (b, L, 2*hidden)
            pooled = torch.cat([h.amax(dim=1), h.mean(dim=1)], dim=1)
        else:
            pooled = torch.cat([h.amax(dim=2), h.mean(dim=2)], dim=1)
        return self.head(pooled)

    @torch.no_grad()
    def predict_proba(self, x: torch.Tensor) -> torch.Tensor:
        """Sigmoid probabilities (batch, 20), in eval mode (through :func:`fused_for_inference`)."""
        with torch.inference_mode():
            return torch.sigmoid(fused_for_inference(self)(x))


#: Arithmetic precisions of inference: ``float32`` (default, exact) or ``bfloat16`` (autocast).
PRECISIONS: tuple[str, ...] = ("float32", "bfloat16")


def inference_autocast(precision: str, device: torch.device | str = "cpu") -> torch.autocast:
    """Context manager for inference at ``precision`` on ``device``.

    ``"bfloat16"`` runs convolutions, the LSTM and the dense layers in bfloat16 through
    :class:`torch.autocast`; on CPUs with native bfloat16 instructions (AVX512-BF16, AMX) that
    halves inference time, elsewhere it can be slower. The shipped model's detections on 2,000
    synthetic validation spectra were the same at both precisions (chapter 06). ``"float32"``
    changes nothing.
    """
    if precision not in PRECISIONS:
        raise ValueError(f"precision = {precision!r}: choose one of {', '.join(PRECISIONS)}")
    dev = torch.device(device)
    return torch.autocast(dev.type, dtype=torch.bfloat16, enabled=precision == "bfloat16")


def fused_for_inference(model: CNNBiLSTM) -> CNNBiLSTM:
    """An eval-mode copy of ``model`` with each batch norm folded into the convolution before it.

    In eval mode a batch norm is a fixed per-channel affine map, so ``BN(conv(x))`` is one
    convolution with rescaled weights and a bias (:func:`torch.nn.utils.fusion.fuse_conv_bn_eval`);
    the activations then run in place. The logits equal the unfused model's to float rounding
    (``tests/test_network.py``), and inference is ~10 % faster on a CPU (``benchmarks/bench_network.py``).
    The original model is not changed; the copy is for inference only (no batch statistics).
    """
    from torch.nn.utils.fusion import fuse_conv_bn_eval

    fused = copy.deepcopy(model).eval()
    layers = list(fused.features)
    out: list[nn.Module] = []
    i = 0
    while i < len(layers):
        layer = layers[i]
        nxt = layers[i + 1] if i + 1 < len(layers) else None
        if isinstance(layer, nn.Conv1d) and isinstance(nxt, nn.BatchNorm1d) and nxt.track_running_stats:
            out.append(fuse_conv_bn_eval(layer, nxt))
            i += 2
            continue
        if isinstance(layer, (nn.ReLU, nn.LeakyReLU)):
            layer.inplace = True
        out.append(layer)
        i += 1
    fused.features = nn.Sequential(*out)
    return fused


def count_parameters(model: nn.Module) -> int:
    """Number of trainable parameters."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


def summary(model: CNNBiLSTM, batch_size: int = 1) -> list[dict]:
    """Layer table of a :class:`CNNBiLSTM`: one row per layer, in the order of the forward pass.

    Runs one dummy input of shape ``(batch_size, n_inputs, 4551)`` through the model with forward
    hooks on its leaf modules (in eval mode, without gradients; the model's mode is restored).
    The pooling over the sequence, which is no module, gets its own row.

    Returns
    -------
    list of dict
        Keys ``name`` (module path, e.g. ``features.0``), ``layer`` (description, e.g.
        ``Conv1d(4->8, k=11, s=2)``), ``output_shape`` (tuple, without the batch dimension) and
        ``parameters`` (trainable parameters of that layer). Their sum is
        :func:`count_parameters`.
    """
    rows: list[dict] = []
    hooks = []

    def describe(m: nn.Module) -> str:
        if isinstance(m, nn.Conv1d):
            return f"Conv1d({m.in_channels}->{m.out_channels}, k={m.kernel_size[0]}, s={m.stride[0]})"
        if isinstance(m, nn.BatchNorm1d):
            return f"BatchNorm1d({m.num_features})"
        if isinstance(m, nn.LeakyReLU):
            return f"LeakyReLU({m.negative_slope:g})"
        if isinstance(m, nn.LSTM):
            kind = "BiLSTM" if m.bidirectional else "LSTM"
            return f"{kind}({m.input_size}->{m.hidden_size}{' x 2' if m.bidirectional else ''})"
        if isinstance(m, nn.Linear):
            return f"Linear({m.in_features}->{m.out_features})"
        if isinstance(m, nn.Dropout):
            return f"Dropout({m.p:g})"
        return type(m).__name__

    def pool_row(_m: nn.Module, args: tuple) -> None:
        src = "BiLSTM outputs" if model.lstm is not None else "conv features"
        rows.append({"name": "(pool)", "layer": f"max and mean over the sequence, concatenated ({src})",
                     "output_shape": tuple(args[0].shape[1:]), "parameters": 0})

    def record(name: str) -> Callable:
        def hook(m: nn.Module, _inp: tuple, out: object) -> None:
            t = out[0] if isinstance(out, tuple) else out
            rows.append({"name": name, "layer": describe(m), "output_shape": tuple(t.shape[1:]),
                         "parameters": sum(p.numel() for p in m.parameters() if p.requires_grad)})
        return hook

    for name, m in model.named_modules():
        if name and not list(m.children()):
            if m is model.head[0]:
                hooks.append(m.register_forward_pre_hook(pool_row))
            hooks.append(m.register_forward_hook(record(name)))
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            param = next(model.parameters())
            model(torch.zeros(batch_size, model.config.n_inputs, N_CHANNELS, dtype=param.dtype, device=param.device))
    finally:
        model.train(was_training)
        for h in hooks:
            h.remove()
    return rows
