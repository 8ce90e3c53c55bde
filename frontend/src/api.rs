//! The one typed client of the REST API, over the shared wire types. Errors keep the
//! server's problem detail so pages can show it; an expired access token is refreshed once.

use gloo_net::http::{Request, RequestBuilder, Response};
use gloo_storage::{LocalStorage, Storage};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use steward_shared::api::{
    AddMember, LoginRequest, Me, Membership, RefreshRequest, RoleMember, RoleMetrics, RoleSummary, RoleWrite,
    SetMemberRole, SetupRequest, SetupStatus, TokenPair, WorkspaceSummary,
};
use steward_shared::api::{ConnectorRow, CustomerSummary, FlowRow, Kpis, Page, RecordRow, RotatedKey, RunRow};
use steward_shared::ops::{ConfigView, LogEntry, StatsSeries, SystemStatus};
use steward_shared::problem::{Problem, PROBLEM_TYPE_PREFIX};

const TOKENS_KEY: &str = "steward.tokens";

/// What the browser keeps between page loads.
#[derive(Clone, Serialize, Deserialize)]
struct Tokens {
    access_token: String,
    refresh_token: String,
}

/// A failed call: the server's problem, or one made up for a network failure.
#[derive(Clone, Debug, PartialEq)]
pub struct ApiError(pub Box<Problem>);

impl ApiError {
    pub fn local(title: &str, detail: String) -> Self {
        Self(Box::new(Problem {
            type_: format!("{PROBLEM_TYPE_PREFIX}network"),
            title: title.into(),
            status: 0,
            detail: Some(detail),
            instance: None,
            request_id: None,
            errors: Vec::new(),
        }))
    }

    pub fn status(&self) -> u16 {
        self.0.status
    }

    pub fn code(&self) -> &str {
        self.0.code()
    }

    /// The message for a banner: the detail, else the title.
    pub fn message(&self) -> String {
        self.0.detail.clone().unwrap_or_else(|| self.0.title.clone())
    }

    /// The server's message about one field, if it named it.
    pub fn field(&self, name: &str) -> Option<String> {
        self.0.errors.iter().find(|e| e.field == name).map(|e| e.message.clone())
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message())
    }
}

impl std::error::Error for ApiError {}

pub type ApiResult<T> = Result<T, ApiError>;

fn stored() -> Option<Tokens> {
    LocalStorage::get(TOKENS_KEY).ok()
}

fn store(pair: &TokenPair) {
    let _ = LocalStorage::set(
        TOKENS_KEY,
        Tokens { access_token: pair.access_token.clone(), refresh_token: pair.refresh_token.clone() },
    );
}

/// Forgets the credentials kept in the browser.
pub fn forget() {
    LocalStorage::delete(TOKENS_KEY);
}

pub fn has_session() -> bool {
    stored().is_some()
}

#[derive(Clone, Copy)]
enum Method {
    Get,
    Post,
    Put,
    Patch,
    Delete,
}

/// One HTTP exchange; a non-2xx answer becomes its problem.
async fn raw(
    method: Method,
    path: &str,
    body: Option<&serde_json::Value>,
    bearer: Option<String>,
    confirm: Option<&str>,
) -> ApiResult<Response> {
    let mut builder: RequestBuilder = match method {
        Method::Get => Request::get(path),
        Method::Post => Request::post(path),
        Method::Put => Request::put(path),
        Method::Patch => Request::patch(path),
        Method::Delete => Request::delete(path),
    };
    if let Some(token) = bearer {
        builder = builder.header("Authorization", &format!("Bearer {token}"));
    }
    if let Some(name) = confirm {
        builder = builder.header("X-Steward-Confirm", name);
    }
    let request = match body {
        Some(body) => builder.json(body),
        None => builder.build(),
    }
    .map_err(|e| ApiError::local("Request failed", e.to_string()))?;
    let response = request
        .send()
        .await
        .map_err(|e| ApiError::local("Server unreachable", format!("Steward did not answer: {e}")))?;
    if response.ok() {
        Ok(response)
    } else {
        Err(problem_of(response).await)
    }
}

/// An exchange with the stored credential when `auth`; an expired access token is refreshed once.
async fn send(method: Method, path: &str, body: Option<&serde_json::Value>, auth: bool) -> ApiResult<Response> {
    send_confirmed(method, path, body, auth, None).await
}

/// As `send`, with the typed confirmation a destructive request needs while impersonating.
async fn send_confirmed(
    method: Method,
    path: &str,
    body: Option<&serde_json::Value>,
    auth: bool,
    confirm: Option<&str>,
) -> ApiResult<Response> {
    let bearer = || if auth { stored().map(|t| t.access_token) } else { None };
    match raw(method, path, body, bearer(), confirm).await {
        Err(e) if auth && e.code() == "token_expired" && refresh().await.is_ok() => {
            raw(method, path, body, bearer(), confirm).await
        }
        other => other,
    }
}

async fn problem_of(response: Response) -> ApiError {
    let status = response.status();
    let text = response.text().await.unwrap_or_default();
    match serde_json::from_str::<Problem>(&text) {
        Ok(problem) => ApiError(Box::new(problem)),
        Err(_) => ApiError(Box::new(Problem {
            type_: format!("{PROBLEM_TYPE_PREFIX}http_{status}"),
            title: format!("HTTP {status}"),
            status,
            detail: Some(format!("The server answered {status} {}", response.status_text())),
            instance: None,
            request_id: None,
            errors: Vec::new(),
        })),
    }
}

async fn json<T: DeserializeOwned>(response: Response) -> ApiResult<T> {
    response
        .json::<T>()
        .await
        .map_err(|e| ApiError::local("Unexpected answer", format!("The server's answer could not be read: {e}")))
}

fn to_value<B: Serialize>(body: &B) -> ApiResult<serde_json::Value> {
    serde_json::to_value(body).map_err(|e| ApiError::local("Request failed", e.to_string()))
}

pub async fn get<T: DeserializeOwned>(path: &str) -> ApiResult<T> {
    json(send(Method::Get, path, None, true).await?).await
}

/// Every row of a list the console needs whole (workspaces and roles for a picker, your tokens):
/// its pages of 200 followed to the end.
pub async fn all<T: DeserializeOwned>(path: &str) -> ApiResult<Vec<T>> {
    let sep = if path.contains('?') { '&' } else { '?' };
    let mut items = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let after = cursor.map(|c| format!("&cursor={}", js_sys::encode_uri_component(&c))).unwrap_or_default();
        let page: Page<T> = get(&format!("{path}{sep}limit=200{after}")).await?;
        items.extend(page.items);
        match page.next_cursor {
            Some(next) => cursor = Some(next),
            None => return Ok(items),
        }
    }
}

pub async fn post<B: Serialize, T: DeserializeOwned>(path: &str, body: &B) -> ApiResult<T> {
    json(send(Method::Post, path, Some(&to_value(body)?), true).await?).await
}

pub async fn put<B: Serialize, T: DeserializeOwned>(path: &str, body: &B) -> ApiResult<T> {
    json(send(Method::Put, path, Some(&to_value(body)?), true).await?).await
}

/// Sends a file as the body (`Content-Type: application/gzip`): an application bundle.
pub async fn upload<T: DeserializeOwned>(path: &str, file: &web_sys::Blob) -> ApiResult<T> {
    let attempt = || async {
        let mut builder = Request::post(path).header("Content-Type", "application/gzip");
        if let Some(t) = stored() {
            builder = builder.header("Authorization", &format!("Bearer {}", t.access_token));
        }
        let request = builder.body(file.clone()).map_err(|e| ApiError::local("Request failed", e.to_string()))?;
        let response = request
            .send()
            .await
            .map_err(|e| ApiError::local("Server unreachable", format!("Steward did not answer: {e}")))?;
        if response.ok() {
            Ok(response)
        } else {
            Err(problem_of(response).await)
        }
    };
    let response = match attempt().await {
        Err(e) if e.code() == "token_expired" && refresh().await.is_ok() => attempt().await,
        other => other,
    }?;
    json(response).await
}

type Refreshing = futures::future::Shared<futures::future::LocalBoxFuture<'static, ApiResult<()>>>;

thread_local! {
    /// The refresh under way, shared by every request that found its token expired: a refresh
    /// credential is single-use, and the server ends the session when one is presented twice.
    static REFRESHING: std::cell::RefCell<Option<Refreshing>> = const { std::cell::RefCell::new(None) };
}

/// Refreshes the stored pair once, however many requests ask at the same time.
async fn refresh() -> ApiResult<()> {
    use futures::FutureExt;
    let pending =
        REFRESHING.with(|cell| cell.borrow_mut().get_or_insert_with(|| refresh_once().boxed_local().shared()).clone());
    let outcome = pending.await;
    REFRESHING.with(|cell| cell.borrow_mut().take());
    outcome
}

async fn refresh_once() -> ApiResult<()> {
    let tokens = stored().ok_or_else(|| ApiError::local("Signed out", "No session".into()))?;
    let body = to_value(&RefreshRequest { refresh_token: tokens.refresh_token })?;
    match raw(Method::Post, "/api/auth/refresh", Some(&body), None, None).await {
        Ok(response) => {
            let pair: TokenPair = json(response).await?;
            store(&pair);
            Ok(())
        }
        Err(e) => {
            forget();
            Err(e)
        }
    }
}

pub async fn setup_status() -> ApiResult<SetupStatus> {
    json(send(Method::Get, "/api/setup", None, false).await?).await
}

pub async fn complete_setup(request: &SetupRequest) -> ApiResult<()> {
    let pair: TokenPair = json(send(Method::Post, "/api/setup", Some(&to_value(request)?), false).await?).await?;
    store(&pair);
    Ok(())
}

pub async fn login(request: &LoginRequest) -> ApiResult<()> {
    let pair: TokenPair = json(send(Method::Post, "/api/auth/login", Some(&to_value(request)?), false).await?).await?;
    store(&pair);
    Ok(())
}

/// Ends the session on the server (best effort) and forgets it here.
pub async fn logout() {
    let _ = send(Method::Post, "/api/auth/logout", None, true).await;
    forget();
}

pub async fn me() -> ApiResult<Me> {
    get("/api/me").await
}

pub async fn roles() -> ApiResult<Vec<RoleSummary>> {
    get::<Page<RoleSummary>>("/api/roles").await.map(|p| p.items)
}

pub async fn role_metrics() -> ApiResult<RoleMetrics> {
    get("/api/roles/metrics").await
}

pub async fn role(id: &str) -> ApiResult<RoleSummary> {
    get(&format!("/api/roles/{id}")).await
}

/// A page of the role's members (`cursor`: the previous page's `next_cursor`).
pub async fn role_members(id: &str, cursor: Option<String>) -> ApiResult<Page<RoleMember>> {
    get(&format!("/api/roles/{id}/members{}", query(&[("limit", Some("100".into())), ("cursor", cursor)]))).await
}

pub async fn create_role(workspace: &str, body: &RoleWrite) -> ApiResult<RoleSummary> {
    post(&format!("/api/workspaces/{workspace}/roles"), body).await
}

pub async fn update_role(id: &str, body: &RoleWrite) -> ApiResult<RoleSummary> {
    put(&format!("/api/roles/{id}"), body).await
}

/// Delete an application and its versions: its name typed (always), `force` past the flows
/// that use it.
pub async fn delete_application(id: &str, force: bool, typed: &str) -> ApiResult<()> {
    let path = format!("/api/applications/{id}{}", if force { "?force=true" } else { "" });
    send_confirmed(Method::Delete, &path, None, true, Some(typed)).await.map(|_| ())
}

pub async fn delete_role(id: &str, confirm: Option<&str>) -> ApiResult<()> {
    send_confirmed(Method::Delete, &format!("/api/roles/{id}"), None, true, confirm).await.map(|_| ())
}

pub async fn workspaces() -> ApiResult<Vec<WorkspaceSummary>> {
    all("/api/workspaces").await
}

/// The workspaces of one customer (another customer's need cross-tenant rights).
pub async fn workspaces_of(customer: &str) -> ApiResult<Vec<WorkspaceSummary>> {
    all(&format!("/api/workspaces?customer_id={customer}")).await
}

pub async fn add_member(workspace: &str, body: &AddMember) -> ApiResult<Membership> {
    post(&format!("/api/workspaces/{workspace}/members"), body).await
}

pub async fn set_member_role(workspace: &str, user: &str, body: &SetMemberRole) -> ApiResult<Membership> {
    put(&format!("/api/workspaces/{workspace}/members/{user}"), body).await
}

pub async fn remove_member(workspace: &str, user: &str, confirm: Option<&str>) -> ApiResult<()> {
    send_confirmed(Method::Delete, &format!("/api/workspaces/{workspace}/members/{user}"), None, true, confirm)
        .await
        .map(|_| ())
}

/// `key=value` pairs as a query string (values percent-encoded).
pub fn query(pairs: &[(&str, Option<String>)]) -> String {
    let parts: Vec<String> = pairs
        .iter()
        .filter_map(|(k, v)| {
            v.as_ref().filter(|v| !v.is_empty()).map(|v| format!("{k}={}", js_sys::encode_uri_component(v)))
        })
        .collect();
    if parts.is_empty() {
        String::new()
    } else {
        format!("?{}", parts.join("&"))
    }
}

pub async fn dashboard() -> ApiResult<Kpis> {
    get("/api/dashboard").await
}

pub async fn refresh_cache() -> ApiResult<Kpis> {
    json(send(Method::Post, "/api/cache/refresh", None, true).await?).await
}

pub async fn customers(search: &str) -> ApiResult<Page<CustomerSummary>> {
    get(&format!("/api/customers{}", query(&[("search", Some(search.to_owned())), ("limit", Some("20".into()))]))).await
}

/// The customers you looked at last, newest first (at most five).
pub async fn recent_customers() -> ApiResult<Vec<CustomerSummary>> {
    get::<Page<CustomerSummary>>("/api/customers/recent").await.map(|p| p.items)
}

pub async fn customer(id: &str) -> ApiResult<steward_shared::api::CustomerDetail> {
    get(&format!("/api/customers/{id}")).await
}

pub async fn impersonations(q: &str) -> ApiResult<Page<steward_shared::api::ImpersonationRow>> {
    get(&format!("/api/impersonations{q}")).await
}

pub async fn outbox(q: &str) -> ApiResult<Page<steward_shared::api::OutboxMail>> {
    get(&format!("/api/outbox{q}")).await
}

pub async fn resend_mail(id: &str) -> ApiResult<steward_shared::api::OutboxMail> {
    json(send(Method::Post, &format!("/api/outbox/{id}/resend"), None, true).await?).await
}

/// The Customers page's rows (counts and last activity).
pub async fn customer_overview(q: &str) -> ApiResult<Page<steward_shared::api::CustomerOverview>> {
    get(&format!("/api/customers/overview{q}")).await
}

pub async fn create_customer(
    body: &steward_shared::api::CreateCustomer,
) -> ApiResult<steward_shared::api::CustomerDetail> {
    post("/api/customers", body).await
}

pub async fn rename_customer(id: &str, name: String) -> ApiResult<steward_shared::api::CustomerSummary> {
    put(&format!("/api/customers/{id}"), &steward_shared::api::Rename { name }).await
}

pub async fn create_workspace(customer: &str, name: String) -> ApiResult<steward_shared::api::WorkspaceRef> {
    post(&format!("/api/customers/{customer}/workspaces"), &steward_shared::api::Rename { name }).await
}

pub async fn rename_workspace(id: &str, name: String) -> ApiResult<steward_shared::api::WorkspaceRef> {
    put(&format!("/api/workspaces/{id}"), &steward_shared::api::Rename { name }).await
}

pub async fn record_customer_view(id: &str) -> ApiResult<()> {
    send(Method::Post, &format!("/api/customers/{id}/views"), None, true).await.map(|_| ())
}

pub async fn flows(q: &str) -> ApiResult<Page<FlowRow>> {
    get(&format!("/api/flows{q}")).await
}

pub async fn runs(q: &str) -> ApiResult<Page<RunRow>> {
    get(&format!("/api/runs{q}")).await
}

pub async fn connectors(q: &str) -> ApiResult<Page<ConnectorRow>> {
    get(&format!("/api/connectors{q}")).await
}

pub async fn records(q: &str) -> ApiResult<Page<RecordRow>> {
    get(&format!("/api/records{q}")).await
}

/// `pause`, `resume`, `publish` on a flow.
/// The flow templates of the active applications (what a new flow is made from).
pub async fn flow_templates() -> ApiResult<Vec<steward_shared::apps::FlowTemplateRow>> {
    get::<Page<_>>("/api/flow-templates").await.map(|p| p.items)
}

/// The connector kinds of the active applications.
pub async fn connector_kinds() -> ApiResult<Vec<steward_shared::apps::ConnectorKindRow>> {
    get::<Page<_>>("/api/connector-kinds").await.map(|p| p.items)
}

pub async fn create_flow(body: &steward_shared::api::CreateFlow) -> ApiResult<FlowRow> {
    post("/api/flows", body).await
}

/// A new connector; its API key is in the answer, shown this once.
pub async fn create_connector(body: &serde_json::Value) -> ApiResult<RotatedKey> {
    post("/api/connectors", body).await
}

/// The workspaces of the scope the picker shows: one customer's, or the principal's own.
pub async fn scoped_workspaces(scope: &str) -> ApiResult<Vec<WorkspaceSummary>> {
    match scope.strip_prefix("customer:") {
        Some(c) => workspaces_of(c).await,
        None => workspaces().await,
    }
}

pub async fn flow_action(id: &str, action: &str) -> ApiResult<FlowRow> {
    json(send(Method::Post, &format!("/api/flows/{id}/{action}"), None, true).await?).await
}

pub async fn trigger_run(id: &str) -> ApiResult<RunRow> {
    json(send(Method::Post, &format!("/api/flows/{id}/runs"), None, true).await?).await
}

pub async fn check_connector(id: &str) -> ApiResult<ConnectorRow> {
    json(send(Method::Post, &format!("/api/connectors/{id}/check"), None, true).await?).await
}

pub async fn cancel_run(id: &str) -> ApiResult<RunRow> {
    json(send(Method::Post, &format!("/api/runs/{id}/cancel"), None, true).await?).await
}

pub async fn rotate_key(id: &str, confirm: Option<&str>) -> ApiResult<RotatedKey> {
    json(send_confirmed(Method::Post, &format!("/api/connectors/{id}/rotate-key"), None, true, confirm).await?).await
}

pub async fn start_impersonation(user_id: &str, reason: &str) -> ApiResult<Me> {
    post("/api/impersonation", &serde_json::json!({ "user_id": user_id, "reason": reason })).await
}

pub async fn exit_impersonation() -> ApiResult<Me> {
    json(send(Method::Post, "/api/impersonation/exit", None, true).await?).await
}

pub async fn audit(q: &str) -> ApiResult<Page<steward_shared::api::AuditEvent>> {
    get(&format!("/api/audit{q}")).await
}

/// One event in full (the list leaves out a long summary's long values).
pub async fn audit_event(seq: i64) -> ApiResult<steward_shared::api::AuditEvent> {
    get(&format!("/api/audit/{seq}")).await
}

pub async fn verify_audit() -> ApiResult<steward_shared::api::AuditVerification> {
    get("/api/audit/verify").await
}

/// Downloads the CSV export of the filter as a file (the bearer token rides along).
pub async fn export_audit(q: &str) -> ApiResult<()> {
    use wasm_bindgen::JsCast;
    let response = send(Method::Get, &format!("/api/audit/export{q}"), None, true).await?;
    let bytes = response.binary().await.map_err(|e| ApiError::local("Export failed", e.to_string()))?;
    let array = js_sys::Uint8Array::from(bytes.as_slice());
    let parts = js_sys::Array::of1(&array);
    let options = web_sys::BlobPropertyBag::new();
    options.set_type("text/csv");
    let blob = web_sys::Blob::new_with_u8_array_sequence_and_options(&parts, &options)
        .map_err(|_| ApiError::local("Export failed", "the browser refused the file".into()))?;
    let url = web_sys::Url::create_object_url_with_blob(&blob)
        .map_err(|_| ApiError::local("Export failed", "the browser refused the file".into()))?;
    if let Some(a) = web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.create_element("a").ok())
        .and_then(|e| e.dyn_into::<web_sys::HtmlAnchorElement>().ok())
    {
        a.set_href(&url);
        a.set_download("steward-audit.csv");
        a.click();
    }
    let _ = web_sys::Url::revoke_object_url(&url);
    Ok(())
}

// --- User administration -------------------------------------------------------------------

use steward_shared::api::{
    ApiTokenInfo, BulkOutcome, BulkUsers, CreateApiToken, CreateInvitation, CreateUser, CreatedApiToken, DirectoryUser,
    Invitation, RecoveryCodes, Revoked, SessionRow, TotpEnrolment, UpdateUser, UserMetrics,
};

pub async fn users(q: &str) -> ApiResult<Page<DirectoryUser>> {
    get(&format!("/api/users{q}")).await
}

pub async fn user_metrics(q: &str) -> ApiResult<UserMetrics> {
    get(&format!("/api/users/metrics{q}")).await
}

pub async fn create_user(body: &CreateUser) -> ApiResult<DirectoryUser> {
    post("/api/users", body).await
}

pub async fn update_user(id: &str, body: &UpdateUser) -> ApiResult<DirectoryUser> {
    json(send(Method::Patch, &format!("/api/users/{id}"), Some(&to_value(body)?), true).await?).await
}

pub async fn set_super_admin(id: &str, on: bool) -> ApiResult<DirectoryUser> {
    put(&format!("/api/users/{id}/super-admin"), &serde_json::json!({ "super_admin": on })).await
}

/// `activate` or `deactivate` (destructive: typed confirmation while impersonating).
pub async fn user_status(id: &str, action: &str, confirm: Option<&str>) -> ApiResult<DirectoryUser> {
    json(send_confirmed(Method::Post, &format!("/api/users/{id}/{action}"), None, true, confirm).await?).await
}

pub async fn send_password_reset(id: &str) -> ApiResult<()> {
    send(Method::Post, &format!("/api/users/{id}/password-reset"), None, true).await.map(|_| ())
}

pub async fn erase_user(id: &str, confirm: Option<&str>) -> ApiResult<()> {
    send_confirmed(Method::Delete, &format!("/api/users/{id}"), None, true, confirm).await.map(|_| ())
}

/// Another user's API tokens (no secrets): an administrator's view.
pub async fn user_tokens(user: &str) -> ApiResult<Page<ApiTokenInfo>> {
    get(&format!("/api/users/{user}/tokens?limit=100")).await
}

/// Revokes another user's API token (destructive: typed confirmation while impersonating).
pub async fn revoke_user_token(user: &str, token: &str, confirm: Option<&str>) -> ApiResult<()> {
    send_confirmed(Method::Delete, &format!("/api/users/{user}/tokens/{token}"), None, true, confirm).await.map(|_| ())
}

/// Turns a user's two-factor sign-in off, so they enrol again (typed confirmation while impersonating).
pub async fn reset_user_two_factor(user: &str, confirm: Option<&str>) -> ApiResult<()> {
    send_confirmed(Method::Delete, &format!("/api/users/{user}/2fa"), None, true, confirm).await.map(|_| ())
}

pub async fn user(id: &str) -> ApiResult<DirectoryUser> {
    get(&format!("/api/users/{id}")).await
}

pub async fn bulk_users(body: &BulkUsers, confirm: Option<&str>) -> ApiResult<BulkOutcome> {
    json(send_confirmed(Method::Post, "/api/users/bulk", Some(&to_value(body)?), true, confirm).await?).await
}

pub async fn invitations(q: &str) -> ApiResult<Page<Invitation>> {
    get(&format!("/api/invitations{q}")).await
}

pub async fn create_invitation(body: &CreateInvitation) -> ApiResult<Invitation> {
    post("/api/invitations", body).await
}

pub async fn revoke_invitation(id: &str, confirm: Option<&str>) -> ApiResult<()> {
    send_confirmed(Method::Delete, &format!("/api/invitations/{id}"), None, true, confirm).await.map(|_| ())
}

pub async fn sessions(q: &str) -> ApiResult<Page<SessionRow>> {
    get(&format!("/api/sessions{q}")).await
}

pub async fn revoke_session(id: &str, confirm: Option<&str>) -> ApiResult<Revoked> {
    json(send_confirmed(Method::Delete, &format!("/api/sessions/{id}"), None, true, confirm).await?).await
}

pub async fn revoke_user_sessions(user: &str, confirm: Option<&str>) -> ApiResult<Revoked> {
    json(send_confirmed(Method::Delete, &format!("/api/users/{user}/sessions"), None, true, confirm).await?).await
}

pub async fn enrol_totp() -> ApiResult<TotpEnrolment> {
    json(send(Method::Post, "/api/me/2fa/enrol", None, true).await?).await
}

pub async fn verify_totp(code: &str) -> ApiResult<RecoveryCodes> {
    post("/api/me/2fa/verify", &serde_json::json!({ "code": code })).await
}

pub async fn disable_totp(code: &str) -> ApiResult<()> {
    send(Method::Post, "/api/me/2fa/disable", Some(&serde_json::json!({ "code": code })), true).await.map(|_| ())
}

pub async fn regenerate_recovery_codes(code: &str) -> ApiResult<RecoveryCodes> {
    post("/api/me/2fa/recovery-codes", &serde_json::json!({ "code": code })).await
}

pub async fn tokens() -> ApiResult<Vec<ApiTokenInfo>> {
    all("/api/me/tokens").await
}

pub async fn create_token(body: &CreateApiToken) -> ApiResult<CreatedApiToken> {
    post("/api/me/tokens", body).await
}

pub async fn revoke_token(id: &str, confirm: Option<&str>) -> ApiResult<()> {
    send_confirmed(Method::Delete, &format!("/api/me/tokens/{id}"), None, true, confirm).await.map(|_| ())
}

/// Sets a new password with a mailed token (no session needed).
pub async fn complete_password_reset(token: &str, password: &str) -> ApiResult<()> {
    let body = serde_json::json!({ "token": token, "password": password });
    send(Method::Post, "/api/auth/password-reset", Some(&body), false).await.map(|_| ())
}

/// Accepts an invitation and signs in as the new account.
pub async fn accept_invitation(token: &str, name: &str, password: &str) -> ApiResult<()> {
    let body = serde_json::json!({ "token": token, "name": name, "password": password });
    let pair: TokenPair = json(send(Method::Post, "/api/auth/accept-invitation", Some(&body), false).await?).await?;
    store(&pair);
    Ok(())
}

pub async fn system_status() -> ApiResult<SystemStatus> {
    get("/api/system/status").await
}

pub async fn stats(range: &str) -> ApiResult<StatsSeries> {
    get(&format!("/api/stats?range={range}")).await
}

pub async fn logs(q: &str) -> ApiResult<Page<LogEntry>> {
    get(&format!("/api/logs{q}")).await
}

pub async fn settings() -> ApiResult<steward_shared::api::SettingsView> {
    get("/api/settings").await
}

pub async fn update_settings(
    body: &steward_shared::api::UpdateSettings,
) -> ApiResult<steward_shared::api::SettingsView> {
    patch("/api/settings", body).await
}

pub async fn config_view() -> ApiResult<ConfigView> {
    get("/api/system/config").await
}

/// Follows `/api/logs/follow{q}` (server-sent events over a streamed fetch, so the bearer goes
/// in a header as everywhere else) and hands every line to `on_line`, until `signal` aborts it
/// or the server ends the stream. An expired token is refreshed once before connecting.
pub async fn follow_logs(q: &str, signal: &web_sys::AbortSignal, mut on_line: impl FnMut(LogEntry)) -> ApiResult<()> {
    follow_events(&format!("/api/logs/follow{q}"), signal, |kind, data| {
        if kind == "log" {
            if let Ok(entry) = serde_json::from_str::<LogEntry>(data) {
                on_line(entry);
            }
        }
    })
    .await
}

/// Reads a server-sent event stream over a streamed fetch (so it carries the bearer token),
/// handing each event's name and data to `on_event`, until the server ends it (`end`), the
/// signal aborts it, or the connection drops.
pub async fn follow_events(
    path: &str,
    signal: &web_sys::AbortSignal,
    mut on_event: impl FnMut(&str, &str),
) -> ApiResult<()> {
    use wasm_bindgen::JsCast;
    let connect = || async {
        let mut builder = Request::get(path).abort_signal(Some(signal));
        if let Some(t) = stored() {
            builder = builder.header("Authorization", &format!("Bearer {}", t.access_token));
        }
        let response = builder
            .send()
            .await
            .map_err(|e| ApiError::local("Server unreachable", format!("Steward did not answer: {e}")))?;
        if response.ok() {
            Ok(response)
        } else {
            Err(problem_of(response).await)
        }
    };
    let response = match connect().await {
        Err(e) if e.code() == "token_expired" && refresh().await.is_ok() => connect().await?,
        other => other?,
    };
    let Some(body) = response.body() else { return Ok(()) };
    let reader: web_sys::ReadableStreamDefaultReader = body.get_reader().unchecked_into();
    let mut pending = String::new();
    loop {
        let chunk = wasm_bindgen_futures::JsFuture::from(reader.read())
            .await
            .map_err(|_| ApiError::local("Follow ended", "The live stream was interrupted.".into()))?;
        let done = js_sys::Reflect::get(&chunk, &"done".into()).ok().and_then(|d| d.as_bool()).unwrap_or(true);
        if done {
            return Ok(());
        }
        if let Ok(value) = js_sys::Reflect::get(&chunk, &"value".into()) {
            let bytes = js_sys::Uint8Array::new(&value).to_vec();
            pending.push_str(&String::from_utf8_lossy(&bytes));
        }
        while let Some(end) = pending.find("\n\n") {
            let event: String = pending.drain(..end + 2).collect();
            let mut kind = String::from("message");
            let mut data = String::new();
            for line in event.lines() {
                if let Some(k) = line.strip_prefix("event:") {
                    kind = k.trim().to_owned();
                } else if let Some(d) = line.strip_prefix("data:") {
                    data.push_str(d.trim_start());
                }
            }
            if kind == "end" {
                return Err(ApiError::local("Follow ended", data));
            }
            on_event(&kind, &data);
        }
    }
}

pub async fn patch<B: Serialize, T: DeserializeOwned>(path: &str, body: &B) -> ApiResult<T> {
    json(send(Method::Patch, path, Some(&to_value(body)?), true).await?).await
}
