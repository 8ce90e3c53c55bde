//! First launch: "Create admin account".

use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::components::Redirect;
use leptos_router::hooks::use_navigate;
use steward_shared::api::SetupRequest;

use crate::api::{self, ApiError};
use crate::components::form::{ErrorBanner, Field, Loading};

#[component]
pub fn SetupPage() -> impl IntoView {
    let status = LocalResource::new(api::setup_status);
    view! {
        <div class="auth-page">
            <Suspense fallback=|| view! { <Loading/> }>
                {move || Suspend::new(async move {
                    match status.await {
                        Ok(s) if !s.needs_setup => view! { <Redirect path="/login"/> }.into_any(),
                        Ok(_) => view! { <SetupForm/> }.into_any(),
                        Err(e) => view! { <ErrorBanner error=Signal::derive(move || Some(e.clone()))/> }.into_any(),
                    }
                })}
            </Suspense>
        </div>
    }
}

#[component]
fn SetupForm() -> impl IntoView {
    let name = RwSignal::new(String::new());
    let email = RwSignal::new(String::new());
    let password = RwSignal::new(String::new());
    let organization = RwSignal::new(String::from("Platform"));
    let error = RwSignal::new(None::<ApiError>);
    let busy = RwSignal::new(false);
    let navigate = use_navigate();
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if busy.get() {
            return;
        }
        busy.set(true);
        error.set(None);
        let request = SetupRequest {
            email: email.get(),
            password: password.get(),
            name: name.get(),
            organization: Some(organization.get()),
        };
        let navigate = navigate.clone();
        spawn_local(async move {
            match api::complete_setup(&request).await {
                Ok(()) => navigate("/", Default::default()),
                Err(e) => error.set(Some(e)),
            }
            busy.set(false);
        });
    };
    view! {
        <form class="card auth-card" on:submit=submit novalidate>
            <div class="auth-brand"><span class="brand-mark">"S"</span>"Steward"</div>
            <h1>"Create admin account"</h1>
            <p class="muted">"Steward has no users yet. This first account is a super admin of the platform organization."</p>
            <ErrorBanner error=error.into()/>
            <Field label="Your name" name="name" value=name error=error autocomplete="name" autofocus=true/>
            <Field label="Email" name="email" kind="email" value=email error=error autocomplete="email"/>
            <Field label="Password" name="password" kind="password" value=password error=error
                autocomplete="new-password" hint="At least 12 characters."/>
            <Field label="Organization" name="organization" value=organization error=error
                autocomplete="organization" hint="The platform customer your staff belong to."/>
            <button class="btn btn-primary btn-block" type="submit" disabled=move || busy.get()>
                {move || if busy.get() { "Creating…" } else { "Create admin account" }}
            </button>
        </form>
    }
}
