//! The steps a run executes on its tenant's canonical records (DESIGN §7a, issue 16): one
//! flow definition from an application's template, one entity type, every live record of the
//! flow's customer, read in keyset batches. Each step reports what it read and changed; a step
//! that fails names the record and why, and the steps after it are skipped.
//!
//! A `map` step checks every mapped payload against the entity type's schema before it writes
//! any, so a mapping that would break one record changes none. Steps are idempotent (a hash
//! recomputed, a field set, renamed or dropped again is unchanged), so a retried run that
//! timed out half-way finishes the work instead of doing it twice.

use chrono::Utc;
use sea_orm::sea_query::ExprTrait;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, EntityTrait, FromQueryResult, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect,
    Set,
};
use serde_json::{json, Value};
use std::time::Instant;
use steward_shared::api::StepReport;
use uuid::Uuid;

use crate::apps::manifest::{FlowDefinition, MapOp, Step};
use crate::data::records::{derive, Models};
use crate::http::error::AppError;
use crate::state::AppState;
use crate::store::entities::{records, runs};
use crate::store::logs::LogLine;

/// Records read per batch; cancellation is checked between batches.
pub const BATCH: u64 = 500;

/// Why a run stopped before its last step succeeded.
#[derive(Debug)]
pub enum Stop {
    /// A step failed: its index, the record (when one was to blame) and why.
    Failed { step: usize, record: Option<Uuid>, message: String },
    /// An operator cancelled the run.
    Cancelled,
    /// Storage failed under the step (retried like a failure).
    Store(AppError),
}

impl From<AppError> for Stop {
    fn from(e: AppError) -> Self {
        Self::Store(e)
    }
}

impl From<sea_orm::DbErr> for Stop {
    fn from(e: sea_orm::DbErr) -> Self {
        Self::Store(e.into())
    }
}

/// One run's execution: its flow's definition on its customer's records.
pub struct Execution<'a> {
    pub state: &'a AppState,
    pub run: &'a runs::Model,
    pub definition: &'a FlowDefinition,
}

impl Execution<'_> {
    /// Executes every step in order, filling `reports` as it goes (a step is reported before it
    /// starts, so a run cut off by its timeout still shows where it was).
    pub async fn run(&self, reports: &mut Vec<StepReport>) -> Result<(), Stop> {
        reports.clear();
        for step in &self.definition.steps {
            reports.push(report(step.kind(), "skipped"));
        }
        for (i, step) in self.definition.steps.iter().enumerate() {
            let Some(r) = reports.get_mut(i) else { break };
            let started = Instant::now();
            r.status = "running".into();
            let outcome = match step {
                Step::Validate {} => self.validate(i, r).await,
                Step::Hash {} => self.hash(r).await,
                Step::Dedupe {} => self.dedupe(r).await,
                Step::Map { ops } => self.map(i, ops, r).await,
            };
            r.duration_ms = started.elapsed().as_millis() as u64;
            r.status = match &outcome {
                Ok(()) => "succeeded",
                Err(Stop::Cancelled) => "cancelled",
                Err(_) => "failed",
            }
            .into();
            if let Err(Stop::Failed { message, .. }) = &outcome {
                r.error = Some(message.clone());
            }
            self.log_step(i, r);
            if let Err(stop) = outcome {
                self.after_writes(reports).await;
                return Err(stop);
            }
        }
        self.after_writes(reports).await;
        Ok(())
    }

    /// A run that rewrote many records leaves their planner statistics current.
    async fn after_writes(&self, reports: &[StepReport]) {
        let changed = reports.iter().map(|r| r.changed).sum();
        crate::store::after_bulk_write(&self.state.db, "records", changed).await;
    }

    fn log_step(&self, i: usize, r: &StepReport) {
        let mut line = LogLine::new(
            "system",
            "user_task",
            if r.status == "succeeded" { "info" } else { "warn" },
            format!(
                "run {} step {} ({}) {}: {} read, {} changed{}",
                self.run.id,
                i + 1,
                r.kind,
                r.status,
                r.records,
                r.changed,
                r.error.as_ref().map(|e| format!(": {e}")).unwrap_or_default()
            ),
        );
        line.customer_id = Some(self.run.customer_id);
        line.fields = json!({
            "run_id": self.run.id, "flow_id": self.run.flow_id, "step": i + 1, "kind": r.kind,
            "status": r.status, "records": r.records, "changed": r.changed, "groups": r.groups,
            "duration_ms": r.duration_ms, "attempt": self.run.attempt,
        });
        self.state.logs.emit(line);
    }

    /// The next batch of live records of the definition's type after `after`.
    async fn batch(&self, after: Option<Uuid>) -> Result<Vec<records::Model>, Stop> {
        let mut q = records::Entity::find()
            .filter(records::Column::CustomerId.eq(self.run.customer_id))
            .filter(records::Column::EntityType.eq(self.definition.entity_type.clone()))
            .filter(records::Column::MergedInto.is_null());
        if let Some(id) = after {
            q = q.filter(records::Column::Id.gt(id));
        }
        Ok(q.order_by_asc(records::Column::Id).limit(BATCH).all(&self.state.db).await?)
    }

    /// The batch after the cursor, moving it on; stops first when an operator asked to cancel.
    /// Empty at the end.
    async fn next_batch(&self, after: &mut Option<Uuid>) -> Result<Vec<records::Model>, Stop> {
        self.check_cancel().await?;
        let batch = self.batch(*after).await?;
        if let Some(last) = batch.last() {
            *after = Some(last.id);
        }
        Ok(batch)
    }

    /// Between batches: stops when an operator asked to cancel.
    async fn check_cancel(&self) -> Result<(), Stop> {
        let asked = runs::Entity::find_by_id(self.run.id)
            .select_only()
            .column(runs::Column::CancelRequested)
            .into_tuple::<bool>()
            .one(&self.state.db)
            .await?;
        if asked.unwrap_or(false) {
            Err(Stop::Cancelled)
        } else {
            Ok(())
        }
    }

    async fn validate(&self, i: usize, r: &mut StepReport) -> Result<(), Stop> {
        let models = Models(&self.state.models);
        let mut first: Option<(Uuid, String)> = None;
        let mut after = None;
        loop {
            let batch = self.next_batch(&mut after).await?;
            if batch.is_empty() {
                break;
            }
            for rec in &batch {
                r.records += 1;
                match models.validate(&self.state.db, &self.definition.entity_type, &rec.payload).await {
                    Ok(()) => {}
                    Err(AppError::Validation(errors)) => {
                        r.changed += 1;
                        if first.is_none() {
                            let why = describe(&errors);
                            first = Some((rec.id, format!("record `{}` ({}): {why}", rec.external_id, rec.id)));
                        }
                    }
                    Err(e) => return Err(Stop::Store(e)),
                }
            }
        }
        match first {
            None => Ok(()),
            Some((record, what)) => Err(Stop::Failed {
                step: i,
                record: Some(record),
                message: format!(
                    "{} of {} `{}` records do not match its schema; the first is {what}",
                    r.changed, r.records, self.definition.entity_type
                ),
            }),
        }
    }

    async fn hash(&self, r: &mut StepReport) -> Result<(), Stop> {
        let mut after = None;
        loop {
            let batch = self.next_batch(&mut after).await?;
            if batch.is_empty() {
                break;
            }
            let txn = crate::store::begin(&self.state.db).await?;
            for rec in batch {
                r.records += 1;
                let hash = crate::data::records::content_hash(&rec.payload);
                let key = crate::data::records::external_key(&rec.external_id);
                if rec.content_hash.as_deref() == Some(hash.as_str())
                    && rec.external_key.as_deref() == Some(key.as_str())
                {
                    continue;
                }
                r.changed += 1;
                let (payload, external_id) = (rec.payload.clone(), rec.external_id.clone());
                let mut active: records::ActiveModel = rec.into();
                derive(&mut active, &payload, &external_id);
                active.update(&txn).await?;
            }
            txn.commit().await?;
        }
        Ok(())
    }

    async fn dedupe(&self, r: &mut StepReport) -> Result<(), Stop> {
        self.check_cancel().await?;
        #[derive(FromQueryResult)]
        struct Group {
            n: i64,
        }
        let live = || {
            records::Entity::find()
                .filter(records::Column::CustomerId.eq(self.run.customer_id))
                .filter(records::Column::EntityType.eq(self.definition.entity_type.clone()))
                .filter(records::Column::MergedInto.is_null())
        };
        r.records = live().count(&self.state.db).await?;
        let groups = live()
            .filter(records::Column::ContentHash.is_not_null())
            .select_only()
            .column_as(records::Column::Id.count(), "n")
            .group_by(records::Column::ContentHash)
            .having(records::Column::Id.count().gt(1))
            .into_model::<Group>()
            .all(&self.state.db)
            .await?;
        r.groups = groups.len() as u64;
        r.changed = groups.iter().map(|g| g.n as u64).sum();
        Ok(())
    }

    async fn map(&self, i: usize, ops: &[MapOp], r: &mut StepReport) -> Result<(), Stop> {
        let models = Models(&self.state.models);
        // First pass: every mapped payload must still match the schema, or nothing is written.
        let mut after = None;
        loop {
            let batch = self.next_batch(&mut after).await?;
            if batch.is_empty() {
                break;
            }
            for rec in &batch {
                let fail = |why: String| Stop::Failed {
                    step: i,
                    record: Some(rec.id),
                    message: format!("record `{}` ({}): {why}; no record was changed", rec.external_id, rec.id),
                };
                let mapped = apply(&rec.payload, ops).map_err(fail)?;
                if mapped != rec.payload {
                    match models.validate(&self.state.db, &self.definition.entity_type, &mapped).await {
                        Ok(()) => {}
                        Err(AppError::Validation(errors)) => {
                            let why = describe(&errors);
                            return Err(fail(format!("the mapped payload does not match the schema: {why}")));
                        }
                        Err(e) => return Err(Stop::Store(e)),
                    }
                }
            }
        }
        // Second pass: write, a batch per transaction.
        let mut after = None;
        loop {
            let batch = self.next_batch(&mut after).await?;
            if batch.is_empty() {
                break;
            }
            let txn = crate::store::begin(&self.state.db).await?;
            for rec in batch {
                r.records += 1;
                let Ok(mapped) = apply(&rec.payload, ops) else { continue };
                if mapped == rec.payload {
                    continue;
                }
                r.changed += 1;
                let external_id = rec.external_id.clone();
                let mut active: records::ActiveModel = rec.into();
                derive(&mut active, &mapped, &external_id);
                active.payload = Set(mapped);
                active.updated_at = Set(Utc::now());
                active.update(&txn).await?;
            }
            txn.commit().await?;
        }
        Ok(())
    }
}

/// A validation failure in one line: `payload/name: is required; …`.
fn describe(errors: &[steward_shared::problem::FieldError]) -> String {
    errors.iter().map(|e| format!("{}: {}", e.field, e.message)).collect::<Vec<_>>().join("; ")
}

fn report(kind: &str, status: &str) -> StepReport {
    StepReport {
        kind: kind.into(),
        status: status.into(),
        records: 0,
        changed: 0,
        groups: 0,
        duration_ms: 0,
        error: None,
    }
}

/// Applies the mapping to a copy of `payload`.
pub fn apply(payload: &Value, ops: &[MapOp]) -> Result<Value, String> {
    let mut out = payload.clone();
    for op in ops {
        match op {
            MapOp::Set { path, value } => set(&mut out, path, value.clone())?,
            MapOp::Rename { from, to } => {
                if let Some(v) = take(&mut out, from)? {
                    set(&mut out, to, v)?;
                }
            }
            MapOp::Drop { path } => {
                take(&mut out, path)?;
            }
        }
    }
    Ok(out)
}

/// The reference tokens of a JSON pointer (RFC 6901); the root pointer is refused.
fn tokens(pointer: &str) -> Result<Vec<String>, String> {
    let rest = pointer.strip_prefix('/').ok_or_else(|| format!("`{pointer}` is not a JSON pointer"))?;
    Ok(rest.split('/').map(|t| t.replace("~1", "/").replace("~0", "~")).collect())
}

/// Sets the value at `pointer`, making the objects on the way; refuses to go through a value
/// that is not an object.
fn set(root: &mut Value, pointer: &str, value: Value) -> Result<(), String> {
    let tokens = tokens(pointer)?;
    let (last, parents) = tokens.split_last().ok_or_else(|| format!("`{pointer}` names nothing"))?;
    let mut at = root;
    let mut walked = String::new();
    for t in parents {
        walked.push('/');
        walked.push_str(t);
        let Value::Object(map) = at else { return Err(format!("`{walked}` is inside a value that is not an object")) };
        at = map.entry(t.clone()).or_insert_with(|| Value::Object(Default::default()));
    }
    match at {
        Value::Object(map) => {
            map.insert(last.clone(), value);
            Ok(())
        }
        _ => Err(format!("cannot set `{pointer}`: its parent is not an object")),
    }
}

/// Removes and returns the value at `pointer`, if there is one.
fn take(root: &mut Value, pointer: &str) -> Result<Option<Value>, String> {
    let tokens = tokens(pointer)?;
    let Some((last, parents)) = tokens.split_last() else { return Ok(None) };
    let mut at = root;
    for t in parents {
        match at.get_mut(t.as_str()) {
            Some(next) => at = next,
            None => return Ok(None),
        }
    }
    Ok(match at {
        Value::Object(map) => map.remove(last.as_str()),
        _ => None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mapping_sets_renames_and_drops_by_pointer() {
        let ops: Vec<MapOp> = serde_json::from_value(json!([
            { "op": "set", "path": "/address/country", "value": "DE" },
            { "op": "rename", "from": "/mail", "to": "/contact/email" },
            { "op": "drop", "path": "/legacy" },
            { "op": "rename", "from": "/absent", "to": "/x" },
            { "op": "set", "path": "/a~1b", "value": 1 },
        ]))
        .unwrap();
        let out = apply(&json!({ "mail": "a@b.c", "legacy": true, "name": "Ada" }), &ops).unwrap();
        assert_eq!(
            out,
            json!({ "name": "Ada", "address": { "country": "DE" }, "contact": { "email": "a@b.c" }, "a/b": 1 })
        );
        // Mapping again changes nothing: a retried run does not do the work twice.
        assert_eq!(apply(&out, &ops).unwrap(), out);
        let err = apply(&json!({ "name": "x" }), &[MapOp::Set { path: "/name/first".into(), value: json!(1) }]);
        assert!(err.unwrap_err().contains("/name"));
        assert!(apply(&json!({}), &[MapOp::Drop { path: "name".into() }]).is_err());
    }
}
