#!/usr/bin/env bash
# Installs Savoir-faire into ./.venv, with Debian's FreeDict dictionaries (query
# translation between French, English, Italian and Spanish). With --test: the test
# tools and Debian's Chromium too.
set -euo pipefail
cd "$(dirname "$0")/.."

SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
DICTIONARIES="dict-freedict-fra-eng dict-freedict-eng-fra dict-freedict-fra-ita dict-freedict-fra-spa
    dict-freedict-ita-eng dict-freedict-eng-ita dict-freedict-spa-eng dict-freedict-eng-spa"
APT_UPDATED=""
apt_install() {
    [ -n "$APT_UPDATED" ] || { $SUDO apt-get update -qq && APT_UPDATED=1; }
    # shellcheck disable=SC2068  # the package names are meant to split
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq $@ >/dev/null
}
if [ ! -f /usr/share/dictd/freedict-fra-ita.index ] || [ ! -f /usr/share/dictd/freedict-eng-spa.index ]; then
    if [ "${1:-}" = "--test" ]; then
        apt_install --no-install-recommends $DICTIONARIES
    else
        apt_install --no-install-recommends $DICTIONARIES || echo "warning: the FreeDict dictionaries could not be" \
            "installed; search works, without translating queries (KB_DICTIONARIES)" >&2
    fi
fi

python3 -m venv .venv
.venv/bin/python -m pip install --quiet --upgrade pip
# torch first and pinned: the CPU build lies on local disk, anything else pulls CUDA.
.venv/bin/pip install --quiet "torch==2.13.0"
if [ "${1:-}" = "--test" ]; then
    .venv/bin/pip install --quiet -e ".[test]" "torch==2.13.0"
    if [ ! -x /usr/bin/chromium ]; then
        apt_install chromium
    fi
else
    .venv/bin/pip install --quiet -e . "torch==2.13.0"
fi
