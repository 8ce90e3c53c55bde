//! Request and response bodies of the REST API.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::{CustomerId, SessionId, UserId, WorkspaceId};

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
    #[serde(default)]
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
    #[serde(default)]
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
    pub session_expires_at: Option<DateTime<Utc>>,
}
