//! Inputs that broke rules when Steward was probed from outside: bodies that are not objects,
//! control characters in text and query parameters. Each answers a 422 naming the field, and
//! nothing reaches the database.

use crate::harness::TestApp;
use crate::on_both;
use axum::http::Method;
use axum::http::StatusCode;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde_json::json;
use steward_backend::store::entities::audit_events;

on_both!(
    bodies_must_be_objects,
    control_characters_never_reach_the_database,
    a_key_sent_twice_is_refused,
    reading_another_tenants_thing_by_id_is_a_recorded_refusal,
    every_refusal_is_one_audit_event_under_concurrent_writers,
    forged_tokens_go_to_the_bounded_authentication_log
);

fn field(res: &crate::harness::Response) -> &str {
    res.body["errors"][0]["field"].as_str().unwrap_or("")
}

async fn bodies_must_be_objects(app: TestApp) {
    let admin = app.setup_admin().await;
    let before = app.get("/api/customers?limit=200", Some(&admin)).await.body["items"].as_array().unwrap().len();
    let res = app.post("/api/customers", Some(&admin), json!(["Array Corp"])).await;
    assert_eq!((res.status, res.problem(), field(&res)), (StatusCode::UNPROCESSABLE_ENTITY, "validation_failed", "."));
    let after = app.get("/api/customers?limit=200", Some(&admin)).await.body["items"].as_array().unwrap().len();
    assert_eq!(before, after, "no customer was created");
    // A user renamed and re-addressed by position: refused, the account unchanged.
    let (acme, ws) = app.customer("Acme", "tenant").await;
    let role = app.role(acme, ws, &["steward.flows.view"]).await;
    let bob = app.user_with_role(acme, ws, role).await;
    let res =
        app.patch(&format!("/api/users/{}", bob.user_id), Some(&admin), json!(["x@example.com", "Renamed"])).await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY, "{:?}", res.body);
    let row = app.get(&format!("/api/users/{}", bob.user_id), Some(&admin)).await;
    assert_eq!(row.body["email"], bob.email.as_str());
    for body in [json!("text"), json!(42), json!(null), json!(true)] {
        let res = app.post("/api/customers", Some(&admin), body.clone()).await;
        assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY, "{body}: {:?}", res.body);
    }
}

async fn control_characters_never_reach_the_database(app: TestApp) {
    let admin = app.setup_admin().await;
    let (_, ws) = app.customer("Acme", "tenant").await;
    for (name, bad) in
        [("nul", "Sync\u{0}flow"), ("escape", "Sync\u{1b}[31m"), ("newline", "Sync\nflow"), ("c1", "Sync\u{85}")]
    {
        let res = app.post("/api/flows", Some(&admin), json!({ "workspace_id": ws, "name": bad })).await;
        assert_eq!((res.status, field(&res)), (StatusCode::UNPROCESSABLE_ENTITY, "name"), "{name}: {:?}", res.body);
    }
    let flows = app.get("/api/flows?limit=200", Some(&admin)).await;
    assert!(flows.body["items"].as_array().unwrap().is_empty(), "{:?}", flows.body);
    // Query parameters: a NUL in the directory search once answered 500 on PostgreSQL.
    for query in ["search=a%00b", "search=a%0Ab", "search=%1B", "cursor=%00"] {
        let res = app.get(&format!("/api/users?{query}"), Some(&admin)).await;
        assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY, "{query}: {:?}", res.body);
        assert!(["search", "cursor"].contains(&field(&res)), "{query}: {:?}", res.body);
    }
    // Keys count as text too.
    let res = app.post("/api/customers", Some(&admin), json!({ "name": "Fine", "x\u{0}": 1 })).await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY, "{:?}", res.body);
    // Multi-line fields take line breaks and tabs, never NUL.
    let roles = format!("/api/workspaces/{ws}/roles");
    let role = json!({ "name": "Ops", "description": "Line one\n\tLine two", "patterns": [] });
    let res = app.post(&roles, Some(&admin), role).await;
    assert_eq!(res.status, StatusCode::CREATED, "{:?}", res.body);
    let role = json!({ "name": "Ops2", "description": "nul\u{0}", "patterns": [] });
    let res = app.post(&roles, Some(&admin), role).await;
    assert_eq!((res.status, field(&res)), (StatusCode::UNPROCESSABLE_ENTITY, "description"));
}

/// Two readers of one body must never disagree about what it says: a key sent twice (where
/// serde would keep the last, and a proxy or log reader the first) is refused by name.
async fn a_key_sent_twice_is_refused(app: TestApp) {
    let admin = app.setup_admin().await;
    let (acme, ws) = app.customer("Acme", "tenant").await;
    let role = app.role(acme, ws, &["steward.flows.view"]).await;
    let bob = app.user_with_role(acme, ws, role).await;
    let raw = |method: Method, path: String, body: &'static str| {
        axum::http::Request::builder()
            .method(method)
            .uri(path)
            .header("authorization", format!("Bearer {admin}"))
            .header("content-type", "application/json")
            .body(axum::body::Body::from(body))
            .unwrap()
    };
    let path = format!("/api/users/{}", bob.user_id);
    let res = app.send(raw(Method::PATCH, path.clone(), r#"{"name": "Bob", "name": "Mallory"}"#)).await;
    assert_eq!((res.status, field(&res)), (StatusCode::UNPROCESSABLE_ENTITY, "name"), "{:?}", res.body);
    let before = app.get(&path, Some(&admin)).await;
    assert_ne!(before.body["name"], "Mallory", "{:?}", before.body);
    // Nested too, and the key is named by its path.
    let res = app
        .send(raw(
            Method::POST,
            format!("/api/workspaces/{ws}/roles"),
            r#"{"name": "Ops", "patterns": [], "nested": {"a": 1, "a": 2}}"#,
        ))
        .await;
    assert_eq!((res.status, field(&res)), (StatusCode::UNPROCESSABLE_ENTITY, "nested.a"), "{:?}", res.body);
    // The same body once per key is taken.
    let res = app.send(raw(Method::PATCH, path, r#"{"name": "Bob B"}"#)).await;
    assert_eq!(res.status, StatusCode::OK, "{:?}", res.body);
}

/// Asking for another tenant's user or role by id is answered 404 like an unknown id (its
/// existence is not revealed), and recorded as a refusal once a minute per principal and
/// operation, so walking ids cannot flood the chain. An unknown id records nothing.
async fn reading_another_tenants_thing_by_id_is_a_recorded_refusal(app: TestApp) {
    let admin = app.setup_admin().await;
    let (acme, acme_ws) = app.customer("Acme", "tenant").await;
    let (globex, globex_ws) = app.customer("Globex", "tenant").await;
    let lead_role = app.role(acme, acme_ws, &["steward.access.users.*", "steward.access.roles.*"]).await;
    let lead = app.user_with_role(acme, acme_ws, lead_role).await;
    let globex_role = app.role(globex, globex_ws, &["steward.flows.view"]).await;
    let globex_user = app.user_with_role(globex, globex_ws, globex_role).await;
    let refusals = || async {
        audit_events::Entity::find()
            .filter(audit_events::Column::Action.eq("access.refused"))
            .all(app.db())
            .await
            .unwrap()
            .into_iter()
            .filter(|e| e.summary["code"] == "foreign_id")
            .collect::<Vec<_>>()
    };
    let unknown = app.get(&format!("/api/users/{}", uuid::Uuid::now_v7()), Some(&lead.token)).await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
    assert!(refusals().await.is_empty(), "an unknown id is an ordinary miss");
    for _ in 0..5 {
        let foreign = app.get(&format!("/api/users/{}", globex_user.user_id), Some(&lead.token)).await;
        assert_eq!(foreign.status, StatusCode::NOT_FOUND);
        assert_eq!(
            (foreign.body["type"].clone(), foreign.body["detail"].clone()),
            (unknown.body["type"].clone(), unknown.body["detail"].clone()),
            "a foreign id reads exactly like an unknown one"
        );
    }
    let recorded = refusals().await;
    assert_eq!(recorded.len(), 1, "five reads, one event a minute: {recorded:?}");
    assert_eq!(recorded[0].actor_user_id, Some(lead.user_id));
    assert_eq!(recorded[0].target_id.as_deref(), Some("get_user"));
    assert_eq!(recorded[0].summary["audited_once_per_seconds"], 60);
    // Another operation is another key.
    let role = app.get(&format!("/api/roles/{globex_role}"), Some(&lead.token)).await;
    assert_eq!(role.status, StatusCode::NOT_FOUND);
    assert_eq!(refusals().await.len(), 2);
    let verified = app.get("/api/audit/verify", Some(&admin)).await;
    assert_eq!(verified.body["ok"], true, "{:?}", verified.body);
}

/// A request to send: method, path, token, body, extra headers.
type Probe<'a> = (Method, String, &'a str, Option<serde_json::Value>, Vec<(&'a str, &'a str)>);

/// DESIGN §6 and issue 12: every refusal of a signed-in principal appends one audit event,
/// recorded where the refusal becomes a response (the gate's, and the handlers' own), and none
/// is lost to write contention: workers and many concurrent requests write at once, and each
/// refused request's id is found exactly once in the log.
async fn every_refusal_is_one_audit_event_under_concurrent_writers(app: TestApp) {
    let root = app.setup_admin().await;
    let (acme, ws) = app.customer("Acme", "tenant").await;
    let lead_role = app.role(acme, ws, &["steward.access.users.*", "steward.flows.*"]).await;
    let lead = app.user_with_role(acme, ws, lead_role).await;
    let nobody = app.principal(&[]).await;
    // Background writers: a worker pool executing a queue of runs.
    let template = crate::runs::hash_template(&app, &root).await;
    let body = json!({ "workspace_id": ws, "name": "Busy", "template_id": template, "publish": true });
    let flow = app.post("/api/flows", Some(&root), body).await;
    let flow_id = flow.body["id"].as_str().unwrap().to_owned();
    for _ in 0..40 {
        let res = app.call(Method::POST, &format!("/api/flows/{flow_id}/runs"), Some(&root), None).await;
        assert!(res.status.is_success(), "{:?}", res.body);
    }
    let workers = steward_backend::ops::worker::Pool::start(app.state.clone(), 2, std::time::Duration::from_millis(5));
    let foreign = uuid::Uuid::now_v7();
    let self_id = lead.user_id;
    let app = &app;
    let mut calls = Vec::new();
    for i in 0..80 {
        let id = format!("refusal-{i}");
        let (method, path, token, body, headers): Probe<'_> = match i % 4 {
            // The gate: a missing leaf.
            0 => (Method::GET, "/api/users".into(), &nobody.token, None, vec![]),
            // A handler's rule: acting on yourself.
            1 => (Method::POST, format!("/api/users/{self_id}/deactivate"), &lead.token, Some(json!({})), vec![]),
            // The scope: beyond your own tenant.
            2 => (Method::GET, "/api/flows".into(), &lead.token, None, vec![("x-steward-scope", "all")]),
            // A write naming an id that is not there for you.
            _ => (Method::PATCH, format!("/api/users/{foreign}"), &lead.token, Some(json!({ "name": "X" })), vec![]),
        };
        let mut headers = headers;
        let id_ref: &'static str = Box::leak(id.clone().into_boxed_str());
        headers.push(("x-request-id", id_ref));
        calls.push(async move {
            let res = app.call_with(method, &path, token, body, &headers).await;
            (id, res)
        });
    }
    // Successful writes at the same time.
    let writes = (0..20)
        .map(|i| app.post("/api/flows", Some(&root), json!({ "workspace_id": ws, "name": format!("Flow {i}") })));
    let (refusals, created) = tokio::join!(futures::future::join_all(calls), futures::future::join_all(writes));
    for res in &created {
        assert_eq!(res.status, axum::http::StatusCode::CREATED, "{:?}", res.body);
    }
    workers.stop().await;
    let mut codes = std::collections::BTreeMap::new();
    for (id, res) in &refusals {
        assert!(
            [403, 404, 409].contains(&res.status.as_u16()),
            "{id} was not refused but answered {}: {:?}",
            res.status,
            res.body
        );
        let events = audit_events::Entity::find()
            .filter(audit_events::Column::RequestId.eq(id.as_str()))
            .all(app.db())
            .await
            .unwrap();
        assert_eq!(events.len(), 1, "{id} ({}) has {} audit events", res.problem(), events.len());
        let event = &events[0];
        assert_eq!(event.outcome, "refused");
        assert!(event.actor_user_id.is_some(), "{id}: the event names who was refused");
        *codes.entry(res.problem().to_owned()).or_insert(0) += 1;
    }
    assert_eq!(codes.len(), 4, "four kinds of refusal: {codes:?}");
    let verify = app.get("/api/audit/verify", Some(&root)).await;
    assert_eq!(verify.body["ok"], true, "{:?}", verify.body);
}

/// Anonymous failures (bad or forged tokens) are no audit events: a flood would grow the chain
/// without limit. They go to the authentication log, through a bounded channel (a full one
/// drops and counts) into a table with a row cap.
async fn forged_tokens_go_to_the_bounded_authentication_log(app: TestApp) {
    use steward_backend::store::entities::log_entries;
    app.setup_admin().await;
    let audit_before = audit_events::Entity::find().all(app.db()).await.unwrap().len();
    let forged = steward_backend::secrets::JwtKeys::from_secret(b"another-instance-secret-0123456789abcdef").unwrap();
    let foreign_jwt =
        forged.issue(uuid::Uuid::now_v7(), uuid::Uuid::now_v7(), chrono::Utc::now().timestamp() as u64, 600).unwrap();
    let app = &app;
    let flood = (0..300).map(|i| {
        let token = if i % 2 == 0 { format!("forged-{i}") } else { foreign_jwt.clone() };
        async move { app.get("/api/me", Some(&token)).await.status }
    });
    for status in futures::future::join_all(flood).await {
        assert_eq!(status, axum::http::StatusCode::UNAUTHORIZED);
    }
    assert_eq!(audit_events::Entity::find().all(app.db()).await.unwrap().len(), audit_before, "the chain did not grow");
    let logs = &app.state.logs;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while logs.written.load(std::sync::atomic::Ordering::Relaxed)
        + logs.dropped.load(std::sync::atomic::Ordering::Relaxed)
        < 300
    {
        assert!(std::time::Instant::now() < deadline, "the log writer did not catch up");
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    let rows = log_entries::Entity::find().filter(log_entries::Column::Stream.eq("auth")).all(app.db()).await.unwrap();
    assert_eq!(rows.len() as u64, logs.written.load(std::sync::atomic::Ordering::Relaxed));
    assert!(rows.len() >= 290, "nearly all lines fit the default channel: {}", rows.len());
    assert!(rows.iter().all(|r| r.kind == "credential_refused" && r.request_id.is_some()));
    // The row cap: the oldest lines go.
    let pruned = steward_backend::store::logs::prune(app.db(), 50).await.unwrap();
    assert_eq!(pruned, rows.len() as u64 - 50);
    assert_eq!(log_entries::Entity::find().all(app.db()).await.unwrap().len(), 50);
    // A tiny channel under the same flood drops and counts instead of growing.
    let (sink, _rx) = steward_backend::store::logs::LogSink::new(8);
    for i in 0..100 {
        sink.emit(steward_backend::store::logs::LogLine::new(
            "auth",
            "credential_refused",
            "warn",
            format!("line {i}"),
        ));
    }
    assert_eq!(sink.dropped.load(std::sync::atomic::Ordering::Relaxed), 92);
}
