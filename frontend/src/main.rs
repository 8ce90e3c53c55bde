//! Steward's admin console: a client-side rendered Leptos app, served by the backend at `/`.

mod api;
mod app;
mod auth;
mod components;
mod pages;
mod scope;

fn main() {
    console_error_panic_hook::set_once();
    // index.html's loading shell gives way to the app.
    if let Some(boot) = web_sys::window().and_then(|w| w.document()).and_then(|d| d.get_element_by_id("boot")) {
        boot.remove();
    }
    leptos::mount::mount_to_body(app::App);
}
