//! `bench-runs`: runs per second through the worker pool. A release server (two workers, the
//! default) on a fresh SQLite database is seeded with one tenant whose contacts number about
//! `--records` (the seed spreads records over five entity types), an application whose template
//! validates, hashes, dedupes and maps every contact is installed, and `--runs` runs of one
//! flow are queued at once. While they execute, `wrk` drives `/api/health`; the report gives
//! runs/s, each run's duration and queue wait (p50/p99, from the runs' own timestamps), the
//! health endpoint idle and under the pool's load in the same run, and the server's peak RSS.

use anyhow::Context;
use serde_json::Value;
use std::process::Command;
use std::time::{Duration, Instant};

use crate::bench::{request, request_bytes};
use crate::bench_telemetry::{peak_rss_kib, start_with, wrk};

fn json(body: &str) -> anyhow::Result<Value> {
    Ok(serde_json::from_str(body)?)
}

pub(crate) fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted.get(i).copied().unwrap_or(f64::NAN)
}

pub fn run(records: u64, runs: u32, secs: u32) -> anyhow::Result<()> {
    let bin = crate::bench_telemetry::release_server()?;
    let server = start_with(&bin, true, &[("STEWARD_WORKERS", "2"), ("STEWARD_WORKER_POLL_MS", "50")])?;
    let addr = server.url.trim_start_matches("http://").to_owned();
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    let setup = r#"{"email":"bench@example.com","password":"correct horse battery staple","name":"Bench"}"#;
    let (status, _, body) = rt.block_on(request(&addr, "POST", "/api/setup", None, Some(setup)))?;
    anyhow::ensure!(status == 200 || status == 201, "setup answered {status}: {body}");
    let token = json(&body)?.get("access_token").and_then(Value::as_str).context("no access token")?.to_owned();
    eprintln!("seeding about {records} contacts…");
    let seeded = Command::new(&bin)
        .args(["seed", "--customers", "1", "--users", "5", "--flows-per-customer", "1", "--runs-per-flow", "1"])
        .args(["--connectors-per-customer", "1", "--records-per-customer", &(records * 5).to_string()])
        .env("STEWARD_DATA_DIR", server.dir.path())
        .env("STEWARD_LOG", "warn")
        .env_remove("DATABASE_URL")
        .status()?;
    anyhow::ensure!(seeded.success(), "seeding failed");

    let mut bundle = steward_backend::apps::bundle::Bundle::default();
    bundle.files.insert("steward.json".into(), br#"{"name":"bench-tidy","version":"1.0.0"}"#.to_vec());
    let template = r#"{ "entity_type": "contact", "timeout_seconds": 600, "steps": [
        { "kind": "validate" }, { "kind": "hash" }, { "kind": "dedupe" },
        { "kind": "map", "ops": [ { "op": "set", "path": "/tidied", "value": true } ] } ] }"#;
    bundle.files.insert("flows/tidy.json".into(), template.as_bytes().to_vec());
    let archive = bundle.to_archive().map_err(|e| anyhow::anyhow!("{e}"))?;
    let (status, _, body) = rt.block_on(request_bytes(
        &addr,
        "POST",
        "/api/applications/archive",
        Some(&token),
        Some(("application/gzip", &archive)),
    ))?;
    anyhow::ensure!(status == 201, "installing answered {status}: {body}");
    let (_, _, body) = rt.block_on(request(&addr, "GET", "/api/flow-templates", Some(&token), None))?;
    let template_id =
        json(&body)?.get(0).and_then(|t| t.get("id")).and_then(Value::as_str).context("no template")?.to_owned();
    let (_, _, body) = rt.block_on(request(&addr, "GET", "/api/customers?limit=50", Some(&token), None))?;
    let customers = json(&body)?;
    let tenant = customers
        .get("items")
        .and_then(Value::as_array)
        .and_then(|i| i.iter().find(|c| c.get("kind").and_then(Value::as_str) == Some("tenant")))
        .and_then(|c| c.get("id").and_then(Value::as_str))
        .context("no tenant")?
        .to_owned();
    let (_, _, body) = rt.block_on(request(&addr, "GET", &format!("/api/customers/{tenant}"), Some(&token), None))?;
    let ws = json(&body)?.pointer("/workspaces/0/id").and_then(Value::as_str).context("no workspace")?.to_owned();
    let flow =
        format!(r#"{{"workspace_id":"{ws}","name":"Tidy contacts","template_id":"{template_id}","publish":true}}"#);
    let (status, _, body) = rt.block_on(request(&addr, "POST", "/api/flows", Some(&token), Some(&flow)))?;
    anyhow::ensure!(status == 201, "creating the flow answered {status}: {body}");
    let flow_id = json(&body)?.get("id").and_then(Value::as_str).context("no flow id")?.to_owned();

    let health = format!("{}/api/health", server.url);
    wrk(&health, 2)?;
    let idle = wrk(&health, secs)?;
    let started = Instant::now();
    for _ in 0..runs {
        let (status, _, body) =
            rt.block_on(request(&addr, "POST", &format!("/api/flows/{flow_id}/runs"), Some(&token), None))?;
        anyhow::ensure!(status == 202, "triggering answered {status}: {body}");
    }
    let loaded = wrk(&health, secs)?;
    // Wait for the queue to drain, then read every run's timestamps.
    let items = loop {
        let (_, _, body) =
            rt.block_on(request(&addr, "GET", &format!("/api/runs?flow_id={flow_id}&limit=200"), Some(&token), None))?;
        let items = json(&body)?.get("items").and_then(Value::as_array).cloned().unwrap_or_default();
        let open = items
            .iter()
            .filter(|r| matches!(r.get("status").and_then(Value::as_str), Some("queued" | "running")))
            .count();
        if open == 0 && items.len() >= runs.min(200) as usize {
            break items;
        }
        anyhow::ensure!(started.elapsed() < Duration::from_secs(3_600), "the runs did not finish within an hour");
        std::thread::sleep(Duration::from_millis(250));
    };
    let time = |r: &Value, k: &str| {
        r.get(k).and_then(Value::as_str).and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok())
    };
    let mut durations = Vec::new();
    let mut waits = Vec::new();
    let (mut first, mut last) = (None, None);
    let mut failed = 0;
    for r in &items {
        failed += usize::from(r.get("status").and_then(Value::as_str) != Some("succeeded"));
        if let (Some(q), Some(s), Some(f)) = (time(r, "queued_at"), time(r, "started_at"), time(r, "finished_at")) {
            waits.push((s - q).num_milliseconds() as f64);
            durations.push((f - s).num_milliseconds() as f64);
            first = Some(first.map_or(q, |x: chrono::DateTime<chrono::FixedOffset>| x.min(q)));
            last = Some(last.map_or(f, |x: chrono::DateTime<chrono::FixedOffset>| x.max(f)));
        }
    }
    durations.sort_by(f64::total_cmp);
    waits.sort_by(f64::total_cmp);
    let span = match (first, last) {
        (Some(a), Some(b)) => (b - a).num_milliseconds() as f64 / 1000.0,
        _ => f64::NAN,
    };
    let read = items.first().and_then(|r| r.pointer("/steps/0/records")).and_then(Value::as_u64).unwrap_or(0);
    println!("{} runs of 4 steps over {read} contacts each, SQLite, 2 workers; {failed} did not succeed", items.len());
    println!(
        "runs/s: {:.2} ({} runs in {span:.1} s, first queued to last finished)",
        items.len() as f64 / span,
        items.len()
    );
    println!(
        "run duration p50 {:.0} ms, p99 {:.0} ms; queue wait p50 {:.0} ms, p99 {:.0} ms",
        percentile(&durations, 0.5),
        percentile(&durations, 0.99),
        percentile(&waits, 0.5),
        percentile(&waits, 0.99)
    );
    println!("| /api/health, wrk -t2 -c16 -d{secs}s | req/s | p50 | p99 |");
    println!("| --- | --- | --- | --- |");
    for (name, (rps, p50, p99)) in [("idle", idle), ("while the pool runs", loaded)] {
        println!("| {name} | {rps:.0} | {p50:.2} ms | {p99:.2} ms |");
    }
    let rss =
        peak_rss_kib(server.child.id()).map(|k| format!("{:.1} MiB", k as f64 / 1024.0)).unwrap_or_else(|| "—".into());
    println!("peak RSS of the server: {rss}");
    Ok(())
}
