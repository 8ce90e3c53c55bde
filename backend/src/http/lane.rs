//! The sign-in lane: the routes that check or set a password wait in a line of their own, in
//! front of their handlers, so a flood of wrong passwords queues there instead of sharing the
//! cores with the rest of the API.
//!
//! At most `concurrency` of them run at once (by default as many as there are hashing slots:
//! a sign-in spends most of its time on one); up to `queue` more wait, for at most `wait`;
//! past that a request is answered 503 `busy` with `Retry-After` at once, before its body is
//! read. A waiting request holds a connection and a small future, not a core.

use std::time::Duration;

use tokio::sync::{Semaphore, SemaphorePermit};

use crate::http::error::AppError;

/// The routes in the lane (`POST` only): sign-in, setting a password from a reset link or an
/// invitation, and the first launch's setup.
pub const PATHS: &[&str] =
    &["/api/auth/login", "/api/auth/password-reset", "/api/auth/accept-invitation", "/api/setup"];

pub struct Lane {
    running: Semaphore,
    /// `concurrency + queue` places: a request that finds none is refused at once.
    admission: Semaphore,
    wait: Duration,
}

/// A place in the lane, held until the answer is made.
pub struct Admitted<'a> {
    _place: SemaphorePermit<'a>,
    _running: SemaphorePermit<'a>,
}

impl Lane {
    pub fn new(concurrency: usize, queue: usize, wait: Duration) -> Self {
        let concurrency = concurrency.max(1);
        Self { running: Semaphore::new(concurrency), admission: Semaphore::new(concurrency + queue), wait }
    }

    /// Waits for a turn: `busy` when the line is full or the turn does not come within `wait`.
    pub async fn admit(&self) -> Result<Admitted<'_>, AppError> {
        let place = self.admission.try_acquire().map_err(|_| busy())?;
        let running = tokio::time::timeout(self.wait, self.running.acquire())
            .await
            .map_err(|_| busy())?
            .map_err(AppError::internal)?;
        Ok(Admitted { _place: place, _running: running })
    }
}

fn busy() -> AppError {
    AppError::Busy { detail: "Too many sign-ins are waiting; try again in a moment.".into(), retry_after_secs: 1 }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn one_runs_one_waits_the_next_is_refused_at_once() {
        let lane = Lane::new(1, 1, Duration::from_secs(5));
        let first = lane.admit().await.unwrap();
        let second = lane.admit();
        tokio::pin!(second);
        // The second waits for the first.
        assert!(tokio::time::timeout(Duration::from_millis(50), &mut second).await.is_err());
        // The line is full: the third is refused without waiting.
        let started = std::time::Instant::now();
        assert!(matches!(lane.admit().await, Err(AppError::Busy { .. })));
        assert!(started.elapsed() < Duration::from_millis(50));
        drop(first);
        let _second = second.await.unwrap();
    }

    #[tokio::test]
    async fn a_turn_that_does_not_come_in_time_is_busy_and_frees_its_place() {
        let lane = Lane::new(1, 1, Duration::from_millis(30));
        let first = lane.admit().await.unwrap();
        assert!(matches!(lane.admit().await, Err(AppError::Busy { .. })));
        drop(first);
        let _again = lane.admit().await.unwrap();
        assert!(lane.admit().await.is_err(), "the place of the timed-out one was given back, no more");
    }
}
