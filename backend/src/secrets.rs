//! Secrets: the keys kept outside the database (the JWT signing secret and the audit keyring,
//! generated into the data dir on first start), and how bearer secrets are made and stored
//! (random, SHA-256).
//!
//! Access tokens are short-lived HS256 JWTs bound to a session row. The algorithm is pinned and
//! `exp`, `iat`, `iss` and `aud` are required, so `alg: none` and foreign tokens are refused.
//! Transfer tokens are HS256 JWTs of their own audience. Connector keys are kept sealed under
//! a key derived from the same secret.

use base64::Engine;
use chacha20poly1305::aead::{Aead, AeadCore, KeyInit, OsRng as AeadOsRng};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use jsonwebtoken::{decode, encode, Algorithm, DecodingKey, EncodingKey, Header, Validation};
use rand::RngCore;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::path::Path;
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
    transfer: Validation,
    /// Seals what the instance must keep and send on (connector keys), under a key derived
    /// from the same secret.
    sealer: XChaCha20Poly1305,
}

/// The audience of transfer tokens: never accepted as an access token, nor the reverse.
pub const TRANSFER_AUDIENCE: &str = "steward-transfer";

/// What a transfer token names: its id (good once) and what it may export.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TransferClaims {
    pub jti: Uuid,
    /// The application's name; `None`: every application.
    pub app: Option<String>,
    pub iat: u64,
    pub exp: u64,
    pub iss: String,
    pub aud: String,
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
        let mut transfer = validation.clone();
        transfer.set_audience(&[TRANSFER_AUDIENCE]);
        transfer.leeway = 0;
        let seal_key = Sha256::new().chain_update(b"steward connector keys\0").chain_update(secret).finalize();
        Ok(Self {
            encoding: EncodingKey::from_secret(secret),
            decoding: DecodingKey::from_secret(secret),
            validation,
            transfer,
            sealer: XChaCha20Poly1305::new(&seal_key),
        })
    }

    pub fn issue_transfer(&self, jti: Uuid, app: Option<String>, now: u64, ttl: u64) -> anyhow::Result<String> {
        let claims =
            TransferClaims { jti, app, iat: now, exp: now + ttl, iss: ISSUER.into(), aud: TRANSFER_AUDIENCE.into() };
        Ok(encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)?)
    }

    /// The claims of a transfer token signed here and not expired, or why not.
    pub fn verify_transfer(&self, token: &str) -> Result<TransferClaims, jsonwebtoken::errors::Error> {
        decode::<TransferClaims>(token, &self.decoding, &self.transfer).map(|d| d.claims)
    }

    /// `plain` sealed: base64 of a random nonce and the ciphertext.
    pub fn seal(&self, plain: &str) -> String {
        let nonce = XChaCha20Poly1305::generate_nonce(&mut AeadOsRng);
        let mut out = nonce.to_vec();
        // Encryption fails only past 256 GiB of input.
        out.extend(self.sealer.encrypt(&nonce, plain.as_bytes()).unwrap_or_default());
        base64::engine::general_purpose::STANDARD.encode(out)
    }

    /// What `seal` sealed, or `None` when it was sealed under another secret or altered.
    pub fn unseal(&self, sealed: &str) -> Option<String> {
        let bytes = base64::engine::general_purpose::STANDARD.decode(sealed).ok()?;
        let (nonce, body) = bytes.split_at_checked(24)?;
        let nonce: [u8; 24] = nonce.try_into().ok()?;
        let plain = self.sealer.decrypt(&XNonce::from(nonce), body).ok()?;
        String::from_utf8(plain).ok()
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
    let path = default_jwt_secret_file(config);
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

/// The audit chain's keyring: HMAC-SHA256 keys by id. Each event records the id of the key it
/// was chained with, so keys rotate: the newest key signs, older ones still verify. Kept outside
/// the database, so whoever can write the database cannot recompute a valid chain.
#[derive(Clone)]
pub struct AuditKeys {
    current: String,
    keys: std::collections::BTreeMap<String, Vec<u8>>,
}

impl std::fmt::Debug for AuditKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuditKeys").field("current", &self.current).field("ids", &self.keys.keys()).finish()
    }
}

impl AuditKeys {
    /// Parses a keyring: one `<key id> <base64url secret>` a line (or `;`-separated), oldest
    /// first; the last line is the current key. Blank lines and `#` comments are skipped.
    pub fn parse(text: &str) -> anyhow::Result<Self> {
        let mut keys = std::collections::BTreeMap::new();
        let mut current = None;
        for line in text.split(['\n', ';']).map(str::trim).filter(|l| !l.is_empty() && !l.starts_with('#')) {
            let (id, secret) = line
                .split_once(char::is_whitespace)
                .ok_or_else(|| anyhow::anyhow!("an audit key line is `<id> <secret>`"))?;
            let secret = base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(secret.trim())
                .map_err(|e| anyhow::anyhow!("audit key `{id}` is not base64url: {e}"))?;
            anyhow::ensure!(secret.len() >= 32, "audit key `{id}` is shorter than 32 bytes");
            anyhow::ensure!(
                id.len() <= 40 && id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'),
                "audit key id `{id}` is not a short word"
            );
            keys.insert(id.to_owned(), secret);
            current = Some(id.to_owned());
        }
        let current = current.ok_or_else(|| anyhow::anyhow!("the audit keyring holds no key"))?;
        Ok(Self { current, keys })
    }

    /// A fresh keyring line: a new key id and secret.
    pub fn new_line() -> String {
        let id = format!(
            "k{}-{}",
            chrono::Utc::now().format("%Y%m%d"),
            &random_token(6).to_lowercase().replace(['-', '_'], "x")
        );
        format!("{id} {}", random_token(32))
    }

    /// The id of the key new events are chained with.
    pub fn current_id(&self) -> &str {
        &self.current
    }

    /// HMAC-SHA256 of `data` with key `id`, as hex; `None` for an unknown key.
    pub fn sign(&self, id: &str, data: &[u8]) -> Option<String> {
        use hmac::{Mac, SimpleHmac};
        let key = self.keys.get(id)?;
        let mut mac = <SimpleHmac<Sha256> as Mac>::new_from_slice(key).ok()?;
        mac.update(data);
        Some(hex::encode(mac.finalize().into_bytes()))
    }
}

/// Where the JWT secret is generated when neither `--jwt-secret` nor its file is given.
pub fn default_jwt_secret_file(config: &crate::config::Config) -> std::path::PathBuf {
    config.data_dir.join("jwt-secret")
}

/// The audit keyring's file: the configured one, or `<data-dir>/audit-keys`.
pub fn audit_keys_file(config: &crate::config::Config) -> std::path::PathBuf {
    config.audit_keys_file.clone().unwrap_or_else(|| config.data_dir.join("audit-keys"))
}

/// The audit keyring in effect: `STEWARD_AUDIT_KEYS` (for replicas without a shared disk), the
/// configured file, or `<data-dir>/audit-keys`, generated (0600) on first start. Never logged.
pub fn load_audit_keys(config: &crate::config::Config) -> anyhow::Result<AuditKeys> {
    if let Some(text) = &config.audit_keys {
        return AuditKeys::parse(text);
    }
    let path = audit_keys_file(config);
    if !path.exists() {
        std::fs::create_dir_all(path.parent().unwrap_or(&config.data_dir))?;
        write_private(&path, format!("{}\n", AuditKeys::new_line()).as_bytes())?;
        tracing::info!(path = %path.display(), "generated a new audit key");
    }
    let text = std::fs::read_to_string(&path)
        .map_err(|e| anyhow::anyhow!("cannot read the audit keyring {}: {e}", path.display()))?;
    AuditKeys::parse(&text)
}

/// Adds a new current key to the keyring file (older keys stay, to verify older events).
pub fn rotate_audit_key(config: &crate::config::Config) -> anyhow::Result<String> {
    use std::io::Write;
    anyhow::ensure!(config.audit_keys.is_none(), "the keyring comes from STEWARD_AUDIT_KEYS: add a line there");
    let path = audit_keys_file(config);
    load_audit_keys(config)?;
    let line = AuditKeys::new_line();
    let mut file = std::fs::OpenOptions::new().append(true).open(&path)?;
    writeln!(file, "{line}")?;
    Ok(line.split_whitespace().next().unwrap_or_default().to_owned())
}
