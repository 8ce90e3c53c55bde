//! Tenancy, attacked: scopes beyond your tenant, every list read by the wrong tenant,
//! keyset pages, operator actions, the queue under two replicas, the cache across replicas.

use axum::body::Body;
use axum::http::{header, Method, Request, StatusCode};
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use serde_json::{json, Value};
use steward_backend::store::entities::{flows, runs};
use steward_shared::permissions::Requirement;

use crate::harness::{Principal, TestApp};
use crate::on_both;

on_both!(
    scope_beyond_your_tenant_is_refused_not_narrowed,
    no_list_leaks_another_tenant,
    id_filters_naming_another_tenant_are_refused_not_narrowed,
    flows_page_by_keyset_and_operators_act,
    two_replicas_never_run_a_run_twice,
    refresh_is_scoped_and_invalidates_other_replicas,
    customer_picker_searches_and_floats_recents,
    connector_keys_rotate_and_show_once,
    seed_fills_every_table,
    lists_name_what_their_ids_point_at,
    customer_overview_counts_what_each_customer_holds,
    customers_and_workspaces_are_renamed,
);

/// Lists answer names beside ids (issue 33: the console showed `01a24ad4` in admin mode's
/// Customer column): flows their customer and workspace, runs their customer and flow,
/// connectors their customer and workspace, audit events their customer and what their target
/// is called; so do the answers of a create.
async fn lists_name_what_their_ids_point_at(app: TestApp) {
    let admin = app.setup_admin().await;
    let (acme, _) = app.customer("Acme Corp", "tenant").await;
    let sales = app.workspace(acme, "Sales").await;
    let all = [("x-steward-scope", "all")];
    let ws = sales.to_string();
    let template = crate::runs::hash_template(&app, &admin).await;
    let created = app
        .call_with(
            Method::POST,
            "/api/flows",
            &admin,
            Some(json!({ "workspace_id": ws, "name": "Nightly sync", "template_id": template, "publish": true })),
            &all,
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{:?}", created.body);
    assert_eq!(
        (created.body["customer_name"].as_str(), created.body["workspace_name"].as_str()),
        (Some("Acme Corp"), Some("Sales"))
    );
    let flow = created.body["id"].as_str().unwrap().to_owned();
    let run = app.call_with(Method::POST, &format!("/api/flows/{flow}/runs"), &admin, None, &all).await;
    assert!(run.status.is_success(), "{:?}", run.body);
    assert_eq!(
        (run.body["customer_name"].as_str(), run.body["flow_name"].as_str()),
        (Some("Acme Corp"), Some("Nightly sync"))
    );
    let connector = app
        .call_with(
            Method::POST,
            "/api/connectors",
            &admin,
            Some(json!({ "workspace_id": ws, "name": "Warehouse", "kind": "postgres" })),
            &all,
        )
        .await;
    assert!(connector.status.is_success(), "{:?}", connector.body);

    let item = |path: &'static str, key: &'static str, value: String| {
        let app = &app;
        let admin = admin.clone();
        async move {
            let res = app.call_with(Method::GET, path, &admin, None, &[("x-steward-scope", "all")]).await;
            assert_eq!(res.status, StatusCode::OK, "{path}: {:?}", res.body);
            res.body["items"]
                .as_array()
                .unwrap()
                .iter()
                .find(|i| i[key] == value.as_str())
                .cloned()
                .unwrap_or_else(|| panic!("{path}: no {key} {value}"))
        }
    };
    let f = item("/api/flows", "id", flow.clone()).await;
    assert_eq!((f["customer_name"].as_str(), f["workspace_name"].as_str()), (Some("Acme Corp"), Some("Sales")));
    let r = item("/api/runs", "flow_id", flow.clone()).await;
    assert_eq!((r["customer_name"].as_str(), r["flow_name"].as_str()), (Some("Acme Corp"), Some("Nightly sync")));
    let c = item("/api/connectors", "name", "Warehouse".into()).await;
    assert_eq!((c["customer_name"].as_str(), c["workspace_name"].as_str()), (Some("Acme Corp"), Some("Sales")));
    let e = item("/api/audit", "target_id", flow).await;
    assert_eq!((e["customer_name"].as_str(), e["target_name"].as_str()), (Some("Acme Corp"), Some("Nightly sync")));
    let connector_id = c["id"].as_str().unwrap().to_owned();
    let e = item("/api/audit", "target_id", connector_id).await;
    assert_eq!((e["target_type"].as_str(), e["target_name"].as_str()), (Some("connector"), Some("Warehouse")));
    // The first event: a name exactly where there is a customer.
    let setup = item("/api/audit", "action", "setup.complete".into()).await;
    assert_eq!(setup["customer_name"].is_null(), setup["customer_id"].is_null(), "{setup:?}");
}

/// Every leaf except the cross-tenant one: a tenant's most powerful lead.
const TENANT_LEAD: &[&str] = &[
    "steward.access.*",
    "steward.customers.*",
    "steward.flows.*",
    "steward.runs.*",
    "steward.connectors.*",
    "steward.data.*",
    "steward.cache.*",
    "steward.audit.*",
    "steward.system.*",
    "steward.console.*",
];

struct World {
    admin: String,
    acme: Principal,
    globex: Principal,
    globex_flow: String,
    /// A template of one step (flows made from it can be published and run).
    template: Value,
}

async fn world(app: &TestApp) -> World {
    let admin = app.setup_admin().await;
    let (acme, acme_ws) = app.customer("Acme", "tenant").await;
    let (globex, globex_ws) = app.customer("Globex", "tenant").await;
    let acme_role = app.role(acme, acme_ws, TENANT_LEAD).await;
    let globex_role = app.role(globex, globex_ws, TENANT_LEAD).await;
    let acme = app.user_with_role(acme, acme_ws, acme_role).await;
    let globex = app.user_with_role(globex, globex_ws, globex_role).await;
    let template = crate::runs::hash_template(app, &admin).await;
    for (p, name) in [(&acme, "Acme sync"), (&globex, "Globex sync")] {
        let res = app
            .post(
                "/api/flows",
                Some(&p.token),
                json!({ "workspace_id": p.workspace_id, "name": name, "template_id": template, "publish": true }),
            )
            .await;
        assert_eq!(res.status, StatusCode::CREATED, "{:?}", res.body);
        let flow = res.body["id"].as_str().unwrap().to_owned();
        assert_eq!(
            app.call(Method::POST, &format!("/api/flows/{flow}/runs"), Some(&p.token), None).await.status,
            StatusCode::ACCEPTED
        );
        let c = app
            .post(
                "/api/connectors",
                Some(&p.token),
                json!({ "workspace_id": p.workspace_id, "name": format!("{name} db"), "kind": "postgres" }),
            )
            .await;
        assert_eq!(c.status, StatusCode::CREATED, "{:?}", c.body);
    }
    let globex_flow = flows::Entity::find()
        .filter(flows::Column::Name.eq("Globex sync"))
        .one(app.db())
        .await
        .unwrap()
        .unwrap()
        .id
        .to_string();
    World { admin, acme, globex, globex_flow, template }
}

async fn scoped(
    app: &TestApp,
    path: &str,
    token: &str,
    header_value: Option<&str>,
    cookie: Option<&str>,
) -> crate::harness::Response {
    let mut req =
        Request::builder().method(Method::GET).uri(path).header(header::AUTHORIZATION, format!("Bearer {token}"));
    if let Some(v) = header_value {
        req = req.header("x-steward-scope", v);
    }
    if let Some(c) = cookie {
        req = req.header(header::COOKIE, format!("theme=dark; steward_scope={c}"));
    }
    app.send(req.body(Body::empty()).unwrap()).await
}

fn customers_in(body: &Value) -> Vec<String> {
    body["items"].as_array().unwrap().iter().map(|i| i["customer_id"].as_str().unwrap().to_owned()).collect()
}

async fn scope_beyond_your_tenant_is_refused_not_narrowed(app: TestApp) {
    let w = world(&app).await;
    let (acme_c, globex_c) = (w.acme.customer_id.to_string(), w.globex.customer_id.to_string());
    let t = &w.acme.token;
    // Asked for explicitly: refused, never narrowed.
    for (h, c) in [
        (Some("all".to_string()), None),
        (Some(format!("customer:{globex_c}")), None),
        (Some(format!("customer:{}", uuid::Uuid::now_v7())), None),
        (Some("all".to_string()), Some("tenant".to_string())),
    ] {
        let res = scoped(&app, "/api/flows", t, h.as_deref(), c.as_deref()).await;
        assert_eq!((res.status, res.problem()), (StatusCode::FORBIDDEN, "cross_tenant_denied"), "{h:?} {c:?}");
    }
    // Remembered in the cookie (an admin used this browser before): not a request. It falls
    // back to the user's own tenant, and never shows another's data.
    for c in ["all".to_string(), format!("customer%3A{globex_c}"), format!("customer%3A{}", uuid::Uuid::now_v7())] {
        let res = scoped(&app, "/api/flows", t, None, Some(&c)).await;
        assert_eq!(res.status, StatusCode::OK, "{c}: {:?}", res.body);
        assert_eq!(customers_in(&res.body), [acme_c.as_str()], "{c}");
        let scope = scoped(&app, "/api/scope", t, None, Some(&c)).await;
        assert_eq!(scope.body["mode"], "tenant", "{c}");
    }
    // A header that is not a scope (an empty one included) is the caller's error, not "tenant".
    for header in ["everything", "", "customer:", "all,tenant"] {
        let bad = scoped(&app, "/api/flows", t, Some(header), None).await;
        assert_eq!(
            (bad.status, bad.body["errors"][0]["field"].as_str()),
            (StatusCode::UNPROCESSABLE_ENTITY, Some("X-Steward-Scope")),
            "{header:?}"
        );
    }
    // Explicit beats the cookie; your own customer is always fine.
    let own = scoped(&app, "/api/flows", t, Some("tenant"), Some("all")).await;
    assert_eq!(own.status, StatusCode::OK);
    assert_eq!(customers_in(&own.body), [acme_c.as_str()]);
    let own = scoped(&app, "/api/flows", t, Some(&format!("customer:{acme_c}")), None).await;
    assert_eq!(customers_in(&own.body), [acme_c.as_str()]);

    // The platform admin: all, one customer, an unknown one.
    let all = scoped(&app, "/api/flows", &w.admin, Some("all"), None).await;
    let mut seen = customers_in(&all.body);
    seen.sort();
    let mut want = vec![acme_c.clone(), globex_c.clone()];
    want.sort();
    assert_eq!(seen, want);
    let by_cookie = scoped(&app, "/api/flows", &w.admin, None, Some(&format!("customer:{globex_c}"))).await;
    assert_eq!(customers_in(&by_cookie.body), [globex_c.as_str()]);
    let mine = scoped(&app, "/api/flows", &w.admin, None, None).await;
    assert!(customers_in(&mine.body).is_empty(), "admin mode off: the platform's own flows only");
    let unknown = scoped(&app, "/api/flows", &w.admin, Some(&format!("customer:{}", uuid::Uuid::now_v7())), None).await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
    let kpis = scoped(&app, "/api/dashboard", &w.admin, Some(&format!("customer:{globex_c}")), None).await;
    assert_eq!((kpis.body["flows"].as_u64(), kpis.body["scope"]["customer_name"].as_str()), (Some(1), Some("Globex")));
}

/// Every GET route without path parameters, read by Acme's lead in every way they may ask:
/// nothing of Globex (its customer id, its flow id) ever appears.
async fn no_list_leaks_another_tenant(app: TestApp) {
    let w = world(&app).await;
    let (_, spec) = steward_backend::api::contract::routes().split_for_parts();
    let contract = steward_backend::api::contract::contract(spec).unwrap();
    let secrets = [w.globex.customer_id.to_string(), w.globex_flow.clone(), w.globex.user_id.to_string()];
    let mut read = 0;
    for ((method, path), rule) in &contract.table {
        if *method != Method::GET || path.contains('{') || rule.requirement == Requirement::Public {
            continue;
        }
        // An endless event stream; its lines pass the same condition as `list_logs`, read here.
        if crate::harness::STREAMS.contains(&rule.operation_id.as_str()) {
            continue;
        }
        for (h, c) in [(None, None), (Some("tenant"), None), (None, Some("all")), (Some("all"), None)] {
            let res = scoped(&app, path, &w.acme.token, h, c).await;
            let text = res.body.to_string();
            for secret in &secrets {
                assert!(!text.contains(secret.as_str()), "GET {path} ({h:?}, {c:?}) leaked {secret}: {text}");
            }
            if res.status == StatusCode::OK {
                read += 1;
            }
        }
        // By id, too: Globex's flow is "not found" to every action.
        for action in ["pause", "resume", "publish", "runs"] {
            let res = app
                .call(Method::POST, &format!("/api/flows/{}/{action}", w.globex_flow), Some(&w.acme.token), None)
                .await;
            assert_eq!(res.status, StatusCode::NOT_FOUND, "{action}");
        }
    }
    assert!(read >= 10, "only {read} successful reads");
    // The admin in admin mode does see Globex: the check above is not vacuous.
    let all = scoped(&app, "/api/flows", &w.admin, Some("all"), None).await;
    assert!(all.body.to_string().contains(&w.globex_flow));
}

/// Every id-valued query parameter of every read, sent by Acme's lead with Globex's id of that
/// kind: refused (403 `cross_tenant_denied` for a customer, 422 naming the field for anything
/// else), never a 200 narrowed to nothing. Walked from the spec, so a new filter is covered the
/// day it is added (and fails here until this test knows what id to send it).
async fn id_filters_naming_another_tenant_are_refused_not_narrowed(app: TestApp) {
    use steward_backend::store::entities::roles;
    let w = world(&app).await;
    let globex_role = roles::Entity::find()
        .filter(roles::Column::CustomerId.eq(w.globex.customer_id))
        .one(app.db())
        .await
        .unwrap()
        .unwrap()
        .id
        .to_string();
    let globex_run = runs::Entity::find()
        .filter(runs::Column::CustomerId.eq(w.globex.customer_id))
        .one(app.db())
        .await
        .unwrap()
        .unwrap()
        .id
        .to_string();
    let foreign = |name: &str| -> Option<String> {
        Some(match name {
            "customer_id" => w.globex.customer_id.to_string(),
            "actor" | "user" | "user_id" | "target_id" => w.globex.user_id.to_string(),
            "workspace" | "workspace_id" => w.globex.workspace_id.to_string(),
            "role_id" => globex_role.clone(),
            "flow_id" => w.globex_flow.clone(),
            "run_id" => globex_run.clone(),
            // Platform-wide things (applications are not a tenant's): no foreign one exists.
            "application_id" | "version_id" => return None,
            other => panic!("no foreign id known for the query parameter `{other}`: add it here"),
        })
    };
    // What a required parameter is sent as, when it is not the one under test.
    let acme_user = w.acme.user_id.to_string();
    let sample = |name: &str| match name {
        "user" => acme_user.clone(),
        "permission" => "steward.flows.view".to_owned(),
        other => panic!("no sample value for the required parameter `{other}`"),
    };
    let spec: Value = serde_json::from_str(&steward_backend::api::contract::spec_json().unwrap()).unwrap();
    let mut walked = 0;
    for (path, item) in spec["paths"].as_object().unwrap() {
        let Some(op) = item.get("get") else { continue };
        if path.contains('{') || op["x-permission"] == "public" {
            continue;
        }
        let id = op["operationId"].as_str().unwrap();
        let params: Vec<&Value> =
            op["parameters"].as_array().into_iter().flatten().filter(|p| p["in"] == "query").collect();
        for param in &params {
            let name = param["name"].as_str().unwrap();
            let id_valued = param["schema"]["format"] == "uuid" || name == "target_id";
            if !id_valued {
                continue;
            }
            let Some(value) = foreign(name) else { continue };
            let mut query: Vec<(String, String)> = params
                .iter()
                .filter(|p| p["required"] == true && p["name"] != name)
                .map(|p| (p["name"].as_str().unwrap().to_owned(), sample(p["name"].as_str().unwrap())))
                .collect();
            query.push((name.to_owned(), value));
            let qs: Vec<String> = query.iter().map(|(k, v)| format!("{k}={v}")).collect();
            let uri = format!("{path}?{}", qs.join("&"));
            let status = if crate::harness::STREAMS.contains(&id) {
                app.status_of(Method::GET, &uri, &w.acme.token).await
            } else {
                let res = app.get(&uri, Some(&w.acme.token)).await;
                if res.status == StatusCode::UNPROCESSABLE_ENTITY {
                    assert_eq!(res.body["errors"][0]["field"], name, "{id} {uri}: {:?}", res.body);
                }
                if name == "customer_id" {
                    assert_eq!(res.problem(), "cross_tenant_denied", "{id} {uri}: {:?}", res.body);
                }
                res.status
            };
            assert!(
                [StatusCode::FORBIDDEN, StatusCode::UNPROCESSABLE_ENTITY, StatusCode::NOT_FOUND].contains(&status),
                "{id}: `{name}` naming Globex's thing answered {status} ({uri})"
            );
            walked += 1;
        }
    }
    assert!(walked >= 15, "only {walked} id filters walked");
    // Acme's own ids in the same filters are taken: the refusals above are about the tenant.
    for uri in [
        format!("/api/audit?actor={}", w.acme.user_id),
        format!("/api/audit?target_id={}", w.acme.user_id),
        format!("/api/runs?flow_id={}", flows_of(&app, w.acme.customer_id).await),
        format!("/api/sessions?user_id={}", w.acme.user_id),
    ] {
        let res = app.get(&uri, Some(&w.acme.token)).await;
        assert_eq!(res.status, StatusCode::OK, "{uri}: {:?}", res.body);
    }
    // Platform staff who acted inside Acme (here: viewed as its lead) appear in Acme's events,
    // so Acme may filter by them; the staff member is still not Acme's to look up otherwise.
    let view =
        app.post("/api/impersonation", Some(&w.admin), json!({ "user_id": w.acme.user_id, "reason": "support" })).await;
    assert_eq!(view.status, StatusCode::OK, "{:?}", view.body);
    app.call(Method::POST, "/api/impersonation/exit", Some(&w.admin), None).await;
    let staff = steward_backend::store::entities::users::Entity::find()
        .filter(steward_backend::store::entities::users::Column::SuperAdmin.eq(true))
        .one(app.db())
        .await
        .unwrap()
        .unwrap()
        .id;
    let res = app.get(&format!("/api/audit?actor={staff}"), Some(&w.acme.token)).await;
    assert_eq!(res.status, StatusCode::OK, "{:?}", res.body);
    assert!(!res.body["items"].as_array().unwrap().is_empty(), "{:?}", res.body);
    let res = app.get(&format!("/api/sessions?user_id={staff}"), Some(&w.acme.token)).await;
    assert_eq!(res.status, StatusCode::NOT_FOUND, "{:?}", res.body);
    // The platform admin may name Globex's things, in a scope that reaches them (in its own
    // tenant's scope the filter would be narrowed to nothing, so it is refused there too).
    let uri = format!("/api/audit?actor={}", w.globex.user_id);
    let res = scoped(&app, &uri, &w.admin, Some("all"), None).await;
    assert_eq!(res.status, StatusCode::OK, "{:?}", res.body);
    let res = scoped(&app, &uri, &w.admin, None, None).await;
    assert_eq!(
        (res.status, res.body["errors"][0]["field"].as_str()),
        (StatusCode::NOT_FOUND, Some("actor")),
        "{:?}",
        res.body
    );
}

async fn flows_of(app: &TestApp, customer: uuid::Uuid) -> uuid::Uuid {
    flows::Entity::find().filter(flows::Column::CustomerId.eq(customer)).one(app.db()).await.unwrap().unwrap().id
}

async fn flows_page_by_keyset_and_operators_act(app: TestApp) {
    let w = world(&app).await;
    let t = Some(w.acme.token.as_str());
    for name in ["delta", "alpha", "echo", "charlie", "bravo"] {
        app.post("/api/flows", t, json!({ "workspace_id": w.acme.workspace_id, "name": name })).await;
    }
    let mut names = Vec::new();
    let mut cursor: Option<String> = None;
    let mut pages = 0;
    loop {
        let path = match &cursor {
            Some(c) => format!("/api/flows?sort=name&limit=2&cursor={c}"),
            None => "/api/flows?sort=name&limit=2".into(),
        };
        let res = app.get(&path, t).await;
        assert_eq!(res.status, StatusCode::OK, "{:?}", res.body);
        names.extend(res.body["items"].as_array().unwrap().iter().map(|f| f["name"].as_str().unwrap().to_owned()));
        pages += 1;
        match res.body["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => break,
        }
    }
    assert_eq!(names, ["Acme sync", "alpha", "bravo", "charlie", "delta", "echo"]);
    assert_eq!(pages, 3);
    let newest = app.get("/api/flows?limit=1", t).await;
    assert_eq!(newest.body["items"][0]["name"], "bravo");
    for (q, field) in [
        ("limit=0", "limit"),
        ("limit=500", "limit"),
        ("cursor=zzz", "cursor"),
        ("status=gone", "status"),
        ("sort=size", "sort"),
    ] {
        let res = app.get(&format!("/api/flows?{q}"), t).await;
        // A cursor this list did not give out names no page: 404 on `cursor`.
        let status = if field == "cursor" { StatusCode::NOT_FOUND } else { StatusCode::UNPROCESSABLE_ENTITY };
        assert_eq!((res.status, res.body["errors"][0]["field"].as_str()), (status, Some(field)), "{q}");
    }

    let id = newest.body["items"][0]["id"].as_str().unwrap().to_owned();
    let paused = app.call(Method::POST, &format!("/api/flows/{id}/pause"), t, None).await;
    assert_eq!((paused.status, paused.body["state"].as_str()), (StatusCode::OK, Some("paused")));
    let again = app.call(Method::POST, &format!("/api/flows/{id}/pause"), t, None).await;
    assert_eq!((again.status, again.problem()), (StatusCode::CONFLICT, "invalid_transition"));
    let refused = app.call(Method::POST, &format!("/api/flows/{id}/runs"), t, None).await;
    assert_eq!(refused.problem(), "flow_paused");
    assert_eq!(app.call(Method::POST, &format!("/api/flows/{id}/resume"), t, None).await.status, StatusCode::OK);
    // A flow made by hand has no steps: it would "succeed" having done nothing, so it is neither
    // run nor published, and the refusal says why.
    assert_eq!(newest.body["items"][0]["steps"], 0);
    for action in ["runs", "publish"] {
        let res = app.call(Method::POST, &format!("/api/flows/{id}/{action}"), t, None).await;
        assert_eq!(
            (res.status, res.body["errors"][0]["field"].as_str()),
            (StatusCode::UNPROCESSABLE_ENTITY, Some("steps")),
            "{action}: {:?}",
            res.body
        );
        assert!(res.body["errors"][0]["message"].as_str().unwrap().contains("template"), "{:?}", res.body);
    }
    let bare = json!({ "workspace_id": w.acme.workspace_id, "name": "Bare", "publish": true });
    let res = app.post("/api/flows", t, bare).await;
    assert_eq!(res.body["errors"][0]["field"], "publish", "{:?}", res.body);
    let draft = flows::Entity::find_by_id(uuid::Uuid::parse_str(&id).unwrap()).one(app.db()).await.unwrap().unwrap();
    assert_eq!(draft.status, "draft", "a refused publish changes nothing");
    // A run of it queued before this rule fails saying why, and the scheduler passes it by even
    // when an older build published it with a schedule.
    steward_backend::tenancy::flows::enqueue(app.db(), &draft, "manual", None, chrono::Utc::now()).await.unwrap();
    steward_backend::ops::worker::drain(&app.state, "test").await.unwrap();
    let legacy = app.get(&format!("/api/runs?flow_id={id}"), t).await;
    assert_eq!(legacy.body["items"][0]["status"], "failed", "{:?}", legacy.body);
    assert!(legacy.body["items"][0]["error"].as_str().unwrap().contains("no steps"), "{:?}", legacy.body);
    let due = flows::ActiveModel {
        status: sea_orm::Set("published".into()),
        schedule: sea_orm::Set(Some("every 1h".into())),
        next_run_at: sea_orm::Set(Some(chrono::Utc::now() - chrono::Duration::minutes(1))),
        ..draft.clone().into()
    };
    sea_orm::ActiveModelTrait::update(due, app.db()).await.unwrap();
    assert_eq!(steward_backend::ops::worker::schedule_due(&app.state).await.unwrap(), 0);
    // One made from a template runs its steps.
    let synced = app.get("/api/flows?search=Acme%20sync", t).await;
    assert_eq!(synced.body["items"][0]["steps"], 1, "{:?}", synced.body);
    let id = synced.body["items"][0]["id"].as_str().unwrap().to_owned();
    let queued = app.call(Method::POST, &format!("/api/flows/{id}/runs"), t, None).await;
    assert_eq!((queued.status, queued.body["status"].as_str()), (StatusCode::ACCEPTED, Some("queued")));
    steward_backend::ops::worker::drain(&app.state, "test").await.unwrap();
    let runs = app.get(&format!("/api/runs?flow_id={id}"), t).await;
    assert_eq!(runs.body["items"][0]["status"], "succeeded", "{:?}", runs.body);
    assert!(runs.body["items"][0]["duration_ms"].as_i64().is_some());
    assert_eq!(runs.body["items"][0]["steps"][0]["kind"], "hash");
    assert_eq!(runs.body["items"][0]["demo"], false);

    // A draft made from a template is published once; its runs then queue.
    let draft = app
        .post(
            "/api/flows",
            t,
            json!({ "workspace_id": w.acme.workspace_id, "name": "Later", "template_id": w.template }),
        )
        .await;
    assert_eq!((draft.status, draft.body["status"].as_str()), (StatusCode::CREATED, Some("draft")), "{:?}", draft.body);
    let later = draft.body["id"].as_str().unwrap().to_owned();
    let published = app.call(Method::POST, &format!("/api/flows/{later}/publish"), t, None).await;
    assert_eq!(
        (published.status, published.body["status"].as_str(), published.body["id"].as_str()),
        (StatusCode::OK, Some("published"), Some(later.as_str())),
        "{:?}",
        published.body
    );
    let twice = app.call(Method::POST, &format!("/api/flows/{later}/publish"), t, None).await;
    assert_eq!((twice.status, twice.problem()), (StatusCode::CONFLICT, "invalid_transition"), "{:?}", twice.body);

    // A viewer reads but cannot act.
    let viewer_role =
        app.role(w.acme.customer_id, w.acme.workspace_id, &["steward.flows.view", "steward.runs.view"]).await;
    let viewer = app.user_with_role(w.acme.customer_id, w.acme.workspace_id, viewer_role).await;
    assert_eq!(app.get("/api/flows", Some(&viewer.token)).await.status, StatusCode::OK);
    for action in ["pause", "runs", "publish"] {
        let res = app.call(Method::POST, &format!("/api/flows/{id}/{action}"), Some(&viewer.token), None).await;
        assert_eq!(res.problem(), "permission_denied", "{action}");
    }
}

async fn two_replicas_never_run_a_run_twice(app: TestApp) {
    let w = world(&app).await;
    let flow = flows::Entity::find().filter(flows::Column::Name.eq("Acme sync")).one(app.db()).await.unwrap().unwrap();
    for _ in 0..40 {
        steward_backend::tenancy::flows::enqueue(app.db(), &flow, "manual", None, chrono::Utc::now()).await.unwrap();
    }
    let replica = steward_backend::prepare((*app.state.config).clone()).await.unwrap();
    let (a, b, c, d) = tokio::join!(
        steward_backend::ops::worker::drain(&app.state, "a1"),
        steward_backend::ops::worker::drain(&app.state, "a2"),
        steward_backend::ops::worker::drain(&replica, "b1"),
        steward_backend::ops::worker::drain(&replica, "b2"),
    );
    let total = a.unwrap() + b.unwrap() + c.unwrap() + d.unwrap();
    assert_eq!(total, 42, "40 queued here plus the two the world queued");
    let all = runs::Entity::find().all(app.db()).await.unwrap();
    assert!(all.iter().all(|r| r.status == "succeeded" && r.attempt == 1), "a run ran twice or not at all");
    let _ = w;

    // The scheduler: two replicas tick at once; the due flow is enqueued exactly once.
    let mut due: flows::ActiveModel = flow.clone().into();
    due.schedule = sea_orm::Set(Some("every 1h".into()));
    due.next_run_at = sea_orm::Set(Some(chrono::Utc::now() - chrono::Duration::minutes(1)));
    sea_orm::ActiveModelTrait::update(due, app.db()).await.unwrap();
    let (x, y) = tokio::join!(
        steward_backend::ops::worker::schedule_due(&app.state),
        steward_backend::ops::worker::schedule_due(&replica)
    );
    assert_eq!(x.unwrap() + y.unwrap(), 1);
    let queued = runs::Entity::find().filter(runs::Column::Status.eq("queued")).count(app.db()).await.unwrap();
    assert_eq!(queued, 1);
    let moved = flows::Entity::find_by_id(flow.id).one(app.db()).await.unwrap().unwrap();
    assert!(moved.next_run_at.unwrap() > chrono::Utc::now() + chrono::Duration::minutes(50));
}

async fn refresh_is_scoped_and_invalidates_other_replicas(app: TestApp) {
    let w = world(&app).await;
    let acme = format!("customer:{}", w.acme.customer_id);
    let all = app.send(with_scope(Method::POST, "/api/cache/refresh", &w.admin, "all")).await;
    assert_eq!((all.status, all.problem()), (StatusCode::CONFLICT, "customer_scope_required"));
    assert!(all.body["detail"].as_str().unwrap().contains("pick a customer"));

    let replica_state = steward_backend::prepare((*app.state.config).clone()).await.unwrap();
    let replica = steward_backend::app(replica_state.clone()).unwrap();
    let first = scoped(&app, "/api/dashboard", &w.admin, Some(&acme), None).await;
    assert_eq!((first.body["cached"].as_bool(), first.body["flows"].as_u64()), (Some(false), Some(1)));
    let second = scoped(&app, "/api/dashboard", &w.admin, Some(&acme), None).await;
    assert_eq!(second.body["cached"], true);
    assert_eq!(on_replica(replica.clone(), &w.admin, &acme).await["cached"], false);
    assert_eq!(on_replica(replica.clone(), &w.admin, &acme).await["cached"], true);

    // New data, then Refresh on the first replica: both answer fresh, with it.
    app.post("/api/flows", Some(&w.acme.token), json!({ "workspace_id": w.acme.workspace_id, "name": "another" }))
        .await;
    assert_eq!(
        scoped(&app, "/api/dashboard", &w.admin, Some(&acme), None).await.body["flows"],
        1,
        "cached until refreshed"
    );
    let refreshed = app
        .send(with_scope(Method::POST, "/api/cache/refresh", &w.admin, &format!("customer:{}", w.acme.customer_id)))
        .await;
    assert_eq!((refreshed.status, refreshed.body["flows"].as_u64()), (StatusCode::OK, Some(2)));
    let after = on_replica(replica, &w.admin, &acme).await;
    assert_eq!((after["cached"].as_bool(), after["flows"].as_u64()), (Some(false), Some(2)));
    assert!(replica_state.kpis.misses.load(std::sync::atomic::Ordering::Relaxed) >= 2);

    // A tenant refreshes its own customer; never another.
    let own = app.send(with_scope(Method::POST, "/api/cache/refresh", &w.acme.token, "tenant")).await;
    assert_eq!(own.status, StatusCode::OK);
    let other = app
        .send(with_scope(
            Method::POST,
            "/api/cache/refresh",
            &w.acme.token,
            &format!("customer:{}", w.globex.customer_id),
        ))
        .await;
    assert_eq!(other.problem(), "cross_tenant_denied");
}

async fn on_replica(router: axum::Router, token: &str, scope: &str) -> Value {
    let res =
        tower::ServiceExt::oneshot(router, with_scope(Method::GET, "/api/dashboard", token, scope)).await.unwrap();
    let bytes = http_body_util::BodyExt::collect(res.into_body()).await.unwrap().to_bytes();
    serde_json::from_slice::<Value>(&bytes).unwrap()
}

fn with_scope(method: Method, path: &str, token: &str, scope: &str) -> Request<Body> {
    Request::builder()
        .method(method)
        .uri(path)
        .header(header::AUTHORIZATION, format!("Bearer {token}"))
        .header("x-steward-scope", scope)
        .body(Body::empty())
        .unwrap()
}

async fn customer_picker_searches_and_floats_recents(app: TestApp) {
    let w = world(&app).await;
    for i in 0..5 {
        let res = app.post("/api/customers", Some(&w.admin), json!({ "name": format!("Zeta {i}") })).await;
        assert_eq!(res.status, StatusCode::CREATED, "{:?}", res.body);
    }
    let dup = app.post("/api/customers", Some(&w.admin), json!({ "name": "Zeta 1" })).await;
    assert_eq!((dup.status, dup.body["errors"][0]["field"].as_str()), (StatusCode::CONFLICT, Some("name")));
    let by_tenant = app.post("/api/customers", Some(&w.acme.token), json!({ "name": "Mine" })).await;
    assert_eq!(by_tenant.problem(), "cross_tenant_denied");

    let search = app.get("/api/customers?search=zeta&limit=2", Some(&w.admin)).await;
    assert_eq!(search.body["items"].as_array().unwrap().len(), 2);
    let next = search.body["next_cursor"].as_str().unwrap();
    let page2 = app.get(&format!("/api/customers?search=zeta&limit=2&cursor={next}"), Some(&w.admin)).await;
    assert_eq!(page2.body["items"][0]["name"], "Zeta 2");
    let pct = app.get("/api/customers?search=%25", Some(&w.admin)).await;
    assert_eq!(pct.body["items"].as_array().unwrap().len(), 0, "% is matched literally");

    let globex = w.globex.customer_id;
    assert_eq!(
        app.call(Method::POST, &format!("/api/customers/{globex}/views"), Some(&w.admin), None).await.status,
        StatusCode::NO_CONTENT
    );
    let recent = app.get("/api/customers/recent", Some(&w.admin)).await;
    assert_eq!(recent.body["items"][0]["name"], "Globex");
    assert_eq!(recent.body["next_cursor"], Value::Null);
    assert_eq!(app.get("/api/customers/recent", Some(&w.acme.token)).await.body["items"], json!([]), "yours alone");
    // A tenant sees only itself, and recording a view of another is "not found".
    let own = app.get("/api/customers", Some(&w.acme.token)).await;
    assert_eq!(own.body["items"].as_array().unwrap().len(), 1);
    assert_eq!(own.body["items"][0]["name"], "Acme");
    assert_eq!(
        app.call(Method::POST, &format!("/api/customers/{globex}/views"), Some(&w.acme.token), None).await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(app.get(&format!("/api/customers/{globex}"), Some(&w.acme.token)).await.status, StatusCode::NOT_FOUND);
}

async fn connector_keys_rotate_and_show_once(app: TestApp) {
    let w = world(&app).await;
    let list = app.get("/api/connectors", Some(&w.acme.token)).await;
    let c = &list.body["items"][0];
    let id = c["id"].as_str().unwrap();
    let old_prefix = c["api_key_prefix"].as_str().unwrap().to_owned();
    assert!(c.get("api_key").is_none() && c.get("api_key_hash").is_none(), "lists never carry the key");
    let rotated = app.call(Method::POST, &format!("/api/connectors/{id}/rotate-key"), Some(&w.acme.token), None).await;
    assert_eq!(rotated.status, StatusCode::OK);
    let key = rotated.body["api_key"].as_str().unwrap();
    assert!(key.starts_with(rotated.body["api_key_prefix"].as_str().unwrap()));
    assert_ne!(rotated.body["api_key_prefix"], old_prefix);
    let stored = steward_backend::store::entities::connectors::Entity::find_by_id(id.parse::<uuid::Uuid>().unwrap())
        .one(app.db())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.api_key_hash, steward_backend::secrets::sha256_hex(key));
    assert!(!stored.api_key_hash.contains(key));
    let foreign =
        app.call(Method::POST, &format!("/api/connectors/{id}/rotate-key"), Some(&w.globex.token), None).await;
    assert_eq!(foreign.status, StatusCode::NOT_FOUND);
}

async fn seed_fills_every_table(app: TestApp) {
    app.setup_admin().await;
    let args = steward_backend::config::SeedArgs {
        customers: 3,
        users: 30,
        flows_per_customer: 2,
        runs_per_flow: 3,
        connectors_per_customer: 1,
        records_per_customer: 4,
        password: "demo-password-123".into(),
        seed: 7,
    };
    let seeded = steward_backend::ops::seed::run(&app.state, &args).await.unwrap();
    assert_eq!(
        (seeded.customers, seeded.users, seeded.flows, seeded.runs, seeded.connectors, seeded.records),
        (3, 30, 6, 18, 3, 12)
    );
    // The planner knows what the seed wrote, straight away (not when autovacuum gets to it).
    use sea_orm::ConnectionTrait;
    let analyzed = match app.db().get_database_backend() {
        sea_orm::DbBackend::Postgres => {
            "SELECT count(*) AS n FROM pg_class WHERE relname = 'users' AND relkind = 'r' AND reltuples > 0"
        }
        _ => "SELECT count(*) AS n FROM sqlite_stat1 WHERE tbl = 'users'",
    };
    let row = app
        .db()
        .query_one_raw(sea_orm::Statement::from_string(app.db().get_database_backend(), analyzed))
        .await
        .unwrap()
        .unwrap();
    assert!(row.try_get::<i64>("", "n").unwrap() >= 1, "users has planner statistics after the seed");
    let admin = app.login(crate::harness::ADMIN_EMAIL, crate::harness::ADMIN_PASSWORD).await.body["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let kpis = app.send(with_scope(Method::GET, "/api/dashboard", &admin, "all")).await;
    assert_eq!((kpis.body["customers"].as_u64(), kpis.body["users"].as_u64()), (Some(4), Some(31)));
    assert_eq!(kpis.body["runs_24h"].as_u64().map(|n| n <= 18), Some(true));
    // Demo users can sign in with the documented password.
    let some_user = steward_backend::store::entities::users::Entity::find()
        .filter(steward_backend::store::entities::users::Column::Status.eq("active"))
        .filter(steward_backend::store::entities::users::Column::SuperAdmin.eq(false))
        .one(app.db())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(app.login(&some_user.email, "demo-password-123").await.status, StatusCode::OK);

    // What the seed invented says so (issue 31): every run it wrote and the whole stats history
    // are demo data; a measurement is not, and leaves the invented runs out even when they
    // "finished" within the hour it measures.
    let listed = app.send(with_scope(Method::GET, "/api/runs?limit=100", &admin, "all")).await;
    let items = listed.body["items"].as_array().unwrap();
    assert_eq!(items.len(), 18, "{:?}", listed.body);
    assert!(items.iter().all(|r| r["demo"] == true), "{items:?}");
    let year = app.send(with_scope(Method::GET, "/api/stats?range=1y", &admin, "all")).await;
    let points = year.body["points"].as_array().unwrap();
    assert!(points.len() >= 300 && points.iter().all(|p| p["demo"] == true), "{} points", points.len());
    use sea_orm::sea_query::Expr;
    let just_now = chrono::Utc::now() - chrono::Duration::seconds(5);
    runs::Entity::update_many()
        .col_expr(runs::Column::FinishedAt, Expr::value(just_now))
        .filter(runs::Column::Demo.eq(true))
        .exec(app.db())
        .await
        .unwrap();
    steward_backend::ops::stats::snapshot(&app.state, chrono::Utc::now()).await.unwrap();
    let day = app.send(with_scope(Method::GET, "/api/stats?range=24h", &admin, "all")).await;
    let now = day.body["points"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(
        (now["demo"].as_bool(), now["runs_succeeded"].as_i64(), now["runs_failed"].as_i64()),
        (Some(false), Some(0), Some(0)),
        "{now}"
    );
    // The seeded flows have real steps: a published one runs them, and its run is not demo.
    let flow = flows::Entity::find()
        .filter(flows::Column::Status.eq("published"))
        .filter(flows::Column::State.eq("active"))
        .one(app.db())
        .await
        .unwrap()
        .expect("a published, active seeded flow");
    let path = format!("/api/flows/{}/runs", flow.id);
    let queued = app.send(with_scope(Method::POST, &path, &admin, "all")).await;
    assert_eq!(queued.status, StatusCode::ACCEPTED, "{:?}", queued.body);
    steward_backend::ops::worker::drain(&app.state, "test").await.unwrap();
    let ran = app.send(with_scope(Method::GET, &format!("/api/runs?flow_id={}", flow.id), &admin, "all")).await;
    let newest = &ran.body["items"][0];
    assert_eq!((newest["status"].as_str(), newest["demo"].as_bool()), (Some("succeeded"), Some(false)), "{newest}");
    assert_eq!(newest["steps"].as_array().map(Vec::len), Some(2), "{newest}");
}

/// Issue 34's Customers page: each customer with its workspaces, users and flows counted and its
/// newest audit event, by name in keyset pages; a tenant's lead sees its own customer only.
async fn customer_overview_counts_what_each_customer_holds(app: TestApp) {
    let w = world(&app).await;
    app.workspace(w.acme.customer_id, "Sales").await;
    app.user_with_role(w.acme.customer_id, w.acme.workspace_id, {
        let role = app.role(w.acme.customer_id, w.acme.workspace_id, &["steward.flows.view"]).await;
        role
    })
    .await;
    let all = app.get("/api/customers/overview?limit=200", Some(&w.admin)).await;
    assert_eq!(all.status, StatusCode::OK, "{:?}", all.body);
    let items = all.body["items"].as_array().unwrap();
    let names: Vec<&str> = items.iter().map(|c| c["name"].as_str().unwrap()).collect();
    let mut sorted = names.clone();
    sorted.sort();
    assert_eq!(names, sorted, "by name");
    let acme = items.iter().find(|c| c["name"] == "Acme").unwrap();
    assert_eq!(
        (acme["workspaces"].as_u64(), acme["users"].as_u64(), acme["flows"].as_u64()),
        (Some(2), Some(2), Some(1)),
        "{acme}"
    );
    assert!(acme["last_activity_at"].is_string(), "{acme}");
    assert_eq!(acme["id"], w.acme.customer_id.to_string());
    // Keyset pages: one customer a page, every one once.
    let (mut seen, mut cursor) = (Vec::new(), None::<String>);
    loop {
        let path = match &cursor {
            Some(c) => format!("/api/customers/overview?limit=1&cursor={c}"),
            None => "/api/customers/overview?limit=1".into(),
        };
        let page = app.get(&path, Some(&w.admin)).await;
        seen.extend(page.body["items"].as_array().unwrap().iter().map(|c| c["name"].as_str().unwrap().to_owned()));
        match page.body["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => break,
        }
    }
    assert_eq!(seen, names);
    let found = app.get("/api/customers/overview?search=GLOB", Some(&w.admin)).await;
    assert_eq!(found.body["items"].as_array().map(Vec::len), Some(1), "{:?}", found.body);
    // A tenant's lead: its own customer, never another's.
    let own = app.get("/api/customers/overview", Some(&w.globex.token)).await;
    assert_eq!(own.status, StatusCode::OK, "{:?}", own.body);
    let own: Vec<&str> = own.body["items"].as_array().unwrap().iter().map(|c| c["name"].as_str().unwrap()).collect();
    assert_eq!(own, ["Globex"]);
    let bad = app.get("/api/customers/overview?limit=0", Some(&w.admin)).await;
    assert_eq!(bad.body["errors"][0]["field"], "limit");
}

/// A customer's lead renames it (a name another customer has is taken; another tenant's
/// customer is not there); only super admins rename workspaces, and a name is taken within its
/// customer only. Each rename is audited with before and after.
async fn customers_and_workspaces_are_renamed(app: TestApp) {
    let w = world(&app).await;
    let acme = w.acme.customer_id;
    let lead = Some(w.acme.token.as_str());
    let slug = app.get(&format!("/api/customers/{acme}"), lead).await.body["slug"].clone();
    assert!(slug.is_string());
    let renamed = app.put(&format!("/api/customers/{acme}"), lead, json!({ "name": "Acme Inc" })).await;
    assert_eq!(
        (renamed.status, renamed.body["name"].as_str()),
        (StatusCode::OK, Some("Acme Inc")),
        "{:?}",
        renamed.body
    );
    assert_eq!(renamed.body["slug"], slug, "the slug stays: scripts and links use it");
    let read = app.get(&format!("/api/customers/{acme}"), lead).await;
    assert_eq!(read.body["name"], "Acme Inc", "{:?}", read.body);
    for (name, status, field) in [
        ("Globex", StatusCode::CONFLICT, "name"),
        ("", StatusCode::UNPROCESSABLE_ENTITY, "name"),
        (&"x".repeat(201), StatusCode::UNPROCESSABLE_ENTITY, "name"),
    ] {
        let res = app.put(&format!("/api/customers/{acme}"), lead, json!({ "name": name })).await;
        assert_eq!(
            (res.status, res.body["errors"][0]["field"].as_str()),
            (status, Some(field)),
            "{name:?}: {:?}",
            res.body
        );
    }
    let theirs = app.put(&format!("/api/customers/{acme}"), Some(&w.globex.token), json!({ "name": "Mine now" })).await;
    assert_eq!(theirs.status, StatusCode::NOT_FOUND, "{:?}", theirs.body);

    let sales = app.workspace(acme, "Sales").await;
    let ws = w.acme.workspace_id;
    let path = format!("/api/workspaces/{ws}");
    let by_lead = app.put(&path, lead, json!({ "name": "Operations" })).await;
    assert_eq!(by_lead.status, StatusCode::FORBIDDEN, "{:?}", by_lead.body);
    let done = app.put(&path, Some(&w.admin), json!({ "name": "Operations" })).await;
    assert_eq!((done.status, done.body["name"].as_str()), (StatusCode::OK, Some("Operations")), "{:?}", done.body);
    assert_eq!(done.body["id"], ws.to_string());
    let taken = app.put(&format!("/api/workspaces/{sales}"), Some(&w.admin), json!({ "name": "Operations" })).await;
    assert_eq!((taken.status, taken.body["errors"][0]["field"].as_str()), (StatusCode::CONFLICT, Some("name")));
    // Globex may have a workspace called Operations too.
    let globex_ws = w.globex.workspace_id;
    let elsewhere =
        app.put(&format!("/api/workspaces/{globex_ws}"), Some(&w.admin), json!({ "name": "Operations" })).await;
    assert_eq!(elsewhere.status, StatusCode::OK, "{:?}", elsewhere.body);

    let scope = [("x-steward-scope", "all")];
    for (action, before, after) in
        [("customer.rename", "Acme", "Acme Inc"), ("workspace.rename", "Acme main", "Operations")]
    {
        let res = app.call_with(Method::GET, &format!("/api/audit?action={action}"), &w.admin, None, &scope).await;
        let event = res.body["items"].as_array().unwrap().iter().find(|e| e["customer_id"] == acme.to_string());
        let event = event.unwrap_or_else(|| panic!("{action}: {:?}", res.body));
        assert_eq!(
            (event["summary"]["before"]["name"].as_str(), event["summary"]["after"]["name"].as_str()),
            (Some(before), Some(after)),
            "{event}"
        );
    }
}
