// provider.mjs - a real OpenID Provider (npm oidc-provider) on loopback,
// standing in for Google or any OIDC provider in Gatehouse's OAuth tests.
//
//   node provider.mjs
//   env: OIDC_PORT       the port on 127.0.0.1 (required)
//        OIDC_ISSUER     default http://127.0.0.1:$OIDC_PORT
//        OIDC_CLIENTS    JSON: [{client_id, client_secret, redirect_uris,
//                        token_endpoint_auth_method?}]
//
// Sign-in and consent are oidc-provider's own interaction pages
// (devInteractions): GET the authorization URL, then POST
// /interaction/{uid} with prompt=login&login=<account id>, and again with
// prompt=consent; a cookie jar carries the interaction. So curl, a node
// client or a real browser can drive it alike. PKCE is required of every
// client, as the tests assume.
//
// Admin routes, for the tests (plain JSON, loopback only):
//   POST /admin/account {sub, email?, email_verified?, name?, hd?}
//        the claims of account `sub` (unknown accounts get sub only)
//   POST /admin/misbehave {mode}  the next ID token the token endpoint
//        gives is forged: other_key (signed by a key not in the JWKS, with
//        the real kid), alg_none, aud, iss, nonce, expired (that claim
//        wrong, then signed properly); "" clears it
import http from 'node:http';
import Provider from 'oidc-provider';
import * as jose from 'jose';

const port = Number(process.env.OIDC_PORT);
if (!port) {
  console.error('provider.mjs: OIDC_PORT is required');
  process.exit(2);
}
const issuer = process.env.OIDC_ISSUER || `http://127.0.0.1:${port}`;
const clients = JSON.parse(process.env.OIDC_CLIENTS || '[]');

const KID = 'standin-1';
async function rsaKey() {
  const { privateKey } = await jose.generateKeyPair('RS256', { extractable: true });
  return privateKey;
}
const realKey = await rsaKey();
const otherKey = await rsaKey();
const realJwk = { ...(await jose.exportJWK(realKey)), kid: KID, alg: 'RS256', use: 'sig' };

const accounts = new Map();
let misbehave = '';

const provider = new Provider(issuer, {
  clients,
  jwks: { keys: [realJwk] },
  pkce: { required: () => true },
  scopes: ['openid', 'email', 'profile'],
  claims: {
    openid: ['sub'],
    email: ['email', 'email_verified'],
    profile: ['name', 'given_name', 'family_name', 'picture', 'hd'],
  },
  // the scope's claims in the ID token too, as Google's carry email and hd
  conformIdTokenClaims: false,
  features: { devInteractions: { enabled: true } },
  async findAccount(ctx, id) {
    return {
      accountId: id,
      async claims() {
        return { sub: id, ...(accounts.get(id) || {}) };
      },
    };
  },
});

// The one-shot forgery, applied to the token endpoint's answer.
async function forge(idToken, mode) {
  const claims = jose.decodeJwt(idToken);
  const now = Math.floor(Date.now() / 1000);
  if (mode === 'alg_none') {
    const enc = (o) => Buffer.from(JSON.stringify(o)).toString('base64url');
    return `${enc({ alg: 'none', typ: 'JWT' })}.${enc(claims)}.`;
  }
  if (mode === 'aud') claims.aud = 'another-client';
  if (mode === 'iss') claims.iss = 'https://issuer.invalid';
  if (mode === 'nonce') claims.nonce = 'not-the-nonce';
  if (mode === 'expired') Object.assign(claims, { iat: now - 7200, exp: now - 3600 });
  const key = mode === 'other_key' ? otherKey : realKey;
  return new jose.SignJWT(claims).setProtectedHeader({ alg: 'RS256', kid: KID }).sign(key);
}

provider.use(async (ctx, next) => {
  await next();
  if (ctx.path === '/token' && ctx.status === 200 && ctx.body && ctx.body.id_token && misbehave) {
    ctx.body = { ...ctx.body, id_token: await forge(ctx.body.id_token, misbehave) };
    misbehave = '';
  }
});

function admin(req, res) {
  let body = '';
  req.on('data', (c) => { body += c; });
  req.on('end', () => {
    let input;
    try {
      input = JSON.parse(body || '{}');
    } catch {
      res.writeHead(400).end('bad json');
      return;
    }
    if (req.method === 'POST' && req.url === '/admin/account' && input.sub) {
      const { sub, ...claims } = input;
      accounts.set(sub, claims);
    } else if (req.method === 'POST' && req.url === '/admin/misbehave') {
      misbehave = String(input.mode || '');
    } else {
      res.writeHead(404).end('no such admin route');
      return;
    }
    res.writeHead(204).end();
  });
}

const callback = provider.callback();
http.createServer((req, res) => {
  if (req.url.startsWith('/admin/')) admin(req, res);
  else callback(req, res);
}).listen(port, '127.0.0.1', () => {
  console.log(`oidc stand-in ${issuer} ready`);
});
