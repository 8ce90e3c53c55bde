//! Administration → Invitations: invite an email into a workspace with a role, list pending
//! (and on request accepted, expired, revoked) invitations, revoke one.

use leptos::prelude::*;
use leptos::task::spawn_local;
use steward_shared::api::{CreateInvitation, Invitation, RoleSummary, WorkspaceSummary};

use crate::api::{self, ApiError};
use crate::components::dialog::ConfirmDialog;
use crate::components::form::{ErrorBanner, Field};
use crate::components::list::{ListFooter, Paged};
use crate::components::scope_bar::use_toast;
use crate::pages::fmt::{holds, impersonating, when};

fn status_badge(status: String) -> impl IntoView {
    let class = match status.as_str() {
        "pending" => "badge badge-info",
        "accepted" => "badge badge-ok",
        "revoked" => "badge badge-bad",
        _ => "badge",
    };
    view! { <span class=class>{status}</span> }
}

#[component]
pub fn InvitationsPage() -> impl IntoView {
    let toast = use_toast();
    let include_accepted = RwSignal::new(false);
    let include_expired = RwSignal::new(false);
    let paged = Paged::new(
        move || {
            api::query(&[
                ("include_accepted", include_accepted.get().then(|| "true".into())),
                ("include_expired", include_expired.get().then(|| "true".into())),
            ])
        },
        |q| async move { api::invitations(&q).await },
    );
    let can_write = holds("steward.access.invitations.manage") || holds("steward.console.invitations.write");
    let workspaces = RwSignal::new(Vec::<WorkspaceSummary>::new());
    let roles = RwSignal::new(Vec::<RoleSummary>::new());
    spawn_local(async move {
        workspaces.set(api::workspaces().await.unwrap_or_default());
        roles.set(api::roles().await.unwrap_or_default());
    });
    let email = RwSignal::new(String::new());
    let workspace = RwSignal::new(String::new());
    let role = RwSignal::new(String::new());
    let error = RwSignal::new(None::<ApiError>);
    Effect::new(move |_| {
        if workspace.get().is_empty() {
            if let Some(w) = workspaces.with(|w| w.first().map(|w| w.id.to_string())) {
                workspace.set(w);
            }
        }
    });
    let invite = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let body = CreateInvitation {
            email: email.get_untracked(),
            workspace_id: steward_shared::WorkspaceId(workspace.get_untracked().parse().unwrap_or_default()),
            role_id: steward_shared::RoleId(role.get_untracked().parse().unwrap_or_default()),
            expires_in_hours: None,
        };
        spawn_local(async move {
            match api::create_invitation(&body).await {
                Ok(i) => {
                    error.set(None);
                    email.set(String::new());
                    paged.reload();
                    toast.0.set(Some(Ok(format!("Invitation mailed to {}.", i.email))));
                }
                Err(e) => error.set(Some(e)),
            }
        });
    };
    let revoking = RwSignal::new(None::<Invitation>);
    let revoke_open = RwSignal::new(false);
    let revoke = move |typed: Option<String>| {
        let Some(i) = revoking.get_untracked() else { return };
        spawn_local(async move {
            let r = api::revoke_invitation(&i.id.to_string(), typed.as_deref()).await;
            if r.is_ok() {
                paged.reload();
            }
            toast.0.set(Some(r.map(|_| format!("The invitation to {} was revoked.", i.email))));
        });
    };
    let row = move |i: Invitation| {
        let pending = i.status == "pending";
        let target = i.clone();
        view! {
            <tr>
                <td><div class="row-title">{i.email.clone()}</div></td>
                <td>{i.workspace.name.clone()}</td>
                <td>{i.role_name.clone()}</td>
                <td>{status_badge(i.status.clone())}</td>
                <td class="small">{when(Some(i.created_at))}</td>
                <td class="small">{when(Some(i.expires_at))}</td>
                <td class="actions">
                    {(can_write && pending).then(|| view! {
                        <button class="btn btn-small btn-danger-ghost" on:click=move |_| { revoking.set(Some(target.clone())); revoke_open.set(true); }>"Revoke"</button>
                    })}
                </td>
            </tr>
        }
    };
    view! {
        {can_write.then(|| view! {
            <section class="card">
                <div class="card-head"><h2>"Invite someone"</h2>
                    <p class="muted">"They get a link that works once, for 72 hours, to choose a name and a password."</p></div>
                <form class="card-body inline-form" on:submit=invite>
                    <ErrorBanner error=error.into()/>
                    <Field label="Email" name="email" value=email error=error kind="email"/>
                    <div class="field">
                        <label for="invite-ws">"Workspace"</label>
                        <select id="invite-ws" prop:value=move || workspace.get() on:change=move |ev| { workspace.set(event_target_value(&ev)); role.set(String::new()); }>
                            {move || workspaces.get().into_iter().map(|w| view! { <option value=w.id.to_string()>{w.name.clone()}</option> }).collect_view()}
                        </select>
                    </div>
                    <div class="field">
                        <label for="invite-role">"Role"</label>
                        <select id="invite-role" prop:value=move || role.get() on:change=move |ev| role.set(event_target_value(&ev))>
                            <option value="">"Choose a role…"</option>
                            {move || {
                                let ws = workspace.get();
                                roles.get().into_iter()
                                    .filter(|r| r.system || r.workspace.as_ref().is_some_and(|w| w.id.to_string() == ws))
                                    .map(|r| view! { <option value=r.id.to_string()>{r.name.clone()}</option> })
                                    .collect_view()
                            }}
                        </select>
                        {move || error.get().and_then(|e| e.field("role_id")).map(|m| view! { <p class="field-error">{m}</p> })}
                    </div>
                    <button class="btn btn-primary" type="submit">"Send invitation"</button>
                </form>
            </section>
        })}
        <section class="card">
            <div class="card-head">
                <h2>"Invitations"</h2>
                <div class="filters">
                    <label class="check-label"><input type="checkbox" on:change=move |ev| include_accepted.set(event_target_checked(&ev))/>"Include accepted"</label>
                    <label class="check-label"><input type="checkbox" on:change=move |ev| include_expired.set(event_target_checked(&ev))/>"Include expired and revoked"</label>
                </div>
            </div>
            <div class="table-wrap"><table class="table" data-testid="invitations-table">
                <thead><tr><th>"Email"</th><th>"Workspace"</th><th>"Role"</th><th>"Status"</th><th>"Sent"</th><th>"Expires"</th><th class="actions"></th></tr></thead>
                <tbody>{move || paged.items.get().into_iter().map(row).collect_view()}</tbody>
            </table></div>
            <ListFooter paged=paged empty="No invitations pending."/>
        </section>
        <ConfirmDialog
            open=revoke_open
            title="Revoke invitation"
            message=Signal::derive(move || revoking.get().map(|i| format!("Revoke the invitation to {}? Its link stops working.", i.email)).unwrap_or_default())
            confirm_label="Revoke"
            danger=true
            typed_name=Signal::derive(move || impersonating().then(|| revoking.get().map(|i| i.email)).flatten())
            on_confirm=Callback::new(revoke)
        />
    }
}
