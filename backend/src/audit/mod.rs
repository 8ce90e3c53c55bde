//! The audit log: every privileged action appends one hash-chained event in the same
//! transaction as the change; the log is listed, exported and verified here.

pub mod chain;
pub mod impersonations;
pub mod log;
pub mod routes;

pub use chain::{append, Event};
