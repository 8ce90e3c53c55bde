//! Turns an explorer request into SQL using only the registry's names: every column a filter,
//! sort or column list names is looked up in [`super::registry`] and replaced by the
//! registry's own `&'static str`; values are bound parameters parsed by the column's kind.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Alias, Cond, Expr, ExprTrait, Func, LikeExpr, SimpleExpr};
use sea_orm::{QueryResult, Value};
use serde_json::{Map, Value as Json};
use steward_shared::data::{ColumnKind, Filter, FilterOp, Selection};
use steward_shared::rules;
use uuid::Uuid;

use super::registry::{Col, Table};
use crate::http::error::{AppError, AppResult};
use crate::http::pagination::contains_pattern;

/// A column of `table` by the name a request gave, or a 422 naming where it was given.
pub fn column(table: &Table, name: &str, field: &str) -> AppResult<&'static Col> {
    table
        .column(name)
        .ok_or_else(|| AppError::field(field, format!("`{}` has no column `{}`", table.name, truncate(name))))
}

fn truncate(s: &str) -> String {
    s.chars().take(64).collect()
}

pub fn col(c: &Col) -> Expr {
    Expr::col(Alias::new(c.name))
}

/// A JSON value as the column's SQL value.
pub fn value(c: &Col, v: &Json, field: &str) -> AppResult<Value> {
    let bad = |what: &str| AppError::field(field, format!("`{}` takes {what}", c.name));
    Ok(match c.kind {
        ColumnKind::Uuid => {
            let s = v.as_str().ok_or_else(|| bad("an id"))?;
            Value::from(Uuid::parse_str(s).map_err(|_| bad("an id"))?)
        }
        ColumnKind::Text => Value::from(v.as_str().ok_or_else(|| bad("text"))?.to_owned()),
        ColumnKind::Enum => {
            let s = v.as_str().ok_or_else(|| bad("a value"))?;
            if !c.values.contains(&s) {
                return Err(AppError::field(field, format!("`{}` is one of: {}", c.name, c.values.join(", "))));
            }
            Value::from(s.to_owned())
        }
        ColumnKind::Integer => Value::from(v.as_i64().ok_or_else(|| bad("a whole number"))?),
        ColumnKind::Timestamp => {
            let s = v.as_str().ok_or_else(|| bad("an RFC 3339 time"))?;
            Value::from(DateTime::parse_from_rfc3339(s).map_err(|_| bad("an RFC 3339 time"))?.with_timezone(&Utc))
        }
        ColumnKind::Json => return Err(bad("no filter (it holds JSON)")),
    })
}

/// One filter as a condition.
pub fn condition(table: &Table, f: &Filter, at: usize) -> AppResult<SimpleExpr> {
    let c = column(table, &f.column, &format!("filters[{at}].column"))?;
    if !steward_shared::data::FilterOp::for_kind(c.kind, c.nullable).contains(&f.op) {
        return Err(AppError::field(
            format!("filters[{at}].op"),
            format!("`{}` does not apply to `{}`", f.op.id(), c.name),
        ));
    }
    let field = format!("filters[{at}].value");
    if f.op.unary() {
        return Ok(if f.op == FilterOp::IsNull { col(c).is_null() } else { col(c).is_not_null() });
    }
    let v = f.value.as_ref().ok_or_else(|| AppError::field(&field, "is required for this operator"))?;
    Ok(match f.op {
        FilterOp::In => {
            let items = v.as_array().ok_or_else(|| AppError::field(&field, "takes a list for `in`"))?;
            if items.is_empty() || items.len() > 100 {
                return Err(AppError::field(&field, "takes 1 to 100 values"));
            }
            let values = items.iter().map(|i| value(c, i, &field)).collect::<AppResult<Vec<_>>>()?;
            col(c).is_in(values)
        }
        FilterOp::Contains | FilterOp::StartsWith => {
            let text = v.as_str().ok_or_else(|| AppError::field(&field, "takes text"))?.to_lowercase();
            let pattern = match f.op {
                FilterOp::Contains => contains_pattern(&text),
                _ => format!("{}%", &contains_pattern(&text)[1..]),
            };
            Expr::expr(Func::lower(col(c))).like(LikeExpr::new(pattern).escape('\\'))
        }
        op => {
            let v = value(c, v, &field)?;
            match op {
                FilterOp::Eq => col(c).eq(v),
                FilterOp::Ne => col(c).ne(v),
                FilterOp::Lt => col(c).lt(v),
                FilterOp::Lte => col(c).lte(v),
                FilterOp::Gt => col(c).gt(v),
                _ => col(c).gte(v),
            }
        }
    })
}

/// The filters and the search, as one condition.
pub fn selection(table: &Table, s: &Selection) -> AppResult<Cond> {
    if let Some(why) = rules::FILTERS.refuse(s.filters.len()) {
        return Err(AppError::field("filters", why));
    }
    if let Some(why) = s.search.as_deref().and_then(|q| rules::SEARCH.refuse(q)) {
        return Err(AppError::field("search", why));
    }
    let mut cond = Cond::all();
    for (i, f) in s.filters.iter().enumerate() {
        cond = cond.add(condition(table, f, i)?);
    }
    if let Some(q) = s.search.as_deref().map(str::trim).filter(|q| !q.is_empty()) {
        let pattern = contains_pattern(&q.to_lowercase());
        let mut any = Cond::any();
        for c in table.columns.iter().filter(|c| c.searchable) {
            // `external_key` is stored lower-cased (and trigram-indexed on PostgreSQL).
            let expr = if c.name == "external_key" { col(c) } else { Expr::expr(Func::lower(col(c))) };
            any = any.add(expr.like(LikeExpr::new(pattern.clone()).escape('\\')));
        }
        cond = cond.add(any);
    }
    Ok(cond)
}

/// A column's value in a result row, as JSON.
pub fn read(row: &QueryResult, c: &Col) -> AppResult<Json> {
    let n = c.name;
    let out = match c.kind {
        ColumnKind::Uuid => row.try_get::<Option<Uuid>>("", n)?.map(|u| Json::String(u.to_string())),
        ColumnKind::Text | ColumnKind::Enum => row.try_get::<Option<String>>("", n)?.map(Json::String),
        ColumnKind::Integer => match row.try_get::<Option<i64>>("", n) {
            Ok(v) => v.map(Json::from),
            Err(_) => row.try_get::<Option<i32>>("", n)?.map(Json::from),
        },
        ColumnKind::Timestamp => row
            .try_get::<Option<DateTime<Utc>>>("", n)?
            .map(|t| Json::String(t.to_rfc3339_opts(chrono::SecondsFormat::Micros, true))),
        ColumnKind::Json => row.try_get::<Option<Json>>("", n)?,
    };
    Ok(out.unwrap_or(Json::Null))
}

/// A whole row, as column → value.
pub fn read_row(row: &QueryResult, cols: &[&'static Col]) -> AppResult<Map<String, Json>> {
    let mut out = Map::new();
    for c in cols {
        out.insert(c.name.into(), read(row, c)?);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::registry::table;
    use serde_json::json;

    fn f(column: &str, op: FilterOp, value: Json) -> Filter {
        Filter { column: column.into(), op, value: Some(value) }
    }

    #[test]
    fn names_outside_the_registry_are_field_errors() {
        let records = table("records").unwrap();
        for name in ["api_key_hash", "id; DROP TABLE users", "\"payload\"", "password_hash", "records.id"] {
            let err = condition(records, &f(name, FilterOp::Eq, json!("x")), 0).unwrap_err();
            assert!(matches!(err, AppError::Validation(ref e) if e[0].field == "filters[0].column"), "{name}");
        }
        let err = condition(records, &f("payload", FilterOp::Eq, json!("x")), 2).unwrap_err();
        assert!(matches!(err, AppError::Validation(ref e) if e[0].field == "filters[2].op"));
        let flows = table("flows").unwrap();
        let err = condition(flows, &f("status", FilterOp::Eq, json!("deleted")), 1).unwrap_err();
        assert!(matches!(err, AppError::Validation(ref e) if e[0].field == "filters[1].value"));
        let err = condition(flows, &f("created_at", FilterOp::Gt, json!("yesterday")), 0).unwrap_err();
        assert!(matches!(err, AppError::Validation(ref e) if e[0].field == "filters[0].value"));
        assert!(condition(flows, &f("created_at", FilterOp::Gt, json!("2026-01-01T00:00:00Z")), 0).is_ok());
    }
}
