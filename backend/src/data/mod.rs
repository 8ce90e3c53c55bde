//! Data: the tables explorer over the tenants' data (one registry of tables and columns), the
//! data ops on canonical records (dedup merge and undo, force refresh, migration status), hash
//! warnings, and the change feed that keeps an open explorer live.

pub mod explorer;
pub mod feed;
pub mod hashes;
pub mod ops;
pub mod query;
pub mod records;
pub mod registry;
pub mod routes;
