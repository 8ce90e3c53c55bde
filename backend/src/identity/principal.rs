//! Who is calling: a bearer credential (an access token bound to a live session, or an API
//! token) resolved to the [`Actor`] of an active user, with the impersonation it carries.

use axum::http::{header, HeaderMap};
use chrono::{DateTime, Utc};
use sea_orm::EntityTrait;

use crate::access::actor::grants_of;
use crate::access::Actor;
use crate::http::error::{AppError, AppResult};
use crate::state::AppState;
use crate::store::entities::{sessions, users};

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
    if token.starts_with(crate::identity::tokens::PREFIX) {
        let (api_token, user) = crate::identity::tokens::resolve(state, token).await?;
        let grants = grants_of(&state.db, user.id).await?;
        let token_leaves = Some(crate::identity::tokens::leaves_of(&api_token));
        return Ok(Actor { user, session: None, grants, route_leaves: Vec::new(), impersonator: None, token_leaves });
    }
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
    if now - session.last_seen_at > chrono::Duration::seconds(60) {
        crate::identity::sessions::touch(&state.db, session.id, now).await?;
    }
    actor_of(state, session, user, now).await
}

/// The principal of a live session: its user, or the user it impersonates (with the real
/// admin kept beside it).
async fn actor_of(
    state: &AppState,
    session: sessions::Model,
    user: users::Model,
    now: DateTime<Utc>,
) -> AppResult<Actor> {
    let grants = grants_of(&state.db, user.id).await?;
    let admin = Actor {
        user,
        session: Some(session.clone()),
        grants,
        route_leaves: Vec::new(),
        impersonator: None,
        token_leaves: None,
    };
    match crate::identity::impersonation::target_of(state, &session, now).await? {
        Some(target) => {
            let grants = grants_of(&state.db, target.id).await?;
            Ok(Actor {
                user: target,
                session: Some(session),
                grants,
                route_leaves: Vec::new(),
                impersonator: Some(Box::new(admin)),
                token_leaves: None,
            })
        }
        None => Ok(admin),
    }
}

/// The Actor of a session as it stands now (after its impersonation changed).
pub async fn reload(state: &AppState, session: &sessions::Model) -> AppResult<Actor> {
    let session = sessions::Entity::find_by_id(session.id)
        .one(&state.db)
        .await?
        .ok_or_else(|| AppError::unauthenticated("session_ended", "This session has ended; sign in again."))?;
    let user = users::Entity::find_by_id(session.user_id)
        .one(&state.db)
        .await?
        .ok_or_else(|| AppError::unauthenticated("account_inactive", "This account is deactivated."))?;
    actor_of(state, session, user, Utc::now()).await
}

/// Whether the credential in `headers` may still call `operation` (a long-lived stream asks
/// every few seconds, so a revoked session, a deactivated user or a lost grant ends it).
pub async fn still_allowed(state: &AppState, headers: &HeaderMap, operation: &str) -> Result<(), String> {
    let actor = authenticate(state, headers).await.map_err(|e| e.to_string())?;
    let rule = state.operations.get().and_then(|ops| ops.get(operation)).cloned();
    match rule {
        Some((requirement, leaves)) if actor.passes(&requirement, &leaves) => Ok(()),
        _ => Err("you may no longer read this".to_owned()),
    }
}
