//! Stats over time: the periodic task stores a snapshot of the platform's figures for the
//! current hour and day, in total and per customer (an upsert, so every replica may run it and
//! the last write of an hour holds its final figures); the Stats page reads them for the
//! current scope over a range.

use chrono::{DateTime, Duration, DurationRound, Utc};
use rand::Rng;
use sea_orm::sea_query::OnConflict;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Set};
use std::collections::HashMap;
use steward_shared::ops::{StatPoint, StatsSeries};

/// One scope's figures for one bucket: the wire type's own fields.
type Figures = StatPoint;
use uuid::Uuid;

use crate::access::scope::Scope;
use crate::http::error::{AppError, AppResult};
use crate::state::AppState;
use crate::store::entities::{audit_events, customers, flows, records, runs, stat_snapshots, users};

/// The ranges the page offers: (name, bucket, span).
pub const RANGES: &[(&str, &str, i64)] =
    &[("24h", "hour", 24), ("7d", "hour", 24 * 7), ("30d", "day", 30), ("1y", "day", 365)];

fn bucket_start(bucket: &str, t: DateTime<Utc>) -> DateTime<Utc> {
    let step = if bucket == "day" { Duration::days(1) } else { Duration::hours(1) };
    t.duration_trunc(step).unwrap_or(t)
}

fn bucket_len(bucket: &str) -> Duration {
    if bucket == "day" {
        Duration::days(1)
    } else {
        Duration::hours(1)
    }
}

async fn grouped<C: ConnectionTrait>(
    conn: &C,
    select: sea_orm::Select<impl EntityTrait>,
) -> AppResult<HashMap<Option<Uuid>, i64>> {
    let rows: Vec<(Option<Uuid>, i64)> = select.into_tuple().all(conn).await?;
    Ok(rows.into_iter().collect())
}

/// Every customer's figures for the bucket starting at `start`, and the platform's totals
/// (key `None`).
pub async fn compute<C: ConnectionTrait>(
    conn: &C,
    bucket: &str,
    start: DateTime<Utc>,
) -> AppResult<HashMap<Option<Uuid>, Figures>> {
    let at = start;
    let end = start + bucket_len(bucket);
    let ids: Vec<Uuid> =
        customers::Entity::find().select_only().column(customers::Column::Id).into_tuple().all(conn).await?;
    let users_q = users::Entity::find()
        .select_only()
        .column(users::Column::CustomerId)
        .column_as(users::Column::Id.count(), "n")
        .filter(users::Column::ErasedAt.is_null())
        .group_by(users::Column::CustomerId);
    let all_users = grouped(conn, users_q.clone()).await?;
    let active = grouped(conn, users_q.filter(users::Column::Status.eq("active"))).await?;
    let flows_n = grouped(
        conn,
        flows::Entity::find()
            .select_only()
            .column(flows::Column::CustomerId)
            .column_as(flows::Column::Id.count(), "n")
            .group_by(flows::Column::CustomerId),
    )
    .await?;
    let records_n = grouped(
        conn,
        records::Entity::find()
            .select_only()
            .column(records::Column::CustomerId)
            .column_as(records::Column::Id.count(), "n")
            .filter(records::Column::MergedInto.is_null())
            .group_by(records::Column::CustomerId),
    )
    .await?;
    let finished = |status: &'static str| {
        runs::Entity::find()
            .select_only()
            .column(runs::Column::CustomerId)
            .column_as(runs::Column::Id.count(), "n")
            .filter(runs::Column::FinishedAt.gte(start))
            .filter(runs::Column::FinishedAt.lt(end))
            .filter(runs::Column::Status.eq(status))
            // What the seed invented never ran: a measurement leaves it out.
            .filter(runs::Column::Demo.eq(false))
            .group_by(runs::Column::CustomerId)
    };
    let succeeded = grouped(conn, finished("succeeded")).await?;
    let failed = grouped(conn, finished("failed")).await?;
    let events = audit_events::Entity::find()
        .select_only()
        .column(audit_events::Column::CustomerId)
        .column_as(audit_events::Column::Seq.count(), "n")
        .filter(audit_events::Column::OccurredAt.gte(start))
        .filter(audit_events::Column::OccurredAt.lt(end))
        .group_by(audit_events::Column::CustomerId);
    let audit = grouped(conn, events.clone()).await?;
    let sign_ins = grouped(
        conn,
        events
            .filter(audit_events::Column::Action.eq("auth.login"))
            .filter(audit_events::Column::Outcome.eq("success")),
    )
    .await?;
    let of = |m: &HashMap<Option<Uuid>, i64>, k: Option<Uuid>| m.get(&k).copied().unwrap_or(0);
    let sum = |m: &HashMap<Option<Uuid>, i64>| m.values().sum::<i64>();
    let mut out: HashMap<Option<Uuid>, Figures> = ids
        .iter()
        .map(|&id| {
            let k = Some(id);
            let f = Figures {
                at,
                users: of(&all_users, k),
                active_users: of(&active, k),
                customers: 1,
                flows: of(&flows_n, k),
                records: of(&records_n, k),
                runs_succeeded: of(&succeeded, k),
                runs_failed: of(&failed, k),
                audit_events: of(&audit, k),
                sign_ins: of(&sign_ins, k),
                demo: false,
            };
            (k, f)
        })
        .collect();
    out.insert(
        None,
        Figures {
            at,
            users: sum(&all_users),
            active_users: sum(&active),
            customers: ids.len() as i64,
            flows: sum(&flows_n),
            records: sum(&records_n),
            runs_succeeded: sum(&succeeded),
            runs_failed: sum(&failed),
            audit_events: sum(&audit),
            sign_ins: sum(&sign_ins),
            demo: false,
        },
    );
    Ok(out)
}

fn row(bucket: &str, customer: Option<Uuid>, f: Figures) -> stat_snapshots::ActiveModel {
    stat_snapshots::ActiveModel {
        scope_key: Set(customer.map_or_else(|| "all".to_owned(), |c| c.to_string())),
        customer_id: Set(customer),
        bucket: Set(bucket.into()),
        at: Set(f.at),
        computed_at: Set(Utc::now()),
        users: Set(f.users),
        active_users: Set(f.active_users),
        customers: Set(f.customers),
        flows: Set(f.flows),
        runs_succeeded: Set(f.runs_succeeded),
        runs_failed: Set(f.runs_failed),
        records: Set(f.records),
        audit_events: Set(f.audit_events),
        sign_ins: Set(f.sign_ins),
        demo: Set(f.demo),
    }
}

/// Writes snapshot rows, replacing any already stored for the same scope, bucket and time.
pub async fn store<C: ConnectionTrait>(conn: &C, rows: Vec<stat_snapshots::ActiveModel>) -> AppResult<usize> {
    use stat_snapshots::Column as C;
    let n = rows.len();
    let mut rows = rows.into_iter().peekable();
    while rows.peek().is_some() {
        let chunk: Vec<_> = rows.by_ref().take(200).collect();
        stat_snapshots::Entity::insert_many(chunk)
            .on_conflict(
                OnConflict::columns([C::ScopeKey, C::Bucket, C::At])
                    .update_columns([
                        C::ComputedAt,
                        C::Users,
                        C::ActiveUsers,
                        C::Customers,
                        C::Flows,
                        C::RunsSucceeded,
                        C::RunsFailed,
                        C::Records,
                        C::AuditEvents,
                        C::SignIns,
                        C::Demo,
                    ])
                    .to_owned(),
            )
            .exec_without_returning(conn)
            .await?;
    }
    Ok(n)
}

/// Stores the current hour's and day's snapshot for every customer and in total; returns the
/// rows written.
pub async fn snapshot(state: &AppState, now: DateTime<Utc>) -> AppResult<usize> {
    let mut written = 0;
    for bucket in ["hour", "day"] {
        let at = bucket_start(bucket, now);
        let figures = compute(&state.db, bucket, at).await?;
        let rows = figures.into_iter().map(|(c, f)| row(bucket, c, f)).collect();
        written += store(&state.db, rows).await?;
    }
    Ok(written)
}

/// The snapshots of the scope over `range`, oldest first.
pub async fn series(state: &AppState, scope: &Scope, range: Option<&str>) -> AppResult<StatsSeries> {
    let name = range.unwrap_or("24h");
    let Some(&(name, bucket, span)) = RANGES.iter().find(|(n, _, _)| *n == name) else {
        let names: Vec<&str> = RANGES.iter().map(|(n, _, _)| *n).collect();
        return Err(AppError::field("range", format!("must be one of: {}", names.join(", "))));
    };
    let now = Utc::now();
    let from = bucket_start(bucket, now) - bucket_len(bucket) * (span as i32 - 1);
    let key = scope.customer_id().map_or_else(|| "all".to_owned(), |c| c.to_string());
    let rows = stat_snapshots::Entity::find()
        .filter(stat_snapshots::Column::ScopeKey.eq(key))
        .filter(stat_snapshots::Column::Bucket.eq(bucket))
        .filter(stat_snapshots::Column::At.gte(from))
        .order_by_asc(stat_snapshots::Column::At)
        .all(&state.db)
        .await?;
    Ok(StatsSeries {
        range: name.into(),
        bucket: bucket.into(),
        customer_id: scope.customer_id(),
        points: rows
            .into_iter()
            .map(|r| StatPoint {
                at: r.at,
                users: r.users,
                active_users: r.active_users,
                customers: r.customers,
                flows: r.flows,
                records: r.records,
                runs_succeeded: r.runs_succeeded,
                runs_failed: r.runs_failed,
                audit_events: r.audit_events,
                sign_ins: r.sign_ins,
                demo: r.demo,
            })
            .collect(),
    })
}

/// Demo history: a year of days and a week of hours for the platform, a month of days and two
/// days of hours per customer, growing towards today's real figures with a daily rhythm.
pub async fn seed_history<C: ConnectionTrait>(conn: &C, rng: &mut impl Rng, now: DateTime<Utc>) -> AppResult<usize> {
    let current = compute(conn, "day", bucket_start("day", now)).await?;
    let mut rows = Vec::new();
    for (customer, today) in current {
        let (days, hours) = if customer.is_none() { (365, 24 * 7) } else { (30, 48) };
        for (bucket, steps) in [("day", days), ("hour", hours)] {
            let len = bucket_len(bucket);
            let latest = bucket_start(bucket, now);
            let per_bucket = if bucket == "day" { 1.0 } else { 1.0 / 24.0 };
            for step in 1..=steps {
                let at = latest - len * step;
                let age = f64::from(step) / f64::from(days.max(1) * if bucket == "day" { 1 } else { 24 });
                let grown = |n: i64| ((n as f64) * (1.0 - 0.5 * age.min(1.0))).round() as i64;
                let hour = at.format("%H").to_string().parse::<f64>().unwrap_or(12.0);
                let rhythm =
                    if bucket == "day" { 1.0 } else { 0.4 + (std::f64::consts::PI * hour / 24.0).sin().powi(2) };
                let busy = |base: f64, rng: &mut dyn rand::RngCore| {
                    (base * per_bucket * rhythm * rng.random_range(0.6..1.4)).round().max(0.0) as i64
                };
                let users = grown(today.users);
                let runs = busy((today.flows as f64 * 24.0).max(1.0), rng);
                rows.push(row(
                    bucket,
                    customer,
                    Figures {
                        at,
                        users,
                        active_users: grown(today.active_users),
                        customers: grown(today.customers).max(i64::from(today.customers > 0)),
                        flows: grown(today.flows),
                        records: grown(today.records),
                        runs_succeeded: runs - runs / 20,
                        runs_failed: runs / 20 + i64::from(rng.random_range(0..10) == 0),
                        audit_events: busy((users as f64 * 0.3).max(1.0), rng),
                        sign_ins: busy((users as f64 * 0.1).max(1.0), rng),
                        demo: true,
                    },
                ));
            }
        }
    }
    store(conn, rows).await
}
