//! "View as": the reason dialog that starts an impersonation, and the amber banner that
//! stays on every page while one is active.

use leptos::html;
use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::api::{self, ApiError};
use crate::auth::use_auth;
use crate::components::form::ErrorBanner;
use crate::scope::use_scope;

/// Asks for the reason, then starts viewing as `target` (id, name) and reloads scoped to them.
#[component]
pub fn ViewAsDialog(target: RwSignal<Option<(String, String)>>) -> impl IntoView {
    let dialog = NodeRef::<html::Dialog>::new();
    let reason = RwSignal::new(String::new());
    let error = RwSignal::new(None::<ApiError>);
    let scope = use_scope();
    Effect::new(move |_| {
        let Some(el) = dialog.get() else { return };
        if target.get().is_some() {
            reason.set(String::new());
            error.set(None);
            if !el.open() {
                let _ = el.show_modal();
            }
        } else if el.open() {
            el.close();
        }
    });
    let start = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let Some((id, _)) = target.get_untracked() else { return };
        let why = reason.get_untracked();
        spawn_local(async move {
            match api::start_impersonation(&id, &why).await {
                Ok(_) => {
                    // The app reloads scoped to the target (seed 000): no page of the admin's
                    // stays mounted to refetch as them.
                    scope.enter_view_as();
                    reload_home();
                }
                Err(e) => error.set(Some(e)),
            }
        });
    };
    view! {
        <dialog node_ref=dialog class="dialog" on:close=move |_| target.set(None) aria-labelledby="view-as-title">
            <form on:submit=start>
                <h2 id="view-as-title">{move || format!("View as {}", target.get().map(|t| t.1).unwrap_or_default())}</h2>
                <p>"You stay signed in as yourself; every action is recorded with both names. Impersonation ends after an hour."</p>
                <ErrorBanner error=error.into()/>
                <div class="field">
                    <label for="view-as-reason">"Reason"</label>
                    <input id="view-as-reason" autofocus=true prop:value=move || reason.get()
                        on:input=move |ev| reason.set(event_target_value(&ev)) placeholder="Ticket number or why"/>
                    {move || error.get().and_then(|e| e.field("reason")).map(|m| view! { <p class="field-error">{m}</p> })}
                </div>
                <div class="dialog-actions">
                    <button class="btn" type="button" on:click=move |_| target.set(None)>"Cancel"</button>
                    <button class="btn btn-amber" type="submit">"Start viewing"</button>
                </div>
            </form>
        </dialog>
    }
}

/// The persistent amber banner while impersonating, with Exit.
#[component]
pub fn ImpersonationBanner() -> impl IntoView {
    let auth = use_auth();
    let scope = use_scope();
    let error = RwSignal::new(None::<ApiError>);
    let exit = move |_| {
        spawn_local(async move {
            match api::exit_impersonation().await {
                Ok(_) => {
                    scope.exit_view_as();
                    reload_home();
                }
                Err(e) => error.set(Some(e)),
            }
        });
    };
    move || {
        auth.me.get().and_then(|me| me.impersonation).map(|imp| {
            view! {
                <div class="impersonation" role="status" data-testid="impersonation-banner">
                    <span class="impersonation-text">
                        "Impersonating customer " <strong>{imp.customer_name.clone()}</strong>
                        " as user " <strong>{imp.target_name.clone()}</strong>
                        <span class="impersonation-meta">
                            {format!(" · {} · signed in as {} · until {}", imp.reason, imp.real_user_email, imp.expires_at.format("%H:%M UTC"))}
                        </span>
                    </span>
                    <button class="btn btn-small" on:click=exit>"Exit"</button>
                    <ErrorBanner error=error.into()/>
                </div>
            }
        })
    }
}

/// Reloads the console at its home page.
fn reload_home() {
    if let Some(window) = web_sys::window() {
        let _ = window.location().assign("/");
    }
}
