//! sea-orm entities, one module per table, as sea-orm would generate them.
//! Behaviour lives in the service modules, not here.

pub mod api_tokens;
pub mod audit_checkpoints;
pub mod audit_events;
pub mod auth_throttle;
pub mod cache_epochs;
pub mod connectors;
pub mod customer_views;
pub mod customers;
pub mod data_changes;
pub mod entity_types;
pub mod flows;
pub mod invitations;
pub mod log_entries;
pub mod migration_checksums;
pub mod outbox_mail;
pub mod password_resets;
pub mod record_hash_counts;
pub mod record_hash_stats;
pub mod record_links;
pub mod record_merges;
pub mod records;
pub mod recovery_codes;
pub mod replicas;
pub mod role_permissions;
pub mod roles;
pub mod runs;
pub mod sessions;
pub mod settings;
pub mod spent_refresh_credentials;
pub mod stat_snapshots;
pub mod user_roles;
pub mod users;
pub mod workspaces;
