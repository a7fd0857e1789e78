/**
 * Console sign-in end to end (issue 15 §1, "must show"): alice asks vend for a console URL for
 * prod-readonly, follows it hop by hop (vend → the local federation endpoint's login → the local
 * console page) and lands on a page naming `assumed-role/ProdReadOnly/…`; no response on the way
 * carries the session's SecretAccessKey or token (read from the local IAM store, the only place
 * they exist outside STS). The same vend rules hold as for keys; inside a break-glass grant too;
 * and revoking a console session closes its page at once.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { scanTable } from '../support/audit-table';
import { withStack } from '../support/stack';

const stack = withStack();

let dynamodb: typeof import('../../lib/wiring/clients').dynamodb;
beforeAll(async () => {
  ({ dynamodb } = await import('../../lib/wiring/clients'));
});

interface ConsoleAnswer {
  url: string;
  expiresAt: string;
  entitlement: string;
  auditId: string;
  assumedRoleArn: string;
}

async function call(user: string, method: string, path: string, body?: unknown) {
  const res = await fetch(`${stack.apiUrl}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${await stack.token(user)}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await res.text();
  return { res, text, json: (text ? JSON.parse(text) : {}) as Record<string, unknown> };
}

/** The live session vend recorded for an audit id (as its owner lists it). */
async function sessionOf(user: string, auditId: string) {
  const { json } = await call(user, 'GET', '/v1/sessions');
  return (
    json.sessions as { auditId: string; accessKeyId: string; delivery: string; accessRequestId?: string }[]
  ).find((s) => s.auditId === auditId);
}

/** Follows a URL one redirect at a time, keeping every hop (status, headers, body). */
async function follow(
  url: string,
): Promise<{ status: number; url: string; text: string; headers: string }[]> {
  const hops: { status: number; url: string; text: string; headers: string }[] = [];
  let next: string | undefined = url;
  while (next && hops.length < 5) {
    const res = await fetch(next, { redirect: 'manual' });
    const text = await res.text();
    hops.push({ status: res.status, url: next, text, headers: JSON.stringify([...res.headers]) });
    const location = res.headers.get('location');
    next = location ? new URL(location, next).toString() : undefined;
  }
  return hops;
}

describe('POST /v1/console', () => {
  it('alice gets a console URL for prod-readonly; following it lands on the console page of her assumed role, no secret on the way', async () => {
    const { res, json, text } = await call('alice', 'POST', '/v1/console', {
      entitlement: 'prod-readonly',
      durationSeconds: 900,
    });

    expect(res.status).toBe(200);
    expect(res.headers.get('cache-control')).toBe('no-store');
    const out = json as unknown as ConsoleAnswer;
    expect(Object.keys(out).sort()).toEqual(['assumedRoleArn', 'auditId', 'entitlement', 'expiresAt', 'url']);
    expect(out.assumedRoleArn).toMatch(/^arn:aws:sts::444455556666:assumed-role\/ProdReadOnly\/vend-alice-/);
    const url = new URL(out.url);
    expect(`${url.origin}${url.pathname}`).toBe(`${stack.awsUrl}/federation`);
    expect(url.searchParams.get('Action')).toBe('login');
    expect(url.searchParams.get('Destination')).toBe('https://console.aws.amazon.com/');
    expect(url.searchParams.get('Issuer')).toBe(`${stack.apiUrl}/`);
    expect(url.searchParams.get('SigninToken')).toBeTruthy();
    expect(url.searchParams.has('SessionDuration')).toBe(false);

    const hops = await follow(out.url);
    const page = hops[hops.length - 1];
    expect(hops.map((h) => h.status)).toEqual([302, 200]);
    expect(page?.text).toContain('assumed-role/ProdReadOnly/');
    expect(page?.text).toContain(out.assumedRoleArn);
    expect(page?.text).toContain('alice@example.com');

    // The session's secret parts exist in the local STS only; nothing alice saw carries them.
    const session = await sessionOf('alice', out.auditId);
    expect(session?.delivery).toBe('console');
    const key = stack.stack.store.lookupAccessKey(session?.accessKeyId ?? '');
    expect(key?.secretAccessKey).toBeTruthy();
    for (const seen of [
      text,
      JSON.stringify([...res.headers]),
      ...hops.flatMap((h) => [h.text, h.headers]),
    ]) {
      expect(seen).not.toContain(key?.secretAccessKey);
      expect(seen).not.toContain(key?.sessionToken);
      expect(seen).not.toMatch(/SecretAccessKey|SessionToken/);
    }
    // The console session ends with the credentials (no SessionDuration for role-chained sessions).
    expect(Date.parse(out.expiresAt)).toBe(Date.parse(key?.expiration ?? ''));
  });

  it('audits it like a vend, with console as the delivery', async () => {
    const { json } = await call('alice', 'POST', '/v1/console', {
      entitlement: 'prod-readonly',
      reason: 'look at a bill',
    });
    const trail = (await scanTable(dynamodb)).filter((r) => r.auditId === json.auditId);
    expect(trail.map((r) => [r.decision, r.delivery]).sort()).toEqual([
      ['intent', 'console'],
      ['issued', 'console'],
    ]);
    expect(trail.find((r) => r.decision === 'issued')?.reason).toBe('look at a bill');
  });

  it('mallory → 403 not_entitled and no session; the vend rules hold (duration, body, approval)', async () => {
    const refused = await call('mallory', 'POST', '/v1/console', { entitlement: 'prod-readonly' });
    expect(refused.res.status).toBe(403);
    expect(refused.json.code).toBe('not_entitled');
    expect((await call('mallory', 'GET', '/v1/sessions')).json.sessions).toEqual([]);

    expect(
      (await call('alice', 'POST', '/v1/console', { entitlement: 'prod-readonly', durationSeconds: 7200 }))
        .json.code,
    ).toBe('duration_out_of_range');
    expect(
      (await call('alice', 'POST', '/v1/console', { entitlement: 'prod-readonly', roleArn: 'x' })).res.status,
    ).toBe(400);
    expect((await call('alice', 'POST', '/v1/console', { entitlement: 'prod-admin' })).json.code).toBe(
      'approval_required',
    );
  });

  it('opens a console page the body names, and only on the console’s own hosts', async () => {
    const destination = 'https://us-east-1.console.aws.amazon.com/s3/home?region=us-east-1';
    const { json } = await call('alice', 'POST', '/v1/console', {
      entitlement: 'prod-readonly',
      destination,
    });
    expect(new URL(json.url as string).searchParams.get('Destination')).toBe(destination);

    for (const bad of [
      'https://evil.example/',
      'http://console.aws.amazon.com/',
      'https://console.aws.amazon.com.evil.example/',
    ]) {
      const { res, json: problem } = await call('alice', 'POST', '/v1/console', {
        entitlement: 'prod-readonly',
        destination: bad,
      });
      expect(res.status, bad).toBe(400);
      expect(problem.code).toBe('invalid_request');
    }
  });

  it('a revoked console session’s page is closed at once', async () => {
    const { json } = await call('alice', 'POST', '/v1/console', { entitlement: 'prod-readonly' });
    const hops = await follow(json.url as string);
    const page = hops[hops.length - 1] as { url: string };
    expect((await fetch(page.url)).status).toBe(200);

    expect(
      (await call('bob', 'POST', `/v1/sessions/${json.auditId}/revoke`, { reason: 'shoulder-surfed' })).res
        .status,
    ).toBe(200);

    expect((await fetch(page.url)).status).toBe(403);
  });
});

describe('POST /v1/requests/{id}/console', () => {
  it('dave breaks glass for prod-admin and opens the console inside the grant', async () => {
    const created = await call('dave', 'POST', '/v1/requests', {
      entitlement: 'prod-admin',
      reason: 'INC-9: payments down',
      ticket: 'INC-9',
      breakGlass: true,
      durationSeconds: 1800,
    });
    expect(created.res.status).toBe(201);
    const id = created.json.id as string;

    const { res, json } = await call('dave', 'POST', `/v1/requests/${id}/console`, {});

    expect(res.status).toBe(200);
    expect(json.assumedRoleArn).toMatch(/assumed-role\/BreakGlassAdmin\//);
    const hops = await follow(json.url as string);
    expect(hops[hops.length - 1]?.text).toContain('assumed-role/BreakGlassAdmin/');
    expect(await sessionOf('dave', json.auditId as string)).toMatchObject({
      delivery: 'console',
      accessRequestId: id,
    });
    // Nobody else may open it.
    expect((await call('alice', 'POST', `/v1/requests/${id}/console`, {})).res.status).toBe(404);
  });
});
