//! Who is signed in, shared through context: set by the shell once `/api/me` answers, read by
//! every page and widget (which therefore never import the router in `app`).

use leptos::prelude::*;
use steward_shared::api::Me;

/// Who is signed in; `None` until the shell has loaded `/api/me`.
#[derive(Clone, Copy)]
pub struct Auth {
    pub me: RwSignal<Option<Me>>,
}

pub fn use_auth() -> Auth {
    expect_context::<Auth>()
}
