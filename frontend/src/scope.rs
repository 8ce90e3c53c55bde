//! The admin-mode and customer-scope choice: kept in the `steward_scope` cookie (so it
//! survives a new login) which the browser sends with every API call.

use leptos::prelude::*;
use wasm_bindgen::JsCast;

const COOKIE: &str = "steward_scope";

/// The current scope and a label for it; `version` moves on every change so lists refetch.
#[derive(Clone, Copy)]
pub struct ScopeState {
    /// `tenant`, `all` or `customer:<uuid>`.
    pub value: RwSignal<String>,
    /// The chosen customer's name, when one is chosen.
    pub customer_name: RwSignal<Option<String>>,
}

impl ScopeState {
    pub fn load() -> Self {
        Self {
            value: RwSignal::new(read_cookie().unwrap_or_else(|| "tenant".into())),
            customer_name: RwSignal::new(None),
        }
    }

    pub fn admin_mode(&self) -> bool {
        self.value.get() != "tenant"
    }

    /// Switches scope and remembers it for a year.
    pub fn set(&self, value: &str, customer_name: Option<String>) {
        write_cookie(value);
        self.customer_name.set(customer_name);
        self.value.set(value.to_owned());
    }
}

pub fn use_scope() -> ScopeState {
    expect_context::<ScopeState>()
}

fn document() -> Option<web_sys::HtmlDocument> {
    web_sys::window()?.document()?.dyn_into::<web_sys::HtmlDocument>().ok()
}

fn read_cookie() -> Option<String> {
    let all = document()?.cookie().ok()?;
    all.split(';').find_map(|pair| {
        let (name, value) = pair.trim().split_once('=')?;
        (name == COOKIE).then(|| value.replace("%3A", ":"))
    })
}

fn write_cookie(value: &str) {
    if let Some(doc) = document() {
        let _ =
            doc.set_cookie(&format!("{COOKIE}={}; path=/; max-age=31536000; samesite=lax", value.replace(':', "%3A")));
    }
}
