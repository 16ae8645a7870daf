#!/usr/bin/env bash
# One command for every test: installs everything into .venv (and, as root, the Debian
# PostgreSQL server, and Chromium with its chromedriver for the pages' browser tests), then runs
# the whole suite against real Synapse, SQLite and PostgreSQL servers on 127.0.0.1.
set -euo pipefail
source "$(dirname "$0")/scripts/setup-env.sh" test
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1 && [ -z "${LEADERS_HUB_NO_APT:-}" ]; then
  if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
    echo "Installing the PostgreSQL server (Debian) for the PostgreSQL tests …"
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null) \
      || echo "PostgreSQL could not be installed: its tests will be skipped."
  fi
  if [ ! -x /usr/bin/chromium ] || [ ! -x /usr/bin/chromedriver ]; then
    echo "Installing Chromium and chromedriver (Debian) for the browser tests of the pages …"
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null) \
      || echo "Chromium could not be installed: the browser tests will be skipped."
  fi
fi
# The independent checkers (Element's Rust crypto, Thunderbird's ical.js, axe-core), from the lock file.
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  echo "Node.js 20+ and npm are needed for the tests (they run Element's crypto and ical.js)." >&2
  exit 1
fi
npm_stamp="node_modules/.installed-$(sha1sum package-lock.json | cut -c1-12)"
if [ ! -f "$npm_stamp" ]; then
  echo "Installing the JavaScript test tools (npm ci) …"
  if ! npm ci --no-audit --no-fund --loglevel=error >.venv/npm.log 2>&1; then
    tail -30 .venv/npm.log >&2
    echo "npm ci failed (full log: .venv/npm.log)." >&2
    exit 1
  fi
  touch "$npm_stamp"
fi
# The layering (pyproject.toml [tool.importlinter]): storage imports nothing above it, no feature imports another,
# only the Matrix platform imports nio, one composition root.
.venv/bin/lint-imports --no-cache >/dev/null || { .venv/bin/lint-imports --no-cache; exit 1; }
# Types (pyproject.toml [tool.mypy]): basics/, bot/ and storage/ are clean and stay so.
.venv/bin/mypy --no-error-summary >/dev/null 2>&1 || { .venv/bin/mypy; exit 1; }
exec .venv/bin/python -m pytest "$@"
