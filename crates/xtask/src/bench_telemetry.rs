//! `bench-telemetry`: what the request-metrics and log-capture layers cost. Two release
//! servers on fresh SQLite databases, one with `STEWARD_TELEMETRY=true` and one with `false`,
//! are driven in turn by `wrk` from outside the process (each alone on the machine while it is
//! measured), round after round; the report gives each side's req/s and p50/p99 on
//! `/api/health`, the ratio, and each server's peak RSS.

use anyhow::Context;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub(crate) struct Server {
    pub(crate) child: Child,
    pub(crate) url: String,
    pub(crate) dir: tempfile::TempDir,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> anyhow::Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

pub(crate) fn start(bin: &Path, telemetry: bool) -> anyhow::Result<Server> {
    start_with(bin, telemetry, &[])
}

/// As [`start`], with more settings (later ones win).
pub(crate) fn start_with(bin: &Path, telemetry: bool, env: &[(&str, &str)]) -> anyhow::Result<Server> {
    let dir = tempfile::tempdir()?;
    let port = free_port()?;
    let child = Command::new(bin)
        .env("STEWARD_BIND", format!("127.0.0.1:{port}"))
        .env("STEWARD_DATA_DIR", dir.path())
        .env("STEWARD_WORKERS", "0")
        .env("STEWARD_LOG", "warn")
        .env("STEWARD_TELEMETRY", telemetry.to_string())
        .env_remove("DATABASE_URL")
        .envs(env.iter().copied())
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .with_context(|| format!("cannot start {}", bin.display()))?;
    let url = format!("http://127.0.0.1:{port}");
    let deadline = Instant::now() + Duration::from_secs(30);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        anyhow::ensure!(Instant::now() < deadline, "the server did not start in 30 s");
        std::thread::sleep(Duration::from_millis(50));
    }
    Ok(Server { child, url, dir })
}

/// (req/s, p50 ms, p99 ms) from wrk's `--latency` report.
pub(crate) fn wrk(url: &str, secs: u32) -> anyhow::Result<(f64, f64, f64)> {
    wrk_with(url, secs, &[])
}

/// As [`wrk`], with extra arguments (headers, a Lua script).
pub(crate) fn wrk_with(url: &str, secs: u32, extra: &[String]) -> anyhow::Result<(f64, f64, f64)> {
    Ok(wrk_counted(url, secs, extra)?.0)
}

/// As [`wrk_with`], with the number of answers that were not 2xx or 3xx (wrk counts them).
pub(crate) fn wrk_counted(url: &str, secs: u32, extra: &[String]) -> anyhow::Result<((f64, f64, f64), u64)> {
    let out = Command::new("wrk")
        .args(["-t2", "-c16", &format!("-d{secs}s"), "--latency"])
        .args(extra)
        .arg(url)
        .output()
        .context("wrk is needed (apt-get install wrk)")?;
    let text = String::from_utf8_lossy(&out.stdout);
    let ms = |token: &str| -> Option<f64> {
        let (n, unit) = token.split_at(token.find(|c: char| c.is_alphabetic())?);
        let n: f64 = n.parse().ok()?;
        Some(match unit {
            "us" => n / 1000.0,
            "ms" => n,
            "s" => n * 1000.0,
            _ => return None,
        })
    };
    let field = |prefix: &str| text.lines().find_map(|l| l.trim().strip_prefix(prefix).map(|r| r.trim().to_owned()));
    let rps =
        field("Requests/sec:").and_then(|v| v.parse().ok()).context(format!("no req/s in wrk's report:\n{text}"))?;
    let p50 = field("50%").and_then(|v| ms(&v)).unwrap_or(f64::NAN);
    let p99 = field("99%").and_then(|v| ms(&v)).unwrap_or(f64::NAN);
    let failed = field("Non-2xx or 3xx responses:").and_then(|v| v.parse().ok()).unwrap_or(0);
    Ok(((rps, p50, p99), failed))
}

pub(crate) fn peak_rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}

pub(crate) fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v.get(v.len() / 2).copied().unwrap_or(f64::NAN)
}

/// Builds the release server the benchmarks drive and returns its path. It has a target
/// directory of its own: built in `target/release` beside xtask (which links the backend
/// library with other features), each benchmark run rebuilt the backend twice.
pub(crate) fn release_server() -> anyhow::Result<PathBuf> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
    let target = root.join("target/bench-server");
    let status = Command::new("cargo")
        .args(["build", "--release", "-q", "-p", "steward-backend", "--target-dir"])
        .arg(&target)
        .current_dir(&root)
        .status()?;
    anyhow::ensure!(status.success(), "building the release server failed");
    Ok(target.join("release/steward-server"))
}

pub fn run(rounds: u32, secs: u32) -> anyhow::Result<()> {
    let bin = release_server()?;
    let on = start(&bin, true)?;
    let off = start(&bin, false)?;
    let health = |s: &Server| format!("{}/api/health", s.url);
    // Warm both up.
    wrk(&health(&on), 2)?;
    wrk(&health(&off), 2)?;
    let mut results: [(Vec<f64>, Vec<f64>, Vec<f64>); 2] = Default::default();
    for round in 1..=rounds {
        // Alternate which side goes first, so neither always runs on a warmer machine.
        let order = if round % 2 == 1 { [(0, &on), (1, &off)] } else { [(1, &off), (0, &on)] };
        for (i, server) in order {
            let (rps, p50, p99) = wrk(&health(server), secs)?;
            eprintln!(
                "round {round}: telemetry {:<3} {rps:>9.0} req/s  p50 {p50:.2} ms  p99 {p99:.2} ms",
                if i == 0 { "on" } else { "off" }
            );
            if let Some(r) = results.get_mut(i) {
                r.0.push(rps);
                r.1.push(p50);
                r.2.push(p99);
            }
        }
    }
    let [(on_rps, on_p50, on_p99), (off_rps, off_p50, off_p99)] = results;
    let (on_rps, off_rps) = (median(on_rps), median(off_rps));
    println!("GET /api/health, wrk -t2 -c16 -d{secs}s, median of {rounds} alternating rounds");
    println!("| layers | req/s | p50 | p99 | peak RSS |");
    println!("| --- | --- | --- | --- | --- |");
    for (name, rps, p50, p99, pid) in [
        ("metrics + log capture on", on_rps, median(on_p50), median(on_p99), on.child.id()),
        ("off (`STEWARD_TELEMETRY=false`)", off_rps, median(off_p50), median(off_p99), off.child.id()),
    ] {
        let rss = peak_rss_kib(pid).map(|k| format!("{:.1} MiB", k as f64 / 1024.0)).unwrap_or_else(|| "—".into());
        println!("| {name} | {rps:.0} | {p50:.2} ms | {p99:.2} ms | {rss} |");
    }
    println!("cost of the layers: {:.1}% of throughput", (1.0 - on_rps / off_rps) * 100.0);
    Ok(())
}
