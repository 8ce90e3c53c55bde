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

    /// Back to the signed-in user's own organization.
    pub fn reset(&self) {
        self.set("tenant", None);
    }

    /// The remembered scope belongs to whoever chose it: it survives that user's new sessions,
    /// and a different user signing in on the same browser starts in their own organization.
    /// Returns whether a remembered scope was dropped.
    pub fn claim_for(&self, user_id: &str) -> bool {
        let store = web_sys::window().and_then(|w| w.local_storage().ok().flatten());
        let owner = store.as_ref().and_then(|s| s.get_item(OWNER).ok().flatten());
        let dropped = owner.as_deref() != Some(user_id) && self.value.get_untracked() != "tenant";
        if dropped {
            self.reset();
        }
        if let Some(s) = store {
            let _ = s.set_item(OWNER, user_id);
        }
        dropped
    }

    /// Viewing as someone scopes to them; the admin's own choice is kept for the Exit.
    pub fn enter_view_as(&self) {
        if let Some(store) = session_storage() {
            let name = self.customer_name.get_untracked().unwrap_or_default();
            let _ = store.set_item(SAVED, &format!("{}\n{name}", self.value.get_untracked()));
        }
        self.reset();
    }

    /// Gives back the scope the admin had before viewing as someone.
    pub fn exit_view_as(&self) {
        let saved = session_storage().and_then(|s| {
            let v = s.get_item(SAVED).ok().flatten();
            let _ = s.remove_item(SAVED);
            v
        });
        match saved.as_deref().and_then(|s| s.split_once('\n')) {
            Some((value, name)) => self.set(value, (!name.is_empty()).then(|| name.to_owned())),
            None => self.reset(),
        }
    }
}

const SAVED: &str = "steward_scope_before_view_as";
const OWNER: &str = "steward_scope_owner";

fn session_storage() -> Option<web_sys::Storage> {
    web_sys::window()?.session_storage().ok().flatten()
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
