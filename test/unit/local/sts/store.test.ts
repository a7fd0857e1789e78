import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { IamStore } from '../../../../infra/local/iam/store';
import { WorldLoadError } from '../../../../infra/local/iam/world';
import { createStsHandler } from '../../../../infra/local/sts/handler';
import { openStore, ROLES, signedRequest, stsError, TestClock, WORLD_DIR } from './support';

describe('IamStore', () => {
  it('loads the demo world of CONTRACT §3 with stable AROA role ids', async () => {
    const a = await openStore();
    const b = await openStore();
    for (const arn of Object.values(ROLES)) {
      expect(a.getRole(arn)?.roleId).toMatch(/^AROA[A-Z2-7]{17}$/);
      expect(a.getRole(arn)?.roleId).toBe(b.getRole(arn)?.roleId);
    }
    expect(a.getRole(ROLES.prodReadOnly)).toMatchObject({
      maxSessionDuration: 3600,
      tags: { 'vend:managed': 'true' },
    });
    expect(a.profiles().sort()).toEqual(['ci', 'vend-broker']);
  });

  it('mints 12-hour base sessions with AWS-shaped identifiers', async () => {
    const clock = new TestClock(new Date('2026-11-29T10:00:00Z'));
    const store = await openStore({ clock });
    const key = store.mintBaseSession('vend-broker');
    expect(key.accessKeyId).toMatch(/^ASIA[A-Z0-9]{16}$/);
    expect(key.secretAccessKey).toMatch(/^[A-Za-z0-9+/]{40}$/);
    expect(key.sessionToken).toMatch(/^[A-Za-z0-9+/=]{500,}$/);
    expect(key.expiration).toBe('2026-11-29T22:00:00Z');
    expect(key.principal).toMatchObject({
      type: 'role-session',
      arn: 'arn:aws:sts::222233334444:assumed-role/vend-broker/vend-broker',
      roleArn: ROLES.broker,
      account: '222233334444',
    });
    expect(store.lookupAccessKey(key.accessKeyId)).toBe(key);
  });

  it('writes its state file atomically and reads it back after a restart', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'vend-store-'));
    const stateFile = join(dir, 'nested', 'iam-state.json');
    const first = await IamStore.open({ worldDir: WORLD_DIR, stateFile });
    const key = first.mintBaseSession('ci');
    expect(JSON.parse(readFileSync(stateFile, 'utf8')).version).toBe(1);
    const second = await IamStore.open({ worldDir: WORLD_DIR, stateFile });
    expect(second.lookupAccessKey(key.accessKeyId)).toEqual(key);
  });

  it('fails to open on a policy the evaluator rejects, naming the file and role', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'vend-world-bad-'));
    writeFileSync(
      join(dir, 'world.yaml'),
      [
        'roles:',
        '  - arn: arn:aws:iam::111122223333:role/Broken',
        '    trustPolicy: { Version: "2012-10-17", Statement: [{ Effect: Allow, Principal: { AWS: "111122223333" }, Action: sts:AssumeRole }] }',
        '    policies:',
        '      - name: Bad',
        '        document: { Version: "2012-10-17", Statement: [{ Effect: Perhaps, Action: "s3:*", Resource: "*" }] }',
      ].join('\n'),
    );
    const err = await IamStore.open({ worldDir: dir }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WorldLoadError);
    expect((err as Error).message).toContain('roles[0] policies[0]');
  });

  it('GetCallerIdentity also answers a signed GET with the parameters in the query string', async () => {
    const store = await openStore();
    const key = store.mintBaseSession('ci');
    const req = await signedRequest({
      key,
      method: 'GET',
      query: { Action: 'GetCallerIdentity', Version: '2011-06-15' },
    });
    const res = await createStsHandler(store)(req);
    expect(res.status).toBe(200);
    expect(res.body).toContain('<Arn>arn:aws:sts::111122223333:assumed-role/CICDDeployRole/ci</Arn>');
    // A GET carrying a different action still goes through the same dispatcher.
    const bad = await signedRequest({
      key,
      method: 'GET',
      query: { Action: 'DecodeAuthorizationMessage', Version: '2011-06-15' },
    });
    expect(stsError((await createStsHandler(store)(bad)).body).code).toBe('InvalidAction');
  });
});
