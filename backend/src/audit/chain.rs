//! The append-only, hash-chained audit log. Events are written in the same transaction as
//! the change they record; appends are serialised so the chain never forks.

use crate::http::error::AppResult;
use crate::http::request_meta::RequestMeta;
use crate::store::entities::audit_events;
use chrono::{DateTime, SubsecRound, Utc};
use sea_orm::{ConnectionTrait, DbBackend, EntityTrait, QueryOrder, QuerySelect, Statement};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use uuid::Uuid;

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
    let last: Option<(i64, String)> = audit_events::Entity::find()
        .select_only()
        .column(audit_events::Column::Seq)
        .column(audit_events::Column::Hash)
        .order_by_desc(audit_events::Column::Seq)
        .limit(1)
        .into_tuple()
        .one(conn)
        .await?;
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
    };
    model.hash = hash(&model);
    let refused = model.outcome == "refused";
    let active: audit_events::ActiveModel = model.into();
    audit_events::Entity::insert(active).exec_without_returning(conn).await?;
    if refused {
        crate::http::request_id::mark_refusal_audited();
    }
    Ok(())
}

/// SHA-256 over the event's canonical content and the previous event's hash.
pub fn hash(e: &audit_events::Model) -> String {
    let canonical = json!([
        e.seq,
        e.id,
        timestamp(&e.occurred_at),
        e.customer_id,
        e.actor_user_id,
        e.impersonated_user_id,
        e.action,
        e.outcome,
        e.target_type,
        e.target_id,
        e.request_id,
        e.ip,
        e.user_agent,
        e.summary,
        e.prev_hash,
    ]);
    hex::encode(Sha256::digest(canonical.to_string().as_bytes()))
}

fn timestamp(t: &DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
}

/// Recomputes the chain in order, in batches (constant memory); stops at the first broken link.
pub async fn verify<C: ConnectionTrait>(conn: &C) -> AppResult<steward_shared::api::AuditVerification> {
    use sea_orm::{ColumnTrait, QueryFilter};
    let mut prev = GENESIS.to_string();
    let mut expected_seq = 1i64;
    let mut checked = 0u64;
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
            } else if hash(&e) != e.hash {
                Some("its content does not match its hash (edited after it was written)".to_string())
            } else {
                None
            };
            if let Some(problem) = problem {
                return Ok(steward_shared::api::AuditVerification {
                    ok: false,
                    events_checked: checked,
                    first_broken_seq: Some(expected_seq.min(e.seq)),
                    problem: Some(problem),
                    last_hash: Some(prev),
                });
            }
            prev = e.hash;
            expected_seq += 1;
            checked += 1;
        }
    }
    Ok(steward_shared::api::AuditVerification {
        ok: true,
        events_checked: checked,
        first_broken_seq: None,
        problem: None,
        last_hash: (checked > 0).then_some(prev),
    })
}
