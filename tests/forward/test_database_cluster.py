"""make-database on a dask.distributed cluster: the same bytes as one process, resumable.

Two worker processes with one thread each (a LocalCluster), three shards of 200 spectra.
"""

import logging
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from eels_core.cli import main
from eels_core.forward.database import shard_dir, shard_path, write_database

dask = pytest.importorskip("dask")
distributed = pytest.importorskip("distributed")

SETTINGS = dict(n=600, seed=4, shard_size=200, dtype="float16")
ARGS = ["--n", "600", "--seed", "4", "--shard-size", "200", "--quiet"]


def _files(out):
    out = Path(out)
    found = {out.name: out.read_bytes()}
    found.update({p.name: p.read_bytes() for p in sorted(shard_dir(out).iterdir())})
    return found


def _same_bytes(a, b):
    fa, fb = _files(a), _files(b)
    assert sorted(fa) == sorted(fb) and len(fa) == 7  # index + 3 shards + 3 checksum files
    for name in fa:
        assert fa[name] == fb[name], f"{name} differs"


@pytest.fixture(scope="module")
def single(tmp_path_factory):
    """The database written in one process (the reference)."""
    return write_database(tmp_path_factory.mktemp("single") / "db.h5", progress=False, **SETTINGS)


@pytest.fixture(scope="module")
def cluster():
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0",
                                  silence_logs=logging.ERROR) as c:
        yield c


def test_workers_write_the_same_bytes_as_one_process(single, tmp_path, capsys):
    out = tmp_path / "db.h5"
    assert main(["make-database", *ARGS, "--out", str(out), "--workers", "2"]) == 0
    assert capsys.readouterr().out == f"wrote {out}\n"
    _same_bytes(out, single)
    assert main(["info", str(out)]) == 0


def test_resume_on_a_cluster_after_damage(single, cluster, tmp_path):
    shutil.copytree(single.parent, tmp_path / "db")
    out = tmp_path / "db" / "db.h5"
    out.unlink()  # a run killed before the index ...
    shard_path(out, 1).unlink()  # ... with one shard missing ...
    data = bytearray(shard_path(out, 2).read_bytes())
    data[len(data) // 2] ^= 0x10  # ... and one corrupted
    shard_path(out, 2).write_bytes(bytes(data))
    kept = shard_path(out, 0).stat().st_mtime_ns
    notes = []
    write_database(out, progress=True, scheduler_address=cluster.scheduler_address, log=notes.append, **SETTINGS)
    assert notes == ["shard_00002.h5: SHA-256 does not match its checksum file (half-written or corrupted); written again"]
    assert shard_path(out, 0).stat().st_mtime_ns == kept  # verified on a worker and skipped
    _same_bytes(out, single)


def test_a_killed_worker_loses_nothing(single, cluster, tmp_path):
    out = tmp_path / "db.h5"
    client = distributed.Client(cluster)
    pids = client.run(os.getpid)
    victim = pids[sorted(pids)[0]]
    settings = dict(SETTINGS, n=1200)  # six shards, so that some are still to do when the workers die
    done = threading.Event()
    error = []

    def run():
        try:
            write_database(out, progress=False, scheduler_address=cluster.scheduler_address, **settings)
        except Exception as exc:  # pragma: no cover - reported below
            error.append(exc)
        done.set()

    threading.Thread(target=run, daemon=True).start()
    deadline = time.time() + 120
    while time.time() < deadline and not list(shard_dir(out).glob("shard_*.h5")) and not done.is_set():
        time.sleep(0.02)
    n_at_kill = len(list(shard_dir(out).glob("shard_*.h5")))
    assert 1 <= n_at_kill < 6 and not done.is_set()
    os.kill(victim, signal.SIGKILL)  # one worker, in the middle of a shard; its nanny starts a new one
    assert done.wait(120) and not error, error
    assert victim not in client.run(os.getpid).values()
    client.close()
    ref = write_database(tmp_path / "ref" / "db.h5", progress=False, **settings)
    a, b = _files(out), _files(ref)
    assert len(a) == 13 and a == b


def test_a_killed_client_resumes(single, cluster, tmp_path):
    out = tmp_path / "db.h5"
    cmd = ["make-database", *ARGS, "--out", str(out), "--scheduler-address", cluster.scheduler_address]
    proc = subprocess.Popen([sys.executable, "-m", "eels_core.cli", *cmd], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, start_new_session=True)
    deadline = time.time() + 120
    while time.time() < deadline and not list(shard_dir(out).glob("shard_*.h5")) and proc.poll() is None:
        time.sleep(0.01)
    os.killpg(proc.pid, signal.SIGKILL)  # the client; its tasks may still finish on the workers
    proc.wait()
    assert not out.exists() and 1 <= len(list(shard_dir(out).glob("shard_*.h5"))) < 3
    assert main(cmd) == 0
    _same_bytes(out, single)


def test_unreachable_scheduler_is_one_line(tmp_path, capsys):
    out = tmp_path / "db.h5"
    with dask.config.set({"distributed.comm.timeouts.connect": "2s"}):
        assert main(["make-database", *ARGS, "--out", str(out), "--scheduler-address", "tcp://127.0.0.1:9"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("eels-core: error: --scheduler-address tcp://127.0.0.1:9: cannot start or reach")
    assert err.count("\n") == 1
    with pytest.raises(SystemExit) as e:  # argparse: one or the other
        main(["make-database", *ARGS, "--out", str(out), "--workers", "2", "--scheduler-address", "x"])
    assert e.value.code == 2 and "not allowed with argument" in capsys.readouterr().err
