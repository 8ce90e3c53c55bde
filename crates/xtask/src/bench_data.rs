//! `bench-data`: the Data explorer and Hash warnings over a million records. A release server
//! on a fresh SQLite database is seeded (`steward-server seed`), then `wrk` drives, from
//! outside the process, `/api/health`, an explorer page (filter on entity type, sort on
//! `updated_at`, one customer) and the hash warnings (every customer) in turn; the report
//! gives each one's req/s and p50/p99 beside `/api/health` measured in the same run, and the
//! server's peak RSS.

use anyhow::Context;
use std::process::Command;

use crate::bench::request;
use crate::bench_telemetry::{peak_rss_kib, start, wrk, wrk_with};

pub fn run(records: u64, secs: u32) -> anyhow::Result<()> {
    let bin = crate::bench_telemetry::release_server()?;
    let server = start(&bin, true)?;
    let addr = server.url.trim_start_matches("http://").to_owned();
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    let setup = r#"{"email":"bench@example.com","password":"correct horse battery staple","name":"Bench"}"#;
    let (status, _, body) = runtime.block_on(request(&addr, "POST", "/api/setup", None, Some(setup)))?;
    anyhow::ensure!(status == 200 || status == 201, "setup answered {status}: {body}");
    let token: String = serde_json::from_str::<serde_json::Value>(&body)?
        .get("access_token")
        .and_then(|t| t.as_str())
        .context("no access token")?
        .to_owned();
    let customers = 4;
    eprintln!("seeding {records} records over {customers} customers…");
    let seeded = Command::new(&bin)
        .args(["seed", "--customers", &customers.to_string(), "--users", "20", "--flows-per-customer", "2"])
        .args(["--runs-per-flow", "1", "--connectors-per-customer", "1"])
        .args(["--records-per-customer", &(records / customers).to_string()])
        .env("STEWARD_DATA_DIR", server.dir.path())
        .env("STEWARD_LOG", "warn")
        .env_remove("DATABASE_URL")
        .status()?;
    anyhow::ensure!(seeded.success(), "seeding failed");
    let (_, _, list) = runtime.block_on(request(&addr, "GET", "/api/customers?limit=50", Some(&token), None))?;
    let list: serde_json::Value = serde_json::from_str(&list)?;
    let customer = list
        .get("items")
        .and_then(|i| i.as_array())
        .and_then(|items| items.iter().find(|c| c.get("kind").and_then(|k| k.as_str()) == Some("tenant")))
        .and_then(|c| c.get("id").and_then(|i| i.as_str()))
        .context("no tenant seeded")?
        .to_owned();
    let script = server.dir.path().join("query.lua");
    std::fs::write(
        &script,
        r#"wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"filters":[{"column":"entity_type","op":"eq","value":"invoice"}],"sort":"updated_at","order":"desc","limit":50}'
"#,
    )?;
    let auth = format!("Authorization: Bearer {token}");
    let health = format!("{}/api/health", server.url);
    wrk(&health, 2)?;
    let (h_rps, h_p50, h_p99) = wrk(&health, secs)?;
    let explorer_args = [
        "-H".to_owned(),
        auth.clone(),
        "-H".to_owned(),
        format!("X-Steward-Scope: customer:{customer}"),
        "-s".to_owned(),
        script.display().to_string(),
    ];
    let explorer = wrk_with(&format!("{}/api/explorer/tables/records/query", server.url), secs, &explorer_args)?;
    let hashes_args = ["-H".to_owned(), auth, "-H".to_owned(), "X-Steward-Scope: all".to_owned()];
    let hashes = wrk_with(&format!("{}/api/data/hash-warnings", server.url), secs, &hashes_args)?;
    let (h2_rps, h2_p50, h2_p99) = wrk(&health, secs)?;
    println!("{records} records, SQLite, wrk -t2 -c16 -d{secs}s; /api/health before and after");
    println!("| endpoint | req/s | p50 | p99 | p99 ÷ health p99 |");
    println!("| --- | --- | --- | --- | --- |");
    let base = h_p99.max(h2_p99);
    for (name, (rps, p50, p99)) in [
        ("GET /api/health (before)", (h_rps, h_p50, h_p99)),
        ("explorer: records, entity_type = invoice, sort updated_at", explorer),
        ("GET /api/data/hash-warnings (all customers)", hashes),
        ("GET /api/health (after)", (h2_rps, h2_p50, h2_p99)),
    ] {
        println!("| {name} | {rps:.0} | {p50:.2} ms | {p99:.2} ms | {:.2} |", p99 / base);
    }
    let rss =
        peak_rss_kib(server.child.id()).map(|k| format!("{:.1} MiB", k as f64 / 1024.0)).unwrap_or_else(|| "—".into());
    println!("peak RSS of the server: {rss}");
    Ok(())
}
