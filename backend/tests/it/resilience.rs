//! A database that blinks: PostgreSQL restarted under load. The requests caught in flight are
//! answered 503 with `Retry-After` and the `database_unavailable` problem (never 500), the pool
//! reconnects by itself, and nothing that was acknowledged is lost. It needs a server of its
//! own to restart, so it runs a throwaway PostgreSQL cluster (initdb in a temporary directory).

use std::path::PathBuf;
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use axum::http::StatusCode;
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use serde_json::json;
use steward_backend::store::entities::flows;

use crate::harness::TestApp;

/// A PostgreSQL cluster of this test's own, on a free port; stopped and removed on drop.
struct Throwaway {
    bin: PathBuf,
    dir: String,
    port: u16,
}

impl Throwaway {
    fn start() -> Self {
        let bin = postgres_bin();
        let dir = as_postgres("mktemp -d /tmp/steward-blink-XXXXXX").trim().to_owned();
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let initdb = bin.join("initdb");
        as_postgres(&format!("{} -D {dir}/data -A trust -U postgres --no-sync >/dev/null", initdb.display()));
        let cluster = Self { bin, dir, port };
        cluster.pg_ctl(&format!(
            "-o '-p {port} -k {dir} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=40' -w start",
            dir = cluster.dir
        ));
        cluster
    }

    fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }

    fn pg_ctl(&self, args: &str) {
        let pg_ctl = self.bin.join("pg_ctl");
        as_postgres(&format!("{} -D {dir}/data -l {dir}/log {args} >/dev/null", pg_ctl.display(), dir = self.dir));
    }
}

impl Drop for Throwaway {
    fn drop(&mut self) {
        let pg_ctl = self.bin.join("pg_ctl");
        let _ = shell(&format!("{} -D {}/data -m immediate -w stop", pg_ctl.display(), self.dir), true);
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Where PostgreSQL's server programs are: `pg_config --bindir`, else Debian's layout.
fn postgres_bin() -> PathBuf {
    let from_config = Command::new("pg_config")
        .arg("--bindir")
        .output()
        .ok()
        .map(|o| PathBuf::from(String::from_utf8_lossy(&o.stdout).trim()))
        .filter(|dir| dir.join("initdb").exists());
    let debian = || {
        let mut versions: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
            .into_iter()
            .flatten()
            .flatten()
            .map(|e| e.path().join("bin"))
            .filter(|dir| dir.join("initdb").exists())
            .collect();
        versions.sort();
        versions.pop()
    };
    from_config.or_else(debian).expect("PostgreSQL's initdb (scripts/bootstrap.sh installs the server)")
}

/// Runs a shell command as the `postgres` user when we are root (initdb refuses root).
fn as_postgres(command: &str) -> String {
    shell(command, false).unwrap_or_else(|e| panic!("{command}: {e}"))
}

fn shell(command: &str, quiet: bool) -> Result<String, String> {
    let root = Command::new("id").arg("-u").output().map(|o| o.stdout == b"0\n").unwrap_or(false);
    let mut cmd = if root {
        let mut c = Command::new("runuser");
        c.args(["-u", "postgres", "--", "sh", "-c", command]);
        c
    } else {
        let mut c = Command::new("sh");
        c.args(["-c", command]);
        c
    };
    let out = cmd.output().map_err(|e| e.to_string())?;
    if out.status.success() || quiet {
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    } else {
        Err(String::from_utf8_lossy(&out.stderr).into_owned())
    }
}

/// One answer seen under load: status, problem type, whether it carried `Retry-After`, and the
/// flow it created (for writes that were acknowledged).
type Seen = (StatusCode, String, bool, Option<uuid::Uuid>);

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_database_that_blinks_is_answered_503_and_loses_nothing() {
    let cluster = Throwaway::start();
    let app = Arc::new(TestApp::postgres_at(&cluster.url(), |c| c.db_timeout_secs = 3).await);
    let admin = app.setup_admin().await;
    let (_, ws) = app.customer("Acme", "tenant").await;
    let stop = Arc::new(AtomicBool::new(false));
    let mut workers = Vec::new();
    for worker in 0..6 {
        let (app, admin, stop) = (app.clone(), admin.clone(), stop.clone());
        workers.push(tokio::spawn(async move {
            let mut seen: Vec<Seen> = Vec::new();
            let mut n = 0;
            while !stop.load(Ordering::Relaxed) {
                n += 1;
                let res = match (worker + n) % 3 {
                    0 => app.get("/api/users?limit=50", Some(&admin)).await,
                    1 => app.get("/api/me", Some(&admin)).await,
                    _ => {
                        let name = format!("blink {worker}-{n}");
                        app.post("/api/flows", Some(&admin), json!({ "workspace_id": ws, "name": name })).await
                    }
                };
                let created = (res.status == StatusCode::CREATED)
                    .then(|| res.body["flow_id"].as_str().or(res.body["id"].as_str()).and_then(|s| s.parse().ok()))
                    .flatten();
                let retry = res.headers.contains_key("retry-after");
                let problem = match res.body["errors"][0]["field"].as_str() {
                    Some(field) => format!("{} ({field})", res.problem()),
                    None => res.problem().to_owned(),
                };
                seen.push((res.status, problem, retry, created));
                if !res.status.is_success() {
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
            }
            seen
        }));
    }
    tokio::time::sleep(Duration::from_millis(800)).await;
    let restart = {
        let bin = cluster.bin.join("pg_ctl");
        let dir = cluster.dir.clone();
        tokio::task::spawn_blocking(move || {
            as_postgres(&format!("{} -D {dir}/data -l {dir}/log -m fast -w restart >/dev/null", bin.display()))
        })
    };
    restart.await.unwrap();
    tokio::time::sleep(Duration::from_millis(2500)).await;
    stop.store(true, Ordering::Relaxed);
    let mut seen = Vec::new();
    for w in workers {
        seen.extend(w.await.unwrap());
    }

    let failed: Vec<&Seen> = seen.iter().filter(|s| !s.0.is_success()).collect();
    eprintln!("{} requests under load, {} caught by the restart", seen.len(), failed.len());
    for (status, problem, retry, _) in &failed {
        assert_eq!(
            (*status, problem.as_str(), *retry),
            (StatusCode::SERVICE_UNAVAILABLE, "database_unavailable", true),
            "every request the restart caught is a 503 to retry: {:?}",
            failed.iter().map(|s| (s.0, s.1.clone())).collect::<Vec<_>>()
        );
    }
    // The pool reconnected: the same requests are served again.
    assert_eq!(app.get("/api/me", Some(&admin)).await.status, StatusCode::OK);
    assert_eq!(app.get("/api/users?limit=50", Some(&admin)).await.status, StatusCode::OK);
    // Nothing acknowledged was lost.
    let acknowledged: Vec<uuid::Uuid> = seen.iter().filter_map(|s| s.3).collect();
    assert!(!acknowledged.is_empty(), "flows were created under load");
    let kept =
        flows::Entity::find().filter(flows::Column::Id.is_in(acknowledged.clone())).count(app.db()).await.unwrap();
    assert_eq!(kept as usize, acknowledged.len(), "every acknowledged flow is in the database");
    drop(cluster);
}
