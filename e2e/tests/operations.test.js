// Runs that do work, measured connector health, platform actions and transfer (issue 16): a
// template's run over seeded records opens its step reports; a connector of an application's
// kind is probed against a local service; the worker pool restarts with each replica's
// acknowledgement; a transfer token minted on one platform installs its application on another.
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { after, before, test } from 'node:test';
import {
  PASSWORD, api, appArchive, installArchive, seed, shot, signIn, signedInPage, startServer, useStack,
} from './harness.js';

const stack = useStack({ STEWARD_ALLOW_PRIVATE_ENDPOINTS: 'true', STEWARD_WORKER_POLL_MS: '50' });
let other;
let service;
before(async () => {
  // The second platform runs no workers: its runs stay queued until cancelled.
  other = await startServer({ STEWARD_WORKERS: '0' });
  service = createServer((req, res) => {
    const ok = req.url === '/v1/health' && (req.headers.authorization ?? '').startsWith('Bearer stc_');
    res.writeHead(ok ? 200 : 401).end();
  });
  await new Promise((r) => service.listen(0, '127.0.0.1', r));
});
after(async () => {
  await other?.stop();
  service?.close();
});

function bundle() {
  return appArchive({
    'steward.json': JSON.stringify({ name: 'crm-sync', version: '2.1.0', description: 'Keeps contacts tidy' }),
    'flows/tidy_contacts.json': JSON.stringify({
      label: 'Tidy contacts', entity_type: 'contact', retries: 1, backoff_seconds: 5,
      steps: [{ kind: 'validate' }, { kind: 'hash' }, { kind: 'dedupe' },
        { kind: 'map', ops: [{ op: 'set', path: '/synced_by', value: 'crm-sync' }] }],
    }),
    'connectors/crm_api.json': JSON.stringify({ label: 'CRM API', health: { path: '/health', slow_ms: 1500 } }),
  });
}

test('runs with steps, connector health, platform actions, transfer', async () => {
  const { server, chrome } = stack;
  await api(server, 'POST', '/api/setup', null, { email: 'ada@example.com', password: PASSWORD, name: 'Ada Admin' });
  seed(server, { customers: 1, users: 2, 'flows-per-customer': 1, 'runs-per-flow': 1, 'records-per-customer': 150 });
  const admin = (await api(server, 'POST', '/api/auth/login', null, { email: 'ada@example.com', password: PASSWORD })).access_token;
  await installArchive(server.url, admin, bundle());
  const tenant = (await api(server, 'GET', '/api/customers?search=', admin)).items.find((c) => c.kind === 'tenant');
  const ws = (await api(server, 'GET', `/api/customers/${tenant.id}`, admin)).workspaces[0].id;
  const [template] = (await api(server, 'GET', '/api/flow-templates', admin)).items;
  const scoped = { 'x-steward-scope': 'all' };
  const call = async (method, path, body) => {
    const res = await fetch(server.url + path, {
      method, headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json', ...scoped },
      body: body ? JSON.stringify(body) : undefined,
    });
    const json = await res.json();
    assert.ok(res.ok, JSON.stringify(json));
    return json;
  };
  const made = await call('POST', '/api/connectors', {
    workspace_id: ws, name: 'CRM production', kind: 'crm_api', endpoint: `http://127.0.0.1:${service.address().port}/v1`,
  });
  const flow = await call('POST', '/api/flows', { workspace_id: ws, name: 'Tidy contacts nightly', template_id: template.id, connector_id: made.connector_id, publish: true });
  const run = await call('POST', `/api/flows/${flow.id}/runs`);

  const { page, errors } = await signedInPage(chrome, server, 'ada@example.com');
  await page.getByRole('button', { name: 'My organization' }).click();
  await page.getByRole('button', { name: 'Admin mode' }).waitFor();

  // The run's step reports.
  await page.goto(`${server.url}/runs?run_id=${run.id}`);
  const runs = page.getByTestId('runs-table');
  await runs.locator('tbody tr').first().getByText('succeeded').waitFor({ timeout: 20_000 });
  await runs.locator('tbody tr').first().click();
  const steps = page.getByTestId('run-steps');
  await steps.waitFor();
  const text = await steps.textContent();
  for (const kind of ['validate', 'hash', 'dedupe', 'map']) assert.match(text, new RegExp(kind));
  assert.equal(await steps.locator('tbody tr').count(), 4);
  // The list shows a short id; the detail shows it whole, with a copy button.
  assert.equal((await page.getByTestId('run-detail').getByTestId('copy-id').textContent()).trim(), run.id);
  await shot(page, '70-run-steps');

  // Connector health, measured: Check now, and the run's outcome on it.
  await page.getByRole('link', { name: 'Connectors' }).click();
  const connectors = page.getByTestId('connectors-table');
  const row = connectors.locator('tbody tr', { hasText: 'CRM production' });
  await row.getByRole('button', { name: 'Check now' }).click();
  await row.getByText('healthy').first().waitFor();
  assert.match(await row.textContent(), /\d+ ms/);
  assert.match(await row.textContent(), /succeeded/);
  await shot(page, '71-connectors-health');

  // Platform actions: restart the worker pool; the replica acknowledges.
  await page.getByRole('link', { name: 'Platform actions' }).click();
  const restart = page.getByTestId('action-restart_workers');
  assert.equal(await restart.getByRole('button', { name: 'Restart the worker pool' }).isDisabled(), true);
  await restart.getByLabel(/Type/).fill('restart workers');
  await restart.getByRole('button', { name: 'Restart the worker pool' }).click();
  const actions = page.getByTestId('actions-table');
  await actions.getByText(/restarted 2 workers/).waitFor({ timeout: 15_000 });
  // A purge finds its customer by typing (a page of 20 at a time; any tenant is reachable).
  const purge = page.getByTestId('action-purge_demo_data');
  const purgeButton = purge.getByRole('button', { name: "Purge a tenant's demo data" });
  await purge.getByLabel('Find a customer').fill(tenant.name.slice(0, 5).toLowerCase());
  await purge.getByLabel('Customer to purge').locator('option', { hasText: tenant.name }).waitFor({ state: 'attached' });
  await purge.getByLabel('Customer to purge').selectOption({ label: tenant.name });
  await purge.getByLabel(/Type/).fill(tenant.name);
  assert.equal(await purgeButton.isDisabled(), false, 'the typed name confirms the chosen customer');
  await purge.scrollIntoViewIfNeeded();
  await shot(page, '72-purge-finder');
  await purge.getByLabel('Find a customer').fill('no such customer at all');
  assert.equal(await purgeButton.isDisabled(), true, 'a new search clears the choice');
  // Mint a transfer token for the application.
  const transfer = page.getByTestId('action-transfer');
  await transfer.getByLabel('Application to transfer').selectOption({ label: 'crm-sync' });
  await transfer.getByRole('button', { name: 'Mint transfer token' }).click();
  const token = (await page.getByTestId('transfer-token').inputValue()).trim();
  assert.match(token, /^ey/);
  await shot(page, '72-platform-actions');

  // On the other platform: install by transfer.
  await api(other, 'POST', '/api/setup', null, { email: 'bea@example.com', password: PASSWORD, name: 'Bea Admin' });
  const page2 = await chrome.browser.newPage({ viewport: { width: 1280, height: 800 } });
  page2.on('pageerror', (e) => errors.push(e.message));
  await signIn(page2, other, 'bea@example.com');
  await page2.getByRole('link', { name: 'Applications' }).click();
  await page2.getByTestId('install-open').click();
  await page2.getByRole('tab', { name: 'Transfer' }).click();
  await page2.getByLabel('Source platform').fill(server.url);
  await page2.getByLabel('Transfer token').fill(token);
  await shot(page2, '73-transfer-dialog');
  await page2.getByTestId('install-submit').click();
  await page2.getByTestId('install-report').getByText(/crm-sync 2\.1\.0 installed/).waitFor();
  await page2.getByTestId('applications-table').getByRole('link', { name: 'crm-sync' }).waitFor();
  await shot(page2, '74-transferred');
  // The same token again: the source refuses it, and the dialog says why.
  await page2.getByTestId('install-open').click();
  await page2.getByRole('tab', { name: 'Transfer' }).click();
  await page2.getByLabel('Source platform').fill(server.url);
  await page2.getByLabel('Transfer token').fill(token);
  await page2.getByTestId('install-submit').click();
  await page2.getByTestId('install-dialog').getByText(/transfer_token_used/).waitFor();
  await page2.keyboard.press('Escape');

  // A queued run is cancelled from the Runs page (this platform runs no workers).
  const bea = (await api(other, 'POST', '/api/auth/login', null, { email: 'bea@example.com', password: PASSWORD })).access_token;
  const [t2] = (await api(other, 'GET', '/api/flow-templates', bea)).items;
  const me = await api(other, 'GET', '/api/me', bea);
  const f2 = await api(other, 'POST', '/api/flows', bea, { workspace_id: me.home_workspace.id, name: 'Tidy', template_id: t2.id, publish: true });
  await api(other, 'POST', `/api/flows/${f2.id}/runs`, bea);
  await page2.getByRole('link', { name: 'Runs' }).click();
  const queued = page2.getByTestId('runs-table').locator('tbody tr').first();
  await queued.getByText('queued', { exact: true }).waitFor();
  await queued.getByRole('button', { name: 'Cancel' }).click();
  await page2.getByTestId('runs-table').locator('tbody tr').first().getByText('cancelled', { exact: true }).waitFor();
  await shot(page2, '75-run-cancelled');
  assert.deepEqual(errors, []);
});
