//! The effective configuration of this replica, for the Config page: every flag with the
//! value in effect and where it came from (default, flag, environment), secrets only as set
//! or unset, and the settings changed at run time (the `settings` table).

use clap::CommandFactory;
use sea_orm::EntityTrait;
use steward_shared::ops::{ConfigSetting, ConfigView};

use crate::config::Config;
use crate::http::error::AppResult;
use crate::state::AppState;
use crate::store::entities::settings;

/// Flags whose values are never shown, besides those clap hides from `--help`.
const SECRETS: &[&str] = &["jwt_secret", "audit_keys", "smtp_password"];

pub async fn config_view(state: &AppState) -> AppResult<ConfigView> {
    let config = &state.config;
    let command = Config::command();
    let mut out: Vec<ConfigSetting> = command
        .get_arguments()
        .filter(|a| !matches!(a.get_id().as_str(), "help" | "version"))
        .map(|arg| {
            let id = arg.get_id().as_str();
            let secret = SECRETS.contains(&id) || arg.is_hide_env_values_set();
            let known = config.provenance.iter().find(|p| p.id == id);
            let default = arg.get_default_values().first().map(|v| v.to_string_lossy().into_owned());
            let (value, source) = match known {
                Some(p) => (p.value.clone(), p.source),
                // Built without `Config::load` (tests, tools): the defaults are what is known.
                None => (default.clone(), if default.is_some() { "default" } else { "unset" }),
            };
            // Settings whose default is derived from another: show what is in effect.
            let derived = match id {
                "database_url" => Some(config.effective_database_url()),
                "jwt_secret_file" if config.jwt_secret.is_none() => {
                    Some(crate::secrets::default_jwt_secret_file(config).display().to_string())
                }
                "audit_keys_file" if config.audit_keys.is_none() => {
                    Some(crate::secrets::audit_keys_file(config).display().to_string())
                }
                "audit_checkpoints_file" => Some(crate::audit::chain::checkpoints_file(config).display().to_string()),
                "public_url" => Some(config.link_base()),
                _ => None,
            };
            let (value, source) = match (value, derived) {
                (None, Some(d)) => (Some(d), "default"),
                (value, _) => (value, source),
            };
            let set = value.is_some();
            ConfigSetting {
                name: id.to_owned(),
                flag: arg.get_long().map(|l| format!("--{l}")),
                env: arg.get_env().map(|e| e.to_string_lossy().into_owned()),
                value: if secret { None } else { value.map(|v| redact_url(id, v)) },
                secret,
                set,
                source: if set { source.into() } else { "unset".into() },
                description: arg.get_help().map(|h| h.to_string()).unwrap_or_default(),
            }
        })
        .collect();
    // Settings changed at run time win over their flag: the row says so, with the boot value.
    for (name, value) in crate::identity::runtime::stored_values(&state.db).await? {
        let shown = value.to_string();
        match out.iter_mut().find(|s| s.name == name) {
            Some(row) => {
                let boot = row.value.take().unwrap_or_else(|| "unset".into());
                row.description = format!("{} (changed at run time; boot value {boot})", row.description);
                row.value = Some(shown);
                row.source = "settings".into();
                row.set = true;
            }
            None => out.push(ConfigSetting {
                name,
                flag: None,
                env: None,
                value: Some(shown),
                secret: false,
                set: true,
                source: "settings".into(),
                description: "Changed at run time (Settings)".into(),
            }),
        }
    }
    for s in settings::Entity::find().all(&state.db).await? {
        if s.key == crate::identity::runtime::KEY {
            continue;
        }
        out.push(ConfigSetting {
            name: s.key.clone(),
            flag: None,
            env: None,
            value: Some(s.value.to_string()),
            secret: false,
            set: true,
            source: "settings".into(),
            description: format!("Changed at run time ({})", s.updated_at.to_rfc3339()),
        });
    }
    Ok(ConfigView {
        version: env!("CARGO_PKG_VERSION").into(),
        build: crate::telemetry::BUILD.into(),
        database_backend: crate::store::kind(&state.db).into(),
        database_version: crate::ops::status::database_version(state).await?,
        settings: out,
        migrations: crate::ops::status::migrations(state).await?,
    })
}

/// A database URL is shown without its password.
fn redact_url(id: &str, value: String) -> String {
    if id == "database_url" {
        crate::store::redact(&value)
    } else {
        value
    }
}
