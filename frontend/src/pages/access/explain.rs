//! Administration → Explain access: pick a user and a permission leaf (and, if it matters, a
//! workspace) and see whether the user holds it and through which grant — the role, its
//! workspace and the pattern that covers the leaf — or that super admin bypasses it.
//! `?user=<id>&permission=<leaf>` opens it filled in and answered.

use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::hooks::use_query_map;
use steward_shared::api::{DirectoryUser, Explanation, WorkspaceSummary};
use steward_shared::permissions::CATALOG;

use crate::api::{self, ApiError};
use crate::components::form::ErrorBanner;

#[component]
pub fn ExplainAccessPage() -> impl IntoView {
    let url = use_query_map();
    let search = RwSignal::new(String::new());
    let matches = RwSignal::new(Vec::<DirectoryUser>::new());
    let user = RwSignal::new(None::<(String, String)>);
    let permission = RwSignal::new(String::new());
    let workspace = RwSignal::new(String::new());
    let workspaces = RwSignal::new(Vec::<WorkspaceSummary>::new());
    let answer = RwSignal::new(None::<Explanation>);
    let error = RwSignal::new(None::<ApiError>);
    spawn_local(async move { workspaces.set(api::workspaces().await.unwrap_or_default()) });

    let explain = move || {
        let Some((id, _)) = user.get_untracked() else {
            error.set(Some(ApiError::local("Choose a user", "Pick the user whose access to explain first.".into())));
            return;
        };
        let q = api::query(&[
            ("user", Some(id)),
            ("permission", Some(permission.get_untracked())),
            ("workspace", Some(workspace.get_untracked())),
        ]);
        spawn_local(async move {
            match api::get::<Explanation>(&format!("/api/access/explain{q}")).await {
                Ok(e) => {
                    error.set(None);
                    answer.set(Some(e));
                }
                Err(e) => {
                    answer.set(None);
                    error.set(Some(e));
                }
            }
        });
    };
    // A deep link names the user and the leaf: fill in and answer.
    Effect::new(move |_| {
        let (id, leaf) = url.with(|q| (q.get("user"), q.get("permission")));
        if let Some(leaf) = leaf {
            permission.set(leaf);
        }
        if let Some(id) = id {
            spawn_local(async move {
                if let Ok(u) = api::get::<DirectoryUser>(&format!("/api/users/{id}")).await {
                    user.set(Some((u.id.to_string(), format!("{} <{}>", u.name, u.email))));
                    if !permission.get_untracked().is_empty() {
                        explain();
                    }
                }
            });
        }
    });
    let find = move |term: String| {
        search.set(term.clone());
        if term.trim().len() < 2 {
            matches.set(Vec::new());
            return;
        }
        spawn_local(async move {
            let q = api::query(&[("search", Some(term.clone())), ("limit", Some("8".into()))]);
            if let Ok(page) = api::users(&q).await {
                // Only the newest search's answer.
                if search.get_untracked() == term {
                    matches.set(page.items);
                }
            }
        });
    };
    let pick = move |u: DirectoryUser| {
        user.set(Some((u.id.to_string(), format!("{} <{}>", u.name, u.email))));
        matches.set(Vec::new());
        search.set(String::new());
        answer.set(None);
    };
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        explain();
    };
    view! {
        <section class="card">
            <div class="card-head">
                <div>
                    <h2>"Explain access"</h2>
                    <p class="muted small">"Whether a user holds a permission, and the grant that gives it."</p>
                </div>
            </div>
            <form class="card-body explain-form" on:submit=submit>
                <ErrorBanner error=error.into()/>
                <div class="field">
                    <label for="explain-user">"User"</label>
                    {move || user.get().map(|(_, label)| view! {
                        <p class="chosen" data-testid="explain-user">{label}
                            <button class="btn btn-small btn-ghost" type="button" on:click=move |_| user.set(None)>"Change"</button></p>
                    })}
                    <Show when=move || user.get().is_none()>
                        <input id="explain-user" type="search" autocomplete="off" placeholder="Name or email"
                            prop:value=move || search.get() on:input=move |ev| find(event_target_value(&ev))/>
                        <ul class="suggestions" role="listbox" aria-label="Matching users">
                            {move || matches.get().into_iter().map(|u| {
                                let label = format!("{} <{}>", u.name, u.email);
                                view! {
                                    <li><button type="button" role="option" class="suggestion" on:click=move |_| pick(u.clone())>{label}</button></li>
                                }
                            }).collect_view()}
                        </ul>
                    </Show>
                    {move || error.get().and_then(|e| e.field("user")).map(|m| view! { <p class="field-error">{m}</p> })}
                </div>
                <div class="field">
                    <label for="explain-permission">"Permission"</label>
                    <select id="explain-permission" prop:value=move || permission.get() on:change=move |ev| permission.set(event_target_value(&ev))>
                        <option value="">"Choose a permission…"</option>
                        {CATALOG.iter().map(|m| view! {
                            <optgroup label=m.label>
                                {m.leaves.iter().map(|l| view! { <option value=l.id>{format!("{} — {}", l.label, l.id)}</option> }).collect_view()}
                            </optgroup>
                        }).collect_view()}
                    </select>
                    {move || error.get().and_then(|e| e.field("permission")).map(|m| view! { <p class="field-error">{m}</p> })}
                </div>
                <div class="field">
                    <label for="explain-workspace">"Workspace"</label>
                    <select id="explain-workspace" prop:value=move || workspace.get() on:change=move |ev| workspace.set(event_target_value(&ev))>
                        <option value="">"Any of theirs"</option>
                        {move || workspaces.get().into_iter().map(|w| view! { <option value=w.id.to_string()>{w.name.clone()}</option> }).collect_view()}
                    </select>
                </div>
                <div><button class="btn btn-primary" type="submit">"Explain"</button></div>
            </form>
        </section>
        {move || answer.get().map(|e| view! { <Answer e=e/> })}
    }
}

#[component]
fn Answer(e: Explanation) -> impl IntoView {
    let (class, verdict) = if e.granted { ("badge badge-ok", "Allowed") } else { ("badge badge-bad", "Refused") };
    view! {
        <section class="card" data-testid="explanation">
            <div class="card-head">
                <h2><span class=class data-testid="verdict">{verdict}</span>" "<span class="mono small">{e.permission.clone()}</span></h2>
            </div>
            <p class="card-note">{e.detail.clone()}</p>
            {if e.super_admin {
                view! { <p class="card-note">"A super admin holds every permission everywhere: no role is needed."</p> }.into_any()
            } else if e.via.is_empty() {
                view! { <p class="card-note muted">"No role of theirs covers this permission."</p> }.into_any()
            } else {
                view! {
                    <div class="table-wrap"><table class="table" data-testid="grants-table">
                        <thead><tr><th>"Workspace"</th><th>"Role"</th><th>"Pattern that covers it"</th></tr></thead>
                        <tbody>{e.via.into_iter().map(|g| view! {
                            <tr>
                                <td>{g.workspace.name.clone()}</td>
                                <td><a href=format!("/admin/roles/{}", g.role_id)>{g.role_name.clone()}</a></td>
                                <td class="mono">{g.pattern.clone()}</td>
                            </tr>
                        }).collect_view()}</tbody>
                    </table></div>
                }.into_any()
            }}
        </section>
    }
}
