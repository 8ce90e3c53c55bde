// Admin mode and scope: toggle, reload and see it persist, pick a customer and see the lists
// scoped, Refresh refused under All customers and accepted for one, an operator action.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { api, hashTemplate, PASSWORD, shot, signIn, useStack } from './harness.js';

const stack = useStack();

test('admin mode, customer picker, scoped lists and Refresh', async () => {
  const { server, chrome } = stack;
  const { access_token: admin } = await api(server, 'POST', '/api/setup', null, {
    email: 'ada@example.com', password: PASSWORD, name: 'Ada Admin',
  });
  const template = await hashTemplate(server, admin);
  for (const name of ['Acme', 'Globex']) {
    const c = await api(server, 'POST', '/api/customers', admin, { name });
    const ws = c.workspaces[0].id;
    const flow = await api(server, 'POST', '/api/flows', admin, { workspace_id: ws, name: `${name} nightly sync`, schedule: 'every 1h', template_id: template, publish: true });
    await api(server, 'POST', `/api/flows/${flow.id}/runs`, admin);
    await api(server, 'POST', '/api/connectors', admin, { workspace_id: ws, name: `${name} warehouse`, kind: 'postgres' });
  }

  const page = await chrome.browser.newPage({ viewport: { width: 1360, height: 900 } });
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await signIn(page, server, 'ada@example.com');
  await page.getByTestId('kpis').waitFor();
  assert.match(await page.getByTestId('kpis').textContent(), /Customers1/);

  const shield = page.getByRole('button', { name: 'My organization' });
  await shield.click();
  await page.getByRole('button', { name: 'Admin mode' }).waitFor();
  await page.getByRole('heading', { name: 'All customers' }).waitFor();
  assert.match(await page.getByTestId('kpis').textContent(), /Customers3/);

  // The choice survives a reload (cookie).
  await page.reload();
  await page.getByRole('button', { name: 'Admin mode' }).waitFor();
  assert.equal(await page.getByRole('button', { name: 'Admin mode' }).getAttribute('aria-pressed'), 'true');

  // Refresh is refused under All customers, with the server's reason.
  await page.getByRole('button', { name: 'Refresh' }).click();
  await page.getByRole('alert').getByText('pick a customer').waitFor();
  await shot(page, '20-refresh-refused');
  // A refusal stays until it is dismissed (a confirmation leaves by itself, below).
  await page.waitForTimeout(7_000);
  assert.equal(await page.locator('.toast-error', { hasText: 'pick a customer' }).count(), 1);
  await page.locator('.toast-error').getByRole('button', { name: 'Dismiss' }).click();
  await page.locator('.toast-error').waitFor({ state: 'detached' });

  await page.getByRole('link', { name: 'Flows' }).click();
  await page.getByTestId('flows-table').getByText('Globex nightly sync').waitFor();
  await page.getByTestId('flows-table').getByText('Acme nightly sync').waitFor();
  assert.equal(await page.getByTestId('flows-table').locator('th', { hasText: 'Customer' }).count(), 1);

  await page.getByTestId('customer-picker').click();
  await page.getByLabel('Search customers').fill('glob');
  await page.getByRole('button', { name: /^Globex/ }).click();
  await page.getByTestId('customer-picker').getByText('Globex').waitFor();
  await page.getByTestId('flows-table').getByText('Acme nightly sync').waitFor({ state: 'detached' });
  await page.getByTestId('flows-table').getByText('Globex nightly sync').waitFor();
  await shot(page, '21-flows-globex');

  await page.getByRole('button', { name: 'Pause' }).click();
  await page.getByText('“Globex nightly sync” is now paused.').waitFor();
  await page.locator('.toast-ok', { hasText: 'is now paused' }).waitFor({ state: 'detached', timeout: 15_000 });
  await page.getByTestId('flows-table').locator('.badge', { hasText: 'paused' }).waitFor();

  for (const [link, table, text] of [['Runs', 'runs-table', 'manual'], ['Connectors', 'connectors-table', 'Globex warehouse']]) {
    await page.getByRole('link', { name: link }).click();
    await page.getByTestId(table).getByText(text).first().waitFor();
    assert.doesNotMatch(await page.getByTestId(table).textContent(), /Acme/);
  }
  await shot(page, '22-connectors-globex');

  await page.getByRole('button', { name: 'Refresh' }).click();
  await page.getByText('Caches rebuilt for Globex.').waitFor();

  // The picker remembers Globex as recent, and the scope survives a new login.
  await page.getByRole('button', { name: 'Sign out' }).click();
  await signIn(page, server, 'ada@example.com');
  await page.getByRole('heading', { name: 'Globex' }).waitFor();
  await page.getByTestId('customer-picker').getByText('Globex').waitFor();
  await page.getByTestId('customer-picker').click();
  await page.locator('.picker-group', { hasText: 'Recent' }).waitFor();
  await shot(page, '23-picker-recent');
  await page.keyboard.press('Escape');

  // Back to my organization: the Customer column goes.
  await page.getByRole('button', { name: 'Admin mode' }).click();
  await page.getByRole('link', { name: 'Flows' }).click();
  await page.getByText('No flows in this scope.').waitFor();
  assert.equal(await page.getByTestId('flows-table').locator('th', { hasText: 'Customer' }).count(), 0);
  assert.deepEqual(errors, []);
});
