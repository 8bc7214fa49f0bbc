"""The spectrum database (paper: Methods, "Database construction": 250,000 spectra, 80/20 split).

:func:`write_database` writes spectra, labels and every sampled parameter as sharded HDF5:

* ``<out>`` (e.g. ``db.h5``): the index file. Its attributes hold the format name, the config
  (JSON) and its version, the seed, the size and the shard size; its datasets are HDF5 *virtual
  datasets* that join the shards, so readers see one ``spectra`` array of shape (n, 4551). The
  group ``shards/`` records, per shard, its file (``file``), row count (``rows``), size in bytes
  (``bytes``) and SHA-256 (``sha256``).
* ``<out stem>-shards/shard_00000.h5`` ...: one file per shard, each a pure function of
  (seed, config, shard index), with its checksum beside it in ``shard_00000.h5.sha256``
  (``sha256sum -c`` reads it). The HDF5 bytes are deterministic (no timestamps, fixed attribute
  order), so the same arguments give the same files on any machine and with any number of workers.

Surviving faults
----------------
* **Interruptions.** A shard (and its checksum) is written to a uniquely named ``*.tmp`` file,
  flushed to disk and renamed when complete, so a killed run leaves no half shard; running the
  same command again resumes. Nothing is lost or duplicated. The ``*.tmp`` files a killed run or
  a killed cluster worker leaves are removed when a run starts and when it completes.
* **One writer.** ``make-database`` holds an exclusive lock (``fcntl.flock``) on ``<out stem>.lock``
  next to the index (``db.h5`` -> ``db.lock``, shared by every index name that would share the
  shard folder) while it writes; a second writer of the same database is refused with
  :class:`DatabaseLockedError`. The lock dies with its process, so a killed run leaves no stale lock.
* **Damaged shards.** On resume every existing shard is verified: its SHA-256 against its
  checksum file, then its settings and row count. A zero-byte, half-written, truncated or
  corrupted shard is reported (``log``) and written again; a complete, verified shard is skipped.
* **Missing shards.** :func:`open_database` (and so :class:`~eels_core.learning.datasets.SpectrumDataset` and ``eels-core
  info``) refuses a database whose shard is missing or has the wrong size, naming the shard and
  the command that rewrites it; a virtual dataset never silently reads a missing shard as zeros
  (its fill value is NaN, and :class:`~eels_core.learning.datasets.SpectrumDataset` refuses NaN spectra).
* **Disk full and other OS errors** raise :class:`DatabaseWriteError` (one line naming the file
  and the cause); the temporary file is removed, complete shards are kept, and the same command
  resumes once the cause is fixed. An ``out`` that is a folder, or in a place that cannot be
  written, is refused before anything is written.
* **Older databases** (written before checksums) still read: :func:`open_database` then checks
  that every shard exists and has its row count (``DatabaseInfo.checksums`` says "none recorded");
  a resume verifies their shards by settings, row count and a full read, and records their checksums.

On a cluster
------------
``write_database(..., workers=N)`` (``eels-core make-database --workers N``) starts a dask
``LocalCluster`` of ``N`` processes with one thread each; ``scheduler_address="tcp://host:8786"``
(``--scheduler-address``) uses a running ``dask.distributed`` scheduler, whose workers must see
the output folder under the same path (a shared file system). Each shard is one task (verify,
or write when missing or damaged); the client holds the lock and writes the index. The result is
byte for byte the database a single process writes. A killed worker's task is run again by
dask; after a killed client the same command skips the complete, verified shards.

The 80/20 train/validation split is a seeded permutation of all indices (exactly 20 % validation),
stored per spectrum in ``split`` (0 = train, 1 = validation).

:class:`eels_core.learning.datasets.SpectrumDataset` reads a database for PyTorch; :class:`eels_core.learning.datasets.SyntheticSpectrumStream` generates
spectra on the fly (no disk) as an ``IterableDataset``.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import hashlib
import io
import json
import os
import secrets
import socket
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator

import h5py
import numpy as np
from numpy.typing import NDArray
from tqdm.auto import tqdm

from .. import __version__
from .config import CONFIG_VERSION, ELEMENTS, SynthesisConfig
from .synthesis import BLOCK_SIZE, iter_blocks

FORMAT_NAME = "eels-edge-book spectrum database"
TRAIN, VALIDATION = 0, 1
_PER_SPECTRUM = ("spectra", "labels", "edge_onset_ev", "jump_ratio", "index", "split")
CHECKSUM_SUFFIX = ".sha256"
LOCK_SUFFIX = ".lock"


class DatabaseError(ValueError):
    """A database that cannot be written or read as asked; the message says what to do."""


class DatabaseLockedError(DatabaseError):
    """Another process is writing the same database."""


class DatabaseWriteError(DatabaseError, OSError):
    """The operating system refused a write (disk full, file-size limit, permissions ...)."""


def shard_dir(out: str | os.PathLike[str]) -> Path:
    """Folder of the shards of the database ``out`` (``db.h5`` -> ``db-shards/``)."""
    p = Path(out)
    return p.with_name(p.stem + "-shards")


def shard_path(out: str | os.PathLike[str], k: int) -> Path:
    """File of shard ``k`` of the database ``out`` (``db-shards/shard_00003.h5``)."""
    return shard_dir(out) / f"shard_{k:05d}.h5"


def lock_path(out: str | os.PathLike[str]) -> Path:
    """Lock file that a writer of ``out`` holds (``db.h5`` -> ``db.lock``; one per shard folder)."""
    p = Path(out)
    return p.with_name(p.stem + LOCK_SUFFIX)


def _checksum_path(path: Path) -> Path:
    return path.with_name(path.name + CHECKSUM_SUFFIX)


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


def _same_config(found: Any, wanted: str) -> bool:
    try:
        return SynthesisConfig.from_json(str(found)) == SynthesisConfig.from_json(wanted)
    except Exception:
        return False


def _check_manifest(found: dict[str, Any], wanted: dict[str, Any], where: Path) -> None:
    if found.get("format") != FORMAT_NAME:
        raise DatabaseError(f"{where} is not an eels-edge-book database file: choose another --out, or pass --overwrite")
    if int(found.get("config_version", -1)) != CONFIG_VERSION:
        raise DatabaseError(
            f"{where} was written with config version {found.get('config_version')}, this eels_core writes "
            f"version {CONFIG_VERSION}: choose a new --out or pass --overwrite"
        )
    diff = [k for k in wanted if k != "labels_order" and str(found.get(k)) != str(wanted[k])]
    if "config" in diff and _same_config(found.get("config"), wanted["config"]):
        diff.remove("config")  # the same settings, spelt by an eels_core with fewer (defaulted) fields
    if diff:
        raise DatabaseError(
            f"{where} was written with other settings ({', '.join(diff)} differ): resuming would mix two "
            "databases; choose a new --out, or pass --overwrite to start again"
        )


# ----------------------------------------------------------------------------- files and the lock
def _sha256(data: bytes | memoryview) -> str:
    return hashlib.sha256(data).hexdigest()


def _fsync_dir(folder: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _write_atomic(path: Path, data: bytes | memoryview) -> None:
    """Write ``data`` to a unique ``*.tmp`` beside ``path``, flush it to disk and rename it into place."""
    tmp = path.with_name(f"{path.name}.{os.getpid()}-{secrets.token_hex(4)}.tmp")
    try:
        with open(tmp, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except OSError as exc:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise DatabaseWriteError(
            f"cannot write {path} ({exc.strerror or exc}): complete shards are kept; free space or fix "
            "the folder, then run the same command again to resume"
        ) from None
    _fsync_dir(path.parent)


@contextlib.contextmanager
def database_lock(out: str | os.PathLike[str]) -> Iterator[Path]:
    """Hold the exclusive write lock of the database ``out`` (``fcntl.flock`` on :func:`lock_path`).

    Raises
    ------
    DatabaseLockedError
        Another process holds it.
    DatabaseWriteError
        The lock file cannot be created.
    """
    path = lock_path(out)
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as exc:
        raise DatabaseWriteError(
            f"cannot create the lock file {path} ({exc.strerror or exc}): choose an --out in a folder you can write"
        ) from None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            if exc.errno not in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
                raise DatabaseWriteError(
                    f"cannot lock {path} ({exc.strerror or exc}): this file system does not support "
                    "locks; choose an --out on a local disk"
                ) from None
            holder = os.pread(fd, 200, 0).decode(errors="replace").strip() or "unknown"
            raise DatabaseLockedError(
                f"{Path(out)} is being written by another make-database ({holder}; lock {path}): wait for it "
                "to finish, or stop it, then run this command again"
            ) from None
        with contextlib.suppress(OSError):  # who holds the lock: for the message above only
            os.ftruncate(fd, 0)
            os.pwrite(fd, f"process {os.getpid()} on {socket.gethostname()}\n".encode(), 0)
        yield path
    finally:
        os.close(fd)  # releases the lock


def _check_out(out: Path) -> None:
    """Refuse an ``out`` that cannot be a database index file before anything is written."""
    if out.is_dir():
        raise DatabaseError(f"--out {out} is a folder: give the index file to write, e.g. {out / 'db.h5'}")
    if out.name.endswith((".tmp", LOCK_SUFFIX, CHECKSUM_SUFFIX)):
        raise DatabaseError(f"--out {out}: this name is kept for the database's own files; end it in .h5")
    sdir = shard_dir(out)
    if sdir.exists() and not sdir.is_dir():
        raise DatabaseError(f"{sdir} (where the shards of --out {out} go) is a file: move it, or choose another --out")
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise DatabaseWriteError(f"--out {out}: cannot create the folder {out.parent} ({exc.strerror or exc})") from None
    if not os.access(out.parent, os.W_OK | os.X_OK):
        raise DatabaseWriteError(f"--out {out}: the folder {out.parent} is not writable; choose another --out")
    if out.exists() and not out.is_file():
        raise DatabaseError(f"--out {out} exists and is not a regular file; choose another --out")


# ----------------------------------------------------------------------------- one shard
@dataclass
class _ShardJob:
    """Everything a process (or a dask worker) needs to verify or write shard ``k``."""

    path: str
    k: int
    start: int
    m: int
    seed: int
    config: SynthesisConfig
    dtype: str
    split: NDArray[np.uint8]
    manifest: dict[str, Any]
    n_threads: int | None


@dataclass
class _ShardRecord:
    k: int
    rows: int
    sha256: str
    nbytes: int
    specs: list[tuple[str, tuple[int, ...], str]]
    note: str = ""


def _specs(f: h5py.File) -> list[tuple[str, tuple[int, ...], str]]:
    names = list(_PER_SPECTRUM) + [f"params/{p}" for p in f["params"]]
    return [(name, tuple(f[name].shape[1:]), f[name].dtype.str) for name in names]


def _render_shard(job: _ShardJob, bar: Any = None) -> memoryview:
    """The bytes of shard ``job.k``: deterministic HDF5 (no timestamps), built in memory."""
    n_out = job.config.output_energy_axis().size
    start, m = job.start, job.m
    bio = io.BytesIO()
    with h5py.File(bio, "w") as f:
        f.attrs.update(job.manifest)
        f.attrs["start"] = start
        f.attrs["count"] = m
        opts = {"track_times": False}
        spectra = f.create_dataset("spectra", (m, n_out), dtype=job.dtype, chunks=(min(m, BLOCK_SIZE), n_out), **opts)
        labels = f.create_dataset("labels", (m, len(ELEMENTS)), dtype="u1", **opts)
        onset = f.create_dataset("edge_onset_ev", (m, len(ELEMENTS)), dtype="f4", **opts)
        jump = f.create_dataset("jump_ratio", (m, len(ELEMENTS)), dtype="f4", **opts)
        f.create_dataset("index", data=np.arange(start, start + m, dtype=np.int64), **opts)
        f.create_dataset("split", data=np.asarray(job.split, dtype=np.uint8), **opts)
        params: dict[str, h5py.Dataset] = {}
        first, last = start // BLOCK_SIZE, (start + m - 1) // BLOCK_SIZE
        for batch in iter_blocks(job.seed, first, last - first + 1, job.config, job.n_threads, keep_freed_memory=True):
            keep = (batch.index >= start) & (batch.index < start + m)
            rows = batch.index[keep] - start
            lo, hi = int(rows[0]), int(rows[-1]) + 1
            spectra[lo:hi] = batch.spectra[keep].astype(job.dtype)
            labels[lo:hi] = batch.labels[keep]
            onset[lo:hi] = batch.edge_onset_ev[keep]
            jump[lo:hi] = batch.jump_ratio[keep]
            for name, arr in batch.params.to_dict().items():
                if name not in params:
                    params[name] = f.create_dataset(f"params/{name}", (m,) + arr.shape[1:], dtype=arr.dtype, **opts)
                params[name][lo:hi] = arr[keep]
            if bar is not None:
                bar.update(hi - lo)
    return bio.getbuffer()


def _read_checksum(path: Path) -> str | None:
    """The hex SHA-256 in ``path`` (``sha256sum`` format), or None when absent or unreadable."""
    try:
        word = path.read_text(errors="replace").split(maxsplit=1)
    except OSError:
        return None
    if word and len(word[0]) == 64 and all(c in "0123456789abcdef" for c in word[0]):
        return word[0]
    return None


def _verify_shard(job: _ShardJob) -> tuple[_ShardRecord | None, str]:
    """Check an existing shard file: (its record, "") when sound, (None, what is wrong) when not.

    A shard with a checksum file must match it; one without (an older database) must open, carry
    the right settings and row count, and read to the end; its checksum is then recorded.
    """
    path = Path(job.path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        return None, f"unreadable ({exc.strerror or exc})"
    if not data:
        return None, "empty (0 bytes)"
    digest = _sha256(data)
    recorded = _read_checksum(_checksum_path(path))
    if recorded is not None and recorded != digest:
        return None, "SHA-256 does not match its checksum file (half-written or corrupted)"
    try:
        with h5py.File(io.BytesIO(data), "r") as f:
            attrs = dict(f.attrs)
            rows = [f[name].shape[0] for name in _PER_SPECTRUM]
            ok_rows = int(attrs.get("count", -1)) == job.m and int(attrs.get("start", -1)) == job.start
            ok_rows = ok_rows and all(r == job.m for r in rows)
            if recorded is None and ok_rows:  # no checksum: read every byte of every dataset
                f.visititems(lambda _, obj: obj[()] if isinstance(obj, h5py.Dataset) else None)
            specs = _specs(f)
    except Exception as exc:  # any damage h5py meets (OSError, KeyError, RuntimeError ...)
        return None, f"not a readable HDF5 shard ({type(exc).__name__})"
    _check_manifest(attrs, job.manifest, path)  # other settings: refuse, never overwrite
    if not ok_rows:
        return None, f"wrong rows (expected {job.m} from index {job.start})"
    note = ""
    if recorded is None:
        _write_atomic(_checksum_path(path), f"{digest}  {path.name}\n".encode())
        note = f"{path.name}: no checksum (older database); settings, rows and a full read verified, checksum recorded"
    return _ShardRecord(job.k, job.m, digest, len(data), specs, note), ""


def _remove(path: Path) -> None:
    try:
        path.unlink(missing_ok=True)
    except OSError as exc:
        raise DatabaseWriteError(f"cannot remove {path} ({exc.strerror or exc}); remove it by hand and run again") from None


def _ensure_shard(job: _ShardJob, bar: Any = None) -> _ShardRecord:
    """Verify shard ``job.k``; write it when it is missing or damaged. Runs in-process or as a dask task."""
    path = Path(job.path)
    note = ""
    if path.exists():
        record, problem = _verify_shard(job)
        if record is not None:
            if bar is not None:
                bar.update(job.m)
            return record
        note = f"{path.name}: {problem}; written again"
        _remove(path)
    data = _render_shard(job, bar)
    digest = _sha256(data)
    # the checksum goes first: a shard file in place always has its checksum beside it
    _write_atomic(_checksum_path(path), f"{digest}  {path.name}\n".encode())
    _write_atomic(path, data)
    with h5py.File(io.BytesIO(data), "r") as f:
        specs = _specs(f)
    return _ShardRecord(job.k, job.m, digest, len(data), specs, note)


# ----------------------------------------------------------------------------- the whole database
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
    *,
    workers: int | None = None,
    scheduler_address: str | None = None,
    log: Callable[[str], None] | None = None,
) -> Path:
    """Write (or resume writing) a sharded HDF5 database of ``n`` synthetic spectra.

    Parameters
    ----------
    out : path
        Index file to create, e.g. ``db.h5``; shards go to ``db-shards/``, the lock is ``db.lock``.
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
        tqdm progress bar (per spectrum in one process, per shard on a cluster).
    n_threads : int, optional
        Synthesis threads per process (default: up to 2 in one process, 1 per dask task).
    workers : int, optional
        Write the shards on a dask ``LocalCluster`` of this many processes (one thread each).
    scheduler_address : str, optional
        Write the shards on a running dask scheduler, e.g. ``"tcp://10.0.0.5:8786"``; its workers
        must see ``out`` under the same path.
    log : callable, optional
        Receives one line per repaired or newly verified shard.

    Returns
    -------
    Path
        The index file.

    Raises
    ------
    DatabaseLockedError
        Another process is writing ``out``.
    DatabaseWriteError
        Disk full or another OS error (complete shards are kept; run again to resume).
    DatabaseError
        Bad ``out``, or an existing database of other settings.
    """
    if isinstance(n, bool) or int(n) != n or n <= 0:
        raise ValueError(f"n = {n!r}: the number of spectra must be a positive integer")
    if isinstance(seed, bool) or int(seed) != seed or seed < 0:
        raise ValueError(f"seed = {seed!r}: must be a non-negative integer")
    if int(shard_size) != shard_size or shard_size <= 0:
        raise ValueError(f"shard_size = {shard_size!r}: must be a positive integer")
    if dtype not in ("float16", "float32"):
        raise ValueError(f"dtype = {dtype!r}: use 'float16' or 'float32'")
    if not 0.0 <= validation_fraction < 1.0:
        raise ValueError(f"validation_fraction = {validation_fraction}: must be in [0, 1)")
    if workers is not None and (isinstance(workers, bool) or int(workers) != workers or workers <= 0):
        raise ValueError(f"workers = {workers!r}: must be a positive integer")
    if workers is not None and scheduler_address:
        raise ValueError("give either --workers (a local cluster) or --scheduler-address (a running one), not both")
    if n_threads is not None and (int(n_threads) != n_threads or n_threads <= 0):
        raise ValueError(f"threads = {n_threads!r}: must be a positive integer")
    config = config or SynthesisConfig()
    out = Path(out)
    _check_out(out)
    sdir = shard_dir(out)
    wanted = _manifest(n, seed, config, shard_size, dtype, validation_fraction)
    n_shards = -(-n // shard_size)
    with database_lock(out):
        if overwrite:
            _remove(out)
            if sdir.is_dir():
                for f in sdir.iterdir():
                    if f.is_file():
                        _remove(f)
        try:
            sdir.mkdir(exist_ok=True)
        except OSError as exc:
            raise DatabaseWriteError(f"cannot create the shard folder {sdir} ({exc.strerror or exc})") from None
        _remove_half_written(sdir)  # what a killed run left (no other writer runs: we hold the lock)
        _refuse_other_settings(out, wanted, n_shards)
        split = split_assignment(n, seed, validation_fraction)
        cluster = workers is not None or bool(scheduler_address)
        threads = n_threads if n_threads is not None else (1 if cluster else None)
        jobs = []
        for k in range(n_shards):
            start, m = k * shard_size, min(shard_size, n - k * shard_size)
            jobs.append(_ShardJob(str(shard_path(out, k).absolute()), k, start, m, int(seed), config, dtype,
                                  split[start : start + m], wanted, threads))
        if cluster:
            records = _run_on_cluster(jobs, out, workers, scheduler_address, progress, log)
        else:
            records = []
            bar = tqdm(total=n, disable=not progress, desc=f"writing {out.name}", unit="spectra", smoothing=0.05)
            with bar:
                for job in jobs:
                    records.append(_ensure_shard(job, bar))
                    if records[-1].note and log is not None:
                        log(records[-1].note)
        _remove_half_written(sdir)  # a worker killed while writing leaves its file; its shard was written again
        _write_index(out, records, n, wanted, config)
    return out


def _remove_half_written(sdir: Path) -> None:
    """Remove the ``*.tmp`` files of writers that were killed before renaming them into place."""
    for tmp in sdir.glob("*.tmp"):
        _remove(tmp)


def _refuse_other_settings(out: Path, wanted: dict[str, Any], n_shards: int) -> None:
    """Refuse to resume into files of another database (checked before any shard is written)."""
    if out.exists():
        try:
            with h5py.File(out, "r") as f:
                found = dict(f.attrs)
        except Exception:  # a damaged index is written again at the end; a foreign file is not ours to replace
            if out.stat().st_size and not any(shard_dir(out).glob("shard_*.h5")):
                raise DatabaseError(
                    f"{out} exists and is not an HDF5 database: choose another --out, or pass --overwrite to replace it"
                ) from None
        else:
            _check_manifest(found, wanted, out)
    for k in range(n_shards):
        path = shard_path(out, k)
        if not path.exists():
            continue
        try:
            with h5py.File(path, "r") as f:
                found = dict(f.attrs)
        except Exception:
            continue  # damaged: verified and written again shard by shard
        try:
            _check_manifest(found, wanted, path)
        except DatabaseError:
            recorded = _read_checksum(_checksum_path(path))
            if recorded is not None and recorded != _sha256(path.read_bytes()):
                continue  # corrupted attributes, not another database: written again
            raise


def _run_on_cluster(
    jobs: list[_ShardJob],
    out: Path,
    workers: int | None,
    scheduler_address: str | None,
    progress: bool,
    log: Callable[[str], None] | None,
) -> list[_ShardRecord]:
    """Verify or write every shard as one dask task each; the records in shard order."""
    import logging

    from dask.distributed import Client, LocalCluster, as_completed

    cluster = None
    try:
        if scheduler_address:
            where = f"the scheduler at {scheduler_address}"
            client = Client(scheduler_address)  # waits distributed.comm.timeouts.connect (dask config)
        else:
            where = f"a local cluster of {workers} processes"
            cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                                   dashboard_address=":0", silence_logs=logging.ERROR)
            client = Client(cluster)
    except Exception as exc:  # an unreachable address, a malformed one, a cluster that cannot start
        if cluster is not None:
            cluster.close()
        target = f"--scheduler-address {scheduler_address}" if scheduler_address else f"--workers {workers}"
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        raise DatabaseError(
            f"{target}: cannot start or reach a dask cluster ({first}); check the address, start one with "
            "`dask scheduler` and `dask worker ADDRESS`, or drop the option to write in one process"
        ) from None
    records: list[_ShardRecord | None] = [None] * len(jobs)
    futures = []
    try:
        run = secrets.token_hex(4)
        futures = [client.submit(_ensure_shard, job, pure=False, key=f"eels-core-shard-{job.k:05d}-{run}") for job in jobs]
        index = {f.key: job.k for f, job in zip(futures, jobs)}
        with tqdm(total=len(jobs), disable=not progress, desc=f"writing {out.name} on {where}", unit="shard") as bar:
            for fut in as_completed(futures):
                k = index[fut.key]
                try:
                    rec = fut.result()
                except DatabaseError:
                    raise
                except Exception as exc:  # a task that failed on a worker
                    why = (str(exc).strip().splitlines() or [""])[0]
                    raise DatabaseError(
                        f"shard {k} failed on {where} ({type(exc).__name__}: {why}); complete shards are kept: "
                        "fix the cause and run the same command again"
                    ) from None
                records[k] = rec
                if rec.note and log is not None:
                    log(rec.note)
                bar.update(1)
    finally:
        for fut in futures:
            fut.cancel()
        client.close()
        if cluster is not None:
            cluster.close()
    done = [r for r in records if r is not None]
    for r in done:  # the workers wrote to their file system: is it the one this machine sees?
        path = shard_path(out, r.k)
        if not path.exists() or path.stat().st_size != r.nbytes:
            raise DatabaseError(
                f"{path}, written by a worker of {where}, is not visible here: the workers must write to a "
                "file system that this machine sees under the same path (a shared folder for --out)"
            )
    return done


class _QuietLayout(h5py.VirtualLayout):
    """A virtual layout whose dataset records no creation/modification times (deterministic bytes)."""

    def _get_dcpl(self, dst_filename):  # type: ignore[no-untyped-def]
        dcpl = super()._get_dcpl(dst_filename)
        dcpl.set_obj_track_times(False)
        return dcpl


def _fill_value(dt: np.dtype) -> Any:
    """What a virtual dataset reads where a shard is missing: NaN, -1 or the largest unsigned value."""
    if dt.kind == "f":
        return np.nan
    if dt.kind == "u":
        return np.iinfo(dt).max
    return -1


def _write_index(out: Path, records: list[_ShardRecord], n: int, manifest: dict[str, Any], config: SynthesisConfig) -> None:
    records = sorted(records, key=lambda r: r.k)
    files = [os.path.relpath(shard_path(out, r.k), out.parent) for r in records]  # relative: movable folder
    bio = io.BytesIO()
    with h5py.File(bio, "w") as f:
        f.attrs.update(manifest)
        f.attrs["n_shards"] = len(records)
        f.attrs["eels_core_version"] = __version__
        f.create_dataset("energy_ev", data=config.output_energy_axis(), track_times=False)
        f.create_dataset("shards/file", data=np.array(files, dtype=h5py.string_dtype()), track_times=False)
        f.create_dataset("shards/rows", data=np.array([r.rows for r in records], dtype=np.int64), track_times=False)
        f.create_dataset("shards/bytes", data=np.array([r.nbytes for r in records], dtype=np.int64), track_times=False)
        f.create_dataset("shards/sha256", data=np.array([r.sha256 for r in records], dtype="S64"), track_times=False)
        for name, tail, dt in records[0].specs:
            dt = np.dtype(dt)
            layout = _QuietLayout(shape=(n,) + tuple(tail), dtype=dt)
            pos = 0
            for r, file in zip(records, files):
                layout[pos : pos + r.rows] = h5py.VirtualSource(file, name, shape=(r.rows,) + tuple(tail))
                pos += r.rows
            f.create_virtual_dataset(name, layout, fillvalue=_fill_value(dt))
    _write_atomic(out, bio.getbuffer())


# ----------------------------------------------------------------------------- reading
@dataclass
class DatabaseInfo:
    """What a database file says about itself.

    ``checksums`` is ``"sha256"`` when the index records a SHA-256 per shard, ``"none recorded"``
    for a database written before checksums (then only presence and row counts are checked).
    ``verified`` says what :func:`open_database` checked.
    """

    path: Path
    n: int
    seed: int
    config: SynthesisConfig
    shard_size: int
    dtype: str
    energy_ev: NDArray[np.float64]
    validation_fraction: float = 0.2
    shards: tuple[Path, ...] = field(default=())
    checksums: str = "sha256"
    verified: str = ""


def remake_command(info: DatabaseInfo) -> str:
    """The ``eels-core make-database`` command that (re)writes the database ``info`` describes."""
    cmd = f"eels-core make-database --n {info.n} --seed {info.seed} --out {info.path} --shard-size {info.shard_size}"
    cmd += f" --dtype {info.dtype}"
    if info.validation_fraction != 0.2:
        cmd += f" --validation-fraction {info.validation_fraction}"
    version = info.config.render_version
    config = info.config.replace(render_version=1)
    if config == SynthesisConfig.with_real_data_physics():
        cmd += " --real-data-physics"
    elif config != SynthesisConfig():
        cmd += " --config FILE (the config stored in the index)"
    if version != 1:
        cmd += f" --render-version {version}"
    return cmd


def _index_shards(f: h5py.File, index: Path) -> list[tuple[Path, int]]:
    """(file, rows) of every shard that the index's ``spectra`` joins, in order."""
    out = []
    for src in f["spectra"].virtual_sources():
        (lo, _), (hi, _) = src.vspace.get_select_bounds()
        p = Path(src.file_name)
        out.append((p if p.is_absolute() else index.parent / p, int(hi) - int(lo) + 1))
    return out


def _shard_rows(path: Path) -> int | None:
    try:
        with h5py.File(path, "r") as f:
            return int(f["spectra"].shape[0])
    except Exception:
        return None


def open_database(path: str | os.PathLike[str], verify: bool = False) -> DatabaseInfo:
    """Read and check a database's metadata and that all its shards are there.

    Parameters
    ----------
    path : path
        Index file.
    verify : bool
        Also read every shard and check its SHA-256 (``eels-core info`` does).

    Raises
    ------
    FileNotFoundError
        No such file.
    DatabaseError (a ValueError)
        Not a database of this project, written with another config version, or a shard is
        missing, of the wrong size or damaged (the message names it and the command that rewrites it).
    """
    p = Path(path)
    if not p.exists():
        raise FileNotFoundError(f"{p}: no such database; create one with `eels-core make-database --out {p}`")
    if p.is_dir():
        raise DatabaseError(f"{p} is a folder: give the database's index file, e.g. {p / 'db.h5'}")
    try:
        f = h5py.File(p, "r")
    except OSError as exc:
        raise DatabaseError(f"{p} is not an HDF5 file ({exc})") from None
    with f:
        attrs = dict(f.attrs)
        if attrs.get("format") != FORMAT_NAME:
            raise DatabaseError(f"{p} is not an eels-edge-book spectrum database")
        version = int(attrs.get("config_version", -1))
        if version != CONFIG_VERSION:
            raise DatabaseError(
                f"{p} was written with config version {version}, but this eels_core reads version "
                f"{CONFIG_VERSION}: regenerate it with `eels-core make-database`"
            )
        info = DatabaseInfo(
            path=p,
            n=int(attrs["n"]),
            seed=int(attrs["seed"]),
            config=SynthesisConfig.from_json(str(attrs["config"])),
            shard_size=int(attrs["shard_size"]),
            dtype=str(attrs["dtype"]),
            energy_ev=f["energy_ev"][()],
            validation_fraction=float(attrs.get("validation_fraction", 0.2)),
        )
        shards = _index_shards(f, p)
        recorded = "shards" in f and "sha256" in f["shards"]
        sha = [s.decode() for s in f["shards/sha256"][()]] if recorded else None
        nbytes = [int(b) for b in f["shards/bytes"][()]] if recorded else None
    fix = f"run `{remake_command(info)}` to rewrite it"
    for k, (shard, rows) in enumerate(shards):
        if not shard.exists():
            raise DatabaseError(f"{p}: shard {shard} is missing; {fix}")
        if recorded:
            size = shard.stat().st_size
            if size != nbytes[k]:
                raise DatabaseError(f"{p}: shard {shard} has {size} bytes, the index records {nbytes[k]} (damaged); {fix}")
            if verify and _sha256(shard.read_bytes()) != sha[k]:
                raise DatabaseError(f"{p}: shard {shard} does not match its SHA-256 in the index (damaged); {fix}")
        else:
            found = _shard_rows(shard)
            if found != rows:
                what = "is not a readable shard" if found is None else f"has {found} rows, the index expects {rows}"
                raise DatabaseError(f"{p}: shard {shard} {what}; {fix}")
    info.shards = tuple(s for s, _ in shards)
    if recorded:
        info.checksums = "sha256"
        info.verified = (f"all {len(shards)} shards present; SHA-256 of every shard matches the index" if verify
                         else f"all {len(shards)} shards present with their recorded sizes")
    else:
        info.checksums = "none recorded"
        info.verified = (f"all {len(shards)} shards present with their row counts; no checksums recorded (database "
                         "written before checksums; re-running its make-database command records them)")
    return info


__all__ = [
    "DatabaseError",
    "DatabaseInfo",
    "DatabaseLockedError",
    "DatabaseWriteError",
    "database_lock",
    "lock_path",
    "open_database",
    "remake_command",
    "shard_dir",
    "shard_path",
    "split_assignment",
    "write_database",
]
