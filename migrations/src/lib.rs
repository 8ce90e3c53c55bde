//! Steward's schema, as one migration chain that runs unchanged on SQLite and PostgreSQL.

pub use sea_orm_migration::prelude::*;

/// Names each migration once: its module, its place in the chain and its source text (whose
/// checksum the server records, warning when a migration changed after it was applied). A
/// migration listed here cannot run without a checksum, as 12 to 14 once did.
macro_rules! chain {
    ($($name:ident),+ $(,)?) => {
        $(mod $name;)+

        /// The migration chain, in order.
        pub struct Migrator;

        #[async_trait::async_trait]
        impl MigratorTrait for Migrator {
            fn migrations() -> Vec<Box<dyn MigrationTrait>> {
                vec![$(Box::new($name::Migration)),+]
            }
        }

        /// Each migration's name and source text, in order.
        pub const SOURCES: &[(&str, &str)] = &[$((stringify!($name), include_str!(concat!(stringify!($name), ".rs")))),+];
    };
}

chain!(
    m20261122_000001_domain,
    m20261122_000002_system_roles,
    m20261122_000003_tenancy,
    m20261122_000004_audit_append_only,
    m20261122_000005_user_admin,
    m20261123_000006_refresh_reuse,
    m20261123_000007_log_entries,
    m20261123_000008_audit_keyed,
    m20261203_000009_observability,
    m20261203_000010_data,
    m20261203_000011_applications,
    m20261203_000012_runs_and_actions,
    m20261203_000013_transfer_and_health,
    m20261206_000014_outbox_secret,
    m20261206_000015_demo_data,
    m20261206_000016_audit_actor_index,
    m20261208_000017_audit_customer_seq_index,
);

pub use m20261203_000010_data::FEED_TABLES;
