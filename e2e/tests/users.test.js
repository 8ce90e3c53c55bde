// Users console: create a user without a password → the reset mail arrives through a real
// SMTP server (aiosmtpd) → the link sets a password → deactivate → sign-in refused; then a
// bulk action whose skipped rows are shown with their reasons.
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import {
  api, freePort, PASSWORD, shot, signIn, smtpEnv, startBrowser, startServer, startSmtp, VIEWER_ROLE,
} from './harness.js';

const stack = {};
before(async () => {
  stack.smtpPort = await freePort();
  stack.maildir = mkdtempSync(join(tmpdir(), 'steward-mail-'));
  stack.smtp = startSmtp(stack.smtpPort, stack.maildir);
  stack.server = await startServer(smtpEnv(stack.smtpPort));
  stack.chrome = await startBrowser();
});
after(async () => {
  await stack.chrome?.stop();
  await stack.server?.stop();
  stack.smtp?.kill();
  rmSync(stack.maildir, { recursive: true, force: true });
});

/** Waits for a mail to `to` in the SMTP server's maildir; returns its decoded text. */
async function mailTo(to) {
  const deadline = Date.now() + 20_000;
  for (;;) {
    for (const sub of ['new', 'cur']) {
      let names = [];
      try { names = readdirSync(join(stack.maildir, 'mail', sub)); } catch { /* not yet */ }
      for (const name of names) {
        const text = readFileSync(join(stack.maildir, 'mail', sub, name), 'utf8');
        if (text.includes(`To: ${to}`)) return text.replace(/=\r?\n/g, '').replace(/=3D/g, '=');
      }
    }
    if (Date.now() > deadline) throw new Error(`no mail to ${to} within 20 s`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

test('create → reset mail → deactivate → sign-in refused; bulk with skipped rows', async () => {
  const { server, chrome } = stack;
  const { access_token: admin } = await api(server, 'POST', '/api/setup', null, {
    email: 'ada@example.com', password: PASSWORD, name: 'Ada Admin',
  });
  const me = await api(server, 'GET', '/api/me', admin);
  await api(server, 'POST', '/api/users', admin, {
    email: 'bob@example.com', name: 'Bob Builder', password: PASSWORD, home_workspace_id: me.home_workspace.id, role_id: VIEWER_ROLE,
  });

  const context = await chrome.browser.newContext({ viewport: { width: 1400, height: 900 } });
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await signIn(page, server, 'ada@example.com');
  await page.getByRole('link', { name: 'Users' }).click();
  await page.getByTestId('users-table').getByText('bob@example.com').waitFor();
  await page.getByTestId('user-metrics').getByText('2', { exact: true }).first().waitFor();
  await shot(page, '40-users');

  // Create without a password: the server mails a link.
  await page.getByTestId('new-user').click();
  const dialog = page.locator('dialog[open]');
  await dialog.getByLabel('Email').fill('cleo@example.com');
  await dialog.getByLabel('Name').fill('Cleo Clerk');
  await dialog.getByLabel('Role there').selectOption({ label: 'viewer' });
  await shot(page, '41-user-create');
  await dialog.getByRole('button', { name: 'Create user' }).click();
  await page.getByText('cleo@example.com was created; a link to set a password is on its way.').waitFor();
  await page.getByTestId('users-table').getByText('cleo@example.com').waitFor();

  const mail = await mailTo('cleo@example.com');
  const link = mail.match(/http:\/\/[^\s]+\/reset-password\?token=[A-Za-z0-9_-]+/)?.[0];
  assert.ok(link, `a reset link in:\n${mail}`);
  assert.ok(link.startsWith(server.url + '/reset-password?token='), link);

  // The link, opened by Cleo (own browser context), sets her password.
  const cleoContext = await chrome.browser.newContext({ viewport: { width: 1200, height: 800 } });
  const cleo = await cleoContext.newPage();
  await cleo.goto(link);
  await cleo.getByLabel('New password').fill('cleo chooses this one');
  await cleo.getByRole('button', { name: 'Set password' }).click();
  await cleo.getByText('Your password is set.').waitFor();
  await shot(cleo, '42-password-set');
  await signIn(cleo, server, 'cleo@example.com', 'cleo chooses this one');

  // Deactivate Cleo: her open session dies and she cannot sign in again.
  const row = page.getByTestId('users-table').locator('tr', { hasText: 'cleo@example.com' });
  // Beyond Edit and View as, a row's actions are in its menu: it opens with focus on the
  // first item, Escape closes it and gives focus back, and a chosen item runs.
  const more = row.getByRole('button', { name: 'More actions for cleo@example.com' });
  await more.click();
  assert.equal(await more.getAttribute('aria-expanded'), 'true');
  const menu = page.getByRole('menu');
  assert.deepEqual((await menu.getByRole('menuitem').allTextContents()).map((t) => t.trim()), ['Deactivate', 'Reset password', 'Delete']);
  assert.equal(await page.evaluate(() => document.activeElement?.textContent?.trim()), 'Deactivate');
  await shot(page, '41b-row-menu');
  await page.keyboard.press('Escape');
  await menu.waitFor({ state: 'detached' });
  assert.equal(await page.evaluate(() => document.activeElement?.getAttribute('aria-label')), 'More actions for cleo@example.com');
  await more.click();
  await menu.getByRole('menuitem', { name: 'Deactivate' }).click();
  await page.getByText('Cleo Clerk is now inactive.').waitFor();
  await row.getByText('inactive').waitFor();
  await cleo.goto(server.url + '/');
  await cleo.waitForURL('**/login');
  await cleo.getByLabel('Email').fill('cleo@example.com');
  await cleo.getByLabel('Password').fill('cleo chooses this one');
  await cleo.getByRole('button', { name: 'Sign in' }).click();
  await cleo.getByText('This account is deactivated.').waitFor();
  await shot(cleo, '43-login-refused');
  await cleoContext.close();

  // Bulk: select everyone, deactivate. Bob goes; Cleo (already inactive) and Ada (yourself) are skipped.
  await page.getByRole('checkbox', { name: 'Select all on this page' }).check();
  await page.getByTestId('bulk-bar').getByText('3 selected').waitFor();
  await page.getByTestId('bulk-bar').getByRole('button', { name: 'Deactivate' }).click();
  const report = page.getByTestId('bulk-report');
  await report.getByText('1 deactivated, 2 skipped.').waitFor();
  const skipped = await report.getByTestId('skipped').textContent();
  assert.match(skipped, /yourself/);
  assert.match(skipped, /already_inactive/);
  await page.getByTestId('users-table').locator('tr', { hasText: 'bob@example.com' }).getByText('inactive').waitFor();
  await shot(page, '44-bulk-skipped');

  // The inactive segment shows both; the metrics agree.
  await page.getByRole('tab', { name: 'Inactive' }).click();
  await page.waitForFunction(() => document.querySelectorAll('[data-testid=users-table] tbody tr').length === 2);
  await page.getByTestId('users-table').getByText('bob@example.com').waitFor();

  // Seed 002's Active toggle: created inactive, mailed nothing.
  await page.getByTestId('new-user').click();
  await dialog.getByLabel('Email').fill('quinn@example.com');
  await dialog.getByLabel('Name').fill('Quinn Quiet');
  await dialog.getByLabel('Role there').selectOption({ label: 'viewer' });
  await dialog.getByLabel(/^Active/).uncheck();
  await dialog.getByRole('button', { name: 'Create user' }).click();
  await page.getByText('quinn@example.com was created inactive: activate them to let them sign in.').waitFor();
  await page.getByTestId('users-table').locator('tr', { hasText: 'quinn@example.com' }).getByText('inactive').waitFor();
  const quinn = await api(server, 'GET', '/api/outbox', admin);
  assert.equal(quinn.items.filter((m) => m.to_address === 'quinn@example.com').length, 0);

  assert.deepEqual(errors, []);
  await context.close();
});

test('my account: 2FA enrolment shows a QR code, API tokens are shown once', async () => {
  const { server, chrome } = stack;
  const page = await chrome.browser.newPage({ viewport: { width: 1400, height: 1100 } });
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await signIn(page, server, 'ada@example.com');
  await page.getByRole('link', { name: 'My account' }).click();
  await page.getByRole('button', { name: 'Set up 2FA' }).click();
  await page.getByTestId('totp-secret').waitFor();
  assert.equal(await page.locator('.qr svg').count(), 1);
  await page.getByTestId('api-tokens').getByLabel('Name').fill('nightly export');
  await page.getByTestId('api-tokens').getByText('steward.audit.export').click();
  await page.getByRole('button', { name: 'Create token' }).click();
  const token = (await page.getByTestId('new-token').locator('.secret').textContent()).trim();
  assert.match(token, /^stw_/);
  const res = await fetch(server.url + '/api/audit?limit=1', { headers: { authorization: `Bearer ${token}` } });
  assert.equal(res.status, 403, 'the token holds only steward.audit.export');
  await page.getByTestId('api-tokens').locator('tbody tr', { hasText: 'nightly export' }).waitFor();
  await shot(page, '45-account-security');

  // Invitations and sessions pages: invite from the page, see the live sessions.
  await page.getByRole('link', { name: 'Invitations' }).click();
  await page.getByLabel('Email').fill('dana@example.com');
  await page.getByLabel('Role', { exact: true }).selectOption({ label: 'operator' });
  await page.getByRole('button', { name: 'Send invitation' }).click();
  await page.getByTestId('invitations-table').getByText('dana@example.com').waitFor();
  await shot(page, '46-invitations');
  await page.getByRole('link', { name: 'Sessions' }).click();
  await page.getByTestId('sessions-table').getByText('This session').waitFor();
  await shot(page, '47-sessions');
  assert.deepEqual(errors, []);
  await page.close();
});
