//! Id-valued filters of lists (`?actor=`, `?user_id=`, `?role_id=`, `?flow_id=`, `?target_id=`,
//! `?customer_id=`, …): one resolver for all of them. A filter naming another tenant's thing is
//! refused, never quietly narrowed to an empty page: `customer_id` beyond the caller's own is
//! 403 `cross_tenant_denied`; any other id the caller cannot see (foreign or unknown alike, so
//! the answer does not reveal which) is 422 naming the field, as is one outside the current
//! customer scope.

use sea_orm::{ConnectionTrait, EntityTrait, QuerySelect};
use uuid::Uuid;

use crate::access::scope::Scope;
use crate::access::Actor;
use crate::http::error::{AppError, AppResult};
use crate::store::entities::{api_tokens, connectors, flows, invitations, roles, runs, sessions, users, workspaces};

/// The kinds of thing an id-valued filter names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Named {
    User,
    Role,
    Flow,
    Run,
    Connector,
    Workspace,
    Session,
    Invitation,
    ApiToken,
}

impl Named {
    /// Every kind, in the order an untyped audit `target_id` is looked for.
    pub const ALL: &'static [Named] = &[
        Self::User,
        Self::Role,
        Self::Flow,
        Self::Run,
        Self::Connector,
        Self::Workspace,
        Self::Session,
        Self::Invitation,
        Self::ApiToken,
    ];

    fn noun(self) -> &'static str {
        match self {
            Self::User => "user",
            Self::Role => "role",
            Self::Flow => "flow",
            Self::Run => "run",
            Self::Connector => "connector",
            Self::Workspace => "workspace",
            Self::Session => "session",
            Self::Invitation => "invitation",
            Self::ApiToken => "API token",
        }
    }

    /// The kind an audit event's `target_type` names, when it is one of these.
    pub fn of_target_type(target_type: &str) -> Option<Self> {
        Some(match target_type {
            "user" => Self::User,
            "role" => Self::Role,
            "flow" => Self::Flow,
            "run" => Self::Run,
            "connector" => Self::Connector,
            "workspace" => Self::Workspace,
            "session" => Self::Session,
            "invitation" => Self::Invitation,
            "api_token" => Self::ApiToken,
            _ => return None,
        })
    }

    /// The customer owning the thing with this id: `None` when there is no such thing,
    /// `Some(None)` for a thing of no customer (a system role).
    async fn owner<C: ConnectionTrait>(self, conn: &C, id: Uuid) -> AppResult<Option<Option<Uuid>>> {
        macro_rules! customer_of {
            ($entity:ident) => {
                $entity::Entity::find_by_id(id)
                    .select_only()
                    .column($entity::Column::CustomerId)
                    .into_tuple::<Uuid>()
                    .one(conn)
                    .await?
                    .map(Some)
            };
        }
        Ok(match self {
            Self::User => customer_of!(users),
            Self::Flow => customer_of!(flows),
            Self::Run => customer_of!(runs),
            Self::Connector => customer_of!(connectors),
            Self::Workspace => customer_of!(workspaces),
            Self::Session => customer_of!(sessions),
            Self::Invitation => customer_of!(invitations),
            Self::Role => roles::Entity::find_by_id(id)
                .select_only()
                .column(roles::Column::CustomerId)
                .column(roles::Column::IsSystem)
                .into_tuple::<(Option<Uuid>, bool)>()
                .one(conn)
                .await?
                .map(|(customer, system)| if system { None } else { customer }),
            Self::ApiToken => match api_tokens::Entity::find_by_id(id)
                .select_only()
                .column(api_tokens::Column::UserId)
                .into_tuple::<Uuid>()
                .one(conn)
                .await?
            {
                Some(owner) => Box::pin(Self::User.owner(conn, owner)).await?,
                None => None,
            },
        })
    }
}

/// Checks a `customer_id` filter: the caller's own customer, or any with cross-tenant rights.
pub fn customer(actor: &Actor, field: &str, id: Uuid) -> AppResult<()> {
    if actor.sees_customer(id) {
        return Ok(());
    }
    Err(AppError::Forbidden {
        code: "cross_tenant_denied",
        detail: format!("`{field}` names another customer: that needs `steward.admin.cross_tenant`."),
    })
}

/// Checks a filter naming a thing of kind `named`: it must exist in a customer the caller may
/// see and, when the scope is one customer, in that one.
pub async fn thing<C: ConnectionTrait>(
    conn: &C,
    actor: &Actor,
    scope: Option<&Scope>,
    field: &str,
    named: Named,
    id: Uuid,
) -> AppResult<()> {
    judge(actor, scope, field, named, named.owner(conn, id).await?)
}

/// The verdict on a filter once its thing's owner is known (see [`Named::owner`]).
fn judge(
    actor: &Actor,
    scope: Option<&Scope>,
    field: &str,
    named: Named,
    owner: Option<Option<Uuid>>,
) -> AppResult<()> {
    let unseen = || AppError::unknown(field, format!("is not a {} you can see", named.noun()));
    match owner {
        None => Err(unseen()),
        // A thing of no customer (a system role) is everyone's.
        Some(None) => Ok(()),
        Some(Some(owner)) if !actor.sees_customer(owner) => Err(unseen()),
        Some(Some(owner)) if scope.and_then(Scope::customer_id).is_some_and(|c| c != owner) => {
            Err(AppError::unknown(field, format!("is a {} of another customer than the current scope", named.noun())))
        }
        Some(Some(_)) => Ok(()),
    }
}

/// Checks the audit log's `target_id`: an id of a known `target_type` is checked as that kind;
/// without a type, the first kind holding the id decides. Ids that are not UUIDs (operation
/// names) and ids of things no longer stored narrow by the scope alone.
pub async fn target<C: ConnectionTrait>(
    conn: &C,
    actor: &Actor,
    scope: Option<&Scope>,
    target_type: Option<&str>,
    target_id: &str,
) -> AppResult<()> {
    let Ok(id) = Uuid::parse_str(target_id) else { return Ok(()) };
    let kinds: Vec<Named> = match target_type {
        Some(t) => Named::of_target_type(t).into_iter().collect(),
        None => Named::ALL.to_vec(),
    };
    if actor.cross_tenant() && scope.and_then(Scope::customer_id).is_none() {
        return Ok(());
    }
    for named in kinds {
        let owner = named.owner(conn, id).await?;
        if owner.is_some() {
            return judge(actor, scope, "target_id", named, owner);
        }
    }
    Ok(())
}
