//! Mail: every message is stored in the outbox in the transaction that causes it, then
//! delivered over SMTP by a background task.

pub mod outbox;
pub mod routes;

pub use outbox::{deliver_pending, enqueue, enqueue_with_token, spawn, TOKEN_SLOT};
