//! The real `steward` binary against a real server started here on a free port (the whole
//! router over a fresh SQLite database): every command, its tables and JSON, its exit codes.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use std::io::Write;
use std::process::{Command, Stdio};

use serde_json::{json, Value};

const PASSWORD: &str = "correct horse battery staple";

struct Server {
    url: String,
    _dir: tempfile::TempDir,
    runtime: tokio::runtime::Runtime,
    db: sea_orm::DatabaseConnection,
}

fn server() -> Server {
    let dir = tempfile::tempdir().unwrap();
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let url = format!("sqlite://{}?mode=rwc", dir.path().join("steward.db").display());
    let mut config = steward_backend::Config::for_tests(url, dir.path().to_path_buf());
    config.assets_dir = Some(dir.path().join("dist"));
    let (addr, db) = runtime.block_on(async move {
        let state = steward_backend::prepare(config).await.unwrap();
        let db = state.db.clone();
        let router = steward_backend::app(state).unwrap();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            axum::serve(listener, router.into_make_service_with_connect_info::<std::net::SocketAddr>()).await
        });
        (addr, db)
    });
    Server { url: format!("http://{addr}"), _dir: dir, runtime, db }
}

/// Arranges through the API directly.
fn api(server: &Server, method: &str, path: &str, token: Option<&str>, body: Value) -> Value {
    let client = reqwest::blocking::Client::new();
    let mut req = client.request(method.parse().unwrap(), format!("{}{path}", server.url));
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    let res = req.json(&body).send().unwrap();
    assert!(res.status().is_success(), "{method} {path}: {}", res.status());
    res.json().unwrap_or(Value::Null)
}

struct Out {
    code: i32,
    stdout: String,
    stderr: String,
}

impl Out {
    fn json(&self) -> Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.stdout))
    }
}

/// Runs `steward` with its own config file and no inherited STEWARD_* settings.
fn steward(config: &std::path::Path, args: &[&str], stdin: &str) -> Out {
    let mut child = Command::new(env!("CARGO_BIN_EXE_steward"))
        .args(args)
        .env("STEWARD_CONFIG", config)
        .env_remove("STEWARD_URL")
        .env_remove("STEWARD_TOKEN")
        .env_remove("STEWARD_SCOPE")
        .env("COLUMNS", "200")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(stdin.as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    let out = Out {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    };
    assert!(!out.stderr.contains("panicked") && !out.stderr.contains("RUST_BACKTRACE"), "{}", out.stderr);
    out
}

fn ok(out: Out) -> Out {
    assert_eq!(out.code, 0, "stdout: {}\nstderr: {}", out.stdout, out.stderr);
    out
}

#[test]
fn every_command_against_a_live_server() {
    let server = server();
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("steward").join("config.json");
    let setup = api(
        &server,
        "POST",
        "/api/setup",
        None,
        json!({ "email": "ada@example.com", "password": PASSWORD, "name": "Ada Admin" }),
    );
    let admin = setup["access_token"].as_str().unwrap().to_owned();
    let me = api(&server, "GET", "/api/me", Some(&admin), Value::Null);
    let ws = me["home_workspace"]["id"].as_str().unwrap().to_owned();
    api(
        &server,
        "POST",
        "/api/users",
        Some(&admin),
        json!({ "email": "bob@example.com", "name": "Bob Builder", "password": PASSWORD, "home_workspace_id": ws, "role_id": "00000000-0000-7000-8000-000000000003" }),
    );
    let acme = api(&server, "POST", "/api/customers", Some(&admin), json!({ "name": "Acme Corp" }));

    // Login stores an API token, readable by its owner only.
    let run = |args: &[&str]| steward(&config, args, "");
    let login = ok(steward(
        &config,
        &["login", "--server", &server.url, "--email", "ada@example.com", "--password-stdin"],
        PASSWORD,
    ));
    assert!(login.stdout.contains("Signed in to"), "{}", login.stdout);
    let stored: Value = serde_json::from_str(&std::fs::read_to_string(&config).unwrap()).unwrap();
    assert!(stored["token"].as_str().unwrap().starts_with("stw_"));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(std::fs::metadata(&config).unwrap().permissions().mode() & 0o777, 0o600);
    }
    assert_eq!(ok(run(&["whoami", "--json"])).json()["email"], "ada@example.com");

    // Users: a table for people, JSON for scripts.
    let table = ok(run(&["users", "list"])).stdout;
    assert!(table.contains("EMAIL") && table.contains("bob@example.com") && table.contains("Bob Builder"), "{table}");
    let listed = ok(run(&["users", "list", "--search", "bob", "--json"])).json();
    assert_eq!(listed.as_array().unwrap().len(), 1);
    let got = ok(run(&["users", "get", "bob@example.com", "--json"])).json();
    assert_eq!(got["home_role"], "viewer");
    let admins = ok(run(&["admin", "users", "list", "--json"])).json();
    assert!(admins.as_array().unwrap().iter().any(|u| u["email"] == "ada@example.com"));
    assert!(ok(run(&["admin", "users", "get", "ada@example.com"])).stdout.contains("super admin"));

    // Invitations: invite, list, revoke, list with the revoked ones.
    let invited = ok(run(&["users", "invite", "--email", "cleo@example.com", "--json"])).json();
    assert_eq!(invited["role_name"], "viewer");
    ok(run(&["admin", "users", "invite", "--email", "dana@example.com"]));
    let pending = ok(run(&["admin", "invitations", "list", "--json"])).json();
    assert_eq!(pending.as_array().unwrap().len(), 2);
    let id = invited["id"].as_str().unwrap();
    ok(run(&["admin", "invitations", "revoke", id, "--yes"]));
    assert_eq!(ok(run(&["admin", "invitations", "list", "--json"])).json().as_array().unwrap().len(), 1);
    let all = ok(run(&["admin", "invitations", "list", "--include-accepted", "--include-expired"])).stdout;
    assert!(all.contains("revoked") && all.contains("cleo@example.com"), "{all}");

    // Password reset, sessions.
    assert!(ok(run(&["admin", "password-reset", "--email", "bob@example.com"])).stdout.contains("bob@example.com"));
    let bob_login =
        api(&server, "POST", "/api/auth/login", None, json!({ "email": "bob@example.com", "password": PASSWORD }));
    let sessions = ok(run(&["admin", "sessions", "list", "--user", "bob@example.com", "--json"])).json();
    assert_eq!(sessions.as_array().unwrap().len(), 1);
    let sid = bob_login["session_id"].as_str().unwrap();
    assert!(ok(run(&["admin", "sessions", "revoke", sid, "--yes"])).stdout.contains("1 session ended"));
    api(&server, "POST", "/api/auth/login", None, json!({ "email": "bob@example.com", "password": PASSWORD }));
    assert_eq!(
        ok(run(&["admin", "sessions", "revoke-all", "bob@example.com", "--yes", "--json"])).json()["revoked"],
        1
    );

    // Roles and access.
    assert!(ok(run(&["roles", "list"])).stdout.contains("operator"));
    assert_eq!(ok(run(&["roles", "get", "viewer", "--json"])).json()["system"], true);
    let explained =
        ok(run(&["access", "explain", "--user", "bob@example.com", "--permission", "steward.flows.view"])).stdout;
    assert!(explained.contains("viewer"), "{explained}");

    // Scope: all, one customer by name, back to tenant.
    ok(run(&["scope", "all"]));
    let everywhere = ok(run(&["users", "list"])).stdout;
    assert!(everywhere.contains("CUSTOMER"), "{everywhere}");
    assert!(ok(run(&["scope", "customer", "acme"])).stdout.contains(acme["id"].as_str().unwrap()));
    assert_eq!(ok(run(&["users", "list", "--json"])).json(), json!([]));
    ok(run(&["scope", "tenant"]));

    // Settings: shown, changed (a bad value refused with its field named), reset.
    assert!(ok(run(&["settings", "show"])).stdout.contains("impersonation_minutes"));
    let set = ok(run(&["settings", "set", "impersonation_minutes=15", "password_reject_common=off", "--json"])).json();
    assert_eq!(
        (set["effective"]["impersonation_minutes"].as_u64(), set["effective"]["password_reject_common"].as_bool()),
        (Some(15), Some(false))
    );
    let bad = run(&["settings", "set", "impersonation_minutes=0"]);
    assert_eq!(bad.code, 2, "{}", bad.stderr);
    assert!(bad.stderr.contains("impersonation_minutes"), "{}", bad.stderr);
    let reset = ok(run(&["settings", "set", "impersonation_minutes=default", "password_reject_common=default"])).stdout;
    assert!(!reset.contains("yes"), "{reset}");

    // Customers and workspaces: counts, create, rename, by name or id.
    let listed = ok(run(&["customers", "list", "--json"])).json();
    assert!(listed.as_array().unwrap().iter().any(|c| c["name"] == "Acme Corp" && c["workspaces"] == 1), "{listed}");
    assert!(ok(run(&["customers", "list"])).stdout.contains("LAST ACTIVITY"));
    let made = ok(run(&["customers", "create", "Initech", "--workspace", "Ops", "--json"])).json();
    assert_eq!(made["workspaces"][0]["name"], "Ops");
    assert!(ok(run(&["customers", "rename", "initech", "Initrode"])).stdout.contains("is now Initrode"));
    let support = ok(run(&["workspaces", "create", "--customer", "Initrode", "Support", "--json"])).json();
    ok(run(&["workspaces", "rename", support["id"].as_str().unwrap(), "Helpdesk"]));
    let detail = ok(run(&["customers", "get", "Initrode"])).stdout;
    assert!(detail.contains("Helpdesk") && detail.contains("Ops") && detail.contains("initech"), "{detail}");
    assert_eq!(
        ok(run(&["workspaces", "list", "--customer", "Initrode", "--json"])).json().as_array().unwrap().len(),
        2
    );
    let missing = run(&["customers", "get", "nobody-here"]);
    assert_eq!(missing.code, 2, "{}", missing.stderr);
    assert!(missing.stderr.contains("no customer matches"), "{}", missing.stderr);

    // Audit: list, export with a filter to a file, verify.
    let events = ok(run(&["audit", "list", "--limit", "5", "--json"])).json();
    assert_eq!(events.as_array().unwrap().len(), 5);
    let newest = &events[0];
    let shown = ok(run(&["audit", "show", &newest["seq"].to_string(), "--json"])).json();
    assert_eq!((&shown["seq"], &shown["hash"]), (&newest["seq"], &newest["hash"]));
    let text = ok(run(&["audit", "show", &newest["seq"].to_string()])).stdout;
    assert!(
        text.contains(newest["action"].as_str().unwrap()) && text.contains(newest["hash"].as_str().unwrap()),
        "{text}"
    );
    let gone = run(&["audit", "show", "999999999"]);
    assert_ne!(gone.code, 0, "{}", gone.stdout);
    let csv = dir.path().join("audit.csv");
    ok(run(&["audit", "export", "--action", "invitation.", "--out", csv.to_str().unwrap()]));
    let text = std::fs::read_to_string(&csv).unwrap();
    assert_eq!(text.lines().count(), 4, "{text}");
    assert!(text.contains("invitation.revoke"));
    assert!(ok(run(&["audit", "verify"])).stdout.contains("holds"));

    // Another user's API tokens: listed without secrets, revoked after asking.
    let bob_again =
        api(&server, "POST", "/api/auth/login", None, json!({ "email": "bob@example.com", "password": PASSWORD }));
    let bob_token = api(
        &server,
        "POST",
        "/api/me/tokens",
        Some(bob_again["access_token"].as_str().unwrap()),
        json!({ "name": "bob nightly", "permissions": ["steward.flows.view"] }),
    );
    let bob_token_id = bob_token["info"]["id"].as_str().unwrap().to_owned();
    let listed = ok(run(&["users", "tokens", "bob@example.com"])).stdout;
    assert!(listed.contains("bob nightly") && !listed.contains(bob_token["token"].as_str().unwrap()), "{listed}");
    assert_eq!(run(&["users", "revoke-token", "bob@example.com", &bob_token_id]).code, 2);
    ok(run(&["users", "revoke-token", "bob@example.com", &bob_token_id, "--yes"]));
    let after = ok(run(&["users", "tokens", "bob@example.com", "--json"])).json();
    assert!(after[0]["revoked_at"].is_string(), "{after}");

    // 2FA reset: asks first, then turns it off (Bob enrolled none: still off, and audited).
    assert_eq!(run(&["users", "reset-2fa", "bob@example.com"]).code, 2);
    assert!(ok(run(&["users", "reset-2fa", "bob@example.com", "--yes"]))
        .stdout
        .contains("2FA is off for bob@example.com"));
    assert!(ok(run(&["audit", "list", "--action", "user.2fa.reset", "--json"])).json().as_array().unwrap().len() == 1);

    // Delete: refused without a terminal or --yes; done with --yes; then not found (exit 4).
    let unconfirmed = run(&["users", "delete", "bob@example.com"]);
    assert_eq!(unconfirmed.code, 2, "{}", unconfirmed.stderr);
    assert!(unconfirmed.stderr.contains("--yes"));
    ok(run(&["users", "delete", "bob@example.com", "--yes"]));
    assert_eq!(run(&["users", "get", "bob@example.com"]).code, 4);

    // Logout revokes the stored token: using it again is refused (exit 3).
    let token = stored["token"].as_str().unwrap().to_owned();
    ok(run(&["logout"]));
    assert!(!config.exists());
    let after = steward(&config, &["--url", &server.url, "--token", &token, "users", "list"], "");
    assert_eq!(after.code, 3, "{}", after.stderr);
    assert!(after.stderr.contains("steward login"), "{}", after.stderr);
}

#[test]
fn bad_input_gets_one_clear_line_and_a_meaningful_exit_code() {
    let server = server();
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("config.json");
    let setup = api(
        &server,
        "POST",
        "/api/setup",
        None,
        json!({ "email": "ada@example.com", "password": PASSWORD, "name": "Ada Admin" }),
    );
    let admin = setup["access_token"].as_str().unwrap().to_owned();

    // Unreachable server: exit 5, one line.
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let down =
        steward(&config, &["--url", &format!("http://127.0.0.1:{port}"), "--token", "stw_x", "users", "list"], "");
    assert_eq!(down.code, 5, "{}", down.stderr);
    assert_eq!(down.stderr.trim().lines().count(), 1, "{}", down.stderr);
    assert!(down.stderr.contains("cannot be reached"));
    // A bad or expired token: exit 3, with what to do.
    let bad = steward(&config, &["--url", &server.url, "--token", "stw_not-a-token", "users", "list"], "");
    assert_eq!(bad.code, 3);
    assert!(bad.stderr.contains("steward login"));
    // Wrong flags: exit 2 (clap), and not signed in at all: exit 2 with the way out.
    assert_eq!(steward(&config, &["users", "list", "--bogus"], "").code, 2);
    let anonymous = steward(&config, &["users", "list"], "");
    assert_eq!(anonymous.code, 2);
    assert!(anonymous.stderr.contains("steward login"));
    // A wrong password at login: refused, exit 3; no config written.
    let wrong = steward(
        &config,
        &["login", "--server", &server.url, "--email", "ada@example.com", "--password-stdin"],
        "nope nope nope",
    );
    assert_eq!(wrong.code, 3, "{}", wrong.stderr);
    assert!(wrong.stderr.contains("incorrect"));
    assert!(!config.exists());
    // Server-side validation names the field: exit 2.
    let with = |args: &[&str]| {
        let mut all = vec!["--url", server.url.as_str(), "--token", admin.as_str()];
        all.extend_from_slice(args);
        steward(&config, &all, "")
    };
    let invalid = with(&["users", "invite", "--email", "not-an-email"]);
    assert_eq!(invalid.code, 2, "{}", invalid.stderr);
    assert!(invalid.stderr.contains("email: must be a valid email address"), "{}", invalid.stderr);
    // Not found: exit 4. A scope beyond your rights: exit 3.
    assert_eq!(with(&["roles", "get", "00000000-0000-7000-8000-00000000ffff"]).code, 4);
    assert_eq!(with(&["users", "get", "nobody@example.com"]).code, 4);
    let me = api(&server, "GET", "/api/me", Some(&admin), Value::Null);
    let ws = me["home_workspace"]["id"].as_str().unwrap();
    api(
        &server,
        "POST",
        "/api/users",
        Some(&admin),
        json!({ "email": "vic@example.com", "name": "Vic Viewer", "password": PASSWORD, "home_workspace_id": ws, "role_id": "00000000-0000-7000-8000-000000000003" }),
    );
    let vic =
        api(&server, "POST", "/api/auth/login", None, json!({ "email": "vic@example.com", "password": PASSWORD }));
    let vic = vic["access_token"].as_str().unwrap();
    let refused = steward(&config, &["--url", &server.url, "--token", vic, "scope", "all"], "");
    assert_eq!(refused.code, 3, "{}", refused.stderr);
    assert!(refused.stderr.contains("cross_tenant"), "{}", refused.stderr);
    let usage = steward(&config, &["--url", &server.url, "--token", vic, "scope", "sideways"], "");
    assert_eq!(usage.code, 2);
}

#[test]
fn status_and_logs_with_a_live_tail() {
    let server = server();
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("steward").join("config.json");
    let setup = api(
        &server,
        "POST",
        "/api/setup",
        None,
        json!({ "email": "ada@example.com", "password": PASSWORD, "name": "Ada Admin" }),
    );
    let admin = setup["access_token"].as_str().unwrap().to_owned();
    ok(steward(
        &config,
        &["login", "--server", &server.url, "--email", "ada@example.com", "--password-stdin"],
        PASSWORD,
    ));
    let run = |args: &[&str]| steward(&config, args, "");

    let status = ok(run(&["status", "--json"])).json();
    assert!(status["replica"]["id"].is_string(), "{status}");
    assert!(status["requests"]["operations"].as_array().unwrap().iter().any(|o| o["operation"] == "create_token"));
    let table = ok(run(&["status"]));
    assert!(table.stdout.contains("OPERATION") && table.stdout.contains("run queue"), "{}", table.stdout);

    // The sign-in of `login` is in the authentication log.
    let mut seen = String::new();
    for _ in 0..100 {
        seen = ok(run(&["logs", "--tab", "auth"])).stdout;
        if seen.contains("ada@example.com signed in") {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    assert!(seen.contains("ada@example.com signed in"), "{seen}");
    let bad = run(&["logs", "--tab", "kernel"]);
    assert_eq!(bad.code, 2, "{}", bad.stderr);
    assert!(bad.stderr.contains("--tab must be one of"), "{}", bad.stderr);

    // --follow prints a line written after it started.
    let mut child = Command::new(env!("CARGO_BIN_EXE_steward"))
        .args(["logs", "--tab", "platform", "--follow", "--limit", "1"])
        .env("STEWARD_CONFIG", &config)
        .env_remove("STEWARD_URL")
        .env_remove("STEWARD_TOKEN")
        .env_remove("STEWARD_SCOPE")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        use std::io::BufRead;
        for line in std::io::BufReader::new(stdout).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    std::thread::sleep(std::time::Duration::from_millis(700));
    let me = api(&server, "GET", "/api/me", Some(&admin), Value::Null);
    let ws = me["home_workspace"]["id"].as_str().unwrap().to_owned();
    let bob = api(
        &server,
        "POST",
        "/api/users",
        Some(&admin),
        json!({ "email": "bob@example.com", "name": "Bob Builder", "password": PASSWORD, "home_workspace_id": ws, "role_id": "00000000-0000-7000-8000-000000000003" }),
    );
    api(
        &server,
        "POST",
        &format!("/api/users/{}/password-reset", bob["id"].as_str().unwrap()),
        Some(&admin),
        json!({}),
    );
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(15);
    let mut got = Vec::new();
    while std::time::Instant::now() < deadline {
        match rx.recv_timeout(std::time::Duration::from_millis(200)) {
            Ok(line) if line.contains("sent a password reset link to bob@example.com") => {
                got.push(line);
                break;
            }
            Ok(line) => got.push(line),
            Err(_) => {}
        }
    }
    let _ = child.kill();
    let _ = child.wait();
    assert!(got.iter().any(|l| l.contains("password_reset")), "{got:?}");
}

#[test]
fn data_merge_refresh_and_hashes() {
    use sea_orm::ActiveModelTrait;
    let server = server();
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("steward").join("config.json");
    let setup = api(
        &server,
        "POST",
        "/api/setup",
        None,
        json!({ "email": "ada@example.com", "password": PASSWORD, "name": "Ada Admin" }),
    );
    let me = api(&server, "GET", "/api/me", setup["access_token"].as_str(), Value::Null);
    let customer = uuid::Uuid::parse_str(me["customer"]["id"].as_str().unwrap()).unwrap();
    let mut ids = Vec::new();
    for ext in ["ACC-1", "ACC-2", "ACC-3"] {
        let id = uuid::Uuid::now_v7();
        let payload = json!({ "name": "Acme" });
        let row =
            steward_backend::data::records::new_row(id, customer, "account", ext, "crm", payload, chrono::Utc::now());
        server.runtime.block_on(row.insert(&server.db)).unwrap();
        ids.push(id.to_string());
    }
    ok(steward(
        &config,
        &["login", "--server", &server.url, "--email", "ada@example.com", "--password-stdin"],
        PASSWORD,
    ));
    let run = |args: &[&str]| steward(&config, args, "");
    let hashes = ok(run(&["data", "hashes", "--groups", "account"]));
    assert!(hashes.stdout.contains("account") && hashes.stdout.contains("33.3 %"), "{}", hashes.stdout);
    let json = ok(run(&["--json", "data", "hashes"])).json();
    assert_eq!(json["warnings"][0]["duplicates"], 2);
    let dry = ok(run(&[
        "--json",
        "data",
        "merge",
        "--survivor",
        &ids[0],
        "--merge",
        &format!("{},{}", ids[1], ids[2]),
        "--dry-run",
    ]))
    .json();
    assert_eq!(dry["confirm_phrase"], "merge 2 into ACC-1");
    // No terminal and no --yes: refused, nothing merged.
    let refused = run(&["data", "merge", "--survivor", &ids[0], "--merge", &ids[1]]);
    assert_eq!(refused.code, 2, "{}", refused.stderr);
    let done = ok(run(&["--yes", "data", "merge", "--survivor", &ids[0], "--merge", &ids[1], "--merge", &ids[2]]));
    assert!(done.stdout.contains("Merged 2 into"), "{}", done.stdout);
    let json = ok(run(&["--json", "data", "hashes"])).json();
    assert_eq!(json["warnings"][0]["duplicates"], 0);
    let refreshed = ok(run(&["--yes", "data", "refresh", &ids[0]]));
    assert!(refreshed.stdout.contains("Refreshed ACC-1 (nothing changed)"), "{}", refreshed.stdout);
}

#[test]
fn apps_install_update_errors_packages_and_delete() {
    let server = server();
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("steward").join("config.json");
    api(
        &server,
        "POST",
        "/api/setup",
        None,
        json!({ "email": "ada@example.com", "password": PASSWORD, "name": "Ada Admin" }),
    );
    ok(steward(
        &config,
        &["login", "--server", &server.url, "--email", "ada@example.com", "--password-stdin"],
        PASSWORD,
    ));
    let bundle = |version: &str, extra: &[(&str, &str)]| {
        let mut b = steward_backend::apps::bundle::Bundle::default();
        let manifest = json!({ "name": "crm-sync", "version": version, "requires": { "leadlib": "^1" } }).to_string();
        b.files.insert("steward.json".into(), manifest.into_bytes());
        b.files.insert("packages/leadlib/1.0.0/lib.py".into(), b"x = 1\n".to_vec());
        for (path, body) in extra {
            b.files.insert((*path).into(), body.as_bytes().to_vec());
        }
        let path = dir.path().join(format!("crm-{version}.tar.gz"));
        std::fs::write(&path, b.to_archive().unwrap()).unwrap();
        path.display().to_string()
    };
    let run = |args: &[&str]| steward(&config, args, "");
    let v1 = bundle("1.0.0", &[("models/lead.json", r#"{"type":"object"}"#), ("models/bad.json", "{")]);
    let out = ok(run(&["apps", "install", &v1]));
    assert!(out.stdout.contains("crm-sync 1.0.0 installed: 1 models"), "{}", out.stdout);
    assert!(out.stdout.contains("1 import errors") && out.stdout.contains("models/bad.json"), "{}", out.stdout);
    let list = ok(run(&["--json", "apps", "list"])).json();
    assert_eq!(list[0]["version"], "1.0.0");
    assert_eq!(list[0]["errors"], 1);
    let errors = ok(run(&["apps", "errors", "crm-sync"]));
    assert!(errors.stdout.contains("invalid_json"), "{}", errors.stdout);
    let pkgs = ok(run(&["packages", "--search", "lead"]));
    assert!(pkgs.stdout.contains("leadlib") && pkgs.stdout.contains("crm-sync"), "{}", pkgs.stdout);

    let v2 = bundle("1.1.0", &[]);
    let out = ok(run(&["apps", "update", "crm-sync", &v2]));
    assert!(out.stdout.contains("crm-sync 1.1.0 installed"), "{}", out.stdout);
    let out = ok(run(&["apps", "deactivate", "crm-sync"]));
    assert!(out.stdout.contains("inactive"), "{}", out.stdout);
    ok(run(&["apps", "activate", "crm-sync"]));

    // Transfer to a second platform: mint here, fetch there.
    let minted = ok(run(&["transfer-token", "--app", "crm-sync", "--ttl", "5"]));
    let token = minted.stdout.trim().to_owned();
    assert!(minted.stderr.contains("Good once, for crm-sync"), "{}", minted.stderr);
    let other = self::server();
    let other_config = dir.path().join("other").join("config.json");
    api(
        &other,
        "POST",
        "/api/setup",
        None,
        json!({ "email": "bea@example.com", "password": PASSWORD, "name": "Bea Admin" }),
    );
    ok(steward(
        &other_config,
        &["login", "--server", &other.url, "--email", "bea@example.com", "--password-stdin"],
        PASSWORD,
    ));
    let moved = ok(steward(&other_config, &["transfer", "--from", &server.url, "--transfer-token", &token], ""));
    assert!(moved.stdout.contains("crm-sync 1.1.0 installed"), "{}", moved.stdout);
    let again = steward(&other_config, &["transfer", "--from", &server.url, "--transfer-token", &token], "");
    assert_ne!(again.code, 0);
    assert!(again.stderr.contains("transfer_token_used"), "{}", again.stderr);

    // Errors are one clear line with a meaningful exit code.
    let missing = run(&["apps", "install", "/nonexistent.tar.gz"]);
    assert_eq!(missing.code, 2, "{}", missing.stderr);
    let unknown = run(&["apps", "delete", "nope"]);
    assert_ne!(unknown.code, 0);
    let wrong = steward(&config, &["apps", "delete", "crm-sync"], "crm\n");
    assert_ne!(wrong.code, 0);
    assert!(wrong.stderr.contains("does not match"), "{}", wrong.stderr);
    let deleted = ok(steward(&config, &["apps", "delete", "crm-sync"], "crm-sync\n"));
    assert!(deleted.stdout.contains("Deleted crm-sync"), "{}", deleted.stdout);
    assert_eq!(ok(run(&["--json", "apps", "list"])).json(), json!([]));
}
