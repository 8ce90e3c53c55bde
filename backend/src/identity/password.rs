//! Password hashing with argon2id (OWASP parameters), off the async threads and bounded.

use argon2::{Algorithm, Argon2, Params, PasswordHasher, PasswordVerifier, Version};

use crate::http::error::AppError;
use crate::state::AppState;

/// OWASP's argon2id baseline: 19 MiB, 2 iterations, 1 lane.
fn argon2() -> Result<Argon2<'static>, AppError> {
    let params = Params::new(19_456, 2, 1, None).map_err(AppError::internal)?;
    Ok(Argon2::new(Algorithm::Argon2id, Version::V0x13, params))
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
