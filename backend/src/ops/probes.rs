//! Connector health that is measured (issue 16). A connector whose kind comes from an active
//! application, and that has an endpoint, is probed as its kind declares: the method and path
//! on the endpoint, with the connector's key, under a timeout; a healthy status within
//! `slow_ms` is `healthy`, a slower one `degraded`, anything else `down` with the reason. Each
//! connector is claimed for a turn with a compare-and-swap on its last check, so several
//! replicas probe each connector once per interval between them.
//!
//! The endpoint's addresses are resolved first and the request is pinned to them: unless the
//! instance allows private endpoints, a tenant's connector cannot point the platform at
//! loopback, private or link-local addresses (nor rebind its name to one after the check).

use chrono::{DateTime, Utc};
use futures::StreamExt;
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, Condition, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use serde_json::json;
use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, Instant};

use crate::apps::manifest::{ConnectorKind, Probe};
use crate::http::error::AppResult;
use crate::state::AppState;
use crate::store::entities::{applications, connector_kinds, connectors};
use crate::store::logs::LogLine;

/// Probes in flight at once per replica.
const CONCURRENCY: usize = 16;
/// Connectors claimed per turn.
const BATCH: u64 = 200;

/// What one probe found.
#[derive(Debug, Clone, PartialEq)]
pub struct Measured {
    pub health: &'static str,
    pub latency_ms: Option<i32>,
    pub error: Option<String>,
}

/// The probes of the connector kinds of active applications (their version in use), by kind.
pub async fn probes(state: &AppState) -> AppResult<std::collections::HashMap<String, Probe>> {
    let active: Vec<(uuid::Uuid, Option<uuid::Uuid>)> = applications::Entity::find()
        .select_only()
        .column(applications::Column::Id)
        .column(applications::Column::CurrentVersionId)
        .filter(applications::Column::Active.eq(true))
        .order_by_asc(applications::Column::Name)
        .into_tuple()
        .all(&state.db)
        .await?;
    let versions: Vec<uuid::Uuid> = active.iter().filter_map(|(_, v)| *v).collect();
    let kinds = connector_kinds::Entity::find()
        .filter(connector_kinds::Column::VersionId.is_in(versions))
        .all(&state.db)
        .await?;
    let mut out = std::collections::HashMap::new();
    for k in kinds {
        if let Ok(def) = serde_json::from_value::<ConnectorKind>(k.definition) {
            out.entry(k.kind).or_insert(def.health);
        }
    }
    Ok(out)
}

/// Whether an address is one a tenant's connector may not make the platform request.
fn private(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            v4.is_loopback()
                || v4.is_private()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_broadcast()
                || v4.is_multicast()
                // Carrier-grade NAT (100.64.0.0/10).
                || (v4.octets()[0] == 100 && (v4.octets()[1] & 0xc0) == 64)
        }
        IpAddr::V6(v6) => {
            v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || (v6.segments()[0] & 0xfe00) == 0xfc00
                || (v6.segments()[0] & 0xffc0) == 0xfe80
                || v6.to_ipv4_mapped().is_some_and(|v4| private(IpAddr::V4(v4)))
        }
    }
}

fn down(error: String, latency_ms: Option<i32>) -> Measured {
    Measured { health: "down", latency_ms, error: Some(error) }
}

/// Requests the probe on `endpoint` with `key`.
pub async fn probe(state: &AppState, endpoint: &str, key: Option<&str>, p: &Probe) -> Measured {
    let url =
        match reqwest::Url::parse(&format!("{}/{}", endpoint.trim_end_matches('/'), p.path.trim_start_matches('/'))) {
            Ok(u) => u,
            Err(e) => return down(format!("the endpoint and probe path make no URL: {e}"), None),
        };
    let (Some(host), Some(port)) = (url.host_str().map(str::to_owned), url.port_or_known_default()) else {
        return down("the endpoint names no host".into(), None);
    };
    let timeout = Duration::from_millis(u64::from(p.timeout_ms.clamp(50, 30_000)));
    let literal = match url.host() {
        Some(url::Host::Ipv4(ip)) => Some(IpAddr::V4(ip)),
        Some(url::Host::Ipv6(ip)) => Some(IpAddr::V6(ip)),
        _ => None,
    };
    let addrs: Vec<SocketAddr> = match literal {
        Some(ip) => vec![SocketAddr::new(ip, port)],
        None => match tokio::time::timeout(timeout, tokio::net::lookup_host((host.as_str(), port))).await {
            Ok(Ok(a)) => a.collect(),
            Ok(Err(e)) => return down(format!("`{host}` does not resolve: {e}"), None),
            Err(_) => return down(format!("resolving `{host}` timed out"), None),
        },
    };
    if !state.config.allow_private_endpoints {
        if let Some(a) = addrs.iter().find(|a| private(a.ip())) {
            return down(
                format!(
                    "`{host}` resolves to {}, a private address; probes do not reach it (--allow-private-endpoints)",
                    a.ip()
                ),
                None,
            );
        }
    }
    let Some(first) = addrs.first().copied() else { return down(format!("`{host}` has no address"), None) };
    let mut builder = reqwest::Client::builder().timeout(timeout).redirect(reqwest::redirect::Policy::none());
    if literal.is_none() {
        // Pinned to the address checked above.
        builder = builder.resolve(&host, first);
    }
    let client = match builder.build() {
        Ok(c) => c,
        Err(e) => return down(format!("the probe could not be prepared: {e}"), None),
    };
    let method = reqwest::Method::from_bytes(p.method.to_uppercase().as_bytes()).unwrap_or(reqwest::Method::GET);
    let mut req = client.request(method, url);
    if let Some(key) = key {
        req = match &p.key_header {
            Some(h) => req.header(h.as_str(), key),
            None => req.bearer_auth(key),
        };
    }
    let started = Instant::now();
    let res = req.send().await;
    let ms = started.elapsed().as_millis().min(i32::MAX as u128) as i32;
    match res {
        Err(e) if e.is_timeout() => down(format!("no answer within {} ms", timeout.as_millis()), Some(ms)),
        Err(e) if e.is_connect() => down(format!("connection refused or unreachable: {e}"), Some(ms)),
        Err(e) => down(format!("the probe failed: {e}"), Some(ms)),
        Ok(r) if !p.healthy_status.contains(&r.status().as_u16()) => {
            down(format!("answered {} (healthy is {:?})", r.status().as_u16(), p.healthy_status), Some(ms))
        }
        Ok(_) if ms as u64 > u64::from(p.slow_ms) => Measured {
            health: "degraded",
            latency_ms: Some(ms),
            error: Some(format!("answered in {ms} ms, slower than {} ms", p.slow_ms)),
        },
        Ok(_) => Measured { health: "healthy", latency_ms: Some(ms), error: None },
    }
}

/// Probes one connector now and records what it found; `None` when it has nothing to probe
/// (no endpoint, or a kind no active application declares).
pub async fn check(
    state: &AppState,
    c: &connectors::Model,
    kinds: &std::collections::HashMap<String, Probe>,
) -> AppResult<Option<Measured>> {
    let (Some(endpoint), Some(p)) = (c.endpoint.as_deref(), kinds.get(&c.kind)) else { return Ok(None) };
    let key = c.api_key_sealed.as_deref().and_then(|s| state.jwt.unseal(s));
    let mut m = probe(state, endpoint, key.as_deref(), p).await;
    if key.is_none() {
        let why =
            "the connector's key cannot be read here (made before keys were kept, or under another secret): rotate it";
        m.error = Some(match m.error {
            Some(e) => format!("{e}; {why}"),
            None => why.to_string(),
        });
    }
    record(state, c, &m, Utc::now()).await?;
    Ok(Some(m))
}

async fn record(state: &AppState, c: &connectors::Model, m: &Measured, at: DateTime<Utc>) -> AppResult<()> {
    connectors::Entity::update_many()
        .col_expr(connectors::Column::Health, Expr::value(m.health))
        .col_expr(connectors::Column::HealthCheckedAt, Expr::value(at))
        .col_expr(connectors::Column::HealthLatencyMs, Expr::value(m.latency_ms))
        .col_expr(connectors::Column::HealthError, Expr::value(m.error.clone()))
        .filter(connectors::Column::Id.eq(c.id))
        .exec(&state.db)
        .await?;
    if c.health != m.health {
        let level = if m.health == "healthy" { "info" } else { "warn" };
        let mut line = LogLine::new(
            "platform",
            "connector_health",
            level,
            format!(
                "connector {} is {} (was {}){}",
                c.name,
                m.health,
                c.health,
                m.error.as_ref().map(|e| format!(": {e}")).unwrap_or_default()
            ),
        );
        line.customer_id = Some(c.customer_id);
        line.fields =
            json!({ "connector_id": c.id, "health": m.health, "before": c.health, "latency_ms": m.latency_ms });
        state.logs.emit(line);
    }
    Ok(())
}

/// One turn: claims the connectors due for a probe (not checked for `every`) and probes them,
/// `CONCURRENCY` at a time. Returns how many it probed.
pub async fn tick(state: &AppState, every: Duration) -> AppResult<usize> {
    let kinds = probes(state).await?;
    if kinds.is_empty() {
        return Ok(0);
    }
    let now = Utc::now();
    let due_before = now - chrono::Duration::from_std(every).unwrap_or_default();
    let due = connectors::Entity::find()
        .filter(connectors::Column::Endpoint.is_not_null())
        .filter(connectors::Column::Kind.is_in(kinds.keys().cloned().collect::<Vec<_>>()))
        .filter(
            Condition::any()
                .add(connectors::Column::HealthCheckedAt.is_null())
                .add(connectors::Column::HealthCheckedAt.lt(due_before)),
        )
        .order_by_asc(connectors::Column::Id)
        .limit(BATCH)
        .all(&state.db)
        .await?;
    let mut mine = Vec::new();
    for c in due {
        // The claim: whoever moves the last check first probes it.
        let mut claim = connectors::Entity::update_many()
            .col_expr(connectors::Column::HealthCheckedAt, Expr::value(now))
            .filter(connectors::Column::Id.eq(c.id));
        claim = match c.health_checked_at {
            Some(t) => claim.filter(connectors::Column::HealthCheckedAt.eq(t)),
            None => claim.filter(connectors::Column::HealthCheckedAt.is_null()),
        };
        if claim.exec(&state.db).await?.rows_affected == 1 {
            mine.push(c);
        }
    }
    let n = mine.len();
    let kinds = std::sync::Arc::new(kinds);
    let probes = mine.into_iter().map(|c| {
        let (state, kinds) = (state.clone(), kinds.clone());
        async move { check(&state, &c, &kinds).await }
    });
    let results: Vec<AppResult<Option<Measured>>> =
        futures::stream::iter(probes).buffer_unordered(CONCURRENCY).collect().await;
    for r in results {
        if let Err(e) = r {
            tracing::warn!(error = %e, "recording a connector probe failed");
        }
    }
    Ok(n)
}

/// Probes due connectors every few seconds until the process ends.
pub fn spawn(state: AppState) -> tokio::task::JoinHandle<()> {
    let every = Duration::from_secs(state.config.connector_probe_secs.max(5));
    tokio::spawn(async move {
        loop {
            match tick(&state, every).await {
                Ok(n) if n > 0 => tracing::info!(
                    target: "steward::system",
                    kind = "periodic",
                    task = "connector_probes",
                    probed = n,
                    "probed {n} connectors"
                ),
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "probing connectors failed"),
            }
            tokio::time::sleep(Duration::from_secs(5).min(every)).await;
        }
    })
}

/// A run of a flow using the connector ended: its outcome goes on the connector.
pub async fn record_run(state: &AppState, connector: uuid::Uuid, status: &str, at: DateTime<Utc>) -> AppResult<()> {
    connectors::Entity::update_many()
        .col_expr(connectors::Column::LastRunAt, Expr::value(at))
        .col_expr(connectors::Column::LastRunStatus, Expr::value(status))
        .filter(connectors::Column::Id.eq(connector))
        .exec(&state.db)
        .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn private_addresses_are_recognised() {
        for ip in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "0.0.0.0",
            "100.64.0.1",
            "::1",
            "fd00::1",
            "fe80::1",
            "::ffff:127.0.0.1",
        ] {
            assert!(private(ip.parse().unwrap()), "{ip}");
        }
        for ip in ["8.8.8.8", "1.1.1.1", "2606:4700::1111", "100.128.0.1"] {
            assert!(!private(ip.parse().unwrap()), "{ip}");
        }
    }
}
