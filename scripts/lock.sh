#!/usr/bin/env bash
# The lock: requirements.txt (what production installs: pyproject's dependencies, every version
# pinned) and requirements-test.txt (that plus the `test` extra, with the same runtime pins).
# Every pin carries the sha256 of each of its files on the index, so
# `pip install --require-hashes -r requirements.txt` installs exactly what was locked
# (scripts/setup.sh does, and so CI's fresh machine).
#   scripts/lock.sh           re-compile both after changing pyproject.toml (keeps current pins)
#   scripts/lock.sh --upgrade  move every pin to the newest allowed version
#   scripts/lock.sh --check    exit 1 when either file is not what pyproject.toml compiles to
set -euo pipefail
cd "$(dirname "$0")/.."
UV=${UV:-.venv/bin/uv}
mode=${1:-}

compile() {  # compile OUT_DIR [uv options...]: writes OUT_DIR/requirements{,-test}.txt
  local out=$1
  shift
  local common=(--quiet --universal --python-version 3.11 --no-annotate --generate-hashes
                --custom-compile-command "bash scripts/lock.sh" "$@")
  "$UV" pip compile pyproject.toml "${common[@]}" -o "$out/requirements.txt"
  "$UV" pip compile pyproject.toml --extra test -c "$out/requirements.txt" "${common[@]}" \
    -o "$out/requirements-test.txt"
}

case "$mode" in
  --check)
    tmp=$(mktemp -d)
    trap 'rm -rf "$tmp"' EXIT
    cp requirements.txt requirements-test.txt "$tmp/"  # the current pins are uv's preferences
    compile "$tmp"
    if ! diff -u requirements.txt "$tmp/requirements.txt" ||
       ! diff -u requirements-test.txt "$tmp/requirements-test.txt"; then
      echo "error: requirements*.txt are out of date with pyproject.toml: run bash scripts/lock.sh" >&2
      exit 1
    fi
    echo "lock is current"
    ;;
  --upgrade) compile . --upgrade ;;
  "") compile . ;;
  *) echo "usage: scripts/lock.sh [--check|--upgrade]" >&2; exit 2 ;;
esac
