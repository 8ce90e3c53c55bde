//! `bench`: the request path measured from outside the process. The release server runs on a
//! database of `--users` users over `--customers` customers (seeded once by
//! `steward-server seed` and reused: `target/bench/` for SQLite, a database of its own on the
//! PostgreSQL server for PostgreSQL); `wrk` drives each endpoint right after `/api/health` on the
//! same server, and the users pages also against a bare baseline (`xtask bench-baseline`: axum
//! and sqlx running the page's own query, no auth, nothing of ours) on the same database, so each
//! figure reads as a share of what its query allows. Cold start to the first answer (empty data
//! directory, and the seeded database) and idle and peak RSS are reported too.

use anyhow::Context;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use sea_orm::sqlx;
use sea_orm::sqlx::Row;

use crate::bench::request;
use crate::bench_telemetry::{peak_rss_kib, start_with, wrk_counted, wrk_with, Server};

pub struct Options {
    pub users: u64,
    pub customers: u64,
    pub secs: u32,
    /// `sqlite`, `postgres` or both.
    pub databases: Vec<String>,
    pub pg_url: String,
}

/// (req/s, p50 ms, p99 ms).
type Figures = (f64, f64, f64);

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// `wrk` from Debian, installed when missing.
pub(crate) fn ensure_wrk() -> anyhow::Result<()> {
    if Command::new("wrk").arg("-v").output().is_ok() {
        return Ok(());
    }
    eprintln!("installing wrk (Debian package)…");
    let root = Command::new("id").arg("-u").output().map(|o| o.stdout.starts_with(b"0\n")).unwrap_or(false);
    let sudo = if root { vec![] } else { vec!["sudo"] };
    for args in [vec!["apt-get", "update", "-qq"], vec!["apt-get", "install", "-y", "-qq", "wrk"]] {
        let mut cmd = sudo.iter().chain(args.iter());
        let first = cmd.next().context("empty command")?;
        let ok = Command::new(first).args(cmd).status()?.success();
        anyhow::ensure!(ok, "could not install wrk: apt-get install wrk");
    }
    Ok(())
}

fn vm_rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}

fn mib(kib: Option<u64>) -> String {
    kib.map(|k| format!("{:.1} MiB", k as f64 / 1024.0)).unwrap_or_else(|| "—".into())
}

/// Time from spawning until `/api/health` first answers 200.
fn first_answer(server: &Server, spawned: Instant) -> anyhow::Result<Duration> {
    let addr = server.url.trim_start_matches("http://").to_owned();
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    loop {
        if let Ok((200, _, _)) = runtime.block_on(request(&addr, "GET", "/api/health", None, None)) {
            return Ok(spawned.elapsed());
        }
        anyhow::ensure!(spawned.elapsed() < Duration::from_secs(120), "no answer from /api/health in 120 s");
        std::thread::sleep(Duration::from_millis(2));
    }
}

/// Where the seeded database lives, per backend; created when missing.
async fn database_url(kind: &str, opts: &Options) -> anyhow::Result<String> {
    let name = format!("steward_bench_{}u_{}c", opts.users, opts.customers);
    if kind == "sqlite" {
        let dir = root().join("target/bench");
        std::fs::create_dir_all(&dir)?;
        return Ok(format!("sqlite://{}?mode=rwc", dir.join(format!("{name}.db")).display()));
    }
    let admin = sqlx::PgPool::connect(&opts.pg_url).await.context("cannot reach PostgreSQL (--pg-url)")?;
    let exists: Option<i32> =
        sqlx::query_scalar("SELECT 1 FROM pg_database WHERE datname = $1").bind(&name).fetch_optional(&admin).await?;
    if exists.is_none() {
        sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}"))).execute(&admin).await?;
    }
    admin.close().await;
    let (base, _) = opts.pg_url.rsplit_once('/').context("--pg-url has no database name")?;
    Ok(format!("{base}/{name}"))
}

async fn count_users(url: &str) -> anyhow::Result<i64> {
    if url.starts_with("sqlite:") {
        let pool = sqlx::SqlitePool::connect(url).await?;
        let n = sqlx::query_scalar("SELECT count(*) FROM users").fetch_one(&pool).await.unwrap_or(0);
        pool.close().await;
        Ok(n)
    } else {
        let pool = sqlx::PgPool::connect(url).await?;
        let n = sqlx::query_scalar("SELECT count(*) FROM users").fetch_one(&pool).await.unwrap_or(0);
        pool.close().await;
        Ok(n)
    }
}

async fn analyze(url: &str) -> anyhow::Result<()> {
    if url.starts_with("sqlite:") {
        let pool = sqlx::SqlitePool::connect(url).await?;
        sqlx::query("ANALYZE").execute(&pool).await?;
        pool.close().await;
    } else {
        let pool = sqlx::PgPool::connect(url).await?;
        sqlx::query("VACUUM ANALYZE").execute(&pool).await?;
        pool.close().await;
    }
    Ok(())
}

/// The cursor of the row 90% of the way down the newest-first order (found here with OFFSET,
/// once; the product never uses OFFSET), as `(created_at RFC 3339, id)`.
async fn deep_row(url: &str, users: i64) -> anyhow::Result<(String, String)> {
    let offset = users * 9 / 10;
    let sql =
        "SELECT id, created_at FROM users WHERE erased_at IS NULL ORDER BY created_at DESC, id DESC LIMIT 1 OFFSET ";
    let sql = format!("{sql}{offset}");
    if url.starts_with("sqlite:") {
        let pool = sqlx::SqlitePool::connect(url).await?;
        let row = sqlx::query(sqlx::AssertSqlSafe(sql.clone())).fetch_one(&pool).await?;
        let (id, at): (uuid::Uuid, chrono::DateTime<chrono::Utc>) = (row.try_get("id")?, row.try_get("created_at")?);
        pool.close().await;
        Ok((at.to_rfc3339(), id.to_string()))
    } else {
        let pool = sqlx::PgPool::connect(url).await?;
        let row = sqlx::query(sqlx::AssertSqlSafe(sql.clone())).fetch_one(&pool).await?;
        let (id, at): (uuid::Uuid, chrono::DateTime<chrono::Utc>) = (row.try_get("id")?, row.try_get("created_at")?);
        pool.close().await;
        Ok((at.to_rfc3339(), id.to_string()))
    }
}

fn start_server(bin: &Path, url: &str) -> anyhow::Result<(Server, Instant)> {
    let spawned = Instant::now();
    let server = start_with(bin, true, &[("DATABASE_URL", url), ("STEWARD_DB_MAX_CONNECTIONS", "16")])?;
    Ok((server, spawned))
}

struct Baseline {
    child: Child,
    url: String,
}

impl Drop for Baseline {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start_baseline(database_url: &str) -> anyhow::Result<Baseline> {
    let port = std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
    let child = Command::new(std::env::current_exe()?)
        .args(["bench-baseline", "--database-url", database_url, "--bind", &format!("127.0.0.1:{port}")])
        .stdout(Stdio::null())
        .spawn()?;
    let deadline = Instant::now() + Duration::from_secs(30);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        anyhow::ensure!(Instant::now() < deadline, "the baseline did not start in 30 s");
        std::thread::sleep(Duration::from_millis(20));
    }
    Ok(Baseline { child, url: format!("http://127.0.0.1:{port}") })
}

/// A wrk script that cycles through `paths`.
fn paths_script(dir: &Path, name: &str, paths: &[String]) -> anyhow::Result<PathBuf> {
    let list = paths.iter().map(|p| format!("{p:?}")).collect::<Vec<_>>().join(",\n  ");
    let script = format!(
        "local paths = {{\n  {list}\n}}\nlocal i = 0\nrequest = function()\n  i = i + 1\n  \
         return wrk.format(nil, paths[(i % #paths) + 1])\nend\n"
    );
    let path = dir.join(format!("{name}.lua"));
    std::fs::write(&path, script)?;
    Ok(path)
}

fn sign_in(server: &Server) -> anyhow::Result<String> {
    let addr = server.url.trim_start_matches("http://").to_owned();
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    let setup = r#"{"email":"bench@example.com","password":"correct horse battery staple","name":"Bench"}"#;
    let (mut status, _, mut body) = runtime.block_on(request(&addr, "POST", "/api/setup", None, Some(setup)))?;
    if status == 409 {
        let login = r#"{"email":"bench@example.com","password":"correct horse battery staple"}"#;
        (status, _, body) = runtime.block_on(request(&addr, "POST", "/api/auth/login", None, Some(login)))?;
    }
    anyhow::ensure!(status == 200 || status == 201, "setup/login answered {status}: {body}");
    Ok(serde_json::from_str::<serde_json::Value>(&body)?
        .get("access_token")
        .and_then(|t| t.as_str())
        .context("no access token")?
        .to_owned())
}

/// What the write benchmarks work on: the bench admin's home workspace, the role held there, and
/// 100 records of the admin's customer to batch-edit (inserted once, reused next time).
struct WriteFixture {
    workspace: uuid::Uuid,
    role: uuid::Uuid,
    records: Vec<uuid::Uuid>,
}

async fn write_fixture(url: &str) -> anyhow::Result<WriteFixture> {
    use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, QuerySelect};
    use steward_backend::store::entities::{records, user_roles, users};
    let db = sea_orm::Database::connect(url).await?;
    let admin = users::Entity::find()
        .filter(users::Column::Email.eq("bench@example.com"))
        .one(&db)
        .await?
        .context("no bench admin")?;
    let workspace = admin.home_workspace_id.context("the bench admin has no home workspace")?;
    let role = user_roles::Entity::find_by_id((workspace, admin.id)).one(&db).await?.context("no role")?.role_id;
    let mine = || {
        records::Entity::find()
            .filter(records::Column::CustomerId.eq(admin.customer_id))
            .filter(records::Column::EntityType.eq("bench"))
    };
    let have = mine().limit(100).all(&db).await?.len();
    for i in have..100 {
        let payload = serde_json::json!({ "name": format!("Bench {i}"), "score": i });
        let row = steward_backend::data::records::new_row(
            uuid::Uuid::now_v7(),
            admin.customer_id,
            "bench",
            &format!("BENCH-{i:03}"),
            "bench",
            payload,
            chrono::Utc::now(),
        );
        row.insert(&db).await?;
    }
    let records = mine().limit(100).all(&db).await?.into_iter().map(|r| r.id).collect();
    db.close().await?;
    Ok(WriteFixture { workspace, role, records })
}

/// A wrk script that sends `body` to `path`, each `{n}` in it replaced by a token no other
/// request of the run uses (any thread, any earlier run): creations need unique names.
fn write_script(dir: &Path, name: &str, method: &str, path: &str, body: &str) -> anyhow::Result<PathBuf> {
    let nonce = chrono::Utc::now().timestamp_millis();
    let script = format!(
        "local threads = 0\nfunction setup(thread)\n  threads = threads + 1\n  thread:set(\"tid\", threads)\nend\n\
         local i = 0\nrequest = function()\n  i = i + 1\n  local n = \"{nonce}-\" .. tid .. \"-\" .. i\n  \
         local body = string.gsub({body:?}, \"{{n}}\", n)\n  return wrk.format({method:?}, {path:?}, nil, body)\nend\n"
    );
    let file = dir.join(format!("{name}.lua"));
    std::fs::write(&file, script)?;
    Ok(file)
}

/// One row of the report.
struct Line {
    name: String,
    ours: Figures,
    health: Figures,
    baseline: Option<Figures>,
}

/// The report as a Markdown table; the baseline's columns only where some line has one.
fn print_report(title: &str, lines: &[Line]) {
    let with_baseline = lines.iter().any(|l| l.baseline.is_some());
    println!("\n{title}");
    let mut head =
        "| endpoint | req/s | p50 | p99 | `/api/health` just before (req/s, p99) | share of health req/s |".to_owned();
    let mut rule = "| --- | --- | --- | --- | --- | --- |".to_owned();
    if with_baseline {
        head.push_str(" bare baseline (req/s, p50, p99) | share of baseline req/s | p99 ÷ baseline p99 |");
        rule.push_str(" --- | --- | --- |");
    }
    println!("{head}\n{rule}");
    for l in lines {
        let (rps, p50, p99) = l.ours;
        let (hrps, _, hp99) = l.health;
        let mut row = format!(
            "| {} | {rps:.0} | {p50:.2} ms | {p99:.2} ms | {hrps:.0}, {hp99:.2} ms | {:.0}% |",
            l.name,
            rps / hrps * 100.0
        );
        if with_baseline {
            row.push_str(&match l.baseline {
                Some((brps, bp50, bp99)) => format!(
                    " {brps:.0}, {bp50:.2} ms, {bp99:.2} ms | {:.0}% | {:.2}× |",
                    rps / brps * 100.0,
                    p99 / bp99
                ),
                None => " — | — | — |".to_owned(),
            });
        }
        println!("{row}");
    }
}

/// Writes/s: creating a user (inactive, so no mail and no password hash), renaming a workspace
/// (one row and its audit event on the chain), and a batch edit of 100 explorer rows — each
/// beside `/api/health` just before it. Every answer must be a success, or the figure is not one.
fn writes(
    runtime: &tokio::runtime::Runtime,
    url: &str,
    server: &Server,
    token: &str,
    secs: u32,
) -> anyhow::Result<Vec<Line>> {
    let fixture = runtime.block_on(write_fixture(url))?;
    let dir = server.dir.path();
    let ids = serde_json::to_string(&fixture.records)?;
    let n = fixture.records.len();
    let scripts = [
        (
            "create a user (`POST /api/users`, inactive)",
            write_script(
                dir,
                "create-user",
                "POST",
                "/api/users",
                &format!(
                    r#"{{"email":"w{{n}}@bench.example","name":"Writer {{n}}","home_workspace_id":"{}","role_id":"{}","active":false}}"#,
                    fixture.workspace, fixture.role
                ),
            )?,
        ),
        (
            "rename a workspace (`PUT /api/workspaces/{id}`: a row and its audit event)",
            write_script(
                dir,
                "rename-workspace",
                "PUT",
                &format!("/api/workspaces/{}", fixture.workspace),
                r#"{"name":"Bench {n}"}"#,
            )?,
        ),
        (
            "batch edit of 100 explorer rows (`POST /api/explorer/tables/records/batch`)",
            write_script(
                dir,
                "batch-edit",
                "POST",
                "/api/explorer/tables/records/batch",
                &format!(
                    r#"{{"action":"edit","ids":{ids},"set":{{"source":"bench-{{n}}"}},"confirm":"edit {n} records"}}"#
                ),
            )?,
        ),
    ];
    let health_url = format!("{}/api/health", server.url);
    let mut lines = Vec::new();
    for (name, script) in scripts {
        let args = vec![
            "-H".to_owned(),
            format!("Authorization: Bearer {token}"),
            "-H".to_owned(),
            "Content-Type: application/json".to_owned(),
            "-s".to_owned(),
            script.display().to_string(),
        ];
        let health = wrk_with(&health_url, secs, &[])?;
        let (ours, failed) = wrk_counted(&server.url, secs, &args)?;
        anyhow::ensure!(failed == 0, "{name}: {failed} answers were not a success");
        eprintln!("{name}: {ours:?} (health {health:?})");
        lines.push(Line { name: name.to_owned(), ours, health, baseline: None });
    }
    let cleared = runtime.block_on(clear_created_users(url))?;
    eprintln!("deleted the {cleared} users the writes created");
    Ok(lines)
}

/// Deletes the users the writes created (`w{n}@bench.example`, with their memberships). The
/// benchmark reuses its database, and left in place they would be the newest users: on top of
/// the next run's pages and in front of its walks of the sort order. Their audit events stay
/// (the chain keeps every event).
async fn clear_created_users(url: &str) -> anyhow::Result<usize> {
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QuerySelect};
    use steward_backend::store::entities::{user_roles, users};
    let db = sea_orm::Database::connect(url).await?;
    let created: Vec<uuid::Uuid> = users::Entity::find()
        .select_only()
        .column(users::Column::Id)
        .filter(users::Column::Email.like("w%@bench.example"))
        .into_tuple()
        .all(&db)
        .await?;
    for chunk in created.chunks(500) {
        user_roles::Entity::delete_many().filter(user_roles::Column::UserId.is_in(chunk.to_vec())).exec(&db).await?;
        users::Entity::delete_many().filter(users::Column::Id.is_in(chunk.to_vec())).exec(&db).await?;
    }
    steward_backend::store::analyze(&db, &["users", "user_roles"]).await?;
    db.close().await?;
    Ok(created.len())
}

pub fn run(opts: Options) -> anyhow::Result<()> {
    ensure_wrk()?;
    let bin = crate::bench_telemetry::release_server()?;
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build()?;
    let secs = opts.secs;

    // Cold start on an empty data directory (SQLite default, migrations included).
    let spawned = Instant::now();
    let empty = crate::bench_telemetry::start(&bin, true)?;
    let cold_empty = first_answer(&empty, spawned)?;
    std::thread::sleep(Duration::from_secs(1));
    let idle_empty = vm_rss_kib(empty.child.id());
    drop(empty);
    println!(
        "cold start, empty data directory: first answer after {:.0} ms; idle RSS {}",
        cold_empty.as_secs_f64() * 1e3,
        mib(idle_empty)
    );

    for kind in &opts.databases {
        let url = runtime.block_on(database_url(kind, &opts))?;
        println!("\n== {kind}: {}", steward_backend::store::redact(&url));
        // Seed once: the server migrates, then `seed` adds what is missing.
        {
            let (server, _) = start_server(&bin, &url)?;
            sign_in(&server)?;
            let have = runtime.block_on(count_users(&url))? as u64;
            if have < opts.users {
                eprintln!(
                    "seeding {} users over {} customers (once; reused next time)…",
                    opts.users - have,
                    opts.customers
                );
                let t = Instant::now();
                let seeded = Command::new(&bin)
                    .args(["seed", "--customers", &opts.customers.to_string(), "--users"])
                    .arg((opts.users - have).to_string())
                    .args(["--flows-per-customer", "0", "--runs-per-flow", "0", "--connectors-per-customer", "0"])
                    .args(["--records-per-customer", "0"])
                    .env("DATABASE_URL", &url)
                    .env("STEWARD_DATA_DIR", server.dir.path())
                    .env("STEWARD_LOG", "warn")
                    .status()?;
                anyhow::ensure!(seeded.success(), "seeding failed");
                eprintln!("seeded in {:.0} s", t.elapsed().as_secs_f64());
                runtime.block_on(analyze(&url))?;
            }
        }
        let users = runtime.block_on(count_users(&url))?;
        let (deep_at, deep_id) = runtime.block_on(deep_row(&url, users))?;

        // A fresh process on the seeded database: cold start, idle RSS, then the load.
        let (server, spawned) = start_server(&bin, &url)?;
        let cold = first_answer(&server, spawned)?;
        std::thread::sleep(Duration::from_secs(1));
        let idle = vm_rss_kib(server.child.id());
        let token = sign_in(&server)?;
        let cursor = steward_backend::http::pagination::Cursor {
            key: Some(deep_at.clone()),
            id: deep_id.parse().context("deep row id")?,
        }
        .encode();
        let people: Vec<String> = (0..64)
            .map(|i| format!("/api/users?limit=50&search=.{}.", (i * 15_485_863u64) % users.max(1) as u64))
            .collect();
        let scripts = server.dir.path();
        let people_script = paths_script(scripts, "people", &people)?;

        let auth = vec![
            "-H".to_owned(),
            format!("Authorization: Bearer {token}"),
            "-H".to_owned(),
            "X-Steward-Scope: all".to_owned(),
        ];
        let with_script = |script: &Path| {
            let mut a = auth.clone();
            a.extend(["-s".to_owned(), script.display().to_string()]);
            a
        };
        let health_url = format!("{}/api/health", server.url);
        wrk_with(&health_url, 2, &[])?; // warm-up
        let baseline = start_baseline(&url)?;
        let deep_query = format!("at={}&id={deep_id}", deep_at.replace('+', "%2B").replace(':', "%3A"));
        let endpoints: Vec<(&str, String, Vec<String>, Option<String>)> = vec![
            ("`GET /api/me`", format!("{}/api/me", server.url), auth.clone(), None),
            (
                "`GET /api/users?limit=50` (page 1, all customers)",
                format!("{}/api/users?limit=50", server.url),
                auth.clone(),
                Some(format!("{}/users", baseline.url)),
            ),
            (
                "same, 90% deep (keyset cursor)",
                format!("{}/api/users?limit=50&cursor={cursor}", server.url),
                auth.clone(),
                Some(format!("{}/users?{deep_query}", baseline.url)),
            ),
            ("search, one person (email fragment, 64 people)", server.url.clone(), with_script(&people_script), None),
            (
                "search, a surname shared by many (`lovelace`)",
                format!("{}/api/users?limit=50&search=lovelace", server.url),
                auth.clone(),
                None,
            ),
            ("`GET /api/audit?limit=50`", format!("{}/api/audit?limit=50", server.url), auth.clone(), None),
        ];
        let mut lines = Vec::new();
        let health = wrk_with(&health_url, secs, &[])?;
        lines.push(Line { name: "`GET /api/health`".into(), ours: health, health, baseline: None });
        for (name, url, args, bare) in endpoints {
            wrk_with(&url, 2, &args)?; // warm-up
            let health = wrk_with(&health_url, secs, &[])?;
            let ours = wrk_with(&url, secs, &args)?;
            let baseline = match bare {
                Some(b) => {
                    wrk_with(&b, 2, &[])?;
                    Some(wrk_with(&b, secs, &[])?)
                }
                None => None,
            };
            eprintln!("{name}: {ours:?} (health {health:?}, baseline {baseline:?})");
            lines.push(Line { name: name.to_owned(), ours, health, baseline });
        }
        let bare_health = wrk_with(&format!("{}/health", baseline.url), secs, &[])?;
        print_report(
            &format!(
                "{kind}, {users} users over {} customers, scope `all`, wrk -t2 -c16 -d{secs}s, {} cores",
                opts.customers,
                std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1)
            ),
            &lines,
        );
        println!("bare baseline's own `/health`: {:.0} req/s, p99 {:.2} ms", bare_health.0, bare_health.2);
        println!(
            "cold start on this database: first answer after {:.0} ms; idle RSS {}; peak RSS under load {} (baseline peak {})",
            cold.as_secs_f64() * 1e3,
            mib(idle),
            mib(peak_rss_kib(server.child.id())),
            mib(peak_rss_kib(baseline.child.id()))
        );
        let writes = writes(&runtime, &url, &server, &token, secs)?;
        print_report(&format!("{kind}, writes in the admin's own customer, each right after `/api/health`"), &writes);
    }
    Ok(())
}

/// `xtask bench-baseline --database-url URL --bind ADDR`: the users page's own query through
/// sqlx behind a bare axum router, no auth, no middleware.
pub fn baseline(database_url: &str, bind: &str) -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    runtime.block_on(async {
        use axum::extract::{Query, State};
        use axum::routing::get;
        #[derive(Clone)]
        enum Pool {
            Sqlite(sqlx::SqlitePool),
            Pg(sqlx::PgPool),
        }
        let pool = if database_url.starts_with("sqlite:") {
            Pool::Sqlite(sqlx::sqlite::SqlitePoolOptions::new().max_connections(16).connect(database_url).await?)
        } else {
            Pool::Pg(sqlx::postgres::PgPoolOptions::new().max_connections(16).connect(database_url).await?)
        };
        #[derive(serde::Deserialize)]
        struct After {
            at: Option<chrono::DateTime<chrono::Utc>>,
            id: Option<uuid::Uuid>,
        }
        // The directory row: user, customer name, home workspace and the role held there.
        const SQL: &str = "SELECT u.id, u.customer_id, c.name AS customer_name, u.email, u.name, u.locale, u.status, \
            u.super_admin, u.totp_enabled, u.home_workspace_id, w.name AS workspace_name, ur.role_id, \
            r.name AS role_name, u.last_login_at, u.created_at \
            FROM users u JOIN customers c ON c.id = u.customer_id \
            LEFT JOIN workspaces w ON w.id = u.home_workspace_id \
            LEFT JOIN user_roles ur ON ur.user_id = u.id AND ur.workspace_id = u.home_workspace_id \
            LEFT JOIN roles r ON r.id = ur.role_id \
            WHERE u.erased_at IS NULL";
        const ORDER: &str = " ORDER BY u.created_at DESC, u.id DESC LIMIT 51";
        macro_rules! rows {
            ($pool:expr, $after:expr, $keyset:expr) => {{
                let rows = match $after {
                    Some((at, id)) => {
                        let sql = format!("{SQL} AND (u.created_at, u.id) < {}{ORDER}", $keyset);
                        sqlx::query(sqlx::AssertSqlSafe(sql)).bind(at).bind(id).fetch_all($pool).await
                    }
                    None => sqlx::query(sqlx::AssertSqlSafe(format!("{SQL}{ORDER}"))).fetch_all($pool).await,
                }
                .map_err(|e| e.to_string())?;
                rows.iter()
                    .map(|r| -> Result<serde_json::Value, sqlx::Error> {
                        Ok(serde_json::json!({
                            "id": r.try_get::<uuid::Uuid, _>("id")?,
                            "customer_id": r.try_get::<uuid::Uuid, _>("customer_id")?,
                            "customer_name": r.try_get::<String, _>("customer_name")?,
                            "email": r.try_get::<String, _>("email")?,
                            "name": r.try_get::<String, _>("name")?,
                            "locale": r.try_get::<String, _>("locale")?,
                            "status": r.try_get::<String, _>("status")?,
                            "super_admin": r.try_get::<bool, _>("super_admin")?,
                            "totp_enabled": r.try_get::<bool, _>("totp_enabled")?,
                            "home_workspace": {
                                "id": r.try_get::<Option<uuid::Uuid>, _>("home_workspace_id")?,
                                "name": r.try_get::<Option<String>, _>("workspace_name")?,
                            },
                            "home_role": r.try_get::<Option<String>, _>("role_name")?,
                            "last_login_at": r.try_get::<Option<chrono::DateTime<chrono::Utc>>, _>("last_login_at")?,
                            "created_at": r.try_get::<chrono::DateTime<chrono::Utc>, _>("created_at")?,
                        }))
                    })
                    .collect::<Result<Vec<_>, _>>()
                    .map_err(|e| e.to_string())?
            }};
        }
        async fn users(
            State(pool): State<Pool>,
            Query(after): Query<After>,
        ) -> Result<axum::Json<serde_json::Value>, String> {
            let key = after.at.zip(after.id);
            let mut items = match &pool {
                Pool::Sqlite(p) => rows!(p, key, "(?, ?)"),
                Pool::Pg(p) => rows!(p, key, "($1, $2)"),
            };
            let next = (items.len() > 50).then(|| items.pop()).flatten().and_then(|r| r.get("id").cloned());
            Ok(axum::Json(serde_json::json!({ "items": items, "next_cursor": next })))
        }
        let app =
            axum::Router::new().route("/health", get(|| async { "ok" })).route("/users", get(users)).with_state(pool);
        let listener = tokio::net::TcpListener::bind(bind).await?;
        axum::serve(listener, app).await?;
        Ok(())
    })
}
