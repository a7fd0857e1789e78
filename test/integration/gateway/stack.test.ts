/**
 * The local stack as `npm start` composes it, with the repository's serverless.yml: the health
 * function through the gateway, the OIDC issuer as a JWT library sees it, the Slack sink as
 * @slack/web-api sees it, the profile files, and `vend dev token`.
 */
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { promisify } from 'node:util';
import { DynamoDBClient, ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { WebClient } from '@slack/web-api';
import { createRemoteJWKSet, jwtVerify } from 'jose';
import { describe, expect, it } from 'vitest';
import { withStack } from '../../support/stack';

const run = promisify(execFile);
// State on disk (in a temp dir) so `vend dev token` finds the issuer key, as after `npm start`.
const stack = withStack({ memory: false });

describe('the vend API through the local gateway', () => {
  it('GET /v1/health runs the real function: 200 {status, version}, no-store', async () => {
    const res = await fetch(`${stack.apiUrl}/v1/health`);

    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: 'ok', version: expect.stringMatching(/^\d+\.\d+\.\d+/) });
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(res.headers.get('apigw-requestid')).toBeTruthy();
  });

  it('created the tables declared in serverless.yml', async () => {
    const client = new DynamoDBClient({
      region: 'us-east-1',
      endpoint: stack.awsUrl,
      credentials: stack.credentials('vend-broker'),
    });

    const { TableNames } = await client.send(new ListTablesCommand({}));

    expect(TableNames).toEqual(
      expect.arrayContaining([
        'vend-dev-entitlements',
        'vend-dev-audit',
        'vend-dev-requests',
        'vend-dev-limits',
      ]),
    );
    client.destroy();
  });
});

describe('the local OIDC issuer', () => {
  it('publishes discovery and a JWKS that verifies its tokens (jose createRemoteJWKSet)', async () => {
    const discovery = (await (
      await fetch(`${stack.stack.oidc.issuer}/.well-known/openid-configuration`)
    ).json()) as Record<string, string>;
    const jwks = createRemoteJWKSet(new URL(discovery.jwks_uri!));

    const { payload, protectedHeader } = await jwtVerify(await stack.token('dave'), jwks, {
      issuer: discovery.issuer,
      audience: 'vend',
      algorithms: ['RS256'],
    });

    expect(discovery.issuer).toBe(`${stack.awsUrl}/oidc`);
    expect(discovery.device_authorization_endpoint).toBe(`${stack.awsUrl}/oidc/device_authorization`);
    expect(protectedHeader.alg).toBe('RS256');
    expect(payload).toMatchObject({
      email: 'dave@example.com',
      preferred_username: 'dave',
      groups: ['oncall'],
    });
    expect(payload.sub).not.toContain('@');
  });

  it('vend dev token mints offline from the persisted key a token the gateway accepts', async () => {
    const { stdout } = await run(process.execPath, ['bin/vend.js', 'dev', 'token', '--user', 'erin'], {
      env: stack.env,
    });
    const jwks = createRemoteJWKSet(new URL(`${stack.stack.oidc.issuer}/jwks.json`));

    const { payload } = await jwtVerify(stdout.trim(), jwks, {
      issuer: stack.stack.oidc.issuer,
      audience: 'vend',
    });

    expect(payload.groups).toEqual(['auditors']);
  });

  it('vend dev token refuses an unknown user with one line and exit 2', async () => {
    const failure = await run(process.execPath, ['bin/vend.js', 'dev', 'token', '--user', 'zoe'], {
      env: stack.env,
    }).catch((e: { code: number; stderr: string; stdout: string }) => e);

    expect(failure).toMatchObject({ code: 2, stdout: '' });
    expect((failure as { stderr: string }).stderr.trim().split('\n')).toEqual([
      expect.stringContaining("unknown user 'zoe'"),
    ]);
  });

  it('completes the device authorization grant once the user approves', async () => {
    const form = (fields: Record<string, string>) => ({
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams(fields).toString(),
    });
    const start = (await (
      await fetch(`${stack.stack.oidc.issuer}/device_authorization`, form({ client_id: 'vend-cli' }))
    ).json()) as Record<string, string>;
    const grant = {
      grant_type: 'urn:ietf:params:oauth:grant-type:device_code',
      device_code: start.device_code!,
      client_id: 'vend-cli',
    };
    const pending = await fetch(`${stack.stack.oidc.issuer}/token`, form(grant));

    const approved = await fetch(`${stack.stack.oidc.issuer}/device/approve`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ user_code: start.user_code, user: 'alice' }),
    });
    const tokens = (await (await fetch(`${stack.stack.oidc.issuer}/token`, form(grant))).json()) as Record<
      string,
      string
    >;
    const jwks = createRemoteJWKSet(new URL(`${stack.stack.oidc.issuer}/jwks.json`));
    const { payload } = await jwtVerify(tokens.access_token!, jwks, {
      issuer: stack.stack.oidc.issuer,
      audience: 'vend',
    });

    expect(pending.status).toBe(400);
    expect(await pending.json()).toMatchObject({ error: 'authorization_pending' });
    expect(approved.status).toBe(200);
    expect(tokens.token_type).toBe('Bearer');
    expect(tokens.refresh_token).toBeTruthy();
    expect(payload.preferred_username).toBe('alice');
  });
});

describe('the local Slack sink', () => {
  const slack = () =>
    new WebClient('xoxb-local-vend-bot', {
      slackApiUrl: `${stack.awsUrl}/slack/api/`,
      retryConfig: { retries: 0 },
    });

  it('answers chat.postMessage and chat.update like Slack and records both', async () => {
    await fetch(`${stack.awsUrl}/slack/messages`, { method: 'DELETE' });
    const client = slack();

    const posted = await client.chat.postMessage({
      channel: 'C0APPROVALS',
      text: 'alice asks for prod-admin',
      blocks: [{ type: 'section', text: { type: 'mrkdwn', text: '*prod-admin*' } }],
    });
    const second = await client.chat.postMessage({ channel: 'C0APPROVALS', text: 'again' });
    const updated = await client.chat.update({
      channel: 'C0APPROVALS',
      ts: posted.ts!,
      text: 'approved by bob',
    });
    const listed = (await (await fetch(`${stack.awsUrl}/slack/messages?channel=C0APPROVALS`)).json()) as {
      calls: { method: string; args: Record<string, unknown>; ts: string }[];
    };

    expect(posted).toMatchObject({
      ok: true,
      channel: 'C0APPROVALS',
      message: { text: 'alice asks for prod-admin' },
    });
    expect(Number(second.ts)).toBeGreaterThan(Number(posted.ts));
    expect(updated).toMatchObject({ ok: true, ts: posted.ts, text: 'approved by bob' });
    expect(listed.calls.map((c) => c.method)).toEqual([
      'chat.postMessage',
      'chat.postMessage',
      'chat.update',
    ]);
    expect(listed.calls[0]!.args.blocks).toEqual([
      { type: 'section', text: { type: 'mrkdwn', text: '*prod-admin*' } },
    ]);
    expect(JSON.stringify(listed)).not.toContain('xoxb-');
  });

  it('answers users.info for the demo people and refuses a wrong token with invalid_auth', async () => {
    const info = await slack().users.info({ user: 'U0BOB' });
    const wrong = new WebClient('xoxb-wrong', {
      slackApiUrl: `${stack.awsUrl}/slack/api/`,
      retryConfig: { retries: 0 },
    });

    expect(info.user).toMatchObject({ id: 'U0BOB', name: 'bob', profile: { email: 'bob@example.com' } });
    await expect(wrong.auth.test()).rejects.toMatchObject({ data: { ok: false, error: 'invalid_auth' } });
  });
});

describe('the AWS profile files', () => {
  it('hold the ci and vend-broker base sessions with their region', async () => {
    const credentials = await readFile(stack.env.AWS_SHARED_CREDENTIALS_FILE!, 'utf8');
    const config = await readFile(stack.env.AWS_CONFIG_FILE!, 'utf8');

    expect(credentials).toContain(`[ci]\naws_access_key_id = ${stack.credentials('ci').accessKeyId}`);
    expect(credentials).toContain('[vend-broker]');
    expect(config).toContain('[profile ci]\nregion = us-east-1');
    expect(stack.env.VEND_URL).toBe(stack.apiUrl);
  });

  it('work with the real AWS CLI through AWS_ENDPOINT_URL', async () => {
    const { stdout } = await run(
      'aws',
      ['sts', 'get-caller-identity', '--profile', 'ci', '--output', 'json'],
      { env: stack.env },
    );

    expect(JSON.parse(stdout).Arn).toBe(stack.stack.keys.ci!.principal.arn);
  });
});
