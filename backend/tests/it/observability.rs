//! System status, `/metrics`, stats over time, the logs and their live tail, the effective
//! configuration: each figure is made to move, and each read is held to its scope.

use crate::harness::TestApp;
use crate::on_both;
use axum::body::Body;
use axum::http::{header, Method, Request, StatusCode};
use futures::StreamExt;
use http_body_util::BodyExt;
use sea_orm::{ActiveModelTrait, EntityTrait, Set};
use serde_json::{json, Value};
use std::time::Duration;
use steward_backend::store::entities::log_entries;
use steward_backend::store::logs::LogLine;
use tower::ServiceExt;

on_both!(
    request_metrics_count_each_operation,
    metrics_exposition_parses_and_moves,
    queue_depth_and_oldest_age_follow_the_queue,
    a_stopped_replica_is_marked_silent,
    stats_snapshots_follow_the_scope,
    logs_filter_page_and_keep_to_scope,
    flush_returns_once_every_emitted_line_is_in_the_table,
    the_tail_receives_lines_written_after_it_connected,
    retention_prunes_by_age_and_row_cap,
    sign_ins_reach_the_authentication_log,
    config_shows_where_values_came_from_and_never_secrets,
    slow_statements_are_recorded_over_the_threshold
);

fn op<'a>(status: &'a Value, operation: &str) -> Option<&'a Value> {
    status["requests"]["operations"].as_array()?.iter().find(|o| o["operation"] == operation)
}

async fn request_metrics_count_each_operation(app: TestApp) {
    let admin = app.setup_admin().await;
    for _ in 0..3 {
        assert_eq!(app.get("/api/users?limit=1", Some(&admin)).await.status, StatusCode::OK);
    }
    assert_eq!(app.get("/api/users?limit=0", Some(&admin)).await.status, StatusCode::UNPROCESSABLE_ENTITY);
    let status = app.get("/api/system/status", Some(&admin)).await;
    assert_eq!(status.status, StatusCode::OK, "{:?}", status.body);
    let users = op(&status.body, "list_users").expect("list_users measured");
    assert_eq!((users["count"].as_u64(), users["errors_4xx"].as_u64()), (Some(4), Some(1)), "{users}");
    let minute = &users["windows"][0];
    assert_eq!(
        (minute["minutes"].as_u64(), minute["count"].as_u64(), minute["errors"].as_u64()),
        (Some(1), Some(4), Some(1))
    );
    assert!(minute["p99_ms"].as_f64().unwrap() > 0.0, "{minute}");
    assert!((minute["error_rate"].as_f64().unwrap() - 0.25).abs() < 1e-9);
    // The status call itself is in flight while it answers.
    let status = app.get("/api/system/status", Some(&admin)).await;
    assert_eq!(op(&status.body, "get_system_status").unwrap()["in_flight"], 1);
    assert!(status.body["requests"]["in_flight"].as_i64().unwrap() >= 1);
    // Paths outside the route table are named apart, never as an operation.
    app.get("/api/nothing-here", Some(&admin)).await;
    let status = app.get("/api/system/status", Some(&admin)).await;
    assert_eq!(op(&status.body, "unmatched").unwrap()["errors_4xx"], 1);
    let db = &status.body["database"];
    assert_eq!(db["backend"], app.kind);
    assert!(db["round_trip_ms"].as_f64().unwrap() >= 0.0);
    assert!(db["pool"]["max"].as_u64().unwrap() >= 1);
    assert_eq!(db["migrations_pending"], 0);
    assert!(db["migrations"].as_array().unwrap().iter().all(|m| m["applied"] == true && m["applied_at"].is_string()));
    let largest = db["largest_tables"].as_array().unwrap();
    assert!(!largest.is_empty() && largest.iter().all(|t| t["name"].is_string() && t["rows"].is_u64()), "{db}");
    assert!(!db["version"].as_str().unwrap().is_empty());
    assert!(status.body["replica"]["uptime_secs"].is_u64());
}

async fn scraper_token(app: &TestApp, admin: &str, permissions: &[&str]) -> String {
    let minted =
        app.post("/api/me/tokens", Some(admin), json!({ "name": "prometheus", "permissions": permissions })).await;
    assert_eq!(minted.status, StatusCode::CREATED, "{:?}", minted.body);
    minted.body["token"].as_str().unwrap().to_owned()
}

async fn scrape(app: &TestApp, token: Option<&str>) -> (StatusCode, String) {
    let mut req = Request::builder().uri("/metrics");
    if let Some(t) = token {
        req = req.header(header::AUTHORIZATION, format!("Bearer {t}"));
    }
    let res = app.router.clone().oneshot(req.body(Body::empty()).unwrap()).await.unwrap();
    let status = res.status();
    let bytes = res.into_body().collect().await.unwrap().to_bytes();
    (status, String::from_utf8(bytes.to_vec()).unwrap())
}

fn sample(scrape: &prometheus_parse::Scrape, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
    scrape.samples.iter().find(|s| s.metric == name && labels.iter().all(|(k, v)| s.labels.get(k) == Some(*v))).map(
        |s| match s.value {
            prometheus_parse::Value::Counter(v)
            | prometheus_parse::Value::Gauge(v)
            | prometheus_parse::Value::Untyped(v) => v,
            _ => f64::NAN,
        },
    )
}

fn parse(text: &str) -> prometheus_parse::Scrape {
    prometheus_parse::Scrape::parse(text.lines().map(|l| Ok(l.to_owned()))).expect("Prometheus text format")
}

async fn metrics_exposition_parses_and_moves(app: TestApp) {
    let admin = app.setup_admin().await;
    let token = scraper_token(&app, &admin, &["steward.system.status"]).await;
    let (status, text) = scrape(&app, Some(&token)).await;
    assert_eq!(status, StatusCode::OK, "{text}");
    let before = parse(&text);
    for name in [
        "steward_db_pool_size",
        "steward_db_pool_idle",
        "steward_db_writers_waiting",
        "steward_run_queue_depth",
        "steward_run_queue_oldest_seconds",
        "steward_scheduler_lag_seconds",
        "steward_sessions_active",
        "steward_audit_events",
        "steward_outbox_pending",
        "steward_process_uptime_seconds",
        "steward_log_lines_dropped",
    ] {
        assert!(sample(&before, name, &[]).is_some(), "{name} missing from:\n{text}");
    }
    assert!(sample(&before, "steward_workers", &[("state", "idle")]).is_some());
    assert!(sample(&before, "steward_cache_lookups", &[("cache", "kpis"), ("result", "hit")]).is_some());
    let ok = [("operation", "get_metrics"), ("status", "2xx")];
    let scrapes_before = sample(&before, "steward_http_requests_total", &ok).unwrap_or(0.0);
    // A queued run raises the queue depth; a request raises its operation's count.
    let (_, ws) = app.customer("Acme", "tenant").await;
    let template = crate::runs::hash_template(&app, &admin).await;
    let flow = app
        .post("/api/flows", Some(&admin), json!({ "workspace_id": ws, "name": "Sync", "template_id": template }))
        .await;
    let id = flow.body["id"].as_str().unwrap().to_owned();
    assert_eq!(
        app.call(Method::POST, &format!("/api/flows/{id}/runs"), Some(&admin), None).await.status,
        StatusCode::ACCEPTED
    );
    let after = parse(&scrape(&app, Some(&token)).await.1);
    assert_eq!(
        sample(&after, "steward_run_queue_depth", &[]),
        Some(sample(&before, "steward_run_queue_depth", &[]).unwrap() + 1.0)
    );
    assert_eq!(sample(&after, "steward_http_requests_total", &ok), Some(scrapes_before + 1.0));
    assert!(
        sample(&after, "steward_http_request_duration_seconds_count", &[("operation", "trigger_run")]).unwrap() >= 1.0
    );
    // Without the leaf, without a credential: refused.
    let other = scraper_token(&app, &admin, &["steward.access.users.view"]).await;
    assert_eq!(scrape(&app, Some(&other)).await.0, StatusCode::FORBIDDEN);
    assert_eq!(scrape(&app, None).await.0, StatusCode::UNAUTHORIZED);
}

async fn queue_depth_and_oldest_age_follow_the_queue(app: TestApp) {
    let admin = app.setup_admin().await;
    let queue = |b: &Value| b["queue"].clone();
    let empty = queue(&app.get("/api/system/status", Some(&admin)).await.body);
    assert_eq!((empty["depth"].as_u64(), empty["oldest_queued_secs"].is_null()), (Some(0), true));
    let (_, ws) = app.customer("Acme", "tenant").await;
    let template = crate::runs::hash_template(&app, &admin).await;
    let flow = app
        .post("/api/flows", Some(&admin), json!({ "workspace_id": ws, "name": "Sync", "template_id": template }))
        .await;
    let id = flow.body["id"].as_str().unwrap().to_owned();
    for _ in 0..2 {
        app.call(Method::POST, &format!("/api/flows/{id}/runs"), Some(&admin), None).await;
    }
    // A worker on this replica's board shows with its state and its runs.
    let slot = app.state.telemetry.workers.register("worker-1");
    app.state.telemetry.workers.beat(slot, false, true);
    let queued = queue(&app.get("/api/system/status", Some(&admin)).await.body);
    assert_eq!(queued["depth"], 2);
    let worker = queued["workers"].as_array().unwrap().iter().find(|w| w["name"] == "worker-1").cloned();
    let worker = worker.unwrap_or_else(|| panic!("{queued}"));
    assert_eq!((worker["state"].as_str(), worker["runs"].as_u64()), (Some("idle"), Some(1)), "{worker}");
    assert!(worker["heartbeat_at"].is_string());
    assert!(queued["oldest_queued_secs"].as_f64().unwrap() >= 0.0);
    steward_backend::ops::worker::drain(&app.state, "test").await.unwrap();
    let drained = queue(&app.get("/api/system/status", Some(&admin)).await.body);
    assert_eq!((drained["depth"].as_u64(), drained["oldest_queued_secs"].is_null()), (Some(0), true));
    // Each run was a line in the system log's user tasks, naming the run.
    let lines = wait_for_lines(&app, &admin, "stream=system&kind=user_task", 2).await;
    assert!(lines.iter().all(|l| l["run_id"].is_string() && l["customer_id"].is_string()), "{lines:?}");
}

async fn a_stopped_replica_is_marked_silent(app: TestApp) {
    let admin = app.setup_admin().await;
    let mut config = (*app.state.config).clone();
    config.replica_silent_secs = 1;
    let other = steward_backend::prepare(config).await.unwrap();
    assert_ne!(other.telemetry.replica_id, app.state.telemetry.replica_id);
    let beating = steward_backend::ops::replicas::spawn(other.clone(), Duration::from_millis(200));
    steward_backend::ops::replicas::beat(&app.state).await.unwrap();
    tokio::time::sleep(Duration::from_millis(400)).await;
    let listed = steward_backend::ops::replicas::list(&other).await.unwrap();
    assert_eq!(listed.len(), 2, "{listed:?}");
    assert!(listed.iter().all(|r| !r.silent), "{listed:?}");
    // The other replica stops; after the silence threshold it is marked, the live one is not.
    beating.abort();
    tokio::time::sleep(Duration::from_millis(1500)).await;
    steward_backend::ops::replicas::beat(&app.state).await.unwrap();
    let listed = steward_backend::ops::replicas::list(&other).await.unwrap();
    let silent: Vec<bool> = listed.iter().map(|r| r.silent).collect();
    assert_eq!(listed.first().map(|r| r.id.as_str()), Some(app.state.telemetry.replica_id.as_str()));
    assert_eq!(silent, vec![false, true]);
    // The page (with the default threshold of a minute) lists both.
    let page = app.get("/api/system/status", Some(&admin)).await;
    assert_eq!(page.body["replicas"].as_array().unwrap().len(), 2);
}

async fn stats_snapshots_follow_the_scope(app: TestApp) {
    let admin = app.setup_admin().await;
    let (acme, ws) = app.customer("Acme", "tenant").await;
    let (globex, _) = app.customer("Globex", "tenant").await;
    let role = app.role(acme, ws, &["steward.system.status"]).await;
    let lead = app.user_with_role(acme, ws, role).await;
    app.user_with_role(acme, ws, role).await;
    let template = crate::runs::hash_template(&app, &admin).await;
    let flow = app
        .post("/api/flows", Some(&admin), json!({ "workspace_id": ws, "name": "Sync", "template_id": template }))
        .await;
    let id = flow.body["id"].as_str().unwrap().to_owned();
    app.call(Method::POST, &format!("/api/flows/{id}/runs"), Some(&admin), None).await;
    steward_backend::ops::worker::drain(&app.state, "test").await.unwrap();
    assert_eq!(app.login(crate::harness::ADMIN_EMAIL, crate::harness::ADMIN_PASSWORD).await.status, StatusCode::OK);
    let written = steward_backend::ops::stats::snapshot(&app.state, chrono::Utc::now()).await.unwrap();
    // Hour and day rows: the platform, its own customer and the two tenants.
    assert_eq!(written, 2 * 4);
    let all = app.call_with(Method::GET, "/api/stats?range=24h", &admin, None, &[("x-steward-scope", "all")]).await;
    assert_eq!(all.status, StatusCode::OK, "{:?}", all.body);
    assert_eq!((all.body["bucket"].as_str(), all.body["customer_id"].is_null()), (Some("hour"), true));
    let total = &all.body["points"][0];
    assert_eq!(
        (total["customers"].as_i64(), total["users"].as_i64(), total["flows"].as_i64()),
        (Some(3), Some(3), Some(1))
    );
    assert_eq!(total["runs_succeeded"], 1);
    assert_eq!(total["sign_ins"], 1, "{total}");
    // A tenant sees its own figures; asking for another customer is refused.
    let own = app.get("/api/stats?range=30d", Some(&lead.token)).await;
    assert_eq!(own.status, StatusCode::OK, "{:?}", own.body);
    assert_eq!(
        (own.body["bucket"].as_str(), own.body["customer_id"].as_str()),
        (Some("day"), Some(acme.to_string().as_str()))
    );
    assert_eq!(
        (own.body["points"][0]["users"].as_i64(), own.body["points"][0]["customers"].as_i64()),
        (Some(2), Some(1))
    );
    let scope = format!("customer:{globex}");
    let foreign = app.call_with(Method::GET, "/api/stats", &lead.token, None, &[("x-steward-scope", &scope)]).await;
    assert_eq!((foreign.status, foreign.problem()), (StatusCode::FORBIDDEN, "cross_tenant_denied"));
    let theirs = app.call_with(Method::GET, "/api/stats", &admin, None, &[("x-steward-scope", &scope)]).await;
    assert_eq!(theirs.body["points"][0]["users"], 0);
    let bad = app.get("/api/stats?range=2w", Some(&admin)).await;
    assert_eq!(
        (bad.status, bad.body["errors"][0]["field"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("range"))
    );
    // A second snapshot of the same hour replaces the first, never adds a point.
    steward_backend::ops::stats::snapshot(&app.state, chrono::Utc::now()).await.unwrap();
    let again = app.call_with(Method::GET, "/api/stats", &admin, None, &[("x-steward-scope", "all")]).await;
    assert_eq!(again.body["points"].as_array().unwrap().len(), 1);
}

fn line(
    stream: &'static str,
    kind: &'static str,
    level: &'static str,
    message: &str,
    customer: Option<uuid::Uuid>,
) -> LogLine {
    let mut l = LogLine::new(stream, kind, level, message);
    l.customer_id = customer;
    l
}

/// Waits until the log writer has written `n` more lines than `before`.
async fn written(app: &TestApp, target: u64) {
    for _ in 0..200 {
        if app.state.logs.written.load(std::sync::atomic::Ordering::Relaxed) >= target {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("the log writer did not write {target} lines");
}

/// Lines matching `query` as the admin sees them, waiting until at least `n` are there.
pub(crate) async fn wait_for_lines(app: &TestApp, token: &str, query: &str, n: usize) -> Vec<Value> {
    for _ in 0..200 {
        let res =
            app.call_with(Method::GET, &format!("/api/logs?{query}"), token, None, &[("x-steward-scope", "all")]).await;
        assert_eq!(res.status, StatusCode::OK, "{:?}", res.body);
        let items = res.body["items"].as_array().unwrap().clone();
        if items.len() >= n {
            return items;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("fewer than {n} log lines for {query}");
}

async fn flush_returns_once_every_emitted_line_is_in_the_table(app: TestApp) {
    use sea_orm::{ColumnTrait, PaginatorTrait, QueryFilter};
    // More than one batch, so the flush has to wait past the first insert.
    for i in 0..1200 {
        app.state.logs.emit(line("system", "user_task", "info", &format!("flushed {i}"), None));
    }
    assert!(app.state.logs.flush(Duration::from_secs(30)).await);
    let n = log_entries::Entity::find()
        .filter(log_entries::Column::Message.starts_with("flushed "))
        .count(app.db())
        .await
        .unwrap();
    assert_eq!(n, 1200, "every line emitted before the flush is written when it returns");
    // Nothing pending: it returns at once.
    assert!(app.state.logs.flush(Duration::from_millis(1)).await);
}

async fn logs_filter_page_and_keep_to_scope(app: TestApp) {
    let admin = app.setup_admin().await;
    let (acme, ws) = app.customer("Acme", "tenant").await;
    let (globex, _) = app.customer("Globex", "tenant").await;
    let role = app.role(acme, ws, &["steward.system.logs"]).await;
    let lead = app.user_with_role(acme, ws, role).await;
    let start = app.state.logs.written.load(std::sync::atomic::Ordering::Relaxed);
    app.state.logs.emit(line("platform", "error", "error", "acme connector broke", Some(acme)));
    app.state.logs.emit(line("platform", "error", "error", "globex connector broke", Some(globex)));
    app.state.logs.emit(line("system", "periodic", "info", "stats stored", None));
    for i in 0..5 {
        app.state.logs.emit(line("system", "user_task", "info", &format!("acme run {i}"), Some(acme)));
    }
    let app = &app;
    written(app, start + 8).await;
    let get = |q: &str, token: &str, scope: &'static str| {
        let path = format!("/api/logs?{q}");
        let token = token.to_owned();
        async move { app.call_with(Method::GET, &path, &token, None, &[("x-steward-scope", scope)]).await }
    };
    let all = get("q=broke", &admin, "all").await;
    assert_eq!(all.body["items"].as_array().unwrap().len(), 2, "{:?}", all.body);
    let errors = get("stream=platform&level=error&q=acme", &admin, "all").await;
    assert_eq!(errors.body["items"][0]["message"], "acme connector broke");
    assert_eq!(errors.body["items"][0]["customer_name"], "Acme", "names come with the page");
    // The platform's own scope: its lines and those naming no customer, not the tenants'.
    let own = get("stream=system&kind=periodic", &admin, "tenant").await;
    assert_eq!(own.body["items"].as_array().unwrap().len(), 1);
    assert!(get("q=broke", &admin, "tenant").await.body["items"].as_array().unwrap().is_empty());
    // A tenant's lead: their customer's lines only, never the platform's or another tenant's.
    let theirs = get("", &lead.token, "tenant").await;
    let messages: Vec<&str> =
        theirs.body["items"].as_array().unwrap().iter().map(|l| l["message"].as_str().unwrap()).collect();
    assert_eq!(messages.len(), 6, "{messages:?}");
    assert!(messages.iter().all(|m| m.starts_with("acme")), "{messages:?}");
    let foreign = get(&format!("customer_id={globex}"), &lead.token, "tenant").await;
    assert_eq!((foreign.status, foreign.problem()), (StatusCode::FORBIDDEN, "cross_tenant_denied"));
    // Keyset pages, newest first, no line twice.
    let first = get("kind=user_task&limit=2", &admin, "all").await;
    assert_eq!(first.body["items"][0]["message"], "acme run 4");
    let cursor = first.body["next_cursor"].as_str().unwrap().to_owned();
    let second = get(&format!("kind=user_task&limit=2&cursor={cursor}"), &admin, "all").await;
    assert_eq!(second.body["items"][0]["message"], "acme run 2");
    for (q, field, status) in [
        ("stream=nope", "stream", StatusCode::UNPROCESSABLE_ENTITY),
        ("level=loud", "level", StatusCode::UNPROCESSABLE_ENTITY),
        ("cursor=x", "cursor", StatusCode::NOT_FOUND),
        ("limit=0", "limit", StatusCode::UNPROCESSABLE_ENTITY),
    ] {
        let bad = get(q, &admin, "all").await;
        assert_eq!((bad.status, bad.body["errors"][0]["field"].as_str()), (status, Some(field)), "{q}");
    }
    // Without the leaf: refused.
    let viewer = app.principal(&["steward.flows.view"]).await;
    assert_eq!(get("", &viewer.token, "tenant").await.status, StatusCode::FORBIDDEN);
}

async fn the_tail_receives_lines_written_after_it_connected(app: TestApp) {
    let admin = app.setup_admin().await;
    let start = app.state.logs.written.load(std::sync::atomic::Ordering::Relaxed);
    app.state.logs.emit(line("platform", "error", "error", "before the tail", None));
    written(&app, start + 1).await;
    let req = Request::builder()
        .uri("/api/logs/follow?stream=platform")
        .header(header::AUTHORIZATION, format!("Bearer {admin}"))
        .header("x-steward-scope", "all")
        // A client that takes compression still gets each line as it is written.
        .header(header::ACCEPT_ENCODING, "br, gzip")
        .body(Body::empty())
        .unwrap();
    let res = app.router.clone().oneshot(req).await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert!(!res.headers().contains_key(header::CONTENT_ENCODING), "an event stream is never compressed");
    assert!(res.headers()[header::CONTENT_TYPE].to_str().unwrap().starts_with("text/event-stream"));
    let mut body = res.into_body().into_data_stream();
    app.state.logs.emit(line("system", "periodic", "info", "another log", None));
    app.state.logs.emit(line("platform", "error", "error", "after the tail", None));
    let mut seen = String::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while !seen.contains("after the tail") {
        let chunk = tokio::time::timeout_at(deadline, body.next()).await.expect("a line within 10 s");
        seen.push_str(&String::from_utf8_lossy(&chunk.unwrap().unwrap()));
    }
    assert!(seen.contains("event: log"), "{seen}");
    crate::examples::record_stream("/api/logs/follow", &seen);
    assert!(!seen.contains("before the tail"), "only lines after connecting: {seen}");
    assert!(!seen.contains("another log"), "the filter holds: {seen}");
    // A tenant cannot follow another customer's lines.
    let lead = app.principal(&["steward.system.logs"]).await;
    let (globex, _) = app.customer("Globex", "tenant").await;
    let res = app.get(&format!("/api/logs/follow?customer_id={globex}"), Some(&lead.token)).await;
    assert_eq!(res.problem(), "cross_tenant_denied");
}

async fn retention_prunes_by_age_and_row_cap(app: TestApp) {
    let old = chrono::Utc::now() - chrono::Duration::days(45);
    for (at, message) in [(old, "old"), (chrono::Utc::now(), "new 1"), (chrono::Utc::now(), "new 2")] {
        log_entries::ActiveModel {
            at: Set(at),
            stream: Set("platform".into()),
            kind: Set("error".into()),
            level: Set("error".into()),
            message: Set(message.into()),
            fields: Set(json!({})),
            ..Default::default()
        }
        .insert(app.db())
        .await
        .unwrap();
    }
    let removed = steward_backend::ops::logs::prune(&app.state).await.unwrap();
    assert_eq!(removed, 1);
    let left: Vec<String> =
        log_entries::Entity::find().all(app.db()).await.unwrap().into_iter().map(|l| l.message).collect();
    assert_eq!(left, vec!["new 1", "new 2"]);
    // The row cap keeps the newest.
    let mut config = (*app.state.config).clone();
    config.log_max_rows = 1;
    let capped = steward_backend::AppState::from(steward_backend::state::AppStateInner {
        config: std::sync::Arc::new(config),
        ..(*app.state).clone()
    });
    assert_eq!(steward_backend::ops::logs::prune(&capped).await.unwrap(), 1);
    let left: Vec<String> =
        log_entries::Entity::find().all(app.db()).await.unwrap().into_iter().map(|l| l.message).collect();
    assert_eq!(left, vec!["new 2"]);
}

async fn sign_ins_reach_the_authentication_log(app: TestApp) {
    let admin = app.setup_admin().await;
    assert_eq!(
        app.post_from(
            "203.0.113.7",
            "/api/auth/login",
            json!({ "email": crate::harness::ADMIN_EMAIL, "password": "wrong password!" })
        )
        .await
        .status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(app.login(crate::harness::ADMIN_EMAIL, crate::harness::ADMIN_PASSWORD).await.status, StatusCode::OK);
    let failed = wait_for_lines(&app, &admin, "stream=auth&kind=sign_in_failed", 1).await;
    assert_eq!(failed[0]["ip"], "203.0.113.7");
    assert!(failed[0]["user_id"].is_string());
    let signed_in = wait_for_lines(&app, &admin, "stream=auth&kind=sign_in", 1).await;
    assert!(signed_in[0]["message"].as_str().unwrap().contains(crate::harness::ADMIN_EMAIL));
}

async fn config_shows_where_values_came_from_and_never_secrets(app: TestApp) {
    let admin = app.setup_admin().await;
    app.put("/api/settings/two-factor", Some(&admin), json!({ "require_for_admins": false })).await;
    let res = app.get("/api/system/config", Some(&admin)).await;
    assert_eq!(res.status, StatusCode::OK, "{:?}", res.body);
    let settings = res.body["settings"].as_array().unwrap();
    let find = |name: &str| settings.iter().find(|s| s["name"] == name).cloned().unwrap_or_else(|| panic!("{name}"));
    let jwt = find("jwt_secret");
    assert_eq!((jwt["secret"].as_bool(), jwt["value"].is_null()), (Some(true), true), "{jwt}");
    let smtp = find("smtp_password");
    assert_eq!(
        (smtp["secret"].as_bool(), smtp["set"].as_bool(), smtp["source"].as_str()),
        (Some(true), Some(false), Some("unset"))
    );
    let bind = find("bind");
    assert_eq!(
        (bind["value"].as_str(), bind["source"].as_str(), bind["env"].as_str()),
        (Some("127.0.0.1:8080"), Some("default"), Some("STEWARD_BIND"))
    );
    assert!(!find("database_url")["value"].as_str().unwrap().contains(":secret@"));
    assert!(settings.iter().any(|s| s["source"] == "settings"), "the 2FA policy set at run time");
    let text = res.body.to_string();
    assert!(!text.contains("test-secret-test-secret"), "a secret leaked: {text}");
    // Super admins only, not by any leaf.
    let lead = app.principal(&["steward.system.*"]).await;
    let refused = app.get("/api/system/config", Some(&lead.token)).await;
    assert_eq!((refused.status, refused.problem()), (StatusCode::FORBIDDEN, "super_admin_required"));
}

async fn slow_statements_are_recorded_over_the_threshold(app: TestApp) {
    let fast = TestApp::of_kind_with(app.kind, |c| c.slow_statement_ms = 0).await;
    let admin = fast.setup_admin().await;
    fast.get("/api/users?limit=5", Some(&admin)).await;
    let status = fast.get("/api/system/status", Some(&admin)).await;
    let slow = status.body["slow_statements"].as_array().unwrap();
    // With a 0 ms threshold every statement of those requests is recorded; which ten are the
    // slowest depends on the machine, so any of the tables they read will do.
    let ours = ["users", "sessions", "audit_events", "customers", "who"];
    assert!(
        slow.iter().any(|s| s["source"] == "server"
            && s["max_ms"].as_f64().unwrap() < 100.0
            && ours.iter().any(|t| s["statement"].as_str().unwrap().contains(t))),
        "{slow:?}"
    );
    // The default threshold (100 ms) keeps a quiet database's list empty of server entries.
    let admin = app.setup_admin().await;
    let quiet = app.get("/api/system/status", Some(&admin)).await;
    assert!(quiet.body["slow_statements"]
        .as_array()
        .unwrap()
        .iter()
        .all(|s| s["source"] != "server" || s["max_ms"].as_f64().unwrap() >= 100.0));
}
