#!/usr/bin/env bash
# Installs Savoir-faire, ingests the sample corpus and serves it on http://127.0.0.1:8000
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export KB_HOME="${KB_HOME:-kb-data}"
# Without an API key the server is read-only: set KB_API_KEYS='["a-long-secret"]' to upload.
if [ -z "${KB_API_KEYS:-}" ]; then export KB_READ_ONLY="${KB_READ_ONLY:-true}"; fi
# Exit code 1 only means some file was rejected (the table says which): serve anyway.
.venv/bin/kb ingest corpus || true
exec .venv/bin/kb serve
