"""The spectrum database (paper: Methods, "Database construction": 250,000 spectra, 80/20 split).

:func:`write_database` writes spectra, labels and every sampled parameter as sharded HDF5:

* ``<out>`` (e.g. ``db.h5``): the index file. Its attributes hold the format name, the config
  (JSON) and its version, the seed, the size and the shard size; its datasets are HDF5 *virtual
  datasets* that join the shards, so readers see one ``spectra`` array of shape (n, 4551).
* ``<out stem>-shards/shard_00000.h5`` ...: one file per shard, each a pure function of
  (seed, config, shard index). A shard is written to ``*.tmp`` and renamed when complete, so a
  killed run leaves no half shard; running the same command again skips the complete shards and
  resumes at the next missing one. Nothing is lost or duplicated.

The 80/20 train/validation split is a seeded permutation of all indices (exactly 20 % validation),
stored per spectrum in ``split`` (0 = train, 1 = validation).

:class:`SpectrumDataset` reads a database for PyTorch; :class:`SyntheticSpectrumStream` generates
spectra on the fly (no disk) as an ``IterableDataset``.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

import h5py
import numpy as np
import torch
from numpy.typing import NDArray
from tqdm.auto import tqdm

from .. import __version__
from .config import CONFIG_VERSION, ELEMENTS, SynthesisConfig
from .synthesis import BLOCK_SIZE, iter_blocks

FORMAT_NAME = "eels-edge-book spectrum database"
TRAIN, VALIDATION = 0, 1
_PER_SPECTRUM = ("spectra", "labels", "edge_onset_ev", "jump_ratio", "index", "split")


def shard_dir(out: str | os.PathLike[str]) -> Path:
    """Folder of the shards of the database ``out`` (``db.h5`` -> ``db-shards/``)."""
    p = Path(out)
    return p.with_name(p.stem + "-shards")


def _manifest(n: int, seed: int, config: SynthesisConfig, shard_size: int, dtype: str, validation_fraction: float) -> dict[str, Any]:
    return {
        "format": FORMAT_NAME,
        "config_version": CONFIG_VERSION,
        "config": config.to_json(),
        "seed": int(seed),
        "n": int(n),
        "shard_size": int(shard_size),
        "dtype": dtype,
        "validation_fraction": float(validation_fraction),
        "labels_order": json.dumps(list(ELEMENTS)),
    }


def split_assignment(n: int, seed: int, validation_fraction: float = 0.2) -> NDArray[np.uint8]:
    """0 (train) / 1 (validation) for each of ``n`` spectra: a seeded permutation, exact fraction."""
    rng = np.random.Generator(np.random.PCG64(np.random.SeedSequence(entropy=seed, spawn_key=(2**31 - 1,))))
    split = np.zeros(n, dtype=np.uint8)
    split[rng.permutation(n)[: int(round(validation_fraction * n))]] = VALIDATION
    return split


def _check_manifest(found: dict[str, Any], wanted: dict[str, Any], where: Path) -> None:
    if found.get("format") != FORMAT_NAME:
        raise ValueError(f"{where} is not an eels-edge-book database shard")
    if int(found.get("config_version", -1)) != CONFIG_VERSION:
        raise ValueError(
            f"{where} was written with config version {found.get('config_version')}, this eels_core writes "
            f"version {CONFIG_VERSION}: choose a new --out or pass --overwrite"
        )
    diff = [k for k in wanted if k != "labels_order" and str(found.get(k)) != str(wanted[k])]
    if diff:
        raise ValueError(
            f"{where} was written with other settings ({', '.join(diff)} differ): resuming would mix two "
            "databases; choose a new --out, or pass --overwrite to start again"
        )


def write_database(
    out: str | os.PathLike[str],
    n: int,
    seed: int = 0,
    config: SynthesisConfig | None = None,
    shard_size: int = 10_000,
    dtype: str = "float16",
    validation_fraction: float = 0.2,
    overwrite: bool = False,
    progress: bool = True,
    n_threads: int | None = None,
) -> Path:
    """Write (or resume writing) a sharded HDF5 database of ``n`` synthetic spectra.

    Parameters
    ----------
    out : path
        Index file to create, e.g. ``db.h5``; shards go to ``db-shards/``.
    n : int
        Number of spectra (paper: 250,000).
    seed : int
        Seed of the synthesis stream.
    config : SynthesisConfig, optional
        Default: the paper's Table 2.
    shard_size : int
        Spectra per shard file (a multiple of the synthesis block size, 64, is fastest).
    dtype : {"float16", "float32"}
        Storage type of the spectra (float16 halves the size; relative error ~1e-3).
    validation_fraction : float
        Share of validation spectra (paper: 0.2).
    overwrite : bool
        Delete an existing database of other settings instead of refusing.
    progress : bool
        tqdm progress bar (per spectrum).

    Returns
    -------
    Path
        The index file.
    """
    if isinstance(n, bool) or int(n) != n or n <= 0:
        raise ValueError(f"n = {n!r}: the number of spectra must be a positive integer")
    if int(shard_size) != shard_size or shard_size <= 0:
        raise ValueError(f"shard_size = {shard_size!r}: must be a positive integer")
    if dtype not in ("float16", "float32"):
        raise ValueError(f"dtype = {dtype!r}: use 'float16' or 'float32'")
    if not 0.0 <= validation_fraction < 1.0:
        raise ValueError(f"validation_fraction = {validation_fraction}: must be in [0, 1)")
    config = config or SynthesisConfig()
    out = Path(out)
    sdir = shard_dir(out)
    wanted = _manifest(n, seed, config, shard_size, dtype, validation_fraction)
    n_shards = -(-n // shard_size)
    if overwrite:
        out.unlink(missing_ok=True)
        if sdir.exists():
            for f in sdir.iterdir():
                f.unlink()
    sdir.mkdir(parents=True, exist_ok=True)
    for tmp in sdir.glob("*.tmp"):
        tmp.unlink()  # a shard that a killed run left half-written
    done = []
    for k in range(n_shards):
        path = sdir / f"shard_{k:05d}.h5"
        if path.exists():
            with h5py.File(path, "r") as f:
                _check_manifest(dict(f.attrs), wanted, path)
            done.append(k)
    split = split_assignment(n, seed, validation_fraction)
    bar = tqdm(total=n, disable=not progress, desc=f"writing {out.name}", unit="spectra", smoothing=0.05)
    bar.update(sum(min(shard_size, n - k * shard_size) for k in done))
    for k in range(n_shards):
        if k in done:
            continue
        start, m = k * shard_size, min(shard_size, n - k * shard_size)
        _write_shard(sdir / f"shard_{k:05d}.h5", start, m, seed, config, dtype, split, wanted, bar, n_threads)
    bar.close()
    _write_index(out, sdir, n_shards, n, wanted, config)
    return out


def _write_shard(
    path: Path,
    start: int,
    m: int,
    seed: int,
    config: SynthesisConfig,
    dtype: str,
    split: NDArray[np.uint8],
    manifest: dict[str, Any],
    bar: Any,
    n_threads: int | None,
) -> None:
    tmp = path.with_suffix(".h5.tmp")
    n_out = config.output_energy_axis().size
    with h5py.File(tmp, "w") as f:
        f.attrs.update(manifest)
        f.attrs["start"] = start
        f.attrs["count"] = m
        spectra = f.create_dataset("spectra", (m, n_out), dtype=dtype, chunks=(min(m, BLOCK_SIZE), n_out))
        labels = f.create_dataset("labels", (m, len(ELEMENTS)), dtype="u1")
        onset = f.create_dataset("edge_onset_ev", (m, len(ELEMENTS)), dtype="f4")
        jump = f.create_dataset("jump_ratio", (m, len(ELEMENTS)), dtype="f4")
        f.create_dataset("index", data=np.arange(start, start + m, dtype=np.int64))
        f.create_dataset("split", data=split[start : start + m])
        params: dict[str, h5py.Dataset] = {}
        first, last = start // BLOCK_SIZE, (start + m - 1) // BLOCK_SIZE
        for batch in iter_blocks(seed, first, last - first + 1, config, n_threads):
            keep = (batch.index >= start) & (batch.index < start + m)
            rows = batch.index[keep] - start
            lo, hi = int(rows[0]), int(rows[-1]) + 1
            spectra[lo:hi] = batch.spectra[keep].astype(dtype)
            labels[lo:hi] = batch.labels[keep]
            onset[lo:hi] = batch.edge_onset_ev[keep]
            jump[lo:hi] = batch.jump_ratio[keep]
            for name, arr in batch.params.to_dict().items():
                if name not in params:
                    params[name] = f.create_dataset(f"params/{name}", (m,) + arr.shape[1:], dtype=arr.dtype)
                params[name][lo:hi] = arr[keep]
            bar.update(hi - lo)
    os.replace(tmp, path)  # atomic: the shard exists only when complete


def _write_index(out: Path, sdir: Path, n_shards: int, n: int, manifest: dict[str, Any], config: SynthesisConfig) -> None:
    shards = [sdir / f"shard_{k:05d}.h5" for k in range(n_shards)]
    with h5py.File(shards[0], "r") as f0:
        specs = {name: (f0[name].shape[1:], f0[name].dtype) for name in _PER_SPECTRUM}
        specs.update({f"params/{p}": (f0[f"params/{p}"].shape[1:], f0[f"params/{p}"].dtype) for p in f0["params"]})
    tmp = out.with_name(out.name + ".tmp")
    with h5py.File(tmp, "w") as f:
        f.attrs.update(manifest)
        f.attrs["n_shards"] = n_shards
        f.attrs["eels_core_version"] = __version__
        f.create_dataset("energy_ev", data=config.output_energy_axis())
        for name, (tail, dt) in specs.items():
            layout = h5py.VirtualLayout(shape=(n,) + tail, dtype=dt)
            pos = 0
            for s in shards:
                with h5py.File(s, "r") as fs:
                    m = fs[name].shape[0]
                # relative path: the database folder can be moved as a whole
                layout[pos : pos + m] = h5py.VirtualSource(os.path.relpath(s, out.parent), name, shape=(m,) + tail)
                pos += m
            f.create_virtual_dataset(name, layout, fillvalue=0)
    os.replace(tmp, out)


@dataclass
class DatabaseInfo:
    """What a database file says about itself."""

    path: Path
    n: int
    seed: int
    config: SynthesisConfig
    shard_size: int
    dtype: str
    energy_ev: NDArray[np.float64]


def open_database(path: str | os.PathLike[str]) -> DatabaseInfo:
    """Read and check a database's metadata.

    Raises
    ------
    FileNotFoundError
        No such file.
    ValueError
        Not a database of this project, or written with another config version.
    """
    p = Path(path)
    if not p.exists():
        raise FileNotFoundError(f"{p}: no such database; create one with `eels-core make-database --out {p}`")
    try:
        f = h5py.File(p, "r")
    except OSError as exc:
        raise ValueError(f"{p} is not an HDF5 file ({exc})") from None
    with f:
        attrs = dict(f.attrs)
        if attrs.get("format") != FORMAT_NAME:
            raise ValueError(f"{p} is not an eels-edge-book spectrum database")
        version = int(attrs.get("config_version", -1))
        if version != CONFIG_VERSION:
            raise ValueError(
                f"{p} was written with config version {version}, but this eels_core reads version "
                f"{CONFIG_VERSION}: regenerate it with `eels-core make-database`"
            )
        return DatabaseInfo(
            path=p,
            n=int(attrs["n"]),
            seed=int(attrs["seed"]),
            config=SynthesisConfig.from_json(str(attrs["config"])),
            shard_size=int(attrs["shard_size"]),
            dtype=str(attrs["dtype"]),
            energy_ev=f["energy_ev"][()],
        )


class SpectrumDataset(torch.utils.data.Dataset):
    """A database on disk as a PyTorch dataset of ``(spectrum, labels)`` float32 tensors.

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
        x = torch.from_numpy(np.asarray(f["spectra"][j], dtype=np.float32))
        y = torch.from_numpy(np.asarray(f["labels"][j], dtype=np.float32))
        return x, y

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
            batch = next(iter_blocks(self.seed, first + k, 1, self.config, n_threads=1))
            for i in range(len(batch)):
                if self.n is not None and k * BLOCK_SIZE + i >= self.n:
                    return
                yield torch.from_numpy(batch.spectra[i]), torch.from_numpy(batch.labels[i].astype(np.float32))
            k += n_workers


__all__ = [
    "DatabaseInfo",
    "SpectrumDataset",
    "SyntheticSpectrumStream",
    "open_database",
    "shard_dir",
    "split_assignment",
    "write_database",
]
