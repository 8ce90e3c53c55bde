//! The users directory: one row per user anchored on the home workspace, across the current
//! scope, with trigram search, filters, segments, sorting and keyset pagination; its metrics
//! strip; one user's detail.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, ExprTrait, Func, LikeExpr, Order, Query, SimpleExpr};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, DbBackend, EntityTrait, FromQueryResult, JoinType, PaginatorTrait,
    QueryFilter, QueryOrder, QuerySelect, QueryTrait, Select, Statement,
};
use serde::Deserialize;
use std::collections::HashMap;
use steward_shared::api::{DirectoryUser, Page, UserMembership, UserMetrics, WorkspaceRef};
use steward_shared::permissions::USERS_VIEW;
use uuid::Uuid;

use crate::access::scope::Scope;
use crate::access::Actor;
use crate::http::error::{AppError, AppResult};
use crate::http::pagination::{self, Cursor};
use crate::state::AppState;
use crate::store::entities::{customers, roles, user_roles, users, workspaces};

/// The user, if this principal may see it: its customer (or cross-tenant rights), and for
/// workspace-level admins a membership in a workspace where they hold `leaf`. Else 404.
pub async fn visible_user<C: ConnectionTrait>(
    conn: &C,
    actor: &Actor,
    id: Uuid,
    leaf: &str,
) -> AppResult<users::Model> {
    let not_found = || AppError::NotFound("No such user.".into());
    let user =
        actor.tenant_row(users::Entity::find_by_id(id).one(conn).await?, |u| Some(u.customer_id), "No such user.")?;
    if let Some(ws) = actor.workspaces_with(leaf) {
        let shared = user_roles::Entity::find()
            .filter(user_roles::Column::CustomerId.eq(user.customer_id))
            .filter(user_roles::Column::UserId.eq(user.id))
            .filter(user_roles::Column::WorkspaceId.is_in(ws.clone()))
            .count(conn)
            .await?;
        if shared == 0 && !user.home_workspace_id.is_some_and(|h| ws.contains(&h)) {
            return Err(not_found());
        }
    }
    Ok(user)
}

pagination::closed_set! {
    /// `active` or `inactive`.
    pub enum UserStatus { Active = "active", Inactive = "inactive" }
}
pagination::closed_set! {
    /// The directory's tabs.
    pub enum UserSegment { All = "all", Active = "active", SuperAdmins = "super_admins", Inactive = "inactive" }
}
pagination::closed_set! {
    /// `created`: newest first; `name`, `email`: A–Z.
    pub enum UserSort { Created = "created", Name = "name", Email = "email" }
}

#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DirectoryQuery {
    /// Only members of this workspace (the scope rail).
    pub workspace_id: Option<Uuid>,
    /// Name or email contains this (trigram index; 1–2 characters match an email prefix).
    pub search: Option<String>,
    /// `active` or `inactive`.
    #[param(inline)]
    pub status: Option<UserStatus>,
    /// Only holders of this role (in `workspace_id` when given).
    pub role_id: Option<Uuid>,
    /// `all` (default), `active`, `super_admins`, `inactive`.
    #[param(inline)]
    pub segment: Option<UserSegment>,
    /// `created` (newest first, default), `name` or `email` (A–Z).
    #[param(inline)]
    pub sort: Option<UserSort>,
    /// Include erased accounts (default: left out).
    #[serde(default)]
    pub include_erased: bool,
    pub limit: Option<u64>,
    pub cursor: Option<String>,
}

/// `users.id IN (SELECT user_id FROM user_roles WHERE …)`.
pub(super) fn member_of(cond: Condition) -> SimpleExpr {
    Expr::col((users::Entity, users::Column::Id)).in_subquery(
        Query::select().column(user_roles::Column::UserId).from(user_roles::Entity).cond_where(cond).to_owned(),
    )
}

/// Above this many matches a term is "common": the first page is found faster by walking the
/// sort order and testing each row than by collecting every match from the trigram index and
/// sorting them (measured: a surname matching 3% of 1M users).
pub(super) const COMMON_TERM: u64 = 2_000;

/// The search condition. Trigram index on both databases (FTS5 `trigram` on SQLite, `pg_trgm`
/// on PostgreSQL) for selective terms; for common terms, a per-row test the planner applies
/// while walking the sort index. 1–2 characters match an email prefix (a trigram needs three).
pub(super) async fn search_condition<C: ConnectionTrait>(db: &C, raw: &str) -> AppResult<(SimpleExpr, bool)> {
    let q = raw.trim().to_lowercase();
    let email = Expr::col((users::Entity, users::Column::Email));
    if q.chars().count() < 3 {
        let upper = format!("{q}\u{10ffff}");
        return Ok((email.clone().gte(q).and(email.lt(upper)), false));
    }
    let backend = db.get_database_backend();
    let like = pagination::contains_pattern(&q);
    let (probe, indexed) = match backend {
        DbBackend::Postgres => (
            Statement::from_sql_and_values(
                backend,
                "SELECT count(*) AS n FROM (SELECT 1 FROM users WHERE (lower(name) || ' ' || lower(email)) LIKE $1 LIMIT $2) t",
                [like.clone().into(), (COMMON_TERM as i64).into()],
            ),
            trigram_match(like.clone()),
        ),
        _ => {
            let phrase = format!("\"{}\"", q.replace('"', "\"\""));
            (
                Statement::from_sql_and_values(
                    backend,
                    "SELECT count(*) AS n FROM (SELECT 1 FROM users_fts WHERE users_fts MATCH ? LIMIT ?)",
                    [phrase.clone().into(), (COMMON_TERM as i64).into()],
                ),
                Expr::cust_with_values("\"users\".rowid IN (SELECT rowid FROM users_fts WHERE users_fts MATCH ?)", [phrase]),
            )
        }
    };
    let matches: i64 = match db.query_one_raw(probe).await? {
        Some(row) => row.try_get("", "n")?,
        None => 0,
    };
    if (matches as u64) < COMMON_TERM {
        tracing::debug!(term = %q, matches, "search: trigram index");
        return Ok((indexed, false));
    }
    tracing::debug!(term = %q, "search: common term, walking the sort order");
    Ok((walk_condition(backend, raw), true))
}

/// On PostgreSQL, name and e-mail contain `like`, spelled as the `pg_trgm` index's expression
/// so the index serves it.
fn trigram_match(like: String) -> SimpleExpr {
    Expr::cust_with_values("(lower(\"users\".\"name\") || ' ' || lower(\"users\".\"email\")) LIKE $1", [like])
}

/// The search condition for a common term: an expression no index covers, so the planner walks
/// the sort order instead.
fn walk_condition(backend: DbBackend, raw: &str) -> SimpleExpr {
    let like = pagination::contains_pattern(&raw.trim().to_lowercase());
    let (name, email) =
        (Expr::col((users::Entity, users::Column::Name)), Expr::col((users::Entity, users::Column::Email)));
    match backend {
        DbBackend::Postgres => {
            Expr::cust_with_values("(lower(\"users\".\"name\") LIKE $1 OR lower(\"users\".\"email\") LIKE $1)", [like])
        }
        _ => name.like(LikeExpr::new(like.clone()).escape('\\')).or(email.like(LikeExpr::new(like).escape('\\'))),
    }
}

/// How many rows, in sort order, a search tests one by one before asking the trigram index.
pub(super) const WINDOW: u64 = 2_000;

/// The first `want` matches among the next [`WINDOW`] rows of `ordered` (already filtered,
/// cursored and ordered), or `None` when the window holds fewer: then they are not
/// necessarily the page, and the index answers instead.
pub(super) async fn window_search(
    db: &sea_orm::DatabaseConnection,
    ordered: Select<users::Entity>,
    raw: &str,
    sort: &str,
    want: u64,
) -> AppResult<Option<Vec<PageRow>>> {
    let q = raw.trim().to_lowercase();
    let like = pagination::contains_pattern(&q);
    let inner = ordered.clone().limit(WINDOW).into_query();
    let matches = |col: users::Column| {
        Expr::expr(Func::lower(Expr::col((users::Entity, col)))).like(LikeExpr::new(like.clone()).escape('\\'))
    };
    let mut outer = Query::select();
    outer
        .column(sea_orm::sea_query::Asterisk)
        .expr_as(memberships_of_row(db.get_database_backend()), sea_orm::sea_query::Alias::new("memberships"))
        .from_subquery(inner, users::Entity)
        .cond_where(Condition::any().add(matches(users::Column::Name)).add(matches(users::Column::Email)))
        .limit(want);
    // The same order as the window's.
    let keys: [(users::Column, Order); 2] = match sort {
        "name" => [(users::Column::Name, Order::Asc), (users::Column::Id, Order::Asc)],
        "email" => [(users::Column::Email, Order::Asc), (users::Column::Id, Order::Asc)],
        _ => [(users::Column::CreatedAt, Order::Desc), (users::Column::Id, Order::Desc)],
    };
    for (col, order) in keys {
        outer.order_by((users::Entity, col), order);
    }
    let rows = PageRow::find_by_statement(db.get_database_backend().build(&outer)).all(db).await?;
    Ok((rows.len() as u64 >= want).then_some(rows))
}

/// On PostgreSQL, a search for a term few people match (at most [`COMMON_TERM`] in all) in one
/// statement: the trigram index's matches, at most one more than that and counted as they
/// come, joined to the page's own query. A separate count first (the probe) and the page after
/// it scanned the trigram index twice, and that scan is most of what such a search costs (digit
/// trigrams, as in an e-mail address's number, have long posting lists). `Err(true)`: the term
/// is common (walk the sort order); `Err(false)`: the page came back empty, which cannot tell.
async fn rare_search(
    db: &sea_orm::DatabaseConnection,
    page: Select<users::Entity>,
    raw: &str,
    want: u64,
) -> AppResult<Result<Vec<PageRow>, bool>> {
    use sea_orm::sea_query::Alias;
    let like = pagination::contains_pattern(&raw.trim().to_lowercase());
    let mut matched = Query::select();
    matched
        .column((users::Entity, users::Column::Id))
        .from(users::Entity)
        .and_where(trigram_match(like))
        .limit(COMMON_TERM + 1);
    let (found, id) = (Alias::new("found"), Alias::new("id"));
    let mut counted = Query::select();
    counted
        .column((Alias::new("m"), id.clone()))
        .expr_as(Expr::cust("count(*) OVER ()"), found.clone())
        .from_subquery(matched, Alias::new("m"));
    let backend = db.get_database_backend();
    let mut page = page
        .limit(want)
        .column_as(memberships_of_row(backend), "memberships")
        .column_as(Expr::col((Alias::new("hits"), found)), "found")
        .into_query();
    page.join_subquery(
        JoinType::InnerJoin,
        counted,
        Alias::new("hits"),
        Expr::col((Alias::new("hits"), id)).equals((users::Entity, users::Column::Id)),
    );
    let rows = Counted::find_by_statement(backend.build(&page)).all(db).await?;
    Ok(match rows.first().map(|r| r.found) {
        None => Err(false),
        Some(n) if n as u64 > COMMON_TERM => Err(true),
        Some(_) => Ok(rows.into_iter().map(|r| r.row).collect()),
    })
}

/// A page row of [`rare_search`], with how many people the term matched (capped).
struct Counted {
    row: PageRow,
    found: i64,
}

impl FromQueryResult for Counted {
    fn from_query_result(res: &sea_orm::QueryResult, pre: &str) -> Result<Self, sea_orm::DbErr> {
        Ok(Self { row: PageRow::from_query_result(res, pre)?, found: res.try_get(pre, "found")? })
    }
}

/// A directory page's row: the user and, read in the same statement, their memberships with
/// the names a row shows.
#[derive(Debug)]
pub(super) struct PageRow {
    user: users::Model,
    /// A JSON array of `[workspace_id, role_id, workspace name, role name, customer name]`.
    memberships: String,
}

impl FromQueryResult for PageRow {
    fn from_query_result(res: &sea_orm::QueryResult, pre: &str) -> Result<Self, sea_orm::DbErr> {
        Ok(Self { user: users::Model::from_query_result(res, pre)?, memberships: res.try_get(pre, "memberships")? })
    }
}

impl PageRow {
    /// The row's memberships, as the separate memberships query would read them.
    fn memberships(&self) -> AppResult<Vec<MembershipRow>> {
        let raw: Vec<(String, String, String, String, String)> = serde_json::from_str(&self.memberships)
            .map_err(|e| AppError::internal(format!("a directory row's memberships: {e}")))?;
        let id = |s: &str| Uuid::parse_str(s).map_err(|e| AppError::internal(format!("a membership's id: {e}")));
        raw.into_iter()
            .map(|(workspace, role, workspace_name, role_name, customer_name)| {
                Ok(MembershipRow {
                    user_id: self.user.id,
                    workspace_id: id(&workspace)?,
                    role_id: id(&role)?,
                    workspace_name,
                    role_name,
                    customer_name,
                })
            })
            .collect()
    }
}

/// The memberships of the `users` row a select is on, with their workspace, role and customer
/// names, as one JSON text column: the directory page reads its users and their memberships in
/// one statement (each statement on SQLite is a hand-off to the connection's thread and back).
/// SQLite keeps ids as 16-byte blobs, which JSON cannot hold: they go as hex, which
/// `Uuid::parse_str` reads as it reads PostgreSQL's hyphenated form.
fn memberships_of_row(backend: DbBackend) -> SimpleExpr {
    const FROM: &str = "FROM user_roles ur JOIN workspaces w ON w.id = ur.workspace_id \
        JOIN roles r ON r.id = ur.role_id JOIN customers c ON c.id = ur.customer_id \
        WHERE ur.user_id = \"users\".\"id\"";
    Expr::cust(match backend {
        DbBackend::Postgres => format!(
            "(SELECT coalesce(json_agg(json_build_array(ur.workspace_id, ur.role_id, w.name, r.name, c.name)), \
             '[]'::json)::text {FROM})"
        ),
        _ => format!(
            "(SELECT json_group_array(json_array(hex(ur.workspace_id), hex(ur.role_id), w.name, r.name, c.name)) \
             {FROM})"
        ),
    })
}

/// The users in scope that this principal may see, before search, segment and paging.
pub(super) async fn scoped(
    state: &AppState,
    actor: &Actor,
    scope: &Scope,
    workspace: Option<Uuid>,
) -> AppResult<Select<users::Entity>> {
    let mut query = users::Entity::find().filter(scope.condition(users::Column::CustomerId));
    if let Some(ws) = actor.workspaces_with(USERS_VIEW) {
        query = query.filter(
            Condition::any()
                .add(users::Column::HomeWorkspaceId.is_in(ws.clone()))
                .add(member_of(Condition::all().add(user_roles::Column::WorkspaceId.is_in(ws)))),
        );
    }
    if let Some(id) = workspace {
        let ws = crate::access::workspaces::filter(&state.db, actor, Some(scope), id).await?;
        query = query.filter(member_of(
            Condition::all()
                .add(user_roles::Column::CustomerId.eq(ws.customer_id))
                .add(user_roles::Column::WorkspaceId.eq(ws.id)),
        ));
    }
    Ok(query)
}

/// One page of the directory (also used by the benchmark).
pub async fn directory_page(
    state: &AppState,
    actor: &Actor,
    scope: &Scope,
    q: DirectoryQuery,
) -> AppResult<Page<DirectoryUser>> {
    let limit = pagination::limit(q.limit)?;
    let mut query = scoped(state, actor, scope, q.workspace_id).await?;
    if !q.include_erased {
        query = query.filter(users::Column::ErasedAt.is_null());
    }
    if let Some(s) = q.status {
        query = query.filter(users::Column::Status.eq(s.as_str()));
    }
    match q.segment.map(UserSegment::as_str) {
        Some("active") => query = query.filter(users::Column::Status.eq("active")),
        Some("inactive") => query = query.filter(users::Column::Status.eq("inactive")),
        Some("super_admins") => query = query.filter(users::Column::SuperAdmin.eq(true)),
        _ => {}
    }
    if let Some(role) = q.role_id {
        use crate::access::filters::{thing, Named};
        thing(&state.db, actor, Some(scope), "role_id", Named::Role, role).await?;
        let mut cond = Condition::all().add(user_roles::Column::RoleId.eq(role));
        if let Some(ws) = q.workspace_id {
            cond = cond.add(user_roles::Column::WorkspaceId.eq(ws));
        }
        query = query.filter(member_of(cond));
    }
    let search = q.search.as_deref().map(str::trim).filter(|s| !s.is_empty());
    if search.is_some_and(|s| s.chars().count() > 200) {
        return Err(AppError::field("search", "must be at most 200 characters"));
    }
    let sort = q.sort.map_or("created", UserSort::as_str);
    if let Some(raw) = &q.cursor {
        let c = Cursor::decode(raw)?;
        let key = c.key.clone().ok_or_else(pagination::foreign_cursor)?;
        let (id, name, email, created) = (
            Expr::col((users::Entity, users::Column::Id)),
            Expr::col((users::Entity, users::Column::Name)),
            Expr::col((users::Entity, users::Column::Email)),
            Expr::col((users::Entity, users::Column::CreatedAt)),
        );
        query = query.filter(match sort {
            "name" => pagination::after(name, id, key, c.id, false),
            "email" => pagination::after(email, id, key, c.id, false),
            _ => {
                let at =
                    DateTime::parse_from_rfc3339(&key).map_err(|_| pagination::foreign_cursor())?.with_timezone(&Utc);
                pagination::after(created, id, at, c.id, true)
            }
        });
    }
    query = match sort {
        "name" => query.order_by_asc(users::Column::Name).order_by_asc(users::Column::Id),
        "email" => query.order_by_asc(users::Column::Email).order_by_asc(users::Column::Id),
        _ => query.order_by_desc(users::Column::CreatedAt).order_by_desc(users::Column::Id),
    };
    // On PostgreSQL a search first tries the next WINDOW rows in sort order: when they hold a
    // full page of matches, those are exactly the page, and a common term costs a bounded walk
    // instead of a trigram bitmap of every match (~22 ms for 50k matches at 1M users). SQLite's
    // FTS5 probe stops at its LIMIT, so there the window would only add cost (measured: one-person
    // search 314 -> 93 req/s with it).
    let mut window_rows = None;
    let mut walk = false;
    if let Some(search) = search {
        let postgres = search.chars().count() >= 3 && state.db.get_database_backend() == DbBackend::Postgres;
        if postgres {
            window_rows = window_search(&state.db, query.clone(), search, sort, limit + 1).await?;
        }
        let mut common = false;
        if postgres && window_rows.is_none() {
            match rare_search(&state.db, query.clone(), search, limit + 1).await? {
                Ok(rows) => window_rows = Some(rows),
                Err(found_common) => common = found_common,
            }
        }
        if window_rows.is_none() {
            let (condition, is_common) = if common {
                (walk_condition(state.db.get_database_backend(), search), true)
            } else {
                search_condition(&state.db, search).await?
            };
            query = query.filter(condition);
            walk = is_common;
        }
    }
    let backend = state.db.get_database_backend();
    let query = query.limit(limit + 1).column_as(memberships_of_row(backend), "memberships");
    let rows = if let Some(rows) = window_rows {
        rows
    } else if walk && backend == DbBackend::Postgres {
        // PostgreSQL cannot estimate a substring match and would scan the whole table (measured:
        // 500 ms at 1M users); for a common term the sort index, tested row by row, stops after
        // a few thousand rows (5 ms). Steer it there for this one read.
        let txn = crate::store::begin(&state.db).await?;
        txn.execute_unprepared(
            "SET LOCAL enable_seqscan = off; SET LOCAL enable_bitmapscan = off; \
             SET LOCAL max_parallel_workers_per_gather = 0",
        )
        .await?;
        let rows = query.into_model::<PageRow>().all(&txn).await?;
        txn.commit().await?;
        rows
    } else if search.is_none() {
        PageRow::find_by_statement(pagination::literal_limit(query.build(backend))).all(&state.db).await?
    } else {
        query.into_model::<PageRow>().all(&state.db).await?
    };
    let (rows, next_cursor) = pagination::finish(rows, limit, |r| Cursor {
        key: Some(match sort {
            "name" => r.user.name.clone(),
            "email" => r.user.email.clone(),
            _ => r.user.created_at.to_rfc3339(),
        }),
        id: r.user.id,
    });
    let mut memberships = Vec::new();
    for row in &rows {
        memberships.extend(row.memberships()?);
    }
    let items = rows_with(&state.db, rows.into_iter().map(|r| r.user).collect(), memberships).await?;
    Ok(Page { items, next_cursor })
}

/// One membership with the names a row shows.
#[derive(Debug, FromQueryResult)]
pub struct MembershipRow {
    pub user_id: Uuid,
    pub workspace_id: Uuid,
    pub role_id: Uuid,
    pub workspace_name: String,
    pub role_name: String,
    pub customer_name: String,
}

/// Directory rows for `users`: their memberships with workspace, role and customer names in
/// one joined query (a second only for users without memberships).
pub async fn rows_of<C: ConnectionTrait>(conn: &C, users: Vec<users::Model>) -> AppResult<Vec<DirectoryUser>> {
    if users.is_empty() {
        return Ok(Vec::new());
    }
    let ids: Vec<Uuid> = users.iter().map(|u| u.id).collect();
    let memberships = user_roles::Entity::find()
        .select_only()
        .column(user_roles::Column::UserId)
        .column(user_roles::Column::WorkspaceId)
        .column(user_roles::Column::RoleId)
        .column_as(Expr::col((workspaces::Entity, workspaces::Column::Name)), "workspace_name")
        .column_as(Expr::col((roles::Entity, roles::Column::Name)), "role_name")
        .column_as(Expr::col((customers::Entity, customers::Column::Name)), "customer_name")
        .join(
            JoinType::InnerJoin,
            user_roles::Entity::belongs_to(workspaces::Entity)
                .from(user_roles::Column::WorkspaceId)
                .to(workspaces::Column::Id)
                .into(),
        )
        .join(
            JoinType::InnerJoin,
            user_roles::Entity::belongs_to(roles::Entity).from(user_roles::Column::RoleId).to(roles::Column::Id).into(),
        )
        .join(
            JoinType::InnerJoin,
            user_roles::Entity::belongs_to(customers::Entity)
                .from(user_roles::Column::CustomerId)
                .to(customers::Column::Id)
                .into(),
        )
        .filter(user_roles::Column::UserId.is_in(ids))
        .into_model::<MembershipRow>()
        .all(conn)
        .await?;
    rows_with(conn, users, memberships).await
}

/// Directory rows for `users` and their `memberships` (read already).
async fn rows_with<C: ConnectionTrait>(
    conn: &C,
    users: Vec<users::Model>,
    memberships: Vec<MembershipRow>,
) -> AppResult<Vec<DirectoryUser>> {
    let mut ws: HashMap<Uuid, String> =
        memberships.iter().map(|m| (m.workspace_id, m.workspace_name.clone())).collect();
    let mut customer_names: HashMap<Uuid, String> = HashMap::new();
    let member_ids: std::collections::HashSet<Uuid> = memberships.iter().map(|m| m.user_id).collect();
    for m in &memberships {
        if let Some(u) = users.iter().find(|u| u.id == m.user_id) {
            customer_names.entry(u.customer_id).or_insert_with(|| m.customer_name.clone());
        }
    }
    // Users without memberships (erased, or not placed yet) still show their customer and home.
    let missing_customers: Vec<Uuid> =
        users.iter().map(|u| u.customer_id).filter(|c| !customer_names.contains_key(c)).collect();
    if !missing_customers.is_empty() {
        for c in customers::Entity::find().filter(customers::Column::Id.is_in(missing_customers)).all(conn).await? {
            customer_names.insert(c.id, c.name);
        }
    }
    let missing_homes: Vec<Uuid> = users
        .iter()
        .filter(|u| !member_ids.contains(&u.id))
        .filter_map(|u| u.home_workspace_id)
        .filter(|w| !ws.contains_key(w))
        .collect();
    if !missing_homes.is_empty() {
        for w in workspaces::Entity::find().filter(workspaces::Column::Id.is_in(missing_homes)).all(conn).await? {
            ws.insert(w.id, w.name);
        }
    }
    let mut by_user: HashMap<Uuid, Vec<UserMembership>> = HashMap::new();
    for m in memberships {
        by_user.entry(m.user_id).or_default().push(UserMembership {
            workspace: WorkspaceRef { id: m.workspace_id.into(), name: m.workspace_name },
            role_id: m.role_id.into(),
            role_name: m.role_name,
        });
    }
    Ok(users
        .into_iter()
        .map(|u| {
            let mut workspaces = by_user.remove(&u.id).unwrap_or_default();
            // The home membership first, then by workspace name.
            workspaces.sort_by(|a, b| {
                let home = |m: &UserMembership| Some(m.workspace.id.0) != u.home_workspace_id;
                (home(a), &a.workspace.name).cmp(&(home(b), &b.workspace.name))
            });
            let home_role =
                workspaces.iter().find(|m| Some(m.workspace.id.0) == u.home_workspace_id).map(|m| m.role_name.clone());
            DirectoryUser {
                id: u.id.into(),
                customer_id: u.customer_id.into(),
                customer_name: customer_names.get(&u.customer_id).cloned().unwrap_or_default(),
                email: u.email,
                name: u.name,
                locale: u.locale,
                status: u.status,
                super_admin: u.super_admin,
                totp_enabled: u.totp_enabled,
                erased: u.erased_at.is_some(),
                home_workspace: u
                    .home_workspace_id
                    .map(|id| WorkspaceRef { id: id.into(), name: ws.get(&id).cloned().unwrap_or_default() }),
                home_role,
                workspaces,
                last_login_at: u.last_login_at,
                created_at: u.created_at,
            }
        })
        .collect())
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct MetricsQuery {
    /// Only members of this workspace (the scope rail).
    pub workspace_id: Option<Uuid>,
}

/// The directory row of one user.
pub async fn one_row<C: ConnectionTrait>(conn: &C, user: users::Model) -> AppResult<DirectoryUser> {
    rows_of(conn, vec![user]).await?.pop().ok_or_else(|| AppError::internal("row vanished"))
}

/// The users directory for the current scope.
pub async fn list_users(
    state: &AppState,
    actor: &Actor,
    scope: &Scope,
    q: DirectoryQuery,
) -> AppResult<Page<DirectoryUser>> {
    directory_page(state, actor, scope, q).await
}

/// The metrics strip: total, active, super admins and inactive users in the scope (erased
/// accounts left out).
pub async fn user_metrics(state: &AppState, actor: &Actor, scope: &Scope, q: MetricsQuery) -> AppResult<UserMetrics> {
    let base = scoped(state, actor, scope, q.workspace_id).await?.filter(users::Column::ErasedAt.is_null());
    let total = base.clone().count(&state.db).await?;
    let active = base.clone().filter(users::Column::Status.eq("active")).count(&state.db).await?;
    let super_admins = base.filter(users::Column::SuperAdmin.eq(true)).count(&state.db).await?;
    Ok(UserMetrics { total, active, super_admins, inactive: total.saturating_sub(active) })
}

/// One user, as the directory shows them.
pub async fn get_user(state: &AppState, actor: &Actor, id: Uuid) -> AppResult<DirectoryUser> {
    let user = visible_user(&state.db, actor, id, USERS_VIEW).await?;
    one_row(&state.db, user).await
}
