// Every page fits (issue 33): each route of the console, over seeded demo data in admin mode
// (all customers: the widest lists), at 1280, 800 and 390 px wide, is no wider than the window:
// a wide table scrolls inside its card, never the page. Under 1024 px the menu folds behind a
// button that opens it, closes on Escape, and closes when a page is chosen. The administration
// sits in groups, every page of it reachable; someone with no admin page sees none of it.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { api, PASSWORD, seed, shot, signedInPage, useStack, VIEWER_ROLE } from './harness.js';

const stack = useStack();

const ROUTES = [
  '/', '/flows', '/runs', '/connectors', '/data', '/account',
  '/admin/users', '/admin/invitations', '/admin/sessions', '/admin/roles', '/admin/audit', '/admin/impersonations', '/admin/customers', '/admin/access', '/admin/settings',
  '/admin/system', '/admin/stats', '/admin/logs', '/admin/outbox', '/admin/config',
  '/admin/explorer', '/admin/data-ops', '/admin/hash-warnings',
  '/admin/applications', '/admin/import-errors', '/admin/packages', '/admin/actions',
];
const WIDTHS = [1280, 800, 390];

test('every page fits 1280, 800 and 390 px; the menu folds under 1024 px', async () => {
  const { server, chrome } = stack;
  const { access_token: admin } = await api(server, 'POST', '/api/setup', null, {
    email: 'ada@example.com', password: PASSWORD, name: 'Ada Admin',
  });
  seed(server, {
    customers: 3, users: 12, 'flows-per-customer': 3, 'runs-per-flow': 2, 'connectors-per-customer': 2, 'records-per-customer': 40,
  });
  const roles = await api(server, 'GET', '/api/roles', admin);
  const custom = roles.items.find((r) => !r.system);

  const { page, errors } = await signedInPage(chrome, server, 'ada@example.com');
  // Admin mode over all customers: lists carry their Customer column.
  await page.getByRole('button', { name: 'My organization' }).click();
  await page.getByRole('button', { name: 'Admin mode' }).waitFor();

  // A seeded user's detail page: memberships, sessions, tokens and trail tables.
  const someone = (await api(server, 'GET', '/api/users?limit=1&segment=active', admin, null)).items[0];
  const routes = [...ROUTES, ...(custom ? [`/admin/roles/${custom.id}`] : []), `/admin/users/${someone.id}`];
  const overflowing = [];
  for (const width of WIDTHS) {
    await page.setViewportSize({ width, height: 800 });
    for (const route of routes) {
      await page.goto(server.url + route);
      await page.locator('.account-email').waitFor({ state: 'attached' });
      // Lists have loaded (some pages hold an event stream open, so the network never idles).
      await page.waitForFunction(() => !document.querySelector('.loading, [aria-busy="true"]'), null, { timeout: 10_000 });
      await page.waitForTimeout(250);
      const { doc, win, widest } = await page.evaluate(() => {
        const doc = document.documentElement.scrollWidth;
        const win = window.innerWidth;
        // What sticks out, for the message: the widest element that ends past the window.
        let widest = '';
        let right = win;
        for (const el of document.querySelectorAll('body *')) {
          const r = el.getBoundingClientRect();
          if (r.right > right + 1 && getComputedStyle(el).position !== 'fixed') {
            let scrolled = false;
            for (let p = el.parentElement; p; p = p.parentElement) {
              const o = getComputedStyle(p).overflowX;
              if (o === 'auto' || o === 'scroll' || o === 'hidden') { scrolled = true; break; }
            }
            if (!scrolled) {
              right = r.right;
              widest = `${el.tagName.toLowerCase()}${el.className ? '.' + String(el.className).split(' ').join('.') : ''} ends at ${Math.round(r.right)}`;
            }
          }
        }
        return { doc, win, widest };
      });
      if (doc > win) overflowing.push(`${route} at ${width}px: ${doc}px wide (${widest})`);
    }
    await page.goto(server.url + '/admin/users');
    await page.locator('.account-email').waitFor({ state: 'attached' });
    await page.getByTestId('users-table').locator('tbody tr').nth(5).waitFor();
    // A user's row is its two lines (name, email), its actions on one line beside them.
    const heights = await page.getByTestId('users-table').locator('tbody tr').evaluateAll((rows) => rows.map((r) => r.getBoundingClientRect().height));
    await shot(page, `layout-users-${width}`);
    assert.ok(Math.max(...heights) <= 64, `users rows at ${width}px: ${heights.map(Math.round).join(', ')} px tall`);
  }
  assert.deepEqual(overflowing, [], 'pages wider than the window');

  // Names, not ids: admin mode's Customer column (and Runs' Flow column) name what they point at.
  await page.setViewportSize({ width: 1280, height: 800 });
  for (const [route, table] of [['/flows', 'flows-table'], ['/runs', 'runs-table'], ['/connectors', 'connectors-table'], ['/data', 'records-table']]) {
    await page.goto(server.url + route);
    const rows = page.getByTestId(table).locator('tbody tr');
    await rows.first().waitFor();
    const headers = (await page.getByTestId(table).locator('thead th').allTextContents()).map((h) => h.trim().toLowerCase());
    for (const column of ['customer', 'flow']) {
      const at = headers.indexOf(column);
      if (at < 0) continue;
      const cells = (await rows.locator(`td:nth-child(${at + 1})`).allTextContents()).map((t) => t.trim());
      assert.ok(cells.length > 0 && cells.every((c) => c && !/^[0-9a-f]{8}$/.test(c)), `${route} ${column}: ${cells.join(', ')}`);
    }
  }

  // Generated data says so (issue 31): every seeded run carries a demo badge, the stats history
  // the seed invented is shaded and explained, and the seeded flows have steps to run.
  await page.goto(server.url + '/runs');
  const runRows = page.getByTestId('runs-table').locator('tbody tr');
  await runRows.first().waitFor();
  const badges = await runRows.evaluateAll((rows) => rows.map((r) => r.querySelector('.badge-demo')?.textContent ?? ''));
  assert.ok(badges.length > 0 && badges.every((b) => b === 'demo'), `demo badges: ${badges.join(', ')}`);
  await page.goto(server.url + '/admin/stats');
  await page.getByRole('tab', { name: '30 days' }).click();
  assert.match(await page.getByTestId('stats-demo-note').textContent(), /generated by `steward-server seed`/);
  await page.getByRole('figure', { name: 'Users' }).locator('rect.chart-demo').first().waitFor();
  await shot(page, 'stats-demo-30d');
  await page.goto(server.url + '/flows');
  await page.getByTestId('flows-table').locator('tbody tr').first().waitFor();
  const steps = await page.getByTestId('flows-table').locator('tbody tr td:nth-child(5)').allTextContents();
  assert.ok(steps.every((t) => t.trim() === '2 steps'), `flow steps: ${steps.join(', ')}`);
  await shot(page, 'flows-steps');

  // The folded menu: hidden, opened by its button, closed by Escape and by choosing a page.
  await page.setViewportSize({ width: 800, height: 800 });
  await page.goto(server.url + '/');
  const toggle = page.getByRole('button', { name: 'Menu' });
  await toggle.waitFor();
  const sidebar = page.locator('.sidebar');
  assert.equal(await sidebar.isVisible(), false, 'the menu is folded at 800 px');
  assert.equal(await toggle.getAttribute('aria-expanded'), 'false');
  await toggle.click();
  await page.getByRole('link', { name: 'Users' }).waitFor();
  assert.equal(await toggle.getAttribute('aria-expanded'), 'true');
  await page.waitForTimeout(300); // the slide-in
  await shot(page, 'layout-menu-open-800');
  await page.keyboard.press('Escape');
  await sidebar.waitFor({ state: 'hidden' });
  await toggle.click();
  await page.getByRole('link', { name: 'Users' }).click();
  await page.waitForURL(server.url + '/admin/users');
  await sidebar.waitFor({ state: 'hidden' });
  // At 1280 px it is always there, with no button.
  await page.setViewportSize({ width: 1280, height: 800 });
  await sidebar.waitFor();
  assert.equal(await toggle.isVisible(), false);

  // The administration in groups; its last page is reachable on an 800 px tall window.
  const headings = await page.getByTestId('admin-section').locator('.nav-heading').allTextContents();
  assert.deepEqual(headings.map((h) => h.trim()), ['People', 'Tenants', 'Operations', 'Data', 'Platform', 'Audit']);
  await page.getByTestId('admin-section').getByRole('link', { name: 'Audit log' }).click();
  await page.waitForURL(server.url + '/admin/audit');
  assert.equal(await page.getByRole('link', { name: 'API reference' }).getAttribute('href'), '/api/docs/');
  assert.deepEqual(errors, []);

  // A viewer: the workspace pages, no administration at all.
  const ws = (await api(server, 'GET', '/api/me', admin)).home_workspace.id;
  await api(server, 'POST', '/api/users', admin, {
    email: 'vera@example.com', name: 'Vera Viewer', password: PASSWORD, home_workspace_id: ws, role_id: VIEWER_ROLE,
  });
  const { page: viewer } = await signedInPage(chrome, server, 'vera@example.com');
  await viewer.getByRole('link', { name: 'Dashboard' }).waitFor();
  assert.equal(await viewer.getByTestId('admin-section').count(), 0, 'no administration for a viewer');
  assert.equal(await viewer.getByText('Administration').count(), 0);
  await shot(viewer, 'layout-viewer-1280');
  await viewer.close();
});
