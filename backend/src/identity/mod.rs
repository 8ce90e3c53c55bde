//! Identity: credentials and sessions. Sign-in (passwords, login throttling, TOTP 2FA),
//! sessions and their JWT access tokens, API tokens, password reset links, impersonation,
//! `/api/me`, and resolving a bearer credential into the [`crate::access::Actor`].

pub mod impersonation;
pub mod login;
pub mod me;
pub mod password;
pub mod password_reset;
pub mod principal;
pub mod routes;
pub mod runtime;
pub mod sessions;
pub mod throttle;
pub mod tokens;
pub mod two_factor;
