//! Applications, import errors, packages and flow templates routes. Installing and changing
//! applications is platform work: super admins only (never delegable).

use axum::extract::{DefaultBodyLimit, State};
use axum::http::StatusCode;
use axum::Json;
use steward_shared::api::Page;
use steward_shared::apps::{
    ApplicationDetail, ApplicationRow, CommitRow, ConnectorKindRow, DeleteApplication, FlowTemplateRow, ImportErrorRow,
    InstallFromGit, InstallReport, MintTransferToken, PackageRow, PinCommit, SwitchVersion, TransferExport,
    TransferFrom, TransferReport, TransferToken,
};
use steward_shared::problem::Problem;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::access::Actor;
use crate::apps::bundle::{Bundle, ARCHIVE_MAX_BYTES};
use crate::apps::catalog::{self, ApplicationQuery, ImportErrorQuery, PackageQuery};
use crate::apps::git;
use crate::apps::install::{self, Origin};
use crate::http::error::{AppError, AppResult};
use crate::http::extract::{ApiArchive, ApiJson, ApiPath, ApiQuery};
use crate::http::pagination;
use crate::http::request_meta::RequestMeta;
use crate::http::Created;
use crate::state::AppState;
use steward_shared::apps::AppSource;

pub fn router() -> OpenApiRouter<AppState> {
    let uploads = OpenApiRouter::new()
        .routes(routes!(install_application_archive))
        .routes(routes!(upload_application_version))
        .layer(DefaultBodyLimit::max(ARCHIVE_MAX_BYTES));
    OpenApiRouter::new()
        .routes(routes!(list_applications))
        .routes(routes!(install_application_git))
        .routes(routes!(get_application, delete_application))
        .routes(routes!(update_application))
        .routes(routes!(pin_application_commit))
        .routes(routes!(list_application_commits))
        .routes(routes!(switch_application_version))
        .routes(routes!(activate_application))
        .routes(routes!(deactivate_application))
        .routes(routes!(list_import_errors))
        .routes(routes!(mint_transfer_token))
        .routes(routes!(export_applications))
        .routes(routes!(install_application_transfer))
        .routes(routes!(list_packages))
        .routes(routes!(list_flow_templates))
        .routes(routes!(list_connector_kinds))
        .merge(uploads)
}

/// A bundle: a gzip-compressed tar archive with `steward.json` at its root (or in its one
/// top-level directory), `models/`, `flows/`, `connectors/` and `packages/`.
#[derive(ToSchema)]
#[schema(value_type = String, format = Binary)]
pub struct ArchiveBody(#[allow(dead_code)] Vec<u8>);

/// Installed applications by name, with the version in use, its import errors and the flows
/// made from its templates.
#[utoipa::path(
    get, path = "/api/applications", tag = "applications", operation_id = "list_applications",
    security(("super_admin" = ["steward.console.applications.read"])),
    params(ApplicationQuery),
    responses((status = 200, description = "A page of applications", body = Page<ApplicationRow>)),
)]
async fn list_applications(
    State(state): State<AppState>,
    ApiQuery(q): ApiQuery<ApplicationQuery>,
) -> AppResult<Json<Page<ApplicationRow>>> {
    catalog::list(&state, q).await.map(Json)
}

/// Install an application from an uploaded `.tar.gz` (at most 16 MiB; unpacked at most 64 MiB,
/// 2,000 entries, 8 MiB a file; links and paths leaving the bundle are refused). A bundle
/// naming an installed application adds a version to it. What fails to import is listed in
/// the report and on Import errors; the rest installs.
#[utoipa::path(
    post, path = "/api/applications/archive", tag = "applications", operation_id = "install_application_archive",
    security(("super_admin" = ["steward.console.applications.write"])),
    request_body(content = ArchiveBody, content_type = "application/gzip"),
    responses(
        (status = 201, description = "Installed", body = InstallReport, headers(("Location" = String, description = "The application: `/api/applications/{id}`"))),
        (status = 200, description = "This exact bundle was installed already; it is the version in use now", body = InstallReport),
        (status = 409, description = "The version exists with other contents (`version_exists`), or the name is installed from Git (`source_mismatch`)", body = steward_shared::problem::Problem, content_type = "application/problem+json"),
        (status = 413, description = "Past a size or entry limit", body = steward_shared::problem::Problem, content_type = "application/problem+json"),
        (status = 415, description = "Not sent as `application/gzip`", body = steward_shared::problem::Problem, content_type = "application/problem+json"),
    ),
)]
async fn install_application_archive(
    State(state): State<AppState>,
    actor: Actor,
    meta: RequestMeta,
    ApiArchive(body): ApiArchive,
) -> AppResult<axum::response::Response> {
    let bundle =
        tokio::task::spawn_blocking(move || Bundle::from_archive(&body)).await.map_err(AppError::internal)??;
    created(install::install(&state, &actor, &meta, bundle, Origin::archive(), None).await?)
}

/// 201 with the application's address when a new version was installed, else 200.
fn created(report: InstallReport) -> AppResult<axum::response::Response> {
    use axum::response::IntoResponse;
    Ok(if report.created {
        Created::at(format!("/api/applications/{}", report.application.id), report).into_response()
    } else {
        Json(report).into_response()
    })
}

/// Install an application from a branch of a Git repository (its head, or a given commit of
/// it). `file://` URLs only where the server allows them (`--allow-file-git`).
#[utoipa::path(
    post, path = "/api/applications/git", tag = "applications", operation_id = "install_application_git",
    security(("super_admin" = ["steward.console.applications.write"])),
    request_body = InstallFromGit,
    responses(
        (status = 201, description = "Installed", body = InstallReport, headers(("Location" = String, description = "The application: `/api/applications/{id}`"))),
        (status = 200, description = "This commit was installed already; it is the version in use now", body = InstallReport),
        (status = 409, description = "Fetching failed (`git_failed`), or the name is installed from elsewhere (`source_mismatch`)", body = steward_shared::problem::Problem, content_type = "application/problem+json"),
        (status = 413, description = "The commit's tree is past a size or entry limit", body = steward_shared::problem::Problem, content_type = "application/problem+json"),
    ),
)]
async fn install_application_git(
    State(state): State<AppState>,
    actor: Actor,
    meta: RequestMeta,
    ApiJson(req): ApiJson<InstallFromGit>,
) -> AppResult<axum::response::Response> {
    git::check_url(&req.url, state.config.allow_file_git)?;
    git::check_branch(&req.branch)?;
    let (bundle, commit) =
        git::checkout(state.config.data_dir.clone(), req.url.clone(), req.branch.clone(), req.commit.clone()).await?;
    let origin =
        Origin { source: AppSource::Git, git_url: Some(req.url), git_branch: Some(req.branch), commit: Some(commit) };
    created(install::install(&state, &actor, &meta, bundle, origin, None).await?)
}

/// One application: its versions newest first, and the models, flow templates, connector
/// kinds and package requirements of the version in use.
#[utoipa::path(
    get, path = "/api/applications/{application_id}", tag = "applications", operation_id = "get_application",
    security(("super_admin" = ["steward.console.applications.read"])),
    params(("application_id" = Uuid, Path, description = "The application")),
    responses((status = 200, description = "The application", body = ApplicationDetail)),
)]
async fn get_application(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<Uuid>,
) -> AppResult<Json<ApplicationDetail>> {
    catalog::detail(&state, id).await.map(Json)
}

/// Upload a new version of an archive application (the manifest must name it).
#[utoipa::path(
    post, path = "/api/applications/{application_id}/archive", tag = "applications", operation_id = "upload_application_version",
    security(("super_admin" = ["steward.console.applications.write"])),
    params(("application_id" = Uuid, Path, description = "The application")),
    request_body(content = ArchiveBody, content_type = "application/gzip"),
    responses(
        (status = 201, description = "Installed", body = InstallReport, headers(("Location" = String, description = "The application: `/api/applications/{id}`"))),
        (status = 200, description = "This exact bundle was installed already; it is the version in use now", body = InstallReport),
        (status = 409, description = "The version exists with other contents (`version_exists`), or the application comes from Git (`source_mismatch`)", body = steward_shared::problem::Problem, content_type = "application/problem+json"),
        (status = 413, description = "Past a size or entry limit", body = steward_shared::problem::Problem, content_type = "application/problem+json"),
        (status = 415, description = "Not sent as `application/gzip`", body = steward_shared::problem::Problem, content_type = "application/problem+json"),
    ),
)]
async fn upload_application_version(
    State(state): State<AppState>,
    actor: Actor,
    meta: RequestMeta,
    ApiPath(id): ApiPath<Uuid>,
    ApiArchive(body): ApiArchive,
) -> AppResult<axum::response::Response> {
    let app = catalog::find(&state, id).await?;
    let bundle =
        tokio::task::spawn_blocking(move || Bundle::from_archive(&body)).await.map_err(AppError::internal)??;
    created(install::install(&state, &actor, &meta, bundle, Origin::archive(), Some(&app)).await?)
}

async fn from_git(
    state: &AppState,
    actor: &Actor,
    meta: &RequestMeta,
    id: Uuid,
    commit: Option<String>,
) -> AppResult<axum::response::Response> {
    let app = catalog::find(state, id).await?;
    let (Some(url), Some(branch)) = (app.git_url.clone(), app.git_branch.clone()) else {
        return Err(AppError::Conflict {
            code: "not_a_git_application",
            field: None,
            detail: "This application is installed from archives; upload a new version instead.".into(),
        });
    };
    let (bundle, c) = git::checkout(state.config.data_dir.clone(), url.clone(), branch.clone(), commit).await?;
    let origin = Origin { source: AppSource::Git, git_url: Some(url), git_branch: Some(branch), commit: Some(c) };
    created(install::install(state, actor, meta, bundle, origin, Some(&app)).await?)
}

/// Update a Git application to its branch's head.
#[utoipa::path(
    post, path = "/api/applications/{application_id}/update", tag = "applications", operation_id = "update_application",
    security(("super_admin" = ["steward.console.applications.write"])),
    params(("application_id" = Uuid, Path, description = "The application")),
    responses(
        (status = 201, description = "A new version installed", body = InstallReport, headers(("Location" = String, description = "The application: `/api/applications/{id}`"))),
        (status = 200, description = "The head was installed already; it is the version in use now", body = InstallReport),
        (status = 409, description = "Not a Git application (`not_a_git_application`), or fetching failed (`git_failed`)", body = steward_shared::problem::Problem, content_type = "application/problem+json"),
    ),
)]
async fn update_application(
    State(state): State<AppState>,
    actor: Actor,
    meta: RequestMeta,
    ApiPath(id): ApiPath<Uuid>,
) -> AppResult<axum::response::Response> {
    from_git(&state, &actor, &meta, id, None).await
}

/// Pin a Git application to another commit of its branch (seed 004's Edit).
#[utoipa::path(
    post, path = "/api/applications/{application_id}/pin", tag = "applications", operation_id = "pin_application_commit",
    security(("super_admin" = ["steward.console.applications.write"])),
    params(("application_id" = Uuid, Path, description = "The application")),
    request_body = PinCommit,
    responses(
        (status = 201, description = "The commit installed as a new version", body = InstallReport, headers(("Location" = String, description = "The application: `/api/applications/{id}`"))),
        (status = 200, description = "The commit was installed already; it is the version in use now", body = InstallReport),
        (status = 409, description = "Not a Git application (`not_a_git_application`), or fetching failed (`git_failed`)", body = steward_shared::problem::Problem, content_type = "application/problem+json"),
    ),
)]
async fn pin_application_commit(
    State(state): State<AppState>,
    actor: Actor,
    meta: RequestMeta,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(req): ApiJson<PinCommit>,
) -> AppResult<axum::response::Response> {
    from_git(&state, &actor, &meta, id, Some(req.commit)).await
}

#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CommitQuery {
    /// 1–200, default 50.
    pub limit: Option<u64>,
    pub cursor: Option<String>,
}

/// The newest commits of a Git application's branch (fetched now), each with the version
/// installed from it.
#[utoipa::path(
    get, path = "/api/applications/{application_id}/commits", tag = "applications", operation_id = "list_application_commits",
    security(("super_admin" = ["steward.console.applications.read"])),
    params(("application_id" = Uuid, Path, description = "The application"), CommitQuery),
    responses(
        (status = 200, description = "A page of commits, newest first", body = Page<CommitRow>),
        (status = 409, description = "Not a Git application (`not_a_git_application`), or fetching failed (`git_failed`)", body = steward_shared::problem::Problem, content_type = "application/problem+json"),
    ),
)]
async fn list_application_commits(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<Uuid>,
    ApiQuery(q): ApiQuery<CommitQuery>,
) -> AppResult<Json<Page<CommitRow>>> {
    let limit = pagination::limit(q.limit)? as usize;
    let detail = catalog::detail(&state, id).await?;
    let app = &detail.application;
    let (Some(url), Some(branch)) = (app.git_url.clone(), app.git_branch.clone()) else {
        return Err(AppError::Conflict {
            code: "not_a_git_application",
            field: None,
            detail: "This application is installed from archives; it has no commits.".into(),
        });
    };
    let after = match &q.cursor {
        Some(raw) => Some(pagination::Cursor::decode(raw)?.key.unwrap_or_default()),
        None => None,
    };
    // Walk as far as the page after the cursor needs (a branch's history is read in order).
    let all = git::commits(state.config.data_dir.clone(), url, branch, 10_000).await?;
    let start = match &after {
        Some(sha) => all.iter().position(|c| &c.sha == sha).map(|i| i + 1).unwrap_or(all.len()),
        None => 0,
    };
    let page: Vec<_> = all.iter().skip(start).take(limit + 1).cloned().collect();
    let more = page.len() > limit;
    let items: Vec<CommitRow> = page
        .into_iter()
        .take(limit)
        .map(|c| {
            let installed = detail.versions.iter().find(|v| v.git_commit.as_deref() == Some(c.sha.as_str()));
            CommitRow {
                installed_version: installed.map(|v| v.version.clone()),
                current: installed.is_some_and(|v| v.current),
                sha: c.sha,
                summary: c.summary,
                author: c.author,
                committed_at: c.at,
            }
        })
        .collect();
    let next_cursor = match (more, items.last()) {
        (true, Some(last)) => Some(pagination::Cursor { key: Some(last.sha.clone()), id: Uuid::nil() }.encode()),
        _ => None,
    };
    Ok(Json(Page { items, next_cursor }))
}

/// Switch to another installed version of the application (its models become the platform's
/// entity types while it is active).
#[utoipa::path(
    post, path = "/api/applications/{application_id}/version", tag = "applications", operation_id = "switch_application_version",
    security(("super_admin" = ["steward.console.applications.write"])),
    params(("application_id" = Uuid, Path, description = "The application")),
    request_body = SwitchVersion,
    responses((status = 200, description = "The application as it is now", body = ApplicationRow)),
)]
async fn switch_application_version(
    State(state): State<AppState>,
    actor: Actor,
    meta: RequestMeta,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(req): ApiJson<SwitchVersion>,
) -> AppResult<Json<ApplicationRow>> {
    install::switch_version(&state, &actor, &meta, id, req.version_id).await.map(Json)
}

/// Activate an application: its version in use's models, templates and connector kinds are
/// available again.
#[utoipa::path(
    post, path = "/api/applications/{application_id}/activate", tag = "applications", operation_id = "activate_application",
    security(("super_admin" = ["steward.console.applications.write"])),
    params(("application_id" = Uuid, Path, description = "The application")),
    responses((status = 200, description = "The application as it is now", body = ApplicationRow)),
)]
async fn activate_application(
    State(state): State<AppState>,
    actor: Actor,
    meta: RequestMeta,
    ApiPath(id): ApiPath<Uuid>,
) -> AppResult<Json<ApplicationRow>> {
    install::set_active(&state, &actor, &meta, id, true).await.map(Json)
}

/// Deactivate an application: its models, templates and connector kinds are withdrawn until
/// it is activated again (records keep their data).
#[utoipa::path(
    post, path = "/api/applications/{application_id}/deactivate", tag = "applications", operation_id = "deactivate_application",
    security(("super_admin" = ["steward.console.applications.write"])),
    extensions(("x-confirm" = json!("application"))),
    params(("application_id" = Uuid, Path, description = "The application")),
    responses((status = 200, description = "The application as it is now", body = ApplicationRow)),
)]
async fn deactivate_application(
    State(state): State<AppState>,
    actor: Actor,
    meta: RequestMeta,
    ApiPath(id): ApiPath<Uuid>,
) -> AppResult<Json<ApplicationRow>> {
    install::set_active(&state, &actor, &meta, id, false).await.map(Json)
}

/// Delete an application and every version of it, its name typed in `X-Steward-Confirm`
/// (always, not only while viewing as someone). Refused while flows use it unless `force`
/// (they keep their steps and lose the link).
#[utoipa::path(
    delete, path = "/api/applications/{application_id}", tag = "applications", operation_id = "delete_application",
    security(("super_admin" = ["steward.console.applications.write"])),
    extensions(("x-confirm" = json!("application"))),
    params(("application_id" = Uuid, Path, description = "The application"), DeleteApplication),
    responses(
        (status = 204, description = "Deleted"),
        (status = 409, description = "Flows use it (`application_in_use`)", body = steward_shared::problem::Problem, content_type = "application/problem+json"),
    ),
)]
async fn delete_application(
    State(state): State<AppState>,
    actor: Actor,
    meta: RequestMeta,
    ApiPath(id): ApiPath<Uuid>,
    ApiQuery(req): ApiQuery<DeleteApplication>,
    headers: axum::http::HeaderMap,
) -> AppResult<StatusCode> {
    let typed = headers.get(crate::access::confirm::HEADER).and_then(|v| v.to_str().ok()).unwrap_or("");
    install::delete(&state, &actor, &meta, id, typed, req.force).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// What failed to import, worst first, then newest; each with the parser's or validator's
/// detail.
#[utoipa::path(
    get, path = "/api/import-errors", tag = "applications", operation_id = "list_import_errors",
    security(("super_admin" = ["steward.console.import_errors.read"])),
    params(ImportErrorQuery),
    responses((status = 200, description = "A page of import errors", body = Page<ImportErrorRow>)),
)]
async fn list_import_errors(
    State(state): State<AppState>,
    ApiQuery(q): ApiQuery<ImportErrorQuery>,
) -> AppResult<Json<Page<ImportErrorRow>>> {
    catalog::import_errors(&state, q).await.map(Json)
}

/// The package versions the installed applications carry, by name, each with where it is
/// unpacked and the applications whose version in use resolved to it.
#[utoipa::path(
    get, path = "/api/packages", tag = "applications", operation_id = "list_packages",
    security(("super_admin" = ["steward.console.packages.read"])),
    params(PackageQuery),
    responses((status = 200, description = "A page of packages", body = Page<PackageRow>)),
)]
async fn list_packages(
    State(state): State<AppState>,
    ApiQuery(q): ApiQuery<PackageQuery>,
) -> AppResult<Json<Page<PackageRow>>> {
    catalog::packages(&state, q).await.map(Json)
}

/// The flow templates of the active applications (what a new flow can be made from).
#[utoipa::path(
    get, path = "/api/flow-templates", tag = "flows", operation_id = "list_flow_templates",
    security(("bearer" = ["steward.flows.edit"])),
    responses((status = 200, description = "Every template by name, on one page", body = Page<FlowTemplateRow>)),
)]
async fn list_flow_templates(State(state): State<AppState>) -> AppResult<Json<Page<FlowTemplateRow>>> {
    catalog::templates(&state).await.map(|t| Json(Page::whole(t)))
}

/// The connector kinds of the active applications (what a new connector's kind can be, besides
/// a free-form one that is never probed).
#[utoipa::path(
    get, path = "/api/connector-kinds", tag = "connectors", operation_id = "list_connector_kinds",
    security(("bearer" = ["steward.connectors.manage"])),
    responses((status = 200, description = "Every kind, on one page", body = Page<ConnectorKindRow>)),
)]
async fn list_connector_kinds(State(state): State<AppState>) -> AppResult<Json<Page<ConnectorKindRow>>> {
    catalog::connector_kinds(&state).await.map(|k| Json(Page::whole(k)))
}

/// Mint a transfer token (shown this once): a short-lived, single-use JWT signed by this
/// platform naming what another platform may fetch from `export_applications`.
#[utoipa::path(
    post, path = "/api/transfer/tokens", tag = "applications", operation_id = "mint_transfer_token",
    security(("super_admin" = ["steward.console.platform_actions.write"])),
    request_body = MintTransferToken,
    responses((status = 201, description = "The token, shown once", body = TransferToken)),
)]
async fn mint_transfer_token(
    State(state): State<AppState>,
    actor: Actor,
    meta: RequestMeta,
    ApiJson(body): ApiJson<MintTransferToken>,
) -> AppResult<(StatusCode, Json<TransferToken>)> {
    let token = crate::apps::transfer::mint(&state, &actor, &meta, body.application_id, body.ttl_minutes).await?;
    Ok((StatusCode::CREATED, Json(token)))
}

/// The bundles a transfer token names (the version in use of each), for the platform the
/// token was given to. Authenticate with the transfer token as the bearer credential; it
/// works once.
#[utoipa::path(
    get, path = "/api/transfer/export", tag = "applications", operation_id = "export_applications",
    security(("transfer_token" = [])),
    responses(
        (status = 200, description = "The bundles, with their digests", body = TransferExport),
        (status = 401, description = "Not a transfer token of this platform (`transfer_token_invalid`)", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "The application it names was deleted", body = Problem, content_type = "application/problem+json"),
        (status = 410, description = "Expired (`transfer_token_expired`) or used (`transfer_token_used`)", body = Problem, content_type = "application/problem+json"),
    ),
)]
async fn export_applications(
    State(state): State<AppState>,
    meta: RequestMeta,
    headers: axum::http::HeaderMap,
) -> AppResult<Json<TransferExport>> {
    let bearer = headers
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim);
    crate::apps::transfer::export(&state, &meta, bearer).await.map(Json)
}

/// Transfer applications from another Steward: fetch its export with a token minted there,
/// verify each bundle against its digests, and install it like an upload.
#[utoipa::path(
    post, path = "/api/applications/transfer", tag = "applications", operation_id = "install_application_transfer",
    security(("super_admin" = ["steward.console.applications.write"])),
    request_body = TransferFrom,
    responses(
        (status = 200, description = "What was installed", body = TransferReport),
        (status = 502, description = "The source refused the token (`transfer_refused`, with its reason), could not be reached (`transfer_source_unreachable`), or sent a bundle that does not match its digest (`transfer_unverified`)", body = Problem, content_type = "application/problem+json"),
    ),
)]
async fn install_application_transfer(
    State(state): State<AppState>,
    actor: Actor,
    meta: RequestMeta,
    ApiJson(body): ApiJson<TransferFrom>,
) -> AppResult<Json<TransferReport>> {
    crate::apps::transfer::import(&state, &actor, &meta, body).await.map(Json)
}
