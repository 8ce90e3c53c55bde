//! `steward`: the Steward REST API from a terminal. It talks only to the public API, with the
//! shared wire types, like any third-party script would.
//!
//! Exit codes: 0 ok, 1 unexpected failure, 2 bad usage or input, 3 refused by the server
//! (not signed in, not allowed, conflict, throttled), 4 not found, 5 server unreachable,
//! 6 aborted at a confirmation prompt.

mod client;
mod output;

use std::io::{BufRead, IsTerminal, Read, Write};

use clap::{Args, Parser, Subcommand};
use serde_json::json;
use steward_shared::api::{
    ApiTokenInfo, AuditEvent, AuditVerification, CreateCustomer, CreatedApiToken, CustomerDetail, CustomerOverview,
    CustomerSummary, DirectoryUser, Explanation, Invitation, LoginRequest, Me, Page, Rename, RoleSummary, SessionRow,
    SettingsView, TokenPair, WorkspaceRef, WorkspaceSummary,
};

use client::{query, CliError, CliResult, Client, Stored};
use output::{cut, facts, table, when};
use steward_shared::ops::{LogEntry, SystemStatus};

/// The system admin role (ships with Steward; its id never changes).
const ADMIN_ROLE: &str = "00000000-0000-7000-8000-000000000001";
/// The system viewer role.
const VIEWER_ROLE: &str = "00000000-0000-7000-8000-000000000003";

#[derive(Parser)]
#[command(name = "steward", version, about = "The Steward admin console, from a terminal.")]
struct Cli {
    /// The server, e.g. https://steward.example.com (else the one you logged in to).
    #[arg(long, global = true, env = "STEWARD_URL")]
    url: Option<String>,
    /// An API token to use instead of the stored login.
    #[arg(long, global = true, env = "STEWARD_TOKEN", hide_env_values = true)]
    token: Option<String>,
    /// The scope for this command: tenant, all or customer:<uuid> (else the one `steward scope` set).
    #[arg(long, global = true, env = "STEWARD_SCOPE")]
    scope: Option<String>,
    /// Machine-readable JSON instead of tables.
    #[arg(long, global = true)]
    json: bool,
    /// Answer yes to confirmation prompts.
    #[arg(long, short = 'y', global = true)]
    yes: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Sign in and store an API token for later commands (in your config dir, mode 0600).
    Login(LoginArgs),
    /// Revoke the stored token and forget it.
    Logout,
    /// Who you are on the server.
    Whoami,
    /// Show or set the scope later commands use: `tenant`, `all`, or `customer <name or id>`.
    Scope {
        /// `tenant`, `all` or `customer`.
        mode: Option<String>,
        /// For `customer`: its id or (part of) its name.
        customer: Option<String>,
    },
    /// Console administrators: your organization's staff and holders of the admin role.
    #[command(subcommand)]
    Admin(AdminCommand),
    /// The tenants' users in the current scope.
    #[command(subcommand)]
    Users(UsersCommand),
    /// Customers (organizations): counts, detail, create, rename.
    #[command(subcommand)]
    Customers(CustomersCommand),
    /// Workspaces of a customer: list, create, rename (creating and renaming: super admins).
    #[command(subcommand)]
    Workspaces(WorkspacesCommand),
    /// Roles.
    #[command(subcommand)]
    Roles(RolesCommand),
    /// Access questions.
    #[command(subcommand)]
    Access(AccessCommand),
    /// The audit log.
    #[command(subcommand)]
    Audit(AuditCommand),
    /// Settings changed at run time (super admins): lifetimes, View as limit, password rule, 2FA policy.
    #[command(subcommand)]
    Settings(SettingsCommand),
    /// System status: requests, database, run queue, workers, replicas.
    Status,
    /// The platform, authentication and system logs; `--follow` tails them live.
    Logs(LogsArgs),
    /// Data ops on canonical records: dedup merge, force refresh, hash warnings.
    #[command(subcommand)]
    Data(DataCommand),
    /// Applications: install from an archive or a Git branch, update, (de)activate, delete.
    #[command(subcommand)]
    Apps(AppsCommand),
    /// The packages the installed applications carry and use.
    Packages {
        /// Part of a package's name.
        #[arg(long)]
        search: Option<String>,
    },
    /// Install applications from another Steward with a transfer token minted there.
    Transfer {
        /// The source platform's address.
        #[arg(long = "from")]
        from: String,
        /// The transfer token (`steward transfer-token` on the source). Not `--token`: that
        /// global flag is your API token for this platform.
        #[arg(long = "transfer-token")]
        transfer_token: String,
    },
    /// Mint a transfer token here, for another platform to fetch applications with (once).
    TransferToken {
        /// One application (name or id); every application when absent.
        #[arg(long)]
        app: Option<String>,
        /// Minutes it stays good (1 to 60).
        #[arg(long, default_value_t = 15)]
        ttl: u32,
    },
}

#[derive(Subcommand)]
enum AppsCommand {
    /// Installed applications, with the version in use and their import errors.
    List,
    /// Install from a `.tar.gz` bundle, or from a Git repository with `--git URL`.
    Install {
        /// The bundle file (`.tar.gz`).
        #[arg(required_unless_present = "git", conflicts_with = "git")]
        archive: Option<std::path::PathBuf>,
        /// A Git repository URL.
        #[arg(long)]
        git: Option<String>,
        #[arg(long, default_value = "main", requires = "git")]
        branch: String,
        /// A commit of the branch (default: its head).
        #[arg(long, requires = "git")]
        commit: Option<String>,
    },
    /// A Git application: install its branch head. An archive application: upload the bundle
    /// given as a new version. With `--commit`: pin that commit of the branch.
    Update {
        /// The application's name or id.
        app: String,
        archive: Option<std::path::PathBuf>,
        #[arg(long, conflicts_with = "archive")]
        commit: Option<String>,
    },
    /// Make an application's models, templates and connector kinds available again.
    Activate { app: String },
    /// Withdraw them until activated again.
    Deactivate { app: String },
    /// Delete an application and all its versions (asks you to type its name).
    Delete {
        app: String,
        /// Delete even while flows use it.
        #[arg(long)]
        force: bool,
    },
    /// Import errors, worst first (of one application when given).
    Errors { app: Option<String> },
}

#[derive(Subcommand)]
enum DataCommand {
    /// Merge duplicate records into a survivor: the others are kept as merged into it and every
    /// link moves to it. Shows what moves and asks first (a dry run with --dry-run).
    Merge {
        /// The record that stays.
        #[arg(long)]
        survivor: uuid::Uuid,
        /// The duplicates to merge into it (repeat, or comma-separated).
        #[arg(long = "merge", value_delimiter = ',', required = true)]
        merged: Vec<uuid::Uuid>,
        /// Only show what would move.
        #[arg(long)]
        dry_run: bool,
    },
    /// Undo a merge (within the server's undo window).
    Unmerge { merge_id: uuid::Uuid },
    /// Recompute a record's content hash and normalized fields, invalidating its caches.
    Refresh { record_id: uuid::Uuid },
    /// Per entity type: records, distinct hashes and the share that differ, worst first.
    Hashes {
        /// Also list the largest duplicate groups of this entity type.
        #[arg(long)]
        groups: Option<String>,
    },
}

#[derive(Args)]
struct LogsArgs {
    /// `platform`, `auth`, `system`, or a system tab: `startup`, `periodic`, `startup_error`,
    /// `package_install`, `user_task`, `api_error`. Default: every log.
    #[arg(long)]
    tab: Option<String>,
    /// `error`, `warn`, `info` or `debug`.
    #[arg(long)]
    level: Option<String>,
    /// Text the message contains.
    #[arg(long)]
    search: Option<String>,
    #[arg(long)]
    request_id: Option<String>,
    /// Lines to show (newest first), before following.
    #[arg(long, default_value_t = 50)]
    limit: usize,
    /// Keep printing new lines as they are written, until interrupted.
    #[arg(long, short = 'f')]
    follow: bool,
}

#[derive(Args)]
struct LoginArgs {
    /// The server URL (also STEWARD_URL); default http://127.0.0.1:8080.
    #[arg(long = "server")]
    server: Option<String>,
    #[arg(long)]
    email: Option<String>,
    /// Read the password from standard input (for scripts) instead of prompting.
    #[arg(long)]
    password_stdin: bool,
    /// The current 2FA code, when the account has 2FA (else you are asked for it).
    #[arg(long)]
    totp_code: Option<String>,
    /// Days until the stored token expires.
    #[arg(long, default_value_t = 90)]
    days: u32,
}

#[derive(Subcommand)]
enum AdminCommand {
    #[command(subcommand)]
    Users(AdminUsers),
    #[command(subcommand)]
    Invitations(Invitations),
    #[command(subcommand)]
    Sessions(Sessions),
    /// Mail a password-reset link to an account.
    PasswordReset {
        #[arg(long)]
        email: String,
    },
}

#[derive(Subcommand)]
enum AdminUsers {
    /// List console administrators.
    List(ListArgs),
    /// Invite an administrator (the admin role, in your home workspace unless --workspace).
    Invite(InviteArgs),
    /// One user, by id or email.
    Get { user: String },
    /// Erase a user (the anonymizing delete).
    Delete { user: String },
}

#[derive(Subcommand)]
enum UsersCommand {
    /// List users in the scope.
    List(ListArgs),
    /// One user, by id or email.
    Get { user: String },
    /// Invite a user (the viewer role unless --role).
    Invite(InviteArgs),
    /// Erase a user (the anonymizing delete).
    Delete { user: String },
    /// Turn a user's 2FA off (they lost their device): their sessions end and they enrol again.
    #[command(name = "reset-2fa")]
    Reset2fa { user: String },
    /// A user's API tokens (names, prefixes, leaves, expiry; never the secrets).
    Tokens { user: String },
    /// Revoke one of a user's API tokens; asks first.
    RevokeToken { user: String, token_id: uuid::Uuid },
}

#[derive(Args)]
struct ListArgs {
    /// Name or email contains this.
    #[arg(long)]
    search: Option<String>,
    /// active or inactive.
    #[arg(long)]
    status: Option<String>,
    /// At most this many rows.
    #[arg(long, default_value_t = 50)]
    limit: usize,
}

#[derive(Args)]
struct InviteArgs {
    #[arg(long)]
    email: String,
    /// Workspace id (default: your home workspace).
    #[arg(long)]
    workspace: Option<String>,
    /// Role id or name.
    #[arg(long)]
    role: Option<String>,
}

#[derive(Subcommand)]
enum Invitations {
    List {
        #[arg(long)]
        include_accepted: bool,
        #[arg(long)]
        include_expired: bool,
    },
    /// Revoke an invitation by its id.
    Revoke { id: String },
}

#[derive(Subcommand)]
enum Sessions {
    List {
        /// Only this user's (id or email).
        #[arg(long)]
        user: Option<String>,
        #[arg(long)]
        include_ended: bool,
    },
    /// End one session.
    Revoke { id: String },
    /// End every session of a user (id or email).
    RevokeAll { user: String },
}

#[derive(Subcommand)]
enum CustomersCommand {
    /// Customers by name, with their workspaces, users, flows and last activity.
    List {
        /// Part of the name or slug.
        #[arg(long)]
        search: Option<String>,
    },
    /// One customer (id or name) with its workspaces.
    Get { customer: String },
    /// A new tenant customer with its first workspace (platform staff).
    Create {
        name: String,
        /// Lowercase letters, digits and dashes; default: from the name.
        #[arg(long)]
        slug: Option<String>,
        /// The first workspace's name; default: Main.
        #[arg(long)]
        workspace: Option<String>,
    },
    /// Rename a customer (id or name).
    Rename { customer: String, name: String },
}

#[derive(Subcommand)]
enum SettingsCommand {
    /// Each setting in effect, its boot value, and whether it was changed at run time.
    Show,
    /// Change settings, as `name=value` pairs (`access_token_ttl_secs=300`,
    /// `password_reject_common=true`); `name=default` returns one to its boot value.
    Set {
        #[arg(required = true)]
        pairs: Vec<String>,
    },
}

#[derive(Subcommand)]
enum WorkspacesCommand {
    /// A customer's workspaces (yours when no customer is named).
    List {
        /// Customer id or name.
        #[arg(long)]
        customer: Option<String>,
    },
    /// A new workspace in a customer.
    Create {
        /// Customer id or name.
        #[arg(long)]
        customer: String,
        name: String,
    },
    /// Rename a workspace (by id).
    Rename { workspace: uuid::Uuid, name: String },
}

#[derive(Subcommand)]
enum RolesCommand {
    List,
    /// One role, by id or name.
    Get {
        role: String,
    },
}

#[derive(Subcommand)]
enum AccessCommand {
    /// Whether a user holds a permission, and why.
    Explain {
        /// User id or email.
        #[arg(long)]
        user: String,
        /// A permission leaf, e.g. steward.flows.publish.
        #[arg(long)]
        permission: String,
        #[arg(long)]
        workspace: Option<String>,
    },
}

#[derive(Args, Clone)]
struct AuditFilter {
    /// From this time, RFC 3339 (or a date: 2026-11-22).
    #[arg(long)]
    from: Option<String>,
    #[arg(long)]
    to: Option<String>,
    /// An action, or a prefix ending in a dot (role.).
    #[arg(long)]
    action: Option<String>,
    /// success, failure or refused.
    #[arg(long)]
    outcome: Option<String>,
    /// The acting user's id.
    #[arg(long)]
    actor: Option<String>,
    #[arg(long)]
    target_type: Option<String>,
    #[arg(long)]
    target_id: Option<String>,
}

impl AuditFilter {
    fn pairs(&self) -> Vec<(&'static str, Option<String>)> {
        let day = |d: &Option<String>, end: bool| {
            d.clone()
                .map(|d| if d.len() == 10 { format!("{d}T{}Z", if end { "23:59:59" } else { "00:00:00" }) } else { d })
        };
        vec![
            ("from", day(&self.from, false)),
            ("to", day(&self.to, true)),
            ("action", self.action.clone()),
            ("outcome", self.outcome.clone()),
            ("actor", self.actor.clone()),
            ("target_type", self.target_type.clone()),
            ("target_id", self.target_id.clone()),
        ]
    }
}

#[derive(Subcommand)]
enum AuditCommand {
    /// Recent events, newest first.
    List {
        #[command(flatten)]
        filter: AuditFilter,
        #[arg(long, default_value_t = 50)]
        limit: usize,
    },
    /// Export the filter as CSV (streamed), to a file or standard output.
    Export {
        #[command(flatten)]
        filter: AuditFilter,
        #[arg(long)]
        out: Option<std::path::PathBuf>,
    },
    /// One event in full, by its number in the chain (`SEQ` in the list): who, as whom, from
    /// where, and its whole summary (the list leaves out long values).
    Show { seq: i64 },
    /// Recompute the hash chain.
    Verify,
}

fn main() {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let code = if e.use_stderr() { 2 } else { 0 };
            let _ = e.print();
            std::process::exit(code);
        }
    };
    if let Err(e) = run(cli) {
        eprintln!("steward: {e}");
        std::process::exit(e.exit_code());
    }
}

struct Ctx {
    json: bool,
    yes: bool,
    stored: Stored,
}

fn client(cli: &Cli, stored: &Stored) -> CliResult<Client> {
    let url = cli.url.clone().or_else(|| stored.url.clone()).unwrap_or_else(|| "http://127.0.0.1:8080".into());
    let token = cli.token.clone().or_else(|| stored.token.clone());
    if token.is_none() {
        return Err(CliError::Usage("not signed in: run `steward login`, or pass --token / STEWARD_TOKEN".into()));
    }
    Client::new(&url, token, cli.scope.clone().or_else(|| stored.scope.clone()))
}

fn run(cli: Cli) -> CliResult<()> {
    let stored = Stored::load();
    let ctx = Ctx { json: cli.json, yes: cli.yes, stored: stored.clone() };
    match &cli.command {
        Command::Login(args) => login(&cli, &ctx, args),
        Command::Logout => logout(&cli, &ctx),
        Command::Whoami => {
            let me: Me = client(&cli, &stored)?.get("/api/me")?;
            if ctx.json {
                output::json(&me);
            } else {
                facts(&[
                    ("user", format!("{} <{}>", me.name, me.email)),
                    ("organization", me.customer.name.clone()),
                    ("super admin", me.super_admin.to_string()),
                    ("permissions", me.permissions.len().to_string()),
                    ("scope", ctx.stored.scope.clone().unwrap_or_else(|| "tenant".into())),
                ]);
            }
            Ok(())
        }
        Command::Scope { mode, customer } => scope(&cli, &ctx, mode.as_deref(), customer.as_deref()),
        Command::Admin(cmd) => {
            let c = client(&cli, &stored)?;
            match cmd {
                AdminCommand::Users(AdminUsers::List(args)) => list_admins(&c, &ctx, args),
                AdminCommand::Users(AdminUsers::Invite(args)) => invite(&c, &ctx, args, ADMIN_ROLE),
                AdminCommand::Users(AdminUsers::Get { user }) => get_user(&c, &ctx, user),
                AdminCommand::Users(AdminUsers::Delete { user }) => delete_user(&c, &ctx, user),
                AdminCommand::Invitations(Invitations::List { include_accepted, include_expired }) => {
                    list_invitations(&c, &ctx, *include_accepted, *include_expired)
                }
                AdminCommand::Invitations(Invitations::Revoke { id }) => revoke_invitation(&c, &ctx, id),
                AdminCommand::Sessions(Sessions::List { user, include_ended }) => {
                    list_sessions(&c, &ctx, user.as_deref(), *include_ended)
                }
                AdminCommand::Sessions(Sessions::Revoke { id }) => revoke_session(&c, &ctx, id),
                AdminCommand::Sessions(Sessions::RevokeAll { user }) => revoke_all(&c, &ctx, user),
                AdminCommand::PasswordReset { email } => {
                    c.post_empty("/api/password-resets", &json!({ "email": email }))?;
                    done(
                        &ctx,
                        json!({ "sent_to": email }),
                        &format!("A password-reset link is on its way to {email}."),
                    );
                    Ok(())
                }
            }
        }
        Command::Users(cmd) => {
            let c = client(&cli, &stored)?;
            match cmd {
                UsersCommand::List(args) => list_users(&c, &ctx, args),
                UsersCommand::Get { user } => get_user(&c, &ctx, user),
                UsersCommand::Invite(args) => invite(&c, &ctx, args, VIEWER_ROLE),
                UsersCommand::Delete { user } => delete_user(&c, &ctx, user),
                UsersCommand::Reset2fa { user } => reset_two_factor(&c, &ctx, user),
                UsersCommand::Tokens { user } => user_tokens(&c, &ctx, user),
                UsersCommand::RevokeToken { user, token_id } => revoke_user_token(&c, &ctx, user, *token_id),
            }
        }
        Command::Customers(cmd) => customers(&client(&cli, &stored)?, &ctx, cmd),
        Command::Workspaces(cmd) => workspaces(&client(&cli, &stored)?, &ctx, cmd),
        Command::Roles(cmd) => {
            let c = client(&cli, &stored)?;
            match cmd {
                RolesCommand::List => list_roles(&c, &ctx),
                RolesCommand::Get { role } => get_role(&c, &ctx, role),
            }
        }
        Command::Access(AccessCommand::Explain { user, permission, workspace }) => {
            let c = client(&cli, &stored)?;
            let user = resolve_user(&c, user)?;
            let e: Explanation = c.get(&format!(
                "/api/access/explain{}",
                query(&[
                    ("user", Some(user.id.to_string())),
                    ("permission", Some(permission.clone())),
                    ("workspace", workspace.clone())
                ])
            ))?;
            if ctx.json {
                output::json(&e);
            } else {
                println!("{}", e.detail);
                let rows = e
                    .via
                    .iter()
                    .map(|g| vec![g.workspace.name.clone(), g.role_name.clone(), g.pattern.clone()])
                    .collect::<Vec<_>>();
                if !rows.is_empty() {
                    table(&["WORKSPACE", "ROLE", "PATTERN"], rows);
                }
            }
            Ok(())
        }
        Command::Settings(cmd) => settings(&client(&cli, &stored)?, &ctx, cmd),
        Command::Status => status(&client(&cli, &stored)?, &ctx),
        Command::Logs(args) => logs(&client(&cli, &stored)?, &ctx, args),
        Command::Data(cmd) => data(&client(&cli, &stored)?, &ctx, cmd),
        Command::Apps(cmd) => apps(&client(&cli, &stored)?, &ctx, cmd),
        Command::Packages { search } => packages(&client(&cli, &stored)?, &ctx, search.clone()),
        Command::Transfer { from, transfer_token: token } => {
            use steward_shared::apps::{TransferFrom, TransferReport};
            let c = client(&cli, &stored)?;
            let r: TransferReport =
                c.post("/api/applications/transfer", &TransferFrom { source_url: from.clone(), token: token.clone() })?;
            if ctx.json {
                output::json(&r);
            } else {
                println!("Transferred from {}:", r.source_url);
                for i in &r.installed {
                    report(&ctx, i);
                }
            }
            Ok(())
        }
        Command::TransferToken { app, ttl } => {
            use steward_shared::apps::{MintTransferToken, TransferToken};
            let c = client(&cli, &stored)?;
            let application_id = match app {
                Some(a) => Some(find_app(&c, a)?.id),
                None => None,
            };
            let t: TransferToken =
                c.post("/api/transfer/tokens", &MintTransferToken { application_id, ttl_minutes: Some(*ttl) })?;
            if ctx.json {
                output::json(&t);
            } else {
                println!("{}", t.token);
                eprintln!(
                    "Good once, for {}, until {}. On the other platform: steward transfer --from <this URL> --transfer-token <it>",
                    t.application.as_deref().unwrap_or("every application"),
                    when(Some(t.expires_at))
                );
            }
            Ok(())
        }
        Command::Audit(cmd) => {
            let c = client(&cli, &stored)?;
            match cmd {
                AuditCommand::List { filter, limit } => audit_list(&c, &ctx, filter, *limit),
                AuditCommand::Export { filter, out } => audit_export(&c, filter, out.as_deref()),
                AuditCommand::Show { seq } => audit_show(&c, &ctx, *seq),
                AuditCommand::Verify => {
                    let v: AuditVerification = c.get("/api/audit/verify")?;
                    if ctx.json {
                        output::json(&v);
                    } else if v.ok {
                        println!("The audit chain holds: {} events verified.", v.events_checked);
                        match &v.checkpoint {
                            Some(c) => println!(
                                "It matches the signed checkpoint of event {} ({}); {} checkpoints held against it.",
                                c.seq,
                                when(Some(c.created_at)),
                                v.checkpoints_checked
                            ),
                            None => println!(
                                "No signed checkpoint covers it yet (one is taken each second the chain grows)."
                            ),
                        }
                        if v.unkeyed_events > 0 {
                            println!("{} events come from before the chain was keyed.", v.unkeyed_events);
                        }
                    } else {
                        println!(
                            "The audit chain is BROKEN at event {}: {}",
                            v.first_broken_seq.unwrap_or_default(),
                            v.problem.clone().unwrap_or_default()
                        );
                    }
                    if v.ok {
                        Ok(())
                    } else {
                        Err(CliError::Other("audit chain verification failed".into()))
                    }
                }
            }
        }
    }
}

/// Prints the JSON for scripts, or the sentence for people.
fn done(ctx: &Ctx, value: serde_json::Value, message: &str) {
    if ctx.json {
        output::json(&value);
    } else {
        println!("{message}");
    }
}

/// Asks before a destructive step, unless --yes; refuses to guess without a terminal.
fn confirm(ctx: &Ctx, question: &str) -> CliResult<()> {
    if ctx.yes {
        return Ok(());
    }
    if !std::io::stdin().is_terminal() {
        return Err(CliError::Usage(format!("{question} — pass --yes to confirm without a terminal")));
    }
    eprint!("{question} [y/N] ");
    let _ = std::io::stderr().flush();
    let mut answer = String::new();
    std::io::stdin().lock().read_line(&mut answer).map_err(|e| CliError::Other(e.to_string()))?;
    if matches!(answer.trim().to_lowercase().as_str(), "y" | "yes") {
        Ok(())
    } else {
        Err(CliError::Aborted)
    }
}

fn login(cli: &Cli, ctx: &Ctx, args: &LoginArgs) -> CliResult<()> {
    let url = args
        .server
        .clone()
        .or_else(|| cli.url.clone())
        .or_else(|| ctx.stored.url.clone())
        .unwrap_or_else(|| "http://127.0.0.1:8080".into());
    let anon = Client::new(&url, None, None)?;
    let email = match &args.email {
        Some(e) => e.clone(),
        None => prompt("Email: ")?,
    };
    let password = if args.password_stdin {
        let mut s = String::new();
        std::io::stdin().read_to_string(&mut s).map_err(|e| CliError::Other(e.to_string()))?;
        s.trim_end_matches(['\n', '\r']).to_owned()
    } else if std::io::stdin().is_terminal() {
        rpassword::prompt_password("Password: ").map_err(|e| CliError::Other(e.to_string()))?
    } else {
        return Err(CliError::Usage("no terminal to ask for the password: pass --password-stdin".into()));
    };
    let body = |totp_code: Option<String>| LoginRequest { email: email.clone(), password: password.clone(), totp_code };
    let pair: TokenPair = match anon.post("/api/auth/login", &body(args.totp_code.clone())) {
        Err(CliError::Refused(p)) if p.code() == "totp_required" => {
            if !std::io::stdin().is_terminal() {
                return Err(CliError::Usage("this account has 2FA: pass --totp-code".into()));
            }
            let code = prompt("2FA code (or a recovery code): ")?;
            anon.post("/api/auth/login", &body(Some(code)))?
        }
        other => other?,
    };
    // Trade the short-lived session for an API token holding the same permissions.
    let session = Client::new(&url, Some(pair.access_token.clone()), None)?;
    let me: Me = session.get("/api/me")?;
    let host = std::env::var("HOSTNAME").unwrap_or_else(|_| "this machine".into());
    let created: CreatedApiToken = session.post(
        "/api/me/tokens",
        &json!({ "name": cut(&format!("steward CLI on {host}"), 100), "permissions": me.permissions, "expires_in_days": args.days }),
    )?;
    let _ = session.post_empty("/api/auth/logout", &json!({}));
    let stored = Stored {
        url: Some(url.clone()),
        token: Some(created.token),
        token_id: Some(created.info.id.to_string()),
        email: Some(me.email.clone()),
        scope: ctx.stored.scope.clone(),
    };
    stored.save()?;
    done(
        ctx,
        json!({ "url": url, "email": me.email, "token_id": created.info.id, "expires_at": created.info.expires_at }),
        &format!(
            "Signed in to {url} as {} <{}>; the token is stored in {} until {}.",
            me.name,
            me.email,
            client::config_path().display(),
            when(created.info.expires_at)
        ),
    );
    Ok(())
}

fn prompt(label: &str) -> CliResult<String> {
    if !std::io::stdin().is_terminal() {
        return Err(CliError::Usage(format!(
            "no terminal to ask `{}`: pass it as a flag",
            label.trim_end_matches([':', ' '])
        )));
    }
    eprint!("{label}");
    let _ = std::io::stderr().flush();
    let mut s = String::new();
    std::io::stdin().lock().read_line(&mut s).map_err(|e| CliError::Other(e.to_string()))?;
    Ok(s.trim().to_owned())
}

fn logout(cli: &Cli, ctx: &Ctx) -> CliResult<()> {
    if let (Some(id), Ok(c)) = (&ctx.stored.token_id, client(cli, &ctx.stored)) {
        match c.delete(&format!("/api/me/tokens/{id}"), "") {
            Ok(_) | Err(CliError::Refused(_)) | Err(CliError::NotFound(_)) => {}
            Err(e) => return Err(e),
        }
    }
    Stored::forget()?;
    done(ctx, json!({ "signed_out": true }), "Signed out; the stored token is revoked and forgotten.");
    Ok(())
}

fn scope(cli: &Cli, ctx: &Ctx, mode: Option<&str>, customer: Option<&str>) -> CliResult<()> {
    let value = match (mode, customer) {
        (None, _) => {
            let current = ctx.stored.scope.clone().unwrap_or_else(|| "tenant".into());
            done(ctx, json!({ "scope": current }), &format!("scope: {current}"));
            return Ok(());
        }
        (Some("tenant"), None) | (Some("all"), None) => mode.unwrap_or_default().to_owned(),
        (Some("customer"), Some(c)) => {
            let list: Page<CustomerSummary> = Client::new(
                &cli.url.clone().or_else(|| ctx.stored.url.clone()).unwrap_or_else(|| "http://127.0.0.1:8080".into()),
                cli.token.clone().or_else(|| ctx.stored.token.clone()),
                Some("all".into()),
            )?
            .get(&format!(
                "/api/customers{}",
                query(&[("search", Some(c.to_owned())), ("limit", Some("20".into()))])
            ))?;
            let hits: Vec<_> = list
                .items
                .iter()
                .filter(|x| x.id.to_string() == c || x.name.to_lowercase().contains(&c.to_lowercase()))
                .collect();
            match hits.as_slice() {
                [one] => format!("customer:{}", one.id),
                [] => return Err(CliError::Usage(format!("no customer matches `{c}`"))),
                many => {
                    let names: Vec<String> = many.iter().map(|x| x.name.clone()).collect();
                    return Err(CliError::Usage(format!("`{c}` matches several customers: {}", names.join(", "))));
                }
            }
        }
        (Some("customer"), None) => {
            return Err(CliError::Usage("name the customer: steward scope customer <name or id>".into()))
        }
        (Some(other), _) => {
            return Err(CliError::Usage(format!("the scope is tenant, all or customer <name or id>, not `{other}`")))
        }
    };
    // Ask the server: a scope you may not use is refused now, not on every later command.
    let mut check = client(cli, &ctx.stored)?;
    check.scope = Some(value.clone());
    let _: serde_json::Value = check.get("/api/scope")?;
    let mut stored = ctx.stored.clone();
    stored.scope = Some(value.clone());
    stored.save()?;
    done(ctx, json!({ "scope": value }), &format!("scope: {value}"));
    Ok(())
}

fn user_rows(users: &[DirectoryUser], with_customer: bool) -> Vec<Vec<String>> {
    users
        .iter()
        .map(|u| {
            let mut row = vec![u.id.to_string(), u.name.clone(), u.email.clone()];
            if with_customer {
                row.push(u.customer_name.clone());
            }
            row.extend([
                u.home_workspace.as_ref().map(|w| w.name.clone()).unwrap_or_else(|| "—".into()),
                u.home_role.clone().unwrap_or_else(|| "—".into()),
                format!("{}{}", u.status, if u.super_admin { ", super admin" } else { "" }),
                if u.totp_enabled { "on".into() } else { "—".into() },
                when(u.last_login_at),
            ]);
            row
        })
        .collect()
}

fn print_users(ctx: &Ctx, users: &[DirectoryUser], with_customer: bool) {
    if ctx.json {
        output::json(&users);
        return;
    }
    let mut headers = vec!["ID", "NAME", "EMAIL"];
    if with_customer {
        headers.push("CUSTOMER");
    }
    headers.extend(["HOME WORKSPACE", "ROLE", "STATUS", "2FA", "LAST SIGN-IN"]);
    table(&headers, user_rows(users, with_customer));
}

/// Follows `next_cursor` until `limit` rows.
fn collect<T: serde::de::DeserializeOwned>(c: &Client, path: &str, limit: usize) -> CliResult<Vec<T>> {
    let mut out = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let sep = if path.contains('?') { '&' } else { '?' };
        let page_size = (limit - out.len()).clamp(1, 200);
        let mut url = format!("{path}{sep}limit={page_size}");
        if let Some(c) = &cursor {
            url.push_str(&format!("&cursor={}", client::enc(c)));
        }
        let page: Page<T> = c.get(&url)?;
        out.extend(page.items);
        cursor = page.next_cursor;
        if cursor.is_none() || out.len() >= limit {
            break;
        }
    }
    out.truncate(limit);
    Ok(out)
}

fn list_users(c: &Client, ctx: &Ctx, args: &ListArgs) -> CliResult<()> {
    let path = format!("/api/users{}", query(&[("search", args.search.clone()), ("status", args.status.clone())]));
    let users: Vec<DirectoryUser> = collect(c, &path, args.limit)?;
    print_users(ctx, &users, c.scope.as_deref().is_some_and(|s| s != "tenant"));
    Ok(())
}

/// Console administrators: your own organization's staff, and holders of the admin role anywhere
/// you may look.
fn list_admins(c: &Client, ctx: &Ctx, args: &ListArgs) -> CliResult<()> {
    let filters = [("search", args.search.clone()), ("status", args.status.clone())];
    let staff = Client::new(&c.base, c.token.clone(), Some("tenant".into()))?;
    let mut users: Vec<DirectoryUser> = collect(&staff, &format!("/api/users{}", query(&filters)), args.limit)?;
    let mut with_role = filters.to_vec();
    with_role.push(("role_id", Some(ADMIN_ROLE.into())));
    let everywhere = Client::new(&c.base, c.token.clone(), Some(c.scope.clone().unwrap_or_else(|| "all".into())))?;
    match collect::<DirectoryUser>(&everywhere, &format!("/api/users{}", query(&with_role)), args.limit) {
        Ok(more) => {
            for u in more {
                if !users.iter().any(|x| x.id == u.id) {
                    users.push(u);
                }
            }
        }
        // Without cross-tenant rights, your own organization is all there is to list.
        Err(CliError::Refused(_)) => {}
        Err(e) => return Err(e),
    }
    users.truncate(args.limit);
    print_users(ctx, &users, true);
    Ok(())
}

/// A user by id, or by exact email through the directory's search.
fn resolve_user(c: &Client, user: &str) -> CliResult<DirectoryUser> {
    if uuid::Uuid::parse_str(user).is_ok() {
        return c.get(&format!("/api/users/{user}"));
    }
    let page: Page<DirectoryUser> =
        c.get(&format!("/api/users{}", query(&[("search", Some(user.to_owned())), ("limit", Some("20".into()))])))?;
    page.items.into_iter().find(|u| u.email.eq_ignore_ascii_case(user)).ok_or_else(|| {
        CliError::NotFound(Box::new(steward_shared::problem::Problem {
            type_: "urn:steward:problem:not_found".into(),
            title: "Not found".into(),
            status: 404,
            detail: Some(format!("No user `{user}` in the current scope (see `steward scope`).")),
            instance: None,
            request_id: None,
            errors: Vec::new(),
        }))
    })
}

fn get_user(c: &Client, ctx: &Ctx, user: &str) -> CliResult<()> {
    let u = resolve_user(c, user)?;
    if ctx.json {
        output::json(&u);
        return Ok(());
    }
    let workspaces: Vec<String> =
        u.workspaces.iter().map(|m| format!("{} ({})", m.workspace.name, m.role_name)).collect();
    facts(&[
        ("id", u.id.to_string()),
        ("name", u.name.clone()),
        ("email", u.email.clone()),
        ("customer", u.customer_name.clone()),
        ("status", u.status.clone()),
        ("super admin", u.super_admin.to_string()),
        ("2FA", if u.totp_enabled { "on".into() } else { "off".into() }),
        ("workspaces", if workspaces.is_empty() { "—".into() } else { workspaces.join(", ") }),
        ("last sign-in", when(u.last_login_at)),
        ("created", when(Some(u.created_at))),
    ]);
    Ok(())
}

fn delete_user(c: &Client, ctx: &Ctx, user: &str) -> CliResult<()> {
    let u = resolve_user(c, user)?;
    confirm(ctx, &format!("Erase {} <{}>? Their identity is scrubbed; this cannot be undone.", u.name, u.email))?;
    c.delete(&format!("/api/users/{}", u.id), &u.email)?;
    done(ctx, json!({ "erased": u.id }), &format!("Erased {}.", u.email));
    Ok(())
}

fn user_tokens(c: &Client, ctx: &Ctx, user: &str) -> CliResult<()> {
    let u = resolve_user(c, user)?;
    let page: Page<ApiTokenInfo> = c.get(&format!("/api/users/{}/tokens?limit=200", u.id))?;
    if ctx.json {
        output::json(&page.items);
        return Ok(());
    }
    table(
        &["ID", "NAME", "PREFIX", "PERMISSIONS", "EXPIRES", "LAST USED", "REVOKED"],
        page.items
            .iter()
            .map(|t| {
                vec![
                    t.id.to_string(),
                    t.name.clone(),
                    t.prefix.clone(),
                    t.permissions.join(" "),
                    when(t.expires_at),
                    when(t.last_used_at),
                    when(t.revoked_at),
                ]
            })
            .collect(),
    );
    Ok(())
}

fn revoke_user_token(c: &Client, ctx: &Ctx, user: &str, token: uuid::Uuid) -> CliResult<()> {
    let u = resolve_user(c, user)?;
    confirm(ctx, &format!("Revoke API token {token} of {} <{}>? Scripts using it stop working.", u.name, u.email))?;
    c.delete(&format!("/api/users/{}/tokens/{token}", u.id), &u.email)?;
    done(ctx, json!({ "revoked": token }), &format!("Revoked that token of {}.", u.email));
    Ok(())
}

fn reset_two_factor(c: &Client, ctx: &Ctx, user: &str) -> CliResult<()> {
    let u = resolve_user(c, user)?;
    confirm(ctx, &format!("Turn 2FA off for {} <{}>? Their sessions end; they enrol again.", u.name, u.email))?;
    c.delete(&format!("/api/users/{}/2fa", u.id), &u.email)?;
    done(
        ctx,
        json!({ "two_factor_reset": u.id }),
        &format!("2FA is off for {}; they enrol again after signing in.", u.email),
    );
    Ok(())
}

fn invite(c: &Client, ctx: &Ctx, args: &InviteArgs, default_role: &str) -> CliResult<()> {
    let workspace = match &args.workspace {
        Some(w) => w.clone(),
        None => {
            let me: Me = c.get("/api/me")?;
            me.home_workspace
                .map(|w| w.id.to_string())
                .ok_or_else(|| CliError::Usage("you have no home workspace: pass --workspace".into()))?
        }
    };
    let role = match &args.role {
        None => default_role.to_owned(),
        Some(r) if uuid::Uuid::parse_str(r).is_ok() => r.clone(),
        Some(name) => {
            let roles: Page<RoleSummary> = c.get("/api/roles")?;
            roles
                .items
                .into_iter()
                .find(|x| {
                    x.name.eq_ignore_ascii_case(name)
                        && (x.system || x.workspace.as_ref().is_some_and(|w| w.id.to_string() == workspace))
                })
                .map(|x| x.id.to_string())
                .ok_or_else(|| CliError::Usage(format!("no role `{name}` fits that workspace")))?
        }
    };
    let i: Invitation =
        c.post("/api/invitations", &json!({ "email": args.email, "workspace_id": workspace, "role_id": role }))?;
    done(
        ctx,
        serde_json::to_value(&i).unwrap_or_default(),
        &format!(
            "Invited {} to {} as {}; the link expires {}.",
            i.email,
            i.workspace.name,
            i.role_name,
            when(Some(i.expires_at))
        ),
    );
    Ok(())
}

fn list_invitations(c: &Client, ctx: &Ctx, accepted: bool, expired: bool) -> CliResult<()> {
    let path = format!(
        "/api/invitations{}",
        query(&[
            ("include_accepted", accepted.then(|| "true".into())),
            ("include_expired", expired.then(|| "true".into()))
        ])
    );
    let list: Vec<Invitation> = collect(c, &path, 1000)?;
    if ctx.json {
        output::json(&list);
        return Ok(());
    }
    table(
        &["ID", "EMAIL", "WORKSPACE", "ROLE", "STATUS", "EXPIRES"],
        list.iter()
            .map(|i| {
                vec![
                    i.id.to_string(),
                    i.email.clone(),
                    i.workspace.name.clone(),
                    i.role_name.clone(),
                    i.status.clone(),
                    when(Some(i.expires_at)),
                ]
            })
            .collect(),
    );
    Ok(())
}

fn revoke_invitation(c: &Client, ctx: &Ctx, id: &str) -> CliResult<()> {
    if uuid::Uuid::parse_str(id).is_err() {
        return Err(CliError::Usage(format!("`{id}` is not an invitation id (see `steward admin invitations list`)")));
    }
    let all: Vec<Invitation> = collect(c, "/api/invitations?include_accepted=true&include_expired=true", 1000)?;
    let email = all.iter().find(|i| i.id.to_string() == id).map(|i| i.email.clone()).unwrap_or_default();
    confirm(
        ctx,
        &format!("Revoke the invitation {}?", if email.is_empty() { id.to_owned() } else { format!("to {email}") }),
    )?;
    c.delete(&format!("/api/invitations/{id}"), &email)?;
    done(ctx, json!({ "revoked": id }), "Revoked.");
    Ok(())
}

fn list_sessions(c: &Client, ctx: &Ctx, user: Option<&str>, ended: bool) -> CliResult<()> {
    let user_id = match user {
        Some(u) => Some(resolve_user(c, u)?.id.to_string()),
        None => None,
    };
    let path =
        format!("/api/sessions{}", query(&[("user_id", user_id), ("include_ended", ended.then(|| "true".into()))]));
    let list: Vec<SessionRow> = collect(c, &path, 1000)?;
    if ctx.json {
        output::json(&list);
        return Ok(());
    }
    table(
        &["ID", "USER", "IP", "CLIENT", "SIGNED IN", "LAST SEEN", "EXPIRES"],
        list.iter()
            .map(|s| {
                vec![
                    s.id.to_string(),
                    s.user_email.clone(),
                    s.ip.clone().unwrap_or_else(|| "—".into()),
                    s.user_agent.clone().map(|a| cut(&a, 24)).unwrap_or_else(|| "—".into()),
                    when(Some(s.created_at)),
                    when(Some(s.last_seen_at)),
                    when(Some(s.expires_at)),
                ]
            })
            .collect(),
    );
    Ok(())
}

fn revoke_session(c: &Client, ctx: &Ctx, id: &str) -> CliResult<()> {
    if uuid::Uuid::parse_str(id).is_err() {
        return Err(CliError::Usage(format!("`{id}` is not a session id (see `steward admin sessions list`)")));
    }
    let live: Vec<SessionRow> = collect(c, "/api/sessions?include_ended=true", 1000)?;
    let email = live.iter().find(|s| s.id.to_string() == id).map(|s| s.user_email.clone()).unwrap_or_default();
    confirm(
        ctx,
        &format!("End session {id}{}?", if email.is_empty() { String::new() } else { format!(" of {email}") }),
    )?;
    let r: steward_shared::api::Revoked =
        c.delete(&format!("/api/sessions/{id}"), &email)?.json().map_err(|e| CliError::Other(e.to_string()))?;
    done(ctx, json!({ "revoked": r.revoked }), &format!("{} session ended.", r.revoked));
    Ok(())
}

fn revoke_all(c: &Client, ctx: &Ctx, user: &str) -> CliResult<()> {
    let u = resolve_user(c, user)?;
    confirm(ctx, &format!("End every session of {}?", u.email))?;
    let r: steward_shared::api::Revoked = c.delete_json(&format!("/api/users/{}/sessions", u.id), &u.email)?;
    done(ctx, json!({ "revoked": r.revoked }), &format!("{} session(s) of {} ended.", r.revoked, u.email));
    Ok(())
}

/// A customer by id, exact name (any case), or the one name containing `key`.
fn find_customer(c: &Client, key: &str) -> CliResult<CustomerOverview> {
    let page: Page<CustomerOverview> = c.get(&format!(
        "/api/customers/overview{}",
        query(&[
            ("search", (uuid::Uuid::parse_str(key).is_err()).then(|| key.to_owned())),
            ("limit", Some("200".into()))
        ])
    ))?;
    if let Some(hit) =
        page.items.iter().find(|x| x.customer.id.to_string() == key || x.customer.name.eq_ignore_ascii_case(key))
    {
        return Ok(hit.clone());
    }
    let mut hits: Vec<CustomerOverview> =
        page.items.into_iter().filter(|x| x.customer.name.to_lowercase().contains(&key.to_lowercase())).collect();
    match hits.len() {
        1 => Ok(hits.remove(0)),
        0 => Err(CliError::Usage(format!("no customer matches `{key}` (see `steward customers list`)"))),
        _ => {
            let names: Vec<String> = hits.iter().map(|x| x.customer.name.clone()).collect();
            Err(CliError::Usage(format!("`{key}` matches several customers: {}", names.join(", "))))
        }
    }
}

fn settings(c: &Client, ctx: &Ctx, cmd: &SettingsCommand) -> CliResult<()> {
    let view: SettingsView = match cmd {
        SettingsCommand::Show => c.get("/api/settings")?,
        SettingsCommand::Set { pairs } => {
            let mut body = serde_json::Map::new();
            for pair in pairs {
                let Some((name, raw)) = pair.split_once('=') else {
                    return Err(CliError::Usage(format!("`{pair}`: write it as name=value")));
                };
                let value = match raw.trim() {
                    "default" => serde_json::Value::Null,
                    "true" | "on" => json!(true),
                    "false" | "off" => json!(false),
                    n => json!(n.parse::<u64>().map_err(|_| {
                        CliError::Usage(format!("`{name}`: `{n}` is not a number, true/false or default"))
                    })?),
                };
                body.insert(name.trim().to_owned(), value);
            }
            c.patch("/api/settings", &body)?
        }
    };
    if ctx.json {
        output::json(&view);
        return Ok(());
    }
    let as_map = |s: &steward_shared::api::RuntimeSettings| match serde_json::to_value(s) {
        Ok(serde_json::Value::Object(m)) => m,
        _ => serde_json::Map::new(),
    };
    let (now, boot) = (as_map(&view.effective), as_map(&view.defaults));
    table(
        &["SETTING", "VALUE", "BOOT VALUE", "CHANGED"],
        now.iter()
            .map(|(name, value)| {
                vec![
                    name.clone(),
                    value.to_string(),
                    boot.get(name).map(ToString::to_string).unwrap_or_default(),
                    if view.overridden.contains(name) { "yes".into() } else { "".into() },
                ]
            })
            .collect(),
    );
    Ok(())
}

fn customers(c: &Client, ctx: &Ctx, cmd: &CustomersCommand) -> CliResult<()> {
    match cmd {
        CustomersCommand::List { search } => {
            let page: Page<CustomerOverview> = c.get(&format!(
                "/api/customers/overview{}",
                query(&[("search", search.clone()), ("limit", Some("200".into()))])
            ))?;
            if ctx.json {
                output::json(&page.items);
                return Ok(());
            }
            table(
                &["ID", "NAME", "SLUG", "KIND", "WORKSPACES", "USERS", "FLOWS", "LAST ACTIVITY"],
                page.items
                    .iter()
                    .map(|x| {
                        vec![
                            x.customer.id.to_string(),
                            x.customer.name.clone(),
                            x.customer.slug.clone(),
                            x.customer.kind.clone(),
                            x.workspaces.to_string(),
                            x.users.to_string(),
                            x.flows.to_string(),
                            when(x.last_activity_at),
                        ]
                    })
                    .collect(),
            );
            if page.next_cursor.is_some() {
                eprintln!("(the first 200; narrow with --search)");
            }
            Ok(())
        }
        CustomersCommand::Get { customer } => {
            let id = find_customer(c, customer)?.customer.id;
            let d: CustomerDetail = c.get(&format!("/api/customers/{id}"))?;
            if ctx.json {
                output::json(&d);
                return Ok(());
            }
            facts(&[
                ("id", d.customer.id.to_string()),
                ("name", d.customer.name.clone()),
                ("slug", d.customer.slug.clone()),
                ("kind", d.customer.kind.clone()),
                ("users", d.users.to_string()),
                ("created", when(Some(d.customer.created_at))),
            ]);
            println!();
            table(
                &["WORKSPACE ID", "WORKSPACE"],
                d.workspaces.iter().map(|w| vec![w.id.to_string(), w.name.clone()]).collect(),
            );
            Ok(())
        }
        CustomersCommand::Create { name, slug, workspace } => {
            let body = CreateCustomer { name: name.clone(), slug: slug.clone(), workspace_name: workspace.clone() };
            let d: CustomerDetail = c.post("/api/customers", &body)?;
            let first = d.workspaces.first().map(|w| w.name.clone()).unwrap_or_default();
            done(
                ctx,
                json!(d),
                &format!("Created {} ({}) with its workspace {first}.", d.customer.name, d.customer.id),
            );
            Ok(())
        }
        CustomersCommand::Rename { customer, name } => {
            let found = find_customer(c, customer)?;
            let renamed: CustomerSummary =
                c.put(&format!("/api/customers/{}", found.customer.id), &Rename { name: name.clone() })?;
            done(ctx, json!(renamed), &format!("{} is now {}.", found.customer.name, renamed.name));
            Ok(())
        }
    }
}

fn workspaces(c: &Client, ctx: &Ctx, cmd: &WorkspacesCommand) -> CliResult<()> {
    match cmd {
        WorkspacesCommand::List { customer } => {
            let path = match customer {
                Some(key) => format!("/api/workspaces?customer_id={}", find_customer(c, key)?.customer.id),
                None => "/api/workspaces".to_owned(),
            };
            let list: Vec<WorkspaceSummary> = collect(c, &path, usize::MAX)?;
            if ctx.json {
                output::json(&list);
                return Ok(());
            }
            table(
                &["ID", "NAME", "MEMBERS"],
                list.iter().map(|w| vec![w.id.to_string(), w.name.clone(), w.member_count.to_string()]).collect(),
            );
            Ok(())
        }
        WorkspacesCommand::Create { customer, name } => {
            let found = find_customer(c, customer)?;
            let w: WorkspaceRef =
                c.post(&format!("/api/customers/{}/workspaces", found.customer.id), &Rename { name: name.clone() })?;
            done(ctx, json!(w), &format!("Created workspace {} ({}) in {}.", w.name, w.id, found.customer.name));
            Ok(())
        }
        WorkspacesCommand::Rename { workspace, name } => {
            let w: WorkspaceRef = c.put(&format!("/api/workspaces/{workspace}"), &Rename { name: name.clone() })?;
            done(ctx, json!(w), &format!("Workspace {} is now {}.", w.id, w.name));
            Ok(())
        }
    }
}

fn list_roles(c: &Client, ctx: &Ctx) -> CliResult<()> {
    let list: Page<RoleSummary> = c.get("/api/roles")?;
    if ctx.json {
        output::json(&list.items);
        return Ok(());
    }
    table(
        &["ID", "NAME", "TYPE", "WORKSPACE", "MEMBERS", "COVERAGE"],
        list.items
            .iter()
            .map(|r| {
                vec![
                    r.id.to_string(),
                    r.name.clone(),
                    if r.system { "system".into() } else { "custom".into() },
                    r.workspace.as_ref().map(|w| w.name.clone()).unwrap_or_else(|| "all".into()),
                    r.member_count.to_string(),
                    format!("{} of {}", r.granted_leaves, r.total_leaves),
                ]
            })
            .collect(),
    );
    Ok(())
}

fn get_role(c: &Client, ctx: &Ctx, role: &str) -> CliResult<()> {
    let r: RoleSummary = if uuid::Uuid::parse_str(role).is_ok() {
        c.get(&format!("/api/roles/{role}"))?
    } else {
        let list: Page<RoleSummary> = c.get("/api/roles")?;
        let mut hits: Vec<RoleSummary> = list.items.into_iter().filter(|r| r.name.eq_ignore_ascii_case(role)).collect();
        match hits.len() {
            1 => hits.remove(0),
            0 => return Err(CliError::Usage(format!("no role named `{role}` (see `steward roles list`)"))),
            _ => return Err(CliError::Usage(format!("several roles are named `{role}`: give its id"))),
        }
    };
    if ctx.json {
        output::json(&r);
        return Ok(());
    }
    facts(&[
        ("id", r.id.to_string()),
        ("name", r.name.clone()),
        ("description", r.description.clone()),
        ("type", if r.system { "system (read-only)".into() } else { "custom".into() }),
        ("workspace", r.workspace.as_ref().map(|w| w.name.clone()).unwrap_or_else(|| "all".into())),
        ("members", r.member_count.to_string()),
        ("patterns", r.patterns.join(", ")),
        ("coverage", format!("{} of {} leaves", r.granted_leaves, r.total_leaves)),
    ]);
    Ok(())
}

fn audit_list(c: &Client, ctx: &Ctx, filter: &AuditFilter, limit: usize) -> CliResult<()> {
    let path = format!("/api/audit{}", query(&filter.pairs()));
    let events: Vec<AuditEvent> = collect(c, &path, limit)?;
    if ctx.json {
        output::json(&events);
        return Ok(());
    }
    table(
        &["SEQ", "TIME", "ACTOR", "ACTION", "OUTCOME", "TARGET"],
        events
            .iter()
            .map(|e| {
                let actor = match (&e.actor_email, &e.impersonated_email) {
                    (Some(a), Some(t)) => format!("{a} (as {t})"),
                    (Some(a), None) => a.clone(),
                    _ => "—".into(),
                };
                let target = match (&e.target_type, &e.target_id) {
                    (Some(t), Some(id)) => format!("{t} {id}"),
                    _ => "—".into(),
                };
                vec![e.seq.to_string(), when(Some(e.occurred_at)), actor, e.action.clone(), e.outcome.clone(), target]
            })
            .collect(),
    );
    Ok(())
}

fn audit_show(c: &Client, ctx: &Ctx, seq: i64) -> CliResult<()> {
    let e: AuditEvent = c.get(&format!("/api/audit/{seq}"))?;
    if ctx.json {
        output::json(&e);
        return Ok(());
    }
    let or_dash = |v: &Option<String>| v.clone().unwrap_or_else(|| "—".into());
    let actor = match (&e.actor_email, &e.impersonated_email) {
        (Some(a), Some(t)) => format!("{a} (viewing as {t})"),
        (Some(a), None) => a.clone(),
        _ => "the platform".into(),
    };
    let target = match (&e.target_type, &e.target_name, &e.target_id) {
        (Some(t), Some(name), _) => format!("{t} {name}"),
        (Some(t), None, Some(id)) => format!("{t} {id}"),
        _ => "—".into(),
    };
    facts(&[
        ("Event", format!("#{} at {}", e.seq, when(Some(e.occurred_at)))),
        ("Action", format!("{} ({})", e.action, e.outcome)),
        ("Actor", actor),
        ("Target", target),
        ("Customer", e.customer_name.clone().unwrap_or_else(|| "— (platform)".into())),
        ("Request", or_dash(&e.request_id)),
        ("From", format!("{} {}", or_dash(&e.ip), e.user_agent.clone().unwrap_or_default())),
        ("Hash", e.hash.clone()),
    ]);
    println!("{}", serde_json::to_string_pretty(&e.summary).unwrap_or_default());
    Ok(())
}

fn audit_export(c: &Client, filter: &AuditFilter, out: Option<&std::path::Path>) -> CliResult<()> {
    let mut response = c.get_raw(&format!("/api/audit/export{}", query(&filter.pairs())))?;
    let mut sink: Box<dyn Write> = match out {
        Some(path) => Box::new(std::io::BufWriter::new(
            std::fs::File::create(path)
                .map_err(|e| CliError::Other(format!("cannot write {}: {e}", path.display())))?,
        )),
        None => Box::new(std::io::BufWriter::new(std::io::stdout().lock())),
    };
    // A progress bar on the terminal (rows so far); none when piped.
    let bar = if out.is_some() && std::io::stderr().is_terminal() {
        let bar = indicatif::ProgressBar::new_spinner();
        bar.set_style(
            indicatif::ProgressStyle::with_template("{spinner} {pos} rows exported ({per_sec}) {elapsed}")
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_spinner()),
        );
        Some(bar)
    } else {
        None
    };
    let mut buf = vec![0u8; 64 * 1024];
    let mut rows: u64 = 0;
    loop {
        let n = response.read(&mut buf).map_err(|e| CliError::Unreachable(format!("the export was cut off: {e}")))?;
        if n == 0 {
            break;
        }
        let chunk = buf.get(..n).unwrap_or_default();
        sink.write_all(chunk).map_err(|e| CliError::Other(e.to_string()))?;
        let lines = chunk.iter().filter(|b| **b == b'\n').count() as u64;
        rows += lines;
        if let Some(bar) = &bar {
            bar.inc(lines);
        }
    }
    sink.flush().map_err(|e| CliError::Other(e.to_string()))?;
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    if let Some(path) = out {
        eprintln!("Exported {} events to {}.", rows.saturating_sub(1), path.display());
    }
    Ok(())
}

fn status(c: &Client, ctx: &Ctx) -> CliResult<()> {
    let s: SystemStatus = c.get("/api/system/status")?;
    if ctx.json {
        output::json(&s);
        return Ok(());
    }
    let db = &s.database;
    let q = &s.queue;
    facts(&[
        (
            "replica",
            format!(
                "{} on {} (Steward {}, build {})",
                s.replica.id, s.replica.host, s.replica.version, s.replica.build
            ),
        ),
        ("uptime", format!("{} s", s.replica.uptime_secs)),
        ("requests in flight", s.requests.in_flight.to_string()),
        ("database", format!("{} {}: round trip {:.1} ms", db.backend, db.version, db.round_trip_ms)),
        ("pool", format!("{} in use, {} idle of {} max", db.pool.in_use, db.pool.idle, db.pool.max)),
        ("migrations", format!("{} applied, {} pending", db.migrations_applied, db.migrations_pending)),
        (
            "run queue",
            format!(
                "{} queued ({} running), oldest {}, scheduler lag {:.1} s",
                q.depth,
                q.running,
                q.oldest_queued_secs.map(|s| format!("{s:.1} s")).unwrap_or_else(|| "—".into()),
                q.scheduler_lag_secs
            ),
        ),
        ("workers", format!("{} busy of {}", q.workers.iter().filter(|w| w.state == "busy").count(), q.workers.len())),
        ("sessions", format!("{} active", s.sessions_active)),
        ("outbox", format!("{} pending", s.outbox_pending)),
        ("logs", format!("{} written, {} dropped", s.logs.written, s.logs.dropped)),
    ]);
    println!();
    table(
        &["OPERATION", "REQUESTS", "4XX", "5XX", "P50 5M", "P99 5M"],
        s.requests
            .operations
            .iter()
            .take(15)
            .map(|o| {
                let w = o.windows.get(1);
                vec![
                    o.operation.clone(),
                    o.count.to_string(),
                    o.errors_4xx.to_string(),
                    o.errors_5xx.to_string(),
                    w.map(|w| format!("{:.1} ms", w.p50_ms)).unwrap_or_default(),
                    w.map(|w| format!("{:.1} ms", w.p99_ms)).unwrap_or_default(),
                ]
            })
            .collect(),
    );
    println!();
    table(
        &["REPLICA", "HOST", "VERSION", "STATE", "LAST HEARD"],
        s.replicas
            .iter()
            .map(|r| {
                vec![
                    r.id.clone(),
                    r.host.clone(),
                    r.version.clone(),
                    if r.silent { "silent".into() } else { "live".into() },
                    when(Some(r.last_seen_at)),
                ]
            })
            .collect(),
    );
    Ok(())
}

const LOG_STREAMS: &[&str] = &["platform", "auth", "system"];
const SYSTEM_TABS: &[&str] = &["startup", "periodic", "startup_error", "package_install", "user_task", "api_error"];

fn log_line(ctx: &Ctx, l: &LogEntry) {
    if ctx.json {
        println!("{}", serde_json::to_string(l).unwrap_or_default());
    } else {
        let time = l.at.with_timezone(&chrono::Local).format("%Y-%m-%d %H:%M:%S%.3f %:z");
        let from = l.ip.as_deref().map(|ip| format!(" [{ip}]")).unwrap_or_default();
        println!("{time} {:5} {:8} {:15} {}{from}", l.level.to_uppercase(), l.stream, l.kind, l.message);
    }
}

fn logs(c: &Client, ctx: &Ctx, args: &LogsArgs) -> CliResult<()> {
    let (stream, kind) = match args.tab.as_deref() {
        None => (None, None),
        Some(t) if LOG_STREAMS.contains(&t) => (Some(t.to_owned()), None),
        Some(t) if SYSTEM_TABS.contains(&t) => (Some("system".to_owned()), Some(t.to_owned())),
        Some(t) => {
            return Err(CliError::Usage(format!(
                "--tab must be one of: {}, {} (not `{t}`)",
                LOG_STREAMS.join(", "),
                SYSTEM_TABS.join(", ")
            )))
        }
    };
    let pairs = [
        ("stream", stream),
        ("kind", kind),
        ("level", args.level.clone()),
        ("q", args.search.clone()),
        ("request_id", args.request_id.clone()),
    ];
    let filter = query(&pairs);
    let lines: Vec<LogEntry> = collect(c, &format!("/api/logs{filter}"), args.limit.max(1))?;
    // Oldest first on the terminal, as a log reads; the tail continues after the newest.
    for l in lines.iter().rev() {
        log_line(ctx, l);
    }
    if !args.follow {
        return Ok(());
    }
    let after = lines.first().map(|l| l.seq);
    let mut follow = format!("/api/logs/follow{filter}");
    if let Some(seq) = after {
        follow.push_str(&format!("{}after={seq}", if filter.is_empty() { '?' } else { '&' }));
    }
    let response = c.get_stream(&follow)?;
    let mut data = String::new();
    let mut event = String::new();
    for line in std::io::BufReader::new(response).lines() {
        let line = line.map_err(|e| CliError::Unreachable(format!("the tail was cut off: {e}")))?;
        if let Some(e) = line.strip_prefix("event:") {
            event = e.trim().to_owned();
        } else if let Some(d) = line.strip_prefix("data:") {
            data.push_str(d.trim_start());
        } else if line.is_empty() {
            match event.as_str() {
                "log" => match serde_json::from_str::<LogEntry>(&data) {
                    Ok(l) => {
                        log_line(ctx, &l);
                        let _ = std::io::stdout().flush();
                    }
                    Err(e) => eprintln!("steward: a line could not be read: {e}"),
                },
                "end" => return Err(CliError::Other(format!("the server ended the tail: {data}"))),
                _ => {}
            }
            data.clear();
            event.clear();
        }
    }
    Ok(())
}

/// Runs a data op the server's way: a dry run first, shown; then, confirmed, the real run
/// with the phrase the dry run gave.
fn data(c: &Client, ctx: &Ctx, cmd: &DataCommand) -> CliResult<()> {
    use steward_shared::data::{Confirmed, DuplicateGroup, HashWarning, MergeReport, MergeRequest, RefreshReport};
    match cmd {
        DataCommand::Merge { survivor, merged, dry_run } => {
            let mut req =
                MergeRequest { survivor_id: *survivor, merged_ids: merged.clone(), dry_run: true, confirm: None };
            let plan: MergeReport = c.post("/api/data/merge", &req)?;
            let show = |r: &MergeReport| {
                if ctx.json {
                    output::json(r);
                    return;
                }
                table(
                    &["LINK", "END", "FROM", "TO", "RELATION"],
                    r.moved
                        .iter()
                        .map(|m| {
                            vec![
                                m.link_id.to_string(),
                                m.end.clone(),
                                m.was.to_string(),
                                m.now.to_string(),
                                m.relation.clone(),
                            ]
                        })
                        .collect(),
                );
            };
            if *dry_run {
                show(&plan);
                return Ok(());
            }
            if !ctx.json {
                show(&plan);
            }
            confirm(ctx, &format!("{} ({} links move)?", plan.confirm_phrase, plan.moved.len()))?;
            req.dry_run = false;
            req.confirm = Some(plan.confirm_phrase);
            let done: MergeReport = c.post("/api/data/merge", &req)?;
            if ctx.json {
                output::json(&done);
            } else {
                println!(
                    "Merged {} into {} (merge {}); undo until {}.",
                    done.merged_ids.len(),
                    done.survivor_id,
                    done.merge_id.map(|m| m.to_string()).unwrap_or_default(),
                    when(done.undo_until)
                );
            }
            Ok(())
        }
        DataCommand::Unmerge { merge_id } => {
            let path = format!("/api/data/merges/{merge_id}/undo");
            let plan: MergeReport = c.post(&path, &Confirmed { dry_run: true, confirm: None })?;
            confirm(ctx, &format!("{} ({} links move back)?", plan.confirm_phrase, plan.moved.len()))?;
            let done: MergeReport = c.post(&path, &Confirmed { dry_run: false, confirm: Some(plan.confirm_phrase) })?;
            if ctx.json {
                output::json(&done);
            } else {
                println!(
                    "Undone: {} records are live again, {} links moved back.",
                    done.merged_ids.len(),
                    done.moved.len()
                );
            }
            Ok(())
        }
        DataCommand::Refresh { record_id } => {
            let path = format!("/api/records/{record_id}/refresh");
            let plan: RefreshReport = c.post(&path, &Confirmed { dry_run: true, confirm: None })?;
            confirm(ctx, &format!("{}?", plan.confirm_phrase))?;
            let done: RefreshReport =
                c.post(&path, &Confirmed { dry_run: false, confirm: Some(plan.confirm_phrase) })?;
            if ctx.json {
                output::json(&done);
            } else {
                let changed =
                    if done.changed.is_empty() { "nothing changed".to_owned() } else { done.changed.join(", ") };
                println!(
                    "Refreshed {} ({changed}); hash {}.",
                    done.record.external_id,
                    done.record.content_hash.unwrap_or_default()
                );
            }
            Ok(())
        }
        DataCommand::Hashes { groups } => {
            let warnings: Vec<HashWarning> = c.get::<Page<HashWarning>>("/api/data/hash-warnings")?.items;
            let groups: Option<steward_shared::api::Page<DuplicateGroup>> = match groups {
                Some(entity) => {
                    Some(c.get(&format!("/api/data/duplicates{}", query(&[("entity_type", Some(entity.clone()))])))?)
                }
                None => None,
            };
            if ctx.json {
                output::json(&json!({ "warnings": warnings, "groups": groups.map(|g| g.items) }));
                return Ok(());
            }
            table(
                &["ENTITY TYPE", "RECORDS", "DISTINCT", "DIFFER", "DUPLICATES"],
                warnings
                    .iter()
                    .map(|w| {
                        vec![
                            w.entity_type.clone(),
                            w.records.to_string(),
                            w.distinct_hashes.to_string(),
                            format!("{:.1} %", w.distinct_share * 100.0),
                            w.duplicates.to_string(),
                        ]
                    })
                    .collect(),
            );
            if let Some(groups) = groups {
                println!();
                table(
                    &["CUSTOMER", "HASH", "RECORDS", "OLDEST (SURVIVOR)"],
                    groups
                        .items
                        .iter()
                        .map(|g| {
                            vec![
                                g.customer_name.clone(),
                                cut(&g.content_hash, 12),
                                g.count.to_string(),
                                g.records.first().map(|r| format!("{} {}", r.id, r.external_id)).unwrap_or_default(),
                            ]
                        })
                        .collect(),
                );
            }
            Ok(())
        }
    }
}

/// The application named (or with this id).
fn find_app(c: &Client, app: &str) -> CliResult<steward_shared::apps::ApplicationRow> {
    use steward_shared::apps::ApplicationRow;
    let page: Page<ApplicationRow> =
        c.get(&format!("/api/applications{}", query(&[("q", Some(app.to_owned())), ("limit", Some("200".into()))])))?;
    page.items
        .into_iter()
        .find(|a| a.name == app || a.id.to_string() == app)
        .ok_or_else(|| CliError::Usage(format!("no application named `{app}` is installed")))
}

fn report(ctx: &Ctx, r: &steward_shared::apps::InstallReport) {
    if ctx.json {
        output::json(r);
        return;
    }
    let a = &r.application;
    println!(
        "{} {} {}: {} models, {} flow templates, {} connector kinds, {} packages{}",
        a.name,
        a.version.clone().unwrap_or_default(),
        if r.created { "installed" } else { "was installed already; in use again" },
        r.models,
        r.templates,
        r.connector_kinds,
        r.packages,
        a.git_commit.as_deref().map(|c| format!(" (commit {})", c.get(..10).unwrap_or(c))).unwrap_or_default(),
    );
    if !r.errors.is_empty() {
        println!("{} import errors:", r.errors.len());
        import_errors(&r.errors);
    }
}

fn import_errors(errors: &[steward_shared::apps::ImportErrorRow]) {
    table(
        &["SEVERITY", "APPLICATION", "FILE", "CODE", "MESSAGE"],
        errors
            .iter()
            .map(|e| {
                vec![
                    e.severity.as_str().into(),
                    format!("{} {}", e.application, e.version),
                    e.file.clone(),
                    e.code.clone(),
                    output::cut(&e.message, 70),
                ]
            })
            .collect(),
    );
}

fn read_bundle(path: &std::path::Path) -> CliResult<Vec<u8>> {
    std::fs::read(path).map_err(|e| CliError::Usage(format!("cannot read {}: {e}", path.display())))
}

fn apps(c: &Client, ctx: &Ctx, cmd: &AppsCommand) -> CliResult<()> {
    use steward_shared::apps::{ApplicationRow, ImportErrorRow, InstallFromGit, InstallReport, PinCommit};
    match cmd {
        AppsCommand::List => {
            let page: Page<ApplicationRow> = c.get("/api/applications?limit=200")?;
            if ctx.json {
                output::json(&page.items);
                return Ok(());
            }
            table(
                &["NAME", "VERSION", "SOURCE", "STATUS", "ERRORS", "FLOWS", "UPDATED"],
                page.items
                    .iter()
                    .map(|a| {
                        vec![
                            a.name.clone(),
                            a.version.clone().unwrap_or_default(),
                            match &a.git_url {
                                Some(url) => format!("git {url} ({})", a.git_branch.clone().unwrap_or_default()),
                                None => "archive".into(),
                            },
                            if a.active { "active" } else { "inactive" }.into(),
                            a.errors.to_string(),
                            a.flows.to_string(),
                            when(Some(a.updated_at)),
                        ]
                    })
                    .collect(),
            );
            Ok(())
        }
        AppsCommand::Install { archive, git, branch, commit } => {
            let r: InstallReport = match (archive, git) {
                (Some(path), _) => c.post_archive("/api/applications/archive", read_bundle(path)?)?,
                (None, Some(url)) => c.post(
                    "/api/applications/git",
                    &InstallFromGit { url: url.clone(), branch: branch.clone(), commit: commit.clone() },
                )?,
                (None, None) => return Err(CliError::Usage("give a bundle file or --git URL".into())),
            };
            report(ctx, &r);
            Ok(())
        }
        AppsCommand::Update { app, archive, commit } => {
            let a = find_app(c, app)?;
            let base = format!("/api/applications/{}", a.id);
            let r: InstallReport = match (archive, commit) {
                (Some(path), _) => c.post_archive(&format!("{base}/archive"), read_bundle(path)?)?,
                (None, Some(sha)) => c.post(&format!("{base}/pin"), &PinCommit { commit: sha.clone() })?,
                (None, None) => c.post(&format!("{base}/update"), &serde_json::json!({}))?,
            };
            report(ctx, &r);
            Ok(())
        }
        AppsCommand::Activate { app } | AppsCommand::Deactivate { app } => {
            let a = find_app(c, app)?;
            let action = if matches!(cmd, AppsCommand::Activate { .. }) { "activate" } else { "deactivate" };
            let row: ApplicationRow = c.post_confirmed(&format!("/api/applications/{}/{action}", a.id), &a.name)?;
            if ctx.json {
                output::json(&row);
            } else {
                println!("{} is {}.", row.name, if row.active { "active" } else { "inactive" });
            }
            Ok(())
        }
        AppsCommand::Delete { app, force } => {
            let a = find_app(c, app)?;
            if !ctx.yes {
                eprint!("Type the application's name ({}) to delete it and every version: ", a.name);
                let mut typed = String::new();
                std::io::stdin().read_line(&mut typed).map_err(|e| CliError::Other(e.to_string()))?;
                if typed.trim() != a.name {
                    return Err(CliError::Usage("the name typed does not match; nothing deleted".into()));
                }
            }
            c.delete(&format!("/api/applications/{}{}", a.id, if *force { "?force=true" } else { "" }), &a.name)?;
            if !ctx.json {
                println!("Deleted {}.", a.name);
            }
            Ok(())
        }
        AppsCommand::Errors { app } => {
            let filter = match app {
                Some(app) => Some(find_app(c, app)?.id.to_string()),
                None => None,
            };
            let page: Page<ImportErrorRow> = c.get(&format!(
                "/api/import-errors{}",
                query(&[("application_id", filter), ("limit", Some("200".into()))])
            ))?;
            if ctx.json {
                output::json(&page.items);
            } else if page.items.is_empty() {
                println!("No import errors.");
            } else {
                import_errors(&page.items);
            }
            Ok(())
        }
    }
}

fn packages(c: &Client, ctx: &Ctx, search: Option<String>) -> CliResult<()> {
    use steward_shared::apps::PackageRow;
    let page: Page<PackageRow> =
        c.get(&format!("/api/packages{}", query(&[("q", search), ("limit", Some("200".into()))])))?;
    if ctx.json {
        output::json(&page.items);
        return Ok(());
    }
    table(
        &["NAME", "VERSION", "USED BY", "PATH"],
        page.items
            .iter()
            .map(|p| vec![p.name.clone(), p.version.clone(), p.applications.join(", "), p.install_path.clone()])
            .collect(),
    );
    Ok(())
}
