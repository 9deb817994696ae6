// oci-standin.mjs - Oracle Cloud's Identity API (20160918) on loopback,
// standing in for identity.<region>.oci.oraclecloud.com in the tests of
// Gatehouse's oci cloud plugin and of onboarding.
//
//   node oci-standin.mjs --port-file FILE --public-key PEM \
//        --key-id TENANCY/USER/FINGERPRINT [--active-after-ms 1500]
//        [--port N]
//
// It listens on 127.0.0.1 (port 0 unless --port: the port is written to
// FILE, whole, once it listens) and checks every Identity request as OCI
// does: the draft-cavage signature (npm http-signature's parseRequest and
// verifySignature) under the one key it knows, the signed headers OCI
// requires (date, (request-target), host, and for a body content-length,
// content-type, x-content-sha256, which must match the body), a date
// within 5 minutes. A failure is 401 {"code":"NotAuthenticated"}. Then the
// JSON shapes of the spec (400 MissingParameter / InvalidParameter), names
// unique as OCI keeps them (409 Conflict), opc-retry-token (a token that
// made a resource: the same body is answered with that resource, as it is
// now; another body with 409 InvalidatedRetryToken), and the lifecycle: a compartment is CREATING
// for --active-after-ms, then ACTIVE; deleted, it answers 202, is DELETING
// for as long, then DELETED (renamed, as OCI frees the name). Groups and
// policies are ACTIVE at once and deleted with 204. Unknown ids: 404
// NotAuthorizedOrNotFound. Every answer carries an opc-request-id.
//
// Operations: CreateCompartment, GetCompartment, ListCompartments,
// DeleteCompartment, CreateGroup, GetGroup, ListGroups, DeleteGroup,
// CreatePolicy, GetPolicy, ListPolicies, DeletePolicy. A policy's
// statements must read "Allow group <group> to <verb> <what> in
// compartment <name> | tenancy", naming a group that exists and a
// compartment under the policy's own.
//
// Control routes, unsigned, for the tests:
//   GET    /_standin/resources     every resource ever made: type, id, name,
//                                  compartmentId, lifecycleState, freeformTags
//   GET    /_standin/requests      {"counts": {op: {"count", "status":
//                                  {"200": n}}}, "log": [{op, method, path,
//                                  status, code, retryToken}]}
//   POST   /_standin/faults        {"op", "status", "code", "message"?,
//                                  "times"} or {"op", "hang_ms", "times"}
//                                  (-1: always); a fault answers after the
//                                  signature is checked; a hang then goes on
//                                  as usual, as a slow OCI does
//   DELETE /_standin/faults        clear them
//   DELETE /_standin/retry-tokens  forget the retry tokens seen, as OCI does
//                                  after 24 hours
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import httpSignature from 'http-signature';

function usage(msg) {
  console.error(`oci-standin.mjs: ${msg}`);
  console.error('usage: node oci-standin.mjs --port-file FILE --public-key PEM ' +
    '--key-id TENANCY/USER/FINGERPRINT [--active-after-ms MS] [--port N]');
  process.exit(2);
}

const args = {};
for (let i = 2; i < process.argv.length; i += 2) {
  const k = process.argv[i];
  const v = process.argv[i + 1];
  if (!k.startsWith('--') || v === undefined) usage(`bad argument ${k}`);
  args[k.slice(2)] = v;
}
if (!args['port-file'] || !args['public-key'] || !args['key-id'])
  usage('--port-file, --public-key and --key-id are required');
const publicKey = fs.readFileSync(args['public-key'], 'utf8');
const keyId = args['key-id'];
const [tenancy] = keyId.split('/');
if (keyId.split('/').length !== 3 || !tenancy.startsWith('ocid1.tenancy.'))
  usage('--key-id must be TENANCY_OCID/USER_OCID/FINGERPRINT');
const activeAfterMs = Number(args['active-after-ms'] ?? 1500);

const resources = new Map(); // id -> resource
const retryTokens = new Map(); // token -> {op, bodyHash, status, id}
const counts = {};
const log = [];
let faults = [];

// ---------------------------------------------------------------- answers

function requestId() {
  return crypto.randomBytes(16).toString('hex').toUpperCase();
}

function send(res, status, body, extra = {}) {
  const headers = { 'opc-request-id': requestId(), ...extra };
  let text = '';
  if (body !== undefined) {
    text = JSON.stringify(body);
    headers['content-type'] = 'application/json';
  }
  headers['content-length'] = Buffer.byteLength(text);
  res.writeHead(status, headers);
  res.end(text);
}

class OciError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}
const fail = (status, code, message) => { throw new OciError(status, code, message); };
const notFound = () => fail(404, 'NotAuthorizedOrNotFound',
  'Authorization failed or requested resource not found.');

// ---------------------------------------------------------------- signature

const BODY_HEADERS = ['content-length', 'content-type', 'x-content-sha256'];

function authenticate(req, body) {
  const hasBody = ['POST', 'PUT', 'PATCH'].includes(req.method);
  const required = [req.headers['x-date'] ? 'x-date' : 'date', '(request-target)', 'host',
    ...(hasBody ? BODY_HEADERS : [])];
  let parsed;
  try {
    parsed = httpSignature.parseRequest(req, { headers: required, clockSkew: 300 });
  } catch (e) {
    fail(401, 'NotAuthenticated', `The required information to complete authentication ` +
      `was not provided or was incorrect: ${e.message}`);
  }
  if (parsed.keyId !== keyId)
    fail(401, 'NotAuthenticated', `Unknown keyId ${parsed.keyId}`);
  if (parsed.algorithm !== 'RSA-SHA256')
    fail(401, 'NotAuthenticated', `Unsupported algorithm ${parsed.params.algorithm}`);
  if (!httpSignature.verifySignature(parsed, publicKey))
    fail(401, 'NotAuthenticated', 'The signature does not verify');
  if (hasBody) {
    const sha = crypto.createHash('sha256').update(body).digest('base64');
    if (req.headers['x-content-sha256'] !== sha)
      fail(401, 'NotAuthenticated', 'x-content-sha256 does not match the body');
    if (Number(req.headers['content-length']) !== body.length)
      fail(401, 'NotAuthenticated', 'content-length does not match the body');
    if (!/^application\/json\b/.test(req.headers['content-type'] || ''))
      fail(400, 'InvalidParameter', 'content-type must be application/json');
  }
}

// ---------------------------------------------------------------- resources

const KINDS = {
  compartments: { type: 'compartment', noun: 'Compartment', plural: 'Compartments' },
  groups: { type: 'group', noun: 'Group', plural: 'Groups' },
  policies: { type: 'policy', noun: 'Policy', plural: 'Policies' },
};

// The lifecycle moves on with time: CREATING -> ACTIVE, DELETING -> DELETED.
function state(r) {
  const now = Date.now();
  if (r.lifecycleState === 'CREATING' && now >= r.readyAt) r.lifecycleState = 'ACTIVE';
  if (r.lifecycleState === 'DELETING' && now >= r.readyAt) {
    r.lifecycleState = 'DELETED';
    r.name = `${r.name}.${crypto.randomBytes(4).toString('hex')}`; // OCI frees the name
  }
  return r.lifecycleState;
}

function view(r) {
  state(r);
  const { readyAt, ...shown } = r; // eslint-disable-line no-unused-vars
  return shown;
}

function live(r) {
  return !['DELETING', 'DELETED'].includes(state(r));
}

function isCompartment(id) {
  if (id === tenancy) return true;
  const r = resources.get(id);
  return r && r.type === 'compartment' && state(r) === 'ACTIVE';
}

function ocid(type) {
  return `ocid1.${type}.oc1..aaaaaaaa${crypto.randomBytes(26).toString('hex').slice(0, 52)}`;
}

// ---------------------------------------------------------------- shapes

function checkString(body, key, min, max, required = true) {
  const v = body[key];
  if (v === undefined || v === null) {
    if (required) fail(400, 'MissingParameter', `${key} is required`);
    return;
  }
  if (typeof v !== 'string' || v.length < min || v.length > max)
    fail(400, 'InvalidParameter', `${key} must be a string of ${min} to ${max} characters`);
}

function checkTags(body) {
  const t = body.freeformTags;
  if (t === undefined || t === null) return;
  if (typeof t !== 'object' || Array.isArray(t) ||
      Object.entries(t).some(([k, v]) => typeof v !== 'string' || k.length > 100 || v.length > 256))
    fail(400, 'InvalidParameter', 'freeformTags must be an object of string values');
  if (body.definedTags !== undefined && (typeof body.definedTags !== 'object' ||
      Array.isArray(body.definedTags)))
    fail(400, 'InvalidParameter', 'definedTags must be an object');
}

function checkKeys(body, allowed) {
  if (typeof body !== 'object' || body === null || Array.isArray(body))
    fail(400, 'CannotParseRequest', 'The body must be a JSON object');
  for (const k of Object.keys(body))
    if (!allowed.includes(k)) fail(400, 'InvalidParameter', `Unknown property ${k}`);
}

const COMMON = ['compartmentId', 'name', 'description', 'freeformTags', 'definedTags'];
const NAME_RE = /^[A-Za-z0-9._-]+$/;

function checkCreate(kind, body) {
  checkKeys(body, kind === 'policies' ? [...COMMON, 'statements', 'versionDate', 'locks']
    : COMMON);
  checkString(body, 'compartmentId', 1, 255);
  checkString(body, 'name', 1, 100);
  checkString(body, 'description', 1, 400);
  checkTags(body);
  if (!NAME_RE.test(body.name))
    fail(400, 'InvalidParameter', 'name may hold only letters, digits, ".", "_" and "-"');
  if (kind === 'groups' && body.compartmentId !== tenancy)
    fail(400, 'InvalidParameter', 'A group must be created in the tenancy');
  if (!isCompartment(body.compartmentId))
    fail(404, 'NotAuthorizedOrNotFound', 'compartmentId is not a compartment');
  if (kind === 'policies') checkStatements(body);
}

const STATEMENT_RE =
  /^allow group (\S+) to (inspect|read|use|manage) \S+ in (tenancy|compartment (\S+))$/i;

function checkStatements(body) {
  const s = body.statements;
  if (s === undefined || s === null) fail(400, 'MissingParameter', 'statements is required');
  if (!Array.isArray(s) || s.length === 0 || s.some((x) => typeof x !== 'string'))
    fail(400, 'InvalidParameter', 'statements must be a non-empty array of strings');
  for (const st of s) {
    const m = STATEMENT_RE.exec(st.trim());
    if (!m) fail(400, 'InvalidParameter', `Cannot parse the statement: ${st}`);
    const group = [...resources.values()].find((r) => r.type === 'group' && r.name === m[1] &&
      live(r));
    if (!group) fail(400, 'InvalidParameter', `The group ${m[1]} does not exist`);
    if (m[4] && ![...resources.values()].some((r) => r.type === 'compartment' &&
        r.name === m[4] && r.compartmentId === body.compartmentId && live(r)))
      fail(400, 'InvalidParameter', `The compartment ${m[4]} does not exist`);
  }
}

// Names: compartments unique among their siblings, groups and policies in
// the tenancy; a deleted resource frees its name.
function nameTaken(kind, body) {
  return [...resources.values()].some((r) => r.type === KINDS[kind].type &&
    r.name === body.name && live(r) &&
    (kind !== 'compartments' || r.compartmentId === body.compartmentId));
}

function create(kind, body) {
  checkCreate(kind, body);
  if (nameTaken(kind, body))
    fail(409, 'Conflict', `${KINDS[kind].noun} ${body.name} already exists`);
  const type = KINDS[kind].type;
  const r = {
    type,
    id: ocid(type),
    compartmentId: body.compartmentId,
    name: body.name,
    description: body.description,
    lifecycleState: type === 'compartment' ? 'CREATING' : 'ACTIVE',
    timeCreated: new Date().toISOString(),
    freeformTags: body.freeformTags || {},
    definedTags: body.definedTags || {},
    readyAt: Date.now() + activeAfterMs,
  };
  if (type === 'policy') r.statements = body.statements;
  if (type === 'compartment' && activeAfterMs <= 0) r.lifecycleState = 'ACTIVE';
  resources.set(r.id, r);
  return r;
}

function find(kind, id) {
  const r = resources.get(decodeURIComponent(id));
  if (!r || r.type !== KINDS[kind].type) notFound();
  return r;
}

function remove(kind, id) {
  const r = find(kind, id);
  const s = state(r);
  if (s === 'DELETED') notFound();
  if (kind !== 'compartments') {
    r.lifecycleState = 'DELETED';
    return 204;
  }
  if (s !== 'ACTIVE')
    fail(409, 'IncorrectState', `The compartment is ${s}`);
  if ([...resources.values()].some((c) => c.compartmentId === r.id && live(c)))
    fail(409, 'Conflict', 'The compartment is not empty');
  r.lifecycleState = 'DELETING';
  r.readyAt = Date.now() + activeAfterMs;
  return 202;
}

function list(kind, query) {
  const parent = query.get('compartmentId');
  if (!parent) fail(400, 'MissingParameter', 'compartmentId is required');
  const name = query.get('name');
  const wanted = query.get('lifecycleState');
  return [...resources.values()].filter((r) => r.type === KINDS[kind].type &&
    r.compartmentId === parent && (!name || r.name === name) &&
    (!wanted || state(r) === wanted)).map(view);
}

// ---------------------------------------------------------------- routing

function route(method, path) {
  const m = /^\/20160918\/(compartments|groups|policies)\/?([^/]*)$/.exec(path);
  if (!m) return null;
  const [, kind, id] = m;
  const noun = KINDS[kind].noun;
  if (!id && method === 'POST') return { op: `Create${noun}`, kind };
  if (!id && method === 'GET') return { op: `List${KINDS[kind].plural}`, kind };
  if (id && method === 'GET') return { op: `Get${noun}`, kind, id };
  if (id && method === 'DELETE') return { op: `Delete${noun}`, kind, id };
  return { op: 'MethodNotAllowed', kind };
}

function count(op, status, code, req) {
  const c = (counts[op] ??= { count: 0, status: {} });
  c.count += 1;
  c.status[status] = (c.status[status] || 0) + 1;
  log.push({ op, method: req.method, path: req.url, status, code: code || null,
    retryToken: req.headers['opc-retry-token'] || null });
}

function takeFault(op) {
  const f = faults.find((x) => x.op === op && x.times !== 0);
  if (f && f.times > 0) f.times -= 1;
  return f;
}

const sleep = (ms) => new Promise((resolve) => { setTimeout(resolve, ms); });

function identity(req, r, body, url) {
  if (r.op === 'MethodNotAllowed') fail(405, 'MethodNotAllowed', 'Method not allowed');
  if (r.op.startsWith('Create')) {
    let doc;
    try {
      doc = JSON.parse(body.toString('utf8'));
    } catch {
      fail(400, 'CannotParseRequest', 'The body is not JSON');
    }
    const token = req.headers['opc-retry-token'];
    if (token !== undefined && (token.length < 1 || token.length > 64))
      fail(400, 'InvalidParameter', 'opc-retry-token must be 1 to 64 characters');
    const bodyHash = crypto.createHash('sha256').update(body).digest('hex');
    const seen = token && retryTokens.get(token);
    if (seen) {
      if (seen.op !== r.op || seen.bodyHash !== bodyHash)
        fail(409, 'InvalidatedRetryToken', 'The retry token was used for another request');
      // the resource the token made, as it is now (deleted since, maybe)
      return [200, view(resources.get(seen.id)), { etag: seen.id }];
    }
    // only a success binds the token: a refused create may be retried
    const made = create(r.kind, doc);
    if (token) retryTokens.set(token, { op: r.op, bodyHash, id: made.id });
    return [200, view(made), { etag: made.id }];
  }
  if (r.op.startsWith('List')) return [200, list(r.kind, url.searchParams)];
  if (r.op.startsWith('Get')) {
    const found = find(r.kind, r.id);
    return [200, view(found), { etag: found.id }];
  }
  const status = remove(r.kind, r.id);
  return [status, undefined, status === 202 ? { 'opc-work-request-id': ocid('workrequest') } : {}];
}

async function control(req, res, url, body) {
  const p = url.pathname;
  if (p === '/_standin/resources' && req.method === 'GET')
    return send(res, 200, [...resources.values()].map(view));
  if (p === '/_standin/requests' && req.method === 'GET')
    return send(res, 200, { counts, log });
  if (p === '/_standin/faults' && req.method === 'POST') {
    const f = JSON.parse(body.toString('utf8'));
    if (typeof f.op !== 'string' || typeof f.times !== 'number' ||
        (f.status === undefined && f.hang_ms === undefined))
      return send(res, 400, { code: 'InvalidParameter', message: 'op, times and status or hang_ms' });
    faults.push(f);
    return send(res, 204);
  }
  if (p === '/_standin/faults' && req.method === 'DELETE') {
    faults = [];
    return send(res, 204);
  }
  if (p === '/_standin/retry-tokens' && req.method === 'DELETE') {
    retryTokens.clear();
    return send(res, 204);
  }
  return send(res, 404, { code: 'NotFound', message: 'No such control route' });
}

async function handle(req, res, body) {
  const url = new URL(req.url, 'http://standin');
  if (url.pathname.startsWith('/_standin/')) return control(req, res, url, body);
  const r = route(req.method, url.pathname);
  if (!r) {
    count('NotFound', 404, 'NotFound', req);
    return send(res, 404, { code: 'NotFound', message: `No route ${req.method} ${url.pathname}` });
  }
  try {
    authenticate(req, body);
    const f = takeFault(r.op);
    if (f && f.hang_ms) await sleep(f.hang_ms);
    else if (f) fail(f.status, f.code || 'InternalServerError', f.message || 'Injected fault');
    const [status, doc, extra] = identity(req, r, body, url);
    count(r.op, status, null, req);
    return send(res, status, doc, extra);
  } catch (e) {
    if (!(e instanceof OciError)) throw e;
    count(r.op, e.status, e.code, req);
    return send(res, e.status, { code: e.code, message: e.message },
      e.status === 429 ? { 'retry-after': '1' } : {});
  }
}

const server = http.createServer((req, res) => {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    handle(req, res, Buffer.concat(chunks)).catch((e) => {
      console.error(e);
      if (!res.headersSent) send(res, 500, { code: 'InternalServerError', message: 'stand-in bug' });
    });
  });
});
server.keepAliveTimeout = 60000;
server.listen(Number(args.port || 0), '127.0.0.1', () => {
  const tmp = `${args['port-file']}.tmp`;
  fs.writeFileSync(tmp, `${server.address().port}\n`);
  fs.renameSync(tmp, args['port-file']);
});
for (const sig of ['SIGTERM', 'SIGINT']) process.on(sig, () => process.exit(0));
