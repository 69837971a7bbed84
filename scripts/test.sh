#!/usr/bin/env bash
# Installs Savoir-faire with its test tools (and Debian's Chromium), lints, runs the tests.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --test
.venv/bin/ruff check .
.venv/bin/python -m pytest -q "$@"
