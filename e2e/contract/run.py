#!/usr/bin/env python3
"""The contract, checked from outside: a live server is fuzzed with schemathesis against the spec
it serves, and a client generated from that spec drives an admin journey.

Steps (each on its own fresh server and data directory):
  1. schemathesis, every phase and every check, over every operation except those that end or
     change the caller's own credentials; a super admin's API token (2FA enrolled, so a fuzzed
     2FA policy cannot lock it out) on a seeded database.
  2. schemathesis over those self-affecting operations alone, with credentials of their own.
  3. openapi-python-client generates a package from /api/openapi.json; journey.py imports it
     and drives setup, login, a customer and a user, a cursor page, View as, the audit export.

Needs STEWARD_BIN (the server); run it with the Python of the virtualenv holding the tools of
e2e/contract/requirements.txt (the test command installs it and passes it as
STEWARD_CONTRACT_PYTHON). Exits non-zero on any failure.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import shutil
import socket
import struct
import subprocess
import sys
import tempfile
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
BIN = os.environ.get("STEWARD_BIN", str(ROOT / "target" / "debug" / "steward-server"))
PASSWORD = "correct-horse-battery-staple"
# The tools live beside the interpreter that runs this (the test command's virtualenv).
TOOLS = Path(sys.executable).parent


# The generator's post-hooks (ruff) are found on PATH: the virtualenv goes first, for this
# process and the tools it starts only.
os.environ["PATH"] = f"{TOOLS}{os.pathsep}{os.environ.get('PATH', '')}"


def tool(name: str) -> str:
    found = TOOLS / name
    return str(found) if found.exists() else name

# Operations that end or change the credentials of whoever calls them: fuzzed in a step of their
# own, so they cannot spoil the rest of the run.
SELF_AFFECTING = [
    "logout",
    "enrol_totp",
    "verify_totp",
    "disable_totp",
    "regenerate_recovery_codes",
    "revoke_token",
    "set_two_factor_policy",
    "request_platform_action",
    "exit_impersonation",
    "start_impersonation",
    # The platform's policy: a password minimum of 128 would make every password the schema
    # allows (12 and up, the default policy) a refused one in step 1.
    "update_settings",
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def call(base: str, method: str, path: str, token: str | None = None, body: object = None) -> dict:
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(base + path, data=data, method=method)
    if data is not None:
        req.add_header("content-type", "application/json")
    if token:
        req.add_header("authorization", f"Bearer {token}")
    with urllib.request.urlopen(req, timeout=30) as res:
        raw = res.read()
    return json.loads(raw) if raw else {}


def totp(secret: str, at: float | None = None) -> str:
    key = base64.b32decode(secret.upper() + "=" * (-len(secret) % 8))
    counter = int((time.time() if at is None else at) // 30)
    digest = hmac.new(key, struct.pack(">Q", counter), hashlib.sha1).digest()
    offset = digest[-1] & 0x0F
    code = (struct.unpack(">I", digest[offset : offset + 4])[0] & 0x7FFFFFFF) % 1_000_000
    return f"{code:06d}"


@contextmanager
def server(name: str):
    """A fresh server on SQLite in its own data directory; yields its base URL."""
    data = Path(tempfile.mkdtemp(prefix=f"steward-contract-{name}-"))
    port = free_port()
    env = dict(
        os.environ,
        STEWARD_BIND=f"127.0.0.1:{port}",
        STEWARD_DATA_DIR=str(data),
        STEWARD_ASSETS_DIR=str(data / "no-console"),
        STEWARD_LOG=os.environ.get("STEWARD_LOG", "warn"),
    )
    log = open(data / "server.log", "w")
    proc = subprocess.Popen([BIN, "serve"], env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            try:
                call(base, "GET", "/api/health")
                break
            except OSError:
                if proc.poll() is not None:
                    raise SystemExit(f"the server exited: see {data / 'server.log'}")
                time.sleep(0.1)
        yield base, data
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()
        if os.environ.get("STEWARD_KEEP") is None:
            shutil.rmtree(data, ignore_errors=True)


def super_admin_token(base: str, data: Path, seed: bool) -> str:
    """Sets the platform up, seeds demo tenants, enrols the admin in 2FA and mints an API token."""
    pair = call(base, "POST", "/api/setup", body={"email": "ada@example.com", "password": PASSWORD, "name": "Ada"})
    if seed:
        subprocess.run(
            [BIN, "seed", "--customers", "3", "--users", "40", "--runs-per-flow", "3"],
            env=dict(os.environ, STEWARD_DATA_DIR=str(data), STEWARD_LOG="warn"),
            check=True,
            stdout=subprocess.DEVNULL,
        )
    access = pair["access_token"]
    enrolment = call(base, "POST", "/api/me/2fa/enrol", access)
    call(base, "POST", "/api/me/2fa/verify", access, {"code": totp(enrolment["secret"])})
    created = call(base, "POST", "/api/me/tokens", access, {"name": "contract fuzzer", "permissions": ["steward.*"]})
    return created["token"]


def schemathesis(base: str, token: str, report: Path, selection: list[str]) -> int:
    report.mkdir(parents=True, exist_ok=True)
    command = [
        tool("schemathesis"),
        "--config-file",
        str(HERE / "schemathesis.toml"),
        "run",
        f"{base}/api/openapi.json",
        "-H",
        f"Authorization: Bearer {token}",
        "--report",
        "junit",
        "--report-dir",
        str(report),
        *selection,
    ]
    print("+", " ".join(c if "Bearer" not in c else "'Authorization: Bearer …'" for c in command), flush=True)
    env = dict(os.environ, SCHEMATHESIS_HOOKS="hooks", PYTHONPATH=str(HERE))
    return subprocess.run(command, env=env, cwd=report.parent).returncode


def fuzz(out: Path, name: str, seed: bool, flag: str) -> str | None:
    """schemathesis on a fresh server: `flag` is --exclude-operation-id or --include-operation-id
    applied to SELF_AFFECTING."""
    with server(name) as (base, data):
        token = super_admin_token(base, data, seed=seed)
        selection = [arg for op in SELF_AFFECTING for arg in (flag, op)]
        if schemathesis(base, token, out / name, selection) != 0:
            return f"schemathesis ({name})"
    return None


def fuzz_main(out: Path) -> str | None:
    return fuzz(out, "fuzz", True, "--exclude-operation-id")


def fuzz_self(out: Path) -> str | None:
    return fuzz(out, "self", False, "--include-operation-id")


def generated_client(out: Path) -> str | None:
    with server("client") as (base, _):
        spec = out / "openapi.json"
        spec.write_bytes(urllib.request.urlopen(f"{base}/api/openapi.json", timeout=30).read())
        generated = subprocess.run(
            [
                tool("openapi-python-client"),
                "generate",
                "--path",
                str(spec),
                "--output-path",
                str(out / "steward_client"),
                "--meta",
                "none",
                "--config",
                str(HERE / "python-client.yaml"),
                "--fail-on-warning",
            ]
        )
        if generated.returncode != 0:
            return "openapi-python-client generate"
        journey = subprocess.run([sys.executable, str(HERE / "journey.py"), base], env=dict(os.environ, PYTHONPATH=str(out)))
        if journey.returncode != 0:
            return "generated-client journey"
    return None


STEPS = {
    "1": ("schemathesis: every operation but the self-affecting ones", fuzz_main),
    "2": ("schemathesis: the operations that change the caller's own credentials", fuzz_self),
    "3": ("a generated Python client drives an admin journey", generated_client),
}


def main() -> int:
    out = Path(os.environ.get("STEWARD_CONTRACT_OUT", ROOT / "target" / "contract"))
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    # STEWARD_CONTRACT_STEPS=3 (or 1,3) runs some of the steps, while working on one.
    chosen = os.environ.get("STEWARD_CONTRACT_STEPS", ",".join(STEPS)).split(",")
    failed = []
    for key in chosen:
        title, step = STEPS[key.strip()]
        print(f"== {key}. {title}", flush=True)
        started = time.monotonic()
        failure = step(out)
        print(f"== {key}. {'FAILED' if failure else 'passed'} in {time.monotonic() - started:.0f} s", flush=True)
        if failure:
            failed.append(failure)
    if failed:
        print("contract checks failed: " + ", ".join(failed), flush=True)
        return 1
    print("contract checks passed", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
