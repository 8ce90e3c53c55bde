//! The one shared state every handler receives.

use sea_orm::DatabaseConnection;
use std::sync::atomic::AtomicU64;
use std::sync::Arc;
use std::time::Duration;
use steward_shared::api::Kpis;
use tokio::sync::Semaphore;

use crate::config::Config;
use crate::secrets::{AuditKeys, JwtKeys};
use crate::store::logs::LogSink;
use crate::telemetry::Telemetry;

/// The handle every handler receives (axum clones it once per extraction): one reference count,
/// where cloning the fields themselves was a dozen (measured at 2.6% of `/api/me`'s samples).
#[derive(Clone)]
pub struct AppState(Arc<AppStateInner>);

impl std::ops::Deref for AppState {
    type Target = AppStateInner;

    fn deref(&self) -> &AppStateInner {
        &self.0
    }
}

impl From<AppStateInner> for AppState {
    fn from(inner: AppStateInner) -> Self {
        Self(Arc::new(inner))
    }
}

#[derive(Clone)]
pub struct AppStateInner {
    pub db: DatabaseConnection,
    pub config: Arc<Config>,
    pub jwt: Arc<JwtKeys>,
    /// The audit chain's keyring (kept outside the database).
    pub audit_keys: Arc<AuditKeys>,
    /// Bounds concurrent argon2 work: each hash takes ~19 MiB and a core.
    pub hashing: Arc<Semaphore>,
    /// The threads that compute argon2 hashes (as many as `hashing` has permits).
    pub hash_pool: Arc<HashPool>,
    /// Admission to `hashing`: its slots plus the queue's; a request that finds none is refused.
    pub hashing_admission: Arc<Semaphore>,
    /// The line the password routes wait in (`http::lane`).
    pub sign_in_lane: Arc<crate::http::lane::Lane>,
    /// Dashboard KPIs, per scope and cache epoch.
    pub kpis: KpiCache,
    /// Principals resolved moments ago (`http::principals`); the gate marks every
    /// answered write so none outlives a change made here.
    pub principals: Arc<crate::http::principals::Principals>,
    /// The settings changed at run time (`identity::runtime`, the 2FA policy among them), read
    /// at most once a second per replica: the policy is checked on every admin request, and a
    /// change is in effect on every replica within a second.
    pub runtime_settings: moka::future::Cache<(), steward_shared::api::RuntimeSettings>,
    /// Refusals that are audited at most once a minute per key, with a count of the rest: a
    /// sign-in refused while locked (per account and address, see `identity::login`), a read
    /// of another tenant's thing by id (per principal and operation, see `api::gate`). A flood
    /// costs one chained audit write a minute per key, not one per request.
    pub audited_once_a_minute: moka::future::Cache<String, Arc<std::sync::atomic::AtomicU64>>,
    /// The platform, authentication and system logs' sink (written by a background task).
    pub logs: LogSink,
    /// The route table by operation, set once when the router is built (the gate enforces it;
    /// `/api/me` reports the console pages by it).
    pub operations: Arc<std::sync::OnceLock<Operations>>,
    /// What this replica measures of itself.
    pub telemetry: Telemetry,
    /// The compiled JSON Schemas of the entity types (checked by `data::records`).
    pub models: ModelCache,
    /// Rows written to the explorer's tables, from the database's change feed (started by
    /// `data::feed` when a first stream opens).
    pub changes: ChangeFeed,
    /// Set when this replica has been told to stop: `/api/health` answers 503 so a balancer
    /// takes it out of rotation while it still serves what reaches it (see `main::shutdown`).
    pub draining: Arc<std::sync::atomic::AtomicBool>,
}

/// Entity type → its compiled schema (`None`: no such type).
pub type ModelCache = moka::future::Cache<String, Arc<Option<jsonschema::Validator>>>;

/// This replica's fan-out of the database's change feed.
#[derive(Clone)]
pub struct ChangeFeed {
    pub tx: tokio::sync::broadcast::Sender<steward_shared::data::DataChange>,
    /// Set once the replica's reader listens (or polls from a known position).
    pub started: Arc<tokio::sync::OnceCell<()>>,
}

impl Default for ChangeFeed {
    fn default() -> Self {
        Self { tx: tokio::sync::broadcast::channel(4096).0, started: Arc::default() }
    }
}

impl AppState {
    pub fn new(
        db: DatabaseConnection,
        config: Config,
        jwt: JwtKeys,
        audit_keys: AuditKeys,
        telemetry: Telemetry,
    ) -> Self {
        let permits = match config.password_hash_concurrency {
            0 => default_concurrency(),
            n => n,
        };
        let admission = permits + config.password_hash_queue;
        let hash_pool = Arc::new(HashPool::new(permits, config.password_hash_nice));
        let sign_in_lane = Arc::new(crate::http::lane::Lane::new(
            match config.sign_in_concurrency {
                0 => permits,
                n => n,
            },
            config.sign_in_queue,
            std::time::Duration::from_millis(config.sign_in_wait_ms),
        ));
        let principals =
            Arc::new(crate::http::principals::Principals::new(Duration::from_millis(config.principal_cache_ms)));
        let (logs, lines) = LogSink::new(config.log_channel_capacity);
        if tokio::runtime::Handle::try_current().is_ok() {
            crate::store::logs::spawn_writer(db.clone(), logs.clone(), lines, config.log_max_rows);
        }
        Self::from(AppStateInner {
            db,
            config: Arc::new(config),
            jwt: Arc::new(jwt),
            audit_keys: Arc::new(audit_keys),
            hashing: Arc::new(Semaphore::new(permits)),
            hash_pool,
            hashing_admission: Arc::new(Semaphore::new(admission)),
            sign_in_lane,
            kpis: KpiCache::default(),
            principals,
            audited_once_a_minute: moka::future::Cache::builder()
                .max_capacity(100_000)
                .time_to_live(std::time::Duration::from_secs(60))
                .build(),
            runtime_settings: moka::future::Cache::builder()
                .max_capacity(1)
                .time_to_live(std::time::Duration::from_secs(1))
                .build(),
            logs,
            operations: Arc::default(),
            telemetry,
            models: moka::future::Cache::builder()
                .max_capacity(1000)
                .time_to_live(std::time::Duration::from_secs(30))
                .build(),
            changes: ChangeFeed::default(),
            draining: Arc::default(),
        })
    }
}

/// operationId → (requirement, the leaves that open it): the gate's route table, by operation.
pub type Operations = std::collections::HashMap<String, (steward_shared::permissions::Requirement, Vec<&'static str>)>;

/// The KPI cache and its counters.
#[derive(Clone)]
pub struct KpiCache {
    pub cache: moka::future::Cache<String, Kpis>,
    pub hits: Arc<AtomicU64>,
    pub misses: Arc<AtomicU64>,
}

impl Default for KpiCache {
    fn default() -> Self {
        Self {
            // Entries also age out, so KPIs are never more than a minute stale without a refresh.
            cache: moka::future::Cache::builder().max_capacity(10_000).time_to_live(Duration::from_secs(60)).build(),
            hits: Arc::default(),
            misses: Arc::default(),
        }
    }
}

type Job = Box<dyn FnOnce() + Send>;

/// Threads of their own for argon2, as many as may hash at once. The same few threads do every
/// hash, so the 19 MiB each one allocates is reused from the same malloc arena: on tokio's
/// blocking pool every new thread kept an arena of its own, and a login flood grew the process
/// past 500 MiB. The threads end when the pool is dropped.
///
/// They run at a lower CPU priority (`nice`, 0 to 19): a flood of wrong passwords keeps them busy,
/// and at the same priority they took half of a two-core machine from every other request.
/// Niced, the scheduler gives the API's threads the cores first and the hashes what is left.
pub struct HashPool {
    jobs: std::sync::Mutex<std::sync::mpsc::Sender<Job>>,
}

impl HashPool {
    pub fn new(threads: usize, nice: i32) -> Self {
        let (tx, rx) = std::sync::mpsc::channel::<Job>();
        let rx = std::sync::Arc::new(std::sync::Mutex::new(rx));
        for i in 0..threads.max(1) {
            let rx = rx.clone();
            let spawned = std::thread::Builder::new().name(format!("argon2-{i}")).spawn(move || {
                lower_priority(nice);
                serve(&rx)
            });
            if let Err(e) = spawned {
                tracing::error!(error = %e, "cannot start a password-hashing thread");
            }
        }
        Self { jobs: std::sync::Mutex::new(tx) }
    }

    pub async fn run<T: Send + 'static>(
        &self,
        f: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, crate::http::error::AppError> {
        let (done, result) = tokio::sync::oneshot::channel();
        let job: Job = Box::new(move || {
            let _ = done.send(f());
        });
        self.jobs
            .lock()
            .map_err(|_| crate::http::error::AppError::internal("the hashing pool is poisoned"))?
            .send(job)
            .map_err(|_| crate::http::error::AppError::internal("the hashing threads are gone"))?;
        result.await.map_err(|_| crate::http::error::AppError::internal("a hashing thread dropped its job"))
    }
}

/// Runs the pool's jobs on this thread until the pool is dropped.
fn serve(jobs: &std::sync::Mutex<std::sync::mpsc::Receiver<Job>>) {
    loop {
        let job = match jobs.lock() {
            Ok(guard) => guard.recv(),
            Err(_) => return,
        };
        match job {
            Ok(job) => job(),
            Err(_) => return, // the pool is gone
        }
    }
}

/// Sets this thread's nice value (Linux keeps one per thread); elsewhere, or if refused, the
/// thread keeps the process's priority.
fn lower_priority(nice: i32) {
    #[cfg(target_os = "linux")]
    if nice > 0 {
        if let Err(e) = rustix::process::setpriority_process(Some(rustix::thread::gettid()), nice) {
            tracing::warn!(error = %e, nice, "cannot lower the priority of a password-hashing thread");
        }
    }
    #[cfg(not(target_os = "linux"))]
    let _ = nice;
}

/// Hashing threads when `--password-hash-concurrency` is 0: half the cores, at least one, so a
/// flood of password checks leaves the other half to everything else.
pub fn default_concurrency() -> usize {
    std::thread::available_parallelism().map_or(1, |n| (n.get() / 2).max(1))
}

#[cfg(test)]
mod tests {
    use super::HashPool;

    #[cfg(target_os = "linux")]
    #[tokio::test]
    async fn hashing_threads_run_at_their_nice_value_and_others_keep_theirs() {
        let priority = || rustix::process::getpriority_process(Some(rustix::thread::gettid())).unwrap_or(i32::MIN);
        let here = priority();
        let niced = HashPool::new(2, 19);
        for _ in 0..4 {
            assert_eq!(niced.run(priority).await.unwrap(), 19);
        }
        let plain = HashPool::new(1, 0);
        assert_eq!(plain.run(priority).await.unwrap(), here, "0 leaves the thread as it was started");
        assert_eq!(priority(), here, "the caller's own thread is untouched");
    }
}
