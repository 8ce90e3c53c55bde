//! `steward-server seed`: fills a database with realistic demo data at a chosen size —
//! customers with a workspace each, users (one shared password hash, so a million users
//! take minutes, not hours), flows, finished runs, connectors and records — in batched
//! multi-row inserts, with a progress bar.

use chrono::{Duration, Utc};
use indicatif::{ProgressBar, ProgressStyle};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use sea_orm::{ActiveValue::Set, ConnectionTrait, EntityTrait};
use serde_json::json;
use uuid::Uuid;

use crate::config::SeedArgs;
use crate::roles::{SYSTEM_OPERATOR_ROLE, SYSTEM_VIEWER_ROLE};
use crate::secrets::sha256_hex;
use crate::state::AppState;
use crate::store::entities::{connectors, customers, flows, record_links, runs, user_roles, users, workspaces};

/// What was created.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Seeded {
    pub customers: u64,
    pub users: u64,
    pub flows: u64,
    pub runs: u64,
    pub connectors: u64,
    pub records: u64,
}

const COMPANIES: &[&str] = &[
    "Acme",
    "Globex",
    "Initech",
    "Umbrella",
    "Hooli",
    "Vandelay",
    "Stark",
    "Wayne",
    "Wonka",
    "Cyberdyne",
    "Tyrell",
    "Soylent",
    "Oscorp",
    "Aperture",
    "Gringotts",
    "Monarch",
    "Nakatomi",
    "Pied Piper",
    "Sirius",
    "Zorg",
];

const FIRST: &[&str] = &[
    "Ada",
    "Grace",
    "Alan",
    "Linus",
    "Margaret",
    "Ken",
    "Barbara",
    "Dennis",
    "Frances",
    "Edsger",
    "Radia",
    "Donald",
    "Katherine",
    "John",
    "Hedy",
    "Tim",
    "Sophie",
    "Guido",
    "Anita",
    "Bjarne",
];

const LAST: &[&str] = &[
    "Lovelace",
    "Hopper",
    "Turing",
    "Torvalds",
    "Hamilton",
    "Thompson",
    "Liskov",
    "Ritchie",
    "Allen",
    "Dijkstra",
    "Perlman",
    "Knuth",
    "Johnson",
    "McCarthy",
    "Lamarr",
    "Berners-Lee",
    "Wilson",
    "van Rossum",
    "Borg",
    "Stroustrup",
];

const FLOWS: &[&str] = &[
    "Sync CRM contacts",
    "Nightly invoice export",
    "Lead scoring",
    "Churn alert",
    "Ticket triage",
    "Inventory refresh",
    "Payroll handoff",
    "Usage metering",
    "Slack digest",
    "Backup audit",
];

const KINDS: &[&str] = &["salesforce", "hubspot", "postgres", "s3", "http", "sftp", "stripe", "zendesk"];
const ENTITIES: &[&str] = &["contact", "account", "invoice", "order", "ticket"];

const BATCH: usize = 500;

fn pick<'a>(rng: &mut StdRng, items: &'a [&'a str]) -> &'a str {
    items.get(rng.random_range(0..items.len())).copied().unwrap_or("x")
}

async fn insert<E, A, C>(conn: &C, rows: Vec<A>, bar: &ProgressBar) -> anyhow::Result<()>
where
    E: EntityTrait,
    A: sea_orm::ActiveModelTrait<Entity = E> + Send,
    C: ConnectionTrait,
{
    let mut rows = rows.into_iter().peekable();
    while rows.peek().is_some() {
        let chunk: Vec<A> = rows.by_ref().take(BATCH).collect();
        let n = chunk.len() as u64;
        E::insert_many(chunk).exec_without_returning(conn).await?;
        bar.inc(n);
    }
    Ok(())
}

/// Creates the demo data; shows a progress bar on a terminal.
/// The tables the seed fills (their statistics are refreshed when it ends).
pub const SEEDED_TABLES: &[&str] = &[
    "customers",
    "workspaces",
    "users",
    "user_roles",
    "flows",
    "runs",
    "connectors",
    "records",
    "record_links",
    "stat_snapshots",
];

pub async fn run(state: &AppState, args: &SeedArgs) -> anyhow::Result<Seeded> {
    let mut rng = StdRng::seed_from_u64(args.seed);
    let customers_n = args.customers.max(1);
    let flows_n = customers_n * args.flows_per_customer;
    let total = customers_n * 2
        + args.users * 2
        + flows_n
        + flows_n * args.runs_per_flow
        + customers_n * args.connectors_per_customer
        + customers_n * args.records_per_customer;
    let bar = ProgressBar::new(total);
    bar.set_style(
        ProgressStyle::with_template("{spinner} {msg:12} [{bar:40}] {pos}/{len} rows ({per_sec}, {eta} left)")
            .map_err(|e| anyhow::anyhow!(e))?
            .progress_chars("=> "),
    );
    let now = Utc::now();
    let hash =
        crate::identity::password::hash(state, args.password.clone()).await.map_err(|e| anyhow::anyhow!("{e}"))?;
    let tag = Uuid::now_v7().simple().to_string();
    let tag = tag.get(tag.len() - 6..).unwrap_or("demo").to_owned();

    bar.set_message("customers");
    let mut customer_rows = Vec::new();
    let mut workspace_rows = Vec::new();
    let mut tenants: Vec<(Uuid, Uuid, String)> = Vec::new();
    for i in 0..customers_n {
        let base = COMPANIES.get(i as usize % COMPANIES.len()).copied().unwrap_or("Tenant");
        let name = if i < COMPANIES.len() as u64 { format!("{base} {tag}") } else { format!("{base} {} {tag}", i) };
        let slug = name.to_lowercase().replace(' ', "-");
        let (cid, wid) = (Uuid::now_v7(), Uuid::now_v7());
        customer_rows.push(customers::ActiveModel {
            id: Set(cid),
            name: Set(name.clone()),
            slug: Set(slug),
            kind: Set("tenant".into()),
            created_at: Set(now),
            updated_at: Set(now),
        });
        workspace_rows.push(workspaces::ActiveModel {
            id: Set(wid),
            customer_id: Set(cid),
            name: Set("Main".into()),
            created_at: Set(now),
            updated_at: Set(now),
        });
        tenants.push((cid, wid, name));
    }
    let txn = crate::store::begin(&state.db).await?;
    insert(&txn, customer_rows, &bar).await?;
    insert(&txn, workspace_rows, &bar).await?;
    txn.commit().await?;

    bar.set_message("users");
    let mut done = 0u64;
    while done < args.users {
        let n = (args.users - done).min(10_000);
        let mut user_rows = Vec::with_capacity(n as usize);
        let mut member_rows = Vec::with_capacity(n as usize);
        for i in done..done + n {
            let Some((cid, wid, _)) = tenants.get((i % customers_n) as usize) else { continue };
            let (first, last) = (pick(&mut rng, FIRST), pick(&mut rng, LAST));
            let uid = Uuid::now_v7();
            let created = now - Duration::minutes(rng.random_range(0..60 * 24 * 365));
            user_rows.push(users::ActiveModel {
                id: Set(uid),
                customer_id: Set(*cid),
                home_workspace_id: Set(Some(*wid)),
                email: Set(format!(
                    "{}.{}.{i}.{tag}@example.com",
                    first.to_lowercase(),
                    last.to_lowercase().replace(' ', "")
                )),
                name: Set(format!("{first} {last}")),
                locale: Set("en".into()),
                status: Set(if rng.random_range(0..10) == 0 { "inactive" } else { "active" }.into()),
                super_admin: Set(false),
                password_hash: Set(Some(hash.clone())),
                totp_secret: Set(None),
                totp_enabled: Set(false),
                totp_last_step: Set(None),
                last_login_at: Set(None),
                erased_at: Set(None),
                created_at: Set(created),
                updated_at: Set(created),
            });
            member_rows.push(user_roles::ActiveModel {
                customer_id: Set(*cid),
                workspace_id: Set(*wid),
                user_id: Set(uid),
                role_id: Set(if rng.random_range(0..5) == 0 { SYSTEM_OPERATOR_ROLE } else { SYSTEM_VIEWER_ROLE }),
                created_at: Set(created),
            });
        }
        let txn = crate::store::begin(&state.db).await?;
        insert(&txn, user_rows, &bar).await?;
        insert(&txn, member_rows, &bar).await?;
        txn.commit().await?;
        done += n;
    }

    bar.set_message("flows");
    let mut flow_rows = Vec::new();
    let mut run_rows = Vec::new();
    for (cid, wid, _) in &tenants {
        for f in 0..args.flows_per_customer {
            let fid = Uuid::now_v7();
            let paused = rng.random_range(0..6) == 0;
            let scheduled = rng.random_range(0..3) > 0;
            flow_rows.push(flows::ActiveModel {
                id: Set(fid),
                customer_id: Set(*cid),
                workspace_id: Set(*wid),
                name: Set(format!("{} #{}", pick(&mut rng, FLOWS), f + 1)),
                status: Set(if rng.random_range(0..5) == 0 { "draft" } else { "published" }.into()),
                state: Set(if paused { "paused" } else { "active" }.into()),
                schedule: Set(scheduled.then(|| pick(&mut rng, &["every 15m", "every 1h", "every 1d"]).to_string())),
                next_run_at: Set(scheduled.then(|| now + Duration::minutes(rng.random_range(1..60 * 24)))),
                created_at: Set(now),
                updated_at: Set(now),
                application_id: Set(None),
                template_id: Set(None),
                // Real steps over the seeded records (a flow with none is not published or
                // run): hash one entity type's records, then flag the repeats among them.
                definition: Set(Some(json!({
                    "entity_type": pick(&mut rng, ENTITIES),
                    "steps": [{ "kind": "hash" }, { "kind": "dedupe" }],
                }))),
                connector_id: Set(None),
            });
            for _ in 0..args.runs_per_flow {
                let queued = now - Duration::minutes(rng.random_range(1..60 * 48));
                let ms = rng.random_range(200..90_000);
                let failed = rng.random_range(0..10) == 0;
                run_rows.push(runs::ActiveModel {
                    id: Set(Uuid::now_v7()),
                    customer_id: Set(*cid),
                    flow_id: Set(fid),
                    status: Set(if failed { "failed" } else { "succeeded" }.into()),
                    trigger: Set(if rng.random_range(0..4) == 0 { "manual" } else { "schedule" }.into()),
                    triggered_by: Set(None),
                    queued_at: Set(queued),
                    started_at: Set(Some(queued + Duration::seconds(1))),
                    finished_at: Set(Some(queued + Duration::milliseconds(1000 + ms))),
                    duration_ms: Set(Some(ms)),
                    worker_id: Set(Some("seed".into())),
                    attempt: Set(1),
                    error: Set(failed.then(|| "upstream answered 503".to_string())),
                    steps: Set(None),
                    failed_step: Set(None),
                    failed_record: Set(None),
                    not_before: Set(None),
                    cancel_requested: Set(false),
                    demo: Set(true),
                });
            }
        }
    }
    let (n_flows, n_runs) = (flow_rows.len() as u64, run_rows.len() as u64);
    let txn = crate::store::begin(&state.db).await?;
    insert(&txn, flow_rows, &bar).await?;
    bar.set_message("runs");
    insert(&txn, run_rows, &bar).await?;
    txn.commit().await?;

    bar.set_message("connectors");
    let mut connector_rows = Vec::new();
    let mut record_rows = Vec::new();
    let mut link_rows = Vec::new();
    for (cid, wid, name) in &tenants {
        for c in 0..args.connectors_per_customer {
            let kind = pick(&mut rng, KINDS);
            let key = format!("stc_{}", Uuid::new_v4().simple());
            connector_rows.push(connectors::ActiveModel {
                id: Set(Uuid::now_v7()),
                customer_id: Set(*cid),
                workspace_id: Set(*wid),
                name: Set(format!("{name} {kind} {}", c + 1)),
                kind: Set(kind.into()),
                // Nothing has measured a demo connector: it has no endpoint to probe.
                health: Set("unknown".into()),
                api_key_prefix: Set(key.chars().take(12).collect()),
                api_key_hash: Set(sha256_hex(&key)),
                key_rotated_at: Set(Some(now)),
                created_at: Set(now),
                updated_at: Set(now),
                endpoint: Set(None),
                api_key_sealed: Set(None),
                health_checked_at: Set(None),
                health_latency_ms: Set(None),
                health_error: Set(None),
                last_run_at: Set(None),
                last_run_status: Set(None),
            });
        }
        // Of the records, about one in twenty repeats an earlier one's payload exactly (what
        // Hash warnings and the dedup merge are for); contacts and invoices link to an account
        // and an order of the same customer.
        // Per entity type: the ids and payloads written so far (picking from them stays O(1)).
        let mut mine: std::collections::HashMap<&str, Vec<(Uuid, serde_json::Value)>> = Default::default();
        for r in 0..args.records_per_customer {
            let entity = pick(&mut rng, ENTITIES);
            let earlier = mine.get(entity).map(Vec::as_slice).unwrap_or_default();
            let repeat = match earlier.is_empty() || rng.random_range(0..20) != 0 {
                true => None,
                false => earlier.get(rng.random_range(0..earlier.len())).map(|e| e.1.clone()),
            };
            let payload = repeat.unwrap_or_else(|| {
                json!({ "name": format!("{} {}", pick(&mut rng, FIRST), pick(&mut rng, LAST)), "score": rng.random_range(0..100) })
            });
            let id = Uuid::now_v7();
            let external_id = format!("{entity}-{r:06}");
            let row = crate::data::records::new_row(
                id,
                *cid,
                entity,
                &external_id,
                pick(&mut rng, KINDS),
                payload.clone(),
                now,
            );
            record_rows.push(row);
            mine.entry(entity).or_default().push((id, payload));
        }
        for (from, target) in [("contact", "account"), ("ticket", "account"), ("invoice", "order")] {
            let targets = mine.get(target).map(Vec::as_slice).unwrap_or_default();
            for (id, _) in mine.get(from).map(Vec::as_slice).unwrap_or_default() {
                let Some((to, _)) = targets.get(rng.random_range(0..targets.len().max(1))) else { continue };
                link_rows.push(record_links::ActiveModel {
                    id: Set(Uuid::now_v7()),
                    customer_id: Set(*cid),
                    from_id: Set(*id),
                    to_id: Set(*to),
                    relation: Set(target.into()),
                    created_at: Set(now),
                });
            }
        }
    }
    let (n_conn, n_rec) = (connector_rows.len() as u64, record_rows.len() as u64);
    let txn = crate::store::begin(&state.db).await?;
    insert(&txn, connector_rows, &bar).await?;
    bar.set_message("records");
    insert(&txn, record_rows, &bar).await?;
    bar.set_message("record links");
    insert(&txn, link_rows, &bar).await?;
    txn.commit().await?;
    bar.set_message("stats");
    // History for the Stats page, growing towards the figures just seeded.
    crate::ops::stats::seed_history(&state.db, &mut rng, now).await.map_err(|e| anyhow::anyhow!("{e}"))?;
    // The tables just filled are planned from statistics of what is in them now, as an
    // operator meets them straight after the seed.
    bar.set_message("statistics");
    crate::store::analyze(&state.db, SEEDED_TABLES).await?;
    bar.finish_with_message("done");
    Ok(Seeded {
        customers: customers_n,
        users: args.users,
        flows: n_flows,
        runs: n_runs,
        connectors: n_conn,
        records: n_rec,
    })
}
