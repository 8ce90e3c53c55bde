//! One module per route.

pub mod account;
pub mod actions;
pub mod apps;
pub mod audit;
pub mod config;
pub mod connectors;
pub mod dashboard;
pub mod data;
pub mod data_ops;
pub mod explorer;
pub mod flows;
pub mod fmt;
pub mod invitations;
pub mod login;
pub mod logs;
pub mod not_found;
pub mod role_editor;
pub mod roles;
pub mod runs;
pub mod security;
pub mod sessions;
pub mod setup;
pub mod stats;
pub mod system;
pub mod token_pages;
pub mod users;
