//! Reading what is installed: the applications list and detail, import errors worst first,
//! the packages table and the flow templates. Each list is keyset-paged and reads its page's
//! related rows in one query per kind (no query per row).

use sea_orm::sea_query::{Expr, ExprTrait, Func, LikeExpr};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use serde::Deserialize;
use std::collections::HashMap;
use std::path::PathBuf;
use steward_shared::api::Page;
use steward_shared::apps::{
    AppModel, AppSource, ApplicationDetail, ApplicationRow, ConnectorKindRow, FlowTemplateRow, ImportErrorRow,
    PackageRow, RequirementRow, Severity, VersionRow,
};
use uuid::Uuid;

use crate::apps::manifest::{ConnectorKind, FlowDefinition};
use crate::http::error::{AppError, AppResult};
use crate::http::pagination::{self, contains_pattern, Cursor};
use crate::state::AppState;
use crate::store::entities::{
    application_models, application_requirements, application_versions, applications, connector_kinds, flow_templates,
    flows, import_errors, packages,
};

/// Where packages are unpacked on this replica.
pub fn packages_dir(state: &AppState) -> PathBuf {
    state.config.data_dir.join("packages")
}

/// A package version's directory.
pub fn package_path(state: &AppState, name: &str, version: &str) -> PathBuf {
    packages_dir(state).join(name).join(version)
}

pub fn version_row(v: &application_versions::Model, current: bool) -> VersionRow {
    VersionRow {
        id: v.id,
        version: v.version.clone(),
        git_commit: v.git_commit.clone(),
        digest: v.digest.clone(),
        files: v.files,
        bundle_bytes: v.bundle_bytes,
        errors: v.errors,
        installed_by: v.installed_by,
        installed_at: v.installed_at,
        current,
    }
}

pub fn import_error_row(e: import_errors::Model) -> ImportErrorRow {
    ImportErrorRow {
        id: e.id,
        application_id: e.application_id,
        application: e.application,
        version_id: e.version_id,
        version: e.version,
        severity: Severity::parse(&e.severity),
        code: e.code,
        file: e.file,
        model: e.model,
        message: e.message,
        detail: e.detail,
        created_at: e.created_at,
    }
}

/// The flows made from each application's templates.
pub async fn flows_using<C: ConnectionTrait>(conn: &C, ids: &[Uuid]) -> AppResult<HashMap<Uuid, i64>> {
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    let rows: Vec<(Option<Uuid>, i64)> = flows::Entity::find()
        .select_only()
        .column(flows::Column::ApplicationId)
        .column_as(Expr::col(flows::Column::Id).count(), "n")
        .filter(flows::Column::ApplicationId.is_in(ids.iter().copied()))
        .group_by(flows::Column::ApplicationId)
        .into_tuple()
        .all(conn)
        .await?;
    Ok(rows.into_iter().filter_map(|(a, n)| a.map(|a| (a, n))).collect())
}

async fn rows<C: ConnectionTrait>(conn: &C, apps: Vec<applications::Model>) -> AppResult<Vec<ApplicationRow>> {
    let ids: Vec<Uuid> = apps.iter().map(|a| a.id).collect();
    let current: Vec<Uuid> = apps.iter().filter_map(|a| a.current_version_id).collect();
    let versions: HashMap<Uuid, application_versions::Model> = if current.is_empty() {
        HashMap::new()
    } else {
        application_versions::Entity::find()
            .filter(application_versions::Column::Id.is_in(current))
            .all(conn)
            .await?
            .into_iter()
            .map(|v| (v.id, v))
            .collect()
    };
    let using = flows_using(conn, &ids).await?;
    Ok(apps
        .into_iter()
        .map(|a| {
            let v = a.current_version_id.and_then(|id| versions.get(&id));
            ApplicationRow {
                id: a.id,
                name: a.name,
                description: a.description,
                source: AppSource::parse(&a.source),
                git_url: a.git_url,
                git_branch: a.git_branch,
                active: a.active,
                version: v.map(|v| v.version.clone()),
                version_id: v.map(|v| v.id),
                git_commit: v.and_then(|v| v.git_commit.clone()),
                errors: v.map(|v| v.errors as i64).unwrap_or(0),
                flows: using.get(&a.id).copied().unwrap_or(0),
                created_at: a.created_at,
                updated_at: a.updated_at,
            }
        })
        .collect())
}

pub async fn application_row<C: ConnectionTrait>(conn: &C, app: applications::Model) -> AppResult<ApplicationRow> {
    rows(conn, vec![app]).await?.pop().ok_or_else(|| AppError::internal("the application vanished"))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ApplicationQuery {
    /// A fragment of the name or description.
    pub q: Option<String>,
    /// `true`: active only; `false`: inactive only.
    pub active: Option<bool>,
    /// 1–200, default 50.
    pub limit: Option<u64>,
    pub cursor: Option<String>,
}

/// Installed applications by name.
pub async fn list(state: &AppState, q: ApplicationQuery) -> AppResult<Page<ApplicationRow>> {
    let limit = pagination::limit(q.limit)?;
    let mut query = applications::Entity::find();
    if let Some(text) = q.q.as_deref().map(str::trim).filter(|t| !t.is_empty()) {
        let pattern = contains_pattern(&text.to_lowercase());
        let like = |c: applications::Column| {
            Expr::expr(Func::lower(Expr::col(c))).like(LikeExpr::new(pattern.clone()).escape('\\'))
        };
        query = query.filter(like(applications::Column::Name).or(like(applications::Column::Description)));
    }
    if let Some(active) = q.active {
        query = query.filter(applications::Column::Active.eq(active));
    }
    if let Some(raw) = &q.cursor {
        let c = Cursor::decode(raw)?;
        query = query.filter(pagination::after(
            Expr::col(applications::Column::Name),
            Expr::col(applications::Column::Id),
            c.key.unwrap_or_default(),
            c.id,
            false,
        ));
    }
    let found = query
        .order_by_asc(applications::Column::Name)
        .order_by_asc(applications::Column::Id)
        .limit(limit + 1)
        .all(&state.db)
        .await?;
    let (found, next_cursor) = pagination::finish(found, limit, |a| Cursor { key: Some(a.name.clone()), id: a.id });
    Ok(Page { items: rows(&state.db, found).await?, next_cursor })
}

pub async fn find(state: &AppState, id: Uuid) -> AppResult<applications::Model> {
    applications::Entity::find_by_id(id)
        .one(&state.db)
        .await?
        .ok_or_else(|| AppError::NotFound("No such application.".into()))
}

fn steps_of(definition: &serde_json::Value) -> (String, Vec<String>) {
    match serde_json::from_value::<FlowDefinition>(definition.clone()) {
        Ok(d) => (d.entity_type, d.steps.iter().map(|s| s.kind().to_string()).collect()),
        Err(_) => (String::new(), vec![]),
    }
}

/// The application, its versions newest first, and what its version in use brings.
pub async fn detail(state: &AppState, id: Uuid) -> AppResult<ApplicationDetail> {
    let app = find(state, id).await?;
    let current = app.current_version_id;
    let name = app.name.clone();
    let versions = application_versions::Entity::find()
        .filter(application_versions::Column::ApplicationId.eq(app.id))
        .order_by_desc(application_versions::Column::InstalledAt)
        .order_by_desc(application_versions::Column::Id)
        .all(&state.db)
        .await?;
    let application = application_row(&state.db, app).await?;
    let Some(vid) = current else {
        return Ok(ApplicationDetail {
            application,
            versions: versions.iter().map(|v| version_row(v, false)).collect(),
            models: vec![],
            templates: vec![],
            connector_kinds: vec![],
            requirements: vec![],
        });
    };
    let models = application_models::Entity::find()
        .filter(application_models::Column::VersionId.eq(vid))
        .order_by_asc(application_models::Column::Name)
        .all(&state.db)
        .await?;
    let templates = flow_templates::Entity::find()
        .filter(flow_templates::Column::VersionId.eq(vid))
        .order_by_asc(flow_templates::Column::Name)
        .all(&state.db)
        .await?;
    let kinds = connector_kinds::Entity::find()
        .filter(connector_kinds::Column::VersionId.eq(vid))
        .order_by_asc(connector_kinds::Column::Kind)
        .all(&state.db)
        .await?;
    let reqs = application_requirements::Entity::find()
        .filter(application_requirements::Column::VersionId.eq(vid))
        .order_by_asc(application_requirements::Column::Package)
        .all(&state.db)
        .await?;
    let resolved_ids: Vec<Uuid> = reqs.iter().filter_map(|r| r.package_id).collect();
    let resolved: HashMap<Uuid, String> = if resolved_ids.is_empty() {
        HashMap::new()
    } else {
        packages::Entity::find()
            .filter(packages::Column::Id.is_in(resolved_ids))
            .all(&state.db)
            .await?
            .into_iter()
            .map(|p| (p.id, p.version))
            .collect()
    };
    Ok(ApplicationDetail {
        application,
        versions: versions.iter().map(|v| version_row(v, Some(v.id) == current)).collect(),
        models: models.into_iter().map(|m| AppModel { name: m.name, label: m.label }).collect(),
        templates: templates
            .into_iter()
            .map(|t| {
                let (entity_type, steps) = steps_of(&t.definition);
                FlowTemplateRow {
                    id: t.id,
                    application: name.clone(),
                    name: t.name,
                    label: t.label,
                    entity_type,
                    steps,
                }
            })
            .collect(),
        connector_kinds: kinds.into_iter().map(|k| kind_row(k, name.clone())).collect(),
        requirements: reqs
            .into_iter()
            .map(|r| RequirementRow {
                resolved: r.package_id.and_then(|id| resolved.get(&id).cloned()),
                package: r.package,
                range: r.range,
            })
            .collect(),
    })
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ImportErrorQuery {
    /// One application's errors.
    pub application_id: Option<Uuid>,
    /// One version's errors.
    pub version_id: Option<Uuid>,
    /// `error` or `warning`.
    #[param(inline)]
    pub severity: Option<Severity>,
    /// A fragment of the message, file or model.
    pub q: Option<String>,
    /// 1–200, default 50.
    pub limit: Option<u64>,
    pub cursor: Option<String>,
}

/// Import errors, worst first, then newest.
pub async fn import_errors(state: &AppState, q: ImportErrorQuery) -> AppResult<Page<ImportErrorRow>> {
    let limit = pagination::limit(q.limit)?;
    let mut query = import_errors::Entity::find();
    if let Some(a) = q.application_id {
        query = query.filter(import_errors::Column::ApplicationId.eq(a));
    }
    if let Some(v) = q.version_id {
        query = query.filter(import_errors::Column::VersionId.eq(v));
    }
    if let Some(s) = q.severity {
        query = query.filter(import_errors::Column::Severity.eq(s.as_str()));
    }
    if let Some(text) = q.q.as_deref().map(str::trim).filter(|t| !t.is_empty()) {
        let pattern = contains_pattern(&text.to_lowercase());
        let like = |c: import_errors::Column| {
            Expr::expr(Func::lower(Expr::col(c))).like(LikeExpr::new(pattern.clone()).escape('\\'))
        };
        query = query.filter(
            like(import_errors::Column::Message)
                .or(like(import_errors::Column::File))
                .or(like(import_errors::Column::Model)),
        );
    }
    if let Some(raw) = &q.cursor {
        let c = Cursor::decode(raw)?;
        let rank: i16 = c.key.as_deref().and_then(|k| k.parse().ok()).ok_or_else(pagination::foreign_cursor)?;
        query = query.filter(pagination::after(
            Expr::col(import_errors::Column::Rank),
            Expr::col(import_errors::Column::Id),
            rank,
            c.id,
            true,
        ));
    }
    let found = query
        .order_by_desc(import_errors::Column::Rank)
        .order_by_desc(import_errors::Column::Id)
        .limit(limit + 1)
        .all(&state.db)
        .await?;
    let (found, next_cursor) = pagination::finish(found, limit, |e| Cursor { key: Some(e.rank.to_string()), id: e.id });
    Ok(Page { items: found.into_iter().map(import_error_row).collect(), next_cursor })
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PackageQuery {
    /// A fragment of the package's name.
    pub q: Option<String>,
    /// 1–200, default 50.
    pub limit: Option<u64>,
    pub cursor: Option<String>,
}

/// Packages by name, each with the applications using it.
pub async fn packages(state: &AppState, q: PackageQuery) -> AppResult<Page<PackageRow>> {
    let limit = pagination::limit(q.limit)?;
    let mut query = packages::Entity::find();
    if let Some(text) = q.q.as_deref().map(str::trim).filter(|t| !t.is_empty()) {
        query = query.filter(
            Expr::expr(Func::lower(Expr::col(packages::Column::Name)))
                .like(LikeExpr::new(contains_pattern(&text.to_lowercase())).escape('\\')),
        );
    }
    if let Some(raw) = &q.cursor {
        let c = Cursor::decode(raw)?;
        query = query.filter(pagination::after(
            Expr::col(packages::Column::Name),
            Expr::col(packages::Column::Id),
            c.key.unwrap_or_default(),
            c.id,
            false,
        ));
    }
    let found = query
        .order_by_asc(packages::Column::Name)
        .order_by_asc(packages::Column::Id)
        .limit(limit + 1)
        .all(&state.db)
        .await?;
    let (found, next_cursor) = pagination::finish(found, limit, |p| Cursor { key: Some(p.name.clone()), id: p.id });
    // Who uses each: requirements of the applications' versions in use resolved to it.
    let ids: Vec<Uuid> = found.iter().map(|p| p.id).collect();
    let mut users: HashMap<Uuid, Vec<String>> = HashMap::new();
    if !ids.is_empty() {
        let reqs = application_requirements::Entity::find()
            .filter(application_requirements::Column::PackageId.is_in(ids))
            .all(&state.db)
            .await?;
        let app_ids: Vec<Uuid> = reqs.iter().map(|r| r.application_id).collect();
        let apps: HashMap<Uuid, applications::Model> = applications::Entity::find()
            .filter(applications::Column::Id.is_in(app_ids))
            .all(&state.db)
            .await?
            .into_iter()
            .map(|a| (a.id, a))
            .collect();
        for r in reqs {
            let Some(app) = apps.get(&r.application_id).filter(|a| a.current_version_id == Some(r.version_id)) else {
                continue;
            };
            if let Some(p) = r.package_id {
                let names = users.entry(p).or_default();
                if !names.contains(&app.name) {
                    names.push(app.name.clone());
                }
            }
        }
    }
    let items = found
        .into_iter()
        .map(|p| PackageRow {
            install_path: package_path(state, &p.name, &p.version).display().to_string(),
            applications: users
                .remove(&p.id)
                .map(|mut v| {
                    v.sort();
                    v
                })
                .unwrap_or_default(),
            id: p.id,
            name: p.name,
            version: p.version,
            digest: p.digest,
            files: p.files,
            bytes: p.bytes,
            installed_at: p.installed_at,
        })
        .collect();
    Ok(Page { items, next_cursor })
}

/// The templates of the active applications' versions in use (what a new flow can be made from).
pub async fn templates(state: &AppState) -> AppResult<Vec<FlowTemplateRow>> {
    let current = active_versions(state).await?;
    if current.is_empty() {
        return Ok(vec![]);
    }
    let found = flow_templates::Entity::find()
        .filter(flow_templates::Column::VersionId.is_in(current.keys().copied()))
        .order_by_asc(flow_templates::Column::Name)
        .all(&state.db)
        .await?;
    Ok(found
        .into_iter()
        .map(|t| {
            let (entity_type, steps) = steps_of(&t.definition);
            FlowTemplateRow {
                id: t.id,
                application: current.get(&t.version_id).cloned().unwrap_or_default(),
                name: t.name,
                label: t.label,
                entity_type,
                steps,
            }
        })
        .collect())
}

/// The connector kinds of the active applications (their version in use), by kind: what a
/// new connector can be besides a free-form kind, which is never probed.
pub async fn connector_kinds(state: &AppState) -> AppResult<Vec<ConnectorKindRow>> {
    let current = active_versions(state).await?;
    if current.is_empty() {
        return Ok(vec![]);
    }
    let found = connector_kinds::Entity::find()
        .filter(connector_kinds::Column::VersionId.is_in(current.keys().copied()))
        .order_by_asc(connector_kinds::Column::Kind)
        .all(&state.db)
        .await?;
    Ok(found
        .into_iter()
        .map(|k| {
            let application = current.get(&k.version_id).cloned().unwrap_or_default();
            kind_row(k, application)
        })
        .collect())
}

/// The version in use of each active application, with the application's name.
async fn active_versions(state: &AppState) -> AppResult<HashMap<Uuid, String>> {
    let apps = applications::Entity::find().filter(applications::Column::Active.eq(true)).all(&state.db).await?;
    Ok(apps.into_iter().filter_map(|a| a.current_version_id.map(|v| (v, a.name))).collect())
}

fn kind_row(k: connector_kinds::Model, application: String) -> ConnectorKindRow {
    let probe = serde_json::from_value::<ConnectorKind>(k.definition)
        .map(|d| format!("{} {}", d.health.method, d.health.path))
        .unwrap_or_default();
    ConnectorKindRow { kind: k.kind, label: k.label, application, probe }
}
