//! Serves the built single-page app: files from the assets dir, `index.html` for deep links,
//! and problem-shaped 404s for anything under `/api`.

use axum::extract::Request;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use std::path::PathBuf;
use tower::ServiceExt;
use tower_http::services::{ServeDir, ServeFile};

use crate::http::error::AppError;

/// The fallback of the whole router.
pub async fn fallback(assets: PathBuf, req: Request) -> Response {
    let path = req.uri().path();
    if path == "/api" || path.starts_with("/api/") {
        return AppError::NotFound(format!("There is no API endpoint at {path}.")).into_response();
    }
    let index = assets.join("index.html");
    if !index.exists() {
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            Html(format!(
                "<!doctype html><title>Steward</title><h1>The console is not built</h1>\
                 <p>No <code>{}</code>. Build it with <code>trunk build --release</code> (the README's start command does this).</p>\
                 <p>The API is up: <a href=\"/api/docs\">/api/docs</a>.</p>",
                index.display()
            )),
        )
            .into_response();
    }
    let serve = ServeDir::new(&assets).fallback(ServeFile::new(&index));
    let is_asset = path.rsplit('/').next().is_some_and(|last| last.contains('.')) && path != "/index.html";
    match serve.oneshot(req).await {
        Ok(response) => {
            let mut response = response.into_response();
            // Trunk hashes asset names, so they can be cached for good; index.html never.
            let cache = if is_asset && response.status().is_success() {
                "public, max-age=31536000, immutable"
            } else {
                "no-cache"
            };
            response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
            response
        }
        Err(never) => match never {},
    }
}
