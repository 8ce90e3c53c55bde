//! Inputs that broke rules when Steward was probed from outside: bodies that are not objects,
//! control characters in text and query parameters. Each answers a 422 naming the field, and
//! nothing reaches the database.

use crate::harness::TestApp;
use crate::on_both;
use axum::http::StatusCode;
use serde_json::json;

on_both!(bodies_must_be_objects, control_characters_never_reach_the_database);

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
