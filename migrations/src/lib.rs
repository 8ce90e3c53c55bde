//! Steward's schema, as one migration chain that runs unchanged on SQLite and PostgreSQL.

pub use sea_orm_migration::prelude::*;

mod m20261122_000001_domain;
mod m20261122_000002_system_roles;
mod m20261122_000003_tenancy;
mod m20261122_000004_audit_append_only;
mod m20261122_000005_user_admin;
mod m20261123_000006_refresh_reuse;
mod m20261123_000007_log_entries;
mod m20261123_000008_audit_keyed;
mod m20261203_000009_observability;

/// The migration chain, in order.
pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261122_000001_domain::Migration),
            Box::new(m20261122_000002_system_roles::Migration),
            Box::new(m20261122_000003_tenancy::Migration),
            Box::new(m20261122_000004_audit_append_only::Migration),
            Box::new(m20261122_000005_user_admin::Migration),
            Box::new(m20261123_000006_refresh_reuse::Migration),
            Box::new(m20261123_000007_log_entries::Migration),
            Box::new(m20261123_000008_audit_keyed::Migration),
            Box::new(m20261203_000009_observability::Migration),
        ]
    }
}
