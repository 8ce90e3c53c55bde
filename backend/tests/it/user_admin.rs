//! User administration, attacked: the directory (search, filters, segments, paging, tenancy),
//! the lifecycle (create with and without a password, reset links, deactivate, erase), bulk
//! actions with their skipped report and dry run, invitations, sessions, and mail delivered
//! through a real SMTP server.

use axum::http::{Method, StatusCode};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};
use serde_json::{json, Value};
use steward_backend::roles::{SYSTEM_ADMIN_ROLE, SYSTEM_VIEWER_ROLE};
use steward_backend::store::entities::{audit_events, outbox_mail, users};

use crate::harness::{TestApp, ADMIN_EMAIL, ADMIN_PASSWORD};
use crate::on_both;

on_both!(
    directory_searches_filters_sorts_and_pages,
    common_search_terms_page_like_rare_ones,
    directory_is_scoped_to_what_you_may_see,
    a_workspace_admin_cannot_take_over_a_stronger_account,
    create_without_password_mails_a_single_use_link,
    bad_input_is_refused_with_the_field_named,
    deactivation_ends_sessions_and_refuses_login,
    erasure_scrubs_identity_and_keeps_the_audit_log,
    bulk_reports_skipped_ids_and_dry_run_changes_nothing,
    invitations_are_single_use_and_expire,
    sessions_are_listed_and_revocation_bites_at_once,
    mail_is_delivered_through_a_real_smtp_server,
    failed_mail_is_resent_once_by_a_holder_of_the_leaf,
    a_user_created_inactive_cannot_sign_in_and_gets_no_mail,
    without_smtp_a_super_admin_is_handed_a_reset_link_once,
);

/// Seed 004's "Generate reset password link": with no SMTP server, a super admin gets the link
/// itself, once; it works once, is audited, and kills the earlier link. Nobody else gets it, and
/// an instance that sends mail refuses it (the link goes by mail there).
async fn without_smtp_a_super_admin_is_handed_a_reset_link_once(app: TestApp) {
    let admin = app.setup_admin().await;
    let ws = home(&app, &admin).await;
    let user = create(&app, &admin, &ws, "linked@example.com", "Linked Person", None).await;
    let id = user["id"].as_str().unwrap().to_owned();
    let welcome = mailed_token(&app, "linked@example.com").await;
    let path = format!("/api/users/{id}/password-reset-link");
    let res = app.post(&path, Some(&admin), json!({})).await;
    assert_eq!(res.status, StatusCode::CREATED, "{:?}", res.body);
    assert_eq!(res.headers["cache-control"], "no-store");
    let link = res.body["link"].as_str().unwrap();
    assert!(link.contains("/reset-password?token="), "{link}");
    assert!(res.body["expires_at"].is_string());
    let token = token_in(link);
    // The earlier (mailed) link is dead; this one works once.
    let old =
        app.post("/api/auth/password-reset", None, json!({ "token": welcome, "password": "the old link's try" })).await;
    assert_eq!(old.status, StatusCode::GONE, "{:?}", old.body);
    let done = app
        .post("/api/auth/password-reset", None, json!({ "token": token, "password": "set from a handed link" }))
        .await;
    assert_eq!(done.status, StatusCode::NO_CONTENT, "{:?}", done.body);
    let again =
        app.post("/api/auth/password-reset", None, json!({ "token": token, "password": "and once more please" })).await;
    assert_eq!(again.status, StatusCode::GONE);
    let audit = app.get("/api/audit?action=user.password_reset.link_generated", Some(&admin)).await;
    assert_eq!(audit.body["items"].as_array().map(Vec::len), Some(1), "{:?}", audit.body);
    // An admin of the same workspace who manages users (and may act on this viewer) is refused:
    // super admins only.
    let platform = app.platform_customer().await;
    let home_ws = uuid::Uuid::parse_str(&ws).unwrap();
    let managers = app.role(platform, home_ws, &["steward.access.*"]).await;
    let lead = app.user_with_role(platform, home_ws, managers).await;
    let res = app.post(&path, Some(&lead.token), json!({})).await;
    assert_eq!((res.status, res.problem()), (StatusCode::FORBIDDEN, "super_admin_required"), "{:?}", res.body);
    // Nor a super admin viewing as that admin (who holds the leaf): the link is the real super
    // admin's alone, and only while signed in as themselves.
    let started = app
        .post("/api/impersonation", Some(&admin), json!({ "user_id": lead.user_id, "reason": "checking a report" }))
        .await;
    assert_eq!(started.status, StatusCode::OK, "{:?}", started.body);
    let res = app
        .call_with(Method::POST, &path, &admin, Some(json!({})), &[("x-steward-confirm", "linked@example.com")])
        .await;
    assert_eq!((res.status, res.problem()), (StatusCode::FORBIDDEN, "super_admin_required"), "{:?}", res.body);

    // An instance with SMTP mails the link instead.
    let kind = app.kind;
    drop(app);
    let app = TestApp::of_kind_with(kind, |c| c.smtp_host = Some("127.0.0.1".into())).await;
    let admin = app.setup_admin().await;
    let ws = home(&app, &admin).await;
    let user = create(&app, &admin, &ws, "mailed.only@example.com", "Mailed Only", None).await;
    let res = app
        .post(&format!("/api/users/{}/password-reset-link", user["id"].as_str().unwrap()), Some(&admin), json!({}))
        .await;
    assert_eq!((res.status, res.problem()), (StatusCode::CONFLICT, "smtp_configured"));
}

async fn home(app: &TestApp, token: &str) -> String {
    app.get("/api/me", Some(token)).await.body["home_workspace"]["id"].as_str().unwrap().to_owned()
}

async fn create(app: &TestApp, token: &str, ws: &str, email: &str, name: &str, password: Option<&str>) -> Value {
    let mut body =
        json!({ "email": email, "name": name, "home_workspace_id": ws, "role_id": SYSTEM_VIEWER_ROLE.to_string() });
    if let Some(p) = password {
        body["password"] = json!(p);
    }
    let res = app.post("/api/users", Some(token), body).await;
    assert_eq!(res.status, StatusCode::CREATED, "{:?}", res.body);
    res.body
}

/// The single-use token in the newest mail to `to`.
pub async fn mailed_token(app: &TestApp, to: &str) -> String {
    let mail = outbox_mail::Entity::find()
        .filter(outbox_mail::Column::ToAddress.eq(to))
        .order_by_desc(outbox_mail::Column::Id)
        .one(app.db())
        .await
        .unwrap()
        .unwrap_or_else(|| panic!("no mail to {to}"));
    // The body never holds the token: it is sealed beside it until the mail is delivered.
    assert!(mail.body_text.contains(steward_backend::mail::TOKEN_SLOT), "{}", mail.body_text);
    let sealed = mail.secret_sealed.expect("an undelivered link mail keeps its token sealed");
    app.state.jwt.unseal(&sealed).expect("sealed under this instance's secret")
}

fn token_in(body: &str) -> String {
    let at = body.find("token=").expect("a link with a token") + "token=".len();
    body[at..].chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_').collect()
}

fn emails(page: &Value) -> Vec<String> {
    page["items"].as_array().unwrap().iter().map(|u| u["email"].as_str().unwrap().to_owned()).collect()
}

async fn directory_searches_filters_sorts_and_pages(app: TestApp) {
    let admin = app.setup_admin().await;
    let ws = home(&app, &admin).await;
    for (email, name) in [
        ("grace.hopper@navy.example", "Grace Hopper"),
        ("alan.turing@bletchley.example", "Alan Turing"),
        ("ada.lovelace@engine.example", "Ada Lovelace"),
        ("edsger@eindhoven.example", "Edsger Dijkstra"),
    ] {
        create(&app, &admin, &ws, email, name, Some(ADMIN_PASSWORD)).await;
    }
    let turing = app.get("/api/users?search=urin", Some(&admin)).await;
    assert_eq!(turing.status, StatusCode::OK, "{:?}", turing.body);
    assert_eq!(emails(&turing.body), ["alan.turing@bletchley.example"]);
    // A row carries its memberships with their names, whichever way the page was found (on
    // PostgreSQL a term many match on a short page is answered from the window walk).
    let window = app.get("/api/users?search=example&limit=1", Some(&admin)).await;
    for row in [&turing.body["items"][0], &window.body["items"][0]] {
        let membership = &row["workspaces"][0];
        assert_eq!(membership["workspace"]["id"].as_str(), Some(ws.as_str()), "{row}");
        assert!(membership["workspace"]["name"].as_str().is_some_and(|n| !n.is_empty()), "{row}");
        assert!(membership["role_name"].as_str().is_some_and(|n| !n.is_empty()), "{row}");
        assert!(membership["role_id"].is_string(), "{row}");
    }
    // Case-insensitive, in the email too; quotes and LIKE wildcards are plain text.
    assert_eq!(emails(&app.get("/api/users?search=EINDHOVEN", Some(&admin)).await.body), ["edsger@eindhoven.example"]);
    assert!(emails(&app.get("/api/users?search=%25%22_x", Some(&admin)).await.body).is_empty());
    // Two characters: an email prefix.
    assert_eq!(emails(&app.get("/api/users?search=gr", Some(&admin)).await.body), ["grace.hopper@navy.example"]);
    assert_eq!(
        emails(&app.get("/api/users?search=ad", Some(&admin)).await.body),
        ["ada.lovelace@engine.example", ADMIN_EMAIL]
    );

    // Sorting by name, one row per page, follows the cursor through every user exactly once.
    let mut seen = Vec::new();
    let mut cursor = String::new();
    loop {
        let page = app.get(&format!("/api/users?sort=name&limit=1{cursor}"), Some(&admin)).await;
        assert_eq!(page.status, StatusCode::OK);
        seen.extend(page.body["items"].as_array().unwrap().iter().map(|u| u["name"].as_str().unwrap().to_owned()));
        match page.body["next_cursor"].as_str() {
            Some(c) => cursor = format!("&cursor={c}"),
            None => break,
        }
    }
    assert_eq!(seen, ["Ada Admin", "Ada Lovelace", "Alan Turing", "Edsger Dijkstra", "Grace Hopper"]);
    let created = app.get("/api/users?limit=2", Some(&admin)).await;
    let next = created.body["next_cursor"].as_str().unwrap();
    let rest = app.get(&format!("/api/users?limit=10&cursor={next}"), Some(&admin)).await;
    assert_eq!(created.body["items"].as_array().unwrap().len() + rest.body["items"].as_array().unwrap().len(), 5);

    // Rows carry the home workspace and role; segments and metrics agree.
    let row = &turing.body["items"][0];
    assert_eq!(row["home_role"], "viewer");
    assert_eq!(row["workspaces"][0]["workspace"]["id"], ws.as_str());
    let id = row["id"].as_str().unwrap();
    assert_eq!(app.post(&format!("/api/users/{id}/deactivate"), Some(&admin), json!({})).await.status, StatusCode::OK);
    let inactive = app.get("/api/users?segment=inactive", Some(&admin)).await;
    assert_eq!(emails(&inactive.body), ["alan.turing@bletchley.example"]);
    assert_eq!(emails(&app.get("/api/users?segment=super_admins", Some(&admin)).await.body), [ADMIN_EMAIL]);
    let metrics = app.get("/api/users/metrics", Some(&admin)).await.body;
    assert_eq!(metrics, json!({ "total": 5, "active": 4, "super_admins": 1, "inactive": 1 }));
    let by_role = app.get(&format!("/api/users?role_id={SYSTEM_ADMIN_ROLE}"), Some(&admin)).await;
    assert_eq!(emails(&by_role.body), [ADMIN_EMAIL]);
    assert_eq!(emails(&app.get("/api/users?status=inactive", Some(&admin)).await.body).len(), 1);

    // The rail: another workspace has no members yet.
    let customer = app.platform_customer().await;
    let other = app.workspace(customer, "Empty").await;
    assert!(emails(&app.get(&format!("/api/users?workspace_id={other}"), Some(&admin)).await.body).is_empty());
    assert_eq!(app.get(&format!("/api/users/metrics?workspace_id={other}"), Some(&admin)).await.body["total"], 0);
    // A workspace filter naming no workspace is the same 404 on every list that takes one.
    let nowhere = uuid::Uuid::now_v7();
    for list in ["users", "users/metrics", "invitations", "roles"] {
        let res = app.get(&format!("/api/{list}?workspace_id={nowhere}"), Some(&admin)).await;
        assert_eq!(res.status, StatusCode::NOT_FOUND, "{list}: {:?}", res.body);
        assert_eq!(res.body["errors"][0]["field"], "workspace_id", "{list}");
    }

    // Bad parameters name themselves.
    for (query, field) in
        [("sort=age", "sort"), ("segment=vip", "segment"), ("status=gone", "status"), ("cursor=zzz", "cursor")]
    {
        let bad = app.get(&format!("/api/users?{query}"), Some(&admin)).await;
        // A cursor the list did not give out names no page (404); the others are malformed (422).
        let status = if field == "cursor" { StatusCode::NOT_FOUND } else { StatusCode::UNPROCESSABLE_ENTITY };
        assert_eq!(bad.status, status, "{query}");
        assert_eq!(bad.body["errors"][0]["field"], field);
    }
}

async fn directory_is_scoped_to_what_you_may_see(app: TestApp) {
    let admin = app.setup_admin().await;
    let (acme, acme_ws) = app.customer("Acme", "tenant").await;
    let (_globex, globex_ws) = app.customer("Globex", "tenant").await;
    // A users manager who also holds what the viewers they manage hold (else they would be
    // "stronger" accounts, see a_workspace_admin_cannot_take_over_a_stronger_account).
    let acme_role = app
        .role(
            acme,
            acme_ws,
            &[
                "steward.access.users.*",
                "steward.customers.view",
                "steward.flows.view",
                "steward.runs.view",
                "steward.connectors.view",
                "steward.data.view",
            ],
        )
        .await;
    let lead = app.user_with_role(acme, acme_ws, acme_role).await;
    let foreign =
        create(&app, &admin, &globex_ws.to_string(), "g@globex.example", "Globex Person", Some(ADMIN_PASSWORD)).await;
    let mine = create(&app, &admin, &acme_ws.to_string(), "a@acme.example", "Acme Person", Some(ADMIN_PASSWORD)).await;

    let list = app.get("/api/users", Some(&lead.token)).await;
    assert_eq!(list.status, StatusCode::OK);
    let seen = emails(&list.body);
    assert!(seen.contains(&"a@acme.example".to_owned()) && !seen.contains(&"g@globex.example".to_owned()), "{seen:?}");
    assert!(!seen.contains(&ADMIN_EMAIL.to_owned()));
    // Another tenant's user does not exist for the lead, whatever the verb.
    let fid = foreign["id"].as_str().unwrap();
    assert_eq!(app.get(&format!("/api/users/{fid}"), Some(&lead.token)).await.status, StatusCode::NOT_FOUND);
    assert_eq!(
        app.post(&format!("/api/users/{fid}/deactivate"), Some(&lead.token), json!({})).await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(app.delete(&format!("/api/users/{fid}"), Some(&lead.token)).await.status, StatusCode::NOT_FOUND);
    assert_eq!(
        app.patch(&format!("/api/users/{fid}"), Some(&lead.token), json!({ "name": "x" })).await.status,
        StatusCode::NOT_FOUND
    );
    // Nor can the lead reach a super admin, or admin mode.
    let me = app.get("/api/me", Some(&admin)).await.body["user_id"].as_str().unwrap().to_owned();
    assert_eq!(
        app.post(&format!("/api/users/{me}/deactivate"), Some(&lead.token), json!({})).await.status,
        StatusCode::NOT_FOUND
    );
    let all = app.call_with(Method::GET, "/api/users", &lead.token, None, &[("x-steward-scope", "all")]).await;
    assert_eq!(all.status, StatusCode::FORBIDDEN);
    // Creating into a foreign workspace is refused as an unknown workspace.
    let into_foreign = app
        .post("/api/users", Some(&lead.token), json!({ "email": "x@acme.example", "name": "X", "home_workspace_id": globex_ws, "role_id": SYSTEM_VIEWER_ROLE.to_string() }))
        .await;
    assert_eq!(
        (into_foreign.status, into_foreign.body["errors"][0]["field"].as_str()),
        (StatusCode::NOT_FOUND, Some("home_workspace_id"))
    );
    // The lead manages their own tenant's people.
    let mid = mine["id"].as_str().unwrap();
    assert_eq!(
        app.post(&format!("/api/users/{mid}/deactivate"), Some(&lead.token), json!({})).await.status,
        StatusCode::OK
    );

    // A workspace-level viewer sees the members of their workspace only.
    let other_ws = app.workspace(acme, "Acme Two").await;
    let viewer_role = app.role(acme, other_ws, &["steward.access.users.view"]).await;
    let ws_viewer = app.user_with_role(acme, other_ws, viewer_role).await;
    let visible = emails(&app.get("/api/users", Some(&ws_viewer.token)).await.body);
    assert_eq!(visible, vec![ws_viewer.email.clone()]);
    assert_eq!(app.get(&format!("/api/users/{mid}"), Some(&ws_viewer.token)).await.status, StatusCode::NOT_FOUND);

    // The Users page delegated in that workspace (its console leaf alone) shows the same rows:
    // that workspace's members, each one opens, and no one else's.
    let page_role = app.role(acme, other_ws, &["steward.console.users.read"]).await;
    let page_reader = app.user_with_role(acme, other_ws, page_role).await;
    let mut visible = emails(&app.get("/api/users", Some(&page_reader.token)).await.body);
    visible.sort();
    let mut expected = vec![ws_viewer.email.clone(), page_reader.email.clone()];
    expected.sort();
    assert_eq!(visible, expected);
    let one = app.get(&format!("/api/users/{}", ws_viewer.user_id), Some(&page_reader.token)).await;
    assert_eq!((one.status, one.body["email"].as_str()), (StatusCode::OK, Some(ws_viewer.email.as_str())));
    assert_eq!(app.get(&format!("/api/users/{mid}"), Some(&page_reader.token)).await.status, StatusCode::NOT_FOUND);
    assert_eq!(app.get(&format!("/api/users/{fid}"), Some(&page_reader.token)).await.status, StatusCode::NOT_FOUND);
    // A read page does not write: its holder cannot deactivate the member it sees.
    let refused =
        app.post(&format!("/api/users/{}/deactivate", ws_viewer.user_id), Some(&page_reader.token), json!({})).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
}

async fn create_without_password_mails_a_single_use_link(app: TestApp) {
    let admin = app.setup_admin().await;
    let ws = home(&app, &admin).await;
    let user = create(&app, &admin, &ws, "new.person@example.com", "New Person", None).await;
    assert_eq!(user["status"], "active");
    // No password: nobody can sign in until the link is used.
    assert_eq!(app.login("new.person@example.com", "").await.status, StatusCode::UNPROCESSABLE_ENTITY);
    let token = mailed_token(&app, "new.person@example.com").await;
    assert!(token.len() >= 43, "a 256-bit token: {token}");
    let weak = app.post("/api/auth/password-reset", None, json!({ "token": token, "password": "short" })).await;
    assert_eq!(
        (weak.status, weak.body["errors"][0]["field"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("password"))
    );
    let new_password = "a brand new passphrase";
    let done = app.post("/api/auth/password-reset", None, json!({ "token": token, "password": new_password })).await;
    assert_eq!(done.status, StatusCode::NO_CONTENT, "{:?}", done.body);
    assert_eq!(app.login("new.person@example.com", new_password).await.status, StatusCode::OK);
    // Single use.
    let again =
        app.post("/api/auth/password-reset", None, json!({ "token": token, "password": "another passphrase!" })).await;
    assert_eq!((again.status, again.problem()), (StatusCode::GONE, "token_expired"));
    // An admin-sent reset: the old link dies when a new one is issued, the new one expires.
    let id = user["id"].as_str().unwrap();
    assert_eq!(
        app.post(&format!("/api/users/{id}/password-reset"), Some(&admin), json!({})).await.status,
        StatusCode::ACCEPTED
    );
    let first = mailed_token(&app, "new.person@example.com").await;
    let by_email = app.post("/api/password-resets", Some(&admin), json!({ "email": "NEW.person@example.com" })).await;
    assert_eq!(by_email.status, StatusCode::ACCEPTED);
    let second = mailed_token(&app, "new.person@example.com").await;
    let stale = app.post("/api/auth/password-reset", None, json!({ "token": first, "password": new_password })).await;
    assert_eq!(stale.status, StatusCode::GONE);
    use sea_orm::ConnectionTrait;
    app.db().execute_unprepared("UPDATE password_resets SET expires_at = created_at").await.unwrap();
    let expired =
        app.post("/api/auth/password-reset", None, json!({ "token": second, "password": new_password })).await;
    assert_eq!(expired.status, StatusCode::GONE);
    // The reset never showed a password, and the audit log has each step.
    let actions: Vec<String> =
        audit_events::Entity::find().all(app.db()).await.unwrap().into_iter().map(|e| e.action).collect();
    for a in ["user.create", "user.password_reset.complete", "user.password_reset.send"] {
        assert!(actions.iter().any(|x| x == a), "{a} missing from {actions:?}");
    }
    let unknown = app.post("/api/password-resets", Some(&admin), json!({ "email": "nobody@example.com" })).await;
    assert_eq!(unknown.body["errors"][0]["field"], "email");
}

async fn bad_input_is_refused_with_the_field_named(app: TestApp) {
    let admin = app.setup_admin().await;
    let ws = home(&app, &admin).await;
    create(&app, &admin, &ws, "taken@example.com", "Taken", Some(ADMIN_PASSWORD)).await;
    let cases = [
        (
            json!({ "email": "TAKEN@example.com", "name": "Dup", "home_workspace_id": ws, "role_id": SYSTEM_VIEWER_ROLE.to_string() }),
            StatusCode::CONFLICT,
            "email",
        ),
        (
            json!({ "email": "not-an-email", "name": "X", "home_workspace_id": ws, "role_id": SYSTEM_VIEWER_ROLE.to_string() }),
            StatusCode::UNPROCESSABLE_ENTITY,
            "email",
        ),
        (
            json!({ "email": "x@example.com", "name": "X", "home_workspace_id": uuid::Uuid::now_v7(), "role_id": SYSTEM_VIEWER_ROLE.to_string() }),
            StatusCode::NOT_FOUND,
            "home_workspace_id",
        ),
        (
            json!({ "email": "x@example.com", "name": "X", "home_workspace_id": ws, "role_id": uuid::Uuid::now_v7() }),
            StatusCode::NOT_FOUND,
            "role_id",
        ),
        (
            json!({ "email": "x@example.com", "name": "", "home_workspace_id": ws, "role_id": SYSTEM_VIEWER_ROLE.to_string() }),
            StatusCode::UNPROCESSABLE_ENTITY,
            "name",
        ),
        (
            json!({ "email": "x@example.com", "name": "X", "password": "short", "home_workspace_id": ws, "role_id": SYSTEM_VIEWER_ROLE.to_string() }),
            StatusCode::UNPROCESSABLE_ENTITY,
            "password",
        ),
    ];
    for (body, status, field) in cases {
        let res = app.post("/api/users", Some(&admin), body.clone()).await;
        assert_eq!(res.status, status, "{body} -> {:?}", res.body);
        assert_eq!(res.body["errors"][0]["field"], field, "{body}");
        assert_eq!(res.headers["content-type"], "application/problem+json");
    }
    // Nothing half-done: no user and no mail for any refused request.
    assert_eq!(users::Entity::find().all(app.db()).await.unwrap().len(), 2);
    assert!(outbox_mail::Entity::find().all(app.db()).await.unwrap().is_empty());
    // Editing onto a taken email is refused the same way.
    let other = create(&app, &admin, &ws, "other@example.com", "Other", Some(ADMIN_PASSWORD)).await;
    let id = other["id"].as_str().unwrap();
    let clash = app.patch(&format!("/api/users/{id}"), Some(&admin), json!({ "email": "taken@example.com" })).await;
    assert_eq!((clash.status, clash.body["errors"][0]["field"].as_str()), (StatusCode::CONFLICT, Some("email")));
    let half = app.patch(&format!("/api/users/{id}"), Some(&admin), json!({ "home_workspace_id": ws })).await;
    assert_eq!(half.body["errors"][0]["field"], "role_id");
    let renamed =
        app.patch(&format!("/api/users/{id}"), Some(&admin), json!({ "name": "Renamed", "locale": "de" })).await;
    assert_eq!((renamed.body["name"].as_str(), renamed.body["locale"].as_str()), (Some("Renamed"), Some("de")));
    let unknown_field = app.patch(&format!("/api/users/{id}"), Some(&admin), json!({ "password": "x" })).await;
    assert_eq!(unknown_field.status, StatusCode::UNPROCESSABLE_ENTITY);
}

async fn deactivation_ends_sessions_and_refuses_login(app: TestApp) {
    let admin = app.setup_admin().await;
    let ws = home(&app, &admin).await;
    let user = create(&app, &admin, &ws, "worker@example.com", "Worker", Some(ADMIN_PASSWORD)).await;
    let id = user["id"].as_str().unwrap();
    let session =
        app.login("worker@example.com", ADMIN_PASSWORD).await.body["access_token"].as_str().unwrap().to_owned();
    assert_eq!(app.get("/api/me", Some(&session)).await.status, StatusCode::OK);
    let off = app.post(&format!("/api/users/{id}/deactivate"), Some(&admin), json!({})).await;
    assert_eq!((off.status, off.body["status"].as_str()), (StatusCode::OK, Some("inactive")));
    assert_eq!(app.get("/api/me", Some(&session)).await.status, StatusCode::UNAUTHORIZED);
    let refused = app.login("worker@example.com", ADMIN_PASSWORD).await;
    assert_eq!((refused.status, refused.problem()), (StatusCode::FORBIDDEN, "account_inactive"));
    // Reactivation does not revive the old session.
    assert_eq!(app.post(&format!("/api/users/{id}/activate"), Some(&admin), json!({})).await.status, StatusCode::OK);
    assert_eq!(app.get("/api/me", Some(&session)).await.status, StatusCode::UNAUTHORIZED);
    assert_eq!(app.login("worker@example.com", ADMIN_PASSWORD).await.status, StatusCode::OK);
    // Not yourself.
    let me = app.get("/api/me", Some(&admin)).await.body["user_id"].as_str().unwrap().to_owned();
    let myself = app.post(&format!("/api/users/{me}/deactivate"), Some(&admin), json!({})).await;
    assert_eq!((myself.status, myself.problem()), (StatusCode::CONFLICT, "yourself"));
    let erase_me = app.delete(&format!("/api/users/{me}"), Some(&admin)).await;
    assert_eq!((erase_me.status, erase_me.problem()), (StatusCode::CONFLICT, "yourself"));
}

async fn erasure_scrubs_identity_and_keeps_the_audit_log(app: TestApp) {
    let admin = app.setup_admin().await;
    let ws = home(&app, &admin).await;
    let user = create(&app, &admin, &ws, "private.person@example.com", "Private Person", Some(ADMIN_PASSWORD)).await;
    let id = user["id"].as_str().unwrap();
    let session =
        app.login("private.person@example.com", ADMIN_PASSWORD).await.body["access_token"].as_str().unwrap().to_owned();
    let before = audit_events::Entity::find().all(app.db()).await.unwrap().len();
    assert_eq!(app.delete(&format!("/api/users/{id}"), Some(&admin)).await.status, StatusCode::NO_CONTENT);
    let row = users::Entity::find_by_id(uuid::Uuid::parse_str(id).unwrap())
        .one(app.db())
        .await
        .unwrap()
        .expect("the row stays");
    assert!(row.erased_at.is_some());
    assert_eq!(row.status, "inactive");
    assert_ne!(row.email, "private.person@example.com");
    assert_eq!(row.name, "Erased user");
    assert!(row.password_hash.is_none() && row.home_workspace_id.is_none());
    assert_eq!(app.get("/api/me", Some(&session)).await.status, StatusCode::UNAUTHORIZED);
    assert_eq!(app.login("private.person@example.com", ADMIN_PASSWORD).await.status, StatusCode::UNAUTHORIZED);
    // Memberships are gone; the directory leaves the account out unless asked.
    let members = app.get(&format!("/api/users/{id}"), Some(&admin)).await;
    assert_eq!(members.body["workspaces"], json!([]));
    assert!(!emails(&app.get("/api/users", Some(&admin)).await.body).iter().any(|e| e.starts_with("erased-")));
    assert_eq!(emails(&app.get("/api/users?include_erased=true&segment=inactive", Some(&admin)).await.body).len(), 1);
    // The audit log kept every earlier event and still verifies.
    assert!(audit_events::Entity::find().all(app.db()).await.unwrap().len() > before);
    let verify = app.get("/api/audit/verify", Some(&admin)).await;
    assert_eq!(verify.body["ok"], true, "{:?}", verify.body);
    // Erasing twice, or editing the erased account, is refused.
    assert_eq!(app.delete(&format!("/api/users/{id}"), Some(&admin)).await.problem(), "erased");
    assert_eq!(
        app.patch(&format!("/api/users/{id}"), Some(&admin), json!({ "name": "Back" })).await.problem(),
        "erased"
    );
    // The email is free again for a new account.
    create(&app, &admin, &ws, "private.person@example.com", "Someone New", Some(ADMIN_PASSWORD)).await;
}

async fn bulk_reports_skipped_ids_and_dry_run_changes_nothing(app: TestApp) {
    let admin = app.setup_admin().await;
    let ws = home(&app, &admin).await;
    let a =
        create(&app, &admin, &ws, "a@example.com", "A", Some(ADMIN_PASSWORD)).await["id"].as_str().unwrap().to_owned();
    let b =
        create(&app, &admin, &ws, "b@example.com", "B", Some(ADMIN_PASSWORD)).await["id"].as_str().unwrap().to_owned();
    let me = app.get("/api/me", Some(&admin)).await.body["user_id"].as_str().unwrap().to_owned();
    let unknown = uuid::Uuid::now_v7().to_string();
    let ids = json!([a, b, me, "not-a-uuid", unknown, a]);
    let dry =
        app.post("/api/users/bulk", Some(&admin), json!({ "action": "deactivate", "ids": ids, "dry_run": true })).await;
    assert_eq!(dry.status, StatusCode::OK, "{:?}", dry.body);
    assert_eq!(dry.body["applied"], json!([a, b]));
    let reasons: Vec<(String, String)> = dry.body["skipped"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| (s["id"].as_str().unwrap().to_owned(), s["reason"].as_str().unwrap().to_owned()))
        .collect();
    assert_eq!(
        reasons,
        [
            (me.clone(), "yourself".into()),
            ("not-a-uuid".into(), "invalid_id".into()),
            (unknown, "not_found".into()),
            (a.clone(), "duplicate".into())
        ]
    );
    // The dry run changed nothing and wrote nothing to the audit log.
    assert_eq!(app.get(&format!("/api/users/{a}"), Some(&admin)).await.body["status"], "active");
    let deactivations = || async {
        audit_events::Entity::find()
            .filter(audit_events::Column::Action.eq("user.deactivate"))
            .all(app.db())
            .await
            .unwrap()
            .len()
    };
    assert_eq!(deactivations().await, 0);
    let real = app.post("/api/users/bulk", Some(&admin), json!({ "action": "deactivate", "ids": ids })).await;
    assert_eq!(real.body["applied"], json!([a, b]));
    assert_eq!(deactivations().await, 2);
    let again = app.post("/api/users/bulk", Some(&admin), json!({ "action": "deactivate", "ids": [a] })).await;
    assert_eq!(again.body["skipped"][0]["reason"], "already_inactive");
    // assign_role: a role of another workspace does not fit; a foreign customer's user is skipped.
    let customer = app.platform_customer().await;
    let second_ws = app.workspace(customer, "Second").await;
    let (_, globex_ws) = app.customer("Globex", "tenant").await;
    let foreign = create(&app, &admin, &globex_ws.to_string(), "g@globex.example", "G", Some(ADMIN_PASSWORD)).await
        ["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let assign = app
        .post("/api/users/bulk", Some(&admin), json!({ "action": "assign_role", "ids": [a, foreign], "workspace_id": second_ws, "role_id": SYSTEM_VIEWER_ROLE.to_string() }))
        .await;
    assert_eq!(assign.body["applied"], json!([a]), "{:?}", assign.body);
    assert_eq!(assign.body["skipped"][0]["reason"], "other_customer");
    let listed = app.get(&format!("/api/users/{a}"), Some(&admin)).await.body["workspaces"].as_array().unwrap().len();
    assert_eq!(listed, 2);
    let missing = app.post("/api/users/bulk", Some(&admin), json!({ "action": "assign_role", "ids": [a] })).await;
    assert_eq!(missing.body["errors"][0]["field"], "workspace_id");
    let empty = app.post("/api/users/bulk", Some(&admin), json!({ "action": "activate", "ids": [] })).await;
    assert_eq!(empty.body["errors"][0]["field"], "ids");
    // Delete erases; a tenant lead's bulk call cannot reach another tenant or a super admin.
    let erased = app.post("/api/users/bulk", Some(&admin), json!({ "action": "delete", "ids": [b] })).await;
    assert_eq!(erased.body["applied"], json!([b]));
    let (acme, acme_ws) = app.customer("Acme", "tenant").await;
    let lead_role = app.role(acme, acme_ws, &["steward.access.users.*"]).await;
    let lead = app.user_with_role(acme, acme_ws, lead_role).await;
    let reach =
        app.post("/api/users/bulk", Some(&lead.token), json!({ "action": "deactivate", "ids": [foreign, me] })).await;
    let skipped: Vec<&str> =
        reach.body["skipped"].as_array().unwrap().iter().map(|s| s["reason"].as_str().unwrap()).collect();
    assert_eq!(skipped, ["not_found", "not_found"]);
    assert_eq!(app.get(&format!("/api/users/{foreign}"), Some(&admin)).await.body["status"], "active");
}

async fn invitations_are_single_use_and_expire(app: TestApp) {
    let admin = app.setup_admin().await;
    let ws = home(&app, &admin).await;
    let invite = |email: &'static str| {
        let (app, admin, ws) = (&app, admin.clone(), ws.clone());
        async move {
            app.post(
                "/api/invitations",
                Some(&admin),
                json!({ "email": email, "workspace_id": ws, "role_id": SYSTEM_VIEWER_ROLE.to_string() }),
            )
            .await
        }
    };
    let created = invite("guest@example.com").await;
    assert_eq!(created.status, StatusCode::CREATED, "{:?}", created.body);
    assert_eq!(created.body["status"], "pending");
    assert!(created.body.get("token").is_none(), "the token travels only by mail");
    let token = mailed_token(&app, "guest@example.com").await;
    assert!(token.len() >= 43);
    let accept = |token: String| {
        let app = &app;
        async move {
            app.post(
                "/api/auth/accept-invitation",
                None,
                json!({ "token": token, "name": "Guest", "password": "guest passphrase 1" }),
            )
            .await
        }
    };
    let accepted = accept(token.clone()).await;
    assert_eq!(accepted.status, StatusCode::CREATED, "{:?}", accepted.body);
    let guest = accepted.body["access_token"].as_str().unwrap();
    let me = app.get("/api/me", Some(guest)).await.body;
    assert_eq!(
        (me["email"].as_str(), me["home_workspace"]["id"].as_str()),
        (Some("guest@example.com"), Some(ws.as_str()))
    );
    assert_eq!(accept(token).await.status, StatusCode::GONE);
    // An existing account cannot be invited again.
    assert_eq!(invite("guest@example.com").await.body["errors"][0]["field"], "email");

    // Revoked and expired invitations cannot be accepted, and the list shows them on request.
    invite("revoked@example.com").await;
    let revoked_token = mailed_token(&app, "revoked@example.com").await;
    let pending = app.get("/api/invitations", Some(&admin)).await;
    let rid = pending.body["items"][0]["id"].as_str().unwrap().to_owned();
    assert_eq!(app.delete(&format!("/api/invitations/{rid}"), Some(&admin)).await.status, StatusCode::NO_CONTENT);
    assert_eq!(accept(revoked_token).await.status, StatusCode::GONE);
    invite("late@example.com").await;
    let late_token = mailed_token(&app, "late@example.com").await;
    use sea_orm::ConnectionTrait;
    app.db()
        .execute_unprepared("UPDATE invitations SET expires_at = created_at WHERE email = 'late@example.com'")
        .await
        .unwrap();
    assert_eq!(accept(late_token).await.status, StatusCode::GONE);
    let count = |q: &'static str| {
        let (app, admin) = (&app, admin.clone());
        async move { app.get(&format!("/api/invitations{q}"), Some(&admin)).await.body["items"].as_array().unwrap().len() }
    };
    assert_eq!(count("").await, 0);
    assert_eq!(count("?include_accepted=true").await, 1);
    assert_eq!(count("?include_expired=true").await, 2);
    assert_eq!(count("?include_accepted=true&include_expired=true").await, 3);
    // Another tenant's lead cannot see or revoke them.
    let (acme, acme_ws) = app.customer("Acme", "tenant").await;
    let role = app.role(acme, acme_ws, &["steward.access.invitations.manage"]).await;
    let lead = app.user_with_role(acme, acme_ws, role).await;
    let theirs = app.get("/api/invitations?include_accepted=true&include_expired=true", Some(&lead.token)).await;
    assert_eq!(theirs.body["items"], json!([]));
    assert_eq!(app.delete(&format!("/api/invitations/{rid}"), Some(&lead.token)).await.status, StatusCode::NOT_FOUND);
    let into_foreign = app
        .post(
            "/api/invitations",
            Some(&lead.token),
            json!({ "email": "z@example.com", "workspace_id": ws, "role_id": SYSTEM_VIEWER_ROLE.to_string() }),
        )
        .await;
    assert_eq!(into_foreign.body["errors"][0]["field"], "workspace_id");
    // Inviting with a role stronger than your own is escalation.
    let escalate = app
        .post(
            "/api/invitations",
            Some(&lead.token),
            json!({ "email": "z@example.com", "workspace_id": acme_ws, "role_id": SYSTEM_ADMIN_ROLE.to_string() }),
        )
        .await;
    assert_eq!(escalate.problem(), "escalation_refused");
    let garbage = app
        .post(
            "/api/auth/accept-invitation",
            None,
            json!({ "token": "nope", "name": "X", "password": "long enough password" }),
        )
        .await;
    assert_eq!(garbage.status, StatusCode::GONE);
}

async fn sessions_are_listed_and_revocation_bites_at_once(app: TestApp) {
    let admin = app.setup_admin().await;
    let ws = home(&app, &admin).await;
    let user = create(&app, &admin, &ws, "s@example.com", "S", Some(ADMIN_PASSWORD)).await;
    let id = user["id"].as_str().unwrap();
    let one = app.login("s@example.com", ADMIN_PASSWORD).await.body;
    let two = app.login("s@example.com", ADMIN_PASSWORD).await.body["access_token"].as_str().unwrap().to_owned();
    let listed = app.get(&format!("/api/sessions?user_id={id}"), Some(&admin)).await;
    assert_eq!(listed.body["items"].as_array().unwrap().len(), 2, "{:?}", listed.body);
    let all = app.get("/api/sessions", Some(&admin)).await;
    assert!(all.body["items"].as_array().unwrap().iter().any(|s| s["current"] == true));
    let sid = one["session_id"].as_str().unwrap();
    let revoked = app.delete(&format!("/api/sessions/{sid}"), Some(&admin)).await;
    assert_eq!(revoked.body["revoked"], 1);
    assert_eq!(app.get("/api/me", Some(one["access_token"].as_str().unwrap())).await.status, StatusCode::UNAUTHORIZED);
    assert_eq!(app.get("/api/me", Some(&two)).await.status, StatusCode::OK);
    let all_of = app.delete(&format!("/api/users/{id}/sessions"), Some(&admin)).await;
    assert_eq!(all_of.body["revoked"], 1);
    assert_eq!(app.get("/api/me", Some(&two)).await.status, StatusCode::UNAUTHORIZED);
    assert_eq!(app.get(&format!("/api/sessions?user_id={id}"), Some(&admin)).await.body["items"], json!([]));
    assert_eq!(
        app.get(&format!("/api/sessions?user_id={id}&include_ended=true"), Some(&admin)).await.body["items"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
    // Another tenant's lead cannot see or end these sessions.
    let (acme, acme_ws) = app.customer("Acme", "tenant").await;
    let role = app.role(acme, acme_ws, &["steward.access.sessions.manage"]).await;
    let lead = app.user_with_role(acme, acme_ws, role).await;
    let theirs = app.get("/api/sessions?include_ended=true", Some(&lead.token)).await;
    assert!(theirs.body["items"].as_array().unwrap().iter().all(|s| s["user_email"] == lead.email.as_str()));
    let admin_session = app.get("/api/me", Some(&admin)).await.body["session_id"].as_str().unwrap().to_owned();
    assert_eq!(
        app.delete(&format!("/api/sessions/{admin_session}"), Some(&lead.token)).await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(app.get("/api/me", Some(&admin)).await.status, StatusCode::OK);
}

/// A real SMTP server (Python's aiosmtpd) writing into a maildir.
struct SmtpServer {
    child: std::process::Child,
    port: u16,
    maildir: tempfile::TempDir,
}

impl Drop for SmtpServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl SmtpServer {
    fn start() -> Self {
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let maildir = tempfile::tempdir().unwrap();
        let child = std::process::Command::new("python3")
            .args(["-m", "aiosmtpd", "-n", "-l", &format!("127.0.0.1:{port}"), "-c", "aiosmtpd.handlers.Mailbox"])
            .arg(maildir.path().join("mail"))
            .stdout(std::process::Stdio::null())
            .spawn()
            .expect("python3 with aiosmtpd (scripts/test.sh installs it)");
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(15);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(std::time::Instant::now() < deadline, "aiosmtpd did not start (pip install aiosmtpd)");
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
        Self { child, port, maildir }
    }

    /// A real SMTP server and the app again (same database kind, fresh) delivering to it.
    async fn serving(app: TestApp) -> (Self, TestApp) {
        let smtp = Self::start();
        let (kind, port) = (app.kind, smtp.port);
        drop(app);
        let app = TestApp::of_kind_with(kind, |c| {
            c.smtp_host = Some("127.0.0.1".into());
            c.smtp_port = port;
            c.smtp_security = "none".into();
            c.smtp_from = "Steward <steward@example.com>".into();
            c.public_url = Some("https://steward.example.com".into());
        })
        .await;
        (smtp, app)
    }

    /// Every message the server received, as raw text.
    fn messages(&self) -> Vec<String> {
        let mut out = Vec::new();
        for sub in ["new", "cur"] {
            if let Ok(entries) = std::fs::read_dir(self.maildir.path().join("mail").join(sub)) {
                for e in entries.flatten() {
                    out.push(std::fs::read_to_string(e.path()).unwrap_or_default());
                }
            }
        }
        out
    }
}

async fn mail_is_delivered_through_a_real_smtp_server(app: TestApp) {
    let (smtp, app) = SmtpServer::serving(app).await;
    let admin = app.setup_admin().await;
    let ws = home(&app, &admin).await;
    create(&app, &admin, &ws, "mailed@example.com", "Mailed Person", None).await;
    let pending = app.get("/api/outbox?pending=true", Some(&admin)).await;
    assert_eq!(pending.body["items"].as_array().unwrap().len(), 1, "{:?}", pending.body);
    // What the outbox shows (to a super admin) holds no working link: the token is sealed apart.
    let stored = pending.body["items"][0]["body_text"].as_str().unwrap().to_owned();
    assert!(stored.contains("reset-password?token=[single-use token"), "{stored}");
    let token = mailed_token(&app, "mailed@example.com").await;
    assert!(!stored.contains(&token));
    let sent = steward_backend::mail::deliver_pending(&app.state).await.unwrap();
    assert_eq!(sent, 1);
    // Delivered once: a second pass finds nothing to send.
    assert_eq!(steward_backend::mail::deliver_pending(&app.state).await.unwrap(), 0);
    let messages = smtp.messages();
    assert_eq!(messages.len(), 1);
    let message = &messages[0];
    assert!(message.contains("To: mailed@example.com"), "{message}");
    assert!(message.contains("https://steward.example.com/reset-password?token="), "{message}");
    let delivered = token_in(&message.replace("=\r\n", "").replace("=\n", "").replace("=3D", "="));
    assert_eq!(delivered, token, "the delivered link carries the sealed token");
    // Once sent, the sealed copy is gone: the token is the recipient's alone.
    let row = outbox_mail::Entity::find().one(app.db()).await.unwrap().unwrap();
    assert_eq!(row.secret_sealed, None);
    assert!(!row.body_text.contains(&token));
    let done =
        app.post("/api/auth/password-reset", None, json!({ "token": token, "password": "set through smtp ok" })).await;
    assert_eq!(done.status, StatusCode::NO_CONTENT, "{:?}", done.body);
    assert_eq!(app.login("mailed@example.com", "set through smtp ok").await.status, StatusCode::OK);
    let outbox = app.get("/api/outbox", Some(&admin)).await;
    assert!(outbox.body["items"][0]["sent_at"].is_string());
}

async fn common_search_terms_page_like_rare_ones(app: TestApp) {
    use sea_orm::Set;
    let admin = app.setup_admin().await;
    let ws = uuid::Uuid::parse_str(&home(&app, &admin).await).unwrap();
    let customer = app.platform_customer().await;
    // 2,100 Smiths (a common term: more matches than the index strategy takes) and 3 Joneses.
    let now = chrono::Utc::now();
    let rows: Vec<users::ActiveModel> = (0..2103)
        .map(|i| {
            let last = if i < 2100 { "Smith" } else { "Jones" };
            users::ActiveModel {
                id: Set(uuid::Uuid::now_v7()),
                customer_id: Set(customer),
                home_workspace_id: Set(Some(ws)),
                email: Set(format!("p{i}.{}@example.com", last.to_lowercase())),
                name: Set(format!("Person{i} {last}")),
                locale: Set("en".into()),
                status: Set("active".into()),
                super_admin: Set(false),
                password_hash: Set(None),
                totp_secret: Set(None),
                totp_enabled: Set(false),
                totp_last_step: Set(None),
                last_login_at: Set(None),
                erased_at: Set(None),
                created_at: Set(now - chrono::Duration::seconds(i)),
                updated_at: Set(now),
            }
        })
        .collect();
    for chunk in rows.chunks(300) {
        users::Entity::insert_many(chunk.to_vec()).exec_without_returning(app.db()).await.unwrap();
    }
    // Common: walk the pages; every row matches, in order, each exactly once.
    let mut seen = std::collections::HashSet::new();
    let mut cursor = String::new();
    let mut last_created = None::<String>;
    loop {
        let page = app.get(&format!("/api/users?search=SMITH&limit=200{cursor}"), Some(&admin)).await;
        assert_eq!(page.status, StatusCode::OK, "{:?}", page.body);
        for u in page.body["items"].as_array().unwrap() {
            assert!(u["email"].as_str().unwrap().contains("smith"));
            let created = u["created_at"].as_str().unwrap().to_owned();
            assert!(last_created.as_ref().is_none_or(|l| *l >= created), "newest first");
            last_created = Some(created);
            assert!(seen.insert(u["id"].as_str().unwrap().to_owned()), "a row twice");
        }
        match page.body["next_cursor"].as_str() {
            Some(c) => cursor = format!("&cursor={c}"),
            None => break,
        }
    }
    assert_eq!(seen.len(), 2100);
    // Rare: the index path.
    assert_eq!(emails(&app.get("/api/users?search=jones", Some(&admin)).await.body).len(), 3);
    assert_eq!(emails(&app.get("/api/users?search=p2101.j", Some(&admin)).await.body), ["p2101.jones@example.com"]);
    // Matching no one, and matching only people the filter leaves out (no inactive Jones).
    assert!(emails(&app.get("/api/users?search=nobody.here", Some(&admin)).await.body).is_empty());
    assert!(emails(&app.get("/api/users?search=jones&status=inactive", Some(&admin)).await.body).is_empty());
    // A cursor past the last Jones: the rest of a rare term's matches is empty.
    let first = app.get("/api/users?search=jones&limit=2", Some(&admin)).await;
    let next = first.body["next_cursor"].as_str().unwrap();
    let rest = app.get(&format!("/api/users?search=jones&limit=2&cursor={next}"), Some(&admin)).await;
    assert_eq!(emails(&rest.body).len(), 1);
}

async fn a_workspace_admin_cannot_take_over_a_stronger_account(app: TestApp) {
    let admin = app.setup_admin().await;
    let (acme, acme_ws) = app.customer("Acme", "tenant").await;
    let finance = app.workspace(acme, "Finance").await;
    // The lead manages users in the main workspace only.
    let lead_role = app.role(acme, acme_ws, &["steward.access.users.*", "steward.access.sessions.manage"]).await;
    let lead = app.user_with_role(acme, acme_ws, lead_role).await;
    // The target lives in the same workspace but holds roles management in Finance.
    let strong = app.user_with_role(acme, acme_ws, lead_role).await;
    let finance_admin = app.role(acme, finance, &["steward.access.roles.manage"]).await;
    let grant = app
        .post(
            &format!("/api/workspaces/{finance}/members"),
            Some(&admin),
            json!({ "email": strong.email, "role_id": finance_admin }),
        )
        .await;
    assert!(grant.status.is_success(), "{:?}", grant.body);
    let id = strong.user_id;
    let takeover =
        app.patch(&format!("/api/users/{id}"), Some(&lead.token), json!({ "email": "attacker@example.com" })).await;
    assert_eq!((takeover.status, takeover.problem()), (StatusCode::FORBIDDEN, "stronger_account"));
    let reset = app.post(&format!("/api/users/{id}/password-reset"), Some(&lead.token), json!({})).await;
    assert_eq!(reset.problem(), "stronger_account");
    let lock_out = app.post(&format!("/api/users/{id}/deactivate"), Some(&lead.token), json!({})).await;
    assert_eq!(lock_out.problem(), "stronger_account");
    let bulk = app.post("/api/users/bulk", Some(&lead.token), json!({ "action": "delete", "ids": [id] })).await;
    assert_eq!(bulk.body["skipped"][0]["reason"], "stronger_account");
    let two_factor = app.delete(&format!("/api/users/{id}/2fa"), Some(&lead.token)).await;
    assert_eq!(two_factor.problem(), "stronger_account");
    // Ending the stronger user's sessions follows the same rules: all of them, or one.
    let all = app.delete(&format!("/api/users/{id}/sessions"), Some(&lead.token)).await;
    assert_eq!((all.status, all.problem()), (StatusCode::FORBIDDEN, "stronger_account"));
    let session = {
        use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
        use steward_backend::store::entities::sessions;
        let rows = sessions::Entity::find().filter(sessions::Column::UserId.eq(id)).all(app.db()).await.unwrap();
        rows.first().expect("the strong user has a session").id
    };
    let one = app.delete(&format!("/api/sessions/{session}"), Some(&lead.token)).await;
    assert_eq!((one.status, one.problem()), (StatusCode::FORBIDDEN, "stronger_account"));
    assert_eq!(app.get("/api/me", Some(&strong.token)).await.status, StatusCode::OK, "still signed in");
    // Nothing changed; an equal colleague is still manageable.
    let row = app.get(&format!("/api/users/{id}"), Some(&admin)).await.body;
    assert_eq!((row["email"].as_str(), row["status"].as_str()), (Some(strong.email.as_str()), Some("active")));
    let peer = app.user_with_role(acme, acme_ws, lead_role).await;
    let renamed =
        app.patch(&format!("/api/users/{}", peer.user_id), Some(&lead.token), json!({ "name": "Peer" })).await;
    assert_eq!(renamed.status, StatusCode::OK, "{:?}", renamed.body);
    // But a peer's address and credentials are not a peer's to change: re-addressing an equal
    // colleague and mailing the reset link to the new address was a takeover.
    let peer_path = format!("/api/users/{}", peer.user_id);
    let readdress = app.patch(&peer_path, Some(&lead.token), json!({ "email": "attacker@example.com" })).await;
    assert_eq!(
        (readdress.status, readdress.problem()),
        (StatusCode::FORBIDDEN, "peer_account"),
        "{:?}",
        readdress.body
    );
    let reset = app.post(&format!("{peer_path}/password-reset"), Some(&lead.token), json!({})).await;
    assert_eq!((reset.status, reset.problem()), (StatusCode::FORBIDDEN, "peer_account"));
    let by_address = app.post("/api/password-resets", Some(&lead.token), json!({ "email": peer.email })).await;
    assert_eq!((by_address.status, by_address.problem()), (StatusCode::FORBIDDEN, "peer_account"));
    let two_factor = app.delete(&format!("{peer_path}/2fa"), Some(&lead.token)).await;
    assert_eq!((two_factor.status, two_factor.problem()), (StatusCode::FORBIDDEN, "peer_account"));
    let row = app.get(&peer_path, Some(&admin)).await.body;
    assert_eq!(row["email"].as_str(), Some(peer.email.as_str()), "the address is unchanged");
    let mailed = outbox_mail::Entity::find()
        .filter(outbox_mail::Column::ToAddress.eq(peer.email.clone()))
        .all(app.db())
        .await
        .unwrap();
    assert!(mailed.is_empty(), "no link went out: {mailed:?}");
    // Each refusal is audited, naming why.
    let refused = audit_events::Entity::find()
        .filter(audit_events::Column::Action.eq("access.refused"))
        .all(app.db())
        .await
        .unwrap()
        .into_iter()
        .filter(|e| e.summary.to_string().contains("peer_account"))
        .count();
    assert_eq!(refused, 4, "the email change, both reset links and the 2FA reset");
    // Someone holding more (the lead's role, and flows management in the same workspace) may.
    let senior_role = app
        .role(acme, acme_ws, &["steward.access.users.*", "steward.access.sessions.manage", "steward.flows.view"])
        .await;
    let senior = app.user_with_role(acme, acme_ws, senior_role).await;
    let readdress = app.patch(&peer_path, Some(&senior.token), json!({ "email": "peer-new@example.com" })).await;
    assert_eq!(readdress.status, StatusCode::OK, "{:?}", readdress.body);
    let reset = app.post(&format!("{peer_path}/password-reset"), Some(&senior.token), json!({})).await;
    assert_eq!(reset.status, StatusCode::ACCEPTED, "{:?}", reset.body);
    // And the peer rule runs the other way too: the junior cannot touch the senior.
    let up = app
        .patch(&format!("/api/users/{}", senior.user_id), Some(&lead.token), json!({ "email": "x@example.com" }))
        .await;
    assert_eq!(up.status, StatusCode::FORBIDDEN, "{:?}", up.body);
}

/// Issue 34's outbox: a mail the outbox gave up on is `failed`; resending it (the
/// `steward.system.mail` leaf, audited) starts its attempts again and the next pass delivers it;
/// mail that is not failed, another tenant's mail, a principal without the leaf and an instance
/// without SMTP are each refused.
async fn failed_mail_is_resent_once_by_a_holder_of_the_leaf(app: TestApp) {
    // Without an SMTP server mail stays in the outbox: resending would do nothing.
    let plain = app.setup_admin().await;
    let plain_ws = home(&app, &plain).await;
    create(&app, &plain, &plain_ws, "kept@example.com", "Kept Mail", None).await;
    let kept = outbox_mail::Entity::find().one(app.db()).await.unwrap().unwrap();
    let id = kept.id;
    let mut given_up: outbox_mail::ActiveModel = kept.into();
    given_up.attempts = sea_orm::Set(5);
    sea_orm::ActiveModelTrait::update(given_up, app.db()).await.unwrap();
    let refused = app.call(Method::POST, &format!("/api/outbox/{id}/resend"), Some(&plain), None).await;
    assert_eq!((refused.status, refused.problem()), (StatusCode::CONFLICT, "smtp_not_configured"));
    let (smtp, app) = SmtpServer::serving(app).await;
    let admin = app.setup_admin().await;
    let ws = home(&app, &admin).await;
    create(&app, &admin, &ws, "late@example.com", "Late Mail", None).await;
    let row = outbox_mail::Entity::find().one(app.db()).await.unwrap().unwrap();
    let id = row.id;
    let listed = app.get("/api/outbox", Some(&admin)).await;
    assert_eq!(listed.body["items"][0]["status"], "waiting", "{:?}", listed.body);
    let resend = format!("/api/outbox/{id}/resend");
    let early = app.call(Method::POST, &resend, Some(&admin), None).await;
    assert_eq!((early.status, early.problem()), (StatusCode::CONFLICT, "not_failed"));
    // The outbox gave up on it (five failed attempts).
    let mut failed: outbox_mail::ActiveModel = row.into();
    failed.attempts = sea_orm::Set(5);
    failed.last_error = sea_orm::Set(Some("Connection refused (os error 111)".into()));
    sea_orm::ActiveModelTrait::update(failed, app.db()).await.unwrap();
    let listed = app.get("/api/outbox", Some(&admin)).await;
    assert_eq!(listed.body["items"][0]["status"], "failed");
    assert_eq!(steward_backend::mail::deliver_pending(&app.state).await.unwrap(), 0, "given up on");
    // Without the leaf: refused; another tenant's lead with it: not found.
    let reader = app.principal(&["steward.system.logs"]).await;
    assert_eq!(app.call(Method::POST, &resend, Some(&reader.token), None).await.status, StatusCode::FORBIDDEN);
    let (acme, acme_ws) = app.customer("Acme", "tenant").await;
    let role = app.role(acme, acme_ws, &["steward.system.logs", "steward.system.mail"]).await;
    let foreign = app.user_with_role(acme, acme_ws, role).await;
    assert_eq!(app.call(Method::POST, &resend, Some(&foreign.token), None).await.status, StatusCode::NOT_FOUND);
    // Resent: waiting again, audited, and delivered by the next pass; a second resend is refused.
    let again = app.call(Method::POST, &resend, Some(&admin), None).await;
    assert_eq!(again.status, StatusCode::OK, "{:?}", again.body);
    assert_eq!((again.body["status"].as_str(), again.body["attempts"].as_i64()), (Some("waiting"), Some(0)));
    let twice = app.call(Method::POST, &resend, Some(&admin), None).await;
    assert_eq!(twice.problem(), "not_failed");
    let events = app.get(&format!("/api/audit?action=mail.resend&target_id={id}"), Some(&admin)).await;
    assert_eq!(events.body["items"].as_array().map(Vec::len), Some(1), "{:?}", events.body);
    assert_eq!(steward_backend::mail::deliver_pending(&app.state).await.unwrap(), 1);
    assert!(smtp.messages().iter().any(|m| m.contains("To: late@example.com")));
    let sent = app.get("/api/outbox", Some(&admin)).await;
    assert_eq!(sent.body["items"][0]["status"], "sent");
    assert_eq!(app.call(Method::POST, &resend, Some(&admin), None).await.problem(), "not_failed");
}

/// Seed 002's Active toggle: a user created inactive cannot sign in until activated and is
/// mailed nothing; active is the default (absent means active).
async fn a_user_created_inactive_cannot_sign_in_and_gets_no_mail(app: TestApp) {
    let admin = app.setup_admin().await;
    let ws = home(&app, &admin).await;
    let body = |email: &str, password: Option<&str>| {
        let mut b = json!({ "email": email, "name": "Quiet Person", "home_workspace_id": ws,
            "role_id": SYSTEM_VIEWER_ROLE.to_string(), "active": false });
        if let Some(p) = password {
            b["password"] = json!(p);
        }
        b
    };
    let quiet = app.post("/api/users", Some(&admin), body("quiet@example.com", None)).await;
    assert_eq!(
        (quiet.status, quiet.body["status"].as_str()),
        (StatusCode::CREATED, Some("inactive")),
        "{:?}",
        quiet.body
    );
    let mails =
        outbox_mail::Entity::find().filter(outbox_mail::Column::ToAddress.eq("quiet@example.com")).all(app.db());
    assert!(mails.await.unwrap().is_empty(), "no link for an account that cannot sign in");
    let with_password =
        app.post("/api/users", Some(&admin), body("held@example.com", Some("a long enough password"))).await;
    assert_eq!(with_password.body["status"], "inactive");
    assert_eq!(app.login("held@example.com", "a long enough password").await.status, StatusCode::FORBIDDEN);
    let id = with_password.body["id"].as_str().unwrap();
    assert_eq!(
        app.call(Method::POST, &format!("/api/users/{id}/activate"), Some(&admin), None).await.status,
        StatusCode::OK
    );
    assert_eq!(app.login("held@example.com", "a long enough password").await.status, StatusCode::OK);
    let event = audit_events::Entity::find()
        .filter(audit_events::Column::Action.eq("user.create"))
        .filter(audit_events::Column::TargetId.eq(quiet.body["id"].as_str().unwrap()))
        .one(app.db())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(event.summary["after"]["status"], "inactive");
    assert_eq!(event.summary["after"]["password"], "none yet (inactive)");
    // Absent means active.
    let default = create(&app, &admin, &ws, "loud@example.com", "Loud Person", None).await;
    assert_eq!(default["status"], "active");
}
