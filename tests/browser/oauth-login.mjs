// oauth-login.mjs - one sign-in with an OAuth provider in a real browser
// (Debian's headless Chromium, driven by puppeteer-core), as a user of a
// web application on another origin does it:
//
//   node oauth-login.mjs START APP_PORT LOGIN
//     START     the daemon's GET /api/v1/oauth/{name}?redirect_to=<the app>
//     APP_PORT  where this script serves the application (its /done page
//               is the redirect_to: http://localhost:APP_PORT/done)
//     LOGIN     the account to sign in as at the provider's login page
//
// The browser follows START to the provider, signs in and consents on the
// provider's own pages (oidc-provider's login and consent forms; a
// provider that asks nothing, as the Facebook stand-in, redirects at
// once), comes back through the daemon's callback to the application,
// whose page exchanges the one-time code at POST /api/v1/oauth/exchange
// and reads GET /api/v1/users/me with the access token, cross-origin
// (CORS), as a single-page application would.
//
// Prints one JSON line: {landed (the URL the application was sent to),
// result (what the page got: {status, id, email, amr} or {error,
// status?})}. The daemon's __Host- cookie is proved by the flow itself: a
// browser that had not kept it would be refused at the callback. Exit 0
// when the page ended with a result, 1 otherwise; the shell test judges
// the result.
import http from 'node:http';
import { launchChromium } from './chromium.mjs';

const [start, appPort, login] = process.argv.slice(2);
if (!start || !appPort || !login) {
  console.error('usage: oauth-login.mjs START APP_PORT LOGIN');
  process.exit(2);
}
const daemon = new URL(start).origin;
const app = `http://localhost:${appPort}`;

// The application: one page that finishes the sign-in.
const page = `<!doctype html><title>app</title><pre id="result"></pre><script>
(async () => {
  const out = document.getElementById('result');
  const q = new URLSearchParams(location.search);
  if (q.get('error')) { out.textContent = JSON.stringify({ error: q.get('error') }); return; }
  let r = await fetch(${JSON.stringify(daemon)} + '/api/v1/oauth/exchange', {
    method: 'POST', headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ code: q.get('code') }) });
  const tokens = await r.json();
  if (!r.ok || !tokens.access_token) {
    out.textContent = JSON.stringify({ status: r.status, error: tokens.code || tokens.error || 'exchange' });
    return;
  }
  const claims = JSON.parse(atob(tokens.access_token.split('.')[1].replace(/-/g, '+').replace(/_/g, '/')));
  r = await fetch(${JSON.stringify(daemon)} + '/api/v1/users/me', {
    headers: { Authorization: 'Bearer ' + tokens.access_token } });
  const me = await r.json();
  out.textContent = JSON.stringify({ status: r.status, id: me.id, email: me.email, amr: claims.amr });
})().catch((e) => { document.getElementById('result').textContent = JSON.stringify({ error: String(e) }); });
</script>`;
const server = http.createServer((req, res) => {
  if (req.url.startsWith('/done')) res.writeHead(200, { 'Content-Type': 'text/html' }).end(page);
  else res.writeHead(404).end();
});
await new Promise((ok) => server.listen(Number(appPort), '127.0.0.1', ok));

const { browser, close } = await launchChromium();
let landed = '';
let result = null;
try {
  const tab = await browser.newPage();
  tab.setDefaultTimeout(15000);
  await tab.goto(start, { waitUntil: 'load' });
  // the provider's pages, until the browser is back at the application
  for (let step = 0; step < 6 && !tab.url().startsWith(app); step++) {
    const submit = await tab.$('button[type=submit], input[type=submit]');
    if (!submit) throw new Error(`a page with nothing to submit: ${tab.url()}`);
    if (await tab.$('input[name=login]')) {
      await tab.type('input[name=login]', login);
      if (await tab.$('input[name=password]')) await tab.type('input[name=password]', 'any');
    }
    await Promise.all([tab.waitForNavigation({ waitUntil: 'load' }), submit.click()]);
  }
  landed = tab.url();
  if (landed.startsWith(app)) {
    await tab.waitForFunction(() => document.getElementById('result')?.textContent);
    result = JSON.parse(await tab.$eval('#result', (e) => e.textContent));
  }
  console.log(JSON.stringify({ landed, result }));
} catch (e) {
  console.log(JSON.stringify({ landed, error: String(e.message || e) }));
} finally {
  await close();
  server.close();
}
process.exit(result ? 0 : 1);
