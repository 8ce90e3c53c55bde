//! Outgoing mail. Every mail is written to `outbox_mail` inside the transaction of the action
//! that sends it (so a rolled-back action sends nothing), then delivered by lettre over SMTP
//! when SMTP is configured; without SMTP it stays in the outbox, listed for admins.
//!
//! Delivery claims a row with a compare-and-swap on `locked_until`, so several replicas never
//! send one mail twice; a failed attempt is recorded and retried up to five times.

use chrono::Utc;
use lettre::message::header::ContentType;
use lettre::message::Mailbox;
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Tls, TlsParameters};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Set,
};
use serde::Deserialize;
use std::time::Duration;
use steward_shared::api::{OutboxMail, Page};
use uuid::Uuid;

use crate::access::names::Names;
use crate::access::scope::Scope;
use crate::access::Actor;
use crate::config::Config;
use crate::http::error::{AppError, AppResult};
use crate::http::pagination::{self, Cursor};
use crate::state::AppState;
use crate::store::entities::outbox_mail;

pub(super) const MAX_ATTEMPTS: i32 = 5;

/// Where a mail is: `sent`, `waiting`, `retrying` or `failed` (out of attempts).
pub fn status_of(m: &outbox_mail::Model) -> &'static str {
    match (m.sent_at, m.attempts) {
        (Some(_), _) => "sent",
        (None, 0) => "waiting",
        (None, n) if n < MAX_ATTEMPTS => "retrying",
        _ => "failed",
    }
}

/// What a stored body says where its link's single-use token goes: the outbox never holds a
/// working credential; delivery puts the token in (see [`enqueue_with_token`]).
pub const TOKEN_SLOT: &str = "[single-use token: added when the mail is sent]";

/// Queues one mail (inside the caller's transaction).
pub async fn enqueue<C: ConnectionTrait>(
    conn: &C,
    customer: Option<Uuid>,
    kind: &str,
    to: &str,
    subject: &str,
    body: String,
) -> AppResult<Uuid> {
    insert(conn, customer, kind, to, subject, body, None).await
}

/// Queues a mail whose body carries a link with a single-use token: `body` says [`TOKEN_SLOT`]
/// where the token goes, and the token is kept sealed beside it until delivery.
#[allow(clippy::too_many_arguments)]
pub async fn enqueue_with_token<C: ConnectionTrait>(
    conn: &C,
    state: &AppState,
    customer: Option<Uuid>,
    kind: &str,
    to: &str,
    subject: &str,
    body: String,
    token: &str,
) -> AppResult<Uuid> {
    debug_assert!(body.contains(TOKEN_SLOT) && !body.contains(token));
    insert(conn, customer, kind, to, subject, body, Some(state.jwt.seal(token))).await
}

async fn insert<C: ConnectionTrait>(
    conn: &C,
    customer: Option<Uuid>,
    kind: &str,
    to: &str,
    subject: &str,
    body: String,
    secret_sealed: Option<String>,
) -> AppResult<Uuid> {
    let row = outbox_mail::ActiveModel {
        id: Set(Uuid::now_v7()),
        customer_id: Set(customer),
        kind: Set(kind.into()),
        to_address: Set(to.into()),
        subject: Set(subject.into()),
        body_text: Set(body),
        created_at: Set(Utc::now()),
        sent_at: Set(None),
        attempts: Set(0),
        last_error: Set(None),
        locked_until: Set(None),
        secret_sealed: Set(secret_sealed),
    }
    .insert(conn)
    .await?;
    Ok(row.id)
}

/// The SMTP transport of this configuration, or `None` when mail stays in the outbox.
pub fn transport(config: &Config) -> anyhow::Result<Option<AsyncSmtpTransport<Tokio1Executor>>> {
    let Some(host) = config.smtp_server() else {
        return Ok(None);
    };
    let mut builder = match config.smtp_security.as_str() {
        "none" => AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(host),
        "tls" => AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(host)
            .tls(Tls::Wrapper(TlsParameters::new(host.into())?)),
        "starttls" => AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(host)
            .tls(Tls::Required(TlsParameters::new(host.into())?)),
        other => anyhow::bail!("STEWARD_SMTP_SECURITY must be starttls, tls or none, not {other:?}"),
    }
    .port(config.smtp_port)
    .timeout(Some(Duration::from_secs(10)));
    if let (Some(user), Some(pass)) = (&config.smtp_username, &config.smtp_password) {
        builder = builder.credentials(Credentials::new(user.clone(), pass.clone()));
    }
    Ok(Some(builder.build()))
}

/// Delivers every pending mail this replica can claim; returns how many were sent.
pub async fn deliver_pending(state: &AppState) -> AppResult<usize> {
    let Some(smtp) = transport(&state.config).map_err(AppError::internal)? else {
        return Ok(0);
    };
    let from: Mailbox = state
        .config
        .smtp_from
        .parse()
        .map_err(|e| AppError::internal(format!("STEWARD_SMTP_FROM is not an address: {e}")))?;
    let now = Utc::now();
    let pending = outbox_mail::Entity::find()
        .filter(outbox_mail::Column::SentAt.is_null())
        .filter(outbox_mail::Column::Attempts.lt(MAX_ATTEMPTS))
        .filter(
            Condition::any()
                .add(outbox_mail::Column::LockedUntil.is_null())
                .add(outbox_mail::Column::LockedUntil.lt(now)),
        )
        .order_by_asc(outbox_mail::Column::CreatedAt)
        .limit(50)
        .all(&state.db)
        .await?;
    let mut sent = 0;
    for mail in pending {
        // Claim: only one replica wins the compare-and-swap on `locked_until`.
        let claimed = outbox_mail::Entity::update_many()
            .col_expr(outbox_mail::Column::LockedUntil, Expr::value(Some(now + chrono::Duration::seconds(60))))
            .col_expr(outbox_mail::Column::Attempts, Expr::col(outbox_mail::Column::Attempts).add(1))
            .filter(outbox_mail::Column::Id.eq(mail.id))
            .filter(outbox_mail::Column::SentAt.is_null())
            .filter(match mail.locked_until {
                Some(t) => Condition::all().add(outbox_mail::Column::LockedUntil.eq(t)),
                None => Condition::all().add(outbox_mail::Column::LockedUntil.is_null()),
            })
            .exec(&state.db)
            .await?;
        if claimed.rows_affected != 1 {
            continue;
        }
        let outcome = match build(&from, &mail, &state.jwt) {
            Ok(message) => smtp.send(message).await.map(|_| ()).map_err(|e| e.to_string()),
            Err(e) => Err(e),
        };
        let update = outbox_mail::Entity::update_many().filter(outbox_mail::Column::Id.eq(mail.id));
        match outcome {
            Ok(()) => {
                // Sent: the token is the recipient's alone now.
                update
                    .col_expr(outbox_mail::Column::SentAt, Expr::value(Some(Utc::now())))
                    .col_expr(outbox_mail::Column::LastError, Expr::value(Option::<String>::None))
                    .col_expr(outbox_mail::Column::SecretSealed, Expr::value(Option::<String>::None))
                    .exec(&state.db)
                    .await?;
                sent += 1;
            }
            Err(error) => {
                tracing::warn!(mail = %mail.id, %error, "mail delivery failed");
                update
                    .col_expr(outbox_mail::Column::LastError, Expr::value(Some(error)))
                    .col_expr(outbox_mail::Column::LockedUntil, Expr::value(Some(Utc::now())))
                    .exec(&state.db)
                    .await?;
            }
        }
    }
    Ok(sent)
}

pub(super) fn build(
    from: &Mailbox,
    mail: &outbox_mail::Model,
    keys: &crate::secrets::JwtKeys,
) -> Result<Message, String> {
    let to: Mailbox = mail.to_address.parse().map_err(|e| format!("bad recipient: {e}"))?;
    let body = match &mail.secret_sealed {
        Some(sealed) => {
            let token =
                keys.unseal(sealed).ok_or("the link's token cannot be unsealed (was the instance secret changed?)")?;
            mail.body_text.replace(TOKEN_SLOT, &token)
        }
        None => mail.body_text.clone(),
    };
    Message::builder()
        .from(from.clone())
        .to(to)
        .subject(mail.subject.clone())
        .header(ContentType::TEXT_PLAIN)
        .body(body)
        .map_err(|e| e.to_string())
}

/// Delivers the outbox in the background, every `every`.
pub fn spawn(state: AppState, every: Duration) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        if state.config.smtp_server().is_none() {
            tracing::info!("no SMTP server configured: mail stays in the outbox");
            return;
        }
        let mut tick = tokio::time::interval(every);
        loop {
            tick.tick().await;
            if let Err(e) = deliver_pending(&state).await {
                tracing::warn!(error = %e, "outbox delivery pass failed");
            }
        }
    })
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct OutboxQuery {
    /// Only mail not delivered yet.
    #[serde(default)]
    pub pending: bool,
    pub limit: Option<u64>,
    pub cursor: Option<String>,
}

/// The outbox in scope, newest first: what was sent, what waits, what failed.
///
/// Bodies are shown to super admins only, and as stored: a link's single-use token is never in
/// them (it is sealed apart until delivery).
pub async fn list_outbox(
    state: &AppState,
    actor: &Actor,
    scope: &Scope,
    q: OutboxQuery,
) -> AppResult<Page<OutboxMail>> {
    let limit = pagination::limit(q.limit)?;
    let mut query = outbox_mail::Entity::find().filter(scope.condition(outbox_mail::Column::CustomerId));
    if q.pending {
        query = query.filter(outbox_mail::Column::SentAt.is_null());
    }
    if let Some(raw) = &q.cursor {
        query = query.filter(outbox_mail::Column::Id.lt(Cursor::decode(raw)?.id));
    }
    let rows = query.order_by_desc(outbox_mail::Column::Id).limit(limit + 1).all(&state.db).await?;
    let (rows, next_cursor) = pagination::finish(rows, limit, |m| Cursor { key: None, id: m.id });
    let bodies = actor.is_super_admin() && actor.impersonator.is_none();
    let names = Names::of(&state.db, rows.iter().filter_map(|m| m.customer_id), [], []).await?;
    let items = rows.into_iter().map(|m| wire(m, &names, bodies)).collect();
    Ok(Page { items, next_cursor })
}

/// Resend a mail the outbox gave up on (`failed`): its attempts start again at the next
/// delivery pass (a link in it works for as long as its token does). Audited.
pub async fn resend_mail(
    state: &AppState,
    actor: &Actor,
    scope: &Scope,
    meta: &crate::http::request_meta::RequestMeta,
    id: uuid::Uuid,
) -> AppResult<OutboxMail> {
    // Another tenant's mail is a recorded refusal answered as "not found"; the scope narrows
    // further (platform mail is in no tenant's scope).
    let mail = actor.tenant_row(
        outbox_mail::Entity::find_by_id(id).one(&state.db).await?,
        |m| m.customer_id,
        "No such mail.",
    )?;
    if scope.customer_id().is_some_and(|c| mail.customer_id != Some(c)) {
        return Err(AppError::NotFound("No such mail.".into()));
    }
    if state.config.smtp_server().is_none() {
        return Err(AppError::Conflict {
            code: "smtp_not_configured",
            field: None,
            detail: "No SMTP server is configured: mail stays in the outbox, so resending would do nothing.".into(),
        });
    }
    if status_of(&mail) != "failed" {
        return Err(AppError::Conflict {
            code: "not_failed",
            field: None,
            detail: format!("This mail is {}: only mail the outbox gave up on is resent.", status_of(&mail)),
        });
    }
    let txn = crate::store::begin(&state.db).await?;
    // Compare-and-swap on the attempts: two resends at once make one.
    let reset = outbox_mail::Entity::update_many()
        .col_expr(outbox_mail::Column::Attempts, Expr::value(0))
        .col_expr(outbox_mail::Column::LockedUntil, Expr::value(Option::<chrono::DateTime<Utc>>::None))
        .filter(outbox_mail::Column::Id.eq(mail.id))
        .filter(outbox_mail::Column::SentAt.is_null())
        .filter(outbox_mail::Column::Attempts.eq(mail.attempts))
        .exec(&txn)
        .await?;
    if reset.rows_affected != 1 {
        return Err(AppError::Conflict {
            code: "not_failed",
            field: None,
            detail: "This mail changed meanwhile; look again.".into(),
        });
    }
    let event = crate::audit::Event::new("mail.resend", "success").by(actor).target("mail", mail.id).summary(
        serde_json::json!({ "to": mail.to_address, "kind": mail.kind, "before": { "attempts": mail.attempts, "last_error": mail.last_error } }),
    );
    crate::audit::append(&txn, meta, crate::audit::Event { customer_id: mail.customer_id, ..event }).await?;
    txn.commit().await?;
    let updated = outbox_mail::Entity::find_by_id(mail.id)
        .one(&state.db)
        .await?
        .ok_or_else(|| AppError::internal("mail vanished"))?;
    let names = Names::of(&state.db, updated.customer_id, [], []).await?;
    Ok(wire(updated, &names, actor.is_super_admin() && actor.impersonator.is_none()))
}

/// A mail as the API shows it: its customer named, its status, its body only to super admins
/// (`bodies`), and as stored (no working link in it).
fn wire(m: outbox_mail::Model, names: &Names, bodies: bool) -> OutboxMail {
    OutboxMail {
        id: m.id,
        customer_id: m.customer_id.map(Into::into),
        customer_name: m.customer_id.map(|c| names.customer(c)),
        status: status_of(&m).into(),
        kind: m.kind,
        to_address: m.to_address,
        subject: m.subject,
        body_text: bodies.then_some(m.body_text),
        created_at: m.created_at,
        sent_at: m.sent_at,
        attempts: m.attempts,
        last_error: m.last_error,
    }
}
