//! The one shared state every handler receives.

use std::sync::Arc;

use sea_orm::DatabaseConnection;
use tokio::sync::Semaphore;

use crate::auth::jwt::JwtKeys;
use crate::config::Config;
use crate::dashboard::KpiCache;

#[derive(Clone)]
pub struct AppState {
    pub db: DatabaseConnection,
    pub config: Arc<Config>,
    pub jwt: Arc<JwtKeys>,
    /// Bounds concurrent argon2 work: each hash takes ~19 MiB and a core.
    pub hashing: Arc<Semaphore>,
    /// Dashboard KPIs, per scope and cache epoch.
    pub kpis: KpiCache,
    /// Whether the 2FA policy holds admins, read at most every 5 s per replica (it is checked
    /// on every admin request; a change reaches other replicas within that time).
    pub two_factor_policy: moka::future::Cache<(), bool>,
}

impl AppState {
    pub fn new(db: DatabaseConnection, config: Config, jwt: JwtKeys) -> Self {
        let permits = config.password_hash_concurrency.max(1);
        Self {
            db,
            config: Arc::new(config),
            jwt: Arc::new(jwt),
            hashing: Arc::new(Semaphore::new(permits)),
            kpis: KpiCache::default(),
            two_factor_policy: moka::future::Cache::builder()
                .max_capacity(1)
                .time_to_live(std::time::Duration::from_secs(5))
                .build(),
        }
    }
}
