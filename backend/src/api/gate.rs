//! The one authorization check. Every route declares what it needs once, as the security
//! requirement of its `#[utoipa::path]`; [`crate::api::contract`] turns the generated spec into
//! a route table, and [`authorize`] checks each request against it before any handler runs.

use axum::extract::{MatchedPath, Request, State};
use axum::http::Method;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde_json::json;
use std::collections::HashMap;
use std::sync::Arc;
use steward_shared::permissions::Requirement;

use crate::access::confirm::{expected as expected_confirmation, path_params, ConfirmTarget, HEADER as CONFIRM_HEADER};
use crate::audit::Event;
use crate::http::error::{AppError, Refused, FOREIGN_ID};
use crate::http::request_id::refusal_audited;
use crate::http::request_meta::{RequestMeta, RequestOrigin};
use crate::identity::principal::authenticate;
use crate::state::AppState;

/// What one route needs, from its declaration in the spec.
#[derive(Debug, Clone)]
pub struct RouteRule {
    pub operation_id: String,
    pub requirement: Requirement,
    /// For a leaf requirement: the leaf, then the delegable console-page leaves that open it.
    pub leaves: Vec<&'static str>,
    /// For a destructive route: what must be typed to confirm it while impersonating.
    pub confirm: Option<ConfirmTarget>,
}

/// (method, path template) → rule; built from the spec.
pub type RouteTable = Arc<HashMap<(Method, String), RouteRule>>;

/// The single authorization check: runs before every API handler. Once a write request is
/// answered (before its answer leaves), the principals resolved before it are stale: the next
/// request reads its credential, user and grants again (`http::principals`).
pub async fn authorize(State((state, table)): State<(AppState, RouteTable)>, req: Request, next: Next) -> Response {
    let writes = !matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS);
    let principals = state.principals.clone();
    let response = check(state, table, req, next).await;
    // A throttled request, or one turned away busy, changed nothing. (A 401 may have: a reused
    // refresh credential ends its whole session and is answered 401.)
    let turned_away = matches!(response.status().as_u16(), 429 | 503);
    if writes && !turned_away {
        principals.changed();
    }
    response
}

async fn check(state: AppState, table: RouteTable, mut req: Request, next: Next) -> Response {
    let Some(path) = req.extensions().get::<MatchedPath>().map(|p| p.as_str().to_owned()) else {
        return next.run(req).await;
    };
    let method = if req.method() == Method::HEAD { Method::GET } else { req.method().clone() };
    // A route missing from the table is refused: nothing is reachable undeclared.
    let Some((matched, rule)) = table.get_key_value(&(method, path)).map(|((_, p), r)| (p.as_str(), r)) else {
        return AppError::Internal("route has no permission declaration".into()).into_response();
    };
    if rule.requirement == Requirement::Public {
        return next.run(req).await;
    }
    let mut actor = match authenticate(&state, req.headers()).await {
        Ok(actor) => actor,
        Err(err) => {
            // Anonymous: the authentication log, never the audit chain (a flood of forged
            // tokens costs a bounded channel, and a dropped-line counter once it is full).
            if req.headers().contains_key(axum::http::header::AUTHORIZATION) {
                let meta = RequestMeta::of(req.extensions(), req.headers());
                let mut line = meta.log_line("auth", "credential_refused", "warn", err.to_string());
                line.fields = json!({ "code": err.to_problem().type_, "operation": rule.operation_id });
                state.logs.emit(line);
            }
            return err.into_response();
        }
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
        let super_admin_only = rule.requirement.super_admin_only();
        let refusal = if actor.passes(&rule.requirement, &rule.leaves) {
            None
        } else if super_admin_only
            && !match rule.requirement {
                Requirement::SuperAdminView(_) => {
                    actor.impersonator.as_deref().unwrap_or(&actor).super_admin_throughout()
                }
                _ => actor.super_admin_throughout(),
            }
        {
            Some(AppError::Forbidden {
                code: "super_admin_required",
                detail: format!(
                    "This is a super-admin page's operation (`{leaf}`); no role can grant it{}.",
                    if actor.impersonator.is_some() { ", and not while viewing as someone" } else { "" }
                ),
            })
        } else {
            Some(AppError::missing_leaf(leaf))
        };
        if let Some(refusal) = refusal {
            let meta = RequestMeta::of(req.extensions(), req.headers());
            let event = Event::new("access.denied", "refused")
                .by(&actor)
                .target("operation", &rule.operation_id)
                .summary(json!({ "needs": rule.requirement.x_permission(), "code": refusal.refusal_code() }));
            return answered_and_recorded(&state, &meta, event, refusal.into_response()).await;
        }
    }
    actor.route_leaves = rule.leaves.clone();
    if let (Some(target), Some(_)) = (rule.confirm, &actor.impersonator) {
        let (parts, body) = req.into_parts();
        let bytes = match axum::body::to_bytes(body, crate::api::BODY_LIMIT).await {
            Ok(bytes) => bytes,
            Err(_) => {
                return AppError::PayloadTooLarge("The request body is larger than the server accepts.".into())
                    .into_response()
            }
        };
        let params = path_params(matched, parts.uri.path());
        let json = target.reads_body().then(|| serde_json::from_slice::<serde_json::Value>(&bytes).ok()).flatten();
        let expected = match expected_confirmation(&state.db, &actor, target, &params, json.as_ref()).await {
            Ok(expected) => expected,
            Err(err) => return err.into_response(),
        };
        if let Some(expected) = expected {
            let typed = parts.headers.get(CONFIRM_HEADER).map(|v| v.to_str().unwrap_or(""));
            let refusal = match typed {
                Some(typed) if typed == expected => None,
                None => Some(AppError::PreconditionRequired(format!(
                    "You are viewing as someone: to confirm, type {} (send it as X-Steward-Confirm).",
                    target.typed()
                ))),
                Some(_) => Some(AppError::field("X-Steward-Confirm", format!("is not {}", target.typed()))),
            };
            if let Some(refusal) = refusal {
                let meta = RequestMeta::of(&parts.extensions, &parts.headers);
                let event = Event::new("access.refused", "refused")
                    .by(&actor)
                    .target("operation", &rule.operation_id)
                    .summary(json!({ "code": refusal.refusal_code(), "confirm": target.id() }));
                return answered_and_recorded(&state, &meta, event, refusal.into_response()).await;
            }
        }
        req = Request::from_parts(parts, axum::body::Body::from(bytes));
    }
    // Who to name if the handler refuses: a refusal becomes an audit event here, once for every
    // handler, unless the handler recorded its own. Kept unformatted until a refusal needs it.
    let refused_by = Event::new("access.refused", "refused").by(&actor);
    let origin = RequestOrigin::capture(req.extensions(), req.headers());
    let is_read = req.method() == Method::GET || req.method() == Method::HEAD;
    req.extensions_mut().insert(actor);
    let response = next.run(req).await;
    match response.extensions().get::<Refused>().copied() {
        // A miss on a read is an ordinary answer; on a write it names a foreign or unknown id.
        Some(Refused(code)) if !ordinary_miss(is_read, code) && !refusal_audited() => {
            let status = response.status().as_u16();
            // Reading another tenant's thing by id is recorded, but a script walking ids must
            // not flood the chain: once a minute per principal and operation.
            let once_a_minute = is_read && code == FOREIGN_ID;
            if once_a_minute {
                let key = format!("foreign|{}|{}", refused_by.actor_user_id.unwrap_or_default(), rule.operation_id);
                let entry = state.audited_once_a_minute.entry(key).or_insert_with(async { Arc::default() }).await;
                if !entry.is_fresh() {
                    entry.value().fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    return response;
                }
            }
            let summary = match once_a_minute {
                true => json!({ "code": code, "status": status, "audited_once_per_seconds": 60 }),
                false => json!({ "code": code, "status": status }),
            };
            let event = refused_by.target("operation", &rule.operation_id).summary(summary);
            answered_and_recorded(&state, &origin.meta(), event, response).await
        }
        _ => response,
    }
}

fn ordinary_miss(is_read: bool, code: &str) -> bool {
    is_read && code == "not_found"
}

/// Appends the refusal's audit event, then gives the refusal; when the event cannot be written
/// the request fails (503) rather than being refused without a trace.
async fn answered_and_recorded(state: &AppState, meta: &RequestMeta, event: Event, refusal: Response) -> Response {
    let recorded = async {
        let txn = crate::store::begin(&state.db).await?;
        crate::audit::append(&txn, meta, event).await?;
        txn.commit().await.map_err(AppError::from)
    };
    match recorded.await {
        Ok(()) => refusal,
        Err(e) => {
            tracing::error!(error = %e, "could not record a refused request; answering 503");
            AppError::Unavailable(format!("recording a refusal failed: {e}")).into_response()
        }
    }
}
