//! Any path no page answers.

use leptos::prelude::*;
use leptos_router::components::A;

#[component]
pub fn NotFound() -> impl IntoView {
    view! {
        <div class="auth-page">
            <div class="card auth-card">
                <h1>"Page not found"</h1>
                <p class="muted">"There is no console page at this address."</p>
                <A href="/" attr:class="btn btn-primary">"Back to the overview"</A>
            </div>
        </div>
    }
}
