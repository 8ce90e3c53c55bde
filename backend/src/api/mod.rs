//! Assembles the application: every area's routes behind the one authorization gate, the
//! contract (spec and docs), and the single-page app.

pub mod contract;
pub mod examples;
pub mod gate;
pub mod measure;
use axum::extract::DefaultBodyLimit;
use axum::middleware::{from_fn, from_fn_with_state};
use axum::response::IntoResponse;
use axum::Router;
use std::sync::Arc;
use tower_http::compression::predicate::{NotForContentType, Predicate, SizeAbove};
use tower_http::compression::{CompressionLayer, CompressionLevel};
use utoipa_swagger_ui::SwaggerUi;

use self::gate::authorize;
use crate::http::error::AppError;
use crate::state::AppState;

/// Largest accepted request body.
pub const BODY_LIMIT: usize = 1024 * 1024;

/// Answers smaller than this go out as they are: compressing them saves no round trip.
pub const COMPRESS_ABOVE: u64 = 1024;

/// Brotli or gzip by `Accept-Encoding` (with `Vary`), for answers above [`COMPRESS_ABOVE`] bytes:
/// JSON lists, the spec, CSV exports, the console from disk. Never the event streams (a line must
/// leave when it is written, not when a compressor's block fills), images, or what is compressed
/// already (the embedded console carries its own `Content-Encoding`). Level 4: a list of a few
/// hundred kilobytes compresses in about a millisecond, at most of brotli 11's ratio.
fn compression() -> CompressionLayer<impl Predicate> {
    let predicate = SizeAbove::new(COMPRESS_ABOVE)
        .and(NotForContentType::GRPC)
        .and(NotForContentType::IMAGES)
        .and(NotForContentType::SSE);
    CompressionLayer::new().no_deflate().no_zstd().quality(CompressionLevel::Precise(4)).compress_when(predicate)
}

/// The whole application. Fails when a route lacks a valid permission declaration.
pub fn app(state: AppState) -> anyhow::Result<Router> {
    let (api, openapi) = contract::routes().split_for_parts();
    let contract = contract::contract(openapi).map_err(|e| anyhow::anyhow!("the API contract is invalid: {e}"))?;
    let operations =
        contract.table.values().map(|r| (r.operation_id.clone(), (r.requirement, r.leaves.clone()))).collect();
    // The same state may serve several routers (tests); the table is the same for all.
    let _ = state.operations.set(operations);
    let mut names = std::collections::HashMap::<String, Vec<_>>::new();
    for ((method, path), rule) in &contract.table {
        names.entry(path.clone()).or_default().push((method.clone(), rule.operation_id.clone()));
    }
    let names: measure::OperationNames = Arc::new(names);
    let table = Arc::new(contract.table);
    let assets = state.config.assets_dir.clone();
    let router = api
        .route_layer(from_fn_with_state((state.clone(), table), authorize))
        .merge(SwaggerUi::new("/api/docs").external_url_unchecked("/api/openapi.json", contract.spec))
        .fallback(move |req| crate::http::spa::fallback(assets.clone(), req))
        .method_not_allowed_fallback(|| async {
            AppError::MethodNotAllowed("This endpoint does not accept that method.".into()).into_response()
        })
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .layer(compression())
        .layer(axum::Extension(state.audit_keys.clone()));
    // Inside the request id (so an API error's log line carries it), around everything else.
    let router = if state.telemetry.enabled {
        router.layer(from_fn_with_state((state.clone(), names), measure::measure))
    } else {
        router
    };
    // The sign-in lane inside the request id (its refusals carry one), in front of the rest: a
    // request refused there costs no more than parsing its head.
    let router = router.layer(from_fn_with_state(state.clone(), sign_in_lane));
    Ok(router.layer(from_fn(crate::http::request_id::middleware)).with_state(state))
}

/// Requests to [`crate::http::lane::PATHS`] take their turn in `state.sign_in_lane`; the rest pass.
async fn sign_in_lane(
    axum::extract::State(state): axum::extract::State<AppState>,
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    if req.method() != axum::http::Method::POST || !crate::http::lane::PATHS.contains(&req.uri().path()) {
        return next.run(req).await;
    }
    match state.sign_in_lane.admit().await {
        Ok(turn) => {
            let response = next.run(req).await;
            drop(turn);
            response
        }
        Err(e) => e.into_response(),
    }
}
