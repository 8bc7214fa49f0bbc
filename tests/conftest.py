"""Settings shared by the whole suite.

``scripts/run_tests.sh`` runs the suite in several worker processes (``pytest -n``). Each worker's
PyTorch then uses one thread: with PyTorch's default of one thread per core in every worker, the
workers' OpenMP teams outnumber the cores and wait on each other (on two cores the CI preset's
training test took eight times as long). Subprocesses (the command-line tests, the notebook
kernels) inherit the setting through ``OMP_NUM_THREADS``. A plain ``pytest`` run (one process)
keeps PyTorch's default.
"""

from __future__ import annotations

import os
import sys


def _one_thread_per_worker() -> None:
    if not os.environ.get("PYTEST_XDIST_WORKER"):
        return
    os.environ["OMP_NUM_THREADS"] = "1"
    torch = sys.modules.get("torch")
    if torch is not None:
        torch.set_num_threads(1)


_one_thread_per_worker()
