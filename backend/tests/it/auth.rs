//! Login, tokens and sessions, attacked: wrong passwords, forged and expired tokens,
//! revoked sessions, deactivated users.

use axum::body::Body;
use axum::http::{header, Method, Request, StatusCode};
use base64::Engine;
use chrono::Utc;
use sea_orm::{ActiveModelTrait, EntityTrait, IntoActiveModel, QueryOrder, Set};
use serde_json::{json, Value};
use steward_backend::audit::chain as audit;
use steward_backend::secrets::JwtKeys;
use steward_backend::store::entities::{audit_events, users};

use crate::harness::{TestApp, ADMIN_EMAIL, ADMIN_PASSWORD};
use crate::on_both;

on_both!(
    login_refresh_logout,
    unknown_email_and_wrong_password_look_the_same,
    forged_and_expired_tokens_are_refused,
    deactivation_bites_on_the_next_request,
    malformed_bodies_get_problems,
    audit_chain_links_every_event,
    me_is_one_statement_with_the_names_it_shows,
    the_tenant_scope_costs_no_statement_of_its_own,
);

mod a_cached_principal_never_outlives_a_change_made_here {
    // A cache a minute long: what is written around the API stays unseen for the whole test.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn sqlite() {
        let app = crate::harness::TestApp::sqlite_with(|c| c.principal_cache_ms = 60_000).await;
        super::a_cached_principal_never_outlives_a_change_made_here(app).await
    }
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn postgres() {
        let app = crate::harness::TestApp::postgres_with(|c| c.principal_cache_ms = 60_000).await;
        super::a_cached_principal_never_outlives_a_change_made_here(app).await
    }
}

mod a_change_made_elsewhere_is_seen_once_the_cache_life_ends {
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn sqlite() {
        let app = crate::harness::TestApp::sqlite_with(|c| c.principal_cache_ms = 200).await;
        super::a_change_made_elsewhere_is_seen_once_the_cache_life_ends(app).await
    }
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn postgres() {
        let app = crate::harness::TestApp::postgres_with(|c| c.principal_cache_ms = 200).await;
        super::a_change_made_elsewhere_is_seen_once_the_cache_life_ends(app).await
    }
}

/// A principal is reused for the cache's life, yet no change made through this server's API
/// outlives it: a rename, a lost permission, revoked sessions and an API token's revocation are
/// each seen by the very next request. A change written straight into the database (as another
/// replica or the CLI writes) is not seen while the entry lives, which shows the cache is there.
async fn a_cached_principal_never_outlives_a_change_made_here(app: TestApp) {
    use sea_orm::ConnectionTrait;
    let admin = app.setup_admin().await;
    let (acme, ws) = app.customer("Acme", "tenant").await;
    let reader = app.role(acme, ws, &["steward.flows.view"]).await;
    let nothing = app.role(acme, ws, &[]).await;
    let user = app.user_with_role(acme, ws, reader).await;
    let me = |token: String| {
        let app = &app;
        async move { app.get("/api/me", Some(&token)).await }
    };
    assert_eq!(app.get("/api/flows", Some(&user.token)).await.status, StatusCode::OK);
    let written_elsewhere = format!("UPDATE users SET name = 'Written Elsewhere' WHERE email = '{}'", user.email);
    app.db().execute_unprepared(&written_elsewhere).await.unwrap();
    assert_eq!(me(user.token.clone()).await.body["name"], "Fixture User", "the principal is cached");

    let renamed =
        app.patch(&format!("/api/users/{}", user.user_id), Some(&admin), json!({ "name": "Renamed Here" })).await;
    assert_eq!(renamed.status, StatusCode::OK, "{:?}", renamed.body);
    assert_eq!(me(user.token.clone()).await.body["name"], "Renamed Here");

    // The permission goes with the role.
    assert_eq!(app.get("/api/flows", Some(&user.token)).await.status, StatusCode::OK);
    let path = format!("/api/workspaces/{ws}/members/{}", user.user_id);
    let moved = app.put(&path, Some(&admin), json!({ "role_id": nothing })).await;
    assert_eq!(moved.status, StatusCode::OK, "{:?}", moved.body);
    assert_eq!(app.get("/api/flows", Some(&user.token)).await.status, StatusCode::FORBIDDEN);

    // An API token of the admin's, used, then revoked.
    let created = app
        .post("/api/me/tokens", Some(&admin), json!({ "name": "script", "permissions": ["steward.flows.view"] }))
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{:?}", created.body);
    let (token, token_id) = (created.body["token"].as_str().unwrap().to_owned(), created.body["info"]["id"].clone());
    assert_eq!(app.get("/api/flows", Some(&token)).await.status, StatusCode::OK);
    assert_eq!(app.get("/api/flows", Some(&token)).await.status, StatusCode::OK);
    let revoked = app.delete(&format!("/api/me/tokens/{}", token_id.as_str().unwrap()), Some(&admin)).await;
    assert_eq!(revoked.status, StatusCode::NO_CONTENT);
    assert_eq!(app.get("/api/flows", Some(&token)).await.status, StatusCode::UNAUTHORIZED);

    // Sessions revoked, then a deactivation: each refused at once.
    assert_eq!(me(user.token.clone()).await.status, StatusCode::OK);
    let ended = app.delete(&format!("/api/users/{}/sessions", user.user_id), Some(&admin)).await;
    assert!(ended.status.is_success(), "{:?}", ended.body);
    assert_eq!(me(user.token.clone()).await.status, StatusCode::UNAUTHORIZED);
    let other = app.user_with_role(acme, ws, reader).await;
    assert_eq!(me(other.token.clone()).await.status, StatusCode::OK);
    let off = app.post(&format!("/api/users/{}/deactivate", other.user_id), Some(&admin), json!({})).await;
    assert_eq!(off.status, StatusCode::OK, "{:?}", off.body);
    assert_eq!(me(other.token.clone()).await.status, StatusCode::UNAUTHORIZED);
}

/// What another replica (or the CLI) writes is seen once the entry's life (200 ms here) is over.
async fn a_change_made_elsewhere_is_seen_once_the_cache_life_ends(app: TestApp) {
    use sea_orm::ConnectionTrait;
    let token = app.setup_admin().await;
    assert_eq!(app.get("/api/me", Some(&token)).await.status, StatusCode::OK);
    app.db().execute_unprepared("UPDATE users SET status = 'inactive'").await.unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let me = app.get("/api/me", Some(&token)).await;
    assert_eq!(me.status, StatusCode::UNAUTHORIZED);
    assert_eq!(me.problem(), "account_inactive");
}

async fn login_refresh_logout(app: TestApp) {
    app.setup_admin().await;
    let res = app.login("  ADMIN@example.com ", ADMIN_PASSWORD).await;
    assert_eq!(res.status, StatusCode::OK, "{:?}", res.body);
    assert_eq!(res.body["token_type"], "Bearer");
    let access = res.body["access_token"].as_str().unwrap().to_owned();
    let refresh = res.body["refresh_token"].as_str().unwrap().to_owned();
    assert_eq!(app.get("/api/me", Some(&access)).await.status, StatusCode::OK);

    // Refresh rotates: the new credential works once, the old one never again.
    let next = app.post("/api/auth/refresh", None, json!({ "refresh_token": refresh })).await;
    assert_eq!(next.status, StatusCode::OK);
    let access2 = next.body["access_token"].as_str().unwrap().to_owned();
    let refresh2 = next.body["refresh_token"].as_str().unwrap().to_owned();
    let next = app.post("/api/auth/refresh", None, json!({ "refresh_token": refresh2 })).await;
    assert_eq!(next.status, StatusCode::OK);
    let access3 = next.body["access_token"].as_str().unwrap().to_owned();
    let refresh3 = next.body["refresh_token"].as_str().unwrap().to_owned();
    assert_eq!(app.get("/api/me", Some(&access3)).await.status, StatusCode::OK);
    // A spent credential (two rotations back) comes back: it leaked, so the whole session ends
    // (RFC 9700): the holder of the newest pair is signed out too.
    let replay = app.post("/api/auth/refresh", None, json!({ "refresh_token": refresh })).await;
    assert_eq!((replay.status, replay.problem()), (StatusCode::UNAUTHORIZED, "refresh_reused"));
    for token in [&access, &access2, &access3] {
        assert_eq!(app.get("/api/me", Some(token)).await.problem(), "session_ended");
    }
    let newest = app.post("/api/auth/refresh", None, json!({ "refresh_token": refresh3 })).await;
    assert_eq!(newest.status, StatusCode::UNAUTHORIZED);
    let events = audit_events::Entity::find().all(app.db()).await.unwrap();
    assert!(events.iter().any(|e| e.action == "auth.refresh_reuse" && e.outcome == "refused"));

    // Two refreshes racing with one credential: one wins, the other is a reuse.
    let res = app.login(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let racing = res.body["refresh_token"].as_str().unwrap().to_owned();
    let (a, b) = tokio::join!(
        app.post("/api/auth/refresh", None, json!({ "refresh_token": racing })),
        app.post("/api/auth/refresh", None, json!({ "refresh_token": racing })),
    );
    let mut outcomes = [a.status.as_u16(), b.status.as_u16()];
    outcomes.sort();
    assert_eq!(outcomes, [200, 401], "{:?} {:?}", a.body, b.body);

    // Logout: every token of the session dies at once, and so does its refresh credential.
    let res = app.login(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let access = res.body["access_token"].as_str().unwrap().to_owned();
    let refresh = res.body["refresh_token"].as_str().unwrap().to_owned();
    let out = app.call(Method::POST, "/api/auth/logout", Some(&access), None).await;
    assert_eq!(out.status, StatusCode::NO_CONTENT);
    let me = app.get("/api/me", Some(&access)).await;
    assert_eq!(me.status, StatusCode::UNAUTHORIZED);
    assert_eq!(me.problem(), "session_ended");
    assert_eq!(me.headers[header::WWW_AUTHENTICATE], "Bearer");
    let after = app.post("/api/auth/refresh", None, json!({ "refresh_token": refresh })).await;
    assert_eq!(after.status, StatusCode::UNAUTHORIZED);
}

async fn unknown_email_and_wrong_password_look_the_same(app: TestApp) {
    app.setup_admin().await;
    let wrong = app.login(ADMIN_EMAIL, "not the password at all").await;
    let unknown = app.login("nobody@example.com", "not the password at all").await;
    assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
    assert_eq!(wrong.status, unknown.status);
    assert_eq!(wrong.body["type"], unknown.body["type"]);
    assert_eq!(wrong.body["detail"], unknown.body["detail"]);
    assert_eq!(wrong.problem(), "invalid_credentials");
    // Both failures are in the audit log, the known account's against its user.
    let events = audit_events::Entity::find().order_by_asc(audit_events::Column::Seq).all(app.db()).await.unwrap();
    let failures: Vec<_> = events.iter().filter(|e| e.action == "auth.login" && e.outcome == "failure").collect();
    assert_eq!(failures.len(), 2);
    assert_eq!(failures[0].target_type.as_deref(), Some("user"));
    assert_eq!(failures[1].target_type, None);
    assert_eq!(failures[1].summary["email"], "nobody@example.com");
}

fn b64(v: &Value) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string())
}

async fn forged_and_expired_tokens_are_refused(app: TestApp) {
    let token = app.setup_admin().await;
    let claims: Value = {
        let payload = token.split('.').nth(1).unwrap();
        serde_json::from_slice(&base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap()
    };
    let sub = claims["sub"].as_str().unwrap().parse().unwrap();
    let sid = claims["sid"].as_str().unwrap().parse().unwrap();
    let now = Utc::now().timestamp() as u64;

    // alg: none, with the real claims.
    let none = format!("{}.{}.", b64(&json!({ "alg": "none", "typ": "JWT" })), b64(&claims));
    // Signed with another secret.
    let other =
        JwtKeys::from_secret(b"another-secret-another-secret-0123456789").unwrap().issue(sub, sid, now, 900).unwrap();
    // The right secret, expired long ago.
    let expired = app.state.jwt.issue(sub, sid, now - 7200, 900).unwrap();
    // The real header and signature over tampered claims (another session id).
    let mut parts: Vec<&str> = token.split('.').collect();
    let mut tampered_claims = claims.clone();
    tampered_claims["sid"] = json!(uuid::Uuid::now_v7());
    let tampered_payload = b64(&tampered_claims);
    parts[1] = &tampered_payload;
    let tampered = parts.join(".");
    // A valid signature over claims without an audience.
    let no_aud = {
        let mut c = claims.clone();
        c.as_object_mut().unwrap().remove("aud");
        jsonwebtoken::encode(
            &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
            &c,
            &jsonwebtoken::EncodingKey::from_secret(b"test-secret-test-secret-test-secret-0123"),
        )
        .unwrap()
    };
    for (name, bad, code) in [
        ("alg none", none.as_str(), "invalid_token"),
        ("foreign key", other.as_str(), "invalid_token"),
        ("expired", expired.as_str(), "token_expired"),
        ("tampered", tampered.as_str(), "invalid_token"),
        ("no audience", no_aud.as_str(), "invalid_token"),
        ("garbage", "not-a-jwt", "invalid_token"),
    ] {
        let res = app.get("/api/me", Some(bad)).await;
        assert_eq!(res.status, StatusCode::UNAUTHORIZED, "{name}");
        assert_eq!(res.problem(), code, "{name}");
    }
    let res = app.get("/api/me", None).await;
    assert_eq!(res.status, StatusCode::UNAUTHORIZED);
    assert_eq!(res.problem(), "unauthenticated");
    // The genuine token still works.
    assert_eq!(app.get("/api/me", Some(&token)).await.status, StatusCode::OK);
}

async fn deactivation_bites_on_the_next_request(app: TestApp) {
    let token = app.setup_admin().await;
    let user = users::Entity::find().one(app.db()).await.unwrap().unwrap();
    let mut active = user.into_active_model();
    active.status = Set("inactive".into());
    active.update(app.db()).await.unwrap();

    let me = app.get("/api/me", Some(&token)).await;
    assert_eq!(me.status, StatusCode::UNAUTHORIZED);
    assert_eq!(me.problem(), "account_inactive");
    let login = app.login(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    assert_eq!(login.status, StatusCode::FORBIDDEN);
    assert_eq!(login.problem(), "account_inactive");
    // A wrong password on an inactive account reveals nothing more than on any account.
    assert_eq!(app.login(ADMIN_EMAIL, "wrong password here").await.problem(), "invalid_credentials");
}

async fn malformed_bodies_get_problems(app: TestApp) {
    let raw = |content_type: Option<&str>, body: Vec<u8>| {
        let mut req = Request::builder().method(Method::POST).uri("/api/auth/login");
        if let Some(ct) = content_type {
            req = req.header(header::CONTENT_TYPE, ct);
        }
        req.body(Body::from(body)).unwrap()
    };
    let res = app.send(raw(Some("application/json"), b"{\"email\": ".to_vec())).await;
    assert_eq!((res.status, res.problem()), (StatusCode::BAD_REQUEST, "malformed_json"));

    let res = app.send(raw(Some("text/plain"), b"{}".to_vec())).await;
    assert_eq!((res.status, res.problem()), (StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type"));

    let res = app.send(raw(None, b"{}".to_vec())).await;
    assert_eq!(res.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);

    let res = app.post("/api/auth/login", None, json!({ "email": "a@example.com" })).await;
    assert_eq!(
        (res.status, res.body["errors"][0]["field"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("password"))
    );

    let res = app.post("/api/auth/login", None, json!({ "email": 5, "password": "x" })).await;
    assert_eq!(res.body["errors"][0]["field"], "email");

    let res =
        app.post("/api/auth/login", None, json!({ "email": "a@example.com", "password": "x", "admin": true })).await;
    assert_eq!(
        (res.status, res.body["errors"][0]["field"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("admin"))
    );

    let res = app.post("/api/auth/login", None, json!({ "email": "a".repeat(300), "password": "x".repeat(300) })).await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(res.body["errors"].as_array().unwrap().len(), 2);

    let huge = format!("{{\"email\": \"{}\", \"password\": \"x\"}}", "a".repeat(2 * 1024 * 1024));
    let res = app.send(raw(Some("application/json"), huge.into_bytes())).await;
    assert_eq!((res.status, res.problem()), (StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large"));

    // Every problem carries the request id that the response header carries.
    assert_eq!(res.body["request_id"].as_str(), res.headers["x-request-id"].to_str().ok());
    // Nothing was set up by any of it.
    assert_eq!(app.get("/api/setup", None).await.body["needs_setup"], true);
}

async fn audit_chain_links_every_event(app: TestApp) {
    app.setup_admin().await;
    app.login(ADMIN_EMAIL, "wrong password, twice").await;
    let ok = app.login(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let token = ok.body["access_token"].as_str().unwrap();
    app.call(Method::POST, "/api/auth/logout", Some(token), None).await;

    let events = audit_events::Entity::find().order_by_asc(audit_events::Column::Seq).all(app.db()).await.unwrap();
    let actions: Vec<(&str, &str)> = events.iter().map(|e| (e.action.as_str(), e.outcome.as_str())).collect();
    assert_eq!(
        actions,
        [
            ("setup.complete", "success"),
            ("auth.login", "failure"),
            ("auth.login", "success"),
            ("auth.logout", "success")
        ]
    );
    let mut prev = audit::GENESIS.to_string();
    for (i, e) in events.iter().enumerate() {
        assert_eq!(e.seq, i as i64 + 1);
        assert_eq!(e.prev_hash, prev);
        assert_eq!(
            audit::hash(e, &app.state.audit_keys).as_deref(),
            Some(e.hash.as_str()),
            "event {} recomputes",
            e.seq
        );
        assert_eq!(e.key_id.as_deref(), Some(app.state.audit_keys.current_id()), "keyed");
        assert!(e.request_id.is_some());
        prev = e.hash.clone();
    }
}

/// `GET /api/me` is one round trip to the database: the principal's query reads the customer
/// and home workspace names with the session, the user and the grants (on SQLite each statement
/// is a hand-off to the connection's thread and back, which is what `/api/me` cost beside
/// `/api/health`) — and none while the principal is cached. The names are current: a rename
/// shows on the next call.
async fn me_is_one_statement_with_the_names_it_shows(app: TestApp) {
    let admin = app.setup_admin().await;
    let (acme, ws) = app.customer("Acme", "tenant").await;
    let role = app.role(acme, ws, &["steward.flows.view"]).await;
    let user = app.user_with_role(acme, ws, role).await;
    let statements = || app.state.telemetry.statements.observed();
    // The fewest over a few calls: a background task or a session's once-a-minute touch only
    // adds to one of them.
    let (mut fewest, mut fewest_read) = (u64::MAX, u64::MAX);
    for i in 0..10 {
        // Every other call follows an answered write, so it reads the principal again.
        if i % 2 == 0 {
            app.state.principals.changed();
        }
        let before = statements();
        let me = app.get("/api/me", Some(&user.token)).await;
        assert_eq!(me.status, StatusCode::OK, "{:?}", me.body);
        assert_eq!(
            (me.body["customer"]["name"].as_str(), me.body["customer"]["kind"].as_str()),
            (Some("Acme"), Some("tenant"))
        );
        assert_eq!(me.body["home_workspace"]["id"], ws.to_string(), "{:?}", me.body);
        assert_eq!(me.body["home_workspace"]["name"], "Acme main");
        let ran = statements() - before;
        if i % 2 == 0 {
            fewest_read = fewest_read.min(ran);
        } else {
            fewest = fewest.min(ran);
        }
    }
    assert_eq!(fewest_read, 1, "GET /api/me reads its principal in one statement");
    assert_eq!(fewest, 0, "GET /api/me runs none while its principal is cached");
    let renamed = app.put(&format!("/api/customers/{acme}"), Some(&admin), json!({ "name": "Acme Inc" })).await;
    assert_eq!(renamed.status, StatusCode::OK, "{:?}", renamed.body);
    let renamed = app.put(&format!("/api/workspaces/{ws}"), Some(&admin), json!({ "name": "Ops" })).await;
    assert_eq!(renamed.status, StatusCode::OK, "{:?}", renamed.body);
    let me = app.get("/api/me", Some(&user.token)).await;
    assert_eq!(
        (me.body["customer"]["name"].as_str(), me.body["home_workspace"]["name"].as_str()),
        (Some("Acme Inc"), Some("Ops"))
    );
}

/// A tenant-scoped request takes its customer from the principal's query, and the users page
/// reads its users with their memberships: two statements in either scope (the principal, the
/// page), one while the principal is cached.
async fn the_tenant_scope_costs_no_statement_of_its_own(app: TestApp) {
    let admin = app.setup_admin().await;
    let (acme, ws) = app.customer("Acme", "tenant").await;
    let role = app.role(acme, ws, &["steward.access.users.view"]).await;
    let lead = app.user_with_role(acme, ws, role).await;
    let statements = |token: String, scope: &'static str, cached: bool| {
        let app = &app;
        async move {
            let mut fewest = u64::MAX;
            for _ in 0..5 {
                if !cached {
                    app.state.principals.changed();
                }
                let before = app.state.telemetry.statements.observed();
                let res = app
                    .call_with(Method::GET, "/api/users?limit=50", &token, None, &[("x-steward-scope", scope)])
                    .await;
                assert_eq!(res.status, StatusCode::OK, "{:?}", res.body);
                assert!(!res.body["items"].as_array().unwrap().is_empty());
                fewest = fewest.min(app.state.telemetry.statements.observed() - before);
            }
            fewest
        }
    };
    assert_eq!(statements(admin.clone(), "all", false).await, 2, "the principal; the page with its memberships");
    assert_eq!(statements(admin.clone(), "tenant", false).await, 2, "the admin's own customer came with the principal");
    assert_eq!(statements(lead.token.clone(), "tenant", false).await, 2);
    assert_eq!(statements(admin, "all", true).await, 1, "the page; the principal was cached");
    assert_eq!(statements(lead.token.clone(), "tenant", true).await, 1);
    // The scope is still the lead's own customer: only Acme's users.
    let page = app.call_with(Method::GET, "/api/users?limit=50", &lead.token, None, &[]).await;
    assert!(
        page.body["items"].as_array().unwrap().iter().all(|u| u["customer_id"] == acme.to_string()),
        "{:?}",
        page.body
    );
}
