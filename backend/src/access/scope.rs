//! The customer scope of a request: your own tenant, all customers (admin mode), or one
//! customer. API clients send `X-Steward-Scope`; the SPA keeps the same value in the
//! `steward_scope` cookie; the explicit header wins. Asking beyond your own tenant without
//! `steward.admin.cross_tenant` is refused (403), never silently narrowed. A remembered scope
//! (the cookie: another user signed in on the same browser, or a view as someone) that the
//! current principal may not use is not a request: it falls back to their own tenant, and the
//! SPA says so.

use axum::extract::FromRequestParts;
use axum::http::header::COOKIE;
use axum::http::request::Parts;
use sea_orm::{ColumnTrait, Condition, EntityTrait};
use steward_shared::api::ScopeInfo;
use uuid::Uuid;

use crate::access::Actor;
use crate::http::error::AppError;
use crate::state::AppState;
use crate::store::entities::customers;

pub const HEADER: &str = "x-steward-scope";

pub const COOKIE_NAME: &str = "steward_scope";

/// The customer scope, resolved and authorized.
#[derive(Debug, Clone, PartialEq)]
pub enum Scope {
    /// Admin mode off: the principal's own customer.
    Tenant(customers::Model),
    /// Admin mode on, every customer.
    All,
    /// Admin mode on, one customer.
    Customer(customers::Model),
}

/// The documented header (the cookie carries the same value for the SPA).
#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Header)]
pub struct ScopeHeader {
    /// `tenant` (default: your own customer), `all` (admin mode, every customer) or
    /// `customer:<uuid>` (admin mode, one customer). Overrides the `steward_scope` cookie.
    /// Anything beyond your own customer needs `steward.admin.cross_tenant`.
    #[serde(rename = "X-Steward-Scope")]
    #[allow(dead_code)]
    x_steward_scope: Option<String>,
}

impl Scope {
    /// The one customer in scope, or `None` for all.
    pub fn customer_id(&self) -> Option<Uuid> {
        match self {
            Self::Tenant(c) | Self::Customer(c) => Some(c.id),
            Self::All => None,
        }
    }

    pub fn admin_mode(&self) -> bool {
        !matches!(self, Self::Tenant(_))
    }

    /// The filter on a table's `customer_id` column.
    pub fn condition(&self, column: impl ColumnTrait) -> Condition {
        match self.customer_id() {
            Some(id) => Condition::all().add(column.eq(id)),
            None => Condition::all(),
        }
    }

    /// A stable key for caches.
    pub fn key(&self) -> String {
        match self {
            Self::All => "all".into(),
            Self::Tenant(c) | Self::Customer(c) => c.id.to_string(),
        }
    }

    pub fn info(&self) -> ScopeInfo {
        let (mode, customer) = match self {
            Self::Tenant(c) => ("tenant", Some(c)),
            Self::All => ("all", None),
            Self::Customer(c) => ("customer", Some(c)),
        };
        ScopeInfo {
            mode: mode.into(),
            admin_mode: self.admin_mode(),
            customer_id: customer.map(|c| c.id.into()),
            customer_name: customer.map(|c| c.name.clone()),
        }
    }
}

/// What the request asked for, before authorization.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Requested {
    Tenant,
    All,
    Customer(Uuid),
}

/// Parses a scope value: `tenant`, `all` or `customer:<uuid>`.
pub fn parse(value: &str) -> Option<Requested> {
    match value.trim() {
        "tenant" | "" => Some(Requested::Tenant),
        "all" => Some(Requested::All),
        other => other.strip_prefix("customer:").and_then(|id| Uuid::parse_str(id).ok()).map(Requested::Customer),
    }
}

pub(super) fn from_cookie(parts: &Parts) -> Option<String> {
    parts.headers.get_all(COOKIE).iter().filter_map(|v| v.to_str().ok()).flat_map(|v| v.split(';')).find_map(|pair| {
        let (name, value) = pair.trim().split_once('=')?;
        (name == COOKIE_NAME).then(|| value.replace("%3A", ":").replace("%3a", ":"))
    })
}

pub(super) fn denied() -> AppError {
    AppError::Forbidden {
        code: "cross_tenant_denied",
        detail: "Admin mode (other customers, or all of them) needs `steward.admin.cross_tenant`.".into(),
    }
}

impl FromRequestParts<AppState> for Scope {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let actor = Actor::from_request_parts(parts, state).await?;
        let (raw, explicit) = match parts.headers.get(HEADER) {
            Some(v) => (v.to_str().unwrap_or("\u{0}").to_owned(), true),
            None => (from_cookie(parts).unwrap_or_default(), false),
        };
        // An empty header is not a scope (an empty cookie is: it was never chosen).
        let requested = match parse(&raw).filter(|_| !(explicit && raw.trim().is_empty())) {
            Some(r) => r,
            // A stale or garbled cookie falls back to the tenant; a bad header is the caller's error.
            None if !explicit => Requested::Tenant,
            None => {
                return Err(AppError::Validation(vec![steward_shared::problem::FieldError {
                    field: "X-Steward-Scope".into(),
                    message: "must be `tenant`, `all` or `customer:<uuid>`".into(),
                }]))
            }
        };
        match resolve(state, &actor, requested).await {
            Err(AppError::Forbidden { code: "cross_tenant_denied", .. } | AppError::NotFound(_)) if !explicit => {
                resolve(state, &actor, Requested::Tenant).await
            }
            other => other,
        }
    }
}

/// Authorizes a requested scope for `actor`.
pub async fn resolve(state: &AppState, actor: &Actor, requested: Requested) -> Result<Scope, AppError> {
    // The principal's query read the actor's customer already; an actor built another way
    // looks it up.
    let own = || async {
        if let Some(names) = actor.names.as_ref().filter(|n| n.customer.id == actor.customer_id()) {
            return Ok(names.customer.clone());
        }
        customers::Entity::find_by_id(actor.customer_id())
            .one(&state.db)
            .await?
            .ok_or_else(|| AppError::internal("user without customer"))
    };
    match requested {
        Requested::Tenant => Ok(Scope::Tenant(own().await?)),
        Requested::Customer(id) if id == actor.customer_id() && !actor.cross_tenant() => {
            Ok(Scope::Tenant(own().await?))
        }
        _ if !actor.cross_tenant() => Err(denied()),
        Requested::All => Ok(Scope::All),
        Requested::Customer(id) => customers::Entity::find_by_id(id)
            .one(&state.db)
            .await?
            .map(Scope::Customer)
            .ok_or_else(|| AppError::NotFound("No such customer.".into())),
    }
}
