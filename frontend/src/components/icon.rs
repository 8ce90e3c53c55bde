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
        "book" => "M3 2.5h7.5a2 2 0 0 1 2 2v9H5a2 2 0 0 1-2-2zm0 9a2 2 0 0 1 2-2h7.5",
        _ => "M8 8h.01",
    };
    view! {
        <svg class="icon" viewBox="0 0 16 16" width="16" height="16" aria-hidden="true" fill="none"
            stroke="currentColor" stroke-width="1.5" stroke-linecap="round" stroke-linejoin="round">
            <path d=path/>
        </svg>
    }
}
