#!/usr/bin/env bash
# Set up the environment, execute every notebook with a parameter set into book/ (PARAMETERS=ci by default;
# PARAMETERS=full for paper scale, see book/reproduce.md), and render the Jupyter Book into
# _build/html (scripts/render_book.sh). Warnings are errors unless BOOK_ALLOW_WARNINGS=1.
# With the CI parameters the notebooks run one per core at once (at most 4); JOBS=1 runs them one
# after another, as every other parameter set does unless JOBS says otherwise.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

bash scripts/setup_env.sh
PY=.venv/bin/python
export PYTHONHASHSEED=0

PARAMETERS="${PARAMETERS:-ci}"
if [ "$PARAMETERS" = ci ]; then JOBS="${JOBS:-auto}"; else JOBS="${JOBS:-1}"; fi
"$PY" scripts/execute_notebooks.py --parameters "$PARAMETERS" --jobs "$JOBS"

bash scripts/render_book.sh
echo "build_book: open _build/html/index.html"
