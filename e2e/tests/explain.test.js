// Explain access (issue 34): pick a user by name and a permission leaf, see Allowed with the
// grant that gives it (workspace, role, the pattern that covers the leaf) or Refused with why;
// a deep link (?user=&permission=) opens it answered. The API and CLI had it; now the console.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { api, PASSWORD, shot, signedInPage, useStack } from './harness.js';

const stack = useStack();

test('explain access: allowed through a role and a pattern, refused, deep link', async () => {
  const { server, chrome } = stack;
  const { access_token: admin } = await api(server, 'POST', '/api/setup', null, {
    email: 'ada@example.com', password: PASSWORD, name: 'Ada Admin',
  });
  const ws = (await api(server, 'GET', '/api/me', admin)).home_workspace.id;
  const role = await api(server, 'POST', `/api/workspaces/${ws}/roles`, admin, {
    name: 'Flow keepers', description: 'Flows, all of them', patterns: ['steward.flows.*'],
  });
  const fay = await api(server, 'POST', '/api/users', admin, {
    email: 'fay@example.com', name: 'Fay Flowkeeper', password: PASSWORD, home_workspace_id: ws, role_id: role.id,
  });

  const { page, errors } = await signedInPage(chrome, server, 'ada@example.com');
  await page.getByRole('link', { name: 'Explain access' }).click();
  await page.waitForURL(server.url + '/admin/access');
  await page.getByLabel('User', { exact: true }).fill('Fay');
  await page.getByRole('option', { name: 'Fay Flowkeeper <fay@example.com>' }).click();
  await page.getByTestId('explain-user').getByText('Fay Flowkeeper').waitFor();
  await page.getByLabel('Permission').selectOption('steward.flows.publish');
  await page.getByRole('button', { name: 'Explain' }).click();
  assert.equal((await page.getByTestId('verdict').textContent()).trim(), 'Allowed');
  const grant = (await page.getByTestId('grants-table').locator('tbody tr').first().locator('td').allTextContents()).map((t) => t.trim());
  assert.deepEqual(grant.slice(1), ['Flow keepers', 'steward.flows.*']);
  await shot(page, 'explain-allowed');

  await page.getByLabel('Permission').selectOption('steward.access.users.manage');
  await page.getByRole('button', { name: 'Explain' }).click();
  await page.getByTestId('verdict').getByText('Refused').waitFor();
  await page.getByText('No role of theirs covers this permission.').waitFor();
  await shot(page, 'explain-refused');

  // A link names the user and the leaf: answered on arrival.
  await page.goto(`${server.url}/admin/access?user=${fay.id}&permission=steward.runs.view`);
  await page.getByTestId('verdict').getByText('Refused').waitFor();
  await page.goto(`${server.url}/admin/access?user=${fay.id}&permission=steward.flows.trigger`);
  await page.getByTestId('verdict').getByText('Allowed').waitFor();
  assert.deepEqual(errors, []);
});
