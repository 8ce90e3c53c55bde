#!/usr/bin/env bash
# Command two: every test. Lints, the backend suite on SQLite and PostgreSQL (each test runs
# on both, on a fresh database), the spec check, the contract checked from outside (fuzzer and
# generated client), and the browser suite against the real binary.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
export STEWARD_NEED_POSTGRES=1 STEWARD_NEED_BROWSER=1 STEWARD_NEED_CONTRACT=1
source scripts/bootstrap.sh
export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"

say "cargo fmt --check"
cargo fmt --all -- --check
# First: the server embeds the built console (backend/build.rs), so every build below has it.
say "building the console (trunk build --release)"
trunk build --release
say "cargo clippy (backend, shared, migrations, tooling; then the wasm frontend)"
cargo clippy --workspace --all-targets -q -- -D warnings
cargo clippy -p steward-frontend --target wasm32-unknown-unknown -q -- -D warnings

say "backend and shared tests (SQLite and PostgreSQL at ${STEWARD_TEST_PG_URL%%@*}@…)"
cargo test

say "openapi/openapi.json matches the code"
cargo run -q -p xtask -- openapi --check

say "building the server for the contract and browser suites (the console inside it)"
cargo build -p steward-backend

say "the contract from outside: schemathesis over the live server, a generated Python client's journey"
STEWARD_BIN="$ROOT/target/debug/steward-server" "$STEWARD_CONTRACT_PYTHON" e2e/contract/run.py

say "browser suite (headless chromium)"
cd e2e
STEWARD_BIN="$ROOT/target/debug/steward-server" node --test --test-concurrency=1 tests/
