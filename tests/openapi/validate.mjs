// validate.mjs - the daemon's real answers against its OpenAPI document.
//
//   node validate.mjs OPENAPI_JSON LOG...
//
// Each LOG holds JSON lines {method, path, status, content_type, body}, one
// per answer a test got (tests/integration/lib.sh's http() writes them when
// GH_OPENAPI_LOG is set). Each answer is matched to its operation as the
// router does it (a literal segment beats a {parameter}; one trailing "/"
// is allowed), and must have a documented status, the documented content
// type, and a body valid against that response's schema (OpenAPI 3.1's
// schemas are JSON Schema 2020-12: Ajv2020, formats checked).
//
// A path no operation has, or a method its path lacks, is an error, unless
// the answer is the router's own 404 or 405 problem: tests ask for such
// paths on purpose. OPTIONS, which the server answers on every path, must
// be its 204 or its 403 to a CORS preflight. Prints one line per failure and a summary; exit 1 on
// any failure or when no answer was validated.
import fs from 'node:fs';
import Ajv2020 from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';

const [docPath, ...logs] = process.argv.slice(2);
if (!docPath || logs.length === 0) {
  console.error('usage: validate.mjs OPENAPI_JSON LOG...');
  process.exit(2);
}
const doc = JSON.parse(fs.readFileSync(docPath, 'utf8'));
const DOC_ID = 'https://gatehouse.invalid/openapi.json';
// strict off: the document has OpenAPI's own keywords besides the schemas'
const ajv = new Ajv2020({ strict: false, allErrors: true });
addFormats(ajv);
ajv.addSchema({ ...doc, $id: DOC_ID });

const pointer = (...parts) =>
  parts.map((p) => String(p).replace(/~/g, '~0').replace(/\//g, '~1')).join('/');

// the templates, split once: [{template, segs: [{lit} | {param}]}]
const templates = Object.keys(doc.paths).map((template) => ({
  template,
  segs: template.split('/').slice(1).map((s) => (/^\{.*\}$/.test(s) ? { param: true } : { lit: s })),
}));

function match(path) {
  let p = path.split('?')[0];
  if (p.length > 1 && p.endsWith('/')) p = p.slice(0, -1);
  const segs = p.split('/').slice(1).map((s) => {
    try { return decodeURIComponent(s); } catch { return s; }
  });
  let best = null;
  let bestKey = '';
  for (const t of templates) {
    if (t.segs.length !== segs.length) continue;
    if (!t.segs.every((s, i) => s.param ? segs[i] !== '' : s.lit === segs[i])) continue;
    // literal beats parameter, left to right: compare as a string of 1s and 0s
    const key = t.segs.map((s) => (s.param ? '0' : '1')).join('');
    if (!best || key > bestKey) { best = t; bestKey = key; }
  }
  return best && best.template;
}

function resolve(obj) {
  while (obj && obj.$ref) {
    obj = obj.$ref.slice(2).split('/')
      .reduce((o, k) => o[k.replace(/~1/g, '/').replace(/~0/g, '~')], doc);
  }
  return obj;
}

const validators = new Map();
function validator(template, method, status, type) {
  const key = [template, method, status, type].join(' ');
  if (!validators.has(key)) {
    // a response $ref (components/responses) is resolved by hand: it is
    // OpenAPI's reference, not a schema's
    const resp = doc.paths[template][method].responses[status];
    const base = resp.$ref ? resp.$ref : '#' + pointer('', 'paths', template, method, 'responses', status);
    validators.set(key, ajv.compile({ $ref: DOC_ID + base + pointer('', 'content', type, 'schema') }));
  }
  return validators.get(key);
}

const isProblem = (a) => {
  try {
    const b = JSON.parse(a.body);
    return (a.content_type || '').startsWith('application/problem+json') && b.status === a.status &&
      typeof b.code === 'string';
  } catch { return false; }
};

let validated = 0;
const ROUTED = ['get', 'head', 'post', 'put', 'patch', 'delete', 'options'];
let serverAnswers = 0; // the router's 404 and 405, OPTIONS, evhttp's 501
const failures = [];
const seen = new Set();
for (const log of logs) {
  const lines = fs.readFileSync(log, 'utf8').split('\n').filter((l) => l.trim() !== '');
  for (const line of lines) {
    const a = JSON.parse(line);
    // HEAD is answered as GET, without the body
    const head = a.method === 'HEAD';
    const method = head ? 'get' : a.method.toLowerCase();
    const where = `${a.method} ${a.path} -> ${a.status}`;
    const fail = (why) => failures.push(`${where}: ${why} [${log}]`);
    if (a.status === 0) continue; // no answer at all (a test's closed connection): nothing to check
    const template = match(a.path);
    // OPTIONS is the server's on every path, not an operation (the
    // document's description): 204, or 403 to a CORS preflight from an
    // origin not allowed
    if (template && method === 'options') {
      if ((a.status === 204 && a.body === '') ||
          (a.status === 403 && isProblem(a) && JSON.parse(a.body).code === 'cors_origin_denied')) serverAnswers++;
      else fail('not an answer to OPTIONS');
      continue;
    }
    const op = template && doc.paths[template][method];
    if (!op) {
      if ((a.status === 404 || a.status === 405) && isProblem(a)) serverAnswers++;
      // a method the server does not take at all (TRACE, CONNECT...):
      // evhttp's own 501, before any route
      else if (a.status === 501 && !ROUTED.includes(method)) serverAnswers++;
      else fail(template ? `method not documented for ${template}` : 'undocumented route');
      continue;
    }
    seen.add(`${method} ${template}`);
    const resp = resolve(op.responses[String(a.status)]);
    if (!resp) { fail(`status not documented for ${method.toUpperCase()} ${template}`); continue; }
    const types = Object.keys(resp.content || {});
    if (types.length === 0 || head) {
      if (a.body !== '') fail('a body where none is documented');
      else validated++;
      continue;
    }
    const type = (a.content_type || '').split(';')[0].trim();
    if (!types.includes(type)) { fail(`content type ${type || '(none)'}, documented: ${types.join(', ')}`); continue; }
    let body = a.body;
    if (type.endsWith('json')) {
      try { body = JSON.parse(a.body); } catch { fail('body is not JSON'); continue; }
    }
    const v = validator(template, method, String(a.status), type);
    if (!v(body)) {
      fail(ajv.errorsText(v.errors, { separator: '; ' }) + ` body: ${a.body.slice(0, 300)}`);
      continue;
    }
    validated++;
  }
}
let ops = 0;
for (const item of Object.values(doc.paths)) ops += Object.keys(item).filter((k) => k !== 'parameters').length;
for (const f of failures) console.log(`not ok - ${f}`);
console.log(`validated ${validated} answers against ${docPath}: ${seen.size} of ${ops} operations, ` +
  `${serverAnswers} answers of the server's own (404, 405, 501, OPTIONS), ${failures.length} failures`);
process.exit(failures.length === 0 && validated > 0 ? 0 : 1);
