/**
 * One trust decision, three readers (issue 12 "Must show"; issue 11 §8). Every role trust policy of
 * the class specs (test/unit/iam/fixtures/trust-specs.ts) is deployed as a role of a real local AWS
 * endpoint, and for each caller the spec asks:
 *
 * 1. the local STS emulator: AssumeRole through the AWS SDK v3, signed with the caller's keys;
 * 2. the effective-permission check: `POST /_local/iam/simulate` for `sts:AssumeRole` on the role;
 * 3. `vend lint-trust` on the endpoint's roles (`GET /_local/iam/roles`, as `--endpoint` reads them).
 *
 * 1 and 2 must give the same answer, and that answer must be AWS's (the spec names the page). 3
 * must report a side door for a role exactly when a caller of another account got in. Trust
 * policies IAM refuses never load (MalformedPolicyDocument, IAM's message) and lint-trust reports
 * them with the same message.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { type AwsEndpoint, startAwsEndpoint } from '../../../infra/local/aws/endpoint';
import { IamStore } from '../../../infra/local/iam/store';
import { loadWorld, WorldLoadError } from '../../../infra/local/iam/world';
import type { KeyRecord } from '../../../infra/local/types';
import { lintTrust } from '../../../lib/trust/lint';
import { fetchLocalRoles } from '../../../lib/trust/roles';
import {
  type CallerName,
  OTHER,
  REFUSED_TRUST,
  TARGET,
  TRUST_SPECS,
} from '../../unit/iam/fixtures/trust-specs';

const BROKER = 'arn:aws:iam::222233334444:role/vend-broker';
const ASSUME_ANY = {
  Version: '2012-10-17',
  Statement: [{ Effect: 'Allow', Action: 'sts:AssumeRole', Resource: '*' }],
};

/** The spec world: the callers and one role per spec trust policy. */
function specWorld(): Record<string, unknown> {
  return {
    users: [
      {
        arn: `arn:aws:iam::${TARGET}:user/spec-allowed`,
        tags: { owner: 'spec-allowed' },
        policies: [{ name: 'AssumeAny', document: ASSUME_ANY }],
      },
      { arn: `arn:aws:iam::${TARGET}:user/spec-bare` },
    ],
    roles: [
      {
        arn: `arn:aws:iam::${TARGET}:role/SpecCaller`,
        tags: { owner: 'spec-caller' },
        trustPolicy: {
          Version: '2012-10-17',
          Statement: [
            { Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' }, Action: 'sts:AssumeRole' },
          ],
        },
        policies: [{ name: 'AssumeAny', document: ASSUME_ANY }],
      },
      {
        arn: `arn:aws:iam::${OTHER}:role/SpecForeign`,
        trustPolicy: {
          Version: '2012-10-17',
          Statement: [
            { Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' }, Action: 'sts:AssumeRole' },
          ],
        },
        policies: [{ name: 'AssumeAny', document: ASSUME_ANY }],
      },
      ...TRUST_SPECS.map((s) => ({
        arn: `arn:aws:iam::${TARGET}:role/${s.role}`,
        ...(s.tags && { tags: s.tags }),
        trustPolicy: s.trustPolicy,
      })),
    ],
    profiles: {
      'spec-caller': { role: `arn:aws:iam::${TARGET}:role/SpecCaller`, sessionName: 'spec-caller' },
      'spec-foreign': { role: `arn:aws:iam::${OTHER}:role/SpecForeign`, sessionName: 'spec-foreign' },
    },
  };
}

describe('trust decisions agree: AssumeRole (STS emulator), POST /_local/iam/simulate, vend lint-trust', () => {
  let dir: string;
  let store: IamStore;
  let endpoint: AwsEndpoint;
  const callers = {} as Record<CallerName, KeyRecord>;
  /** What the emulator answered, per role and caller, for the lint-trust comparison. */
  const emulator = new Map<string, 'Allow' | 'Deny'>();

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'vend-trust-agreement-'));
    // Only the spec world: the demo world's roles carry ExternalIds that GET /_local/iam/roles would
    // hand to the leak scanner, and nothing here needs them.
    mkdirSync(join(dir, 'world'));
    writeFileSync(join(dir, 'world', 'spec.yaml'), stringify(specWorld()));
    store = await IamStore.open({ worldDir: join(dir, 'world') });
    endpoint = await startAwsEndpoint({ port: 0, store });
    callers.sameUserAllowed = store.mintUserKey(`arn:aws:iam::${TARGET}:user/spec-allowed`);
    callers.sameUserBare = store.mintUserKey(`arn:aws:iam::${TARGET}:user/spec-bare`);
    callers.sameSessionAllowed = store.mintBaseSession('spec-caller');
    callers.otherSessionAllowed = store.mintBaseSession('spec-foreign');
  });

  afterAll(async () => {
    await endpoint?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  async function assumeRole(key: KeyRecord, roleArn: string): Promise<'Allow' | 'Deny'> {
    const sts = new STSClient({
      endpoint: endpoint.url,
      region: 'us-east-1',
      maxAttempts: 1,
      credentials: {
        accessKeyId: key.accessKeyId,
        secretAccessKey: key.secretAccessKey,
        ...(key.sessionToken && { sessionToken: key.sessionToken }),
      },
    });
    try {
      await sts.send(new AssumeRoleCommand({ RoleArn: roleArn, RoleSessionName: 'agreement' }));
      return 'Allow';
    } catch (e) {
      // Only a refusal counts as Deny; anything else is a broken test.
      expect((e as { name?: string }).name).toBe('AccessDenied');
      return 'Deny';
    }
  }

  async function simulate(key: KeyRecord, roleArn: string): Promise<'Allow' | 'Deny'> {
    const res = await fetch(`${endpoint.url}/_local/iam/simulate`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        accessKeyId: key.accessKeyId,
        action: 'sts:AssumeRole',
        resource: roleArn,
        context: { 'sts:RoleSessionName': 'agreement', 'aws:SourceIp': '127.0.0.1' },
      }),
    });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { decision: string };
    return body.decision === 'Allow' ? 'Allow' : 'Deny';
  }

  const cases = TRUST_SPECS.flatMap((spec) =>
    (Object.keys(spec.expect) as CallerName[]).map((caller) => [spec.role, caller, spec] as const),
  );

  it.each(cases)("%s, caller %s: AssumeRole and simulate give AWS's answer", async (role, caller, spec) => {
    const roleArn = `arn:aws:iam::${TARGET}:role/${role}`;
    const key = callers[caller];
    const viaSts = await assumeRole(key, roleArn);
    const viaSimulate = await simulate(key, roleArn);
    emulator.set(`${role}/${caller}`, viaSts);
    expect({ viaSts, viaSimulate }).toEqual({
      viaSts: spec.expect[caller],
      viaSimulate: spec.expect[caller],
    });
  });

  it('issue 11 §8 (named): a same-account user with no identity policy assumes a role trusting {"AWS":"*"}', async () => {
    expect(await assumeRole(callers.sameUserBare, `arn:aws:iam::${TARGET}:role/SpecEveryoneAws`)).toBe(
      'Allow',
    );
    // …while a trust naming only the account still needs the identity Allow.
    expect(await assumeRole(callers.sameUserBare, `arn:aws:iam::${TARGET}:role/SpecAccountRoot`)).toBe(
      'Deny',
    );
  });

  it('vend lint-trust --endpoint reports a side door exactly where the emulator let another account in', async () => {
    const roles = await fetchLocalRoles(endpoint.url);
    const report = lintTrust(roles, { brokerArns: [BROKER], targetAccounts: [TARGET] });
    for (const spec of TRUST_SPECS) {
      const arn = `arn:aws:iam::${TARGET}:role/${spec.role}`;
      const flagged = report.findings.some((f) => f.role === arn && f.severity === 'error');
      const foreignIn = (await assumeRole(callers.otherSessionAllowed, arn)) === 'Allow';
      expect({ role: spec.role, flagged }).toEqual({ role: spec.role, flagged: foreignIn });
      const earlier = emulator.get(`${spec.role}/otherSessionAllowed`);
      if (earlier !== undefined) expect(earlier === 'Allow').toBe(foreignIn);
    }
  });

  it.each(REFUSED_TRUST.map((r) => [r.iam, r] as const))(
    "a trust policy IAM refuses never loads, and lint-trust says why in IAM's words: %s",
    async (iam, refused) => {
      const bad = mkdtempSync(join(tmpdir(), 'vend-refused-world-'));
      try {
        const role = { arn: `arn:aws:iam::${TARGET}:role/Refused`, trustPolicy: refused.trustPolicy };
        writeFileSync(join(bad, 'world.yaml'), stringify({ roles: [role] }));
        const err = await loadWorld(bad).catch((e: unknown) => e);
        expect(err).toBeInstanceOf(WorldLoadError);
        expect((err as Error).message).toContain(`MalformedPolicyDocument: ${iam}`);
        const report = lintTrust(
          [
            {
              ...role,
              account: TARGET,
              name: 'Refused',
              policies: [],
              unresolvedPolicyArns: [],
              tags: {},
              source: 'spec',
            },
          ],
          {
            brokerArns: [BROKER],
            targetAccounts: [TARGET],
          },
        );
        expect(
          report.findings.map((f) => [f.rule, f.message.includes(`MalformedPolicyDocument: ${iam}`)]),
        ).toEqual([['invalid-policy', true]]);
      } finally {
        rmSync(bad, { recursive: true, force: true });
      }
    },
  );
});
