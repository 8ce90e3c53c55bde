// The remembered customer scope (issue 12): it does not outlive its user, a scope the current
// user may not use falls back to their own organization with a notice, and View as hands the
// admin's scope back on Exit.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { api, PASSWORD, shot, signIn, useStack, VIEWER_ROLE } from './harness.js';

const stack = useStack();

/** Collects API answers 401/403 seen by `page` from now on. */
function refusals(page) {
  const seen = [];
  page.on('response', (res) => {
    if (res.url().includes('/api/') && [401, 403].includes(res.status())) {
      seen.push(`${res.request().method()} ${new URL(res.url()).pathname} → ${res.status()}`);
    }
  });
  return seen;
}

test('a scope does not outlive its user, and View as gives it back', async () => {
  const { server, chrome } = stack;
  const { access_token: admin } = await api(server, 'POST', '/api/setup', null, {
    email: 'ada@example.com', password: PASSWORD, name: 'Ada Admin',
  });
  const ws = (await api(server, 'GET', '/api/me', admin)).home_workspace.id;
  await api(server, 'POST', '/api/users', admin, {
    email: 'vic@example.com', name: 'Vic Viewer', password: PASSWORD, home_workspace_id: ws, role_id: VIEWER_ROLE,
  });
  const context = await chrome.browser.newContext({ viewport: { width: 1280, height: 800 } });
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));

  // The admin turns admin mode on, then signs out.
  await signIn(page, server, 'ada@example.com');
  await page.getByRole('button', { name: 'My organization' }).click();
  await page.getByRole('button', { name: 'Admin mode' }).waitFor();
  await page.getByRole('button', { name: 'Sign out' }).click();
  await page.waitForURL('**/login');

  // A viewer signs in on the same browser: their own organization, nothing refused.
  let refused = refusals(page);
  await signIn(page, server, 'vic@example.com');
  await page.waitForLoadState('networkidle');
  assert.deepEqual(refused, [], 'after sign-in');
  const cookie = (await context.cookies()).find((c) => c.name === 'steward_scope');
  assert.equal(cookie?.value, 'tenant');

  // A scope remembered from elsewhere (an older tab, a copied cookie): dropped, with a notice.
  await context.addCookies([{ name: 'steward_scope', value: 'all', url: server.url }]);
  refused = refusals(page);
  await page.goto(server.url + '/flows');
  await page.getByText('not available to you').waitFor();
  await page.waitForLoadState('networkidle');
  assert.deepEqual(refused, [], 'with a remembered scope');
  assert.equal((await context.cookies()).find((c) => c.name === 'steward_scope')?.value, 'tenant');
  await shot(page, '70-scope-fallback-notice');
  await page.getByRole('button', { name: 'Sign out' }).click();
  await page.waitForURL('**/login');

  // The admin: admin mode on, View as the viewer, Exit: admin mode is back.
  await signIn(page, server, 'ada@example.com');
  await page.getByRole('button', { name: 'My organization' }).click();
  await page.getByRole('button', { name: 'Admin mode' }).waitFor();
  await page.goto(server.url + '/admin/users');
  const row = page.getByTestId('users-table').locator('tr', { hasText: 'vic@example.com' });
  await row.getByRole('button', { name: 'View as' }).click();
  await page.getByLabel('Reason').fill('Checking the viewer view');
  await page.getByRole('button', { name: 'Start viewing' }).click();
  const banner = page.getByTestId('impersonation-banner');
  await banner.waitFor();
  refused = refusals(page);
  await page.getByRole('link', { name: 'Flows' }).click();
  await page.waitForLoadState('networkidle');
  assert.deepEqual(refused, [], 'while viewing as');
  await banner.getByRole('button', { name: 'Exit' }).click();
  await banner.waitFor({ state: 'detached' });
  const shield = page.getByRole('button', { name: 'Admin mode' });
  await shield.waitFor();
  assert.equal(await shield.getAttribute('aria-pressed'), 'true', "the admin's scope is back");
  // And the audit log right after Exit shows the view, in every customer.
  await page.getByRole('link', { name: 'Audit log' }).click();
  await page.getByTestId('audit-table').getByText('impersonation.stop').waitFor();
  await shot(page, '71-scope-back-after-exit');
  assert.deepEqual(errors, []);
  await context.close();
});
