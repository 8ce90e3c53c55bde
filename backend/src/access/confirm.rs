//! Typed confirmation of destructive requests while impersonating (DESIGN §4). A destructive
//! route declares what must be typed (`extensions(("x-confirm" = json!("user")))` beside its
//! security requirement); the gate resolves the expected text here and compares it with the
//! `X-Steward-Confirm` header. The expected text is never put in a refusal, and a thing outside
//! the caller's tenant has nothing to confirm (the handler then answers 404 as always).

use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};
use serde_json::Value;
use std::collections::HashMap;
use uuid::Uuid;

use crate::access::Actor;
use crate::http::error::AppResult;
use crate::store::entities::{api_tokens, applications, connectors, invitations, roles, sessions, users};

/// The header carrying a typed confirmation.
pub const HEADER: &str = "x-steward-confirm";

/// What a destructive operation asks to be typed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConfirmTarget {
    /// The role's name (`role_id`).
    Role,
    /// The user's email (`user_id`).
    User,
    /// The session owner's email (`session_id`).
    Session,
    /// The invited email (`invitation_id`).
    Invitation,
    /// The token's name (`token_id`).
    Token,
    /// The connector's name (`connector_id`).
    Connector,
    /// `<n> users`, for the destructive bulk actions (`deactivate`, `delete`).
    BulkUsers,
    /// The application's name (`application_id`).
    Application,
    /// The account's email, named by the body's `email` (a request that finds its user by
    /// address rather than by id).
    Email,
}

impl ConfirmTarget {
    pub const ALL: &'static [ConfirmTarget] = &[
        Self::Role,
        Self::User,
        Self::Session,
        Self::Invitation,
        Self::Token,
        Self::Connector,
        Self::BulkUsers,
        Self::Application,
        Self::Email,
    ];

    /// The declaration's name for it.
    pub fn id(self) -> &'static str {
        match self {
            Self::Role => "role",
            Self::User => "user",
            Self::Session => "session",
            Self::Invitation => "invitation",
            Self::Token => "token",
            Self::Connector => "connector",
            Self::BulkUsers => "bulk_users",
            Self::Application => "application",
            Self::Email => "email",
        }
    }

    pub fn parse(id: &str) -> Option<Self> {
        Self::ALL.iter().copied().find(|t| t.id() == id)
    }

    /// What must be typed, in words (the spec and refusals say it).
    pub fn typed(self) -> &'static str {
        match self {
            Self::Role => "the role's name",
            Self::User => "the user's email",
            Self::Session => "the email of the session's owner",
            Self::Invitation => "the invited email",
            Self::Token => "the token's name",
            Self::Connector => "the connector's name",
            Self::BulkUsers => "the number of selected users, as `<n> users` (deactivate and delete only)",
            Self::Application => "the application's name",
            Self::Email => "the account's email (the body's `email`)",
        }
    }

    /// The path parameter naming the thing, when there is one.
    pub fn path_parameter(self) -> Option<&'static str> {
        match self {
            Self::Role => Some("role_id"),
            Self::User => Some("user_id"),
            Self::Session => Some("session_id"),
            Self::Invitation => Some("invitation_id"),
            Self::Token => Some("token_id"),
            Self::Connector => Some("connector_id"),
            Self::BulkUsers | Self::Email => None,
            Self::Application => Some("application_id"),
        }
    }

    /// Whether the expected text comes from the request body.
    pub fn reads_body(self) -> bool {
        matches!(self, Self::BulkUsers | Self::Email)
    }
}

/// The text `actor` must type for this request, or `None` when there is nothing to confirm
/// (the thing does not exist or is not the caller's to see, or a bulk action is not
/// destructive).
pub async fn expected<C: ConnectionTrait>(
    conn: &C,
    actor: &Actor,
    target: ConfirmTarget,
    params: &HashMap<String, String>,
    body: Option<&Value>,
) -> AppResult<Option<String>> {
    if target == ConfirmTarget::BulkUsers {
        let destructive = body
            .and_then(|b| b.get("action"))
            .and_then(Value::as_str)
            .is_some_and(|a| a == "deactivate" || a == "delete");
        let dry_run = body.and_then(|b| b.get("dry_run")).and_then(Value::as_bool).unwrap_or(false);
        let count = body.and_then(|b| b.get("ids")).and_then(Value::as_array).map(Vec::len);
        return Ok(match count {
            Some(n) if destructive && !dry_run => Some(format!("{n} users")),
            _ => None,
        });
    }
    if target == ConfirmTarget::Email {
        // The address is the caller's own input: asking for it again names nothing new.
        return Ok(body.and_then(|b| b.get("email")).and_then(Value::as_str).map(str::to_owned));
    }
    let Some(id) = target.path_parameter().and_then(|p| params.get(p)).and_then(|v| Uuid::parse_str(v).ok()) else {
        return Ok(None);
    };
    let mine = |customer: Uuid| actor.sees_customer(customer);
    Ok(match target {
        ConfirmTarget::Role => {
            roles::Entity::find_by_id(id).one(conn).await?.filter(|r| r.customer_id.is_none_or(mine)).map(|r| r.name)
        }
        ConfirmTarget::User => {
            users::Entity::find_by_id(id).one(conn).await?.filter(|u| mine(u.customer_id)).map(|u| u.email)
        }
        ConfirmTarget::Session => {
            let session = sessions::Entity::find_by_id(id).one(conn).await?.filter(|s| mine(s.customer_id));
            match session {
                Some(s) => users::Entity::find_by_id(s.user_id).one(conn).await?.map(|u| u.email),
                None => None,
            }
        }
        ConfirmTarget::Invitation => {
            invitations::Entity::find_by_id(id).one(conn).await?.filter(|i| mine(i.customer_id)).map(|i| i.email)
        }
        // `/api/me/tokens` are the effective user's (the target's, while viewing as them): the
        // token the revoke would act on is the one to name.
        ConfirmTarget::Token => api_tokens::Entity::find()
            .filter(api_tokens::Column::Id.eq(id))
            .filter(api_tokens::Column::UserId.eq(actor.user.id))
            .one(conn)
            .await?
            .map(|t| t.name),
        ConfirmTarget::Connector => {
            connectors::Entity::find_by_id(id).one(conn).await?.filter(|c| mine(c.customer_id)).map(|c| c.name)
        }
        // Applications are the platform's: only a principal crossing tenants has one to name.
        ConfirmTarget::Application if actor.cross_tenant() => {
            applications::Entity::find_by_id(id).one(conn).await?.map(|a| a.name)
        }
        ConfirmTarget::Application | ConfirmTarget::BulkUsers | ConfirmTarget::Email => None,
    })
}

/// The path parameters of `path`, matched against its route `template` (`/api/users/{user_id}`).
pub fn path_params(template: &str, path: &str) -> HashMap<String, String> {
    template
        .split('/')
        .zip(path.split('/'))
        .filter_map(|(t, v)| {
            let name = t.strip_prefix('{')?.strip_suffix('}')?;
            Some((name.to_owned(), v.to_owned()))
        })
        .collect()
}
