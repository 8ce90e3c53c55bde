// Console page delegation, from the SPA's side (issue 12): a user holding only one page's read
// leaf sees exactly that page in the admin section, opens it, and none of the calls the page
// makes is refused.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { api, PASSWORD, shot, signIn, useStack } from './harness.js';

const stack = useStack();

// Console pages the SPA has, with their route and the sidebar label.
const PAGES = [
  { id: 'dashboard', path: '/', label: 'Dashboard' },
  { id: 'users', path: '/admin/users', label: 'Users' },
  { id: 'invitations', path: '/admin/invitations', label: 'Invitations' },
  { id: 'sessions', path: '/admin/sessions', label: 'Sessions' },
  { id: 'explain', path: '/admin/access', label: 'Explain access' },
  { id: 'roles', path: '/admin/roles', label: 'Roles' },
  { id: 'audit', path: '/admin/audit', label: 'Audit log' },
  { id: 'impersonations', path: '/admin/impersonations', label: 'Impersonation history' },
  { id: 'customers', path: '/admin/customers', label: 'Customers' },
  { id: 'system', path: '/admin/system', label: 'System status' },
  { id: 'stats', path: '/admin/stats', label: 'Stats' },
  { id: 'logs', path: '/admin/logs', label: 'Logs' },
  { id: 'data_ops', path: '/admin/data-ops', label: 'Data ops' },
  { id: 'hash_warnings', path: '/admin/hash-warnings', label: 'Hash warnings' },
];
const ADMIN_LABELS = PAGES.filter((p) => p.id !== 'dashboard').map((p) => p.label);

test('each console page opens for a holder of its read leaf alone', async () => {
  const { server, chrome } = stack;
  const { access_token: admin } = await api(server, 'POST', '/api/setup', null, {
    email: 'ada@example.com', password: PASSWORD, name: 'Ada Admin',
  });
  const ws = (await api(server, 'GET', '/api/me', admin)).home_workspace.id;

  for (const p of PAGES) {
    const role = await api(server, 'POST', `/api/workspaces/${ws}/roles`, admin, {
      name: `Page ${p.id}`, description: `Only the ${p.label} page`, patterns: [`steward.console.${p.id}.read`],
    });
    const email = `${p.id}@example.com`;
    await api(server, 'POST', '/api/users', admin, {
      email, name: `Reader of ${p.label}`, password: PASSWORD, home_workspace_id: ws, role_id: role.id,
    });
    const context = await chrome.browser.newContext({ viewport: { width: 1280, height: 800 } });
    const page = await context.newPage();
    const errors = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await signIn(page, server, email);

    // The sidebar shows exactly this page among the admin ones.
    const admin_links = page.locator('[data-testid="admin-section"] .nav-link');
    const shown = p.id === 'dashboard' ? [] : [p.label];
    if (shown.length) await admin_links.first().waitFor();
    const labels = (await admin_links.allTextContents()).map((t) => t.trim()).filter((t) => ADMIN_LABELS.includes(t));
    assert.deepEqual(labels, shown, `${p.id}: the admin section`);

    // Visiting it: no call is refused.
    const refused = [];
    page.on('response', (res) => {
      if (res.url().includes('/api/') && (res.status() === 401 || res.status() === 403)) {
        refused.push(`${res.request().method()} ${new URL(res.url()).pathname} → ${res.status()}`);
      }
    });
    await page.goto(server.url + p.path);
    await page.locator('.account-email').waitFor();
    await page.waitForLoadState('networkidle');
    await page.waitForTimeout(200);
    assert.deepEqual(refused, [], `${p.id}: refused calls`);
    assert.equal(await page.locator('.toast-error, .banner-error').count(), 0, `${p.id}: no error shown`);
    assert.deepEqual(errors, []);
    await shot(page, `60-delegated-${p.id}`);
    await context.close();
  }
});
