#!/usr/bin/env bash
# Command one: install what is missing, build the SPA and the server, and start Steward on
# the embedded SQLite database at http://127.0.0.1:8080 (override with STEWARD_BIND etc.).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
# Everything the test command needs too, so one command readies a fresh machine.
export STEWARD_NEED_POSTGRES=1 STEWARD_NEED_BROWSER=1
source scripts/bootstrap.sh

say "building the console (trunk build --release)"
trunk build --release
say "building the server (cargo build --release)"
cargo build --release -p steward-backend

export STEWARD_DATA_DIR="${STEWARD_DATA_DIR:-$ROOT/data}"
say "starting Steward on http://${STEWARD_BIND:-127.0.0.1:8080} (data in $STEWARD_DATA_DIR)"
exec "$ROOT/target/release/steward-server" "$@"
