// The Outbox page (issue 34): a reset mail the SMTP server never took is tried, then given up
// on (failed, with the last error); its stored body shows no working link; Resend queues it
// again and, with the SMTP server up, it leaves and the row says sent.
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import {
  api, freePort, listening, PASSWORD, shot, signedInPage, smtpEnv, startBrowser, startServer, startSmtp,
} from './harness.js';

const stack = {};
before(async () => {
  // The SMTP server is down at first: nothing listens on its port.
  stack.smtpPort = await freePort();
  stack.maildir = mkdtempSync(join(tmpdir(), 'steward-mail-'));
  stack.server = await startServer(smtpEnv(stack.smtpPort));
  stack.chrome = await startBrowser();
});
after(async () => {
  await stack.chrome?.stop();
  await stack.server?.stop();
  stack.smtp?.kill();
  rmSync(stack.maildir, { recursive: true, force: true });
});

/** Clicks Reload until the row of `to` shows `status` (the outbox works in the background). */
async function waitForStatus(page, to, status, limit = 40_000) {
  const row = page.getByTestId('outbox-table').locator('tr', { hasText: to }).first();
  const deadline = Date.now() + limit;
  for (;;) {
    if ((await row.locator('.badge').first().textContent().catch(() => '')) === status) return row;
    if (Date.now() > deadline) assert.fail(`the mail to ${to} did not become ${status}`);
    await page.getByRole('button', { name: 'Reload' }).click();
    await page.waitForTimeout(500);
  }
}

test('outbox: a failed mail, its stored body, resend', async () => {
  const { server, chrome } = stack;
  const { access_token: admin } = await api(server, 'POST', '/api/setup', null, {
    email: 'ada@example.com', password: PASSWORD, name: 'Ada Admin',
  });
  const me = await api(server, 'GET', '/api/me', admin);
  // No password: a single-use link to set one is mailed.
  await api(server, 'POST', '/api/users', admin, {
    email: 'mo@example.com', name: 'Mo Mailless', home_workspace_id: me.home_workspace.id,
    role_id: '00000000-0000-7000-8000-000000000003',
  });

  const { page, errors } = await signedInPage(chrome, server, 'ada@example.com');
  await page.getByRole('link', { name: 'Outbox' }).click();
  await page.waitForURL(server.url + '/admin/outbox');
  const row = await waitForStatus(page, 'mo@example.com', 'failed');
  assert.equal((await row.locator('td.num').textContent()).trim(), '5');
  assert.match(await row.textContent(), /refused|connect/i);
  await row.click();
  const body = await page.getByTestId('mail-body').textContent();
  assert.match(body, /reset-password\?token=\[single-use token/);
  await shot(page, 'outbox-failed');

  // The SMTP server comes up; Resend sends it.
  stack.smtp = startSmtp(stack.smtpPort, stack.maildir);
  await listening(stack.smtpPort);
  await row.getByRole('button', { name: 'Resend' }).click();
  await page.getByText('The mail to mo@example.com will be sent again.').waitFor();
  await waitForStatus(page, 'mo@example.com', 'sent');
  const delivered = ['new', 'cur'].flatMap((d) => { try { return readdirSync(join(stack.maildir, 'mail', d)); } catch { return []; } });
  assert.equal(delivered.length, 1);
  await shot(page, 'outbox-sent');
  assert.deepEqual(errors, []);
});
