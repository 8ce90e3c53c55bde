//! Inline SVG icons (no icon font, no emoji: they render the same on every machine).

use leptos::prelude::*;

/// A 16×16 stroked icon by name: `lock`, `key`, `pulse`, `home`, `book`.
#[component]
pub fn Icon(name: &'static str) -> impl IntoView {
    let path = match name {
        "lock" => "M4.5 7V5a3.5 3.5 0 0 1 7 0v2M3.5 7h9v6.5h-9z",
        "key" => {
            "M10 2.5a3.5 3.5 0 1 1-2.9 5.45L2.5 12.5V14h2v-1.5h1.5V11h1.5l1.05-1.05A3.5 3.5 0 0 1 10 2.5zm.75 2.25h.01"
        }
        "pulse" => "M1.5 8h3l1.5-4 3 8 1.5-4h4",
        "home" => "M2.5 7.5 8 3l5.5 4.5V13a.5.5 0 0 1-.5.5H9.5V10h-3v3.5H3a.5.5 0 0 1-.5-.5z",
        "shield" => "M8 1.75 13 3.5v4c0 3.2-2.1 5.6-5 6.75C5.1 13.1 3 10.7 3 7.5v-4z",
        "refresh" => "M13 3v3.5H9.5M3 13V9.5h3.5M12.6 6.5A5 5 0 0 0 3.7 5M3.4 9.5a5 5 0 0 0 8.9 1.5",
        "flow" => "M3 4h4v3H3zM9 9h4v3H9zM5 7v2.5h4",
        "play" => "M5 3.5v9l7-4.5z",
        "plug" => "M6 2v3M10 2v3M4.5 5h7v2.5a3.5 3.5 0 0 1-7 0zM8 11v3",
        "database" => "M3 4c0-1 2.2-1.75 5-1.75S13 3 13 4v8c0 1-2.2 1.75-5 1.75S3 13 3 12zM3 4c0 1 2.2 1.75 5 1.75S13 5 13 4M3 8c0 1 2.2 1.75 5 1.75S13 9 13 8",
        "user" => "M8 8a2.75 2.75 0 1 0 0-5.5A2.75 2.75 0 0 0 8 8zM2.75 14c.5-2.6 2.6-4 5.25-4s4.75 1.4 5.25 4",
        "users" => "M6 7.5a2.25 2.25 0 1 0 0-4.5 2.25 2.25 0 0 0 0 4.5zM1.75 13c.4-2.2 2.1-3.5 4.25-3.5s3.85 1.3 4.25 3.5M10.5 3.2a2.25 2.25 0 0 1 0 4.1M12.25 9.8c1 .5 1.7 1.6 2 3.2",
        "mail" => "M2 4h12v8.5H2zM2 4.5l6 4.5 6-4.5",
        "monitor" => "M2 3h12v8H2zM6 14h4M8 11v3",
        "chart" => "M2.5 13.5h11M4 11l3-4 2.5 2.5L13 4.5",
        "list" => "M5.5 4h8M5.5 8h8M5.5 12h8M2.5 4h.01M2.5 8h.01M2.5 12h.01",
        "sliders" => "M3 4h6M11 4h2M3 8h2M7 8h6M3 12h7M12 12h1M9 2.5v3M5 6.5v3M10 10.5v3",
        "book" => "M3 2.5h7.5a2 2 0 0 1 2 2v9H5a2 2 0 0 1-2-2zm0 9a2 2 0 0 1 2-2h7.5",
        "layers" => "M8 2l6 3-6 3-6-3zM2 8l6 3 6-3M2 11l6 3 6-3",
        "alert" => "M8 2.5l6 11H2zM8 6.5v3M8 11.5h.01",
        "box" => "M2.5 4.5 8 2l5.5 2.5v7L8 14l-5.5-2.5zM2.5 4.5 8 7l5.5-2.5M8 7v7",
        "bug" => "M5.5 5.5h5v5a2.5 2.5 0 0 1-5 0zM6 5.5a2 2 0 0 1 4 0M2.5 8h3M10.5 8h3M3 4.5l2.5 1.5M13 4.5 10.5 6M3 12.5l2.5-1.5M13 12.5 10.5 11",
        "package" => "M2.5 5h11v8.5h-11zM2 2.5h12V5H2zM6.5 7.5h3",
        "power" => "M8 1.5v6M4.4 3.9a5 5 0 1 0 7.2 0",
        "menu" => "M2.5 4h11M2.5 8h11M2.5 12h11",
        "building" => "M3 14V2.5h7V14M10 6h3v8M1.5 14h13M5 5h1.5M5 8h1.5M5 11h1.5M7.5 5H9M7.5 8H9",
        "grid" => "M2.5 2.5h11v11h-11zM2.5 6.5h11M2.5 10h11M6.5 2.5v11",
        _ => "M8 8h.01",
    };
    view! {
        <svg class="icon" viewBox="0 0 16 16" width="16" height="16" aria-hidden="true" fill="none"
            stroke="currentColor" stroke-width="1.5" stroke-linecap="round" stroke-linejoin="round">
            <path d=path/>
        </svg>
    }
}
