//! The list convention: `limit` (1–200, default 50) and an opaque `cursor`, keyset-based.
//! Cursors carry the sort key of the last row; the next page is the rows after it in a
//! row-value comparison `(key, id) < (?, ?)`. No OFFSET anywhere.

use base64::Engine;
use sea_orm::sea_query::{Expr, ExprTrait, SimpleExpr};
use sea_orm::{DbBackend, Statement, Value};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::http::error::AppError;

pub const DEFAULT_LIMIT: u64 = 50;

/// A query parameter with a closed set of values: an `enum` in the spec (from this one list),
/// a 422 naming the parameter for any other value (the query extractor's serde error), and its
/// wire name back from `as_str`.
macro_rules! closed_set {
    ($(#[$meta:meta])* $vis:vis enum $name:ident { $($variant:ident = $wire:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize, utoipa::ToSchema)]
        // utoipa does not read a `rename` whose value is a macro fragment, so the wire names
        // are the variants in snake_case (`SuperAdmins` is `super_admins`); `$wire` must agree,
        // which the fuzzer's negative phase would catch.
        #[serde(rename_all = "snake_case")]
        $vis enum $name {
            $($variant),+
        }
        impl $name {
            /// Every value on the wire: what a filter takes and what an answer holds.
            #[allow(dead_code)]
            pub const VALUES: &'static [&'static str] = &[$($wire),+];

            pub fn as_str(self) -> &'static str {
                match self {
                    $(Self::$variant => $wire),+
                }
            }
        }
    };
}
pub(crate) use closed_set;

pub const MAX_LIMIT: u64 = steward_shared::rules::PAGE_ROWS.max as u64;

/// `limit` and `cursor` alone, for lists with nothing else to filter by.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageQuery {
    /// Rows per page, 1–200 (default 50).
    pub limit: Option<u64>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

/// The position after the last row of a page.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Cursor {
    /// The sort key of the last row, when sorting by something other than the id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
    pub id: Uuid,
}

impl Cursor {
    pub fn encode(&self) -> String {
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(serde_json::to_vec(self).unwrap_or_default())
    }

    pub fn decode(raw: &str) -> Result<Self, AppError> {
        base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(raw)
            .ok()
            .and_then(|bytes| serde_json::from_slice(&bytes).ok())
            .ok_or_else(foreign_cursor)
    }
}

/// The 404 for a `cursor` that is well formed but was not given out by the list it is sent to.
pub fn foreign_cursor() -> AppError {
    AppError::unknown("cursor", "is not a cursor this list gave out")
}

/// Checks `limit`; returns it with one extra row to learn whether a next page exists.
pub fn limit(raw: Option<u64>) -> Result<u64, AppError> {
    match raw.unwrap_or(DEFAULT_LIMIT) {
        n @ 1..=MAX_LIMIT => Ok(n),
        _ => Err(AppError::field("limit", format!("must be between 1 and {MAX_LIMIT}"))),
    }
}

/// `(key_col, id_col) <op> (key, id)`; `op` is `<` for descending order, `>` for ascending.
pub fn after(key_col: SimpleExpr, id_col: SimpleExpr, key: impl Into<Value>, id: Uuid, descending: bool) -> SimpleExpr {
    let left = Expr::tuple([key_col, id_col]);
    let right = Expr::tuple([Expr::val(key.into()), Expr::val(id)]);
    if descending {
        left.lt(right)
    } else {
        left.gt(right)
    }
}

/// A `LIKE` pattern matching `text` anywhere, its `\`, `%` and `_` escaped with `\`.
pub fn contains_pattern(text: &str) -> String {
    format!("%{}%", text.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_"))
}

/// Splits the extra row off: the page's rows, and the cursor of the last one if more follow.
pub fn finish<T>(mut rows: Vec<T>, limit: u64, cursor_of: impl Fn(&T) -> Cursor) -> (Vec<T>, Option<String>) {
    let more = rows.len() as u64 > limit;
    rows.truncate(limit as usize);
    let next = if more { rows.last().map(|r| cursor_of(r).encode()) } else { None };
    (rows, next)
}

/// A page's statement for PostgreSQL with its trailing `LIMIT $n` written as a number.
///
/// sqlx prepares every statement, and PostgreSQL plans a prepared statement for its bound
/// values five times, then keeps one generic plan if that costs about the same. A generic plan
/// cannot know a `LIMIT $n`: it is costed for a tenth of the table (2.6 million against 1,300
/// for the users page at a million users), so PostgreSQL never keeps it and plans the statement
/// again on every execution — measured as a third of PostgreSQL's CPU on the users page. With
/// the number in the text the generic plan is the walk the custom plans chose, and it is kept.
///
/// Only for statements whose other parameters do not change the plan (no search pattern: a
/// generic plan cannot tell a rare term from a common one). Any other statement, or one on
/// SQLite (built with QPSG: it never re-plans for bound values), comes back unchanged.
pub fn literal_limit(mut stmt: Statement) -> Statement {
    if stmt.db_backend != DbBackend::Postgres {
        return stmt;
    }
    let Some(values) = stmt.values.as_mut() else { return stmt };
    let tail = format!(" LIMIT ${}", values.0.len());
    let (Some(Value::BigUnsigned(Some(limit))), true) = (values.0.last(), stmt.sql.ends_with(&tail)) else {
        return stmt;
    };
    let limit = *limit;
    values.0.pop();
    stmt.sql.truncate(stmt.sql.len() - tail.len());
    stmt.sql.push_str(&format!(" LIMIT {limit}"));
    stmt
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_garbage_names_no_page() {
        let c = Cursor { key: Some("Acme".into()), id: Uuid::now_v7() };
        assert_eq!(Cursor::decode(&c.encode()).unwrap(), c);
        assert!(
            matches!(Cursor::decode("not-a-cursor"), Err(AppError::Unknown { ref field, .. }) if field == "cursor")
        );
        assert!(matches!(limit(Some(0)), Err(AppError::Validation(_))));
        assert!(matches!(limit(Some(201)), Err(AppError::Validation(_))));
        assert_eq!(limit(None).unwrap(), 50);
    }

    #[test]
    fn finish_keeps_limit_rows_and_points_after_the_last() {
        let ids: Vec<Uuid> = (0..3).map(|_| Uuid::now_v7()).collect();
        let (rows, next) = finish(ids.clone(), 2, |id| Cursor { key: None, id: *id });
        assert_eq!(rows.len(), 2);
        assert_eq!(Cursor::decode(&next.unwrap()).unwrap().id, ids[1]);
        let (_, none) = finish(ids, 3, |id| Cursor { key: None, id: *id });
        assert!(none.is_none());
    }

    #[test]
    fn a_page_limit_is_written_as_a_number_on_postgres_only() {
        use sea_orm::sea_query::{Alias, Query};
        let mut select = Query::select();
        select
            .column(Alias::new("id"))
            .from(Alias::new("users"))
            .and_where(Expr::col(Alias::new("status")).eq("active"))
            .limit(51);
        let built = DbBackend::Postgres.build(&select);
        assert!(built.sql.ends_with("LIMIT $2"), "{}", built.sql);
        let literal = literal_limit(built);
        assert!(literal.sql.ends_with(" LIMIT 51"), "{}", literal.sql);
        assert_eq!(literal.values.unwrap().0, vec![Value::from("active")]);
        let sqlite = literal_limit(DbBackend::Sqlite.build(&select));
        assert!(sqlite.sql.ends_with("LIMIT ?"), "{}", sqlite.sql);
        assert_eq!(sqlite.values.unwrap().0.len(), 2);
        // A statement that does not end in its own LIMIT parameter is left as it is.
        let mut offset = select.clone();
        offset.offset(10);
        let unchanged = literal_limit(DbBackend::Postgres.build(&offset));
        assert_eq!(unchanged.values.unwrap().0.len(), 3);
    }
}
