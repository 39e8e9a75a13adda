import fc from 'fast-check';

/**
 * fast-check arbitraries of HTTP requests made from an OpenAPI document: bodies that follow the
 * operation's schema, and the same bodies broken in the ways clients and attackers break them (wrong
 * types, missing and extra fields, sizes, nesting, hostile unicode, NUL, malformed JSON, wrong content
 * types), with odd path parameters, query strings, methods and credentials.
 */

export interface Schema {
  $ref?: string;
  type?: string | string[];
  properties?: Record<string, Schema>;
  required?: string[];
  items?: Schema;
  enum?: unknown[];
  oneOf?: Schema[];
  anyOf?: Schema[];
  allOf?: Schema[];
  nullable?: boolean;
  format?: string;
  example?: unknown;
  minimum?: number;
  maximum?: number;
  minLength?: number;
  maxLength?: number;
  minItems?: number;
  maxItems?: number;
  additionalProperties?: boolean | Schema;
}

interface Parameter {
  in: 'path' | 'query' | 'header';
  name: string;
  schema?: Schema;
}

interface Operation {
  parameters?: Parameter[];
  requestBody?: { content: Record<string, { schema: Schema }> };
}

export interface OpenApiDocument {
  paths: Record<string, Record<string, Operation>>;
  components: { schemas: Record<string, Schema> };
}

export type Credentials = 'none' | 'admin' | 'apiKey' | 'apiKeyAsBearer' | 'garbage';

/** How fast-check prints a request in a report: what was sent, the body cut short. */
function describeRequest(this: FuzzRequest): string {
  const body =
    this.body === undefined
      ? ''
      : ` body(${this.body.length} B) ${JSON.stringify(this.body.toString('utf8').slice(0, 300))}`;
  return `${this.method} ${this.path.slice(0, 400)} [${this.credentials}; ${this.variant}; headers ${JSON.stringify(this.headers)}]${body}`;
}

export interface FuzzRequest {
  method: string;
  /** The route template of the document (for reports), or `(unknown)`. */
  route: string;
  /** Path and query, percent-encoded as sent. */
  path: string;
  headers: Record<string, string>;
  credentials: Credentials;
  body?: Buffer;
  /** What was done to the request, for reports. */
  variant: string;
  [fc.toStringMethod]: () => string;
}

/** Values the app knows, so that valid requests can succeed. */
export interface FuzzContext {
  /** Values for path parameters by name (e.g. a project id), used besides random ones. */
  pathValues: Record<string, string[]>;
  /** Values for body fields by name (e.g. model names the fake upstreams serve). */
  fieldValues: Record<string, unknown[]>;
  /** Operations to send without credentials (e.g. signing out, which would end the shared admin session). */
  anonymousOnly?: (method: string, route: string) => boolean;
}

const MAX_SCHEMA_DEPTH = 6;

/** Strings that have broken parsers, databases and encoders. */
const HOSTILE_STRINGS = [
  '',
  ' ',
  '\ud800',
  'x\udc00y',
  '\udbff',
  'a\u0000b',
  '\u0000',
  '\u202eevil\u202c',
  '\u05e9\u05dc\u05d5\u05dd \u0645\u0631\u062d\u0628\u0627',
  '\u{1F680}\u{1D49C}\u{10FFFF}',
  'e\u0301\u0301\u0301',
  '\ufeff',
  '\u2028\u2029',
  '../../../etc/passwd',
  "' OR 1=1 --",
  '%00',
  '${jndi:ldap://x}',
  '__proto__',
  'constructor',
  'toString',
  '1e309',
  'NaN',
  '-0',
  'null',
  '00000000-0000-0000-0000-000000000000',
  '2026-13-45T99:99:99Z',
  '<script>alert(1)</script>',
];

export const hostileString: fc.Arbitrary<string> = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom(...HOSTILE_STRINGS) },
  { weight: 2, arbitrary: fc.string({ unit: 'binary', maxLength: 24 }) },
  { weight: 1, arbitrary: fc.string({ unit: 'grapheme', maxLength: 24 }) },
  // Large text as prose (up to 180 KB), and unbroken runs (a whole BPE pass over 5,000 `x` takes ~10 s:
  // the tokenizer must count runs in pieces).
  { weight: 1, arbitrary: fc.nat({ max: 10_000 }).map((n) => 'lorem ipsum dolor '.repeat(n)) },
  { weight: 1, arbitrary: fc.nat({ max: 5_000 }).map((n) => 'x'.repeat(n)) },
);

const hostileNumber: fc.Arbitrary<number> = fc.oneof(
  fc.constantFrom(0, -0, -1, 1e308, -1e308, 2 ** 53 + 1, 0.1, Number.MIN_VALUE, 4294967296, -2147483649),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.integer(),
);

/** `[[…]]` or `{"a":{…}}` nested `depth` times. */
function nested(depth: number, objects: boolean): unknown {
  let value: unknown = 1;
  for (let i = 0; i < depth; i += 1) value = objects ? { a: value } : [value];
  return value;
}

export const hostileValue: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 3, arbitrary: hostileString },
  { weight: 2, arbitrary: hostileNumber },
  { weight: 1, arbitrary: fc.constantFrom<unknown>(null, true, false, [], {}, [null], { __proto__: null }) },
  { weight: 2, arbitrary: fc.jsonValue({ maxDepth: 3 }) },
  { weight: 1, arbitrary: fc.tuple(fc.integer({ min: 1, max: 300 }), fc.boolean()).map(([d, o]) => nested(d, o)) },
  { weight: 1, arbitrary: fc.nat({ max: 20_000 }).map((n) => Array.from({ length: n }, (_, i) => i % 7)) },
);

function resolve(doc: OpenApiDocument, schema: Schema): Schema {
  let current = schema;
  for (let i = 0; current.$ref && i < 10; i += 1) {
    current = doc.components.schemas[current.$ref.replace('#/components/schemas/', '')] ?? {};
  }
  return current;
}

function stringFor(schema: Schema, name: string, ctx: FuzzContext): fc.Arbitrary<string> {
  const known = ctx.fieldValues[name]?.filter((v): v is string => typeof v === 'string') ?? [];
  const examples = typeof schema.example === 'string' ? [schema.example] : [];
  let base: fc.Arbitrary<string>;
  switch (schema.format ?? '') {
    case 'uuid':
      base = fc.uuid();
      break;
    case 'date-time':
      base = fc
        .date({ min: new Date('2000-01-01'), max: new Date('2100-01-01'), noInvalidDate: true })
        .map((d) => d.toISOString());
      break;
    case 'date':
      base = fc
        .date({ min: new Date('2020-01-01'), max: new Date('2030-01-01'), noInvalidDate: true })
        .map((d) => d.toISOString().slice(0, 10));
      break;
    case 'email':
      base = fc.emailAddress();
      break;
    default:
      base = fc.string({ minLength: schema.minLength ?? 0, maxLength: Math.min(schema.maxLength ?? 40, 40) });
  }
  const pool = [...known, ...examples];
  return pool.length === 0
    ? base
    : fc.oneof({ weight: 3, arbitrary: fc.constantFrom(...pool) }, { weight: 1, arbitrary: base });
}

function numberFor(schema: Schema, integer: boolean): fc.Arbitrary<number> {
  const min = schema.minimum ?? -1000;
  const max = schema.maximum ?? Math.max(min + 1000, 1000);
  if (integer) return fc.integer({ min: Math.ceil(min), max: Math.floor(max) });
  return fc.oneof(fc.integer({ min: Math.ceil(min), max: Math.floor(max) }), fc.double({ min, max, noNaN: true }));
}

/** Values that follow `schema` (as far as the document tells). */
export function valueFor(
  doc: OpenApiDocument,
  raw: Schema,
  ctx: FuzzContext,
  name = '',
  depth = 0,
): fc.Arbitrary<unknown> {
  const schema = resolve(doc, raw);
  if (depth > MAX_SCHEMA_DEPTH) return fc.constant(null);
  const known = ctx.fieldValues[name];
  let arb: fc.Arbitrary<unknown>;
  if (schema.enum && schema.enum.length > 0) arb = fc.constantFrom(...schema.enum);
  else if (schema.allOf?.length) arb = valueFor(doc, schema.allOf[0], ctx, name, depth + 1);
  else if (schema.oneOf?.length || schema.anyOf?.length) {
    arb = fc.oneof(...(schema.oneOf ?? schema.anyOf ?? []).map((s) => valueFor(doc, s, ctx, name, depth + 1)));
  } else {
    const type = Array.isArray(schema.type) ? schema.type[0] : schema.type;
    switch (type) {
      case 'string':
        arb = stringFor(schema, name, ctx);
        break;
      case 'number':
        arb = numberFor(schema, false);
        break;
      case 'integer':
        arb = numberFor(schema, true);
        break;
      case 'boolean':
        arb = fc.boolean();
        break;
      case 'array':
        arb = fc.array(valueFor(doc, schema.items ?? {}, ctx, name, depth + 1), {
          minLength: schema.minItems ?? 0,
          maxLength: Math.max(schema.minItems ?? 0, Math.min(schema.maxItems ?? 4, 4)),
        });
        break;
      case 'object':
      case undefined:
        if (!schema.properties) {
          arb =
            type === 'object'
              ? fc.dictionary(fc.string({ maxLength: 8 }), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 3 })
              : fc.jsonValue({ maxDepth: 2 });
          break;
        }
        arb = fc.record(
          Object.fromEntries(
            Object.entries(schema.properties).map(([key, s]) => [key, valueFor(doc, s, ctx, key, depth + 1)]),
          ),
          { requiredKeys: schema.required ?? [] },
        );
        break;
      default:
        arb = fc.jsonValue({ maxDepth: 2 });
    }
  }
  if (schema.nullable) arb = fc.oneof({ weight: 5, arbitrary: arb }, { weight: 1, arbitrary: fc.constant(null) });
  if (known && known.length > 0)
    arb = fc.oneof({ weight: 3, arbitrary: fc.constantFrom(...known) }, { weight: 1, arbitrary: arb });
  return arb;
}

type Path = (string | number)[];

function containers(value: unknown, path: Path = [], out: Path[] = [], depth = 0): Path[] {
  out.push(path);
  if (depth > 8 || typeof value !== 'object' || value === null) return out;
  for (const [key, child] of Object.entries(value)) {
    containers(child, [...path, Array.isArray(value) ? Number(key) : key], out, depth + 1);
  }
  return out;
}

/** A copy of `root` with the value at `path` replaced (or removed when `replace` is undefined). */
function edit(root: unknown, path: Path, replace: (old: unknown) => unknown, remove = false): unknown {
  if (path.length === 0) return replace(root);
  const copy = (Array.isArray(root) ? [...(root as unknown[])] : { ...(root as object) }) as Record<
    string | number,
    unknown
  >;
  const [head, ...rest] = path;
  if (rest.length === 0 && remove) {
    if (Array.isArray(copy)) (copy as unknown[]).splice(Number(head), 1);
    else delete copy[head];
    return copy;
  }
  copy[head] = edit(copy[head], rest, replace, remove);
  return copy;
}

type Mutation =
  | { kind: 'valid' }
  | { kind: 'replace'; at: number; value: unknown }
  | { kind: 'text'; at: number; value: string }
  | { kind: 'remove'; at: number }
  | { kind: 'extra'; at: number; key: string; value: unknown };

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  { weight: 4, arbitrary: fc.constant<Mutation>({ kind: 'valid' }) },
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('replace' as const), at: fc.nat(), value: hostileValue }) },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('text' as const),
      at: fc.nat(),
      value: fc.constantFrom('a\u0000b', '\u0000', 'x\ud800', '\udc00', '\u202eevil', '\u{1F680}'),
    }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('remove' as const), at: fc.nat() }) },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('extra' as const),
      at: fc.nat(),
      key: fc.oneof(
        fc.constantFrom('__proto__', 'constructor', 'extra', '', 'a\u0000', '\ud800'),
        fc.string({ maxLength: 8 }),
      ),
      value: hostileValue,
    }),
  },
);

function mutate(value: unknown, m: Mutation): { value: unknown; variant: string } {
  if (m.kind === 'valid') return { value, variant: 'valid' };
  const paths = containers(value);
  const path = paths[m.at % paths.length];
  const where = path.join('.') || '(body)';
  switch (m.kind) {
    case 'text': {
      // A string field with a NUL, a lone surrogate or odd but valid text.
      const strings = paths.filter(
        (p) => typeof p.reduce<unknown>((v, k) => (v as Record<string, unknown>)[k], value) === 'string',
      );
      if (strings.length === 0) return { value, variant: 'valid' };
      const at = strings[m.at % strings.length];
      return { value: edit(value, at, () => m.value), variant: `text ${at.join('.')} = ${JSON.stringify(m.value)}` };
    }
    case 'replace':
      return { value: edit(value, path, () => m.value), variant: `replace ${where}` };
    case 'remove':
      return path.length === 0
        ? { value: undefined, variant: 'no body' }
        : { value: edit(value, path, () => undefined, true), variant: `remove ${where}` };
    case 'extra':
      return {
        value: edit(value, path, (old) =>
          typeof old === 'object' && old !== null && !Array.isArray(old)
            ? Object.defineProperty({ ...old }, m.key, {
                value: m.value,
                enumerable: true,
                configurable: true,
                writable: true,
              })
            : old,
        ),
        variant: `extra ${where}.${JSON.stringify(m.key)}`,
      };
  }
}

/** Bodies that are not JSON, or not quite. */
const malformedJson: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom(
    '',
    '{',
    '[1,]',
    '{"a":1}}',
    'nul',
    '\ufeff{}',
    '{"a":1,"a":2}',
    "{'a':1}",
    '{"a":01}',
    '{"a":"\\x"}',
    '"str"',
    '1',
    'null',
    '[]',
    '{"a":"\\ud800"}',
    '{"__proto__":{"isAdmin":true}}',
    '{"constructor":{"prototype":{"x":1}}}',
  ),
  fc.string({ unit: 'binary', maxLength: 64 }),
  fc.jsonValue({ maxDepth: 3 }).map((v) => {
    const text = JSON.stringify(v) ?? '';
    return text.slice(0, Math.max(0, text.length - 1));
  }),
);

interface Encoded {
  body?: Buffer;
  headers: Record<string, string>;
  variant: string;
}

/** How the body goes on the wire: JSON as it should, or with a wrong content type, charset or encoding. */
function encodings(value: fc.Arbitrary<{ value: unknown; variant: string }>): fc.Arbitrary<Encoded> {
  const json = (v: unknown): Buffer | undefined =>
    v === undefined ? undefined : Buffer.from(JSON.stringify(v), 'utf8');
  return fc.oneof(
    {
      weight: 12,
      arbitrary: value.map(({ value: v, variant }): Encoded => ({
        body: json(v),
        headers: v === undefined ? {} : { 'content-type': 'application/json' },
        variant,
      })),
    },
    {
      weight: 2,
      arbitrary: malformedJson.map((text) => ({
        body: Buffer.from(text, 'utf8'),
        headers: { 'content-type': 'application/json' },
        variant: `malformed ${JSON.stringify(text.slice(0, 40))}`,
      })),
    },
    {
      weight: 2,
      arbitrary: fc
        .tuple(
          value,
          fc.constantFrom(
            'text/plain',
            'application/x-www-form-urlencoded',
            'multipart/form-data; boundary=xyz',
            'multipart/form-data',
            'application/xml',
            'application/json; charset=utf-16',
            'application/json; charset=latin1',
            'application/json; charset=koi8-r',
            'application/merge-patch+json',
            'application/vnd.api+json',
            'application/octet-stream',
            '*/*',
            'garbage',
            '',
          ),
        )
        .map(([{ value: v, variant }, type]): Encoded => ({
          body: json(v) ?? Buffer.from('a=1&b=2'),
          headers: type === '' ? {} : { 'content-type': type },
          variant: `${variant} as ${type || 'no content type'}`,
        })),
    },
    {
      weight: 1,
      arbitrary: fc
        .tuple(value, fc.constantFrom('gzip', 'deflate', 'br', 'identity', 'x-unknown'))
        .map(([{ value: v, variant }, encoding]) => ({
          body: json(v) ?? Buffer.alloc(0),
          headers: { 'content-type': 'application/json', 'content-encoding': encoding },
          variant: `${variant} with content-encoding ${encoding}`,
        })),
    },
  );
}

/** Percent-encodes UTF-8 bytes of `text` (a lone surrogate becomes U+FFFD, as a client would send it). */
function encodeSegment(text: string): string {
  return [...Buffer.from(text, 'utf8')]
    .map((byte) =>
      /[A-Za-z0-9\-._~]/.test(String.fromCharCode(byte))
        ? String.fromCharCode(byte)
        : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`,
    )
    .join('');
}

/** Path segments as they appear on the wire, some already encoded in odd ways. */
const oddSegment: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom(
    '%00',
    'a%00b',
    '..',
    '%2e%2e',
    '%2F',
    'a%2Fb',
    '%',
    '%E0%A4%A',
    '%ZZ',
    '%ED%A0%80',
    '%C0%80',
    '%F0%9F%9A%80',
    '%D7%A9%D7%9C',
    '%20',
    '0',
    '-1',
    'null',
    '__proto__',
    'constructor',
    '1e999',
    'latest',
    '00000000-0000-0000-0000-000000000000',
    'x'.repeat(3000),
    '%FF%FE',
  ),
  hostileString.filter((s) => s.length < 4000).map(encodeSegment),
  fc.uuid(),
);

const queryPair: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom(
    'a=1',
    'a[]=1&a[]=2',
    'a[b][c]=1',
    '__proto__[x]=1',
    'constructor[prototype][x]=1',
    '=1',
    'a',
    '&&&',
    'a=%',
    'a=%00',
    'a%00=1',
    'a=%ED%A0%80',
    'a[9999]=1',
  ),
  fc
    .tuple(hostileString, hostileString)
    .map(([k, v]) => `${encodeSegment(k.slice(0, 200))}=${encodeSegment(v.slice(0, 2000))}`),
);

/** A value for a query parameter the operation declares, fitting or not. */
function queryValue(doc: OpenApiDocument, param: Parameter, ctx: FuzzContext): fc.Arbitrary<string> {
  const fitting = valueFor(doc, param.schema ?? { type: 'string' }, ctx, param.name).map((v) =>
    encodeSegment(String(v)),
  );
  const dates = fc
    .date({ min: new Date('2020-01-01'), max: new Date('2030-01-01'), noInvalidDate: true })
    .map((d) => d.toISOString().slice(0, 10));
  return fc.oneof(
    { weight: 3, arbitrary: fitting },
    { weight: 2, arbitrary: dates },
    { weight: 2, arbitrary: oddSegment },
  );
}

const METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'];

const credentials: fc.Arbitrary<Credentials> = fc.constantFrom(
  'none',
  'admin',
  'admin',
  'apiKey',
  'apiKey',
  'apiKeyAsBearer',
  'garbage',
);

const extraHeaders: fc.Arbitrary<Record<string, string>> = fc.record(
  {
    'idempotency-key': fc.oneof(
      fc.uuid(),
      fc.string({ unit: 'binary-ascii', maxLength: 300 }).map((s) => s.replace(/[^\x20-\x7e]/g, '')),
    ),
    'x-conflux-project': fc.oneof(fc.uuid(), fc.constantFrom('', 'x', '%00', '00000000-0000-0000-0000-000000000000')),
    'x-conflux-strategy': fc.constantFrom('cheapest', 'fastest', 'local-first', 'x', '', '__proto__'),
    'x-request-id': fc.string({ unit: 'binary-ascii', maxLength: 200 }).map((s) => s.replace(/[^\x21-\x7e]/g, '')),
  },
  { requiredKeys: [] },
);

/** Requests for one operation of the document. */
function requestsFor(
  doc: OpenApiDocument,
  route: string,
  method: string,
  op: Operation,
  ctx: FuzzContext,
): fc.Arbitrary<FuzzRequest> {
  const pathParams = (op.parameters ?? []).filter((p) => p.in === 'path');
  const queryParams = (op.parameters ?? []).filter((p) => p.in === 'query');
  const segments = fc.record(
    Object.fromEntries(
      pathParams.map((p) => {
        const known = (ctx.pathValues[p.name] ?? []).map(encodeSegment);
        return [
          p.name,
          known.length > 0
            ? fc.oneof({ weight: 2, arbitrary: fc.constantFrom(...known) }, { weight: 2, arbitrary: oddSegment })
            : oddSegment,
        ];
      }),
    ),
  );
  const query = fc.tuple(
    fc.record(Object.fromEntries(queryParams.map((p) => [p.name, queryValue(doc, p, ctx)])), { requiredKeys: [] }),
    fc.array(queryPair, { maxLength: 3 }),
  );
  const content = op.requestBody ? Object.entries(op.requestBody.content)[0] : undefined;
  const body: fc.Arbitrary<Encoded> =
    content && content[0] === 'application/json'
      ? encodings(fc.tuple(valueFor(doc, content[1].schema, ctx), mutation).map(([v, m]) => mutate(v, m)))
      : fc.oneof(
          { weight: 4, arbitrary: fc.constant<Encoded>({ headers: {}, variant: 'no body' }) },
          { weight: 1, arbitrary: encodings(hostileValue.map((v) => ({ value: v, variant: 'unexpected body' }))) },
        );
  const otherMethod = fc.oneof(
    { weight: 12, arbitrary: fc.constant(method.toUpperCase()) },
    { weight: 1, arbitrary: fc.constantFrom(...METHODS) },
  );
  return fc.record({ segments, query, body, method: otherMethod, credentials, headers: extraHeaders }).map((r) => {
    const credentials = ctx.anonymousOnly?.(r.method, route) ? 'none' : r.credentials;
    const path = route.replace(/\{([^}]+)\}/g, (_, name: string) => r.segments[name] ?? 'x');
    const pairs = [...Object.entries(r.query[0]).map(([k, v]) => `${k}=${v}`), ...r.query[1]];
    const sendsBody = r.method !== 'GET' && r.method !== 'OPTIONS' && r.body.body !== undefined;
    return {
      method: r.method,
      route,
      path: pairs.length > 0 ? `${path}?${pairs.join('&')}` : path,
      headers: { ...r.headers, ...(sendsBody ? r.body.headers : {}) },
      credentials,
      body: sendsBody ? r.body.body : undefined,
      variant: r.body.variant,
      [fc.toStringMethod]: describeRequest,
    };
  });
}

/** Paths the document does not list, and ways to spell the ones it does. */
const strayPaths: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom(
    '/',
    '/metrics',
    '/docs-json',
    '/v1',
    '/v1/',
    '/V1/CHAT/COMPLETIONS',
    '/v1/chat/completions/',
    '/v1/messages/',
    '//v1//messages',
    '/v2/models',
    '/api',
    '/%00',
    '/%',
    '/%ED%A0%80',
    '/projects/%2e%2e/quota',
    '/.env',
    '/health/%00',
  ),
  fc.array(oddSegment, { minLength: 1, maxLength: 4 }).map((s) => `/${s.join('/')}`),
);

/** Every operation of the document, weighted alike, plus stray paths. */
export function requestArbitrary(doc: OpenApiDocument, ctx: FuzzContext): fc.Arbitrary<FuzzRequest> {
  const operations = Object.entries(doc.paths).flatMap(([route, ops]) =>
    Object.entries(ops).map(([method, op]) => requestsFor(doc, route, method, op, ctx)),
  );
  const stray = fc
    .record({
      path: strayPaths,
      method: fc.constantFrom(...METHODS),
      credentials,
      body: encodings(hostileValue.map((v) => ({ value: v, variant: 'stray body' }))),
    })
    .map((r) => ({
      method: r.method,
      route: '(unknown)',
      path: r.path,
      headers: r.method === 'GET' ? {} : r.body.headers,
      credentials: r.credentials,
      body: r.method === 'GET' || r.method === 'OPTIONS' ? undefined : r.body.body,
      variant: r.body.variant,
      [fc.toStringMethod]: describeRequest,
    }));
  return fc.oneof({ weight: 30, arbitrary: fc.oneof(...operations) }, { weight: 1, arbitrary: stray });
}
