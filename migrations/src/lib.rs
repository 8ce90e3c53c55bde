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
mod m20261203_000010_data;
mod m20261203_000011_applications;
mod m20261203_000012_runs_and_actions;
mod m20261203_000013_transfer_and_health;
mod m20261206_000014_outbox_secret;

pub use m20261203_000010_data::FEED_TABLES;

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
            Box::new(m20261203_000010_data::Migration),
            Box::new(m20261203_000011_applications::Migration),
            Box::new(m20261203_000012_runs_and_actions::Migration),
            Box::new(m20261203_000013_transfer_and_health::Migration),
            Box::new(m20261206_000014_outbox_secret::Migration),
        ]
    }
}

/// Each migration's name and source text, in order: the server records the checksum of what
/// ran, and warns when a migration's source changed after it was applied.
pub const SOURCES: &[(&str, &str)] = &[
    ("m20261122_000001_domain", include_str!("m20261122_000001_domain.rs")),
    ("m20261122_000002_system_roles", include_str!("m20261122_000002_system_roles.rs")),
    ("m20261122_000003_tenancy", include_str!("m20261122_000003_tenancy.rs")),
    ("m20261122_000004_audit_append_only", include_str!("m20261122_000004_audit_append_only.rs")),
    ("m20261122_000005_user_admin", include_str!("m20261122_000005_user_admin.rs")),
    ("m20261123_000006_refresh_reuse", include_str!("m20261123_000006_refresh_reuse.rs")),
    ("m20261123_000007_log_entries", include_str!("m20261123_000007_log_entries.rs")),
    ("m20261123_000008_audit_keyed", include_str!("m20261123_000008_audit_keyed.rs")),
    ("m20261203_000009_observability", include_str!("m20261203_000009_observability.rs")),
    ("m20261203_000010_data", include_str!("m20261203_000010_data.rs")),
    ("m20261203_000011_applications", include_str!("m20261203_000011_applications.rs")),
];
