#!/usr/bin/env bash
# One command for a local demo: installs everything into .venv, starts a homeserver on
# 127.0.0.1, creates users and a leader room, runs the bot and prints how to connect.
set -euo pipefail
source "$(dirname "$0")/scripts/setup-env.sh" demo
exec .venv/bin/leaders-hub demo "$@"
