//! Secrets: the keys kept outside the database (the JWT signing secret, generated into the
//! data dir on first start), and how bearer secrets are made and stored (random, SHA-256).
//!
//! Access tokens are short-lived HS256 JWTs bound to a session row. The algorithm is pinned and
//! `exp`, `iat`, `iss` and `aud` are required, so `alg: none` and foreign tokens are refused.

use base64::Engine;
use rand::RngCore;
use sha2::{Digest, Sha256};
use std::path::Path;

use jsonwebtoken::{decode, encode, Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

pub const ISSUER: &str = "steward";

pub const AUDIENCE: &str = "steward-api";

#[derive(Debug, Serialize, Deserialize)]
pub struct Claims {
    pub sub: Uuid,
    /// The session this token belongs to; checked live on every request.
    pub sid: Uuid,
    pub iat: u64,
    pub exp: u64,
    pub iss: String,
    pub aud: String,
}

pub struct JwtKeys {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
}

impl JwtKeys {
    pub fn from_secret(secret: &[u8]) -> anyhow::Result<Self> {
        if secret.len() < 32 {
            anyhow::bail!("the JWT secret must be at least 32 bytes");
        }
        let mut validation = Validation::new(Algorithm::HS256);
        validation.algorithms = vec![Algorithm::HS256];
        validation.set_required_spec_claims(&["exp", "iat", "iss", "aud"]);
        validation.set_issuer(&[ISSUER]);
        validation.set_audience(&[AUDIENCE]);
        validation.leeway = 5;
        Ok(Self { encoding: EncodingKey::from_secret(secret), decoding: DecodingKey::from_secret(secret), validation })
    }

    pub fn issue(&self, user: Uuid, session: Uuid, now: u64, ttl: u64) -> anyhow::Result<String> {
        let claims =
            Claims { sub: user, sid: session, iat: now, exp: now + ttl, iss: ISSUER.into(), aud: AUDIENCE.into() };
        Ok(encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)?)
    }

    /// The claims of a valid token, or why it is not.
    pub fn verify(&self, token: &str) -> Result<Claims, jsonwebtoken::errors::Error> {
        decode::<Claims>(token, &self.decoding, &self.validation).map(|d| d.claims)
    }
}

/// The secret in effect: given, read from the configured file, or read from / generated into
/// `<data-dir>/jwt-secret` (0600). Never logged.
pub fn load_secret(config: &crate::config::Config) -> anyhow::Result<Vec<u8>> {
    if let Some(secret) = &config.jwt_secret {
        return Ok(secret.as_bytes().to_vec());
    }
    if let Some(file) = &config.jwt_secret_file {
        return read_secret(file);
    }
    let path = config.data_dir.join("jwt-secret");
    if path.exists() {
        return read_secret(&path);
    }
    std::fs::create_dir_all(&config.data_dir)?;
    let secret = crate::secrets::random_token(48);
    write_private(&path, secret.as_bytes())?;
    tracing::info!(path = %path.display(), "generated a new JWT secret");
    Ok(secret.into_bytes())
}

fn read_secret(path: &Path) -> anyhow::Result<Vec<u8>> {
    let text =
        std::fs::read_to_string(path).map_err(|e| anyhow::anyhow!("cannot read JWT secret {}: {e}", path.display()))?;
    Ok(text.trim().as_bytes().to_vec())
}

fn write_private(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(path)?;
    file.write_all(bytes)?;
    Ok(())
}

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
