/**
 * What each Lambda bundle holds, read from esbuild's metafile after building every function of
 * serverless.yml with its own `custom.esbuild` options (infra/bundle/esbuild.ts), so a change to
 * the build or an import that drags a dependency back in fails here rather than in a cold start:
 *
 * - no bundle carries the SDK's default credential chain (SSO, ini, process, web-identity, IMDS
 *   providers, @aws-sdk/nested-clients) or browser-only code (bowser);
 * - only functions that post to Slack carry @slack/web-api (with axios and mime-db), and even they
 *   load it only through a dynamic import, never at cold start; a built bundle really posts with it;
 * - SDK clients are tree-shaken ES modules with the commands vend sends, never an aggregated client.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type BuiltFunction,
  buildLambda,
  entryOf,
  loadedInputs,
  loadService,
  packageOf,
} from '../../infra/bundle/esbuild';

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** The functions whose routes post to Slack (approval messages and their updates). */
const POSTS_TO_SLACK = new Set(['requests', 'slack']);

/** Packages a Lambda never needs: the default chain beyond the environment, and browser code. */
const NEVER = [
  '@aws-sdk/credential-provider-node',
  '@aws-sdk/credential-provider-ini',
  '@aws-sdk/credential-provider-sso',
  '@aws-sdk/credential-provider-process',
  '@aws-sdk/credential-provider-web-identity',
  '@aws-sdk/credential-provider-http',
  '@aws-sdk/credential-provider-login',
  '@aws-sdk/token-providers',
  '@aws-sdk/nested-clients',
  '@smithy/credential-provider-imds',
  '@aws-sdk/util-user-agent-browser',
  'bowser',
];
const SLACK_SDK = ['@slack/web-api', 'axios', 'mime-db', 'form-data'];

let out: string;
const built = new Map<string, BuiltFunction>();

beforeAll(async () => {
  out = await mkdtemp(join(tmpdir(), 'vend-bundles-'));
  const { service, options } = loadService(ROOT);
  for (const fn of service.functions.values()) {
    built.set(fn.key, await buildLambda(options, ROOT, entryOf(fn), join(out, fn.key)));
  }
}, 120_000);

afterAll(async () => {
  if (out) await rm(out, { recursive: true, force: true });
});

const packages = (inputs: Set<string>) =>
  new Set([...inputs].map(packageOf).filter((p): p is string => p !== undefined));

describe('every Lambda bundle', () => {
  it('builds every function of serverless.yml', () => {
    expect([...built.keys()].sort()).toEqual(
      expect.arrayContaining(['audit', 'credentials', 'entitlements', 'health', 'requests', 'slack']),
    );
  });

  it('carries no default credential chain, no nested SDK clients and no browser code', () => {
    for (const [key, fn] of built) {
      const present = packages(loadedInputs(fn).all);
      for (const pkg of NEVER) expect(present.has(pkg), `${key} bundles ${pkg}`).toBe(false);
    }
  });

  it('takes the SDK as ES modules, so only the commands used are in it', () => {
    for (const [key, fn] of built) {
      for (const input of loadedInputs(fn).all) {
        if (!/node_modules\/@aws-sdk\/(client-|lib-dynamodb)/.test(input)) continue;
        expect(input, `${key} bundles a CommonJS build of the SDK`).not.toMatch(/\/dist-cjs\//);
        // The aggregated clients (`new STS().assumeRole(…)`) pull in every command of the service.
        expect(input, `${key} bundles an aggregated client`).not.toMatch(
          /\/dist-es\/(STS|DynamoDB|KMS|DynamoDBDocument)\.js$/,
        );
      }
    }
  });

  it('gives the credentials function one STS command: AssumeRole', () => {
    const commands = [...loadedInputs(built.get('credentials')!).all]
      .filter((i) => i.includes('@aws-sdk/client-sts/dist-es/commands/'))
      .map((i) => i.split('/').at(-1));
    expect(commands).toEqual(['AssumeRoleCommand.js']);
  });

  it('leaves the STS client out of the functions that never call STS', () => {
    for (const key of ['health', 'audit', 'entitlements']) {
      expect(packages(loadedInputs(built.get(key)!).all).has('@aws-sdk/client-sts'), key).toBe(false);
    }
  });
});

describe("Slack's SDK", () => {
  it('is in no bundle of a function that does not post to Slack', () => {
    for (const [key, fn] of built) {
      if (POSTS_TO_SLACK.has(key)) continue;
      const present = packages(loadedInputs(fn).all);
      for (const pkg of SLACK_SDK) expect(present.has(pkg), `${key} bundles ${pkg}`).toBe(false);
    }
  });

  it('is loaded by the functions that post only on their first message, from a chunk of its own', () => {
    for (const key of POSTS_TO_SLACK) {
      const fn = built.get(key)!;
      const { atInit, all } = loadedInputs(fn);
      expect(packages(all).has('@slack/web-api'), key).toBe(true);
      for (const pkg of SLACK_SDK)
        expect(packages(atInit).has(pkg), `${key} loads ${pkg} at init`).toBe(false);
    }
  });

  it('posts from a built bundle: the chunk loads and chat.postMessage reaches the API', async () => {
    const calls: string[] = [];
    const server = createServer((req, res) => {
      calls.push(req.url ?? '');
      req.resume();
      req.on('end', () => {
        res.setHeader('content-type', 'application/json');
        res.end(JSON.stringify({ ok: true, channel: 'C0VENDAPPROVERS', ts: '1795946400.000100' }));
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const dir = await mkdtemp(join(ROOT, '.bundle-spec-'));
    try {
      const entry = join(dir, 'post.ts');
      await writeFile(
        entry,
        [
          "import { WebApiSlackNotifier } from '../lib/slack-api/notifier';",
          'const slack = new WebApiSlackNotifier("xoxb-test", { slackApiUrl: process.env.SLACK_URL });',
          'const ref = await slack.post("C0VENDAPPROVERS", { text: "hello", blocks: [] });',
          'process.stdout.write(JSON.stringify(ref));',
        ].join('\n'),
      );
      const { options } = loadService(ROOT);
      const post = await buildLambda(options, ROOT, entry.slice(ROOT.length), join(out, 'post'));
      expect(packages(loadedInputs(post).atInit).has('@slack/web-api')).toBe(false);
      const { port } = server.address() as AddressInfo;
      const { stdout } = await run(process.execPath, [post.bundle], {
        env: { PATH: process.env.PATH ?? '', SLACK_URL: `http://127.0.0.1:${port}/api/` },
      });
      expect(JSON.parse(stdout)).toEqual({ channel: 'C0VENDAPPROVERS', ts: '1795946400.000100' });
      expect(calls).toEqual(['/api/chat.postMessage']);
    } finally {
      server.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
