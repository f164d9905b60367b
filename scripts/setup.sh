#!/usr/bin/env bash
# Idempotent setup: system libraries, a venv in .venv, the locked packages, ogapi (editable).
#   scripts/setup.sh            runtime only
#   scripts/setup.sh test       + test tools and the services tests start (PostgreSQL, Redis),
#                               and the dashboard JS's formatter (npm ci: package-lock.json)
# A second run only re-installs Python packages when the lock or pyproject.toml changed.
set -euo pipefail
cd "$(dirname "$0")/.."
MODE=${1:-run}
PY=${PYTHON:-python3}

need_apt=()
have_lib() { ldconfig -p 2>/dev/null | grep -q "$1"; }
have_lib libfribidi.so.0 || need_apt+=(libfribidi0)      # raqm (RTL/shaping) loads it at run time
have_lib libharfbuzz.so.0 || need_apt+=(libharfbuzz0b)
if [ "$MODE" = test ]; then
  command -v redis-server >/dev/null || need_apt+=(redis-server)
  ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || need_apt+=(postgresql)
  [ -x /usr/bin/chromium ] || need_apt+=(chromium)  # the dashboard's browser tests (tests/e2e)
  command -v node >/dev/null || need_apt+=(nodejs)  # JS client tests, the docs' JS examples (Node >= 18)
  command -v npm >/dev/null || need_apt+=(npm)  # installs the JS formatter from package-lock.json
  # A font for Chromium's layout (installed without recommends, it may bring none).
  [ -e /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf ] || need_apt+=(fonts-dejavu-core)
fi
if ! "$PY" -c 'import ensurepip, venv' >/dev/null 2>&1; then need_apt+=(python3-venv); fi
if [ ${#need_apt[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "==> apt-get install ${need_apt[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >/dev/null
    apt-get install -y -qq --no-install-recommends "${need_apt[@]}" >/dev/null
  else
    echo "warning: missing system packages (${need_apt[*]}); install them with apt-get as root" >&2
  fi
fi

if [ ! -x .venv/bin/python ]; then
  echo "==> creating .venv"
  "$PY" -m venv .venv
fi
# Python packages come from the lock (scripts/lock.sh), so this installs exactly the tested set,
# each file checked against the lock's sha256 (--require-hashes); the package itself is then
# installed editable without resolving anything again.
lock=requirements.txt
[ "$MODE" = test ] && lock=requirements-test.txt
stamp=".venv/.installed-${lock%.txt}"
if [ ! -f "$stamp" ] || [ "$lock" -nt "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
  total=$(grep -c '==' "$lock")
  echo "==> installing $total packages from $lock and ogapi (editable); a first run takes a minute or two"
  log=.venv/pip-install.log
  pip=(.venv/bin/python -m pip install --disable-pip-version-check)
  # Progress: one line per package pip collects ("[12/87] aiohttp"), rewritten in place on a
  # terminal; the whole pip output stays in the log.
  if [ -t 1 ]; then line='\r  [%d/%d] %-40s'; done_='\n'; else line='  [%d/%d] %s\n'; done_=''; fi
  progress() {
    awk -v total="$total" -v line="$line" -v done_="$done_" '
      /^Collecting / && $2 !~ /^pip$/ { n++; sub(/==.*/, "", $2); printf line, n, total, $2; fflush() }
      /^Installing collected packages/ { printf "%s  unpacking into .venv…\n", done_; fflush() }'
  }
  if ! { "${pip[@]}" --upgrade pip && "${pip[@]}" --require-hashes -r "$lock" && "${pip[@]}" --no-deps -e .; } \
      2>&1 | tee "$log" | progress; then
    tail -n 40 "$log" >&2
    echo "error: pip install failed (full log: $log)" >&2
    exit 1
  fi
  rm -f .venv/.installed-*
  touch "$stamp"
  echo "==> installed"
fi

# The dashboard JS's formatter (prettier, scripts/test.sh checks web/static with it): exactly
# the version and hash in package-lock.json, into node_modules/ (npm ci runs no install scripts).
if [ "$MODE" = test ]; then
  if ! command -v npm >/dev/null; then
    echo "warning: npm is missing (apt-get install npm as root); scripts/test.sh needs it" >&2
  elif [ ! -f node_modules/.installed ] || [ package-lock.json -nt node_modules/.installed ]; then
    echo "==> installing the JS formatter from package-lock.json"
    npm ci --ignore-scripts --no-audit --no-fund --loglevel=error
    touch node_modules/.installed
  fi
fi
