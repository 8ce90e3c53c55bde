//! Issue 16: applications from archives and Git, import errors, packages, versions, on both
//! databases. Bundles are built here; Git repositories are made on disk (file URLs).

use axum::body::Body;
use axum::http::{header, Method, Request, StatusCode};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde_json::{json, Value};
use steward_backend::apps::bundle::Bundle;
use steward_backend::store::entities::{entity_types, flows};

use crate::harness::{Response, TestApp};
use crate::on_both;

on_both!(
    installs_from_an_archive,
    a_broken_model_installs_the_rest,
    unsafe_archives_are_refused,
    versions_switch_and_conflict,
    packages_resolve_to_one_version,
    deactivate_and_delete,
    only_super_admins_manage_applications,
);

mod git_install_pin_and_update {
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn sqlite() {
        super::git_install_pin_and_update(crate::harness::TestApp::sqlite_with(|c| c.allow_file_git = true).await).await
    }
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn postgres() {
        super::git_install_pin_and_update(crate::harness::TestApp::postgres_with(|c| c.allow_file_git = true).await)
            .await
    }
}

pub(crate) fn manifest(name: &str, version: &str, requires: Value) -> String {
    json!({ "name": name, "version": version, "description": format!("{name} for tests"), "requires": requires })
        .to_string()
}

pub(crate) const LEAD: &str = r#"{ "title": "Lead", "type": "object", "required": ["name"],
  "properties": { "name": { "type": "string" }, "stage": { "enum": ["new", "won", "lost"] } } }"#;

const TEMPLATE: &str = r#"{ "label": "Clean leads", "entity_type": "lead", "retries": 2,
  "steps": [ { "kind": "validate" }, { "kind": "hash" }, { "kind": "dedupe" },
             { "kind": "map", "ops": [ { "op": "rename", "from": "/stage", "to": "/status" }, { "op": "drop", "path": "/tmp" } ] } ] }"#;

const KIND: &str =
    r#"{ "label": "CRM API", "health": { "path": "/health", "timeout_ms": 1500, "healthy_status": [200, 204] } }"#;

/// A `.tar.gz` of these files.
pub(crate) fn archive(files: &[(&str, &str)]) -> Vec<u8> {
    let mut b = Bundle::default();
    for (path, body) in files {
        b.files.insert((*path).into(), body.as_bytes().to_vec());
    }
    b.to_archive().unwrap()
}

fn crm(version: &str) -> Vec<u8> {
    archive(&[
        ("steward.json", &manifest("crm-sync", version, json!({ "leadlib": "^1.2" }))),
        ("README.md", "# CRM sync"),
        ("models/lead.json", LEAD),
        ("flows/clean_leads.json", TEMPLATE),
        ("connectors/crm_api.json", KIND),
        ("packages/leadlib/1.2.0/leadlib/__init__.py", "VERSION = '1.2.0'\n"),
        ("packages/leadlib/1.2.0/leadlib/score.py", "def score(lead):\n    return 1\n"),
    ])
}

async fn upload(app: &TestApp, token: &str, path: &str, body: Vec<u8>) -> Response {
    let req = Request::builder()
        .method(Method::POST)
        .uri(path)
        .header(header::AUTHORIZATION, format!("Bearer {token}"))
        .header(header::CONTENT_TYPE, "application/gzip")
        .body(Body::from(body))
        .unwrap();
    app.send(req).await
}

pub(crate) async fn install(app: &TestApp, token: &str, body: Vec<u8>) -> Response {
    upload(app, token, "/api/applications/archive", body).await
}

async fn entity_type_owner(app: &TestApp, name: &str) -> Option<Option<String>> {
    entity_types::Entity::find_by_id(name.to_owned()).one(app.db()).await.unwrap().map(|t| t.application)
}

async fn installs_from_an_archive(app: TestApp) {
    let token = app.setup_admin().await;
    let res = install(&app, &token, crm("1.0.0")).await;
    assert_eq!(res.status, StatusCode::CREATED, "{:?}", res.body);
    let r = &res.body;
    assert_eq!(r["created"], true);
    assert_eq!(
        (r["models"].as_u64(), r["templates"].as_u64(), r["connector_kinds"].as_u64(), r["packages"].as_u64()),
        (Some(1), Some(1), Some(1), Some(1))
    );
    assert_eq!(r["errors"], json!([]), "{r}");
    assert_eq!(r["application"]["name"], "crm-sync");
    assert_eq!(r["application"]["version"], "1.0.0");
    assert_eq!(r["application"]["active"], true);
    assert_eq!(r["version"]["digest"].as_str().unwrap().len(), 64);
    let id = r["application"]["id"].as_str().unwrap().to_owned();

    // The model is now a platform entity type, owned by the application.
    assert_eq!(entity_type_owner(&app, "lead").await, Some(Some("crm-sync".into())));

    let list = app.get("/api/applications?q=crm", Some(&token)).await;
    assert_eq!(list.status, StatusCode::OK);
    assert_eq!(list.body["items"].as_array().unwrap().len(), 1);
    let detail = app.get(&format!("/api/applications/{id}"), Some(&token)).await;
    assert_eq!(detail.status, StatusCode::OK, "{:?}", detail.body);
    let d = &detail.body;
    assert_eq!(d["models"], json!([{ "name": "lead", "label": "Lead" }]));
    assert_eq!(d["templates"][0]["steps"], json!(["validate", "hash", "dedupe", "map"]));
    assert_eq!(d["connector_kinds"][0]["probe"], "GET /health");
    assert_eq!(d["requirements"], json!([{ "package": "leadlib", "range": "^1.2", "resolved": "1.2.0" }]));
    assert_eq!(d["versions"].as_array().unwrap().len(), 1);

    // The package is unpacked under the data directory and listed with its user.
    let pkgs = app.get("/api/packages?q=lead", Some(&token)).await;
    assert_eq!(pkgs.status, StatusCode::OK);
    let p = &pkgs.body["items"][0];
    assert_eq!((p["name"].as_str(), p["version"].as_str()), (Some("leadlib"), Some("1.2.0")));
    assert_eq!(p["applications"], json!(["crm-sync"]));
    let path = std::path::PathBuf::from(p["install_path"].as_str().unwrap());
    assert_eq!(std::fs::read_to_string(path.join("leadlib/__init__.py")).unwrap(), "VERSION = '1.2.0'\n");
    assert_eq!(app.get("/api/packages?q=zzz", Some(&token)).await.body["items"], json!([]));
    // A replica whose disk lacks it unpacks it again from the bundle in the database.
    std::fs::remove_dir_all(&path).unwrap();
    assert_eq!(steward_backend::apps::install::ensure_packages(&app.state).await.unwrap(), 1);
    assert!(path.join("leadlib/score.py").exists());
    assert_eq!(steward_backend::apps::install::ensure_packages(&app.state).await.unwrap(), 0);

    let templates = app.get("/api/flow-templates", Some(&token)).await;
    assert_eq!(templates.body["items"][0]["name"], "clean_leads");
    assert_eq!(templates.body["items"][0]["application"], "crm-sync");
    assert_eq!(templates.body["next_cursor"], Value::Null, "one page holds every template");
    // Its connector kind is offered for new connectors, with the probe it runs.
    let kinds = app.get("/api/connector-kinds", Some(&token)).await;
    assert_eq!(
        kinds.body["items"],
        json!([{ "kind": "crm_api", "label": "CRM API", "application": "crm-sync", "probe": "GET /health" }])
    );

    // The install is an audit event.
    let audit = app
        .call_with(Method::GET, "/api/audit?action=application.install", &token, None, &[("x-steward-scope", "all")])
        .await;
    let events = audit.body["items"].as_array().unwrap();
    assert_eq!(events.len(), 1, "{:?}", audit.body);
    assert_eq!(events[0]["summary"]["version"], "1.0.0");
}

async fn a_broken_model_installs_the_rest(app: TestApp) {
    let token = app.setup_admin().await;
    let bundle = archive(&[
        (
            "steward.json",
            &manifest("half-good", "0.3.0", json!({ "missinglib": ">=2, <3", "badrange": "not a range" })),
        ),
        ("models/lead.json", LEAD),
        ("models/broken.json", "{ \"type\": \"object\", \"properties\": { \"a\": "),
        ("models/weird.json", r#"{ "type": "object", "properties": { "a": { "type": "no-such-type" } } }"#),
        ("models/listy.json", r#"{ "type": "array" }"#),
        ("models/contact.json", r#"{ "type": "object" }"#),
        ("flows/orphan.json", r#"{ "entity_type": "nothing_here", "steps": [ { "kind": "hash" } ] }"#),
        ("flows/typo.json", r#"{ "entity_type": "lead", "steps": [ { "kind": "hash", "extra": 1 } ] }"#),
        (
            "flows/badptr.json",
            r#"{ "entity_type": "lead", "steps": [ { "kind": "map", "ops": [ { "op": "drop", "path": "name" } ] } ] }"#,
        ),
        ("connectors/bad.json", r#"{ "health": { "path": "http://elsewhere/x" } }"#),
        ("docs/notes.txt", "kept, not read"),
    ]);
    let res = install(&app, &token, bundle).await;
    assert_eq!(res.status, StatusCode::CREATED, "{:?}", res.body);
    assert_eq!(res.body["models"], 1, "only `lead` installs: {}", res.body);
    assert_eq!(res.body["templates"], 0);
    let errors = res.body["errors"].as_array().unwrap();
    let by_file =
        |f: &str| errors.iter().find(|e| e["file"] == f).unwrap_or_else(|| panic!("no error for {f}: {errors:?}"));
    assert_eq!(by_file("models/broken.json")["code"], "invalid_json");
    assert!(by_file("models/broken.json")["detail"].as_str().unwrap().contains("line"), "the parser's place");
    assert_eq!(by_file("models/weird.json")["code"], "invalid_schema");
    assert_eq!(by_file("models/listy.json")["code"], "invalid_schema");
    assert_eq!(by_file("models/contact.json")["code"], "model_conflict", "a platform type is not taken over");
    assert_eq!(by_file("flows/orphan.json")["code"], "invalid_template");
    assert!(by_file("flows/typo.json")["detail"].as_str().unwrap().contains("extra"));
    assert!(by_file("flows/badptr.json")["detail"].as_str().unwrap().contains("JSON pointer"));
    assert_eq!(by_file("connectors/bad.json")["code"], "invalid_connector_kind");
    assert_eq!(by_file("docs/notes.txt")["severity"], "warning");
    let manifest_errors: Vec<&Value> = errors.iter().filter(|e| e["file"] == "steward.json").collect();
    assert!(manifest_errors.iter().any(|e| e["code"] == "package_missing" && e["model"] == "missinglib"));
    assert!(manifest_errors.iter().any(|e| e["code"] == "invalid_requirement" && e["model"] == "badrange"));
    assert_eq!(entity_type_owner(&app, "contact").await, Some(None), "the platform's contact stays");
    assert_eq!(entity_type_owner(&app, "lead").await, Some(Some("half-good".into())));

    // Import errors: worst first, paged with a cursor, filtered by severity.
    let page1 = app.get("/api/import-errors?limit=4", Some(&token)).await;
    assert_eq!(page1.status, StatusCode::OK);
    let items = page1.body["items"].as_array().unwrap();
    assert_eq!(items.len(), 4);
    assert!(items.iter().all(|e| e["severity"] == "error"));
    let mut all: Vec<Value> = items.clone();
    let mut cursor = page1.body["next_cursor"].as_str().map(str::to_owned);
    while let Some(c) = cursor {
        let next = app.get(&format!("/api/import-errors?limit=4&cursor={c}"), Some(&token)).await;
        all.extend(next.body["items"].as_array().unwrap().iter().cloned());
        cursor = next.body["next_cursor"].as_str().map(str::to_owned);
    }
    assert_eq!(all.len(), errors.len(), "every error once over the pages");
    assert_eq!(all.last().unwrap()["severity"], "warning", "warnings last");
    let warnings = app.get("/api/import-errors?severity=warning", Some(&token)).await;
    assert_eq!(warnings.body["items"].as_array().unwrap().len(), 1);
    assert_eq!(
        app.get("/api/import-errors?severity=fatal", Some(&token)).await.status,
        StatusCode::UNPROCESSABLE_ENTITY
    );
    let found = app.get("/api/import-errors?q=weird", Some(&token)).await;
    assert_eq!(found.body["items"].as_array().unwrap().len(), 1);
    let list = app.get("/api/applications", Some(&token)).await;
    assert_eq!(list.body["items"][0]["errors"].as_i64(), Some(errors.len() as i64));
}

async fn unsafe_archives_are_refused(app: TestApp) {
    let token = app.setup_admin().await;
    let good_manifest = manifest("evil", "1.0.0", json!({}));

    // A raw tar whose entry names are written as given (the tar crate refuses to build these).
    fn raw(entries: &[(&str, &[u8], tar::EntryType)]) -> Vec<u8> {
        let mut out = Vec::new();
        {
            let gz = flate2::write::GzEncoder::new(&mut out, flate2::Compression::fast());
            let mut tar = tar::Builder::new(gz);
            for (name, body, kind) in entries {
                let mut h = tar::Header::new_old();
                let field = &mut h.as_old_mut().name;
                field[..name.len()].copy_from_slice(name.as_bytes());
                h.set_size(body.len() as u64);
                h.set_entry_type(*kind);
                h.set_mode(0o644);
                if *kind == tar::EntryType::Symlink {
                    h.set_link_name("/etc/passwd").unwrap();
                }
                h.set_cksum();
                tar.append(&h, *body).unwrap();
            }
            tar.into_inner().unwrap().finish().unwrap();
        }
        out
    }
    let regular = tar::EntryType::Regular;
    for (label, bundle) in [
        (
            "zip-slip",
            raw(&[("steward.json", good_manifest.as_bytes(), regular), ("../../escape.json", b"{}", regular)]),
        ),
        ("absolute", raw(&[("steward.json", good_manifest.as_bytes(), regular), ("/tmp/abs.json", b"{}", regular)])),
        (
            "nested slip",
            raw(&[("steward.json", good_manifest.as_bytes(), regular), ("models/../../x.json", b"{}", regular)]),
        ),
        (
            "symlink",
            raw(&[
                ("steward.json", good_manifest.as_bytes(), regular),
                ("models/link.json", b"", tar::EntryType::Symlink),
            ]),
        ),
    ] {
        let res = install(&app, &token, bundle).await;
        assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY, "{label}: {:?}", res.body);
        assert_eq!(res.body["errors"][0]["field"], "archive", "{label}");
    }
    assert!(!app.state.config.data_dir.parent().unwrap().join("escape.json").exists());

    // Too large: the upload itself, and a small archive that unpacks past the limit.
    let res = install(&app, &token, vec![0x1f; 17 * 1024 * 1024]).await;
    assert_eq!(res.status, StatusCode::PAYLOAD_TOO_LARGE, "{:?}", res.body);
    let zeros = "0".repeat(7 * 1024 * 1024);
    let files: Vec<(String, String)> = (0..10).map(|i| (format!("blob/{i}.txt"), zeros.clone())).collect();
    let mut listed: Vec<(&str, &str)> = files.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect();
    listed.push(("steward.json", &good_manifest));
    let bomb = archive(&listed);
    assert!(bomb.len() < 1024 * 1024, "compresses well");
    let res = install(&app, &token, bomb).await;
    assert_eq!(res.status, StatusCode::PAYLOAD_TOO_LARGE, "{:?}", res.body);
    let big_file = archive(&[("steward.json", &good_manifest), ("models/big.json", &"1".repeat(9 * 1024 * 1024))]);
    assert_eq!(install(&app, &token, big_file).await.status, StatusCode::PAYLOAD_TOO_LARGE);

    // Not an archive, no manifest, a bad manifest, the wrong content type.
    let res = install(&app, &token, b"PK\x03\x04 a zip".to_vec()).await;
    assert_eq!(
        (res.status, res.body["errors"][0]["field"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("archive"))
    );
    let res = install(&app, &token, archive(&[("README.md", "hi")])).await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(res.body["errors"][0]["message"].as_str().unwrap().contains("steward.json"));
    let res = install(&app, &token, archive(&[("steward.json", &manifest("Bad Name", "one", json!({})))])).await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
    let fields: Vec<&str> =
        res.body["errors"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap()).collect();
    assert_eq!(fields, ["manifest.name", "manifest.version"]);
    let res =
        install(&app, &token, archive(&[("steward.json", r#"{"name":"x-y","version":"1.0.0","extra":true}"#)])).await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(res.body["errors"][0]["message"].as_str().unwrap().contains("extra"));
    let res = app.post("/api/applications/archive", Some(&token), json!({})).await;
    assert_eq!(res.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);

    // Git from the server's own disk is off unless the operator allows it.
    let res = app.post("/api/applications/git", Some(&token), json!({ "url": "file:///etc", "branch": "main" })).await;
    assert_eq!((res.status, res.body["errors"][0]["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("url")));
    let res = app
        .post("/api/applications/git", Some(&token), json!({ "url": "https://example.com/r.git", "branch": "-x" }))
        .await;
    assert_eq!(res.body["errors"][0]["field"], "branch");

    // Nothing of any of it installed.
    assert_eq!(app.get("/api/applications", Some(&token)).await.body["items"], json!([]));
    assert!(!app.state.config.data_dir.join("packages").exists());
}

async fn versions_switch_and_conflict(app: TestApp) {
    let token = app.setup_admin().await;
    let first = install(&app, &token, crm("1.0.0")).await;
    let id = first.body["application"]["id"].as_str().unwrap().to_owned();
    let v1 = first.body["version"]["id"].as_str().unwrap().to_owned();

    // The same bundle again: nothing new.
    let again = install(&app, &token, crm("1.0.0")).await;
    assert_eq!(again.status, StatusCode::OK, "{:?}", again.body);
    assert_eq!(
        (again.body["created"].as_bool(), again.body["version"]["id"].as_str()),
        (Some(false), Some(v1.as_str()))
    );

    // The same version with other contents is refused.
    let changed = archive(&[
        ("steward.json", &manifest("crm-sync", "1.0.0", json!({}))),
        ("models/lead.json", LEAD),
        ("models/deal.json", r#"{"type":"object"}"#),
    ]);
    let res = install(&app, &token, changed).await;
    assert_eq!((res.status, res.problem()), (StatusCode::CONFLICT, "version_exists"), "{:?}", res.body);

    // 1.1.0 adds a model; uploading it for another application is refused.
    let v11 = archive(&[
        ("steward.json", &manifest("crm-sync", "1.1.0", json!({ "leadlib": "^1.2" }))),
        ("models/lead.json", LEAD),
        ("models/deal.json", r#"{"type":"object","title":"Deal"}"#),
    ]);
    let other = install(&app, &token, archive(&[("steward.json", &manifest("other-app", "1.0.0", json!({})))])).await;
    let other_id = other.body["application"]["id"].as_str().unwrap().to_owned();
    let res = upload(&app, &token, &format!("/api/applications/{other_id}/archive"), v11.clone()).await;
    assert_eq!(
        (res.status, res.body["errors"][0]["field"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("manifest.name"))
    );
    let res = upload(&app, &token, &format!("/api/applications/{id}/archive"), v11).await;
    assert_eq!(res.status, StatusCode::CREATED, "{:?}", res.body);
    assert_eq!(res.body["application"]["version"], "1.1.0");
    assert_eq!(res.body["errors"], json!([]), "leadlib 1.2.0 is installed already: {}", res.body);
    assert_eq!(entity_type_owner(&app, "deal").await, Some(Some("crm-sync".into())));
    let detail = app.get(&format!("/api/applications/{id}"), Some(&token)).await;
    let versions = detail.body["versions"].as_array().unwrap();
    assert_eq!(versions.len(), 2);
    assert_eq!((versions[0]["version"].as_str(), versions[0]["current"].as_bool()), (Some("1.1.0"), Some(true)));

    // Back to 1.0.0: its models are the entity types again.
    let res = app.post(&format!("/api/applications/{id}/version"), Some(&token), json!({ "version_id": v1 })).await;
    assert_eq!(res.status, StatusCode::OK, "{:?}", res.body);
    assert_eq!(res.body["version"], "1.0.0");
    assert_eq!(entity_type_owner(&app, "deal").await, None);
    assert!(entity_type_owner(&app, "lead").await.is_some());
    let res = app
        .post(
            &format!("/api/applications/{id}/version"),
            Some(&token),
            json!({ "version_id": other.body["version"]["id"] }),
        )
        .await;
    assert_eq!((res.status, res.body["errors"][0]["field"].as_str()), (StatusCode::NOT_FOUND, Some("version_id")));
    let res = app.post(&format!("/api/applications/{id}/update"), Some(&token), json!({})).await;
    assert_eq!((res.status, res.problem()), (StatusCode::CONFLICT, "not_a_git_application"));
    let audit = app
        .call_with(
            Method::GET,
            "/api/audit?action=application.version_switch",
            &token,
            None,
            &[("x-steward-scope", "all")],
        )
        .await;
    assert_eq!(audit.body["items"].as_array().unwrap().len(), 2, "the re-install and the switch");
}

async fn packages_resolve_to_one_version(app: TestApp) {
    let token = app.setup_admin().await;
    let carrier = |name: &str, requires: Value, pkgs: &[(&str, &str, &str)]| {
        let m = manifest(name, "1.0.0", requires);
        let mut files: Vec<(String, String)> = vec![("steward.json".into(), m)];
        for (p, v, body) in pkgs {
            files.push((format!("packages/{p}/{v}/lib.py"), (*body).into()));
        }
        let refs: Vec<(&str, &str)> = files.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect();
        archive(&refs)
    };
    let a = install(
        &app,
        &token,
        carrier("app-a", json!({ "lib": "^1" }), &[("lib", "1.2.0", "a"), ("lib", "1.5.0", "b")]),
    )
    .await;
    assert_eq!(a.body["errors"], json!([]), "{}", a.body);
    let detail =
        app.get(&format!("/api/applications/{}", a.body["application"]["id"].as_str().unwrap()), Some(&token)).await;
    assert_eq!(detail.body["requirements"][0]["resolved"], "1.5.0", "the highest in range");

    // B needs a version A cannot take: a conflict, B installs without it.
    let b = install(&app, &token, carrier("app-b", json!({ "lib": "^2" }), &[("lib", "2.0.0", "c")])).await;
    assert_eq!(b.status, StatusCode::CREATED);
    let errs = b.body["errors"].as_array().unwrap();
    assert_eq!(errs.len(), 1, "{errs:?}");
    assert_eq!(errs[0]["code"], "package_conflict");
    assert!(errs[0]["detail"].as_str().unwrap().contains("app-a"), "names who needs what: {}", errs[0]["detail"]);

    // C needs <1.4: A and C move together to 1.2.0.
    let c = install(&app, &token, carrier("app-c", json!({ "lib": ">=1.1, <1.4" }), &[])).await;
    assert_eq!(c.body["errors"], json!([]), "{}", c.body);
    let pkgs = app.get("/api/packages?q=lib", Some(&token)).await;
    let rows = pkgs.body["items"].as_array().unwrap();
    assert_eq!(rows.len(), 3);
    let users = |v: &str| rows.iter().find(|r| r["version"] == v).unwrap()["applications"].clone();
    assert_eq!(users("1.2.0"), json!(["app-a", "app-c"]));
    assert_eq!(users("1.5.0"), json!([]));
    assert_eq!(users("2.0.0"), json!([]));

    // The same name and version with other contents is a conflict; the first copy stays.
    let d = install(&app, &token, carrier("app-d", json!({}), &[("lib", "1.2.0", "tampered")])).await;
    assert_eq!(d.body["errors"][0]["code"], "package_conflict");
    let path = rows.iter().find(|r| r["version"] == "1.2.0").unwrap()["install_path"].as_str().unwrap().to_owned();
    assert_eq!(std::fs::read_to_string(std::path::Path::new(&path).join("lib.py")).unwrap(), "a");

    // Paging the packages: keyset over name, every row once.
    let p1 = app.get("/api/packages?limit=2", Some(&token)).await;
    let next = p1.body["next_cursor"].as_str().unwrap();
    let p2 = app.get(&format!("/api/packages?limit=2&cursor={next}"), Some(&token)).await;
    assert_eq!(p1.body["items"].as_array().unwrap().len() + p2.body["items"].as_array().unwrap().len(), 3);
    assert!(p2.body["next_cursor"].is_null());
}

async fn deactivate_and_delete(app: TestApp) {
    let token = app.setup_admin().await;
    let res = install(&app, &token, crm("1.0.0")).await;
    let id = res.body["application"]["id"].as_str().unwrap().to_owned();
    let template = app.get("/api/flow-templates", Some(&token)).await.body["items"][0]["id"].clone();
    let (_, ws) = app.customer("Acme", "tenant").await;

    let res = app.post(&format!("/api/applications/{id}/deactivate"), Some(&token), json!({})).await;
    assert_eq!((res.status, res.body["active"].as_bool()), (StatusCode::OK, Some(false)), "{:?}", res.body);
    assert_eq!(entity_type_owner(&app, "lead").await, None, "withdrawn");
    assert_eq!(app.get("/api/flow-templates", Some(&token)).await.body["items"], json!([]));
    assert_eq!(app.get("/api/connector-kinds", Some(&token)).await.body["items"], json!([]), "withdrawn with it");
    let flow = json!({ "workspace_id": ws, "name": "Leads nightly", "template_id": template });
    let res =
        app.call_with(Method::POST, "/api/flows", &token, Some(flow.clone()), &[("x-steward-scope", "all")]).await;
    assert_eq!(
        (res.status, res.body["errors"][0]["field"].as_str()),
        (StatusCode::NOT_FOUND, Some("template_id")),
        "{:?}",
        res.body
    );

    let res = app.post(&format!("/api/applications/{id}/activate"), Some(&token), json!({})).await;
    assert_eq!(res.body["active"], true);
    assert!(entity_type_owner(&app, "lead").await.is_some());
    let res = app.call_with(Method::POST, "/api/flows", &token, Some(flow), &[("x-steward-scope", "all")]).await;
    assert_eq!(res.status, StatusCode::CREATED, "{:?}", res.body);
    let flow_id: uuid::Uuid = res.body["id"].as_str().unwrap().parse().unwrap();
    let stored = flows::Entity::find_by_id(flow_id).one(app.db()).await.unwrap().unwrap();
    assert_eq!(stored.definition.as_ref().unwrap()["steps"].as_array().unwrap().len(), 4, "the flow carries the steps");
    assert_eq!(app.get("/api/applications", Some(&token)).await.body["items"][0]["flows"], 1);

    // Delete: a DELETE with the name typed in X-Steward-Confirm, refused while a flow uses it,
    // then forced.
    let del = |typed: Option<&'static str>, force: bool| {
        let path = format!("/api/applications/{id}{}", if force { "?force=true" } else { "" });
        let token = token.clone();
        let app = &app;
        async move {
            let headers: Vec<(&str, &str)> = typed.map(|t| ("x-steward-confirm", t)).into_iter().collect();
            app.call_with(Method::DELETE, &path, &token, None, &headers).await
        }
    };
    for typed in [None, Some("crm")] {
        let res = del(typed, true).await;
        assert_eq!(
            (res.status, res.body["errors"][0]["field"].as_str()),
            (StatusCode::UNPROCESSABLE_ENTITY, Some("X-Steward-Confirm")),
            "{typed:?}"
        );
    }
    let res = del(Some("crm-sync"), false).await;
    assert_eq!((res.status, res.problem()), (StatusCode::CONFLICT, "application_in_use"));
    let pkg_path =
        app.get("/api/packages", Some(&token)).await.body["items"][0]["install_path"].as_str().unwrap().to_owned();
    assert!(std::path::Path::new(&pkg_path).exists());
    let res = del(Some("crm-sync"), true).await;
    assert_eq!(res.status, StatusCode::NO_CONTENT, "{:?}", res.body);
    let stored = flows::Entity::find_by_id(flow_id).one(app.db()).await.unwrap().unwrap();
    assert_eq!((stored.application_id, stored.template_id), (None, None));
    assert!(stored.definition.is_some(), "the flow keeps its steps");
    assert_eq!(entity_type_owner(&app, "lead").await, None);
    assert_eq!(app.get(&format!("/api/applications/{id}"), Some(&token)).await.status, StatusCode::NOT_FOUND);
    assert_eq!(app.get("/api/packages", Some(&token)).await.body["items"], json!([]), "only it carried leadlib");
    assert!(!std::path::Path::new(&pkg_path).exists());
    assert_eq!(app.get("/api/import-errors", Some(&token)).await.body["items"], json!([]));
    let remaining = entity_types::Entity::find()
        .filter(entity_types::Column::Application.is_not_null())
        .all(app.db())
        .await
        .unwrap();
    assert!(remaining.is_empty());
    let audit = app
        .call_with(Method::GET, "/api/audit?action=application.delete", &token, None, &[("x-steward-scope", "all")])
        .await;
    assert_eq!(audit.body["items"][0]["summary"]["forced"], true);
}

async fn only_super_admins_manage_applications(app: TestApp) {
    let token = app.setup_admin().await;
    let res = install(&app, &token, crm("1.0.0")).await;
    let id = res.body["application"]["id"].as_str().unwrap().to_owned();
    // A tenant admin holding every pattern in its customer, and a platform user with the
    // console leaves granted: neither is a super admin.
    let tenant = app.principal(&["*"]).await;
    let platform = app.platform_customer().await;
    let ws = app.workspace(platform, "Ops").await;
    let role = app.role(platform, ws, &["steward.console.*", "steward.*"]).await;
    let staff = app.user_with_role(platform, ws, role).await;
    for who in [&tenant.token, &staff.token] {
        for (method, path) in [
            (Method::GET, "/api/applications".to_string()),
            (Method::GET, format!("/api/applications/{id}")),
            (Method::GET, "/api/import-errors".into()),
            (Method::GET, "/api/packages".into()),
            (Method::POST, format!("/api/applications/{id}/deactivate")),
        ] {
            let status = app.status_of(method.clone(), &path, who).await;
            assert!(matches!(status, StatusCode::FORBIDDEN | StatusCode::NOT_FOUND), "{method} {path}: {status}");
        }
        let res = install(&app, who, crm("2.0.0")).await;
        assert_eq!(res.status, StatusCode::FORBIDDEN, "{:?}", res.body);
    }
    let detail = app.get(&format!("/api/applications/{id}"), Some(&token)).await;
    assert_eq!(detail.body["application"]["active"], true);
    assert_eq!(detail.body["versions"].as_array().unwrap().len(), 1);
}

/// A repository on disk with one commit per (message, files).
fn repo_with(dir: &std::path::Path, commits: &[(&str, Vec<(&str, String)>)]) -> Vec<String> {
    let repo = git2::Repository::init(dir).unwrap();
    repo.set_head("refs/heads/main").unwrap();
    let sig = git2::Signature::now("Grace Hopper", "grace@example.com").unwrap();
    let mut shas = Vec::new();
    for (message, files) in commits {
        for (path, body) in files {
            let full = dir.join(path);
            std::fs::create_dir_all(full.parent().unwrap()).unwrap();
            std::fs::write(full, body).unwrap();
        }
        let mut index = repo.index().unwrap();
        index.add_all(["*"], git2::IndexAddOption::DEFAULT, None).unwrap();
        index.write().unwrap();
        let tree = repo.find_tree(index.write_tree().unwrap()).unwrap();
        let parent = repo.head().ok().and_then(|h| h.peel_to_commit().ok());
        let parents: Vec<&git2::Commit> = parent.iter().collect();
        let oid = repo.commit(Some("refs/heads/main"), &sig, &sig, message, &tree, &parents).unwrap();
        shas.push(oid.to_string());
    }
    shas
}

async fn git_install_pin_and_update(app: TestApp) {
    let token = app.setup_admin().await;
    let src = tempfile::tempdir().unwrap();
    let v = |version: &str| manifest("crm-git", version, json!({}));
    let shas = repo_with(
        src.path(),
        &[
            ("first", vec![("steward.json", v("1.0.0")), ("models/lead.json", LEAD.into())]),
            ("second", vec![("steward.json", v("1.1.0")), ("flows/clean_leads.json", TEMPLATE.into())]),
        ],
    );
    let url = format!("file://{}", src.path().display());
    let res = app.post("/api/applications/git", Some(&token), json!({ "url": url, "branch": "nope" })).await;
    assert_eq!(
        (res.status, res.body["errors"][0]["field"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("branch")),
        "{:?}",
        res.body
    );
    let res = app.post("/api/applications/git", Some(&token), json!({ "url": url, "branch": "main" })).await;
    assert_eq!(res.status, StatusCode::CREATED, "{:?}", res.body);
    assert_eq!(res.body["application"]["source"], "git");
    assert_eq!(res.body["application"]["version"], "1.1.0");
    assert_eq!(res.body["version"]["git_commit"].as_str(), Some(shas[1].as_str()));
    assert_eq!(res.body["templates"], 1);
    let id = res.body["application"]["id"].as_str().unwrap().to_owned();

    let commits = app.get(&format!("/api/applications/{id}/commits"), Some(&token)).await;
    assert_eq!(commits.status, StatusCode::OK, "{:?}", commits.body);
    let items = commits.body["items"].as_array().unwrap();
    assert_eq!(items.len(), 2);
    assert_eq!((items[0]["summary"].as_str(), items[0]["current"].as_bool()), (Some("second"), Some(true)));
    assert_eq!((items[1]["author"].as_str(), items[1]["installed_version"].as_str()), (Some("Grace Hopper"), None));
    let paged = app.get(&format!("/api/applications/{id}/commits?limit=1"), Some(&token)).await;
    let next = paged.body["next_cursor"].as_str().unwrap();
    let rest = app.get(&format!("/api/applications/{id}/commits?limit=1&cursor={next}"), Some(&token)).await;
    assert_eq!(rest.body["items"][0]["sha"].as_str(), Some(shas[0].as_str()));

    // Edit: pin the first commit (by a short prefix).
    let res = app.post(&format!("/api/applications/{id}/pin"), Some(&token), json!({ "commit": &shas[0][..10] })).await;
    assert_eq!(res.status, StatusCode::CREATED, "{:?}", res.body);
    assert_eq!(res.body["application"]["version"], "1.0.0");
    assert_eq!(res.body["application"]["git_commit"].as_str(), Some(shas[0].as_str()));
    for bad in ["zzzzzzz", "1234567", "12"] {
        let res = app.post(&format!("/api/applications/{id}/pin"), Some(&token), json!({ "commit": bad })).await;
        assert_eq!(
            (res.status, res.body["errors"][0]["field"].as_str()),
            (StatusCode::UNPROCESSABLE_ENTITY, Some("commit")),
            "{bad}"
        );
    }

    // Update: the head again (installed already), then a new commit on the branch.
    let res = app.post(&format!("/api/applications/{id}/update"), Some(&token), json!({})).await;
    assert_eq!((res.status, res.body["created"].as_bool()), (StatusCode::OK, Some(false)), "{:?}", res.body);
    assert_eq!(res.body["application"]["version"], "1.1.0");
    let more = repo_with(src.path(), &[("third", vec![("steward.json", v("1.2.0"))])]);
    let res = app.post(&format!("/api/applications/{id}/update"), Some(&token), json!({})).await;
    assert_eq!(res.status, StatusCode::CREATED, "{:?}", res.body);
    assert_eq!(res.body["version"]["git_commit"].as_str(), Some(more[0].as_str()));
    assert_eq!(
        app.get(&format!("/api/applications/{id}"), Some(&token)).await.body["versions"].as_array().unwrap().len(),
        3
    );

    // The same name from an archive is another source.
    let res = install(&app, &token, archive(&[("steward.json", &v("9.0.0"))])).await;
    assert_eq!((res.status, res.problem()), (StatusCode::CONFLICT, "source_mismatch"));
}
