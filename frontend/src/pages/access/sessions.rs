//! Administration → Sessions: live sign-ins across the scope, revoke one or all of a user's.

use leptos::prelude::*;
use leptos::task::spawn_local;
use steward_shared::api::SessionRow;

use crate::api;
use crate::components::dialog::ConfirmDialog;
use crate::components::list::{ListFooter, Paged};
use crate::components::scope_bar::use_toast;
use crate::pages::fmt::{holds, impersonating, when};

/// What to revoke: one session, or every session of a user.
#[derive(Clone)]
enum Revoke {
    One(SessionRow),
    AllOf(SessionRow),
}

impl Revoke {
    fn row(&self) -> &SessionRow {
        match self {
            Self::One(r) | Self::AllOf(r) => r,
        }
    }
}

/// A short description of a user agent: the browser or client name.
pub(crate) fn client(agent: &Option<String>) -> String {
    let Some(a) = agent else { return "—".into() };
    for (needle, name) in [
        ("Edg/", "Edge"),
        ("Chrome/", "Chrome"),
        ("Firefox/", "Firefox"),
        ("Safari/", "Safari"),
        ("steward-cli", "steward CLI"),
        ("curl/", "curl"),
    ] {
        if a.contains(needle) {
            return name.into();
        }
    }
    a.chars().take(24).collect()
}

#[component]
pub fn SessionsPage() -> impl IntoView {
    let toast = use_toast();
    let include_ended = RwSignal::new(false);
    let paged = Paged::new(
        move || api::query(&[("include_ended", include_ended.get().then(|| "true".into()))]),
        |q| async move { api::sessions(&q).await },
    );
    let can_write = holds("steward.access.sessions.manage") || holds("steward.console.sessions.write");
    let target = RwSignal::new(None::<Revoke>);
    let open = RwSignal::new(false);
    let revoke = move |typed: Option<String>| {
        let Some(t) = target.get_untracked() else { return };
        spawn_local(async move {
            let result = match &t {
                Revoke::One(r) => api::revoke_session(&r.id.to_string(), typed.as_deref()).await,
                Revoke::AllOf(r) => api::revoke_user_sessions(&r.user_id.to_string(), typed.as_deref()).await,
            };
            if result.is_ok() {
                paged.reload();
            }
            toast.0.set(Some(
                result.map(|r| format!("{} session{} ended.", r.revoked, if r.revoked == 1 { "" } else { "s" })),
            ));
        });
    };
    let row = move |s: SessionRow| {
        let (one, all) = (s.clone(), s.clone());
        let live = s.expires_at > crate::pages::fmt::now();
        view! {
            <tr>
                <td>
                    <div class="row-title">{s.user_name.clone()} {s.current.then(|| view! { <span class="badge badge-info">"This session"</span> })}</div>
                    <div class="muted small">{s.user_email.clone()}</div>
                </td>
                <td class="small">{client(&s.user_agent)}<div class="muted mono small">{s.ip.clone().unwrap_or_else(|| "—".into())}</div></td>
                <td class="small">{when(Some(s.created_at))}</td>
                <td class="small">{when(Some(s.last_seen_at))}</td>
                <td class="small">{if live { when(Some(s.expires_at)) } else { "ended".into() }}</td>
                <td>{if s.two_factor_verified { view! { <span class="badge badge-ok">"2FA"</span> }.into_any() } else { view! { <span class="muted small">"password"</span> }.into_any() }}
                    {s.impersonating.is_some().then(|| view! { <span class="badge badge-warn">"viewing as"</span> })}</td>
                <td class="actions">
                    {(can_write && !s.current).then(|| view! {
                        <button class="btn btn-small btn-danger-ghost" on:click=move |_| { target.set(Some(Revoke::One(one.clone()))); open.set(true); }>"Revoke"</button>
                        <button class="btn btn-small" on:click=move |_| { target.set(Some(Revoke::AllOf(all.clone()))); open.set(true); }>"Revoke all of user"</button>
                    })}
                </td>
            </tr>
        }
    };
    view! {
        <section class="card">
            <div class="card-head">
                <h2>"Sessions"</h2>
                <div class="filters">
                    <label class="check-label"><input type="checkbox" on:change=move |ev| include_ended.set(event_target_checked(&ev))/>"Include ended"</label>
                </div>
                <p class="muted">"Every request checks its session, so a revoked session ends on its next click."</p>
            </div>
            <div class="table-wrap"><table class="table" data-testid="sessions-table">
                <thead><tr><th>"User"</th><th>"Client"</th><th>"Signed in"</th><th>"Last seen"</th><th>"Expires"</th><th>"Factor"</th><th class="actions"></th></tr></thead>
                <tbody>{move || paged.items.get().into_iter().map(row).collect_view()}</tbody>
            </table></div>
            <ListFooter paged=paged empty="No live sessions in this scope."/>
        </section>
        <ConfirmDialog
            open=open
            title="Revoke sessions"
            message=Signal::derive(move || match target.get() {
                Some(Revoke::One(r)) => format!("End this session of {}? They are signed out on their next request.", r.user_email),
                Some(Revoke::AllOf(r)) => format!("End every session of {}?", r.user_email),
                None => String::new(),
            })
            confirm_label="Revoke"
            danger=true
            typed_name=Signal::derive(move || impersonating().then(|| target.get().map(|t| t.row().user_email.clone())).flatten())
            on_confirm=Callback::new(revoke)
        />
    }
}
