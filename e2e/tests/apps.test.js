// Applications (seed 004): install a bundle from an archive with a broken model (the rest
// installs, the import error's detail opens on click), install from a Git branch and pin an
// older commit, search the packages, and delete with the typed name.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { PASSWORD, api, shot, signIn, useStack } from './harness.js';

const stack = useStack({ STEWARD_ALLOW_FILE_GIT: 'true' });

function writeTree(root, files) {
  for (const [path, body] of Object.entries(files)) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), body);
  }
}

const manifest = (name, version, requires = {}) =>
  JSON.stringify({ name, version, description: `${name}: syncs leads from the CRM`, requires });
const lead = JSON.stringify({ title: 'Lead', type: 'object', required: ['name'], properties: { name: { type: 'string' } } });
const template = JSON.stringify({ label: 'Clean leads', entity_type: 'lead', steps: [{ kind: 'validate' }, { kind: 'hash' }, { kind: 'dedupe' }] });

function bundle(files) {
  const dir = mkdtempSync(join(tmpdir(), 'steward-bundle-'));
  writeTree(join(dir, 'app'), files);
  const out = join(dir, 'app.tar.gz');
  execFileSync('tar', ['czf', out, '-C', dir, 'app']);
  return out;
}

function git(cwd, ...args) {
  execFileSync('git', args, { cwd, env: { ...process.env, GIT_AUTHOR_NAME: 'Grace Hopper', GIT_AUTHOR_EMAIL: 'grace@example.com', GIT_COMMITTER_NAME: 'Grace Hopper', GIT_COMMITTER_EMAIL: 'grace@example.com' } });
}

test('install from an archive and from Git, import errors, packages, delete', async () => {
  const { server, chrome } = stack;
  await api(server, 'POST', '/api/setup', null, { email: 'ada@example.com', password: PASSWORD, name: 'Ada Admin' });
  const page = await chrome.browser.newPage({ viewport: { width: 1280, height: 800 } });
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await signIn(page, server, 'ada@example.com');

  // Install a bundle: one model is broken, the rest installs.
  const archive = bundle({
    'steward.json': manifest('crm-sync', '1.0.0', { leadlib: '^1.2', httpx: '>=0.27, <0.29' }),
    'models/lead.json': lead,
    'models/opportunity.json': '{ "type": "object", "properties": { "amount": ',
    'flows/clean_leads.json': template,
    'connectors/crm_api.json': JSON.stringify({ label: 'CRM API', health: { path: '/health' } }),
    'packages/leadlib/1.2.0/leadlib/__init__.py': "VERSION = '1.2.0'\n",
  });
  await page.getByRole('link', { name: 'Applications' }).click();
  await page.getByText('No applications installed yet').waitFor();
  await page.getByTestId('install-open').click();
  await page.getByTestId('bundle-file').setInputFiles(archive);
  await shot(page, '60-apps-install-dialog');
  await page.getByTestId('install-submit').click();
  const report = page.getByTestId('install-report');
  await report.waitFor();
  assert.match(await report.textContent(), /crm-sync 1\.0\.0 installed: 1 models, 1 flow templates, 1 connector kinds, 1 packages\. 2 import errors/);
  await page.getByTestId('applications-table').getByRole('link', { name: 'crm-sync' }).waitFor();
  await shot(page, '61-apps-list');

  // Import errors: worst first; the detail opens on click.
  await report.getByRole('link', { name: /import errors/ }).click();
  const table = page.getByTestId('import-errors-table');
  await table.locator('tbody tr').first().waitFor();
  assert.equal(await table.locator('tbody tr').count(), 2);
  await table.getByText('models/opportunity.json').click();
  const detail = page.getByTestId('import-error-detail');
  await detail.waitFor();
  assert.match(await detail.textContent(), /line \d+/);
  await shot(page, '62-import-error-detail');

  // Packages: search.
  await page.getByRole('link', { name: 'Packages' }).click();
  const pkgs = page.getByTestId('packages-table');
  await pkgs.getByText('leadlib', { exact: true }).waitFor();
  await page.getByTestId('packages-search').fill('zzz');
  await page.getByText('No packages').waitFor();
  await page.getByTestId('packages-search').fill('lead');
  await pkgs.getByText('crm-sync').waitFor();
  await shot(page, '63-packages');

  // From Git: two commits, install the head, pin the first.
  const repo = mkdtempSync(join(tmpdir(), 'steward-repo-'));
  git(repo, 'init', '-q', '-b', 'main');
  writeTree(repo, { 'steward.json': manifest('lead-scoring', '0.1.0'), 'models/score_card.json': JSON.stringify({ type: 'object', title: 'Score card' }) });
  git(repo, 'add', '-A');
  git(repo, 'commit', '-q', '-m', 'First scoring model');
  writeTree(repo, { 'steward.json': manifest('lead-scoring', '0.2.0') });
  git(repo, 'commit', '-q', '-am', 'Score by stage');
  await page.getByRole('link', { name: 'Applications' }).click();
  await page.getByTestId('install-open').click();
  await page.getByRole('tab', { name: 'From Git' }).click();
  await page.getByLabel('Repository URL').fill(`file://${repo}`);
  await page.getByLabel('Branch').fill('main');
  await page.getByTestId('install-submit').click();
  await page.getByTestId('install-report').getByText('lead-scoring 0.2.0').waitFor();
  await page.getByTestId('applications-table').getByRole('link', { name: 'lead-scoring' }).click();
  const commits = page.getByTestId('commits-table');
  await commits.getByText('First scoring model').waitFor();
  await shot(page, '64-app-detail-git');
  await commits.locator('tr', { hasText: 'First scoring model' }).getByRole('button', { name: 'Pin this commit' }).click();
  await page.getByTestId('app-title').getByText('0.1.0').waitFor();
  assert.equal(await page.getByTestId('versions-table').locator('tbody tr').count(), 2);

  // Delete: the button stays disabled until the name is typed.
  await page.getByTestId('delete-open').click();
  const confirm = page.getByTestId('delete-confirm');
  assert.equal(await confirm.isDisabled(), true);
  await page.getByLabel(/Type lead-scoring/).fill('lead-scoring');
  await shot(page, '65-app-delete');
  await confirm.click();
  await page.waitForURL(server.url + '/admin/applications');
  await page.getByTestId('applications-table').getByRole('link', { name: 'crm-sync' }).waitFor();
  assert.equal(await page.getByTestId('applications-table').getByText('lead-scoring').count(), 0);
  assert.deepEqual(errors, []);
});
