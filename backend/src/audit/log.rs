//! The audit log: browse with filters (keyset on `seq`), verify the hash chain, and export
//! the current filter scope as CSV streamed in batches (constant memory at any size).

use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, DatabaseConnection, DbBackend, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect,
};
use serde::Deserialize;
use steward_shared::api::{AuditEvent, AuditVerification, Page};
use uuid::Uuid;

use crate::access::scope::Scope;
use crate::access::Actor;
use crate::http::error::{AppError, AppResult};
use crate::http::pagination;
use crate::state::AppState;
use crate::store::entities::{audit_events, users};

crate::http::pagination::closed_set! {
    /// How an audited action ended: done, failed, refused by a rule, or throttled (a sign-in
    /// while the account or address is locked).
    pub enum Outcome { Success = "success", Failure = "failure", Refused = "refused", Throttled = "throttled" }
}

#[derive(Debug, Clone, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AuditFilter {
    /// From this time (inclusive), RFC 3339.
    from: Option<DateTime<Utc>>,
    /// Until this time (exclusive), RFC 3339; at or before `from` nothing is selected.
    to: Option<DateTime<Utc>>,
    /// The acting user (events authored by them, also while impersonating).
    actor: Option<Uuid>,
    target_type: Option<String>,
    target_id: Option<String>,
    /// Only with `steward.admin.cross_tenant`: one customer's events (see also X-Steward-Scope).
    customer_id: Option<Uuid>,
    /// An action (`auth.login`) or a prefix ending in `.` (`role.`).
    action: Option<String>,
    /// `success`, `failure` or `refused`.
    #[param(inline)]
    outcome: Option<Outcome>,
    request_id: Option<String>,
}

/// The page of the browsing list (the export takes the whole filter, so it has none).
#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AuditPage {
    pub limit: Option<u64>,
    /// The `next_cursor` of the previous page (the `seq` to continue before: newest first).
    pub cursor: Option<String>,
}

impl AuditFilter {
    /// Refuses an id-valued filter naming what the caller may not see (never narrows it).
    pub(super) async fn check<C: sea_orm::ConnectionTrait>(
        &self,
        conn: &C,
        scope: &Scope,
        actor: &Actor,
    ) -> AppResult<()> {
        use crate::access::filters::{self, Named};
        if let Some(id) = self.customer_id {
            filters::customer(actor, "customer_id", id)?;
        }
        if let Some(id) = self.actor {
            if let Err(refused) = filters::thing(conn, actor, Some(scope), "actor", Named::User, id).await {
                // Platform staff act inside tenants (support, View as): someone who appears as
                // the actor of events the caller may read is theirs to filter by.
                let seen = audit_events::Entity::find()
                    .select_only()
                    .column(audit_events::Column::Seq)
                    .filter(self.customer_condition(scope))
                    .filter(audit_events::Column::ActorUserId.eq(id))
                    .into_tuple::<i64>()
                    .one(conn)
                    .await?;
                if seen.is_none() {
                    return Err(refused);
                }
            }
        }
        if let Some(id) = &self.target_id {
            filters::target(conn, actor, Some(scope), self.target_type.as_deref(), id).await?;
        }
        Ok(())
    }

    /// The customer the events come from: the `customer_id` filter, else the scope's customer.
    fn customer_condition(&self, scope: &Scope) -> Condition {
        match self.customer_id.or(scope.customer_id()) {
            Some(id) => Condition::all().add(audit_events::Column::CustomerId.eq(id)),
            None => Condition::all(),
        }
    }

    /// The filter as a condition; [`AuditFilter::check`] has refused what the caller may not ask.
    pub(super) fn condition(&self, scope: &Scope) -> AppResult<Condition> {
        let mut c = self.customer_condition(scope);
        if let Some(t) = self.from {
            c = c.add(audit_events::Column::OccurredAt.gte(t));
        }
        if let Some(t) = self.to {
            c = c.add(audit_events::Column::OccurredAt.lt(t));
        }
        if let Some(a) = self.actor {
            c = c.add(audit_events::Column::ActorUserId.eq(a));
        }
        if let Some(t) = &self.target_type {
            c = c.add(audit_events::Column::TargetType.eq(t.clone()));
        }
        if let Some(t) = &self.target_id {
            c = c.add(audit_events::Column::TargetId.eq(t.clone()));
        }
        if let Some(a) = &self.action {
            c = c.add(if a.ends_with('.') {
                audit_events::Column::Action.starts_with(a.clone())
            } else {
                audit_events::Column::Action.eq(a.clone())
            });
        }
        if let Some(o) = self.outcome {
            c = c.add(audit_events::Column::Outcome.eq(o.as_str()));
        }
        if let Some(r) = &self.request_id {
            c = c.add(audit_events::Column::RequestId.eq(r.clone()));
        }
        Ok(c)
    }
}

impl AuditPage {
    pub(super) fn cursor(&self) -> AppResult<Option<i64>> {
        self.cursor.as_deref().map(|c| c.parse::<i64>().map_err(|_| pagination::foreign_cursor())).transpose()
    }
}

pub(super) async fn emails(
    db: &DatabaseConnection,
    events: &[audit_events::Model],
) -> AppResult<std::collections::HashMap<Uuid, String>> {
    let ids: Vec<Uuid> = events.iter().flat_map(|e| [e.actor_user_id, e.impersonated_user_id]).flatten().collect();
    if ids.is_empty() {
        return Ok(Default::default());
    }
    Ok(users::Entity::find()
        .select_only()
        .column(users::Column::Id)
        .column(users::Column::Email)
        .filter(users::Column::Id.is_in(ids))
        .into_tuple::<(Uuid, String)>()
        .all(db)
        .await?
        .into_iter()
        .collect())
}

pub(super) fn dto(
    e: audit_events::Model,
    emails: &std::collections::HashMap<Uuid, String>,
    names: &crate::access::names::Names,
    targets: &std::collections::HashMap<(String, Uuid), String>,
) -> AuditEvent {
    let target_name = match (&e.target_type, e.target_id.as_deref().and_then(|t| t.parse::<Uuid>().ok())) {
        (Some(kind), Some(id)) => targets.get(&(kind.clone(), id)).cloned(),
        _ => None,
    };
    AuditEvent {
        seq: e.seq,
        id: e.id,
        occurred_at: e.occurred_at,
        customer_name: e.customer_id.map(|c| names.customer(c)),
        customer_id: e.customer_id.map(Into::into),
        actor_email: e.actor_user_id.and_then(|id| emails.get(&id).cloned()),
        actor_user_id: e.actor_user_id.map(Into::into),
        impersonated_email: e.impersonated_user_id.and_then(|id| emails.get(&id).cloned()),
        impersonated_user_id: e.impersonated_user_id.map(Into::into),
        action: e.action,
        outcome: e.outcome,
        target_type: e.target_type,
        target_id: e.target_id,
        target_name,
        request_id: e.request_id,
        ip: e.ip,
        user_agent: e.user_agent,
        summary: e.summary,
        summary_omitted: Vec::new(),
        hash: e.hash,
    }
}

/// A summary longer than this as stored JSON text is shortened in the list ([`ListedEvent`]).
pub const LIST_SUMMARY_BYTES: usize = 2048;
/// In a shortened summary, a key whose value is longer than this as JSON is left out.
pub const LIST_SUMMARY_VALUE_BYTES: usize = 256;

/// An event as the list reads it: a long summary (an object longer than [`LIST_SUMMARY_BYTES`])
/// is not read at all — the database answers `{}` and `summary_long`, and [`short_summaries`]
/// reads only its short values. A batch edit's `before` (up to 100 rows, ~9 KB) made a page of
/// 50 such events 443 KB, and parsing the stored summaries was most of the page's cost.
struct ListedEvent {
    event: audit_events::Model,
    summary_long: bool,
}

impl sea_orm::FromQueryResult for ListedEvent {
    fn from_query_result(row: &sea_orm::QueryResult, pre: &str) -> Result<Self, sea_orm::DbErr> {
        Ok(Self {
            event: audit_events::Model::from_query_result(row, pre)?,
            summary_long: row.try_get(pre, "summary_long")?,
        })
    }
}

/// Whether the stored summary is a long object (SQL over `audit_events`, per backend).
fn summary_is_long(backend: DbBackend) -> String {
    match backend {
        DbBackend::Postgres => {
            format!("(octet_length(summary::text) > {LIST_SUMMARY_BYTES} AND left(summary::text, 1) = '{{')")
        }
        _ => format!("(octet_length(summary) > {LIST_SUMMARY_BYTES} AND substr(summary, 1, 1) = '{{')"),
    }
}

/// The short values of long summaries, read by the database (`json_each`) so the long ones never
/// leave it: per event, the object without its values longer than [`LIST_SUMMARY_VALUE_BYTES`]
/// as JSON, and the keys left out (sorted).
async fn short_summaries(
    db: &DatabaseConnection,
    seqs: &[i64],
) -> AppResult<std::collections::HashMap<i64, (serde_json::Value, Vec<String>)>> {
    let backend = db.get_database_backend();
    let sql = match backend {
        DbBackend::Postgres => format!(
            "SELECT e.seq AS seq, j.key AS key, \
             CASE WHEN octet_length(j.value::text) <= {LIST_SUMMARY_VALUE_BYTES} THEN j.value::text END AS value \
             FROM audit_events e CROSS JOIN LATERAL json_each(e.summary) j \
             WHERE e.seq = ANY(ARRAY(SELECT json_array_elements_text($1::json)::bigint))"
        ),
        // json_each gives a string's text unquoted and true/false as 1/0: written back as JSON.
        _ => format!(
            "SELECT seq, key, CASE WHEN octet_length(v) <= {LIST_SUMMARY_VALUE_BYTES} THEN v END AS value FROM ( \
             SELECT e.seq AS seq, j.key AS key, CASE j.type WHEN 'object' THEN j.value WHEN 'array' THEN j.value \
             WHEN 'true' THEN 'true' WHEN 'false' THEN 'false' WHEN 'null' THEN 'null' ELSE json_quote(j.value) END AS v \
             FROM audit_events e, json_each(e.summary) j WHERE e.seq IN (SELECT value FROM json_each(?)))"
        ),
    };
    let wanted = serde_json::to_string(seqs).map_err(AppError::internal)?;
    let rows = db.query_all_raw(sea_orm::Statement::from_sql_and_values(backend, sql, [wanted.into()])).await?;
    let mut out: std::collections::HashMap<i64, (serde_json::Map<String, serde_json::Value>, Vec<String>)> =
        std::collections::HashMap::new();
    for row in rows {
        let seq: i64 = row.try_get("", "seq")?;
        let key: String = row.try_get("", "key")?;
        let value: Option<String> = row.try_get("", "value")?;
        let (kept, omitted) = out.entry(seq).or_default();
        match value {
            Some(text) => {
                kept.insert(key, serde_json::from_str(&text).map_err(AppError::internal)?);
            }
            None => omitted.push(key),
        }
    }
    Ok(out
        .into_iter()
        .map(|(seq, (kept, mut omitted))| {
            omitted.sort();
            (seq, (serde_json::Value::Object(kept), omitted))
        })
        .collect())
}

pub(super) const CSV_HEADER: &str = "seq,occurred_at,customer_id,actor_user_id,impersonated_user_id,action,outcome,target_type,target_id,request_id,ip,user_agent,summary,hash\n";

/// Writes one CSV cell: quoted when needed, and neutralised against formula injection
/// (a leading `=`, `+`, `-`, `@`, tab or carriage return gets a `'`).
pub(super) fn push_cell(out: &mut String, raw: &str) {
    let formula = matches!(raw.as_bytes().first(), Some(b'=' | b'+' | b'-' | b'@' | b'\t' | b'\r'));
    let quote = raw.contains([',', '"', '\n', '\r']);
    if quote {
        out.push('"');
    }
    if formula {
        out.push('\'');
    }
    if quote {
        for ch in raw.chars() {
            if ch == '"' {
                out.push('"');
            }
            out.push(ch);
        }
        out.push('"');
    } else {
        out.push_str(raw);
    }
}

/// One CSV cell as a string (see [`push_cell`]).
pub fn csv_cell(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len() + 2);
    push_cell(&mut out, raw);
    out
}

/// The exported columns, with the summary read as stored text (no JSON round trip).
#[derive(Debug, sea_orm::FromQueryResult)]
pub struct CsvRow {
    pub seq: i64,
    pub occurred_at: DateTime<Utc>,
    pub customer_id: Option<Uuid>,
    pub actor_user_id: Option<Uuid>,
    pub impersonated_user_id: Option<Uuid>,
    pub action: String,
    pub outcome: String,
    pub target_type: Option<String>,
    pub target_id: Option<String>,
    pub request_id: Option<String>,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    pub summary: String,
    pub hash: String,
}

pub(super) fn push_row(out: &mut String, e: &CsvRow) {
    let mut uuid_buf = Uuid::encode_buffer();
    let mut id = |out: &mut String, v: Option<Uuid>| {
        if let Some(v) = v {
            out.push_str(v.hyphenated().encode_lower(&mut uuid_buf));
        }
        out.push(',');
    };
    out.push_str(&e.seq.to_string());
    out.push(',');
    out.push_str(&e.occurred_at.to_rfc3339_opts(chrono::SecondsFormat::Micros, true));
    out.push(',');
    id(out, e.customer_id);
    id(out, e.actor_user_id);
    id(out, e.impersonated_user_id);
    for cell in [
        Some(e.action.as_str()),
        Some(e.outcome.as_str()),
        e.target_type.as_deref(),
        e.target_id.as_deref(),
        e.request_id.as_deref(),
        e.ip.as_deref(),
        e.user_agent.as_deref(),
        Some(e.summary.as_str()),
    ] {
        push_cell(out, cell.unwrap_or(""));
        out.push(',');
    }
    out.push_str(&e.hash);
    out.push('\n');
}

/// Audit events in scope, newest first.
pub async fn list_audit(
    state: &AppState,
    actor: &Actor,
    scope: &Scope,
    f: AuditFilter,
    page: AuditPage,
) -> AppResult<Page<AuditEvent>> {
    let limit = pagination::limit(page.limit)?;
    f.check(&state.db, scope, actor).await?;
    let is_long = summary_is_long(state.db.get_database_backend());
    let mut q = audit_events::Entity::find()
        .select_only()
        .columns(
            <audit_events::Column as sea_orm::Iterable>::iter().filter(|c| !matches!(c, audit_events::Column::Summary)),
        )
        .column_as(Expr::cust(format!("CASE WHEN {is_long} THEN '{{}}' ELSE summary END")), "summary")
        .column_as(Expr::cust(is_long), "summary_long")
        .filter(f.condition(scope)?);
    if let Some(seq) = page.cursor()? {
        q = q.filter(audit_events::Column::Seq.lt(seq));
    }
    let rows =
        q.order_by_desc(audit_events::Column::Seq).limit(limit + 1).into_model::<ListedEvent>().all(&state.db).await?;
    let more = rows.len() as u64 > limit;
    let rows: Vec<_> = rows.into_iter().take(limit as usize).collect();
    let next_cursor = if more { rows.last().map(|e| e.event.seq.to_string()) } else { None };
    let long: Vec<i64> = rows.iter().filter(|e| e.summary_long).map(|e| e.event.seq).collect();
    let mut short = if long.is_empty() { Default::default() } else { short_summaries(&state.db, &long).await? };
    let mut items = named(&state.db, rows.into_iter().map(|e| e.event).collect()).await?;
    for event in &mut items {
        if let Some((summary, omitted)) = short.remove(&event.seq) {
            (event.summary, event.summary_omitted) = (summary, omitted);
        }
    }
    Ok(Page { items, next_cursor })
}

/// One audit event in full, when the caller may see it: their own customer's, or with
/// `steward.admin.cross_tenant` any (the platform's own events included) — as every lookup by id
/// here, whatever the list's scope (the console opens an event from a list filtered to one
/// customer). Another tenant's event is answered like a missing one, and recorded as a refusal.
pub async fn get_event(state: &AppState, actor: &Actor, seq: i64) -> AppResult<AuditEvent> {
    const MISSING: &str = "No such audit event.";
    let event = audit_events::Entity::find_by_id(seq).one(&state.db).await?;
    let event = match event {
        None => return Err(AppError::NotFound(MISSING.into())),
        Some(e) => match e.customer_id {
            Some(c) if !actor.sees_customer(c) => return Err(AppError::Foreign(MISSING.into())),
            None if !actor.cross_tenant() => return Err(AppError::NotFound(MISSING.into())),
            _ => e,
        },
    };
    let mut events = named(&state.db, vec![event]).await?;
    events.pop().ok_or_else(|| AppError::internal("an event was lost on its way out"))
}

/// The events as the API gives them: who acted and as whom by email, customers and targets by
/// name (one query each for all of them).
async fn named(db: &DatabaseConnection, rows: Vec<audit_events::Model>) -> AppResult<Vec<AuditEvent>> {
    let emails = emails(db, &rows).await?;
    let names = crate::access::names::Names::of(db, rows.iter().filter_map(|e| e.customer_id), [], []).await?;
    let targets = crate::access::names::of_targets(
        db,
        rows.iter().filter_map(|e| Some((e.target_type.clone()?, e.target_id.as_deref()?.parse::<Uuid>().ok()?))),
    )
    .await?;
    Ok(rows.into_iter().map(|e| dto(e, &emails, &names, &targets)).collect())
}

/// Recompute the hash chain and report the first broken link.
pub async fn verify_audit(state: &AppState) -> AppResult<AuditVerification> {
    let file = crate::audit::chain::checkpoints_file(&state.config);
    crate::audit::chain::verify(&state.db, &state.audit_keys, &file).await
}

/// The CSV of every event matching `condition`, oldest first, read in keyset batches of 1,000
/// and written row by row, so memory stays flat at any size.
pub fn export_csv(
    db: sea_orm::DatabaseConnection,
    condition: Condition,
) -> impl futures::Stream<Item = Result<String, std::io::Error>> + Send + 'static {
    let batches = futures::stream::unfold(Some(0i64), move |after| {
        let (db, condition) = (db.clone(), condition.clone());
        async move {
            let after = after?;
            use audit_events::Column as C;
            let rows = audit_events::Entity::find()
                .select_only()
                .columns([
                    C::Seq,
                    C::OccurredAt,
                    C::CustomerId,
                    C::ActorUserId,
                    C::ImpersonatedUserId,
                    C::Action,
                    C::Outcome,
                ])
                .columns([C::TargetType, C::TargetId, C::RequestId, C::Ip, C::UserAgent, C::Hash])
                .column_as(sea_orm::sea_query::Expr::cust("CAST(summary AS TEXT)"), "summary")
                .filter(condition)
                .filter(C::Seq.gt(after))
                .order_by_asc(C::Seq)
                .limit(1000)
                .into_model::<CsvRow>()
                .all(&db)
                .await;
            match rows {
                Ok(rows) if rows.is_empty() => None,
                Ok(rows) => {
                    let next = rows.last().map(|e| e.seq);
                    let mut chunk = String::with_capacity(rows.len() * 400);
                    for row in &rows {
                        push_row(&mut chunk, row);
                    }
                    Some((Ok::<_, std::io::Error>(chunk), next))
                }
                Err(e) => Some((Err(std::io::Error::other(e.to_string())), None)),
            }
        }
    });
    use futures::StreamExt;
    // Fused: a body encoder (gzip, brotli) polls once more after the end, and `unfold` panics on
    // that poll.
    futures::stream::once(async { Ok::<_, std::io::Error>(CSV_HEADER.to_string()) }).chain(batches).fuse()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_are_quoted_and_formulas_neutralised() {
        assert_eq!(csv_cell("plain"), "plain");
        assert_eq!(csv_cell("=HYPERLINK(\"x\")"), "\"'=HYPERLINK(\"\"x\"\")\"");
        assert_eq!(csv_cell("+1"), "'+1");
        assert_eq!(csv_cell("-2"), "'-2");
        assert_eq!(csv_cell("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(csv_cell("a,b"), "\"a,b\"");
        assert_eq!(csv_cell("line\nbreak"), "\"line\nbreak\"");
    }
}
