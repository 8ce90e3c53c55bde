//! My account → security: TOTP 2FA (enrol with a QR code, verify, recovery codes, disable)
//! and API tokens for scripts and the CLI (created with a subset of your leaves, shown once).

use leptos::prelude::*;
use leptos::task::spawn_local;
use steward_shared::api::{ApiTokenInfo, CreateApiToken, TotpEnrolment};

use crate::api::{self, ApiError};
use crate::auth::use_auth;
use crate::components::dialog::ConfirmDialog;
use crate::components::form::{ErrorBanner, Field};
use crate::pages::fmt::{impersonating, when};

/// Recovery codes, shown once with a note to keep them.
#[component]
fn CodesOnce(codes: Vec<String>) -> impl IntoView {
    view! {
        <div class="once-box" data-testid="recovery-codes">
            <strong>"Recovery codes — shown this once."</strong>
            <p class="muted small">"Each works once instead of a code from your app. Keep them somewhere safe."</p>
            <ul class="codes">{codes.into_iter().map(|c| view! { <li class="mono">{c}</li> }).collect_view()}</ul>
        </div>
    }
}

#[component]
pub fn TwoFactorCard() -> impl IntoView {
    let auth = use_auth();
    let enabled = move || auth.me.with(|m| m.as_ref().is_some_and(|m| m.totp_enabled));
    let enrolment = RwSignal::new(None::<TotpEnrolment>);
    let codes = RwSignal::new(None::<Vec<String>>);
    let code = RwSignal::new(String::new());
    let error = RwSignal::new(None::<ApiError>);
    let reload_me = move || {
        spawn_local(async move {
            if let Ok(me) = api::me().await {
                auth.me.set(Some(me));
            }
        })
    };
    let start = move |_| {
        spawn_local(async move {
            match api::enrol_totp().await {
                Ok(e) => {
                    error.set(None);
                    enrolment.set(Some(e));
                }
                Err(e) => error.set(Some(e)),
            }
        });
    };
    let with_code = move |action: &'static str| {
        let c = code.get_untracked();
        spawn_local(async move {
            let result = match action {
                "verify" => api::verify_totp(&c).await.map(Some),
                "regenerate" => api::regenerate_recovery_codes(&c).await.map(Some),
                _ => api::disable_totp(&c).await.map(|_| None),
            };
            code.set(String::new());
            match result {
                Ok(new_codes) => {
                    error.set(None);
                    enrolment.set(None);
                    codes.set(new_codes.map(|r| r.codes));
                    reload_me();
                }
                Err(e) => error.set(Some(e)),
            }
        });
    };
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        with_code("verify");
    };
    view! {
        <section class="card" data-testid="two-factor">
            <div class="card-head">
                <h2>"Two-factor authentication"</h2>
                {move || if enabled() { view! { <span class="badge badge-ok">"On"</span> }.into_any() } else { view! { <span class="badge">"Off"</span> }.into_any() }}
                <p class="muted">"A code from an authenticator app (TOTP) at every sign-in, besides your password."</p>
            </div>
            <div class="card-body stack">
                <ErrorBanner error=error.into()/>
                {move || codes.get().map(|c| view! { <CodesOnce codes=c/> })}
                {move || match (enabled(), enrolment.get()) {
                    (false, None) => view! {
                        <button class="btn btn-primary" on:click=start disabled=impersonating>"Set up 2FA"</button>
                    }.into_any(),
                    (false, Some(e)) => view! {
                        <div class="enrol">
                            <div class="qr" inner_html=e.qr_svg.clone() aria-label="QR code for your authenticator app"></div>
                            <form class="stack" on:submit=submit>
                                <p>"Scan the code with your authenticator app, or type this key:"</p>
                                <p class="mono secret" data-testid="totp-secret">{e.secret.clone()}</p>
                                <Field label="Code from the app" name="code" value=code error=error autocomplete="one-time-code" autofocus=true/>
                                <button class="btn btn-primary" type="submit">"Verify and turn on"</button>
                            </form>
                        </div>
                    }.into_any(),
                    (true, _) => view! {
                        <div class="inline-form">
                            <Field label="Current code or a recovery code" name="code" value=code error=error autocomplete="one-time-code"/>
                            <button class="btn" on:click=move |_| with_code("regenerate")>"New recovery codes"</button>
                            <button class="btn btn-danger-ghost" on:click=move |_| with_code("disable")>"Turn off 2FA"</button>
                        </div>
                    }.into_any(),
                }}
            </div>
        </section>
    }
}

#[component]
pub fn TokensCard() -> impl IntoView {
    let auth = use_auth();
    let tokens = RwSignal::new(Vec::<ApiTokenInfo>::new());
    let error = RwSignal::new(None::<ApiError>);
    let reload = move || spawn_local(async move { tokens.set(api::tokens().await.unwrap_or_default()) });
    reload();
    let name = RwSignal::new(String::new());
    let days = RwSignal::new("90".to_owned());
    let chosen = RwSignal::new(Vec::<String>::new());
    let created = RwSignal::new(None::<String>);
    let mine = move || auth.me.with(|m| m.as_ref().map(|m| m.permissions.clone()).unwrap_or_default());
    let create = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let body = CreateApiToken {
            name: name.get_untracked(),
            permissions: chosen.get_untracked(),
            expires_in_days: days.get_untracked().parse().ok(),
        };
        spawn_local(async move {
            match api::create_token(&body).await {
                Ok(t) => {
                    error.set(None);
                    name.set(String::new());
                    chosen.set(Vec::new());
                    created.set(Some(t.token));
                    reload();
                }
                Err(e) => error.set(Some(e)),
            }
        });
    };
    let revoking = RwSignal::new(None::<ApiTokenInfo>);
    let open = RwSignal::new(false);
    let revoke = move |typed: Option<String>| {
        let Some(t) = revoking.get_untracked() else { return };
        spawn_local(async move {
            match api::revoke_token(&t.id.to_string(), typed.as_deref()).await {
                Ok(()) => reload(),
                Err(e) => error.set(Some(e)),
            }
        });
    };
    let row = move |t: ApiTokenInfo| {
        let live = t.revoked_at.is_none() && t.expires_at.is_none_or(|e| e > crate::pages::fmt::now());
        let target = t.clone();
        view! {
            <tr>
                <td><div class="row-title">{t.name.clone()}</div><div class="mono muted small">{format!("{}…", t.prefix)}</div></td>
                <td class="small">{t.permissions.join(", ")}</td>
                <td class="small">{when(Some(t.created_at))}</td>
                <td class="small">{when(t.expires_at)}</td>
                <td class="small">{when(t.last_used_at)}</td>
                <td>{if live { view! { <span class="badge badge-ok">"active"</span> }.into_any() }
                     else if t.revoked_at.is_some() { view! { <span class="badge badge-bad">"revoked"</span> }.into_any() }
                     else { view! { <span class="badge">"expired"</span> }.into_any() }}</td>
                <td class="actions">{live.then(|| view! {
                    <button class="btn btn-small btn-danger-ghost" on:click=move |_| { revoking.set(Some(target.clone())); open.set(true); }>"Revoke"</button>
                })}</td>
            </tr>
        }
    };
    view! {
        <section class="card" data-testid="api-tokens">
            <div class="card-head">
                <h2>"API tokens"</h2>
                <p class="muted">"For scripts and the steward CLI: send as Authorization: Bearer. A token holds only the permissions you pick, and never more than you hold."</p>
            </div>
            <div class="card-body stack">
                <ErrorBanner error=error.into()/>
                {move || created.get().map(|t| view! {
                    <div class="once-box" data-testid="new-token">
                        <strong>"Copy your new token now — it is shown this once."</strong>
                        <p class="mono secret">{t}</p>
                        <button class="btn btn-small" on:click=move |_| created.set(None)>"Done"</button>
                    </div>
                })}
                <form class="stack" on:submit=create>
                    <div class="inline-form">
                        <Field label="Name" name="name" value=name error=error hint="What uses it, e.g. nightly export"/>
                        <div class="field">
                            <label for="token-days">"Expires after"</label>
                            <select id="token-days" on:change=move |ev| days.set(event_target_value(&ev))>
                                <option value="30">"30 days"</option><option value="90" selected>"90 days"</option><option value="366">"1 year"</option>
                            </select>
                        </div>
                        <button class="btn btn-primary" type="submit" disabled=impersonating>"Create token"</button>
                    </div>
                    <fieldset class="leaf-picker">
                        <legend>"Permissions"</legend>
                        {move || mine().into_iter().map(|leaf| {
                            let (l1, l2) = (leaf.clone(), leaf.clone());
                            view! {
                                <label class="check-label">
                                    <input type="checkbox" prop:checked=move || chosen.with(|c| c.contains(&l1))
                                        on:change=move |ev| {
                                            let on = event_target_checked(&ev);
                                            chosen.update(|c| { c.retain(|x| *x != l2); if on { c.push(l2.clone()); } });
                                        }/>
                                    <span class="mono small">{leaf}</span>
                                </label>
                            }
                        }).collect_view()}
                        {move || error.get().and_then(|e| e.field("permissions")).map(|m| view! { <p class="field-error">{m}</p> })}
                    </fieldset>
                </form>
                <div class="table-wrap"><table class="table">
                    <thead><tr><th>"Token"</th><th>"Permissions"</th><th>"Created"</th><th>"Expires"</th><th>"Last used"</th><th>"Status"</th><th></th></tr></thead>
                    <tbody>{move || tokens.get().into_iter().map(row).collect_view()}</tbody>
                </table></div>
                {move || tokens.with(Vec::is_empty).then(|| view! { <p class="empty">"No tokens yet."</p> })}
            </div>
        </section>
        <ConfirmDialog
            open=open
            title="Revoke token"
            message=Signal::derive(move || revoking.get().map(|t| format!("Revoke \"{}\"? Scripts using it stop working at once.", t.name)).unwrap_or_default())
            confirm_label="Revoke"
            danger=true
            typed_name=Signal::derive(move || impersonating().then(|| revoking.get().map(|t| t.name)).flatten())
            on_confirm=Callback::new(revoke)
        />
    }
}
