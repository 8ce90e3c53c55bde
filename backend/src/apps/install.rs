//! Installing and changing applications: a bundle (from an upload or a Git commit) is read and
//! checked, what fails is recorded as import errors, and the rest lands in one transaction:
//! the version, its bundle, models, templates, connector kinds, the packages it carries and its
//! resolved requirements. The models of an active application's version in use are the
//! platform's `entity_types`; every change is audited and written to the system log.

use chrono::Utc;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, QuerySelect, Set,
};
use semver::{Version, VersionReq};
use serde_json::json;
use std::collections::{BTreeMap, HashMap};
use steward_shared::apps::{AppSource, InstallReport, Severity};
use uuid::Uuid;

use crate::access::Actor;
use crate::apps::bundle::{self, Bundle};
use crate::apps::catalog::{self, package_path, packages_dir};
use crate::apps::git::Commit;
use crate::apps::manifest::{self, Issue, Parsed};
use crate::audit::{self, Event};
use crate::http::error::{AppError, AppResult};
use crate::http::request_meta::RequestMeta;
use crate::state::AppState;
use crate::store::entities::{
    application_bundles, application_models, application_requirements, application_versions, applications,
    connector_kinds, entity_types, flow_templates, flows, import_errors, packages,
};

/// Where a bundle came from.
#[derive(Debug, Clone)]
pub struct Origin {
    pub source: AppSource,
    pub git_url: Option<String>,
    pub git_branch: Option<String>,
    pub commit: Option<Commit>,
}

impl Origin {
    pub fn archive() -> Self {
        Self { source: AppSource::Archive, git_url: None, git_branch: None, commit: None }
    }
}

fn log(
    state: &AppState,
    meta: &RequestMeta,
    actor: &Actor,
    level: &'static str,
    message: String,
    fields: serde_json::Value,
) {
    let mut line = meta.log_line("system", "package_install", level, message);
    line.user_id = Some(actor.user_id());
    line.fields = fields;
    state.logs.emit(line);
}

/// Installs `bundle`: a new application, or a new version of the one of the same name (of the
/// same source). `expect`: the application an update is for (the manifest must name it).
pub async fn install(
    state: &AppState,
    actor: &Actor,
    meta: &RequestMeta,
    bundle: Bundle,
    origin: Origin,
    expect: Option<&applications::Model>,
) -> AppResult<InstallReport> {
    let owners: HashMap<String, Option<String>> =
        entity_types::Entity::find().all(&state.db).await?.into_iter().map(|t| (t.name, t.application)).collect();
    let parsed = manifest::parse(&bundle, &|t| owners.contains_key(t))?;
    let name = parsed.manifest.name.clone();
    if let Some(app) = expect {
        if app.name != name {
            return Err(AppError::field("manifest.name", format!("is `{name}`; this application is `{}`", app.name)));
        }
    }
    let digest = bundle::files_digest(bundle.files.iter().map(|(k, v)| (k.as_str(), v.as_slice())));
    let archive = bundle.to_archive()?;
    let commit_sha = origin.commit.as_ref().map(|c| c.sha.clone());
    let now = Utc::now();

    let txn = crate::store::begin(&state.db).await?;
    let existing = applications::Entity::find().filter(applications::Column::Name.eq(name.clone())).one(&txn).await?;
    let (app, new_app) = match existing {
        Some(app) => {
            if app.source != origin.source.as_str()
                || (origin.source == AppSource::Git
                    && (app.git_url != origin.git_url || app.git_branch != origin.git_branch))
            {
                return Err(AppError::Conflict {
                    code: "source_mismatch",
                    field: Some("manifest.name".into()),
                    detail: format!(
                        "An application named `{name}` is installed from another source; update it from its own source or delete it first."
                    ),
                });
            }
            (app, false)
        }
        None if expect.is_some() => return Err(AppError::NotFound("No such application.".into())),
        None => {
            let app = applications::ActiveModel {
                id: Set(Uuid::now_v7()),
                name: Set(name.clone()),
                description: Set(parsed.manifest.description.clone()),
                source: Set(origin.source.as_str().into()),
                git_url: Set(origin.git_url.clone()),
                git_branch: Set(origin.git_branch.clone()),
                active: Set(true),
                current_version_id: Set(None),
                created_at: Set(now),
                updated_at: Set(now),
            }
            .insert(&txn)
            .await?;
            (app, true)
        }
    };

    // The same bundle again: switch to it, nothing else changes.
    let versions = application_versions::Entity::find()
        .filter(application_versions::Column::ApplicationId.eq(app.id))
        .all(&txn)
        .await?;
    if let Some(same) = versions.iter().find(|v| v.digest == digest && v.git_commit == commit_sha) {
        let same = same.clone();
        let app = set_current(&txn, &app, same.id, app.active).await?;
        audit::append(
            &txn,
            meta,
            Event::new("application.version_switch", "success").by(actor).target("application", app.id).summary(
                json!({
                    "name": app.name, "version": same.version, "commit": same.git_commit, "reinstalled": true,
                }),
            ),
        )
        .await?;
        txn.commit().await?;
        state.models.invalidate_all();
        log(
            state,
            meta,
            actor,
            "info",
            format!("application {name} {} installed already: now in use", same.version),
            json!({ "application": name, "version": same.version }),
        );
        let row = catalog::application_row(&state.db, app).await?;
        let version = catalog::version_row(&same, true);
        return Ok(InstallReport {
            application: row,
            version,
            created: false,
            models: 0,
            templates: 0,
            connector_kinds: 0,
            packages: 0,
            errors: vec![],
        });
    }
    if origin.source == AppSource::Archive && versions.iter().any(|v| v.version == parsed.manifest.version) {
        return Err(AppError::Conflict {
            code: "version_exists",
            field: Some("manifest.version".into()),
            detail: format!(
                "Version {} of `{name}` is installed with other contents; give the bundle a new version.",
                parsed.manifest.version
            ),
        });
    }

    let version_id = Uuid::now_v7();
    let version = application_versions::ActiveModel {
        id: Set(version_id),
        application_id: Set(app.id),
        version: Set(parsed.manifest.version.clone()),
        git_commit: Set(commit_sha.clone()),
        digest: Set(digest.clone()),
        manifest: Set(serde_json::to_value(&parsed.manifest).map_err(AppError::internal)?),
        files: Set(bundle.files.len() as i32),
        bundle_bytes: Set(archive.len() as i64),
        errors: Set(0),
        installed_by: Set(Some(actor.user_id())),
        installed_at: Set(now),
    }
    .insert(&txn)
    .await?;
    application_bundles::ActiveModel { version_id: Set(version_id), bundle: Set(archive) }.insert(&txn).await?;

    let Parsed { models, templates, kinds, packages: carried, requires, mut issues, .. } = parsed;
    let mut n_models = 0;
    for m in models {
        let owner = owners.get(&m.name);
        if let Some(other) = owner.filter(|o| o.as_deref() != Some(name.as_str())) {
            issues.push(Issue {
                severity: Severity::Error,
                code: "model_conflict",
                file: format!("models/{}.json", m.name),
                model: Some(m.name.clone()),
                message: format!("entity type `{}` exists already", m.name),
                detail: match other {
                    Some(app) => format!("The application `{app}` defines `{}`; an entity type has one owner.", m.name),
                    None => format!("`{}` is one of the platform's own entity types.", m.name),
                },
            });
            continue;
        }
        application_models::ActiveModel {
            id: Set(Uuid::now_v7()),
            application_id: Set(app.id),
            version_id: Set(version_id),
            name: Set(m.name),
            label: Set(m.label),
            definition: Set(m.schema),
        }
        .insert(&txn)
        .await?;
        n_models += 1;
    }
    let n_templates = templates.len();
    for t in templates {
        flow_templates::ActiveModel {
            id: Set(Uuid::now_v7()),
            application_id: Set(app.id),
            version_id: Set(version_id),
            name: Set(t.name.clone()),
            label: Set(t.definition.label.clone().unwrap_or(t.name)),
            definition: Set(serde_json::to_value(&t.definition).map_err(AppError::internal)?),
        }
        .insert(&txn)
        .await?;
    }
    let n_kinds = kinds.len();
    for k in kinds {
        connector_kinds::ActiveModel {
            id: Set(Uuid::now_v7()),
            application_id: Set(app.id),
            version_id: Set(version_id),
            kind: Set(k.kind.clone()),
            label: Set(k.definition.label.clone().unwrap_or(k.kind)),
            definition: Set(serde_json::to_value(&k.definition).map_err(AppError::internal)?),
        }
        .insert(&txn)
        .await?;
    }

    // Packages carried: a name and version is installed once; the same name and version with
    // other contents is a conflict.
    let mut unpack = Vec::new();
    for p in &carried {
        let v = p.version.to_string();
        let file = format!("packages/{}/{v}", p.name);
        match packages::Entity::find()
            .filter(packages::Column::Name.eq(p.name.clone()))
            .filter(packages::Column::Version.eq(v.clone()))
            .one(&txn)
            .await?
        {
            Some(have) if have.digest == p.digest => {}
            Some(_) => issues.push(Issue {
                severity: Severity::Error,
                code: "package_conflict",
                file,
                model: Some(p.name.clone()),
                message: format!("package {} {v} is installed with other contents", p.name),
                detail: "A package version is installed once for the whole platform; the copy installed earlier is kept. Give the changed package a new version.".into(),
            }),
            None => {
                packages::ActiveModel {
                    id: Set(Uuid::now_v7()),
                    name: Set(p.name.clone()),
                    version: Set(v.clone()),
                    digest: Set(p.digest.clone()),
                    files: Set(p.files.len() as i32),
                    bytes: Set(p.files.values().map(|b| b.len() as i64).sum()),
                    provided_by_version: Set(version_id),
                    installed_at: Set(now),
                }
                .insert(&txn)
                .await?;
                unpack.push(p.clone());
            }
        }
    }
    for (package, range) in &requires {
        if let Some(issue) = resolve(&txn, app.id, version_id, package, range).await? {
            issues.push(issue);
        }
    }

    let errors: Vec<import_errors::Model> = {
        let mut out = Vec::new();
        for i in &issues {
            let row = import_errors::ActiveModel {
                id: Set(Uuid::now_v7()),
                application_id: Set(app.id),
                version_id: Set(version_id),
                application: Set(name.clone()),
                version: Set(version.version.clone()),
                severity: Set(i.severity.as_str().into()),
                rank: Set(i.severity.rank()),
                code: Set(i.code.into()),
                file: Set(i.file.chars().take(512).collect()),
                model: Set(i.model.clone().map(|m| m.chars().take(128).collect())),
                message: Set(i.message.chars().take(1000).collect()),
                detail: Set(i.detail.chars().take(20_000).collect()),
                created_at: Set(now),
            }
            .insert(&txn)
            .await?;
            out.push(row);
        }
        out
    };
    let mut v: application_versions::ActiveModel = version.into();
    v.errors = Set(errors.len() as i32);
    let version = v.update(&txn).await?;
    let mut a: applications::ActiveModel = app.clone().into();
    a.description = Set(version.manifest.get("description").and_then(|d| d.as_str()).unwrap_or_default().into());
    a.update(&txn).await?;
    let app = set_current(&txn, &app, version_id, app.active).await?;
    audit::append(
        &txn,
        meta,
        Event::new(if new_app { "application.install" } else { "application.update" }, "success")
            .by(actor)
            .target("application", app.id)
            .summary(json!({
                "name": name, "version": version.version, "source": origin.source.as_str(),
                "commit": commit_sha, "digest": digest, "import_errors": errors.len(),
            })),
    )
    .await?;
    txn.commit().await?;
    state.models.invalidate_all();
    for p in &unpack {
        unpack_package(state, p).await?;
    }
    log(
        state,
        meta,
        actor,
        if errors.is_empty() { "info" } else { "warn" },
        format!(
            "application {name} {} {}: {n_models} models, {n_templates} templates, {n_kinds} connector kinds, {} packages, {} import errors",
            version.version,
            if new_app { "installed" } else { "updated" },
            unpack.len(),
            errors.len()
        ),
        json!({ "application": name, "version": version.version, "commit": commit_sha, "import_errors": errors.len() }),
    );
    Ok(InstallReport {
        application: catalog::application_row(&state.db, app).await?,
        version: catalog::version_row(&version, true),
        created: true,
        models: n_models,
        templates: n_templates,
        connector_kinds: n_kinds,
        packages: unpack.len(),
        errors: errors.into_iter().map(catalog::import_error_row).collect(),
    })
}

/// Writes a package's files under the data directory (to a scratch directory first, then
/// moved into place, so a half-written package is never seen).
pub async fn unpack_package(state: &AppState, p: &manifest::Package) -> AppResult<()> {
    let target = package_path(state, &p.name, &p.version.to_string());
    if tokio::fs::try_exists(&target).await.unwrap_or(false) {
        return Ok(());
    }
    let scratch = packages_dir(state).join(format!(".{}-{}-{}", p.name, p.version, Uuid::new_v4()));
    for (path, body) in &p.files {
        let file = scratch.join(path);
        if let Some(parent) = file.parent() {
            tokio::fs::create_dir_all(parent).await.map_err(AppError::internal)?;
        }
        tokio::fs::write(&file, body).await.map_err(AppError::internal)?;
    }
    if let Some(parent) = target.parent() {
        tokio::fs::create_dir_all(parent).await.map_err(AppError::internal)?;
    }
    if tokio::fs::rename(&scratch, &target).await.is_err() {
        // Another request unpacked it meanwhile.
        let _ = tokio::fs::remove_dir_all(&scratch).await;
    }
    Ok(())
}

/// Resolves one requirement: the highest installed version in the range that every other
/// active application's requirement on the package accepts too (the platform holds one version
/// of a package in use); they all move to it. None fits: an import error saying why.
async fn resolve(
    txn: &crate::store::Txn,
    app_id: Uuid,
    version_id: Uuid,
    package: &str,
    range: &VersionReq,
) -> AppResult<Option<Issue>> {
    let mut candidates: Vec<(Version, packages::Model)> = packages::Entity::find()
        .filter(packages::Column::Name.eq(package))
        .all(txn)
        .await?
        .into_iter()
        .filter_map(|p| Version::parse(&p.version).ok().map(|v| (v, p)))
        .collect();
    candidates.sort_by(|a, b| b.0.cmp(&a.0));
    let others = other_requirements(txn, app_id, package).await?;
    let fits = |v: &Version| range.matches(v) && others.iter().all(|(_, r, _)| r.matches(v));
    let chosen = candidates.iter().find(|(v, _)| fits(v)).map(|(_, p)| p.clone());
    application_requirements::ActiveModel {
        id: Set(Uuid::now_v7()),
        application_id: Set(app_id),
        version_id: Set(version_id),
        package: Set(package.into()),
        range: Set(range.to_string()),
        package_id: Set(chosen.as_ref().map(|p| p.id)),
    }
    .insert(txn)
    .await?;
    let file = bundle::MANIFEST.to_string();
    let installed = candidates.iter().map(|(v, _)| v.to_string()).collect::<Vec<_>>().join(", ");
    let Some(chosen) = chosen else {
        let in_range = candidates.iter().any(|(v, _)| range.matches(v));
        return Ok(Some(if in_range {
            let needs = others.iter().map(|(app, r, _)| format!("`{app}` needs {r}")).collect::<Vec<_>>().join("; ");
            Issue {
                severity: Severity::Error,
                code: "package_conflict",
                file,
                model: Some(package.into()),
                message: format!("package {package} {range} conflicts with what other applications need"),
                detail: format!("This version needs {package} {range}; {needs}. Installed versions: {installed}. No one version satisfies all."),
            }
        } else {
            Issue {
                severity: Severity::Error,
                code: "package_missing",
                file,
                model: Some(package.into()),
                message: format!("no installed version of {package} satisfies {range}"),
                detail: if installed.is_empty() {
                    format!("No bundle carries {package}; add it under `packages/{package}/<version>/`.")
                } else {
                    format!("Installed versions: {installed}.")
                },
            }
        }));
    };
    let ids: Vec<Uuid> = others.iter().map(|(_, _, id)| *id).collect();
    if !ids.is_empty() {
        application_requirements::Entity::update_many()
            .col_expr(application_requirements::Column::PackageId, Expr::value(chosen.id))
            .filter(application_requirements::Column::Id.is_in(ids))
            .exec(txn)
            .await?;
    }
    Ok(None)
}

/// The requirements on `package` of the other active applications' versions in use: (the
/// application's name, its range, the requirement's id).
async fn other_requirements<C: ConnectionTrait>(
    conn: &C,
    app_id: Uuid,
    package: &str,
) -> AppResult<Vec<(String, VersionReq, Uuid)>> {
    let apps = applications::Entity::find()
        .filter(applications::Column::Active.eq(true))
        .filter(applications::Column::Id.ne(app_id))
        .all(conn)
        .await?;
    let current: HashMap<Uuid, String> =
        apps.into_iter().filter_map(|a| a.current_version_id.map(|v| (v, a.name))).collect();
    if current.is_empty() {
        return Ok(vec![]);
    }
    let reqs = application_requirements::Entity::find()
        .filter(application_requirements::Column::Package.eq(package))
        .filter(application_requirements::Column::VersionId.is_in(current.keys().copied()))
        // A requirement nothing satisfies is an import error already; it holds no one back.
        .filter(application_requirements::Column::PackageId.is_not_null())
        .all(conn)
        .await?;
    Ok(reqs
        .into_iter()
        .filter_map(|r| {
            let req = VersionReq::parse(&r.range).ok()?;
            Some((current.get(&r.version_id)?.clone(), req, r.id))
        })
        .collect())
}

/// Makes `version_id` the version in use and the platform's entity types follow.
async fn set_current(
    txn: &crate::store::Txn,
    app: &applications::Model,
    version_id: Uuid,
    active: bool,
) -> AppResult<applications::Model> {
    let mut a: applications::ActiveModel = app.clone().into();
    a.current_version_id = Set(Some(version_id));
    a.active = Set(active);
    a.updated_at = Set(Utc::now());
    let app = a.update(txn).await?;
    sync_entity_types(txn, &app).await?;
    Ok(app)
}

/// The application's entity types are its version in use's models while it is active, none
/// while it is not. A name another owner holds is left to it.
async fn sync_entity_types(txn: &crate::store::Txn, app: &applications::Model) -> AppResult<()> {
    entity_types::Entity::delete_many()
        .filter(entity_types::Column::Application.eq(app.name.clone()))
        .exec(txn)
        .await?;
    let Some(version_id) = app.current_version_id.filter(|_| app.active) else { return Ok(()) };
    let models = application_models::Entity::find()
        .filter(application_models::Column::VersionId.eq(version_id))
        .all(txn)
        .await?;
    let now = Utc::now();
    for m in models {
        if entity_types::Entity::find_by_id(m.name.clone()).one(txn).await?.is_some() {
            continue;
        }
        entity_types::ActiveModel {
            name: Set(m.name),
            label: Set(m.label),
            json_schema: Set(m.definition),
            application: Set(Some(app.name.clone())),
            created_at: Set(now),
            updated_at: Set(now),
        }
        .insert(txn)
        .await?;
    }
    Ok(())
}

async fn find(state: &AppState, id: Uuid) -> AppResult<applications::Model> {
    applications::Entity::find_by_id(id)
        .one(&state.db)
        .await?
        .ok_or_else(|| AppError::NotFound("No such application.".into()))
}

/// Switches to another installed version.
pub async fn switch_version(
    state: &AppState,
    actor: &Actor,
    meta: &RequestMeta,
    id: Uuid,
    version_id: Uuid,
) -> AppResult<steward_shared::apps::ApplicationRow> {
    let app = find(state, id).await?;
    let version = application_versions::Entity::find_by_id(version_id)
        .one(&state.db)
        .await?
        .filter(|v| v.application_id == app.id)
        .ok_or_else(|| AppError::unknown("version_id", "is not a version of this application"))?;
    let before = match app.current_version_id {
        Some(v) => application_versions::Entity::find_by_id(v).one(&state.db).await?.map(|v| v.version),
        None => None,
    };
    let txn = crate::store::begin(&state.db).await?;
    let app = set_current(&txn, &app, version.id, app.active).await?;
    audit::append(
        &txn,
        meta,
        Event::new("application.version_switch", "success").by(actor).target("application", app.id).summary(json!({
            "name": app.name, "before": { "version": before }, "after": { "version": version.version, "commit": version.git_commit },
        })),
    )
    .await?;
    txn.commit().await?;
    state.models.invalidate_all();
    log(
        state,
        meta,
        actor,
        "info",
        format!("application {} switched to {}", app.name, version.version),
        json!({ "application": app.name, "version": version.version }),
    );
    catalog::application_row(&state.db, app).await
}

/// Activates or deactivates: an inactive application's models, templates and connector kinds
/// are withdrawn (records keep their data; new flows cannot use its templates).
pub async fn set_active(
    state: &AppState,
    actor: &Actor,
    meta: &RequestMeta,
    id: Uuid,
    active: bool,
) -> AppResult<steward_shared::apps::ApplicationRow> {
    let app = find(state, id).await?;
    if app.active == active {
        return catalog::application_row(&state.db, app).await;
    }
    let txn = crate::store::begin(&state.db).await?;
    let mut a: applications::ActiveModel = app.clone().into();
    a.active = Set(active);
    a.updated_at = Set(Utc::now());
    let app = a.update(&txn).await?;
    sync_entity_types(&txn, &app).await?;
    audit::append(
        &txn,
        meta,
        Event::new(if active { "application.activate" } else { "application.deactivate" }, "success")
            .by(actor)
            .target("application", app.id)
            .summary(json!({ "name": app.name, "before": { "active": !active }, "after": { "active": active } })),
    )
    .await?;
    txn.commit().await?;
    state.models.invalidate_all();
    log(
        state,
        meta,
        actor,
        "info",
        format!("application {} {}", app.name, if active { "activated" } else { "deactivated" }),
        json!({ "application": app.name }),
    );
    catalog::application_row(&state.db, app).await
}

/// Deletes an application, typed by name. Refused while flows use it unless forced (the
/// flows keep their steps and lose the link). Packages only it carried and nobody else uses
/// are removed with it.
pub async fn delete(
    state: &AppState,
    actor: &Actor,
    meta: &RequestMeta,
    id: Uuid,
    confirm: &str,
    force: bool,
) -> AppResult<()> {
    let app = find(state, id).await?;
    if confirm != app.name {
        return Err(AppError::field("X-Steward-Confirm", "type the application's name to delete it"));
    }
    let txn = crate::store::begin(&state.db).await?;
    let using = flows::Entity::find().filter(flows::Column::ApplicationId.eq(app.id)).count(&txn).await?;
    if using > 0 && !force {
        return Err(AppError::Conflict {
            code: "application_in_use",
            field: None,
            detail: format!("{using} flows use `{}`; delete or change them first, or delete with `force`.", app.name),
        });
    }
    if using > 0 {
        flows::Entity::update_many()
            .col_expr(flows::Column::ApplicationId, Expr::value(Option::<Uuid>::None))
            .col_expr(flows::Column::TemplateId, Expr::value(Option::<Uuid>::None))
            .filter(flows::Column::ApplicationId.eq(app.id))
            .exec(&txn)
            .await?;
    }
    let version_ids: Vec<Uuid> = application_versions::Entity::find()
        .select_only()
        .column(application_versions::Column::Id)
        .filter(application_versions::Column::ApplicationId.eq(app.id))
        .into_tuple()
        .all(&txn)
        .await?;
    let used_elsewhere: Vec<Option<Uuid>> = application_requirements::Entity::find()
        .select_only()
        .column(application_requirements::Column::PackageId)
        .filter(application_requirements::Column::ApplicationId.ne(app.id))
        .filter(application_requirements::Column::PackageId.is_not_null())
        .into_tuple()
        .all(&txn)
        .await?;
    let used_elsewhere: Vec<Uuid> = used_elsewhere.into_iter().flatten().collect();
    let orphaned = packages::Entity::find()
        .filter(packages::Column::ProvidedByVersion.is_in(version_ids.clone()))
        .filter(packages::Column::Id.is_not_in(used_elsewhere))
        .all(&txn)
        .await?;
    packages::Entity::delete_many()
        .filter(packages::Column::Id.is_in(orphaned.iter().map(|p| p.id)))
        .exec(&txn)
        .await?;
    // Packages still used by others, carried by one of its versions, stay: they name no
    // provider any more than the one they had.
    entity_types::Entity::delete_many()
        .filter(entity_types::Column::Application.eq(app.name.clone()))
        .exec(&txn)
        .await?;
    // Children first: SQLite's cascade needs its pragma, PostgreSQL's is declared; both agree
    // on explicit deletes.
    for table in
        ["import_errors", "application_requirements", "application_models", "flow_templates", "connector_kinds"]
    {
        txn.execute_raw(crate::store::statement(
            txn.get_database_backend(),
            &format!("DELETE FROM {table} WHERE application_id = $1"),
            [app.id.into()],
        ))
        .await?;
    }
    application_bundles::Entity::delete_many()
        .filter(application_bundles::Column::VersionId.is_in(version_ids.clone()))
        .exec(&txn)
        .await?;
    application_versions::Entity::delete_many()
        .filter(application_versions::Column::ApplicationId.eq(app.id))
        .exec(&txn)
        .await?;
    applications::Entity::delete_by_id(app.id).exec(&txn).await?;
    audit::append(
        &txn,
        meta,
        Event::new("application.delete", "success").by(actor).target("application", app.id).summary(json!({
            "name": app.name, "forced": force, "flows_unlinked": using,
            "packages_removed": orphaned.iter().map(|p| format!("{} {}", p.name, p.version)).collect::<Vec<_>>(),
        })),
    )
    .await?;
    txn.commit().await?;
    state.models.invalidate_all();
    for p in &orphaned {
        let _ = tokio::fs::remove_dir_all(package_path(state, &p.name, &p.version)).await;
    }
    log(
        state,
        meta,
        actor,
        "warn",
        format!("application {} deleted", app.name),
        json!({ "application": app.name, "forced": force }),
    );
    Ok(())
}

/// Unpacks on this replica every package the database lists and the disk lacks (a replica
/// started after an install elsewhere, or a fresh data directory).
pub async fn ensure_packages(state: &AppState) -> AppResult<usize> {
    let all = packages::Entity::find().all(&state.db).await?;
    let mut by_version: BTreeMap<Uuid, Vec<packages::Model>> = BTreeMap::new();
    for p in all {
        if !tokio::fs::try_exists(package_path(state, &p.name, &p.version)).await.unwrap_or(false) {
            by_version.entry(p.provided_by_version).or_default().push(p);
        }
    }
    let mut n = 0;
    for (version_id, missing) in by_version {
        let Some(stored) = application_bundles::Entity::find_by_id(version_id).one(&state.db).await? else { continue };
        let bundle = Bundle::from_archive(&stored.bundle)?;
        let parsed = manifest::parse(&bundle, &|_| true)?;
        for p in parsed
            .packages
            .iter()
            .filter(|p| missing.iter().any(|m| m.name == p.name && m.version == p.version.to_string()))
        {
            unpack_package(state, p).await?;
            n += 1;
        }
    }
    Ok(n)
}
