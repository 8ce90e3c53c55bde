//! Keeping the platform running: system status, stats, logs, configuration, platform actions.

pub mod actions;
pub mod config;
pub mod logs;
pub mod outbox;
pub mod settings;
pub mod stats;
pub mod system;
