//! Password hashing with argon2id (OWASP parameters), off the async threads and bounded.

use argon2::{Algorithm, Argon2, Params, PasswordHasher, PasswordVerifier, Version};

use crate::http::error::AppError;
use crate::state::AppState;

/// OWASP's argon2id baseline: 19 MiB, 2 iterations, 1 lane.
fn argon2() -> Result<Argon2<'static>, AppError> {
    let params = Params::new(19_456, 2, 1, None).map_err(AppError::internal)?;
    Ok(Argon2::new(Algorithm::Argon2id, Version::V0x13, params))
}

type Job = Box<dyn FnOnce() + Send>;

/// Threads of their own for argon2, as many as may hash at once. The same few threads do every
/// hash, so the 19 MiB each one allocates is reused from the same malloc arena: on tokio's
/// blocking pool every new thread kept an arena of its own, and a login flood grew the process
/// past 500 MiB. The threads end when the pool is dropped.
pub struct HashPool {
    jobs: std::sync::Mutex<std::sync::mpsc::Sender<Job>>,
}

impl HashPool {
    pub fn new(threads: usize) -> Self {
        let (tx, rx) = std::sync::mpsc::channel::<Job>();
        let rx = std::sync::Arc::new(std::sync::Mutex::new(rx));
        for i in 0..threads.max(1) {
            let rx = rx.clone();
            let spawned = std::thread::Builder::new().name(format!("argon2-{i}")).spawn(move || loop {
                let job = match rx.lock() {
                    Ok(guard) => guard.recv(),
                    Err(_) => return,
                };
                match job {
                    Ok(job) => job(),
                    Err(_) => return, // the pool is gone
                }
            });
            if let Err(e) = spawned {
                tracing::error!(error = %e, "cannot start a password-hashing thread");
            }
        }
        Self { jobs: std::sync::Mutex::new(tx) }
    }

    async fn run<T: Send + 'static>(&self, f: impl FnOnce() -> T + Send + 'static) -> Result<T, AppError> {
        let (done, result) = tokio::sync::oneshot::channel();
        let job: Job = Box::new(move || {
            let _ = done.send(f());
        });
        self.jobs
            .lock()
            .map_err(|_| AppError::internal("the hashing pool is poisoned"))?
            .send(job)
            .map_err(|_| AppError::internal("the hashing threads are gone"))?;
        result.await.map_err(|_| AppError::internal("a hashing thread dropped its job"))
    }
}

/// Hashing threads when `--password-hash-concurrency` is 0: half the cores, at least one, so a
/// flood of password checks leaves the other half to everything else.
pub fn default_concurrency() -> usize {
    std::thread::available_parallelism().map_or(1, |n| (n.get() / 2).max(1))
}

/// Runs `f` on a hashing slot: at most `--password-hash-concurrency` at once, at most
/// `--password-hash-queue` waiting; past that the request is refused at once (503 `busy`).
async fn blocking<T: Send + 'static>(state: &AppState, f: impl FnOnce() -> T + Send + 'static) -> Result<T, AppError> {
    let _admitted = state.hashing_admission.try_acquire().map_err(|_| AppError::Busy {
        detail: "Too many password checks are waiting; try again in a moment.".into(),
        retry_after_secs: 1,
    })?;
    let _permit = state.hashing.acquire().await.map_err(AppError::internal)?;
    state.hash_pool.run(f).await
}

/// Hashes a new password.
pub async fn hash(state: &AppState, password: String) -> Result<String, AppError> {
    blocking(state, move || {
        let hasher = argon2()?;
        hasher.hash_password(password.as_bytes()).map(|h| h.to_string()).map_err(AppError::internal)
    })
    .await?
}

/// Verifies a password; with no stored hash it spends the time of one hash all the same,
/// so an unknown email cannot be told from a wrong password by timing.
pub async fn verify(state: &AppState, password: String, stored: Option<String>) -> Result<bool, AppError> {
    blocking(state, move || {
        let hasher = argon2()?;
        Ok(match stored {
            Some(phc) => hasher.verify_password(password.as_bytes(), phc.as_str()).is_ok(),
            None => {
                let _ = hasher.hash_password(password.as_bytes());
                false
            }
        })
    })
    .await?
}
