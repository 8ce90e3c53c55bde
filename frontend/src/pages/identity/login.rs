//! Sign in.

use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::components::Redirect;
use leptos_router::hooks::use_navigate;
use steward_shared::api::LoginRequest;

use crate::api::{self, ApiError};
use crate::components::form::{ErrorBanner, Field, Loading};

#[component]
pub fn LoginPage() -> impl IntoView {
    let status = LocalResource::new(api::setup_status);
    view! {
        <div class="auth-page">
            <Suspense fallback=|| view! { <Loading/> }>
                {move || Suspend::new(async move {
                    match status.await {
                        Ok(s) if s.needs_setup => view! { <Redirect path="/setup"/> }.into_any(),
                        _ => view! { <LoginForm/> }.into_any(),
                    }
                })}
            </Suspense>
        </div>
    }
}

#[component]
fn LoginForm() -> impl IntoView {
    let email = RwSignal::new(String::new());
    let password = RwSignal::new(String::new());
    let code = RwSignal::new(String::new());
    // Shown once the server says the account has 2FA.
    let needs_code = RwSignal::new(false);
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
        let totp_code = Some(code.get()).filter(|c| !c.trim().is_empty());
        let request = LoginRequest { email: email.get(), password: password.get(), totp_code };
        let navigate = navigate.clone();
        spawn_local(async move {
            match api::login(&request).await {
                Ok(()) => navigate("/", Default::default()),
                Err(e) if e.code() == "totp_required" => {
                    needs_code.set(true);
                    error.set(None);
                }
                Err(e) => {
                    if e.code() != "invalid_totp" {
                        password.set(String::new());
                    }
                    code.set(String::new());
                    error.set(Some(e));
                }
            }
            busy.set(false);
        });
    };
    view! {
        <form class="card auth-card" on:submit=submit novalidate>
            <div class="auth-brand"><span class="brand-mark">"S"</span>"Steward"</div>
            <h1>"Sign in"</h1>
            <p class="muted">"The administration console of your automation platform."</p>
            <ErrorBanner error=error.into()/>
            <Field label="Email" name="email" kind="email" value=email error=error autocomplete="username" autofocus=true/>
            <Field label="Password" name="password" kind="password" value=password error=error autocomplete="current-password"/>
            {move || needs_code.get().then(|| view! {
                <Field label="Authentication code" name="totp_code" value=code error=error autocomplete="one-time-code"
                    autofocus=true hint="The 6-digit code from your authenticator app, or a recovery code."/>
            })}
            <button class="btn btn-primary btn-block" type="submit" disabled=move || busy.get()>
                {move || if busy.get() { "Signing in…" } else { "Sign in" }}
            </button>
        </form>
    }
}
