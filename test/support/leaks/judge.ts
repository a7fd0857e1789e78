/**
 * What of a channel's text the leak scanner looks at, and which secrets it learns from it. Pure:
 * strings in, verdicts out, so the rules are specified on their own (scanner.test.ts) and the taps
 * (taps.ts) only carry bytes here.
 *
 * The one rule for answers that carry secrets on purpose (a credentials answer, a token answer):
 * only the answer's OWN secret fields are legitimate. They are learned (so they may appear nowhere
 * else) and taken out; the rest of the answer is scanned like any other text. An ExternalId, a JWT
 * or another session's key planted in another field of a credentials answer is therefore a leak.
 *
 * Exchanges (one HTTP request and its response, seen by a server in this process or by a client):
 * - DynamoDB: request bodies are scanned (the audit table's writes as audit records) except for an
 *   entitlements table, which holds ExternalIds by design; answers repeat what was written and are
 *   not scanned again;
 * - STS: the request is scanned without its `ExternalId` parameter (vend must send it there); the
 *   answer with its own Credentials taken out;
 * - the Slack Web API: what vend posts (request body) and what the sink answers;
 * - a token endpoint (`…/token`): the answer's `access_token`, `id_token`, `refresh_token` are its own;
 * - `GET /_local/iam/roles`: the local world's role list, published for `vend lint-trust --endpoint`
 *   with the demo ExternalIds the world file itself publishes: not scanned;
 * - everything else (the vend API above all): the answer is scanned, a credentials 200 without its
 *   own fields; the client's own bearer token echoed back (a gateway spec's echo handler) is not a
 *   leak of the server's. What a client sends to the vend API is its own input and not scanned.
 */
import { gunzipSync, inflateSync } from 'node:zlib';

/** Secrets an answer legitimately carried (its own), to learn. */
export interface Learned {
  issued: { SecretAccessKey?: string; SessionToken?: string }[];
  tokens: string[];
}

/** An answer with its own secret fields taken out. */
export interface Judged extends Learned {
  /** The text left to scan. */
  rest: string;
  /** What kind of answer it was (for the report): `credentials`, `token` or `plain`. */
  shape: 'credentials' | 'token' | 'plain';
}

const JWT_ONLY = /^eyJ[\w-]*\.[\w-]*\.[\w-]*$/;

const plain = (text: string): Judged => ({ rest: text, shape: 'plain', issued: [], tokens: [] });

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => v !== null && typeof v === 'object' && !Array.isArray(v);
const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

/** Takes a credentials object's own secret fields out (in place); returns them. */
function takeCredentials(c: Json): { SecretAccessKey?: string; SessionToken?: string } {
  const own = { SecretAccessKey: str(c.SecretAccessKey), SessionToken: str(c.SessionToken ?? c.Token) };
  for (const k of ['SecretAccessKey', 'SessionToken', 'Token']) if (typeof c[k] === 'string') delete c[k];
  return own;
}

/**
 * A JSON credentials answer at its known places only: vend's `{credentials: {…}}`, the flat shapes
 * of `credential_process` and the container-credentials endpoint (`{AccessKeyId, SecretAccessKey,
 * SessionToken|Token}`), and the AWS CLI / boto3 AssumeRole output (`{Credentials: {…}}`).
 */
function jsonCredentials(json: Json): Judged | undefined {
  const holders = [json.credentials, json.Credentials, json].filter(
    (c): c is Json => isObject(c) && typeof c.SecretAccessKey === 'string',
  );
  const holder = holders[0];
  if (!holder) return undefined;
  const issued = [takeCredentials(holder)];
  return { rest: JSON.stringify(json), shape: 'credentials', issued, tokens: [] };
}

function jsonTokens(json: Json): Judged | undefined {
  const tokens: string[] = [];
  for (const k of ['access_token', 'id_token', 'refresh_token']) {
    const t = str(json[k]);
    if (t !== undefined) {
      tokens.push(t);
      delete json[k];
    }
  }
  return tokens.length > 0 ? { rest: JSON.stringify(json), shape: 'token', issued: [], tokens } : undefined;
}

/** STS's AssumeRole answer (Query protocol XML): the one `<Credentials>` element's secret fields. */
function xmlCredentials(xml: string): Judged | undefined {
  const block = /<Credentials>([\s\S]*?)<\/Credentials>/.exec(xml);
  if (!block) return undefined;
  const field = (name: string) => new RegExp(`<${name}>([^<]*)</${name}>`).exec(block[1]!)?.[1];
  const own = { SecretAccessKey: field('SecretAccessKey'), SessionToken: field('SessionToken') };
  const inner = block[1]!.replace(/<(SecretAccessKey|SessionToken)>[^<]*<\/\1>/g, '<$1>[own]</$1>');
  const rest =
    xml.slice(0, block.index) +
    `<Credentials>${inner}</Credentials>` +
    xml.slice(block.index + block[0].length);
  return { rest, shape: 'credentials', issued: [own], tokens: [] };
}

/** `vend credentials --format env`: the export lines of the secret variables are its own. */
function envCredentials(text: string): Judged | undefined {
  const own: { SecretAccessKey?: string; SessionToken?: string } = {};
  const unquote = (v: string) => v.replace(/^'(.*)'$/s, '$1').replace(/'\\''/g, "'");
  const rest = text.replace(
    /^(export )?(AWS_SECRET_ACCESS_KEY|AWS_SESSION_TOKEN)=(.*)$/gm,
    (_m, exp: string | undefined, name: string, value: string) => {
      if (name === 'AWS_SECRET_ACCESS_KEY') own.SecretAccessKey = unquote(value);
      else own.SessionToken = unquote(value);
      return `${exp ?? ''}${name}=[own]`;
    },
  );
  return own.SecretAccessKey === undefined
    ? undefined
    : { rest, shape: 'credentials', issued: [own], tokens: [] };
}

/**
 * A credentials or token answer with its own secret fields taken out; any other text unchanged.
 *
 * @param opts.tokenAnswer the text is a token endpoint's answer (`…/token`), or a child's whole
 *   stdout (where `vend dev token` prints one JWT)
 * @example judgeAnswer('{"credentials":{"SecretAccessKey":"k",…},"note":"prod-s3-ext-19c2"}').rest
 * // '{"credentials":{…without the key…},"note":"prod-s3-ext-19c2"}' → the ExternalId is found
 */
export function judgeAnswer(text: string, opts: { tokenAnswer?: boolean } = {}): Judged {
  const trimmed = text.trim();
  if (opts.tokenAnswer && JWT_ONLY.test(trimmed))
    return { rest: '', shape: 'token', issued: [], tokens: [trimmed] };
  if (trimmed.startsWith('{')) {
    let json: unknown;
    try {
      json = JSON.parse(trimmed);
    } catch {
      return plain(text);
    }
    if (!isObject(json)) return plain(text);
    return jsonCredentials(json) ?? (opts.tokenAnswer ? jsonTokens(json) : undefined) ?? plain(text);
  }
  if (trimmed.startsWith('<') && trimmed.includes('<Credentials>'))
    return xmlCredentials(text) ?? plain(text);
  if (/^(export )?AWS_SECRET_ACCESS_KEY=/m.test(text)) return envCredentials(text) ?? plain(text);
  return plain(text);
}

/** One HTTP exchange as a tap saw it. Bodies are text (decoded when the answer was compressed). */
export interface Exchange {
  method: string;
  /** Path and query. */
  url: string;
  requestHeaders: Record<string, string | string[] | undefined>;
  /** Undefined when the tap could not see it (a fetch to another process). */
  requestBody?: string;
  status: number;
  responseBody: string;
}

/** What to scan of an exchange, and what it taught. */
export interface ExchangeVerdict extends Learned {
  /** A label for the haystacks: `POST /v1/service/credentials (200)`, `sts AssumeRole (200)`. */
  label: string;
  request?: { text: string; audit: boolean };
  response?: string;
}

const header = (h: Exchange['requestHeaders'], name: string): string => {
  const v = h[name];
  return Array.isArray(v) ? v.join(',') : (v ?? '');
};

/** The bearer token a client sent (the one legitimate place of a person token is that header). */
export function bearerToken(headers: Exchange['requestHeaders']): string | undefined {
  const value = header(headers, 'authorization')
    .replace(/^Bearer\s+/i, '')
    .trim();
  return JWT_ONLY.test(value) ? value : undefined;
}

function service(ex: Exchange): 'dynamodb' | 'sts' | 'slack' | 'other' {
  if (header(ex.requestHeaders, 'x-amz-target').startsWith('DynamoDB_')) return 'dynamodb';
  const scope = /Credential=[^/]+\/\d{8}\/[^/]+\/([^/]+)\/aws4_request/.exec(
    header(ex.requestHeaders, 'authorization'),
  )?.[1];
  if (scope === 'sts') return 'sts';
  const path = ex.url.split('?')[0]!;
  if (
    scope === undefined &&
    path === '/' &&
    /(^|&)Action=/.test(`${ex.url.split('?')[1] ?? ''}&${ex.requestBody ?? ''}`)
  )
    return 'sts';
  if (path.startsWith('/slack/api/')) return 'slack';
  return 'other';
}

function dynamoTables(body: string): string[] {
  try {
    const json = JSON.parse(body) as Json;
    const tables = [str(json.TableName)];
    if (isObject(json.RequestItems)) tables.push(...Object.keys(json.RequestItems));
    if (Array.isArray(json.TransactItems)) {
      for (const t of json.TransactItems as Json[])
        for (const op of Object.values(t ?? {})) tables.push(str((op as Json)?.TableName));
    }
    return tables.filter((t): t is string => t !== undefined);
  } catch {
    return [];
  }
}

/**
 * Decides what of an exchange is scanned (see the module header for the rules).
 *
 * @param auditTable the audit table's name (its writes are counted as audit records)
 */
export function judgeExchange(ex: Exchange, auditTable?: string): ExchangeVerdict {
  const path = ex.url.split('?')[0]!;
  const learned: Learned = { issued: [], tokens: [] };
  const own = bearerToken(ex.requestHeaders);
  if (own) learned.tokens.push(own);
  const kind = service(ex);

  if (kind === 'dynamodb') {
    const op = header(ex.requestHeaders, 'x-amz-target').replace(/^DynamoDB_\d+\./, '');
    const tables = dynamoTables(ex.requestBody ?? '');
    const label = `dynamodb ${op} ${tables.join(',')} (${ex.status})`;
    if (tables.some((t) => /entitlements/i.test(t)) || ex.requestBody === undefined)
      return { label, ...learned };
    const audit =
      auditTable !== undefined ? tables.includes(auditTable) : tables.some((t) => t.endsWith('-audit'));
    return { label, ...learned, request: { text: ex.requestBody, audit } };
  }

  const answer = (tokenAnswer: boolean): string => {
    if (ex.status !== 200) return ex.responseBody;
    const j = judgeAnswer(ex.responseBody, { tokenAnswer });
    learned.issued.push(...j.issued);
    learned.tokens.push(...j.tokens);
    return j.rest;
  };

  if (kind === 'sts') {
    const params = new URLSearchParams(ex.requestBody ?? ex.url.split('?')[1] ?? '');
    const action = params.get('Action') ?? '?';
    params.delete('ExternalId');
    return {
      label: `sts ${action} (${ex.status})`,
      ...(ex.requestBody !== undefined && { request: { text: params.toString(), audit: false } }),
      response: answer(false),
      ...learned,
    };
  }

  const label = `${ex.method} ${path} (${ex.status})`;
  if (kind === 'slack') {
    return {
      label,
      ...(ex.requestBody !== undefined && { request: { text: ex.requestBody, audit: false } }),
      response: ex.responseBody,
      ...learned,
    };
  }
  if (ex.method === 'GET' && path === '/_local/iam/roles') return { label, ...learned };
  let response = answer(/\/token$/.test(path));
  if (own) response = response.split(own).join("[the caller's own token]");
  return { label, response, ...learned };
}

/** A body as text, decoded per `content-encoding` (gzip, deflate); undecodable bytes as they are. */
export function bodyText(chunks: readonly Buffer[], encoding: string | undefined): string {
  const raw = Buffer.concat(chunks);
  try {
    if (encoding === 'gzip') return gunzipSync(raw).toString('utf8');
    if (encoding === 'deflate') return inflateSync(raw).toString('utf8');
  } catch {
    // Scan what there is.
  }
  return raw.toString('utf8');
}
