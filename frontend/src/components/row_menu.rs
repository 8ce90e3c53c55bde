//! A row's further actions behind a "More actions" button, so a row keeps one line: the menu
//! opens below the button (fixed to the window, so a table's scroll box does not clip it), the
//! first item takes focus, and Escape, a click elsewhere, a scroll or a chosen item close it.

use leptos::html;
use leptos::prelude::*;

#[component]
pub fn RowMenu(
    /// The button's accessible name, e.g. "More actions for ada@example.com".
    label: String,
    /// The items: `<button role="menuitem" class="row-menu-item">`s.
    children: ChildrenFn,
) -> impl IntoView {
    let open = RwSignal::new(false);
    let at = RwSignal::new((0.0, 0.0));
    let button = NodeRef::<html::Button>::new();
    let list = NodeRef::<html::Div>::new();
    let close = move || {
        if open.get_untracked() {
            open.set(false);
            if let Some(b) = button.get_untracked() {
                let _ = b.focus();
            }
        }
    };
    let toggle = move |_| {
        if open.get_untracked() {
            close();
            return;
        }
        if let Some(b) = button.get_untracked() {
            let r = b.get_bounding_client_rect();
            // Right-aligned under the button.
            at.set((r.bottom() + 4.0, (r.right() - 200.0).max(8.0)));
        }
        open.set(true);
    };
    // Focus the first item once the list is there.
    Effect::new(move |_| {
        if open.get() {
            if let Some(first) = list.get().and_then(|l| l.query_selector("[role=menuitem]").ok().flatten()) {
                use wasm_bindgen::JsCast;
                if let Ok(el) = first.dyn_into::<web_sys::HtmlElement>() {
                    let _ = el.focus();
                }
            }
        }
    });
    let on_scroll = window_event_listener(leptos::ev::scroll, move |_| open.set(false));
    let on_resize = window_event_listener(leptos::ev::resize, move |_| open.set(false));
    on_cleanup(move || {
        on_scroll.remove();
        on_resize.remove();
    });
    view! {
        <div class="row-menu" on:keydown=move |e| if e.key() == "Escape" { close() }>
            <button class="btn btn-small btn-ghost row-menu-button" node_ref=button aria-label=label
                aria-haspopup="menu" aria-expanded=move || open.get().to_string() on:click=toggle>
                "⋯"
            </button>
            <Show when=move || open.get()>
                <div class="row-menu-backdrop" on:click=move |_| open.set(false)></div>
                <div class="row-menu-list" role="menu" node_ref=list
                    style=move || { let (top, left) = at.get(); format!("top: {top}px; left: {left}px") }
                    on:click=move |_| open.set(false)>
                    {children()}
                </div>
            </Show>
        </div>
    }
}
