//! The contract: the committed spec is the generated one, every operation declares its
//! permission, and the one authorization layer covers every route.

use crate::harness::TestApp;
use crate::on_both;
use axum::http::{Method, StatusCode};
use serde_json::Value;
use steward_shared::permissions::Requirement;
use utoipa_axum::router::OpenApiRouter;

#[test]
fn committed_spec_matches_the_code() {
    let generated = steward_backend::api::contract::spec_json().unwrap();
    let committed =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../openapi/openapi.json")).unwrap_or_default();
    if committed != generated {
        // Say where they part (it failed once in a full run and never again in 40 runs alone or
        // the whole suite: the next failure shows what differed).
        let line = committed.lines().zip(generated.lines()).position(|(a, b)| a != b);
        let at = |text: &str| line.and_then(|l| text.lines().nth(l)).unwrap_or_default().to_owned();
        let dump = concat!(env!("CARGO_MANIFEST_DIR"), "/../target/openapi.generated.json");
        let _ = std::fs::write(dump, &generated);
        panic!(
            "openapi/openapi.json is stale: run `cargo run -p xtask -- openapi` and commit it. First difference at \
             line {:?}: committed {:?}, generated {:?} (whole generated spec in {dump})",
            line.map(|l| l + 1),
            at(&committed),
            at(&generated)
        );
    }
}

#[test]
fn every_operation_has_id_security_permission_and_problems() {
    let spec: Value = serde_json::from_str(&steward_backend::api::contract::spec_json().unwrap()).unwrap();
    assert_eq!(spec["openapi"], "3.1.0");
    let mut count = 0;
    for (path, item) in spec["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            count += 1;
            let at = format!("{method} {path}");
            assert!(op["operationId"].is_string(), "{at}: operationId");
            assert!(op["security"].is_array(), "{at}: security");
            let permission = op["x-permission"].as_str().unwrap_or_else(|| panic!("{at}: x-permission"));
            assert!(op["responses"]["500"].is_object(), "{at}: 500 problem");
            if permission != "public" {
                assert!(op["responses"]["401"].is_object(), "{at}: 401 problem");
            }
            if permission.starts_with("steward.") {
                assert!(op["responses"]["403"].is_object(), "{at}: 403 problem");
                assert_eq!(op["security"][0]["bearer"][0], permission, "{at}: scope and x-permission agree");
            }
            if let Some(leaf) = permission.strip_prefix("super_admin:") {
                assert!(op["responses"]["403"].is_object(), "{at}: 403 problem");
                assert_eq!(op["security"][0]["super_admin"][0], leaf, "{at}: scope and x-permission agree");
            }
        }
    }
    assert!(count >= 7);
}

#[test]
fn a_route_without_declaration_is_refused() {
    /// Documented, but with no security requirement.
    #[utoipa::path(get, path = "/api/undeclared", responses((status = 200)))]
    async fn undeclared() {}
    /// Names a leaf that is not in the catalog.
    #[utoipa::path(get, path = "/api/unknown-leaf", security(("bearer" = ["steward.nope.fly"])), responses((status = 200)))]
    async fn unknown_leaf() {}

    let (_, spec) = OpenApiRouter::<()>::new().routes(utoipa_axum::routes!(undeclared)).split_for_parts();
    let err = steward_backend::api::contract::contract(spec).err().expect("refused");
    assert!(err.contains("/api/undeclared") && err.contains("no security"), "{err}");

    let (_, spec) = OpenApiRouter::<()>::new().routes(utoipa_axum::routes!(unknown_leaf)).split_for_parts();
    let err = steward_backend::api::contract::contract(spec).err().expect("refused");
    assert!(err.contains("steward.nope.fly"), "{err}");

    /// Destructive by its method, with nothing declared to type while viewing as someone.
    #[utoipa::path(delete, path = "/api/things/{id}", operation_id = "drop_thing", security(("bearer" = [])), responses((status = 204)))]
    async fn drop_thing() {}
    /// Destructive by a word of its id.
    #[utoipa::path(post, path = "/api/keys/revoke", operation_id = "revoke_keys", security(("bearer" = [])), responses((status = 204)))]
    async fn revoke_keys() {}
    for (spec, id) in [
        (OpenApiRouter::<()>::new().routes(utoipa_axum::routes!(drop_thing)).split_for_parts().1, "drop_thing"),
        (OpenApiRouter::<()>::new().routes(utoipa_axum::routes!(revoke_keys)).split_for_parts().1, "revoke_keys"),
    ] {
        let err = steward_backend::api::contract::contract(spec).err().expect("refused");
        assert!(err.contains(id) && err.contains("x-confirm"), "{err}");
    }
}

/// DESIGN §4: every destructive operation (delete, erase, deactivate, revoke, rotate, reset, and
/// the bulk route) declares what must be typed to confirm it while impersonating, and the spec
/// documents it with the header and the 428.
#[test]
fn destructive_operations_declare_their_typed_confirmation() {
    let spec: Value = serde_json::from_str(&steward_backend::api::contract::spec_json().unwrap()).unwrap();
    let mut declared = 0;
    for (path, item) in spec["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            let id = op["operationId"].as_str().unwrap();
            // Derived, never listed: a word of the id (`send_password_reset` once slipped past
            // a list of prefixes) or the method, on anything a signed-in principal calls.
            let signed_in = op["x-permission"] != "public";
            let must = id == "bulk_users" || (signed_in && steward_backend::api::contract::is_destructive(method, id));
            let confirm = &op["x-confirm"];
            assert_eq!(confirm.is_object(), must, "{method} {path} ({id}): x-confirm");
            if must {
                declared += 1;
                assert!(confirm["typed"].as_str().is_some_and(|t| !t.is_empty()), "{id}");
                assert!(op["responses"]["428"].is_object(), "{id}: 428");
                let header = op["parameters"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .any(|p| p["name"] == "X-Steward-Confirm" && p["in"] == "header");
                assert!(header, "{id}: the header is a parameter");
            }
        }
    }
    assert!(declared >= 15, "{declared}");
}

/// DESIGN §2: the pages that are never delegable (Settings, Workspaces roots, Data explorer,
/// Platform actions) always need a super admin. Their operations are exactly the routes
/// declared `super_admin`, so neither side can drift.
#[test]
fn never_delegable_pages_are_exactly_the_super_admin_routes() {
    use steward_shared::permissions::{is_root_operation, page_leaves_for};
    let (_, spec) = steward_backend::api::contract::routes().split_for_parts();
    let contract = steward_backend::api::contract::contract(spec).unwrap();
    let mut super_admin_routes = 0;
    for rule in contract.table.values() {
        let declared = rule.requirement.super_admin_only();
        assert_eq!(
            declared,
            is_root_operation(&rule.operation_id),
            "`{}`: declared super-admin only = {declared}, but its console page says otherwise",
            rule.operation_id
        );
        if declared {
            super_admin_routes += 1;
            assert!(page_leaves_for(&rule.operation_id).is_empty(), "a delegable page opens `{}`", rule.operation_id);
            assert_eq!(rule.leaves.len(), 1, "`{}` is opened by its leaf alone", rule.operation_id);
        }
    }
    assert!(super_admin_routes >= 4, "settings and workspace roots are super-admin only");
}

/// A super-admin route refuses everyone else, however much they hold: a custom role holding the
/// leaf, the built-in admin role with cross-tenant rights, and a super admin viewing as a user
/// who holds the leaf. A super admin passes the check.
async fn super_admin_routes_refuse_every_other_principal(app: TestApp) {
    let root = app.setup_admin().await;
    let (_, spec) = steward_backend::api::contract::routes().split_for_parts();
    let contract = steward_backend::api::contract::contract(spec).unwrap();
    let admin_role = app.principal(&["steward.*"]).await;
    let mut checked = 0;
    for ((method, path), rule) in &contract.table {
        let (leaf, view_as) = match rule.requirement {
            Requirement::SuperAdmin(leaf) => (leaf, false),
            Requirement::SuperAdminView(leaf) => (leaf, true),
            _ => continue,
        };
        let at = format!("{method} {path} ({})", rule.operation_id);
        let body = (*method != Method::GET && *method != Method::DELETE).then(|| serde_json::json!({}));
        let url = concrete(path);
        let stream = crate::harness::STREAMS.contains(&rule.operation_id.as_str());
        let holder = app.principal(&[leaf]).await;
        for (who, token) in [("a role holding the leaf", &holder.token), ("every leaf", &admin_role.token)] {
            if stream {
                assert_eq!(app.status_of(method.clone(), &url, token).await, StatusCode::FORBIDDEN, "{at} as {who}");
                continue;
            }
            let res = app.call(method.clone(), &url, Some(token), body.clone()).await;
            assert_eq!((res.status, res.problem()), (StatusCode::FORBIDDEN, "super_admin_required"), "{at} as {who}");
        }
        if stream {
            assert_eq!(app.status_of(method.clone(), &url, &root).await, StatusCode::OK, "{at} as a super admin");
        } else {
            let res = app.call(method.clone(), &url, Some(&root), body.clone()).await;
            assert!(!refused(&res) && res.problem() != "super_admin_required", "{at} as a super admin: {:?}", res.body);
        }
        // Viewing as the holder: the target is no super admin, so the view is refused too,
        // except where the route shows the target's own rows (the explorer's reads).
        let started = app
            .post(
                "/api/impersonation",
                Some(&root),
                serde_json::json!({"user_id": holder.user_id, "reason": "support"}),
            )
            .await;
        assert!(started.status.is_success(), "{:?}", started.body);
        if stream {
            let status = app.status_of(method.clone(), &url, &root).await;
            assert_eq!(status == StatusCode::OK, view_as, "{at} viewing as: {status}");
        } else {
            let res = app.call(method.clone(), &url, Some(&root), body.clone()).await;
            if view_as {
                assert!(res.problem() != "super_admin_required", "{at} viewing as: {:?}", res.body);
            } else {
                assert_eq!(
                    (res.status, res.problem()),
                    (StatusCode::FORBIDDEN, "super_admin_required"),
                    "{at} viewing as"
                );
            }
        }
        let exit = app.post("/api/impersonation/exit", Some(&root), serde_json::json!({})).await;
        assert!(exit.status.is_success(), "{:?}", exit.body);
        checked += 1;
    }
    assert!(checked >= 4, "only {checked} super-admin routes");
    // The refusals are in the audit log, naming what was needed.
    let audit = app.get("/api/audit?action=access.denied&limit=200", Some(&root)).await;
    let needs: Vec<&str> =
        audit.body["items"].as_array().unwrap().iter().filter_map(|e| e["summary"]["needs"].as_str()).collect();
    assert!(needs.iter().any(|n| n.starts_with("super_admin:")), "{needs:?}");
}

/// Issue 12 (2): a console page's leaf opens exactly the operations that page of the SPA calls,
/// and `/api/me` lists exactly the pages the principal can open. For each delegable page, a
/// user holding only its read leaf can call every read, sees the page (and nothing else of the
/// admin section), and holding the write leaf too makes it writable. The built-in operator, who
/// reads users and audit through the API, sees those pages.
async fn console_pages_open_what_their_page_calls(app: TestApp) {
    use steward_shared::permissions::CONSOLE_PAGES;
    let root = app.setup_admin().await;
    let (_, spec) = steward_backend::api::contract::routes().split_for_parts();
    let contract = steward_backend::api::contract::contract(spec).unwrap();
    let by_op: std::collections::HashMap<&str, (&Method, &String)> =
        contract.table.iter().map(|((m, p), r)| (r.operation_id.as_str(), (m, p))).collect();
    let pages = |me: &Value| -> Vec<(String, bool)> {
        me["console_pages"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| (p["id"].as_str().unwrap().to_owned(), p["write"].as_bool().unwrap()))
            .collect()
    };
    for page in CONSOLE_PAGES.iter().filter(|p| p.delegable) {
        let reader = app.principal(&[page.read_leaf()]).await;
        let me = app.get("/api/me", Some(&reader.token)).await.body;
        assert_eq!(pages(&me), [(page.id.to_owned(), false)], "{}: only its read leaf", page.id);
        assert_eq!(me["admin_console"], page.id != "dashboard", "{}", page.id);
        for op in page.reads {
            let (method, path) = by_op[op];
            let body = (*method != Method::GET && *method != Method::DELETE).then(|| serde_json::json!({}));
            if crate::harness::STREAMS.contains(op) {
                // An endless event stream: its status says it all.
                let status = app.status_of(method.clone(), &concrete(path), &reader.token).await;
                assert_eq!(status, StatusCode::OK, "{}: {op} refused to the page's reader", page.id);
                continue;
            }
            let res = app.call(method.clone(), &concrete(path), Some(&reader.token), body).await;
            assert!(!refused(&res), "{}: {op} refused to the page's reader: {:?}", page.id, res.body);
        }
        if !page.writes.is_empty() {
            let writer = app.principal(&[page.read_leaf(), page.write_leaf()]).await;
            let me = app.get("/api/me", Some(&writer.token)).await.body;
            assert_eq!(pages(&me), [(page.id.to_owned(), true)], "{}: read and write", page.id);
        }
    }
    // The built-in operator (read all, no console leaves) sees the pages it can use.
    let customer = app.platform_customer().await;
    let ws = app.workspace(customer, "Ops").await;
    let operator =
        app.user_with_role(customer, ws, uuid::Uuid::from_u128(0x0000_0000_0000_7000_8000_0000_0000_0002)).await;
    let me = app.get("/api/me", Some(&operator.token)).await.body;
    let open: Vec<String> = pages(&me).into_iter().map(|(id, _)| id).collect();
    for id in ["dashboard", "users", "roles", "audit", "logs", "customers"] {
        assert!(open.contains(&id.to_owned()), "the operator opens {id}: {open:?}");
    }
    for id in ["invitations", "sessions", "settings", "workspaces"] {
        assert!(!open.contains(&id.to_owned()), "the operator does not open {id}: {open:?}");
    }
    assert_eq!(me["admin_console"], true);
    assert_eq!(app.get("/api/audit", Some(&operator.token)).await.status, StatusCode::OK);
    // A super admin opens every page, the never-delegable ones too.
    let me = app.get("/api/me", Some(&root)).await.body;
    assert_eq!(pages(&me).len(), CONSOLE_PAGES.len());
}

on_both!(
    console_pages_open_what_their_page_calls,
    every_route_refuses_the_unauthenticated,
    every_route_refuses_a_principal_without_its_leaf,
    super_admin_routes_refuse_every_other_principal,
    unknown_api_paths_and_methods_are_problems,
    answers_are_compressed_by_accept_encoding,
    spa_deep_links_fall_back_to_index,
    query_enums_in_the_spec_are_what_the_server_takes,
    created_answers_say_where_the_resource_is,
    null_is_refused_where_leaving_out_is_meant,
    field_rules_hold_at_their_bounds
);

/// The 201 answers that name no `Location`: a reset link and a transfer token are secrets
/// handed out once, not resources.
const CREATED_WITHOUT_LOCATION: &[&str] = &["generate_reset_link", "mint_transfer_token"];

#[test]
fn created_answers_declare_location() {
    let spec: Value = serde_json::from_str(&steward_backend::api::contract::spec_json().unwrap()).unwrap();
    let mut without = Vec::new();
    for item in spec["paths"].as_object().unwrap().values() {
        for op in item.as_object().unwrap().values() {
            let Some(created) = op["responses"].get("201") else { continue };
            if created["headers"].get("Location").is_none() {
                without.push(op["operationId"].as_str().unwrap().to_owned());
            }
        }
    }
    without.sort();
    assert_eq!(without, CREATED_WITHOUT_LOCATION);
}

/// What a 201 says in `Location` is where the new thing is: reading it answers that thing.
async fn created_answers_say_where_the_resource_is(app: TestApp) {
    use serde_json::json;
    let admin = app.setup_admin().await;
    let me = app.get("/api/me", Some(&admin)).await.body;
    let ws = me["home_workspace"]["id"].as_str().unwrap().to_owned();
    let customer = me["customer"]["id"].as_str().unwrap().to_owned();
    let made = [
        app.post("/api/customers", Some(&admin), json!({ "name": "Located" })).await,
        app.post(&format!("/api/customers/{customer}/workspaces"), Some(&admin), json!({ "name": "Annex" })).await,
        app.post(&format!("/api/workspaces/{ws}/roles"), Some(&admin), json!({ "name": "located", "patterns": ["steward.flows.view"] })).await,
        app.post("/api/users", Some(&admin), json!({ "email": "loc@example.com", "name": "Loc", "home_workspace_id": ws, "role_id": steward_backend::roles::SYSTEM_VIEWER_ROLE.to_string(), "password": crate::harness::ADMIN_PASSWORD })).await,
        app.post("/api/invitations", Some(&admin), json!({ "email": "inv@example.com", "workspace_id": ws, "role_id": steward_backend::roles::SYSTEM_VIEWER_ROLE.to_string() })).await,
        app.post("/api/me/tokens", Some(&admin), json!({ "name": "located", "permissions": ["steward.flows.view"] })).await,
        app.post("/api/flows", Some(&admin), json!({ "workspace_id": ws, "name": "Located flow" })).await,
        app.post("/api/connectors", Some(&admin), json!({ "workspace_id": ws, "name": "Located", "kind": "http" })).await,
    ];
    let (other, other_ws) = app.customer("Elsewhere", "tenant").await;
    let reader = app.role(other, other_ws, &["steward.flows.view", "steward.connectors.view"]).await;
    let stranger = app.user_with_role(other, other_ws, reader).await;
    for res in made {
        assert_eq!(res.status, StatusCode::CREATED, "{:?}", res.body);
        let location = res.headers.get("location").and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
        let id =
            ["/id", "/info/id", "/connector_id"].iter().find_map(|p| res.body.pointer(p)?.as_str()).unwrap().to_owned();
        assert!(location.starts_with("/api/") && location.ends_with(&id), "{location} names {id}");
        // Where the address has a GET, it answers the same thing.
        let read = app.get(&location, Some(&admin)).await;
        if read.status != StatusCode::METHOD_NOT_ALLOWED {
            assert_eq!((read.status, read.body["id"].as_str()), (StatusCode::OK, Some(id.as_str())), "GET {location}");
        }
        // Another tenant's reader, holding the leaf, finds nothing there.
        if location.starts_with("/api/flows/") || location.starts_with("/api/connectors/") {
            assert_eq!(app.get(&location, Some(&stranger.token)).await.status, StatusCode::NOT_FOUND, "{location}");
        }
    }
}

/// The request-body schemas whose fields are both optional and nullable on purpose: a setting's
/// `null` returns it to its boot value, leaving it out keeps it.
const OPTIONAL_AND_NULLABLE: &[&str] = &["UpdateSettings"];

fn schema_name(r: &Value) -> Option<&str> {
    r["$ref"].as_str().and_then(|r| r.rsplit('/').next())
}

#[test]
fn the_spec_says_one_thing_per_field_and_answer() {
    let spec: Value = serde_json::from_str(&steward_backend::api::contract::spec_json().unwrap()).unwrap();
    let schemas = &spec["components"]["schemas"];
    let mut both = Vec::new();
    let mut bare_lists = Vec::new();
    let mut without_body = Vec::new();
    for (path, item) in spec["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            let id = op["operationId"].as_str().unwrap();
            if let Some(name) = schema_name(&op["requestBody"]["content"]["application/json"]["schema"]) {
                let schema = &schemas[name];
                let required: Vec<&str> = schema["required"]
                    .as_array()
                    .map(|r| r.iter().filter_map(Value::as_str).collect())
                    .unwrap_or_default();
                for (field, prop) in schema["properties"].as_object().into_iter().flatten() {
                    let nullable = prop["type"].as_array().is_some_and(|t| t.iter().any(|t| t == "null"))
                        || ["oneOf", "anyOf"]
                            .iter()
                            .any(|k| prop[k].as_array().is_some_and(|v| v.iter().any(|s| s["type"] == "null")));
                    if nullable && !required.contains(&field.as_str()) && !OPTIONAL_AND_NULLABLE.contains(&name) {
                        both.push(format!("{name}.{field}"));
                    }
                }
            }
            for (status, answer) in op["responses"].as_object().unwrap() {
                if !status.starts_with('2') || status == "204" {
                    continue;
                }
                let Some(content) = answer["content"].as_object() else {
                    without_body.push(format!("{id} {status}"));
                    continue;
                };
                let body = &content.values().next().unwrap()["schema"];
                if method == "get" && body["type"] == "array" {
                    bare_lists.push(format!("{method} {path}"));
                }
            }
        }
    }
    assert_eq!(both, Vec::<String>::new(), "optional and nullable: say which is meant");
    assert_eq!(bare_lists, Vec::<String>::new(), "lists answer {{items, next_cursor}}");
    assert_eq!(without_body, Vec::<String>::new(), "a 2xx other than 204 declares its body");
}

/// Leaving a field out means "the default" (or "unchanged"); `null` there is a 422 naming the
/// field, so a client never wonders which of the two it sent. Where `null` means something of
/// its own (a setting back to its boot value), it is taken.
async fn null_is_refused_where_leaving_out_is_meant(app: TestApp) {
    use serde_json::json;
    let admin = app.setup_admin().await;
    let me = app.get("/api/me", Some(&admin)).await.body;
    let ws = me["home_workspace"]["id"].as_str().unwrap().to_owned();
    let made = app.post("/api/customers", Some(&admin), json!({ "name": "Nulls" })).await;
    assert_eq!(made.status, StatusCode::CREATED);
    let user = app
        .post("/api/users", Some(&admin), json!({ "email": "null@example.com", "name": "Nul", "home_workspace_id": ws, "role_id": steward_backend::roles::SYSTEM_VIEWER_ROLE.to_string(), "password": crate::harness::ADMIN_PASSWORD }))
        .await;
    assert_eq!(user.status, StatusCode::CREATED, "{:?}", user.body);
    let user_id = user.body["id"].as_str().unwrap().to_owned();
    let refused = [
        ("slug", app.post("/api/customers", Some(&admin), json!({ "name": "Nulls 2", "slug": null })).await),
        ("name", app.call(Method::PATCH, &format!("/api/users/{user_id}"), Some(&admin), Some(json!({ "name": null }))).await),
        ("expires_in_days", app.post("/api/me/tokens", Some(&admin), json!({ "name": "n", "permissions": ["steward.flows.view"], "expires_in_days": null })).await),
        ("totp_code", app.post("/api/auth/login", None, json!({ "email": crate::harness::ADMIN_EMAIL, "password": crate::harness::ADMIN_PASSWORD, "totp_code": null })).await),
    ];
    for (field, res) in refused {
        assert_eq!(
            (res.status, res.body["errors"][0]["field"].as_str()),
            (StatusCode::UNPROCESSABLE_ENTITY, Some(field)),
            "{field}: {:?}",
            res.body
        );
    }
    let unchanged = app.get(&format!("/api/users/{user_id}"), Some(&admin)).await;
    assert_eq!(unchanged.body["name"], "Nul", "nothing changed");
    let reset = app.call(Method::PATCH, "/api/settings", Some(&admin), Some(json!({ "session_ttl_secs": null }))).await;
    assert_eq!(reset.status, StatusCode::OK, "{:?}", reset.body);

    // A reset mail queued is a 202 naming the outbox mail that carries it.
    let queued = app.post(&format!("/api/users/{user_id}/password-reset"), Some(&admin), json!({})).await;
    assert_eq!((queued.status, queued.body["to"].as_str()), (StatusCode::ACCEPTED, Some("null@example.com")));
    let mail = queued.body["mail_id"].as_str().unwrap();
    let outbox = app.get("/api/outbox?limit=200", Some(&admin)).await;
    assert!(outbox.body["items"].as_array().unwrap().iter().any(|m| m["id"] == mail), "{mail} in the outbox");
}

/// Each field rule is stated in the spec with the definition the server checks: for every text,
/// email and secret rule of `rules::FIELDS`, the property's schema (as a JSON Schema validator
/// reads it) and the server's check agree on a set of awkward strings — white space only,
/// Unicode spaces, padding past the limit, one character either side of each bound.
#[test]
fn the_spec_states_each_field_rule_the_server_checks() {
    use steward_shared::rules::{self, Rule};
    let spec: Value = serde_json::from_str(&steward_backend::api::contract::spec_json().unwrap()).unwrap();
    let mut compared = 0;
    for (schema, field, rule) in rules::FIELDS {
        let property = match field.strip_suffix("[]") {
            Some(list) => &spec["components"]["schemas"][schema]["properties"][list]["items"],
            None => &spec["components"]["schemas"][schema]["properties"][field],
        };
        assert!(property.is_object(), "{schema}.{field} in the spec");
        // The field's own keywords: what a list's items must be is their own schema's business.
        let mut own = property.clone();
        own.as_object_mut().unwrap().remove("items");
        let validator = jsonschema::validator_for(&own).unwrap();
        let (min, max) = match rule {
            Rule::Text(t) => (t.min, t.max),
            Rule::Secret(s) => (s.min, s.max),
            Rule::Email => (3, rules::EMAIL_MAX),
            Rule::Range(r) => {
                for n in [r.min - 1, r.min, r.max, r.max + 1] {
                    assert_eq!(
                        validator.is_valid(&serde_json::json!(n)),
                        r.refuse(n).is_none(),
                        "{schema}.{field} = {n}"
                    );
                }
                continue;
            }
            Rule::Items(i) => {
                for n in [i.min.saturating_sub(1), i.min, i.max, i.max + 1] {
                    let list = Value::Array((0..n).map(|i| serde_json::json!(i)).collect());
                    assert_eq!(validator.is_valid(&list), i.refuse(n).is_none(), "{schema}.{field}: {n} items");
                }
                continue;
            }
            Rule::Slug => {
                let (full, over) = ("s".repeat(rules::SLUG_MAX), "s".repeat(rules::SLUG_MAX + 1));
                for sample in ["", "a", "acme-2", "-", "Acme", " acme", "acme ", "a_b", "café", "a\nb", &full, &over] {
                    let server = rules::refuse_slug(sample).is_none();
                    assert_eq!(
                        validator.is_valid(&Value::String(sample.into())),
                        server,
                        "{schema}.{field} = {sample:?}"
                    );
                }
                continue;
            }
            Rule::Schedule => {
                let mut samples: Vec<String> = [
                    "",
                    "every",
                    "every ",
                    "every 15m",
                    "every 15 m",
                    " every 15m",
                    "every 15m ",
                    "Every 15m",
                    "every 15x",
                    "every m",
                    "often",
                ]
                .map(str::to_owned)
                .to_vec();
                for n in [
                    "0", "1", "9", "10", "01", "59", "99", "100", "366", "367", "999", "1000", "99999", "100000", "+5",
                    "1.5",
                ] {
                    for unit in ["s", "m", "h", "d", "é"] {
                        samples.push(format!("every {n}{unit}"));
                    }
                }
                for sample in &samples {
                    let server = rules::refuse_schedule(sample).is_none();
                    assert_eq!(
                        validator.is_valid(&Value::String(sample.clone())),
                        server,
                        "{schema}.{field} = {sample:?}"
                    );
                    if server {
                        let every = steward_backend::tenancy::flows::parse_schedule(sample);
                        assert!(every.is_some(), "{sample:?} is taken but the worker cannot read it");
                    }
                }
                continue;
            }
            Rule::Url => {
                let hosts = [
                    "a",
                    "crm.example.com",
                    "Crm-1.EXAMPLE.org",
                    "a-b",
                    "a--b",
                    "-a",
                    "a-",
                    "1a.b",
                    "a.1",
                    "a..b",
                    "a.",
                    "",
                    "127.0.0.1",
                    "255.255.255.255",
                    "256.1.1.1",
                    "1.2.3",
                    "1.2.3.4.5",
                    "01.2.3.4",
                    "0.0.0.0",
                    "xn--a",
                    "xn-a",
                    "0xab",
                    "a_b",
                    "é.com",
                    "[::1]",
                    "u:p@h",
                    "a b",
                ];
                let ports = ["", ":0", ":80", ":080", ":65535", ":65536", ":99999", ":", ":8a"];
                let paths = [
                    "",
                    "/",
                    "/v1/api",
                    "/a%20b",
                    "/a%zz",
                    "/~user/(x)*+,;=:@!$&'",
                    "/a?b",
                    "/a#b",
                    "/a b",
                    "/a\\b",
                    "/é",
                ];
                let mut samples = vec![
                    String::new(),
                    "ftp://a".into(),
                    "http:/a".into(),
                    "HTTP://a".into(),
                    " http://a".into(),
                    "http://a ".into(),
                    format!("http://a/{}", "p".repeat(rules::URL_MAX - 9)),
                    format!("http://a/{}", "p".repeat(rules::URL_MAX - 8)),
                ];
                for scheme in ["http://", "https://"] {
                    for host in hosts {
                        for port in ports {
                            for path in paths {
                                samples.push(format!("{scheme}{host}{port}{path}"));
                            }
                        }
                    }
                }
                for sample in &samples {
                    let server = rules::refuse_url(sample).is_none();
                    assert_eq!(
                        validator.is_valid(&Value::String(sample.clone())),
                        server,
                        "{schema}.{field} = {sample:?}"
                    );
                    if server {
                        let url = reqwest::Url::parse(sample)
                            .unwrap_or_else(|e| panic!("{sample:?} is taken but is no URL: {e}"));
                        assert!(url.host().is_some() && url.username().is_empty(), "{sample:?}");
                    }
                    compared += 1;
                }
                continue;
            }
            Rule::OneOf(_) | Rule::Leaf | Rule::Pattern => {
                for value in rule.values().unwrap() {
                    assert!(validator.is_valid(&Value::String(value.clone())), "{schema}.{field} = {value}");
                    let taken = match rule {
                        Rule::Pattern => steward_shared::permissions::validate_pattern(&value).is_ok(),
                        Rule::Leaf => steward_shared::permissions::find_leaf(&value).is_some(),
                        _ => true,
                    };
                    assert!(taken, "{schema}.{field} = {value}");
                }
                for other in ["", "steward", "steward.nope", "steward.*.*", "restart"] {
                    assert!(!validator.is_valid(&Value::String(other.into())), "{schema}.{field} = {other}");
                }
                continue;
            }
        };
        let mut samples: Vec<String> =
            ["", " ", "a", " a ", "ab", "abc", "\u{3000}", "\u{a0}x\u{a0}", "a b", "é\u{2003}ü"]
                .into_iter()
                .map(str::to_owned)
                .collect();
        for n in [min.saturating_sub(1), min, min + 1, max.saturating_sub(1), max, max + 1] {
            samples.push("x".repeat(n));
            samples.push(format!(" {} ", "y".repeat(n.saturating_sub(2))));
            samples.push(format!("{}\u{2009}", "z".repeat(n)));
            samples.push(format!("a@{}.co", "d".repeat(n.saturating_sub(5))));
            samples.push(format!(" A@B.{} ", "c".repeat(n.saturating_sub(6))));
        }
        samples.extend(["a@b", "@b.co", "a@.bc", "a@bc.", "a@b@c.de", "a b@c.de", "\u{a0}a@b.co"].map(str::to_owned));
        for sample in &samples {
            let server = match rule {
                Rule::Text(t) => t.refuse(sample).is_none(),
                Rule::Secret(s) => s.refuse(sample).is_none(),
                _ => rules::refuse_email(sample).is_none(),
            };
            assert_eq!(validator.is_valid(&Value::String(sample.clone())), server, "{schema}.{field} = {sample:?}");
            compared += 1;
        }
    }
    assert!(compared > 1000, "{compared} comparisons");
}

/// The rules hold live: a value one past a bound is a 422 naming the field, the bound itself is
/// taken, and white space alone is not a name.
async fn field_rules_hold_at_their_bounds(app: TestApp) {
    use serde_json::json;
    use steward_shared::rules;
    let admin = app.setup_admin().await;
    let long = "n".repeat(rules::NAME.max);
    let taken = app.post("/api/customers", Some(&admin), json!({ "name": format!("{long}") })).await;
    assert_eq!(taken.status, StatusCode::CREATED, "{:?}", taken.body);
    for (body, field) in [
        (json!({ "name": format!("{long}x") }), "name"),
        (json!({ "name": " \u{3000}\u{a0} " }), "name"),
        (json!({ "name": "Padded", "workspace_name": format!(" {long}") }), "workspace_name"),
        (json!({ "name": "Slugged", "slug": " slugged" }), "slug"),
    ] {
        let res = app.post("/api/customers", Some(&admin), body).await;
        assert_eq!(
            (res.status, res.body["errors"][0]["field"].as_str()),
            (StatusCode::UNPROCESSABLE_ENTITY, Some(field)),
            "{:?}",
            res.body
        );
    }
    // A name without an ASCII letter or digit still makes a slug.
    let kanji = app.post("/api/customers", Some(&admin), json!({ "name": "株式会社" })).await;
    assert_eq!(kanji.status, StatusCode::CREATED, "{:?}", kanji.body);
    let slug = kanji.body["slug"].as_str().unwrap();
    assert!(slug.starts_with("customer-") && rules::refuse_slug(slug).is_none(), "{slug}");
    let days = app
        .post(
            "/api/me/tokens",
            Some(&admin),
            json!({ "name": "t", "permissions": ["steward.flows.view"], "expires_in_days": rules::TOKEN_DAYS.max + 1 }),
        )
        .await;
    assert_eq!(days.body["errors"][0]["field"], "expires_in_days", "{:?}", days.body);
    let none = app.post("/api/me/tokens", Some(&admin), json!({ "name": "t", "permissions": [] })).await;
    assert_eq!(none.body["errors"][0]["field"], "permissions", "{:?}", none.body);
    // JSON Schema's integer 30 may be written 30.0; the server reads it as 30.
    let float = app
        .post(
            "/api/me/tokens",
            Some(&admin),
            json!({ "name": "f", "permissions": ["steward.flows.view"], "expires_in_days": 30.0 }),
        )
        .await;
    assert_eq!(float.status, StatusCode::CREATED, "{:?}", float.body);
    let half = app
        .post(
            "/api/me/tokens",
            Some(&admin),
            json!({ "name": "h", "permissions": ["steward.flows.view"], "expires_in_days": 30.5 }),
        )
        .await;
    assert_eq!(half.body["errors"][0]["field"], "expires_in_days", "{:?}", half.body);
}

/// Fills `{param}` segments of a path template with a random id.
fn concrete(path: &str) -> String {
    path.split('/')
        .map(|seg| if seg.starts_with('{') { uuid::Uuid::now_v7().to_string() } else { seg.to_owned() })
        .collect::<Vec<_>>()
        .join("/")
}

async fn every_route_refuses_the_unauthenticated(app: TestApp) {
    let (_, spec) = steward_backend::api::contract::routes().split_for_parts();
    let contract = steward_backend::api::contract::contract(spec).unwrap();
    let mut checked = 0;
    for ((method, path), rule) in &contract.table {
        if rule.requirement == Requirement::Public {
            continue;
        }
        let body = (*method != Method::GET && *method != Method::DELETE).then(|| serde_json::json!({}));
        for token in [None, Some("forged.token.value")] {
            let res = app.call(method.clone(), &concrete(path), token, body.clone()).await;
            assert_eq!(res.status, StatusCode::UNAUTHORIZED, "{method} {path} with {token:?}: {:?}", res.body);
        }
        checked += 1;
    }
    assert!(checked >= 2);
}

async fn unknown_api_paths_and_methods_are_problems(app: TestApp) {
    let res = app.get("/api/does-not-exist", None).await;
    assert_eq!((res.status, res.problem()), (StatusCode::NOT_FOUND, "not_found"));
    assert_eq!(res.headers["content-type"], "application/problem+json");
    let res = app.call(Method::DELETE, "/api/health", None, None).await;
    assert_eq!((res.status, res.problem()), (StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed"));
    let health = app.get("/api/health", None).await;
    assert_eq!(health.status, StatusCode::OK);
    assert_eq!(health.body["database"], app.kind);
    assert_eq!(health.body["migrations_pending"], 0);
    assert!(health.body["migrations_applied"].as_u64().unwrap() >= 2);
    assert!(health.headers.contains_key("x-request-id"));
    let spec = app.get("/api/openapi.json", None).await;
    assert_eq!(spec.status, StatusCode::OK);
    assert!(spec.body["paths"]["/api/me"].is_object());
}

/// Brotli or gzip as the client asks (and `Vary: Accept-Encoding` either way), the same JSON
/// once decoded; plain for a client that asks for neither, and for answers too small to gain.
async fn answers_are_compressed_by_accept_encoding(app: TestApp) {
    use axum::body::Body;
    use axum::http::{header, Request};
    use http_body_util::BodyExt;
    use std::io::Read;
    use tower::ServiceExt;
    let admin = app.setup_admin().await;
    let fetch = |path: &'static str, accept: Option<&'static str>| {
        let router = app.router.clone();
        let admin = admin.clone();
        async move {
            let mut req = Request::builder().uri(path).header(header::AUTHORIZATION, format!("Bearer {admin}"));
            if let Some(accept) = accept {
                req = req.header(header::ACCEPT_ENCODING, accept);
            }
            let res = router.oneshot(req.body(Body::empty()).unwrap()).await.unwrap();
            let headers = res.headers().clone();
            (res.status(), headers, res.into_body().collect().await.unwrap().to_bytes().to_vec())
        }
    };
    let (status, headers, plain) = fetch("/api/openapi.json", None).await;
    assert_eq!(status, StatusCode::OK);
    assert!(!headers.contains_key(header::CONTENT_ENCODING));
    let spec: Value = serde_json::from_slice(&plain).unwrap();
    assert!(plain.len() > 100_000, "the spec is big enough to matter: {} bytes", plain.len());

    let (_, headers, br) = fetch("/api/openapi.json", Some("gzip;q=0.5, br")).await;
    assert_eq!(headers[header::CONTENT_ENCODING], "br");
    assert!(headers[header::VARY].to_str().unwrap().to_lowercase().contains("accept-encoding"));
    let mut decoded = Vec::new();
    brotli::Decompressor::new(&br[..], 4096).read_to_end(&mut decoded).unwrap();
    assert_eq!(serde_json::from_slice::<Value>(&decoded).unwrap(), spec);
    assert!(br.len() * 5 < plain.len(), "brotli: {} of {} bytes", br.len(), plain.len());

    let (_, headers, gz) = fetch("/api/openapi.json", Some("gzip")).await;
    assert_eq!(headers[header::CONTENT_ENCODING], "gzip");
    let mut decoded = Vec::new();
    flate2::read::GzDecoder::new(&gz[..]).read_to_end(&mut decoded).unwrap();
    assert_eq!(serde_json::from_slice::<Value>(&decoded).unwrap(), spec);

    // A streamed answer (the audit export's CSV) compresses as it streams, to its end.
    let (status, _, plain) = fetch("/api/audit/export", None).await;
    assert_eq!(status, StatusCode::OK);
    for accept in ["gzip", "br"] {
        let (status, headers, packed) = fetch("/api/audit/export", Some(accept)).await;
        assert_eq!(status, StatusCode::OK, "{accept}");
        assert_eq!(headers[header::CONTENT_ENCODING], accept);
        let mut decoded = Vec::new();
        if accept == "gzip" {
            flate2::read::GzDecoder::new(&packed[..]).read_to_end(&mut decoded).unwrap();
        } else {
            brotli::Decompressor::new(&packed[..], 4096).read_to_end(&mut decoded).unwrap();
        }
        assert_eq!(decoded, plain, "{accept}");
    }

    // `identity` only, and an answer of a few hundred bytes: as they are.
    let (_, headers, _) = fetch("/api/openapi.json", Some("identity")).await;
    assert!(!headers.contains_key(header::CONTENT_ENCODING));
    let (status, headers, _) = fetch("/api/health", Some("br, gzip")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(!headers.contains_key(header::CONTENT_ENCODING), "{} is too small to compress", "/api/health");
}

/// Without `--assets-dir` the server answers with the console compiled into it (the test
/// command builds `dist/` first, so this binary has one): the page and its wasm module in the
/// encoding asked for, cached by their hashed names, revalidated by ETag. A binary built without
/// `dist/` says so at `/` instead.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_console_built_into_the_binary_is_served() {
    use axum::body::Body;
    use axum::http::{header, Request};
    use http_body_util::BodyExt;
    use tower::ServiceExt;
    let app = TestApp::sqlite_with(|c| c.assets_dir = None).await;
    let get = |path: String, headers: Vec<(header::HeaderName, String)>| {
        let router = app.router.clone();
        async move {
            let mut req = Request::builder().uri(path);
            for (k, v) in headers {
                req = req.header(k, v);
            }
            let res = router.oneshot(req.body(Body::empty()).unwrap()).await.unwrap();
            let headers = res.headers().clone();
            (res.status(), headers, res.into_body().collect().await.unwrap().to_bytes())
        }
    };
    if !steward_backend::http::spa::embedded() {
        let (status, _, body) = get("/admin/users".into(), vec![]).await;
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
        assert!(String::from_utf8_lossy(&body).contains("built without the console"));
        return;
    }
    let br = || vec![(header::ACCEPT_ENCODING, "gzip, deflate, br".to_owned())];
    let (status, headers, page) = get("/admin/users".into(), br()).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(headers[header::CONTENT_ENCODING], "br");
    assert_eq!(headers[header::CACHE_CONTROL], "no-cache");
    let etag = headers[header::ETAG].to_str().unwrap().to_owned();
    let mut html = String::new();
    std::io::Read::read_to_string(&mut brotli::Decompressor::new(&page[..], 4096), &mut html).unwrap();
    assert!(html.contains("id=\"boot\""), "the loading shell is in the page");
    let (status, _, body) = get("/".into(), [br(), vec![(header::IF_NONE_MATCH, etag)]].concat()).await;
    assert_eq!((status, body.len()), (StatusCode::NOT_MODIFIED, 0));

    let wasm = html.split('"').find(|s| s.ends_with("_bg.wasm")).expect("the page names its wasm module").to_owned();
    let (status, headers, packed) = get(wasm.clone(), br()).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(headers[header::CONTENT_TYPE], "application/wasm");
    assert_eq!(headers[header::CONTENT_ENCODING], "br");
    assert!(headers[header::CACHE_CONTROL].to_str().unwrap().contains("immutable"));
    let (_, headers, raw) = get(wasm, vec![]).await;
    assert!(!headers.contains_key(header::CONTENT_ENCODING));
    assert_eq!(&raw[..4], b"\0asm");
    assert!(packed.len() * 3 < raw.len(), "brotli {} of {} bytes", packed.len(), raw.len());
}

async fn spa_deep_links_fall_back_to_index(app: TestApp) {
    // Before the SPA is built, the root says so instead of a bare 404.
    let res = app.get("/", None).await;
    assert_eq!(res.status, StatusCode::SERVICE_UNAVAILABLE);
    let dist = app.state.config.assets_dir.as_ref().unwrap();
    std::fs::create_dir_all(dist).unwrap();
    std::fs::write(dist.join("index.html"), "<!doctype html><title>Steward SPA</title>").unwrap();
    std::fs::write(dist.join("app-1234.js"), "console.log(1)").unwrap();
    for path in ["/", "/admin/users", "/login"] {
        let res = app.get(path, None).await;
        assert_eq!(res.status, StatusCode::OK, "{path}");
        assert!(res.body.as_str().unwrap().contains("Steward SPA"), "{path}");
        assert_eq!(res.headers["cache-control"], "no-cache");
    }
    let asset = app.get("/app-1234.js", None).await;
    assert_eq!(asset.status, StatusCode::OK);
    assert!(asset.headers["cache-control"].to_str().unwrap().contains("immutable"));
    // API misses stay problems, never the SPA.
    assert_eq!(app.get("/api/nope", None).await.problem(), "not_found");
}

/// True when the response is the authorization layer's refusal (not a handler's own 403).
fn refused(res: &crate::harness::Response) -> bool {
    res.status == StatusCode::UNAUTHORIZED
        || (res.status == StatusCode::FORBIDDEN && res.problem() == "permission_denied")
}

/// The structural test of DESIGN.md section 2: for every route that needs a leaf, a principal
/// without it gets 403, one holding exactly that leaf gets past the check, and so does one
/// holding only a console-page leaf whose page uses the operation — but not another page's.
async fn every_route_refuses_a_principal_without_its_leaf(app: TestApp) {
    app.setup_admin().await;
    let (_, spec) = steward_backend::api::contract::routes().split_for_parts();
    let contract = steward_backend::api::contract::contract(spec).unwrap();
    let nobody = app.principal(&[]).await;
    // Two pages that share no operation: for each route, one of them does not open it.
    let dashboard_page = app.principal(&["steward.console.dashboard.read", "steward.console.dashboard.write"]).await;
    let sessions_page = app.principal(&["steward.console.sessions.read", "steward.console.sessions.write"]).await;
    let mut checked = 0;
    for ((method, path), rule) in &contract.table {
        let Requirement::Leaf(leaf) = rule.requirement else { continue };
        let at = format!("{method} {path} ({})", rule.operation_id);
        let body = (*method != Method::GET && *method != Method::DELETE).then(|| serde_json::json!({}));
        let url = concrete(path);
        let unrelated_page = if rule.leaves.iter().any(|l| l.starts_with("steward.console.dashboard.")) {
            &sessions_page
        } else {
            &dashboard_page
        };
        for (who, token) in [("no leaf", &nobody.token), ("another page", &unrelated_page.token)] {
            let res = app.call(method.clone(), &url, Some(token), body.clone()).await;
            assert_eq!(res.status, StatusCode::FORBIDDEN, "{at} as {who}: {:?}", res.body);
            assert_eq!(res.problem(), "permission_denied", "{at} as {who}");
            assert!(res.body["detail"].as_str().unwrap().contains(leaf), "{at}: the refusal names the leaf");
        }
        for granting in &rule.leaves {
            let holder = app.principal(&[granting]).await;
            if crate::harness::STREAMS.contains(&rule.operation_id.as_str()) {
                let status = app.status_of(method.clone(), &url, &holder.token).await;
                assert_eq!(status, StatusCode::OK, "{at} with only `{granting}`");
                continue;
            }
            let res = app.call(method.clone(), &url, Some(&holder.token), body.clone()).await;
            assert!(!refused(&res), "{at} with only `{granting}` was refused: {:?}", res.body);
        }
        checked += 1;
    }
    assert!(checked >= 12, "only {checked} leaf routes");
}

#[test]
fn console_pages_name_only_real_operations() {
    let spec: Value = serde_json::from_str(&steward_backend::api::contract::spec_json().unwrap()).unwrap();
    let ids: Vec<&str> = spec["paths"]
        .as_object()
        .unwrap()
        .values()
        .flat_map(|item| item.as_object().unwrap().values().filter_map(|op| op["operationId"].as_str()))
        .collect();
    for page in steward_shared::permissions::CONSOLE_PAGES {
        for op in page.reads.iter().chain(page.writes) {
            assert!(ids.contains(op), "page `{}` names `{op}`, which is no operation", page.id);
        }
    }
}

/// A closed set in a query is an enum in the spec with the very values the server takes, and
/// the server refuses any other with 422 naming the parameter.
async fn query_enums_in_the_spec_are_what_the_server_takes(app: TestApp) {
    let spec: Value = serde_json::from_str(&steward_backend::api::contract::spec_json().unwrap()).unwrap();
    let params = spec["paths"]["/api/users"]["get"]["parameters"].as_array().unwrap().clone();
    let values = |name: &str| -> Vec<String> {
        let p = params.iter().find(|p| p["name"] == name).unwrap_or_else(|| panic!("{name}"));
        p["schema"]["enum"].as_array().unwrap().iter().map(|v| v.as_str().unwrap().to_owned()).collect()
    };
    assert_eq!(values("segment"), ["all", "active", "super_admins", "inactive"]);
    assert_eq!(values("sort"), ["created", "name", "email"]);
    let admin = app.setup_admin().await;
    for name in ["status", "segment", "sort"] {
        for v in values(name) {
            let res = app.get(&format!("/api/users?{name}={v}"), Some(&admin)).await;
            assert_eq!(res.status, StatusCode::OK, "{name}={v}: {:?}", res.body);
        }
        let res = app.get(&format!("/api/users?{name}=Bogus"), Some(&admin)).await;
        assert_eq!(
            (res.status, res.body["errors"][0]["field"].as_str()),
            (StatusCode::UNPROCESSABLE_ENTITY, Some(name)),
            "{name}"
        );
    }
}

/// A closed set the server answers with is an `enum`, not a list in a description (issue 36
/// counted 33 such fields): a generated client types it and a script can match on it. A string
/// property whose description opens with "`a`, `b` or `c`" must carry the values.
#[test]
fn closed_sets_are_enums_not_prose() {
    let spec: Value = serde_json::from_str(&steward_backend::api::contract::spec_json().unwrap()).unwrap();
    let mut prose = Vec::new();
    for (name, schema) in spec["components"]["schemas"].as_object().unwrap() {
        for (field, property) in schema["properties"].as_object().into_iter().flatten() {
            let description = property["description"].as_str().unwrap_or_default();
            let opening = description.split(['.', ':']).next().unwrap_or_default();
            let string = property["type"] == "string"
                || property["type"].as_array().is_some_and(|t| t.contains(&"string".into()));
            if string && description.starts_with('`') && opening.contains(" or `") && property.get("enum").is_none() {
                prose.push(format!("{name}.{field}"));
            }
        }
    }
    assert!(prose.is_empty(), "closed sets stated in prose only: {prose:?}");
    let outcome = &spec["components"]["schemas"]["AuditEvent"]["properties"]["outcome"]["enum"];
    assert_eq!(outcome, &serde_json::json!(["success", "failure", "refused", "throttled"]));
}
