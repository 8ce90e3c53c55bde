//! Transfer of applications between platforms (DESIGN §7a, seed 004 "Transfer"). Platform A
//! mints a short-lived JWT naming what may be exported (one application or all), signed with
//! its own secret and recorded so it is good once. Platform B fetches A's export endpoint with
//! it, checks each bundle against the digests A stated, and installs it like an upload. A
//! refuses tokens it did not sign (`transfer_token_invalid`), expired ones and used ones
//! (`transfer_token_expired`, `transfer_token_used`, 410). Both sides audit it.

use base64::Engine;
use chrono::{Duration, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, QueryOrder, Set};
use serde_json::json;
use steward_shared::apps::{ExportedApplication, TransferExport, TransferFrom, TransferReport, TransferToken};
use uuid::Uuid;

use crate::access::Actor;
use crate::apps::bundle::{self, Bundle};
use crate::apps::install::{self, Origin};
use crate::audit::{self, Event};
use crate::http::error::{AppError, AppResult, Validator};
use crate::http::request_meta::RequestMeta;
use crate::state::AppState;
use crate::store::entities::{application_bundles, application_versions, applications, transfer_tokens, users};

/// The most a fetched export may weigh.
pub const EXPORT_MAX_BYTES: usize = 128 * 1024 * 1024;
const DEFAULT_TTL_MINUTES: u32 = 15;

/// Mints a transfer token for one application (`None`: all).
pub async fn mint(
    state: &AppState,
    actor: &Actor,
    meta: &RequestMeta,
    application_id: Option<Uuid>,
    ttl_minutes: Option<u32>,
) -> AppResult<TransferToken> {
    let ttl = ttl_minutes.unwrap_or(DEFAULT_TTL_MINUTES);
    if let Some(why) = steward_shared::rules::TRANSFER_MINUTES.refuse(i64::from(ttl)) {
        return Err(AppError::field("ttl_minutes", why));
    }
    let app = match application_id {
        Some(id) => Some(
            applications::Entity::find_by_id(id)
                .one(&state.db)
                .await?
                .ok_or_else(|| AppError::unknown("application_id", "is not an installed application"))?,
        ),
        None => None,
    };
    let now = Utc::now();
    let id = Uuid::now_v7();
    let expires_at = now + Duration::minutes(i64::from(ttl));
    let token = state
        .jwt
        .issue_transfer(id, app.as_ref().map(|a| a.name.clone()), now.timestamp() as u64, u64::from(ttl) * 60)
        .map_err(AppError::internal)?;
    let txn = crate::store::begin(&state.db).await?;
    transfer_tokens::ActiveModel {
        id: Set(id),
        application_id: Set(app.as_ref().map(|a| a.id)),
        created_by: Set(actor.author_id()),
        created_at: Set(now),
        expires_at: Set(expires_at),
        used_at: Set(None),
        used_from: Set(None),
    }
    .insert(&txn)
    .await?;
    let event = Event::new("transfer.mint", "success").by(actor).target("transfer_token", id).summary(json!({
        "application": app.as_ref().map(|a| a.name.clone()), "expires_at": expires_at,
    }));
    audit::append(&txn, meta, event).await?;
    txn.commit().await?;
    Ok(TransferToken { id, token, application: app.map(|a| a.name), expires_at })
}

/// The export endpoint's work: checks the token, spends it, and gathers the bundles it names.
pub async fn export(state: &AppState, meta: &RequestMeta, bearer: Option<&str>) -> AppResult<TransferExport> {
    let invalid =
        || AppError::unauthenticated("transfer_token_invalid", "This is not a transfer token of this platform.");
    let token = bearer.ok_or_else(|| {
        AppError::unauthenticated(
            "transfer_token_invalid",
            "Send the transfer token as `Authorization: Bearer <token>`.",
        )
    })?;
    let claims = state.jwt.verify_transfer(token).map_err(|e| match e.kind() {
        jsonwebtoken::errors::ErrorKind::ExpiredSignature => AppError::Gone {
            code: "transfer_token_expired",
            detail: "This transfer token has expired; mint another on the source platform.".into(),
        },
        _ => invalid(),
    })?;
    let row = transfer_tokens::Entity::find_by_id(claims.jti).one(&state.db).await?.ok_or_else(invalid)?;
    // Spent before anything is read: a token raced twice is good for one of them.
    let now = Utc::now();
    let spent = transfer_tokens::Entity::update_many()
        .col_expr(transfer_tokens::Column::UsedAt, Expr::value(now))
        .col_expr(transfer_tokens::Column::UsedFrom, Expr::value(meta.ip.clone()))
        .filter(transfer_tokens::Column::Id.eq(row.id))
        .filter(transfer_tokens::Column::UsedAt.is_null())
        .exec(&state.db)
        .await?;
    if spent.rows_affected != 1 {
        return Err(AppError::Gone {
            code: "transfer_token_used",
            detail: "This transfer token has been used already; mint another on the source platform.".into(),
        });
    }
    let apps = match row.application_id {
        Some(id) => applications::Entity::find_by_id(id).all(&state.db).await?,
        None => applications::Entity::find().order_by_asc(applications::Column::Name).all(&state.db).await?,
    };
    if row.application_id.is_some() && apps.is_empty() {
        return Err(AppError::NotFound("The application this token names has been deleted.".into()));
    }
    let mut out = Vec::new();
    for app in apps {
        let Some(version_id) = app.current_version_id else { continue };
        let version = application_versions::Entity::find_by_id(version_id).one(&state.db).await?;
        let archive = application_bundles::Entity::find_by_id(version_id).one(&state.db).await?;
        let (Some(version), Some(archive)) = (version, archive) else { continue };
        out.push(ExportedApplication {
            name: app.name,
            version: version.version,
            digest: version.digest,
            archive_sha256: bundle::digest(&archive.bundle),
            archive_base64: base64::engine::general_purpose::STANDARD.encode(&archive.bundle),
        });
    }
    let names: Vec<&str> = out.iter().map(|a| a.name.as_str()).collect();
    // Authored by the admin who minted the token (the caller has no account here).
    let minter = users::Entity::find_by_id(row.created_by).one(&state.db).await?;
    let mut event = Event::new("transfer.export", "success");
    if let Some(u) = minter {
        event = event.actor(u.id, u.customer_id);
    }
    let event = event.target("transfer_token", row.id).summary(json!({ "applications": names, "to": meta.ip }));
    let txn = crate::store::begin(&state.db).await?;
    audit::append(&txn, meta, event).await?;
    txn.commit().await?;
    Ok(TransferExport { applications: out })
}

/// Fetches the export from the source with the token, verifies each bundle and installs it.
pub async fn import(
    state: &AppState,
    actor: &Actor,
    meta: &RequestMeta,
    body: TransferFrom,
) -> AppResult<TransferReport> {
    let mut v = Validator::new();
    let source = match reqwest::Url::parse(body.source_url.trim()) {
        Ok(u) if ["http", "https"].contains(&u.scheme()) && u.host().is_some() => Some(u),
        _ => {
            v.error("source_url", "must be the source platform's http(s) address");
            None
        }
    };
    let token = body.token.trim().to_owned();
    if token.is_empty() || token.len() > 4096 {
        v.error("token", "paste the transfer token minted on the source platform");
    }
    v.finish()?;
    let Some(mut url) = source else { return Err(AppError::field("source_url", "is required")) };
    let source_url = url.as_str().trim_end_matches('/').to_owned();
    url.set_path(&format!("{}/api/transfer/export", url.path().trim_end_matches('/')));
    let export = fetch(url, &token).await?;
    // Verify everything before installing anything.
    let mut bundles = Vec::new();
    for app in &export.applications {
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(&app.archive_base64)
            .map_err(|_| upstream("transfer_unverified", format!("The bundle of `{}` is not base64.", app.name)))?;
        if bundle::digest(&bytes) != app.archive_sha256 {
            return Err(upstream(
                "transfer_unverified",
                format!("The archive of `{}` does not match the digest the source stated.", app.name),
            ));
        }
        let unpacked =
            tokio::task::spawn_blocking(move || Bundle::from_archive(&bytes)).await.map_err(AppError::internal)??;
        let digest = bundle::files_digest(unpacked.files.iter().map(|(k, v)| (k.as_str(), v.as_slice())));
        if digest != app.digest {
            return Err(upstream(
                "transfer_unverified",
                format!("The files of `{}` do not match the digest the source stated.", app.name),
            ));
        }
        bundles.push((app.name.clone(), unpacked));
    }
    let mut installed = Vec::new();
    for (name, b) in bundles {
        let existing = applications::Entity::find().filter(applications::Column::Name.eq(name)).one(&state.db).await?;
        installed.push(install::install(state, actor, meta, b, Origin::archive(), existing.as_ref()).await?);
    }
    let names: Vec<String> =
        installed.iter().map(|r| format!("{} {}", r.application.name, r.version.version)).collect();
    let event = Event::new("transfer.import", "success")
        .by(actor)
        .target("transfer", source_url.clone())
        .summary(json!({ "from": source_url, "applications": names }));
    let txn = crate::store::begin(&state.db).await?;
    audit::append(&txn, meta, event).await?;
    txn.commit().await?;
    Ok(TransferReport { source_url, installed })
}

fn upstream(code: &'static str, detail: String) -> AppError {
    AppError::Upstream { code, detail }
}

/// GETs the export, reading at most `EXPORT_MAX_BYTES`; a refusal carries the source's words.
async fn fetch(url: reqwest::Url, token: &str) -> AppResult<TransferExport> {
    let client = reqwest::Client::builder()
        .timeout(std::time::Duration::from_secs(120))
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .map_err(AppError::internal)?;
    let mut res = client.get(url.clone()).bearer_auth(token).send().await.map_err(|e| {
        upstream("transfer_source_unreachable", format!("The source platform at {url} could not be reached: {e}"))
    })?;
    let status = res.status();
    let mut body = Vec::new();
    while let Some(chunk) = res
        .chunk()
        .await
        .map_err(|e| upstream("transfer_source_unreachable", format!("Reading the export failed: {e}")))?
    {
        if body.len() + chunk.len() > EXPORT_MAX_BYTES {
            return Err(upstream("transfer_too_large", format!("The export is larger than {EXPORT_MAX_BYTES} bytes.")));
        }
        body.extend_from_slice(&chunk);
    }
    if !status.is_success() {
        let problem: Option<steward_shared::problem::Problem> = serde_json::from_slice(&body).ok();
        let detail = match problem {
            Some(p) => format!(
                "The source refused the transfer ({}, `{}`): {}",
                status.as_u16(),
                p.code(),
                p.detail.clone().unwrap_or_else(|| p.title.clone())
            ),
            None => format!("The source answered {status}; is {url} a Steward platform?"),
        };
        return Err(upstream("transfer_refused", detail));
    }
    serde_json::from_slice(&body)
        .map_err(|e| upstream("transfer_refused", format!("The source's answer is not a Steward export: {e}")))
}
