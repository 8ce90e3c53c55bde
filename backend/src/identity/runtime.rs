//! Settings changed at run time (issue 34): session and access token lifetimes, the View as
//! limit, the password rule and the 2FA policy. They live in the `settings` table (the 2FA
//! policy under its own key, the rest under `runtime`), each one stored only once changed; the
//! boot flags are the defaults a cleared one returns to. Every replica reads them through a
//! cache that lives one second, so a change is in effect everywhere within a second. Each
//! change is audited with what it was before and after.

use chrono::Utc;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set};
use serde::{Deserialize, Serialize};
use serde_json::json;
use steward_shared::api::{RuntimeSettings, SettingsView, UpdateSettings};
use steward_shared::rules;

use crate::access::Actor;
use crate::audit::{self, Event};
use crate::config::Config;
use crate::http::error::{AppError, AppResult, Validator};
use crate::http::request_meta::RequestMeta;
use crate::state::AppState;
use crate::store::entities::settings;

pub const KEY: &str = "runtime";
/// The 2FA policy's own key (older than `runtime`; its routes `/api/settings/two-factor` stay).
pub(super) const POLICY_KEY: &str = "two_factor_policy";

/// What is stored under `runtime`: only the settings that were changed.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
struct Stored {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    session_ttl_secs: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    access_token_ttl_secs: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    impersonation_minutes: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    password_min_length: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    password_reject_common: Option<bool>,
}

/// The boot values: what each setting is when it was never changed (or was cleared).
pub fn defaults(config: &Config) -> RuntimeSettings {
    RuntimeSettings {
        session_ttl_secs: config.session_ttl_secs,
        access_token_ttl_secs: config.access_token_ttl_secs,
        impersonation_minutes: config.impersonation_minutes,
        password_min_length: 12,
        password_reject_common: true,
        two_factor_required_for_admins: false,
    }
}

/// The settings in effect on this replica, at most a second old.
pub async fn effective(state: &AppState) -> AppResult<RuntimeSettings> {
    state.runtime_settings.try_get_with((), async { load(state, &state.db).await.map(|l| l.settings) }).await.map_err(
        |e| match &*e {
            AppError::Unavailable(detail) => AppError::Unavailable(detail.clone()),
            other => AppError::internal(other.to_string()),
        },
    )
}

/// What `load` reads: the settings in effect, the names of those stored, when last changed.
struct Loaded {
    settings: RuntimeSettings,
    overridden: Vec<String>,
    updated_at: Option<chrono::DateTime<Utc>>,
}

/// The settings in effect read from `conn`: both of their rows in one query.
async fn load<C: ConnectionTrait>(state: &AppState, conn: &C) -> AppResult<Loaded> {
    let rows = settings::Entity::find().filter(settings::Column::Key.is_in([KEY, POLICY_KEY])).all(conn).await?;
    let row = |key: &str| rows.iter().find(|r| r.key == key).map(|r| r.value.clone());
    let stored: Stored = row(KEY).and_then(|v| serde_json::from_value(v).ok()).unwrap_or_default();
    let policy = row(POLICY_KEY).and_then(|v| serde_json::from_value::<steward_shared::api::TwoFactorPolicy>(v).ok());
    let base = defaults(&state.config);
    let mut overridden: Vec<String> = serde_json::to_value(&stored)
        .ok()
        .and_then(|v| v.as_object().map(|o| o.keys().cloned().collect()))
        .unwrap_or_default();
    if policy.is_some() {
        overridden.push("two_factor_required_for_admins".into());
    }
    let settings = RuntimeSettings {
        session_ttl_secs: stored.session_ttl_secs.unwrap_or(base.session_ttl_secs),
        access_token_ttl_secs: stored.access_token_ttl_secs.unwrap_or(base.access_token_ttl_secs),
        impersonation_minutes: stored.impersonation_minutes.unwrap_or(base.impersonation_minutes),
        password_min_length: stored.password_min_length.unwrap_or(base.password_min_length),
        password_reject_common: stored.password_reject_common.unwrap_or(base.password_reject_common),
        two_factor_required_for_admins: policy.map_or(base.two_factor_required_for_admins, |p| p.require_for_admins),
    };
    Ok(Loaded { settings, overridden, updated_at: rows.iter().map(|r| r.updated_at).max() })
}

async fn stored<C: ConnectionTrait>(conn: &C) -> AppResult<Stored> {
    let row = settings::Entity::find_by_id(KEY.to_owned()).one(conn).await?;
    Ok(row.and_then(|r| serde_json::from_value(r.value).ok()).unwrap_or_default())
}

/// The settings as stored, by name, for the Configuration page (which shows where each
/// effective value came from).
pub async fn stored_values<C: ConnectionTrait>(conn: &C) -> AppResult<Vec<(String, serde_json::Value)>> {
    let value = serde_json::to_value(stored(conn).await?).map_err(AppError::internal)?;
    Ok(value.as_object().map(|o| o.iter().map(|(k, v)| (k.clone(), v.clone())).collect()).unwrap_or_default())
}

/// `GET /api/settings`: read from the database, not the cache.
pub async fn view(state: &AppState) -> AppResult<SettingsView> {
    let Loaded { settings, overridden, updated_at } = load(state, &state.db).await?;
    Ok(SettingsView { effective: settings, defaults: defaults(&state.config), overridden, updated_at })
}

/// `PATCH /api/settings`: checks every field (naming each bad one), stores the change, audits
/// it with before and after, and drops this replica's cache (the others' expire within a second).
pub async fn update(
    state: &AppState,
    actor: &Actor,
    meta: &RequestMeta,
    body: UpdateSettings,
) -> AppResult<SettingsView> {
    let txn = crate::store::begin(&state.db).await?;
    let before = load(state, &txn).await?.settings;
    let mut next = stored(&txn).await?;
    apply(&mut next.session_ttl_secs, body.session_ttl_secs);
    apply(&mut next.access_token_ttl_secs, body.access_token_ttl_secs);
    apply(&mut next.impersonation_minutes, body.impersonation_minutes);
    apply(&mut next.password_min_length, body.password_min_length);
    apply(&mut next.password_reject_common, body.password_reject_common);
    let base = defaults(&state.config);
    let session = next.session_ttl_secs.unwrap_or(base.session_ttl_secs);
    let access = next.access_token_ttl_secs.unwrap_or(base.access_token_ttl_secs);
    let mut v = Validator::new();
    if let Some(s) = next.session_ttl_secs {
        v.range("session_ttl_secs", s, rules::SESSION_SECS);
    }
    if let Some(a) = next.access_token_ttl_secs {
        v.range("access_token_ttl_secs", a, rules::ACCESS_TOKEN_SECS);
    }
    if access > session && (body.access_token_ttl_secs.is_some() || body.session_ttl_secs.is_some()) {
        let field = if body.access_token_ttl_secs.is_some() { "access_token_ttl_secs" } else { "session_ttl_secs" };
        v.error(field, format!("an access token ({access} s) may not outlive its session ({session} s)"));
    }
    if let Some(m) = next.impersonation_minutes {
        v.range("impersonation_minutes", m, rules::IMPERSONATION_MINUTES);
    }
    if let Some(n) = next.password_min_length {
        v.range("password_min_length", n, rules::PASSWORD_MIN_LENGTH);
    }
    v.finish()?;
    let now = Utc::now();
    let row = settings::ActiveModel {
        key: Set(KEY.into()),
        value: Set(serde_json::to_value(&next).map_err(AppError::internal)?),
        updated_at: Set(now),
    };
    upsert(&txn, row).await?;
    match body.two_factor_required_for_admins {
        Some(Some(on)) => {
            let value = json!({ "require_for_admins": on });
            upsert(
                &txn,
                settings::ActiveModel { key: Set(POLICY_KEY.into()), value: Set(value), updated_at: Set(now) },
            )
            .await?;
        }
        Some(None) => {
            settings::Entity::delete_by_id(POLICY_KEY.to_owned()).exec(&txn).await?;
        }
        None => {}
    }
    let after = load(state, &txn).await?.settings;
    let (before, after) = (object(&before), object(&after));
    // What changed, before and after: the fields whose value differs.
    let (mut was, mut now) = (serde_json::Map::new(), serde_json::Map::new());
    for (key, value) in &after {
        let old = before.get(key).cloned().unwrap_or_default();
        if &old != value {
            was.insert(key.clone(), old);
            now.insert(key.clone(), value.clone());
        }
    }
    let event = Event::new("settings.update", "success").by(actor).summary(json!({ "before": was, "after": now }));
    audit::append(&txn, meta, event).await?;
    txn.commit().await?;
    state.runtime_settings.invalidate(&()).await;
    view(state).await
}

fn object(settings: &RuntimeSettings) -> serde_json::Map<String, serde_json::Value> {
    match serde_json::to_value(settings) {
        Ok(serde_json::Value::Object(map)) => map,
        _ => serde_json::Map::new(),
    }
}

fn apply<T>(slot: &mut Option<T>, change: Option<Option<T>>) {
    if let Some(value) = change {
        *slot = value;
    }
}

async fn upsert<C: ConnectionTrait>(conn: &C, row: settings::ActiveModel) -> AppResult<()> {
    settings::Entity::insert(row)
        .on_conflict(
            sea_orm::sea_query::OnConflict::column(settings::Column::Key)
                .update_columns([settings::Column::Value, settings::Column::UpdatedAt])
                .to_owned(),
        )
        .exec(conn)
        .await?;
    Ok(())
}

/// Checks a new password against the rule in effect: its length, and (when asked) the list of
/// common passwords the server ships with (zxcvbn's, with l33t and reversed spellings). A
/// password that is one common password, whole, is refused; one inside a longer phrase is not.
pub async fn check_password(state: &AppState, v: &mut Validator, field: &str, value: &str) -> AppResult<()> {
    let rule = effective(state).await?;
    if !length_refused(v, field, value, rule.password_min_length) && rule.password_reject_common && common(value) {
        v.error(field, "is a commonly used password: choose another (a few unrelated words work well)");
    }
    Ok(())
}

/// Checks only the length the rule in effect asks of a new password: what a form that redeems a
/// mailed token checks before it looks the token up, and the whole rule after.
pub async fn check_password_length(state: &AppState, v: &mut Validator, field: &str, value: &str) -> AppResult<()> {
    length_refused(v, field, value, effective(state).await?.password_min_length);
    Ok(())
}

fn length_refused(v: &mut Validator, field: &str, value: &str, min: u32) -> bool {
    let len = value.chars().count();
    let why = if len < min as usize {
        format!("must be at least {min} characters")
    } else if len > rules::PASSWORD.max {
        format!("must be at most {} characters", rules::PASSWORD.max)
    } else {
        return false;
    };
    v.error(field, why);
    true
}

/// Whether the whole password is one entry of the common passwords list.
pub fn common(password: &str) -> bool {
    let entropy = zxcvbn::zxcvbn(password, &[]);
    let len = password.chars().count();
    match entropy.sequence() {
        [only] => {
            only.i == 0
                && only.j + 1 == len
                && matches!(&only.pattern, zxcvbn::matching::patterns::MatchPattern::Dictionary(d)
                    if format!("{:?}", d.dictionary_name) == "Passwords")
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::common;

    #[test]
    fn common_passwords_are_known_whole() {
        for p in ["password", "Password", "qwertyuiop", "iloveyou", "p4ssw0rd", "1234567890", "trustno1", "drowssap"] {
            assert!(common(p), "{p} is common");
        }
        for p in ["correct horse battery staple", "password plus three unusual words", "vX9#kq2!Lm7@"] {
            assert!(!common(p), "{p} is not one common password");
        }
    }
}
