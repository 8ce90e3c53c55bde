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
    on_confirm: Callback<()>,
    #[prop(optional)] danger: bool,
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
    view! {
        <dialog node_ref=dialog class="dialog" on:close=move |_| open.set(false) aria-labelledby="dialog-title">
            <h2 id="dialog-title">{title}</h2>
            <p>{move || message.get()}</p>
            <div class="dialog-actions">
                <button class="btn" on:click=move |_| open.set(false)>"Cancel"</button>
                <button
                    class=if danger { "btn btn-danger" } else { "btn btn-primary" }
                    autofocus=true
                    on:click=move |_| {
                        open.set(false);
                        on_confirm.run(());
                    }
                >
                    {confirm_label}
                </button>
            </div>
        </dialog>
    }
}
