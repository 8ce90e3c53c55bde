//! Invitations: create, list, revoke, accept.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use steward_shared::api::{AcceptInvitation, CreateInvitation, Invitation, Page, TokenPair};
use steward_shared::problem::Problem;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::access::scope::{Scope, ScopeHeader};
use crate::access::Actor;
use crate::directory::invitations::*;
use crate::http::error::AppResult;
use crate::http::extract::{ApiJson, ApiPath, ApiQuery};
use crate::http::request_meta::RequestMeta;
use crate::http::Created;
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_invitations, create_invitation))
        .routes(routes!(revoke_invitation))
        .routes(routes!(accept_invitation))
}

/// Invite an email into a workspace with a role; the link is mailed (it is never shown here).
/// A pending invitation of the same email to the same workspace is replaced.
#[utoipa::path(
    post, path = "/api/invitations", tag = "invitations", operation_id = "create_invitation",
    security(("bearer" = ["steward.access.invitations.manage"])),
    request_body = CreateInvitation,
    responses(
        (status = 201, description = "Invited; the link is in the outbox", body = Invitation, headers(("Location" = String, description = "The invitation: `/api/invitations/{id}` (revoked with `DELETE`)"))),
        (status = 409, description = "The email already has an account (`conflict`, field `email`)", body = Problem, content_type = "application/problem+json"),
    ),
)]
async fn create_invitation(
    State(state): State<AppState>,
    actor: Actor,
    meta: RequestMeta,
    ApiJson(body): ApiJson<CreateInvitation>,
) -> AppResult<Created<Invitation>> {
    let invitation = crate::directory::invitations::create_invitation(&state, &actor, &meta, body).await?;
    Ok(Created::at(format!("/api/invitations/{}", invitation.id), invitation))
}

/// Invitations in scope, newest first; pending only unless asked for more.
#[utoipa::path(
    get, path = "/api/invitations", tag = "invitations", operation_id = "list_invitations",
    security(("bearer" = ["steward.access.invitations.manage"])),
    params(InvitationQuery, ScopeHeader),
    responses((status = 200, description = "A page of invitations", body = Page<Invitation>)),
)]
async fn list_invitations(
    State(state): State<AppState>,
    actor: Actor,
    scope: Scope,
    ApiQuery(q): ApiQuery<InvitationQuery>,
) -> AppResult<Json<Page<Invitation>>> {
    crate::directory::invitations::list_invitations(&state, &actor, &scope, q).await.map(Json)
}

/// Revoke a pending invitation; its link stops working. While impersonating, send the
/// invited email as `X-Steward-Confirm`.
#[utoipa::path(
    delete, path = "/api/invitations/{invitation_id}", tag = "invitations", operation_id = "revoke_invitation",
    security(("bearer" = ["steward.access.invitations.manage"])),
    extensions(("x-confirm" = json!("invitation"))),
    params(("invitation_id" = Uuid, Path, description = "The invitation")),
    responses(
        (status = 204, description = "Revoked"),
        (status = 409, description = "Already accepted (`already_accepted`)", body = Problem, content_type = "application/problem+json"),
    ),
)]
async fn revoke_invitation(
    State(state): State<AppState>,
    actor: Actor,
    meta: RequestMeta,
    ApiPath(id): ApiPath<Uuid>,
) -> AppResult<StatusCode> {
    crate::directory::invitations::revoke_invitation(&state, &actor, &meta, id).await.map(|()| StatusCode::NO_CONTENT)
}

/// Accept an invitation with the mailed token: creates the account (name and password of
/// your choosing) in the invited workspace and role, and signs you in.
#[utoipa::path(
    post, path = "/api/auth/accept-invitation", tag = "auth", operation_id = "accept_invitation",
    security(()),
    request_body = AcceptInvitation,
    responses(
        (status = 201, description = "Account created; signed in", body = TokenPair, headers(("Location" = String, description = "The new account, as its owner sees it: `/api/me`"))),
        (status = 409, description = "The email already has an account (`conflict`)", body = Problem, content_type = "application/problem+json"),
        (status = 410, description = "The invitation was used, revoked or has expired (`token_expired`)", body = Problem, content_type = "application/problem+json"),
    ),
)]
async fn accept_invitation(
    State(state): State<AppState>,
    meta: RequestMeta,
    ApiJson(body): ApiJson<AcceptInvitation>,
) -> AppResult<Created<TokenPair>> {
    let pair = crate::directory::invitations::accept_invitation(&state, &meta, body).await?;
    Ok(Created::at("/api/me", pair))
}
