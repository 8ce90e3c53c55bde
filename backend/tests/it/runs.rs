//! Issue 16: runs that do work (each step kind on the tenant's records, failures that name the
//! step and the record, retries with backoff, cancellation, orphans queued again) and platform
//! actions (typed confirmation, purge, a restart of the pool under load that loses and repeats
//! nothing, acknowledgements from every replica), on both databases.

use axum::http::{Method, StatusCode};
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, Set};
use serde_json::{json, Value};
use std::time::Duration;
use steward_backend::ops::worker;
use steward_backend::store::entities::{flows, records, runs};
use uuid::Uuid;

use crate::apps::{archive, install, manifest, LEAD};
use crate::data::record;
use crate::harness::TestApp;
use crate::on_both;

on_both!(
    runs_execute_every_step_kind,
    a_failed_step_names_the_record_and_is_retried_after_its_backoff,
    a_mapping_that_breaks_a_record_changes_none,
    runs_are_cancelled_queued_or_running,
    orphaned_runs_are_queued_again,
    platform_actions_are_confirmed_and_purge_one_tenant,
    restarting_the_pool_under_load_loses_and_repeats_nothing,
);

/// Installs an application with one template of these steps; returns the template's id.
pub(crate) async fn template(app: &TestApp, token: &str, name: &str, definition: Value) -> Value {
    let bundle = archive(&[
        ("steward.json", &manifest(name, "1.0.0", json!({}))),
        ("models/lead.json", LEAD),
        ("flows/work.json", &definition.to_string()),
    ]);
    let res = install(app, token, bundle).await;
    assert_eq!(res.status, StatusCode::CREATED, "{:?}", res.body);
    assert_eq!(res.body["errors"], json!([]), "{:?}", res.body);
    let templates = app.get("/api/flow-templates", Some(token)).await;
    templates.body["items"].as_array().unwrap().iter().find(|t| t["application"] == name).unwrap()["id"].clone()
}

/// A template of one step (hashing the tenant's leads): a flow needs steps to be published or
/// run. Installs its application (as a super admin).
pub(crate) async fn hash_template(app: &TestApp, admin: &str) -> Value {
    template(app, admin, "hashing", json!({ "entity_type": "lead", "steps": [{ "kind": "hash" }] })).await
}

/// A published flow of the template in the tenant's workspace.
async fn flow(app: &TestApp, token: &str, ws: Uuid, template: &Value) -> String {
    let body = json!({ "workspace_id": ws, "name": "Leads", "template_id": template, "publish": true });
    let res = app.call_with(Method::POST, "/api/flows", token, Some(body), &[("x-steward-scope", "all")]).await;
    assert_eq!(res.status, StatusCode::CREATED, "{:?}", res.body);
    res.body["id"].as_str().unwrap().to_owned()
}

async fn trigger(app: &TestApp, token: &str, flow: &str) -> String {
    let res = app
        .call_with(Method::POST, &format!("/api/flows/{flow}/runs"), token, None, &[("x-steward-scope", "all")])
        .await;
    assert_eq!(res.status, StatusCode::ACCEPTED, "{:?}", res.body);
    res.body["id"].as_str().unwrap().to_owned()
}

async fn run(app: &TestApp, token: &str, id: &str) -> Value {
    let res =
        app.call_with(Method::GET, &format!("/api/runs?run_id={id}"), token, None, &[("x-steward-scope", "all")]).await;
    res.body["items"][0].clone()
}

async fn payload(app: &TestApp, id: Uuid) -> records::Model {
    records::Entity::find_by_id(id).one(app.db()).await.unwrap().unwrap()
}

async fn runs_execute_every_step_kind(app: TestApp) {
    let token = app.setup_admin().await;
    let t = template(
        &app,
        &token,
        "crm",
        json!({ "entity_type": "lead", "steps": [
        { "kind": "validate" }, { "kind": "hash" }, { "kind": "dedupe" },
        { "kind": "map", "ops": [
            { "op": "rename", "from": "/stage", "to": "/phase" },
            { "op": "set", "path": "/source/system", "value": "crm" },
            { "op": "drop", "path": "/tmp" } ] } ] }),
    )
    .await;
    let (acme, ws) = app.customer("Acme", "tenant").await;
    let (globex, _) = app.customer("Globex", "tenant").await;
    let a = record(&app, acme, "lead", "L-1", json!({ "name": "Ada", "stage": "new", "tmp": 1 })).await;
    let b = record(&app, acme, "lead", "L-2", json!({ "name": "Ada", "stage": "new", "tmp": 1 })).await;
    let c = record(&app, acme, "lead", "L-3", json!({ "name": "Grace" })).await;
    let other_type = record(&app, acme, "invoice", "I-1", json!({ "stage": "x" })).await;
    let other_tenant = record(&app, globex, "lead", "L-9", json!({ "name": "Linus", "stage": "new" })).await;
    // A stale hash the hash step puts right.
    records::ActiveModel { id: Set(c), content_hash: Set(Some("stale".into())), ..Default::default() }
        .update(app.db())
        .await
        .unwrap();
    let flow_id = flow(&app, &token, ws, &t).await;
    let run_id = trigger(&app, &token, &flow_id).await;
    assert_eq!(worker::drain(&app.state, "test").await.unwrap(), 1);

    let r = run(&app, &token, &run_id).await;
    assert_eq!(r["status"], "succeeded", "{r:?}");
    let steps = r["steps"].as_array().unwrap();
    let kinds: Vec<&str> = steps.iter().map(|s| s["kind"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["validate", "hash", "dedupe", "map"]);
    assert!(steps.iter().all(|s| s["status"] == "succeeded" && s["records"] == 3), "{steps:?}");
    assert_eq!((steps[0]["changed"].as_u64(), steps[1]["changed"].as_u64()), (Some(0), Some(1)), "one stale hash");
    assert_eq!((steps[2]["groups"].as_u64(), steps[2]["changed"].as_u64()), (Some(1), Some(2)), "L-1 and L-2");
    assert_eq!(steps[3]["changed"].as_u64(), Some(3));

    let mapped = payload(&app, a).await;
    assert_eq!(mapped.payload, json!({ "name": "Ada", "phase": "new", "source": { "system": "crm" } }));
    assert_eq!(
        mapped.content_hash.as_deref(),
        Some(steward_backend::data::records::content_hash(&mapped.payload).as_str())
    );
    assert_eq!(payload(&app, b).await.payload, mapped.payload);
    assert_eq!(payload(&app, c).await.payload, json!({ "name": "Grace", "source": { "system": "crm" } }));
    // Another type and another tenant are not touched.
    assert_eq!(payload(&app, other_type).await.payload, json!({ "stage": "x" }));
    assert_eq!(payload(&app, other_tenant).await.payload, json!({ "name": "Linus", "stage": "new" }));

    // The step log is in the system log's user tasks.
    let lines =
        crate::observability::wait_for_lines(&app, &token, &format!("stream=system&kind=user_task&q={run_id}"), 5)
            .await;
    let messages: Vec<&str> = lines.iter().map(|l| l["message"].as_str().unwrap()).collect();
    assert!(messages.iter().any(|m| m.contains("step 4 (map) succeeded: 3 read, 3 changed")), "{messages:?}");
    assert!(messages.contains(&format!("run {run_id} succeeded").as_str()), "{messages:?}");

    // A second run finds nothing to change: the steps are idempotent.
    let again = trigger(&app, &token, &flow_id).await;
    worker::drain(&app.state, "test").await.unwrap();
    let r = run(&app, &token, &again).await;
    assert_eq!(r["status"], "succeeded");
    assert_eq!(r["steps"][3]["changed"].as_u64(), Some(0));
    assert_eq!(r["steps"][1]["changed"].as_u64(), Some(0));
}

async fn a_failed_step_names_the_record_and_is_retried_after_its_backoff(app: TestApp) {
    let token = app.setup_admin().await;
    let t = template(&app, &token, "strict", json!({ "entity_type": "lead", "retries": 1, "backoff_seconds": 1,
        "steps": [ { "kind": "hash" }, { "kind": "validate" }, { "kind": "map", "ops": [ { "op": "drop", "path": "/x" } ] } ] })).await;
    let (acme, ws) = app.customer("Acme", "tenant").await;
    record(&app, acme, "lead", "L-1", json!({ "name": "Ada" })).await;
    let bad = record(&app, acme, "lead", "L-2", json!({ "stage": "won", "x": 1 })).await;
    let flow_id = flow(&app, &token, ws, &t).await;
    let run_id = trigger(&app, &token, &flow_id).await;
    worker::drain(&app.state, "test").await.unwrap();

    let r = run(&app, &token, &run_id).await;
    assert_eq!((r["status"].as_str(), r["attempt"].as_i64()), (Some("queued"), Some(1)), "{r:?}");
    assert_eq!(r["failed_step"], 1);
    assert_eq!(r["failed_record"], json!(bad));
    let error = r["error"].as_str().unwrap();
    assert!(error.starts_with("step 2 (validate) failed: 1 of 2 `lead` records"), "{error}");
    assert!(error.contains("`L-2`") && error.contains("name"), "{error}");
    let steps: Vec<&str> = r["steps"].as_array().unwrap().iter().map(|s| s["status"].as_str().unwrap()).collect();
    assert_eq!(steps, ["succeeded", "failed", "skipped"]);
    assert!(r["not_before"].is_string());
    // The backoff holds: no worker takes it yet.
    assert_eq!(worker::drain(&app.state, "test").await.unwrap(), 0);
    let until = chrono::DateTime::parse_from_rfc3339(r["not_before"].as_str().unwrap()).unwrap();
    let wait = (until.with_timezone(&chrono::Utc) - chrono::Utc::now()).to_std().unwrap_or_default();
    tokio::time::sleep(wait + Duration::from_millis(50)).await;
    assert_eq!(worker::drain(&app.state, "test").await.unwrap(), 1);
    let r = run(&app, &token, &run_id).await;
    assert_eq!((r["status"].as_str(), r["attempt"].as_i64()), (Some("failed"), Some(2)), "no retry left: {r:?}");
    assert!(r["finished_at"].is_string());
    // Nothing after the failed step ran.
    assert_eq!(payload(&app, bad).await.payload, json!({ "stage": "won", "x": 1 }));
}

async fn a_mapping_that_breaks_a_record_changes_none(app: TestApp) {
    let token = app.setup_admin().await;
    let t = template(
        &app,
        &token,
        "breaker",
        json!({ "entity_type": "lead",
        "steps": [ { "kind": "map", "ops": [ { "op": "set", "path": "/stage", "value": "maybe" } ] } ] }),
    )
    .await;
    let (acme, ws) = app.customer("Acme", "tenant").await;
    let mut ids = Vec::new();
    for i in 0..(steward_backend::ops::steps::BATCH + 20) {
        ids.push(record(&app, acme, "lead", &format!("L-{i}"), json!({ "name": format!("Lead {i}") })).await);
    }
    let flow_id = flow(&app, &token, ws, &t).await;
    let run_id = trigger(&app, &token, &flow_id).await;
    worker::drain(&app.state, "test").await.unwrap();
    let r = run(&app, &token, &run_id).await;
    assert_eq!(r["status"], "failed", "{r:?}");
    let error = r["error"].as_str().unwrap();
    assert!(error.contains("`L-0`") && error.contains("no record was changed") && error.contains("stage"), "{error}");
    for id in [ids[0], ids[ids.len() - 1]] {
        assert_eq!(payload(&app, id).await.payload["stage"], Value::Null);
    }
}

async fn runs_are_cancelled_queued_or_running(app: TestApp) {
    let token = app.setup_admin().await;
    let t = template(
        &app,
        &token,
        "slowish",
        json!({ "entity_type": "lead",
        "steps": [ { "kind": "hash" }, { "kind": "validate" } ] }),
    )
    .await;
    let (acme, ws) = app.customer("Acme", "tenant").await;
    record(&app, acme, "lead", "L-1", json!({ "name": "Ada" })).await;
    let flow_id = flow(&app, &token, ws, &t).await;
    let scope = [("x-steward-scope", "all")];

    // Queued: cancelled at once; again is a conflict.
    let queued = trigger(&app, &token, &flow_id).await;
    let res = app.call_with(Method::POST, &format!("/api/runs/{queued}/cancel"), &token, None, &scope).await;
    assert_eq!((res.status, res.body["status"].as_str()), (StatusCode::OK, Some("cancelled")), "{:?}", res.body);
    let res = app.call_with(Method::POST, &format!("/api/runs/{queued}/cancel"), &token, None, &scope).await;
    assert_eq!((res.status, res.problem()), (StatusCode::CONFLICT, "run_finished"));
    assert_eq!(worker::drain(&app.state, "test").await.unwrap(), 0, "a cancelled run is not taken");

    // Running: asked to stop, it stops before its next batch.
    let running = trigger(&app, &token, &flow_id).await;
    let claimed = worker::claim(&app.state, "test").await.unwrap().unwrap();
    assert_eq!(claimed.id.to_string(), running);
    let res = app.call_with(Method::POST, &format!("/api/runs/{running}/cancel"), &token, None, &scope).await;
    assert_eq!((res.body["status"].as_str(), res.body["cancel_requested"].as_bool()), (Some("running"), Some(true)));
    worker::execute(&app.state, claimed).await.unwrap();
    let r = run(&app, &token, &running).await;
    assert_eq!(r["status"], "cancelled", "{r:?}");
    assert_eq!(r["steps"][0]["status"], "cancelled");
    assert_eq!(r["steps"][1]["status"], "skipped");

    // Another tenant's operator cannot see, so cannot cancel, the run.
    let (globex, gws) = app.customer("Globex", "tenant").await;
    let role = app.role(globex, gws, &["steward.flows.*", "steward.runs.*"]).await;
    let outsider = app.user_with_role(globex, gws, role).await;
    let third = trigger(&app, &token, &flow_id).await;
    let res = app.call(Method::POST, &format!("/api/runs/{third}/cancel"), Some(&outsider.token), None).await;
    assert_eq!(res.status, StatusCode::NOT_FOUND);
    // A viewer of the tenant lacks the leaf.
    let viewer_role = app.role(acme, ws, &["steward.runs.view", "steward.flows.view"]).await;
    let viewer = app.user_with_role(acme, ws, viewer_role).await;
    let res = app.call(Method::POST, &format!("/api/runs/{third}/cancel"), Some(&viewer.token), None).await;
    assert_eq!(res.problem(), "permission_denied");
    // The cancellation is audited.
    let audit = app.call_with(Method::GET, "/api/audit?action=run.cancel", &token, None, &scope).await;
    assert_eq!(audit.body["items"].as_array().unwrap().len(), 2);
}

async fn orphaned_runs_are_queued_again(app: TestApp) {
    let token = app.setup_admin().await;
    let t = template(
        &app,
        &token,
        "orphans",
        json!({ "entity_type": "lead", "timeout_seconds": 5, "retries": 1,
        "steps": [ { "kind": "hash" } ] }),
    )
    .await;
    let (_, ws) = app.customer("Acme", "tenant").await;
    let flow_id = flow(&app, &token, ws, &t).await;
    let run_id = trigger(&app, &token, &flow_id).await;
    let claimed = worker::claim(&app.state, "dead-replica").await.unwrap().unwrap();
    // Not yet: it may still be executing.
    assert_eq!(worker::reap_orphans(&app.state).await.unwrap(), 0);
    let long_ago = chrono::Utc::now() - chrono::Duration::seconds(120);
    runs::ActiveModel { id: Set(claimed.id), started_at: Set(Some(long_ago)), ..Default::default() }
        .update(app.db())
        .await
        .unwrap();
    assert_eq!(worker::reap_orphans(&app.state).await.unwrap(), 1);
    let r = run(&app, &token, &run_id).await;
    assert_eq!(r["status"], "queued");
    assert!(r["error"].as_str().unwrap().contains("stopped answering"));
    // The dead worker's late outcome is not recorded over the new attempt.
    let again = worker::claim(&app.state, "alive").await.unwrap().unwrap();
    worker::execute(&app.state, claimed).await.unwrap();
    assert_eq!(run(&app, &token, &run_id).await["status"], "running");
    worker::execute(&app.state, again).await.unwrap();
    let r = run(&app, &token, &run_id).await;
    assert_eq!((r["status"].as_str(), r["attempt"].as_i64()), (Some("succeeded"), Some(2)));
}

async fn action(app: &TestApp, token: &str, body: Value) -> crate::harness::Response {
    app.post("/api/platform/actions", Some(token), body).await
}

async fn platform_actions_are_confirmed_and_purge_one_tenant(app: TestApp) {
    let token = app.setup_admin().await;
    let (acme, aws) = app.customer("Acme", "tenant").await;
    let (globex, _) = app.customer("Globex", "tenant").await;
    for (c, n) in [(acme, 3), (globex, 2)] {
        for i in 0..n {
            record(&app, c, "lead", &format!("L-{i}"), json!({ "name": "x" })).await;
        }
    }
    let f = app
        .call_with(
            Method::POST,
            "/api/flows",
            &token,
            Some(json!({ "workspace_id": aws, "name": "Acme flow" })),
            &[("x-steward-scope", "all")],
        )
        .await;
    assert_eq!(f.status, StatusCode::CREATED, "{:?}", f.body);

    for (body, field) in [
        (json!({ "action": "reboot", "confirm": "x" }), "action"),
        (json!({ "action": "restart_workers", "confirm": "restart" }), "confirm"),
        (json!({ "action": "purge_demo_data", "confirm": "Acme" }), "customer_id"),
        (json!({ "action": "purge_demo_data", "customer_id": acme, "confirm": "Globex" }), "confirm"),
        (
            json!({ "action": "reload_applications", "customer_id": acme, "confirm": "reload applications" }),
            "customer_id",
        ),
        (json!({ "action": "purge_demo_data", "customer_id": Uuid::now_v7(), "confirm": "x" }), "customer_id"),
    ] {
        let res = action(&app, &token, body.clone()).await;
        // A customer id naming no customer is a 404 on the field, a confirmation that is not
        // the phrase a 409; the rest are 422.
        let named_nothing = field == "customer_id" && body["confirm"] == "x";
        let status = match field {
            _ if named_nothing => StatusCode::NOT_FOUND,
            "confirm" => StatusCode::CONFLICT,
            _ => StatusCode::UNPROCESSABLE_ENTITY,
        };
        assert_eq!(
            (res.status, res.body["errors"][0]["field"].as_str()),
            (status, Some(field)),
            "{body}: {:?}",
            res.body
        );
    }
    // Only super admins: a tenant admin holding every leaf of its own customer is refused.
    let role = app.role(acme, aws, &["steward.*"]).await;
    let tenant_admin = app.user_with_role(acme, aws, role).await;
    let res =
        action(&app, &tenant_admin.token, json!({ "action": "restart_workers", "confirm": "restart workers" })).await;
    assert_eq!(res.status, StatusCode::FORBIDDEN);
    assert_eq!(app.get("/api/platform/actions", Some(&tenant_admin.token)).await.status, StatusCode::FORBIDDEN);

    // Two replicas heard from; the purge is done once, acknowledged by both.
    let replica = steward_backend::prepare((*app.state.config).clone()).await.unwrap();
    steward_backend::ops::replicas::beat(&app.state).await.unwrap();
    steward_backend::ops::replicas::beat(&replica).await.unwrap();
    let res =
        action(&app, &token, json!({ "action": "purge_demo_data", "customer_id": acme, "confirm": "Acme" })).await;
    assert_eq!(res.status, StatusCode::ACCEPTED, "{:?}", res.body);
    let id = res.body["id"].as_str().unwrap().to_owned();
    assert_eq!(res.body["params"]["customer_name"], "Acme");
    assert_eq!(res.body["waiting_for"].as_array().unwrap().len(), 2);
    let mut done = Value::Null;
    for _ in 0..200 {
        done = app.get(&format!("/api/platform/actions/{id}"), Some(&token)).await.body;
        if done["outcome"]["status"] == "done" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(done["outcome"]["deleted"]["records"], 3, "{done:?}");
    assert_eq!(done["outcome"]["deleted"]["flows"], 1, "{done:?}");
    let left = records::Entity::find().all(app.db()).await.unwrap();
    assert!(left.len() == 2 && left.iter().all(|r| r.customer_id == globex));
    assert_eq!(flows::Entity::find().filter(flows::Column::CustomerId.eq(acme)).all(app.db()).await.unwrap().len(), 0);
    assert_eq!(steward_backend::ops::actions::carry_out(&app.state, None).await.unwrap(), 1);
    assert_eq!(steward_backend::ops::actions::carry_out(&replica, None).await.unwrap(), 1);
    assert_eq!(steward_backend::ops::actions::carry_out(&replica, None).await.unwrap(), 0, "once per replica");
    let row = app.get(&format!("/api/platform/actions/{id}"), Some(&token)).await.body;
    assert_eq!(row["acks"].as_array().unwrap().len(), 2, "{row:?}");
    assert_eq!(row["waiting_for"], json!([]));
    assert_eq!(row["requested_by_email"], "admin@example.com");
    // The users and the customer stay; the audit log has it.
    assert!(app.get("/api/users?limit=1", Some(&tenant_admin.token)).await.status.is_success());
    let audit = app
        .call_with(
            Method::GET,
            "/api/audit?action=platform.purge_demo_data",
            &token,
            None,
            &[("x-steward-scope", "all")],
        )
        .await;
    assert_eq!(audit.body["items"].as_array().unwrap().len(), 1);

    // Delete all public objects: every tenant's.
    let res =
        action(&app, &token, json!({ "action": "delete_public_objects", "confirm": "delete all public objects" }))
            .await;
    let id = res.body["id"].as_str().unwrap().to_owned();
    for _ in 0..200 {
        if app.get(&format!("/api/platform/actions/{id}"), Some(&token)).await.body["outcome"]["status"] == "done" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(records::Entity::find().all(app.db()).await.unwrap().len(), 0);
    let list = app.get("/api/platform/actions", Some(&token)).await;
    assert_eq!(list.body["items"][0]["action"], "delete_public_objects");
    assert_eq!(list.body["items"][1]["action"], "purge_demo_data");
}

async fn restarting_the_pool_under_load_loses_and_repeats_nothing(app: TestApp) {
    let token = app.setup_admin().await;
    let t = template(
        &app,
        &token,
        "load",
        json!({ "entity_type": "lead", "steps": [ { "kind": "hash" }, { "kind": "validate" } ] }),
    )
    .await;
    let (acme, ws) = app.customer("Acme", "tenant").await;
    for i in 0..20 {
        record(&app, acme, "lead", &format!("L-{i}"), json!({ "name": format!("Lead {i}") })).await;
    }
    let flow_id = flow(&app, &token, ws, &t).await;
    let flow = flows::Entity::find_by_id(Uuid::parse_str(&flow_id).unwrap()).one(app.db()).await.unwrap().unwrap();
    for _ in 0..60 {
        steward_backend::tenancy::flows::enqueue(app.db(), &flow, "manual", None, chrono::Utc::now()).await.unwrap();
    }
    let pool = worker::Pool::start(app.state.clone(), 3, Duration::from_millis(5));
    for _ in 0..2 {
        tokio::time::sleep(Duration::from_millis(30)).await;
        let res = action(&app, &token, json!({ "action": "restart_workers", "confirm": "restart workers" })).await;
        assert_eq!(res.status, StatusCode::ACCEPTED);
        assert_eq!(steward_backend::ops::actions::carry_out(&app.state, Some(&pool)).await.unwrap(), 1);
    }
    let mut left = usize::MAX;
    for _ in 0..1_000 {
        left = runs::Entity::find()
            .filter(runs::Column::Status.is_in(["queued", "running"]))
            .all(app.db())
            .await
            .unwrap()
            .len();
        if left == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    pool.stop().await;
    assert_eq!(left, 0, "every run finished");
    let all = runs::Entity::find().all(app.db()).await.unwrap();
    assert_eq!(all.len(), 60);
    assert!(all.iter().all(|r| r.status == "succeeded" && r.attempt == 1), "each ran once");
    let list = app.get("/api/platform/actions", Some(&token)).await;
    let detail = list.body["items"][0]["acks"][0]["detail"].as_str().unwrap().to_owned();
    assert!(detail.starts_with("restarted 3 workers (generation 3)"), "{detail}");
    let workers = app.get("/api/system/status", Some(&token)).await.body["queue"]["workers"].clone();
    assert_eq!(workers.as_array().map(Vec::len), Some(3), "the board lists the new workers only: {workers:?}");
}
