#!/usr/bin/env bash
# Installs what Steward's build and tests need and is missing; fast when all is there.
# Sourced by scripts/start.sh and scripts/test.sh. Exports PATH and STEWARD_TEST_PG_URL.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
TRUNK_VERSION=0.21.14
WASM_BINDGEN_VERSION=0.2.130   # must equal the wasm-bindgen pinned in frontend/Cargo.toml

say() { printf '\033[1;34m==>\033[0m %s\n' "$*"; }
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else echo "need root for: $*" >&2; return 1; fi; }
APT_UPDATED=
apt_install() {
  if [ -z "$APT_UPDATED" ]; then as_root apt-get update -qq; APT_UPDATED=1; fi
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

export PATH="$HOME/.cargo/bin:$ROOT/e2e/node_modules/.bin:$PATH"

if ! command -v cargo >/dev/null; then
  echo "Rust is missing: install it with rustup (https://rustup.rs), then run this again." >&2
  exit 1
fi

if ! rustup target list --installed 2>/dev/null | grep -qx wasm32-unknown-unknown; then
  say "adding the wasm32-unknown-unknown target"
  rustup target add wasm32-unknown-unknown
fi

if [ "$(trunk --version 2>/dev/null)" != "trunk $TRUNK_VERSION" ]; then
  say "installing trunk $TRUNK_VERSION (compiles for several minutes, once)"
  cargo install --locked "trunk@$TRUNK_VERSION"
fi

if [ "$(wasm-bindgen --version 2>/dev/null)" != "wasm-bindgen $WASM_BINDGEN_VERSION" ]; then
  say "installing wasm-bindgen-cli $WASM_BINDGEN_VERSION"
  # Not --locked: its lock file names a dependency version that is no longer published.
  cargo install --force wasm-bindgen-cli --version "$WASM_BINDGEN_VERSION"
fi

# Trunk builds the console with `cargo --offline` (Trunk.toml): the locked crates must be here
# first. Instant when they are.
cargo fetch --locked -q

if ! command -v npm >/dev/null; then
  say "installing Node.js and npm"
  apt_install nodejs npm
fi

if [ ! -x "$ROOT/e2e/node_modules/.bin/wasm-opt" ] || [ ! -d "$ROOT/e2e/node_modules/playwright-core" ]; then
  say "installing npm packages (playwright-core, binaryen's wasm-opt)"
  (cd "$ROOT/e2e" && npm install --no-audit --no-fund --loglevel=error)
fi

if [ "${STEWARD_NEED_BROWSER:-}" = 1 ] && [ ! -x "${CHROMIUM:-/usr/bin/chromium}" ]; then
  say "installing Debian's chromium"
  apt_install chromium
fi

# A real SMTP server for the mail tests: Python's aiosmtpd.
if [ "${STEWARD_NEED_POSTGRES:-}" = 1 ] && ! python3 -c 'import aiosmtpd' 2>/dev/null; then
  say "installing aiosmtpd (the SMTP server the mail tests deliver to)"
  command -v python3 >/dev/null || apt_install python3
  python3 -m pip install --quiet aiosmtpd 2>/dev/null \
    || python3 -m pip install --quiet --break-system-packages aiosmtpd 2>/dev/null \
    || apt_install python3-aiosmtpd
fi

# PostgreSQL for the test suite: an explicit URL, else the local server, else install one.
if [ "${STEWARD_NEED_POSTGRES:-}" = 1 ] && ! command -v haproxy >/dev/null; then
  say "installing HAProxy (the balancer in front of two replicas in the browser suite)"
  apt_install haproxy
fi

if [ "${STEWARD_NEED_POSTGRES:-}" = 1 ] && ! command -v psql >/dev/null; then
  say "installing the PostgreSQL client (the replica suite makes its database with psql)"
  apt_install postgresql-client
fi

# The resilience test restarts a PostgreSQL of its own (initdb in a temporary directory).
if [ "${STEWARD_NEED_POSTGRES:-}" = 1 ] && ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 \
  && ! [ -x "$(pg_config --bindir 2>/dev/null)/initdb" ]; then
  say "installing the PostgreSQL server programs (the resilience test restarts a throwaway cluster)"
  apt_install postgresql
fi

if [ "${STEWARD_NEED_POSTGRES:-}" = 1 ] && [ -z "${STEWARD_TEST_PG_URL:-}" ]; then
  if pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null && psql -h 127.0.0.1 -U postgres -d postgres -tAc 'select 1' >/dev/null 2>&1; then
    export STEWARD_TEST_PG_URL="postgres://postgres@127.0.0.1:5432/postgres"
  else
    if ! command -v pg_ctlcluster >/dev/null; then
      say "installing PostgreSQL"
      apt_install postgresql
    fi
    version="$(ls /etc/postgresql | sort -n | tail -1)"
    if ! pg_isready -q -h 127.0.0.1 -p 5432; then
      say "starting PostgreSQL $version"
      as_root pg_ctlcluster --skip-systemctl-redirect "$version" main start
      for _ in $(seq 1 30); do pg_isready -q -h 127.0.0.1 -p 5432 && break; sleep 1; done
    fi
    # Debian's server asks for a password over TCP: give the postgres role one for the tests.
    as_root su postgres -c "psql -q -c \"ALTER ROLE postgres PASSWORD 'steward-test'\"" >/dev/null
    export STEWARD_TEST_PG_URL="postgres://postgres:steward-test@127.0.0.1:5432/postgres"
  fi
fi

# The contract step (e2e/contract): schemathesis and openapi-python-client, pinned, in their own
# virtualenv so they never touch the system Python.
if [ "${STEWARD_NEED_CONTRACT:-}" = 1 ]; then
  CONTRACT_VENV="${STEWARD_CONTRACT_VENV:-$HOME/.cache/steward-contract}"
  CONTRACT_REQS="$ROOT/e2e/contract/requirements.txt"
  if ! cmp -s "$CONTRACT_REQS" "$CONTRACT_VENV/requirements.txt" 2>/dev/null; then
    say "installing the contract tools (schemathesis, openapi-python-client) in $CONTRACT_VENV"
    python3 -m venv "$CONTRACT_VENV" 2>/dev/null || { apt_install python3-venv && python3 -m venv "$CONTRACT_VENV"; }
    "$CONTRACT_VENV/bin/pip" install --quiet --disable-pip-version-check -r "$CONTRACT_REQS"
    cp "$CONTRACT_REQS" "$CONTRACT_VENV/requirements.txt"
  fi
  # Not on PATH: the rest of the suite keeps the system python3 (with aiosmtpd).
  export STEWARD_CONTRACT_PYTHON="$CONTRACT_VENV/bin/python3"
fi
