//! Data ops (DESIGN §7, seed 000): dedup merge of canonical records and its undo, force
//! refresh of one record, and the schema migrations' status. Every action runs a dry run on
//! request, needs the phrase the dry run gives, and is one audit event.

use chrono::{Duration, Utc};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, DbBackend, EntityTrait, PaginatorTrait, QueryFilter,
    QueryOrder, QuerySelect, Set,
};
use serde::Deserialize;
use serde_json::json;
use sha2::{Digest, Sha256};
use std::collections::{BTreeSet, HashMap};
use steward_shared::api::Page;
use steward_shared::data::{
    Confirmed, DuplicateGroup, MergeReport, MergeRequest, MergeRow, MigrationStatus, MovedLink, RefreshReport,
};
use uuid::Uuid;

use super::records::{content_hash, external_key, link_counts, wire};
use crate::access::scope::Scope;
use crate::access::Actor;
use crate::audit::{self, Event};
use crate::http::error::{AppError, AppResult};
use crate::http::pagination::{self, Cursor};
use crate::http::request_meta::RequestMeta;
use crate::state::AppState;
use crate::store::entities::{
    customers, migration_checksums, record_hash_counts, record_links, record_merges, records, users,
};

/// At most this many records merge into one survivor at once.
pub const MERGE_MAX: usize = steward_shared::rules::MERGED.max;

/// Whether a typed confirmation matches, else the 409 saying what to type.
fn confirmed(c: &Option<String>, phrase: &str) -> AppResult<()> {
    if c.as_deref() == Some(phrase) {
        Ok(())
    } else {
        Err(AppError::unconfirmed(format!("type `{phrase}` to confirm (a dry run shows what it does)")))
    }
}

/// Reads rows for update: locked until the transaction ends on PostgreSQL (SQLite's write
/// transaction holds the whole database already).
fn locked<S: QuerySelect>(q: S, backend: DbBackend) -> S {
    if backend == DbBackend::Postgres {
        q.lock_exclusive()
    } else {
        q
    }
}

/// A record in the caller's scope, or 404.
async fn record_in_scope<C: ConnectionTrait>(
    conn: &C,
    scope: &Scope,
    id: Uuid,
    field: &str,
) -> AppResult<records::Model> {
    locked(
        records::Entity::find_by_id(id).filter(scope.condition(records::Column::CustomerId)),
        conn.get_database_backend(),
    )
    .one(conn)
    .await?
    .ok_or_else(|| AppError::unknown(field, "is no record in scope"))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct GroupQuery {
    pub entity_type: Option<String>,
    pub limit: Option<u64>,
    pub cursor: Option<String>,
}

/// Groups of live records sharing an entity type and content hash, largest first: read from
/// the counts the triggers keep, never from a scan of the records.
pub async fn duplicate_groups(state: &AppState, scope: &Scope, q: GroupQuery) -> AppResult<Page<DuplicateGroup>> {
    let limit = std::cmp::min(pagination::limit(q.limit)?, 50);
    let mut query = record_hash_counts::Entity::find()
        .filter(scope.condition(record_hash_counts::Column::CustomerId))
        .filter(record_hash_counts::Column::N.gt(1));
    if let Some(t) = &q.entity_type {
        query = query.filter(record_hash_counts::Column::EntityType.eq(t.clone()));
    }
    if let Some(raw) = &q.cursor {
        let c = Cursor::decode(raw)?;
        let key = c.key.unwrap_or_default();
        let (n, rest) = key.split_once('/').ok_or_else(pagination::foreign_cursor)?;
        let (entity, hash) = rest.split_once('/').unwrap_or((rest, ""));
        let n: i64 = n.parse().map_err(|_| pagination::foreign_cursor())?;
        query = query.filter(
            Expr::tuple([
                Expr::col(record_hash_counts::Column::N),
                Expr::col(record_hash_counts::Column::CustomerId),
                Expr::col(record_hash_counts::Column::EntityType),
                Expr::col(record_hash_counts::Column::ContentHash),
            ])
            .lt(Expr::tuple([
                Expr::val(n),
                Expr::val(c.id),
                Expr::val(entity.to_owned()),
                Expr::val(hash.to_owned()),
            ])),
        );
    }
    let groups = query
        .order_by_desc(record_hash_counts::Column::N)
        .order_by_desc(record_hash_counts::Column::CustomerId)
        .order_by_desc(record_hash_counts::Column::EntityType)
        .order_by_desc(record_hash_counts::Column::ContentHash)
        .limit(limit + 1)
        .all(&state.db)
        .await?;
    let (groups, next_cursor) = pagination::finish(groups, limit, |g| Cursor {
        key: Some(format!("{}/{}/{}", g.n, g.entity_type, g.content_hash)),
        id: g.customer_id,
    });
    let names: HashMap<Uuid, String> = customers::Entity::find()
        .filter(customers::Column::Id.is_in(groups.iter().map(|g| g.customer_id).collect::<BTreeSet<_>>()))
        .all(&state.db)
        .await?
        .into_iter()
        .map(|c| (c.id, c.name))
        .collect();
    let mut items = Vec::new();
    for g in groups {
        let members = records::Entity::find()
            .filter(records::Column::CustomerId.eq(g.customer_id))
            .filter(records::Column::EntityType.eq(g.entity_type.clone()))
            .filter(records::Column::ContentHash.eq(g.content_hash.clone()))
            .filter(records::Column::MergedInto.is_null())
            .order_by_asc(records::Column::CreatedAt)
            .order_by_asc(records::Column::Id)
            .limit(20)
            .all(&state.db)
            .await?;
        let counts = link_counts(&state.db, &members.iter().map(|r| r.id).collect::<Vec<_>>()).await?;
        items.push(DuplicateGroup {
            customer_name: names.get(&g.customer_id).cloned().unwrap_or_default(),
            customer_id: g.customer_id,
            entity_type: g.entity_type,
            content_hash: g.content_hash,
            count: g.n as u64,
            records: members
                .into_iter()
                .map(|r| {
                    let n = counts.get(&r.id).copied().unwrap_or(0);
                    wire(r, n)
                })
                .collect(),
        });
    }
    Ok(Page { items, next_cursor })
}

/// A merge the records' state forbids (merged already, another type or customer): 409
/// `merge_conflict` naming the field. The request itself may be well formed; what it names is
/// not in a state to merge.
fn cannot_merge(field: &str, message: impl Into<String>) -> AppError {
    AppError::Conflict { code: "merge_conflict", field: Some(field.into()), detail: message.into() }
}

/// Merge duplicates into a survivor: the others stay, marked `merged_into` it, and every link
/// from or to them moves to it. Undoable within the configured window.
pub async fn merge(
    state: &AppState,
    actor: &Actor,
    meta: &RequestMeta,
    scope: &Scope,
    req: MergeRequest,
) -> AppResult<MergeReport> {
    if req.merged_ids.is_empty() || req.merged_ids.len() > MERGE_MAX {
        return Err(AppError::field("merged_ids", format!("names 1 to {MERGE_MAX} records")));
    }
    let unique: BTreeSet<Uuid> = req.merged_ids.iter().copied().collect();
    if unique.len() != req.merged_ids.len() {
        return Err(AppError::field("merged_ids", "names a record twice"));
    }
    if unique.contains(&req.survivor_id) {
        return Err(AppError::field("merged_ids", "names the survivor itself"));
    }
    let txn = crate::store::begin(&state.db).await?;
    let backend = txn.get_database_backend();
    let survivor = record_in_scope(&txn, scope, req.survivor_id, "survivor_id").await?;
    if let Some(into) = survivor.merged_into {
        return Err(cannot_merge("survivor_id", format!("is itself merged into {into}: pick that one")));
    }
    let mut merged = Vec::new();
    for (i, id) in req.merged_ids.iter().enumerate() {
        let field = format!("merged_ids[{i}]");
        let r = record_in_scope(&txn, scope, *id, &field).await?;
        if r.customer_id != survivor.customer_id || r.entity_type != survivor.entity_type {
            return Err(cannot_merge(&field, format!("is not a {} of the survivor's customer", survivor.entity_type)));
        }
        if let Some(into) = r.merged_into {
            return Err(cannot_merge(&field, format!("is already merged into {into}")));
        }
        merged.push(r);
    }
    let into_merged = records::Entity::find()
        .filter(records::Column::CustomerId.eq(survivor.customer_id))
        .filter(records::Column::MergedInto.is_in(unique.clone()))
        .count(&txn)
        .await?;
    if into_merged > 0 {
        return Err(cannot_merge(
            "merged_ids",
            "other records are merged into some of these: merge into those survivors instead",
        ));
    }
    let links = locked(
        record_links::Entity::find().filter(record_links::Column::CustomerId.eq(survivor.customer_id)).filter(
            Condition::any()
                .add(record_links::Column::FromId.is_in(unique.clone()))
                .add(record_links::Column::ToId.is_in(unique.clone())),
        ),
        backend,
    )
    .order_by_asc(record_links::Column::Id)
    .all(&txn)
    .await?;
    let mut moved = Vec::new();
    for l in &links {
        for (end, at) in [("from", l.from_id), ("to", l.to_id)] {
            if unique.contains(&at) {
                moved.push(MovedLink {
                    link_id: l.id,
                    end: end.into(),
                    was: at,
                    now: survivor.id,
                    relation: l.relation.clone(),
                });
            }
        }
    }
    let confirm_phrase = format!("merge {} into {}", merged.len(), survivor.external_id);
    let window = Duration::hours(state.config.unmerge_window_hours as i64);
    let mut report = MergeReport {
        dry_run: true,
        merge_id: None,
        survivor_id: survivor.id,
        merged_ids: req.merged_ids.clone(),
        moved,
        confirm_phrase: confirm_phrase.clone(),
        undo_until: None,
    };
    if req.dry_run {
        txn.rollback().await?;
        return Ok(report);
    }
    confirmed(&req.confirm, &confirm_phrase)?;
    let now = Utc::now();
    records::Entity::update_many()
        .col_expr(records::Column::MergedInto, Expr::value(survivor.id))
        .col_expr(records::Column::UpdatedAt, Expr::value(now))
        .filter(records::Column::Id.is_in(unique.clone()))
        .exec(&txn)
        .await?;
    for l in links {
        let mut active: record_links::ActiveModel = l.clone().into();
        if unique.contains(&l.from_id) {
            active.from_id = Set(survivor.id);
        }
        if unique.contains(&l.to_id) {
            active.to_id = Set(survivor.id);
        }
        active.update(&txn).await?;
    }
    let merge_id = Uuid::now_v7();
    record_merges::ActiveModel {
        id: Set(merge_id),
        customer_id: Set(survivor.customer_id),
        entity_type: Set(survivor.entity_type.clone()),
        survivor_id: Set(survivor.id),
        merged_ids: Set(json!(req.merged_ids)),
        moved_links: Set(serde_json::to_value(&report.moved).unwrap_or_default()),
        merged_by: Set(actor.author_id()),
        merged_at: Set(now),
        undone_at: Set(None),
        undone_by: Set(None),
    }
    .insert(&txn)
    .await?;
    crate::tenancy::dashboard::bump_epoch(&txn, survivor.customer_id).await?;
    let event = Event::new("data.merge", "success").by(actor).target("record", survivor.id).summary(json!({
        "merge_id": merge_id,
        "entity_type": survivor.entity_type,
        "survivor": { "id": survivor.id, "external_id": survivor.external_id },
        "merged": merged.iter().map(|r| json!({ "id": r.id, "external_id": r.external_id })).collect::<Vec<_>>(),
        "links_moved": report.moved.len(),
    }));
    audit::append(&txn, meta, Event { customer_id: Some(survivor.customer_id), ..event }).await?;
    txn.commit().await?;
    report.dry_run = false;
    report.merge_id = Some(merge_id);
    report.undo_until = Some(now + window);
    Ok(report)
}

fn undoable(m: &record_merges::Model, window: Duration) -> bool {
    m.undone_at.is_none() && Utc::now() < m.merged_at + window
}

/// Undo a merge within the window: the merged records are live again and each moved link end
/// points back where it was (a link changed or deleted since is left as it is, and said so).
pub async fn unmerge(
    state: &AppState,
    actor: &Actor,
    meta: &RequestMeta,
    scope: &Scope,
    id: Uuid,
    req: Confirmed,
) -> AppResult<MergeReport> {
    let window = Duration::hours(state.config.unmerge_window_hours as i64);
    let txn = crate::store::begin(&state.db).await?;
    let backend = txn.get_database_backend();
    let m = locked(
        record_merges::Entity::find_by_id(id).filter(scope.condition(record_merges::Column::CustomerId)),
        backend,
    )
    .one(&txn)
    .await?
    .ok_or_else(|| AppError::NotFound("No such merge in scope.".into()))?;
    if m.undone_at.is_some() {
        return Err(AppError::Conflict {
            code: "already_undone",
            field: None,
            detail: "This merge was undone already.".into(),
        });
    }
    if !undoable(&m, window) {
        return Err(AppError::Gone {
            code: "undo_window_passed",
            detail: format!("Merges can be undone for {} hours; this one is older.", state.config.unmerge_window_hours),
        });
    }
    let survivor = records::Entity::find_by_id(m.survivor_id).one(&txn).await?;
    let label = survivor.as_ref().map(|s| s.external_id.clone()).unwrap_or_else(|| m.survivor_id.to_string());
    let merged_ids: Vec<Uuid> = serde_json::from_value(m.merged_ids.clone()).unwrap_or_default();
    let moved: Vec<MovedLink> = serde_json::from_value(m.moved_links.clone()).unwrap_or_default();
    let confirm_phrase = format!("undo merge into {label}");
    let back: Vec<MovedLink> = moved.iter().map(|l| MovedLink { now: l.was, was: l.now, ..l.clone() }).collect();
    let mut report = MergeReport {
        dry_run: true,
        merge_id: Some(m.id),
        survivor_id: m.survivor_id,
        merged_ids: merged_ids.clone(),
        moved: back,
        confirm_phrase: confirm_phrase.clone(),
        undo_until: Some(m.merged_at + window),
    };
    if req.dry_run {
        txn.rollback().await?;
        return Ok(report);
    }
    confirmed(&req.confirm, &confirm_phrase)?;
    let now = Utc::now();
    records::Entity::update_many()
        .col_expr(records::Column::MergedInto, Expr::value(Option::<Uuid>::None))
        .col_expr(records::Column::UpdatedAt, Expr::value(now))
        .filter(records::Column::Id.is_in(merged_ids.clone()))
        .filter(records::Column::MergedInto.eq(m.survivor_id))
        .exec(&txn)
        .await?;
    let mut restored = Vec::new();
    for l in &moved {
        let Some(link) = locked(record_links::Entity::find_by_id(l.link_id), backend).one(&txn).await? else {
            continue;
        };
        let mut active: record_links::ActiveModel = link.clone().into();
        let at = if l.end == "from" { link.from_id } else { link.to_id };
        if at != l.now {
            continue;
        }
        if l.end == "from" {
            active.from_id = Set(l.was);
        } else {
            active.to_id = Set(l.was);
        }
        active.update(&txn).await?;
        restored.push(MovedLink { now: l.was, was: l.now, ..l.clone() });
    }
    let mut active: record_merges::ActiveModel = m.clone().into();
    active.undone_at = Set(Some(now));
    active.undone_by = Set(Some(actor.author_id()));
    active.update(&txn).await?;
    crate::tenancy::dashboard::bump_epoch(&txn, m.customer_id).await?;
    let event = Event::new("data.unmerge", "success").by(actor).target("record", m.survivor_id).summary(json!({
        "merge_id": m.id,
        "merged": merged_ids,
        "links_restored": restored.len(),
        "links_left": moved.len() - restored.len(),
    }));
    audit::append(&txn, meta, Event { customer_id: Some(m.customer_id), ..event }).await?;
    txn.commit().await?;
    report.dry_run = false;
    report.moved = restored;
    Ok(report)
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct MergeQuery {
    pub limit: Option<u64>,
    pub cursor: Option<String>,
}

/// Past merges in scope, newest first.
pub async fn list_merges(state: &AppState, scope: &Scope, q: MergeQuery) -> AppResult<Page<MergeRow>> {
    let limit = pagination::limit(q.limit)?;
    let window = Duration::hours(state.config.unmerge_window_hours as i64);
    let mut query = record_merges::Entity::find().filter(scope.condition(record_merges::Column::CustomerId));
    if let Some(raw) = &q.cursor {
        query = query.filter(record_merges::Column::Id.lt(Cursor::decode(raw)?.id));
    }
    let rows = query.order_by_desc(record_merges::Column::Id).limit(limit + 1).all(&state.db).await?;
    let (rows, next_cursor) = pagination::finish(rows, limit, |m| Cursor { key: None, id: m.id });
    let names: HashMap<Uuid, String> = users::Entity::find()
        .filter(users::Column::Id.is_in(rows.iter().map(|m| m.merged_by).collect::<BTreeSet<_>>()))
        .all(&state.db)
        .await?
        .into_iter()
        .map(|u| (u.id, u.name))
        .collect();
    Ok(Page {
        items: rows
            .into_iter()
            .map(|m| MergeRow {
                undoable: undoable(&m, window),
                merged_ids: serde_json::from_value(m.merged_ids.clone()).unwrap_or_default(),
                links_moved: m.moved_links.as_array().map_or(0, |a| a.len() as u64),
                merged_by_name: names.get(&m.merged_by).cloned(),
                id: m.id,
                customer_id: m.customer_id,
                entity_type: m.entity_type,
                survivor_id: m.survivor_id,
                merged_by: m.merged_by,
                merged_at: m.merged_at,
                undone_at: m.undone_at,
            })
            .collect(),
        next_cursor,
    })
}

/// Force-refresh one record: recompute its derived fields, invalidate the caches holding it
/// (its customer's KPI epoch, on every replica), record `refreshed_at`.
pub async fn refresh(
    state: &AppState,
    actor: &Actor,
    meta: &RequestMeta,
    scope: &Scope,
    id: Uuid,
    req: Confirmed,
) -> AppResult<RefreshReport> {
    let txn = crate::store::begin(&state.db).await?;
    let r = record_in_scope(&txn, scope, id, "record_id").await.map_err(|e| match e {
        AppError::Unavailable(_) | AppError::Internal(_) => e,
        _ => AppError::NotFound("No such record in scope.".into()),
    })?;
    let hash = content_hash(&r.payload);
    let key = external_key(&r.external_id);
    let mut changed = Vec::new();
    if r.content_hash.as_deref() != Some(hash.as_str()) {
        changed.push("content_hash".to_owned());
    }
    if r.external_key.as_deref() != Some(key.as_str()) {
        changed.push("external_key".to_owned());
    }
    let confirm_phrase = format!("refresh {}", r.external_id);
    let links = link_counts(&txn, &[r.id]).await?.get(&r.id).copied().unwrap_or(0);
    if req.dry_run {
        txn.rollback().await?;
        return Ok(RefreshReport { dry_run: true, record: wire(r, links), changed, confirm_phrase });
    }
    confirmed(&req.confirm, &confirm_phrase)?;
    let now = Utc::now();
    let mut active: records::ActiveModel = r.clone().into();
    active.content_hash = Set(Some(hash.clone()));
    active.external_key = Set(Some(key));
    active.refreshed_at = Set(Some(now));
    let updated = active.update(&txn).await?;
    crate::tenancy::dashboard::bump_epoch(&txn, r.customer_id).await?;
    let event = Event::new("data.refresh", "success").by(actor).target("record", r.id).summary(json!({
        "external_id": r.external_id,
        "changed": changed,
        "before": { "content_hash": r.content_hash },
        "after": { "content_hash": hash },
    }));
    audit::append(&txn, meta, Event { customer_id: Some(r.customer_id), ..event }).await?;
    txn.commit().await?;
    Ok(RefreshReport { dry_run: false, record: wire(updated, links), changed, confirm_phrase })
}

/// SHA-256 of each migration's source in this build, by name.
pub fn source_checksums() -> Vec<(&'static str, String)> {
    migration::SOURCES.iter().map(|(name, src)| (*name, hex::encode(Sha256::digest(src.as_bytes())))).collect()
}

/// Records the checksum of every applied migration that has none yet (at start, right after
/// migrating: what ran is this build's source).
pub async fn record_checksums<C: ConnectionTrait>(conn: &C) -> AppResult<()> {
    let applied = crate::store::applied_migrations(conn).await?;
    let known: BTreeSet<String> =
        migration_checksums::Entity::find().all(conn).await?.into_iter().map(|m| m.version).collect();
    for (name, sum) in source_checksums() {
        if applied.contains_key(name) && !known.contains(name) {
            let row = migration_checksums::ActiveModel {
                version: Set(name.to_owned()),
                checksum: Set(sum),
                recorded_at: Set(Utc::now()),
            };
            migration_checksums::Entity::insert(row)
                .on_conflict_do_nothing_on([migration_checksums::Column::Version])
                .exec(conn)
                .await?;
        }
    }
    Ok(())
}

/// Applied and pending migrations, with when each ran and whether its source still matches.
pub async fn migration_status(state: &AppState) -> AppResult<Vec<MigrationStatus>> {
    let applied = crate::store::applied_migrations(&state.db).await?;
    let recorded: HashMap<String, String> = migration_checksums::Entity::find()
        .all(&state.db)
        .await?
        .into_iter()
        .map(|m| (m.version, m.checksum))
        .collect();
    Ok(source_checksums()
        .into_iter()
        .map(|(name, checksum)| {
            let at = applied.get(name).copied();
            let ran = recorded.get(name).cloned();
            let state = match (at, &ran) {
                (None, _) => "pending",
                (Some(_), Some(r)) if *r != checksum => "changed",
                _ => "applied",
            };
            MigrationStatus {
                version: name.to_owned(),
                state: state.into(),
                applied_at: at.and_then(|t| chrono::DateTime::from_timestamp(t, 0)),
                applied_checksum: ran,
                checksum,
            }
        })
        .collect())
}
