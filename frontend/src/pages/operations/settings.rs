//! Settings: the knobs a super admin changes at run time — session and access token
//! lifetimes, the View as limit, the password rule and the 2FA policy. Each shows its value in
//! effect and its boot value; a changed one can go back to its boot value. Saved settings are in
//! effect on every replica within a second, and audited with before and after.

use leptos::prelude::*;
use leptos::task::spawn_local;
use steward_shared::api::{RuntimeSettings, SettingsView, UpdateSettings};

use crate::api::{self, ApiError};
use crate::components::form::{ErrorBanner, Loading};
use crate::components::scope_bar::use_toast;
use crate::pages::fmt::when;

/// Minutes as a person reads them: "90 minutes", "7 days".
fn span(minutes: u64) -> String {
    let plural = |n: u64, unit: &str| format!("{n} {unit}{}", if n == 1 { "" } else { "s" });
    if minutes >= 1440 && minutes.is_multiple_of(1440) {
        plural(minutes / 1440, "day")
    } else if minutes >= 60 && minutes.is_multiple_of(60) {
        plural(minutes / 60, "hour")
    } else {
        plural(minutes, "minute")
    }
}

#[component]
pub fn SettingsPage() -> impl IntoView {
    let tick = RwSignal::new(0u32);
    let view = LocalResource::new(move || {
        tick.track();
        api::settings()
    });
    view! {
        <Transition fallback=|| view! { <Loading/> }>
            {move || view.get().map(|r| match r {
                Err(e) => view! { <ErrorBanner error=Signal::derive(move || Some(e.clone()))/> }.into_any(),
                Ok(v) => view! { <SettingsForm view=v saved=Callback::new(move |()| tick.update(|t| *t += 1))/> }.into_any(),
            })}
        </Transition>
    }
}

/// One numeric setting: its input (in the unit shown), its boot value, and a reset.
#[derive(Clone, Copy)]
struct Number {
    field: &'static str,
    value: RwSignal<String>,
    /// From the unit shown to the API's (seconds for lifetimes).
    scale: u64,
}

impl Number {
    fn new(field: &'static str, value: u64, scale: u64) -> Self {
        Self { field, value: RwSignal::new((value / scale).to_string()), scale }
    }

    /// The value to send when it differs from `current`; an unreadable entry is sent as 0 so
    /// the server names the field.
    fn change(&self, current: u64) -> Option<Option<u64>> {
        let typed = self.value.get_untracked().trim().parse::<u64>().map(|v| v * self.scale).unwrap_or(0);
        (typed != current).then_some(Some(typed))
    }
}

#[component]
fn SettingsForm(view: SettingsView, saved: Callback<()>) -> impl IntoView {
    let toast = use_toast();
    let SettingsView { effective: now, defaults, overridden, updated_at } = view;
    let session = Number::new("session_ttl_secs", now.session_ttl_secs, 60);
    let access = Number::new("access_token_ttl_secs", now.access_token_ttl_secs, 60);
    let impersonation = Number::new("impersonation_minutes", now.impersonation_minutes, 1);
    let min_length = Number::new("password_min_length", u64::from(now.password_min_length), 1);
    let reject_common = RwSignal::new(now.password_reject_common);
    let two_factor = RwSignal::new(now.two_factor_required_for_admins);
    let error = RwSignal::new(None::<ApiError>);
    let busy = RwSignal::new(false);
    let current = StoredValue::new(now.clone());

    let send = move |body: UpdateSettings, message: String| {
        busy.set(true);
        spawn_local(async move {
            let result = api::update_settings(&body).await;
            busy.set(false);
            match result {
                Ok(_) => {
                    error.set(None);
                    toast.0.set(Some(Ok(message)));
                    saved.run(());
                }
                Err(e) => error.set(Some(e)),
            }
        });
    };
    let save = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let c: RuntimeSettings = current.get_value();
        let body = UpdateSettings {
            session_ttl_secs: session.change(c.session_ttl_secs),
            access_token_ttl_secs: access.change(c.access_token_ttl_secs),
            impersonation_minutes: impersonation.change(c.impersonation_minutes),
            password_min_length: min_length
                .change(u64::from(c.password_min_length))
                .map(|v| v.map(|n| u32::try_from(n).unwrap_or(u32::MAX))),
            password_reject_common: (reject_common.get_untracked() != c.password_reject_common)
                .then_some(Some(reject_common.get_untracked())),
            two_factor_required_for_admins: (two_factor.get_untracked() != c.two_factor_required_for_admins)
                .then_some(Some(two_factor.get_untracked())),
        };
        if body == UpdateSettings::default() {
            toast.0.set(Some(Ok("Nothing changed.".into())));
            return;
        }
        send(body, "Saved: every replica applies it within a second.".into());
    };
    let reset = move |field: &'static str| {
        let mut body = UpdateSettings::default();
        match field {
            "session_ttl_secs" => body.session_ttl_secs = Some(None),
            "access_token_ttl_secs" => body.access_token_ttl_secs = Some(None),
            "impersonation_minutes" => body.impersonation_minutes = Some(None),
            "password_min_length" => body.password_min_length = Some(None),
            "password_reject_common" => body.password_reject_common = Some(None),
            _ => body.two_factor_required_for_admins = Some(None),
        }
        send(body, "Back to its boot value.".into());
    };
    let changed = StoredValue::new(overridden);
    let is_changed = move |field: &str| changed.with_value(|o| o.iter().any(|f| f == field));
    let tail = move |field: &'static str, boot: String| {
        view! {
            <p class="field-hint">
                {if is_changed(field) {
                    view! { <span class="badge badge-warn">"changed"</span>" Boot value: "{boot}" "
                        <button type="button" class="btn btn-small btn-ghost" on:click=move |_| reset(field)>"Reset"</button> }.into_any()
                } else {
                    view! { <span>"The boot value."</span> }.into_any()
                }}
            </p>
            {move || error.get().and_then(|e| e.field(field)).map(|m| view! { <p class="field-error">{m}</p> })}
        }
    };
    let number = move |n: Number, label: &'static str, unit: &'static str, boot: String, hint: &'static str| {
        let id = format!("setting-{}", n.field);
        view! {
            <div class="field setting" class:invalid=move || error.get().and_then(|e| e.field(n.field)).is_some()>
                <label for=id.clone()>{label}</label>
                <div class="input-unit">
                    <input id=id type="number" min="1" inputmode="numeric" prop:value=move || n.value.get()
                        on:input=move |ev| n.value.set(event_target_value(&ev))/>
                    <span class="muted small">{unit}</span>
                </div>
                <p class="field-hint">{hint}</p>
                {tail(n.field, boot)}
            </div>
        }
    };
    let check = move |field: &'static str, value: RwSignal<bool>, label: &'static str, boot: bool| {
        view! {
            <div class="field setting">
                <label class="check-label">
                    <input type="checkbox" prop:checked=value on:change=move |_| value.update(|v| *v = !*v)/>
                    {label}
                </label>
                {tail(field, if boot { "on".into() } else { "off".into() })}
            </div>
        }
    };
    view! {
        <form on:submit=save data-testid="settings-form" novalidate>
            <ErrorBanner error=error.into()/>
            <div class="grid-2 gap">
                <section class="card">
                    <div class="card-head"><h2>"Sessions"</h2></div>
                    <div class="card-body">
                        {number(session, "Session lifetime", "minutes", span(defaults.session_ttl_secs / 60),
                            "How long a sign-in lasts before its owner signs in again: 5 minutes to 90 days.")}
                        {number(access, "Access token lifetime", "minutes", span(defaults.access_token_ttl_secs / 60),
                            "How often the console renews its short-lived token: 1 minute to 1 day, at most the session's.")}
                        {number(impersonation, "View as limit", "minutes", span(defaults.impersonation_minutes),
                            "A View as ends by itself after this long: 1 to 480 minutes.")}
                    </div>
                </section>
                <section class="card">
                    <div class="card-head"><h2>"Passwords and two-factor"</h2></div>
                    <div class="card-body">
                        {number(min_length, "Minimum password length", "characters", format!("{} characters", defaults.password_min_length),
                            "Applies to new passwords: 8 to 128 characters.")}
                        {check("password_reject_common", reject_common,
                            "Refuse common passwords (the list of common passwords the server ships with)", defaults.password_reject_common)}
                        {check("two_factor_required_for_admins", two_factor,
                            "Require two-factor sign-in for super admins and cross-tenant admins", defaults.two_factor_required_for_admins)}
                    </div>
                </section>
            </div>
            <div class="form-actions">
                <span class="muted small">{updated_at.map(|t| format!("Last changed {}.", when(Some(t)))).unwrap_or_else(|| "Never changed: every value is its boot value.".into())}</span>
                <button class="btn btn-primary" type="submit" disabled=busy>"Save settings"</button>
            </div>
        </form>
    }
}
