// Two replicas on one PostgreSQL behind HAProxy (DESIGN §9: nothing lives in one process).
// What one replica changes, the other enforces within a second; queued runs execute exactly
// once; the audit chain written by both verifies; a refresh on one is seen by the other; and a
// replica stopped in the middle of traffic and runs loses no request and no run.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import {
  PASSWORD, PG_URL, VIEWER_ROLE, appArchive, installArchive, psql, shot, signIn, startBrowser, startCluster,
} from './harness.js';

const skip = PG_URL ? false : 'needs PostgreSQL (STEWARD_TEST_PG_URL)';
let cluster;
let chrome;
// Ends the test's background traffic; called after the test too, so a failed assertion does not
// leave it spinning against a stopped balancer (the file would never end).
let stopTraffic = () => {};

before(async () => {
  if (skip) return;
  // A stopping replica drains for 2 s: its health check fails (the balancer checks every 300 ms
  // and takes it out at the first failure) while it still serves what reaches it.
  cluster = await startCluster({ env: { STEWARD_WORKERS: '2', STEWARD_WORKER_POLL_MS: '50', STEWARD_DRAIN_SECS: '2' } });
  chrome = await startBrowser();
});
after(async () => {
  stopTraffic();
  await chrome?.stop();
  await cluster?.stop();
});

/** One request to `base` (the balancer or a replica); resolves to { status, json }. */
async function call(base, method, path, token, body, headers = {}) {
  const res = await fetch(base + path, {
    method,
    headers: {
      ...(token ? { authorization: `Bearer ${token}` } : {}),
      ...(body ? { 'content-type': 'application/json' } : {}),
      ...headers,
    },
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await res.text();
  return { status: res.status, json: text ? JSON.parse(text) : null };
}

async function ok(base, method, path, token, body, headers) {
  const res = await call(base, method, path, token, body, headers);
  assert.ok(res.status < 300, `${method} ${path} → ${res.status}: ${JSON.stringify(res.json)}`);
  return res.json;
}

/** Polls `probe` until it is true; returns the milliseconds it took (fails after `limit`). */
async function within(limit, probe) {
  const started = Date.now();
  for (;;) {
    if (await probe()) return Date.now() - started;
    if (Date.now() - started > limit) assert.fail(`not seen within ${limit} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

function bundle() {
  return appArchive({
    'steward.json': JSON.stringify({ name: 'crm-sync', version: '1.0.0', description: 'Keeps contacts tidy' }),
    'flows/tidy_contacts.json': JSON.stringify({
      label: 'Tidy contacts', entity_type: 'contact',
      steps: [{ kind: 'validate' }, { kind: 'hash' }, { kind: 'dedupe' },
        { kind: 'map', ops: [{ op: 'set', path: '/synced_by', value: 'crm-sync' }] }],
    }),
  });
}

test('two replicas behind HAProxy share everything through PostgreSQL', { skip }, async () => {
  const lb = cluster.url;
  const [a, b] = cluster.replicas.map((r) => r.url);
  const admin = (await ok(lb, 'POST', '/api/setup', null, { email: 'ada@example.com', password: PASSWORD, name: 'Ada Admin' })).access_token;
  const ws = (await ok(lb, 'GET', '/api/me', admin)).home_workspace.id;
  // Both replicas answer for the same session.
  assert.equal((await call(a, 'GET', '/api/me', admin)).status, 200);
  assert.equal((await call(b, 'GET', '/api/me', admin)).status, 200);
  // The balancer spreads requests over both: each replica reports its own id.
  const seen = new Set();
  for (let i = 0; i < 8; i++) seen.add((await ok(lb, 'GET', '/api/system/status', admin)).replica?.id ?? JSON.stringify(i));
  assert.ok(seen.size >= 2, `requests went to one replica only: ${[...seen]}`);

  // --- A revoked session, a deactivated user, a narrowed role: refused on the other replica.
  const keepers = await ok(a, 'POST', `/api/workspaces/${ws}/roles`, admin, {
    name: 'Connector keepers', patterns: ['steward.connectors.*', 'steward.flows.view'],
  });
  const mia = await ok(a, 'POST', '/api/users', admin, {
    email: 'mia@example.com', name: 'Mia Member', password: PASSWORD, home_workspace_id: ws, role_id: keepers.id,
  });
  const login = async (base) => (await ok(base, 'POST', '/api/auth/login', null, { email: 'mia@example.com', password: PASSWORD }));
  let pair = await login(a);
  assert.equal((await call(b, 'GET', '/api/connectors', pair.access_token)).status, 200);
  await ok(a, 'PUT', `/api/roles/${keepers.id}`, admin, { name: 'Connector keepers', patterns: ['steward.flows.view'] });
  const roleMs = await within(1000, async () => (await call(b, 'GET', '/api/connectors', pair.access_token)).status === 403);

  await ok(a, 'DELETE', `/api/users/${mia.id}/sessions`, admin);
  const revokeMs = await within(1000, async () => (await call(b, 'GET', '/api/me', pair.access_token)).status === 401);
  // The refresh token of the revoked session is dead on both.
  assert.equal((await call(a, 'POST', '/api/auth/refresh', null, { refresh_token: pair.refresh_token })).status, 401);

  pair = await login(b);
  await ok(b, 'POST', `/api/users/${mia.id}/deactivate`, admin);
  const deactivateMs = await within(1000, async () => (await call(a, 'GET', '/api/me', pair.access_token)).status === 401);
  await ok(a, 'POST', `/api/users/${mia.id}/activate`, admin);

  // --- A refresh on one replica is seen by the other: the new access token works there, the
  // spent refresh token is refused there.
  pair = await login(a);
  const fresh = await ok(a, 'POST', '/api/auth/refresh', null, { refresh_token: pair.refresh_token });
  assert.equal((await call(b, 'GET', '/api/me', fresh.access_token)).status, 200);
  assert.equal((await call(b, 'POST', '/api/auth/refresh', null, { refresh_token: pair.refresh_token })).status, 401);
  console.log(`seen on the other replica after: role ${roleMs} ms, revoke ${revokeMs} ms, deactivate ${deactivateMs} ms`);

  // --- Queued runs execute exactly once, with workers on both replicas claiming.
  const seeded = spawnSync(cluster.bin, ['seed', '--customers', '1', '--users', '2', '--flows-per-customer', '0',
    '--runs-per-flow', '0', '--connectors-per-customer', '0', '--records-per-customer', '3000'], {
    env: { ...process.env, ...cluster.env, STEWARD_DATA_DIR: cluster.dataDir, STEWARD_LOG: 'warn' }, encoding: 'utf8',
  });
  assert.equal(seeded.status, 0, seeded.stderr);
  await installArchive(lb, admin, bundle());
  const all = { 'x-steward-scope': 'all' };
  const tenant = (await ok(lb, 'GET', '/api/customers?search=', admin)).items.find((c) => c.kind === 'tenant');
  const tenantWs = (await ok(lb, 'GET', `/api/customers/${tenant.id}`, admin)).workspaces[0].id;
  const [template] = (await ok(lb, 'GET', '/api/flow-templates', admin)).items;
  const flow = await ok(lb, 'POST', '/api/flows', admin, { workspace_id: tenantWs, name: 'Tidy contacts', template_id: template.id, publish: true }, all);

  // --- Meanwhile: steady traffic through the balancer, concurrent audited writes on both
  // replicas, 30 runs queued, and replica A stopped (SIGTERM) while its workers hold runs.
  let stop = false;
  stopTraffic = () => { stop = true; };
  const failures = [];
  let served = 0;
  const traffic = (async () => {
    while (!stop) {
      const r = await call(lb, 'GET', '/api/users?limit=5', admin).catch((e) => ({ status: 0, json: String(e) }));
      if (r.status !== 200) failures.push(`GET /api/users → ${r.status} ${JSON.stringify(r.json)}`);
      served++;
    }
  })();
  const writes = [];
  for (let i = 0; i < 20; i++) {
    const base = i % 2 ? a : b;
    writes.push(call(base, 'POST', '/api/users', admin, {
      email: `writer${i}@example.com`, name: `Writer ${i}`, password: PASSWORD, home_workspace_id: ws, role_id: VIEWER_ROLE,
    }));
  }
  const written = await Promise.all(writes);
  assert.deepEqual(written.map((w) => w.status), written.map(() => 201), JSON.stringify(written.filter((w) => w.status !== 201)));
  // The runs are queued once the writes are done: queued before them, all 30 could finish while
  // the writes' password hashes (at nice 19) waited on a busy machine, and none would be left
  // running on replica A to stop it under.
  const runIds = [];
  for (let i = 0; i < 30; i++) runIds.push((await ok(lb, 'POST', `/api/flows/${flow.id}/runs`, admin, undefined, all)).id);
  const replicaA = (await ok(a, 'GET', '/api/system/status', admin)).replica.id.slice(0, 8);
  let heldByA = 0;
  await within(20_000, async () => {
    heldByA = Number(psql(cluster.databaseUrl, `SELECT count(*) FROM runs WHERE status = 'running' AND worker_id LIKE '${replicaA}%'`));
    return heldByA > 0;
  });
  // Graceful: it drains, then in-flight requests and runs finish and the rest stay queued.
  const stopping = cluster.replicas[0].stop();
  await within(1500, async () => (await call(a, 'GET', '/api/health')).json?.type === 'urn:steward:problem:shutting_down');
  assert.equal((await call(a, 'GET', '/api/me', admin)).status, 200, 'a draining replica still serves');
  await stopping;
  for (let i = 0; i < 5; i++) {
    const r = await call(lb, 'POST', '/api/users', admin, {
      email: `after${i}@example.com`, name: `After ${i}`, password: PASSWORD, home_workspace_id: ws, role_id: VIEWER_ROLE,
    });
    assert.equal(r.status, 201, `a write through the balancer after the stop: ${JSON.stringify(r.json)}`);
  }
  await new Promise((r) => setTimeout(r, 500));
  stop = true;
  await traffic;
  assert.deepEqual(failures, [], `requests lost through the balancer (${served} served)`);

  // Every run finished once: succeeded, first attempt, each claimed by exactly one worker.
  await within(60_000, async () => {
    const rows = psql(cluster.databaseUrl, `SELECT count(*) FROM runs WHERE status IN ('queued','running')`);
    return rows === '0';
  });
  const rows = psql(cluster.databaseUrl,
    `SELECT id, status, attempt, worker_id FROM runs WHERE flow_id = '${flow.id}' ORDER BY id`).split('\n').map((l) => l.split('|'));
  assert.equal(rows.length, runIds.length);
  for (const [id, status, attempt, worker] of rows) {
    assert.equal(status, 'succeeded', `run ${id}`);
    assert.equal(attempt, '1', `run ${id} ran ${attempt} times`);
    assert.ok(worker, `run ${id} has no worker`);
  }
  const workers = new Set(rows.map((r) => r[3].split('-')[0]));
  console.log(`runs by replica: ${[...workers].join(', ')}; ${heldByA} running on the stopped replica at its stop; ${served} requests through the balancer, none lost`);
  assert.ok(workers.has(replicaA) && workers.size === 2, `both replicas ran runs: ${[...workers]}`);
  // Each run's outcome was logged once, by the replica that ran it (the stopped one flushed
  // its lines before it exited).
  const outcomes = () => Number(psql(cluster.databaseUrl,
    `SELECT count(*) FROM log_entries WHERE kind = 'user_task' AND message = 'run ' || (fields->>'run_id') || ' succeeded' AND fields->>'run_id' IN (${runIds.map((id) => `'${id}'`).join(',')})`));
  await within(5000, async () => outcomes() >= runIds.length);
  assert.equal(outcomes(), runIds.length);

  // The audit chain written by both replicas verifies.
  const verified = await ok(lb, 'GET', '/api/audit/verify', admin);
  assert.equal(verified.ok, true, JSON.stringify(verified));

  // The console works through the balancer (the surviving replica serves it).
  const page = await chrome.browser.newPage({ viewport: { width: 1280, height: 800 } });
  await signIn(page, { url: lb }, 'ada@example.com');
  await page.goto(`${lb}/admin/users`);
  await page.getByText('writer3@example.com').waitFor();
  await shot(page, '80-through-the-balancer');
  await page.close();
});
