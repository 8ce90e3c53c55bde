// Data: the explorer (browse, filter, inline edit, batch delete with a dry run), the dedup
// merge from Data ops, and Hash warnings, over demo data seeded into the server's database.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { PASSWORD, api, seed, shot, signedInPage, useStack } from './harness.js';

const stack = useStack();

test('explorer, batch with dry run, dedup merge and hash warnings', async () => {
  const { server, chrome } = stack;
  await api(server, 'POST', '/api/setup', null, { email: 'ada@example.com', password: PASSWORD, name: 'Ada Admin' });
  seed(server, { customers: 2, users: 4, 'flows-per-customer': 3, 'runs-per-flow': 2, 'records-per-customer': 120 });
  const { page, errors } = await signedInPage(chrome, server, 'ada@example.com');
  // Admin mode, one customer: the seeded tenants' data.
  const login = await api(server, 'POST', '/api/auth/login', null, { email: 'ada@example.com', password: PASSWORD });
  const customers = await api(server, 'GET', '/api/customers?search=', login.access_token);
  const tenant = customers.items.find((c) => c.kind === 'tenant');
  await page.getByRole('button', { name: 'My organization' }).click();
  await page.getByRole('button', { name: 'Admin mode' }).waitFor();
  await page.getByTestId('customer-picker').click();
  await page.getByLabel('Search customers').fill(tenant.name.slice(0, 5));
  await page.getByRole('button', { name: new RegExp('^' + tenant.name) }).first().click();
  await page.getByTestId('customer-picker').getByText(tenant.name).waitFor();

  // Browse and filter.
  await page.getByRole('link', { name: 'Data explorer' }).click();
  const rows = page.getByTestId('explorer-rows');
  await rows.locator('tbody tr').first().waitFor();
  await page.getByTestId('live-badge').getByText('Live').waitFor();
  await page.getByLabel('Filter column').selectOption('entity_type');
  await page.getByLabel('Operator').selectOption('eq');
  await page.getByLabel('Filter value').fill('invoice');
  await page.getByRole('button', { name: 'Add filter' }).click();
  await page.locator('.chip', { hasText: 'entity_type = invoice' }).waitFor();
  await page.waitForFunction(() => [...document.querySelectorAll('[data-testid=explorer-rows] tbody tr')].every((tr) => tr.textContent.includes('invoice')));
  await shot(page, '50-explorer');

  // Inline edit: double-click the source cell, type, Enter.
  const sourceCell = rows.locator('tbody tr').first().locator('td.editable').nth(1);
  await sourceCell.dblclick();
  const input = page.getByLabel('Edit source');
  await input.fill('erp-import');
  await input.press('Enter');
  await rows.locator('tbody tr').first().getByText('erp-import').waitFor();
  // A payload the model refuses: the error names the place.
  const payloadCell = rows.locator('tbody tr').first().locator('td.editable').nth(2);
  await payloadCell.dblclick();
  const payload = page.getByLabel('Edit payload');
  await payload.fill('{"name": "", "score": 500}');
  await payload.press('Enter');
  await page.getByTestId('cell-error').waitFor();
  await payload.press('Escape');
  await shot(page, '51-explorer-edit');

  // Batch delete of two selected rows: dry run, the phrase, then the run.
  const before = await rows.locator('tbody tr').count();
  await rows.locator('tbody tr').nth(0).getByLabel('Select row').check();
  await rows.locator('tbody tr').nth(1).getByLabel('Select row').check();
  await page.getByTestId('batch-delete').click();
  await page.getByTestId('dry-run-button').click();
  const dry = page.getByTestId('dry-run');
  await dry.waitFor();
  const phrase = (await dry.locator('strong').nth(1).textContent()).trim();
  assert.match(phrase, /^delete \d records$/);
  await shot(page, '52-explorer-batch-dry-run');
  assert.equal(await page.getByTestId('run-batch').isDisabled(), true);
  await page.locator('#batch-typed').fill(phrase);
  await page.getByTestId('run-batch').click();
  await page.getByTestId('batch-done').waitFor();
  await page.waitForFunction((n) => document.querySelectorAll('[data-testid=explorer-rows] tbody tr').length <= n, before);

  // A batch edit of every record (by API, in the customer's scope): its audit event keeps the
  // first hundred rows' earlier values. The list leaves that long `before` out and names it; the event's
  // drawer asks for the event whole and shows every row.
  const scoped = async (method, path, body) => {
    const res = await fetch(server.url + path, {
      method,
      headers: { authorization: `Bearer ${login.access_token}`, 'x-steward-scope': `customer:${tenant.id}`, ...(body ? { 'content-type': 'application/json' } : {}) },
      body: body ? JSON.stringify(body) : undefined,
    });
    assert.ok(res.ok, `${method} ${path} → ${res.status}`);
    return res.json();
  };
  const plan = await scoped('POST', '/api/explorer/tables/records/batch', { action: 'edit', selection: {}, set: { source: 'audited' }, dry_run: true });
  const edited = plan.affected.length;
  assert.ok(edited >= 100, `records to edit: ${edited}`);
  await scoped('POST', '/api/explorer/tables/records/batch', { action: 'edit', selection: {}, set: { source: 'audited' }, confirm: plan.confirm_phrase });
  const listed = await scoped('GET', '/api/audit?action=data.batch.edit');
  assert.deepEqual(listed.items[0].summary_omitted, ['before']);
  assert.equal(listed.items[0].summary.before, undefined);
  await page.getByRole('link', { name: 'Audit log' }).click();
  await page.getByLabel('Action').fill('data.batch.edit');
  await page.getByLabel('Action').press('Enter');
  const audit = page.getByTestId('audit-table');
  await page.waitForFunction(() => {
    const t = document.querySelector('[data-testid="audit-table"]');
    const actions = t && t.getAttribute('aria-busy') === 'false' ? [...t.querySelectorAll('tbody tr td.action')].map((td) => td.textContent.trim()) : [];
    return actions.length > 0 && actions.every((a) => a === 'data.batch.edit');
  });
  await audit.locator('tbody tr').first().click();
  const summary = page.getByRole('dialog', { name: 'Audit event' }).getByTestId('event-summary');
  await summary.waitFor();
  const whole = JSON.parse(await summary.textContent());
  assert.equal(whole.before.length, 100, 'the first hundred rows, fetched whole');
  assert.equal(whole.count, edited);
  await shot(page, '56-audit-batch-event');
  // On a narrow window the drawer fits it: the 100 rows scroll inside the summary, never the page.
  const dialog = page.getByRole('dialog', { name: 'Audit event' });
  for (const width of [800, 390]) {
    await page.setViewportSize({ width, height: 800 });
    await page.waitForTimeout(150);
    const box = await dialog.boundingBox();
    const doc = await page.evaluate(() => document.documentElement.scrollWidth);
    assert.ok(box.x >= 0 && box.x + box.width <= width + 1, `the drawer at ${width}px: ${JSON.stringify(box)}`);
    assert.ok(doc <= width, `the page at ${width}px is ${doc}px wide with the drawer open`);
    await shot(page, `56-audit-batch-event-${width}`);
  }
  await page.setViewportSize({ width: 1280, height: 800 });
  await page.keyboard.press('Escape');

  // Hash warnings: the seeded repeats show; follow the link to the duplicate groups.
  await page.getByRole('link', { name: 'Hash warnings' }).click();
  const warnings = page.getByTestId('hash-warnings');
  await warnings.waitFor();
  await shot(page, '53-hash-warnings');
  await warnings.getByRole('link', { name: /Duplicate groups/ }).first().click();
  const groups = page.getByTestId('duplicate-groups');
  await groups.waitFor();
  const first = await groups.locator('tbody tr').count();
  assert.ok(first >= 1);
  // Merge the first group into its oldest record.
  await groups.getByRole('button', { name: 'Merge…' }).first().click();
  await page.getByTestId('merge-panel').waitFor();
  await page.getByTestId('merge-dry-run-button').click();
  const mergeDry = page.getByTestId('merge-dry-run');
  await mergeDry.waitFor();
  const mergePhrase = (await mergeDry.locator('strong').nth(1).textContent()).trim();
  assert.match(mergePhrase, /^merge \d+ into /);
  await page.locator('#merge-typed').fill(mergePhrase);
  await shot(page, '54-data-ops-merge');
  await page.getByTestId('merge-run').click();
  await page.getByTestId('data-ops-notice').getByText(/Merged \d+ records/).waitFor();
  await page.getByRole('tab', { name: 'Merges' }).click();
  await page.getByTestId('merges').getByRole('button', { name: 'Undo' }).waitFor();
  await page.getByRole('tab', { name: 'Migrations' }).click();
  await page.getByTestId('migrations').getByText('m20261203_000010_data').waitFor();
  await shot(page, '55-data-ops-migrations');
  assert.deepEqual(errors, []);
});
