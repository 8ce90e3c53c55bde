//! `cargo run --release -p xtask -- bench-audit [--events N] [--database-url URL]`: builds a
//! hash-chained audit log of N events, serves the real router on loopback, exports it all as
//! CSV over HTTP and reports rows/s and the process's peak memory growth while streaming,
//! times `verify` over the same log, and samples `/api/health` in the same run for scale.

use std::time::{Duration, Instant};

use chrono::{SubsecRound, Utc};
use sea_orm::{EntityTrait, QueryOrder, TransactionTrait};
use serde_json::json;
use steward_backend::store::entities::audit_events;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

/// VmRSS of this process, in KiB.
fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines().find(|l| l.starts_with("VmRSS:")).and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or(0)
}

/// A minimal HTTP/1.1 exchange; the body is consumed chunk by chunk and only its newlines
/// counted, so the client holds no more than one chunk.
pub(crate) async fn request(
    addr: &str,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: Option<&str>,
) -> anyhow::Result<(u16, u64, String)> {
    request_bytes(addr, method, path, token, body.map(|b| ("application/json", b.as_bytes()))).await
}

/// As [`request`], with a body of any content type.
pub(crate) async fn request_bytes(
    addr: &str,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: Option<(&str, &[u8])>,
) -> anyhow::Result<(u16, u64, String)> {
    let mut stream = TcpStream::connect(addr).await?;
    let mut head = format!("{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n");
    if let Some(t) = token {
        head.push_str(&format!("Authorization: Bearer {t}\r\nX-Steward-Scope: all\r\n"));
    }
    if let Some((kind, b)) = body {
        head.push_str(&format!("Content-Type: {kind}\r\nContent-Length: {}\r\n", b.len()));
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes()).await?;
    if let Some((_, b)) = body {
        stream.write_all(b).await?;
    }
    let mut reader = BufReader::with_capacity(64 * 1024, stream);
    let mut line = String::new();
    reader.read_line(&mut line).await?;
    let status: u16 = line.split_whitespace().nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
    let mut chunked = false;
    let mut length: Option<usize> = None;
    loop {
        line.clear();
        reader.read_line(&mut line).await?;
        let l = line.trim_end().to_ascii_lowercase();
        if l.is_empty() {
            break;
        }
        chunked |= l == "transfer-encoding: chunked";
        if let Some(v) = l.strip_prefix("content-length: ") {
            length = v.parse().ok();
        }
    }
    let mut newlines = 0u64;
    let mut small = String::new();
    let mut buf = vec![0u8; 64 * 1024];
    let mut take = |bytes: &[u8], small: &mut String| {
        newlines += bytes.iter().filter(|b| **b == b'\n').count() as u64;
        if small.len() < 4096 {
            small.push_str(&String::from_utf8_lossy(bytes));
        }
    };
    if chunked {
        loop {
            line.clear();
            reader.read_line(&mut line).await?;
            let size = usize::from_str_radix(line.trim(), 16).unwrap_or(0);
            if size == 0 {
                break;
            }
            let mut left = size;
            while left > 0 {
                let n = left.min(buf.len());
                let part = buf.get_mut(..n).ok_or_else(|| anyhow::anyhow!("buffer"))?;
                reader.read_exact(part).await?;
                take(part, &mut small);
                left -= n;
            }
            line.clear();
            reader.read_line(&mut line).await?;
        }
    } else {
        let mut left = length.unwrap_or(usize::MAX);
        while left > 0 {
            let n = reader.read(&mut buf).await?;
            if n == 0 {
                break;
            }
            let part = buf.get(..n.min(left)).ok_or_else(|| anyhow::anyhow!("buffer"))?;
            take(part, &mut small);
            left = left.saturating_sub(n);
        }
    }
    Ok((status, newlines, small))
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted.get(i).copied().unwrap_or_default()
}

pub async fn audit(events: u64, database_url: Option<String>) -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let url = database_url.unwrap_or_else(|| format!("sqlite://{}?mode=rwc", dir.path().join("bench.db").display()));
    let mut config = steward_backend::Config::for_tests(url.clone(), dir.path().to_path_buf());
    config.assets_dir = Some(dir.path().join("dist"));
    let state = steward_backend::prepare(config).await?;
    let router = steward_backend::app(state.clone())?;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?.to_string();
    tokio::spawn(async move { axum::serve(listener, router).await });

    let setup = json!({ "email": "bench@example.com", "password": "bench-password-123", "name": "Bench" }).to_string();
    let (status, _, body) = request(&addr, "POST", "/api/setup", None, Some(&setup)).await?;
    anyhow::ensure!(status == 201, "setup answered {status}: {body}");
    let body = body.split("\r\n\r\n").last().unwrap_or(&body);
    let token = serde_json::from_str::<serde_json::Value>(body.trim_start_matches(|c: char| c != '{'))
        .ok()
        .and_then(|v| v.get("access_token").and_then(|t| t.as_str()).map(str::to_owned))
        .ok_or_else(|| anyhow::anyhow!("no token in {body}"))?;

    println!("database: {}", steward_backend::store::redact(&url));
    let started = Instant::now();
    let last = audit_events::Entity::find().order_by_desc(audit_events::Column::Seq).one(&state.db).await?;
    let (mut seq, mut prev) =
        last.map(|e| (e.seq, e.hash)).unwrap_or((0, steward_backend::audit::chain::GENESIS.into()));
    let customer = Some(uuid::Uuid::now_v7());
    let mut left = events;
    while left > 0 {
        let txn = state.db.begin().await?;
        for _ in 0..50 {
            let n = left.min(1000);
            if n == 0 {
                break;
            }
            let mut rows = Vec::with_capacity(n as usize);
            for _ in 0..n {
                seq += 1;
                let mut e = audit_events::Model {
                    seq,
                    id: uuid::Uuid::now_v7(),
                    occurred_at: Utc::now().trunc_subsecs(6),
                    customer_id: customer,
                    actor_user_id: customer,
                    impersonated_user_id: None,
                    action: "flow.trigger".into(),
                    outcome: "success".into(),
                    target_type: Some("flow".into()),
                    target_id: Some(format!("flow-{seq}")),
                    request_id: Some(format!("bench-{seq}")),
                    ip: Some("127.0.0.1".into()),
                    user_agent: Some("bench".into()),
                    summary: json!({ "run_id": seq, "note": "=formula, \"quoted\"" }),
                    prev_hash: prev.clone(),
                    hash: String::new(),
                    key_id: Some(state.audit_keys.current_id().to_owned()),
                };
                e.hash = steward_backend::audit::chain::hash(&e, &state.audit_keys).unwrap_or_default();
                prev = e.hash.clone();
                rows.push(audit_events::ActiveModel::from(e));
            }
            audit_events::Entity::insert_many(rows).exec_without_returning(&txn).await?;
            left -= n;
        }
        txn.commit().await?;
    }
    println!("built {events} chained events in {:.1} s", started.elapsed().as_secs_f64());

    let mut health = Vec::with_capacity(500);
    for _ in 0..500 {
        let t = Instant::now();
        let (status, _, _) = request(&addr, "GET", "/api/health", None, None).await?;
        anyhow::ensure!(status == 200, "health answered {status}");
        health.push(t.elapsed());
    }
    health.sort();
    println!(
        "/api/health: p50 {:.2} ms, p99 {:.2} ms",
        percentile(&health, 0.5).as_secs_f64() * 1e3,
        percentile(&health, 0.99).as_secs_f64() * 1e3
    );

    let baseline = rss_kib();
    let peak = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(baseline));
    let sampler = {
        let peak = peak.clone();
        tokio::spawn(async move {
            loop {
                peak.fetch_max(rss_kib(), std::sync::atomic::Ordering::Relaxed);
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        })
    };
    let t = Instant::now();
    let (status, lines, _) = request(&addr, "GET", "/api/audit/export", Some(&token), None).await?;
    let secs = t.elapsed().as_secs_f64();
    sampler.abort();
    anyhow::ensure!(status == 200, "export answered {status}");
    let rows = lines.saturating_sub(1);
    let growth = peak.load(std::sync::atomic::Ordering::Relaxed).saturating_sub(baseline);
    println!(
        "export: {rows} rows in {secs:.2} s = {:.0} rows/s; peak RSS growth {:.1} MiB (baseline {:.1} MiB)",
        rows as f64 / secs,
        growth as f64 / 1024.0,
        baseline as f64 / 1024.0
    );

    let t = Instant::now();
    let (status, _, body) = request(&addr, "GET", "/api/audit/verify", Some(&token), None).await?;
    anyhow::ensure!(status == 200, "verify answered {status}");
    println!("verify: {:.2} s ({})", t.elapsed().as_secs_f64(), body.lines().last().unwrap_or("").trim());
    Ok(())
}

/// Latencies of `total` requests to `path` from `conns` concurrent clients.
async fn load(
    addr: &str,
    token: Option<&str>,
    paths: &[String],
    conns: usize,
    total: usize,
) -> anyhow::Result<(f64, Vec<Duration>)> {
    let started = Instant::now();
    let mut tasks = Vec::with_capacity(conns);
    for c in 0..conns {
        let (addr, token, paths) = (addr.to_owned(), token.map(str::to_owned), paths.to_vec());
        let share = total / conns + usize::from(c < total % conns);
        tasks.push(tokio::spawn(async move {
            let mut out = Vec::with_capacity(share);
            for i in 0..share {
                let path = paths.get((c + i * conns) % paths.len().max(1)).cloned().unwrap_or_default();
                let t = Instant::now();
                let (status, _, body) = request(&addr, "GET", &path, token.as_deref(), None).await?;
                anyhow::ensure!(status == 200, "{path} answered {status}: {body}");
                out.push(t.elapsed());
            }
            Ok::<_, anyhow::Error>(out)
        }));
    }
    let mut all = Vec::with_capacity(total);
    for t in tasks {
        all.extend(t.await??);
    }
    let rps = all.len() as f64 / started.elapsed().as_secs_f64();
    all.sort();
    Ok((rps, all))
}

fn report(name: &str, rps: f64, lat: &[Duration], health: Option<(f64, Duration, Duration)>) {
    let (p50, p99) = (percentile(lat, 0.5), percentile(lat, 0.99));
    let ratio = health
        .map(|(hrps, h50, h99)| {
            format!(
                "  [{:.2}x health req/s, p50 {:.1}x, p99 {:.1}x]",
                rps / hrps,
                p50.as_secs_f64() / h50.as_secs_f64().max(1e-9),
                p99.as_secs_f64() / h99.as_secs_f64().max(1e-9)
            )
        })
        .unwrap_or_default();
    println!(
        "{name:<34} {rps:>8.0} req/s  p50 {:>6.2} ms  p99 {:>6.2} ms{ratio}",
        p50.as_secs_f64() * 1e3,
        p99.as_secs_f64() * 1e3
    );
}

/// `bench-users`: seeds `users` users over `customers` customers, then loads the directory's
/// first page, a deep page and searches with 16 concurrent clients, beside `/api/health`.
pub async fn users(customers: u64, users: u64, database_url: Option<String>) -> anyhow::Result<()> {
    use sea_orm::{ConnectionTrait, FromQueryResult, QuerySelect};
    let dir = tempfile::tempdir()?;
    let url = database_url.unwrap_or_else(|| format!("sqlite://{}?mode=rwc", dir.path().join("bench.db").display()));
    let mut config = steward_backend::Config::for_tests(url.clone(), dir.path().to_path_buf());
    config.assets_dir = Some(dir.path().join("dist"));
    config.db_max_connections = 16;
    let state = steward_backend::prepare(config).await?;
    let router = steward_backend::app(state.clone())?;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?.to_string();
    tokio::spawn(async move { axum::serve(listener, router).await });
    // A database seeded by an earlier run (same --database-url) is reused: sign in instead of
    // setting up, and seed only what is missing.
    let setup = json!({ "email": "bench@example.com", "password": "bench-password-123", "name": "Bench" }).to_string();
    let (mut status, _, mut body) = request(&addr, "POST", "/api/setup", None, Some(&setup)).await?;
    if status == 409 {
        let login = json!({ "email": "bench@example.com", "password": "bench-password-123" }).to_string();
        (status, _, body) = request(&addr, "POST", "/api/auth/login", None, Some(&login)).await?;
    }
    anyhow::ensure!(status == 201 || status == 200, "setup/login answered {status}: {body}");
    let token = serde_json::from_str::<serde_json::Value>(body.trim_start_matches(|c: char| c != '{'))
        .ok()
        .and_then(|v| v.get("access_token").and_then(|t| t.as_str()).map(str::to_owned))
        .ok_or_else(|| anyhow::anyhow!("no token in {body}"))?;
    println!("database: {}", steward_backend::store::redact(&url));
    let started = Instant::now();
    let existing = {
        use sea_orm::PaginatorTrait;
        steward_backend::store::entities::users::Entity::find().count(&state.db).await?
    };
    if existing < users {
        let args = steward_backend::config::SeedArgs {
            customers,
            users: users - existing,
            flows_per_customer: 0,
            runs_per_flow: 0,
            connectors_per_customer: 0,
            records_per_customer: 0,
            password: "demo-password-123".into(),
            seed: 42,
        };
        steward_backend::ops::seed::run(&state, &args).await?;
    }
    state.db.execute_unprepared("ANALYZE").await?;
    println!("seeded {users} users over {customers} customers in {:.1} s", started.elapsed().as_secs_f64());

    // A deep page: the cursor of the row 90% of the way down the newest-first order
    // (found once here with OFFSET; the product itself never uses OFFSET).
    #[derive(FromQueryResult)]
    struct Row {
        id: uuid::Uuid,
        created_at: chrono::DateTime<Utc>,
    }
    use sea_orm::QueryOrder;
    use steward_backend::store::entities::users as u;
    let deep = u::Entity::find()
        .select_only()
        .column(u::Column::Id)
        .column(u::Column::CreatedAt)
        .order_by_desc(u::Column::CreatedAt)
        .order_by_desc(u::Column::Id)
        .offset(users * 9 / 10)
        .limit(1)
        .into_model::<Row>()
        .one(&state.db)
        .await?
        .ok_or_else(|| anyhow::anyhow!("no deep row"))?;
    let cursor =
        steward_backend::http::pagination::Cursor { key: Some(deep.created_at.to_rfc3339()), id: deep.id }.encode();
    // Searches: one person by a fragment of their email, and a common surname.
    let people: Vec<String> =
        (0..64).map(|i| format!("/api/users?search=.{}.", (i * 15_485_863u64) % users.max(1))).collect();

    let (conns, n) = (16, 4000);
    load(&addr, None, &["/api/health".to_owned()], conns, 500).await?; // warm-up
    let (hrps, health) = load(&addr, None, &["/api/health".to_owned()], conns, n).await?;
    report("/api/health", hrps, &health, None);
    let h = Some((hrps, percentile(&health, 0.5), percentile(&health, 0.99)));
    let baseline = rss_kib();
    let runs: Vec<(&str, Vec<String>)> = vec![
        ("directory page 1 (all customers)", vec!["/api/users?limit=50".to_owned()]),
        ("directory deep page (90%)", vec![format!("/api/users?limit=50&cursor={cursor}")]),
        ("directory page 1 by name", vec!["/api/users?limit=50&sort=name".to_owned()]),
        ("search: one person (email part)", people),
        ("search: common surname", vec!["/api/users?search=lovelace".to_owned()]),
    ];
    for (name, paths) in runs {
        load(&addr, Some(&token), &paths, conns, 200).await?; // warm-up
        let (rps, lat) = load(&addr, Some(&token), &paths, conns, n / 2).await?;
        report(name, rps, &lat, h);
    }
    // Service time without queueing: one connection.
    let (hrps1, health1) = load(&addr, None, &["/api/health".to_owned()], 1, 500).await?;
    report("/api/health (1 connection)", hrps1, &health1, None);
    let h1 = Some((hrps1, percentile(&health1, 0.5), percentile(&health1, 0.99)));
    let (rps1, page1) = load(&addr, Some(&token), &["/api/users?limit=50".to_owned()], 1, 500).await?;
    report("directory page 1 (1 connection)", rps1, &page1, h1);
    println!("peak RSS {:.1} MiB (after seeding {:.1} MiB)", rss_kib() as f64 / 1024.0, baseline as f64 / 1024.0);
    Ok(())
}
