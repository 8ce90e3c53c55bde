//! Form fields and the error banner: every server problem is shown, field errors beside their field.

use leptos::prelude::*;

use crate::api::ApiError;

/// A labelled input bound to a signal, with the server's message for this field under it.
#[component]
pub fn Field(
    label: &'static str,
    name: &'static str,
    value: RwSignal<String>,
    error: RwSignal<Option<ApiError>>,
    #[prop(default = "text")] kind: &'static str,
    #[prop(default = "off")] autocomplete: &'static str,
    #[prop(optional)] hint: &'static str,
    #[prop(optional)] autofocus: bool,
) -> impl IntoView {
    let message = move || error.get().and_then(|e| e.field(name));
    let id = format!("field-{name}");
    view! {
        <div class="field" class:invalid=move || message().is_some()>
            <label for=id.clone()>{label}</label>
            <input
                id=id
                name=name
                type=kind
                autocomplete=autocomplete
                autofocus=autofocus
                aria-invalid=move || if message().is_some() { "true" } else { "false" }
                bind:value=value
            />
            {move || match message() {
                Some(m) => view! { <p class="field-error">{m}</p> }.into_any(),
                None if !hint.is_empty() => view! { <p class="field-hint">{hint}</p> }.into_any(),
                None => ().into_any(),
            }}
        </div>
    }
}

/// The server's problem, as a banner: its detail, and the request id for support.
#[component]
pub fn ErrorBanner(error: Signal<Option<ApiError>>) -> impl IntoView {
    move || {
        error.get().map(|e| {
            let request_id = e.0.request_id.clone();
            view! {
                <div class="banner banner-error" role="alert">
                    <strong>{e.0.title.clone()}</strong>
                    <span>{e.message()}</span>
                    {request_id.map(|id| view! { <span class="request-id">"Request " {id}</span> })}
                </div>
            }
        })
    }
}

/// A centered spinner with a label.
#[component]
pub fn Loading(#[prop(default = "Loading…")] label: &'static str) -> impl IntoView {
    view! {
        <div class="loading" role="status" aria-live="polite">
            <span class="spinner"></span>
            <span>{label}</span>
        </div>
    }
}
