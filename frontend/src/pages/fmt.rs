//! Small formatting helpers shared by the list pages.

use chrono::{DateTime, Utc};
use leptos::prelude::*;

/// The browser's clock (chrono's own clock is not available on wasm32-unknown-unknown).
pub fn now() -> DateTime<Utc> {
    DateTime::from_timestamp_millis(js_sys::Date::now() as i64).unwrap_or_default()
}

pub fn when(t: Option<DateTime<Utc>>) -> String {
    t.map(|t| t.format("%b %d, %H:%M").to_string()).unwrap_or_else(|| "—".into())
}

pub fn duration(ms: Option<i64>) -> String {
    match ms {
        None => "—".into(),
        Some(ms) if ms < 1000 => format!("{ms} ms"),
        Some(ms) if ms < 60_000 => format!("{:.1} s", ms as f64 / 1000.0),
        Some(ms) => format!("{}m {}s", ms / 60_000, (ms % 60_000) / 1000),
    }
}

/// The first 8 characters of an id, with the whole id on hover.
pub fn short_id(id: String) -> impl IntoView {
    let short: String = id.chars().take(8).collect();
    view! { <span class="mono" title=id>{short}</span> }
}

/// A coloured status pill.
pub fn pill(value: String) -> impl IntoView {
    let class = match value.as_str() {
        "succeeded" | "healthy" | "active" | "published" => "badge badge-ok",
        "failed" | "down" => "badge badge-bad",
        "degraded" | "paused" | "queued" => "badge badge-warn",
        "running" | "cancelling" => "badge badge-info",
        _ => "badge",
    };
    view! { <span class=class>{value}</span> }
}

/// Whether the signed-in principal holds a leaf (super admins hold all).
pub fn holds(leaf: &str) -> bool {
    crate::auth::use_auth()
        .me
        .with_untracked(|me| me.as_ref().is_some_and(|m| m.super_admin || m.permissions.iter().any(|p| p == leaf)))
}

/// Whether this session is viewing as another user (destructive actions then need typing).
pub fn impersonating() -> bool {
    crate::auth::use_auth().me.with(|me| me.as_ref().is_some_and(|m| m.impersonation.is_some()))
}
