#!/usr/bin/env bash
# The whole test suite (what CI runs):
#   1. pytest tests/  -- unit tests + every notebook executed ONCE with the CI parameters into book/
#                        (when book/ holds an earlier run of the same source, e.g. from
#                        scripts/build_book.sh, the text outputs must be the same: reproducibility);
#                        one worker process per core, at most 4 (pytest-xdist; each worker's
#                        PyTorch uses one thread, tests/conftest.py)
#   2. render         -- the book from those executed notebooks into _build/html (warnings = errors)
#   3. site           -- tests/book/test_site.py: every page in headless Chromium (no failed resource,
#                        no JavaScript error, widgets rendered); screenshots in _build/screenshots/
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

bash scripts/setup_env.sh || exit 1
PY=.venv/bin/python
export PYTHONHASHSEED=0 TQDM_DISABLE="${TQDM_DISABLE-1}"

status=0
timings=()
step() { timings+=("$(printf '%-8s %5d s' "$1" "$2")"); }

t0=$SECONDS
"$PY" -m pytest -q -n auto --maxprocesses 4 tests --ignore=tests/book/test_site.py
rc=$?
if [ $rc -ne 0 ] && [ $rc -ne 5 ]; then status=1; fi   # 5 = no tests collected
step pytest $((SECONDS - t0))

# Render the book (a chapter whose notebook failed is missing, and the render fails on it).
t0=$SECONDS
if bash scripts/render_book.sh; then
    step render $((SECONDS - t0))
    # The browser test needs Chromium (installed with apt-get when missing).
    t0=$SECONDS
    bash scripts/setup_browser.sh || echo "run_tests: could not install Chromium; tests/book/test_site.py will fail"
    EELS_SITE_REQUIRED=1 "$PY" -m pytest -q -p no:cacheprovider tests/book/test_site.py || status=1
    step site $((SECONDS - t0))
else
    echo "run_tests: rendering the book failed; skipping tests/book/test_site.py"
    status=1
fi

# Every chapter must have been executed (a failed one is missing from book/).
for src in notebooks/[0-9][0-9]_*.py; do
    [ -e "$src" ] || continue
    out="book/$(basename "${src%.py}").ipynb"
    [ -f "$out" ] || { echo "run_tests: $out missing (execution failed?)"; status=1; }
done

printf 'run_tests: %s\n' "${timings[@]}"
[ $status -eq 0 ] && echo "run_tests: all passed" || echo "run_tests: FAILED"
exit $status
