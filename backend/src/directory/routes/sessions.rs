//! Routes: sessions.

use crate::access::scope::{Scope, ScopeHeader};
use crate::access::Actor;
use crate::audit::{self, Event};
#[allow(unused_imports)]
use crate::directory::sessions::*;
use crate::http::error::{AppError, AppResult};
use crate::http::extract::{ApiPath, ApiQuery};
use crate::http::pagination::{self, Cursor};
use crate::http::request_meta::RequestMeta;
use crate::identity::sessions as session_rows;
use crate::state::AppState;
use crate::store::entities::{sessions, user_roles, users};
use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use chrono::Utc;
use sea_orm::sea_query::{Expr, ExprTrait, Query};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use serde_json::json;
use steward_shared::api::{Page, Revoked, SessionRow};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_sessions))
        .routes(routes!(revoke_session))
        .routes(routes!(revoke_user_sessions))
}

/// Login sessions in scope, newest first; live ones unless asked for more.
#[utoipa::path(
    get, path = "/api/sessions", tag = "sessions", operation_id = "list_sessions",
    security(("bearer" = ["steward.access.sessions.manage"])),
    params(SessionQuery, ScopeHeader),
    responses((status = 200, description = "A page of sessions", body = Page<SessionRow>)),
)]
async fn list_sessions(
    State(state): State<AppState>,
    actor: Actor,
    scope: Scope,
    ApiQuery(q): ApiQuery<SessionQuery>,
) -> AppResult<Json<Page<SessionRow>>> {
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
    Ok(Json(Page { items, next_cursor }))
}

/// Revoke one session: it ends on its next request. While impersonating, send the session
/// owner's email as `X-Steward-Confirm`.
#[utoipa::path(
    delete, path = "/api/sessions/{session_id}", tag = "sessions", operation_id = "revoke_session",
    security(("bearer" = ["steward.access.sessions.manage"])),
    extensions(("x-confirm" = json!("session"))),
    params(("session_id" = Uuid, Path, description = "The session")),
    responses((status = 200, description = "Revoked (0 if it had already ended)", body = Revoked)),
)]
async fn revoke_session(
    State(state): State<AppState>,
    actor: Actor,
    meta: RequestMeta,
    ApiPath(id): ApiPath<Uuid>,
) -> AppResult<Json<Revoked>> {
    let session = sessions::Entity::find_by_id(id)
        .one(&state.db)
        .await?
        .ok_or_else(|| AppError::NotFound("No such session.".into()))?;
    let owner = crate::directory::listing::visible_user(&state.db, &actor, session.user_id, LEAF)
        .await
        .map_err(|_| AppError::NotFound("No such session.".into()))?;
    let txn = crate::store::begin(&state.db).await?;
    // Your own other sessions are yours to end; anyone else's follow the user rule set.
    if owner.id != actor.author_id() {
        crate::directory::users::may_act_on(&txn, &actor, &owner).await?;
    }
    let live = session.revoked_at.is_none();
    session_rows::revoke(&txn, session.id).await?;
    let event = Event::new("session.revoke", "success")
        .by(&actor)
        .target("session", session.id)
        .summary(json!({ "user_id": owner.id }));
    audit::append(&txn, &meta, Event { customer_id: Some(owner.customer_id), ..event }).await?;
    txn.commit().await?;
    Ok(Json(Revoked { revoked: u64::from(live) }))
}

/// Revoke every session of a user. While impersonating, send the user's email as
/// `X-Steward-Confirm`.
#[utoipa::path(
    post, path = "/api/users/{user_id}/sessions/revoke", tag = "sessions", operation_id = "revoke_user_sessions",
    security(("bearer" = ["steward.access.sessions.manage"])),
    extensions(("x-confirm" = json!("user"))),
    params(("user_id" = Uuid, Path, description = "The user")),
    responses((status = 200, description = "How many sessions ended", body = Revoked)),
)]
async fn revoke_user_sessions(
    State(state): State<AppState>,
    actor: Actor,
    meta: RequestMeta,
    ApiPath(id): ApiPath<Uuid>,
) -> AppResult<(StatusCode, Json<Revoked>)> {
    let user = crate::directory::listing::visible_user(&state.db, &actor, id, LEAF).await?;
    let txn = crate::store::begin(&state.db).await?;
    crate::directory::users::may_act_on(&txn, &actor, &user).await?;
    let revoked = session_rows::revoke_all_of(&txn, user.id).await?;
    let event = Event::new("session.revoke_all", "success")
        .by(&actor)
        .target("user", user.id)
        .summary(json!({ "revoked": revoked }));
    audit::append(&txn, &meta, Event { customer_id: Some(user.customer_id), ..event }).await?;
    txn.commit().await?;
    Ok((StatusCode::OK, Json(Revoked { revoked })))
}
