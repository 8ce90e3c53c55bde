// Settings changed at run time (issue 34): a bad value is refused beside its field; saved
// values are in effect at once (a new password is held to the new minimum), marked "changed"
// with their boot value, audited, and shown as the source on the Configuration page; Reset
// returns one to its boot value.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { api, PASSWORD, shot, signedInPage, useStack, VIEWER_ROLE } from './harness.js';

const stack = useStack();

test('settings: refused by field, saved, in effect, audited, reset', async () => {
  const { server, chrome } = stack;
  const { access_token: admin } = await api(server, 'POST', '/api/setup', null, {
    email: 'ada@example.com', password: PASSWORD, name: 'Ada Admin',
  });
  const home = (await api(server, 'GET', '/api/me', admin)).home_workspace.id;
  const { page, errors } = await signedInPage(chrome, server, 'ada@example.com');
  await page.getByRole('link', { name: 'Settings' }).click();
  await page.waitForURL(server.url + '/admin/settings');
  const form = page.getByTestId('settings-form');
  await form.getByLabel('View as limit').waitFor();
  assert.equal(await form.getByLabel('View as limit').inputValue(), '60');
  await shot(page, 'settings');

  // Out of bounds: refused beside the field, nothing stored.
  await form.getByLabel('View as limit').fill('0');
  await form.getByRole('button', { name: 'Save settings' }).click();
  await form.locator('.field-error', { hasText: '1 to 480 minutes' }).waitFor();
  assert.deepEqual((await api(server, 'GET', '/api/settings', admin)).overridden, []);

  // Saved: View as 15 minutes, access tokens 5 minutes, passwords of 16 characters at least.
  await form.getByLabel('View as limit').fill('15');
  await form.getByLabel('Access token lifetime').fill('5');
  await form.getByLabel('Minimum password length').fill('16');
  await form.getByRole('button', { name: 'Save settings' }).click();
  await page.getByText('Saved: every replica applies it within a second.').waitFor();
  await form.locator('.setting', { hasText: 'View as limit' }).getByText('changed').waitFor();
  assert.match(await form.locator('.setting', { hasText: 'Access token lifetime' }).textContent(), /Boot value: 15 minutes/);
  const stored = await api(server, 'GET', '/api/settings', admin);
  assert.deepEqual(
    [stored.effective.impersonation_minutes, stored.effective.access_token_ttl_secs, stored.effective.password_min_length],
    [15, 300, 16],
  );
  await shot(page, 'settings-changed');

  // In effect at once: a 14-character password is now too short; a sign-in gets 5-minute tokens.
  const res = await fetch(server.url + '/api/users', {
    method: 'POST',
    headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' },
    body: JSON.stringify({ email: 'bo@example.com', name: 'Bo', password: 'fourteen chars', home_workspace_id: home, role_id: VIEWER_ROLE }),
  });
  assert.equal(res.status, 422);
  assert.equal((await res.json()).errors[0].message, 'must be at least 16 characters');
  const login = await api(server, 'POST', '/api/auth/login', null, { email: 'ada@example.com', password: PASSWORD });
  assert.equal(login.expires_in, 300);

  // Audited with before and after; the Configuration page names the source.
  const events = await api(server, 'GET', '/api/audit?action=settings.update', admin);
  assert.equal(events.items.length, 1);
  assert.deepEqual(events.items[0].summary.after, { access_token_ttl_secs: 300, impersonation_minutes: 15, password_min_length: 16 });
  await page.getByRole('link', { name: 'Configuration' }).click();
  const row = page.getByTestId('config-table').locator('tr', { hasText: 'access_token_ttl_secs' });
  await row.getByText('settings', { exact: true }).waitFor();
  assert.match(await row.textContent(), /boot value 900/);

  // Reset: back to the boot value.
  await page.getByRole('link', { name: 'Settings' }).click();
  await form.locator('.setting', { hasText: 'Access token lifetime' }).getByRole('button', { name: 'Reset' }).click();
  await page.getByText('Back to its boot value.').waitFor();
  await page.waitForFunction(() => document.querySelector('#setting-access_token_ttl_secs')?.value === '15');
  assert.equal((await api(server, 'GET', '/api/settings', admin)).effective.access_token_ttl_secs, 900);
  await page.setViewportSize({ width: 800, height: 900 });
  await page.waitForTimeout(300);
  await shot(page, 'settings-800');
  const scroll = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
  assert.ok(scroll <= 0, `the page scrolls sideways by ${scroll} px at 800`);
  assert.deepEqual(errors, []);
  await page.close();
});
