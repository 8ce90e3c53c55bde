// Starts the real steward-server on a free port with a fresh data dir, and a headless
// Debian chromium driven by playwright-core. Screenshots land in e2e/test-results/.
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { after, before } from 'node:test';
import { chromium } from 'playwright-core';

export const ROOT = resolve(import.meta.dirname, '..', '..');
export const RESULTS = join(ROOT, 'e2e', 'test-results');

export function freePort() {
  return new Promise((ok, fail) => {
    const srv = createServer();
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => ok(port));
    });
    srv.on('error', fail);
  });
}

/** The server's environment for delivering mail to an SMTP server on `port` (plain, local). */
export function smtpEnv(port) {
  return {
    STEWARD_SMTP_HOST: '127.0.0.1',
    STEWARD_SMTP_PORT: String(port),
    STEWARD_SMTP_SECURITY: 'none',
    STEWARD_SMTP_FROM: 'Steward <steward@example.com>',
  };
}

/** A real SMTP server (aiosmtpd) on `port`, storing what it receives in `maildir`/mail. */
export function startSmtp(port, maildir) {
  return spawn('python3', ['-m', 'aiosmtpd', '-n', '-l', `127.0.0.1:${port}`,
    '-c', 'aiosmtpd.handlers.Mailbox', join(maildir, 'mail')], { stdio: 'ignore' });
}

/** Resolves once something accepts connections on the port. */
export async function listening(port, limit = 20_000) {
  const deadline = Date.now() + limit;
  for (;;) {
    const up = await new Promise((ok) => {
      const socket = connect(port, '127.0.0.1', () => { socket.destroy(); ok(true); });
      socket.on('error', () => ok(false));
    });
    if (up) return;
    if (Date.now() > deadline) throw new Error(`nothing listens on ${port}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Starts the server binary (STEWARD_BIN, default target/debug/steward-server) on SQLite or DATABASE_URL. */
export async function startServer(env = {}) {
  const port = await freePort();
  const dataDir = mkdtempSync(join(tmpdir(), 'steward-e2e-'));
  const bin = process.env.STEWARD_BIN ?? join(ROOT, 'target', 'debug', 'steward-server');
  const child = spawn(bin, [], {
    env: {
      ...process.env,
      STEWARD_BIND: `127.0.0.1:${port}`,
      STEWARD_DATA_DIR: dataDir,
      STEWARD_LOG: 'warn',
      ...env,
    },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`steward-server exited with ${child.exitCode}`);
    try {
      const res = await fetch(`${url}/api/health`);
      if (res.ok) break;
    } catch { /* not up yet */ }
    if (Date.now() > deadline) throw new Error('steward-server did not become healthy in 30 s');
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    url,
    dataDir,
    bin,
    child,
    async stop() {
      child.kill('SIGTERM');
      await new Promise((r) => (child.exitCode !== null ? r() : child.once('exit', r)));
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** Playwright's launch() gives every browser a fresh, temporary user-data dir. */
export async function startBrowser() {
  mkdirSync(RESULTS, { recursive: true });
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    args: [
      '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync',
    ],
  });
  return {
    browser,
    async stop() {
      await browser.close();
    },
  };
}

export async function shot(page, name) {
  await page.screenshot({ path: join(RESULTS, `${name}.png`) });
}

export const PASSWORD = 'correct horse battery staple';
export const VIEWER_ROLE = '00000000-0000-7000-8000-000000000003';

/** Calls the API directly (for arranging a test); throws with the problem on failure. */
export async function api(server, method, path, token, body) {
  const res = await fetch(server.url + path, {
    method,
    headers: {
      ...(token ? { authorization: `Bearer ${token}` } : {}),
      ...(body ? { 'content-type': 'application/json' } : {}),
    },
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await res.text();
  const json = text ? JSON.parse(text) : null;
  if (!res.ok) throw new Error(`${method} ${path} → ${res.status}: ${text}`);
  return json;
}

/** Fills the server's database with demo data (`steward-server seed`): `counts` maps each flag
 * of the seed command (`customers`, `users`, `records-per-customer`, …) to its number. */
export function seed(server, counts) {
  const args = ['seed', ...Object.entries(counts).flatMap(([flag, n]) => [`--${flag}`, String(n)])];
  const out = spawnSync(server.bin, args, {
    env: { ...process.env, STEWARD_DATA_DIR: server.dataDir, STEWARD_LOG: 'warn' }, encoding: 'utf8',
  });
  if (out.status !== 0) throw new Error(`steward-server seed failed: ${out.stderr}`);
}

/** An application archive (`.tar.gz`) of `files`, a map from path in the bundle to its text. */
export function appArchive(files) {
  const dir = mkdtempSync(join(tmpdir(), 'steward-bundle-'));
  for (const [path, body] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, 'app', path)), { recursive: true });
    writeFileSync(join(dir, 'app', path), body);
  }
  execFileSync('tar', ['czf', join(dir, 'app.tar.gz'), '-C', dir, 'app']);
  const bytes = readFileSync(join(dir, 'app.tar.gz'));
  rmSync(dir, { recursive: true, force: true });
  return bytes;
}

/** Installs an application archive at `url` (a server's or the balancer's) as `token`. */
export async function installArchive(url, token, bytes) {
  const res = await fetch(url + '/api/applications/archive', {
    method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/gzip' }, body: bytes,
  });
  if (!res.ok) throw new Error(`installing an application → ${res.status}: ${await res.text()}`);
}

/** Installs a one-step application (hashing contacts) and returns its flow template's id: a
 * flow needs steps to be published or run. */
export async function hashTemplate(server, token) {
  await installArchive(server.url, token, appArchive({
    'steward.json': JSON.stringify({ name: 'hashing', version: '1.0.0', description: 'Hashes contacts' }),
    'flows/hash_contacts.json': JSON.stringify({ label: 'Hash contacts', entity_type: 'contact', steps: [{ kind: 'hash' }] }),
  }));
  const templates = await api(server, 'GET', '/api/flow-templates', token);
  return templates.items.find((t) => t.application === 'hashing').id;
}

/** A new page signed in as `email`; `errors` collects what the page throws. */
export async function signedInPage(chrome, server, email, viewport = { width: 1280, height: 800 }) {
  const page = await chrome.browser.newPage({ viewport });
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await signIn(page, server, email);
  return { page, errors };
}

/** Signs in through the login page and waits for the shell. */
export async function signIn(page, server, email, password = PASSWORD) {
  await page.goto(server.url + '/login');
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL(server.url + '/');
  await page.locator('.account-email').waitFor();
}

/**
 * Registers before/after hooks that start a fresh server (own data dir, SQLite) and a browser
 * for the tests of one file; the returned object is filled in once `before` has run.
 */
export function useStack(env = {}) {
  const stack = {};
  before(async () => {
    stack.server = await startServer(env);
    stack.chrome = await startBrowser();
  });
  after(async () => {
    await stack.chrome?.stop();
    await stack.server?.stop();
  });
  return stack;
}

/** Runs SQL on the PostgreSQL server of STEWARD_TEST_PG_URL (psql), returning its rows as text. */
export function psql(url, sql) {
  const out = spawnSync('psql', [url, '-XAtq', '-v', 'ON_ERROR_STOP=1', '-c', sql], { encoding: 'utf8' });
  if (out.status !== 0) throw new Error(`psql: ${out.stderr}`);
  return out.stdout.trim();
}

/** The PostgreSQL server the cluster tests use, or null when none is configured. */
export const PG_URL = process.env.STEWARD_TEST_PG_URL ?? null;

/**
 * Two (or `replicas`) steward-server processes on one fresh PostgreSQL database, each with its
 * own data directory and the same secrets (as replicas that share no disk), behind HAProxy
 * (round robin, health-checked, a refused connection retried on the other replica). `url` is
 * the balancer's; `replicas[i].url` reaches one replica directly.
 */
export async function startCluster({ replicas = 2, env = {} } = {}) {
  if (!PG_URL) throw new Error('the cluster needs PostgreSQL: set STEWARD_TEST_PG_URL');
  const db = `steward_e2e_${process.pid}_${Date.now()}`;
  psql(PG_URL, `CREATE DATABASE ${db}`);
  const databaseUrl = PG_URL.replace(/\/[^/]*$/, `/${db}`);
  const shared = {
    DATABASE_URL: databaseUrl,
    STEWARD_JWT_SECRET: 'cluster-secret-cluster-secret-0123456789',
    STEWARD_AUDIT_KEYS: 'k1 ' + Buffer.alloc(32, 7).toString('base64url'),
    STEWARD_HEARTBEAT_SECS: '1',
    ...env,
  };
  // The first replica migrates; the others start on the migrated database.
  const nodes = [await startServer(shared)];
  for (let i = 1; i < replicas; i++) nodes.push(await startServer(shared));
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'steward-lb-'));
  const config = join(dir, 'haproxy.cfg');
  writeFileSync(config, [
    'global', '  maxconn 512',
    // A health check may take its time on a loaded machine (5 s), and one slow or failed check
    // does not take a replica out (`fall 3`): with `fall 1` and the check's default timeout (its
    // 300 ms interval), one slow answer of the last replica left the balancer with none, and it
    // answered the console's page load itself, 503.
    'defaults', '  mode http', '  timeout connect 2s', '  timeout client 60s', '  timeout server 60s', '  timeout check 5s',
    // A new connection per request, so a replica going away is a refused connection (safe to
    // retry on the other one for any method), never a request lost on a reused connection.
    '  option http-server-close', '  retries 3', '  option redispatch 1', '  retry-on conn-failure',
    'frontend steward', `  bind 127.0.0.1:${port}`, '  default_backend replicas',
    'backend replicas', '  balance roundrobin', '  option httpchk GET /api/health', '  http-check expect status 200',
    ...nodes.map((n, i) => `  server r${i + 1} ${n.url.replace('http://', '')} check inter 300ms fall 3 rise 2`),
    '',
  ].join('\n'));
  const haproxy = spawn(process.env.HAPROXY ?? 'haproxy', ['-f', config, '-db'], { stdio: ['ignore', 'ignore', 'inherit'] });
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 15_000;
  for (;;) {
    if (haproxy.exitCode !== null) throw new Error(`haproxy exited with ${haproxy.exitCode}`);
    try {
      if ((await fetch(`${url}/api/health`)).ok) break;
    } catch { /* not up yet */ }
    if (Date.now() > deadline) throw new Error('haproxy did not answer in 15 s');
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    url,
    databaseUrl,
    dataDir: nodes[0].dataDir,
    bin: nodes[0].bin,
    replicas: nodes,
    env: shared,
    async stop() {
      haproxy.kill('SIGTERM');
      await new Promise((r) => (haproxy.exitCode !== null ? r() : haproxy.once('exit', r)));
      for (const n of nodes) await n.stop();
      rmSync(dir, { recursive: true, force: true });
      psql(PG_URL, `DROP DATABASE IF EXISTS ${db} WITH (FORCE)`);
    },
  };
}
