//! The authenticated principal, and the one place where route permissions are checked.
//!
//! Every route declares what it needs once, as the security requirement of its
//! `#[utoipa::path]`; [`crate::api_doc`] turns the generated spec into a route table, and
//! [`authorize`] checks each request against it before any handler runs.

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;

use axum::extract::{FromRequestParts, MatchedPath, Request, State};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, Method};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use chrono::Utc;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect};
use steward_shared::permissions::{self, Requirement};
use uuid::Uuid;

use crate::entities::{sessions, users};
use crate::error::{AppError, AppResult};
use crate::state::AppState;

/// Who is acting: the signed-in user, through which session, holding which leaves.
#[derive(Debug, Clone)]
pub struct Actor {
    pub user: users::Model,
    pub session: Option<sessions::Model>,
    /// Leaves granted through the user's roles, in catalog order.
    pub leaves: BTreeSet<&'static str>,
}

impl Actor {
    pub fn user_id(&self) -> Uuid {
        self.user.id
    }

    pub fn customer_id(&self) -> Uuid {
        self.user.customer_id
    }

    /// Whether this principal holds `leaf`. Super admins hold every leaf.
    pub fn holds(&self, leaf: &str) -> bool {
        self.user.super_admin || self.leaves.contains(leaf)
    }

    /// Every leaf held, in catalog order.
    pub fn effective_leaves(&self) -> Vec<&'static str> {
        permissions::all_leaves().map(|l| l.id).filter(|l| self.holds(l)).collect()
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Actor {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        parts
            .extensions
            .get::<Actor>()
            .cloned()
            .ok_or_else(|| AppError::unauthenticated("unauthenticated", "Sign in first."))
    }
}

/// (method, path template) → what the route needs; built from the spec.
pub type RouteTable = Arc<HashMap<(Method, String), Requirement>>;

/// The single authorization check: runs before every API handler.
pub async fn authorize(State((state, table)): State<(AppState, RouteTable)>, mut req: Request, next: Next) -> Response {
    let Some(path) = req.extensions().get::<MatchedPath>().map(|p| p.as_str().to_owned()) else {
        return next.run(req).await;
    };
    let method = if req.method() == Method::HEAD { Method::GET } else { req.method().clone() };
    // A route missing from the table is refused: nothing is reachable undeclared.
    let Some(requirement) = table.get(&(method, path)).copied() else {
        return AppError::Internal("route has no permission declaration".into()).into_response();
    };
    if requirement == Requirement::Public {
        return next.run(req).await;
    }
    let actor = match authenticate(&state, req.headers()).await {
        Ok(actor) => actor,
        Err(err) => return err.into_response(),
    };
    if let Requirement::Leaf(leaf) = requirement {
        if !actor.holds(leaf) {
            return AppError::missing_leaf(leaf).into_response();
        }
    }
    req.extensions_mut().insert(actor);
    next.run(req).await
}

/// Resolves the bearer credential to a live session of an active user.
pub async fn authenticate(state: &AppState, headers: &HeaderMap) -> AppResult<Actor> {
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer ").or_else(|| v.strip_prefix("bearer ")))
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .ok_or_else(|| {
            AppError::unauthenticated("unauthenticated", "Sign in: send `Authorization: Bearer <access token>`.")
        })?;
    let claims = state.jwt.verify(token).map_err(|e| match e.kind() {
        jsonwebtoken::errors::ErrorKind::ExpiredSignature => {
            AppError::unauthenticated("token_expired", "The access token has expired; refresh it or sign in again.")
        }
        _ => AppError::unauthenticated("invalid_token", "The access token is not valid."),
    })?;
    let now = Utc::now();
    let session = sessions::Entity::find_by_id(claims.sid)
        .one(&state.db)
        .await?
        .filter(|s| s.user_id == claims.sub && s.revoked_at.is_none() && s.expires_at > now)
        .ok_or_else(|| AppError::unauthenticated("session_ended", "This session has ended; sign in again."))?;
    let user = users::Entity::find_by_id(session.user_id)
        .one(&state.db)
        .await?
        .filter(|u| u.status == "active" && u.erased_at.is_none())
        .ok_or_else(|| AppError::unauthenticated("account_inactive", "This account is deactivated."))?;
    let leaves = granted_leaves(&state.db, user.id).await?;
    if now - session.last_seen_at > chrono::Duration::seconds(60) {
        crate::auth::sessions::touch(&state.db, session.id, now).await?;
    }
    Ok(Actor { user, session: Some(session), leaves })
}

/// The leaves a user's roles grant, across their memberships.
pub async fn granted_leaves<C: ConnectionTrait>(db: &C, user: Uuid) -> AppResult<BTreeSet<&'static str>> {
    use crate::entities::{role_permissions, user_roles};
    let roles: Vec<Uuid> = user_roles::Entity::find()
        .select_only()
        .column(user_roles::Column::RoleId)
        .filter(user_roles::Column::UserId.eq(user))
        .into_tuple()
        .all(db)
        .await?;
    if roles.is_empty() {
        return Ok(BTreeSet::new());
    }
    let patterns: Vec<String> = role_permissions::Entity::find()
        .select_only()
        .column(role_permissions::Column::Pattern)
        .filter(role_permissions::Column::RoleId.is_in(roles))
        .into_tuple()
        .all(db)
        .await?;
    Ok(permissions::expand(patterns.iter().map(String::as_str)).into_iter().collect())
}
