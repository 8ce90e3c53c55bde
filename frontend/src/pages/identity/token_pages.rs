//! The pages a mailed link opens, without a session: set a password with a reset token, and
//! accept an invitation (choose a name and password, then land signed in).

use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::hooks::{use_navigate, use_query_map};

use crate::api::{self, ApiError};
use crate::components::form::{ErrorBanner, Field};

fn token() -> Signal<String> {
    let query = use_query_map();
    Signal::derive(move || query.with(|q| q.get("token").unwrap_or_default()))
}

#[component]
pub fn ResetPasswordPage() -> impl IntoView {
    let token = token();
    let password = RwSignal::new(String::new());
    let error = RwSignal::new(None::<ApiError>);
    let done = RwSignal::new(false);
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let (t, p) = (token.get_untracked(), password.get_untracked());
        spawn_local(async move {
            match api::complete_password_reset(&t, &p).await {
                Ok(()) => done.set(true),
                Err(e) => error.set(Some(e)),
            }
        });
    };
    view! {
        <div class="auth-page">
            <form class="card auth-card" on:submit=submit novalidate>
                <div class="auth-brand"><span class="brand-mark">"S"</span>"Steward"</div>
                <h1>"Set your password"</h1>
                {move || if done.get() {
                    view! {
                        <div class="banner banner-ok" role="status">"Your password is set. Every earlier session was signed out."</div>
                        <a class="btn btn-primary btn-block" href="/login">"Sign in"</a>
                    }.into_any()
                } else {
                    view! {
                        <p class="muted">"At least 12 characters. The link works once."</p>
                        <ErrorBanner error=error.into()/>
                        <Field label="New password" name="password" kind="password" value=password error=error autocomplete="new-password" autofocus=true/>
                        <button class="btn btn-primary btn-block" type="submit">"Set password"</button>
                    }.into_any()
                }}
            </form>
        </div>
    }
}

#[component]
pub fn AcceptInvitationPage() -> impl IntoView {
    let token = token();
    let name = RwSignal::new(String::new());
    let password = RwSignal::new(String::new());
    let error = RwSignal::new(None::<ApiError>);
    let navigate = use_navigate();
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let (t, n, p) = (token.get_untracked(), name.get_untracked(), password.get_untracked());
        let navigate = navigate.clone();
        spawn_local(async move {
            match api::accept_invitation(&t, &n, &p).await {
                Ok(()) => navigate("/account", Default::default()),
                Err(e) => error.set(Some(e)),
            }
        });
    };
    view! {
        <div class="auth-page">
            <form class="card auth-card" on:submit=submit novalidate>
                <div class="auth-brand"><span class="brand-mark">"S"</span>"Steward"</div>
                <h1>"Join Steward"</h1>
                <p class="muted">"You were invited. Choose the name others will see and a password."</p>
                <ErrorBanner error=error.into()/>
                <Field label="Your name" name="name" value=name error=error autocomplete="name" autofocus=true/>
                <Field label="Password" name="password" kind="password" value=password error=error autocomplete="new-password" hint="At least 12 characters."/>
                <button class="btn btn-primary btn-block" type="submit">"Create my account"</button>
            </form>
        </div>
    }
}
