/**
 * The local API Gateway refuses a SigV4 credential scope that is not its own, on the route that
 * answers with credentials (`POST /v1/service/credentials`), as API Gateway does: 403, the message
 * in `{"message": …}` and `x-amzn-errortype: InvalidSignatureException`, before any function runs,
 * so nothing is vended and nothing is audited. Tried with real clients (the `vend` CLI with a wrong
 * AWS_REGION, botocore signing a tampered region/service/clock, an SDK v3 presigned URL) and with
 * requests signed correctly by hand over each wrong scope part (test/support/sigv4.ts), so only
 * the scope check can refuse them. API Gateway allows 5 minutes of clock skew (the message says
 * `- 5 min.`); sources in infra/local/gateway/authorizers.ts and infra/local/sigv4/verify.ts.
 */
import { Sha256 } from '@aws-crypto/sha256-js';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SignatureV4 } from '@smithy/signature-v4';
import { beforeAll, describe, expect, it } from 'vitest';
import { REGION } from '../../../infra/local/stack';
import { vend } from '../../e2e/cli/harness';
import { scanTable } from '../../support/audit-table';
import { amzDateOf, type HandScope, handSign } from '../../support/sigv4';
import { withStack } from '../../support/stack';

const stack = withStack();
const PATH = '/v1/service/credentials';
const BODY = JSON.stringify({ entitlement: 'prod-readonly', durationSeconds: 900 });
const REGION_MESSAGE = 'Credential should be scoped to a valid region. ';

/** botocore's SigV4Auth on a POST to the gateway, per case [name, service, region, clock shift]. */
const BOTOCORE = `
import json, sys, datetime
import botocore.auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from botocore.httpsession import URLLib3Session
url, body, key, secret, token, cases = sys.argv[1:7]
creds = Credentials(key, secret, token)
real_now = botocore.auth.get_current_datetime
out = {}
for name, service, region, minutes in json.loads(cases):
    req = AWSRequest(method="POST", url=url, data=body, headers={"Content-Type": "application/json"})
    botocore.auth.get_current_datetime = lambda *a, **k: real_now(*a, **k) + datetime.timedelta(minutes=minutes)
    try:
        botocore.auth.SigV4Auth(creds, service, region).add_auth(req)
    finally:
        botocore.auth.get_current_datetime = real_now
    res = URLLib3Session().send(req.prepare())
    # A 200 is a credentials answer: only its status is asserted, so its secrets are not printed.
    out[name] = {"status": res.status_code, "body": "" if res.status_code == 200 else res.text,
                 "errortype": res.headers.get("x-amzn-errortype")}
print(json.dumps(out))
`;

type Answer = { status: number; body: string; errortype: string | null };

/** How many vend audit records (intent, issued, denied) the stack's trail holds. */
async function auditCount(): Promise<number> {
  const broker = stack.credentials('vend-broker');
  const client = new DynamoDBClient({ region: REGION, endpoint: stack.awsUrl, credentials: broker });
  // Vend records only (a sealer may add digests meanwhile; they are not what is counted here).
  const records = await scanTable(client, stack.env.VEND_AUDIT_TABLE);
  return records.filter((r) => ['intent', 'issued', 'denied'].includes(String(r.decision))).length;
}

/** Refused as API Gateway refuses a bad signature: 403, the exact message, InvalidSignatureException. */
function expectRefused(a: Answer, message: string | RegExp): void {
  expect(a.status).toBe(403);
  expect(a.errortype).toBe('InvalidSignatureException');
  const body = JSON.parse(a.body) as { message: string };
  expect(Object.keys(body)).toEqual(['message']);
  if (typeof message === 'string') expect(body.message).toBe(message);
  else expect(body.message).toMatch(message);
  expect(a.body).not.toContain('SecretAccessKey');
}

describe('the gateway refuses a credential scope that is not its own (POST /v1/service/credentials)', () => {
  let before: number;

  beforeAll(async () => {
    before = await auditCount();
  });

  /** A POST signed correctly by hand as `ci` under `scope` (defaults: today, us-east-1, execute-api). */
  async function handSigned(
    scope: Partial<HandScope>,
    o: { shiftMinutes?: number; credential?: string } = {},
  ): Promise<Answer> {
    const url = new URL(PATH, stack.apiUrl);
    const key = stack.credentials('ci');
    const at = new Date(Date.now() + (o.shiftMinutes ?? 0) * 60_000);
    const headers = handSign({
      method: 'POST',
      path: PATH,
      headers: { host: url.host, 'content-type': 'application/json' },
      body: BODY,
      accessKeyId: key.accessKeyId,
      secretAccessKey: key.secretAccessKey,
      ...(key.sessionToken !== undefined && { sessionToken: key.sessionToken }),
      amzDate: amzDateOf(at),
      scope: { date: amzDateOf(at).slice(0, 8), region: REGION, service: 'execute-api', ...scope },
      ...(o.credential !== undefined && { credential: o.credential }),
    });
    const res = await fetch(url, { method: 'POST', headers, body: BODY });
    return { status: res.status, body: await res.text(), errortype: res.headers.get('x-amzn-errortype') };
  }

  describe('requests signed correctly by hand over one wrong scope part', () => {
    it('the right scope is served with credentials (the control)', async () => {
      const a = await handSigned({});

      expect(a.status).toBe(200);
      expect(JSON.parse(a.body).credentials.AccessKeyId).toMatch(/^ASIA/);
    });

    it.each<[string, Partial<HandScope>, (day: string) => string]>([
      ['region (eu-west-1)', { region: 'eu-west-1' }, () => REGION_MESSAGE],
      [
        'service (sts)',
        { service: 'sts' },
        () => "Credential should be scoped to correct service: 'execute-api'. ",
      ],
      [
        'terminator (aws4_request_)',
        { terminator: 'aws4_request_' },
        () => "Credential should be scoped with a valid terminator: 'aws4_request', not 'aws4_request_'. ",
      ],
      [
        'date (yesterday)',
        { date: amzDateOf(new Date(Date.now() - 86_400_000)).slice(0, 8) },
        (day) =>
          `Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '${amzDateOf(new Date(Date.now() - 86_400_000)).slice(0, 8)}' != '${day}', from '`,
      ],
    ])('a wrong %s → 403 with AWS’s message', async (_part, scope, message) => {
      const a = await handSigned(scope);

      expectRefused(a, new RegExp(`^${escapeRegExp(message(amzDateOf(new Date()).slice(0, 8)))}`));
    });

    it('a request date 16 minutes off either way → 403 "Signature expired" / "not yet current" (5 min.)', async () => {
      expectRefused(
        await handSigned({}, { shiftMinutes: -16 }),
        /^Signature expired: \d{8}T\d{6}Z is now earlier than \d{8}T\d{6}Z \(\d{8}T\d{6}Z - 5 min\.\)$/,
      );
      expectRefused(
        await handSigned({}, { shiftMinutes: 16 }),
        /^Signature not yet current: \d{8}T\d{6}Z is still later than \d{8}T\d{6}Z \(\d{8}T\d{6}Z \+ 5 min\.\)$/,
      );
    });

    it('6 minutes off is already too far for API Gateway (5 minutes)', async () => {
      expectRefused(await handSigned({}, { shiftMinutes: -6 }), /^Signature expired: .* - 5 min\.\)$/);
    });

    it('a malformed credential (four parts) → 403 IncompleteSignatureException', async () => {
      const credential = `${stack.credentials('ci').accessKeyId}/${amzDateOf(new Date()).slice(0, 8)}/${REGION}/execute-api`;

      const a = await handSigned({}, { credential });

      expect(a.status).toBe(403);
      expect(a.errortype).toBe('IncompleteSignatureException');
      expect(JSON.parse(a.body)).toEqual({
        message: `Credential must have exactly 5 slash-delimited elements, e.g. keyid/date/region/service/term, got '${credential}'`,
      });
    });
  });

  describe('real clients', () => {
    it('botocore signing for another region, another service or a clock 16 minutes off is refused', async () => {
      const key = stack.credentials('ci');
      const cases = [
        ['control', 'execute-api', REGION, 0],
        ['region', 'execute-api', 'eu-west-1', 0],
        ['service', 'lambda', REGION, 0],
        ['clock', 'execute-api', REGION, -16],
      ];
      const { run } = await import('../local-aws/harness');
      const r = await run(
        'python3',
        [
          '-c',
          BOTOCORE,
          new URL(PATH, stack.apiUrl).toString(),
          BODY,
          key.accessKeyId,
          key.secretAccessKey,
          key.sessionToken ?? '',
          JSON.stringify(cases),
        ],
        stack.env,
      );
      if (r.code !== 0) throw new Error(`python3 failed: ${r.stderr}`);
      const out = JSON.parse(r.stdout) as Record<string, Answer>;

      expect(out.control?.status).toBe(200);
      expectRefused(out.region!, REGION_MESSAGE);
      expectRefused(out.service!, "Credential should be scoped to correct service: 'execute-api'. ");
      expectRefused(out.clock!, /^Signature expired: .* - 5 min\.\)$/);
    });

    it('the vend CLI with AWS_REGION=eu-west-1 fails with the gateway’s message and vends nothing', async () => {
      const env = {
        ...stack.env,
        AWS_PROFILE: 'ci',
        AWS_REGION: 'eu-west-1',
        AWS_DEFAULT_REGION: 'eu-west-1',
      };

      const out = await vend(['credentials', 'prod-readonly', '--format', 'json'], env);

      expect(out.code).not.toBe(0);
      expect(out.stdout).toBe('');
      expect(out.stderr).toContain('Credential should be scoped to a valid region.');
      expect(out.stderr.trim().split('\n')).toHaveLength(1);
    });

    it('an SDK v3 presigned GET scoped to another region is refused; the same in the stack region passes', async () => {
      const presign = async (region: string) => {
        const url = new URL('/v1/service/entitlements', stack.apiUrl);
        const signer = new SignatureV4({
          service: 'execute-api',
          region,
          credentials: stack.credentials('ci'),
          sha256: Sha256,
        });
        const signed = await signer.presign(
          {
            method: 'GET',
            protocol: url.protocol,
            hostname: url.hostname,
            port: Number(url.port),
            path: url.pathname,
            headers: { host: url.host },
          },
          { expiresIn: 60 },
        );
        const query = new URLSearchParams(signed.query as Record<string, string>).toString();
        const res = await fetch(`${url}?${query}`);
        return { status: res.status, body: await res.text(), errortype: res.headers.get('x-amzn-errortype') };
      };

      expectRefused(await presign('eu-west-1'), REGION_MESSAGE);
      expect((await presign(REGION)).status).toBe(200);
    });
  });

  it('none of the refusals reached a function: the only audit records are the controls’', async () => {
    // The controls above vended once each (hand-signed and botocore): intent + issued per vend.
    expect((await auditCount()) - before).toBe(4);
  });
});

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
