//! The append-only, hash-chained audit log. Events are written in the same transaction as
//! the change they record; appends are serialised so the chain never forks.
//!
//! The chain is keyed: each event's hash is an HMAC-SHA256, with a key kept outside the
//! database, over its canonical content, its key id and the previous event's hash. Signed
//! checkpoints of (sequence, head) are kept in `audit_checkpoints` and appended to a file
//! beside the data, so deleting the newest events is found too: every second by default, so
//! at most the last second of events can vanish unseen (see README, Security).

use chrono::{DateTime, SubsecRound, Utc};
use sea_orm::{ConnectionTrait, DbBackend, EntityTrait, QueryOrder, QuerySelect, Statement};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use steward_shared::api::{AuditCheckpoint, AuditVerification};
use uuid::Uuid;

use crate::http::error::{AppError, AppResult};
use crate::http::request_meta::RequestMeta;
use crate::secrets::AuditKeys;
use crate::store::entities::{audit_checkpoints, audit_events};

/// The hash the first event chains to.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// Any fixed number: the PostgreSQL advisory lock that serialises appends across replicas.
const APPEND_LOCK: i64 = 0x0053_5445_5741_5244;

/// What happened; the caller fills what it knows.
#[derive(Debug, Clone)]
pub struct Event {
    pub action: &'static str,
    /// `success`, `failure` or `refused`.
    pub outcome: &'static str,
    pub customer_id: Option<Uuid>,
    pub actor_user_id: Option<Uuid>,
    pub impersonated_user_id: Option<Uuid>,
    pub target_type: Option<&'static str>,
    pub target_id: Option<String>,
    pub summary: Value,
}

impl Event {
    pub fn new(action: &'static str, outcome: &'static str) -> Self {
        Self {
            action,
            outcome,
            customer_id: None,
            actor_user_id: None,
            impersonated_user_id: None,
            target_type: None,
            target_id: None,
            summary: json!({}),
        }
    }

    pub fn actor(mut self, user: Uuid, customer: Uuid) -> Self {
        self.actor_user_id = Some(user);
        self.customer_id = Some(customer);
        self
    }

    /// Authored by `actor`: the real admin while impersonating, with the target recorded.
    pub fn by(mut self, actor: &crate::access::Actor) -> Self {
        self.actor_user_id = Some(actor.author_id());
        self.impersonated_user_id = actor.impersonator.as_ref().map(|_| actor.user.id);
        self.customer_id = Some(actor.customer_id());
        self
    }

    pub fn target(mut self, kind: &'static str, id: impl ToString) -> Self {
        self.target_type = Some(kind);
        self.target_id = Some(id.to_string());
        self
    }

    pub fn summary(mut self, summary: Value) -> Self {
        self.summary = summary;
        self
    }
}

/// Appends one event. Call inside the transaction of the change it records (on PostgreSQL the
/// serialising lock is transaction-scoped, so a bare connection would not serialise).
pub async fn append<C: ConnectionTrait>(conn: &C, meta: &RequestMeta, event: Event) -> AppResult<()> {
    if conn.get_database_backend() == DbBackend::Postgres {
        conn.execute_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            "SELECT pg_advisory_xact_lock($1)",
            [APPEND_LOCK.into()],
        ))
        .await?;
    }
    let last = head(conn).await?;
    let (seq, prev_hash) = match last {
        Some((seq, hash)) => (seq + 1, hash),
        None => (1, GENESIS.to_string()),
    };
    let mut model = audit_events::Model {
        seq,
        id: Uuid::now_v7(),
        occurred_at: Utc::now().trunc_subsecs(6),
        customer_id: event.customer_id,
        actor_user_id: event.actor_user_id,
        impersonated_user_id: event.impersonated_user_id,
        action: event.action.into(),
        outcome: event.outcome.into(),
        target_type: event.target_type.map(Into::into),
        target_id: event.target_id,
        request_id: meta.request_id.clone(),
        ip: meta.ip.clone(),
        user_agent: meta.user_agent.clone(),
        summary: event.summary,
        prev_hash,
        hash: String::new(),
        key_id: None,
    };
    let keys = meta
        .audit_keys
        .as_deref()
        .ok_or_else(|| AppError::internal("no audit keyring reached this request: the event cannot be chained"))?;
    model.key_id = Some(keys.current_id().to_owned());
    model.hash = hash(&model, keys).ok_or_else(|| AppError::internal("the current audit key is missing"))?;
    let refused = model.outcome == "refused";
    let active: audit_events::ActiveModel = model.into();
    audit_events::Entity::insert(active).exec_without_returning(conn).await?;
    if refused {
        crate::http::request_id::mark_refusal_audited();
    }
    Ok(())
}

/// The event's hash: HMAC-SHA256 with its key over its canonical content, key id and the
/// previous event's hash; for an event written before keying (no key id), plain SHA-256 over
/// the content and the previous hash. `None` when its key is not in the keyring.
pub fn hash(e: &audit_events::Model, keys: &AuditKeys) -> Option<String> {
    let mut canonical = vec![
        json!(e.seq),
        json!(e.id),
        json!(timestamp(&e.occurred_at)),
        json!(e.customer_id),
        json!(e.actor_user_id),
        json!(e.impersonated_user_id),
        json!(e.action),
        json!(e.outcome),
        json!(e.target_type),
        json!(e.target_id),
        json!(e.request_id),
        json!(e.ip),
        json!(e.user_agent),
        e.summary.clone(),
        json!(e.prev_hash),
    ];
    match &e.key_id {
        None => Some(hex::encode(Sha256::digest(Value::Array(canonical).to_string().as_bytes()))),
        Some(id) => {
            canonical.push(json!(id));
            keys.sign(id, Value::Array(canonical).to_string().as_bytes())
        }
    }
}

/// The newest event's sequence and hash.
async fn head<C: ConnectionTrait>(conn: &C) -> AppResult<Option<(i64, String)>> {
    Ok(audit_events::Entity::find()
        .select_only()
        .column(audit_events::Column::Seq)
        .column(audit_events::Column::Hash)
        .order_by_desc(audit_events::Column::Seq)
        .limit(1)
        .into_tuple()
        .one(conn)
        .await?)
}

/// What a checkpoint signs.
fn checkpoint_text(seq: i64, head: &str) -> String {
    format!("steward-audit-checkpoint:{seq}:{head}")
}

/// Signs the chain's current head into `audit_checkpoints` and appends it to the checkpoint
/// file; nothing when the newest checkpoint already names this head. Returns it.
pub async fn checkpoint(
    db: &sea_orm::DatabaseConnection,
    keys: &AuditKeys,
    file: &std::path::Path,
) -> AppResult<Option<AuditCheckpoint>> {
    use sea_orm::{ActiveModelTrait, Set};
    let head = head(db).await?;
    let Some((seq, head)) = head else { return Ok(None) };
    if audit_checkpoints::Entity::find_by_id(seq).one(db).await?.is_some() {
        return Ok(None);
    }
    let key_id = keys.current_id().to_owned();
    let signature = keys
        .sign(&key_id, checkpoint_text(seq, &head).as_bytes())
        .ok_or_else(|| AppError::internal("the current audit key is missing"))?;
    let row = audit_checkpoints::ActiveModel {
        seq: Set(seq),
        head_hash: Set(head),
        key_id: Set(key_id),
        signature: Set(signature),
        created_at: Set(Utc::now().trunc_subsecs(6)),
    }
    .insert(db)
    .await;
    let row = match row {
        Ok(row) => row,
        // Another replica signed this head in the same second: one checkpoint is enough.
        Err(e) if matches!(e.sql_err(), Some(sea_orm::SqlErr::UniqueConstraintViolation(_))) => return Ok(None),
        Err(e) => return Err(e.into()),
    };
    let line = serde_json::to_string(&row_json(&row)).map_err(AppError::internal)?;
    let appended = (|| -> std::io::Result<()> {
        use std::io::Write;
        let mut f = std::fs::OpenOptions::new().create(true).append(true).open(file)?;
        writeln!(f, "{line}")
    })();
    if let Err(e) = appended {
        tracing::error!(error = %e, file = %file.display(), "could not append the audit checkpoint to its file");
    }
    tracing::debug!(seq = row.seq, head = %row.head_hash, "audit checkpoint");
    Ok(Some(as_checkpoint(&row)))
}

fn row_json(row: &audit_checkpoints::Model) -> Value {
    json!({ "seq": row.seq, "head_hash": row.head_hash, "key_id": row.key_id, "signature": row.signature, "created_at": row.created_at })
}

fn as_checkpoint(row: &audit_checkpoints::Model) -> AuditCheckpoint {
    AuditCheckpoint { seq: row.seq, head_hash: row.head_hash.clone(), created_at: row.created_at }
}

/// Where this replica appends its checkpoints.
pub fn checkpoints_file(config: &crate::config::Config) -> std::path::PathBuf {
    config.audit_checkpoints_file.clone().unwrap_or_else(|| config.data_dir.join("audit-checkpoints"))
}

/// Takes a checkpoint every `every`, for as long as the process runs.
pub fn spawn_checkpoints(
    db: sea_orm::DatabaseConnection,
    keys: std::sync::Arc<AuditKeys>,
    file: std::path::PathBuf,
    every: std::time::Duration,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(every);
        loop {
            tick.tick().await;
            if let Err(e) = checkpoint(&db, &keys, &file).await {
                tracing::error!(error = %e, "could not take an audit checkpoint");
            }
        }
    })
}

/// The newest checkpoint in the database.
pub async fn newest_checkpoint<C: ConnectionTrait>(conn: &C) -> AppResult<Option<AuditCheckpoint>> {
    let row = audit_checkpoints::Entity::find().order_by_desc(audit_checkpoints::Column::Seq).one(conn).await?;
    Ok(row.as_ref().map(as_checkpoint))
}

/// Every checkpoint known, from the table and the file, by sequence (the file's win: they are
/// the ones an intruder in the database could not remove).
async fn all_checkpoints<C: ConnectionTrait>(
    conn: &C,
    file: &std::path::Path,
) -> AppResult<std::collections::BTreeMap<i64, audit_checkpoints::Model>> {
    let mut all: std::collections::BTreeMap<i64, audit_checkpoints::Model> =
        audit_checkpoints::Entity::find().all(conn).await?.into_iter().map(|c| (c.seq, c)).collect();
    if let Ok(text) = std::fs::read_to_string(file) {
        for line in text.lines().filter(|l| !l.trim().is_empty()) {
            let v: Value = serde_json::from_str(line).unwrap_or(Value::Null);
            let parsed = (|| {
                Some(audit_checkpoints::Model {
                    seq: v.get("seq")?.as_i64()?,
                    head_hash: v.get("head_hash")?.as_str()?.to_owned(),
                    key_id: v.get("key_id")?.as_str()?.to_owned(),
                    signature: v.get("signature")?.as_str()?.to_owned(),
                    created_at: serde_json::from_value(v.get("created_at")?.clone()).ok()?,
                })
            })();
            if let Some(c) = parsed {
                all.insert(c.seq, c);
            }
        }
    }
    Ok(all)
}

fn timestamp(t: &DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
}

/// Recomputes the chain in order, in batches (constant memory), and holds it against every
/// signed checkpoint (table and file); stops at the first problem.
pub async fn verify<C: ConnectionTrait>(
    conn: &C,
    keys: &AuditKeys,
    checkpoints_file: &std::path::Path,
) -> AppResult<AuditVerification> {
    use sea_orm::{ColumnTrait, QueryFilter};
    let checkpoints = all_checkpoints(conn, checkpoints_file).await?;
    let mut report = AuditVerification {
        ok: true,
        events_checked: 0,
        first_broken_seq: None,
        problem: None,
        last_hash: None,
        checkpoint: None,
        checkpoints_checked: 0,
        unkeyed_events: 0,
    };
    let broken = |mut r: AuditVerification, seq: i64, problem: String| {
        r.ok = false;
        r.first_broken_seq = Some(seq);
        r.problem = Some(problem);
        Ok(r)
    };
    for c in checkpoints.values() {
        if keys.sign(&c.key_id, checkpoint_text(c.seq, &c.head_hash).as_bytes()).as_deref()
            != Some(c.signature.as_str())
        {
            return broken(
                report,
                c.seq,
                format!("the checkpoint at event {} has no valid signature (forged, or its key is gone)", c.seq),
            );
        }
    }
    let mut prev = GENESIS.to_string();
    let mut expected_seq = 1i64;
    let mut keyed = false;
    loop {
        let batch = audit_events::Entity::find()
            .filter(audit_events::Column::Seq.gte(expected_seq))
            .order_by_asc(audit_events::Column::Seq)
            .limit(1000)
            .all(conn)
            .await?;
        if batch.is_empty() {
            break;
        }
        for e in batch {
            let problem = if e.seq != expected_seq {
                Some(format!("event {expected_seq} is missing (next is {})", e.seq))
            } else if e.prev_hash != prev {
                Some("its previous-hash does not match the event before it".to_string())
            } else if e.key_id.is_none() && keyed {
                Some("it is unkeyed after keyed events (rewritten without the key)".to_string())
            } else if let Some(id) = e.key_id.as_deref().filter(|id| keys.sign(id, b"").is_none()) {
                Some(format!("it was chained with the key `{id}`, which this keyring does not hold"))
            } else if hash(&e, keys).as_deref() != Some(e.hash.as_str()) {
                Some("its content does not match its hash (edited after it was written)".to_string())
            } else if checkpoints.get(&e.seq).is_some_and(|c| c.head_hash != e.hash) {
                Some("it differs from the signed checkpoint taken when it was the newest event".to_string())
            } else {
                None
            };
            if let Some(problem) = problem {
                report.last_hash = Some(prev);
                return broken(report, expected_seq.min(e.seq), problem);
            }
            keyed |= e.key_id.is_some();
            report.unkeyed_events += u64::from(e.key_id.is_none());
            if let Some(c) = checkpoints.get(&e.seq) {
                report.checkpoint = Some(as_checkpoint(c));
                report.checkpoints_checked += 1;
            }
            prev = e.hash;
            expected_seq += 1;
            report.events_checked += 1;
        }
    }
    report.last_hash = (report.events_checked > 0).then_some(prev);
    // A checkpoint beyond the last event: the newest events were deleted.
    if let Some((seq, c)) = checkpoints.range(expected_seq..).next() {
        let at = c.created_at.to_rfc3339();
        return broken(
            report,
            expected_seq,
            format!("events from {expected_seq} on are missing: a signed checkpoint from {at} names event {seq} as the head"),
        );
    }
    Ok(report)
}
