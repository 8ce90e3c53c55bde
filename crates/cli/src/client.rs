//! The HTTP side: the stored login, one blocking client over the public REST API, and the
//! errors a command can end with (each with its exit code).

use std::io::Write;
use std::path::PathBuf;

use reqwest::blocking::{RequestBuilder, Response};
use reqwest::StatusCode;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use steward_shared::problem::Problem;

/// How a command ended, and the exit code that says so.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    /// Bad flags or input, found here or by the server (400/422): exit 2.
    #[error("{0}")]
    Usage(String),
    /// The server refused: not signed in, not allowed, conflict, gone, throttled: exit 3.
    #[error("{}", describe(.0))]
    Refused(Box<Problem>),
    /// No such thing: exit 4.
    #[error("{}", describe(.0))]
    NotFound(Box<Problem>),
    /// The server could not be reached: exit 5.
    #[error("{0}")]
    Unreachable(String),
    /// You answered no at a confirmation prompt: exit 6.
    #[error("aborted; nothing was changed")]
    Aborted,
    /// Anything else (a 5xx, a local file): exit 1.
    #[error("{0}")]
    Other(String),
}

impl CliError {
    pub fn exit_code(&self) -> i32 {
        match self {
            Self::Usage(_) => 2,
            Self::Refused(_) => 3,
            Self::NotFound(_) => 4,
            Self::Unreachable(_) => 5,
            Self::Aborted => 6,
            Self::Other(_) => 1,
        }
    }
}

/// The problem as one line, plus a line per named field.
fn describe(p: &Problem) -> String {
    let mut out = p.detail.clone().unwrap_or_else(|| p.title.clone());
    if p.code() == "invalid_token" || p.code() == "token_expired" || p.code() == "unauthenticated" {
        out.push_str(" Run `steward login` (or pass --token).");
    }
    for e in &p.errors {
        out.push_str(&format!("\n  {}: {}", e.field, e.message));
    }
    if let Some(id) = &p.request_id {
        if p.status >= 500 {
            out.push_str(&format!("\n  (request {id})"));
        }
    }
    out
}

pub type CliResult<T> = Result<T, CliError>;

/// What `steward login` and `steward scope` remember, in the user's config dir (mode 0600).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Stored {
    pub url: Option<String>,
    pub token: Option<String>,
    pub token_id: Option<String>,
    pub email: Option<String>,
    /// `tenant`, `all` or `customer:<uuid>`.
    pub scope: Option<String>,
}

/// `$STEWARD_CONFIG`, else `$XDG_CONFIG_HOME/steward/config.json`, else `~/.config/steward/config.json`.
pub fn config_path() -> PathBuf {
    if let Some(p) = std::env::var_os("STEWARD_CONFIG") {
        return PathBuf::from(p);
    }
    let base = std::env::var_os("XDG_CONFIG_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".config")))
        .unwrap_or_else(|| PathBuf::from("."));
    base.join("steward").join("config.json")
}

impl Stored {
    pub fn load() -> Self {
        std::fs::read_to_string(config_path()).ok().and_then(|s| serde_json::from_str(&s).ok()).unwrap_or_default()
    }

    /// Writes the file readable by its owner only: it holds a credential.
    pub fn save(&self) -> CliResult<()> {
        let path = config_path();
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)
                .map_err(|e| CliError::Other(format!("cannot create {}: {e}", dir.display())))?;
        }
        let text = serde_json::to_string_pretty(self).map_err(|e| CliError::Other(e.to_string()))?;
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create(true).truncate(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
            options.mode(0o600);
            let mut file =
                options.open(&path).map_err(|e| CliError::Other(format!("cannot write {}: {e}", path.display())))?;
            file.set_permissions(std::fs::Permissions::from_mode(0o600)).map_err(|e| CliError::Other(e.to_string()))?;
            file.write_all(text.as_bytes()).map_err(|e| CliError::Other(e.to_string()))?;
        }
        #[cfg(not(unix))]
        {
            let mut file =
                options.open(&path).map_err(|e| CliError::Other(format!("cannot write {}: {e}", path.display())))?;
            file.write_all(text.as_bytes()).map_err(|e| CliError::Other(e.to_string()))?;
        }
        Ok(())
    }

    pub fn forget() -> CliResult<()> {
        match std::fs::remove_file(config_path()) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(CliError::Other(e.to_string())),
        }
    }
}

/// One client of one server, with a credential and a scope.
pub struct Client {
    pub base: String,
    pub token: Option<String>,
    pub scope: Option<String>,
    http: reqwest::blocking::Client,
}

impl Client {
    pub fn new(base: &str, token: Option<String>, scope: Option<String>) -> CliResult<Self> {
        let base = base.trim_end_matches('/').to_owned();
        if !(base.starts_with("http://") || base.starts_with("https://")) {
            return Err(CliError::Usage(format!("the server URL must start with http:// or https://, not `{base}`")));
        }
        let http = reqwest::blocking::Client::builder()
            .user_agent(concat!("steward-cli/", env!("CARGO_PKG_VERSION")))
            .timeout(std::time::Duration::from_secs(120))
            .connect_timeout(std::time::Duration::from_secs(5))
            .build()
            .map_err(|e| CliError::Other(e.to_string()))?;
        Ok(Self { base, token, scope, http })
    }

    fn request(&self, method: reqwest::Method, path: &str) -> RequestBuilder {
        let mut req = self.http.request(method, format!("{}{path}", self.base));
        if let Some(t) = &self.token {
            req = req.bearer_auth(t);
        }
        if let Some(s) = &self.scope {
            req = req.header("X-Steward-Scope", s);
        }
        req
    }

    /// Sends; a non-2xx answer becomes its problem, mapped to an exit code.
    pub fn send(&self, req: RequestBuilder) -> CliResult<Response> {
        let response = req.send().map_err(|e| {
            let what = if e.is_timeout() { "did not answer in time" } else { "cannot be reached" };
            CliError::Unreachable(format!("the Steward server at {} {what} ({})", self.base, root_cause(&e)))
        })?;
        if response.status().is_success() {
            return Ok(response);
        }
        let status = response.status();
        let text = response.text().unwrap_or_default();
        let problem = serde_json::from_str::<Problem>(&text).unwrap_or_else(|_| Problem {
            type_: format!("urn:steward:problem:http_{}", status.as_u16()),
            title: format!("HTTP {status}"),
            status: status.as_u16(),
            detail: Some(format!("The server answered {status}; is {} a Steward server?", self.base)),
            instance: None,
            request_id: None,
            errors: Vec::new(),
        });
        Err(match status {
            StatusCode::BAD_REQUEST | StatusCode::UNPROCESSABLE_ENTITY => CliError::Usage(describe(&problem)),
            StatusCode::NOT_FOUND => CliError::NotFound(Box::new(problem)),
            s if s.is_client_error() => CliError::Refused(Box::new(problem)),
            _ => CliError::Other(describe(&problem)),
        })
    }

    pub fn get<T: DeserializeOwned>(&self, path: &str) -> CliResult<T> {
        decode(self.send(self.request(reqwest::Method::GET, path))?)
    }

    /// A response that may stream for as long as it likes (a live tail).
    pub fn get_stream(&self, path: &str) -> CliResult<Response> {
        self.send(self.request(reqwest::Method::GET, path).timeout(std::time::Duration::from_secs(365 * 24 * 3600)))
    }

    pub fn get_raw(&self, path: &str) -> CliResult<Response> {
        self.send(self.request(reqwest::Method::GET, path))
    }

    pub fn post<B: Serialize, T: DeserializeOwned>(&self, path: &str, body: &B) -> CliResult<T> {
        decode(self.send(self.request(reqwest::Method::POST, path).json(body))?)
    }

    pub fn put<B: Serialize, T: DeserializeOwned>(&self, path: &str, body: &B) -> CliResult<T> {
        decode(self.send(self.request(reqwest::Method::PUT, path).json(body))?)
    }

    pub fn patch<B: Serialize, T: DeserializeOwned>(&self, path: &str, body: &B) -> CliResult<T> {
        decode(self.send(self.request(reqwest::Method::PATCH, path).json(body))?)
    }

    /// A POST of a file's bytes (`application/gzip`): an application bundle.
    pub fn post_archive<T: DeserializeOwned>(&self, path: &str, bytes: Vec<u8>) -> CliResult<T> {
        decode(
            self.send(
                self.request(reqwest::Method::POST, path).header("Content-Type", "application/gzip").body(bytes),
            )?,
        )
    }

    /// A POST whose answer has no body worth reading (202/204).
    pub fn post_empty<B: Serialize>(&self, path: &str, body: &B) -> CliResult<()> {
        self.send(self.request(reqwest::Method::POST, path).json(body)).map(|_| ())
    }

    /// A DELETE carrying the typed confirmation (the server checks it while impersonating).
    pub fn delete(&self, path: &str, confirm: &str) -> CliResult<Response> {
        self.send(self.request(reqwest::Method::DELETE, path).header("X-Steward-Confirm", confirm))
    }

    /// A DELETE carrying the typed confirmation whose answer has a body.
    pub fn delete_json<T: DeserializeOwned>(&self, path: &str, confirm: &str) -> CliResult<T> {
        decode(self.delete(path, confirm)?)
    }

    /// A POST carrying the typed confirmation.
    pub fn post_confirmed<T: DeserializeOwned>(&self, path: &str, confirm: &str) -> CliResult<T> {
        decode(self.send(
            self.request(reqwest::Method::POST, path).header("X-Steward-Confirm", confirm).json(&serde_json::json!({})),
        )?)
    }
}

fn decode<T: DeserializeOwned>(response: Response) -> CliResult<T> {
    response.json().map_err(|e| CliError::Other(format!("the server's answer could not be read: {e}")))
}

fn root_cause(e: &dyn std::error::Error) -> String {
    let mut cause = e;
    while let Some(next) = cause.source() {
        cause = next;
    }
    cause.to_string()
}

/// Percent-encodes a query value.
pub fn enc(value: &str) -> String {
    value
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// `?k=v&…` of the pairs that have a value.
pub fn query(pairs: &[(&str, Option<String>)]) -> String {
    let parts: Vec<String> = pairs.iter().filter_map(|(k, v)| v.as_ref().map(|v| format!("{k}={}", enc(v)))).collect();
    if parts.is_empty() {
        String::new()
    } else {
        format!("?{}", parts.join("&"))
    }
}
