//! Principals resolved moments ago, reused for a short while (`STEWARD_PRINCIPAL_CACHE_MS`).
//!
//! Every request resolves its credential to a principal (`identity::principal`) with one query;
//! at thousands of requests a second that query (and, on SQLite, the hand-off to the
//! connection's thread and back) is most of what a cheap request costs. An entry is reused only
//! while all of these hold:
//! - it is younger than the cache's life (250 ms by default): what another replica or the CLI
//!   changes is seen within that long, well inside the second the design allows;
//! - no write request has been answered on this replica since it was read (the generation,
//!   which `api::gate` moves on): whatever this replica's API changes — a revoked session, a
//!   lost role, a deactivated user — is seen by the very next request;
//! - its credential has not expired (the session, the impersonation, the API token), checked
//!   against the clock on every use.
//!
//! A refused credential is never kept: each attempt with it reads the database again. The
//! principal is held without its type (`AppState` sits below the access layer that defines
//! it); `identity::principal` is the one module that keeps and reads them.

use chrono::{DateTime, Utc};
use std::any::Any;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use uuid::Uuid;

/// What a principal was resolved from.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Credential {
    /// A signed-in session, by its id (every access token of the session names it).
    Session(Uuid),
    /// An API token, by its hash.
    Token(String),
}

struct Resolved {
    principal: Box<dyn Any + Send + Sync>,
    /// The write generation when the database was read (before the read began).
    generation: u64,
    read_at: Instant,
    /// When the credential stops being valid by itself.
    expires_at: Option<DateTime<Utc>>,
}

/// This replica's recently resolved principals.
pub struct Principals {
    entries: Option<moka::sync::Cache<Credential, Arc<Resolved>>>,
    life: Duration,
    generation: AtomicU64,
    pub hits: AtomicU64,
    pub misses: AtomicU64,
}

impl Principals {
    /// A cache whose entries live `life` (zero: no cache; every request reads the database).
    pub fn new(life: Duration) -> Self {
        let entries =
            (!life.is_zero()).then(|| moka::sync::Cache::builder().max_capacity(10_000).time_to_live(life).build());
        Self { entries, life, generation: AtomicU64::new(0), hits: AtomicU64::new(0), misses: AtomicU64::new(0) }
    }

    /// The generation to record with a principal about to be read from the database.
    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::SeqCst)
    }

    /// Something may have changed (a write request was answered): every entry read before now
    /// is stale.
    pub fn changed(&self) {
        self.generation.fetch_add(1, Ordering::SeqCst);
    }

    /// The principal of `credential` if one was resolved recently and is still current.
    pub fn get<P: Clone + 'static>(&self, credential: &Credential, now: DateTime<Utc>) -> Option<P> {
        let entries = self.entries.as_ref()?;
        let found = entries
            .get(credential)
            .filter(|r| {
                r.generation == self.generation()
                    && r.read_at.elapsed() < self.life
                    && r.expires_at.is_none_or(|at| at > now)
            })
            .and_then(|r| r.principal.downcast_ref::<P>().cloned());
        let counter = if found.is_some() { &self.hits } else { &self.misses };
        counter.fetch_add(1, Ordering::Relaxed);
        found
    }

    /// Keeps `principal`, read from the database at `generation`, until its credential expires
    /// at `expires_at` (or the cache's life ends, or a write is answered).
    pub fn keep<P: Clone + Send + Sync + 'static>(
        &self,
        credential: Credential,
        generation: u64,
        expires_at: Option<DateTime<Utc>>,
        principal: &P,
    ) {
        let Some(entries) = &self.entries else { return };
        if generation != self.generation() {
            return;
        }
        let principal = Box::new(principal.clone());
        entries.insert(credential, Arc::new(Resolved { principal, generation, read_at: Instant::now(), expires_at }));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Clone, PartialEq)]
    struct Who(u32);

    #[test]
    fn an_entry_is_reused_until_a_write_its_expiry_or_its_life_ends() {
        let now = Utc::now();
        let key = Credential::Session(Uuid::now_v7());
        let cache = Principals::new(Duration::from_millis(200));
        let a = Who(7);
        assert_eq!(cache.get::<Who>(&key, now), None);
        cache.keep(key.clone(), cache.generation(), Some(now + chrono::Duration::minutes(5)), &a);
        assert_eq!(cache.get::<Who>(&key, now), Some(Who(7)));
        // Asked for as another type: nothing.
        assert_eq!(cache.get::<String>(&key, now), None);
        // A write answered since: gone.
        cache.changed();
        assert_eq!(cache.get::<Who>(&key, now), None);
        // Read before a write but kept after it: never kept.
        let before = cache.generation();
        cache.changed();
        cache.keep(key.clone(), before, None, &a);
        assert_eq!(cache.get::<Who>(&key, now), None);
        // The credential's own expiry is checked on every use.
        cache.keep(key.clone(), cache.generation(), Some(now + chrono::Duration::seconds(1)), &a);
        assert_eq!(cache.get::<Who>(&key, now), Some(Who(7)));
        assert_eq!(cache.get::<Who>(&key, now + chrono::Duration::seconds(2)), None);
        // Its life ends.
        std::thread::sleep(Duration::from_millis(250));
        assert_eq!(cache.get::<Who>(&key, now), None);
        // Another credential is another entry; a cache of life zero keeps nothing.
        assert_eq!(cache.get::<Who>(&Credential::Token("x".into()), now), None);
        let off = Principals::new(Duration::ZERO);
        off.keep(key.clone(), off.generation(), None, &a);
        assert_eq!(off.get::<Who>(&key, now), None);
        assert_eq!(cache.hits.load(Ordering::Relaxed), 2);
    }
}
