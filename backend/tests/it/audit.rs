//! Impersonation and the audit log, attacked: who may view as whom, what the view allows,
//! typed confirmations, expiry, the database refusing edits, verify finding a tampered row,
//! the export's quoting.

use axum::body::Body;
use axum::http::{header, Method, Request, StatusCode};
use sea_orm::{ConnectionTrait, DbBackend, EntityTrait, QueryOrder};
use serde_json::json;
use steward_backend::store::entities::{api_tokens, audit_events};

use crate::harness::{TestApp, ADMIN_PASSWORD};
use crate::on_both;

on_both!(
    impersonation_rules_are_enforced,
    impersonation_never_widens_what_either_sees,
    impersonation_sees_as_the_target_and_records_both,
    racing_starts_and_exits_record_one_event_each,
    destructive_actions_need_typed_confirmation,
    impersonation_ends_on_expiry_and_deactivation,
    the_database_refuses_edits_and_verify_finds_tampering,
    the_newest_events_are_anchored_within_a_second,
    a_rewritten_or_truncated_chain_is_found,
    audit_filters_scope_and_export,
    the_list_shortens_long_summaries_and_reads_the_rest_exactly,
    the_periodic_tick_refreshes_statistics_of_a_table_grown_a_row_at_a_time,
    one_customers_audit_page_walks_an_index_in_seq_order,
    impersonation_history_pairs_each_view_with_its_end,
);

/// How many refusals the audit log holds of `customer`.
async fn refusals(app: &TestApp, customer: uuid::Uuid) -> usize {
    let events = audit_events::Entity::find().all(app.db()).await.unwrap();
    events.iter().filter(|e| e.outcome == "refused" && e.customer_id == Some(customer)).count()
}

async fn admin_id(app: &TestApp, token: &str) -> String {
    app.get("/api/me", Some(token)).await.body["user_id"].as_str().unwrap().to_owned()
}

async fn impersonation_rules_are_enforced(app: TestApp) {
    let admin = app.setup_admin().await;
    let me = admin_id(&app, &admin).await;
    let (acme, ws) = app.customer("Acme", "tenant").await;
    let role = app.role(acme, ws, &["steward.flows.view"]).await;
    let target = app.user_with_role(acme, ws, role).await;
    let start = |user: String, reason: &str| json!({ "user_id": user, "reason": reason });

    let res = app.post("/api/impersonation", Some(&admin), start(target.user_id.to_string(), "")).await;
    assert_eq!(
        (res.status, res.body["errors"][0]["field"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("reason"))
    );
    let res = app.post("/api/impersonation", Some(&admin), start(me.clone(), "checking")).await;
    assert_eq!((res.status, res.problem()), (StatusCode::CONFLICT, "cannot_impersonate"));
    let other_super = app
        .post("/api/users", Some(&admin), json!({ "email": "root2@example.com", "name": "Root", "password": ADMIN_PASSWORD, "home_workspace_id": ws, "role_id": role, "super_admin": true }))
        .await;
    let res = app
        .post("/api/impersonation", Some(&admin), start(other_super.body["id"].as_str().unwrap().into(), "checking"))
        .await;
    assert!(res.body["detail"].as_str().unwrap().contains("Super admins"));
    // Without the privilege: a tenant lead holding everything but impersonation.
    let lead_role =
        app.role(acme, ws, &["steward.access.users.view", "steward.access.roles.*", "steward.flows.*"]).await;
    let lead = app.user_with_role(acme, ws, lead_role).await;
    let res = app.post("/api/impersonation", Some(&lead.token), start(target.user_id.to_string(), "checking")).await;
    assert_eq!(res.problem(), "permission_denied");
    // With the leaf but another tenant's user: not found.
    let (globex, gws) = app.customer("Globex", "tenant").await;
    let imp_role = app.role(globex, gws, &["steward.access.users.impersonate"]).await;
    let globex_support = app.user_with_role(globex, gws, imp_role).await;
    let res = app
        .post("/api/impersonation", Some(&globex_support.token), start(target.user_id.to_string(), "checking"))
        .await;
    assert_eq!(res.status, StatusCode::NOT_FOUND);
    assert_eq!(app.get("/api/me", Some(&admin)).await.body["impersonation"], serde_json::Value::Null);
    let refused = audit_events::Entity::find().all(app.db()).await.unwrap();
    assert!(refused.iter().any(|e| e.action == "impersonation.start" && e.outcome == "refused"));
    assert!(refused
        .iter()
        .any(|e| e.action == "access.denied" && e.target_id.as_deref() == Some("start_impersonation")));
}

/// DESIGN §4: a view as someone reads the intersection of both identities, and a view cannot
/// start another one (a chain once ended with an admin impersonating themself).
async fn impersonation_never_widens_what_either_sees(app: TestApp) {
    use sea_orm::{ActiveModelTrait, Set};
    use steward_backend::store::entities::user_roles;
    let root = app.setup_admin().await;
    let (acme, ws_a) = app.customer("Acme", "tenant").await;
    let ws_b = app.workspace(acme, "Bravo").await;
    // An admin of workspace A only.
    let admin_role = app.role(acme, ws_a, &["steward.access.users.*", "steward.flows.*", "steward.runs.view"]).await;
    let admin_a = app.user_with_role(acme, ws_a, admin_role).await;
    // A member of A (home) who is also a member of B.
    let member_role_a = app.role(acme, ws_a, &["steward.flows.*", "steward.access.users.*"]).await;
    let member = app.user_with_role(acme, ws_a, member_role_a).await;
    let member_role_b = app.role(acme, ws_b, &["steward.flows.*", "steward.access.users.view"]).await;
    user_roles::ActiveModel {
        customer_id: Set(acme),
        workspace_id: Set(ws_b),
        user_id: Set(member.user_id),
        role_id: Set(member_role_b),
        created_at: Set(chrono::Utc::now()),
    }
    .insert(app.db())
    .await
    .unwrap();
    // A member of B only.
    let b_only = app.user_with_role(acme, ws_b, member_role_b).await;
    for (ws, name) in [(ws_a, "Alpha sync"), (ws_b, "Bravo sync")] {
        let res = app.post("/api/flows", Some(&root), json!({ "workspace_id": ws, "name": name })).await;
        assert_eq!(res.status, StatusCode::CREATED, "{:?}", res.body);
    }
    let names = |res: &crate::harness::Response| -> Vec<String> {
        let mut n: Vec<String> =
            res.body["items"].as_array().unwrap().iter().map(|f| f["name"].as_str().unwrap().to_owned()).collect();
        n.sort();
        n
    };
    assert_eq!(names(&app.get("/api/flows", Some(&member.token)).await), ["Alpha sync", "Bravo sync"]);
    assert_eq!(names(&app.get("/api/flows", Some(&admin_a.token)).await), ["Alpha sync"]);
    let start = |user: uuid::Uuid| json!({ "user_id": user, "reason": "support ticket" });
    // Viewing as a user of a workspace the admin holds nothing in is refused.
    let res = app.post("/api/impersonation", Some(&admin_a.token), start(b_only.user_id)).await;
    assert_eq!(res.status, StatusCode::FORBIDDEN, "{:?}", res.body);
    // Viewing as the member: only what both may see.
    let res = app.post("/api/impersonation", Some(&admin_a.token), start(member.user_id)).await;
    assert_eq!(res.status, StatusCode::OK, "{:?}", res.body);
    assert_eq!(names(&app.get("/api/flows", Some(&admin_a.token)).await), ["Alpha sync"]);
    let users = app.get("/api/users?limit=200", Some(&admin_a.token)).await;
    assert_eq!(users.status, StatusCode::OK);
    let emails: Vec<&str> =
        users.body["items"].as_array().unwrap().iter().map(|u| u["email"].as_str().unwrap()).collect();
    assert!(!emails.contains(&b_only.email.as_str()), "a B-only member is not listed: {emails:?}");
    // No second view from inside a view: not another user, not back to the admin.
    for user in [b_only.user_id, admin_a.user_id] {
        let res = app.post("/api/impersonation", Some(&admin_a.token), start(user)).await;
        assert_eq!((res.status, res.problem()), (StatusCode::CONFLICT, "already_impersonating"), "{:?}", res.body);
    }
    let me = app.get("/api/me", Some(&admin_a.token)).await;
    assert_eq!(me.body["impersonation"]["target_user_id"], member.user_id.to_string());
}

async fn impersonation_sees_as_the_target_and_records_both(app: TestApp) {
    let admin = app.setup_admin().await;
    let me = admin_id(&app, &admin).await;
    let (acme, ws) = app.customer("Acme", "tenant").await;
    let (globex, gws) = app.customer("Globex", "tenant").await;
    let role = app
        .role(
            acme,
            ws,
            &["steward.flows.view", "steward.flows.edit", "steward.customers.view", "steward.access.users.manage"],
        )
        .await;
    let target = app.user_with_role(acme, ws, role).await;
    for (w, name) in [(ws, "Acme flow"), (gws, "Globex flow")] {
        app.post("/api/flows", Some(&admin), json!({ "workspace_id": w, "name": name })).await;
    }
    let started = app
        .post("/api/impersonation", Some(&admin), json!({ "user_id": target.user_id, "reason": "ticket #42" }))
        .await;
    assert_eq!(started.status, StatusCode::OK, "{:?}", started.body);
    assert_eq!(started.body["impersonation"]["target_email"], target.email);
    assert_eq!(started.body["impersonation"]["real_user_id"], me);
    assert_eq!(started.body["impersonation"]["customer_name"], "Acme");
    assert_eq!(started.body["email"], target.email, "/api/me answers as the target");

    // Reads are the target's: their tenant only, and admin mode is refused like it is to them.
    let flows = app.get("/api/flows", Some(&admin)).await;
    let names: Vec<&str> =
        flows.body["items"].as_array().unwrap().iter().map(|f| f["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["Acme flow"]);
    let all = app
        .send(
            Request::builder()
                .uri("/api/flows")
                .header(header::AUTHORIZATION, format!("Bearer {admin}"))
                .header("x-steward-scope", "all")
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(all.problem(), "cross_tenant_denied");
    // Never more than the target holds: the admin's own powers are gone.
    assert_eq!(app.get("/api/roles", Some(&admin)).await.problem(), "permission_denied");
    // Writes are authored by the admin, with the target recorded.
    let created =
        app.post("/api/flows", Some(&admin), json!({ "workspace_id": ws, "name": "made while viewing as" })).await;
    assert_eq!(created.status, StatusCode::CREATED);
    let exit = app.call(Method::POST, "/api/impersonation/exit", Some(&admin), None).await;
    assert_eq!((exit.status, exit.body["email"].as_str()), (StatusCode::OK, Some(crate::harness::ADMIN_EMAIL)));
    assert_eq!(
        app.call(Method::POST, "/api/impersonation/exit", Some(&admin), None).await.problem(),
        "not_impersonating"
    );
    assert_eq!(app.get("/api/roles", Some(&admin)).await.status, StatusCode::OK, "powers back after exit");

    let events = audit_events::Entity::find().order_by_asc(audit_events::Column::Seq).all(app.db()).await.unwrap();
    let find = |action: &str| events.iter().find(|e| e.action == action).unwrap_or_else(|| panic!("no {action}"));
    for action in ["impersonation.start", "flow.create", "impersonation.stop"] {
        let e = if action == "flow.create" {
            events.iter().rev().find(|e| e.action == action).unwrap()
        } else {
            find(action)
        };
        assert_eq!(e.actor_user_id.map(|u| u.to_string()), Some(me.clone()), "{action} authored by the admin");
        assert_eq!(e.impersonated_user_id, Some(target.user_id), "{action} records the target");
    }
    assert_eq!(find("impersonation.start").summary["reason"], "ticket #42");
    let _ = globex;
}

/// A double submit or two tabs: starts racing on one session leave one view and one start
/// event; exits racing leave one stop event; every loser is refused, none is a second success.
async fn racing_starts_and_exits_record_one_event_each(app: TestApp) {
    let admin = app.setup_admin().await;
    let (acme, ws) = app.customer("Acme", "tenant").await;
    let role = app.role(acme, ws, &["steward.flows.view"]).await;
    let target = app.user_with_role(acme, ws, role).await;
    let body = json!({ "user_id": target.user_id, "reason": "ticket #7" });
    let starts =
        futures::future::join_all((0..6).map(|_| app.post("/api/impersonation", Some(&admin), body.clone()))).await;
    let won = starts.iter().filter(|r| r.status == StatusCode::OK).count();
    assert_eq!(won, 1, "{:?}", starts.iter().map(|r| (r.status, r.body.clone())).collect::<Vec<_>>());
    for lost in starts.iter().filter(|r| r.status != StatusCode::OK) {
        // A request that resolved before the winner committed meets the compare-and-set (409);
        // one that resolved after it acts as the target, who may not view as anyone (403).
        assert!(
            matches!(lost.problem(), "already_impersonating" | "permission_denied"),
            "{:?} {:?}",
            lost.status,
            lost.body
        );
    }
    let exits = futures::future::join_all(
        (0..6).map(|_| app.call(Method::POST, "/api/impersonation/exit", Some(&admin), None)),
    )
    .await;
    let won = exits.iter().filter(|r| r.status == StatusCode::OK).count();
    assert_eq!(won, 1, "{:?}", exits.iter().map(|r| (r.status, r.body.clone())).collect::<Vec<_>>());
    for lost in exits.iter().filter(|r| r.status != StatusCode::OK) {
        assert_eq!(lost.problem(), "not_impersonating", "{:?}", lost.body);
    }
    let events = audit_events::Entity::find().all(app.db()).await.unwrap();
    let count = |action: &str| events.iter().filter(|e| e.action == action && e.outcome == "success").count();
    assert_eq!((count("impersonation.start"), count("impersonation.stop")), (1, 1));
    let verified = app.get("/api/audit/verify", Some(&admin)).await;
    assert_eq!(verified.body["ok"], true, "{:?}", verified.body);
}

async fn destructive_actions_need_typed_confirmation(app: TestApp) {
    let admin = app.setup_admin().await;
    let (acme, ws) = app.customer("Acme", "tenant").await;
    let role = app.role(acme, ws, &["steward.connectors.*", "steward.access.roles.*", "steward.access.users.*"]).await;
    let target = app.user_with_role(acme, ws, role).await;
    // Weaker than the target: credentials are only changed by someone holding more.
    let reader = app.role(acme, ws, &["steward.connectors.view"]).await;
    let victim = app.user_with_role(acme, ws, reader).await;
    let c = app
        .post(
            "/api/connectors",
            Some(&target.token),
            json!({ "workspace_id": ws, "name": "Acme warehouse", "kind": "postgres" }),
        )
        .await;
    let id = c.body["connector_id"].as_str().unwrap().to_owned();
    let created = app
        .post(
            "/api/me/tokens",
            Some(&target.token),
            json!({ "name": "nightly sync", "permissions": ["steward.connectors.view"] }),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{:?}", created.body);
    let target_token: (uuid::Uuid, &str) =
        (created.body["info"]["id"].as_str().unwrap().parse().unwrap(), "nightly sync");
    // Not impersonating: no confirmation needed.
    assert_eq!(
        app.call(Method::POST, &format!("/api/connectors/{id}/rotate-key"), Some(&admin), None).await.status,
        StatusCode::OK
    );
    app.post("/api/impersonation", Some(&admin), json!({ "user_id": target.user_id, "reason": "rotate on request" }))
        .await;
    let rotate = |confirm: Option<&str>| {
        let mut req = Request::builder()
            .method(Method::POST)
            .uri(format!("/api/connectors/{id}/rotate-key"))
            .header(header::AUTHORIZATION, format!("Bearer {admin}"));
        if let Some(c) = confirm {
            req = req.header("x-steward-confirm", c);
        }
        req.body(Body::empty()).unwrap()
    };
    let missing = app.send(rotate(None)).await;
    assert_eq!((missing.status, missing.problem()), (StatusCode::PRECONDITION_REQUIRED, "confirmation_required"));
    // It says what to type, never the name itself (a foreign id must not reveal one).
    let detail = missing.body["detail"].as_str().unwrap();
    assert!(detail.contains("the connector's name") && !detail.contains("Acme warehouse"), "{detail}");
    let wrong = app.send(rotate(Some("Acme"))).await;
    assert_eq!(
        (wrong.status, wrong.body["errors"][0]["field"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("X-Steward-Confirm"))
    );
    let before = steward_backend::store::entities::connectors::Entity::find().one(app.db()).await.unwrap().unwrap();
    let right = app.send(rotate(Some("Acme warehouse"))).await;
    assert_eq!(right.status, StatusCode::OK);
    let after = steward_backend::store::entities::connectors::Entity::find().one(app.db()).await.unwrap().unwrap();
    assert_ne!(before.api_key_hash, after.api_key_hash, "only the confirmed request rotated");
    // Deactivating a user, resetting their 2FA, mailing them a reset link (by id or by address)
    // and revoking the target's own API token through /api/me are destructive too: each once
    // went through with no confirmation while viewing as someone.
    let victim_id = victim.user_id;
    let token_id = target_token.0;
    let email_body = json!({ "email": victim.email }).to_string();
    for (method, path, body, expected) in [
        (Method::POST, format!("/api/users/{victim_id}/password-reset"), "{}".to_owned(), victim.email.clone()),
        (Method::POST, "/api/password-resets".to_owned(), email_body, victim.email.clone()),
        (Method::DELETE, format!("/api/me/tokens/{token_id}"), "{}".to_owned(), target_token.1.to_owned()),
        (Method::POST, format!("/api/users/{victim_id}/deactivate"), "{}".to_owned(), victim.email.clone()),
        (Method::DELETE, format!("/api/users/{victim_id}/2fa"), "{}".to_owned(), victim.email.clone()),
    ] {
        let send = |confirm: Option<&str>| {
            let mut req = Request::builder()
                .method(method.clone())
                .uri(&path)
                .header(header::AUTHORIZATION, format!("Bearer {admin}"))
                .header(header::CONTENT_TYPE, "application/json");
            if let Some(c) = confirm {
                req = req.header("x-steward-confirm", c);
            }
            req.body(Body::from(body.clone())).unwrap()
        };
        let missing = app.send(send(None)).await;
        assert_eq!(
            (missing.status, missing.problem()),
            (StatusCode::PRECONDITION_REQUIRED, "confirmation_required"),
            "{path}"
        );
        let wrong = app.send(send(Some("someone@else.example"))).await;
        assert_eq!(wrong.status, StatusCode::UNPROCESSABLE_ENTITY, "{path}");
        let right = app.send(send(Some(&expected))).await;
        assert!(right.status.is_success(), "{path}: {:?}", right.body);
    }
    let token = api_tokens::Entity::find_by_id(token_id).one(app.db()).await.unwrap().unwrap();
    assert!(token.revoked_at.is_some(), "the confirmed revoke took effect");
    // Each refusal is in the audit log, naming the confirmation asked for.
    let refused = audit_events::Entity::find().all(app.db()).await.unwrap();
    let confirmations =
        refused.iter().filter(|e| e.action == "access.refused" && e.summary.to_string().contains("confirm")).count();
    assert_eq!(confirmations, 12, "two refusals for each of the six destructive requests");
}

async fn impersonation_ends_on_expiry_and_deactivation(app: TestApp) {
    let admin = app.setup_admin().await;
    let (acme, ws) = app.customer("Acme", "tenant").await;
    let role = app.role(acme, ws, &["steward.flows.view"]).await;
    let target = app.user_with_role(acme, ws, role).await;
    app.post("/api/impersonation", Some(&admin), json!({ "user_id": target.user_id, "reason": "expiry test" })).await;
    app.db()
        .execute_unprepared("UPDATE sessions SET impersonation_expires_at = impersonation_started_at WHERE impersonated_user_id IS NOT NULL")
        .await
        .unwrap();
    let me = app.get("/api/me", Some(&admin)).await;
    assert_eq!(
        (me.body["email"].as_str(), me.body["impersonation"].is_null()),
        (Some(crate::harness::ADMIN_EMAIL), true)
    );

    app.post("/api/impersonation", Some(&admin), json!({ "user_id": target.user_id, "reason": "deactivation test" }))
        .await;
    assert!(!app.get("/api/me", Some(&admin)).await.body["impersonation"].is_null());
    app.db()
        .execute_unprepared(&format!("UPDATE users SET status = 'inactive' WHERE email = '{}'", target.email))
        .await
        .unwrap();
    // Written around the API, as another replica would: seen once this replica's cached
    // principal has aged out (250 ms).
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let me = app.get("/api/me", Some(&admin)).await;
    assert!(me.body["impersonation"].is_null(), "deactivating the target ends it");
    let stops: Vec<_> = audit_events::Entity::find()
        .all(app.db())
        .await
        .unwrap()
        .into_iter()
        .filter(|e| e.action == "impersonation.stop")
        .collect();
    let reasons: Vec<&str> = stops.iter().map(|e| e.summary["reason"].as_str().unwrap()).collect();
    assert_eq!(reasons, ["expired", "target_not_impersonable"]);
    let res =
        app.post("/api/impersonation", Some(&admin), json!({ "user_id": target.user_id, "reason": "again" })).await;
    assert!(res.body["detail"].as_str().unwrap().contains("Inactive"));
}

async fn the_database_refuses_edits_and_verify_finds_tampering(app: TestApp) {
    let admin = app.setup_admin().await;
    for _ in 0..3 {
        app.login(crate::harness::ADMIN_EMAIL, "wrong password, logged").await;
    }
    let ok = app.get("/api/audit/verify", Some(&admin)).await;
    assert_eq!((ok.body["ok"].as_bool(), ok.body["events_checked"].as_u64()), (Some(true), Some(4)));

    for sql in ["UPDATE audit_events SET outcome = 'success' WHERE seq = 2", "DELETE FROM audit_events WHERE seq = 3"] {
        let err = app.db().execute_unprepared(sql).await.expect_err("the database refuses");
        assert!(err.to_string().contains("append-only"), "{err}");
    }
    // An attacker with the database's keys disables the guard and edits a row: verify finds it.
    let (off, on) = match app.db().get_database_backend() {
        DbBackend::Postgres => {
            ("ALTER TABLE audit_events DISABLE TRIGGER USER", "ALTER TABLE audit_events ENABLE TRIGGER USER")
        }
        _ => ("DROP TRIGGER audit_events_no_update", "SELECT 1"),
    };
    app.db().execute_unprepared(off).await.unwrap();
    app.db().execute_unprepared("UPDATE audit_events SET outcome = 'success' WHERE seq = 3").await.unwrap();
    app.db().execute_unprepared(on).await.unwrap();
    let broken = app.get("/api/audit/verify", Some(&admin)).await;
    assert_eq!((broken.body["ok"].as_bool(), broken.body["first_broken_seq"].as_i64()), (Some(false), Some(3)));
    assert!(broken.body["problem"].as_str().unwrap().contains("edited"));
}

/// Issue 12 (8): with the triggers gone, an intruder who can write the database still cannot
/// recompute the keyed chain, nor delete its newest events past a signed checkpoint, even after
/// deleting the checkpoints from the table (the file beside the data keeps them).
/// The checkpoint task as the server runs it (every second by default): an event deleted by
/// an intruder a moment after it was written is found, not only one older than a minute.
async fn the_newest_events_are_anchored_within_a_second(app: TestApp) {
    use steward_backend::audit::chain;
    let admin = app.setup_admin().await;
    assert_eq!(app.state.config.audit_checkpoint_secs, 1, "the default window");
    let file = chain::checkpoints_file(&app.state.config);
    let task = chain::spawn_checkpoints(
        app.db().clone(),
        app.state.audit_keys.clone(),
        file.clone(),
        std::time::Duration::from_secs(app.state.config.audit_checkpoint_secs),
    );
    app.login(crate::harness::ADMIN_EMAIL, "a wrong password, then hidden").await;
    let newest = audit_events::Entity::find().order_by_desc(audit_events::Column::Seq).one(app.db()).await.unwrap();
    let newest = newest.unwrap().seq;
    // The anchor lands within the interval (a second), polled rather than slept for.
    let anchored = async {
        loop {
            let cp = chain::newest_checkpoint(app.db()).await.unwrap();
            if cp.is_some_and(|c| c.seq >= newest) {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
    };
    tokio::time::timeout(std::time::Duration::from_secs(10), anchored).await.expect("a checkpoint within the interval");
    task.abort();
    let off = match app.db().get_database_backend() {
        DbBackend::Postgres => "ALTER TABLE audit_events DISABLE TRIGGER USER",
        _ => "DROP TRIGGER audit_events_no_update; DROP TRIGGER audit_events_no_delete",
    };
    app.db().execute_unprepared(off).await.unwrap();
    app.db().execute_unprepared(&format!("DELETE FROM audit_events WHERE seq = {newest}")).await.unwrap();
    app.db().execute_unprepared(&format!("DELETE FROM audit_checkpoints WHERE seq >= {newest}")).await.unwrap();
    let verified = app.get("/api/audit/verify", Some(&admin)).await;
    assert_eq!(verified.body["ok"], false, "{:?}", verified.body);
    assert!(verified.body["problem"].as_str().unwrap().contains("missing"), "{:?}", verified.body);
}

async fn a_rewritten_or_truncated_chain_is_found(app: TestApp) {
    use steward_backend::audit::chain;
    let admin = app.setup_admin().await;
    for _ in 0..5 {
        app.login(crate::harness::ADMIN_EMAIL, "wrong password, logged").await;
    }
    let keys = app.state.audit_keys.clone();
    let file = chain::checkpoints_file(&app.state.config);
    let cp = chain::checkpoint(app.db(), &keys, &file).await.unwrap().expect("a checkpoint of the head");
    let head = cp.seq;
    assert!(head >= 6, "setup and five failed logins");
    assert!(chain::checkpoint(app.db(), &keys, &file).await.unwrap().is_none(), "one checkpoint per head");
    let ok = app.get("/api/audit/verify", Some(&admin)).await;
    assert_eq!(ok.body["ok"], true, "{:?}", ok.body);
    assert_eq!((ok.body["checkpoint"]["seq"].as_i64(), ok.body["unkeyed_events"].as_u64()), (Some(head), Some(0)));
    let export = app.get("/api/audit/export", Some(&admin)).await;
    let named = export.headers["x-steward-audit-checkpoint"].to_str().unwrap().to_owned();
    assert!(named.starts_with(&format!("seq={head}; head={}", cp.head_hash)), "{named}");
    // Two more events after the checkpoint.
    app.login(crate::harness::ADMIN_EMAIL, "wrong again").await;
    app.login(crate::harness::ADMIN_EMAIL, "and again").await;

    let off = match app.db().get_database_backend() {
        DbBackend::Postgres => "ALTER TABLE audit_events DISABLE TRIGGER USER",
        _ => "DROP TRIGGER audit_events_no_update; DROP TRIGGER audit_events_no_delete",
    };
    app.db().execute_unprepared(off).await.unwrap();
    let rows =
        || async { audit_events::Entity::find().order_by_asc(audit_events::Column::Seq).all(app.db()).await.unwrap() };

    // Writes a row back whole, as an intruder with the triggers off can.
    let db = app.db().clone();
    let put = |e: audit_events::Model| {
        let db = db.clone();
        async move {
            use sea_orm::ActiveModelTrait;
            audit_events::ActiveModel::from(e).reset_all().update(&db).await.unwrap();
        }
    };
    // Rechains `events` from `prev` with plain SHA-256 (unkeyed), as the old chain allowed.
    let rechain = |events: Vec<audit_events::Model>, mut prev: String| {
        events
            .into_iter()
            .map(|e| {
                let mut e = audit_events::Model { key_id: None, prev_hash: prev.clone(), ..e };
                e.hash = chain::hash(&e, &keys).unwrap();
                prev = e.hash.clone();
                e
            })
            .collect::<Vec<_>>()
    };

    // 1. Edit event 3 and recompute every hash after it: the keyed hashes cannot be remade.
    let original = rows().await;
    let mut edited: Vec<audit_events::Model> = original.iter().skip(2).cloned().collect();
    edited[0].outcome = "success".into();
    for e in rechain(edited, original[2].prev_hash.clone()) {
        put(e).await;
    }
    let broken = app.get("/api/audit/verify", Some(&admin)).await;
    assert_eq!(
        (broken.body["ok"].as_bool(), broken.body["first_broken_seq"].as_i64()),
        (Some(false), Some(3)),
        "{:?}",
        broken.body
    );
    // ... nor does rewriting the whole chain as unkeyed events: the signed checkpoint names the
    // head it had.
    for e in rechain(original.clone(), chain::GENESIS.to_string()) {
        put(e).await;
    }
    let downgraded = app.get("/api/audit/verify", Some(&admin)).await;
    assert_eq!(downgraded.body["ok"], false, "{:?}", downgraded.body);
    assert!(downgraded.body["problem"].as_str().unwrap().contains("checkpoint"), "{:?}", downgraded.body);

    // 2. Put the true chain back, then delete the newest events, and then the checkpoint rows.
    for e in original.iter().cloned() {
        put(e).await;
    }
    assert_eq!(app.get("/api/audit/verify", Some(&admin)).await.body["ok"], true, "restored");
    app.db().execute_unprepared(&format!("DELETE FROM audit_events WHERE seq >= {}", head - 1)).await.unwrap();
    let truncated = app.get("/api/audit/verify", Some(&admin)).await;
    assert_eq!(
        (truncated.body["ok"].as_bool(), truncated.body["first_broken_seq"].as_i64()),
        (Some(false), Some(head - 1)),
        "{:?}",
        truncated.body
    );
    assert!(truncated.body["problem"].as_str().unwrap().contains("missing"), "{:?}", truncated.body);
    app.db().execute_unprepared("DELETE FROM audit_checkpoints").await.unwrap();
    let still = app.get("/api/audit/verify", Some(&admin)).await;
    assert_eq!(still.body["ok"], false, "the checkpoint file still names the head: {:?}", still.body);
    // A forged checkpoint line (signed with another key) is itself refused.
    std::fs::write(&file, "{\"seq\":1,\"head_hash\":\"00\",\"key_id\":\"k1\",\"signature\":\"00\",\"created_at\":\"2026-01-01T00:00:00Z\"}\n").unwrap();
    let forged = app.get("/api/audit/verify", Some(&admin)).await;
    assert!(forged.body["problem"].as_str().unwrap().contains("signature"), "{:?}", forged.body);
}

/// The list leaves out a long summary's long values and names them, and gives everything else
/// exactly as stored, whatever the JSON: the database shortens it (`json_each`), so each kind of
/// value crosses that path here, on both databases.
async fn the_list_shortens_long_summaries_and_reads_the_rest_exactly(app: TestApp) {
    use sea_orm::{ActiveModelTrait, IntoActiveModel};
    let admin = app.setup_admin().await;
    let newest =
        audit_events::Entity::find().order_by_desc(audit_events::Column::Seq).one(app.db()).await.unwrap().unwrap();
    let rows: Vec<_> = (0..100).map(|i| json!({ "id": i, "source": "erp-import" })).collect();
    let kinds = json!({
        "quote": "say \"hi\"\n\ttab \\ back", "accent": "café ✓ 日本", "yes": true, "no": false, "nothing": null,
        "int": -42, "big": 9_007_199_254_740_993_i64, "float": 1.5, "nested": { "a": [1, { "b": "c" }] },
        "empty": {}, "list": [], "we\"ird ✓ key": "v", "exactly": "x".repeat(254),
    });
    let mut long = kinds.clone();
    long["before"] = json!(rows);
    long["after"] = json!("y".repeat(300));
    let many: serde_json::Map<String, serde_json::Value> =
        (0..200).map(|i| (format!("key{i}"), json!("value"))).collect();
    let cases = [
        // (stored, as listed, left out)
        (long.clone(), kinds.clone(), json!(["after", "before"])),
        (json!({ "before": rows[..3], "long": "z".repeat(300) }), json!(null), json!([])),
        (serde_json::Value::Object(many), json!(null), json!([])),
        (json!("s".repeat(3000)), json!(null), json!([])),
        (json!(rows), json!(null), json!([])),
        (json!({}), json!(null), json!([])),
    ];
    for (i, (stored, _, _)) in cases.iter().enumerate() {
        let mut event = newest.clone();
        event.seq = newest.seq + 1 + i as i64;
        event.id = uuid::Uuid::now_v7();
        event.action = "test.summary".into();
        event.hash = format!("{:0>64}", format!("test{i}"));
        event.summary = stored.clone();
        event.into_active_model().reset_all().insert(app.db()).await.unwrap();
    }
    let listed = app.get("/api/audit?action=test.summary", Some(&admin)).await;
    let items = listed.body["items"].as_array().unwrap();
    assert_eq!(items.len(), cases.len(), "{:?}", listed.body);
    for (i, (stored, shown, omitted)) in cases.iter().enumerate() {
        let item = &items[cases.len() - 1 - i];
        let shown = if shown.is_null() { stored } else { shown };
        assert_eq!((&item["summary"], &item["summary_omitted"]), (shown, omitted), "case {i}");
        let whole = app.get(&format!("/api/audit/{}", item["seq"]), Some(&admin)).await;
        assert_eq!((&whole.body["summary"], &whole.body["summary_omitted"]), (stored, &json!([])), "case {i}");
    }
}

/// On SQLite the periodic tick brings the statistics of a table filled one row at a time up to
/// date (`PRAGMA optimize`): analysed when the seed had left one audit event, the audit log was
/// planned as a one-row table at 24,000 events and a page's lookup by `seq` scanned them all.
/// (PostgreSQL's autovacuum keeps its statistics; the tick leaves them to it.)
async fn the_periodic_tick_refreshes_statistics_of_a_table_grown_a_row_at_a_time(app: TestApp) {
    use sea_orm::{ActiveModelTrait, IntoActiveModel};
    app.setup_admin().await;
    if app.db().get_database_backend() != DbBackend::Sqlite {
        return;
    }
    let planned = || async {
        let row = app
            .db()
            .query_one_raw(sea_orm::Statement::from_string(
                DbBackend::Sqlite,
                "SELECT coalesce(max(CAST(stat AS INTEGER)), 0) AS n FROM sqlite_stat1 WHERE tbl = 'audit_events'",
            ))
            .await
            .unwrap()
            .unwrap();
        row.try_get::<i64>("", "n").unwrap()
    };
    app.db().execute_unprepared("ANALYZE audit_events").await.unwrap();
    let small = planned().await;
    let newest =
        audit_events::Entity::find().order_by_desc(audit_events::Column::Seq).one(app.db()).await.unwrap().unwrap();
    let grown = small * 40;
    for i in 1..=grown {
        let mut event = newest.clone();
        (event.seq, event.id, event.hash) =
            (newest.seq + i, uuid::Uuid::now_v7(), format!("{:0>64}", format!("grown{i}")));
        event.into_active_model().reset_all().insert(app.db()).await.unwrap();
    }
    assert_eq!(planned().await, small, "no statistics move on their own");
    steward_backend::ops::periodic::tick(&app.state).await.unwrap();
    let now = planned().await;
    assert!(now > grown, "after the tick the planner knows the {} events (analysed at {small}): {now}", grown + small);
}

/// One customer's audit page (`customer_id = … ORDER BY seq DESC`, keyset on `seq`) walks
/// `(customer_id, seq)` and stops after the page: over `(customer_id, occurred_at, seq)` it read
/// and sorted every event of the customer first (16 requests a second at 24,000 events).
async fn one_customers_audit_page_walks_an_index_in_seq_order(app: TestApp) {
    app.setup_admin().await;
    let backend = app.db().get_database_backend();
    let (explain, page) = match backend {
        DbBackend::Postgres => (
            "EXPLAIN",
            "SELECT seq FROM audit_events WHERE customer_id = '00000000-0000-0000-0000-000000000001' AND seq < 1000 \
             ORDER BY seq DESC LIMIT 51",
        ),
        _ => (
            "EXPLAIN QUERY PLAN",
            "SELECT seq FROM audit_events WHERE customer_id = x'00000000000000000000000000000001' AND seq < 1000 \
             ORDER BY seq DESC LIMIT 51",
        ),
    };
    // PostgreSQL plans a tiny table by a scan whatever its indexes: asked not to, it shows which
    // index it would walk.
    let txn = sea_orm::TransactionTrait::begin(app.db()).await.unwrap();
    if backend == DbBackend::Postgres {
        txn.execute_unprepared("SET LOCAL enable_seqscan = off").await.unwrap();
    }
    let mut plan = String::new();
    let sql = format!("{explain} {page}");
    for row in txn.query_all_raw(sea_orm::Statement::from_string(backend, sql)).await.unwrap() {
        let line: String = match backend {
            DbBackend::Postgres => row.try_get("", "QUERY PLAN").unwrap(),
            _ => row.try_get("", "detail").unwrap(),
        };
        plan.push_str(&line);
        plan.push('\n');
    }
    txn.rollback().await.unwrap();
    assert!(plan.contains("ix_audit_customer_seq"), "{plan}");
    assert!(!plan.contains("TEMP B-TREE") && !plan.contains("Sort"), "no sort of the customer's whole log: {plan}");
}

async fn audit_filters_scope_and_export(app: TestApp) {
    let admin = app.setup_admin().await;
    let (acme, ws) = app.customer("Acme", "tenant").await;
    let role = app.role(acme, ws, &["steward.audit.*", "steward.flows.*"]).await;
    let lead = app.user_with_role(acme, ws, role).await;
    app.post("/api/flows", Some(&lead.token), json!({ "workspace_id": ws, "name": "=cmd|' /C calc'!A0" })).await;
    app.post("/api/flows", Some(&admin), json!({ "workspace_id": ws, "name": "second" })).await;

    let mine = app.get("/api/audit", Some(&lead.token)).await;
    assert_eq!(mine.status, StatusCode::OK);
    assert!(
        mine.body["items"].as_array().unwrap().iter().all(|e| e["customer_id"] == acme.to_string()),
        "a tenant sees its own events only"
    );
    let platform = app.get("/api/audit?action=setup.complete", Some(&lead.token)).await;
    assert_eq!(platform.body["items"].as_array().unwrap().len(), 0);
    let paged = app.get("/api/audit?action=flow.&limit=1", Some(&lead.token)).await;
    assert_eq!(paged.body["items"][0]["action"], "flow.create");
    let next = paged.body["next_cursor"].as_str().unwrap();
    let page2 = app.get(&format!("/api/audit?action=flow.&limit=1&cursor={next}"), Some(&lead.token)).await;
    assert_ne!(page2.body["items"][0]["seq"], paged.body["items"][0]["seq"]);
    let inverted = app.get("/api/audit?from=2026-11-02T00:00:00Z&to=2026-11-01T00:00:00Z", Some(&lead.token)).await;
    assert_eq!(
        (inverted.status, inverted.body["items"].as_array().map(Vec::len)),
        (StatusCode::OK, Some(0)),
        "an empty span"
    );
    let bad = app.get("/api/audit?from=yesterday", Some(&lead.token)).await;
    assert_eq!(bad.body["errors"][0]["field"], "from");
    let foreign = app.get(&format!("/api/audit?customer_id={}", uuid::Uuid::now_v7()), Some(&lead.token)).await;
    assert_eq!(foreign.problem(), "cross_tenant_denied");

    // One event by its seq: the caller's own customer's only. A short summary is whole in the
    // list already.
    let own = &paged.body["items"][0];
    assert_eq!(own["summary_omitted"], json!([]));
    let one = app.get(&format!("/api/audit/{}", own["seq"]), Some(&lead.token)).await;
    assert_eq!(one.status, StatusCode::OK, "{:?}", one.body);
    assert_eq!(&one.body, own, "the event reads as the list gave it");
    let (globex, globex_ws) = app.customer("Globex", "tenant").await;
    app.post("/api/flows", Some(&admin), json!({ "workspace_id": globex_ws, "name": "theirs" })).await;
    let theirs = app.get(&format!("/api/audit?action=flow.create&customer_id={globex}"), Some(&admin)).await;
    let theirs = theirs.body["items"][0]["seq"].as_i64().unwrap();
    let setup = app.get("/api/audit?action=setup.complete", Some(&admin)).await;
    let setup = setup.body["items"][0]["seq"].as_i64().unwrap();
    let before = refusals(&app, acme).await;
    for (seq, why) in [(theirs, "another tenant's"), (setup, "the platform's"), (i64::MAX, "no such")] {
        let res = app.get(&format!("/api/audit/{seq}"), Some(&lead.token)).await;
        assert_eq!((res.status, res.problem()), (StatusCode::NOT_FOUND, "not_found"), "{why}: {:?}", res.body);
        assert!(!res.body.to_string().contains("theirs"), "nothing of it shows");
    }
    assert_eq!(
        refusals(&app, acme).await,
        before + 1,
        "asking for another tenant's event by its seq is a recorded refusal"
    );
    let word = app.get("/api/audit/first", Some(&lead.token)).await;
    assert_eq!((word.status, word.problem()), (StatusCode::BAD_REQUEST, "invalid_path_parameter"));
    // Platform staff read any, whatever scope they list in (the console opens an event from a
    // list filtered to one customer); the platform's own events too.
    let any = app.get(&format!("/api/audit/{theirs}"), Some(&admin)).await;
    assert_eq!((any.status, any.body["customer_name"].as_str()), (StatusCode::OK, Some("Globex")), "{:?}", any.body);
    assert_eq!(app.get(&format!("/api/audit/{setup}"), Some(&admin)).await.body["action"], "setup.complete");

    let res = app.router.clone();
    let req = Request::builder()
        .uri("/api/audit/export?action=flow.create")
        .header(header::AUTHORIZATION, format!("Bearer {}", lead.token))
        .body(Body::empty())
        .unwrap();
    let response = tower::ServiceExt::oneshot(res, req).await.unwrap();
    assert_eq!(response.headers()["content-type"], "text/csv; charset=utf-8");
    let bytes = http_body_util::BodyExt::collect(response.into_body()).await.unwrap().to_bytes();
    let csv = String::from_utf8(bytes.to_vec()).unwrap();
    let lines: Vec<&str> = csv.lines().collect();
    assert!(lines[0].starts_with("seq,occurred_at,customer_id"));
    assert_eq!(lines.len(), 3, "{csv}");
    // The summary cell is quoted JSON (whitespace is the database's own), never a bare formula.
    assert!(csv.contains(r#","{""after"":"#) && csv.contains("=cmd|' /C calc'!A0"), "{csv}");
    assert!(!csv.contains(",=cmd"), "no cell starts with a formula");

    // Viewing as the lead, platform staff read one event as the lead would: the lead's customer's
    // only, never another tenant's or the platform's (a view never widens to the admin's own
    // rights); viewing as a user without the audit leaf, not even that.
    let own_seq = own["seq"].as_i64().unwrap();
    let view = |user: uuid::Uuid| json!({ "user_id": user, "reason": "support ticket" });
    let started = app.post("/api/impersonation", Some(&admin), view(lead.user_id)).await;
    assert_eq!(started.status, StatusCode::OK, "{:?}", started.body);
    assert_eq!(app.get(&format!("/api/audit/{own_seq}"), Some(&admin)).await.status, StatusCode::OK);
    for (seq, why) in [(theirs, "another tenant's"), (setup, "the platform's")] {
        let res = app.get(&format!("/api/audit/{seq}"), Some(&admin)).await;
        assert_eq!(res.status, StatusCode::NOT_FOUND, "viewing as the lead, {why}: {:?}", res.body);
    }
    assert_eq!(app.post("/api/impersonation/exit", Some(&admin), json!({})).await.status, StatusCode::OK);
    let flows_only = app.role(acme, ws, &["steward.flows.*"]).await;
    let member = app.user_with_role(acme, ws, flows_only).await;
    assert_eq!(app.post("/api/impersonation", Some(&admin), view(member.user_id)).await.status, StatusCode::OK);
    let res = app.get(&format!("/api/audit/{own_seq}"), Some(&admin)).await;
    assert_eq!(res.status, StatusCode::FORBIDDEN, "viewing as a user without steward.audit.view: {:?}", res.body);
    assert_eq!(app.post("/api/impersonation/exit", Some(&admin), json!({})).await.status, StatusCode::OK);
    assert_eq!(app.get(&format!("/api/audit/{theirs}"), Some(&admin)).await.status, StatusCode::OK, "back as itself");
}

/// Issue 34's impersonation history: each view with its reason, how it ended and what was done
/// meanwhile, read from the audit log in the target's customer's scope.
async fn impersonation_history_pairs_each_view_with_its_end(app: TestApp) {
    let admin = app.setup_admin().await;
    let (acme, ws) = app.customer("Acme", "tenant").await;
    let role = app.role(acme, ws, &["steward.flows.*"]).await;
    let target = app.user_with_role(acme, ws, role).await;
    let auditor_role = app.role(acme, ws, &["steward.audit.view"]).await;
    let auditor = app.user_with_role(acme, ws, auditor_role).await;
    let (globex, gws) = app.customer("Globex", "tenant").await;
    let globex_role = app.role(globex, gws, &["steward.audit.view"]).await;
    let globex_auditor = app.user_with_role(globex, gws, globex_role).await;
    let start = |reason: &str| json!({ "user_id": target.user_id, "reason": reason });
    assert_eq!(app.post("/api/impersonation", Some(&admin), start("ticket 42")).await.status, StatusCode::OK);
    for name in ["One", "Two"] {
        let made = app.post("/api/flows", Some(&admin), json!({ "workspace_id": ws, "name": name })).await;
        assert_eq!(made.status, StatusCode::CREATED, "{:?}", made.body);
    }
    assert_eq!(app.post("/api/impersonation/exit", Some(&admin), json!({})).await.status, StatusCode::OK);
    // Done as itself, not counted.
    app.post("/api/flows", Some(&admin), json!({ "workspace_id": ws, "name": "Three" })).await;
    assert_eq!(app.post("/api/impersonation", Some(&admin), start("second look")).await.status, StatusCode::OK);

    let views = app.get("/api/impersonations", Some(&auditor.token)).await;
    assert_eq!(views.status, StatusCode::OK, "{:?}", views.body);
    let items = views.body["items"].as_array().unwrap();
    assert_eq!(items.len(), 2, "{items:?}");
    let (open, done) = (&items[0], &items[1]);
    assert_eq!((open["reason"].as_str(), open["ended_how"].as_str()), (Some("second look"), Some("active")));
    assert!(open["ended_at"].is_null());
    assert_eq!(open["actions"], 0);
    assert_eq!((done["reason"].as_str(), done["ended_how"].as_str()), (Some("ticket 42"), Some("exit")));
    assert!(done["ended_at"].is_string());
    assert_eq!(done["actions"], 2, "{done}");
    assert_eq!(done["admin_email"], crate::harness::ADMIN_EMAIL);
    assert_eq!(done["target_email"], target.email.as_str());
    assert_eq!(done["customer_name"], "Acme");
    // Keyset pages; another tenant sees none of it.
    let first = app.get("/api/impersonations?limit=1", Some(&auditor.token)).await;
    let cursor = first.body["next_cursor"].as_str().unwrap().to_owned();
    let second = app.get(&format!("/api/impersonations?limit=1&cursor={cursor}"), Some(&auditor.token)).await;
    assert_eq!(second.body["items"][0]["reason"], "ticket 42");
    assert!(second.body["next_cursor"].is_null());
    let theirs = app.get("/api/impersonations", Some(&globex_auditor.token)).await;
    assert_eq!(theirs.body["items"], json!([]));
    let bad = app.get("/api/impersonations?cursor=zzz", Some(&auditor.token)).await;
    assert_eq!(bad.body["errors"][0]["field"], "cursor");
}
