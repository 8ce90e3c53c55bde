//! The OpenAPI contract. Routes are registered and documented in one act (utoipa-axum);
//! here the generated document is completed and turned into the route table that
//! [`crate::api::gate::authorize`] enforces.
//!
//! A route's one permission declaration is the security requirement of its `#[utoipa::path]`:
//! `security(())` is public, `security(("bearer" = []))` needs any signed-in principal, and
//! `security(("bearer" = ["steward.x.y"]))` needs that catalog leaf. From it come the route
//! table and the `x-permission` extension; a route without one makes [`contract`] fail.

use axum::http::Method;
use serde_json::{json, Map, Value};
use std::collections::{HashMap, HashSet};
use steward_shared::permissions::{find_leaf, page_leaves_for, Requirement};
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;

use crate::access::confirm::ConfirmTarget;
use crate::api::gate::RouteRule;
use crate::state::AppState;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Steward API",
        description = "The administration API of the Steward automation platform. Every error is an RFC 9457 \
problem (`application/problem+json`) with a stable `type` (`urn:steward:problem:<code>`). Each operation \
names the permission leaf it needs in `x-permission` (or `public` / `authenticated`). Lists take `limit` \
(1-200) and an opaque `cursor` (keyset), and answer `{items, next_cursor}`. Scoped operations take the \
`X-Steward-Scope` header: `tenant`, `all` or `customer:<uuid>`.",
        license(name = "Apache-2.0", identifier = "Apache-2.0"),
    ),
    components(schemas(steward_shared::problem::Problem, steward_shared::problem::FieldError)),
    tags(
        (name = "system", description = "Health and status"),
        (name = "setup", description = "First launch"),
        (name = "auth", description = "Sign in, sessions, the current principal"),
        (name = "access", description = "The permission catalog; explaining access"),
        (name = "roles", description = "System and custom roles, memberships"),
        (name = "users", description = "User accounts"),
        (name = "workspaces", description = "Workspaces of a customer"),
        (name = "customers", description = "Customers (organizations) and the picker"),
        (name = "dashboard", description = "KPIs for the current scope, and Refresh"),
        (name = "flows", description = "The tenants' flows and runs"),
        (name = "connectors", description = "The tenants' connectors"),
        (name = "data", description = "Canonical data records, data ops (dedup merge, force refresh, migrations) and hash warnings"),
        (name = "applications", description = "Applications from archives and Git, their versions, import errors and packages (super admins)"),
        (name = "explorer", description = "The Data explorer over the tenants' tables (super admins)"),
        (name = "impersonation", description = "View as another user"),
        (name = "audit", description = "The tamper-evident audit log"),
        (name = "invitations", description = "Invitations to join a workspace"),
        (name = "sessions", description = "Login sessions, and revoking them"),
        (name = "two_factor", description = "TOTP 2FA, recovery codes and the 2FA policy"),
        (name = "tokens", description = "API tokens for scripts and the CLI"),
        (name = "mail", description = "The outbox of mail the platform sends"),
    )
)]
struct ApiDoc;

/// Every API route, each with its documentation.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .merge(crate::ops::routes::router())
        .merge(crate::access::routes::router())
        .merge(crate::audit::routes::router())
        .merge(crate::mail::routes::router())
        .merge(crate::identity::routes::router())
        .merge(crate::roles::routes::router())
        .merge(crate::tenancy::routes::router())
        .merge(crate::data::routes::router())
        .merge(crate::apps::routes::router())
        .merge(crate::directory::routes::router())
}

/// The finished spec and the route table derived from it.
pub struct Contract {
    pub spec: Value,
    pub table: HashMap<(Method, String), RouteRule>,
}

const METHODS: &[(&str, Method)] = &[
    ("get", Method::GET),
    ("post", Method::POST),
    ("put", Method::PUT),
    ("patch", Method::PATCH),
    ("delete", Method::DELETE),
];

/// Completes the generated document: security schemes, `x-permission`, problem responses;
/// and builds the route table. Fails on a route without a valid permission declaration.
pub fn contract(openapi: utoipa::openapi::OpenApi) -> Result<Contract, String> {
    let mut spec = serde_json::to_value(&openapi).map_err(|e| e.to_string())?;
    let mut table = HashMap::new();
    let mut operation_ids = HashSet::new();
    let mut parameter_rules = 0;
    let paths = spec.get_mut("paths").and_then(Value::as_object_mut).ok_or("spec has no paths")?;
    for (path, item) in paths.iter_mut() {
        for (name, method) in METHODS {
            let Some(op) = item.get_mut(*name).and_then(Value::as_object_mut) else {
                continue;
            };
            let where_ = format!("{} {path}", name.to_uppercase());
            let requirement = requirement(op).map_err(|e| format!("{where_}: {e}"))?;
            let id =
                op.get("operationId").and_then(Value::as_str).ok_or(format!("{where_}: no operationId"))?.to_owned();
            let id = id.as_str();
            if !operation_ids.insert(id.to_owned()) {
                return Err(format!("{where_}: operationId `{id}` is used twice"));
            }
            let by_transfer_token =
                op.get("security").and_then(|s| s.get(0)).and_then(|s| s.get("transfer_token")).is_some();
            let permission = if by_transfer_token { "transfer_token".into() } else { requirement.x_permission() };
            op.insert("x-permission".into(), json!(permission));
            let confirm = confirmation(op, path).map_err(|e| format!("{where_}: {e}"))?;
            if confirm.is_none() && requirement != Requirement::Public && is_destructive(name, id) {
                return Err(format!(
                    "{where_}: `{id}` is destructive, so it declares `x-confirm` (what must be typed while \
                     viewing as someone)"
                ));
            }
            refine_parameters(op);
            state_parameter_rules(op, id, &mut parameter_rules)?;
            add_problem_responses(op, path, requirement, confirm.is_some());
            add_response_headers(op);
            if requirement == Requirement::Public && !by_transfer_token {
                // `[{}]` reads as "a credential of no scheme" to generators; `[]` is "none".
                op.insert("security".into(), json!([]));
            }
            describe_caller(op, requirement, by_transfer_token, confirm.is_some());
            let mut leaves = Vec::new();
            match requirement {
                Requirement::Leaf(leaf) => {
                    leaves.push(leaf);
                    leaves.extend(page_leaves_for(id));
                    if leaves.len() > 1 {
                        op.insert("x-console-pages".into(), json!(leaves.get(1..)));
                    }
                }
                // Never-delegable: no console page leaf opens it.
                Requirement::SuperAdmin(leaf) | Requirement::SuperAdminView(leaf) => leaves.push(leaf),
                Requirement::Public | Requirement::Authenticated => {}
            }
            table.insert(
                (method.clone(), path.clone()),
                RouteRule { operation_id: id.to_owned(), requirement, leaves, confirm },
            );
        }
    }
    let components =
        spec.as_object_mut().ok_or("spec is not an object")?.entry("components").or_insert_with(|| json!({}));
    let components = components.as_object_mut().ok_or("components is not an object")?;
    components.insert(
        "securitySchemes".into(),
        json!({
            "bearer": {
                "type": "http",
                "scheme": "bearer",
                "bearerFormat": "JWT",
                "description": "An access token from `POST /api/auth/login`, or an API token. The scopes listed on an operation are the permission leaf it needs."
            },
            "transfer_token": {
                "type": "http",
                "scheme": "bearer",
                "bearerFormat": "JWT",
                "description": "A transfer token minted on this platform (`mint_transfer_token`): short-lived, good once, naming what may be exported."
            },
            "super_admin": {
                "type": "http",
                "scheme": "bearer",
                "bearerFormat": "JWT",
                "description": "The same bearer credential, of a super admin: operations of never-delegable console pages (Settings, Workspaces roots, Data explorer, Platform actions) need super admin status and the leaf listed, whatever roles grant."
            }
        }),
    );
    if parameter_rules != steward_shared::rules::PARAMETERS.len() {
        return Err("rules::PARAMETERS names a parameter no operation has".into());
    }
    components.insert("responses".into(), problem_responses());
    reference_page_items(components);
    state_field_rules(components)?;
    state_answered_sets(components)?;
    forbid_control_characters(&mut spec);
    link_created_ids(&mut spec);
    super::examples::apply(&mut spec)?;
    Ok(Contract { spec, table })
}

fn requirement(op: &Map<String, Value>) -> Result<Requirement, String> {
    let security = op
        .get("security")
        .and_then(Value::as_array)
        .ok_or("no security declaration (add `security(...)` to its #[utoipa::path])")?;
    let [only] = security.as_slice() else {
        return Err("declare exactly one security requirement".into());
    };
    let only = only.as_object().ok_or("malformed security requirement")?;
    if only.is_empty() {
        return Ok(Requirement::Public);
    }
    let (scheme, scopes) = match only.iter().next() {
        Some((scheme, scopes)) if only.len() == 1 => (scheme.as_str(), scopes),
        _ => return Err("name one scheme".into()),
    };
    let scopes = scopes.as_array().ok_or("scopes must be a list")?;
    let leaf = match scopes.as_slice() {
        [] => None,
        [leaf] => {
            let leaf = leaf.as_str().ok_or("scope must be a string")?;
            Some(find_leaf(leaf).ok_or(format!("`{leaf}` is not a leaf of the permission catalog"))?.id)
        }
        _ => return Err("name one permission leaf".into()),
    };
    match (scheme, leaf) {
        // The handler checks the token itself (`apps::transfer`); the gate lets it through.
        ("transfer_token", None) => Ok(Requirement::Public),
        ("bearer", None) => Ok(Requirement::Authenticated),
        ("bearer", Some(leaf)) => Ok(Requirement::Leaf(leaf)),
        ("super_admin", Some(leaf)) if op.get("x-view-as").is_some() => match op.get("x-view-as") {
            Some(Value::String(v)) if v == "target_rows" => Ok(Requirement::SuperAdminView(leaf)),
            _ => Err("x-view-as takes the one value `target_rows`".into()),
        },
        ("super_admin", Some(leaf)) => Ok(Requirement::SuperAdmin(leaf)),
        ("super_admin", None) => Err("a super-admin route names its leaf too".into()),
        (other, _) => Err(format!("unknown scheme `{other}`: use `bearer`, `super_admin` or `transfer_token`")),
    }
}

/// Words of an operationId that make it destructive (DESIGN §4: delete, rotate, erase, revoke),
/// besides every `DELETE`. Such an operation must declare what is typed to confirm it.
pub const DESTRUCTIVE_WORDS: &[&str] = &["delete", "revoke", "erase", "reset", "rotate", "remove", "deactivate"];

/// Whether an operation destroys or takes something away: its method, or a word of its id.
pub fn is_destructive(method: &str, operation_id: &str) -> bool {
    method.eq_ignore_ascii_case("delete") || operation_id.split('_').any(|word| DESTRUCTIVE_WORDS.contains(&word))
}

/// Reads a destructive route's `x-confirm` declaration: checks it names a known target whose
/// id is in the path, documents what must be typed, and adds the `X-Steward-Confirm` header.
fn confirmation(op: &mut Map<String, Value>, path: &str) -> Result<Option<ConfirmTarget>, String> {
    let Some(declared) = op.get("x-confirm") else { return Ok(None) };
    let id = declared.as_str().ok_or("x-confirm names a target, as a string")?;
    let target = ConfirmTarget::parse(id).ok_or(format!("x-confirm `{id}` is not a confirmation target"))?;
    if let Some(param) = target.path_parameter() {
        if !path.contains(&format!("{{{param}}}")) {
            return Err(format!("x-confirm `{id}` needs the path parameter `{param}`"));
        }
    }
    op.insert(
        "x-confirm".into(),
        json!({
            "target": id,
            "typed": target.typed(),
            "header": "X-Steward-Confirm",
            "when": "impersonating",
        }),
    );
    let parameters = op.entry("parameters").or_insert_with(|| json!([]));
    if let Some(list) = parameters.as_array_mut() {
        list.push(json!({
            "name": "X-Steward-Confirm",
            "in": "header",
            "required": false,
            "description": format!(
                "While impersonating, {}: this operation is destructive, and without it the answer is 428 \
                 (`confirmation_required`), with a different text 422. Ignored when not impersonating.",
                target.typed()
            ),
            // No minLength: outside View as any value (even empty) is accepted and ignored.
            "schema": { "type": "string" },
        }));
    }
    Ok(Some(target))
}

/// OpenAPI links from each create operation (a POST answering 201) to every read that takes the
/// new id as its only path parameter: the id's name comes from the collection the POST creates
/// in (`…/roles` → `role_id`), its value from the answer's `id` (or `role_id`), so
/// `POST /api/workspaces/{workspace_id}/roles` links to `GET /api/roles/{role_id}/members`.
/// Generated clients and fuzzers can then follow a new resource to where it is read.
fn link_created_ids(spec: &mut Value) {
    let Some(paths) = spec.get("paths").and_then(Value::as_object).cloned() else { return };
    let schemas = spec.pointer("/components/schemas").cloned().unwrap_or_default();
    let resolve = |schema: &Value| -> Value {
        schema
            .get("$ref")
            .and_then(Value::as_str)
            .and_then(|r| r.strip_prefix("#/components/schemas/"))
            .and_then(|n| schemas.get(n))
            .cloned()
            .unwrap_or_else(|| schema.clone())
    };
    // The top-level properties of a schema, through one level of `allOf`.
    let properties = |schema: &Value| -> Vec<String> {
        let schema = resolve(schema);
        let mut names: Vec<String> = schema
            .get("properties")
            .and_then(Value::as_object)
            .map(|p| p.keys().cloned().collect())
            .unwrap_or_default();
        for part in schema.get("allOf").and_then(Value::as_array).into_iter().flatten() {
            if let Some(p) = resolve(part).get("properties").and_then(Value::as_object) {
                names.extend(p.keys().cloned());
            }
        }
        names
    };
    for (path, item) in &paths {
        let Some(created) = item.pointer("/post/responses/201/content/application~1json/schema") else { continue };
        let Some(collection) = path.rsplit('/').next().filter(|c| !c.starts_with('{')) else { continue };
        let param = format!("{}_id", collection.strip_suffix('s').unwrap_or(collection).replace('-', "_"));
        let fields = properties(created);
        let Some(field) = [param.as_str(), "id"].into_iter().find(|f| fields.iter().any(|n| n == f)) else { continue };
        let mut links = Map::new();
        for (other, other_item) in &paths {
            let params: Vec<&str> =
                other.split('{').skip(1).filter_map(|p| p.split_once('}').map(|(n, _)| n)).collect();
            if params != [param.as_str()] {
                continue;
            }
            let Some(target) = other_item.pointer("/get/operationId").and_then(Value::as_str) else { continue };
            links.insert(
                target.to_owned(),
                json!({
                    "operationId": target,
                    "parameters": { param.as_str(): format!("$response.body#/{field}") },
                    "description": format!("Read what was just created: its `{field}` is `{param}` here."),
                }),
            );
        }
        if links.is_empty() {
            continue;
        }
        let pointer = format!("/paths/{}/post/responses/201", path.replace('~', "~0").replace('/', "~1"));
        if let Some(response) = spec.pointer_mut(&pointer).and_then(Value::as_object_mut) {
            response.insert("links".into(), Value::Object(links));
        }
    }
}

/// Ends every description with who may call the operation, from the same declaration the
/// gate enforces (so the prose cannot drift from the rule).
fn describe_caller(op: &mut Map<String, Value>, requirement: Requirement, by_transfer_token: bool, confirm: bool) {
    let scoped = has_parameter(op, "header", Some("X-Steward-Scope"));
    let mut who = if by_transfer_token {
        "another Steward presenting a transfer token minted here (`mint_transfer_token`); each token is good once and only for what it names.".to_owned()
    } else {
        match requirement {
            Requirement::Public => "anyone; no credential is needed.".to_owned(),
            Requirement::Authenticated => "any signed-in session or API token, for itself.".to_owned(),
            Requirement::Leaf(leaf) => format!(
                "a principal holding `{leaf}` through a role (in the workspace concerned, where the operation concerns one), or an API token that holds it; super admins hold every leaf."
            ),
            Requirement::SuperAdmin(leaf) => {
                format!("super admins only (never delegable through a role), holding `{leaf}`.")
            }
            Requirement::SuperAdminView(leaf) => format!(
                "super admins only (never delegable through a role), holding `{leaf}`; while viewing as someone it answers with what that user may see."
            ),
        }
    };
    if scoped && !matches!(requirement, Requirement::Public) {
        who.push_str(" Reaching past your own customer with `X-Steward-Scope` needs `steward.admin.cross_tenant`.");
    }
    if confirm {
        who.push_str(" While viewing as someone, send the typed confirmation `x-confirm` names.");
    }
    let mut text = op.get("description").and_then(Value::as_str).unwrap_or_default().trim_end().to_owned();
    if !text.is_empty() {
        text.push_str("\n\n");
    }
    text.push_str("**Who may call it:** ");
    text.push_str(&who);
    op.insert("description".into(), json!(text));
}

/// What the one extractor and the scope resolver say about parameters, said in the schema:
/// `limit` is 1–200, headers are strings (never `null`), the scope header has its grammar.
fn refine_parameters(op: &mut Map<String, Value>) {
    let Some(parameters) = op.get_mut("parameters").and_then(Value::as_array_mut) else { return };
    for p in parameters.iter_mut() {
        let (Some(name), Some(place)) = (
            p.get("name").and_then(Value::as_str).map(str::to_owned),
            p.get("in").and_then(Value::as_str).map(str::to_owned),
        ) else {
            continue;
        };
        match (place.as_str(), name.as_str()) {
            ("query", "limit") => {
                p["schema"] = json!({
                    "type": "integer", "format": "int64", "minimum": 1,
                    "maximum": crate::http::pagination::MAX_LIMIT, "default": crate::http::pagination::DEFAULT_LIMIT,
                });
                p["description"] = json!(format!(
                    "Rows per page, 1 to {}; default {}.",
                    crate::http::pagination::MAX_LIMIT,
                    crate::http::pagination::DEFAULT_LIMIT
                ));
            }
            ("query", "cursor") => {
                p["schema"] = json!({ "type": "string", "minLength": 1 });
                p["description"] = json!(
                    "The `next_cursor` of the previous page, passed back unchanged (opaque; keyset). A cursor this list did not give out is 404 naming `cursor`."
                );
            }
            ("header", "X-Steward-Scope") => {
                p["schema"] = json!({
                    "type": "string",
                    "pattern": "^(tenant|all|customer:[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})$",
                    "example": "all",
                });
            }
            ("header", _) => {
                if let Some(schema) = p.get_mut("schema").and_then(Value::as_object_mut) {
                    if schema.get("type").is_some_and(Value::is_array) {
                        schema.insert("type".into(), json!("string"));
                    }
                }
            }
            _ => {}
        }
    }
}

fn has_parameter(op: &Map<String, Value>, place: &str, name: Option<&str>) -> bool {
    op.get("parameters").and_then(Value::as_array).is_some_and(|ps| {
        ps.iter().any(|p| {
            p.get("in").and_then(Value::as_str) == Some(place)
                && name.is_none_or(|n| p.get("name").and_then(Value::as_str) == Some(n))
        })
    })
}

fn add_problem_responses(op: &mut Map<String, Value>, path: &str, requirement: Requirement, confirm: bool) {
    let has_body = op.contains_key("requestBody");
    let has_query = has_parameter(op, "query", None);
    let scoped = has_parameter(op, "header", Some("X-Steward-Scope"));
    let Some(responses) = op.entry("responses").or_insert_with(|| json!({})).as_object_mut() else {
        return;
    };
    let mut add = |status: &str, name: &str| {
        responses
            .entry(status.to_owned())
            .or_insert_with(|| json!({ "$ref": format!("#/components/responses/{name}") }));
    };
    if has_body {
        add("400", "BadRequest");
        add("415", "UnsupportedMediaType");
    }
    if path.contains('{') {
        // A path id that is not one: `invalid_path_parameter`.
        add("400", "BadRequest");
        add("404", "NotFound");
    }
    if has_body || has_query || scoped || confirm {
        add("422", "ValidationFailed");
    }
    if has_body || has_query {
        // A well-formed id, email or cursor that names nothing visible: 404 naming the field.
        add("404", "NotFound");
    }
    if scoped {
        // `customer:<uuid>` naming no customer.
        add("404", "NotFound");
    }
    if requirement != Requirement::Public {
        add("401", "Unauthenticated");
        add("403", "Forbidden");
    }
    if confirm {
        add("428", "ConfirmationRequired");
    }
    add("500", "Internal");
    add("503", "Unavailable");
}

/// Closed sets the server answers with, by schema and property: each becomes the property's
/// `enum` (with `null` where the property may be null), so a client can match on the values
/// and a generated one types them. Where a list filters by the same set, the filter's
/// definition is the one used here.
const ANSWERED: &[(&str, &str, &[&str])] = {
    use crate::audit::log::Outcome;
    use crate::directory::listing::UserStatus;
    use crate::ops::logs::{LogLevel, LogStream};
    use crate::tenancy::connectors::ConnectorHealth;
    use crate::tenancy::flows::{FlowState, FlowStatus, RunStatus};
    const BACKENDS: &[&str] = &["sqlite", "postgres"];
    const CUSTOMER_KINDS: &[&str] = &["platform", "tenant"];
    &[
        ("AuditEvent", "outcome", Outcome::VALUES),
        ("CommandAck", "status", &["done", "failed"]),
        ("ConfigSetting", "source", &["default", "flag", "environment", "settings", "unset"]),
        ("ConnectorRow", "health", ConnectorHealth::VALUES),
        ("CustomerRef", "kind", CUSTOMER_KINDS),
        ("CustomerSummary", "kind", CUSTOMER_KINDS),
        ("DatabaseStatus", "backend", BACKENDS),
        ("DirectoryUser", "status", UserStatus::VALUES),
        ("FlowRow", "state", FlowState::VALUES),
        ("FlowRow", "status", FlowStatus::VALUES),
        ("Health", "database", BACKENDS),
        ("ImpersonationRow", "ended_how", &["active", "exit", "expired", "target_not_impersonable", "session_ended"]),
        ("Invitation", "status", &["pending", "accepted", "expired", "revoked"]),
        ("LogEntry", "level", LogLevel::VALUES),
        ("LogEntry", "stream", LogStream::VALUES),
        ("MigrationStatus", "state", &["applied", "pending", "changed"]),
        ("MovedLink", "end", &["from", "to"]),
        ("OutboxMail", "status", &["sent", "waiting", "retrying", "failed"]),
        ("RunRow", "status", RunStatus::VALUES),
        ("RunRow", "trigger", &["schedule", "manual"]),
        ("ScopeInfo", "mode", &["tenant", "all", "customer"]),
        ("SlowStatement", "source", &["server", "pg_stat_statements"]),
        ("StatsSeries", "bucket", &["hour", "day"]),
        ("StatsSeries", "range", &["24h", "7d", "30d", "1y"]),
        ("StepReport", "kind", &["validate", "hash", "dedupe", "map"]),
        // A step is reported `running` while it runs (a run's detail read mid-run shows it).
        ("StepReport", "status", &["running", "succeeded", "failed", "cancelled", "skipped"]),
        ("WorkerStatus", "state", &["busy", "idle"]),
    ]
};

/// States [`ANSWERED`] on the answers' properties.
fn state_answered_sets(components: &mut Map<String, Value>) -> Result<(), String> {
    let schemas = components.get_mut("schemas").and_then(Value::as_object_mut).ok_or("no component schemas")?;
    for (schema, field, values) in ANSWERED {
        let property = schemas
            .get_mut(*schema)
            .and_then(|s| s.pointer_mut(&format!("/properties/{field}")))
            .and_then(Value::as_object_mut)
            .ok_or(format!("ANSWERED names {schema}.{field}, which the spec does not have"))?;
        let mut set: Vec<Value> = values.iter().map(|v| Value::from(*v)).collect();
        if property.get("type").and_then(Value::as_array).is_some_and(|t| t.contains(&Value::from("null"))) {
            set.push(Value::Null);
        }
        property.insert("enum".into(), Value::Array(set));
    }
    Ok(())
}

/// States every rule of [`rules::FIELDS`] on its property: the lengths, pattern, range or bounds
/// the server checks with the same definition. Fails on a schema or property that is not there.
fn state_field_rules(components: &mut Map<String, Value>) -> Result<(), String> {
    use steward_shared::rules;
    let schemas = components.get_mut("schemas").and_then(Value::as_object_mut).ok_or("no component schemas")?;
    for (schema, field, rule) in rules::FIELDS {
        let pointer = match field.strip_suffix("[]") {
            Some(list) => format!("/properties/{list}/items"),
            None => format!("/properties/{field}"),
        };
        let property = schemas
            .get_mut(*schema)
            .and_then(|s| s.pointer_mut(&pointer))
            .and_then(Value::as_object_mut)
            .ok_or(format!("rules::FIELDS names {schema}.{field}, which the spec does not have"))?;
        state_rule(property, schema, field, rule)?;
    }
    for (schema, field) in rules::DISTINCT {
        schemas
            .get_mut(*schema)
            .and_then(|s| s.pointer_mut(&format!("/properties/{field}")))
            .and_then(Value::as_object_mut)
            .filter(|p| p.get("type").and_then(Value::as_str) == Some("array"))
            .ok_or(format!("rules::DISTINCT names {schema}.{field}, which is no list of the spec"))?
            .insert("uniqueItems".into(), Value::Bool(true));
    }
    for (schema, fields) in rules::EXACTLY_ONE {
        let object = object_with(schemas, schema, fields.iter(), "EXACTLY_ONE")?;
        let each: Vec<Value> = fields.iter().map(|f| json!({ "required": [f] })).collect();
        object.insert("oneOf".into(), Value::Array(each));
    }
    for (schema, fields) in rules::TOGETHER {
        let object = object_with(schemas, schema, fields.iter(), "TOGETHER")?;
        let each: Map<String, Value> = fields
            .iter()
            .map(|f| ((*f).to_owned(), json!(fields.iter().filter(|o| *o != f).collect::<Vec<_>>())))
            .collect();
        object.insert("dependentRequired".into(), Value::Object(each));
    }
    for (schema, selector, value, fields) in rules::ONLY_WHEN {
        let object = object_with(schemas, schema, fields.iter().chain([selector]), "ONLY_WHEN")?;
        let refused: Map<String, Value> = fields.iter().map(|f| ((*f).to_owned(), Value::Bool(false))).collect();
        object.insert("if".into(), json!({ "properties": { *selector: { "const": value } }, "required": [selector] }));
        object.insert("then".into(), json!({ "required": fields }));
        object.insert("else".into(), json!({ "properties": refused }));
    }
    Ok(())
}

/// The component schema `schema`, which must have each of `fields` as a property (`table`
/// names the rules table asking, for the error).
fn object_with<'a, 'f>(
    schemas: &'a mut Map<String, Value>,
    schema: &str,
    mut fields: impl Iterator<Item = &'f &'f str>,
    table: &str,
) -> Result<&'a mut Map<String, Value>, String> {
    schemas
        .get_mut(schema)
        .and_then(Value::as_object_mut)
        .filter(|o| fields.all(|f| o.get("properties").and_then(|p| p.get(*f)).is_some()))
        .ok_or(format!("rules::{table} names {schema} and properties it does not have"))
}

/// States the rules of [`rules::PARAMETERS`] on this operation's query parameters; counts them.
fn state_parameter_rules(op: &mut Map<String, Value>, id: &str, stated: &mut usize) -> Result<(), String> {
    for (_, name, rule) in steward_shared::rules::PARAMETERS.iter().filter(|(op_id, _, _)| *op_id == id) {
        let schema = op
            .get_mut("parameters")
            .and_then(Value::as_array_mut)
            .and_then(|ps| ps.iter_mut().find(|p| p.get("name").and_then(Value::as_str) == Some(*name)))
            .and_then(|p| p.get_mut("schema"))
            .and_then(Value::as_object_mut)
            .ok_or(format!("rules::PARAMETERS names {id}.{name}, which the spec does not have"))?;
        state_rule(schema, id, name, rule)?;
        *stated += 1;
    }
    Ok(())
}

/// Writes one rule into a property's schema.
fn state_rule(
    property: &mut Map<String, Value>,
    schema: &str,
    field: &str,
    rule: &steward_shared::rules::Rule,
) -> Result<(), String> {
    use steward_shared::rules::{self, Rule};
    match rule {
        Rule::Text(t) => {
            if t.lines != crate::http::extract::MULTILINE_FIELDS.contains(&field) {
                return Err(format!("{schema}.{field}: the rule and the body extractor disagree on line breaks"));
            }
            property.insert("minLength".into(), json!(t.min));
            property.insert("maxLength".into(), json!(t.max));
            property.insert("pattern".into(), json!(t.pattern()));
        }
        Rule::Secret(s) => {
            property.insert("minLength".into(), json!(s.min));
            property.insert("maxLength".into(), json!(s.max));
        }
        Rule::Email => {
            property.insert("maxLength".into(), json!(rules::EMAIL_MAX));
            property.insert("pattern".into(), json!(rules::email_pattern()));
        }
        Rule::Slug => {
            property.insert("minLength".into(), json!(1));
            property.insert("maxLength".into(), json!(rules::SLUG_MAX));
            property.insert("pattern".into(), json!(rules::SLUG_PATTERN));
        }
        Rule::Schedule => {
            property.insert("pattern".into(), json!(rules::SCHEDULE_PATTERN));
        }
        Rule::Url => {
            property.insert("maxLength".into(), json!(rules::URL_MAX));
            property.insert("pattern".into(), json!(rules::url_pattern()));
        }
        Rule::Range(r) => {
            property.insert("minimum".into(), json!(r.min));
            property.insert("maximum".into(), json!(r.max));
        }
        Rule::Items(i) => {
            property.insert("minItems".into(), json!(i.min));
            property.insert("maxItems".into(), json!(i.max));
        }
        Rule::OneOf(_) | Rule::Leaf | Rule::Pattern => {
            property.remove("pattern");
            property.insert("enum".into(), json!(rule.values()));
        }
    }
    Ok(())
}

/// A single-line string: no control character (what [`crate::http::extract::refused_character`]
/// refuses in every body string and query value).
const SINGLE_LINE: &str = r"^[^\u0000-\u001F\u007F-\u009F]*$";
/// A multi-line string ([`crate::http::extract::MULTILINE_FIELDS`]): tab, line feed and carriage
/// return are allowed too.
const MULTI_LINE: &str = r"^[^\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F]*$";

/// The one body extractor and the query extractor refuse control characters in every string;
/// the spec says so on every request string that has no pattern, format or enum of its own, so a
/// client (or a fuzzer) knows the rule before it is refused.
fn forbid_control_characters(spec: &mut Value) {
    use crate::http::extract::MULTILINE_FIELDS;
    // Components reached from request bodies, with whether they sit under a multi-line field.
    let mut pending: Vec<(String, bool)> = Vec::new();
    if let Some(paths) = spec.get_mut("paths").and_then(Value::as_object_mut) {
        for item in paths.values_mut() {
            for (name, _) in METHODS {
                let Some(op) = item.get_mut(*name) else { continue };
                if let Some(parameters) = op.get_mut("parameters").and_then(Value::as_array_mut) {
                    for p in parameters.iter_mut().filter(|p| p.get("in").and_then(Value::as_str) == Some("query")) {
                        if let Some(schema) = p.get_mut("schema") {
                            constrain(schema, false, &mut pending);
                        }
                    }
                }
                if let Some(content) = op.pointer_mut("/requestBody/content/application~1json/schema") {
                    constrain(content, false, &mut pending);
                }
            }
        }
    }
    let Some(schemas) = spec.pointer_mut("/components/schemas").and_then(Value::as_object_mut) else { return };
    let mut done: HashSet<(String, bool)> = HashSet::new();
    while let Some((name, multiline)) = pending.pop() {
        if !done.insert((name.clone(), multiline)) {
            continue;
        }
        if let Some(schema) = schemas.get_mut(&name) {
            constrain(schema, multiline, &mut pending);
        }
    }

    fn constrain(schema: &mut Value, multiline: bool, pending: &mut Vec<(String, bool)>) {
        let Some(obj) = schema.as_object_mut() else { return };
        if let Some(target) = obj.get("$ref").and_then(Value::as_str) {
            if let Some(name) = target.strip_prefix("#/components/schemas/") {
                pending.push((name.to_owned(), multiline));
            }
            return;
        }
        let is_string = match obj.get("type") {
            Some(Value::String(t)) => t == "string",
            Some(Value::Array(ts)) => ts.iter().any(|t| t == "string"),
            _ => false,
        };
        if is_string && !["pattern", "format", "enum", "const"].iter().any(|k| obj.contains_key(*k)) {
            obj.insert("pattern".into(), json!(if multiline { MULTI_LINE } else { SINGLE_LINE }));
        }
        // Keys are strings too: the extractor refuses a control character in any of them.
        let is_object = obj.get("type").is_some_and(|t| t == "object") || obj.contains_key("properties");
        if is_object && !obj.contains_key("propertyNames") {
            obj.insert("propertyNames".into(), json!({ "pattern": SINGLE_LINE }));
        }
        if let Some(properties) = obj.get_mut("properties").and_then(Value::as_object_mut) {
            for (key, property) in properties.iter_mut() {
                constrain(property, multiline || MULTILINE_FIELDS.contains(&key.as_str()), pending);
            }
        }
        for key in ["items", "additionalProperties"] {
            if let Some(sub) = obj.get_mut(key) {
                constrain(sub, multiline, pending);
            }
        }
        for key in ["oneOf", "anyOf", "allOf"] {
            if let Some(subs) = obj.get_mut(key).and_then(Value::as_array_mut) {
                for sub in subs.iter_mut() {
                    constrain(sub, multiline, pending);
                }
            }
        }
    }
}

/// Every answer carries `X-Request-Id`; 429 and 503 carry `Retry-After`.
fn add_response_headers(op: &mut Map<String, Value>) {
    let Some(responses) = op.get_mut("responses").and_then(Value::as_object_mut) else { return };
    for (status, response) in responses.iter_mut() {
        let Some(response) = response.as_object_mut() else { continue };
        if response.contains_key("$ref") {
            continue; // the shared problem responses declare their headers once
        }
        let headers = response.entry("headers").or_insert_with(|| json!({}));
        if let Some(headers) = headers.as_object_mut() {
            headers.insert("X-Request-Id".into(), json!({ "$ref": "#/components/headers/X-Request-Id" }));
            if status == "429" || status == "503" {
                headers.insert("Retry-After".into(), json!({ "$ref": "#/components/headers/Retry-After" }));
            }
        }
    }
}

/// `Page_<Item>` schemas come out of utoipa with the item copied inline; where the item is a
/// component of its own, the page points at it instead (one model per item in a generated client).
fn reference_page_items(components: &mut Map<String, Value>) {
    let Some(schemas) = components.get("schemas").and_then(Value::as_object).cloned() else { return };
    let Some(target) = components.get_mut("schemas").and_then(Value::as_object_mut) else { return };
    for (name, schema) in target.iter_mut() {
        let Some(item) = name.strip_prefix("Page_") else { continue };
        let Some(component) = schemas.get(item) else { continue };
        if let Some(items) = schema.pointer_mut("/properties/items/items") {
            if items == component {
                *items = json!({ "$ref": format!("#/components/schemas/{item}") });
            }
        }
    }
    components.insert(
        "headers".into(),
        json!({
            "X-Request-Id": {
                "description": "This request's id (yours, when you sent a well-formed `X-Request-Id`); problems repeat it as `request_id`, and the server log is searchable by it.",
                "schema": { "type": "string" }
            },
            "Retry-After": {
                "description": "Seconds to wait before trying again.",
                "schema": { "type": "integer", "minimum": 0 }
            }
        }),
    );
}

fn problem_responses() -> Value {
    let problem = |description: &str| {
        json!({
            "description": description,
            "headers": { "X-Request-Id": { "$ref": "#/components/headers/X-Request-Id" } },
            "content": { "application/problem+json": { "schema": { "$ref": "#/components/schemas/Problem" } } }
        })
    };
    json!({
        "BadRequest": problem("The body is not readable JSON (`malformed_json`), or a path parameter is not of its type (`invalid_path_parameter`: an id that is not a UUID)."),
        "UnsupportedMediaType": problem("The body is not sent as `application/json`."),
        "ValidationFailed": problem("A body field, query parameter or header is missing or invalid (`validation_failed`); `errors` names each one (`X-Steward-Scope` for a scope that is not `tenant`, `all` or `customer:<uuid>`)."),
        "Unauthenticated": problem("No valid credential, or the session has ended (`unauthenticated`, `invalid_token`, `token_expired`, `session_ended`, `account_inactive`)."),
        "Forbidden": problem("The principal lacks the permission leaf in `x-permission` (`permission_denied`), the scope reaches beyond the principal's own customer without `steward.admin.cross_tenant` (`cross_tenant_denied`), the operation is for super admins only (`super_admin_required`), or the instance requires 2FA of this account and it is not enrolled yet (`two_factor_required`)."),
        "NotFound": problem("No such resource visible to this principal, or a `customer:<uuid>` scope naming no customer (`not_found`). When a field of the request names it (an id, an email, a `cursor` this list did not give out), `errors` names that field."),
        "ConfirmationRequired": problem("While impersonating, this destructive operation needs the typed confirmation named in `x-confirm`, sent as `X-Steward-Confirm` (`confirmation_required`)."),
        "Internal": problem("An unexpected error; the `request_id` identifies it in the server log."),
        "Unavailable": {
            "description": "The database is not reachable right now (a restart or failover; `database_unavailable`): try again after `Retry-After` seconds. A write cut off while it committed may have been applied: read before repeating a create. `GET /api/health` also answers 503 `shutting_down` while this replica drains before it stops (send requests to another replica).",
            "headers": {
                "X-Request-Id": { "$ref": "#/components/headers/X-Request-Id" },
                "Retry-After": { "$ref": "#/components/headers/Retry-After" }
            },
            "content": { "application/problem+json": { "schema": { "$ref": "#/components/schemas/Problem" } } }
        },
    })
}

/// The spec as committed in `openapi/openapi.json`.
pub fn spec_json() -> Result<String, String> {
    let (_, openapi) = routes().split_for_parts();
    let contract = contract(openapi)?;
    serde_json::to_string_pretty(&contract.spec).map(|s| s + "\n").map_err(|e| e.to_string())
}
