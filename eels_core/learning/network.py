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
  (see :mod:`eels_core.learning.preprocessing`).
* The network returns *logits*; :meth:`CNNBiLSTM.predict_proba` applies the sigmoid. Training
  uses ``BCEWithLogitsLoss`` (the same model, numerically safer).
"""

from __future__ import annotations

import copy
import json
import os
import threading
import time
import warnings
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from typing import Callable, Optional

import torch
from torch import nn

from ..forward.axis import N_CHANNELS
from .preprocessing import N_INPUTS, energy_coordinate


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

    Input: (batch, 4, 4551) from :mod:`eels_core.learning.preprocessing`. Output: (batch, 20) logits in
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


def native_bfloat16(device: torch.device | str = "cpu") -> bool:
    """Whether ``device`` does bfloat16 arithmetic in hardware.

    CUDA devices: :func:`torch.cuda.is_bf16_supported`. CPUs: AVX512-BF16 or AMX instructions,
    as reported by PyTorch, and not switched off by ``ONEDNN_MAX_CPU_ISA`` (oneDNN then cannot run
    the LSTM in bfloat16 at all; elsewhere it emulates it at a fraction of float32's speed).
    """
    dev = torch.device(device)
    if dev.type == "cuda":
        return bool(torch.cuda.is_available() and torch.cuda.is_bf16_supported())
    if dev.type != "cpu":
        return False
    limit = os.environ.get("ONEDNN_MAX_CPU_ISA", "").upper()
    if limit and limit != "ALL" and "BF16" not in limit and "AMX" not in limit:
        return False
    return bool(torch.cpu._is_avx512_bf16_supported() or torch.cpu._is_amx_tile_supported())


def inference_autocast(precision: str, device: torch.device | str = "cpu") -> torch.autocast:
    """Context manager for inference at ``precision`` on ``device``.

    ``"bfloat16"`` runs convolutions, the LSTM and the dense layers in bfloat16 through
    :class:`torch.autocast` where the device does bfloat16 in hardware (:func:`native_bfloat16`):
    on such CPUs that halves inference time. Elsewhere bfloat16 would be emulated (slower) or
    unavailable, so a :class:`UserWarning` says so and inference runs in float32. ``"float32"``
    (the default everywhere) changes nothing.
    """
    if precision not in PRECISIONS:
        raise ValueError(f"precision = {precision!r}: choose one of {', '.join(PRECISIONS)}")
    dev = torch.device(device)
    enabled = precision == "bfloat16"
    if enabled and not native_bfloat16(dev):
        warnings.warn(
            f"bfloat16 is not native on this {dev.type.upper()} (no AVX512-BF16/AMX, or limited by "
            "ONEDNN_MAX_CPU_ISA): running in float32 instead",
            UserWarning,
            stacklevel=2,
        )
        enabled = False
    return torch.autocast(dev.type, dtype=torch.bfloat16, enabled=enabled)


def folded_conv_parameters(conv: nn.Conv1d, bn: nn.BatchNorm1d | None) -> tuple[torch.Tensor, torch.Tensor]:
    """Weight and bias of ``conv`` followed by ``bn`` in eval mode, as one convolution.

    In eval mode a batch norm is the fixed per-channel affine map
    :math:`y = \\gamma (x - \\mu) / \\sqrt{\\sigma^2 + \\epsilon} + \\beta`, so it folds into the weights
    and bias of the convolution before it. ``bn=None`` returns the convolution's own parameters
    (a zero bias where it has none).
    """
    weight = conv.weight
    bias = conv.bias if conv.bias is not None else torch.zeros(weight.shape[0], device=weight.device)
    if bn is None:
        return weight, bias
    scale = torch.rsqrt(bn.running_var + bn.eps)
    if bn.weight is not None:
        scale = scale * bn.weight
    shift = (bn.bias if bn.bias is not None else 0.0) - bn.running_mean * scale
    return weight * scale[:, None, None], bias * scale + shift


def fused_for_inference(model: CNNBiLSTM, path: str | None = None) -> CNNBiLSTM:
    """An eval-mode copy of ``model`` with each batch norm folded into the convolution before it.

    In eval mode a batch norm is a fixed per-channel affine map, so ``BN(conv(x))`` is one
    convolution with rescaled weights and a bias (:func:`folded_conv_parameters`);
    the activations then run in place. The logits equal the unfused model's to float rounding
    (``tests/learning/test_network.py``). The original model is not changed; the copy is for
    inference only (no batch statistics).

    A :class:`CNNBiLSTM` gives a :class:`FusedCNNBiLSTM`: in float32 on a CPU without gradients it
    runs along ``path`` (:data:`INFERENCE_PATHS`; default: the environment variable
    :data:`INFERENCE_PATH_ENV`, else ``auto``, the quickest measured on this machine; the ``fast``
    kernels reach ~2x the folded module's speed on two cores, ``benchmarks/bench_network.py``).
    """
    chosen = _requested_path(path)
    fused = copy.deepcopy(model).eval()
    layers = list(fused.features)
    out: list[nn.Module] = []
    i = 0
    while i < len(layers):
        layer = layers[i]
        nxt = layers[i + 1] if i + 1 < len(layers) else None
        if isinstance(layer, nn.Conv1d) and isinstance(nxt, nn.BatchNorm1d) and nxt.track_running_stats:
            conv = copy.deepcopy(layer)
            with torch.no_grad():
                weight, bias = folded_conv_parameters(layer, nxt)
                conv.weight = nn.Parameter(weight.detach().clone())
                conv.bias = nn.Parameter(bias.detach().clone())
            out.append(conv)
            i += 2
            continue
        if isinstance(layer, (nn.ReLU, nn.LeakyReLU)):
            layer.inplace = True
        out.append(layer)
        i += 1
    fused.features = nn.Sequential(*out)
    if type(model) is CNNBiLSTM:
        fused.__class__ = FusedCNNBiLSTM
        fused.path = chosen
        fused.__dict__["_unfused_copy"] = copy.deepcopy(model).eval()
    return fused


# --- fast float32 inference on CPUs -------------------------------------------------------------

#: How a :func:`fused_for_inference` copy runs float32 inference on a CPU (see :meth:`FusedCNNBiLSTM.chosen_path`):
#: ``fast`` (channels-last convolutions, the BiLSTM as one matrix product per step for both
#: directions, the batch split in chunks over the CPU threads, one thread per chunk),
#: ``fast-intraop`` (the same kernels, the whole batch at once, each operation on all threads),
#: ``fused`` (:meth:`CNNBiLSTM.forward` with the batch norms folded) and ``unfused`` (the original
#: layers). ``auto`` picks the quickest by a short measurement, once per process.
INFERENCE_PATHS: tuple[str, ...] = ("auto", "fast", "fast-intraop", "fused", "unfused")
#: Environment variable that fixes the inference path (one of :data:`INFERENCE_PATHS`).
INFERENCE_PATH_ENV = "EELS_INFERENCE_PATH"
#: Largest chunk of spectra one thread runs at a time on the ``fast`` path.
FAST_CHUNK = 64

_chosen_paths: dict[tuple, str] = {}
_pool_lock = threading.Lock()
_pools: dict[int, ThreadPoolExecutor] = {}


def _reset_pools_after_fork() -> None:
    global _pool_lock
    _pool_lock = threading.Lock()
    _pools.clear()  # the worker threads do not exist in a forked child


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_reset_pools_after_fork)


def _single_thread_worker() -> None:
    torch.set_num_threads(1)  # this thread's OpenMP/MKL teams: one thread


def _split_over_threads(fn: Callable[[torch.Tensor], torch.Tensor], x: torch.Tensor, threads: int) -> torch.Tensor:
    """``fn`` on chunks of ``x`` (at most :data:`FAST_CHUNK` spectra, at least one per thread), each
    chunk on one thread of a pool of ``threads`` Python threads, one CPU thread each.

    Independent chunks need no synchronisation between the cores inside an operation, which is
    what makes small operations (the 72 steps of the LSTM) scale, and keeps working when other
    processes share the cores. While the chunks run, ``torch.get_num_threads()`` is 1 (restored
    afterwards). A second caller in another thread meanwhile runs its chunks in its own thread.
    """
    n = x.shape[0]
    n_chunks = min(n, max(threads, -(-n // FAST_CHUNK)))
    parts = x.tensor_split(n_chunks)
    if threads <= 1 or n_chunks <= 1 or not _pool_lock.acquire(blocking=False):
        return torch.cat([fn(p) for p in parts])
    grad, inference = torch.is_grad_enabled(), torch.is_inference_mode_enabled()

    def work(part: torch.Tensor) -> torch.Tensor:
        with torch.inference_mode(inference), torch.set_grad_enabled(grad):  # both are per thread
            return fn(part)

    try:
        pool = _pools.get(threads)
        if pool is None:
            pool = _pools[threads] = ThreadPoolExecutor(
                threads, thread_name_prefix="eels-inference", initializer=_single_thread_worker)
        torch.set_num_threads(1)
        try:
            out = list(pool.map(work, parts))
        finally:
            torch.set_num_threads(threads)
    finally:
        _pool_lock.release()
    return torch.cat(out)


def _gate_rows(w: torch.Tensor, g_scale: float) -> torch.Tensor:
    """PyTorch's LSTM gate rows (i, f, g, o) reordered to (i, f, o, g), the g rows times ``g_scale``."""
    i, f, g, o = w.chunk(4, dim=0)
    return torch.cat([i, f, o, g * g_scale], dim=0)


def _lstm_weights(lstm: nn.Module) -> tuple[torch.Tensor, torch.Tensor, int]:
    """The weights of a one-layer bidirectional LSTM laid out for :func:`_bilstm_run`."""
    if not (isinstance(lstm, nn.LSTM) and lstm.num_layers == 1 and lstm.bidirectional
            and lstm.batch_first and lstm.proj_size == 0):
        raise NotImplementedError("only a one-layer, batch-first, bidirectional LSTM")
    hidden = lstm.hidden_size
    weights, biases = [], []
    with torch.no_grad():
        for sfx in ("_l0", "_l0_reverse"):
            w = torch.cat([getattr(lstm, "weight_ih" + sfx), getattr(lstm, "weight_hh" + sfx)], dim=1)
            b = (getattr(lstm, "bias_ih" + sfx) + getattr(lstm, "bias_hh" + sfx)) if lstm.bias \
                else w.new_zeros(4 * hidden)
            weights.append(_gate_rows(w, 2.0).t())
            biases.append(_gate_rows(b, 2.0))
        return (torch.stack(weights).detach().contiguous(),  # (2, C + H, 4H)
                torch.stack(biases)[:, None, :].detach().contiguous(),  # (2, 1, 4H)
                hidden)


class _FastPlan:
    """The weights of a CNNBiLSTM laid out for :func:`_fast_logits` (built once per fused copy)."""

    def __init__(self, model: CNNBiLSTM) -> None:
        self.convs: list[tuple] = []
        layers = list(model.features)
        i = 0
        with torch.no_grad():
            while i < len(layers):
                conv = layers[i]
                if isinstance(conv, (nn.Dropout, nn.Identity)):
                    i += 1
                    continue
                if not isinstance(conv, nn.Conv1d):
                    raise NotImplementedError(f"layer {type(conv).__name__} in features")
                bn = layers[i + 1] if i + 1 < len(layers) and isinstance(layers[i + 1], nn.BatchNorm1d) else None
                if bn is not None and bn.running_var is None:
                    raise NotImplementedError("batch norm without running statistics")
                i += 2 if bn is not None else 1
                weight, bias = folded_conv_parameters(conv, bn)
                slope: float | None = None  # None: no activation; 0: ReLU; else LeakyReLU's slope
                while i < len(layers) and isinstance(layers[i], (nn.ReLU, nn.LeakyReLU, nn.Dropout, nn.Identity)):
                    act = layers[i]
                    i += 1
                    if isinstance(act, (nn.Dropout, nn.Identity)):  # eval mode: identities
                        continue
                    if slope is not None:
                        raise NotImplementedError("two activations after one convolution")
                    slope = 0.0 if isinstance(act, nn.ReLU) else float(act.negative_slope)
                if conv.padding_mode != "zeros" or isinstance(conv.padding, str):
                    raise NotImplementedError("convolution padding other than explicit zeros")
                w4 = weight.detach().unsqueeze(2).contiguous(memory_format=torch.channels_last)
                self.convs.append((w4, bias.detach().contiguous(), (1, conv.stride[0]), (0, conv.padding[0]),
                                   (1, conv.dilation[0]), conv.groups, slope))
        self.lstm = None if model.lstm is None else _lstm_weights(model.lstm)
        self.head = model.head

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """Convolutions and activations on (b, c, n): the sequence (b, L, C), C contiguous."""
        h = x.unsqueeze(2).contiguous(memory_format=torch.channels_last)
        for weight, bias, stride, padding, dilation, groups, slope in self.convs:
            h = nn.functional.conv2d(h, weight, bias, stride, padding, dilation, groups)
            if slope == 0.0:
                h.relu_()
            elif slope is not None:
                nn.functional.leaky_relu_(h, slope)
        return h.squeeze(2).transpose(1, 2)


def _bilstm_run(x_fwd: torch.Tensor, x_bwd: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor, hidden: int,
                h0: Optional[torch.Tensor] = None, c0: Optional[torch.Tensor] = None) -> torch.Tensor:
    """Both directions of a one-layer bidirectional LSTM, each over its own inputs.

    ``x_fwd`` (b, n_f, C) and ``x_bwd`` (b, n_b, C) in the order each direction reads them (the
    backward one's already reversed); ``weight`` (2, C + H, 4H): per direction the input and
    recurrent weights stacked, gates in the order i, f, o, g with the g rows doubled; ``bias``
    (2, 1, 4H) the summed biases in that layout; ``h0``, ``c0`` (2, b or 1, H) the initial states
    (default zeros). Returns a buffer ``out`` whose ``out[1 : n_f + 1, 0, :, C:]`` holds the forward
    outputs and ``out[1 : n_b + 1, 1, :, C:]`` the backward ones, in reading order.

    Each step is one batched matrix product ``[x_t, h_{t-1}] @ W`` for both directions (for one
    only, once the shorter has ended), one sigmoid over all gates (with
    :math:`\\tanh z = 2\\sigma(2z) - 1`, hence the doubled g rows) and a few element-wise updates.
    The cell state is kept as :math:`-2c`, so :math:`h = o\\tanh c = o - 2o\\,\\sigma(-2c)`. Every
    :math:`h_t` is written straight into the next step's input row. Written for TorchScript
    (:func:`_bilstm_kernel`).
    """
    b, n_f, n_in = x_fwd.shape
    n_b = x_bwd.shape[1]
    n_steps = max(n_f, n_b)
    xh = x_fwd.new_empty(n_steps + 1, 2, b, n_in + hidden)
    xh[:n_f, 0, :, :n_in] = x_fwd.transpose(0, 1)
    xh[:n_b, 1, :, :n_in] = x_bwd.transpose(0, 1)
    if h0 is None:
        xh[0, :, :, n_in:] = 0.0
    else:
        xh[0, :, :, n_in:] = h0
    gates = x_fwd.new_empty(2, b, 4 * hidden)
    if c0 is None:
        cell = x_fwd.new_zeros(2, b, hidden)  # -2 c
    else:
        cell = (c0 * -2.0).expand(2, b, hidden).contiguous()
    s = x_fwd.new_empty(2, b, hidden)
    n_both = min(n_f, n_b)
    longer = 0 if n_f > n_b else 1
    for t in range(n_steps):
        lo, hi = (0, 2) if t < n_both else (longer, longer + 1)  # both directions, then the longer one
        g4 = gates[lo:hi]
        torch.baddbmm(bias[lo:hi], xh[t, lo:hi], weight[lo:hi], out=g4)
        g4.sigmoid_()
        i, f = g4[:, :, :hidden], g4[:, :, hidden : 2 * hidden]
        o, g = g4[:, :, 2 * hidden : 3 * hidden], g4[:, :, 3 * hidden :]  # g = sigmoid(2 z_g)
        c = cell[lo:hi]
        c.mul_(f).addcmul_(i, g, value=-4.0).add_(i, alpha=2.0)  # -2 (f c + i tanh z_g)
        sd = s[lo:hi]
        torch.sigmoid(c, out=sd)
        torch.addcmul(o, o, sd, value=-2.0, out=xh[t + 1, lo:hi, :, n_in:])
    return xh


_kernels: dict[str, Callable] = {}


def _bilstm_kernel() -> Callable:
    """:func:`_bilstm_run` compiled by TorchScript (no C++ compiler involved): its steps then run
    without the Python interpreter in between and without holding the GIL, ~15 % faster on one
    core. Where TorchScript is unavailable, the Python function itself (the same arithmetic)."""
    if "bilstm" not in _kernels:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # torch.jit.script's deprecation notice
                _kernels["bilstm"] = torch.jit.script(_bilstm_run)
        except Exception:  # noqa: BLE001 - any TorchScript failure: the same function, uncompiled
            _kernels["bilstm"] = _bilstm_run
    return _kernels["bilstm"]


def _bilstm_pooled(seq: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor, hidden: int) -> torch.Tensor:
    """Max and mean over the sequence (b, L, C) of a bidirectional LSTM's outputs from zero states
    (:func:`_bilstm_run`): (b, 4H), forward maxima, backward maxima, forward means, backward means,
    the pooling of :meth:`CNNBiLSTM.forward`."""
    out = _bilstm_kernel()(seq, seq.flip(1), weight, bias, hidden)[1:, :, :, seq.shape[2]:]  # (L, 2, b, H)
    hmax, hmean = out.amax(dim=0), out.mean(dim=0)
    return torch.cat([hmax[0], hmax[1], hmean[0], hmean[1]], dim=1)


def _fast_logits(plan: _FastPlan, x: torch.Tensor) -> torch.Tensor:
    """Logits of one chunk of spectra (b, c, n) through the fast kernels (float32, CPU)."""
    seq = plan.features(x)
    if plan.lstm is None:
        pooled = torch.cat([seq.amax(dim=1), seq.mean(dim=1)], dim=1)
    else:
        pooled = _bilstm_pooled(seq, *plan.lstm)
    return plan.head(pooled)


def _version(t: torch.Tensor) -> int:
    """In-place modification counter of ``t`` (-1 for inference tensors, which have none)."""
    try:
        return t._version
    except RuntimeError:
        return -1


def _requested_path(path: str | None) -> str:
    chosen = path if path is not None else (os.environ.get(INFERENCE_PATH_ENV, "").strip().lower() or "auto")
    if chosen not in INFERENCE_PATHS:
        source = f"path = {path!r}" if path is not None else f"{INFERENCE_PATH_ENV}={chosen!r}"
        raise ValueError(f"{source}: choose one of {', '.join(INFERENCE_PATHS)}")
    return chosen


class FusedCNNBiLSTM(CNNBiLSTM):
    """The inference copy :func:`fused_for_inference` returns: batch norms folded, and on a CPU in
    float32 without gradients a choice of faster kernels (:data:`INFERENCE_PATHS`).

    Every path gives the logits of :meth:`CNNBiLSTM.forward` to float rounding
    (``tests/learning/test_network.py``). In training mode, with gradients, under bfloat16 autocast,
    in another dtype or on another device it runs :meth:`CNNBiLSTM.forward` on the folded layers.
    """

    path: str

    def _unfused(self) -> CNNBiLSTM:
        return self.__dict__["_unfused_copy"]  # not a submodule: no second set of parameters

    def _plan(self) -> _FastPlan:
        key = tuple((p.data_ptr(), _version(p)) for p in self.parameters())
        cached = self.__dict__.get("_fast_plan")
        if cached is None or cached[0] != key:
            cached = self.__dict__["_fast_plan"] = (key, _FastPlan(self))
        return cached[1]

    def _fast_applicable(self, x: torch.Tensor) -> bool:
        return (
            not self.training and not torch.is_grad_enabled() and x.device.type == "cpu" and x.dim() == 3
            and x.dtype == torch.float32 and not torch.is_autocast_enabled("cpu")
            and all(p.dtype == torch.float32 and p.device.type == "cpu" for p in self.parameters())
        )

    def run(self, x: torch.Tensor, path: str) -> torch.Tensor:
        """Logits of ``x`` along one path of :data:`INFERENCE_PATHS` (not ``auto``), without checks."""
        if path == "fast":
            plan = self._plan()
            return _split_over_threads(lambda part: _fast_logits(plan, part), x, torch.get_num_threads())
        if path == "fast-intraop":
            return _fast_logits(self._plan(), x)
        if path == "unfused":
            return self._unfused()(x)
        return super().forward(x)

    def chosen_path(self, x: torch.Tensor | None = None) -> str:
        """The path a float32 CPU forward pass takes: the fixed one, else the measured choice
        (:func:`choose_inference_path`; before a batch of at least :data:`FAST_CHUNK` spectra has
        been seen, ``fast`` without measuring)."""
        if self.path != "auto":
            return self.path
        key = _path_key(self, None if x is None else x.shape[-1])
        if key in _chosen_paths:
            return _chosen_paths[key]
        if x is not None and x.shape[0] >= FAST_CHUNK:
            return choose_inference_path(self, n_channels=x.shape[-1])
        return "fast"

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Logits (batch, 20)."""
        if self.__dict__.get("_plain_only") or not self._fast_applicable(x):
            return super().forward(x)
        try:
            return self.run(x, self.chosen_path(x))
        except NotImplementedError:  # layers the fast kernels do not handle: the plain forward from now on
            self.__dict__["_plain_only"] = True
            return super().forward(x)


def _path_key(model: CNNBiLSTM, n_channels: int | None) -> tuple:
    return (json.dumps(model.config.to_dict(), sort_keys=True), n_channels or N_CHANNELS,
            torch.get_num_threads(), torch.backends.cpu.get_cpu_capability())


def choose_inference_path(model: CNNBiLSTM, n_channels: int = N_CHANNELS, rounds: int = 3,
                          n_spectra: int | None = None) -> str:
    """The quickest float32 CPU inference path for ``model``'s architecture on this machine.

    Times each path of :data:`INFERENCE_PATHS` (after one warm-up call) ``rounds`` times, the
    paths interleaved, on ``n_spectra`` random inputs (default: 32 per thread, at least 64), and
    takes the smallest time of each. The answer is kept for the rest of the process, per
    architecture, input length, thread count and CPU instruction set. Costs about 2 s on two
    idle cores. ``model``: a :class:`CNNBiLSTM` or its :func:`fused_for_inference` copy.
    """
    key = _path_key(model, n_channels)
    if key in _chosen_paths:
        return _chosen_paths[key]
    if not isinstance(model, FusedCNNBiLSTM):
        model = fused_for_inference(model, path="fast")
    if not isinstance(model, FusedCNNBiLSTM):
        raise TypeError(f"{type(model).__name__}: only a CNNBiLSTM itself has the inference paths to choose from")
    n = n_spectra or max(FAST_CHUNK, 32 * torch.get_num_threads())
    x = torch.randn(n, model.config.n_inputs, n_channels, generator=torch.Generator().manual_seed(0))
    candidates = [p for p in INFERENCE_PATHS if p != "auto"]
    best = dict.fromkeys(candidates, float("inf"))
    with torch.inference_mode():
        for path in candidates:
            try:
                model.run(x, path)
            except NotImplementedError:
                best.pop(path)
        for _ in range(rounds):
            for path in best:
                t = time.perf_counter()
                model.run(x, path)
                best[path] = min(best[path], time.perf_counter() - t)
    _chosen_paths[key] = min(best, key=best.get)
    return _chosen_paths[key]


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


class WindowedForward:
    """Logits of a CNNBiLSTM for many spectra that share one measured window.

    All spectra of a line scan or spectrum image share one energy axis, hence one window. Outside
    it the network input is the same for every pixel (no data, the coverage mask and the energy
    coordinate), so the layers are computed there once, and per pixel only where the window can
    reach: the convolutions on the receptive field of the window, each LSTM direction from the
    state in which it enters the window. The logits equal :meth:`CNNBiLSTM.forward` on the full
    input up to float rounding (``tests/learning/test_network.py``).

    ``template`` is the network input of a pixel with no data: zeros in channels 0-1, the
    coverage mask and the energy coordinate in channels 2-3. Every activation outside the
    "dependent" range of a layer (positions whose receptive field misses the window) equals the
    template's, so it is computed once; the batch is run on the dependent range only.
    """

    def __init__(self, model: nn.Module, window: slice) -> None:
        self.model = model
        self.window = window
        device = next(model.parameters()).device
        self.device = device
        template = torch.zeros(1, 4, N_CHANNELS, device=device)
        template[0, 2, window] = 1.0
        template[0, 3] = torch.from_numpy(energy_coordinate()).to(device)
        self.coordinate = template[0, 3, window].clone()
        # per convolution: the module, and the template inputs it reads left and right of the
        # dependent range [a, b) of its input (zeros for the padding); None for the other layers
        self.layers: list[tuple[nn.Module, tuple[torch.Tensor, torch.Tensor] | None]] = []
        a, b = window.start, window.stop
        h = template
        with torch.inference_mode():
            for layer in model.features:
                out = layer(h)
                if isinstance(layer, nn.Conv1d):
                    (k,), (s,), (p,) = layer.kernel_size, layer.stride, layer.padding
                    if k < s or p < s - 1:
                        raise NotImplementedError("kernel shorter than the stride or padding < stride - 1")
                    # output q reads inputs [q*s - p, q*s - p + k): it depends on the window
                    # when that range meets [a, b)
                    a_out = max((a + p - k) // s + 1, 0)
                    b_out = min(-(-(b + p) // s), out.shape[-1])
                    i0, i1 = a_out * s - p, (b_out - 1) * s - p + k  # input range those outputs read
                    padded = nn.functional.pad(h, (p, p + k))  # the convolution's zero padding
                    sides = (padded[:, :, i0 + p : a + p].contiguous(), padded[:, :, b + p : i1 + p].contiguous())
                    self.layers.append((layer, sides))
                    a, b = a_out, b_out
                else:
                    self.layers.append((layer, None))
                h = out
            self.features_template = h  # (1, C, L)
            self.a, self.b = a, b
            self.plan = self._fused_plan(model, template[:, 2:, window])
            if model.lstm is not None:
                self._prepare_lstm(model.lstm, h)
            self._prepare_fast()

    def _fused_plan(self, model: nn.Module, constant_window: torch.Tensor) -> list[tuple]:
        """The per-batch steps, with each batch norm (eval) folded into the convolution before it.

        The first convolution is split: channels 2-3 (mask, energy coordinate) are the same for
        every pixel, so their part of the output is computed once here; per batch only channels
        0-1 are convolved (the template's channels 0-1 are zero outside the window).
        """
        feats = list(model.features)
        plan: list[tuple] = []
        i = 0
        while i < len(feats):
            layer, sides = self.layers[i]
            if sides is None:
                plan.append(("module", layer))
                i += 1
                continue
            nxt = feats[i + 1] if i + 1 < len(feats) else None
            bn = nxt if isinstance(nxt, nn.BatchNorm1d) else None
            w, bf = folded_conv_parameters(layer, bn)
            i += 2 if bn is not None else 1
            if not plan and w.shape[1] == 4:  # the first layer: split the constant channels off
                left, right = sides
                x23 = torch.cat([left[:, 2:], constant_window, right[:, 2:]], dim=2)
                const = nn.functional.conv1d(x23, w[:, 2:].contiguous(), bf, stride=layer.stride)
                plan.append(("conv0", w[:, :2].contiguous(), const, layer.stride, left.shape[-1], right.shape[-1]))
            else:
                plan.append(("conv", w.contiguous(), bf, layer.stride, sides))
        return plan

    @staticmethod
    def supports(model: nn.Module) -> bool:
        """The model is a CNNBiLSTM-like module this class can run (else: plain forward)."""
        lstm = getattr(model, "lstm", None)
        layers_ok = all(
            isinstance(m, (nn.Conv1d, nn.BatchNorm1d, nn.ReLU, nn.LeakyReLU, nn.Dropout, nn.Identity))
            for m in getattr(model, "features", [None])
        )
        conv_ok = all(
            m.dilation == (1,) and m.groups == 1 and m.padding_mode == "zeros" and isinstance(m.padding, tuple)
            for m in getattr(model, "features", []) if isinstance(m, nn.Conv1d)
        )
        bn_ok = all(
            m.track_running_stats and m.running_var is not None
            for m in getattr(model, "features", []) if isinstance(m, nn.BatchNorm1d)
        )
        lstm_ok = lstm is None or (
            isinstance(lstm, nn.LSTM) and lstm.num_layers == 1 and lstm.bidirectional and lstm.batch_first
            and lstm.proj_size == 0
        )
        return bool(layers_ok and conv_ok and bn_ok and lstm_ok and hasattr(model, "head") and not model.training)

    def _prepare_lstm(self, lstm: nn.LSTM, features: torch.Tensor) -> None:
        def direction(suffix: str) -> nn.LSTM:
            d = nn.LSTM(lstm.input_size, lstm.hidden_size, batch_first=True, bias=lstm.bias).to(self.device)
            with torch.no_grad():
                for name in ("weight_ih", "weight_hh") + (("bias_ih", "bias_hh") if lstm.bias else ()):
                    getattr(d, f"{name}_l0").copy_(getattr(lstm, f"{name}_l0{suffix}"))
            return d.eval()

        self.fwd, self.bwd = direction(""), direction("_reverse")
        seq = features.transpose(1, 2)  # (1, L, C)
        a, b, L = self.a, self.b, seq.shape[1]
        hidden = lstm.hidden_size
        zeros = torch.zeros(1, 1, hidden, device=self.device)
        # forward direction before the window, backward direction after it: the same for all pixels
        if a > 0:
            self.fwd_out, self.fwd_state = self.fwd(seq[:, :a], (zeros, zeros))
        else:
            self.fwd_out, self.fwd_state = seq.new_zeros(1, 0, hidden), (zeros, zeros)
        if b < L:
            out, self.bwd_state = self.bwd(seq[:, b:].flip(1), (zeros, zeros))
            self.bwd_out = out.flip(1)
        else:
            self.bwd_out, self.bwd_state = seq.new_zeros(1, 0, hidden), (zeros, zeros)

    def _prepare_fast(self) -> None:
        """The plan in the layout of the fast kernels (channels-last convolutions, :func:`_bilstm_run`);
        ``self.fast_steps`` is None where a layer is neither a convolution nor an activation."""
        self.fast_steps: list[tuple] | None = []
        channels_last = torch.channels_last
        for step in self.plan:
            if step[0] == "module":
                layer = step[1]
                if isinstance(layer, (nn.ReLU, nn.LeakyReLU)):
                    self.fast_steps.append(("act", 0.0 if isinstance(layer, nn.ReLU) else float(layer.negative_slope)))
                elif not isinstance(layer, (nn.Dropout, nn.Identity)):  # eval mode: identities
                    self.fast_steps = None
                    return
            elif step[0] == "conv0":
                _, weight, const, stride, n_left, n_right = step
                self.fast_steps.append(("conv0", weight.unsqueeze(2).contiguous(memory_format=channels_last),
                                        const.unsqueeze(2).contiguous(memory_format=channels_last), (1, stride[0]),
                                        n_left, n_right))
            else:
                _, weight, bias, stride, (left, right) = step
                self.fast_steps.append(("conv", weight.unsqueeze(2).contiguous(memory_format=channels_last), bias,
                                        (1, stride[0]), left.transpose(1, 2).contiguous(),
                                        right.transpose(1, 2).contiguous()))
        self.template_sequence = self.features_template.transpose(1, 2).contiguous()  # (1, L, C)
        if self.model.lstm is not None:
            self.lstm_weights = _lstm_weights(self.model.lstm)
            self.h0 = torch.cat([self.fwd_state[0], self.bwd_state[0]], dim=0)  # (2, 1, H)
            self.c0 = torch.cat([self.fwd_state[1], self.bwd_state[1]], dim=0)
            # the template's outputs outside the ranges the batch recomputes, pooled once
            hidden = self.model.lstm.hidden_size
            neg = torch.full((1, hidden), float("-inf"), device=self.device)
            self.outside_pooled = [
                (out.amax(dim=1) if out.shape[1] else neg, out.sum(dim=1)) for out in (self.fwd_out, self.bwd_out)
            ]

    def _fast_applies(self, window_inputs: torch.Tensor) -> bool:
        return (
            self.fast_steps is not None and window_inputs.dtype == torch.float32 and window_inputs.device.type == "cpu"
            and self.device.type == "cpu" and not torch.is_grad_enabled() and not torch.is_autocast_enabled("cpu")
            and all(p.dtype == torch.float32 for p in self.model.parameters())
            and _requested_path(None) not in ("fused", "unfused")
        )

    def _fast_logits(self, window_inputs: torch.Tensor) -> torch.Tensor:
        """Logits of one chunk through the fast kernels: the layers as in :meth:`__call__`, in
        the channels-last layout, both LSTM directions batched (:func:`_bilstm_run`)."""
        nb = window_inputs.shape[0]
        y = window_inputs.transpose(1, 2)  # (b, n, channels)
        assert self.fast_steps is not None
        if self.fast_steps[0][0] != "conv0":  # no split first convolution: all four channels
            y = torch.cat([y, torch.ones_like(y[:, :, :1]), self.coordinate[None, :, None].expand(nb, -1, 1)], dim=2)
        for step in self.fast_steps:
            if step[0] == "act":
                if step[1] == 0.0:
                    y.relu_()
                else:
                    nn.functional.leaky_relu_(y, step[1])
                continue
            n = y.shape[1]
            if step[0] == "conv0":
                _, weight, const, stride, n_left, n_right = step
                x = y.new_zeros(nb, n_left + n + n_right, y.shape[2])
                bias = None
            else:
                _, weight, bias, stride, left, right = step
                n_left, n_right = left.shape[1], right.shape[1]
                x = y.new_empty(nb, n_left + n + n_right, y.shape[2])
                x[:, :n_left] = left
                x[:, n_left + n :] = right
            x[:, n_left : n_left + n] = y
            x4 = x.transpose(1, 2).unsqueeze(2).contiguous(memory_format=torch.channels_last)
            out = nn.functional.conv2d(x4, weight, bias, stride)
            if step[0] == "conv0":
                out += const
            y = out.squeeze(2).transpose(1, 2)  # (b, n_out, C), C contiguous
        a, b = self.a, self.b
        seq = self.template_sequence  # (1, L, C)
        n_steps = seq.shape[1]
        if self.model.lstm is None:
            full = y.new_empty(nb, n_steps, y.shape[2])
            full[:, :a], full[:, a:b], full[:, b:] = seq[:, :a], y, seq[:, b:]
            return self.model.head(torch.cat([full.amax(dim=1), full.mean(dim=1)], dim=1))
        # forward direction from position a on, backward from b - 1 down, each from its template state
        x_fwd = y.new_empty(nb, n_steps - a, y.shape[2])
        x_fwd[:, : b - a], x_fwd[:, b - a :] = y, seq[:, b:]
        x_bwd = y.new_empty(nb, b, y.shape[2])
        x_bwd[:, : b - a], x_bwd[:, b - a :] = y.flip(1), seq[:, :a].flip(1)
        weight, bias, hidden = self.lstm_weights
        out = _bilstm_kernel()(x_fwd, x_bwd, weight, bias, hidden, self.h0, self.c0)
        n_in = y.shape[2]
        pooled_max, pooled_sum = [], []
        for d, n_run in ((0, n_steps - a), (1, b)):
            run = out[1 : n_run + 1, d, :, n_in:]  # (n_run, b, H)
            outside_max, outside_sum = self.outside_pooled[d]
            pooled_max.append(torch.maximum(run.amax(dim=0), outside_max))
            pooled_sum.append(run.sum(dim=0) + outside_sum)
        pooled = torch.cat(pooled_max + [s / n_steps for s in pooled_sum], dim=1)
        return self.model.head(pooled)

    def __call__(self, window_inputs: torch.Tensor) -> torch.Tensor:
        """Logits (b, 20) from channels 0-1 on the window, ``(b, 2, n_window)``.

        On a CPU in float32 without gradients or autocast, through the fast kernels, the batch in
        chunks over the CPU threads as on the ``fast`` path of :data:`INFERENCE_PATHS` (only the
        whole batch at once with ``fast-intraop``; the plain layers with ``fused`` or ``unfused``).
        """
        if self._fast_applies(window_inputs):
            if _requested_path(None) == "fast-intraop":
                return self._fast_logits(window_inputs)
            return _split_over_threads(self._fast_logits, window_inputs, torch.get_num_threads())
        nb = window_inputs.shape[0]
        y = window_inputs
        if self.plan and self.plan[0][0] != "conv0":  # no split first convolution: all four channels
            y = torch.cat([y, torch.ones_like(y[:, :1]), self.coordinate.expand(nb, 1, -1)], dim=1)
        for step in self.plan:
            if step[0] == "module":  # activation, dropout (eval), unfused batch norm: position by position
                y = step[1](y)
            elif step[0] == "conv0":
                _, weight, const, stride, n_left, n_right = step
                y = nn.functional.conv1d(nn.functional.pad(y, (n_left, n_right)), weight, None, stride=stride) + const
            else:
                _, weight, bias, stride, (left, right) = step
                x = torch.cat([left.expand(nb, -1, -1), y, right.expand(nb, -1, -1)], dim=2)
                y = nn.functional.conv1d(x, weight, bias, stride=stride)
        feats = self.features_template.expand(nb, -1, -1)
        a, b = self.a, self.b
        model = self.model
        if model.lstm is None:
            full = torch.cat([feats[:, :, :a], y, feats[:, :, b:]], dim=2)
            pooled = torch.cat([full.amax(dim=2), full.mean(dim=2)], dim=1)
            return model.head(pooled)
        seq_dep = y.transpose(1, 2)  # (b, b-a, C)
        seq_after = feats[:, :, b:].transpose(1, 2)
        seq_before = feats[:, :, :a].transpose(1, 2)
        h0, c0 = (t.expand(-1, nb, -1).contiguous() for t in self.fwd_state)
        fwd_rest, _ = self.fwd(torch.cat([seq_dep, seq_after], dim=1), (h0, c0))
        h0, c0 = (t.expand(-1, nb, -1).contiguous() for t in self.bwd_state)
        bwd_rest, _ = self.bwd(torch.cat([seq_before, seq_dep], dim=1).flip(1), (h0, c0))
        fwd = torch.cat([self.fwd_out.expand(nb, -1, -1), fwd_rest], dim=1)
        bwd = torch.cat([bwd_rest.flip(1), self.bwd_out.expand(nb, -1, -1)], dim=1)
        h = torch.cat([fwd, bwd], dim=2)
        pooled = torch.cat([h.amax(dim=1), h.mean(dim=1)], dim=1)
        return model.head(pooled)
