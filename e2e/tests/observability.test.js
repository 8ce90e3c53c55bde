// The operations pages: System status, Stats, Logs (with a live tail) and Configuration, at
// 1280 and 800 px.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { PASSWORD, shot, signIn, useStack } from './harness.js';

// Snapshots every second, so the Stats page has this hour's point after setup.
const stack = useStack({ STEWARD_STATS_INTERVAL_SECS: '1' });

async function noSidewaysScroll(page, name) {
  const wide = await page.evaluate(() => document.documentElement.scrollWidth > window.innerWidth + 1);
  assert.equal(wide, false, `${name} scrolls sideways`);
}

test('system status, stats, logs and configuration', async () => {
  const { server, chrome } = stack;
  await fetch(server.url + '/api/setup', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email: 'ada@example.com', password: PASSWORD, name: 'Ada Admin' }),
  });
  const page = await chrome.browser.newPage({ viewport: { width: 1280, height: 800 } });
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await signIn(page, server, 'ada@example.com');

  // System status: measured by the server itself, refreshed while open.
  await page.getByRole('link', { name: 'System status' }).click();
  await page.getByTestId('system-kpis').waitFor();
  await page.getByTestId('operations-table').getByText('get_me').waitFor();
  await page.getByTestId('replicas-table').getByText('live').waitFor();
  await page.getByRole('tab', { name: '15 min' }).click();
  await shot(page, '40-system-status');
  await noSidewaysScroll(page, 'system status');

  // Stats: the periodic task stored this hour's snapshot at start.
  await page.getByRole('link', { name: 'Stats' }).click();
  await page.getByTestId('stats-charts').waitFor();
  await page.getByRole('figure', { name: 'Users' }).locator('svg').waitFor();
  assert.match(await page.getByRole('figure', { name: 'Users' }).textContent(), /users\s*1/);
  await page.getByRole('tab', { name: '30 days' }).click();
  await page.getByRole('figure', { name: 'Runs per day' }).locator('svg').waitFor();
  await shot(page, '41-stats');

  // Logs: the system log's startup tab holds the start-up lines.
  await page.getByRole('link', { name: 'Logs' }).click();
  await page.getByRole('tab', { name: 'System' }).click();
  await page.getByRole('tab', { name: 'Startup info' }).click();
  await page.getByTestId('logs-table').getByText(/listening on/).waitFor();
  await shot(page, '42-logs-system');

  // Follow the authentication log: a failed sign-in elsewhere appears without a reload.
  await page.getByRole('tab', { name: 'Authentication' }).click();
  await page.getByLabel('Follow').check();
  await page.getByTestId('following').waitFor();
  await new Promise((r) => setTimeout(r, 500));
  const refused = await fetch(server.url + '/api/auth/login', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email: 'ada@example.com', password: 'not the password at all' }),
  });
  assert.equal(refused.status, 401);
  await page.getByTestId('logs-table').getByText('failed sign-in as ada@example.com').waitFor({ timeout: 10_000 });
  assert.match(await page.getByTestId('following').textContent(), /1 so far/);
  await shot(page, '43-logs-follow');
  await page.getByLabel('Follow').uncheck();

  // Configuration: values and where they came from; secrets as set or unset only.
  await page.getByRole('link', { name: 'Configuration' }).click();
  const setting = (name) => page.getByTestId('config-table').getByRole('row')
    .filter({ has: page.locator('.setting-name .mono', { hasText: new RegExp(`^${name}$`) }) });
  await setting('jwt_secret_file').waitFor();
  // The secret itself is never shown; its file (generated in the data dir) is.
  assert.match(await setting('jwt_secret').textContent(), /unset/);
  assert.match(await setting('jwt_secret_file').textContent(), /jwt-secret/);
  assert.match(await setting('bind').textContent(), /environment/);
  await shot(page, '44-config');

  // 800 px: the pages stay inside the viewport.
  await page.setViewportSize({ width: 800, height: 900 });
  for (const [path, name] of [['/admin/system', 'system'], ['/admin/logs', 'logs'], ['/admin/stats', 'stats'], ['/admin/config', 'config']]) {
    await page.goto(server.url + path);
    await page.locator('.card').first().waitFor();
    await new Promise((r) => setTimeout(r, 300));
    await shot(page, `45-${name}-800`);
  }
  assert.deepEqual(errors, []);
});
