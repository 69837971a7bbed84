#!/usr/bin/env bash
# Installs Savoir-faire into ./.venv. With --test: the test tools and Debian's Chromium too.
set -euo pipefail
cd "$(dirname "$0")/.."

python3 -m venv .venv
.venv/bin/python -m pip install --quiet --upgrade pip
# torch first and pinned: the CPU build lies on local disk, anything else pulls CUDA.
.venv/bin/pip install --quiet "torch==2.13.0"
if [ "${1:-}" = "--test" ]; then
    .venv/bin/pip install --quiet -e ".[test]" "torch==2.13.0"
    if [ ! -x /usr/bin/chromium ]; then
        SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
        $SUDO apt-get update -qq
        DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium >/dev/null
    fi
else
    .venv/bin/pip install --quiet -e . "torch==2.13.0"
fi
