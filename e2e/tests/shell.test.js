// First launch → create admin → sign out → sign in → the shell with the admin section.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { shot, useStack } from './harness.js';

const stack = useStack();

test('first launch, sign out, sign in, admin shell', async () => {
  const { server, chrome } = stack;
  const page = await chrome.browser.newPage({ viewport: { width: 1280, height: 800 } });
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));

  await page.goto(server.url + '/');
  await page.waitForURL('**/setup');
  await page.getByRole('heading', { name: 'Create admin account' }).waitFor();
  await shot(page, '01-setup');

  // The server's validation problems are shown beside their fields.
  await page.getByLabel('Your name').fill('Ada Admin');
  await page.getByLabel('Email').fill('not-an-email');
  await page.getByLabel('Password').fill('short');
  await page.getByRole('button', { name: 'Create admin account' }).click();
  await page.getByText('must be a valid email address').waitFor();
  await page.getByText('must be at least 12 characters').waitFor();
  await shot(page, '02-setup-invalid');

  await page.getByLabel('Email').fill('ada@example.com');
  await page.getByLabel('Password').fill('correct horse battery staple');
  await page.getByRole('button', { name: 'Create admin account' }).click();
  await page.waitForURL(server.url + '/');
  await page.getByTestId('admin-section').waitFor();
  await page.getByTestId('kpis').waitFor();
  assert.equal(await page.locator('.account-email').textContent(), 'ada@example.com');
  await shot(page, '03-dashboard');
  await page.getByRole('link', { name: 'My account' }).click();
  await page.getByText('Your access').waitFor();
  await shot(page, '03-account');

  // Setup is gone once done.
  const again = await page.request.post(server.url + '/api/setup', {
    data: { email: 'x@example.com', password: 'correct horse battery staple', name: 'X' },
  });
  assert.equal(again.status(), 409);

  await page.getByRole('link', { name: 'System status' }).click();
  await page.getByTestId('system-kpis').waitFor();
  assert.match(await page.locator('.card-head .badge').first().textContent(), /sqlite/);
  await shot(page, '04-system');

  await page.getByRole('button', { name: 'Sign out' }).click();
  await page.waitForURL('**/login');

  // A wrong password shows the server's problem.
  await page.getByLabel('Email').fill('ada@example.com');
  await page.getByLabel('Password').fill('wrong password entirely');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('alert').getByText('The email or password is incorrect.').waitFor();
  await shot(page, '05-login-refused');

  await page.getByLabel('Password').fill('correct horse battery staple');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL(server.url + '/');
  await page.getByTestId('admin-section').waitFor();

  // A deep link survives a reload (served index.html, session kept).
  await page.goto(server.url + '/admin/system');
  await page.getByTestId('system-kpis').waitFor();
  assert.deepEqual(errors, []);
});
