// Roles: create a custom role, grant a subtree, assign a member; a lesser admin's
// escalation attempt is refused with the server's message.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { api, PASSWORD, shot, signIn, useStack, VIEWER_ROLE } from './harness.js';

const stack = useStack();

test('custom role with a subtree, a member, and a refused escalation', async () => {
  const { server, chrome } = stack;
  const { access_token: admin } = await api(server, 'POST', '/api/setup', null, {
    email: 'ada@example.com', password: PASSWORD, name: 'Ada Admin',
  });
  const me = await api(server, 'GET', '/api/me', admin);
  const ws = me.home_workspace.id;
  const leads = await api(server, 'POST', `/api/workspaces/${ws}/roles`, admin, {
    name: 'Role leads',
    description: 'Manage roles; read flows',
    patterns: ['steward.access.roles.*', 'steward.customers.view', 'steward.flows.view', 'steward.console.roles.*'],
  });
  await api(server, 'POST', '/api/users', admin, {
    email: 'lee@example.com', name: 'Lee Lead', password: PASSWORD, home_workspace_id: ws, role_id: leads.id,
  });
  await api(server, 'POST', '/api/users', admin, {
    email: 'mia@example.com', name: 'Mia Member', password: PASSWORD, home_workspace_id: ws, role_id: VIEWER_ROLE,
  });

  const page = await chrome.browser.newPage({ viewport: { width: 1360, height: 900 } });
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await signIn(page, server, 'ada@example.com');

  await page.getByRole('link', { name: 'Roles' }).click();
  await page.getByTestId('roles-table').waitFor();
  const adminRow = page.getByTestId('roles-table').locator('tr', { hasText: 'System' }).first();
  await adminRow.waitFor();
  await shot(page, '10-roles');

  // A system role is read-only.
  await page.getByRole('link', { name: 'viewer' }).click();
  await page.getByText('System role — read-only').waitFor();
  assert.equal(await page.getByRole('button', { name: 'Save' }).count(), 0);
  assert.equal(await page.getByRole('checkbox', { name: 'All of Flows' }).isDisabled(), true);
  await page.goBack();

  await page.getByRole('link', { name: 'New role' }).click();
  await page.getByLabel('Name').fill('Flow operators');
  await page.getByLabel('Description').fill('Run and publish flows');
  await page.getByRole('checkbox', { name: 'All of Flows' }).check();
  await page.getByRole('checkbox', { name: 'All of Runs' }).check();
  assert.match(await page.getByTestId('granted-total').textContent(), /^6 of \d+$/);
  await page.getByRole('button', { name: 'Collapse all' }).click();
  await shot(page, '11-role-new');
  await page.getByRole('button', { name: 'Save' }).click();
  await page.waitForURL(/\/admin\/roles\/[0-9a-f-]{36}$/);
  await page.getByText('Custom · ').waitFor();
  assert.equal(await page.getByRole('checkbox', { name: 'All of Flows' }).isChecked(), true);
  await shot(page, '12-role-saved');

  await page.getByRole('tab', { name: 'Users' }).click();
  await page.getByText('Nobody holds this role yet.').waitFor();
  await page.getByLabel('Add a user by email').fill('mia@example.com');
  await page.getByRole('button', { name: 'Add member' }).click();
  await page.getByTestId('members-table').getByText('mia@example.com').waitFor();
  await shot(page, '13-role-members');

  // An unknown email is the server's field error, shown beside the field.
  await page.getByLabel('Add a user by email').fill('nobody@example.com');
  await page.getByRole('button', { name: 'Add member' }).click();
  await page.getByText("is not a user of this workspace's customer").waitFor();

  await page.getByRole('link', { name: 'Roles', exact: true }).first().click();
  const row = page.getByTestId('roles-table').locator('tr', { hasText: 'Flow operators' });
  await row.waitFor();
  assert.match(await row.textContent(), /Custom.*1\s*6 of/s);

  await page.getByRole('button', { name: 'Sign out' }).click();
  await page.waitForURL('**/login');

  // Lee manages roles but only reads flows: granting the Flows subtree is escalation.
  await signIn(page, server, 'lee@example.com');
  await page.getByTestId('admin-section').getByRole('link', { name: 'Roles' }).click();
  await page.getByRole('link', { name: 'New role' }).click();
  await page.getByLabel('Name').fill('Sneaky');
  await page.getByRole('checkbox', { name: 'All of Flows' }).check();
  await page.getByRole('button', { name: 'Save' }).click();
  const alert = page.getByRole('alert');
  await alert.getByText('You cannot create a role with permissions you do not hold yourself').waitFor();
  // It names what is missing in words, and only what is missing (Lee reads flows already).
  const refused = await alert.textContent();
  assert.match(refused, /Flows: .*publish flows/);
  assert.doesNotMatch(refused, /view flows/);
  await shot(page, '14-escalation-refused');

  const list = await api(server, 'GET', '/api/roles', admin);
  assert.equal(list.items.some((r) => r.name === 'Sneaky'), false, 'nothing was created');
  assert.deepEqual(errors, []);
});
