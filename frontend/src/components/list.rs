//! Keyset-paginated lists: the first page loads whenever the query (filters, scope) changes,
//! "Load more" follows `next_cursor`. Errors stay visible as the server's problem.

use std::future::Future;

use leptos::prelude::*;
use leptos::task::spawn_local;
use steward_shared::api::Page;

use crate::api::{ApiError, ApiResult};
use crate::components::form::{ErrorBanner, Loading};
use crate::scope::use_scope;

type Fetch<T> = Box<dyn Fn(String) -> std::pin::Pin<Box<dyn Future<Output = ApiResult<Page<T>>>>>>;

/// A scoped list: it reloads when its query or the customer scope changes.
pub struct Paged<T: Send + Sync + 'static> {
    pub items: RwSignal<Vec<T>>,
    pub next: RwSignal<Option<String>>,
    pub loading: RwSignal<bool>,
    pub error: RwSignal<Option<ApiError>>,
    /// (scope, query string): a change of either loads the first page again.
    base: Memo<(String, String)>,
    /// Counts requests: only the newest one's answer is applied. Answers can arrive out of
    /// order, and an older one (the unfiltered first load, say) must not overwrite a newer one.
    generation: StoredValue<u64>,
    fetch: StoredValue<Fetch<T>, LocalStorage>,
}

impl<T: Send + Sync + 'static> Clone for Paged<T> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<T: Send + Sync + 'static> Copy for Paged<T> {}

impl<T: Clone + Send + Sync + 'static> Paged<T> {
    /// `query` builds the query string (it may read signals: filters, scope); `fetch` calls the API.
    pub fn new<F, Fut>(query: impl Fn() -> String + Send + Sync + 'static, fetch: F) -> Self
    where
        F: Fn(String) -> Fut + 'static,
        Fut: Future<Output = ApiResult<Page<T>>> + 'static,
    {
        let paged = Self {
            items: RwSignal::new(Vec::new()),
            next: RwSignal::new(None),
            loading: RwSignal::new(true),
            error: RwSignal::new(None),
            base: {
                let scope = use_scope();
                Memo::new(move |_| (scope.value.get(), query()))
            },
            fetch: StoredValue::new_local(Box::new(move |q| Box::pin(fetch(q)))),
            generation: StoredValue::new(0),
        };
        Effect::new(move |_| {
            paged.base.track();
            paged.load(false);
        });
        paged
    }

    /// Subscribes the caller to changes of the query (filters or scope).
    pub fn track_query(&self) {
        self.base.track();
    }

    /// Loads the first page again (after an action changed a row).
    pub fn reload(&self) {
        self.load(false);
    }

    fn load(&self, more: bool) {
        let this = *self;
        let mut q = this.base.get_untracked().1;
        if more {
            let Some(cursor) = this.next.get_untracked() else { return };
            q.push_str(if q.is_empty() { "?" } else { "&" });
            q.push_str(&format!("cursor={cursor}"));
        }
        this.loading.set(true);
        this.generation.update_value(|g| *g += 1);
        let generation = this.generation.get_value();
        let fut = this.fetch.with_value(|f| f(q));
        spawn_local(async move {
            let answer = fut.await;
            if this.generation.get_value() != generation {
                return; // a newer request owns the list now
            }
            match answer {
                Ok(page) => {
                    this.error.set(None);
                    this.next.set(page.next_cursor);
                    if more {
                        this.items.update(|items| items.extend(page.items));
                    } else {
                        this.items.set(page.items);
                    }
                }
                Err(e) => this.error.set(Some(e)),
            }
            this.loading.set(false);
        });
    }

    pub fn load_more(&self) {
        self.load(true);
    }
}

/// Under a table: the error, the empty state, a spinner, or "Load more".
#[component]
pub fn ListFooter<T: Clone + Send + Sync + 'static>(paged: Paged<T>, empty: &'static str) -> impl IntoView {
    view! {
        <ErrorBanner error=paged.error.into()/>
        {move || (paged.loading.get()).then(|| view! { <Loading/> })}
        {move || (!paged.loading.get() && paged.error.get().is_none() && paged.items.with(Vec::is_empty))
            .then(|| view! { <p class="empty">{empty}</p> })}
        {move || (!paged.loading.get() && paged.next.get().is_some()).then(|| view! {
            <div class="load-more"><button class="btn" on:click=move |_| paged.load_more()>"Load more"</button></div>
        })}
    }
}
