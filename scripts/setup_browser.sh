#!/usr/bin/env bash
# Install headless Chromium (Debian package `chromium`) for tests/book/test_site.py, if missing.
# Idempotent; needs root (CI runs as root) or sudo. Override the browser with CHROMIUM=/path.
set -euo pipefail

if [ -n "${CHROMIUM:-}" ] && [ -x "${CHROMIUM}" ]; then
    echo "setup_browser: using CHROMIUM=$CHROMIUM"; exit 0
fi
for b in /usr/bin/chromium /usr/bin/chromium-browser; do
    if [ -x "$b" ]; then echo "setup_browser: $($b --version 2>/dev/null || echo "$b") already installed"; exit 0; fi
done

SUDO=""
if [ "$(id -u)" != 0 ]; then
    if command -v sudo >/dev/null; then SUDO="sudo"; else
        echo "setup_browser: chromium missing and not root; install it with: apt-get install chromium" >&2; exit 1
    fi
fi
export DEBIAN_FRONTEND=noninteractive
echo "setup_browser: installing chromium with apt-get (about a minute)"
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends chromium fonts-dejavu-core >/dev/null
echo "setup_browser: $(/usr/bin/chromium --version)"
