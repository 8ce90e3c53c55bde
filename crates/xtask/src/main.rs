//! Project tooling. `cargo run -p xtask -- openapi` writes `openapi/openapi.json` from the code;
//! `cargo run -p xtask -- openapi --check` fails when the committed file differs;
//! `cargo run --release -p xtask -- bench-audit [--events N] [--database-url URL]` benchmarks the
//! audit export and verify; `bench-users [--users N] [--customers N] [--database-url URL]` the
//! users directory at a million users; `bench-telemetry [--rounds N] [--seconds S]` what the
//! request-metrics and log layers cost, measured with `wrk` against two release servers;
//! `bench-data [--records N] [--seconds S]` the Data explorer and hash warnings over a million
//! records, with `wrk` beside `/api/health`; `bench-runs [--records N] [--runs N] [--seconds S]` runs
//! per second through the worker pool over 10k records a run, and `/api/health` beside it;
//! `bench [--users N] [--customers N] [--seconds S] [--databases sqlite,postgres] [--pg-url URL]`
//! the request path (health, me, users pages, searches, audit) from outside the process with
//! `wrk`, beside `/api/health` and a bare axum + sqlx baseline (`bench-baseline`) running the
//! page's own query, cold start and RSS, on SQLite and PostgreSQL.

mod bench;
mod bench_api;
mod bench_data;
mod bench_login;
mod bench_runs;
mod bench_telemetry;

use std::path::PathBuf;

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some("bench-audit") {
        let flag = |name: &str| args.iter().position(|a| a == name).and_then(|i| args.get(i + 1)).cloned();
        let events = flag("--events").map(|n| n.parse()).transpose()?.unwrap_or(1_000_000);
        let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
        return runtime.block_on(bench::audit(events, flag("--database-url")));
    }
    if args.first().map(String::as_str) == Some("bench-users") {
        let flag = |name: &str| args.iter().position(|a| a == name).and_then(|i| args.get(i + 1)).cloned();
        let users = flag("--users").map(|n| n.parse()).transpose()?.unwrap_or(1_000_000);
        let customers = flag("--customers").map(|n| n.parse()).transpose()?.unwrap_or(1_000);
        let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
        return runtime.block_on(bench::users(customers, users, flag("--database-url")));
    }
    if args.first().map(String::as_str) == Some("bench-data") {
        let flag = |name: &str| args.iter().position(|a| a == name).and_then(|i| args.get(i + 1)).cloned();
        let records = flag("--records").map(|n| n.parse()).transpose()?.unwrap_or(1_000_000);
        let secs = flag("--seconds").map(|n| n.parse()).transpose()?.unwrap_or(10);
        return bench_data::run(records, secs);
    }
    if args.first().map(String::as_str) == Some("bench-runs") {
        let flag = |name: &str| args.iter().position(|a| a == name).and_then(|i| args.get(i + 1)).cloned();
        let records = flag("--records").map(|n| n.parse()).transpose()?.unwrap_or(10_000);
        let runs = flag("--runs").map(|n| n.parse()).transpose()?.unwrap_or(40);
        let secs = flag("--seconds").map(|n| n.parse()).transpose()?.unwrap_or(8);
        return bench_runs::run(records, runs, secs);
    }
    if args.first().map(String::as_str) == Some("bench-login-flood") {
        let flag = |name: &str| args.iter().position(|a| a == name).and_then(|i| args.get(i + 1)).cloned();
        let connections = flag("--connections").map(|n| n.parse()).transpose()?.unwrap_or(200);
        let secs = flag("--seconds").map(|n| n.parse()).transpose()?.unwrap_or(8);
        return bench_login::run(connections, secs);
    }
    if args.first().map(String::as_str) == Some("bench") {
        let flag = |name: &str| args.iter().position(|a| a == name).and_then(|i| args.get(i + 1)).cloned();
        return bench_api::run(bench_api::Options {
            users: flag("--users").map(|n| n.parse()).transpose()?.unwrap_or(1_000_000),
            customers: flag("--customers").map(|n| n.parse()).transpose()?.unwrap_or(1_000),
            secs: flag("--seconds").map(|n| n.parse()).transpose()?.unwrap_or(8),
            databases: flag("--databases")
                .unwrap_or_else(|| "sqlite,postgres".into())
                .split(',')
                .map(str::to_owned)
                .collect(),
            pg_url: flag("--pg-url")
                .or_else(|| std::env::var("STEWARD_TEST_PG_URL").ok())
                .unwrap_or_else(|| "postgres://postgres@127.0.0.1:5432/postgres".into()),
        });
    }
    if args.first().map(String::as_str) == Some("bench-baseline") {
        let flag = |name: &str| args.iter().position(|a| a == name).and_then(|i| args.get(i + 1)).cloned();
        let url = flag("--database-url").ok_or_else(|| anyhow::anyhow!("--database-url is needed"))?;
        let bind = flag("--bind").unwrap_or_else(|| "127.0.0.1:8090".into());
        return bench_api::baseline(&url, &bind);
    }
    if args.first().map(String::as_str) == Some("bench-telemetry") {
        let flag = |name: &str| args.iter().position(|a| a == name).and_then(|i| args.get(i + 1)).cloned();
        let rounds = flag("--rounds").map(|n| n.parse()).transpose()?.unwrap_or(3);
        let secs = flag("--seconds").map(|n| n.parse()).transpose()?.unwrap_or(10);
        return bench_telemetry::run(rounds, secs);
    }
    match args.iter().map(String::as_str).collect::<Vec<_>>().as_slice() {
        ["openapi"] => {
            let path = spec_path();
            std::fs::write(&path, spec()?)?;
            println!("wrote {}", path.display());
            Ok(())
        }
        ["openapi", "--check"] => {
            let committed = std::fs::read_to_string(spec_path()).unwrap_or_default();
            if committed != spec()? {
                anyhow::bail!("openapi/openapi.json is stale: run `cargo run -p xtask -- openapi`");
            }
            println!("openapi/openapi.json is up to date");
            Ok(())
        }
        _ => anyhow::bail!(
            "usage: cargo run -p xtask -- openapi [--check] | bench-audit [--events N] [--database-url URL] | bench-users [--users N] [--customers N] [--database-url URL] | bench-telemetry [--rounds N] [--seconds S] | bench-data [--records N] [--seconds S] | bench-runs [--records N] [--runs N] [--seconds S] | bench-login-flood [--connections N] [--seconds S] | bench [--users N] [--customers N] [--seconds S] [--databases sqlite,postgres] [--pg-url URL] | bench-baseline --database-url URL [--bind ADDR]"
        ),
    }
}

fn spec() -> anyhow::Result<String> {
    steward_backend::api::contract::spec_json().map_err(|e| anyhow::anyhow!(e))
}

fn spec_path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../openapi/openapi.json")
}
