/**
 * `vend request prod-admin --wait` (alice) finishes once bob and carol approve from other
 * processes, then vends inside the grant; Ctrl-C while waiting leaves the request pending.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { withStack } from '../../support/stack';
import { start, vend } from './harness';

const stack = withStack();
let scratch: string;
beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'vend-cli-requests-'));
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

describe('vend request --wait', () => {
  it('finishes once two approvers approve from other processes, then vends', async () => {
    const waiting = start(
      ['request', 'prod-admin', '--reason', 'INC-7: fix prod', '--duration', '15m', '--format', 'json'],
      await as('alice'),
    );
    const [, id] = await waiting.waitFor(/request (\S+) \(prod-admin\): pending/);

    const bob = await vend(['approve', id!, '--comment', 'ok'], await as('bob'));
    const selfApproval = await vend(['approve', id!], await as('alice'));
    const carol = await vend(['approve', id!], await as('carol'));
    const exit = await waiting.exited;

    expect(bob.code).toBe(0);
    expect(selfApproval.code).toBe(1);
    expect(selfApproval.stderr).toMatch(/^vend: [^\n]+\n$/);
    expect(carol.code).toBe(0);
    expect(exit).toBe(0);
    expect(waiting.stderr()).toMatch(/approved/);
    const body = JSON.parse(waiting.stdout()) as { assumedRoleArn: string; durationSeconds: number };
    expect(body.assumedRoleArn).toMatch(/assumed-role\/BreakGlassAdmin\//);
    expect(body.durationSeconds).toBeLessThanOrEqual(900);
  }, 40_000);

  it('Ctrl-C while waiting exits 130 and leaves the request pending', async () => {
    const env = await as('alice');
    const waiting = start(['request', 'prod-admin', '--reason', 'look around', '--wait'], env);
    const [, id] = await waiting.waitFor(/request (\S+) \(prod-admin\): pending/);

    waiting.child.kill('SIGINT');
    const exit = await waiting.exited;
    const list = await vend(['requests', '--mine', '--json'], env);

    expect(exit).toBe(130);
    expect(waiting.stderr()).toMatch(/stopped waiting; request \S+ is left as it is \(pending\)/);
    expect(
      (JSON.parse(list.stdout) as { id: string; status: string }[]).find((r) => r.id === id)?.status,
    ).toBe('pending');
  }, 40_000);
});
