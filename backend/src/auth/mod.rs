//! Authentication: who is calling. Login, refresh and logout handlers live in `handlers`;
//! the principal every protected handler receives is the [`Actor`].

pub mod actor;
pub mod handlers;
pub mod jwt;
pub mod password;
pub mod sessions;

pub use actor::Actor;

use base64::Engine;
use rand::RngCore;
use sha2::{Digest, Sha256};

/// `bytes` random bytes, base64url without padding.
pub fn random_token(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    rand::rng().fill_bytes(&mut buf);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(buf)
}

/// Hex SHA-256: how bearer secrets (refresh credentials, API tokens, invitations) are stored.
pub fn sha256_hex(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}
