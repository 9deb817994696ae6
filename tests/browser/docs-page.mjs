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
import { launchChromium } from './chromium.mjs';

const [url] = process.argv.slice(2);
if (!url) {
  console.error('usage: docs-page.mjs URL');
  process.exit(2);
}
const { browser, close } = await launchChromium();
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
  await close();
}
console.log(JSON.stringify(error ? { error, ...seen } : { operations, title, ...seen }));
process.exit(operations > 0 ? 0 : 1);
