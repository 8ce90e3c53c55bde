//! Steward's shared vocabulary: the wire types used by the backend, the SPA and the CLI.
//!
//! Everything here compiles for wasm32; server-only derives sit behind the `server` feature.

pub mod absent;
pub mod api;
pub mod apps;
pub mod data;
pub mod ids;
pub mod ops;
pub mod permissions;
pub mod problem;
pub mod rules;

pub use ids::*;
