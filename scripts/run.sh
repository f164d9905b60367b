#!/usr/bin/env bash
# Set up (idempotent) and serve on the embedded default: SQLite under ./data, in-process cache.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh run
exec .venv/bin/ogapi serve "$@"
