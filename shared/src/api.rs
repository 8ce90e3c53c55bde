//! Request and response bodies of the REST API.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::{CustomerId, RoleId, SessionId, UserId, WorkspaceId};

#[cfg(feature = "server")]
use utoipa::ToSchema;

/// `GET /api/health`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(ToSchema))]
pub struct Health {
    /// `ok` when the database answers.
    pub status: String,
    pub version: String,
    /// `sqlite` or `postgres`.
    pub database: String,
    pub migrations_applied: u32,
    pub migrations_pending: u32,
}

/// A password reset link handed to a super admin (an instance without SMTP): shown this once.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(ToSchema))]
pub struct ResetLink {
    /// `https://…/reset-password?token=…`: works once, until `expires_at`.
    pub link: String,
    pub expires_at: DateTime<Utc>,
}

/// A reset link queued for mailing (`202`): its delivery shows in the outbox
/// (`GET /api/outbox`, `resend_mail`). The link itself never appears in an answer.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(ToSchema))]
pub struct ResetQueued {
    /// The outbox mail carrying the link.
    pub mail_id: uuid::Uuid,
    /// Where it goes: the account's email.
    pub to: String,
    /// When the link stops working.
    pub expires_at: DateTime<Utc>,
}

/// `GET /api/setup`: whether the first-launch setup is still open.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(ToSchema))]
pub struct SetupStatus {
    pub needs_setup: bool,
}

/// `POST /api/setup`: the first super admin, and the platform customer it belongs to.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct SetupRequest {
    /// At most 254 characters.
    pub email: String,
    /// 12 to 256 characters.
    pub password: String,
    /// 1 to 200 characters.
    pub name: String,
    /// Name of the platform customer; defaults to "Platform".
    #[serde(default, skip_serializing_if = "Option::is_none", deserialize_with = "crate::absent::not_null")]
    #[cfg_attr(feature = "server", schema(nullable = false))]
    pub organization: Option<String>,
}

/// `POST /api/auth/login`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    pub email: String,
    pub password: String,
    /// The current TOTP code, when the account has 2FA enrolled.
    #[serde(default, skip_serializing_if = "Option::is_none", deserialize_with = "crate::absent::not_null")]
    #[cfg_attr(feature = "server", schema(nullable = false))]
    pub totp_code: Option<String>,
}

/// `POST /api/auth/refresh`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct RefreshRequest {
    pub refresh_token: String,
}

/// Credentials issued by login and refresh.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(ToSchema))]
pub struct TokenPair {
    /// A short-lived JWT, bound to `session_id`; send as `Authorization: Bearer`.
    pub access_token: String,
    /// Always `Bearer`.
    pub token_type: String,
    /// Seconds until `access_token` expires.
    pub expires_in: u64,
    /// Single-use: each refresh returns a new one and invalidates the old.
    pub refresh_token: String,
    pub session_id: SessionId,
}

/// A customer as shown beside a user.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(ToSchema))]
pub struct CustomerRef {
    pub id: CustomerId,
    pub name: String,
    /// `platform` or `tenant`.
    pub kind: String,
}

/// A workspace as shown beside a user.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(ToSchema))]
pub struct WorkspaceRef {
    pub id: WorkspaceId,
    pub name: String,
}

/// `GET /api/me`: who is signed in and what the SPA may show them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(ToSchema))]
pub struct Me {
    pub user_id: UserId,
    pub email: String,
    pub name: String,
    pub locale: String,
    pub super_admin: bool,
    pub customer: CustomerRef,
    pub home_workspace: Option<WorkspaceRef>,
    /// Present for a login session; absent when authenticated with an API token.
    pub session_id: Option<SessionId>,
    /// Every leaf this principal holds, in catalog order.
    pub permissions: Vec<String>,
    /// Whether any admin console page is open to this principal (the lower-left section).
    pub admin_console: bool,
    /// The console pages this principal can open (every operation the page reads with passes
    /// the authorization check) and use fully (its writes pass too). The sidebar shows exactly
    /// these.
    #[serde(default)]
    pub console_pages: Vec<ConsolePageAccess>,
    pub session_expires_at: Option<DateTime<Utc>>,
    /// Present while this session views as another user: the SPA shows the amber banner.
    #[serde(default)]
    pub impersonation: Option<Impersonation>,
    /// Whether this account has TOTP 2FA enrolled.
    #[serde(default)]
    pub totp_enabled: bool,
    /// The instance requires 2FA of this account and it is not enrolled yet: until it is,
    /// only the 2FA enrolment routes, `/api/me` and logout answer.
    #[serde(default)]
    pub two_factor_required: bool,
}

/// One console page open to the principal.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(ToSchema))]
pub struct ConsolePageAccess {
    /// The page's id in the catalog (`users`, `audit`, ...).
    pub id: String,
    /// Every operation the page changes things with passes too.
    pub write: bool,
}

/// A session's active impersonation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(ToSchema))]
pub struct Impersonation {
    /// The admin who is really signed in (and authors every write).
    pub real_user_id: UserId,
    pub real_user_email: String,
    pub real_user_name: String,
    pub target_user_id: UserId,
    pub target_email: String,
    pub target_name: String,
    pub customer_id: CustomerId,
    pub customer_name: String,
    pub reason: String,
    pub started_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
}

/// `POST /api/impersonation`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct StartImpersonation {
    pub user_id: UserId,
    /// Why: 3 to 500 characters, stored with the audit events.
    pub reason: String,
}

/// One leaf of the catalog.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(ToSchema))]
pub struct LeafInfo {
    pub id: String,
    pub label: String,
}

/// A module of the catalog and its leaves.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(ToSchema))]
pub struct ModuleInfo {
    pub id: String,
    pub label: String,
    pub leaves: Vec<LeafInfo>,
}

/// A console page, its leaves and the operations they open.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(ToSchema))]
pub struct ConsolePageInfo {
    pub id: String,
    pub label: String,
    /// `false`: only super admins may use the page, whatever is granted.
    pub delegable: bool,
    pub read_leaf: String,
    pub write_leaf: String,
    pub read_operations: Vec<String>,
    pub write_operations: Vec<String>,
}

/// `GET /api/permissions`: the whole permission tree.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(ToSchema))]
pub struct PermissionCatalog {
    pub total_leaves: u32,
    pub modules: Vec<ModuleInfo>,
    pub console_pages: Vec<ConsolePageInfo>,
}

/// "X of Y leaves granted" for one module.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(ToSchema))]
pub struct ModuleCoverage {
    pub module: String,
    pub label: String,
    pub granted: u32,
    pub total: u32,
}

/// A role, with its coverage of the catalog.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(ToSchema))]
pub struct RoleSummary {
    pub id: RoleId,
    pub name: String,
    pub description: String,
    /// System roles are global and read-only.
    pub system: bool,
    /// The workspace a custom role belongs to.
    pub workspace: Option<WorkspaceRef>,
    pub member_count: u64,
    pub patterns: Vec<String>,
    /// The leaves the patterns grant, in catalog order.
    pub leaves: Vec<String>,
    pub granted_leaves: u32,
    pub total_leaves: u32,
    pub modules: Vec<ModuleCoverage>,
}

/// The metrics strip of the roles page.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(ToSchema))]
pub struct RoleMetrics {
    pub leaves_in_catalog: u32,
    pub total_roles: u32,
    pub custom_roles: u32,
    pub members_assigned: u64,
}

/// Create or replace a custom role.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct RoleWrite {
    /// 1 to 100 characters, unique within the workspace.
    pub name: String,
    #[serde(default)]
    pub description: String,
    /// Leaves (`steward.flows.publish`) or subtrees (`steward.flows.*`) of the catalog.
    pub patterns: Vec<String>,
}

/// A member of a role: one membership.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(ToSchema))]
pub struct RoleMember {
    pub user_id: UserId,
    pub name: String,
    pub email: String,
    pub workspace: WorkspaceRef,
    /// Whether this is the user's home membership.
    pub home: bool,
}

/// Give a user (by email) a role in a workspace.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct AddMember {
    pub email: String,
    pub role_id: RoleId,
}

/// Change the role a member holds in a workspace.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct SetMemberRole {
    pub role_id: RoleId,
}

/// One (user, workspace, role) row.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(ToSchema))]
pub struct Membership {
    pub user_id: UserId,
    pub workspace_id: WorkspaceId,
    pub role_id: RoleId,
}

/// One way a user holds a leaf.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(ToSchema))]
pub struct Grant {
    pub workspace: WorkspaceRef,
    pub role_id: RoleId,
    pub role_name: String,
    /// The role's pattern that covers the leaf.
    pub pattern: String,
}

/// One "view as", from the audit log: who viewed as whom, why, for how long, how it ended, and
/// how many things the admin did meanwhile.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(ToSchema))]
pub struct ImpersonationRow {
    /// The `seq` of its `impersonation.start` event.
    pub seq: i64,
    pub admin_user_id: UserId,
    pub admin_email: String,
    pub target_user_id: UserId,
    pub target_email: String,
    pub customer_id: Option<CustomerId>,
    pub customer_name: Option<String>,
    pub reason: String,
    pub started_at: DateTime<Utc>,
    /// Absent while it lasts.
    pub ended_at: Option<DateTime<Utc>>,
    /// `active`, `exit`, `expired`, `target_not_impersonable` or `session_ended` (signed out,
    /// seen when the admin next viewed as someone).
    pub ended_how: String,
    /// Audit events the admin caused while viewing as the target.
    pub actions: u64,
}

/// `GET /api/access/explain`: whether a user holds a leaf, and why.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(ToSchema))]
pub struct Explanation {
    pub user_id: UserId,
    pub permission: String,
    pub workspace_id: Option<WorkspaceId>,
    pub granted: bool,
    pub super_admin: bool,
    pub via: Vec<Grant>,
    /// One sentence for people.
    pub detail: String,
}

/// A workspace of a customer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(ToSchema))]
pub struct WorkspaceSummary {
    pub id: WorkspaceId,
    pub customer_id: CustomerId,
    pub name: String,
    pub member_count: u64,
}

/// Create a user with a password, a home workspace and a role there.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct CreateUser {
    pub email: String,
    pub name: String,
    /// 12 to 256 characters, hashed with argon2id. Without one, the user is mailed a
    /// single-use link to set their own.
    #[serde(default, skip_serializing_if = "Option::is_none", deserialize_with = "crate::absent::not_null")]
    #[cfg_attr(feature = "server", schema(nullable = false))]
    pub password: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none", deserialize_with = "crate::absent::not_null")]
    #[cfg_attr(feature = "server", schema(nullable = false))]
    pub locale: Option<String>,
    pub home_workspace_id: WorkspaceId,
    /// A system role, or a custom role of the home workspace.
    pub role_id: RoleId,
    #[serde(default)]
    pub super_admin: bool,
    /// `false` creates the account inactive (seed 002's Active toggle): it cannot sign in until
    /// activated, and no set-password link is mailed (send one when you activate it).
    #[serde(default = "active_by_default")]
    #[cfg_attr(feature = "server", schema(default = true))]
    pub active: bool,
}

fn active_by_default() -> bool {
    true
}

/// Grant or take away super admin.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct SetSuperAdmin {
    pub super_admin: bool,
}

/// One page of a list; pass `next_cursor` back as `cursor` for the next one.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(ToSchema))]
pub struct Page<T> {
    pub items: Vec<T>,
    /// Absent on the last page.
    pub next_cursor: Option<String>,
}

impl<T> Page<T> {
    /// The only page of a list that is answered whole (a short catalog).
    pub fn whole(items: Vec<T>) -> Self {
        Self { items, next_cursor: None }
    }
}

/// The scope a request was answered for.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(ToSchema))]
pub struct ScopeInfo {
    /// `tenant` (your own customer), `all` or `customer`.
    pub mode: String,
    /// Whether admin mode (cross-tenant view) is on.
    pub admin_mode: bool,
    pub customer_id: Option<CustomerId>,
    pub customer_name: Option<String>,
}

/// A customer (organization).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(ToSchema))]
pub struct CustomerSummary {
    pub id: CustomerId,
    pub name: String,
    pub slug: String,
    /// `platform` or `tenant`.
    pub kind: String,
    pub created_at: DateTime<Utc>,
}

/// A row of the Customers page: the customer, what it holds, and when it last did anything.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(ToSchema))]
pub struct CustomerOverview {
    #[serde(flatten)]
    pub customer: CustomerSummary,
    pub workspaces: u64,
    /// Users not erased (active and inactive).
    pub users: u64,
    pub flows: u64,
    /// Its newest audit event; absent when it has none.
    #[serde(default)]
    pub last_activity_at: Option<DateTime<Utc>>,
}

/// A customer with its counts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(ToSchema))]
pub struct CustomerDetail {
    #[serde(flatten)]
    pub customer: CustomerSummary,
    pub workspaces: Vec<WorkspaceRef>,
    pub users: u64,
}

/// Create a tenant customer with its first workspace.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct CreateCustomer {
    /// 1 to 200 characters, unique.
    pub name: String,
    /// 1 to 100 lowercase letters, digits and dashes, as sent; default: made from the name.
    #[serde(default, skip_serializing_if = "Option::is_none", deserialize_with = "crate::absent::not_null")]
    #[cfg_attr(feature = "server", schema(nullable = false))]
    pub slug: Option<String>,
    /// Default: "Main".
    #[serde(default, skip_serializing_if = "Option::is_none", deserialize_with = "crate::absent::not_null")]
    #[cfg_attr(feature = "server", schema(nullable = false))]
    pub workspace_name: Option<String>,
}

/// Rename a customer or a workspace.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Rename {
    pub name: String,
}

/// Dashboard KPIs for a scope, from the cache that Refresh rebuilds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(ToSchema))]
pub struct Kpis {
    pub scope: ScopeInfo,
    pub customers: u64,
    pub users: u64,
    pub active_users: u64,
    pub flows: u64,
    pub active_flows: u64,
    pub runs_24h: u64,
    pub failed_24h: u64,
    /// Failed share of the runs finished in the last 24 h, 0 to 1.
    pub failure_rate: f64,
    pub records: u64,
    pub computed_at: DateTime<Utc>,
    /// Whether this answer came from the cache.
    pub cached: bool,
}

/// A flow of a tenant.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(ToSchema))]
pub struct FlowRow {
    pub id: uuid::Uuid,
    pub customer_id: CustomerId,
    pub customer_name: String,
    pub workspace_id: WorkspaceId,
    pub workspace_name: String,
    pub name: String,
    /// `draft` or `published`.
    pub status: String,
    /// `active` or `paused`.
    pub state: String,
    /// `every 15m`, `every 2h`, `every 1d`, or none (manual only).
    pub schedule: Option<String>,
    pub next_run_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    /// How many steps each run executes. A flow made by hand (not from a template) has none:
    /// it cannot be published or run until it has some.
    #[serde(default)]
    pub steps: u32,
}

/// Create a flow.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct CreateFlow {
    pub workspace_id: WorkspaceId,
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none", deserialize_with = "crate::absent::not_null")]
    #[cfg_attr(feature = "server", schema(nullable = false))]
    pub schedule: Option<String>,
    /// Publish at once (needs `steward.flows.publish`).
    #[serde(default)]
    pub publish: bool,
    /// Make it from an active application's flow template (`list_flow_templates`): its runs
    /// execute the template's steps.
    #[serde(default, skip_serializing_if = "Option::is_none", deserialize_with = "crate::absent::not_null")]
    #[cfg_attr(feature = "server", schema(nullable = false))]
    pub template_id: Option<uuid::Uuid>,
    /// The connector its runs use (of the same workspace): each run records its outcome on it.
    #[serde(default, skip_serializing_if = "Option::is_none", deserialize_with = "crate::absent::not_null")]
    #[cfg_attr(feature = "server", schema(nullable = false))]
    pub connector_id: Option<uuid::Uuid>,
}

/// A run of a flow.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(ToSchema))]
pub struct RunRow {
    pub id: uuid::Uuid,
    pub customer_id: CustomerId,
    pub customer_name: String,
    pub flow_id: uuid::Uuid,
    pub flow_name: String,
    /// `queued`, `running`, `succeeded`, `failed` or `cancelled`.
    pub status: String,
    /// `schedule` or `manual`.
    pub trigger: String,
    pub queued_at: DateTime<Utc>,
    pub started_at: Option<DateTime<Utc>>,
    pub finished_at: Option<DateTime<Utc>>,
    pub duration_ms: Option<i64>,
    /// How many times a worker has taken it (retries count).
    pub attempt: i32,
    /// Why it failed (or, while queued for a retry, why the last attempt failed).
    pub error: Option<String>,
    /// What each step of the last attempt did, in order.
    #[serde(default)]
    pub steps: Vec<StepReport>,
    /// The index in `steps` of the step it failed on.
    #[serde(default)]
    pub failed_step: Option<u32>,
    /// The record it failed on.
    #[serde(default)]
    pub failed_record: Option<uuid::Uuid>,
    /// A retry does not start before this (its backoff).
    #[serde(default)]
    pub not_before: Option<DateTime<Utc>>,
    /// An operator asked to cancel it; the worker stops at the next batch.
    #[serde(default)]
    pub cancel_requested: bool,
    /// Invented by `steward-server seed` (demo data): it never ran.
    #[serde(default)]
    pub demo: bool,
}

/// What one step of a run did.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(ToSchema))]
pub struct StepReport {
    /// `validate`, `hash`, `dedupe` or `map`.
    pub kind: String,
    /// `succeeded`, `failed`, `cancelled` or `skipped` (after an earlier step failed).
    pub status: String,
    /// Records the step read.
    pub records: u64,
    /// Records it changed (hash, map) or flagged (validate: invalid; dedupe: in a group).
    pub changed: u64,
    /// Duplicate groups found (dedupe).
    #[serde(default)]
    pub groups: u64,
    pub duration_ms: u64,
    /// Why it failed, naming the record.
    #[serde(default)]
    pub error: Option<String>,
}

/// A connector of a tenant. Its API key is never shown, only its prefix.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(ToSchema))]
pub struct ConnectorRow {
    pub id: uuid::Uuid,
    pub customer_id: CustomerId,
    pub customer_name: String,
    pub workspace_id: WorkspaceId,
    pub workspace_name: String,
    pub name: String,
    pub kind: String,
    /// `healthy`, `degraded`, `down`, or `unknown` (never probed: no endpoint, or its kind
    /// declares no probe).
    pub health: String,
    pub api_key_prefix: String,
    pub key_rotated_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    /// Where its service answers; the kind's health probe is requested here.
    #[serde(default)]
    pub endpoint: Option<String>,
    /// The last probe: when, how long it took, and what went wrong.
    #[serde(default)]
    pub health_checked_at: Option<DateTime<Utc>>,
    #[serde(default)]
    pub health_latency_ms: Option<i32>,
    #[serde(default)]
    pub health_error: Option<String>,
    /// The last run that used it, and how it ended.
    #[serde(default)]
    pub last_run_at: Option<DateTime<Utc>>,
    #[serde(default)]
    pub last_run_status: Option<String>,
}

/// A rotated connector key: shown this once, stored only hashed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(ToSchema))]
pub struct RotatedKey {
    pub connector_id: uuid::Uuid,
    pub api_key: String,
    pub api_key_prefix: String,
    pub rotated_at: DateTime<Utc>,
}

/// A canonical data record.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(ToSchema))]
pub struct RecordRow {
    pub id: uuid::Uuid,
    pub customer_id: CustomerId,
    pub customer_name: String,
    pub entity_type: String,
    pub external_id: String,
    pub source: String,
    /// The record's data as its source sent it: a JSON object that the JSON Schema of its
    /// entity type (the model an installed application declares for `entity_type`) accepts,
    /// so its keys are that model's. The dedup hash and the external key are derived from it.
    pub payload: serde_json::Value,
    pub merged_into: Option<uuid::Uuid>,
    pub updated_at: DateTime<Utc>,
}

/// One audit event.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(ToSchema))]
pub struct AuditEvent {
    pub seq: i64,
    pub id: uuid::Uuid,
    pub occurred_at: DateTime<Utc>,
    pub customer_id: Option<CustomerId>,
    /// The customer's name (none for platform-level events).
    pub customer_name: Option<String>,
    /// Who acted: the real admin, also while impersonating.
    pub actor_user_id: Option<UserId>,
    pub actor_email: Option<String>,
    /// Whom the actor was impersonating, if anyone.
    pub impersonated_user_id: Option<UserId>,
    pub impersonated_email: Option<String>,
    pub action: String,
    /// `success`, `failure` or `refused`.
    pub outcome: String,
    pub target_type: Option<String>,
    pub target_id: Option<String>,
    /// What the target is called now: a user or invitation by email, a flow, role, connector,
    /// customer, workspace, application or API token by name; none for unnamed targets (runs,
    /// sessions, records) or one that is gone.
    pub target_name: Option<String>,
    pub request_id: Option<String>,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    /// What the action did: an object whose keys depend on the action (`{}` when there is
    /// nothing to add). A change carries `before` and `after`, the fields it changed on each
    /// side (`{"before": {"status": "active"}, "after": {"status": "inactive"}}`); other keys
    /// are the facts of the action: `reason` (an impersonation and how it ended), `run_id` (a
    /// manual run), `params` (a platform action), `table`, `count`, `skipped`, `set` and
    /// `selection` (an explorer batch), `code` and `status` (a refused request),
    /// `sessions_ended` (a deactivation). New actions may add keys.
    ///
    /// In the list (`GET /api/audit`) a summary longer than 2 KiB as JSON leaves out each key
    /// whose value is longer than 256 bytes (a batch edit's `before` holds up to 100 rows) and
    /// names it in `summary_omitted`; `GET /api/audit/{seq}` and the CSV export give it whole.
    #[cfg_attr(feature = "server", schema(value_type = Object))]
    pub summary: serde_json::Value,
    /// The keys of `summary` this answer leaves out for their size (only in the list; empty when
    /// the summary is whole). The event itself is unchanged: `GET /api/audit/{seq}` has them.
    #[serde(default)]
    pub summary_omitted: Vec<String>,
    pub hash: String,
}

/// `GET /api/audit/verify`: the chain recomputed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(ToSchema))]
pub struct AuditVerification {
    pub ok: bool,
    pub events_checked: u64,
    /// The first event whose link does not hold.
    pub first_broken_seq: Option<i64>,
    /// Why it does not hold.
    pub problem: Option<String>,
    pub last_hash: Option<String>,
    /// The newest signed checkpoint the chain matched: events up to it are as they were when
    /// it was taken, and none of them was deleted.
    #[serde(default)]
    pub checkpoint: Option<AuditCheckpoint>,
    /// Signed checkpoints held against the chain.
    #[serde(default)]
    pub checkpoints_checked: u64,
    /// Events written before the chain was keyed (plain SHA-256); they come first, if at all.
    #[serde(default)]
    pub unkeyed_events: u64,
}

/// A signed (sequence, head) pair of the audit chain, kept beside it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(ToSchema))]
pub struct AuditCheckpoint {
    pub seq: i64,
    pub head_hash: String,
    pub created_at: chrono::DateTime<chrono::Utc>,
}

/// One membership as the directory shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(ToSchema))]
pub struct UserMembership {
    pub workspace: WorkspaceRef,
    pub role_id: RoleId,
    pub role_name: String,
}

/// One row of the users directory: the user, anchored on the home workspace, with every
/// workspace where they hold a role.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(ToSchema))]
pub struct DirectoryUser {
    pub id: UserId,
    pub customer_id: CustomerId,
    pub customer_name: String,
    pub email: String,
    pub name: String,
    pub locale: String,
    /// `active` or `inactive`.
    pub status: String,
    pub super_admin: bool,
    pub totp_enabled: bool,
    /// Erased users keep their row (so the audit log stays intact) with the identity scrubbed.
    pub erased: bool,
    pub home_workspace: Option<WorkspaceRef>,
    /// The role held in the home workspace.
    pub home_role: Option<String>,
    pub workspaces: Vec<UserMembership>,
    pub last_login_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
}

/// The metrics strip of the users directory, for the scope.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(ToSchema))]
pub struct UserMetrics {
    pub total: u64,
    pub active: u64,
    pub super_admins: u64,
    pub inactive: u64,
}

/// `PATCH /api/users/{id}`: only the fields given change.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct UpdateUser {
    #[serde(default, skip_serializing_if = "Option::is_none", deserialize_with = "crate::absent::not_null")]
    #[cfg_attr(feature = "server", schema(nullable = false))]
    pub email: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none", deserialize_with = "crate::absent::not_null")]
    #[cfg_attr(feature = "server", schema(nullable = false))]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none", deserialize_with = "crate::absent::not_null")]
    #[cfg_attr(feature = "server", schema(nullable = false))]
    pub locale: Option<String>,
    /// Moves the home membership; give `role_id` with it.
    #[serde(default, skip_serializing_if = "Option::is_none", deserialize_with = "crate::absent::not_null")]
    #[cfg_attr(feature = "server", schema(nullable = false))]
    pub home_workspace_id: Option<WorkspaceId>,
    /// The role in the home workspace (a system role or one owned by that workspace).
    #[serde(default, skip_serializing_if = "Option::is_none", deserialize_with = "crate::absent::not_null")]
    #[cfg_attr(feature = "server", schema(nullable = false))]
    pub role_id: Option<RoleId>,
}

/// A bulk action over users.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum BulkAction {
    Activate,
    Deactivate,
    /// The anonymizing erasure.
    Delete,
    /// Give each user `role_id` in `workspace_id`.
    AssignRole,
}

/// `POST /api/users/bulk`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct BulkUsers {
    pub action: BulkAction,
    /// 1 to 500 user ids; an id that is malformed, unknown or not yours to act on is skipped
    /// and reported, never fatal to the others.
    pub ids: Vec<String>,
    /// For `assign_role`.
    #[serde(default, skip_serializing_if = "Option::is_none", deserialize_with = "crate::absent::not_null")]
    #[cfg_attr(feature = "server", schema(nullable = false))]
    pub workspace_id: Option<WorkspaceId>,
    /// For `assign_role`.
    #[serde(default, skip_serializing_if = "Option::is_none", deserialize_with = "crate::absent::not_null")]
    #[cfg_attr(feature = "server", schema(nullable = false))]
    pub role_id: Option<RoleId>,
    /// Report what would happen without changing anything.
    #[serde(default)]
    pub dry_run: bool,
}

/// One id a bulk action left alone, and why.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(ToSchema))]
pub struct SkippedUser {
    /// The id as sent.
    pub id: String,
    /// `invalid_id`, `duplicate`, `not_found`, `yourself`, `last_super_admin`, `super_admin`,
    /// `stronger_account`, `already_active`, `already_inactive`, `erased`, `other_customer`,
    /// `permission_denied`, `escalation_refused`.
    pub reason: String,
    pub detail: String,
}

/// What a bulk action did (or, with `dry_run`, would do).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(ToSchema))]
pub struct BulkOutcome {
    pub action: BulkAction,
    pub dry_run: bool,
    pub applied: Vec<UserId>,
    pub skipped: Vec<SkippedUser>,
}

/// `POST /api/password-resets`: mail a reset link to the account with this email.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct PasswordResetRequest {
    pub email: String,
}

/// `POST /api/auth/password-reset`: set a new password with the mailed single-use token.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct CompletePasswordReset {
    pub token: String,
    /// 12 to 256 characters.
    pub password: String,
}

/// `POST /api/invitations`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct CreateInvitation {
    pub email: String,
    pub workspace_id: WorkspaceId,
    /// A system role or a custom role of that workspace.
    pub role_id: RoleId,
    /// 1 to 720 hours; default 72.
    #[serde(default, skip_serializing_if = "Option::is_none", deserialize_with = "crate::absent::not_null")]
    #[cfg_attr(feature = "server", schema(nullable = false))]
    pub expires_in_hours: Option<u32>,
}

/// An invitation; its token only ever travels in the mail.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(ToSchema))]
pub struct Invitation {
    pub id: uuid::Uuid,
    pub customer_id: CustomerId,
    pub email: String,
    pub workspace: WorkspaceRef,
    pub role_id: RoleId,
    pub role_name: String,
    pub invited_by: Option<UserId>,
    /// `pending`, `accepted`, `expired` or `revoked`.
    pub status: String,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub accepted_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
}

/// `POST /api/auth/accept-invitation`: create the account the invitation names.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct AcceptInvitation {
    pub token: String,
    pub name: String,
    /// 12 to 256 characters.
    pub password: String,
}

/// A login session as the sessions page shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(ToSchema))]
pub struct SessionRow {
    pub id: SessionId,
    pub user_id: UserId,
    pub user_email: String,
    pub user_name: String,
    pub customer_id: CustomerId,
    pub created_at: DateTime<Utc>,
    pub last_seen_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    pub two_factor_verified: bool,
    pub impersonating: Option<UserId>,
    /// The session this request came through.
    pub current: bool,
}

/// How many sessions a revocation ended.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(ToSchema))]
pub struct Revoked {
    pub revoked: u64,
}

/// `POST /api/me/2fa/enrol`: a new secret to scan; 2FA is on once a code from it verifies.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(ToSchema))]
pub struct TotpEnrolment {
    /// Base32, for typing into an authenticator app.
    pub secret: String,
    pub otpauth_url: String,
    /// The `otpauth_url` as an SVG QR code.
    pub qr_svg: String,
}

/// A current TOTP code (6 digits) or, where accepted, a recovery code.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct TotpCode {
    pub code: String,
}

/// Single-use recovery codes, shown once.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(ToSchema))]
pub struct RecoveryCodes {
    pub codes: Vec<String>,
}

/// The instance's 2FA policy.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct TwoFactorPolicy {
    /// Super admins and holders of `steward.admin.cross_tenant` must enrol before doing anything else.
    pub require_for_admins: bool,
}

/// `POST /api/me/tokens`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct CreateApiToken {
    /// 1 to 100 characters.
    pub name: String,
    /// Leaves or subtree patterns, each of which you hold yourself.
    pub permissions: Vec<String>,
    /// 1 to 366 days; default 90.
    #[serde(default, skip_serializing_if = "Option::is_none", deserialize_with = "crate::absent::not_null")]
    #[cfg_attr(feature = "server", schema(nullable = false))]
    pub expires_in_days: Option<u32>,
}

/// An API token's record (never its secret).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(ToSchema))]
pub struct ApiTokenInfo {
    pub id: uuid::Uuid,
    pub name: String,
    /// The first characters of the token, to recognise it.
    pub prefix: String,
    pub permissions: Vec<String>,
    pub created_at: DateTime<Utc>,
    pub expires_at: Option<DateTime<Utc>>,
    pub last_used_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
}

/// A new API token: `token` is shown this once and stored only as a hash.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(ToSchema))]
pub struct CreatedApiToken {
    pub token: String,
    pub info: ApiTokenInfo,
}

/// A mail in the outbox.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(ToSchema))]
pub struct OutboxMail {
    pub id: uuid::Uuid,
    pub customer_id: Option<CustomerId>,
    /// The customer's name; absent for platform mail.
    #[serde(default)]
    pub customer_name: Option<String>,
    /// `sent`, `waiting` (not tried yet), `retrying` (failed, tried again later) or `failed`
    /// (gave up after its attempts: resend it with `resend_mail`).
    #[serde(default)]
    pub status: String,
    /// `password_reset`, `invitation`, `two_factor`.
    pub kind: String,
    pub to_address: String,
    pub subject: String,
    /// Shown to super admins only: it carries single-use links.
    pub body_text: Option<String>,
    pub created_at: DateTime<Utc>,
    pub sent_at: Option<DateTime<Utc>>,
    pub attempts: i32,
    pub last_error: Option<String>,
}

/// The knobs an administrator changes at run time. Stored in the database and applied by every
/// replica within a second; the boot flags (or their defaults) are what a cleared one returns to.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(ToSchema))]
pub struct RuntimeSettings {
    /// How long a sign-in lasts (its refresh credential), in seconds: 300 to 7,776,000 (90 days).
    pub session_ttl_secs: u64,
    /// How long an access token lasts, in seconds: 60 to 86,400, and at most the session's.
    pub access_token_ttl_secs: u64,
    /// How long a View as lasts before it ends by itself, in minutes: 1 to 480.
    pub impersonation_minutes: u64,
    /// The shortest password accepted, in characters: 8 to 128.
    pub password_min_length: u32,
    /// Refuse passwords found in the list of common passwords shipped with the server.
    pub password_reject_common: bool,
    /// Super admins and holders of `steward.admin.cross_tenant` must enrol in 2FA first.
    pub two_factor_required_for_admins: bool,
}

/// The settings in effect, what each returns to when cleared, and which are stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(ToSchema))]
pub struct SettingsView {
    pub effective: RuntimeSettings,
    /// The boot values: flags, environment or built-in defaults.
    pub defaults: RuntimeSettings,
    /// The names of the settings stored in the database (the others follow their boot value).
    pub overridden: Vec<String>,
    pub updated_at: Option<DateTime<Utc>>,
}

/// Change settings: a field given sets it, `null` returns it to its boot value, a field left
/// out stays as it is.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct UpdateSettings {
    #[serde(default, deserialize_with = "crate::absent::null_resets", skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "server", schema(value_type = Option<u64>))]
    pub session_ttl_secs: Option<Option<u64>>,
    #[serde(default, deserialize_with = "crate::absent::null_resets", skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "server", schema(value_type = Option<u64>))]
    pub access_token_ttl_secs: Option<Option<u64>>,
    #[serde(default, deserialize_with = "crate::absent::null_resets", skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "server", schema(value_type = Option<u64>))]
    pub impersonation_minutes: Option<Option<u64>>,
    #[serde(default, deserialize_with = "crate::absent::null_resets", skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "server", schema(value_type = Option<u32>))]
    pub password_min_length: Option<Option<u32>>,
    #[serde(default, deserialize_with = "crate::absent::null_resets", skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "server", schema(value_type = Option<bool>))]
    pub password_reject_common: Option<Option<bool>>,
    #[serde(default, deserialize_with = "crate::absent::null_resets", skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "server", schema(value_type = Option<bool>))]
    pub two_factor_required_for_admins: Option<Option<bool>>,
}
