"""The synthetic database and the synthesis stream as PyTorch datasets (for training).

:class:`SpectrumDataset` serves a database written by :func:`eels_core.forward.database.write_database`;
:class:`SyntheticSpectrumStream` generates spectra on the fly from the synthesis stream. They live
with the training code so that the forward model and the database writer never import torch.
"""

from __future__ import annotations

import os
from typing import Any, Iterator

import h5py
import numpy as np
import torch

from ..forward.config import SynthesisConfig
from ..forward.database import TRAIN, VALIDATION, DatabaseError, open_database, remake_command
from ..forward.synthesis import BLOCK_SIZE, iter_blocks

__all__ = ["SpectrumDataset", "SyntheticSpectrumStream"]


class SpectrumDataset(torch.utils.data.Dataset):
    """A database on disk as a PyTorch dataset of ``(spectrum, labels)`` float32 tensors.

    Opening checks that every shard is present (:func:`open_database`); a spectrum that reads as
    NaN (a shard lost after opening) raises :class:`DatabaseError` instead of serving fill values.

    Parameters
    ----------
    path : path
        Index file written by :func:`write_database`.
    split : {"train", "validation", None}
        Which part; None = all spectra.
    """

    def __init__(self, path: str | os.PathLike[str], split: str | None = "train") -> None:
        self.info = open_database(path)
        if split not in ("train", "validation", None):
            raise ValueError(f"split = {split!r}: use 'train', 'validation' or None")
        with h5py.File(self.info.path, "r") as f:
            s = f["split"][()]
        want = {"train": TRAIN, "validation": VALIDATION}.get(split or "", None)
        self.indices = np.arange(self.info.n) if want is None else np.flatnonzero(s == want)
        self._file: h5py.File | None = None

    def __len__(self) -> int:
        return int(self.indices.size)

    def _h5(self) -> h5py.File:
        if self._file is None:  # opened lazily, once per DataLoader worker
            self._file = h5py.File(self.info.path, "r")
        return self._file

    def __getitem__(self, i: int) -> tuple[torch.Tensor, torch.Tensor]:
        j = int(self.indices[i])
        f = self._h5()
        x = np.asarray(f["spectra"][j], dtype=np.float32)
        if np.isnan(x).any():
            raise DatabaseError(
                f"{self.info.path}: spectrum {j} reads as NaN, so its shard is missing or damaged; "
                f"run `eels-core info {self.info.path}` and `{remake_command(self.info)}`"
            )
        y = torch.from_numpy(np.asarray(f["labels"][j], dtype=np.float32))
        return torch.from_numpy(x), y

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state["_file"] = None  # h5py handles do not pickle; workers reopen
        return state


class SyntheticSpectrumStream(torch.utils.data.IterableDataset):
    """Spectra generated on the fly (no disk), as ``(spectrum, labels)`` float32 tensors.

    Spectrum ``i`` of the stream is spectrum ``i`` of ``synthesize(..., seed)``. With several
    DataLoader workers, worker ``w`` of ``W`` makes blocks ``w, w + W, ...``.

    Parameters
    ----------
    seed : int
    config : SynthesisConfig, optional
    n : int, optional
        Stop after ``n`` spectra (None: endless).
    start : int
        Global index of the first spectrum (use a distinct range for validation).
    """

    def __init__(self, seed: int = 0, config: SynthesisConfig | None = None, n: int | None = None, start: int = 0) -> None:
        super().__init__()
        if n is not None and (int(n) != n or n <= 0):
            raise ValueError(f"n = {n!r}: must be a positive integer or None")
        if start % BLOCK_SIZE:
            raise ValueError(f"start = {start}: must be a multiple of {BLOCK_SIZE}")
        self.seed, self.config, self.n, self.start = seed, config or SynthesisConfig(), n, start

    def __iter__(self) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        info = torch.utils.data.get_worker_info()
        w, n_workers = (info.id, info.num_workers) if info else (0, 1)
        first = self.start // BLOCK_SIZE
        n_blocks = None if self.n is None else -(-self.n // BLOCK_SIZE)
        k = w
        while n_blocks is None or k < n_blocks:
            batch = next(iter_blocks(self.seed, first + k, 1, self.config, n_threads=1, keep_freed_memory=True))
            for i in range(len(batch)):
                if self.n is not None and k * BLOCK_SIZE + i >= self.n:
                    return
                yield torch.from_numpy(batch.spectra[i]), torch.from_numpy(batch.labels[i].astype(np.float32))
            k += n_workers
