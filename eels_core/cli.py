"""Command line: ``eels-core make-database``, ``eels-core train`` and ``eels-core info``.

Errors in the input (a bad config value, a database of another version) print one line naming
the problem and exit with status 2; no traceback. ``make-database`` holds a lock while it writes,
verifies existing shards when it resumes, and runs its shards as dask tasks with ``--workers N``
or ``--scheduler-address tcp://HOST:PORT`` (see :mod:`eels_core.forward.database`); ``info``
checks every shard against the SHA-256 recorded in the index.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import textwrap
import sys
from pathlib import Path

from .forward.config import SynthesisConfig


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="eels-core", description="EELS forward model and database (Kong, Ji & Xin 2022)")
    sub = p.add_subparsers(dest="command", required=True)
    mk = sub.add_parser(
        "make-database",
        help="write (or resume) a sharded HDF5 database of synthetic spectra",
        description="Write a sharded HDF5 database (index OUT, shards in OUT-stem-shards/, each with a SHA-256 "
        "file). Run the same command again after an interruption, a full disk or a crash: complete shards are "
        "verified and kept, a missing, half-written or corrupted shard is written again. One writer at a "
        "time (a lock OUT-stem.lock; a second one is refused). With --workers N or --scheduler-address the shards "
        "are dask tasks; the files are byte for byte those of a run in one process.",
        epilog="cluster: eels-core make-database --n 1000000 --seed 0 --out /shared/db.h5 "
        "--scheduler-address tcp://HOST:8786 (workers started with `dask worker tcp://HOST:8786` must see "
        "/shared under the same path); on one machine: --workers 8.",
    )
    mk.add_argument("--n", type=int, required=True, help="number of spectra (paper: 250000)")
    mk.add_argument("--seed", type=int, default=0, help="seed of the synthesis stream (default 0)")
    mk.add_argument("--out", required=True, help="index file to write, e.g. db.h5 (shards go to db-shards/)")
    mk.add_argument("--config", help="JSON file of SynthesisConfig fields to change from the paper's defaults")
    mk.add_argument(
        "--real-data-physics",
        action="store_true",
        help="add plural scattering, distractor edges and background-subtracted spectra (beyond the paper)",
    )
    mk.add_argument(
        "--render-version", type=int, choices=(1, 2), default=None,
        help="how spectra are computed from their parameters: 1, the paper's formulation (the default); 2, the "
        "fast version (one FFT pair per spectrum, single precision; recorded in the database)",
    )
    mk.add_argument("--shard-size", type=int, default=10_000, help="spectra per shard file (default 10000)")
    mk.add_argument("--dtype", choices=("float16", "float32"), default="float16", help="storage type of spectra")
    mk.add_argument("--validation-fraction", type=float, default=0.2, help="validation share (paper: 0.2)")
    mk.add_argument("--overwrite", action="store_true", help="discard an existing database of other settings")
    mk.add_argument("--threads", type=int, default=None,
                    help="synthesis threads per process (default: up to 2 in one process, 1 per dask task)")
    where = mk.add_mutually_exclusive_group()
    where.add_argument("--workers", type=int, metavar="N",
                       help="write the shards on a local dask cluster of N processes (1 thread each)")
    where.add_argument("--scheduler-address", metavar="tcp://HOST:PORT",
                       help="write the shards on a running dask.distributed scheduler; its workers must see "
                       "--out under the same path")
    mk.add_argument("--quiet", action="store_true", help="no progress bar")
    tr = sub.add_parser(
        "train",
        help="train the CNN-BiLSTM (resumes from OUT/checkpoint.pt; works under torchrun)",
        description="Train the CNN-BiLSTM with a preset. Run the same command again after an interruption "
        "to resume from the last checkpoint. Multi-GPU/CPU: torchrun --nproc_per_node N -m eels_core.cli train ...",
    )
    from .learning.presets import preset_description, preset_names

    names = preset_names()
    tr.formatter_class = argparse.RawDescriptionHelpFormatter
    tr.epilog = "presets:\n" + "\n".join(
        f"  {n}\n" + textwrap.fill(preset_description(n), 96, initial_indent=" " * 6, subsequent_indent=" " * 6)
        for n in names
    )
    recipe = tr.add_mutually_exclusive_group()
    recipe.add_argument("--preset", choices=names, default="cpu-ci", metavar="NAME",
                        help=f"a named training configuration: {', '.join(names)} (default cpu-ci; see below)")
    recipe.add_argument("--recipe", metavar="FILE",
                        help="a recipe YAML file instead of a preset, e.g. experiments/recipes/cpu-joint-splice.yaml")
    tr.add_argument("--out", required=True, help="run folder (checkpoint.pt and train.log go there)")
    tr.add_argument("--steps", type=int, help="override the preset's number of steps")
    tr.add_argument("--batch-size", type=int, help="override the preset's batch size (per process)")
    tr.add_argument("--data", help="'stream' (on the fly) or a database index file")
    tr.add_argument("--seed", type=int, help="override the preset's seed of the network initialisation and windows "
                    "(a second seed measures the run-to-run spread)")
    tr.add_argument("--data-seed", type=int, help="override the preset's seed of the synthetic spectra stream "
                    "(the rehearsed physics uses DATA_SEED + 1)")
    tr.add_argument("--init-from", metavar="CHECKPOINT",
                    help="override the recipe's starting weights of a fine-tuning run (its init_from), e.g. the "
                         "first phase's checkpoint when the file the recipe names has since been replaced")
    tr.add_argument("--device", help="cpu or cuda (default: cuda when available)")
    tr.add_argument("--threads", type=int, help="torch CPU threads")
    tr.add_argument("--quiet", action="store_true", help="no progress bar")
    info = sub.add_parser("info", help="print what a database holds and check its shards (SHA-256)")
    info.add_argument("path", help="index file of a database")
    return p


def _load_config(path: str | None, real_data_physics: bool = False) -> SynthesisConfig:
    make = SynthesisConfig.with_real_data_physics if real_data_physics else SynthesisConfig
    if path is None:
        return make()
    p = Path(path)
    if not p.exists():
        raise ValueError(f"--config {p}: no such file")
    try:
        changes = json.loads(p.read_text())
    except json.JSONDecodeError as exc:
        raise ValueError(f"--config {p}: not valid JSON ({exc.msg}, line {exc.lineno})") from None
    if not isinstance(changes, dict):
        raise ValueError(f"--config {p}: must hold a JSON object of SynthesisConfig fields")
    unknown = sorted(set(changes) - set(SynthesisConfig().to_dict()))
    if unknown:
        raise ValueError(f"--config {p}: unknown field(s) {unknown}")
    return make(**changes)


def _train(args: argparse.Namespace) -> None:
    import torch

    from .learning.presets import load_recipe, preset
    from .learning.training import train

    if args.threads:
        torch.set_num_threads(args.threads)
    changes = {k: v for k, v in (("steps", args.steps), ("batch_size", args.batch_size), ("data", args.data)) if v}
    changes.update({k: v for k, v in (("seed", args.seed), ("data_seed", args.data_seed)) if v is not None})
    if args.init_from is not None:
        if not Path(args.init_from).is_file():
            raise ValueError(f"--init-from {args.init_from}: no such file (give a checkpoint.pt or a weights file)")
        changes["init_from"] = args.init_from
    if args.recipe:
        cfg = dataclasses.replace(load_recipe(args.recipe)[1], **changes)
    else:
        cfg = preset(args.preset, **changes)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    log_file = out / "train.log"

    def log(line: str) -> None:
        with open(log_file, "a") as f:
            f.write(line + "\n")

    result = train(cfg, out_dir=out, device=args.device, progress=not args.quiet, log=log)
    if result.history:
        print(json.dumps({"final": result.history[-1], "spectra_per_second": round(result.spectra_per_second, 1)}))


def _note(line: str) -> None:
    """A make-database note (a shard repaired or verified), printed above the progress bar."""
    from tqdm.auto import tqdm

    tqdm.write(f"eels-core: note: {line}", file=sys.stderr)


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``eels-core`` command."""
    args = _parser().parse_args(argv)
    try:
        if args.command == "make-database":
            from .forward.database import write_database

            config = _load_config(args.config, args.real_data_physics)
            if args.render_version is not None:
                config = config.replace(render_version=args.render_version)
            out = write_database(
                args.out,
                n=args.n,
                seed=args.seed,
                config=config,
                shard_size=args.shard_size,
                dtype=args.dtype,
                validation_fraction=args.validation_fraction,
                overwrite=args.overwrite,
                progress=not args.quiet,
                n_threads=args.threads,
                workers=args.workers,
                scheduler_address=args.scheduler_address,
                log=_note,
            )
            print(f"wrote {out}")
        elif args.command == "train":
            _train(args)
        elif args.command == "info":
            from .forward.database import open_database

            d = open_database(args.path, verify=True)
            print(
                json.dumps(
                    {"path": str(d.path), "n": d.n, "seed": d.seed, "shard_size": d.shard_size, "dtype": d.dtype,
                     "n_channels": int(d.energy_ev.size), "n_shards": len(d.shards), "checksums": d.checksums,
                     "verified": d.verified, "config": d.config.to_dict()},
                    indent=2,
                )
            )
    except (ValueError, FileNotFoundError) as exc:
        print(f"eels-core: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("eels-core: interrupted; run the same command again to resume", file=sys.stderr)
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
