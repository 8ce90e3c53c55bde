#!/usr/bin/env node
// The console's weight and first paint on a slow link (issue 32's goals), measured from outside:
// each file a cold /login loads and each lazily loaded part in raw, gzip and brotli bytes, and in headless Chromium
// with the DevTools protocol's network emulation (default 1.6 Mbit/s down, 750 kbit/s up,
// 150 ms round trip, a cold cache) the time until the loading shell shows and until the sign-in
// form does. Runs the server binary it is given (STEWARD_BIN, default target/release/
// steward-server, the console built into it) on a fresh data directory.
//
//   node e2e/bench-console.js [--runs 3] [--down-kbps 1600] [--up-kbps 750] [--rtt-ms 150]
import { parseArgs } from 'node:util';
import { join } from 'node:path';
import { ROOT, startBrowser, startServer } from './tests/harness.js';

const { values: opts } = parseArgs({
  options: {
    runs: { type: 'string', default: '3' },
    'down-kbps': { type: 'string', default: '1600' },
    'up-kbps': { type: 'string', default: '750' },
    'rtt-ms': { type: 'string', default: '150' },
  },
});
process.env.STEWARD_BIN ??= join(ROOT, 'target', 'release', 'steward-server');

const server = await startServer();
const chrome = await startBrowser();
try {
  // What a cold /login loads (the page, what it names, the split module's link script the app's
  // script imports), and the parts split off the main module, fetched when their page opens.
  const html = await (await fetch(`${server.url}/login`)).text();
  const named = [...html.matchAll(/(?:href=|src=|from |module_or_path: )["'](\/[^"']+\.(?:js|wasm|css))["']/g)].map((m) => m[1]);
  const scripts = named.filter((p) => p.endsWith('.js'));
  const linked = [];
  const lazy = [];
  for (const script of scripts) {
    const text = await (await fetch(server.url + script)).text();
    for (const m of text.matchAll(/from ["']\.\/([^"']+-split\.js)["']/g)) linked.push(`/${m[1]}`);
  }
  for (const link of linked) {
    const text = await (await fetch(server.url + link)).text();
    for (const m of text.matchAll(/["']\.\/([^"']+\.wasm)["']/g)) lazy.push(`/${m[1]}`);
  }
  const measure = async (paths) => {
    const rows = [];
    for (const path of [...new Set(paths)]) {
      const row = { path };
      for (const [name, accept] of [['raw', 'identity'], ['gzip', 'gzip'], ['br', 'br']]) {
        const res = await fetch(server.url + path, { headers: { 'accept-encoding': accept }, decompress: false });
        // fetch decodes bodies; the Content-Length header is the size on the wire.
        row[name] = Number(res.headers.get('content-length'));
        await res.arrayBuffer();
      }
      rows.push(row);
    }
    return rows;
  };
  const sizes = await measure(['/login', ...named, ...linked]);
  const parts = await measure(lazy);

  // Cold loads of /login on the emulated link.
  const timings = [];
  for (let i = 0; i < Number(opts.runs); i++) {
    const context = await chrome.browser.newContext();
    const page = await context.newPage();
    const cdp = await context.newCDPSession(page);
    await cdp.send('Network.enable');
    await cdp.send('Network.setCacheDisabled', { cacheDisabled: true });
    await cdp.send('Network.emulateNetworkConditions', {
      offline: false,
      latency: Number(opts['rtt-ms']),
      downloadThroughput: (Number(opts['down-kbps']) * 1000) / 8,
      uploadThroughput: (Number(opts['up-kbps']) * 1000) / 8,
    });
    const started = Date.now();
    const shell = page.locator('#boot').waitFor({ state: 'visible', timeout: 60_000 }).then(() => Date.now() - started);
    const form = page.getByRole('button', { name: /Sign in|Create admin account/ }).waitFor({ timeout: 60_000 }).then(() => Date.now() - started);
    await page.goto(`${server.url}/login`, { waitUntil: 'commit' });
    timings.push({ shell: await shell.catch(() => NaN), form: await form });
    await context.close();
  }

  const kb = (n) => (n / 1000).toFixed(1);
  console.log('| file | raw KB | gzip KB | brotli KB |');
  console.log('| --- | ---: | ---: | ---: |');
  for (const r of sizes) console.log(`| \`${r.path.replace(/-[0-9a-f]{16}/, '-<hash>')}\` | ${kb(r.raw)} | ${kb(r.gzip)} | ${kb(r.br)} |`);
  const total = (rows, k) => rows.reduce((s, r) => s + r[k], 0);
  console.log(`| **a cold \`/login\`** | ${kb(total(sizes, 'raw'))} | ${kb(total(sizes, 'gzip'))} | ${kb(total(sizes, 'br'))} |`);
  console.log(`| the ${parts.length} lazily loaded part(s): the signed-in pages, fetched in the background once the app is up | ${kb(total(parts, 'raw'))} | ${kb(total(parts, 'gzip'))} | ${kb(total(parts, 'br'))} |`);
  const all = [...sizes, ...parts];
  console.log(`| **the whole console** | ${kb(total(all, 'raw'))} | ${kb(total(all, 'gzip'))} | ${kb(total(all, 'br'))} |`);
  const largest = [...parts].sort((a, b) => b.br - a.br).slice(0, 5);
  if (largest.length) {
    console.log('');
    console.log(`Largest parts (brotli KB): ${largest.map((r) => `${r.path.replace(/-[0-9a-f]{16}/, '')} ${kb(r.br)}`).join(', ')}`);
  }
  const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  console.log('');
  console.log(`Cold /login at ${opts['down-kbps']} kbit/s down, ${opts['rtt-ms']} ms RTT (median of ${timings.length}):`
    + ` loading shell ${median(timings.map((t) => t.shell))} ms, sign-in form ${median(timings.map((t) => t.form))} ms`
    + ` (runs: ${timings.map((t) => `${t.shell}/${t.form}`).join(', ')})`);
} finally {
  await chrome.stop();
  await server.stop();
}
