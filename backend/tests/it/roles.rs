//! Roles, memberships and the rules around them, attacked: escalation, foreign tenants,
//! system roles, the last super admin, page delegation.

use axum::http::StatusCode;
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use serde_json::{json, Value};
use steward_backend::roles::{SYSTEM_ADMIN_ROLE, SYSTEM_VIEWER_ROLE};
use steward_backend::store::entities::{audit_events, roles};

use crate::harness::{TestApp, ADMIN_PASSWORD};
use crate::on_both;

on_both!(
    system_roles_are_listed_and_read_only,
    members_and_workspaces_come_in_pages,
    custom_role_lifecycle,
    escalation_is_refused_everywhere,
    tenants_cannot_see_each_other,
    last_super_admin_cannot_be_demoted,
    page_delegation_opens_exactly_the_pages_operations,
    explain_says_why,
);

async fn home_workspace(app: &TestApp, token: &str) -> String {
    app.get("/api/me", Some(token)).await.body["home_workspace"]["id"].as_str().unwrap().to_owned()
}

fn role_named<'a>(list: &'a Value, name: &str) -> &'a Value {
    list["items"].as_array().unwrap().iter().find(|r| r["name"] == name).unwrap_or_else(|| panic!("no role {name}"))
}

async fn system_roles_are_listed_and_read_only(app: TestApp) {
    let admin = app.setup_admin().await;
    let list = app.get("/api/roles", Some(&admin)).await;
    assert_eq!(list.status, StatusCode::OK);
    assert_eq!(list.body["next_cursor"], Value::Null, "every role on one page");
    let metrics = app.get("/api/roles/metrics", Some(&admin)).await.body;
    let total = metrics["leaves_in_catalog"].as_u64().unwrap();
    assert_eq!(metrics["total_roles"], 3);
    assert_eq!(metrics["custom_roles"], 0);
    assert_eq!(metrics["members_assigned"], 1);
    let admin_role = role_named(&list.body, "admin");
    assert_eq!(admin_role["system"], true);
    assert_eq!(admin_role["granted_leaves"].as_u64(), Some(total));
    assert_eq!(admin_role["member_count"], 1);
    let viewer = role_named(&list.body, "viewer");
    let flows = viewer["modules"].as_array().unwrap().iter().find(|m| m["module"] == "steward.flows").unwrap();
    assert_eq!((flows["granted"].as_u64(), flows["total"].as_u64()), (Some(1), Some(5)));

    let change = app
        .put(
            &format!("/api/roles/{SYSTEM_VIEWER_ROLE}"),
            Some(&admin),
            json!({ "name": "viewer", "patterns": ["steward.*"] }),
        )
        .await;
    assert_eq!((change.status, change.problem()), (StatusCode::FORBIDDEN, "system_role_read_only"));
    let delete = app.delete(&format!("/api/roles/{SYSTEM_VIEWER_ROLE}"), Some(&admin)).await;
    assert_eq!((delete.status, delete.problem()), (StatusCode::FORBIDDEN, "system_role_read_only"));
    let after = app.get(&format!("/api/roles/{SYSTEM_VIEWER_ROLE}"), Some(&admin)).await;
    assert_eq!(after.body["patterns"], viewer["patterns"]);
}

async fn custom_role_lifecycle(app: TestApp) {
    let admin = app.setup_admin().await;
    let ws = home_workspace(&app, &admin).await;

    let bad = app
        .post(&format!("/api/workspaces/{ws}/roles"), Some(&admin), json!({ "name": " ", "patterns": ["steward.flows.view", "steward.flows.fly", "Steward..x", "steward.nothing.*"] }))
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    let fields: Vec<&str> =
        bad.body["errors"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap()).collect();
    assert_eq!(fields, ["name", "patterns.1", "patterns.2", "patterns.3"]);
    assert_eq!(roles::Entity::find().filter(roles::Column::IsSystem.eq(false)).count(app.db()).await.unwrap(), 0);

    let created = app
        .post(&format!("/api/workspaces/{ws}/roles"), Some(&admin), json!({ "name": "Flow editors", "description": "Edit flows", "patterns": ["steward.flows.*", "steward.runs.view"] }))
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{:?}", created.body);
    assert_eq!(created.body["granted_leaves"], 6);
    assert_eq!(created.body["system"], false);
    assert_eq!(created.body["workspace"]["id"], ws);
    let role_id = created.body["id"].as_str().unwrap().to_owned();

    let dup = app
        .post(&format!("/api/workspaces/{ws}/roles"), Some(&admin), json!({ "name": "FLOW EDITORS", "patterns": [] }))
        .await;
    assert_eq!((dup.status, dup.problem()), (StatusCode::CONFLICT, "role_name_taken"));
    assert_eq!(dup.body["errors"][0]["field"], "name");

    let updated = app
        .put(
            &format!("/api/roles/{role_id}"),
            Some(&admin),
            json!({ "name": "Flow publishers", "patterns": ["steward.flows.view", "steward.flows.publish"] }),
        )
        .await;
    assert_eq!(updated.status, StatusCode::OK, "{:?}", updated.body);
    assert_eq!(updated.body["leaves"], json!(["steward.flows.view", "steward.flows.publish"]));

    // A member in a second workspace (not their home), then the role is in use.
    let platform = app.platform_customer().await;
    let other_ws = app.workspace(platform, "Second").await;
    let user = app
        .post("/api/users", Some(&admin), json!({ "email": "eve@example.com", "name": "Eve", "password": ADMIN_PASSWORD, "home_workspace_id": ws, "role_id": SYSTEM_VIEWER_ROLE }))
        .await;
    assert_eq!(user.status, StatusCode::CREATED, "{:?}", user.body);
    let user_id = user.body["id"].as_str().unwrap().to_owned();
    let wrong_ws = app
        .post(
            &format!("/api/workspaces/{other_ws}/members"),
            Some(&admin),
            json!({ "email": "eve@example.com", "role_id": role_id }),
        )
        .await;
    assert_eq!(wrong_ws.status, StatusCode::NOT_FOUND, "a custom role only fits its own workspace");
    assert_eq!(wrong_ws.body["errors"][0]["field"], "role_id");
    let added = app
        .post(
            &format!("/api/workspaces/{ws}/members"),
            Some(&admin),
            json!({ "email": "eve@example.com", "role_id": role_id }),
        )
        .await;
    assert_eq!(added.status, StatusCode::OK, "{:?}", added.body);
    let members = app.get(&format!("/api/roles/{role_id}/members"), Some(&admin)).await;
    assert_eq!(members.body["items"].as_array().unwrap().len(), 1);
    assert_eq!(members.body["items"][0]["email"], "eve@example.com");
    assert_eq!(members.body["items"][0]["home"], true);

    let in_use = app.delete(&format!("/api/roles/{role_id}"), Some(&admin)).await;
    assert_eq!((in_use.status, in_use.problem()), (StatusCode::CONFLICT, "role_in_use"));
    assert!(in_use.body["detail"].as_str().unwrap().contains("1 member"));
    let home = app.delete(&format!("/api/workspaces/{ws}/members/{user_id}"), Some(&admin)).await;
    assert_eq!((home.status, home.problem()), (StatusCode::CONFLICT, "home_membership"));

    let back = app
        .put(&format!("/api/workspaces/{ws}/members/{user_id}"), Some(&admin), json!({ "role_id": SYSTEM_VIEWER_ROLE }))
        .await;
    assert_eq!(back.status, StatusCode::OK);
    let deleted = app.delete(&format!("/api/roles/{role_id}"), Some(&admin)).await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT);
    assert_eq!(app.get(&format!("/api/roles/{role_id}"), Some(&admin)).await.status, StatusCode::NOT_FOUND);

    let actions: Vec<String> =
        audit_events::Entity::find().all(app.db()).await.unwrap().into_iter().map(|e| e.action).collect();
    for action in ["role.create", "role.update", "user.create", "membership.grant", "role.delete"] {
        assert!(actions.iter().any(|a| a == action), "no {action} in {actions:?}");
    }
}

async fn escalation_is_refused_everywhere(app: TestApp) {
    let admin = app.setup_admin().await;
    let lead = app
        .principal(&[
            "steward.access.roles.*",
            "steward.access.users.manage",
            "steward.flows.view",
            "steward.customers.view",
        ])
        .await;
    let ws = lead.workspace_id;
    let roles_before = roles::Entity::find().count(app.db()).await.unwrap();

    let create = app
        .post(
            &format!("/api/workspaces/{ws}/roles"),
            Some(&lead.token),
            json!({ "name": "Too much", "patterns": ["steward.flows.*"] }),
        )
        .await;
    assert_eq!((create.status, create.problem()), (StatusCode::FORBIDDEN, "escalation_refused"));
    let detail = create.body["detail"].as_str().unwrap();
    // Named in words, only what is lacking: the lead holds flows.view already.
    assert!(
        detail.contains("Flows: create and edit flows, publish flows, pause and resume flows, trigger and cancel runs")
            && !detail.contains("view flows"),
        "{detail}"
    );
    assert_eq!(roles::Entity::find().count(app.db()).await.unwrap(), roles_before, "nothing created");

    let ok = app
        .post(
            &format!("/api/workspaces/{ws}/roles"),
            Some(&lead.token),
            json!({ "name": "Readers", "patterns": ["steward.flows.view"] }),
        )
        .await;
    assert_eq!(ok.status, StatusCode::CREATED, "{:?}", ok.body);
    let readers = ok.body["id"].as_str().unwrap().to_owned();

    let grow = app
        .put(
            &format!("/api/roles/{readers}"),
            Some(&lead.token),
            json!({ "name": "Readers", "patterns": ["steward.flows.view", "steward.flows.publish"] }),
        )
        .await;
    assert_eq!((grow.status, grow.problem()), (StatusCode::FORBIDDEN, "escalation_refused"));
    assert_eq!(
        app.get(&format!("/api/roles/{readers}"), Some(&admin)).await.body["patterns"],
        json!(["steward.flows.view"])
    );

    // Granting the system admin role (to anyone, oneself included) is escalation.
    let peer = app
        .post("/api/users", Some(&lead.token), json!({ "email": "peer@example.com", "name": "Peer", "password": ADMIN_PASSWORD, "home_workspace_id": ws, "role_id": readers }))
        .await;
    assert_eq!(peer.status, StatusCode::CREATED, "{:?}", peer.body);
    let peer_id = peer.body["id"].as_str().unwrap();
    for target in [peer_id.to_owned(), lead.user_id.to_string()] {
        let res = app
            .put(
                &format!("/api/workspaces/{ws}/members/{target}"),
                Some(&lead.token),
                json!({ "role_id": SYSTEM_ADMIN_ROLE }),
            )
            .await;
        assert_eq!((res.status, res.problem()), (StatusCode::FORBIDDEN, "escalation_refused"));
    }
    let as_admin = app
        .post("/api/users", Some(&lead.token), json!({ "email": "boss@example.com", "name": "Boss", "password": ADMIN_PASSWORD, "home_workspace_id": ws, "role_id": SYSTEM_ADMIN_ROLE }))
        .await;
    assert_eq!(as_admin.problem(), "escalation_refused");
    let as_super = app
        .post("/api/users", Some(&lead.token), json!({ "email": "boss@example.com", "name": "Boss", "password": ADMIN_PASSWORD, "home_workspace_id": ws, "role_id": readers, "super_admin": true }))
        .await;
    assert_eq!(as_super.problem(), "escalation_refused");
    let make_super = app
        .put(&format!("/api/users/{}/super-admin", lead.user_id), Some(&lead.token), json!({ "super_admin": true }))
        .await;
    assert_eq!(make_super.problem(), "escalation_refused");

    // A workspace where the lead holds nothing: refused there, even though the route is open to them.
    let elsewhere = app.workspace(lead.customer_id, "Elsewhere").await;
    let res = app
        .post(&format!("/api/workspaces/{elsewhere}/roles"), Some(&lead.token), json!({ "name": "X", "patterns": [] }))
        .await;
    assert_eq!((res.status, res.problem()), (StatusCode::FORBIDDEN, "permission_denied"));

    // Nobody strips a membership stronger than their own: the admin's is.
    let admin_id = app.get("/api/me", Some(&admin)).await.body["user_id"].as_str().unwrap().to_owned();
    let admin_ws = home_workspace(&app, &admin).await;
    let admin_member = app
        .post(
            &format!("/api/workspaces/{ws}/members"),
            Some(&admin),
            json!({ "email": "admin@example.com", "role_id": SYSTEM_ADMIN_ROLE }),
        )
        .await;
    assert_eq!(admin_member.status, StatusCode::OK);
    let strip = app.delete(&format!("/api/workspaces/{ws}/members/{admin_id}"), Some(&lead.token)).await;
    assert_eq!((strip.status, strip.problem()), (StatusCode::FORBIDDEN, "escalation_refused"));
    assert_ne!(admin_ws, ws.to_string());
    assert!(
        audit_events::Entity::find()
            .filter(audit_events::Column::Action.eq("role.update"))
            .count(app.db())
            .await
            .unwrap()
            == 0
    );
}

async fn tenants_cannot_see_each_other(app: TestApp) {
    let admin = app.setup_admin().await;
    let (acme, acme_ws) = app.customer("Acme", "tenant").await;
    let (globex, globex_ws) = app.customer("Globex", "tenant").await;
    let acme_role =
        app.role(acme, acme_ws, &["steward.access.*", "steward.customers.view", "steward.flows.view"]).await;
    let acme_lead = app.user_with_role(acme, acme_ws, acme_role).await;
    let globex_role = app.role(globex, globex_ws, &["steward.flows.view"]).await;
    let globex_user = app.user_with_role(globex, globex_ws, globex_role).await;
    let t = Some(acme_lead.token.as_str());

    let list = app.get("/api/roles", t).await;
    assert_eq!(list.status, StatusCode::OK);
    let ids: Vec<&str> = list.body["items"].as_array().unwrap().iter().map(|r| r["id"].as_str().unwrap()).collect();
    assert!(ids.contains(&acme_role.to_string().as_str()));
    assert!(!ids.contains(&globex_role.to_string().as_str()), "a foreign custom role leaked");
    let metrics = app.get("/api/roles/metrics", t).await.body;
    assert_eq!(metrics["members_assigned"], 1, "counts stay within the tenant");
    assert_eq!(metrics["total_roles"], list.body["items"].as_array().unwrap().len());

    for path in [
        format!("/api/roles/{globex_role}"),
        format!("/api/roles/{globex_role}/members"),
        format!("/api/access/explain?user={}&permission=steward.flows.view", globex_user.user_id),
    ] {
        let res = app.get(&path, t).await;
        assert_eq!(res.status, StatusCode::NOT_FOUND, "{path}: {:?}", res.body);
    }
    // A foreign workspace as a list filter is refused like an unknown one, as on every list.
    for id in [globex_ws, uuid::Uuid::now_v7()] {
        let res = app.get(&format!("/api/roles?workspace_id={id}"), t).await;
        assert_eq!(res.status, StatusCode::NOT_FOUND, "{:?}", res.body);
        assert_eq!(res.body["errors"][0]["field"], "workspace_id");
    }
    let writes = [
        app.post(&format!("/api/workspaces/{globex_ws}/roles"), t, json!({ "name": "Mine now", "patterns": [] })).await,
        app.put(&format!("/api/roles/{globex_role}"), t, json!({ "name": "Mine now", "patterns": [] })).await,
        app.delete(&format!("/api/roles/{globex_role}"), t).await,
        app.post(
            &format!("/api/workspaces/{globex_ws}/members"),
            t,
            json!({ "email": globex_user.email, "role_id": globex_role }),
        )
        .await,
        app.put(
            &format!("/api/workspaces/{globex_ws}/members/{}", globex_user.user_id),
            t,
            json!({ "role_id": SYSTEM_VIEWER_ROLE }),
        )
        .await,
        app.delete(&format!("/api/workspaces/{globex_ws}/members/{}", globex_user.user_id), t).await,
        app.put(
            &format!("/api/workspaces/{acme_ws}/members/{}", globex_user.user_id),
            t,
            json!({ "role_id": SYSTEM_VIEWER_ROLE }),
        )
        .await,
    ];
    for (i, res) in writes.iter().enumerate() {
        assert_eq!(res.status, StatusCode::NOT_FOUND, "write {i}: {:?}", res.body);
    }
    let foreign_email = app
        .post(
            &format!("/api/workspaces/{acme_ws}/members"),
            t,
            json!({ "email": globex_user.email, "role_id": SYSTEM_VIEWER_ROLE }),
        )
        .await;
    assert_eq!(
        (foreign_email.status, foreign_email.body["errors"][0]["field"].as_str()),
        (StatusCode::NOT_FOUND, Some("email"))
    );
    let cross = app.get(&format!("/api/workspaces?customer_id={globex}"), t).await;
    assert_eq!((cross.status, cross.problem()), (StatusCode::FORBIDDEN, "cross_tenant_denied"));
    // The platform admin, holding cross-tenant rights, sees Globex's role.
    assert_eq!(app.get(&format!("/api/roles/{globex_role}"), Some(&admin)).await.status, StatusCode::OK);
    assert_eq!(
        app.get(&format!("/api/roles/{globex_role}"), Some(&globex_user.token)).await.status,
        StatusCode::FORBIDDEN
    );
}

async fn last_super_admin_cannot_be_demoted(app: TestApp) {
    let admin = app.setup_admin().await;
    let admin_id = app.get("/api/me", Some(&admin)).await.body["user_id"].as_str().unwrap().to_owned();
    let ws = home_workspace(&app, &admin).await;
    let res =
        app.put(&format!("/api/users/{admin_id}/super-admin"), Some(&admin), json!({ "super_admin": false })).await;
    assert_eq!((res.status, res.problem()), (StatusCode::CONFLICT, "last_super_admin"));
    assert_eq!(app.get("/api/me", Some(&admin)).await.body["super_admin"], true);

    let second = app
        .post("/api/users", Some(&admin), json!({ "email": "grace@example.com", "name": "Grace", "password": ADMIN_PASSWORD, "home_workspace_id": ws, "role_id": SYSTEM_VIEWER_ROLE, "super_admin": true }))
        .await;
    assert_eq!(second.status, StatusCode::CREATED, "{:?}", second.body);
    let second_id = second.body["id"].as_str().unwrap().to_owned();
    let grace = app.login("grace@example.com", ADMIN_PASSWORD).await.body["access_token"].as_str().unwrap().to_owned();
    assert_eq!(
        app.put(&format!("/api/users/{admin_id}/super-admin"), Some(&grace), json!({ "super_admin": false }))
            .await
            .status,
        StatusCode::OK
    );
    let res =
        app.put(&format!("/api/users/{second_id}/super-admin"), Some(&grace), json!({ "super_admin": false })).await;
    assert_eq!(res.problem(), "last_super_admin");
    // The demoted admin still holds the admin role, but no longer bypasses: root-only pages close.
    let me = app.get("/api/me", Some(&admin)).await;
    assert_eq!(me.body["super_admin"], false);
    assert!(!me.body["permissions"].as_array().unwrap().iter().any(|p| p == "steward.console.settings.read"));
}

async fn page_delegation_opens_exactly_the_pages_operations(app: TestApp) {
    let admin = app.setup_admin().await;
    let reader = app.principal(&["steward.console.roles.read"]).await;
    assert_eq!(app.get("/api/roles", Some(&reader.token)).await.status, StatusCode::OK);
    assert_eq!(app.get("/api/workspaces", Some(&reader.token)).await.status, StatusCode::OK);
    let write = app
        .post(
            &format!("/api/workspaces/{}/roles", reader.workspace_id),
            Some(&reader.token),
            json!({ "name": "x", "patterns": [] }),
        )
        .await;
    assert_eq!((write.status, write.problem()), (StatusCode::FORBIDDEN, "permission_denied"));

    let writer = app.principal(&["steward.console.roles.write"]).await;
    let created = app
        .post(
            &format!("/api/workspaces/{}/roles", writer.workspace_id),
            Some(&writer.token),
            json!({ "name": "Empty", "patterns": [] }),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{:?}", created.body);
    // The page grants its operations, not the leaves behind them: anti-escalation still applies.
    let more = app
        .post(
            &format!("/api/workspaces/{}/roles", writer.workspace_id),
            Some(&writer.token),
            json!({ "name": "More", "patterns": ["steward.access.roles.view"] }),
        )
        .await;
    assert_eq!(more.problem(), "escalation_refused");
    // And nothing beyond the page: the users page's operations stay closed.
    let user = app.post("/api/users", Some(&writer.token), json!({})).await;
    assert_eq!(user.problem(), "permission_denied");

    // Never-delegable pages: granted, yet not held by anyone but super admins.
    let root = app.principal(&["steward.console.*"]).await;
    let perms = app.get("/api/me", Some(&root.token)).await.body["permissions"].clone();
    let perms: Vec<&str> = perms.as_array().unwrap().iter().map(|p| p.as_str().unwrap()).collect();
    assert!(perms.contains(&"steward.console.roles.write"));
    for root_only in [
        "steward.console.settings.read",
        "steward.console.data_explorer.write",
        "steward.console.platform_actions.write",
        "steward.console.workspaces.read",
    ] {
        assert!(!perms.contains(&root_only), "{root_only} held by a non-super-admin");
    }
    let explain = app
        .get(
            &format!("/api/access/explain?user={}&permission=steward.console.settings.write", root.user_id),
            Some(&admin),
        )
        .await;
    assert_eq!(explain.body["granted"], false);
    assert!(explain.body["detail"].as_str().unwrap().contains("only super admins"));
}

async fn explain_says_why(app: TestApp) {
    let admin = app.setup_admin().await;
    let admin_id = app.get("/api/me", Some(&admin)).await.body["user_id"].as_str().unwrap().to_owned();
    let p = app.principal(&["steward.flows.*"]).await;
    let e = app.get(&format!("/api/access/explain?user={admin_id}&permission=steward.data.ops"), Some(&admin)).await;
    assert_eq!((e.body["granted"].as_bool(), e.body["super_admin"].as_bool()), (Some(true), Some(true)));

    let e = app
        .get(
            &format!(
                "/api/access/explain?user={}&permission=steward.flows.publish&workspace={}",
                p.user_id, p.workspace_id
            ),
            Some(&admin),
        )
        .await;
    assert_eq!(e.status, StatusCode::OK, "{:?}", e.body);
    assert_eq!(e.body["granted"], true);
    assert_eq!(e.body["via"][0]["pattern"], "steward.flows.*");
    assert_eq!(e.body["via"][0]["workspace"]["id"], p.workspace_id.to_string());

    let e =
        app.get(&format!("/api/access/explain?user={}&permission=steward.runs.view", p.user_id), Some(&admin)).await;
    assert_eq!((e.body["granted"].as_bool(), e.body["via"].as_array().map(Vec::len)), (Some(false), Some(0)));

    let bad =
        app.get(&format!("/api/access/explain?user={}&permission=steward.flows.fly", p.user_id), Some(&admin)).await;
    assert_eq!(
        (bad.status, bad.body["errors"][0]["field"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("permission"))
    );
    let bad = app.get("/api/access/explain?user=not-a-uuid&permission=steward.flows.view", Some(&admin)).await;
    assert_eq!((bad.status, bad.body["errors"][0]["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("user")));
    assert_eq!(bad.headers["content-type"], "application/problem+json");
    let missing = app.get("/api/access/explain?permission=steward.flows.view", Some(&admin)).await;
    assert_eq!(missing.body["errors"][0]["field"], "user");
    let bad_path = app.get("/api/roles/not-a-uuid", Some(&admin)).await;
    assert_eq!((bad_path.status, bad_path.problem()), (StatusCode::BAD_REQUEST, "invalid_path_parameter"));
}

/// Every row once across pages, however small the pages: a person holding the role in two
/// workspaces is two rows of one page; a forged cursor is refused by name.
async fn members_and_workspaces_come_in_pages(app: TestApp) {
    use sea_orm::{ActiveModelTrait, Set};
    use steward_backend::store::entities::user_roles;
    let admin = app.setup_admin().await;
    let platform = app.platform_customer().await;
    let (ws1, ws2) = (app.workspace(platform, "Pages one").await, app.workspace(platform, "Pages two").await);
    let mut people = Vec::new();
    for _ in 0..3 {
        people.push(app.user_with_role(platform, ws1, SYSTEM_VIEWER_ROLE).await.user_id);
    }
    user_roles::ActiveModel {
        customer_id: Set(platform),
        workspace_id: Set(ws2),
        user_id: Set(people[0]),
        role_id: Set(SYSTEM_VIEWER_ROLE),
        created_at: Set(chrono::Utc::now()),
    }
    .insert(app.db())
    .await
    .unwrap();

    let walk = |first: String| {
        let (app, admin) = (&app, &admin);
        async move {
            let (mut rows, mut pages, mut next) = (Vec::new(), Vec::new(), Some(first));
            while let Some(url) = next.take() {
                let res = app.get(&url, Some(admin)).await;
                assert_eq!(res.status, StatusCode::OK, "{url}: {:?}", res.body);
                let items = res.body["items"].as_array().unwrap().clone();
                pages.push(items.len());
                rows.extend(items);
                if let Some(c) = res.body["next_cursor"].as_str() {
                    let base = url.split("&cursor=").next().unwrap();
                    next = Some(format!("{base}&cursor={c}"));
                }
            }
            (rows, pages)
        }
    };
    let (rows, _) = walk(format!("/api/roles/{SYSTEM_VIEWER_ROLE}/members?limit=2")).await;
    let mut seen: Vec<(String, String)> = rows
        .iter()
        .map(|r| (r["user_id"].as_str().unwrap().to_owned(), r["workspace"]["id"].as_str().unwrap().to_owned()))
        .collect();
    seen.sort();
    let mut expected: Vec<(String, String)> = people.iter().map(|u| (u.to_string(), ws1.to_string())).collect();
    expected.push((people[0].to_string(), ws2.to_string()));
    expected.sort();
    assert_eq!(seen, expected, "each membership once");
    let whole = app.get(&format!("/api/roles/{SYSTEM_VIEWER_ROLE}/members?limit=200"), Some(&admin)).await;
    assert_eq!(whole.body["items"].as_array().unwrap().len(), 4);
    assert_eq!(whole.body["next_cursor"], Value::Null);

    let (rows, pages) = walk("/api/workspaces?limit=1".to_owned()).await;
    assert!(pages.iter().all(|n| *n <= 1), "{pages:?}");
    let names: Vec<&str> = rows.iter().map(|w| w["name"].as_str().unwrap()).collect();
    let whole = app.get("/api/workspaces?limit=200", Some(&admin)).await;
    let all: Vec<&str> = whole.body["items"].as_array().unwrap().iter().map(|w| w["name"].as_str().unwrap()).collect();
    assert_eq!(names, all, "the same rows in the same order");
    assert!(all.contains(&"Pages one") && all.contains(&"Pages two"));
    let one = whole.body["items"].as_array().unwrap().iter().find(|w| w["name"] == "Pages one").unwrap();
    assert_eq!(one["member_count"], 3);

    for url in ["/api/workspaces?cursor=forged", &format!("/api/roles/{SYSTEM_VIEWER_ROLE}/members?cursor=forged")] {
        let res = app.get(url, Some(&admin)).await;
        assert_eq!((res.status, res.body["errors"][0]["field"].as_str()), (StatusCode::NOT_FOUND, Some("cursor")));
    }
}
