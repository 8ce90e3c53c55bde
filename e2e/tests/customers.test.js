// The Customers page (issue 34): every customer with its workspaces, users, flows and last
// activity, searchable; a new customer made in a dialog (a taken name is said beside the
// field); a customer's detail with its whole id and a copy button, renamed; a workspace added
// and renamed. A tenant's viewer sees only its own customer and cannot create one.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { api, PASSWORD, shot, signedInPage, useStack, VIEWER_ROLE } from './harness.js';

const stack = useStack();

test('customers: list, create, detail, rename, workspaces', async () => {
  const { server, chrome } = stack;
  const { access_token: admin } = await api(server, 'POST', '/api/setup', null, {
    email: 'ada@example.com', password: PASSWORD, name: 'Ada Admin',
  });
  await api(server, 'POST', '/api/customers', admin, { name: 'Globex' });

  const { page, errors } = await signedInPage(chrome, server, 'ada@example.com');
  await page.getByRole('link', { name: 'Customers' }).click();
  await page.waitForURL(server.url + '/admin/customers');
  const table = page.getByTestId('customers-table');
  await table.getByRole('link', { name: 'Globex' }).waitFor();

  // A new customer, in a dialog; then the same name again is refused beside the field.
  await page.getByRole('button', { name: 'New customer' }).click();
  const dialog = page.getByRole('dialog', { name: 'New customer' });
  await dialog.getByLabel('Name').fill('Acme Corp');
  await dialog.getByLabel('First workspace (optional)').fill('Sales');
  await dialog.getByRole('button', { name: 'Create customer' }).click();
  await dialog.waitFor({ state: 'hidden' });
  await page.getByText('“Acme Corp” was created with its workspace “Sales”.').waitFor();
  const acme = table.locator('tr', { has: page.getByRole('link', { name: 'Acme Corp' }) });
  await acme.waitFor();
  const cells = (await acme.locator('td').allTextContents()).map((t) => t.trim());
  assert.equal(cells[2], '1', `workspaces: ${cells}`);
  assert.equal(cells[3], '0', `users: ${cells}`);
  await page.getByRole('button', { name: 'New customer' }).click();
  await dialog.getByLabel('Name').fill('Globex');
  await dialog.getByRole('button', { name: 'Create customer' }).click();
  await dialog.locator('.field-error', { hasText: /taken/ }).waitFor();
  await shot(page, 'customers-name-taken');
  await page.keyboard.press('Escape');
  await dialog.waitFor({ state: 'hidden' });

  // Search narrows the list.
  await page.getByLabel('Search customers').fill('acme');
  await page.getByLabel('Search customers').press('Enter');
  await table.getByRole('link', { name: 'Globex' }).waitFor({ state: 'detached' });
  await shot(page, 'customers-list');

  // The detail: its whole id with a copy button; renamed; a workspace added and renamed.
  await table.getByRole('link', { name: 'Acme Corp' }).click();
  await page.getByTestId('customer-name').waitFor();
  const id = (await page.getByTestId('copy-id').first().textContent()).trim();
  assert.match(id, /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
  assert.equal(page.url(), `${server.url}/admin/customers/${id}`);
  await page.getByRole('button', { name: 'Rename', exact: true }).first().click();
  const rename = page.getByRole('dialog', { name: 'Rename customer' });
  await rename.getByLabel('Name').fill('Acme Inc');
  await rename.getByRole('button', { name: 'Save' }).click();
  await page.getByTestId('customer-name').getByText('Acme Inc').waitFor();
  await page.getByRole('button', { name: 'New workspace' }).click();
  const added = page.getByRole('dialog', { name: 'New workspace' });
  await added.getByLabel('Name').fill('Support');
  await added.getByRole('button', { name: 'Save' }).click();
  const workspaces = page.getByTestId('workspaces-table');
  await workspaces.getByText('Support').waitFor();
  await page.getByRole('button', { name: 'Rename Support' }).click();
  await page.getByRole('dialog', { name: 'Rename workspace “Support”' }).getByLabel('Name').fill('Helpdesk');
  await page.getByRole('dialog', { name: 'Rename workspace “Support”' }).getByRole('button', { name: 'Save' }).click();
  await workspaces.getByText('Helpdesk').waitFor();
  assert.deepEqual((await workspaces.locator('tbody td.row-title').allTextContents()).sort(), ['Helpdesk', 'Sales']);
  await shot(page, 'customer-detail');
  // What the console did is what the audit log says.
  const events = await api(server, 'GET', `/api/audit?customer_id=${id}&limit=50`, admin);
  const actions = events.items.map((e) => e.action);
  for (const action of ['customer.create', 'customer.rename', 'workspace.create', 'workspace.rename']) {
    assert.ok(actions.includes(action), `${action} in ${actions}`);
  }
  await page.setViewportSize({ width: 390, height: 800 });
  await shot(page, 'customer-detail-390');
  assert.deepEqual(errors, []);

  // A tenant's viewer: its own customer only, and no way to create or rename.
  const sales = (await api(server, 'GET', `/api/customers/${id}`, admin)).workspaces.find((w) => w.name === 'Sales');
  await api(server, 'POST', '/api/users', admin, {
    email: 'lee@example.com', name: 'Lee Viewer', password: PASSWORD, home_workspace_id: sales.id, role_id: VIEWER_ROLE,
  });
  const lead = await signedInPage(chrome, server, 'lee@example.com');
  // It reads its own customer (the picker does) but has no admin page for it in the menu.
  assert.equal(await lead.page.getByRole('link', { name: 'Customers' }).count(), 0);
  await lead.page.goto(server.url + '/admin/customers');
  await lead.page.getByTestId('customers-table').getByRole('link', { name: 'Acme Inc' }).waitFor();
  assert.equal(await lead.page.getByTestId('customers-table').locator('tbody tr').count(), 1);
  assert.equal(await lead.page.getByRole('button', { name: 'New customer' }).count(), 0);
  await lead.page.getByRole('link', { name: 'Acme Inc' }).click();
  await lead.page.getByTestId('customer-name').waitFor();
  assert.equal(await lead.page.getByRole('button', { name: /Rename|New workspace/ }).count(), 0);
  assert.deepEqual(lead.errors, []);
});
