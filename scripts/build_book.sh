#!/usr/bin/env bash
# Set up the environment, execute every notebook with a parameter set into book/ (PARAMETERS=ci by default;
# PARAMETERS=full for paper scale, see book/reproduce.md), and render the Jupyter Book into
# _build/html (scripts/render_book.sh). Warnings are errors unless BOOK_ALLOW_WARNINGS=1.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

bash scripts/setup_env.sh
PY=.venv/bin/python
export PYTHONHASHSEED=0

"$PY" scripts/execute_notebooks.py --parameters "${PARAMETERS:-ci}"

bash scripts/render_book.sh
echo "build_book: open _build/html/index.html"
