#!/usr/bin/env bash
# Re-create the JavaScript that the static book serves itself (vendor/, see vendor/README.md)
# from the npm registry, and check it against vendor/SHA256SUMS:
#   vendor/jupyter-widgets/  the ipywidgets manager (+ require.js) that renders widgets offline
#   vendor/mathjax/          MathJax 3, for the equations, instead of Sphinx's CDN default
#
# The files are committed, so building the book needs neither npm nor the network. Run this only
# to audit them (`--check`: fetch and compare, change nothing) or to move to other versions (edit
# the versions below, run without --check, review, commit the new files and SHA256SUMS).
#
#   bash scripts/vendor_js.sh --check     # needs npm and the npm registry
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

HTML_MANAGER=1.0.15   # @jupyter-widgets/html-manager: ipywidgets 8 embed bundle (AMD)
REQUIREJS=2.3.8       # requirejs: the AMD loader embed-amd.js needs
MATHJAX=3.2.2         # mathjax: the combined TeX/MathML -> CommonHTML component and its fonts
check=0; [ "${1:-}" = "--check" ] && check=1

tmp="$(mktemp -d)"; trap 'rm -rf "$tmp"' EXIT
(cd "$tmp" && npm pack --silent "@jupyter-widgets/html-manager@$HTML_MANAGER" "requirejs@$REQUIREJS" \
    "mathjax@$MATHJAX" >/dev/null)
for p in hm rjs mj; do mkdir -p "$tmp/$p"; done
tar xzf "$tmp/jupyter-widgets-html-manager-$HTML_MANAGER.tgz" -C "$tmp/hm"
tar xzf "$tmp/requirejs-$REQUIREJS.tgz" -C "$tmp/rjs"
tar xzf "$tmp/mathjax-$MATHJAX.tgz" -C "$tmp/mj"

out="$tmp/out"; jw="$out/jupyter-widgets"; mj="$out/mathjax"
mkdir -p "$jw" "$mj/es5/output/chtml/fonts/woff-v2"
cp "$tmp/hm/package/dist/embed-amd.js" "$jw/"
cp "$tmp/hm/package/dist/embed.js.LICENSE.txt" "$jw/THIRD-PARTY-NOTICES.txt"
cp "$tmp"/hm/package/dist/*.woff2 "$jw/"        # Font Awesome, for icon buttons (woff2 suffices)
cp "$tmp/rjs/package/require.js" "$jw/"
cp "$tmp/mj/package/LICENSE" "$mj/LICENSE"
cp "$tmp/mj/package/es5/tex-mml-chtml.js" "$mj/es5/"
cp "$tmp"/mj/package/es5/output/chtml/fonts/woff-v2/*.woff "$mj/es5/output/chtml/fonts/woff-v2/"

sums() { (cd "$1" && find jupyter-widgets mathjax -type f | LC_ALL=C sort | xargs sha256sum); }
if [ $check = 1 ]; then
    sums "$out" | diff - vendor/SHA256SUMS \
        && echo "vendor_js: vendor/ matches npm (html-manager $HTML_MANAGER, requirejs $REQUIREJS, mathjax $MATHJAX)"
    exit
fi
rm -rf vendor/mathjax
mkdir -p vendor/jupyter-widgets
cp -r "$jw"/. vendor/jupyter-widgets/
cp -r "$mj" vendor/
sums "$out" > vendor/SHA256SUMS
echo "vendor_js: wrote vendor/ (html-manager $HTML_MANAGER, requirejs $REQUIREJS, mathjax $MATHJAX); review and commit"
