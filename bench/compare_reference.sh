#!/usr/bin/env bash
# Our engine beside Takumi on the standard card (../shared/bench/design.mjs), on one pinned core,
# in one run: each round runs Takumi with the card repeated, Takumi with a new title on every
# render (VARY_TITLE), then ours (bench/engine_bench.py: repeated, new titles, a user's fork of
# `default`, render memory); the table gives per-round ratios and their medians.
#   bash bench/compare_reference.sh [RESULTS_DIR]     (env: ROUNDS=5 N=40 CPU=1 FULL=0)
# Needs node + npm: the reference's pinned packages are installed once into $OG_REF_DEPS
# (default /tmp/og-ref-deps; the Inter fonts come from an npm package: nothing is downloaded
# while measuring, no browser). FULL=1 first runs every reference engine (satori, @vercel/og,
# naive Pillow: the shared run_all.sh in quick mode) into RESULTS_DIR/anchors.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
REF=${OG_BENCH_DIR:-$ROOT/../shared/bench}
[ -d "$REF" ] || REF=/work/shared/bench
RES=${1:-/tmp/og-compare}
CPU=${CPU:-1}; ROUNDS=${ROUNDS:-5}; N=${N:-40}
PY=${PYTHON:-$ROOT/.venv/bin/python}
DEPS=${OG_REF_DEPS:-/tmp/og-ref-deps}
mkdir -p "$RES" "$DEPS"
if [ ! -d "$DEPS/node_modules/@takumi-rs/core" ]; then
  cp "$REF/package.json" "$DEPS/"
  (cd "$DEPS" && npm install --no-audit --no-fund --loglevel=error) >"$RES/npm-install.log" 2>&1
fi
cp "$REF/design.mjs" "$REF/bench_js.mjs" "$DEPS/"
FONTS=$DEPS/node_modules/@expo-google-fonts/inter
if [ "${FULL:-0}" = 1 ]; then
  ROUNDS=1 N=20 SKIP_HTTP=1 CPU=$CPU bash "$REF/run_all.sh" "$RES/anchors" >/dev/null
fi
for r in $(seq 1 "$ROUNDS"); do
  echo "round $r/$ROUNDS" >&2
  for vary in 0 1; do
    taskset -c "$CPU" node "$DEPS/bench_js.mjs" --engines takumi --n "$N" --reps 1 --warmup 5 \
      --fonts "$FONTS" --vary-title "$vary" --out "$RES/takumi_v${vary}_r$r.json" >/dev/null
  done
  (cd "$ROOT" && taskset -c "$CPU" "$PY" -m bench.engine_bench --n "$N" --out "$RES/ours_r$r.json")
done
(cd "$ROOT" && "$PY" -m bench.engine_bench --table "$RES") | tee "$RES/table.md"
if [ "${FULL:-0}" = 1 ]; then echo; cat "$RES/anchors/summary.md"; fi
