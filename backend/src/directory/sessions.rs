//! The sessions page: live login sessions across the scope (or one user's), revoking one,
//! and revoking all of a user's. Revocation bites on the session's next request, because
//! every request checks its session row.

use serde::Deserialize;
use uuid::Uuid;

pub(super) const LEAF: &str = "steward.access.sessions.manage";

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub(super) struct SessionQuery {
    /// Only this user's sessions.
    pub(super) user_id: Option<Uuid>,
    /// Also list ended (revoked or expired) sessions.
    #[serde(default)]
    pub(super) include_ended: bool,
    pub(super) limit: Option<u64>,
    pub(super) cursor: Option<String>,
}
