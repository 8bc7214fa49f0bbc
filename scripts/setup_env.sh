#!/usr/bin/env bash
# Create/refresh the project virtualenv in .venv (idempotent).
# Re-installs only when pyproject.toml (or this script) changed since the last successful run.
# Override the interpreter with PYTHON=/path/to/python3.11 bash scripts/setup_env.sh
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

PYTHON="${PYTHON:-python3}"
VENV=.venv
STAMP="$VENV/.setup-stamp"

if [ ! -x "$VENV/bin/python" ]; then
    echo "setup_env: creating $VENV with $($PYTHON --version 2>&1)"
    "$PYTHON" -m venv "$VENV"
fi

want="$(cat pyproject.toml scripts/setup_env.sh | sha256sum | cut -d' ' -f1)"
if [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$want" ]; then
    echo "setup_env: $VENV up to date"
    exit 0
fi

PY="$VENV/bin/python"
"$PY" -m pip install --quiet --upgrade pip
# torch first and pinned: a bare 'torch' lets pip pick a multi-GB CUDA build.
"$PY" -m pip install --quiet "torch==2.13.0"
"$PY" -m pip install --quiet -e ".[book,test,hyperspy]"
# Kernel 'python3' pointing at this venv's interpreter (papermill uses it).
"$PY" -m ipykernel install --sys-prefix --name python3 --display-name "Python 3 (eels-edge-book)" >/dev/null
echo "$want" > "$STAMP"
echo "setup_env: $VENV ready ($("$PY" -c 'import torch, numpy; print("torch", torch.__version__, "numpy", numpy.__version__)'))"
