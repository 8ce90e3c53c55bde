//! The one authorization check. Every route declares what it needs once, as the security
//! requirement of its `#[utoipa::path]`; [`crate::api::contract`] turns the generated spec into
//! a route table, and [`authorize`] checks each request against it before any handler runs.

use std::collections::HashMap;
use std::sync::Arc;

use crate::http::error::AppError;
use crate::identity::principal::authenticate;
use crate::state::AppState;
use axum::extract::{MatchedPath, Request, State};
use axum::http::Method;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use steward_shared::permissions::Requirement;

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
    if !crate::identity::two_factor::ALLOWED_UNTIL_ENROLLED.contains(&rule.operation_id.as_str()) {
        match crate::identity::two_factor::blocked(&state, &actor).await {
            Ok(false) => {}
            Ok(true) => {
                let detail = if actor.session.is_some() {
                    "This instance requires 2FA of admins: enrol at POST /api/me/2fa/enrol, then verify a code."
                } else {
                    "This instance requires 2FA of admins, and this token's owner has not enrolled: sign in with \
                     your password, enrol at POST /api/me/2fa/enrol and verify a code; the token works again after."
                };
                return AppError::Forbidden { code: "two_factor_required", detail: detail.into() }.into_response();
            }
            Err(err) => return err.into_response(),
        }
    }
    if let Some(leaf) = rule.requirement.leaf() {
        let super_admin_only = matches!(rule.requirement, Requirement::SuperAdmin(_));
        let refusal = if super_admin_only && !actor.super_admin_throughout() {
            Some(AppError::Forbidden {
                code: "super_admin_required",
                detail: format!(
                    "This is a super-admin page's operation (`{leaf}`); no role can grant it{}.",
                    if actor.impersonator.is_some() { ", and not while viewing as someone" } else { "" }
                ),
            })
        } else if !rule.leaves.iter().any(|l| actor.holds(l)) {
            Some(AppError::missing_leaf(leaf))
        } else {
            None
        };
        if let Some(refusal) = refusal {
            let meta = crate::http::request_meta::RequestMeta::of(req.extensions(), req.headers());
            let event = crate::audit::chain::Event::new("access.denied", "refused")
                .by(&actor)
                .target("operation", &rule.operation_id)
                .summary(serde_json::json!({ "needs": rule.requirement.x_permission() }));
            // A refusal is answered even if recording it fails; the failure is logged.
            let recorded = async {
                let txn = sea_orm::TransactionTrait::begin(&state.db).await?;
                crate::audit::chain::append(&txn, &meta, event).await?;
                txn.commit().await.map_err(AppError::from)
            };
            if let Err(e) = recorded.await {
                tracing::error!(error = %e, "could not record a refused request");
            }
            return refusal.into_response();
        }
    }
    actor.route_leaves = rule.leaves.clone();
    req.extensions_mut().insert(actor);
    next.run(req).await
}
