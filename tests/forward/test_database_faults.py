"""make-database against faults: a second writer, damaged or missing shards, a full disk, bad --out.

Each case ends either in one line and exit status 2, or in a database byte for byte equal to one
written without the fault.
"""

import errno
import os
import resource
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import h5py
import numpy as np
import pytest

from eels_core.cli import main
from eels_core.forward import database
from eels_core.forward.database import (
    DatabaseError,
    DatabaseLockedError,
    DatabaseWriteError,
    database_lock,
    lock_path,
    open_database,
    shard_dir,
    shard_path,
    write_database,
)
from eels_core.learning.datasets import SpectrumDataset

ARGS = ["--n", "300", "--seed", "2", "--shard-size", "128", "--dtype", "float32", "--quiet"]


def _cmd(out):
    return ["make-database", *ARGS, "--out", str(out)]


def _files(out):
    """Every file of a database except its lock: name -> bytes."""
    out = Path(out)
    found = {out.name: out.read_bytes()}
    found.update({f"{p.parent.name}/{p.name}": p.read_bytes() for p in sorted(shard_dir(out).iterdir())})
    return found


def _same_bytes(a, b):
    fa, fb = _files(a), _files(b)
    assert sorted(fa) == sorted(fb)
    for name in fa:
        assert fa[name] == fb[name], f"{name} differs"


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    """A database written without faults: tmp/ref/db.h5 (3 shards of 128, 128, 44 spectra)."""
    out = tmp_path_factory.mktemp("ref") / "db.h5"
    assert main(_cmd(out)) == 0
    return out


@pytest.fixture
def copy(reference, tmp_path):
    """A copy of the reference database under the same name (so every byte can be compared)."""
    shutil.copytree(reference.parent, tmp_path / "db")
    return tmp_path / "db" / "db.h5"


def _one_line_error(capsys, *words):
    err = capsys.readouterr().err
    assert err.startswith("eels-core: error: ") and err.count("\n") == 1, err
    for w in words:
        assert w in err, (w, err)
    return err


def test_shards_carry_checksums_and_the_index_records_them(reference):
    sdir = shard_dir(reference)
    assert sorted(p.name for p in sdir.iterdir()) == [f"shard_0000{k}.h5{s}" for k in range(3) for s in ("", ".sha256")]
    with h5py.File(reference, "r") as f:
        rows, nbytes, sha = f["shards/rows"][()], f["shards/bytes"][()], [s.decode() for s in f["shards/sha256"][()]]
        assert list(f["shards/file"].asstr()[()]) == [f"db-shards/shard_0000{k}.h5" for k in range(3)]
    assert rows.tolist() == [128, 128, 44]
    for k in range(3):
        data = shard_path(reference, k).read_bytes()
        assert nbytes[k] == len(data)
        import hashlib

        assert sha[k] == hashlib.sha256(data).hexdigest()
        assert (sdir / f"shard_0000{k}.h5.sha256").read_text() == f"{sha[k]}  shard_0000{k}.h5\n"  # sha256sum -c format
    info = open_database(reference, verify=True)
    assert info.checksums == "sha256" and "SHA-256 of every shard" in info.verified and len(info.shards) == 3


def test_writing_is_deterministic(reference, tmp_path):
    out = write_database(tmp_path / "db.h5", n=300, seed=2, shard_size=128, dtype="float32", progress=False,
                         n_threads=1)
    _same_bytes(out, reference)


def test_second_writer_is_refused_in_one_line(copy, capsys):
    with database_lock(copy):
        proc = subprocess.run([sys.executable, "-m", "eels_core.cli", *_cmd(copy)], capture_output=True, text=True)
        assert main(_cmd(copy)) == 2
    assert proc.returncode == 2, proc.stderr
    err = proc.stderr
    assert err.startswith("eels-core: error: ") and err.count("\n") == 1, err
    assert str(lock_path(copy)) in err and "another make-database" in err and "wait" in err
    assert f"process {os.getpid()}" in err  # names who holds it
    _one_line_error(capsys, "db.lock")
    with pytest.raises(DatabaseLockedError):
        with database_lock(copy):
            write_database(copy, n=300, seed=2, shard_size=128, dtype="float32", progress=False)
    with database_lock(copy.with_suffix(".hdf5")):  # another index name, the same shard folder
        assert main(_cmd(copy)) == 2
    _one_line_error(capsys, "db.lock")
    assert main(_cmd(copy)) == 0  # released: the same command now runs


def test_zero_byte_half_written_and_corrupted_shards_are_rewritten(reference, copy, capsys):
    sdir = shard_dir(copy)
    shard_path(copy, 0).write_bytes(b"")  # zero bytes
    half = shard_path(copy, 1).read_bytes()
    shard_path(copy, 1).write_bytes(half[: len(half) // 2])  # half-written, renamed into place
    data = bytearray(shard_path(copy, 2).read_bytes())
    data[len(data) // 2] ^= 0x40  # one flipped bit inside the spectra: HDF5 still opens it
    shard_path(copy, 2).write_bytes(bytes(data))
    with h5py.File(shard_path(copy, 2), "r") as f:
        assert f["spectra"].shape == (44, 4551)  # so only the checksum can tell
    (sdir / "shard_00001.h5.123-abcd.tmp").write_bytes(b"left by a killed run")
    assert main(_cmd(copy)) == 0
    err = capsys.readouterr().err
    assert "shard_00000.h5: empty (0 bytes); written again" in err
    assert "shard_00001.h5: SHA-256 does not match its checksum file (half-written or corrupted)" in err
    assert "shard_00002.h5: SHA-256 does not match" in err
    assert "Traceback" not in err
    _same_bytes(copy, reference)


def test_damaged_checksum_file_or_garbage_shard_is_rewritten(reference, copy, capsys):
    (shard_dir(copy) / "shard_00001.h5.sha256").write_text("0" * 64 + "  shard_00001.h5\n")
    shard_path(copy, 2).write_bytes(b"\x89HDF\r\n\x1a\n" + os.urandom(5000))
    (shard_dir(copy) / "shard_00002.h5.sha256").unlink()  # and no checksum beside it
    assert main(_cmd(copy)) == 0
    err = capsys.readouterr().err
    assert "shard_00001.h5: SHA-256 does not match" in err
    assert "shard_00002.h5: not a readable HDF5 shard" in err
    _same_bytes(copy, reference)


def test_complete_verified_shards_are_kept(copy):
    before = {k: shard_path(copy, k).stat().st_mtime_ns for k in range(3)}
    shard_path(copy, 1).unlink()
    assert main(_cmd(copy)) == 0
    assert shard_path(copy, 0).stat().st_mtime_ns == before[0]
    assert shard_path(copy, 2).stat().st_mtime_ns == before[2]


def test_missing_shard_is_an_error_in_info_and_datasets(copy, capsys):
    ds = SpectrumDataset(copy, split=None)  # opened while complete, before any shard is read
    shard_path(copy, 1).unlink()
    assert main(["info", str(copy)]) == 2
    _one_line_error(capsys, "shard_00001.h5 is missing", "eels-core make-database --n 300 --seed 2",
                    "--shard-size 128 --dtype float32", "to rewrite it")
    with pytest.raises(DatabaseError, match="shard_00001.h5 is missing"):
        open_database(copy)
    with pytest.raises(DatabaseError, match="shard_00001.h5 is missing"):
        SpectrumDataset(copy)
    with pytest.raises(DatabaseError, match="spectrum 130 reads as NaN"):
        ds[130]  # the shard vanished after opening: an error, never zeros
    x, _ = ds[0]
    assert np.isfinite(x.numpy()).all() and x.abs().sum() > 0
    with h5py.File(copy, "r") as f:
        assert np.isnan(f["spectra"][200]).all()  # what the index itself reads there: NaN, not 0
    assert main(_cmd(copy)) == 0 and main(["info", str(copy)]) == 0


def test_truncated_or_corrupted_shard_is_an_error_in_info(copy, capsys):
    data = shard_path(copy, 2).read_bytes()
    shard_path(copy, 2).write_bytes(data[:-10])
    with pytest.raises(DatabaseError, match=r"shard_00002.h5 has \d+ bytes, the index records \d+"):
        open_database(copy)
    flipped = bytearray(data)
    flipped[len(data) // 2] ^= 1
    shard_path(copy, 2).write_bytes(bytes(flipped))
    open_database(copy)  # same size: the quick check of SpectrumDataset passes ...
    assert main(["info", str(copy)]) == 2  # ... and `info` reads every byte
    _one_line_error(capsys, "shard_00002.h5 does not match its SHA-256")


def _strip_checksums(out):
    """Make a database look written before checksums: no .sha256 files, no shards/ group in the index."""
    for p in shard_dir(out).glob("*.sha256"):
        p.unlink()
    with h5py.File(out, "r+") as f:
        del f["shards"]


def test_older_database_without_checksums_reads_and_resumes(reference, copy, capsys):
    _strip_checksums(copy)
    info = open_database(copy, verify=True)
    assert info.checksums == "none recorded" and "row counts" in info.verified
    assert len(SpectrumDataset(copy, "validation")) == 60
    assert main(["info", str(copy)]) == 0
    assert '"checksums": "none recorded"' in capsys.readouterr().out
    data = shard_path(copy, 2).read_bytes()
    shard_path(copy, 2).write_bytes(data[: len(data) - 4000])  # truncated, and no checksum to say so
    with pytest.raises(DatabaseError, match="shard_00002.h5 is not a readable shard"):
        SpectrumDataset(copy)
    shard_path(copy, 1).unlink()
    with pytest.raises(DatabaseError, match="shard_00001.h5 is missing"):
        open_database(copy)
    assert main(_cmd(copy)) == 0  # resume: verifies shard 0 by rows and a full read, records its checksum
    err = capsys.readouterr().err
    assert "shard_00000.h5: no checksum (older database)" in err
    assert "shard_00002.h5: not a readable HDF5 shard" in err
    _same_bytes(copy, reference)


def _limit_file_size(limit):
    def preexec():
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # as `ulimit -f`: writes fail with EFBIG, no signal
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    return preexec


def test_disk_full_is_one_line_exit_2_and_resumable(reference, copy):
    shard_path(copy, 1).unlink()  # as if interrupted before shard 1
    copy.unlink()
    kept = {k: shard_path(copy, k).stat().st_mtime_ns for k in (0, 2)}
    cmd = [sys.executable, "-m", "eels_core.cli", *_cmd(copy)]
    proc = subprocess.run(cmd, capture_output=True, text=True, preexec_fn=_limit_file_size(1_000_000))
    assert proc.returncode == 2, proc.stderr
    err = proc.stderr
    assert err.startswith("eels-core: error: cannot write ") and err.count("\n") == 1, err
    assert "shard_00001.h5" in err and "File too large" in err and "run the same command again" in err
    sdir = shard_dir(copy)
    assert not list(sdir.glob("*.tmp")) and not shard_path(copy, 1).exists()
    assert {k: shard_path(copy, k).stat().st_mtime_ns for k in (0, 2)} == kept
    assert subprocess.run(cmd, capture_output=True).returncode == 0  # room again: resumes
    _same_bytes(copy, reference)


def test_no_space_left_is_a_write_error_with_nothing_half_written(copy, monkeypatch):
    shard_path(copy, 2).unlink()

    def full(fd):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(database.os, "fsync", full)
    with pytest.raises(DatabaseWriteError, match="shard_00002.h5.sha256 \\(No space left on device\\)") as e:
        write_database(copy, n=300, seed=2, shard_size=128, dtype="float32", progress=False)
    assert isinstance(e.value, OSError) and "\n" not in str(e.value)
    assert not list(shard_dir(copy).glob("*.tmp")) and not shard_path(copy, 2).exists()


def test_bad_out_is_one_line_exit_2(tmp_path, capsys):
    folder = tmp_path / "folder"
    folder.mkdir()
    assert main(["make-database", *ARGS, "--out", str(folder)]) == 2
    _one_line_error(capsys, "is a folder", "db.h5")
    a_file = tmp_path / "notes.txt"
    a_file.write_text("my notes")
    assert main(["make-database", *ARGS, "--out", str(a_file / "db.h5")]) == 2
    _one_line_error(capsys, "cannot create the folder")
    assert main(["make-database", *ARGS, "--out", "/proc/eels/db.h5"]) == 2  # unwritable, even for root
    _one_line_error(capsys, "/proc/eels")
    assert main(["make-database", *ARGS, "--out", str(a_file)]) == 2  # someone's file: never replaced
    _one_line_error(capsys, "is not an HDF5 database", "--overwrite")
    assert a_file.read_text() == "my notes"
    (tmp_path / "x-shards").write_text("in the way")
    assert main(["make-database", *ARGS, "--out", str(tmp_path / "x.h5")]) == 2
    _one_line_error(capsys, "x-shards", "is a file")
    assert main(["make-database", *ARGS, "--out", str(tmp_path / "db.lock")]) == 2
    _one_line_error(capsys, "end it in .h5")
    assert main(["info", str(folder)]) == 2
    _one_line_error(capsys, "is a folder")
    assert main(["make-database", *ARGS, "--out", str(tmp_path / "w.h5"), "--workers", "0"]) == 2
    _one_line_error(capsys, "workers = 0")


def test_foreign_hdf5_file_is_not_replaced(tmp_path, capsys):
    other = tmp_path / "other.h5"
    with h5py.File(other, "w") as f:
        f["data"] = np.arange(3)
    assert main(["make-database", *ARGS, "--out", str(other)]) == 2
    _one_line_error(capsys, "not an eels-edge-book database file", "--overwrite")
    with h5py.File(other, "r") as f:
        assert f["data"][()].tolist() == [0, 1, 2]
    assert main(["make-database", *ARGS, "--out", str(other), "--overwrite"]) == 0
    assert open_database(other).n == 300
