// Flows and connectors made in the console (issue 34): a connector of a kind an application
// brings, with an endpoint (its key shown once, then probed healthy); a flow from that
// application's template using the connector, published at once and run from the page; a bad
// schedule refused beside its field; no "New" across every customer (a flow belongs to one).
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { after, before, test } from 'node:test';
import { api, appArchive, installArchive, PASSWORD, shot, signedInPage, useStack } from './harness.js';

const stack = useStack({ STEWARD_ALLOW_PRIVATE_ENDPOINTS: 'true', STEWARD_WORKER_POLL_MS: '50' });
let service;
before(async () => {
  service = createServer((req, res) => {
    const ok = req.url === '/v1/health' && (req.headers.authorization ?? '').startsWith('Bearer stc_');
    res.writeHead(ok ? 200 : 401).end();
  });
  await new Promise((r) => service.listen(0, '127.0.0.1', r));
});
after(() => service?.close());

test('a connector and a flow made in the console, then run', async () => {
  const { server, chrome } = stack;
  const { access_token: admin } = await api(server, 'POST', '/api/setup', null, {
    email: 'ada@example.com', password: PASSWORD, name: 'Ada Admin',
  });
  await installArchive(server.url, admin, appArchive({
    'steward.json': JSON.stringify({ name: 'crm-sync', version: '2.1.0', description: 'Keeps contacts tidy' }),
    'flows/tidy_contacts.json': JSON.stringify({
      label: 'Tidy contacts', entity_type: 'contact', steps: [{ kind: 'validate' }, { kind: 'hash' }],
    }),
    'connectors/crm_api.json': JSON.stringify({ label: 'CRM API', health: { path: '/health' } }),
  }));
  const { page, errors } = await signedInPage(chrome, server, 'ada@example.com');

  // A connector of the application's kind: the dialog says how it is probed; its key is shown once.
  await page.getByRole('link', { name: 'Connectors' }).click();
  await page.getByRole('button', { name: 'New connector' }).click();
  const made = page.getByRole('dialog', { name: 'New connector' });
  await made.getByLabel('Name').fill('CRM production');
  await made.getByLabel('Kind').fill('crm_api');
  await made.getByText('CRM API: its health is probed with GET /health at the endpoint.').waitFor();
  await made.getByLabel('Endpoint (optional)').fill(`http://127.0.0.1:${service.address().port}/v1`);
  await shot(page, 'connector-new');
  await made.getByRole('button', { name: 'Create connector' }).click();
  await made.waitFor({ state: 'hidden' });
  assert.match((await page.getByTestId('new-key').textContent()).trim(), /^stc_/);
  const connectors = page.getByTestId('connectors-table');
  const row = connectors.locator('tbody tr', { hasText: 'CRM production' });
  await row.getByRole('button', { name: 'Check now' }).click();
  await row.getByText('healthy').first().waitFor();

  // A flow from the template: a bad schedule is refused beside its field, then it is made.
  await page.getByRole('link', { name: 'Flows' }).click();
  await page.getByRole('button', { name: 'New flow' }).click();
  const flow = page.getByRole('dialog', { name: 'New flow' });
  await flow.getByLabel('Name').fill('Tidy contacts nightly');
  assert.equal(await flow.getByLabel('Template').locator('option:checked').textContent(), 'Tidy contacts (crm-sync)');
  await flow.getByText('Works on contact records: validate → hash.').waitFor();
  await flow.getByLabel('Connector (optional)').selectOption({ label: 'CRM production (crm_api)' });
  await flow.getByLabel('Schedule (optional)').fill('now and then');
  await flow.getByLabel(/^Publish at once/).check();
  await flow.getByRole('button', { name: 'Create flow' }).click();
  await flow.locator('.field-error', { hasText: /every/ }).waitFor();
  await shot(page, 'flow-new-refused');
  await flow.getByLabel('Schedule (optional)').fill('');
  await flow.getByRole('button', { name: 'Create flow' }).click();
  await flow.waitFor({ state: 'hidden' });
  await page.getByText('“Tidy contacts nightly” was created as published.').waitFor();
  const flows = page.getByTestId('flows-table');
  const created = flows.locator('tbody tr', { hasText: 'Tidy contacts nightly' });
  await created.getByText('2 steps').waitFor();
  await created.getByRole('button', { name: 'Run now' }).click();
  await page.getByText('Run queued.').waitFor();

  // The run does the template's work and records its outcome on the connector.
  const [stored] = (await api(server, 'GET', '/api/flows?search=Tidy', admin)).items;
  assert.equal(stored.status, 'published');
  await page.getByRole('link', { name: 'Runs' }).click();
  await page.getByTestId('runs-table').locator('tbody tr', { hasText: 'Tidy contacts nightly' }).getByText('succeeded').waitFor({ timeout: 20_000 });
  await page.getByRole('link', { name: 'Connectors' }).click();
  await connectors.locator('tbody tr', { hasText: 'CRM production' }).getByText('succeeded').waitFor();

  // Across every customer there is no one customer to make it in: the button says so.
  await page.getByRole('button', { name: 'My organization' }).click();
  await page.getByRole('button', { name: 'Admin mode' }).waitFor();
  await page.getByRole('link', { name: 'Flows' }).click();
  assert.equal(await page.getByRole('button', { name: 'New flow' }).isDisabled(), true);
  assert.equal(await page.getByRole('button', { name: 'New flow' }).getAttribute('title'), 'Pick a customer first: a flow belongs to one');
  assert.deepEqual(errors, []);
  await page.close();
});
