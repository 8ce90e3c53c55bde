//! Signing in, first setup, the links of reset and invitation mails, and one's own account (2FA, API tokens).

pub mod account;
pub mod login;
pub mod security;
pub mod setup;
pub mod token_pages;
