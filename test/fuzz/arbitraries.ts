/**
 * fast-check generators for the route fuzz: bodies that start valid and are mutated (a field
 * removed, retyped, added, the whole value replaced), serialised in hostile ways (truncated, BOM,
 * invalid UTF-8, random bytes, form encoding, huge, deeply nested, duplicate keys), header sets
 * (content-type variants, duplicates joined as HTTP joins them, missing, junk headers) and queries.
 */
import fc from 'fast-check';

/** Every entitlement of the demo world, plus near misses. */
export const ENTITLEMENT_IDS = [
  'prod-readonly',
  'prod-deploy',
  'prod-s3-read',
  'staging-deploy',
  'prod-admin',
  'PROD-READONLY',
  'prod-readonly ',
  'prod_readonly',
  'no-such-thing',
  '',
];

const S3_PREFIX_POLICY = {
  Version: '2012-10-17',
  Statement: [{ Effect: 'Allow', Action: 's3:GetObject', Resource: 'arn:aws:s3:::my-prod-data-bucket/r/*' }],
};
const EVERYTHING_POLICY = {
  Version: '2012-10-17',
  Statement: [{ Effect: 'Allow', Action: '*', Resource: '*' }],
};
const POLICIES: unknown[] = [
  S3_PREFIX_POLICY,
  EVERYTHING_POLICY,
  JSON.stringify(S3_PREFIX_POLICY),
  '{"Version": "2012-10-17", "Statement": [',
  { Version: '2012-10-17', Statement: [] },
  { Statement: { Effect: 'Deny', Action: 's3:*', Resource: '*' } },
  [],
  'null',
];

/** Strings that have broken parsers before: control characters, RTL, emoji, lone surrogates. */
const nastyString = fc.oneof(
  fc.string(),
  fc.string({ unit: 'grapheme', maxLength: 40 }),
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.constantFrom(
    '\u0000',
    '\ud800',
    '\udfff',
    '‮evil',
    '部署🔥',
    '\r\n\t',
    '\u0024{jndi:ldap://x}',
    '<script>',
    "'; DROP TABLE audit; --",
    '../../etc/passwd',
    '%00',
    'x'.repeat(513),
    'x'.repeat(5000),
  ),
);

const durations = fc.oneof(
  fc.constantFrom(
    900,
    1800,
    3600,
    899,
    3601,
    7200,
    0,
    -1,
    -900,
    43201,
    1e9,
    900.5,
    '900',
    '7200',
    null,
    true,
    Number.MAX_VALUE,
  ),
  fc.integer(),
  fc.double(),
);

/** A vend body, mostly shaped right, values from the edges. */
export const vendBody = fc.record(
  {
    entitlement: fc.oneof({ weight: 4, arbitrary: fc.constantFrom(...ENTITLEMENT_IDS) }, nastyString),
    durationSeconds: durations,
    policy: fc.oneof({ weight: 3, arbitrary: fc.constantFrom(...POLICIES) }, fc.jsonValue({ maxDepth: 3 })),
    reason: fc.oneof({ weight: 3, arbitrary: fc.string({ maxLength: 40 }) }, nastyString),
  },
  { requiredKeys: [] },
);

/** A vend body that is valid for a caller who may use `usable` (the property must let it through). */
export function validVendBody(usable: readonly string[]): fc.Arbitrary<Record<string, unknown>> {
  return fc.record(
    {
      entitlement: fc.constantFrom(...usable),
      durationSeconds: fc.integer({ min: 900, max: 3600 }),
      reason: fc.string({ unit: 'grapheme', maxLength: 100 }),
    },
    { requiredKeys: ['entitlement'] },
  );
}

/** A request body (`POST /v1/requests`): the vend fields plus breakGlass and ticket. */
export const requestBody = fc.record(
  {
    entitlement: fc.oneof({ weight: 4, arbitrary: fc.constantFrom(...ENTITLEMENT_IDS) }, nastyString),
    durationSeconds: durations,
    reason: fc.oneof({ weight: 3, arbitrary: fc.constant('INC-7 rotate the db password') }, nastyString),
    breakGlass: fc.oneof(fc.boolean(), fc.constantFrom('true', 1, null)),
    ticket: fc.oneof(fc.constantFrom('INC-7', ''), nastyString),
  },
  { requiredKeys: [] },
);

/** A decision body (`…/approve|deny`). */
export const decisionBody = fc.record(
  { comment: fc.oneof(fc.string(), nastyString, fc.anything()) },
  {
    requiredKeys: [],
  },
);

const RESERVED_KEYS = [
  'roleArn',
  'RoleArn',
  'externalId',
  'ExternalId',
  'sessionName',
  'sourceIdentity',
  'tags',
  'policyArns',
  'accountId',
  '__proto__',
  'constructor',
  'prototype',
  'Entitlement',
];

/** Mutates a generated object: keeps it, drops or retypes a key, adds one, or replaces it. */
export function mutated(base: fc.Arbitrary<Record<string, unknown>>): fc.Arbitrary<unknown> {
  return fc.oneof(
    { weight: 5, arbitrary: base },
    {
      weight: 2,
      arbitrary: fc
        .tuple(base, fc.oneof(fc.constantFrom(...RESERVED_KEYS), fc.string()), fc.anything())
        .map(([b, k, v]) => Object.assign({}, b, { [k]: v })),
    },
    {
      weight: 1,
      arbitrary: fc.tuple(base, fc.anything()).map(([b, v]) => {
        const keys = Object.keys(b);
        return keys.length === 0 ? v : { ...b, [keys[0]!]: v };
      }),
    },
    { weight: 1, arbitrary: base.map((b) => [b]) },
    { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 4 }) },
    { weight: 1, arbitrary: fc.anything({ maxDepth: 3 }) },
  );
}

const enc = (s: string) => Buffer.from(s, 'utf8');

/** Raw bodies that are hostile as bytes, whatever they say. */
const hostileBytes = fc.oneof(
  fc.uint8Array({ maxLength: 300 }).map((a) => Buffer.from(a)),
  fc.constantFrom(
    Buffer.alloc(0),
    enc('{"entitlement": '),
    enc('{"entitlement":"prod-admin","entitlement":"prod-readonly"}'),
    enc('{"__proto__":{"entitlement":"prod-readonly"}}'),
    enc('{"constructor":{"prototype":{"admin":true}},"entitlement":"prod-readonly"}'),
    enc('entitlement=prod-readonly&durationSeconds=900'),
    enc('[]'),
    enc('null'),
    enc('"prod-readonly"'),
    enc('1e999'),
    enc('{"entitlement":"prod-readonly","durationSeconds":1e999}'),
    enc(`${'['.repeat(10_000)}${']'.repeat(10_000)}`),
    enc(`{"entitlement":"prod-readonly","reason":"${'x'.repeat(70 * 1024)}"}`),
    Buffer.concat([enc('{"entitlement":"prod-'), Buffer.from([0xff, 0xfe, 0xc3]), enc('readonly"}')]),
    enc('{"entitlement":"prod-readonly","reason":"\\ud800"}'),
    enc('\u0000{"entitlement":"prod-readonly"}'),
  ),
);

/** Serialises a value the way a client would, or the way a broken or hostile one would. */
export function serialised(value: fc.Arbitrary<unknown>): fc.Arbitrary<Buffer> {
  return fc.oneof(
    { weight: 8, arbitrary: value.map((v) => enc(JSON.stringify(v) ?? 'undefined')) },
    {
      weight: 1,
      arbitrary: fc.tuple(value, fc.nat()).map(([v, n]) => {
        const s = JSON.stringify(v) ?? '';
        return enc(s.slice(0, s.length === 0 ? 0 : n % s.length));
      }),
    },
    { weight: 1, arbitrary: value.map((v) => enc(`\ufeff${JSON.stringify(v)}`)) },
    {
      weight: 1,
      arbitrary: fc.tuple(value, fc.nat()).map(([v, n]) => {
        const b = enc(JSON.stringify(v) ?? '');
        const at = b.length === 0 ? 0 : n % b.length;
        return Buffer.concat([b.subarray(0, at), Buffer.from([0xff, 0xc0]), b.subarray(at)]);
      }),
    },
    { weight: 2, arbitrary: hostileBytes },
  );
}

/** Header values a client can put on the wire (printable ASCII). */
const headerValue = fc.string({
  unit: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)),
  maxLength: 60,
});

const CONTENT_TYPES = [
  'application/json',
  'application/json; charset=utf-8',
  'APPLICATION/JSON',
  'application/json;charset=latin1',
  'text/plain',
  'application/x-www-form-urlencoded',
  'application/octet-stream',
  'multipart/form-data; boundary=x',
  'application/problem+json',
  'application/json, application/json',
  'application/json, text/plain',
  '',
  ';',
];

/** Headers: a content type (or none) and junk headers. */
export function headers(
  contentTypes: readonly string[] = CONTENT_TYPES,
): fc.Arbitrary<Record<string, string>> {
  return fc
    .tuple(
      fc.option(fc.constantFrom(...contentTypes), { nil: undefined }),
      fc.dictionary(
        fc.constantFrom(
          'accept',
          'user-agent',
          'x-forwarded-for',
          'x-amzn-trace-id',
          'x-request-id',
          'content-encoding',
          'cookie',
          'origin',
          'x-api-key',
          'accept-encoding',
        ),
        headerValue,
        { maxKeys: 3 },
      ),
    )
    .map(([ct, extra]) => ({ ...extra, ...(ct !== undefined ? { 'content-type': ct } : {}) }));
}

/** Query strings: known keys with edge values, junk keys, broken escapes. */
export const query = fc.oneof(
  fc.constant(''),
  fc
    .dictionary(
      fc.oneof(
        fc.constantFrom('status', 'mine', 'since', 'until', 'caller', 'entitlement', 'cursor', 'limit'),
        fc.string({ maxLength: 8 }),
      ),
      fc.oneof(
        fc.constantFrom(
          'pending',
          'approved',
          'true',
          'false',
          '2026-11-29T00:00:00Z',
          'not-a-date',
          '-1',
          '99999999999',
          'prod-readonly',
          'x'.repeat(3000),
          'x'.repeat(10_240),
          '\u0000',
          'pending\u0000',
          '../..',
          '部署🔥',
        ),
        fc.string({ maxLength: 20 }),
        fc.string({ unit: 'grapheme', maxLength: 10 }),
      ),
      { maxKeys: 4 },
    )
    .map((d) => new URLSearchParams(d).toString()),
  fc.constantFrom('%', '%zz', '&&=&', 'status=pending&status=approved', 'cursor=%FF%FE', 'a=%00'),
);

/**
 * Hostile path ids: 10 kB, NUL bytes, traversal (raw, and already encoded so it arrives as
 * `..%2F..`), non-ASCII, look-alikes and near-ULIDs. None has the shape of an id vend made.
 */
export const HOSTILE_IDS = [
  'A'.repeat(10_240),
  '\u0000',
  '01J0000000000000000000000\u0000',
  '../..',
  '..%2F..',
  '..',
  '%2e%2e',
  'a'.repeat(300),
  '部署',
  '部署🔥'.repeat(8),
  '01J0000000000000000000000Ａ',
  '01j00000000000000000000000',
  '01J0000000000000000000000',
  '01J000000000000000000000000',
  '01J0000000000000000000000U',
  '0',
];

/** The shape of every id vend makes (a ULID, lib/ids.ts), written out here so the oracle is independent. */
export const ULID_SHAPE = /^[0-9A-HJKMNP-TV-Z]{26}$/;

/** Path ids: real ones the suite made, ULID-shaped strangers, and junk. */
export function ids(real: () => string[]): fc.Arbitrary<string> {
  return fc.oneof(
    {
      weight: 3,
      arbitrary: fc
        .integer({ min: 0, max: 1000 })
        .map((i) => real()[i % Math.max(1, real().length)] ?? 'none'),
    },
    fc.constantFrom('01J00000000000000000000000', ...HOSTILE_IDS),
    fc.string({ minLength: 1, maxLength: 30 }),
    // Not 'binary': a lone surrogate cannot be put in a URL at all (encodeURIComponent throws).
    fc.string({ unit: 'grapheme', minLength: 1, maxLength: 30 }),
  );
}
