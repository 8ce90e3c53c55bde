//! The Data explorer (DESIGN §7, seed 001 "Tables"): browse the registry's tables with typed
//! filters, search, keyset-paged sorting and a column chooser; inline edits with validation
//! and optimistic concurrency; batch edits and deletes with a dry run and typed confirmation.
//! Super admins only. While a super admin views as someone, every table shows exactly the rows
//! the target may see (the scope and workspace rules of §3–4), and nothing can be written.

use chrono::Utc;
use sea_orm::sea_query::{Alias, Cond, Expr, ExprTrait, LockType, Order, Query, SelectStatement};
use sea_orm::{ConnectionTrait, DbBackend, DbErr, EntityTrait, QueryFilter, SqlErr, Value};
use serde_json::{json, Map, Value as Json};
use std::collections::{BTreeMap, BTreeSet};
use steward_shared::data::{
    BatchAction, BatchReport, BatchRequest, ColumnKind, EditedRow, ExplorerCatalog, ExplorerPage, ExplorerQuery,
    RowEdit, Selection, SkippedRow, SortOrder, ViewingAs,
};
use steward_shared::rules;
use uuid::Uuid;

use super::query::{self, col};
use super::registry::{self, Col, Rows, Table};
use crate::access::scope::Scope;
use crate::access::Actor;
use crate::audit::{self, Event};
use crate::http::error::{AppError, AppResult};
use crate::http::pagination::{self, Cursor};
use crate::http::request_meta::RequestMeta;
use crate::state::AppState;
use crate::store::entities::customers;

/// The most rows one batch touches.
pub const BATCH_MAX: usize = steward_shared::rules::BATCH_ROWS.max;

pub fn viewing_as(actor: &Actor) -> Option<ViewingAs> {
    actor.impersonator.as_ref().map(|_| ViewingAs {
        user_id: actor.user.id,
        name: actor.user.name.clone(),
        email: actor.user.email.clone(),
    })
}

fn table(name: &str) -> AppResult<&'static Table> {
    registry::table(name).ok_or_else(|| AppError::NotFound("The explorer has no such table.".into()))
}

/// The tables, with what the caller sees of them: under View as, only those the target may see.
pub fn catalog(actor: &Actor) -> ExplorerCatalog {
    ExplorerCatalog {
        tables: registry::TABLES.iter().filter(|t| t.leaf.is_none_or(|l| actor.holds(l))).map(Table::wire).collect(),
        viewing_as: viewing_as(actor),
    }
}

/// The rows of `table` the caller may see: the scope's customers and, for a principal limited
/// to some workspaces (the target of a View as), only theirs.
pub fn visible(table: &Table, actor: &Actor, scope: &Scope) -> AppResult<Cond> {
    let mut cond = Cond::all();
    if let Some(c) = scope.customer_id() {
        cond = cond.add(Expr::col(Alias::new(table.tenant)).eq(c));
    }
    let Some(leaf) = table.leaf else { return Ok(cond) };
    if !actor.holds(leaf) {
        return Err(AppError::Forbidden {
            code: "permission_denied",
            detail: format!("The user you are viewing as cannot see {} (`{leaf}`).", table.label.to_lowercase()),
        });
    }
    let Some(ws) = actor.workspaces_with(leaf) else { return Ok(cond) };
    Ok(match table.rows {
        Rows::Tenant => cond,
        Rows::Workspace(column) => cond.add(Expr::col(Alias::new(column)).is_in(ws)),
        Rows::ViaFlow => cond.add(
            Expr::col(Alias::new("flow_id")).in_subquery(
                Query::select()
                    .column(Alias::new("id"))
                    .from(Alias::new("flows"))
                    .and_where(Expr::col(Alias::new("workspace_id")).is_in(ws))
                    .to_owned(),
            ),
        ),
    })
}

async fn fetch<C: ConnectionTrait>(
    conn: &C,
    stmt: &SelectStatement,
    cols: &[&'static Col],
) -> AppResult<Vec<Map<String, Json>>> {
    let rows = conn.query_all(stmt).await?;
    rows.iter().map(|r| query::read_row(r, cols)).collect()
}

fn all_columns(table: &'static Table) -> Vec<&'static Col> {
    table.columns.iter().collect()
}

/// The id of a row read back from the database.
fn row_id(row: &Map<String, Json>) -> Uuid {
    row.get("id").and_then(Json::as_str).and_then(|s| Uuid::parse_str(s).ok()).unwrap_or_default()
}

/// `POST /api/explorer/tables/{table}/query`.
pub async fn query_rows(
    state: &AppState,
    actor: &Actor,
    scope: &Scope,
    name: &str,
    q: ExplorerQuery,
) -> AppResult<ExplorerPage> {
    let table = table(name)?;
    let mut cols: Vec<&'static Col> =
        vec![query::column(table, "id", "columns")?, query::column(table, table.tenant, "columns")?];
    let wanted: Vec<String> = if q.columns.is_empty() {
        table.default_columns.iter().map(|c| (*c).to_owned()).collect()
    } else {
        q.columns.clone()
    };
    if let Some(why) = rules::EXPLORER_COLUMNS.refuse(q.columns.len()) {
        return Err(AppError::field("columns", why));
    }
    for (i, c) in wanted.iter().enumerate() {
        let c = query::column(table, c, &format!("columns[{i}]"))?;
        if !cols.iter().any(|k| k.name == c.name) {
            cols.push(c);
        }
    }
    let id = query::column(table, "id", "sort")?;
    let sort = match q.sort.as_deref() {
        None | Some("id") => id,
        Some(s) => {
            let c = query::column(table, s, "sort")?;
            if !c.sortable {
                return Err(AppError::field("sort", format!("`{s}` is not sortable (no index leads with it)")));
            }
            c
        }
    };
    if !cols.iter().any(|k| k.name == sort.name) {
        cols.push(sort);
    }
    let limit = pagination::limit(q.limit)?;
    let descending = q.order == SortOrder::Desc;
    let mut cond = visible(table, actor, scope)?
        .add(query::selection(table, &Selection { filters: q.filters.clone(), search: q.search.clone() })?);
    if let Some(raw) = &q.cursor {
        let cursor = Cursor::decode(raw)?;
        let after = if sort.name == "id" {
            if descending {
                col(id).lt(cursor.id)
            } else {
                col(id).gt(cursor.id)
            }
        } else {
            let key = cursor.key.as_deref().ok_or_else(|| AppError::unknown("cursor", "belongs to another sort"))?;
            let key = query::value(sort, &Json::String(key.to_owned()), "cursor")?;
            pagination::after(col(sort), col(id), key, cursor.id, descending)
        };
        cond = cond.add(after);
    }
    let order = if descending { Order::Desc } else { Order::Asc };
    let mut stmt = Query::select();
    stmt.columns(cols.iter().map(|c| Alias::new(c.name))).from(Alias::new(table.name)).cond_where(cond);
    if sort.name != "id" {
        stmt.order_by(Alias::new(sort.name), order.clone());
    }
    stmt.order_by(Alias::new("id"), order).limit(limit + 1);
    let rows = fetch(&state.db, &stmt, &cols).await?;
    let (rows, next_cursor) = pagination::finish(rows, limit, |r| Cursor {
        key: (sort.name != "id").then(|| r.get(sort.name).and_then(Json::as_str).unwrap_or_default().to_owned()),
        id: row_id(r),
    });
    let tenant_ids: BTreeSet<Uuid> = rows
        .iter()
        .filter_map(|r| r.get(table.tenant).and_then(Json::as_str).and_then(|s| Uuid::parse_str(s).ok()))
        .collect();
    let customers = customer_names(state, tenant_ids).await?;
    Ok(ExplorerPage {
        table: table.name.into(),
        columns: cols.iter().map(|c| c.name.to_owned()).collect(),
        rows,
        next_cursor,
        customers,
        viewing_as: viewing_as(actor),
    })
}

async fn customer_names(state: &AppState, ids: BTreeSet<Uuid>) -> AppResult<BTreeMap<String, String>> {
    if ids.is_empty() {
        return Ok(BTreeMap::new());
    }
    let rows = customers::Entity::find()
        .filter(sea_orm::ColumnTrait::is_in(&customers::Column::Id, ids))
        .all(&state.db)
        .await?;
    Ok(rows.into_iter().map(|c| (c.id.to_string(), c.name)).collect())
}

/// A new value for an editable column, checked: its kind, length, allowed values, and for a
/// record's payload its entity type's JSON Schema (checked by the caller, who knows the type).
fn checked_value(table: &Table, name: &str, v: &Json) -> AppResult<(&'static Col, Value)> {
    let field = format!("set.{}", name.chars().take(64).collect::<String>());
    let c = query::column(table, name, &field)?;
    if !c.editable {
        return Err(AppError::field(&field, format!("`{}` cannot be edited", c.name)));
    }
    if v.is_null() {
        if !c.nullable {
            return Err(AppError::field(&field, "cannot be empty"));
        }
        return Ok((c, null_of(c.kind)));
    }
    let value = match c.kind {
        ColumnKind::Json => {
            if !v.is_object() {
                return Err(AppError::field(&field, "must be a JSON object"));
            }
            Value::from(v.clone())
        }
        ColumnKind::Text => {
            let s = v.as_str().ok_or_else(|| AppError::field(&field, "must be text"))?;
            let s = s.trim();
            let n = s.chars().count() as u32;
            let (min, max) = c.length;
            if n < std::cmp::max(min, u32::from(!c.nullable)) || n > max {
                return Err(AppError::field(&field, format!("must be {}–{max} characters", std::cmp::max(min, 1))));
            }
            if let Some(why) = crate::http::extract::refused_character(s, false) {
                return Err(AppError::field(&field, why));
            }
            if table.name == "flows" && c.name == "schedule" && crate::tenancy::flows::parse_schedule(s).is_none() {
                return Err(AppError::field(&field, "must read `every <n><s|m|h|d>`, at least every 10 seconds"));
            }
            Value::from(s.to_owned())
        }
        _ => query::value(c, v, &field)?,
    };
    Ok((c, value))
}

fn null_of(kind: ColumnKind) -> Value {
    match kind {
        ColumnKind::Uuid => Value::Uuid(None),
        ColumnKind::Integer => Value::BigInt(None),
        ColumnKind::Timestamp => Value::ChronoDateTimeUtc(None),
        ColumnKind::Json => Value::Json(None),
        ColumnKind::Text | ColumnKind::Enum => Value::String(None),
    }
}

/// The JSON a value would read back as, to compare with what an editor expects.
fn same(a: &Json, b: &Json) -> bool {
    match (a, b) {
        (Json::String(x), Json::String(y)) => x == y || x.trim() == y.trim(),
        _ => a == b,
    }
}

/// The statement reading one row (locked for the transaction on PostgreSQL).
fn select_row(backend: DbBackend, table: &Table, cond: Cond, id: Uuid) -> SelectStatement {
    let mut stmt = Query::select();
    stmt.columns(table.columns.iter().map(|c| Alias::new(c.name)))
        .from(Alias::new(table.name))
        .cond_where(cond)
        .and_where(Expr::col(Alias::new("id")).eq(id));
    if backend == DbBackend::Postgres {
        stmt.lock(LockType::Update);
    }
    stmt
}

/// The extra columns an edit sets (`updated_at`, a record's derived fields, a flow's next run):
/// the same for every row it touches, since each is computed from a value in `set` (a column
/// whose source is not in `set` keeps the value it has), so a batch edit is one statement for
/// all its rows.
fn derived(table: &Table, set: &[(&'static Col, Value, Json)]) -> Vec<(&'static str, Value)> {
    let now = Utc::now();
    let mut out = Vec::new();
    if table.touches_updated_at {
        out.push(("updated_at", Value::from(now)));
    }
    let new = |name: &str| set.iter().find(|(c, _, _)| c.name == name).map(|(_, _, j)| j);
    match table.name {
        "records" => {
            if let Some(payload) = new("payload") {
                out.push(("content_hash", Value::from(super::records::content_hash(payload))));
            }
            if let Some(external) = new("external_id") {
                let external = external.as_str().unwrap_or_default();
                out.push(("external_key", Value::from(super::records::external_key(external))));
            }
        }
        "flows" => {
            if let Some(schedule) = new("schedule") {
                let next = schedule.as_str().and_then(crate::tenancy::flows::parse_schedule).map(|every| now + every);
                out.push(("next_run_at", next.map(Value::from).unwrap_or(Value::ChronoDateTimeUtc(None))));
            }
        }
        _ => {}
    }
    out
}

/// A unique index refused the write: a 409 naming the column.
fn unique_conflict(err: DbErr, table: &Table, columns: &[&str]) -> AppError {
    if matches!(err.sql_err(), Some(SqlErr::UniqueConstraintViolation(_))) {
        let field = columns.first().map(|c| format!("set.{c}"));
        return AppError::Conflict {
            code: "duplicate_value",
            field,
            detail: format!("Another row of {} already has that value.", table.label.to_lowercase()),
        };
    }
    err.into()
}

fn tenant_of(table: &Table, row: &Map<String, Json>) -> Option<Uuid> {
    row.get(table.tenant).and_then(Json::as_str).and_then(|s| Uuid::parse_str(s).ok())
}

/// `PATCH /api/explorer/tables/{table}/rows/{row_id}`: one row's new values, checked against
/// what the editor saw.
pub async fn update_row(
    state: &AppState,
    actor: &Actor,
    meta: &RequestMeta,
    scope: &Scope,
    name: &str,
    id: Uuid,
    edit: RowEdit,
) -> AppResult<EditedRow> {
    let table = table(name)?;
    if edit.set.is_empty() {
        return Err(AppError::field("set", "names at least one column"));
    }
    let mut set = Vec::new();
    for (k, v) in &edit.set {
        let (c, value) = checked_value(table, k, v)?;
        if !edit.expect.contains_key(k) {
            return Err(AppError::field(format!("expect.{}", c.name), "is required: the value you last saw"));
        }
        set.push((c, value, v.clone()));
    }
    let cond = visible(table, actor, scope)?;
    let txn = crate::store::begin(&state.db).await?;
    let cols = all_columns(table);
    let stmt = select_row(txn.get_database_backend(), table, cond, id);
    let before =
        fetch(&txn, &stmt, &cols).await?.pop().ok_or_else(|| AppError::NotFound("No such row in scope.".into()))?;
    for (c, _, _) in &set {
        let now = before.get(c.name).cloned().unwrap_or(Json::Null);
        if !same(&now, edit.expect.get(c.name).unwrap_or(&Json::Null)) {
            return Err(AppError::Conflict {
                code: "stale_edit",
                field: Some(c.name.to_owned()),
                detail: format!("`{}` changed since you read it; reload the row and edit again.", c.name),
            });
        }
    }
    if table.name == "records" {
        if let Some((_, _, payload)) = set.iter().find(|(c, _, _)| c.name == "payload") {
            let entity = before.get("entity_type").and_then(Json::as_str).unwrap_or_default();
            super::records::Models(&state.models)
                .validate(&txn, entity, payload)
                .await
                .map_err(|e| prefix_fields(e, "set."))?;
        }
    }
    let changed: Vec<String> = set
        .iter()
        .filter(|(c, _, j)| !same(before.get(c.name).unwrap_or(&Json::Null), j))
        .map(|(c, _, _)| c.name.to_owned())
        .collect();
    let mut update = Query::update();
    update.table(Alias::new(table.name)).and_where(Expr::col(Alias::new("id")).eq(id));
    for (c, v, _) in &set {
        update.value(Alias::new(c.name), v.clone());
    }
    for (c, v) in derived(table, &set) {
        update.value(Alias::new(c), v);
    }
    let columns: Vec<&str> = set.iter().map(|(c, _, _)| c.name).collect();
    txn.execute(&update).await.map_err(|e| unique_conflict(e, table, &columns))?;
    let after = fetch(&txn, &select_row(txn.get_database_backend(), table, Cond::all(), id), &cols)
        .await?
        .pop()
        .ok_or_else(|| AppError::internal("the edited row vanished"))?;
    let pick = |row: &Map<String, Json>| -> Map<String, Json> {
        columns.iter().map(|c| ((*c).to_owned(), row.get(*c).cloned().unwrap_or(Json::Null))).collect()
    };
    let event = Event::new("data.row.update", "success")
        .by(actor)
        .target("row", format!("{}/{id}", table.name))
        .summary(json!({ "table": table.name, "before": pick(&before), "after": pick(&after) }));
    audit::append(&txn, meta, Event { customer_id: tenant_of(table, &before), ..event }).await?;
    txn.commit().await?;
    Ok(EditedRow { row: after, changed })
}

/// Field errors from a nested check, named where the request carried them.
fn prefix_fields(err: AppError, prefix: &str) -> AppError {
    match err {
        AppError::Validation(errors) => AppError::Validation(
            errors
                .into_iter()
                .map(|mut e| {
                    e.field = format!("{prefix}{}", e.field);
                    e
                })
                .collect(),
        ),
        other => other,
    }
}

/// Why a row is left out of a delete, if it is.
async fn delete_refusals<C: ConnectionTrait>(
    conn: &C,
    table: &Table,
    rows: &[Map<String, Json>],
) -> AppResult<BTreeMap<Uuid, String>> {
    let mut out = BTreeMap::new();
    let ids: Vec<Uuid> = rows.iter().map(row_id).collect();
    let referenced = |from: &'static str, column: &'static str| {
        let mut stmt = Query::select();
        stmt.distinct()
            .column(Alias::new(column))
            .from(Alias::new(from))
            .and_where(Expr::col(Alias::new(column)).is_in(ids.clone()));
        stmt
    };
    let read_ids = |rows: Vec<sea_orm::QueryResult>, column: &str| -> AppResult<Vec<Uuid>> {
        rows.iter().map(|r| r.try_get::<Uuid>("", column).map_err(AppError::from)).collect()
    };
    match table.name {
        "runs" => {
            for r in rows {
                let status = r.get("status").and_then(Json::as_str).unwrap_or_default();
                if matches!(status, "queued" | "running") {
                    out.insert(row_id(r), format!("the run is {status}: wait until it finishes"));
                }
            }
        }
        "flows" => {
            let found = conn.query_all(&referenced("runs", "flow_id")).await?;
            for id in read_ids(found, "flow_id")? {
                out.insert(id, "the flow has runs: delete them first".into());
            }
        }
        "records" => {
            let found = conn.query_all(&referenced("records", "merged_into")).await?;
            for id in read_ids(found, "merged_into")? {
                out.insert(id, "other records are merged into it: undo those merges first".into());
            }
        }
        _ => {}
    }
    Ok(out)
}

/// `POST /api/explorer/tables/{table}/batch`: an edit or a delete over a selection, in one
/// transaction. The dry run runs every check and rolls back; the real run needs the phrase it
/// gave, so a selection that grew or shrank in between is refused rather than acted on.
pub async fn batch(
    state: &AppState,
    actor: &Actor,
    meta: &RequestMeta,
    scope: &Scope,
    name: &str,
    req: BatchRequest,
) -> AppResult<BatchReport> {
    let table = table(name)?;
    let mut cond = visible(table, actor, scope)?;
    match (&req.ids, &req.selection) {
        (Some(ids), None) => {
            if ids.is_empty() || ids.len() > BATCH_MAX {
                return Err(AppError::field("ids", format!("names 1 to {BATCH_MAX} rows")));
            }
            cond = cond.add(Expr::col(Alias::new("id")).is_in(ids.clone()));
        }
        (None, Some(selection)) => cond = cond.add(query::selection(table, selection)?),
        _ => return Err(AppError::field("ids", "give either `ids` or `selection`")),
    }
    let mut set = Vec::new();
    match req.action {
        BatchAction::Delete => {
            if !table.deletable {
                return Err(AppError::field(
                    "action",
                    format!("rows of {} cannot be deleted", table.label.to_lowercase()),
                ));
            }
            if req.set.is_some() {
                return Err(AppError::field("set", "is for `edit`"));
            }
        }
        BatchAction::Edit => {
            let values = req
                .set
                .as_ref()
                .filter(|s| !s.is_empty())
                .ok_or_else(|| AppError::field("set", "names at least one column"))?;
            for (k, v) in values {
                let (c, value) = checked_value(table, k, v)?;
                set.push((c, value, v.clone()));
            }
        }
    }
    let txn = crate::store::begin(&state.db).await?;
    let cols = all_columns(table);
    let mut stmt = Query::select();
    stmt.columns(cols.iter().map(|c| Alias::new(c.name)))
        .from(Alias::new(table.name))
        .cond_where(cond)
        .order_by(Alias::new("id"), Order::Asc)
        .limit(BATCH_MAX as u64 + 1);
    if txn.get_database_backend() == DbBackend::Postgres {
        stmt.lock(LockType::Update);
    }
    let rows = fetch(&txn, &stmt, &cols).await?;
    if rows.len() > BATCH_MAX {
        return Err(AppError::field("selection", format!("matches more than {BATCH_MAX} rows: narrow it")));
    }
    let mut skipped: Vec<SkippedRow> = Vec::new();
    if let Some(ids) = &req.ids {
        let found: BTreeSet<Uuid> = rows.iter().map(row_id).collect();
        for id in ids.iter().filter(|i| !found.contains(i)).collect::<BTreeSet<_>>() {
            skipped.push(SkippedRow { id: *id, reason: "no such row in scope".into() });
        }
    }
    let refusals = match req.action {
        BatchAction::Delete => delete_refusals(&txn, table, &rows).await?,
        BatchAction::Edit => {
            let mut out = BTreeMap::new();
            for r in &rows {
                if set.iter().all(|(c, _, j)| same(r.get(c.name).unwrap_or(&Json::Null), j)) {
                    out.insert(row_id(r), "already has these values".into());
                } else if let (true, Some((_, _, payload))) =
                    (table.name == "records", set.iter().find(|(c, _, _)| c.name == "payload"))
                {
                    let entity = r.get("entity_type").and_then(Json::as_str).unwrap_or_default();
                    if let Err(AppError::Validation(errors)) =
                        super::records::Models(&state.models).validate(&txn, entity, payload).await
                    {
                        let first = errors.first().map(|e| format!("{}: {}", e.field, e.message)).unwrap_or_default();
                        out.insert(row_id(r), format!("its {entity} model refuses the payload ({first})"));
                    }
                }
            }
            out
        }
    };
    let mut affected_rows = Vec::new();
    for r in rows {
        match refusals.get(&row_id(&r)) {
            Some(reason) => skipped.push(SkippedRow { id: row_id(&r), reason: reason.clone() }),
            None => affected_rows.push(r),
        }
    }
    let verb = match req.action {
        BatchAction::Edit => "edit",
        BatchAction::Delete => "delete",
    };
    let confirm_phrase = format!("{verb} {} {}", affected_rows.len(), table.name);
    let report = |dry_run: bool, affected: &[Map<String, Json>], skipped: Vec<SkippedRow>| BatchReport {
        dry_run,
        matched: (affected.len() + skipped.len()) as u64,
        affected: affected.iter().map(row_id).collect(),
        skipped,
        confirm_phrase: confirm_phrase.clone(),
    };
    if req.dry_run || affected_rows.is_empty() {
        txn.rollback().await?;
        return Ok(report(true, &affected_rows, skipped));
    }
    if req.confirm.as_deref() != Some(confirm_phrase.as_str()) {
        return Err(AppError::unconfirmed(format!(
            "type `{confirm_phrase}` to confirm (run it with `dry_run` first to see what it does)"
        )));
    }
    let columns: Vec<&str> = set.iter().map(|(c, _, _)| c.name).collect();
    let ids: Vec<Uuid> = affected_rows.iter().map(row_id).collect();
    match req.action {
        BatchAction::Delete => {
            for chunk in ids.chunks(500) {
                let mut delete = Query::delete();
                delete.from_table(Alias::new(table.name)).and_where(Expr::col(Alias::new("id")).is_in(chunk.to_vec()));
                txn.execute(&delete).await?;
            }
        }
        BatchAction::Edit => {
            // One UPDATE for the lot: 100 single-row statements held the rows' locks for 100
            // round trips (9 batch edits/s on PostgreSQL under 16 clients).
            let derived = derived(table, &set);
            for chunk in ids.chunks(500) {
                let mut update = Query::update();
                update.table(Alias::new(table.name)).and_where(Expr::col(Alias::new("id")).is_in(chunk.to_vec()));
                for (c, v, _) in &set {
                    update.value(Alias::new(c.name), v.clone());
                }
                for (c, v) in &derived {
                    update.value(Alias::new(*c), v.clone());
                }
                txn.execute(&update).await.map_err(|e| unique_conflict(e, table, &columns))?;
            }
        }
    }
    let tenants: BTreeSet<Uuid> = affected_rows.iter().filter_map(|r| tenant_of(table, r)).collect();
    let before: Vec<Json> = affected_rows
        .iter()
        .take(100)
        .map(|r| {
            let mut m: Map<String, Json> =
                columns.iter().map(|c| ((*c).to_owned(), r.get(*c).cloned().unwrap_or(Json::Null))).collect();
            m.insert("id".into(), json!(row_id(r)));
            Json::Object(m)
        })
        .collect();
    let action = match req.action {
        BatchAction::Edit => "data.batch.edit",
        BatchAction::Delete => "data.batch.delete",
    };
    let event = Event::new(action, "success").by(actor).target("table", table.name).summary(json!({
        "table": table.name,
        "count": affected_rows.len(),
        "skipped": skipped.len(),
        "set": req.set,
        "before": before,
        "selection": req.selection,
    }));
    let customer_id = if tenants.len() == 1 { tenants.first().copied() } else { None };
    audit::append(&txn, meta, Event { customer_id, ..event }).await?;
    txn.commit().await?;
    crate::store::after_bulk_write(&state.db, table.name, affected_rows.len() as u64).await;
    Ok(report(false, &affected_rows, skipped))
}
