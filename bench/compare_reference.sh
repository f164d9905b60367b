#!/usr/bin/env bash
# Measure the reference engines (Takumi, @vercel/og, satori, naive Pillow) and our renderer
# side by side on one core, in quick mode. Needs node + npm (installs into a temp dir).
#   bash bench/compare_reference.sh [RESULTS_DIR]
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
REF=${OG_BENCH_DIR:-$ROOT/../shared/bench}
[ -d "$REF" ] || REF=/work/shared/bench
RES=${1:-/tmp/og-anchors-quick}
CPU=${CPU:-1}
ROUNDS=1 N=${N:-20} SKIP_HTTP=1 CPU=$CPU bash "$REF/run_all.sh" "$RES"
PY=${PYTHON:-$ROOT/.venv/bin/python}
(cd "$ROOT" && taskset -c "$CPU" "$PY" -m bench.run --only render --no-pool --rounds 3) | tee "$RES/ours.md"
echo; cat "$RES/summary.md"
