// View as: reason dialog, the amber banner, the target's view, a destructive action meeting
// the typed confirmation, exit, and both identities in the audit log.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { api, PASSWORD, shot, signIn, useStack } from './harness.js';

const stack = useStack();

/** Waits until the audit table has loaded the filter's answer: not busy, and every row's
 *  action starts with `prefix` (the table shows the previous answer while the next loads). */
async function filtered(page, prefix) {
  await page.waitForFunction((p) => {
    const table = document.querySelector('[data-testid="audit-table"]');
    if (!table || table.getAttribute('aria-busy') !== 'false') return false;
    const actions = [...table.querySelectorAll('tbody tr td.action')].map((td) => td.textContent.trim());
    return actions.length > 0 && actions.every((a) => a.startsWith(p));
  }, prefix);
}

test('impersonation journey and its audit trail', async () => {
  const { server, chrome } = stack;
  const { access_token: admin } = await api(server, 'POST', '/api/setup', null, {
    email: 'ada@example.com', password: PASSWORD, name: 'Ada Admin',
  });
  const ws = (await api(server, 'GET', '/api/me', admin)).home_workspace.id;
  const keepers = await api(server, 'POST', `/api/workspaces/${ws}/roles`, admin, {
    name: 'Connector keepers', patterns: ['steward.connectors.*', 'steward.flows.view'],
  });
  await api(server, 'POST', '/api/users', admin, {
    email: 'mia@example.com', name: 'Mia Member', password: PASSWORD, home_workspace_id: ws, role_id: keepers.id,
  });
  await api(server, 'POST', '/api/connectors', admin, { workspace_id: ws, name: 'Platform warehouse', kind: 'postgres' });

  const page = await chrome.browser.newPage({ viewport: { width: 1360, height: 900 } });
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await signIn(page, server, 'ada@example.com');
  await page.goto(`${server.url}/admin/roles/${keepers.id}`);
  await page.getByRole('tab', { name: 'Users' }).click();
  await page.getByRole('button', { name: 'View as' }).click();
  await page.getByRole('button', { name: 'Start viewing' }).click();
  await page.getByText('must be at least 3 characters').waitFor();
  await page.getByLabel('Reason').fill('Ticket 4711: key rotation');
  await page.getByRole('button', { name: 'Start viewing' }).click();

  const banner = page.getByTestId('impersonation-banner');
  await banner.waitFor();
  assert.match(await banner.textContent(), /Impersonating customer Platform as user Mia Member/);
  assert.equal(await page.getByTestId('admin-section').count(), 0, "the target's view has no admin section");
  assert.equal(await page.getByRole('button', { name: 'Refresh' }).count(), 0, "nor the admin's own controls");
  await shot(page, '30-impersonating');

  await page.getByRole('link', { name: 'Connectors' }).click();
  await page.getByRole('button', { name: 'Rotate key' }).click();
  const confirm = page.getByRole('dialog').getByRole('button', { name: 'Rotate key' });
  assert.equal(await confirm.isDisabled(), true);
  await page.getByLabel(/Type .* to confirm/).fill('Platform');
  assert.equal(await confirm.isDisabled(), true);
  await page.getByLabel(/Type .* to confirm/).fill('Platform warehouse');
  await shot(page, '31-typed-confirmation');
  await confirm.click();
  await page.getByTestId('new-key').waitFor();
  assert.match(await page.getByTestId('new-key').textContent(), /^stc_/);

  // The banner stays on every page until Exit.
  await page.getByRole('link', { name: 'Flows' }).click();
  await banner.waitFor();
  await banner.getByRole('button', { name: 'Exit' }).click();
  await banner.waitFor({ state: 'detached' });
  await page.getByTestId('admin-section').waitFor();

  await page.getByRole('link', { name: 'Audit log' }).click();
  await page.getByLabel('Action').fill('impersonation.');
  await page.getByLabel('Action').press('Enter');
  const table = page.getByTestId('audit-table');
  await filtered(page, 'impersonation.');
  await table.getByText('impersonation.stop').waitFor();
  await table.getByText('impersonation.start').waitFor();
  assert.equal(await table.locator('tr', { hasText: 'as mia@example.com' }).count(), 2);
  assert.equal(await table.locator('tr', { hasText: 'ada@example.com' }).count(), 2);
  await shot(page, '32-audit-both-identities');

  await page.getByLabel('Action').fill('connector.rotate_key');
  await page.getByLabel('Action').press('Enter');
  await filtered(page, 'connector.rotate_key');
  await table.locator('tr', { hasText: 'connector.rotate_key' }).filter({ hasText: 'as mia@example.com' }).waitFor();
  assert.match(await page.getByTestId('audit-scope').textContent(), /your organization's events/);
  // An event in full: both identities, its request, what changed, its chain hash; and a filter
  // picked from it.
  await table.locator('tr', { hasText: 'connector.rotate_key' }).first().click();
  const drawer = page.getByRole('dialog', { name: 'Audit event' });
  const detail = drawer.getByTestId('event-detail');
  await detail.waitFor();
  const text = await detail.textContent();
  assert.match(text, /ada@example\.com/);
  assert.match(text, /viewing as mia@example\.com/);
  assert.match(text, /[0-9a-f]{64}/, 'the chain hash');
  await shot(page, '33-audit-event-drawer');
  await drawer.getByRole('button', { name: /^Only target/ }).click();
  await drawer.waitFor({ state: 'hidden' });
  await page.getByTestId('audit-filter').filter({ hasText: 'target' }).waitFor();
  await page.getByLabel('Action').fill('');
  await page.getByLabel('Action').press('Enter');
  await page.waitForFunction(() => {
    const t = document.querySelector('[data-testid="audit-table"]');
    return t && t.getAttribute('aria-busy') === 'false' && t.querySelectorAll('tbody tr').length > 0;
  });
  const targets = await table.locator('tbody tr td:nth-child(6)').allTextContents();
  assert.ok(targets.every((t) => t === targets[0]), `one target: ${targets}`);
  await page.getByRole('button', { name: /^Remove the filter target/ }).click();
  await page.getByTestId('audit-filter').waitFor({ state: 'detached' });
  await page.getByRole('button', { name: 'Verify chain' }).click();
  await page.getByText(/Chain verified: \d+ events/).waitFor();

  // The view in the impersonation history: who, as whom, why, how it ended; its link opens the
  // audit log on what the admin did over that time.
  await page.getByRole('link', { name: 'Impersonation history' }).click();
  const views = page.getByTestId('impersonations-table');
  const view = views.locator('tbody tr').first();
  await view.getByText('Ticket 4711: key rotation').waitFor();
  const cells = await view.textContent();
  assert.match(cells, /ada@example\.com/);
  assert.match(cells, /as mia@example\.com/);
  assert.match(cells, /exited/);
  const done = (await view.getByTestId('view-actions').textContent()).trim();
  assert.match(done, /^[1-9]\d* actions?$/, done);
  await shot(page, '34-impersonation-history');
  await view.getByTestId('view-actions').click();
  await page.waitForURL(/\/admin\/audit\?actor=/);
  assert.equal(await page.getByTestId('audit-filter').count(), 3, 'actor, from and to');
  await page.waitForFunction(() => {
    const t = document.querySelector('[data-testid="audit-table"]');
    return t && t.getAttribute('aria-busy') === 'false' && t.querySelectorAll('tbody tr').length > 0;
  });
  const actions = await table.locator('tbody tr td.action').allTextContents();
  assert.ok(actions.some((a) => a.trim() === 'connector.rotate_key'), `${actions}`);
  assert.deepEqual(errors, []);
});
