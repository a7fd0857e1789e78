/**
 * `vend sessions`, `vend revoke` and `vend console --print` through the package bin, as people use
 * them against the local stack: alice lists her session, mallory may not revoke it, bob revokes it
 * and the local IAM denies it at once; a caller revoked with `--caller`; `vend console --print`
 * prints a sign-in URL that lands on the local console page, and never a key.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { withStack } from '../../support/stack';
import { vend } from './harness';

const stack = withStack();
let scratch: string;
beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'vend-cli-sessions-'));
});
afterAll(async () => {
  await rm(scratch, { recursive: true, force: true });
});

const as = async (user: string): Promise<Record<string, string>> => ({
  ...stack.env,
  VEND_TOKEN: await stack.token(user),
  VEND_CONFIG_DIR: join(scratch, user),
  VEND_CACHE_DIR: join(scratch, user, 'cache'),
});

async function decision(accessKeyId: string): Promise<string> {
  const res = await fetch(`${stack.awsUrl}/_local/iam/simulate`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ accessKeyId, action: 's3:GetObject', resource: 'arn:aws:s3:::b/k' }),
  });
  return ((await res.json()) as { decision: string }).decision;
}

describe('vend console --print', () => {
  it('prints a sign-in URL that lands on the local console page of the assumed role; no key anywhere', async () => {
    const out = await vend(['console', 'prod-readonly', '--duration', '15m', '--print'], await as('alice'));

    expect(out.code, out.stderr).toBe(0);
    const url = out.stdout.trim();
    expect(new URL(url).searchParams.get('Action')).toBe('login');
    expect(out.stderr).toBe('');
    expect(`${out.stdout}${out.stderr}`).not.toMatch(/ASIA|SecretAccessKey|SessionToken/);
    const page = await fetch(url);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('assumed-role/ProdReadOnly/');
  });

  it('mallory is refused (exit 1, one line)', async () => {
    const out = await vend(['console', 'prod-readonly', '--print'], await as('mallory'));
    expect(out.code).toBe(1);
    expect(out.stdout).toBe('');
    expect(out.stderr).toMatch(/^vend: [^\n]+\n$/);
  });
});

// After the console: revoking alice as a caller (below) denies her sessions issued before the end
// of that second, so a console sign-in in the same second would be refused, as it should be.
describe('vend sessions / vend revoke', () => {
  it('alice sees her session; mallory may not revoke it; bob revokes it and it is denied at once', async () => {
    const alice = await as('alice');
    const vended = await vend(['credentials', 'prod-readonly', '--duration', '15m'], alice);
    expect(vended.code).toBe(0);
    const { auditId, credentials } = JSON.parse(vended.stdout) as {
      auditId: string;
      credentials: { AccessKeyId: string };
    };

    const listed = await vend(['sessions'], alice);
    const json = await vend(['sessions', '--json'], alice);
    const refused = await vend(['revoke', auditId, '--reason', 'mine now'], await as('mallory'));
    const revoked = await vend(['revoke', auditId, '--reason', 'laptop lost'], await as('bob'));
    const again = await vend(['revoke', auditId, '--reason', 'laptop lost'], await as('bob'));
    const all = await vend(['sessions', '--all'], await as('carol'));

    expect(listed.code).toBe(0);
    expect(listed.stdout).toMatch(/^AUDIT ID\s+CALLER\s+ENTITLEMENT\s+DELIVERY\s+STATUS/);
    expect(listed.stdout).toContain(auditId);
    expect(listed.stdout).toMatch(
      new RegExp(`${auditId}\\s+alice@example.com\\s+prod-readonly\\s+keys\\s+live`),
    );
    expect((JSON.parse(json.stdout) as { auditId: string }[]).map((s) => s.auditId)).toContain(auditId);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/^vend: [^\n]+\n$/);
    expect(revoked.code).toBe(0);
    expect(revoked.stdout).toBe(`revoked ${auditId} (prod-readonly, alice@example.com, keys)\n`);
    expect(await decision(credentials.AccessKeyId)).toBe('ExplicitDeny');
    expect(again.code).toBe(1);
    expect(all.stdout).toMatch(new RegExp(`${auditId}.*revoked by bob@example.com`));
  });

  it('--caller revokes every live session of one caller; usage errors are exit 2', async () => {
    const alice = await as('alice');
    const one = JSON.parse((await vend(['credentials', 'prod-readonly'], alice)).stdout) as {
      auditId: string;
    };
    const callerId = (
      JSON.parse((await vend(['sessions', '--json'], alice)).stdout) as { caller: { id: string } }[]
    )[0]?.caller.id;

    const out = await vend(['revoke', '--caller', callerId ?? '', '--reason', 'left'], await as('carol'));
    const both = await vend(['revoke', one.auditId, '--caller', 'x', '--reason', 'r'], alice);
    const neither = await vend(['revoke', '--reason', 'r'], alice);
    const noReason = await vend(['revoke', one.auditId], alice);

    expect(out.code).toBe(0);
    expect(out.stdout).toContain(`revoked ${one.auditId} (prod-readonly, alice@example.com, keys)`);
    expect([both.code, neither.code, noReason.code]).toEqual([2, 2, 2]);
  });
});
