/**
 * Planted leaks, one per channel, through the real local stack: each must be caught by the
 * suite-wide scanner (test/support/leaks/setup.ts and taps.ts), and nothing else may be.
 *
 * Each spec records the scanner's findings before, plants one leak the way a real defect would
 * leak (a debug line in vend, a field filled from the wrong variable, a script dumping a table, a
 * child that prints, a server elsewhere), and asserts exactly which new findings appeared: the kind
 * of secret and the channel. It then excuses exactly those findings, so the file passes only if
 * nothing it did not plant leaked. The unplanted controls (a vend through the same path, its CLI
 * output) must add no finding at all: the legitimate places stay legitimate.
 */
import { execFileSync, spawn } from 'node:child_process';
import { writeSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { Sha256 } from '@aws-crypto/sha256-js';
import type { STSClient } from '@aws-sdk/client-sts';
import { WebClient } from '@slack/web-api';
import { SignatureV4 } from '@smithy/signature-v4';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { LOCAL_BOT_TOKEN } from '../../../infra/local/slack/sink';
import { REGION } from '../../../infra/local/stack';
import { run, VEND } from '../../e2e/cli/harness';
import { withStack } from '../stack';
import { type LeakFinding, leaks } from './scanner';

const stack = withStack();
const EXTERNAL_ID = 'prod-readonly-ext-7f3a'; // prod-readonly's, from the world file
const FAKE_JWT = 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJhbGljZSIsImF1ZCI6InZlbmQifQ.c2lnbmF0dXJlLWJ5dGVz';

let sts: STSClient;
let dynamodb: typeof import('../../../lib/wiring/clients').dynamodb;
beforeAll(async () => {
  ({ sts, dynamodb } = await import('../../../lib/wiring/clients'));
});
afterEach(() => {
  sts.middlewareStack.remove('plant');
  dynamodb.middlewareStack.remove('plant');
});

type Handler = (args: { input: object }) => Promise<{ output: object }>;
/** Plants a middleware on one of vend's own in-process clients (the ones the handlers use). */
function plant(client: Pick<STSClient, 'middlewareStack'>, mw: (next: Handler) => Handler): void {
  (client.middlewareStack as unknown as { add(m: unknown, o: object): void }).add(mw, {
    step: 'initialize',
    name: 'plant',
    override: true,
  });
}

const keyOf = (f: LeakFinding) => `${f.kind}|${f.where}`;
/** The channel of a finding: `console.log`, `response`, `child vend.js stdout`, … (numbers dropped). */
const channelOf = (f: LeakFinding) =>
  f.where
    .replace(/ #\d+$/, '')
    .replace(/#\d+/, '')
    .replace(/ \(\d+\)$/, '')
    .replace(/^log line \d+$/, 'log line');

/** Runs `act`, returns the findings it added as `kind @ channel` (sorted), and excuses them. */
async function caught(act: () => Promise<unknown>): Promise<string[]> {
  const before = new Set(leaks().findings().map(keyOf));
  await act();
  await leaks().settle();
  await new Promise((r) => setTimeout(r, 20)); // servers judge an exchange on 'finish'
  const fresh = leaks()
    .findings()
    .filter((f) => !before.has(keyOf(f)));
  if (process.env.PLANT_DEBUG) process.stderr.write(`fresh: ${JSON.stringify(fresh)}\n`);
  leaks().excuse(fresh);
  return [...new Set(fresh.map((f) => `${f.kind} @ ${channelOf(f)}`))].sort();
}

/** A SigV4-signed request over node:http (not fetch) to the vend API. */
async function signedHttp(
  method: string,
  path: string,
  body?: object,
): Promise<{ status: number; body: string }> {
  const url = new URL(path, stack.apiUrl);
  const text = body === undefined ? undefined : JSON.stringify(body);
  const signed = await new SignatureV4({
    service: 'execute-api',
    region: REGION,
    credentials: stack.credentials('ci'),
    sha256: Sha256,
  }).sign({
    method,
    protocol: url.protocol,
    hostname: url.hostname,
    port: Number(url.port),
    path: url.pathname,
    query: {},
    headers: { host: url.host, ...(text !== undefined && { 'content-type': 'application/json' }) },
    body: text,
  });
  return nodeHttp(url.href, method, signed.headers, text);
}

function nodeHttp(
  url: string,
  method = 'GET',
  headers: Record<string, string> = {},
  body?: string,
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { method, headers }, (res) => {
      let text = '';
      res.on('data', (c) => (text += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

const vend = (body: object = { entitlement: 'prod-readonly', durationSeconds: 900 }) =>
  stack.signedFetch('ci', 'POST', '/v1/service/credentials', body).then(async (r) => ({
    status: r.status,
    json: (await r.json()) as { credentials?: { SecretAccessKey: string }; assumedRoleArn?: string },
  }));

/** STS answers with the assumed-role ARN carrying `value` (a field filled from the wrong variable). */
function plantInAssumedRoleArn(value: string): void {
  plant(sts, (next) => async (args) => {
    const out = await next(args);
    const user = (out.output as { AssumedRoleUser?: { Arn?: string } }).AssumedRoleUser;
    if (user?.Arn) user.Arn = `${user.Arn}/${value}`;
    return out;
  });
}

describe('controls: the legitimate places stay legitimate', () => {
  it('a vend over fetch and node:http, and the CLI printing it as json and env, add no finding', async () => {
    const found = await caught(async () => {
      expect((await vend()).status).toBe(200);
      expect(
        (await signedHttp('POST', '/v1/service/credentials', { entitlement: 'prod-s3-read' })).status,
      ).toBe(200);
      for (const format of ['json', 'env', 'credential-process']) {
        const r = await run([...VEND, 'credentials', 'prod-readonly', '--format', format], {
          ...stack.env,
          AWS_PROFILE: 'ci',
        });
        expect(r.code, r.stderr).toBe(0);
      }
    });
    expect(found).toEqual([]);
  });
});

describe('planted leaks are each caught', () => {
  it('console.log of an ExternalId (a debug line in vend, on its real STS client)', async () => {
    plant(sts, (next) => async (args) => {
      const input = args.input as { RoleArn?: string; ExternalId?: string };
      console.log(`AssumeRole ${input.RoleArn} externalId=${input.ExternalId}`);
      return next(args);
    });
    const found = await caught(async () => expect((await vend()).status).toBe(200));
    expect(found).toEqual(['ExternalId @ console.log']);
  });

  it('console.error of the session token STS just minted (known before vend hands it out)', async () => {
    plant(sts, (next) => async (args) => {
      const out = await next(args);
      console.error(
        'minted',
        (out.output as { Credentials?: { SessionToken?: string } }).Credentials?.SessionToken,
      );
      return out;
    });
    const found = await caught(async () => expect((await vend()).status).toBe(200));
    expect(found).toEqual(['SessionToken @ console.error']);
  });

  it('a log line on stdout carrying an ExternalId (Powertools-style JSON)', async () => {
    plant(sts, (next) => async (args) => {
      process.stdout.write(`${JSON.stringify({ level: 'DEBUG', input: args.input })}\n`);
      return next(args);
    });
    const found = await caught(async () => expect((await vend()).status).toBe(200));
    expect(found).toEqual(['ExternalId @ log line']);
  });

  it('a line written straight to file descriptor 2 (as a pino-style logger does)', async () => {
    plant(sts, (next) => async (args) => {
      writeSync(
        2,
        `${JSON.stringify({ level: 30, externalId: (args.input as { ExternalId?: string }).ExternalId })}\n`,
      );
      return next(args);
    });
    const found = await caught(async () => expect((await vend()).status).toBe(200));
    expect(found).toEqual(['ExternalId @ log line']);
  });

  it('a credentials answer with an ExternalId, a JWT or another session’s key in a field', async () => {
    const other = await vend();
    const otherSecret = other.json.credentials!.SecretAccessKey;
    for (const [value, kind] of [
      [EXTERNAL_ID, 'ExternalId'],
      [FAKE_JWT, 'JWT'],
      [otherSecret, 'SecretAccessKey'],
    ] as const) {
      plantInAssumedRoleArn(value);
      const found = await caught(async () => expect((await vend()).status).toBe(200));
      // The assumed-role ARN is also kept in the session record (requests table), so a value
      // planted in it is caught on that write too.
      expect(found, kind).toEqual([
        `${kind} @ request dynamodb PutItem vend-dev-requests`,
        `${kind} @ response POST /v1/service/credentials`,
      ]);
    }
  });

  it('the vend CLI (a child process) printing such an answer: its stdout and the answer are both caught', async () => {
    plantInAssumedRoleArn(EXTERNAL_ID);
    const found = await caught(async () => {
      const r = await run([...VEND, 'credentials', 'prod-readonly', '--format', 'json'], {
        ...stack.env,
        AWS_PROFILE: 'ci',
      });
      expect(r.code, r.stderr).toBe(0);
    });
    expect(found).toEqual([
      'ExternalId @ child node vend.js stdout',
      // the session record keeps the assumed-role ARN (requests table)
      'ExternalId @ request dynamodb PutItem vend-dev-requests',
      'ExternalId @ response POST /v1/service/credentials',
    ]);
  });

  it('the AWS CLI (a child process) dumping the entitlements table', async () => {
    const found = await caught(async () => {
      const r = await run(
        ['aws', 'dynamodb', 'scan', '--table-name', 'vend-dev-entitlements', '--output', 'json'],
        {
          ...stack.env,
          AWS_PROFILE: 'vend-broker',
        },
      );
      expect(r.code, r.stderr).toBe(0);
    });
    // The table itself holds ExternalIds by design; printing them is the leak.
    expect(found).toEqual(['ExternalId @ child aws stdout']);
  });

  it('a child printing an ExternalId on stderr, and one whose stdout was inherited', async () => {
    const found = await caught(async () => {
      await run(
        ['python3', '-c', 'import sys; sys.stderr.write("ext=" + sys.argv[1])', EXTERNAL_ID],
        stack.env,
      );
      execFileSync(process.execPath, ['-e', 'console.log("ext=" + process.argv[1])', EXTERNAL_ID], {
        stdio: 'inherit',
      });
    });
    expect(found).toEqual(['ExternalId @ child node stdout', 'ExternalId @ child python3 stderr']);
  });

  it('a node:http answer of the vend API carrying an ExternalId (a listing filled from the wrong field)', async () => {
    plant(dynamodb, (next) => async (args) => {
      const out = await next(args);
      // Marshalled or plain, whichever this step sees.
      const items = (out.output as { Items?: Record<string, unknown>[] }).Items ?? [];
      for (const item of items) {
        const ext = item.externalId as string | { S?: string } | undefined;
        if (typeof ext === 'string') item.description = `assumes with ${ext}`;
        else if (ext?.S) item.description = { S: `assumes with ${ext.S}` };
      }
      return out;
    });
    const found = await caught(async () => {
      expect((await signedHttp('GET', '/v1/service/entitlements')).status).toBe(200);
    });
    expect(found).toEqual(['ExternalId @ response GET /v1/service/entitlements']);
  });

  it('an STS request carrying an ExternalId outside its ExternalId parameter (a session tag)', async () => {
    plant(sts, (next) => async (args) => {
      const input = args.input as { ExternalId?: string; Tags?: { Key: string; Value: string }[] };
      input.Tags = [...(input.Tags ?? []), { Key: 'debug', Value: input.ExternalId ?? '' }];
      return next(args);
    });
    // The role does not let vend set that tag (AccessDenied, 503), but the request already left.
    const found = await caught(async () => expect((await vend()).status).toBe(503));
    expect(found).toEqual(['ExternalId @ request sts AssumeRole']);
  });

  it('an audit record carrying a JWT (a caller pasted a token into the reason)', async () => {
    const found = await caught(async () =>
      expect((await vend({ entitlement: 'prod-readonly', reason: `debug ${FAKE_JWT}` })).status).toBe(200),
    );
    expect(found).toEqual(['JWT @ audit record dynamodb PutItem vend-dev-audit']);
  });

  it('a message posted to Slack with an ExternalId, and the sink answering it over node:http', async () => {
    const found = await caught(async () => {
      const slack = new WebClient(LOCAL_BOT_TOKEN, { slackApiUrl: `${stack.awsUrl}/slack/api/` });
      await slack.chat.postMessage({ channel: 'C0VENDAPPROVERS', text: `role trusts ${EXTERNAL_ID}` });
      expect((await nodeHttp(`${stack.awsUrl}/slack/messages`)).status).toBe(200);
    });
    expect(found).toEqual([
      'ExternalId @ request POST /slack/api/chat.postMessage',
      'ExternalId @ response GET /slack/messages',
      'ExternalId @ response POST /slack/api/chat.postMessage',
    ]);
  });

  it('a server in another process answering an ExternalId, read with node:http and with fetch', async () => {
    const child = spawn(
      process.execPath,
      [
        '-e',
        `require('node:http').createServer((q, s) => s.end(q.url + ' ' + process.argv[1]))
           .listen(0, '127.0.0.1', function () { console.log(this.address().port) })`,
        EXTERNAL_ID,
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    try {
      const port = await new Promise<string>((resolve) =>
        child.stdout.once('data', (d) => resolve(String(d).trim())),
      );
      const found = await caught(async () => {
        expect((await nodeHttp(`http://127.0.0.1:${port}/by-node-http`)).status).toBe(200);
        expect(await (await fetch(`http://127.0.0.1:${port}/by-fetch`)).text()).toContain('/by-fetch');
      });
      expect(found).toEqual([
        'ExternalId @ response GET /by-fetch',
        'ExternalId @ response GET /by-node-http',
      ]);
    } finally {
      child.kill();
    }
  });
});
