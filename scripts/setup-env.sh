# Sourced by demo.sh and test.sh: a virtual environment with the project installed.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
PYTHON="${PYTHON:-}"
if [ -z "$PYTHON" ]; then
  for candidate in python3.13 python3.12 python3.11 python3; do
    if "$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 11))' >/dev/null 2>&1; then
      PYTHON="$candidate"; break
    fi
  done
fi
[ -n "$PYTHON" ] || { echo "Leaders Hub needs Python 3.11 or newer." >&2; exit 1; }
if [ ! -x .venv/bin/python ]; then
  echo "Creating .venv with $PYTHON …"
  "$PYTHON" -m venv .venv
fi
stamp=".venv/.installed-$(sha1sum pyproject.toml | cut -c1-12)-$1"
if [ ! -f "$stamp" ]; then
  echo "Installing Leaders Hub and its dependencies into .venv ($1) …"
  log=.venv/install.log
  if ! { .venv/bin/python -m pip install --quiet --upgrade pip && .venv/bin/python -m pip install --quiet -e ".[$1]"; } >"$log" 2>&1; then
    grep -v '^WARNING: Location' "$log" | tail -30 >&2
    echo "Installing the dependencies failed (full log: $log)." >&2
    exit 1
  fi
  touch "$stamp"
fi
