//! Issue 15: the Data explorer, data ops and hash warnings, on both databases.

use axum::body::Body;
use axum::http::{header, Method, Request, StatusCode};
use http_body_util::BodyExt;
use sea_orm::{ActiveModelTrait, EntityTrait, Set};
use serde_json::{json, Value};
use steward_backend::store::entities::{record_links, records};
use tower::ServiceExt;
use uuid::Uuid;

use crate::harness::{TestApp, ADMIN_PASSWORD};
use crate::on_both;

on_both!(
    explorer_shows_only_the_registry,
    explorer_filters_sorts_and_pages,
    explorer_keeps_to_the_scope,
    edits_are_validated_and_stale_ones_refused,
    batch_dry_run_equals_the_real_run,
    merge_moves_every_reference_and_undo_restores,
    refresh_recomputes_derived_fields,
    hash_warnings_follow_every_write,
    view_as_shows_exactly_the_targets_rows,
    live_updates_reach_a_second_router,
    migrations_report_their_checksums,
    a_large_batch_leaves_the_planner_statistics_current,
    a_batch_edit_derives_what_its_values_change,
);

pub(crate) async fn record(app: &TestApp, customer: Uuid, entity: &str, external: &str, payload: Value) -> Uuid {
    let row = record_row(customer, entity, external, payload);
    let id = row.id.clone().unwrap();
    row.insert(app.db()).await.unwrap();
    id
}

/// `POST /api/explorer/tables/records/batch` in `scope`.
async fn batch_records(app: &TestApp, token: &str, scope: &str, body: Value) -> crate::harness::Response {
    app.call_with(Method::POST, "/api/explorer/tables/records/batch", token, Some(body), &[("x-steward-scope", scope)])
        .await
}

/// A record as a source would send it, with its derived fields, not yet written.
fn record_row(customer: Uuid, entity: &str, external: &str, payload: Value) -> records::ActiveModel {
    steward_backend::data::records::new_row(
        Uuid::now_v7(),
        customer,
        entity,
        external,
        "crm",
        payload,
        chrono::Utc::now(),
    )
}

async fn link(app: &TestApp, customer: Uuid, from: Uuid, to: Uuid) -> Uuid {
    let id = Uuid::now_v7();
    record_links::ActiveModel {
        id: Set(id),
        customer_id: Set(customer),
        from_id: Set(from),
        to_id: Set(to),
        relation: Set("account".into()),
        created_at: Set(chrono::Utc::now()),
    }
    .insert(app.db())
    .await
    .unwrap();
    id
}

fn scoped(customer: Uuid) -> String {
    format!("customer:{customer}")
}

async fn query(app: &TestApp, token: &str, scope: &str, table: &str, body: Value) -> crate::harness::Response {
    app.call_with(
        Method::POST,
        &format!("/api/explorer/tables/{table}/query"),
        token,
        Some(body),
        &[("x-steward-scope", scope)],
    )
    .await
}

fn ids(page: &Value) -> Vec<String> {
    page["rows"].as_array().unwrap().iter().map(|r| r["id"].as_str().unwrap().to_owned()).collect()
}

async fn explorer_shows_only_the_registry(app: TestApp) {
    let root = app.setup_admin().await;
    let (acme, _) = app.customer("Acme", "tenant").await;
    let tables = app.get("/api/explorer/tables", Some(&root)).await;
    assert_eq!(tables.status, StatusCode::OK, "{:?}", tables.body);
    let names: Vec<&str> =
        tables.body["tables"].as_array().unwrap().iter().map(|t| t["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["customers", "workspaces", "flows", "runs", "connectors", "records", "record_links"]);
    let scope = scoped(acme);
    for table in ["users", "sessions", "api_tokens", "recovery_codes", "audit_events", "users; --"] {
        let res = query(&app, &root, &scope, &table.replace(' ', "%20"), json!({})).await;
        assert_eq!(res.status, StatusCode::NOT_FOUND, "{table}");
    }
    // Crafted column names never reach SQL: each is a 422 naming where it was given.
    for (body, field) in [
        (json!({ "filters": [{ "column": "api_key_hash", "op": "eq", "value": "x" }] }), "filters[0].column"),
        (json!({ "filters": [{ "column": "name\" OR 1=1 --", "op": "eq", "value": "x" }] }), "filters[0].column"),
        (json!({ "columns": ["name", "api_key_hash"] }), "columns[1]"),
        (json!({ "sort": "api_key_hash" }), "sort"),
        (json!({ "sort": "kind" }), "sort"),
        (json!({ "filters": [{ "column": "health", "op": "eq", "value": "sideways" }] }), "filters[0].value"),
    ] {
        let res = query(&app, &root, &scope, "connectors", body.clone()).await;
        assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        assert_eq!(res.body["errors"][0]["field"], field, "{body}: {:?}", res.body);
    }
    let res = app
        .call_with(
            Method::POST,
            "/api/connectors",
            &root,
            Some(json!({ "workspace_id": app.workspace(acme, "Ops").await, "name": "CRM", "kind": "http" })),
            &[("x-steward-scope", &scope)],
        )
        .await;
    assert_eq!(res.status, StatusCode::CREATED, "{:?}", res.body);
    let page = query(&app, &root, &scope, "connectors", json!({ "columns": [] })).await;
    assert_eq!(page.body["rows"].as_array().unwrap().len(), 1);
    assert!(page.body["rows"][0].get("api_key_hash").is_none() && page.body["rows"][0]["name"] == "CRM");
    assert_eq!(page.body["customers"][acme.to_string()], "Acme");
}

async fn explorer_filters_sorts_and_pages(app: TestApp) {
    let root = app.setup_admin().await;
    let (acme, _) = app.customer("Acme", "tenant").await;
    let mut contacts = Vec::new();
    for i in 0..23 {
        let ext = format!("C-{:03}", (i * 7) % 23);
        record(&app, acme, "contact", &ext, json!({ "name": format!("P {i}") })).await;
        contacts.push(ext);
        record(&app, acme, "invoice", &format!("INV-{i:03}"), json!({ "name": "inv" })).await;
    }
    contacts.sort();
    let scope = scoped(acme);
    let mut seen = Vec::new();
    let mut cursor = Value::Null;
    loop {
        let mut body = json!({ "filters": [{ "column": "entity_type", "op": "eq", "value": "contact" }], "sort": "external_id", "order": "asc", "limit": 5 });
        if !cursor.is_null() {
            body["cursor"] = cursor.clone();
        }
        let page = query(&app, &root, &scope, "records", body).await;
        assert_eq!(page.status, StatusCode::OK, "{:?}", page.body);
        seen.extend(
            page.body["rows"].as_array().unwrap().iter().map(|r| r["external_id"].as_str().unwrap().to_owned()),
        );
        cursor = page.body["next_cursor"].clone();
        if cursor.is_null() {
            break;
        }
    }
    assert_eq!(seen, contacts, "every row once, in order");
    let search = query(&app, &root, &scope, "records", json!({ "search": "inv-01" })).await;
    assert_eq!(search.body["rows"].as_array().unwrap().len(), 10, "{:?}", search.body);
    let any = query(
        &app,
        &root,
        &scope,
        "records",
        json!({ "filters": [{ "column": "external_id", "op": "in", "value": ["C-001", "INV-002", "nope"] }] }),
    )
    .await;
    assert_eq!(any.body["rows"].as_array().unwrap().len(), 2);
    let desc = query(&app, &root, &scope, "records", json!({ "sort": "updated_at", "limit": 200 })).await;
    assert_eq!(desc.body["rows"].as_array().unwrap().len(), 46);
    let chosen = query(&app, &root, &scope, "records", json!({ "columns": ["external_id"], "limit": 1 })).await;
    assert_eq!(chosen.body["columns"], json!(["id", "customer_id", "external_id"]));
}

async fn explorer_keeps_to_the_scope(app: TestApp) {
    let root = app.setup_admin().await;
    let (acme, _) = app.customer("Acme", "tenant").await;
    let (globex, _) = app.customer("Globex", "tenant").await;
    let a = record(&app, acme, "contact", "A-1", json!({ "name": "a" })).await;
    let g = record(&app, globex, "contact", "G-1", json!({ "name": "g" })).await;
    let page = query(&app, &root, &scoped(acme), "records", json!({})).await;
    assert_eq!(ids(&page.body), [a.to_string()]);
    let own = query(&app, &root, "tenant", "records", json!({})).await;
    assert!(ids(&own.body).is_empty(), "the platform's own tenant has no records");
    let all = query(&app, &root, "all", "records", json!({})).await;
    assert_eq!(ids(&all.body).len(), 2);
    // A row of another customer is not there to edit or delete while scoped to one.
    let edit = app
        .call_with(
            Method::PATCH,
            &format!("/api/explorer/tables/records/rows/{g}"),
            &root,
            Some(json!({ "set": { "source": "x" }, "expect": { "source": "crm" } })),
            &[("x-steward-scope", &scoped(acme))],
        )
        .await;
    assert_eq!(edit.status, StatusCode::NOT_FOUND);
    let batch = app
        .call_with(
            Method::POST,
            "/api/explorer/tables/records/batch",
            &root,
            Some(json!({ "action": "delete", "ids": [a, g], "dry_run": true })),
            &[("x-steward-scope", &scoped(acme))],
        )
        .await;
    assert_eq!(batch.body["affected"], json!([a]));
    assert_eq!(batch.body["skipped"][0]["id"], json!(g));
    // A tenant's admin holding every leaf is still no super admin.
    let lead = app.principal(&["steward.*"]).await;
    assert_eq!(app.get("/api/explorer/tables", Some(&lead.token)).await.problem(), "super_admin_required");
}

async fn edits_are_validated_and_stale_ones_refused(app: TestApp) {
    let root = app.setup_admin().await;
    let (acme, _) = app.customer("Acme", "tenant").await;
    let scope = scoped(acme);
    let payload = json!({ "name": "Ada", "score": 3 });
    let id = record(&app, acme, "contact", "C-1", payload.clone()).await;
    let url = format!("/api/explorer/tables/records/rows/{id}");
    let patch = |body: Value| {
        let (app, root, url, scope) = (&app, &root, &url, &scope);
        async move { app.call_with(Method::PATCH, url, root, Some(body), &[("x-steward-scope", scope)]).await }
    };
    let bad =
        patch(json!({ "set": { "payload": { "name": "Ada", "score": "high" } }, "expect": { "payload": payload } }))
            .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(bad.body["errors"][0]["field"], "set.payload/score", "{:?}", bad.body);
    let missing = patch(json!({ "set": { "payload": { "score": 1 } }, "expect": { "payload": payload } })).await;
    assert_eq!(missing.status, StatusCode::UNPROCESSABLE_ENTITY, "the model requires a name");
    for (body, field) in [
        (json!({ "set": { "customer_id": Uuid::now_v7() }, "expect": {} }), "set.customer_id"),
        (json!({ "set": { "external_id": "" }, "expect": { "external_id": "C-1" } }), "set.external_id"),
        (json!({ "set": { "external_id": "C-2" }, "expect": {} }), "expect.external_id"),
        (json!({ "set": { "content_hash": "0" }, "expect": { "content_hash": "0" } }), "set.content_hash"),
    ] {
        let res = patch(body.clone()).await;
        assert_eq!(
            (res.status, res.body["errors"][0]["field"].as_str()),
            (StatusCode::UNPROCESSABLE_ENTITY, Some(field)),
            "{body}"
        );
    }
    let new = json!({ "name": "Ada Lovelace", "score": 4 });
    let ok = patch(json!({ "set": { "payload": new, "external_id": "C-0001" }, "expect": { "payload": payload, "external_id": "C-1" } })).await;
    assert_eq!(ok.status, StatusCode::OK, "{:?}", ok.body);
    assert_eq!(ok.body["row"]["external_key"], "c-0001");
    assert_eq!(ok.body["row"]["content_hash"], steward_backend::data::records::content_hash(&new));
    // The same edit again, from someone who read before it: stale, naming the field.
    let stale = patch(json!({ "set": { "payload": { "name": "Bob" } }, "expect": { "payload": payload } })).await;
    assert_eq!((stale.status, stale.problem()), (StatusCode::CONFLICT, "stale_edit"));
    assert_eq!(
        stale.body["errors"][0]["field"].as_str().or(stale.body["field"].as_str()),
        Some("payload"),
        "{:?}",
        stale.body
    );
    let audit = app
        .call_with(Method::GET, "/api/audit?action=data.row.update", &root, None, &[("x-steward-scope", "all")])
        .await;
    let event = &audit.body["items"][0];
    assert_eq!(event["summary"]["before"]["external_id"], "C-1");
    assert_eq!(event["summary"]["after"]["payload"], new);
    assert_eq!(event["customer_id"], json!(acme));
    // A flow's schedule is checked as the flows API checks it.
    let ws = app.workspace(acme, "Ops").await;
    let flow = app
        .call_with(
            Method::POST,
            "/api/flows",
            &root,
            Some(json!({ "workspace_id": ws, "name": "Sync" })),
            &[("x-steward-scope", &scope)],
        )
        .await;
    let fid = flow.body["id"].as_str().unwrap();
    let furl = format!("/api/explorer/tables/flows/rows/{fid}");
    let res = app
        .call_with(
            Method::PATCH,
            &furl,
            &root,
            Some(json!({ "set": { "schedule": "often" }, "expect": { "schedule": null } })),
            &[("x-steward-scope", &scope)],
        )
        .await;
    assert_eq!(res.body["errors"][0]["field"], "set.schedule");
    let res = app
        .call_with(
            Method::PATCH,
            &furl,
            &root,
            Some(json!({ "set": { "schedule": "every 5m" }, "expect": { "schedule": null } })),
            &[("x-steward-scope", &scope)],
        )
        .await;
    assert_eq!(res.status, StatusCode::OK, "{:?}", res.body);
    assert!(res.body["row"]["next_run_at"].is_string());
}

async fn batch_dry_run_equals_the_real_run(app: TestApp) {
    let root = app.setup_admin().await;
    let (acme, _) = app.customer("Acme", "tenant").await;
    let scope = scoped(acme);
    let survivor = record(&app, acme, "ticket", "T-0", json!({ "name": "t" })).await;
    let merged = record(&app, acme, "ticket", "T-1", json!({ "name": "t" })).await;
    for i in 2..8 {
        record(&app, acme, "ticket", &format!("T-{i}"), json!({ "name": format!("t{i}") })).await;
    }
    record(&app, acme, "contact", "C-1", json!({ "name": "c" })).await;
    let merge = app
        .call_with(
            Method::POST,
            "/api/data/merge",
            &root,
            Some(json!({ "survivor_id": survivor, "merged_ids": [merged], "confirm": "merge 1 into T-0" })),
            &[("x-steward-scope", &scope)],
        )
        .await;
    assert_eq!(merge.status, StatusCode::OK, "{:?}", merge.body);
    let selection = json!({ "filters": [{ "column": "entity_type", "op": "eq", "value": "ticket" }] });
    let batch = |body: Value| batch_records(&app, &root, &scope, body);
    let dry = batch(json!({ "action": "delete", "selection": selection, "dry_run": true })).await;
    assert_eq!(dry.status, StatusCode::OK, "{:?}", dry.body);
    assert_eq!(dry.body["matched"], 8);
    assert_eq!(dry.body["affected"].as_array().unwrap().len(), 7);
    assert_eq!(dry.body["skipped"][0]["id"], json!(survivor), "a survivor keeps its merged records");
    assert_eq!(dry.body["confirm_phrase"], "delete 7 records");
    let unconfirmed = batch(json!({ "action": "delete", "selection": selection, "confirm": "delete 8 records" })).await;
    assert_eq!(unconfirmed.body["errors"][0]["field"], "confirm");
    let real = batch(json!({ "action": "delete", "selection": selection, "confirm": "delete 7 records" })).await;
    assert_eq!(real.status, StatusCode::OK, "{:?}", real.body);
    assert_eq!(real.body["affected"], dry.body["affected"]);
    assert_eq!(real.body["skipped"], dry.body["skipped"]);
    let left = query(
        &app,
        &root,
        &scope,
        "records",
        json!({ "filters": [{ "column": "entity_type", "op": "eq", "value": "ticket" }] }),
    )
    .await;
    assert_eq!(ids(&left.body), [survivor.to_string()]);
    // An edit skips the rows that already hold the values, and an invalid value fails whole.
    let edit = batch(json!({ "action": "edit", "selection": {}, "set": { "source": "erp" }, "dry_run": true })).await;
    assert_eq!(edit.body["affected"].as_array().unwrap().len(), 2, "{:?}", edit.body);
    let wrong =
        batch(json!({ "action": "edit", "selection": {}, "set": { "entity_type": "x" }, "dry_run": true })).await;
    assert_eq!(wrong.body["errors"][0]["field"], "set.entity_type");
    let done =
        batch(json!({ "action": "edit", "selection": {}, "set": { "source": "erp" }, "confirm": "edit 2 records" }))
            .await;
    assert_eq!(done.body["affected"], edit.body["affected"]);
    let again = batch(json!({ "action": "edit", "selection": {}, "set": { "source": "erp" }, "dry_run": true })).await;
    assert_eq!(again.body["affected"], json!([]));
    let customers = batch(json!({ "action": "delete", "selection": {}, "dry_run": true })).await;
    assert_eq!(customers.status, StatusCode::OK);
    let res = app
        .call_with(
            Method::POST,
            "/api/explorer/tables/customers/batch",
            &root,
            Some(json!({ "action": "delete", "selection": {}, "dry_run": true })),
            &[("x-steward-scope", &scope)],
        )
        .await;
    assert_eq!(res.body["errors"][0]["field"], "action");
    let audit = app
        .call_with(Method::GET, "/api/audit?action=data.batch.delete", &root, None, &[("x-steward-scope", "all")])
        .await;
    assert_eq!(audit.body["items"][0]["summary"]["count"], 7);
}

async fn merge_moves_every_reference_and_undo_restores(app: TestApp) {
    let root = app.setup_admin().await;
    let (acme, _) = app.customer("Acme", "tenant").await;
    let (globex, _) = app.customer("Globex", "tenant").await;
    let scope = scoped(acme);
    let same = json!({ "name": "Acme Corp", "domain": "acme.test" });
    let a1 = record(&app, acme, "account", "ACC-1", same.clone()).await;
    let a2 = record(&app, acme, "account", "acc-2", same.clone()).await;
    let a3 = record(&app, acme, "account", "ACC-3", json!({ "domain": "acme.test", "name": "Acme Corp" })).await;
    let contact = record(&app, acme, "contact", "C-1", json!({ "name": "Ada" })).await;
    let l1 = link(&app, acme, contact, a2).await;
    let l2 = link(&app, acme, a3, contact).await;
    let l3 = link(&app, acme, contact, a1).await;
    let foreign = record(&app, globex, "account", "ACC-1", same.clone()).await;
    let warnings =
        app.call_with(Method::GET, "/api/data/hash-warnings", &root, None, &[("x-steward-scope", &scope)]).await;
    let account =
        warnings.body["items"].as_array().unwrap().iter().find(|w| w["entity_type"] == "account").unwrap().clone();
    assert_eq!(
        (account["records"].as_u64(), account["distinct_hashes"].as_u64()),
        (Some(3), Some(1)),
        "key order does not matter"
    );
    let groups = app
        .call_with(Method::GET, "/api/data/duplicates?entity_type=account", &root, None, &[("x-steward-scope", &scope)])
        .await;
    assert_eq!(groups.body["items"].as_array().unwrap().len(), 1, "{:?}", groups.body);
    assert_eq!(groups.body["items"][0]["count"], 3);
    assert_eq!(groups.body["items"][0]["records"][0]["id"], json!(a1), "oldest first");
    let merge = |body: Value| {
        let (app, root, scope) = (&app, &root, &scope);
        async move { app.call_with(Method::POST, "/api/data/merge", root, Some(body), &[("x-steward-scope", scope)]).await }
    };
    let cross = merge(json!({ "survivor_id": a1, "merged_ids": [foreign], "dry_run": true })).await;
    assert_eq!(cross.body["errors"][0]["field"], "merged_ids[0]", "another customer's record is not in scope");
    let other_type = merge(json!({ "survivor_id": a1, "merged_ids": [contact], "dry_run": true })).await;
    assert_eq!(other_type.body["errors"][0]["field"], "merged_ids[0]");
    // The spec says `uniqueItems`: a record named twice is refused, not folded.
    let twice = merge(json!({ "survivor_id": a1, "merged_ids": [a2, a2], "dry_run": true })).await;
    assert_eq!(
        (twice.status, twice.body["errors"][0]["field"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("merged_ids"))
    );
    let dry = merge(json!({ "survivor_id": a1, "merged_ids": [a2, a3], "dry_run": true })).await;
    assert_eq!(dry.status, StatusCode::OK, "{:?}", dry.body);
    assert_eq!(dry.body["moved"].as_array().unwrap().len(), 2);
    assert_eq!(dry.body["confirm_phrase"], "merge 2 into ACC-1");
    let unconfirmed = merge(json!({ "survivor_id": a1, "merged_ids": [a2, a3] })).await;
    assert_eq!(unconfirmed.body["errors"][0]["field"], "confirm");
    let done = merge(json!({ "survivor_id": a1, "merged_ids": [a2, a3], "confirm": "merge 2 into ACC-1" })).await;
    assert_eq!(done.status, StatusCode::OK, "{:?}", done.body);
    assert_eq!(done.body["moved"], dry.body["moved"]);
    let db = app.db().clone();
    let get = |id: Uuid| {
        let db = db.clone();
        async move { records::Entity::find_by_id(id).one(&db).await.unwrap().unwrap() }
    };
    assert_eq!((get(a2).await.merged_into, get(a3).await.merged_into), (Some(a1), Some(a1)));
    let link_of = |id: Uuid| {
        let db = db.clone();
        async move { record_links::Entity::find_by_id(id).one(&db).await.unwrap().unwrap() }
    };
    assert_eq!(link_of(l1).await.to_id, a1);
    assert_eq!(link_of(l2).await.from_id, a1);
    assert_eq!(link_of(l3).await.to_id, a1);
    let warnings =
        app.call_with(Method::GET, "/api/data/hash-warnings", &root, None, &[("x-steward-scope", &scope)]).await;
    let account =
        warnings.body["items"].as_array().unwrap().iter().find(|w| w["entity_type"] == "account").unwrap().clone();
    assert_eq!(account["duplicates"], 0, "merged records no longer count");
    let again = merge(json!({ "survivor_id": a1, "merged_ids": [a2], "dry_run": true })).await;
    assert_eq!(
        (again.status, again.problem(), again.body["errors"][0]["field"].as_str()),
        (StatusCode::CONFLICT, "merge_conflict", Some("merged_ids[0]")),
        "already merged: {:?}",
        again.body
    );
    let merged_survivor = merge(json!({ "survivor_id": a2, "merged_ids": [a1], "dry_run": true })).await;
    assert_eq!(
        (merged_survivor.status, merged_survivor.body["errors"][0]["field"].as_str()),
        (StatusCode::CONFLICT, Some("survivor_id")),
        "{:?}",
        merged_survivor.body
    );
    let merges = app.call_with(Method::GET, "/api/data/merges", &root, None, &[("x-steward-scope", &scope)]).await;
    assert_eq!(merges.body["items"][0]["undoable"], true);
    assert_eq!(merges.body["items"][0]["links_moved"], 2);
    let merge_id = done.body["merge_id"].as_str().unwrap();
    let undo_url = format!("/api/data/merges/{merge_id}/undo");
    let undo = app
        .call_with(
            Method::POST,
            &undo_url,
            &root,
            Some(json!({ "confirm": "undo merge into ACC-1" })),
            &[("x-steward-scope", &scope)],
        )
        .await;
    assert_eq!(undo.status, StatusCode::OK, "{:?}", undo.body);
    assert_eq!((get(a2).await.merged_into, get(a3).await.merged_into), (None, None));
    assert_eq!(link_of(l1).await.to_id, a2);
    assert_eq!(link_of(l2).await.from_id, a3);
    assert_eq!(link_of(l3).await.to_id, a1, "a link that pointed at the survivor stays");
    let twice = app
        .call_with(
            Method::POST,
            &undo_url,
            &root,
            Some(json!({ "confirm": "undo merge into ACC-1" })),
            &[("x-steward-scope", &scope)],
        )
        .await;
    assert_eq!(twice.problem(), "already_undone");
    let audit =
        app.call_with(Method::GET, "/api/audit?action=data.merge", &root, None, &[("x-steward-scope", "all")]).await;
    assert_eq!(audit.body["items"][0]["summary"]["links_moved"], 2);
    // Past the window, undo is gone.
    let late = TestApp::of_kind_with(app.kind, |c| c.unmerge_window_hours = 0).await;
    let root2 = late.setup_admin().await;
    let (c, _) = late.customer("Acme", "tenant").await;
    let x = record(&late, c, "order", "O-1", json!({ "name": "o" })).await;
    let y = record(&late, c, "order", "O-2", json!({ "name": "o" })).await;
    let done = late
        .call_with(
            Method::POST,
            "/api/data/merge",
            &root2,
            Some(json!({ "survivor_id": x, "merged_ids": [y], "confirm": "merge 1 into O-1" })),
            &[("x-steward-scope", &scoped(c))],
        )
        .await;
    let url = format!("/api/data/merges/{}/undo", done.body["merge_id"].as_str().unwrap());
    let res = late
        .call_with(
            Method::POST,
            &url,
            &root2,
            Some(json!({ "confirm": "undo merge into O-1" })),
            &[("x-steward-scope", &scoped(c))],
        )
        .await;
    assert_eq!((res.status, res.problem()), (StatusCode::GONE, "undo_window_passed"));
}

async fn refresh_recomputes_derived_fields(app: TestApp) {
    let root = app.setup_admin().await;
    let (acme, _) = app.customer("Acme", "tenant").await;
    let scope = scoped(acme);
    let id = record(&app, acme, "order", " O-1 ", json!({ "name": "o" })).await;
    // Derived fields gone stale (written around the server).
    let row = records::Entity::find_by_id(id).one(app.db()).await.unwrap().unwrap();
    let mut active: records::ActiveModel = row.into();
    active.content_hash = Set(Some("stale".into()));
    active.update(app.db()).await.unwrap();
    let before = app.call_with(Method::GET, "/api/dashboard", &root, None, &[("x-steward-scope", &scope)]).await;
    assert_eq!(before.status, StatusCode::OK);
    let url = format!("/api/records/{id}/refresh");
    let dry = app
        .call_with(Method::POST, &url, &root, Some(json!({ "dry_run": true })), &[("x-steward-scope", &scope)])
        .await;
    assert_eq!(dry.body["changed"], json!(["content_hash"]), "{:?}", dry.body);
    assert_eq!(dry.body["confirm_phrase"], "refresh  O-1 ");
    let done = app
        .call_with(
            Method::POST,
            &url,
            &root,
            Some(json!({ "confirm": "refresh  O-1 " })),
            &[("x-steward-scope", &scope)],
        )
        .await;
    assert_eq!(done.status, StatusCode::OK, "{:?}", done.body);
    assert!(done.body["record"]["refreshed_at"].is_string());
    assert_eq!(
        done.body["record"]["content_hash"],
        steward_backend::data::records::content_hash(&json!({ "name": "o" }))
    );
    let epochs = steward_backend::store::entities::cache_epochs::Entity::find_by_id(acme).one(app.db()).await.unwrap();
    assert!(epochs.is_some_and(|e| e.epoch >= 1), "the customer's caches were invalidated");
    let foreign = app
        .call_with(Method::POST, &url, &root, Some(json!({ "dry_run": true })), &[("x-steward-scope", "tenant")])
        .await;
    assert_eq!(foreign.status, StatusCode::NOT_FOUND);
    let audit =
        app.call_with(Method::GET, "/api/audit?action=data.refresh", &root, None, &[("x-steward-scope", "all")]).await;
    assert_eq!(audit.body["items"][0]["summary"]["before"]["content_hash"], "stale");
}

async fn hash_warnings_follow_every_write(app: TestApp) {
    let root = app.setup_admin().await;
    let (acme, _) = app.customer("Acme", "tenant").await;
    let (globex, _) = app.customer("Globex", "tenant").await;
    let scope = scoped(acme);
    let mut ids = Vec::new();
    for i in 0..10 {
        ids.push(record(&app, acme, "invoice", &format!("I-{i}"), json!({ "name": format!("n{}", i % 4) })).await);
    }
    record(&app, acme, "order", "O-1", json!({ "name": "a" })).await;
    record(&app, globex, "invoice", "I-1", json!({ "name": "n0" })).await;
    // The records list: the scope's own, of the type asked, by keyset pages.
    let (mut listed, mut cursor) = (Vec::new(), None::<String>);
    loop {
        let path = match &cursor {
            Some(c) => format!("/api/records?entity_type=invoice&limit=4&cursor={c}"),
            None => "/api/records?entity_type=invoice&limit=4".into(),
        };
        let page = app.call_with(Method::GET, &path, &root, None, &[("x-steward-scope", &scope)]).await;
        assert_eq!(page.status, StatusCode::OK, "{:?}", page.body);
        for row in page.body["items"].as_array().unwrap() {
            assert_eq!(
                (row["customer_id"].as_str(), row["entity_type"].as_str()),
                (Some(&*acme.to_string()), Some("invoice"))
            );
            listed.push(row["id"].as_str().unwrap().to_owned());
        }
        match page.body["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => break,
        }
    }
    listed.sort();
    let mut expected: Vec<String> = ids.iter().map(ToString::to_string).collect();
    expected.sort();
    assert_eq!(listed, expected, "every invoice of Acme once, none of Globex");
    let read = |scope: String| {
        let (app, root) = (&app, &root);
        async move {
            app.call_with(Method::GET, "/api/data/hash-warnings", root, None, &[("x-steward-scope", &scope)]).await.body
                ["items"]
                .clone()
        }
    };
    let w = read(scope.clone()).await;
    assert_eq!(w[0]["entity_type"], "invoice", "worst first: {w}");
    assert_eq!(
        (w[0]["records"].as_u64(), w[0]["distinct_hashes"].as_u64(), w[0]["duplicates"].as_u64()),
        (Some(10), Some(4), Some(6))
    );
    assert!((w[0]["distinct_share"].as_f64().unwrap() - 0.4).abs() < 1e-9);
    assert_eq!(w[1]["distinct_share"], 1.0);
    let all = read("all".into()).await;
    assert_eq!(all[0]["records"], 11);
    // A payload edit, a delete and an insert move the counts as they happen.
    let url = format!("/api/explorer/tables/records/rows/{}", ids[0]);
    let res = app
        .call_with(
            Method::PATCH,
            &url,
            &root,
            Some(json!({ "set": { "payload": { "name": "unique" } }, "expect": { "payload": { "name": "n0" } } })),
            &[("x-steward-scope", &scope)],
        )
        .await;
    assert_eq!(res.status, StatusCode::OK, "{:?}", res.body);
    records::Entity::delete_by_id(ids[1]).exec(app.db()).await.unwrap();
    let w = read(scope.clone()).await;
    assert_eq!((w[0]["records"].as_u64(), w[0]["distinct_hashes"].as_u64()), (Some(9), Some(5)), "{w}");
    let rows = records::Entity::find().all(app.db()).await.unwrap();
    let live: Vec<_> = rows
        .iter()
        .filter(|r| r.customer_id == acme && r.entity_type == "invoice" && r.merged_into.is_none())
        .collect();
    let distinct: std::collections::BTreeSet<_> = live.iter().map(|r| r.content_hash.clone()).collect();
    assert_eq!((live.len(), distinct.len()), (9, 5), "the counts match a full scan");
}

async fn view_as_shows_exactly_the_targets_rows(app: TestApp) {
    let root = app.setup_admin().await;
    let (acme, home) = app.customer("Acme", "tenant").await;
    let other_ws = app.workspace(acme, "Other").await;
    let (globex, gws) = app.customer("Globex", "tenant").await;
    let role = app.role(acme, home, &["steward.flows.view"]).await;
    let target = app.user_with_role(acme, home, role).await;
    let mut flows = Vec::new();
    for (cust, ws) in [(acme, home), (acme, other_ws), (globex, gws)] {
        let res = app
            .call_with(
                Method::POST,
                "/api/flows",
                &root,
                Some(json!({ "workspace_id": ws, "name": format!("F {ws}") })),
                &[("x-steward-scope", &scoped(cust))],
            )
            .await;
        assert_eq!(res.status, StatusCode::CREATED, "{:?}", res.body);
        flows.push(res.body["id"].as_str().unwrap().to_owned());
    }
    record(&app, acme, "contact", "C-1", json!({ "name": "c" })).await;
    let started =
        app.post("/api/impersonation", Some(&root), json!({ "user_id": target.user_id, "reason": "support" })).await;
    assert!(started.status.is_success(), "{:?}", started.body);
    let tables = app.get("/api/explorer/tables", Some(&root)).await;
    assert_eq!(tables.body["viewing_as"]["user_id"], json!(target.user_id));
    let names: Vec<&str> =
        tables.body["tables"].as_array().unwrap().iter().map(|t| t["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["customers", "workspaces", "flows"], "only what the target may see");
    let page = app.call(Method::POST, "/api/explorer/tables/flows/query", Some(&root), Some(json!({}))).await;
    assert_eq!(page.status, StatusCode::OK, "{:?}", page.body);
    assert_eq!(ids(&page.body), [flows[0].clone()], "their workspace's flow, not the other workspace's nor Globex's");
    let customers = app.call(Method::POST, "/api/explorer/tables/customers/query", Some(&root), Some(json!({}))).await;
    assert_eq!(ids(&customers.body), [acme.to_string()]);
    let records = app.call(Method::POST, "/api/explorer/tables/records/query", Some(&root), Some(json!({}))).await;
    assert_eq!(records.status, StatusCode::FORBIDDEN);
    let wider = app
        .call_with(
            Method::POST,
            "/api/explorer/tables/flows/query",
            &root,
            Some(json!({})),
            &[("x-steward-scope", "all")],
        )
        .await;
    assert_eq!(wider.status, StatusCode::FORBIDDEN, "the target has no cross-tenant right");
    let edit = app
        .call(
            Method::PATCH,
            &format!("/api/explorer/tables/flows/rows/{}", flows[0]),
            Some(&root),
            Some(json!({ "set": { "name": "x" }, "expect": { "name": format!("F {home}") } })),
        )
        .await;
    assert_eq!(edit.problem(), "super_admin_required", "read-only while viewing as");
    let _ = ADMIN_PASSWORD;
}

/// Reads server-sent events until one whose data contains `needle`, or gives up after 15 s.
async fn sse_until(body: Body, needle: &str) -> Result<String, String> {
    let mut body = body;
    let mut seen = String::new();
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(15);
    loop {
        let frame =
            tokio::time::timeout_at(deadline, body.frame()).await.map_err(|_| format!("timed out; saw {seen:?}"))?;
        let Some(Ok(frame)) = frame else { return Err(format!("stream ended; saw {seen:?}")) };
        if let Ok(data) = frame.into_data() {
            seen.push_str(&String::from_utf8_lossy(&data));
            if seen.contains(needle) {
                return Ok(seen);
            }
        }
    }
}

async fn live_updates_reach_a_second_router(app: TestApp) {
    let root = app.setup_admin().await;
    let (acme, ws) = app.customer("Acme", "tenant").await;
    let scope = scoped(acme);
    let flow = app
        .call_with(
            Method::POST,
            "/api/flows",
            &root,
            Some(json!({ "workspace_id": ws, "name": "Sync" })),
            &[("x-steward-scope", &scope)],
        )
        .await;
    let fid = flow.body["id"].as_str().unwrap().to_owned();
    // A second replica: its own state and pool on the same database.
    let state2 = steward_backend::prepare((*app.state.config).clone()).await.unwrap();
    let router2 = steward_backend::app(state2).unwrap();
    let req = Request::builder()
        .uri("/api/explorer/changes?table=flows")
        .header(header::AUTHORIZATION, format!("Bearer {root}"))
        .header("x-steward-scope", &scope)
        .body(Body::empty())
        .unwrap();
    let res = router2.oneshot(req).await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let edit = app
        .call_with(
            Method::PATCH,
            &format!("/api/explorer/tables/flows/rows/{fid}"),
            &root,
            Some(json!({ "set": { "name": "Sync 2" }, "expect": { "name": "Sync" } })),
            &[("x-steward-scope", &scope)],
        )
        .await;
    assert_eq!(edit.status, StatusCode::OK, "{:?}", edit.body);
    let seen = sse_until(res.into_body(), &fid).await.unwrap();
    assert!(seen.contains("event: change") && seen.contains("\"op\":\"update\""), "{seen}");
    crate::examples::record_stream("/api/explorer/changes", &seen);
    // Another customer's changes do not reach a stream scoped to Acme.
    let (globex, gws) = app.customer("Globex", "tenant").await;
    let req = Request::builder()
        .uri("/api/explorer/changes")
        .header(header::AUTHORIZATION, format!("Bearer {root}"))
        .header("x-steward-scope", &scope)
        .body(Body::empty())
        .unwrap();
    let state3 = steward_backend::prepare((*app.state.config).clone()).await.unwrap();
    let res = steward_backend::app(state3).unwrap().oneshot(req).await.unwrap();
    app.call_with(
        Method::POST,
        "/api/flows",
        &root,
        Some(json!({ "workspace_id": gws, "name": "Theirs" })),
        &[("x-steward-scope", &scoped(globex))],
    )
    .await;
    let mine = app
        .call_with(
            Method::POST,
            "/api/flows",
            &root,
            Some(json!({ "workspace_id": ws, "name": "Mine" })),
            &[("x-steward-scope", &scope)],
        )
        .await;
    let mine = mine.body["id"].as_str().unwrap().to_owned();
    let seen = sse_until(res.into_body(), &mine).await.unwrap();
    assert!(!seen.contains(&globex.to_string()), "{seen}");
}

async fn migrations_report_their_checksums(app: TestApp) {
    let root = app.setup_admin().await;
    let res = app.get("/api/data/migrations", Some(&root)).await;
    assert_eq!(res.status, StatusCode::OK);
    let all = res.body["items"].as_array().unwrap();
    assert!(all.len() >= 10);
    assert!(
        all.iter()
            .all(|m| m["state"] == "applied" && m["applied_checksum"] == m["checksum"] && m["applied_at"].is_string()),
        "{all:?}"
    );
    use sea_orm::ConnectionTrait;
    app.db()
        .execute_unprepared(
            "UPDATE migration_checksums SET checksum = 'edited' WHERE version = 'm20261122_000001_domain'",
        )
        .await
        .unwrap();
    let res = app.get("/api/data/migrations", Some(&root)).await;
    assert_eq!(res.body["items"][0]["state"], "changed");
}

/// Rows the planner believes `records` holds: PostgreSQL's estimate from its last analysis (-1:
/// never analysed), SQLite's row count in `sqlite_stat1` (0: no statistics).
async fn planned_rows(app: &TestApp) -> i64 {
    use sea_orm::ConnectionTrait;
    let backend = app.db().get_database_backend();
    let sql = match backend {
        sea_orm::DbBackend::Postgres => "SELECT reltuples::bigint AS n FROM pg_class WHERE oid = 'records'::regclass",
        _ => {
            let has_stats = "SELECT count(*) AS n FROM sqlite_master WHERE name = 'sqlite_stat1'";
            let row = app.db().query_one_raw(sea_orm::Statement::from_string(backend, has_stats)).await.unwrap();
            if row.unwrap().try_get::<i64>("", "n").unwrap() == 0 {
                return 0;
            }
            // `stat` starts with the table's row count (for an index entry, the index's).
            "SELECT coalesce(max(CAST(stat AS INTEGER)), 0) AS n FROM sqlite_stat1 WHERE tbl = 'records'"
        }
    };
    let row = app.db().query_one_raw(sea_orm::Statement::from_string(backend, sql)).await.unwrap().unwrap();
    row.try_get::<i64>("", "n").unwrap()
}

/// A batch edit of a thousand rows leaves the planner knowing them: the next query is planned
/// for the table as it is, not as it was before the write (issue 35).
async fn a_large_batch_leaves_the_planner_statistics_current(app: TestApp) {
    let root = app.setup_admin().await;
    let (acme, _) = app.customer("Acme", "tenant").await;
    let scope = scoped(acme);
    let rows: Vec<records::ActiveModel> = (0..1_000)
        .map(|i| record_row(acme, "lead", &format!("L-{i}"), json!({ "name": format!("lead {i}") })))
        .collect();
    for chunk in rows.chunks(200) {
        records::Entity::insert_many(chunk.to_vec()).exec(app.db()).await.unwrap();
    }
    let small = planned_rows(&app).await;
    assert!(small < 1_000, "written around the server, unanalysed: {small}");
    let selection = json!({ "filters": [{ "column": "entity_type", "op": "eq", "value": "lead" }] });
    let batch = |body: Value| batch_records(&app, &root, &scope, body);
    let body = json!({ "action": "edit", "selection": selection, "set": { "source": "import" }, "dry_run": true });
    let dry = batch(body.clone()).await;
    assert_eq!(dry.body["confirm_phrase"], "edit 1000 records", "{:?}", dry.body);
    let mut body = body;
    body["dry_run"] = json!(false);
    body["confirm"] = json!("edit 1000 records");
    let done = batch(body).await;
    assert_eq!((done.status, done.body["affected"].as_array().map(Vec::len)), (StatusCode::OK, Some(1_000)));
    let known = planned_rows(&app).await;
    assert!(known >= 1_000, "the planner knows the thousand rows after the batch: {known}");
    // The event keeps the first hundred rows' earlier values; the list leaves that long `before`
    // out and names it, the event alone gives it whole.
    let listed = app
        .call_with(Method::GET, "/api/audit?action=data.batch.edit", &root, None, &[("x-steward-scope", &scope)])
        .await;
    let event = &listed.body["items"][0];
    assert_eq!(event["summary_omitted"], json!(["before"]), "{event:?}");
    assert_eq!((event["summary"]["count"].as_u64(), event["summary"].get("before")), (Some(1_000), None), "{event:?}");
    let whole = app.get(&format!("/api/audit/{}", event["seq"]), Some(&root)).await;
    assert_eq!(whole.status, StatusCode::OK, "{:?}", whole.body);
    assert_eq!(whole.body["summary_omitted"], json!([]));
    assert_eq!(whole.body["summary"]["before"].as_array().map(Vec::len), Some(100));
    assert_eq!(whole.body["summary"]["before"][0]["source"], "crm");
    assert_eq!((&whole.body["summary"]["set"], &whole.body["hash"]), (&event["summary"]["set"], &event["hash"]));
}

/// A batch edit is one statement for all its rows: what it derives (the payload's hash, the
/// time of the change) comes from the new values, and what it does not touch (each row's own
/// external key) stays each row's.
async fn a_batch_edit_derives_what_its_values_change(app: TestApp) {
    let root = app.setup_admin().await;
    let (acme, _) = app.customer("Acme", "tenant").await;
    let scope = scoped(acme);
    let mut edited = Vec::new();
    for i in 0..3 {
        edited.push(record(&app, acme, "lead", &format!(" L-{i} "), json!({ "name": format!("lead {i}") })).await);
    }
    let other = record(&app, acme, "ticket", "T-1", json!({ "name": "t" })).await;
    let before = records::Entity::find_by_id(other).one(app.db()).await.unwrap().unwrap();
    let payload = json!({ "name": "one for all" });
    let selection = json!({ "filters": [{ "column": "entity_type", "op": "eq", "value": "lead" }] });
    let done = batch_records(
        &app,
        &root,
        &scope,
        json!({ "action": "edit", "selection": selection, "set": { "payload": payload }, "confirm": "edit 3 records" }),
    )
    .await;
    assert_eq!(done.status, StatusCode::OK, "{:?}", done.body);
    for (i, id) in edited.iter().enumerate() {
        let row = records::Entity::find_by_id(*id).one(app.db()).await.unwrap().unwrap();
        assert_eq!(row.payload, payload);
        assert_eq!(row.content_hash, Some(steward_backend::data::records::content_hash(&payload)));
        assert_eq!(row.external_key, Some(format!("l-{i}")), "each row keeps its own key");
        assert!(row.updated_at > before.updated_at);
    }
    let untouched = records::Entity::find_by_id(other).one(app.db()).await.unwrap().unwrap();
    assert_eq!(untouched, before, "a row outside the selection is left alone");
}
