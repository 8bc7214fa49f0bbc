"""Sharded HDF5 database: content, split, resume after a kill, version checks, torch datasets."""

import os
import signal
import subprocess
import sys
import time

import h5py
import numpy as np
import pytest
import torch

from eels_core.cli import main
from eels_core.forward.config import SynthesisConfig
from eels_core.forward.database import (
    open_database,
    shard_dir,
    split_assignment,
    write_database,
)
from eels_core.learning.datasets import SpectrumDataset, SyntheticSpectrumStream
from eels_core.forward.synthesis import synthesize


def test_database_holds_what_synthesize_makes(tmp_path):
    out = write_database(tmp_path / "db.h5", n=300, seed=2, shard_size=128, dtype="float32", progress=False)
    ref = synthesize(300, seed=2)
    with h5py.File(out, "r") as f:
        assert f["spectra"].shape == (300, 4551)
        np.testing.assert_array_equal(f["spectra"][()], ref.spectra)
        np.testing.assert_array_equal(f["labels"][()], ref.labels)
        np.testing.assert_array_equal(f["params/shift_ev"][()], ref.params.shift_ev)
        np.testing.assert_array_equal(f["index"][()], np.arange(300))
        split = f["split"][()]
    assert split.sum() == 60  # exactly 20 % validation
    assert len(list(shard_dir(out).glob("shard_*.h5"))) == 3
    info = open_database(out)
    assert info.n == 300 and info.config == SynthesisConfig() and info.energy_ev.size == 4551


def test_float16_storage_is_close(tmp_path):
    out = write_database(tmp_path / "db16.h5", n=64, seed=1, shard_size=64, progress=False)
    with h5py.File(out, "r") as f:
        x = f["spectra"][()]
    assert x.dtype == np.float16
    np.testing.assert_allclose(x, synthesize(64, seed=1).spectra, rtol=2e-3, atol=1e-6)


def test_resume_after_partial_run_gives_identical_database(tmp_path):
    full = write_database(tmp_path / "a.h5", n=400, seed=5, shard_size=128, dtype="float32", progress=False)
    part = tmp_path / "b.h5"
    write_database(part, n=400, seed=5, shard_size=128, dtype="float32", progress=False)
    sd = shard_dir(part)
    (sd / "shard_00002.h5").unlink()  # as if killed before shard 2 was finished...
    (sd / "shard_00002.h5.tmp").write_bytes(b"half a shard")  # ...leaving a partial file
    part.unlink()
    mtime = (sd / "shard_00000.h5").stat().st_mtime_ns
    write_database(part, n=400, seed=5, shard_size=128, dtype="float32", progress=False)
    assert (sd / "shard_00000.h5").stat().st_mtime_ns == mtime  # complete shards are not rewritten
    assert not list(sd.glob("*.tmp"))
    with h5py.File(full, "r") as a, h5py.File(part, "r") as b:
        for name in ("spectra", "labels", "split", "index", "params/noise_seed"):
            np.testing.assert_array_equal(a[name][()], b[name][()])


def test_kill_and_rerun_resumes(tmp_path):
    """A real SIGKILL in the middle of the command, then the same command again."""
    out = tmp_path / "k.h5"
    cmd = [sys.executable, "-m", "eels_core.cli", "make-database", "--n", "2560", "--seed", "9",
           "--out", str(out), "--shard-size", "256", "--dtype", "float32", "--quiet", "--threads", "1"]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    sd = shard_dir(out)
    # Wait for two complete shards however loaded the machine is (no timing assumption beyond a
    # generous ceiling), then kill the command while it is still writing.
    deadline = time.time() + 600
    while time.time() < deadline and proc.poll() is None and len(list(sd.glob("shard_*.h5"))) < 2:
        time.sleep(0.02)
    assert proc.poll() is None, "make-database ended before it could be killed"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    n_before = len(list(sd.glob("shard_*.h5")))
    assert 2 <= n_before < 10 and not out.exists()
    assert subprocess.run(cmd, capture_output=True).returncode == 0
    ref = synthesize(2560, seed=9)
    with h5py.File(out, "r") as f:
        np.testing.assert_array_equal(f["spectra"][()], ref.spectra)
        np.testing.assert_array_equal(f["index"][()], np.arange(2560))


def test_resume_with_other_settings_is_refused(tmp_path):
    out = tmp_path / "c.h5"
    write_database(out, n=128, seed=1, shard_size=64, progress=False)
    with pytest.raises(ValueError, match="seed"):
        write_database(out, n=128, seed=2, shard_size=64, progress=False)
    with pytest.raises(ValueError, match="config"):
        write_database(out, n=128, seed=1, shard_size=64, progress=False, config=SynthesisConfig(noise_sd=0.001))
    write_database(out, n=128, seed=2, shard_size=64, progress=False, overwrite=True)
    assert open_database(out).seed == 2


def test_other_config_version_is_refused_clearly(tmp_path):
    out = write_database(tmp_path / "v.h5", n=64, seed=1, shard_size=64, progress=False)
    with h5py.File(out, "r+") as f:
        f.attrs["config_version"] = 999
    with pytest.raises(ValueError, match="config version 999"):
        open_database(out)
    with pytest.raises(ValueError, match="config version 999"):
        SpectrumDataset(out)


def test_not_a_database(tmp_path):
    bad = tmp_path / "x.h5"
    bad.write_text("hello")
    with pytest.raises(ValueError, match="not an HDF5 file"):
        open_database(bad)
    with h5py.File(tmp_path / "y.h5", "w") as f:
        f["a"] = 1
    with pytest.raises(ValueError, match="not an eels-edge-book"):
        open_database(tmp_path / "y.h5")
    with pytest.raises(FileNotFoundError, match="make-database"):
        open_database(tmp_path / "missing.h5")


@pytest.mark.parametrize("kwargs,field", [({"n": 0}, "n ="), ({"n": 10, "shard_size": 0}, "shard_size"),
                                          ({"n": 10, "dtype": "int8"}, "dtype"),
                                          ({"n": 10, "validation_fraction": 1.5}, "validation_fraction")])
def test_bad_database_arguments(tmp_path, kwargs, field):
    with pytest.raises(ValueError, match=field):
        write_database(tmp_path / "z.h5", progress=False, **kwargs)


def test_split_is_seeded_and_exact():
    a = split_assignment(1000, 3)
    assert a.sum() == 200
    np.testing.assert_array_equal(a, split_assignment(1000, 3))
    assert not np.array_equal(a, split_assignment(1000, 4))


def test_torch_dataset_reads_the_split(tmp_path):
    out = write_database(tmp_path / "t.h5", n=200, seed=3, shard_size=64, dtype="float32", progress=False)
    train, val = SpectrumDataset(out, "train"), SpectrumDataset(out, "validation")
    assert len(train) == 160 and len(val) == 40
    assert set(train.indices).isdisjoint(val.indices)
    x, y = val[0]
    ref = synthesize(200, seed=3)
    assert x.dtype == torch.float32 and x.shape == (4551,) and y.shape == (20,)
    np.testing.assert_array_equal(x.numpy(), ref.spectra[val.indices[0]])
    loader = torch.utils.data.DataLoader(train, batch_size=32, shuffle=True, num_workers=2)
    xb, yb = next(iter(loader))
    assert xb.shape == (32, 4551) and yb.shape == (32, 20)


def test_iterable_stream_generates_without_disk():
    stream = SyntheticSpectrumStream(seed=4, n=100)
    items = list(stream)
    assert len(items) == 100
    ref = synthesize(100, seed=4)
    np.testing.assert_array_equal(torch.stack([x for x, _ in items]).numpy(), ref.spectra)
    loader = torch.utils.data.DataLoader(SyntheticSpectrumStream(seed=4, n=256), batch_size=64, num_workers=2)
    assert sum(xb.shape[0] for xb, _ in loader) == 256


def test_cli_bad_input_one_line_exit_2(tmp_path, capsys):
    cfg = tmp_path / "c.json"
    cfg.write_text('{"psf_fwhm_gauss_ev": [-1, 2]}')
    assert main(["make-database", "--n", "10", "--out", str(tmp_path / "d.h5"), "--config", str(cfg)]) == 2
    err = capsys.readouterr().err
    assert "psf_fwhm_gauss_ev" in err and err.count("\n") == 1
    assert main(["make-database", "--n", "0", "--out", str(tmp_path / "d.h5")]) == 2
    assert main(["info", str(tmp_path / "nothing.h5")]) == 2


def test_cli_writes_and_describes(tmp_path, capsys):
    out = tmp_path / "e.h5"
    assert main(["make-database", "--n", "64", "--out", str(out), "--shard-size", "64", "--quiet"]) == 0
    assert main(["info", str(out)]) == 0
    assert '"n": 64' in capsys.readouterr().out
