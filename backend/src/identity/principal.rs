//! Who is calling: a bearer credential (an access token bound to a live session, or an API
//! token) resolved to the [`Actor`] of an active user, with the impersonation it carries.

use axum::http::{header, HeaderMap};
use chrono::{DateTime, Utc};
use sea_orm::{ConnectionTrait, EntityTrait, FromQueryResult};
use std::collections::BTreeMap;
use std::sync::LazyLock;
use steward_shared::permissions;
use uuid::Uuid;

use crate::access::actor::{grants_of, ActorNames, Grants};
use crate::access::Actor;
use crate::http::error::{AppError, AppResult};
use crate::http::principals::Credential;
use crate::state::AppState;
use crate::store::entities::{api_tokens, customers, sessions, users};

/// One row of the principal's query: the credential (a session or an API token), the user it
/// names (`who` 0) or the user the session views as (`who` 1), and one of that user's role
/// patterns (none when the user holds no role, or the role grants nothing).
struct PrincipalRow<C> {
    who: i32,
    credential: C,
    user: users::Model,
    names: ActorNames,
    workspace_id: Option<Uuid>,
    role_id: Option<Uuid>,
    pattern: Option<String>,
}

/// The grants of one user, from the rows of its memberships and their patterns.
fn grants_from<'a, C: 'a>(rows: impl Iterator<Item = &'a PrincipalRow<C>>) -> Vec<Grants> {
    let mut by_membership: BTreeMap<(Uuid, Uuid), Vec<&str>> = BTreeMap::new();
    for row in rows {
        if let (Some(workspace), Some(role)) = (row.workspace_id, row.role_id) {
            let patterns = by_membership.entry((workspace, role)).or_default();
            patterns.extend(row.pattern.as_deref());
        }
    }
    by_membership
        .into_iter()
        .map(|((workspace_id, role_id), patterns)| Grants {
            workspace_id,
            role_id,
            leaves: permissions::expand(patterns).into_iter().collect(),
        })
        .collect()
}

/// The SQL of the principal's query for a credential table: its row, its user's customer and
/// home workspace name, memberships and patterns, and (for sessions) the same of the user it
/// views as, in one round trip. On SQLite every statement is a hand-off to the connection's
/// thread and back, which is most of what `/api/me` cost when it read the names apart (and a
/// tenant-scoped request when it read its customer apart).
fn principal_sql(credential: &str, alias: &str, key: &str, viewed_as: Option<&str>) -> String {
    let part = |who: u8, user_column: &str| {
        format!(
            "SELECT {who} AS who, {cred}, {user}, {customer}, pw.name AS n_home, \
             ur.workspace_id AS g_workspace, ur.role_id AS g_role, rp.pattern AS g_pattern \
             FROM {credential} {alias} JOIN users u ON u.id = {alias}.{user_column} \
             JOIN customers pc ON pc.id = u.customer_id LEFT JOIN workspaces pw ON pw.id = u.home_workspace_id \
             LEFT JOIN user_roles ur ON ur.user_id = u.id LEFT JOIN role_permissions rp ON rp.role_id = ur.role_id \
             WHERE {alias}.{key} = $1",
            cred = if credential == "sessions" {
                crate::store::columns_as::<sessions::Entity>(alias, "c_")
            } else {
                crate::store::columns_as::<api_tokens::Entity>(alias, "c_")
            },
            user = crate::store::columns_as::<users::Entity>("u", "u_"),
            customer = crate::store::columns_as::<customers::Entity>("pc", "pc_"),
        )
    };
    match viewed_as {
        Some(column) => format!("{} UNION ALL {}", part(0, "user_id"), part(1, column)),
        None => part(0, "user_id"),
    }
}

/// The principal's query in each backend's spelling, written once (every request runs one).
struct PrincipalSql {
    postgres: String,
    sqlite: String,
}

impl PrincipalSql {
    fn new(sql: String) -> Self {
        let sqlite = crate::store::statement(sea_orm::DbBackend::Sqlite, &sql, []).sql;
        Self { postgres: sql, sqlite }
    }

    fn statement(&self, backend: sea_orm::DbBackend, key: sea_orm::Value) -> sea_orm::Statement {
        let sql = if backend == sea_orm::DbBackend::Postgres { &self.postgres } else { &self.sqlite };
        sea_orm::Statement::from_sql_and_values(backend, sql.as_str(), [key])
    }
}

static SESSION_SQL: LazyLock<PrincipalSql> =
    LazyLock::new(|| PrincipalSql::new(principal_sql("sessions", "s", "id", Some("impersonated_user_id"))));
static TOKEN_SQL: LazyLock<PrincipalSql> =
    LazyLock::new(|| PrincipalSql::new(principal_sql("api_tokens", "t", "token_hash", None)));

/// Runs the principal's query for one credential key.
async fn principal_rows<C: FromQueryResult>(
    state: &AppState,
    sql: &PrincipalSql,
    key: sea_orm::Value,
) -> AppResult<Vec<PrincipalRow<C>>> {
    let stmt = sql.statement(state.db.get_database_backend(), key);
    let rows = state.db.query_all_raw(stmt).await?;
    rows.iter()
        .map(|r| {
            Ok(PrincipalRow {
                who: r.try_get("", "who")?,
                credential: C::from_query_result(r, "c_")?,
                user: users::Model::from_query_result(r, "u_")?,
                names: ActorNames {
                    customer: customers::Model::from_query_result(r, "pc_")?,
                    home_workspace_name: r.try_get("", "n_home")?,
                },
                workspace_id: r.try_get("", "g_workspace")?,
                role_id: r.try_get("", "g_role")?,
                pattern: r.try_get("", "g_pattern")?,
            })
        })
        .collect::<Result<_, sea_orm::DbErr>>()
        .map_err(AppError::from)
}

/// Resolves the bearer credential to a live session of an active user: the session, its user,
/// the user it views as and both users' grants come back from one query — or from
/// [`crate::http::principals`], when the same credential was resolved moments ago and
/// nothing has been written since.
pub async fn authenticate(state: &AppState, headers: &HeaderMap) -> AppResult<Actor> {
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer ").or_else(|| v.strip_prefix("bearer ")))
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .ok_or_else(|| {
            AppError::unauthenticated("unauthenticated", "Sign in: send `Authorization: Bearer <access token>`.")
        })?;
    let now = Utc::now();
    let cache = &state.principals;
    if token.starts_with(crate::identity::tokens::PREFIX) {
        let hash = crate::secrets::sha256_hex(token);
        let key = Credential::Token(hash.clone());
        if let Some(actor) = cache.get::<Actor>(&key, now) {
            return Ok(actor);
        }
        let generation = cache.generation();
        let (actor, expires_at) = token_actor(state, &hash, now).await?;
        cache.keep(key, generation, expires_at, &actor);
        return Ok(actor);
    }
    let claims = state.jwt.verify(token).map_err(|e| match e.kind() {
        jsonwebtoken::errors::ErrorKind::ExpiredSignature => {
            AppError::unauthenticated("token_expired", "The access token has expired; refresh it or sign in again.")
        }
        _ => AppError::unauthenticated("invalid_token", "The access token is not valid."),
    })?;
    let key = Credential::Session(claims.sid);
    // The entry is the session's; the token must name its user too (as the query's path checks).
    if let Some(actor) =
        cache.get::<Actor>(&key, now).filter(|a| a.session.as_ref().is_some_and(|s| s.user_id == claims.sub))
    {
        return Ok(actor);
    }
    let generation = cache.generation();
    let actor = session_actor(state, &claims, now).await?;
    // It stops by itself when the session ends, or the impersonation does (then the next
    // request records the end and answers as the admin).
    let expires_at = actor.session.as_ref().map(|session| {
        let impersonation_ends = actor.impersonator.as_ref().and(session.impersonation_expires_at);
        impersonation_ends.map_or(session.expires_at, |end| end.min(session.expires_at))
    });
    if expires_at.is_some() {
        cache.keep(key, generation, expires_at, &actor);
    }
    Ok(actor)
}

/// A session's principal, read from the database (`authenticate` without the cache).
async fn session_actor(state: &AppState, claims: &crate::secrets::Claims, now: DateTime<Utc>) -> AppResult<Actor> {
    let rows: Vec<PrincipalRow<sessions::Model>> = principal_rows(state, &SESSION_SQL, claims.sid.into()).await?;
    let ended = || AppError::unauthenticated("session_ended", "This session has ended; sign in again.");
    let first = rows.iter().find(|r| r.who == 0).ok_or_else(ended)?;
    let session = first.credential.clone();
    if session.user_id != claims.sub || session.revoked_at.is_some() || session.expires_at <= now {
        return Err(ended());
    }
    let user = first.user.clone();
    if user.status != "active" || user.erased_at.is_some() {
        return Err(AppError::unauthenticated("account_inactive", "This account is deactivated."));
    }
    if now - session.last_seen_at > chrono::Duration::seconds(60) {
        crate::identity::sessions::touch(&state.db, session.id, now).await?;
    }
    let admin = Actor {
        user,
        session: Some(session.clone()),
        grants: grants_from(rows.iter().filter(|r| r.who == 0)),
        route_leaves: Vec::new(),
        impersonator: None,
        token_leaves: None,
        names: Some(first.names.clone()),
    };
    let Some(target_id) = session.impersonated_user_id else { return Ok(admin) };
    let target_row = rows.iter().find(|r| r.who == 1);
    let live = session.impersonation_expires_at.is_some_and(|t| t > now);
    let (target, names) = match target_row {
        Some(r) if live && r.user.id == target_id && crate::identity::impersonation::impersonable(&r.user) => {
            (Some(r.user.clone()), Some(r.names.clone()))
        }
        // Ended (expired, or the target can no longer be viewed as): recorded there.
        _ => (crate::identity::impersonation::target_of(state, &session, now).await?, None),
    };
    Ok(match target {
        Some(target) => Actor {
            grants: grants_from(rows.iter().filter(|r| r.who == 1)),
            user: target,
            session: Some(session),
            route_leaves: Vec::new(),
            impersonator: Some(Box::new(admin)),
            token_leaves: None,
            names,
        },
        None => admin,
    })
}

/// An API token's principal: the live token, its active owner and the owner's grants (one
/// query), holding only what the token was created with; and when the token expires.
async fn token_actor(state: &AppState, hash: &str, now: DateTime<Utc>) -> AppResult<(Actor, Option<DateTime<Utc>>)> {
    let rows: Vec<PrincipalRow<api_tokens::Model>> = principal_rows(state, &TOKEN_SQL, hash.into()).await?;
    let first = rows
        .first()
        .filter(|r| r.credential.revoked_at.is_none() && r.credential.expires_at.is_none_or(|e| e > now))
        .ok_or_else(|| {
            AppError::unauthenticated("invalid_token", "This API token is not valid, revoked or expired.")
        })?;
    let (api_token, user) = (&first.credential, &first.user);
    if user.status != "active" || user.erased_at.is_some() {
        return Err(AppError::unauthenticated("account_inactive", "This account is deactivated."));
    }
    crate::identity::tokens::mark_used(state, api_token, now).await?;
    let actor = Actor {
        user: user.clone(),
        session: None,
        grants: grants_from(rows.iter()),
        route_leaves: Vec::new(),
        impersonator: None,
        token_leaves: Some(crate::identity::tokens::leaves_of(api_token)),
        names: Some(first.names.clone()),
    };
    Ok((actor, api_token.expires_at))
}

/// The principal of a live session: its user, or the user it impersonates (with the real
/// admin kept beside it).
async fn actor_of(
    state: &AppState,
    session: sessions::Model,
    user: users::Model,
    now: DateTime<Utc>,
) -> AppResult<Actor> {
    let grants = grants_of(&state.db, user.id).await?;
    let admin = Actor {
        user,
        session: Some(session.clone()),
        grants,
        route_leaves: Vec::new(),
        impersonator: None,
        token_leaves: None,
        names: None,
    };
    match crate::identity::impersonation::target_of(state, &session, now).await? {
        Some(target) => {
            let grants = grants_of(&state.db, target.id).await?;
            Ok(Actor {
                user: target,
                session: Some(session),
                grants,
                route_leaves: Vec::new(),
                impersonator: Some(Box::new(admin)),
                token_leaves: None,
                names: None,
            })
        }
        None => Ok(admin),
    }
}

/// The Actor of a session as it stands now (after its impersonation changed).
pub async fn reload(state: &AppState, session: &sessions::Model) -> AppResult<Actor> {
    let session = sessions::Entity::find_by_id(session.id)
        .one(&state.db)
        .await?
        .ok_or_else(|| AppError::unauthenticated("session_ended", "This session has ended; sign in again."))?;
    let user = users::Entity::find_by_id(session.user_id)
        .one(&state.db)
        .await?
        .ok_or_else(|| AppError::unauthenticated("account_inactive", "This account is deactivated."))?;
    actor_of(state, session, user, Utc::now()).await
}

/// Whether the credential in `headers` may still call `operation` (a long-lived stream asks
/// every few seconds, so a revoked session, a deactivated user or a lost grant ends it).
pub async fn still_allowed(state: &AppState, headers: &HeaderMap, operation: &str) -> Result<(), String> {
    let actor = authenticate(state, headers).await.map_err(|e| e.to_string())?;
    let rule = state.operations.get().and_then(|ops| ops.get(operation)).cloned();
    match rule {
        Some((requirement, leaves)) if actor.passes(&requirement, &leaves) => Ok(()),
        _ => Err("you may no longer read this".to_owned()),
    }
}
