#!/usr/bin/env bash
# Set up (idempotent) and run the whole test suite: lint, then pytest against real SQLite,
# PostgreSQL, Redis, SMTP (aiosmtpd) and Chromium, which the tests start on 127.0.0.1.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh test
.venv/bin/ruff check .
.venv/bin/ruff format --check .
.venv/bin/lint-imports  # layering contracts in pyproject.toml [tool.importlinter]
.venv/bin/mypy  # the source packages, pyproject.toml [tool.mypy]
.venv/bin/deptry .  # every import declared, pyproject.toml [tool.deptry]
# Comments and docs cite docs/ pages; the product SPEC is not in this repository.
if grep -rn 'SPEC §' --include='*.py' --include='*.md' --include='*.graphql' \
  README.md docs schema resolvers models render web tests bench; then
  echo "cite the docs/ page that states the rule, not SPEC §" >&2
  exit 1
fi
# `ruff format` wins: a `# fmt: skip` only for a table that reads better aligned, 10 at most.
skips=$(grep -rn --include='*.py' -e '# fmt: skip' -e '# fmt: off' web schema resolvers render models | wc -l)
if [ "$skips" -gt 10 ]; then
  echo "$skips '# fmt: skip' in the source packages (at most 10, for aligned tables)" >&2
  exit 1
fi
bash scripts/lock.sh --check  # requirements*.txt match pyproject.toml
node_modules/.bin/prettier --check --log-level=warn "web/static/**/*.js"  # .prettierrc.json
exec .venv/bin/pytest "$@"
