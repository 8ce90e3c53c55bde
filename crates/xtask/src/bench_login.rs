//! `bench-login-flood`: what a flood of wrong passwords does to everyone else. A release server on
//! a fresh SQLite database; `wrk` measures `/api/me` (a signed-in admin) and `/api/health` alone,
//! then again while `--connections` clients (each from its own loopback address, 127.0.1.x, so
//! the per-IP throttle does not simply answer them all 429) post wrong passwords for the admin's
//! account and for unknown accounts as fast as they are answered. The report gives the API's
//! figures beside the idle ones, the flood's answers by status with their p50/p99, and the
//! server's peak RSS. The flood is answered by the throttle (429) and, past the hashing queue,
//! 503 with Retry-After; the goal is the rest of the API within 2x its idle p99.

use anyhow::Context;
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::bench::request;
use crate::bench_runs::percentile;
use crate::bench_telemetry::{peak_rss_kib, start_with, wrk, wrk_with};

/// One login from `source`: the status, or 0 when the connection failed.
async fn login_from(source: std::net::Ipv4Addr, addr: std::net::SocketAddr, body: &str) -> u16 {
    let attempt = async {
        let socket = tokio::net::TcpSocket::new_v4()?;
        socket.bind((source, 0).into())?;
        let mut stream = socket.connect(addr).await?;
        let head = format!(
            "POST /api/auth/login HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        );
        stream.write_all(head.as_bytes()).await?;
        let mut answer = Vec::with_capacity(1024);
        stream.read_to_end(&mut answer).await?;
        let text = String::from_utf8_lossy(&answer);
        anyhow::Ok(text.split_whitespace().nth(1).and_then(|s| s.parse().ok()).unwrap_or(0))
    };
    attempt.await.unwrap_or(0)
}

pub fn run(connections: u32, secs: u32) -> anyhow::Result<()> {
    crate::bench_api::ensure_wrk()?;
    let bin = crate::bench_telemetry::release_server()?;
    let server = start_with(&bin, true, &[])?;
    let addr: std::net::SocketAddr = server.url.trim_start_matches("http://").parse()?;
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build()?;
    let setup = r#"{"email":"bench@example.com","password":"correct horse battery staple","name":"Bench"}"#;
    let (status, _, body) = rt.block_on(request(&addr.to_string(), "POST", "/api/setup", None, Some(setup)))?;
    anyhow::ensure!(status == 200 || status == 201, "setup answered {status}: {body}");
    let token = serde_json::from_str::<serde_json::Value>(&body)?
        .get("access_token")
        .and_then(|t| t.as_str())
        .context("no access token")?
        .to_owned();

    let health = format!("{}/api/health", server.url);
    let me = format!("{}/api/me", server.url);
    let auth = ["-H".to_owned(), format!("Authorization: Bearer {token}")];
    wrk(&health, 2)?;
    let idle_health = wrk(&health, secs)?;
    let idle_me = wrk_with(&me, secs, &auth)?;

    // The flood: each client its own source address, alternating the real account and unknown
    // ones, until told to stop.
    let stop = Arc::new(AtomicBool::new(false));
    let flood = {
        let stop = stop.clone();
        rt.spawn(async move {
            let mut tasks = Vec::new();
            for i in 0..connections {
                let stop = stop.clone();
                let source = std::net::Ipv4Addr::new(127, 0, 1 + (i / 250) as u8, 1 + (i % 250) as u8);
                tasks.push(tokio::spawn(async move {
                    let mut answers: Vec<(u16, f64)> = Vec::new();
                    let mut n = 0u64;
                    while !stop.load(Ordering::Relaxed) {
                        let email = if n.is_multiple_of(2) {
                            "bench@example.com".to_owned()
                        } else {
                            format!("nobody{i}.{n}@example.com")
                        };
                        let body = format!(r#"{{"email":"{email}","password":"wrong password, flooding"}}"#);
                        let t = Instant::now();
                        let status = login_from(source, addr, &body).await;
                        answers.push((status, t.elapsed().as_secs_f64() * 1e3));
                        n += 1;
                    }
                    answers
                }));
            }
            let mut all = Vec::new();
            for t in tasks {
                all.extend(t.await.unwrap_or_default());
            }
            all
        })
    };
    std::thread::sleep(Duration::from_secs(1));
    let flooded_health = wrk(&health, secs)?;
    let flooded_me = wrk_with(&me, secs, &auth)?;
    stop.store(true, Ordering::Relaxed);
    let answers = rt.block_on(flood)?;
    let rss =
        peak_rss_kib(server.child.id()).map(|k| format!("{:.1} MiB", k as f64 / 1024.0)).unwrap_or_else(|| "—".into());

    println!("login flood: {connections} clients (one loopback address each), SQLite, 2 cores, wrk -t2 -c16 -d{secs}s");
    println!("| endpoint | idle req/s | idle p50 | idle p99 | flooded req/s | flooded p50 | flooded p99 | p99 ratio |");
    println!("| --- | --- | --- | --- | --- | --- | --- | --- |");
    for (name, idle, flooded) in [("`/api/health`", idle_health, flooded_health), ("`/api/me`", idle_me, flooded_me)] {
        println!(
            "| {name} | {:.0} | {:.2} ms | {:.2} ms | {:.0} | {:.2} ms | {:.2} ms | {:.2} |",
            idle.0,
            idle.1,
            idle.2,
            flooded.0,
            flooded.1,
            flooded.2,
            flooded.2 / idle.2
        );
    }
    let mut by_status: BTreeMap<u16, Vec<f64>> = BTreeMap::new();
    for (status, ms) in answers {
        by_status.entry(status).or_default().push(ms);
    }
    println!("| flood answer | count | p50 | p99 |");
    println!("| --- | --- | --- | --- |");
    for (status, mut ms) in by_status {
        ms.sort_by(f64::total_cmp);
        let name = if status == 0 { "connection failed".to_owned() } else { status.to_string() };
        println!("| {name} | {} | {:.1} ms | {:.1} ms |", ms.len(), percentile(&ms, 0.5), percentile(&ms, 0.99));
    }
    println!("peak RSS of the server: {rss}");
    Ok(())
}
