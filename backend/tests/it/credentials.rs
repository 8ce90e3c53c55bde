//! Credentials, attacked: TOTP 2FA (replayed codes, recovery codes, the admin policy), API
//! tokens (escalation, scope of use, revocation, storage) and brute-force throttling.

use axum::http::{header, Method, StatusCode};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde_json::{json, Value};
use steward_backend::store::entities::{api_tokens, audit_events};
use totp_rs::{Algorithm, Secret, TOTP};

use crate::harness::{TestApp, ADMIN_EMAIL, ADMIN_PASSWORD};
use crate::on_both;

on_both!(
    totp_codes_work_once_and_recovery_codes_stand_in,
    recovery_codes_are_replaced_with_a_fresh_code,
    policy_holds_admins_to_enrolment,
    api_tokens_hold_a_subset_and_die_when_revoked,
    an_admin_lists_and_revokes_another_users_tokens,
    brute_force_is_throttled_per_account_and_per_ip,
    a_login_flood_is_shed_past_the_hashing_queue,
    sign_ins_wait_in_a_lane_of_their_own,
);

fn code_at(secret: &str, offset_steps: i64) -> String {
    let totp =
        TOTP::new(Algorithm::SHA1, 6, 1, 30, Secret::Encoded(secret.into()).to_bytes().unwrap(), None, String::new())
            .unwrap();
    let now = chrono::Utc::now().timestamp() + offset_steps * 30;
    totp.generate(now as u64)
}

/// Enrols `token`'s user: the secret, the recovery codes, and the TOTP code that verified it
/// (spent: replaying that string, not a code computed again, is what a replay is; a code computed
/// later may belong to the next step).
async fn enrol(app: &TestApp, token: &str) -> (String, Vec<String>, String) {
    let enrolment = app.post("/api/me/2fa/enrol", Some(token), json!({})).await;
    assert_eq!(enrolment.status, StatusCode::OK, "{:?}", enrolment.body);
    assert!(
        enrolment.body["qr_svg"].as_str().unwrap().starts_with("<?xml")
            || enrolment.body["qr_svg"].as_str().unwrap().contains("<svg")
    );
    assert!(enrolment.body["otpauth_url"].as_str().unwrap().starts_with("otpauth://totp/"));
    let secret = enrolment.body["secret"].as_str().unwrap().to_owned();
    let wrong = app.post("/api/me/2fa/verify", Some(token), json!({ "code": "000000" })).await;
    if code_at(&secret, 0) != "000000" {
        assert_eq!((wrong.status, wrong.problem()), (StatusCode::UNAUTHORIZED, "invalid_totp"));
    }
    let spent = code_at(&secret, 0);
    let verified = app.post("/api/me/2fa/verify", Some(token), json!({ "code": spent })).await;
    assert_eq!(verified.status, StatusCode::OK, "{:?}", verified.body);
    let codes: Vec<String> =
        verified.body["codes"].as_array().unwrap().iter().map(|c| c.as_str().unwrap().to_owned()).collect();
    assert_eq!(codes.len(), 10);
    (secret, codes, spent)
}

fn login_body(code: Option<&str>) -> Value {
    let mut body = json!({ "email": ADMIN_EMAIL, "password": ADMIN_PASSWORD });
    if let Some(c) = code {
        body["totp_code"] = json!(c);
    }
    body
}

async fn totp_codes_work_once_and_recovery_codes_stand_in(app: TestApp) {
    let admin = app.setup_admin().await;
    let (secret, recovery, spent) = enrol(&app, &admin).await;
    assert_eq!(app.get("/api/me", Some(&admin)).await.body["totp_enabled"], true);
    // Enrolling again is refused while it is on.
    assert_eq!(app.post("/api/me/2fa/enrol", Some(&admin), json!({})).await.problem(), "already_enrolled");
    let bare = app.post("/api/auth/login", None, login_body(None)).await;
    assert_eq!((bare.status, bare.problem()), (StatusCode::UNAUTHORIZED, "totp_required"));
    // The code used to verify enrolment is spent; the next step's code works once.
    let replay = app.post("/api/auth/login", None, login_body(Some(&spent))).await;
    assert_eq!((replay.status, replay.problem()), (StatusCode::UNAUTHORIZED, "invalid_totp"));
    let next = code_at(&secret, 1);
    let ok = app.post("/api/auth/login", None, login_body(Some(&next))).await;
    assert_eq!(ok.status, StatusCode::OK, "{:?}", ok.body);
    assert_eq!(app.post("/api/auth/login", None, login_body(Some(&next))).await.problem(), "invalid_totp");
    // A recovery code works once, in either spelling.
    let rc = &recovery[0];
    let with_recovery = app.post("/api/auth/login", None, login_body(Some(&rc.to_uppercase()))).await;
    assert_eq!(with_recovery.status, StatusCode::OK, "{:?}", with_recovery.body);
    assert_eq!(app.post("/api/auth/login", None, login_body(Some(rc))).await.problem(), "invalid_totp");
    // Disabling needs a valid code; afterwards the password alone signs in.
    let fresh = with_recovery.body["access_token"].as_str().unwrap().to_owned();
    assert_eq!(
        app.post("/api/me/2fa/disable", Some(&fresh), json!({ "code": "123" })).await.status,
        StatusCode::UNAUTHORIZED
    );
    let off = app.post("/api/me/2fa/disable", Some(&fresh), json!({ "code": recovery[1] })).await;
    assert_eq!(off.status, StatusCode::NO_CONTENT, "{:?}", off.body);
    assert_eq!(app.post("/api/auth/login", None, login_body(None)).await.status, StatusCode::OK);
    let actions: Vec<String> =
        audit_events::Entity::find().all(app.db()).await.unwrap().into_iter().map(|e| e.action).collect();
    assert!(actions.contains(&"user.2fa.enable".to_owned()) && actions.contains(&"user.2fa.disable".to_owned()));
}

/// New recovery codes need a current TOTP code (a recovery code will not do: it is what is
/// being replaced); the old ones stop working and the new ones sign in.
async fn recovery_codes_are_replaced_with_a_fresh_code(app: TestApp) {
    let admin = app.setup_admin().await;
    let bare = app.principal(&["steward.flows.view"]).await;
    let res = app.post("/api/me/2fa/recovery-codes", Some(&bare.token), json!({ "code": "123456" })).await;
    assert_eq!((res.status, res.problem()), (StatusCode::CONFLICT, "not_enrolled"));
    let (secret, old, _) = enrol(&app, &admin).await;
    let path = "/api/me/2fa/recovery-codes";
    // A recovery code is no TOTP code here.
    let res = app.post(path, Some(&admin), json!({ "code": old[0] })).await;
    assert_eq!((res.status, res.problem()), (StatusCode::UNAUTHORIZED, "invalid_totp"));
    let fresh = app.post(path, Some(&admin), json!({ "code": code_at(&secret, 1) })).await;
    assert_eq!(fresh.status, StatusCode::OK, "{:?}", fresh.body);
    let new: Vec<String> =
        fresh.body["codes"].as_array().unwrap().iter().map(|c| c.as_str().unwrap().to_owned()).collect();
    assert_eq!(new.len(), 10);
    assert!(new.iter().all(|c| !old.contains(c)), "all new");
    let stale = app.post("/api/auth/login", None, login_body(Some(&old[1]))).await;
    assert_eq!((stale.status, stale.problem()), (StatusCode::UNAUTHORIZED, "invalid_totp"));
    let signed_in = app.post("/api/auth/login", None, login_body(Some(&new[0]))).await;
    assert_eq!(signed_in.status, StatusCode::OK, "{:?}", signed_in.body);
    let actions: Vec<String> =
        audit_events::Entity::find().all(app.db()).await.unwrap().into_iter().map(|e| e.action).collect();
    assert!(actions.contains(&"user.2fa.recovery_codes".to_owned()), "{actions:?}");
}

async fn policy_holds_admins_to_enrolment(app: TestApp) {
    let admin = app.setup_admin().await;
    // A token minted before the policy and before enrolment.
    let minted = app
        .post("/api/me/tokens", Some(&admin), json!({ "name": "cron", "permissions": ["steward.access.users.view"] }))
        .await;
    assert_eq!(minted.status, StatusCode::CREATED, "{:?}", minted.body);
    let script = minted.body["token"].as_str().unwrap().to_owned();
    assert_eq!(app.get("/api/users", Some(&script)).await.status, StatusCode::OK);
    let set = app.put("/api/settings/two-factor", Some(&admin), json!({ "require_for_admins": true })).await;
    assert_eq!(set.status, StatusCode::OK, "{:?}", set.body);
    // An admin without 2FA: only /api/me and enrolment answer.
    let me = app.get("/api/me", Some(&admin)).await;
    assert_eq!(me.body["two_factor_required"], true);
    let blocked = app.get("/api/users", Some(&admin)).await;
    assert_eq!((blocked.status, blocked.problem()), (StatusCode::FORBIDDEN, "two_factor_required"));
    // The policy holds the admin's every credential: the token stops too, and says why.
    let by_token = app.get("/api/users", Some(&script)).await;
    assert_eq!((by_token.status, by_token.problem()), (StatusCode::FORBIDDEN, "two_factor_required"));
    assert!(by_token.body["detail"].as_str().unwrap().contains("token"), "{:?}", by_token.body);
    assert_eq!(app.get("/api/me", Some(&script)).await.body["two_factor_required"], true);
    // A non-admin is not held.
    let viewer = app.principal(&["steward.flows.view"]).await;
    assert_eq!(app.get("/api/flows", Some(&viewer.token)).await.status, StatusCode::OK);
    let (_secret, codes, _) = enrol(&app, &admin).await;
    assert_eq!(app.get("/api/users", Some(&admin)).await.status, StatusCode::OK);
    assert_eq!(
        app.get("/api/users", Some(&script)).await.status,
        StatusCode::OK,
        "the token works again after enrolment"
    );
    // While the policy holds, an admin cannot turn 2FA off.
    let off = app.post("/api/me/2fa/disable", Some(&admin), json!({ "code": codes[0] })).await;
    assert_eq!(off.problem(), "required_by_policy");
    // Only super admins change the policy: a tenant's own admin whose role grants
    // steward.system.settings cannot switch it off for everyone.
    let lead = app.principal(&["steward.access.*"]).await;
    assert_eq!(
        app.put("/api/settings/two-factor", Some(&lead.token), json!({ "require_for_admins": false })).await.status,
        StatusCode::FORBIDDEN
    );
    let (tenant, _) = app.customer("Tenant Co", "tenant").await;
    let tenant_ws = app.workspace(tenant, "Main").await;
    let settings_role = app.role(tenant, tenant_ws, &["steward.system.*", "steward.console.settings.*"]).await;
    let tenant_admin = app.user_with_role(tenant, tenant_ws, settings_role).await;
    let off =
        app.put("/api/settings/two-factor", Some(&tenant_admin.token), json!({ "require_for_admins": false })).await;
    assert_eq!((off.status, off.problem()), (StatusCode::FORBIDDEN, "super_admin_required"));
    assert_eq!(app.get("/api/settings/two-factor", Some(&admin)).await.body["require_for_admins"], true);
}

async fn api_tokens_hold_a_subset_and_die_when_revoked(app: TestApp) {
    let admin = app.setup_admin().await;
    let lead = app.principal(&["steward.flows.view", "steward.access.users.view"]).await;
    let escalate =
        app.post("/api/me/tokens", Some(&lead.token), json!({ "name": "x", "permissions": ["steward.flows.*"] })).await;
    assert_eq!((escalate.status, escalate.problem()), (StatusCode::FORBIDDEN, "escalation_refused"));
    let bad = app
        .post(
            "/api/me/tokens",
            Some(&lead.token),
            json!({ "name": "x", "permissions": ["steward.nope"], "expires_in_days": 0 }),
        )
        .await;
    let fields: Vec<&str> =
        bad.body["errors"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap()).collect();
    assert_eq!(fields, ["expires_in_days", "permissions[0]"]);
    let created = app
        .post(
            "/api/me/tokens",
            Some(&lead.token),
            json!({ "name": "ci script", "permissions": ["steward.flows.view"] }),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{:?}", created.body);
    let token = created.body["token"].as_str().unwrap().to_owned();
    assert!(token.starts_with("stw_"));
    // Stored as a hash only.
    let rows = api_tokens::Entity::find().all(app.db()).await.unwrap();
    assert!(rows.iter().all(|r| r.token_hash != token && !r.token_hash.contains(&token[4..])));
    // Usable as a bearer, for its own leaves only.
    assert_eq!(app.get("/api/flows", Some(&token)).await.status, StatusCode::OK);
    let me = app.get("/api/me", Some(&token)).await.body;
    assert_eq!((me["session_id"].clone(), me["permissions"].clone()), (Value::Null, json!(["steward.flows.view"])));
    assert_eq!(app.get("/api/users", Some(&token)).await.status, StatusCode::FORBIDDEN);
    // A token cannot mint tokens or touch 2FA.
    assert_eq!(
        app.post("/api/me/tokens", Some(&token), json!({ "name": "y", "permissions": ["steward.flows.view"] }))
            .await
            .problem(),
        "session_required"
    );
    assert_eq!(app.post("/api/me/2fa/enrol", Some(&token), json!({})).await.problem(), "session_required");
    // A super admin's token is still limited to its leaves.
    let root = app
        .post("/api/me/tokens", Some(&admin), json!({ "name": "root", "permissions": ["steward.audit.view"] }))
        .await;
    let root = root.body["token"].as_str().unwrap().to_owned();
    assert_eq!(app.get("/api/audit", Some(&root)).await.status, StatusCode::OK);
    assert_eq!(app.get("/api/users", Some(&root)).await.status, StatusCode::FORBIDDEN);
    assert_eq!(app.get("/api/settings/two-factor", Some(&root)).await.status, StatusCode::FORBIDDEN);
    // Listed without the secret; revoked, it stops at once.
    let listed = app.get("/api/me/tokens", Some(&lead.token)).await;
    assert_eq!(listed.body["items"][0]["name"], "ci script");
    assert!(!listed.body.to_string().contains(&token));
    let id = listed.body["items"][0]["id"].as_str().unwrap();
    assert_eq!(app.delete(&format!("/api/me/tokens/{id}"), Some(&admin)).await.status, StatusCode::NOT_FOUND);
    assert_eq!(app.delete(&format!("/api/me/tokens/{id}"), Some(&lead.token)).await.status, StatusCode::NO_CONTENT);
    assert_eq!(app.get("/api/flows", Some(&token)).await.status, StatusCode::UNAUTHORIZED);
    // Revoking it again is the same answer and writes no second event.
    assert_eq!(app.delete(&format!("/api/me/tokens/{id}"), Some(&lead.token)).await.status, StatusCode::NO_CONTENT);
    {
        use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
        use steward_backend::store::entities::audit_events;
        let events = audit_events::Entity::find()
            .filter(audit_events::Column::Action.eq("api_token.revoke"))
            .filter(audit_events::Column::TargetId.eq(id))
            .count(app.db())
            .await
            .unwrap();
        assert_eq!(events, 1, "one revocation, one event");
    }
    // An expired token, and a deactivated owner's token, are refused.
    let second = app
        .post("/api/me/tokens", Some(&lead.token), json!({ "name": "two", "permissions": ["steward.flows.view"] }))
        .await;
    let second = second.body["token"].as_str().unwrap().to_owned();
    use sea_orm::ConnectionTrait;
    app.db().execute_unprepared("UPDATE api_tokens SET expires_at = created_at WHERE name = 'two'").await.unwrap();
    assert_eq!(app.get("/api/flows", Some(&second)).await.status, StatusCode::UNAUTHORIZED);
    let third = app
        .post("/api/me/tokens", Some(&lead.token), json!({ "name": "three", "permissions": ["steward.flows.view"] }))
        .await;
    let third = third.body["token"].as_str().unwrap().to_owned();
    assert_eq!(
        app.post(&format!("/api/users/{}/deactivate", lead.user_id), Some(&admin), json!({})).await.status,
        StatusCode::OK
    );
    assert_eq!(app.get("/api/flows", Some(&third)).await.status, StatusCode::UNAUTHORIZED);
    let audited = audit_events::Entity::find()
        .filter(audit_events::Column::Action.eq("api_token.create"))
        .all(app.db())
        .await
        .unwrap();
    assert_eq!(audited.len(), 4);
}

async fn brute_force_is_throttled_per_account_and_per_ip(app: TestApp) {
    let admin = app.setup_admin().await;
    let wrong = json!({ "email": ADMIN_EMAIL, "password": "wrong password!!" });
    for _ in 0..4 {
        assert_eq!(app.post("/api/auth/login", None, wrong.clone()).await.status, StatusCode::UNAUTHORIZED);
    }
    let fifth = app.post("/api/auth/login", None, wrong.clone()).await;
    assert_eq!((fifth.status, fifth.problem()), (StatusCode::TOO_MANY_REQUESTS, "too_many_attempts"));
    // Locked: even the right password is refused, with Retry-After.
    let right = app.login(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    assert_eq!(right.status, StatusCode::TOO_MANY_REQUESTS);
    let retry: u64 = right.headers[header::RETRY_AFTER].to_str().unwrap().parse().unwrap();
    assert!((1..=60).contains(&retry), "{retry}");
    // Unknown accounts are throttled the same way (no enumeration by behaviour).
    for _ in 0..5 {
        app.login("ghost@example.com", "whatever password").await;
    }
    assert_eq!(app.login("ghost@example.com", "whatever password").await.status, StatusCode::TOO_MANY_REQUESTS);
    let lockouts = audit_events::Entity::find()
        .filter(audit_events::Column::Action.eq("auth.lockout"))
        .all(app.db())
        .await
        .unwrap();
    assert_eq!(lockouts.len(), 2);
    // A burst against a locked account is refused every time but audited once a minute per
    // account and address (a flood must not buy one chained audit write per request).
    for _ in 0..10 {
        assert_eq!(app.post("/api/auth/login", None, wrong.clone()).await.status, StatusCode::TOO_MANY_REQUESTS);
    }
    let throttled =
        audit_events::Entity::find().filter(audit_events::Column::Outcome.eq("throttled")).all(app.db()).await.unwrap();
    let of = |email: &str| throttled.iter().filter(|e| e.summary.to_string().contains(email)).count();
    assert_eq!((of(ADMIN_EMAIL), of("ghost@example.com")), (1, 1), "{throttled:?}");
    // The audit log filters by that outcome (the session from before the lockout still works).
    let listed =
        app.call_with(Method::GET, "/api/audit?outcome=throttled", &admin, None, &[("x-steward-scope", "all")]).await;
    assert_eq!(listed.status, StatusCode::OK, "{:?}", listed.body);
    let outcomes: Vec<&str> =
        listed.body["items"].as_array().unwrap().iter().map(|e| e["outcome"].as_str().unwrap()).collect();
    assert!(!outcomes.is_empty() && outcomes.iter().all(|o| *o == "throttled"), "{outcomes:?}");
    // Per IP: twenty failures over many accounts from one address lock that address.
    for i in 0..20 {
        app.post_from(
            "203.0.113.7",
            "/api/auth/login",
            json!({ "email": format!("u{i}@example.com"), "password": "wrong password" }),
        )
        .await;
    }
    let from_ip = app
        .post_from(
            "203.0.113.7",
            "/api/auth/login",
            json!({ "email": "fresh@example.com", "password": "wrong password" }),
        )
        .await;
    assert_eq!(from_ip.status, StatusCode::TOO_MANY_REQUESTS);
    let elsewhere = app
        .post_from(
            "198.51.100.1",
            "/api/auth/login",
            json!({ "email": "fresh@example.com", "password": "wrong password" }),
        )
        .await;
    assert_eq!(elsewhere.status, StatusCode::UNAUTHORIZED);
    // Lifting the lock (time passing) lets the right password in and clears the account's count.
    use sea_orm::ConnectionTrait;
    app.db().execute_unprepared("DELETE FROM auth_throttle WHERE key LIKE 'account:admin%'").await.unwrap();
    assert_eq!(app.login(ADMIN_EMAIL, ADMIN_PASSWORD).await.status, StatusCode::OK);
    // Wrong TOTP codes are throttled per user too.
    let admin = app.login(ADMIN_EMAIL, ADMIN_PASSWORD).await.body["access_token"].as_str().unwrap().to_owned();
    let enrolment = app.post("/api/me/2fa/enrol", Some(&admin), json!({})).await;
    assert_eq!(enrolment.status, StatusCode::OK);
    let mut last = StatusCode::OK;
    for _ in 0..5 {
        last = app.post("/api/me/2fa/verify", Some(&admin), json!({ "code": "999999x" })).await.status;
    }
    assert_eq!(last, StatusCode::TOO_MANY_REQUESTS);
}

async fn a_login_flood_is_shed_past_the_hashing_queue(app: TestApp) {
    let kind = app.kind;
    drop(app);
    let app = TestApp::of_kind_with(kind, |c| {
        c.password_hash_concurrency = 1;
        c.password_hash_queue = 2;
        // The sign-in lane lets all five through to the hashing queue this test is about.
        c.sign_in_concurrency = 5;
    })
    .await;
    app.setup_admin().await;
    // Every hashing slot is taken: checks admitted now wait; past the queue they are refused.
    let held = app.state.hashing.clone().acquire_owned().await.unwrap();
    let wrong = json!({ "email": ADMIN_EMAIL, "password": "wrong password!!" });
    // While the slot is held no admitted check can finish, so the first two answers are the
    // shed ones; the slot is released only after them (a fixed sleep here let a slow request
    // arrive after an admitted one had finished and be admitted too, on a loaded machine).
    let answered = std::sync::atomic::AtomicUsize::new(0);
    let flood = futures::future::join_all((0..5).map(|_| async {
        let res = app.post("/api/auth/login", None, wrong.clone()).await;
        answered.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        res
    }));
    let release = async {
        let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(20);
        while answered.load(std::sync::atomic::Ordering::SeqCst) < 2 && tokio::time::Instant::now() < deadline {
            tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        }
        drop(held);
    };
    let (answers, ()) = tokio::join!(flood, release);
    let mut statuses: Vec<u16> = answers.iter().map(|a| a.status.as_u16()).collect();
    statuses.sort();
    assert_eq!(statuses, [401, 401, 401, 503, 503], "one checking, two queued, the rest shed");
    for shed in answers.iter().filter(|a| a.status == StatusCode::SERVICE_UNAVAILABLE) {
        assert_eq!(shed.problem(), "busy");
        assert_eq!(shed.headers[header::RETRY_AFTER], "1");
    }
    // Shed requests were not counted as failures, and the queue drains: the right password works.
    assert_eq!(app.state.hashing_admission.available_permits(), 3);
    assert_eq!(app.login(ADMIN_EMAIL, ADMIN_PASSWORD).await.status, StatusCode::OK);
}

/// The password routes take turns in a lane in front of their handlers: one runs, the queue's
/// wait, the rest are refused at once (503 `busy`, before their body is read); the rest of the
/// API does not wait in that line.
async fn sign_ins_wait_in_a_lane_of_their_own(app: TestApp) {
    let kind = app.kind;
    drop(app);
    let app = TestApp::of_kind_with(kind, |c| {
        c.sign_in_concurrency = 1;
        c.sign_in_queue = 1;
        c.sign_in_wait_ms = 60_000;
    })
    .await;
    let admin = app.setup_admin().await;
    // The one turn is taken (as by a sign-in in progress).
    let turn = app.state.sign_in_lane.admit().await.unwrap();
    let answered = std::sync::atomic::AtomicUsize::new(0);
    let wrong = json!({ "email": ADMIN_EMAIL, "password": "wrong password!!" });
    let flood = futures::future::join_all((0..3).map(|_| async {
        let res = app.post("/api/auth/login", None, wrong.clone()).await;
        answered.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        res
    }));
    let meanwhile = async {
        let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(20);
        while answered.load(std::sync::atomic::Ordering::SeqCst) < 2 && tokio::time::Instant::now() < deadline {
            tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        }
        // Two refused while the line was full; the rest of the API is not in it.
        let other = app.get("/api/me", Some(&admin)).await.status;
        let health = app.get("/api/health", None).await.status;
        drop(turn);
        (other, health)
    };
    let (answers, (other, health)) = tokio::join!(flood, meanwhile);
    assert_eq!((other, health), (StatusCode::OK, StatusCode::OK));
    let mut statuses: Vec<u16> = answers.iter().map(|a| a.status.as_u16()).collect();
    statuses.sort();
    assert_eq!(statuses, [401, 503, 503], "one waited its turn, two were refused");
    for shed in answers.iter().filter(|a| a.status == StatusCode::SERVICE_UNAVAILABLE) {
        assert_eq!(shed.problem(), "busy");
        assert_eq!(shed.headers[header::RETRY_AFTER], "1");
    }
    assert_eq!(app.login(ADMIN_EMAIL, ADMIN_PASSWORD).await.status, StatusCode::OK, "the lane is free again");
}

/// Issue 34: an admin sees another user's API tokens (never their secrets) and revokes one, with
/// strictly stronger rights than that account's; a peer admin cannot; audited once.
async fn an_admin_lists_and_revokes_another_users_tokens(app: TestApp) {
    use axum::http::Method;
    app.setup_admin().await;
    let (acme, ws) = app.customer("Acme", "tenant").await;
    let lead_role = app.role(acme, ws, &["steward.access.users.*", "steward.flows.view"]).await;
    let lead = app.user_with_role(acme, ws, lead_role).await;
    let peer = app.user_with_role(acme, ws, lead_role).await;
    let member_role = app.role(acme, ws, &["steward.flows.view"]).await;
    let bob = app.user_with_role(acme, ws, member_role).await;
    let mint = |token: String| {
        let app = &app;
        async move {
            let made = app
                .post(
                    "/api/me/tokens",
                    Some(&token),
                    json!({ "name": "nightly", "permissions": ["steward.flows.view"] }),
                )
                .await;
            assert_eq!(made.status, StatusCode::CREATED, "{:?}", made.body);
            (made.body["info"]["id"].as_str().unwrap().to_owned(), made.body["token"].as_str().unwrap().to_owned())
        }
    };
    let (bob_token_id, bob_secret) = mint(bob.token.clone()).await;
    let listed = app.get(&format!("/api/users/{}/tokens", bob.user_id), Some(&lead.token)).await;
    assert_eq!(listed.status, StatusCode::OK, "{:?}", listed.body);
    assert_eq!(listed.body["items"][0]["name"], "nightly");
    assert!(!listed.body.to_string().contains(&bob_secret), "never the secret");
    let nobody = app.principal(&["steward.flows.view"]).await;
    let refused = app.get(&format!("/api/users/{}/tokens", bob.user_id), Some(&nobody.token)).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    assert_eq!(app.get("/api/flows", Some(&bob_secret)).await.status, StatusCode::OK);
    let path = format!("/api/users/{}/tokens/{bob_token_id}", bob.user_id);
    assert_eq!(app.call(Method::DELETE, &path, Some(&lead.token), None).await.status, StatusCode::NO_CONTENT);
    assert_eq!(app.get("/api/flows", Some(&bob_secret)).await.status, StatusCode::UNAUTHORIZED);
    assert_eq!(app.call(Method::DELETE, &path, Some(&lead.token), None).await.status, StatusCode::NO_CONTENT);
    let events = audit_events::Entity::find()
        .filter(audit_events::Column::Action.eq("api_token.revoke"))
        .filter(audit_events::Column::TargetId.eq(bob_token_id.clone()))
        .all(app.db())
        .await
        .unwrap();
    assert_eq!(events.len(), 1, "one event for the one change");
    assert_eq!(events[0].actor_user_id, Some(lead.user_id));
    assert_eq!(events[0].summary["owner"], bob.email.as_str());
    // A peer holding the same rights acts on nothing of the lead's credentials.
    let (lead_token_id, lead_secret) = mint(lead.token.clone()).await;
    let peer_path = format!("/api/users/{}/tokens/{lead_token_id}", lead.user_id);
    let peer_try = app.call(Method::DELETE, &peer_path, Some(&peer.token), None).await;
    assert!(peer_try.status.is_client_error() && peer_try.status != StatusCode::NOT_FOUND, "{:?}", peer_try.body);
    assert_eq!(app.get("/api/flows", Some(&lead_secret)).await.status, StatusCode::OK);
    // A token id of someone else under this user's path is not found.
    let crossed = format!("/api/users/{}/tokens/{lead_token_id}", bob.user_id);
    assert_eq!(app.call(Method::DELETE, &crossed, Some(&lead.token), None).await.status, StatusCode::NOT_FOUND);
}
