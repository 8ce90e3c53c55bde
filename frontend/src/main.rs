//! Steward's admin console: a client-side rendered Leptos app, served by the backend at `/`.

mod api;
mod app;
mod components;
mod pages;
mod scope;

fn main() {
    console_error_panic_hook::set_once();
    leptos::mount::mount_to_body(app::App);
}
