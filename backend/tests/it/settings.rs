//! Settings changed at run time (issue 34), attacked: bounds named by field, the pair rule
//! (an access token never outlives its session), audit with before and after, a second
//! replica applying a change within its one-second cache, the password rule (length and the
//! common passwords list), and `null` returning a setting to its boot value.

use axum::http::StatusCode;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};
use serde_json::{json, Value};
use steward_backend::roles::SYSTEM_VIEWER_ROLE;
use steward_backend::store::entities::audit_events;

use crate::harness::{TestApp, ADMIN_EMAIL, ADMIN_PASSWORD};
use crate::on_both;

on_both!(settings_change_at_run_time_everywhere, bad_settings_are_refused_by_field, the_password_rule_is_the_setting);

async fn patch(app: &TestApp, token: &str, body: Value) -> crate::harness::Response {
    app.patch("/api/settings", Some(token), body).await
}

async fn settings_change_at_run_time_everywhere(app: TestApp) {
    let admin = app.setup_admin().await;
    let replica_state = steward_backend::prepare((*app.state.config).clone()).await.unwrap();
    let replica = steward_backend::identity::runtime::effective(&replica_state).await.unwrap();
    assert_eq!(replica.access_token_ttl_secs, app.state.config.access_token_ttl_secs, "the boot value");

    let view = app.get("/api/settings", Some(&admin)).await;
    assert_eq!(view.status, StatusCode::OK);
    assert_eq!(view.body["effective"], view.body["defaults"]);
    assert_eq!(view.body["overridden"], json!([]));

    let res = patch(
        &app,
        &admin,
        json!({ "access_token_ttl_secs": 120, "impersonation_minutes": 5, "two_factor_required_for_admins": false }),
    )
    .await;
    assert_eq!(res.status, StatusCode::OK, "{:?}", res.body);
    assert_eq!(res.body["effective"]["access_token_ttl_secs"], 120);
    assert_eq!(res.body["defaults"]["access_token_ttl_secs"], app.state.config.access_token_ttl_secs);
    let mut overridden: Vec<String> = serde_json::from_value(res.body["overridden"].clone()).unwrap();
    overridden.sort();
    assert_eq!(overridden, ["access_token_ttl_secs", "impersonation_minutes", "two_factor_required_for_admins"]);

    // This replica at once: a sign-in gets the new lifetime.
    let login = app.login(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    assert_eq!(login.body["expires_in"], 120);
    // The other replica once its cache (one second) lapses.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    loop {
        let now = steward_backend::identity::runtime::effective(&replica_state).await.unwrap();
        if now.access_token_ttl_secs == 120 && now.impersonation_minutes == 5 {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "the second replica never applied the change");
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }

    // Audited with before and after, of what changed only (the 2FA policy stayed off).
    let event = audit_events::Entity::find()
        .filter(audit_events::Column::Action.eq("settings.update"))
        .order_by_desc(audit_events::Column::Seq)
        .one(app.db())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        event.summary,
        json!({
            "before": { "access_token_ttl_secs": app.state.config.access_token_ttl_secs, "impersonation_minutes": app.state.config.impersonation_minutes },
            "after": { "access_token_ttl_secs": 120, "impersonation_minutes": 5 },
        })
    );

    // The Configuration page says where the value in effect came from.
    let config = app.get("/api/system/config", Some(&admin)).await;
    let row = config.body["settings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == "access_token_ttl_secs")
        .unwrap()
        .clone();
    assert_eq!((row["value"].as_str(), row["source"].as_str()), (Some("120"), Some("settings")), "{row:?}");

    // `null` returns a setting to its boot value.
    let res = patch(&app, &admin, json!({ "access_token_ttl_secs": null })).await;
    assert_eq!(res.body["effective"]["access_token_ttl_secs"], app.state.config.access_token_ttl_secs);
    assert!(!res.body["overridden"].as_array().unwrap().contains(&json!("access_token_ttl_secs")));

    // Only super admins change them: a holder of every delegable leaf is refused.
    let holder = app.principal(&["steward.*"]).await;
    assert_eq!(patch(&app, &holder.token, json!({ "impersonation_minutes": 60 })).await.status, StatusCode::FORBIDDEN);
    assert_eq!(app.get("/api/settings", Some(&holder.token)).await.status, StatusCode::FORBIDDEN);
}

async fn bad_settings_are_refused_by_field(app: TestApp) {
    let admin = app.setup_admin().await;
    for (body, field) in [
        (json!({ "session_ttl_secs": 10 }), "session_ttl_secs"),
        (json!({ "access_token_ttl_secs": 5 }), "access_token_ttl_secs"),
        (json!({ "impersonation_minutes": 0 }), "impersonation_minutes"),
        (json!({ "password_min_length": 4 }), "password_min_length"),
        (json!({ "password_min_length": 500 }), "password_min_length"),
        // An access token may not outlive its session, whichever of the two is changed.
        (json!({ "session_ttl_secs": 3600, "access_token_ttl_secs": 7200 }), "access_token_ttl_secs"),
        (json!({ "session_ttl_secs": 300 }), "session_ttl_secs"),
        (json!({ "impersonation_minutes": "sixty" }), "impersonation_minutes"),
    ] {
        let res = patch(&app, &admin, body.clone()).await;
        assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY, "{body}: {:?}", res.body);
        assert_eq!(res.body["errors"][0]["field"], field, "{body}: {:?}", res.body);
    }
    let unknown = patch(&app, &admin, json!({ "session_lifetime": 3600 })).await;
    assert_eq!(unknown.status, StatusCode::UNPROCESSABLE_ENTITY, "{:?}", unknown.body);
    // Nothing was stored by any of them.
    let view = app.get("/api/settings", Some(&admin)).await;
    assert_eq!(view.body["overridden"], json!([]));
}

async fn the_password_rule_is_the_setting(app: TestApp) {
    let admin = app.setup_admin().await;
    let ws = app.get("/api/me", Some(&admin)).await.body["home_workspace"]["id"].as_str().unwrap().to_owned();
    let create = |email: &str, password: &str| json!({ "email": email, "name": "P", "home_workspace_id": ws, "role_id": SYSTEM_VIEWER_ROLE.to_string(), "password": password });
    // Common passwords are refused by default (here with a shorter minimum, to reach the list).
    patch(&app, &admin, json!({ "password_min_length": 8 })).await;
    let res = app.post("/api/users", Some(&admin), create("a@example.com", "trustno1")).await;
    assert_eq!(
        (res.status, res.body["errors"][0]["field"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("password")),
        "{:?}",
        res.body
    );
    assert!(res.body["errors"][0]["message"].as_str().unwrap().contains("commonly used"));
    // A longer minimum applies at once.
    patch(&app, &admin, json!({ "password_min_length": 30 })).await;
    let res = app.post("/api/users", Some(&admin), create("b@example.com", ADMIN_PASSWORD)).await;
    assert_eq!(res.body["errors"][0]["message"], "must be at least 30 characters", "{:?}", res.body);
    // A shorter one, with the list off: a short common password passes (the admin's choice).
    let res = patch(&app, &admin, json!({ "password_min_length": 8, "password_reject_common": false })).await;
    assert_eq!(res.status, StatusCode::OK, "{:?}", res.body);
    let res = app.post("/api/users", Some(&admin), create("c@example.com", "trustno1")).await;
    assert_eq!(res.status, StatusCode::CREATED, "{:?}", res.body);
    patch(&app, &admin, json!({ "password_reject_common": true })).await;
    let res = app.post("/api/users", Some(&admin), create("d@example.com", "trustno1")).await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY, "{:?}", res.body);
}
