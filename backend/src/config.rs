//! Configuration: one clap struct, every knob a flag and an environment variable.

use clap::Parser;
use std::net::SocketAddr;
use std::path::PathBuf;

/// How Steward runs. Every flag can also be given as the environment variable shown.
#[derive(Debug, Clone, Parser)]
#[command(name = "steward-server", version, about = "Steward: the admin console of the automation platform")]
pub struct Config {
    /// Address to listen on.
    #[arg(long, env = "STEWARD_BIND", default_value = "127.0.0.1:8080")]
    pub bind: SocketAddr,

    /// Directory for the embedded SQLite database and the generated JWT secret.
    #[arg(long, env = "STEWARD_DATA_DIR", default_value = "data")]
    pub data_dir: PathBuf,

    /// PostgreSQL (`postgres://…`) or SQLite (`sqlite://…`) URL; default: SQLite in the data dir.
    #[arg(long, env = "DATABASE_URL")]
    pub database_url: Option<String>,

    /// Largest number of pooled database connections.
    #[arg(long, env = "STEWARD_DB_MAX_CONNECTIONS", default_value_t = 10)]
    pub db_max_connections: u32,

    /// Seconds to wait when connecting to the database or acquiring a pooled connection.
    #[arg(long, env = "STEWARD_DB_TIMEOUT_SECS", default_value_t = 5)]
    pub db_timeout_secs: u64,

    /// HMAC secret for access tokens (at least 32 bytes). Default: read from, or generated into,
    /// `<data-dir>/jwt-secret`.
    #[arg(long, env = "STEWARD_JWT_SECRET", hide_env_values = true)]
    pub jwt_secret: Option<String>,

    /// File holding the HMAC secret for access tokens (instead of `--jwt-secret`).
    #[arg(long, env = "STEWARD_JWT_SECRET_FILE")]
    pub jwt_secret_file: Option<PathBuf>,

    /// The audit keyring itself (`<id> <base64url secret>` lines or `;`-separated, newest last),
    /// for replicas that share no disk. Default: the keyring file.
    #[arg(long, env = "STEWARD_AUDIT_KEYS", hide_env_values = true)]
    pub audit_keys: Option<String>,

    /// File holding the audit keyring; default `<data-dir>/audit-keys`, generated (0600) on first
    /// start. Keep it off the database's disk: it is what makes the chain tamper-evident.
    #[arg(long, env = "STEWARD_AUDIT_KEYS_FILE")]
    pub audit_keys_file: Option<PathBuf>,

    /// File the signed audit checkpoints are appended to, beside the database table; default
    /// `<data-dir>/audit-checkpoints`.
    #[arg(long, env = "STEWARD_AUDIT_CHECKPOINTS_FILE")]
    pub audit_checkpoints_file: Option<PathBuf>,

    /// How often a signed checkpoint of the audit chain's head is written, in seconds (only
    /// when the head moved). Deleting the newest events goes unseen for at most this long.
    #[arg(long, env = "STEWARD_AUDIT_CHECKPOINT_SECS", default_value_t = 1)]
    pub audit_checkpoint_secs: u64,

    /// Lifetime of an access token, in seconds.
    #[arg(long, env = "STEWARD_ACCESS_TOKEN_TTL_SECS", default_value_t = 900)]
    pub access_token_ttl_secs: u64,

    /// Lifetime of a login session (and its refresh credential), in seconds.
    #[arg(long, env = "STEWARD_SESSION_TTL_SECS", default_value_t = 7 * 24 * 3600)]
    pub session_ttl_secs: u64,

    /// How long an impersonation lasts before it ends by itself, in minutes.
    #[arg(long, env = "STEWARD_IMPERSONATION_MINUTES", default_value_t = 60)]
    pub impersonation_minutes: u64,

    /// How many password hashes may be computed at once (each takes ~19 MiB and a core), on
    /// threads of their own; 0: half the cores, at least one.
    #[arg(long, env = "STEWARD_PASSWORD_HASH_CONCURRENCY", default_value_t = 0)]
    pub password_hash_concurrency: usize,

    /// The nice value of the hashing threads (Linux; 0 to 19): above 0, a flood of password
    /// checks yields the cores to the rest of the API whenever both want them, and still has
    /// them to itself when nothing else runs. 0: the same priority as the rest.
    #[arg(long, env = "STEWARD_PASSWORD_HASH_NICE", default_value_t = 19, value_parser = clap::value_parser!(i32).range(0..=19))]
    pub password_hash_nice: i32,

    /// How many password checks may wait for a hashing slot; past that a request is answered
    /// 503 `busy` with Retry-After at once (a login flood costs bounded memory and time).
    #[arg(long, env = "STEWARD_PASSWORD_HASH_QUEUE", default_value_t = 32)]
    pub password_hash_queue: usize,

    /// How many sign-ins (and other password routes) run at once, in a lane of their own in
    /// front of their handlers; 0: as many as there are hashing slots.
    #[arg(long, env = "STEWARD_SIGN_IN_CONCURRENCY", default_value_t = 0)]
    pub sign_in_concurrency: usize,

    /// How many sign-ins may wait for their turn; past that one is answered 503 `busy` at once.
    #[arg(long, env = "STEWARD_SIGN_IN_QUEUE", default_value_t = 256)]
    pub sign_in_queue: usize,

    /// How long a sign-in waits for its turn before it is answered 503 `busy`, in milliseconds.
    #[arg(long, env = "STEWARD_SIGN_IN_WAIT_MS", default_value_t = 2000)]
    pub sign_in_wait_ms: u64,

    /// How long a resolved principal (credential, user, grants) is reused, in milliseconds; 0
    /// reads it from the database on every request. A change made through this replica's API
    /// is seen at once; one made on another replica (or by the CLI) within this long.
    #[arg(long, env = "STEWARD_PRINCIPAL_CACHE_MS", default_value_t = 250)]
    pub principal_cache_ms: u64,

    /// SMTP server for outgoing mail; without it mail stays in the outbox.
    #[arg(long, env = "STEWARD_SMTP_HOST")]
    pub smtp_host: Option<String>,

    #[arg(long, env = "STEWARD_SMTP_PORT", default_value_t = 587)]
    pub smtp_port: u16,

    #[arg(long, env = "STEWARD_SMTP_USERNAME")]
    pub smtp_username: Option<String>,

    #[arg(long, env = "STEWARD_SMTP_PASSWORD", hide_env_values = true)]
    pub smtp_password: Option<String>,

    /// `starttls`, `tls` or `none`.
    #[arg(long, env = "STEWARD_SMTP_SECURITY", default_value = "starttls")]
    pub smtp_security: String,

    /// The From address of outgoing mail.
    #[arg(long, env = "STEWARD_SMTP_FROM", default_value = "Steward <steward@localhost>")]
    pub smtp_from: String,

    /// The address users reach Steward at, used in links inside mail; default `http://<bind>`.
    #[arg(long, env = "STEWARD_PUBLIC_URL")]
    pub public_url: Option<String>,

    /// Serve the console from this directory (Trunk's output) instead of the one built into the
    /// binary: for working on the console with `trunk watch`.
    #[arg(long, env = "STEWARD_ASSETS_DIR")]
    pub assets_dir: Option<PathBuf>,

    /// Log filter (tracing's EnvFilter syntax).
    #[arg(long, env = "STEWARD_LOG", default_value = "info,sqlx=warn")]
    pub log_filter: String,

    /// Run workers in this process (0: this replica only serves the API).
    #[arg(long, env = "STEWARD_WORKERS", default_value_t = 2)]
    pub workers: usize,

    /// How often an idle worker polls the queue, in milliseconds (the scheduler ticks at 4×).
    #[arg(long, env = "STEWARD_WORKER_POLL_MS", default_value_t = 250)]
    pub worker_poll_ms: u64,

    /// Log lines (platform, authentication, system) waiting to be written, at most; beyond it
    /// lines are dropped and counted, so a flood costs no memory.
    #[arg(long, env = "STEWARD_LOG_CHANNEL_CAPACITY", default_value_t = 4096)]
    pub log_channel_capacity: usize,

    /// Rows the log table keeps; the oldest beyond it are pruned.
    #[arg(long, env = "STEWARD_LOG_MAX_ROWS", default_value_t = 1_000_000)]
    pub log_max_rows: u64,

    /// Keep days of log lines; older ones are pruned by the periodic task (0: keep by row cap only).
    #[arg(long, env = "STEWARD_LOG_RETENTION_DAYS", default_value_t = 30)]
    pub log_retention_days: u64,

    /// Measure every request (per-operation counts, errors, latency) and hand notable tracing
    /// events to the logs. `false` switches both layers off (for measuring what they cost).
    #[arg(long, env = "STEWARD_TELEMETRY", default_value_t = true, action = clap::ArgAction::Set)]
    pub telemetry: bool,

    /// Statements slower than this are recorded for the System status page, in milliseconds.
    #[arg(long, env = "STEWARD_SLOW_STATEMENT_MS", default_value_t = 100)]
    pub slow_statement_ms: u64,

    /// On SIGTERM or Ctrl-C, keep serving this long with `/api/health` answering 503 before
    /// closing the listener, in seconds: long enough for a load balancer's health check to take
    /// the replica out of rotation (more than its check interval times its fall count), so no
    /// request is sent to a replica that is closing. 0: close at once (a single server).
    #[arg(long, env = "STEWARD_DRAIN_SECS", default_value_t = 0)]
    pub drain_secs: u64,

    /// How often this replica writes its heartbeat row, in seconds.
    #[arg(long, env = "STEWARD_HEARTBEAT_SECS", default_value_t = 10)]
    pub heartbeat_secs: u64,

    /// A replica not heard from for this long is marked silent, in seconds.
    #[arg(long, env = "STEWARD_REPLICA_SILENT_SECS", default_value_t = 60)]
    pub replica_silent_secs: u64,

    /// How often the periodic task stores stats snapshots and prunes the logs, in seconds.
    #[arg(long, env = "STEWARD_STATS_INTERVAL_SECS", default_value_t = 300)]
    pub stats_interval_secs: u64,

    /// How long a dedup merge can be undone, in hours.
    #[arg(long, env = "STEWARD_UNMERGE_WINDOW_HOURS", default_value_t = 168)]
    pub unmerge_window_hours: u64,

    /// Let applications be installed from `file://` Git URLs (tests, air-gapped installs with a
    /// mirror on disk). Off: only `https://` (and `http://`) repositories are fetched.
    #[arg(long, env = "STEWARD_ALLOW_FILE_GIT", default_value_t = false)]
    pub allow_file_git: bool,

    /// Seconds between health probes of each connector (its kind's probe on its endpoint).
    #[arg(long, env = "STEWARD_CONNECTOR_PROBE_SECS", default_value_t = 60)]
    pub connector_probe_secs: u64,

    /// Let connector probes reach loopback, private and link-local addresses. Off: a tenant's
    /// connector cannot make the platform request its internal network.
    #[arg(long, env = "STEWARD_ALLOW_PRIVATE_ENDPOINTS", default_value_t = false)]
    pub allow_private_endpoints: bool,

    /// Where each value in effect came from, by argument id (filled by [`Config::load`]).
    #[arg(skip)]
    pub provenance: Vec<Provenance>,

    #[command(subcommand)]
    pub command: Option<Command>,
}

/// What to do; the default is to serve.
#[derive(Debug, Clone, clap::Subcommand)]
pub enum Command {
    /// Serve the API and the console (the default).
    Serve,
    /// Fill the database with realistic demo customers, users, flows, runs, connectors and records.
    Seed(SeedArgs),
    /// Add a new current key to the audit keyring file (older keys stay to verify older events).
    RotateAuditKey,
}

/// One argument's value in effect and where it came from.
#[derive(Debug, Clone, PartialEq)]
pub struct Provenance {
    pub id: String,
    pub value: Option<String>,
    /// `default`, `flag` or `environment`.
    pub source: &'static str,
}

impl Config {
    /// Parses the process's flags and environment, remembering where each value came from.
    pub fn load() -> Self {
        use clap::{CommandFactory, FromArgMatches};
        let matches = Self::command().get_matches();
        let mut config = Self::from_arg_matches(&matches).unwrap_or_else(|e| e.exit());
        config.provenance = Self::command()
            .get_arguments()
            .map(|arg| {
                let id = arg.get_id().as_str().to_owned();
                let value = matches
                    .get_raw(&id)
                    .map(|vals| vals.map(|v| v.to_string_lossy().into_owned()).collect::<Vec<_>>().join(","));
                let source = match matches.value_source(&id) {
                    Some(clap::parser::ValueSource::CommandLine) => "flag",
                    Some(clap::parser::ValueSource::EnvVariable) => "environment",
                    Some(_) => "default",
                    None => "unset",
                };
                Provenance { id, value, source }
            })
            .collect();
        config
    }

    /// The database URL in effect: the explicit one, else SQLite in the data dir.
    pub fn effective_database_url(&self) -> String {
        match &self.database_url {
            Some(url) => url.clone(),
            None => format!("sqlite://{}?mode=rwc", self.data_dir.join("steward.db").display()),
        }
    }

    /// The SMTP server mail is delivered to; `None` (no host, or an empty one): mail stays in
    /// the outbox.
    pub fn smtp_server(&self) -> Option<&str> {
        self.smtp_host.as_deref().filter(|h| !h.is_empty())
    }

    /// The base of links in mail, without a trailing slash.
    pub fn link_base(&self) -> String {
        match &self.public_url {
            Some(url) => url.trim_end_matches('/').to_owned(),
            None => format!("http://{}", self.bind),
        }
    }

    /// A configuration for tests and tools: defaults, with this database and secret.
    pub fn for_tests(database_url: String, data_dir: PathBuf) -> Self {
        let mut config = Self::parse_from(["steward-server"]);
        config.database_url = Some(database_url);
        config.data_dir = data_dir;
        config.jwt_secret = Some("test-secret-test-secret-test-secret-0123".into());
        config
    }
}

/// The size and shape of the demo data `steward-server seed` creates.
#[derive(Debug, Clone, clap::Args)]
pub struct SeedArgs {
    /// Tenant customers to create.
    #[arg(long, default_value_t = 20)]
    pub customers: u64,
    /// Users, spread over the customers.
    #[arg(long, default_value_t = 1000)]
    pub users: u64,
    #[arg(long, default_value_t = 5)]
    pub flows_per_customer: u64,
    #[arg(long, default_value_t = 10)]
    pub runs_per_flow: u64,
    #[arg(long, default_value_t = 2)]
    pub connectors_per_customer: u64,
    #[arg(long, default_value_t = 50)]
    pub records_per_customer: u64,
    /// The password of every demo user.
    #[arg(long, default_value = "demo-password-123")]
    pub password: String,
    /// Random seed, for repeatable data.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
}
