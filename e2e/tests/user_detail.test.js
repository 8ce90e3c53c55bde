// A user's detail page (issue 34): opened from the Users table, it shows the whole id, the
// memberships (add one, change a role), the live sessions (end one), two-factor (reset it), the
// user's API tokens (revoke one) and their audit trail both ways. What the page did is checked
// through the API; a holder of the Users page's read leaf alone opens it with no call refused.
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { test } from 'node:test';
import { api, PASSWORD, shot, signedInPage, signIn, useStack, VIEWER_ROLE } from './harness.js';

const stack = useStack();

/** The current TOTP code (RFC 6238: SHA-1, 30 s, 6 digits) of a base32 secret. */
function totp(secret) {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = '';
  for (const c of secret.replace(/=+$/, '').toUpperCase()) bits += alphabet.indexOf(c).toString(2).padStart(5, '0');
  const key = Buffer.from(bits.match(/.{8}/g).map((b) => parseInt(b, 2)));
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(Math.floor(Date.now() / 30_000)));
  const mac = createHmac('sha1', key).update(counter).digest();
  const offset = mac[mac.length - 1] & 0xf;
  return String((mac.readUInt32BE(offset) & 0x7fffffff) % 1_000_000).padStart(6, '0');
}

const confirm = async (page) => {
  const dialog = page.getByRole('dialog', { name: 'Confirm' });
  await dialog.getByRole('button', { name: 'Yes, do it' }).click();
  await dialog.waitFor({ state: 'hidden' });
};

test('user detail: memberships, sessions, 2FA reset, tokens, audit trail', async () => {
  const { server, chrome } = stack;
  const { access_token: admin } = await api(server, 'POST', '/api/setup', null, {
    email: 'ada@example.com', password: PASSWORD, name: 'Ada Admin',
  });
  const me = await api(server, 'GET', '/api/me', admin);
  const home = me.home_workspace.id;
  const support = await api(server, 'POST', `/api/customers/${me.customer.id}/workspaces`, admin, { name: 'Support' });
  const bob = await api(server, 'POST', '/api/users', admin, {
    email: 'bob@example.com', name: 'Bob Builder', password: PASSWORD, home_workspace_id: home, role_id: VIEWER_ROLE,
  });
  // Bob signs in (a session), makes an API token and turns on two-factor sign-in.
  const { access_token: bobToken } = await api(server, 'POST', '/api/auth/login', null, {
    email: 'bob@example.com', password: PASSWORD,
  });
  const [leaf] = (await api(server, 'GET', '/api/me', bobToken)).permissions;
  const { token: script } = await api(server, 'POST', '/api/me/tokens', bobToken, { name: 'deploy script', permissions: [leaf] });
  const { secret } = await api(server, 'POST', '/api/me/2fa/enrol', bobToken);
  await api(server, 'POST', '/api/me/2fa/verify', bobToken, { code: totp(secret) });

  const { page, errors } = await signedInPage(chrome, server, 'ada@example.com');
  await page.getByRole('link', { name: 'Users' }).click();
  await page.getByTestId('users-table').getByRole('link', { name: 'Bob Builder' }).click();
  await page.waitForURL(`${server.url}/admin/users/${bob.id}`);
  await page.getByTestId('user-name').getByText('Bob Builder').waitFor();
  assert.equal((await page.getByTestId('copy-id').textContent()).trim(), bob.id);

  // Memberships: the home workspace with its role; add Support as operator, then change it.
  const memberships = page.getByTestId('memberships');
  await memberships.locator('tr', { hasText: 'Home' }).waitFor();
  await page.getByRole('button', { name: 'Add to workspace' }).click();
  const add = page.getByRole('dialog', { name: 'Add to a workspace' });
  await add.getByLabel('Workspace').selectOption({ label: 'Support' });
  await add.getByLabel('Role there').selectOption({ label: 'operator' });
  await add.getByRole('button', { name: 'Add' }).click();
  await add.waitFor({ state: 'hidden' });
  await page.getByText('The membership was added.').waitFor();
  const inSupport = memberships.getByLabel('Role in Support');
  await inSupport.waitFor();
  assert.equal(await inSupport.locator('option:checked').textContent(), 'operator');
  await inSupport.selectOption({ label: 'viewer' });
  await page.getByText('The role was changed.').waitFor();
  const held = (await api(server, 'GET', `/api/users/${bob.id}`, admin)).workspaces;
  assert.deepEqual(
    held.map((m) => [m.workspace.name, m.role_name]).sort(),
    [[me.home_workspace.name, 'viewer'], ['Support', 'viewer']].sort(),
  );

  await shot(page, 'user-detail');
  // Sessions: Bob's one session, ended from here; his access token is refused from then on.
  const sessions = page.getByTestId('user-sessions');
  await sessions.getByRole('button', { name: 'End' }).click();
  await confirm(page);
  await sessions.getByText('No session: they are not signed in anywhere.').waitFor();
  const after = await fetch(server.url + '/api/me', { headers: { authorization: `Bearer ${bobToken}` } });
  assert.equal(after.status, 401);

  // Tokens: listed without the secret; revoked, and the script is refused.
  const tokens = page.getByTestId('user-tokens');
  const row = tokens.locator('tr', { hasText: 'deploy script' });
  await row.waitFor();
  assert.ok(!(await tokens.textContent()).includes(script), 'the secret is never shown');
  await page.getByRole('button', { name: 'Revoke deploy script' }).click();
  await confirm(page);
  await row.getByText('revoked').waitFor();
  const refused = await fetch(server.url + '/api/me', { headers: { authorization: `Bearer ${script}` } });
  assert.equal(refused.status, 401);

  // Two-factor: on, then reset by the admin (which also ends every session of his).
  const twoFactor = page.getByTestId('two-factor');
  await twoFactor.getByText('On', { exact: true }).waitFor();
  await twoFactor.getByRole('button', { name: 'Reset two-factor' }).click();
  await confirm(page);
  await twoFactor.getByText('Off', { exact: true }).waitFor();
  assert.equal((await api(server, 'GET', `/api/users/${bob.id}`, admin)).totp_enabled, false);

  // The audit trail: what Bob did, and what was done to him; the link opens the filtered log.
  const trail = page.getByTestId('user-trail');
  await trail.getByText('auth.login').first().waitFor();
  await trail.getByRole('tab', { name: 'Done to them' }).click();
  await trail.locator('td.action', { hasText: /2fa/ }).first().waitFor();
  await page.setViewportSize({ width: 800, height: 900 });
  await page.evaluate(() => window.scrollTo(0, 0));
  await page.waitForTimeout(400);
  await shot(page, 'user-detail-800');
  const scroll = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
  assert.ok(scroll <= 0, `the page scrolls sideways by ${scroll} px at 800`);
  await trail.getByRole('link', { name: /whole trail/ }).click();
  await page.waitForURL(`${server.url}/admin/audit?target_id=${bob.id}`);
  await page.getByTestId('audit-filter').getByText(`target id ${bob.id}`).waitFor();
  assert.deepEqual(errors, []);
  await page.close();

  // Delegation: the Users page's read leaf alone opens the detail; nothing it calls is refused,
  // and it offers no change.
  const reader = await api(server, 'POST', `/api/workspaces/${home}/roles`, admin, {
    name: 'Users reader', description: 'Only the Users page', patterns: ['steward.console.users.read'],
  });
  await api(server, 'POST', '/api/users', admin, {
    email: 'rita@example.com', name: 'Rita Reader', password: PASSWORD, home_workspace_id: home, role_id: reader.id,
  });
  const context = await chrome.browser.newContext({ viewport: { width: 1280, height: 800 } });
  const delegated = await context.newPage();
  const seen = [];
  delegated.on('response', (res) => {
    if (res.url().includes('/api/') && [401, 403].includes(res.status())) seen.push(`${new URL(res.url()).pathname} → ${res.status()}`);
  });
  await signIn(delegated, server, 'rita@example.com');
  await delegated.goto(`${server.url}/admin/users/${bob.id}`);
  await delegated.getByTestId('user-name').getByText('Bob Builder').waitFor();
  await delegated.waitForLoadState('networkidle');
  assert.deepEqual(seen, []);
  for (const name of ['Edit', 'Deactivate', 'Add to workspace', 'Reset password']) {
    assert.equal(await delegated.getByRole('button', { name, exact: true }).count(), 0, `${name} is not offered`);
  }
  assert.equal(await delegated.getByTestId('user-tokens').count(), 0);
  await context.close();

  // The page's write leaf: the detail offers the changes and its tokens, with no call refused.
  const writer = await api(server, 'POST', `/api/workspaces/${home}/roles`, admin, {
    name: 'Users writer', description: 'The Users page, read and write',
    patterns: ['steward.console.users.read', 'steward.console.users.write'],
  });
  await api(server, 'POST', '/api/users', admin, {
    email: 'wes@example.com', name: 'Wes Writer', password: PASSWORD, home_workspace_id: home, role_id: writer.id,
  });
  const wctx = await chrome.browser.newContext({ viewport: { width: 1280, height: 800 } });
  const wpage = await wctx.newPage();
  const wseen = [];
  wpage.on('response', (res) => {
    if (res.url().includes('/api/') && [401, 403].includes(res.status())) wseen.push(`${new URL(res.url()).pathname} → ${res.status()}`);
  });
  await signIn(wpage, server, 'wes@example.com');
  await wpage.goto(`${server.url}/admin/users/${bob.id}`);
  await wpage.getByTestId('user-tokens').locator('tr', { hasText: 'deploy script' }).waitFor();
  await wpage.getByRole('button', { name: 'Edit', exact: true }).waitFor();
  await wpage.waitForLoadState('networkidle');
  assert.deepEqual(wseen, []);
  await wctx.close();
});
