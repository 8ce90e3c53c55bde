//! Issue 16: transfer of applications between two Steward servers (each its own database and
//! secret; the source really listens on a port), with every refused token.

use axum::http::StatusCode;
use serde_json::json;

use crate::apps::{archive, install, manifest, LEAD};
use crate::harness::TestApp;
use crate::on_both;

on_both!(applications_move_between_two_platforms,);

fn bundle(name: &str, version: &str) -> Vec<u8> {
    archive(&[
        ("steward.json", &manifest(name, version, json!({}))),
        ("models/lead.json", LEAD),
        ("README.md", &format!("# {name} {version}")),
    ])
}

async fn applications_move_between_two_platforms(a: TestApp) {
    let b =
        TestApp::of_kind_with(a.kind, |c| c.jwt_secret = Some("another-platform-secret-0123456789abcdef".into())).await;
    let (a_root, b_root) = (a.setup_admin().await, b.setup_admin().await);
    let a_url = a.listen().await;
    let crm = install(&a, &a_root, bundle("crm-sync", "1.2.0")).await;
    install(&a, &a_root, bundle("billing", "0.3.0")).await;
    let crm_id = crm.body["application"]["id"].as_str().unwrap().to_owned();

    // Mint on A: one application, shown once; bad lifetimes and unknown applications refused.
    for (body, field) in [
        (json!({ "ttl_minutes": 0 }), "ttl_minutes"),
        (json!({ "ttl_minutes": 61 }), "ttl_minutes"),
        (json!({ "application_id": uuid::Uuid::now_v7() }), "application_id"),
    ] {
        let res = a.post("/api/transfer/tokens", Some(&a_root), body).await;
        assert_eq!(res.body["errors"][0]["field"].as_str(), Some(field), "{:?}", res.body);
    }
    let minted = a.post("/api/transfer/tokens", Some(&a_root), json!({ "application_id": crm_id })).await;
    assert_eq!(minted.status, StatusCode::CREATED, "{:?}", minted.body);
    assert_eq!(minted.body["application"], "crm-sync");
    let token = minted.body["token"].as_str().unwrap().to_owned();
    // It is no access token: A's API refuses it as a bearer.
    assert_eq!(a.get("/api/me", Some(&token)).await.status, StatusCode::UNAUTHORIZED);

    // B fetches, verifies and installs it.
    let transfer = |token: String| {
        let (b, root, url) = (&b, b_root.clone(), a_url.clone());
        async move { b.post("/api/applications/transfer", Some(&root), json!({ "source_url": url, "token": token })).await }
    };
    let res = transfer(token.clone()).await;
    assert_eq!(res.status, StatusCode::OK, "{:?}", res.body);
    let installed = &res.body["installed"];
    assert_eq!(installed.as_array().unwrap().len(), 1, "only what the token names");
    assert_eq!(installed[0]["application"]["name"], "crm-sync");
    assert_eq!(installed[0]["version"]["version"], "1.2.0");
    assert_eq!(installed[0]["version"]["digest"], crm.body["version"]["digest"], "the same files");
    let apps = b.get("/api/applications", Some(&b_root)).await;
    assert_eq!(apps.body["items"].as_array().unwrap().len(), 1);

    // Used once: the same token again is refused by A, and B says why.
    let again = transfer(token.clone()).await;
    assert_eq!((again.status, again.problem()), (StatusCode::BAD_GATEWAY, "transfer_refused"), "{:?}", again.body);
    assert!(again.body["detail"].as_str().unwrap().contains("transfer_token_used"), "{:?}", again.body);

    // Foreign: a token B signed means nothing to A.
    let foreign =
        b.post("/api/transfer/tokens", Some(&b_root), json!({})).await.body["token"].as_str().unwrap().to_owned();
    let res = transfer(foreign).await;
    assert!(res.body["detail"].as_str().unwrap().contains("transfer_token_invalid"), "{:?}", res.body);
    // Expired: signed by A, but past its time.
    let expired = a
        .state
        .jwt
        .issue_transfer(uuid::Uuid::now_v7(), None, (chrono::Utc::now().timestamp() - 3_600) as u64, 60)
        .unwrap();
    let res = transfer(expired).await;
    assert!(res.body["detail"].as_str().unwrap().contains("transfer_token_expired"), "{:?}", res.body);
    // Forged: A's signature over claims A never recorded.
    let unrecorded =
        a.state.jwt.issue_transfer(uuid::Uuid::now_v7(), None, chrono::Utc::now().timestamp() as u64, 600).unwrap();
    let res = transfer(unrecorded).await;
    assert!(res.body["detail"].as_str().unwrap().contains("transfer_token_invalid"), "{:?}", res.body);
    // Straight at A's endpoint: no token, a garbage one.
    let res = a.get("/api/transfer/export", None).await;
    assert_eq!((res.status, res.problem()), (StatusCode::UNAUTHORIZED, "transfer_token_invalid"));
    let res = a.get("/api/transfer/export", Some("nonsense")).await;
    assert_eq!((res.status, res.problem()), (StatusCode::UNAUTHORIZED, "transfer_token_invalid"));
    // Read straight by its holder: the bundle, its digests, once.
    let direct = a.post("/api/transfer/tokens", Some(&a_root), json!({ "application_id": crm_id })).await.body["token"]
        .as_str()
        .unwrap()
        .to_owned();
    let res = a.get("/api/transfer/export", Some(&direct)).await;
    assert_eq!(res.status, StatusCode::OK, "{:?}", res.body);
    let exported = &res.body["applications"];
    assert_eq!(exported.as_array().map(Vec::len), Some(1), "{exported}");
    assert_eq!((exported[0]["name"].as_str(), exported[0]["version"].as_str()), (Some("crm-sync"), Some("1.2.0")));
    assert_eq!(exported[0]["digest"], crm.body["version"]["digest"]);
    let bytes = {
        use base64::Engine;
        base64::engine::general_purpose::STANDARD.decode(exported[0]["archive_base64"].as_str().unwrap()).unwrap()
    };
    let sha = {
        use sha2::Digest;
        hex::encode(sha2::Sha256::digest(&bytes))
    };
    assert_eq!(exported[0]["archive_sha256"].as_str(), Some(sha.as_str()));
    let res = a.get("/api/transfer/export", Some(&direct)).await;
    assert_eq!((res.status, res.problem()), (StatusCode::GONE, "transfer_token_used"));
    // An unreachable source, and a bad address.
    let res = b
        .post("/api/applications/transfer", Some(&b_root), json!({ "source_url": "http://127.0.0.1:9", "token": "x" }))
        .await;
    assert_eq!((res.status, res.problem()), (StatusCode::BAD_GATEWAY, "transfer_source_unreachable"));
    let res =
        b.post("/api/applications/transfer", Some(&b_root), json!({ "source_url": "ftp://x", "token": "" })).await;
    let fields: Vec<&str> =
        res.body["errors"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap()).collect();
    assert_eq!(fields, ["source_url", "token"]);

    // A token for everything brings the rest; what B has already stays as it is.
    let all = a.post("/api/transfer/tokens", Some(&a_root), json!({ "ttl_minutes": 5 })).await.body["token"]
        .as_str()
        .unwrap()
        .to_owned();
    let res = transfer(all).await;
    assert_eq!(res.status, StatusCode::OK, "{:?}", res.body);
    let names: Vec<&str> =
        res.body["installed"].as_array().unwrap().iter().map(|r| r["application"]["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["billing", "crm-sync"]);
    assert_eq!(res.body["installed"][1]["created"], false, "the same bundle again");

    // Only super admins mint or import.
    let (acme, ws) = a.customer("Acme", "tenant").await;
    let role = a.role(acme, ws, &["steward.*"]).await;
    let tenant_admin = a.user_with_role(acme, ws, role).await;
    let res = a.post("/api/transfer/tokens", Some(&tenant_admin.token), json!({})).await;
    assert_eq!(res.status, StatusCode::FORBIDDEN);
    // Both sides audited it.
    let scope = [("x-steward-scope", "all")];
    for (app, token, action, n) in
        [(&a, &a_root, "transfer.mint", 3), (&a, &a_root, "transfer.export", 3), (&b, &b_root, "transfer.import", 2)]
    {
        let res =
            app.call_with(axum::http::Method::GET, &format!("/api/audit?action={action}"), token, None, &scope).await;
        assert_eq!(res.body["items"].as_array().unwrap().len(), n, "{action}: {:?}", res.body);
    }
}
