//! The sessions page: live login sessions across the scope (or one user's), revoking one,
//! and revoking all of a user's. Revocation bites on the session's next request, because
//! every request checks its session row.

use chrono::Utc;
use sea_orm::sea_query::{Expr, ExprTrait, Query};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use serde::Deserialize;
use serde_json::json;
use steward_shared::api::{Page, Revoked, SessionRow};
use uuid::Uuid;

use crate::access::scope::Scope;
use crate::access::Actor;
use crate::audit::{self, Event};
use crate::http::error::{AppError, AppResult};
use crate::http::pagination::{self, Cursor};
use crate::http::request_meta::RequestMeta;
use crate::identity::sessions as session_rows;
use crate::state::AppState;
use crate::store::entities::{sessions, user_roles, users};

pub(super) const LEAF: &str = "steward.access.sessions.manage";

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SessionQuery {
    /// Only this user's sessions.
    pub user_id: Option<Uuid>,
    /// Also list ended (revoked or expired) sessions.
    #[serde(default)]
    pub include_ended: bool,
    pub limit: Option<u64>,
    pub cursor: Option<String>,
}

/// Login sessions in scope, newest first; live ones unless asked for more.
pub async fn list_sessions(
    state: &AppState,
    actor: &Actor,
    scope: &Scope,
    q: SessionQuery,
) -> AppResult<Page<SessionRow>> {
    let limit = pagination::limit(q.limit)?;
    let now = Utc::now();
    let mut query = sessions::Entity::find().filter(scope.condition(sessions::Column::CustomerId));
    if let Some(ws) = actor.workspaces_with(LEAF) {
        query = query.filter(
            Expr::col((sessions::Entity, sessions::Column::UserId)).in_subquery(
                Query::select()
                    .column(user_roles::Column::UserId)
                    .from(user_roles::Entity)
                    .and_where(Expr::col(user_roles::Column::WorkspaceId).is_in(ws))
                    .to_owned(),
            ),
        );
    }
    if let Some(user) = q.user_id {
        use crate::access::filters::{thing, Named};
        thing(&state.db, actor, Some(scope), "user_id", Named::User, user).await?;
        query = query.filter(sessions::Column::UserId.eq(user));
    }
    if !q.include_ended {
        query = query.filter(sessions::Column::RevokedAt.is_null()).filter(sessions::Column::ExpiresAt.gt(now));
    }
    if let Some(raw) = &q.cursor {
        query = query.filter(sessions::Column::Id.lt(Cursor::decode(raw)?.id));
    }
    let list = query.order_by_desc(sessions::Column::Id).limit(limit + 1).all(&state.db).await?;
    let (list, next_cursor) = pagination::finish(list, limit, |s| Cursor { key: None, id: s.id });
    let ids: Vec<Uuid> = list.iter().map(|s| s.user_id).collect();
    let people: std::collections::HashMap<Uuid, users::Model> = users::Entity::find()
        .filter(users::Column::Id.is_in(ids))
        .all(&state.db)
        .await?
        .into_iter()
        .map(|u| (u.id, u))
        .collect();
    let current = actor.session.as_ref().map(|s| s.id);
    let items = list
        .into_iter()
        .map(|s| {
            let who = people.get(&s.user_id);
            SessionRow {
                id: s.id.into(),
                user_id: s.user_id.into(),
                user_email: who.map(|u| u.email.clone()).unwrap_or_default(),
                user_name: who.map(|u| u.name.clone()).unwrap_or_default(),
                customer_id: s.customer_id.into(),
                created_at: s.created_at,
                last_seen_at: s.last_seen_at,
                expires_at: s.expires_at,
                ip: s.ip,
                user_agent: s.user_agent,
                two_factor_verified: s.two_factor_verified,
                impersonating: s.impersonated_user_id.map(Into::into),
                current: Some(s.id) == current,
            }
        })
        .collect();
    Ok(Page { items, next_cursor })
}

/// Revoke one session: it ends on its next request. While impersonating, send the session
/// owner's email as `X-Steward-Confirm`.
pub async fn revoke_session(state: &AppState, actor: &Actor, meta: &RequestMeta, id: Uuid) -> AppResult<Revoked> {
    let session = sessions::Entity::find_by_id(id)
        .one(&state.db)
        .await?
        .ok_or_else(|| AppError::NotFound("No such session.".into()))?;
    let owner = crate::directory::listing::visible_user(&state.db, actor, session.user_id, LEAF).await.map_err(
        |e| match e {
            AppError::Foreign(_) => AppError::Foreign("No such session.".into()),
            other => other.or_miss(|| AppError::NotFound("No such session.".into())),
        },
    )?;
    let txn = crate::store::begin(&state.db).await?;
    // Your own other sessions are yours to end; anyone else's follow the user rule set.
    if owner.id != actor.author_id() {
        crate::directory::users::may_act_on(&txn, actor, &owner).await?;
    }
    let live = session.revoked_at.is_none();
    session_rows::revoke(&txn, session.id).await?;
    let event = Event::new("session.revoke", "success")
        .by(actor)
        .target("session", session.id)
        .summary(json!({ "user_id": owner.id }));
    audit::append(&txn, meta, Event { customer_id: Some(owner.customer_id), ..event }).await?;
    txn.commit().await?;
    Ok(Revoked { revoked: u64::from(live) })
}

/// Revoke every session of a user. While impersonating, send the user's email as
/// `X-Steward-Confirm`.
pub async fn revoke_user_sessions(state: &AppState, actor: &Actor, meta: &RequestMeta, id: Uuid) -> AppResult<Revoked> {
    let user = crate::directory::listing::visible_user(&state.db, actor, id, LEAF).await?;
    let txn = crate::store::begin(&state.db).await?;
    crate::directory::users::may_act_on(&txn, actor, &user).await?;
    let revoked = session_rows::revoke_all_of(&txn, user.id).await?;
    let event = Event::new("session.revoke_all", "success")
        .by(actor)
        .target("user", user.id)
        .summary(json!({ "revoked": revoked }));
    audit::append(&txn, meta, Event { customer_id: Some(user.customer_id), ..event }).await?;
    txn.commit().await?;
    Ok(Revoked { revoked })
}
