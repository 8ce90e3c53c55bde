//! Brute-force throttling of sign-in and TOTP attempts, per account and per IP, in the
//! database (so every replica sees the same counts).
//!
//! Each key counts failures in a 15-minute window. Past its limit the key is locked for a
//! time that doubles with every further failure (1 minute up to 1 hour); while locked every
//! attempt is answered 429 with `Retry-After`, before the password is even checked.

use chrono::{DateTime, Duration, Utc};
use sea_orm::sea_query::{Expr, OnConflict};
use sea_orm::{ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};

use crate::http::error::{AppError, AppResult};
use crate::store::entities::auth_throttle;

const WINDOW_MINUTES: i64 = 15;

/// What is being counted, and how many failures it may have in a window.
#[derive(Debug, Clone)]
pub struct Key {
    pub key: String,
    pub limit: i32,
}

impl Key {
    /// Failed passwords for one account: 5 per window.
    pub fn account(email: &str) -> Self {
        Self { key: format!("account:{}", email.to_lowercase()), limit: 5 }
    }

    /// Failed sign-ins from one address, whatever the account: 20 per window.
    pub fn ip(ip: &str) -> Self {
        Self { key: format!("ip:{ip}"), limit: 20 }
    }

    /// Wrong TOTP or recovery codes for one user: 5 per window.
    pub fn totp(user: uuid::Uuid) -> Self {
        Self { key: format!("totp:{user}"), limit: 5 }
    }
}

/// The lock time after `failures` (past the limit): 1 min, doubling, at most 1 hour.
fn lock_for(failures: i32, limit: i32) -> Duration {
    let over = (failures - limit).clamp(0, 6) as u32;
    Duration::minutes(2_i64.pow(over).min(60))
}

/// Refuses (429) while any of `keys` is locked.
pub async fn check<C: ConnectionTrait>(conn: &C, keys: &[Key]) -> AppResult<()> {
    let now = Utc::now();
    let ids: Vec<String> = keys.iter().map(|k| k.key.clone()).collect();
    let rows = auth_throttle::Entity::find().filter(auth_throttle::Column::Key.is_in(ids)).all(conn).await?;
    let until = rows.iter().filter_map(|r| r.locked_until).filter(|t| *t > now).max();
    match until {
        Some(until) => Err(too_many(until, now)),
        None => Ok(()),
    }
}

fn too_many(until: DateTime<Utc>, now: DateTime<Utc>) -> AppError {
    let secs = (until - now).num_seconds().max(1) as u64;
    AppError::TooManyAttempts {
        detail: format!("Too many failed attempts; try again in {secs} seconds."),
        retry_after_secs: secs,
    }
}

/// Counts a failure against `key`; returns when it is locked until, if this failure locked it.
pub async fn fail<C: ConnectionTrait>(conn: &C, key: &Key) -> AppResult<Option<DateTime<Utc>>> {
    let now = Utc::now();
    let current = auth_throttle::Entity::find_by_id(key.key.clone()).one(conn).await?;
    let (failures, window) = match &current {
        Some(r) if now - r.window_started_at < Duration::minutes(WINDOW_MINUTES) || r.locked_until.is_some() => {
            (r.failures + 1, r.window_started_at)
        }
        _ => (1, now),
    };
    let locked_until = (failures >= key.limit).then(|| now + lock_for(failures, key.limit));
    let row = auth_throttle::ActiveModel {
        key: Set(key.key.clone()),
        failures: Set(failures),
        window_started_at: Set(window),
        locked_until: Set(locked_until),
    };
    auth_throttle::Entity::insert(row)
        .on_conflict(
            OnConflict::column(auth_throttle::Column::Key)
                .value(auth_throttle::Column::Failures, Expr::val(failures))
                .value(auth_throttle::Column::WindowStartedAt, Expr::val(window))
                .value(auth_throttle::Column::LockedUntil, Expr::val(locked_until))
                .to_owned(),
        )
        .exec(conn)
        .await?;
    Ok(locked_until)
}

/// A success clears the key's failures.
pub async fn clear<C: ConnectionTrait>(conn: &C, key: &Key) -> AppResult<()> {
    auth_throttle::Entity::delete_by_id(key.key.clone()).exec(conn).await?;
    Ok(())
}

/// The 429 for a key that `fail` just locked.
pub fn locked(until: DateTime<Utc>) -> AppError {
    too_many(until, Utc::now())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lock_time_doubles_and_caps_at_an_hour() {
        assert_eq!(lock_for(5, 5), Duration::minutes(1));
        assert_eq!(lock_for(6, 5), Duration::minutes(2));
        assert_eq!(lock_for(8, 5), Duration::minutes(8));
        assert_eq!(lock_for(50, 5), Duration::minutes(60));
    }
}
