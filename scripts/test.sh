#!/usr/bin/env bash
# Set up (idempotent) and run the whole test suite: lint, then pytest against real SQLite,
# PostgreSQL, Redis, SMTP (aiosmtpd) and Chromium, which the tests start on 127.0.0.1.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh test
.venv/bin/ruff check .
.venv/bin/ruff format --check .
exec .venv/bin/pytest "$@"
