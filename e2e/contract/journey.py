#!/usr/bin/env python3
"""An admin journey through the Python client generated from the served spec, with no hand edits:
setup, login, a customer and a user, the users list page by page with its cursor, View as and
back, and the audit export. Run by `run.py` with the generated package on PYTHONPATH.

Every call goes through the generated functions and models; a status or a shape the spec did
not promise fails the journey.
"""

from __future__ import annotations

import sys
from http import HTTPStatus

from steward_client import AuthenticatedClient, Client
from steward_client.api.audit import export_audit, list_audit
from steward_client.api.auth import get_me, login
from steward_client.api.customers import create_customer
from steward_client.api.impersonation import exit_impersonation, start_impersonation
from steward_client.api.roles import list_roles
from steward_client.api.setup import complete_setup, get_setup_status
from steward_client.api.users import create_user, list_users
from steward_client.models import (
    CreateCustomer,
    CreateUser,
    LoginRequest,
    SetupRequest,
    StartImpersonation,
)
from steward_client.types import UNSET

PASSWORD = "correct-horse-battery-staple"


def expect(response, status: HTTPStatus, what: str):
    if response.status_code != status:
        raise SystemExit(f"{what}: expected {int(status)}, got {int(response.status_code)}: {response.content[:400]!r}")
    if response.parsed is None and status != HTTPStatus.NO_CONTENT:
        raise SystemExit(f"{what}: the generated client could not parse the answer: {response.content[:400]!r}")
    return response.parsed


def main(base: str) -> int:
    anonymous = Client(base_url=base, raise_on_unexpected_status=True)

    status = expect(get_setup_status.sync_detailed(client=anonymous), HTTPStatus.OK, "setup status")
    assert status.needs_setup, "a fresh server needs setup"
    expect(
        complete_setup.sync_detailed(
            client=anonymous,
            body=SetupRequest(email="grace@example.com", password=PASSWORD, name="Grace", organization="Platform"),
        ),
        HTTPStatus.CREATED,
        "setup",
    )

    pair = expect(
        login.sync_detailed(client=anonymous, body=LoginRequest(email="grace@example.com", password=PASSWORD)),
        HTTPStatus.OK,
        "login",
    )
    admin = AuthenticatedClient(base_url=base, token=pair.access_token, raise_on_unexpected_status=True)
    me = expect(get_me.sync_detailed(client=admin), HTTPStatus.OK, "me")
    assert me.email == "grace@example.com"

    customer = expect(
        create_customer.sync_detailed(client=admin, body=CreateCustomer(name="Initech")),
        HTTPStatus.CREATED,
        "create customer",
    )
    workspace = customer.workspaces[0]
    scope = f"customer:{customer.id}"

    roles = expect(list_roles.sync_detailed(client=admin, workspace_id=workspace.id), HTTPStatus.OK, "list roles")
    viewer = next(r for r in roles.items if r.name == "viewer")

    created = []
    for n in range(3):
        user = expect(
            create_user.sync_detailed(
                client=admin,
                body=CreateUser(
                    email=f"peter{n}@initech.example",
                    name=f"Peter {n}",
                    home_workspace_id=workspace.id,
                    role_id=viewer.id,
                    password=PASSWORD,
                ),
            ),
            HTTPStatus.CREATED,
            f"create user {n}",
        )
        created.append(user.id)

    # The customer's users, one per page, following next_cursor to the end.
    seen, cursor = [], UNSET
    for _ in range(10):
        page = expect(
            list_users.sync_detailed(client=admin, x_steward_scope=scope, limit=1, cursor=cursor),
            HTTPStatus.OK,
            "list users",
        )
        assert len(page.items) <= 1
        seen.extend(u.id for u in page.items)
        if not page.next_cursor:
            break
        cursor = page.next_cursor
    assert sorted(map(str, seen)) == sorted(map(str, created)), f"pages gave {seen}, created {created}"

    viewed = expect(
        start_impersonation.sync_detailed(
            client=admin, body=StartImpersonation(user_id=created[0], reason="contract journey: check what Peter sees")
        ),
        HTTPStatus.OK,
        "view as",
    )
    assert viewed.email == "peter0@initech.example", viewed.email
    assert viewed.impersonation, "while viewing as, /api/me carries the impersonation"
    back = expect(exit_impersonation.sync_detailed(client=admin), HTTPStatus.OK, "exit view as")
    assert back.email == "grace@example.com" and not back.impersonation

    events = expect(list_audit.sync_detailed(client=admin, x_steward_scope="all", limit=200), HTTPStatus.OK, "audit")
    actions = {e.action for e in events.items}
    for action in ("customer.create", "user.create", "impersonation.start", "impersonation.stop"):
        assert action in actions, f"{action} not in the audit log: {sorted(actions)}"

    export = export_audit.sync_detailed(client=admin, x_steward_scope="all")
    if export.status_code != HTTPStatus.OK:
        raise SystemExit(f"audit export: {int(export.status_code)}: {export.content[:400]!r}")
    lines = export.content.decode().splitlines()
    header = lines[0].split(",")
    assert "action" in header and len(lines) > len(events.items) // 2, lines[:3]
    assert any("impersonation.start" in line for line in lines[1:])

    print(f"journey passed: {len(created)} users over {len(seen)} pages, {len(lines) - 1} audit rows exported")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else "http://127.0.0.1:8080"))
