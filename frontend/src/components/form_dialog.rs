//! A modal form on the native `<dialog>` (focus moves into it, Escape closes it), and an id shown
//! whole with a button that copies it.

use leptos::html;
use leptos::prelude::*;

use crate::api::ApiError;
use crate::components::form::ErrorBanner;

/// Opens while `open` is true; the submit button runs `on_submit`, which closes it on success
/// (set `open` false) or leaves the server's problem in `error` (shown on top, and by field).
#[component]
pub fn FormDialog(
    open: RwSignal<bool>,
    #[prop(into)] title: Signal<String>,
    submit_label: &'static str,
    error: RwSignal<Option<ApiError>>,
    busy: RwSignal<bool>,
    on_submit: Callback<()>,
    children: Children,
) -> impl IntoView {
    let dialog = NodeRef::<html::Dialog>::new();
    Effect::new(move |_| {
        let Some(el) = dialog.get() else { return };
        if open.get() {
            if !el.open() {
                let _ = el.show_modal();
            }
        } else if el.open() {
            el.close();
        }
    });
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if !busy.get_untracked() {
            on_submit.run(());
        }
    };
    view! {
        <dialog node_ref=dialog class="dialog" on:close=move |_| open.set(false) aria-label=move || title.get()>
            <form on:submit=submit>
                <h2>{move || title.get()}</h2>
                <ErrorBanner error=error.into()/>
                {children()}
                <div class="dialog-actions">
                    <button class="btn" type="button" on:click=move |_| open.set(false)>"Cancel"</button>
                    <button class="btn btn-primary" type="submit" disabled=move || busy.get()>{submit_label}</button>
                </div>
            </form>
        </dialog>
    }
}

/// An id in full (detail views only; lists show names), with a button that copies it.
#[component]
pub fn CopyId(id: String) -> impl IntoView {
    let copied = RwSignal::new(false);
    let text = id.clone();
    let copy = move |_| {
        let text = text.clone();
        let clipboard = web_sys::window().map(|w| w.navigator().clipboard());
        if let Some(c) = clipboard {
            let promise = c.write_text(&text);
            leptos::task::spawn_local(async move {
                if wasm_bindgen_futures::JsFuture::from(promise).await.is_ok() {
                    copied.set(true);
                    set_timeout(move || copied.set(false), std::time::Duration::from_secs(2));
                }
            });
        }
    };
    view! {
        <span class="copy-id">
            <code class="mono" data-testid="copy-id">{id}</code>
            <button class="btn btn-small btn-ghost" type="button" on:click=copy aria-label="Copy the id">
                {move || if copied.get() { "Copied" } else { "Copy" }}
            </button>
        </span>
    }
}
