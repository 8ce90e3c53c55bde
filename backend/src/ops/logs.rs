//! The Logs pages' queries: the platform, authentication and system logs with filters, keyset
//! pages on `seq`, a live tail (server-sent events fed by polling the table, so lines written
//! by any replica arrive), and retention by age and row cap.
//!
//! Who sees what: with `all` every line; one customer's scope shows that customer's lines; a
//! platform principal in their own scope sees the platform's lines too (those that name no
//! customer: anonymous sign-in failures, startup, periodic tasks), which no tenant ever sees.

use chrono::{DateTime, Utc};
use futures::Stream;
use sea_orm::sea_query::{Expr, ExprTrait, LikeExpr};
use sea_orm::{ColumnTrait, Condition, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use serde::Deserialize;
use std::time::Duration;
use steward_shared::api::Page;
use steward_shared::ops::LogEntry;
use steward_shared::rules;
use uuid::Uuid;

use crate::access::scope::Scope;
use crate::access::Actor;
use crate::http::error::{AppResult, Validator};
use crate::http::pagination::{self, contains_pattern};
use crate::state::AppState;
use crate::store::entities::{customers, log_entries};

/// The system log's tabs.
pub const SYSTEM_KINDS: &[&str] =
    &["startup", "periodic", "startup_error", "package_install", "user_task", "api_error"];

pagination::closed_set! {
    /// Which log: `platform`, `auth` or `system`.
    pub enum LogStream { Platform = "platform", Auth = "auth", System = "system" }
}
pagination::closed_set! {
    /// A line's level.
    pub enum LogLevel { Error = "error", Warn = "warn", Info = "info", Debug = "debug" }
}

#[derive(Debug, Clone, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct LogFilter {
    /// `platform`, `auth` or `system`; absent: every log.
    #[param(inline)]
    pub stream: Option<LogStream>,
    /// The tab within the log (for `system`: `startup`, `periodic`, `startup_error`,
    /// `package_install`, `user_task`, `api_error`).
    pub kind: Option<String>,
    /// `error`, `warn`, `info` or `debug`: lines of exactly that level.
    #[param(inline)]
    pub level: Option<LogLevel>,
    /// From this time (inclusive), RFC 3339.
    pub from: Option<DateTime<Utc>>,
    /// Until this time (exclusive), RFC 3339; at or before `from` nothing is selected.
    pub to: Option<DateTime<Utc>>,
    /// Text the message contains (case as written).
    pub q: Option<String>,
    /// One customer's lines (beyond your own customer needs `steward.admin.cross_tenant`).
    pub customer_id: Option<Uuid>,
    pub request_id: Option<String>,
    pub limit: Option<u64>,
    /// The `seq` to continue below (newest first).
    pub cursor: Option<String>,
    /// Follow only: send the lines after this `seq` first (default: only new lines).
    pub after: Option<i64>,
}

impl LogFilter {
    /// The filter as a condition, with the scope's rule applied.
    pub fn condition(&self, scope: &Scope, actor: &Actor) -> AppResult<Condition> {
        use log_entries::Column as L;
        let mut v = Validator::new();
        for (field, value, rule) in [
            ("kind", &self.kind, rules::LOG_KIND),
            ("q", &self.q, rules::LOG_TEXT),
            ("request_id", &self.request_id, rules::REQUEST_ID),
        ] {
            if let Some(value) = value {
                v.secret(field, value, rule);
            }
        }
        v.finish()?;
        let mut c = Condition::all();
        if let Some(id) = self.customer_id {
            crate::access::filters::customer(actor, "customer_id", id)?;
            c = c.add(L::CustomerId.eq(id));
        }
        c = match scope {
            Scope::All => c,
            Scope::Customer(customer) => c.add(L::CustomerId.eq(customer.id)),
            Scope::Tenant(customer) if customer.kind == "platform" => {
                c.add(Condition::any().add(L::CustomerId.eq(customer.id)).add(L::CustomerId.is_null()))
            }
            Scope::Tenant(customer) => c.add(L::CustomerId.eq(customer.id)),
        };
        if let Some(s) = self.stream {
            c = c.add(L::Stream.eq(s.as_str()));
        }
        if let Some(k) = &self.kind {
            c = c.add(L::Kind.eq(k.clone()));
        }
        if let Some(l) = self.level {
            c = c.add(L::Level.eq(l.as_str()));
        }
        if let Some(t) = self.from {
            c = c.add(L::At.gte(t));
        }
        if let Some(t) = self.to {
            c = c.add(L::At.lt(t));
        }
        if let Some(q) = &self.q {
            c = c.add(Expr::col(L::Message).like(LikeExpr::new(contains_pattern(q)).escape('\\')));
        }
        if let Some(r) = &self.request_id {
            c = c.add(L::RequestId.eq(r.clone()));
        }
        Ok(c)
    }
}

pub fn entry(m: log_entries::Model) -> LogEntry {
    let run_id = m.fields.get("run_id").and_then(|v| v.as_str()).and_then(|s| s.parse().ok());
    LogEntry {
        seq: m.seq,
        at: m.at,
        stream: m.stream,
        kind: m.kind,
        level: m.level,
        message: m.message,
        customer_id: m.customer_id,
        customer_name: None,
        user_id: m.user_id,
        request_id: m.request_id,
        ip: m.ip,
        user_agent: m.user_agent,
        run_id,
        fields: m.fields,
    }
}

/// Lines with their customers' names, read in one query for the whole batch.
async fn named(state: &AppState, rows: Vec<log_entries::Model>) -> AppResult<Vec<LogEntry>> {
    let ids: std::collections::BTreeSet<Uuid> = rows.iter().filter_map(|r| r.customer_id).collect();
    let names: std::collections::HashMap<Uuid, String> = if ids.is_empty() {
        Default::default()
    } else {
        customers::Entity::find()
            .select_only()
            .column(customers::Column::Id)
            .column(customers::Column::Name)
            .filter(customers::Column::Id.is_in(ids))
            .into_tuple::<(Uuid, String)>()
            .all(&state.db)
            .await?
            .into_iter()
            .collect()
    };
    Ok(rows
        .into_iter()
        .map(|r| {
            let mut e = entry(r);
            e.customer_name = e.customer_id.and_then(|c| names.get(&c).cloned());
            e
        })
        .collect())
}

impl LogFilter {
    /// `limit` (1–200) and the `seq` of `cursor`: refused the same way on the list and on the
    /// tail (which has no pages, but must not accept and ignore a bad value).
    pub fn paging(&self) -> AppResult<(u64, Option<i64>)> {
        let limit = pagination::limit(self.limit)?;
        let seq = match &self.cursor {
            Some(raw) => Some(raw.parse().map_err(|_| pagination::foreign_cursor())?),
            None => None,
        };
        Ok((limit, seq))
    }
}

/// A page of log lines, newest first.
pub async fn list(state: &AppState, actor: &Actor, scope: &Scope, f: LogFilter) -> AppResult<Page<LogEntry>> {
    let (limit, before) = f.paging()?;
    let mut c = f.condition(scope, actor)?;
    if let Some(seq) = before {
        c = c.add(log_entries::Column::Seq.lt(seq));
    }
    let rows = log_entries::Entity::find()
        .filter(c)
        .order_by_desc(log_entries::Column::Seq)
        .limit(limit + 1)
        .all(&state.db)
        .await?;
    let more = rows.len() as u64 > limit;
    let items = named(state, rows.into_iter().take(limit as usize).collect()).await?;
    let next_cursor = if more { items.last().map(|e| e.seq.to_string()) } else { None };
    Ok(Page { items, next_cursor })
}

/// How often the tail looks for new lines.
const FOLLOW_POLL: Duration = Duration::from_millis(500);
/// How often the tail checks that its principal may still read (a revoked session ends it).
const FOLLOW_RECHECK: Duration = Duration::from_secs(5);

/// The newest `seq` now, for a tail that starts with new lines only.
async fn newest_seq(state: &AppState) -> AppResult<i64> {
    let seq: Option<i64> = log_entries::Entity::find()
        .select_only()
        .column(log_entries::Column::Seq)
        .order_by_desc(log_entries::Column::Seq)
        .into_tuple()
        .one(&state.db)
        .await?;
    Ok(seq.unwrap_or(0))
}

/// What a tail yields: lines in order, or the end of the tail with the reason.
pub enum Followed {
    Line(Box<LogEntry>),
    Ended(String),
}

/// Lines matching the filter as they are written, oldest first. Every few seconds the tail
/// asks again whether the credential in `headers` may still call `operation` (a revoked
/// session, a deactivated user, an expired token or a lost leaf ends it).
pub async fn follow(
    state: AppState,
    actor: &Actor,
    scope: &Scope,
    f: LogFilter,
    headers: axum::http::HeaderMap,
    operation: &'static str,
) -> AppResult<impl Stream<Item = Followed>> {
    let recheck_state = state.clone();
    let still_allowed = move || {
        let (state, headers) = (recheck_state.clone(), headers.clone());
        async move { crate::identity::principal::still_allowed(&state, &headers, operation).await }
    };
    let condition = f.condition(scope, actor)?;
    let start = match f.after {
        Some(after) => after,
        None => newest_seq(&state).await?,
    };
    struct Tail<F> {
        state: AppState,
        condition: Condition,
        last: i64,
        buffered: std::collections::VecDeque<LogEntry>,
        checked: std::time::Instant,
        still_allowed: F,
        ended: bool,
    }
    let tail = Tail {
        state,
        condition,
        last: start,
        buffered: Default::default(),
        checked: std::time::Instant::now(),
        still_allowed,
        ended: false,
    };
    Ok(futures::stream::unfold(tail, |mut t| async move {
        if t.ended {
            return None;
        }
        loop {
            if let Some(line) = t.buffered.pop_front() {
                return Some((Followed::Line(Box::new(line)), t));
            }
            if t.checked.elapsed() >= FOLLOW_RECHECK {
                t.checked = std::time::Instant::now();
                if let Err(why) = (t.still_allowed)().await {
                    t.ended = true;
                    return Some((Followed::Ended(why), t));
                }
            }
            let rows = log_entries::Entity::find()
                .filter(t.condition.clone())
                .filter(log_entries::Column::Seq.gt(t.last))
                .order_by_asc(log_entries::Column::Seq)
                .limit(200)
                .all(&t.state.db)
                .await;
            match rows {
                Ok(rows) if !rows.is_empty() => {
                    t.last = rows.last().map_or(t.last, |r| r.seq);
                    match named(&t.state, rows).await {
                        Ok(lines) => t.buffered.extend(lines),
                        Err(e) => {
                            t.ended = true;
                            return Some((Followed::Ended(format!("reading the log failed: {e}")), t));
                        }
                    }
                }
                Ok(_) => tokio::time::sleep(FOLLOW_POLL).await,
                Err(e) => {
                    t.ended = true;
                    return Some((Followed::Ended(format!("reading the log failed: {e}")), t));
                }
            }
        }
    }))
}

/// Deletes lines older than the retention and beyond the row cap; returns how many.
pub async fn prune(state: &AppState) -> AppResult<u64> {
    let mut removed = crate::store::logs::prune(&state.db, state.config.log_max_rows).await?;
    if state.config.log_retention_days > 0 {
        let cutoff = Utc::now() - chrono::Duration::days(state.config.log_retention_days as i64);
        removed += log_entries::Entity::delete_many()
            .filter(log_entries::Column::At.lt(cutoff))
            .exec(&state.db)
            .await?
            .rows_affected;
    }
    Ok(removed)
}
