//! First launch: exactly one setup call, validated, never half-written.

use axum::http::StatusCode;
use sea_orm::{EntityTrait, PaginatorTrait};
use serde_json::json;
use steward_backend::store::entities::{customers, user_roles, users, workspaces};

use crate::harness::{TestApp, ADMIN_EMAIL, ADMIN_PASSWORD};
use crate::on_both;

on_both!(setup_creates_platform_and_super_admin_once, setup_validates_every_field, concurrent_setup_creates_one_admin);

async fn setup_creates_platform_and_super_admin_once(app: TestApp) {
    assert_eq!(app.get("/api/setup", None).await.body["needs_setup"], true);
    let token = app.setup_admin().await;
    assert_eq!(app.get("/api/setup", None).await.body["needs_setup"], false);

    let me = app.get("/api/me", Some(&token)).await;
    assert_eq!(me.status, StatusCode::OK);
    assert_eq!(me.body["email"], ADMIN_EMAIL);
    assert_eq!(me.body["super_admin"], true);
    assert_eq!(me.body["admin_console"], true);
    assert_eq!(me.body["customer"]["kind"], "platform");
    assert!(me.body["home_workspace"]["id"].is_string());

    let again = app
        .post("/api/setup", None, json!({ "email": "intruder@example.com", "password": ADMIN_PASSWORD, "name": "X" }))
        .await;
    assert_eq!(again.status, StatusCode::CONFLICT);
    assert_eq!(again.problem(), "setup_done");
    assert_eq!(users::Entity::find().count(app.db()).await.unwrap(), 1);
    assert_eq!(customers::Entity::find().count(app.db()).await.unwrap(), 1);
    assert_eq!(workspaces::Entity::find().count(app.db()).await.unwrap(), 1);
    assert_eq!(user_roles::Entity::find().count(app.db()).await.unwrap(), 1);
    // The intruder cannot log in either.
    assert_eq!(app.login("intruder@example.com", ADMIN_PASSWORD).await.status, StatusCode::UNAUTHORIZED);
}

async fn setup_validates_every_field(app: TestApp) {
    let res = app
        .post("/api/setup", None, json!({ "email": "not-an-email", "password": "short", "name": "x".repeat(201) }))
        .await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(res.problem(), "validation_failed");
    let fields: Vec<&str> =
        res.body["errors"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap()).collect();
    assert_eq!(fields, ["email", "password", "name"]);
    assert_eq!(res.headers["content-type"], "application/problem+json");

    let blank = app
        .post("/api/setup", None, json!({ "email": "a@example.com", "password": ADMIN_PASSWORD, "name": "   " }))
        .await;
    assert_eq!(blank.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(blank.body["errors"][0]["field"], "name");

    // Nothing was written: setup is still open.
    assert_eq!(users::Entity::find().count(app.db()).await.unwrap(), 0);
    assert_eq!(customers::Entity::find().count(app.db()).await.unwrap(), 0);
    assert_eq!(app.get("/api/setup", None).await.body["needs_setup"], true);
}

async fn concurrent_setup_creates_one_admin(app: TestApp) {
    let calls = (0..4).map(|i| {
        app.post(
            "/api/setup",
            None,
            json!({ "email": format!("admin{i}@example.com"), "password": ADMIN_PASSWORD, "name": "A" }),
        )
    });
    let results = futures::future::join_all(calls).await;
    let created = results.iter().filter(|r| r.status == StatusCode::CREATED).count();
    let refused = results.iter().filter(|r| r.status == StatusCode::CONFLICT && r.problem() == "setup_done").count();
    assert_eq!(
        (created, refused),
        (1, 3),
        "{:?}",
        results.iter().map(|r| (r.status, r.body.clone())).collect::<Vec<_>>()
    );
    assert_eq!(users::Entity::find().count(app.db()).await.unwrap(), 1);
    assert_eq!(customers::Entity::find().count(app.db()).await.unwrap(), 1);
}

#[tokio::test]
async fn an_unreachable_database_fails_fast_and_says_where() {
    let dir = tempfile::tempdir().unwrap();
    let mut config =
        steward_backend::Config::for_tests("postgres://steward:secret@127.0.0.1:9/steward".into(), dir.path().into());
    config.db_timeout_secs = 2;
    let started = std::time::Instant::now();
    let err = steward_backend::prepare(config).await.err().expect("no database there");
    let message = err.to_string();
    assert!(started.elapsed() < std::time::Duration::from_secs(15), "took {:?}", started.elapsed());
    assert!(
        message.contains("cannot connect to the database at postgres://steward:***@127.0.0.1:9/steward"),
        "{message}"
    );
    assert!(!message.contains("secret"), "{message}");
}
