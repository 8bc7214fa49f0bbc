#!/usr/bin/env bash
# Set up the environment, execute every notebook with the CI preset into book/, and render
# the Jupyter Book into _build/html. Warnings are errors unless BOOK_ALLOW_WARNINGS=1.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

bash scripts/setup_env.sh
PY=.venv/bin/python
export PYTHONHASHSEED=0

"$PY" scripts/execute_notebooks.py --preset "${PRESET:-ci}"

strict=(-W -n --keep-going)
if [ "${BOOK_ALLOW_WARNINGS:-0}" = 1 ]; then strict=(); fi
rm -rf _build/html _build/.doctrees
.venv/bin/jupyter-book build . "${strict[@]}"

if [ ! -f _build/html/index.html ]; then
    echo "build_book: _build/html/index.html missing" >&2
    exit 1
fi
echo "build_book: open _build/html/index.html"
