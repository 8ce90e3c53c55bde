//! A modal confirmation on the native `<dialog>`: focus moves into it, Escape closes it.

use leptos::html;
use leptos::prelude::*;

/// Opens while `open` is true. `on_confirm` runs on the confirm button.
#[component]
pub fn ConfirmDialog(
    open: RwSignal<bool>,
    title: &'static str,
    #[prop(into)] message: Signal<String>,
    confirm_label: &'static str,
    /// Called with the typed confirmation (the name, while impersonating) or `None`.
    on_confirm: Callback<Option<String>>,
    #[prop(optional)] danger: bool,
    /// While impersonating: the exact name the admin must type to confirm.
    #[prop(optional, into)]
    typed_name: Signal<Option<String>>,
) -> impl IntoView {
    let dialog = NodeRef::<html::Dialog>::new();
    let typed = RwSignal::new(String::new());
    let matches = move || typed_name.get().is_none_or(|name| typed.get() == name);
    Effect::new(move |_| {
        let Some(el) = dialog.get() else { return };
        if open.get() {
            typed.set(String::new());
            if !el.open() {
                let _ = el.show_modal();
            }
        } else if el.open() {
            el.close();
        }
    });
    view! {
        <dialog node_ref=dialog class="dialog" on:close=move |_| open.set(false) aria-labelledby="dialog-title">
            <h2 id="dialog-title">{title}</h2>
            <p>{move || message.get()}</p>
            {move || typed_name.get().map(|name| view! {
                <div class="field typed-confirm">
                    <label for="typed-confirm">"You are impersonating. Type " <strong>{name.clone()}</strong> " to confirm."</label>
                    <input id="typed-confirm" autocomplete="off" prop:value=move || typed.get()
                        on:input=move |ev| typed.set(event_target_value(&ev))/>
                </div>
            })}
            <div class="dialog-actions">
                <button class="btn" on:click=move |_| open.set(false)>"Cancel"</button>
                <button
                    class=if danger { "btn btn-danger" } else { "btn btn-primary" }
                    disabled=move || !matches()
                    on:click=move |_| {
                        open.set(false);
                        on_confirm.run(typed_name.get_untracked());
                    }
                >
                    {confirm_label}
                </button>
            </div>
        </dialog>
    }
}
