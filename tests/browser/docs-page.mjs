// docs-page.mjs - the /docs page in a real browser (Debian's headless
// Chromium, driven by puppeteer-core), as an API user opens it:
//
//   node docs-page.mjs URL
//
// Loads URL (the daemon's /docs), waits for Swagger UI to list the
// operations of /openapi.json, and prints one JSON line: {operations (how
// many the page lists), title (the document's, as shown), console (every
// console error and uncaught exception), failed (every request that failed
// or was answered 4xx/5xx), csp (every Content-Security-Policy violation)}
// or {error}. Exit 0 when the page listed operations; the shell test
// judges the rest.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import puppeteer from 'puppeteer-core';

const [url] = process.argv.slice(2);
if (!url) {
  console.error('usage: docs-page.mjs URL');
  process.exit(2);
}
const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'gh-chromium-'));
// Without the background-networking switches Chromium keeps calling home,
// and the test machines have no way out.
const browser = await puppeteer.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  headless: true,
  userDataDir: profile,
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
const seen = { console: [], failed: [], csp: [] };
let operations = 0;
let title = '';
let error = null;
try {
  const tab = await browser.newPage();
  tab.setDefaultTimeout(30000);
  tab.on('console', (m) => {
    if (m.type() === 'error') seen.console.push(m.text());
    if (/Content Security Policy/i.test(m.text())) seen.csp.push(m.text());
  });
  tab.on('pageerror', (e) => seen.console.push(String(e.message || e)));
  tab.on('requestfailed', (r) => seen.failed.push(`${r.url()}: ${r.failure()?.errorText}`));
  tab.on('response', (r) => { if (r.status() >= 400) seen.failed.push(`${r.url()}: ${r.status()}`); });
  await tab.goto(url, { waitUntil: 'networkidle0' });
  await tab.waitForSelector('.opblock');
  // every tag's section is open by default (docExpansion "list")
  operations = await tab.$$eval('.opblock', (els) => els.length);
  title = await tab.$eval('.info .title', (e) => e.textContent);
} catch (e) {
  error = String(e.message || e);
} finally {
  await browser.close();
  fs.rmSync(profile, { recursive: true, force: true });
}
console.log(JSON.stringify(error ? { error, ...seen } : { operations, title, ...seen }));
process.exit(operations > 0 ? 0 : 1);
