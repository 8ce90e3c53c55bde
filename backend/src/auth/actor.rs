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
use chrono::{DateTime, Utc};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};
use steward_shared::permissions::{self, Requirement};
use uuid::Uuid;

use crate::entities::{sessions, users};
use crate::error::{AppError, AppResult};
use crate::state::AppState;

/// One workspace where the user holds a role, and the leaves it grants.
#[derive(Debug, Clone)]
pub struct Grants {
    pub workspace_id: Uuid,
    pub role_id: Uuid,
    pub leaves: BTreeSet<&'static str>,
}

/// Who is acting: the signed-in user, through which session, holding which roles where.
#[derive(Debug, Clone)]
pub struct Actor {
    pub user: users::Model,
    pub session: Option<sessions::Model>,
    /// One entry per membership.
    pub grants: Vec<Grants>,
    /// The leaves that open the current route: its own, and any delegable page leaf naming it.
    pub route_leaves: Vec<&'static str>,
    /// While impersonating: the real admin's own principal. `user` and `grants` are then the
    /// target's, and every check needs both to hold the leaf.
    pub impersonator: Option<Box<Actor>>,
    /// When authenticated by an API token: the leaves the token was created with. The
    /// principal then holds only what both the token and its owner hold.
    pub token_leaves: Option<BTreeSet<&'static str>>,
}

/// The header carrying a typed confirmation (the exact name of the thing) while impersonating.
pub const CONFIRM_HEADER: &str = "x-steward-confirm";

/// Documents the typed-confirmation header on destructive operations.
#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Header)]
pub struct ConfirmHeader {
    /// While impersonating, the exact name of the thing being destroyed (a role's name, a
    /// member's email, a connector's name); without it the answer is 428.
    #[serde(rename = "X-Steward-Confirm")]
    #[allow(dead_code)]
    x_steward_confirm: Option<String>,
}

impl Actor {
    pub fn user_id(&self) -> Uuid {
        self.user.id
    }

    pub fn customer_id(&self) -> Uuid {
        self.user.customer_id
    }

    pub fn is_super_admin(&self) -> bool {
        self.user.super_admin
    }

    /// Whether this principal holds `leaf` in some workspace. Super admins hold every leaf;
    /// the leaves of never-delegable console pages are held by super admins only.
    pub fn holds(&self, leaf: &str) -> bool {
        if self.token_leaves.as_ref().is_some_and(|t| !t.contains(leaf)) {
            return false;
        }
        let own = self.user.super_admin
            || (!permissions::is_root_only(leaf) && self.grants.iter().any(|g| g.leaves.contains(leaf)));
        own && self.impersonator.as_ref().is_none_or(|a| a.holds(leaf))
    }

    /// Who authors writes: the real admin while impersonating, else the user.
    pub fn author_id(&self) -> Uuid {
        self.impersonator.as_ref().map(|a| a.user.id).unwrap_or(self.user.id)
    }

    /// While impersonating, a destructive request must name its target exactly.
    pub fn confirm(&self, headers: &HeaderMap, name: &str) -> AppResult<()> {
        if self.impersonator.is_none() {
            return Ok(());
        }
        match headers.get(CONFIRM_HEADER).map(|v| v.to_str().unwrap_or("")) {
            None => Err(AppError::PreconditionRequired(format!(
                "You are impersonating: type `{name}` to confirm (send it as X-Steward-Confirm)."
            ))),
            Some(typed) if typed == name => Ok(()),
            Some(_) => Err(AppError::field("X-Steward-Confirm", format!("does not match `{name}`"))),
        }
    }

    /// Whether this principal holds `leaf` in `workspace`. Holders of cross-tenant rights carry
    /// their leaves into every workspace.
    pub fn holds_in(&self, leaf: &str, workspace: Uuid) -> bool {
        if self.token_leaves.as_ref().is_some_and(|t| !t.contains(leaf)) {
            return false;
        }
        if let Some(real) = &self.impersonator {
            if !real.holds_in(leaf, workspace) {
                return false;
            }
        }
        if self.user.super_admin {
            return true;
        }
        if permissions::is_root_only(leaf) {
            return false;
        }
        if self.holds(permissions::ADMIN_CROSS_TENANT) {
            return self.holds(leaf);
        }
        self.grants.iter().any(|g| g.workspace_id == workspace && g.leaves.contains(leaf))
    }

    /// Every leaf held in `workspace`, in catalog order.
    pub fn leaves_in(&self, workspace: Uuid) -> Vec<&'static str> {
        permissions::all_leaves().map(|l| l.id).filter(|l| self.holds_in(l, workspace)).collect()
    }

    /// Every leaf held somewhere, in catalog order.
    pub fn effective_leaves(&self) -> Vec<&'static str> {
        permissions::all_leaves().map(|l| l.id).filter(|l| self.holds(l)).collect()
    }

    /// The current route's permission, checked in one workspace (for workspace-scoped writes).
    pub fn require_in(&self, workspace: Uuid) -> AppResult<()> {
        if self.route_leaves.iter().any(|l| self.holds_in(l, workspace)) {
            Ok(())
        } else {
            let leaf = self.route_leaves.first().copied().unwrap_or("a permission");
            Err(AppError::Forbidden {
                code: "permission_denied",
                detail: format!("This needs the permission `{leaf}` in that workspace, which you do not hold there."),
            })
        }
    }

    /// The workspaces where this principal holds `leaf`; `None` when it holds it everywhere
    /// (super admins and holders of cross-tenant rights).
    pub fn workspaces_with(&self, leaf: &str) -> Option<Vec<Uuid>> {
        if self.user.super_admin || self.cross_tenant() {
            return None;
        }
        Some(self.grants.iter().filter(|g| g.leaves.contains(leaf)).map(|g| g.workspace_id).collect())
    }

    /// Whether this principal may see other customers' data.
    pub fn cross_tenant(&self) -> bool {
        self.holds(permissions::ADMIN_CROSS_TENANT)
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

/// What one route needs, from its declaration in the spec.
#[derive(Debug, Clone)]
pub struct RouteRule {
    pub operation_id: String,
    pub requirement: Requirement,
    /// For a leaf requirement: the leaf, then the delegable console-page leaves that open it.
    pub leaves: Vec<&'static str>,
}

/// (method, path template) → rule; built from the spec.
pub type RouteTable = Arc<HashMap<(Method, String), RouteRule>>;

/// The single authorization check: runs before every API handler.
pub async fn authorize(State((state, table)): State<(AppState, RouteTable)>, mut req: Request, next: Next) -> Response {
    let Some(path) = req.extensions().get::<MatchedPath>().map(|p| p.as_str().to_owned()) else {
        return next.run(req).await;
    };
    let method = if req.method() == Method::HEAD { Method::GET } else { req.method().clone() };
    // A route missing from the table is refused: nothing is reachable undeclared.
    let Some(rule) = table.get(&(method, path)) else {
        return AppError::Internal("route has no permission declaration".into()).into_response();
    };
    if rule.requirement == Requirement::Public {
        return next.run(req).await;
    }
    let mut actor = match authenticate(&state, req.headers()).await {
        Ok(actor) => actor,
        Err(err) => return err.into_response(),
    };
    if !crate::two_factor::ALLOWED_UNTIL_ENROLLED.contains(&rule.operation_id.as_str()) {
        match crate::two_factor::blocked(&state, &actor).await {
            Ok(false) => {}
            Ok(true) => {
                return AppError::Forbidden {
                    code: "two_factor_required",
                    detail:
                        "This instance requires 2FA of admins: enrol at POST /api/me/2fa/enrol, then verify a code."
                            .into(),
                }
                .into_response()
            }
            Err(err) => return err.into_response(),
        }
    }
    if let Requirement::Leaf(leaf) = rule.requirement {
        if !rule.leaves.iter().any(|l| actor.holds(l)) {
            let meta = crate::request_meta::RequestMeta::of(req.extensions(), req.headers());
            let event = crate::audit::Event::new("access.denied", "refused")
                .by(&actor)
                .target("operation", &rule.operation_id)
                .summary(serde_json::json!({ "needs": leaf }));
            // A refusal is answered even if recording it fails; the failure is logged.
            let recorded = async {
                let txn = sea_orm::TransactionTrait::begin(&state.db).await?;
                crate::audit::append(&txn, &meta, event).await?;
                txn.commit().await.map_err(AppError::from)
            };
            if let Err(e) = recorded.await {
                tracing::error!(error = %e, "could not record a refused request");
            }
            return AppError::missing_leaf(leaf).into_response();
        }
    }
    actor.route_leaves = rule.leaves.clone();
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
    if token.starts_with(crate::api_tokens::PREFIX) {
        let (api_token, user) = crate::api_tokens::resolve(state, token).await?;
        let grants = grants_of(&state.db, user.id).await?;
        let token_leaves = Some(crate::api_tokens::leaves_of(&api_token));
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
        crate::auth::sessions::touch(&state.db, session.id, now).await?;
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
    match crate::impersonation::target_of(state, &session, now).await? {
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

/// The user's memberships and the leaves each role grants.
pub async fn grants_of<C: ConnectionTrait>(db: &C, user: Uuid) -> AppResult<Vec<Grants>> {
    use crate::entities::{role_permissions, user_roles};
    let memberships = user_roles::Entity::find().filter(user_roles::Column::UserId.eq(user)).all(db).await?;
    if memberships.is_empty() {
        return Ok(Vec::new());
    }
    let role_ids: Vec<Uuid> = memberships.iter().map(|m| m.role_id).collect();
    let patterns =
        role_permissions::Entity::find().filter(role_permissions::Column::RoleId.is_in(role_ids)).all(db).await?;
    Ok(memberships
        .into_iter()
        .map(|m| {
            let mine = patterns.iter().filter(|p| p.role_id == m.role_id).map(|p| p.pattern.as_str());
            let leaves = permissions::expand(mine.collect::<Vec<_>>()).into_iter().collect();
            Grants { workspace_id: m.workspace_id, role_id: m.role_id, leaves }
        })
        .collect())
}
