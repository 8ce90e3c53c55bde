//! Customers (organizations), the picker, and workspaces of a customer.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use steward_shared::api::{
    CreateCustomer, CustomerDetail, CustomerOverview, CustomerSummary, Page, Rename, WorkspaceRef,
};
use steward_shared::problem::Problem;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::access::Actor;
use crate::http::error::AppResult;
use crate::http::extract::{ApiJson, ApiPath, ApiQuery};
use crate::http::request_meta::RequestMeta;
use crate::http::Created;
use crate::state::AppState;
use crate::tenancy::customers::*;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_customers, create_customer))
        .routes(routes!(customer_overview))
        .routes(routes!(recent_customers))
        .routes(routes!(get_customer, rename_customer))
        .routes(routes!(record_customer_view))
        .routes(routes!(create_workspace))
        .routes(routes!(rename_workspace))
}

/// The customer picker: every customer whose name matches `search`, by name.
///
/// Principals without `steward.admin.cross_tenant` see only their own customer.
#[utoipa::path(
    get, path = "/api/customers", tag = "customers", operation_id = "list_customers",
    security(("bearer" = ["steward.customers.view"])),
    params(ListQuery),
    responses((status = 200, description = "A page of customers by name", body = Page<CustomerSummary>)),
)]
async fn list_customers(
    State(state): State<AppState>,
    actor: Actor,
    ApiQuery(q): ApiQuery<ListQuery>,
) -> AppResult<Json<Page<CustomerSummary>>> {
    crate::tenancy::customers::list_customers(&state, &actor, q).await.map(Json)
}

/// The customers you looked at last (`POST /api/customers/{customer_id}/views`), newest first:
/// at most five, on one page. The picker shows them above the matches.
#[utoipa::path(
    get, path = "/api/customers/recent", tag = "customers", operation_id = "recent_customers",
    security(("bearer" = ["steward.customers.view"])),
    responses((status = 200, description = "Up to five customers, most recently viewed first", body = Page<CustomerSummary>)),
)]
async fn recent_customers(State(state): State<AppState>, actor: Actor) -> AppResult<Json<Page<CustomerSummary>>> {
    crate::tenancy::customers::recent_customers(&state, &actor).await.map(Json)
}

/// The Customers page: customers by name, each with its workspaces, users and flows counted and
/// the time of its newest audit event.
///
/// Principals without `steward.admin.cross_tenant` see only their own customer.
#[utoipa::path(
    get, path = "/api/customers/overview", tag = "customers", operation_id = "customer_overview",
    security(("bearer" = ["steward.customers.view"])),
    params(ListQuery),
    responses((status = 200, description = "A page of customers with their counts", body = Page<CustomerOverview>)),
)]
async fn customer_overview(
    State(state): State<AppState>,
    actor: Actor,
    ApiQuery(q): ApiQuery<ListQuery>,
) -> AppResult<Json<Page<CustomerOverview>>> {
    crate::tenancy::customers::customer_overview(&state, &actor, q).await.map(Json)
}

/// Remember that you looked at this customer (floats it to the top of your picker).
#[utoipa::path(
    post, path = "/api/customers/{customer_id}/views", tag = "customers", operation_id = "record_customer_view",
    security(("bearer" = ["steward.customers.view"])),
    params(("customer_id" = Uuid, Path, description = "The customer")),
    responses((status = 204, description = "Recorded")),
)]
async fn record_customer_view(
    State(state): State<AppState>,
    actor: Actor,
    ApiPath(id): ApiPath<Uuid>,
) -> AppResult<StatusCode> {
    crate::tenancy::customers::record_customer_view(&state, &actor, id).await.map(|()| StatusCode::NO_CONTENT)
}

/// One customer, with its workspaces and user count.
#[utoipa::path(
    get, path = "/api/customers/{customer_id}", tag = "customers", operation_id = "get_customer",
    security(("bearer" = ["steward.customers.view"])),
    params(("customer_id" = Uuid, Path, description = "The customer")),
    responses((status = 200, description = "The customer", body = CustomerDetail)),
)]
async fn get_customer(
    State(state): State<AppState>,
    actor: Actor,
    ApiPath(id): ApiPath<Uuid>,
) -> AppResult<Json<CustomerDetail>> {
    crate::tenancy::customers::get_customer(&state, &actor, id).await.map(Json)
}

/// Create a tenant customer with its first workspace (platform staff with cross-tenant rights).
#[utoipa::path(
    post, path = "/api/customers", tag = "customers", operation_id = "create_customer",
    security(("bearer" = ["steward.customers.manage"])),
    request_body = CreateCustomer,
    responses(
        (status = 201, description = "Created", body = CustomerDetail, headers(("Location" = String, description = "The new customer: `/api/customers/{id}`"))),
        (status = 409, description = "Name or slug taken (`conflict`)", body = Problem, content_type = "application/problem+json"),
    ),
)]
async fn create_customer(
    State(state): State<AppState>,
    actor: Actor,
    meta: RequestMeta,
    ApiJson(body): ApiJson<CreateCustomer>,
) -> AppResult<Created<CustomerDetail>> {
    let customer = crate::tenancy::customers::create_customer(&state, &actor, &meta, body).await?;
    Ok(Created::at(format!("/api/customers/{}", customer.customer.id), customer))
}

/// Rename a customer.
#[utoipa::path(
    put, path = "/api/customers/{customer_id}", tag = "customers", operation_id = "rename_customer",
    security(("bearer" = ["steward.customers.manage"])),
    params(("customer_id" = Uuid, Path, description = "The customer")),
    request_body = Rename,
    responses(
        (status = 200, description = "Renamed", body = CustomerSummary),
        (status = 409, description = "Name taken (`conflict`)", body = Problem, content_type = "application/problem+json"),
    ),
)]
async fn rename_customer(
    State(state): State<AppState>,
    actor: Actor,
    meta: RequestMeta,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(body): ApiJson<Rename>,
) -> AppResult<Json<CustomerSummary>> {
    crate::tenancy::customers::rename_customer(&state, &actor, &meta, id, body).await.map(Json)
}

/// Create a workspace in a customer.
#[utoipa::path(
    post, path = "/api/customers/{customer_id}/workspaces", tag = "workspaces", operation_id = "create_workspace",
    security(("super_admin" = ["steward.customers.manage"])),
    params(("customer_id" = Uuid, Path, description = "The customer")),
    request_body = Rename,
    responses(
        (status = 201, description = "Created", body = WorkspaceRef, headers(("Location" = String, description = "The new workspace: `/api/workspaces/{id}`"))),
        (status = 409, description = "Name taken in this customer (`conflict`)", body = Problem, content_type = "application/problem+json"),
    ),
)]
async fn create_workspace(
    State(state): State<AppState>,
    actor: Actor,
    meta: RequestMeta,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(body): ApiJson<Rename>,
) -> AppResult<Created<WorkspaceRef>> {
    let workspace = crate::tenancy::customers::create_workspace(&state, &actor, &meta, id, body).await?;
    Ok(Created::at(format!("/api/workspaces/{}", workspace.id), workspace))
}

/// Rename a workspace.
#[utoipa::path(
    put, path = "/api/workspaces/{workspace_id}", tag = "workspaces", operation_id = "rename_workspace",
    security(("super_admin" = ["steward.customers.manage"])),
    params(("workspace_id" = Uuid, Path, description = "The workspace")),
    request_body = Rename,
    responses(
        (status = 200, description = "Renamed", body = WorkspaceRef),
        (status = 409, description = "Name taken in this customer (`conflict`)", body = Problem, content_type = "application/problem+json"),
    ),
)]
async fn rename_workspace(
    State(state): State<AppState>,
    actor: Actor,
    meta: RequestMeta,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(body): ApiJson<Rename>,
) -> AppResult<Json<WorkspaceRef>> {
    crate::tenancy::customers::rename_workspace(&state, &actor, &meta, id, body).await.map(Json)
}
