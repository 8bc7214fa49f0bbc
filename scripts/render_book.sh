#!/usr/bin/env bash
# Render the book into _build/html from the notebooks already executed into book/ (by
# scripts/execute_notebooks.py; nothing is executed here: _config.yml sets execute_notebooks off).
# Warnings are errors unless BOOK_ALLOW_WARNINGS=1. Used by build_book.sh and run_tests.sh.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

strict=(-W -n --keep-going)
if [ "${BOOK_ALLOW_WARNINGS:-0}" = 1 ]; then strict=(); fi
rm -rf _build/html _build/.doctrees
.venv/bin/jupyter-book build . "${strict[@]}"

if [ ! -f _build/html/index.html ]; then
    echo "render_book: _build/html/index.html missing" >&2
    exit 1
fi
