//! Issue 16: connector health that is measured. A local HTTP server that turns healthy, slow
//! and failing (and checks the connector's key) is probed as the connector kind declares; runs
//! that use a connector record their outcome on it; private addresses are refused unless the
//! instance allows them.

use axum::http::{HeaderMap, Method, StatusCode};
use serde_json::{json, Value};
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use steward_backend::apps::manifest::Probe;
use steward_backend::ops::probes;

use crate::apps::{archive, install, manifest, LEAD};
use crate::harness::TestApp;

mod connectors_are_probed_as_their_kind_declares {
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn sqlite() {
        super::connectors_are_probed_as_their_kind_declares(
            crate::harness::TestApp::sqlite_with(|c| c.allow_private_endpoints = true).await,
        )
        .await
    }
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn postgres() {
        super::connectors_are_probed_as_their_kind_declares(
            crate::harness::TestApp::postgres_with(|c| c.allow_private_endpoints = true).await,
        )
        .await
    }
}

crate::on_both!(private_endpoints_are_not_probed,);

const HEALTHY: u8 = 0;
const SLOW: u8 = 1;
const FAILING: u8 = 2;

/// The connector's service: `/health` answers as `mode` says, and 401 without the right key.
struct Service {
    url: String,
    mode: Arc<AtomicU8>,
    key: Arc<Mutex<String>>,
}

async fn service() -> Service {
    let mode = Arc::new(AtomicU8::new(HEALTHY));
    let key = Arc::new(Mutex::new(String::new()));
    let (m, k) = (mode.clone(), key.clone());
    let router = axum::Router::new().route(
        "/api/health",
        axum::routing::get(move |headers: HeaderMap| {
            let (m, k) = (m.clone(), k.clone());
            async move {
                let expected = format!("Bearer {}", k.lock().unwrap());
                if headers.get("authorization").and_then(|v| v.to_str().ok()) != Some(expected.as_str()) {
                    return StatusCode::UNAUTHORIZED;
                }
                match m.load(Ordering::SeqCst) {
                    SLOW => {
                        tokio::time::sleep(Duration::from_millis(400)).await;
                        StatusCode::OK
                    }
                    FAILING => StatusCode::SERVICE_UNAVAILABLE,
                    _ => StatusCode::OK,
                }
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/api", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, router).await });
    Service { url, mode, key }
}

const KIND: &str = r#"{ "label": "CRM API", "health": { "path": "/health", "timeout_ms": 2000, "slow_ms": 200 } }"#;

async fn connector(app: &TestApp, token: &str, body: Value) -> crate::harness::Response {
    app.call_with(Method::POST, "/api/connectors", token, Some(body), &[("x-steward-scope", "all")]).await
}

async fn listed(app: &TestApp, token: &str, id: &str) -> Value {
    let res = app.call_with(Method::GET, "/api/connectors?limit=100", token, None, &[("x-steward-scope", "all")]).await;
    res.body["items"].as_array().unwrap().iter().find(|c| c["id"] == id).unwrap().clone()
}

async fn check(app: &TestApp, token: &str, id: &str) -> crate::harness::Response {
    app.call_with(Method::POST, &format!("/api/connectors/{id}/check"), token, None, &[("x-steward-scope", "all")])
        .await
}

async fn connectors_are_probed_as_their_kind_declares(app: TestApp) {
    let token = app.setup_admin().await;
    let flows_template = r#"{ "entity_type": "lead", "steps": [ { "kind": "hash" } ] }"#;
    let bundle = archive(&[
        ("steward.json", &manifest("crm-sync", "1.0.0", json!({}))),
        ("models/lead.json", LEAD),
        ("flows/sync.json", flows_template),
        ("connectors/crm_api.json", KIND),
    ]);
    assert_eq!(install(&app, &token, bundle).await.status, StatusCode::CREATED);
    let (_, ws) = app.customer("Acme", "tenant").await;
    let svc = service().await;

    // The endpoint is checked as it is given.
    let bad =
        connector(&app, &token, json!({ "workspace_id": ws, "name": "x", "kind": "crm_api", "endpoint": "ftp://a" }))
            .await;
    assert_eq!(bad.body["errors"][0]["field"], "endpoint", "{:?}", bad.body);
    let bad = connector(
        &app,
        &token,
        json!({ "workspace_id": ws, "name": "x", "kind": "crm_api", "endpoint": "http://u:p@h" }),
    )
    .await;
    assert_eq!(bad.body["errors"][0]["field"], "endpoint");

    let made = connector(
        &app,
        &token,
        json!({ "workspace_id": ws, "name": "Acme CRM", "kind": "crm_api", "endpoint": svc.url }),
    )
    .await;
    assert_eq!(made.status, StatusCode::CREATED, "{:?}", made.body);
    let id = made.body["connector_id"].as_str().unwrap().to_owned();
    *svc.key.lock().unwrap() = made.body["api_key"].as_str().unwrap().to_owned();
    assert_eq!(listed(&app, &token, &id).await["health"], "unknown", "nothing has measured it yet");

    // The periodic turn probes it once per interval.
    assert_eq!(probes::tick(&app.state, Duration::from_secs(60)).await.unwrap(), 1);
    let c = listed(&app, &token, &id).await;
    assert_eq!(c["health"], "healthy", "{c:?}");
    assert!(c["health_latency_ms"].as_i64().is_some() && c["health_checked_at"].is_string());
    assert!(c["health_error"].is_null());
    assert_eq!(probes::tick(&app.state, Duration::from_secs(60)).await.unwrap(), 0, "not due yet");
    // A second replica does not probe it again in the same interval.
    let replica = steward_backend::prepare((*app.state.config).clone()).await.unwrap();
    assert_eq!(probes::tick(&replica, Duration::from_secs(60)).await.unwrap(), 0);

    // Slow, failing, and back.
    svc.mode.store(SLOW, Ordering::SeqCst);
    let c = check(&app, &token, &id).await;
    assert_eq!((c.status, c.body["health"].as_str()), (StatusCode::OK, Some("degraded")), "{:?}", c.body);
    assert!(c.body["health_latency_ms"].as_i64().unwrap() >= 400);
    assert!(c.body["health_error"].as_str().unwrap().contains("slower than 200 ms"));
    svc.mode.store(FAILING, Ordering::SeqCst);
    let c = check(&app, &token, &id).await;
    assert_eq!(c.body["health"], "down");
    assert!(c.body["health_error"].as_str().unwrap().contains("answered 503"), "{:?}", c.body);
    svc.mode.store(HEALTHY, Ordering::SeqCst);
    assert_eq!(check(&app, &token, &id).await.body["health"], "healthy");

    // The probe sends the connector's key: after a rotation the old one the service holds fails.
    let rotated = app
        .call_with(
            Method::POST,
            &format!("/api/connectors/{id}/rotate-key"),
            &token,
            None,
            &[("x-steward-scope", "all")],
        )
        .await;
    assert_eq!(rotated.status, StatusCode::OK);
    let c = check(&app, &token, &id).await;
    assert!(c.body["health_error"].as_str().unwrap().contains("answered 401"), "{:?}", c.body);
    *svc.key.lock().unwrap() = rotated.body["api_key"].as_str().unwrap().to_owned();
    assert_eq!(check(&app, &token, &id).await.body["health"], "healthy");

    // Health changes are platform log lines.
    let lines = crate::observability::wait_for_lines(&app, &token, "stream=platform&kind=connector_health", 4).await;
    assert!(
        lines.iter().any(|l| l["message"].as_str().unwrap().contains("Acme CRM is down (was degraded)")),
        "{lines:?}"
    );

    // Unreachable.
    let gone = connector(
        &app,
        &token,
        json!({ "workspace_id": ws, "name": "Gone", "kind": "crm_api", "endpoint": "http://127.0.0.1:9" }),
    )
    .await;
    let gone_id = gone.body["connector_id"].as_str().unwrap().to_owned();
    let c = check(&app, &token, &gone_id).await;
    assert_eq!(c.body["health"], "down");
    assert!(c.body["health_error"].as_str().unwrap().contains("connection refused"), "{:?}", c.body);
    // A kind no application declares has nothing to probe.
    let plain = connector(
        &app,
        &token,
        json!({ "workspace_id": ws, "name": "Plain", "kind": "postgres", "endpoint": svc.url }),
    )
    .await;
    let res = check(&app, &token, plain.body["connector_id"].as_str().unwrap()).await;
    assert_eq!((res.status, res.problem()), (StatusCode::CONFLICT, "not_probed"));

    // A run of a flow using the connector records its outcome on it.
    let template = app.get("/api/flow-templates", Some(&token)).await.body["items"][0]["id"].clone();
    let flow =
        json!({ "workspace_id": ws, "name": "Sync", "template_id": template, "connector_id": id, "publish": true });
    let flow = app.call_with(Method::POST, "/api/flows", &token, Some(flow), &[("x-steward-scope", "all")]).await;
    assert_eq!(flow.status, StatusCode::CREATED, "{:?}", flow.body);
    let flow_id = flow.body["id"].as_str().unwrap();
    app.call_with(Method::POST, &format!("/api/flows/{flow_id}/runs"), &token, None, &[("x-steward-scope", "all")])
        .await;
    steward_backend::ops::worker::drain(&app.state, "test").await.unwrap();
    let c = listed(&app, &token, &id).await;
    assert_eq!(c["last_run_status"], "succeeded", "{c:?}");
    assert!(c["last_run_at"].is_string());
    // A connector of another workspace cannot be named.
    let (_, other_ws) = app.customer("Globex", "tenant").await;
    let flow = json!({ "workspace_id": other_ws, "name": "Sync", "connector_id": id });
    let res = app.call_with(Method::POST, "/api/flows", &token, Some(flow), &[("x-steward-scope", "all")]).await;
    assert_eq!(res.body["errors"][0]["field"], "connector_id");
}

async fn private_endpoints_are_not_probed(app: TestApp) {
    let svc = service().await;
    let p: Probe = serde_json::from_str(r#"{ "path": "/health" }"#).unwrap();
    for endpoint in [svc.url.as_str(), "http://169.254.169.254/latest", "http://[::1]:9", "http://localhost:9"] {
        let m = probes::probe(&app.state, endpoint, Some("k"), &p).await;
        assert_eq!(m.health, "down");
        assert!(m.error.as_deref().unwrap().contains("a private address"), "{endpoint}: {m:?}");
    }
}
