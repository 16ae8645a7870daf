#!/usr/bin/env bash
# One command for every test: installs everything into .venv (and, as root, the Debian
# PostgreSQL server and Chromium the tests use when present), then runs the whole suite
# against real Synapse, SQLite and PostgreSQL servers on 127.0.0.1.
set -euo pipefail
source "$(dirname "$0")/scripts/setup-env.sh" test
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1 && [ -z "${LEADERS_HUB_NO_APT:-}" ]; then
  if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
    echo "Installing the PostgreSQL server (Debian) for the PostgreSQL tests …"
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null) \
      || echo "PostgreSQL could not be installed: its tests will be skipped."
  fi
fi
exec .venv/bin/python -m pytest "$@"
