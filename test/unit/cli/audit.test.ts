/**
 * `vend audit` as a specification: the listing against an in-process fake API (cursor, --limit),
 * and `verify`, `seal`, `orphans` against a scripted audit-trail port (what is printed, which
 * range is asked for, the exit code), plus the translation of table/KMS/config failures into one
 * line with a documented exit code. No AWS, no local stack (that is test/e2e/cli/audit.test.ts).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  type AuditRange,
  type AuditTrailPort,
  auditRange,
  auditTrailError,
  parseAuditTime,
  registerAuditTrailCommands,
} from '../../../lib/cli/audit';
import { AuthError, RefusedError, UsageError } from '../../../lib/cli/errors';
import { type CliIo, main } from '../../../lib/cli/main';
import type { AuditFinding } from '../../../lib/domain/audit-chain';
import type { OrphanedIntent, SealResult, VerifyReport } from '../../../lib/usecases/audit-trail';
import { type FakeApi, fakeJwt, startFakeApi } from './fake-api';

const NOW = new Date('2026-11-29T10:00:00Z');

describe('time bounds', () => {
  it('an age counts back from now, in days, hours, minutes or seconds', () => {
    expect(parseAuditTime('7d', NOW, '--since')).toBe('2026-11-22T10:00:00.000Z');
    expect(parseAuditTime('1h30m', NOW, '--since')).toBe('2026-11-29T08:30:00.000Z');
    expect(parseAuditTime('90', NOW, '--since')).toBe('2026-11-29T09:58:30.000Z');
  });

  it('an ISO time is taken as it is; anything else is a usage error naming the flag', () => {
    expect(parseAuditTime('2026-11-01T00:00:00+01:00', NOW, '--until')).toBe('2026-10-31T23:00:00.000Z');
    expect(() => parseAuditTime('last tuesday', NOW, '--until')).toThrow(UsageError);
    expect(() => parseAuditTime('last tuesday', NOW, '--until')).toThrow(/--until/);
  });

  it('verify and orphans default to the last 7 days and refuse an empty range', () => {
    expect(auditRange({}, NOW)).toEqual({ since: new Date('2026-11-22T10:00:00Z'), until: NOW });
    expect(() => auditRange({ since: '1h', until: '2h' }, NOW)).toThrow(/must be before --until/);
  });
});

/** Runs `audit <args>` on a bare command with a scripted port. */
async function runTrail(args: string[], trail: Partial<AuditTrailPort>) {
  const out: string[] = [];
  const err: string[] = [];
  let exitCode: number | undefined;
  const calls: { verify: AuditRange[]; orphans: AuditRange[] } = { verify: [], orphans: [] };
  const port: AuditTrailPort = {
    verify: async (r) => {
      calls.verify.push(r);
      if (!trail.verify) throw new Error('verify not scripted');
      return trail.verify(r);
    },
    seal: async () => {
      if (!trail.seal) throw new Error('seal not scripted');
      return trail.seal();
    },
    orphans: async (r) => {
      calls.orphans.push(r);
      if (!trail.orphans) throw new Error('orphans not scripted');
      return trail.orphans(r);
    },
  };
  const program = new Command('vend').exitOverride();
  const audit = program.command('audit').option('--since <t>').option('--json');
  registerAuditTrailCommands(audit, {
    out: (s) => out.push(s),
    err: (s) => err.push(s),
    env: {},
    now: () => NOW,
    setExitCode: (c) => {
      exitCode = c;
    },
    trail: port,
  });
  await program.parseAsync(['audit', ...args], { from: 'user' });
  return { out: out.join(''), err: err.join(''), exitCode, calls };
}

function report(findings: AuditFinding[], extra: Partial<VerifyReport> = {}): VerifyReport {
  return {
    ok: findings.length === 0,
    since: '2026-11-28T10:00:00.000Z',
    until: NOW.toISOString(),
    trailStart: '2026-11-01T00:00:00.000Z',
    sealedThrough: '2026-11-29T09:00:00.000Z',
    dueThrough: '2026-11-29T08:00:00.000Z',
    digests: 24,
    records: 40,
    pending: 0,
    findings,
    ...extra,
  };
}

describe('vend audit verify', () => {
  it('a clean trail prints one summary line with what was checked and leaves the exit code 0', async () => {
    const r = await runTrail(['verify', '--since', '24h'], {
      verify: async () => report([], { pending: 3 }),
    });

    expect(r.calls.verify).toEqual([{ since: new Date('2026-11-28T10:00:00Z'), until: NOW }]);
    expect(r.out).toBe(
      'audit trail verified from 2026-11-28T10:00:00.000Z to 2026-11-29T10:00:00.000Z: 24 digests, 40 sealed records, no findings; 3 records too recent to be sealed yet\n' +
        'the trail is sealed through 2026-11-29T09:00:00.000Z (due through 2026-11-29T08:00:00.000Z; it starts at 2026-11-01T00:00:00.000Z)\n',
    );
    expect(r.exitCode).toBeUndefined();
  });

  it('prints every finding with its kind, record or digest id and detail, a summary, and exits 1', async () => {
    const findings: AuditFinding[] = [
      {
        kind: 'deleted',
        recordId: '01DELETED',
        time: '2026-11-29T09:10:00Z',
        interval: '2026-11-29T09:00:00Z',
      },
      {
        kind: 'modified',
        recordId: '01EDITED',
        time: '2026-11-29T09:20:00Z',
        interval: '2026-11-29T09:00:00Z',
        detail: 'content differs from the sealed hash',
      },
      {
        kind: 'inserted',
        recordId: '01FORGED',
        time: '2026-11-29T09:30:00Z',
        interval: '2026-11-29T09:00:00Z',
      },
      { kind: 'missing_digest', interval: '2026-11-29T07:00:00Z', detail: 'no digest for this interval' },
      { kind: 'broken_link', interval: '2026-11-29T08:00:00Z', detail: 'previous hash differs' },
    ];

    const r = await runTrail(['verify'], { verify: async () => report(findings) });

    const lines = r.out.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^FINDING\s+ID\s+TIME\s+DETAIL$/);
    expect(lines[1]).toMatch(
      /^deleted\s+record 01DELETED\s+2026-11-29T09:10:00Z\s+sealed in the digest of 2026-11-29T09:00:00Z, no longer stored$/,
    );
    expect(lines[2]).toMatch(/^modified\s+record 01EDITED\s+.*content differs from the sealed hash/);
    expect(lines[3]).toMatch(/^inserted\s+record 01FORGED\s+.*not in its digest$/);
    expect(lines[4]).toMatch(
      /^missing_digest\s+digest 2026-11-29T07:00:00Z\s+-\s+no digest for this interval$/,
    );
    expect(lines[5]).toMatch(/^broken_link\s+digest 2026-11-29T08:00:00Z\s+-\s+previous hash differs$/);
    expect(lines[6]).toMatch(
      /^audit trail verification FAILED .*: 5 findings \(1 deleted, 1 modified, 1 inserted, 1 missing_digest, 1 broken_link\)/,
    );
    expect(lines[7]).toMatch(/^the trail is sealed through 2026-11-29T09:00:00.000Z \(due through /);
    expect(r.exitCode).toBe(1);
  });

  it('says when the trail has no digest at all, and when the sealer head reaches further than the table', async () => {
    const empty = await runTrail(['verify'], {
      verify: async () =>
        report([{ kind: 'missing_digest', interval: '2026-11-01T00:00:00.000Z', detail: 'gap' }], {
          sealedThrough: null,
          sealerHead: '2026-11-29T09:00:00.000Z',
        }),
    });

    expect(empty.out.trimEnd().split('\n').at(-1)).toBe(
      "the trail is not sealed at all (no digest) (due through 2026-11-29T08:00:00.000Z; it starts at 2026-11-01T00:00:00.000Z; the sealer's head says 2026-11-29T09:00:00.000Z)",
    );
    expect(empty.exitCode).toBe(1);
  });

  it('an unknown trail start is a usage error (exit 2), never a pass', async () => {
    const unknown = Object.assign(new Error('where the audit trail starts is unknown'), {
      name: 'TrailStartUnknownError',
    });

    await expect(
      runTrail(['verify'], {
        verify: async () => {
          throw unknown;
        },
      }),
    ).rejects.toBeInstanceOf(UsageError);
  });

  it('--json prints the whole report, and still exits 1 on a finding', async () => {
    const bad = report([
      {
        kind: 'unsealed',
        recordId: '01X',
        time: '2026-11-29T01:00:00Z',
        detail: 'no digest covers this record',
      },
    ]);

    const r = await runTrail(['verify', '--json'], { verify: async () => bad });

    expect(JSON.parse(r.out)).toEqual(bad);
    expect(r.exitCode).toBe(1);
  });

  it('takes --since given before the subcommand (vend audit --since 2h verify)', async () => {
    const r = await runTrail(['--since', '2h', 'verify'], { verify: async () => report([]) });

    expect(r.calls.verify[0]?.since).toEqual(new Date('2026-11-29T08:00:00Z'));
  });

  it('a table failure becomes one CLI error with its exit code', async () => {
    const denied = Object.assign(new Error('User: arn:aws:sts::1:assumed-role/x is not authorized'), {
      name: 'AccessDeniedException',
      $metadata: { httpStatusCode: 400 },
    });

    await expect(
      runTrail(['verify'], {
        verify: async () => {
          throw denied;
        },
      }),
    ).rejects.toBeInstanceOf(RefusedError);
  });
});

describe('vend audit seal', () => {
  const sealed = (n: number, records: number): SealResult['sealed'] =>
    Array.from({ length: n }, (_, i) => ({
      intervalStart: `2026-11-29T0${i}:00:00.000Z`,
      intervalEnd: `2026-11-29T0${i + 1}:00:00.000Z`,
      recordCount: i === 0 ? records : 0,
      digestHash: `h${i}`,
    }));

  it('says how many intervals (and records) it sealed and up to when', async () => {
    const r = await runTrail(['seal'], {
      seal: async () => ({ sealed: sealed(3, 7), alreadySealed: 0, sealedUpTo: '2026-11-29T03:00:00.000Z' }),
    });

    expect(r.out).toBe(
      'sealed 3 intervals (7 records); the trail is sealed up to 2026-11-29T03:00:00.000Z\n',
    );
  });

  it('says when there was nothing new, and when there is nothing at all', async () => {
    const again = await runTrail(['seal'], {
      seal: async () => ({ sealed: [], alreadySealed: 0, sealedUpTo: '2026-11-29T03:00:00.000Z' }),
    });
    const empty = await runTrail(['seal'], { seal: async () => ({ sealed: [], alreadySealed: 0 }) });

    expect(again.out).toBe('nothing new to seal; the trail is sealed up to 2026-11-29T03:00:00.000Z\n');
    expect(empty.out).toBe('nothing to seal: no interval has closed since the trail started\n');
  });

  it('a cut trail (digests deleted after sealing) is said on stderr with exit 1', async () => {
    const r = await runTrail(['seal'], {
      seal: async () => ({
        sealed: sealed(1, 0),
        alreadySealed: 0,
        sealedUpTo: '2026-11-29T01:00:00.000Z',
        cut: { from: '2026-11-28T20:00:00.000Z', to: '2026-11-29T00:00:00.000Z' },
      }),
    });

    expect(r.err).toMatch(
      /^vend: the audit digests from 2026-11-28T20:00:00.000Z to 2026-11-29T00:00:00.000Z were deleted after they were sealed; /,
    );
    expect(r.exitCode).toBe(1);
  });

  it('--json prints the result', async () => {
    const result: SealResult = {
      sealed: sealed(1, 2),
      alreadySealed: 1,
      sealedUpTo: '2026-11-29T01:00:00.000Z',
    };

    const r = await runTrail(['seal', '--json'], { seal: async () => result });

    expect(JSON.parse(r.out)).toEqual(result);
  });
});

describe('vend audit orphans', () => {
  const orphan = (accessKeyId?: string): OrphanedIntent => ({
    auditId: '01AUDIT',
    recordId: '01INTENT',
    time: '2026-11-29T09:00:00.000Z',
    caller: { id: 'arn:aws:iam::111122223333:role/CICDDeployRole', kind: 'service', label: 'CICDDeployRole' },
    entitlement: 'prod-s3-read',
    roleArn: 'arn:aws:iam::444455556666:role/S3ReadAll',
    sessionName: 'vend-CICDDeployRole-01AUDIT',
    sourceIdentity: 'CICDDeployRole@111122223333',
    requestId: 'req-1',
    ...(accessKeyId ? { accessKeyId } : {}),
    cloudTrail: {
      eventSource: 'sts.amazonaws.com',
      eventName: 'AssumeRole',
      account: '444455556666',
      roleArn: 'arn:aws:iam::444455556666:role/S3ReadAll',
      roleSessionName: 'vend-CICDDeployRole-01AUDIT',
      startTime: '2026-11-29T09:00:00.000Z',
      endTime: '2026-11-29T09:15:00.000Z',
    },
  });

  it('prints each orphan with session name, role, caller, AccessKeyId (or how to find it) and the CloudTrail window', async () => {
    const r = await runTrail(['orphans', '--since', '1d'], {
      orphans: async () => [orphan(), orphan('ASIAKNOWN')],
    });

    expect(r.calls.orphans).toEqual([{ since: new Date('2026-11-28T10:00:00Z'), until: NOW }]);
    const [first, second] = r.out.split('\n\n');
    expect(first).toMatch(/^intent 01INTENT at 2026-11-29T09:00:00.000Z \(audit id 01AUDIT\)/);
    expect(first).toMatch(/session name:\s+vend-CICDDeployRole-01AUDIT/);
    expect(first).toMatch(/role ARN:\s+arn:aws:iam::444455556666:role\/S3ReadAll/);
    expect(first).toMatch(
      /\n {2}caller: +CICDDeployRole\n {2}caller id: +arn:aws:iam::111122223333:role\/CICDDeployRole\n/,
    );
    expect(first).toMatch(/AccessKeyId:\s+unknown \(not in the trail\): find it in CloudTrail/);
    expect(first).toMatch(
      /CloudTrail:\s+sts.amazonaws.com AssumeRole in account 444455556666, roleSessionName vend-CICDDeployRole-01AUDIT, 2026-11-29T09:00:00.000Z to 2026-11-29T09:15:00.000Z/,
    );
    expect(second).toMatch(/AccessKeyId:\s+ASIAKNOWN/);
    expect(r.err).toMatch(/^2 orphaned intents from 2026-11-28T10:00:00.000Z to 2026-11-29T10:00:00.000Z/);
    expect(r.exitCode).toBeUndefined();
  });

  it('says so on stderr when there is none, and --json prints the list', async () => {
    const none = await runTrail(['orphans'], { orphans: async () => [] });
    const json = await runTrail(['orphans', '--json'], { orphans: async () => [orphan()] });

    expect(none.out).toBe('');
    expect(none.err).toBe('no orphaned intents from 2026-11-22T10:00:00.000Z to 2026-11-29T10:00:00.000Z\n');
    expect(JSON.parse(json.out)).toEqual([orphan()]);
  });
});

describe('failures of the audit table, KMS and configuration', () => {
  const err = (name: string, extra: object = {}) =>
    Object.assign(new Error(`${name} happened`), { name, ...extra });
  const env = { VEND_AUDIT_TABLE: 'vend-dev-audit', AWS_ENDPOINT_URL: 'http://127.0.0.1:4566' };

  it.each([
    ['ConfigurationError', UsageError, /ConfigurationError happened; the local stack prints/],
    ['CredentialsProviderError', AuthError, /no usable AWS credentials .*vend-dev-audit/],
    ['UnrecognizedClientException', AuthError, /no usable AWS credentials/],
    ['AccessDeniedException', RefusedError, /may not do this on the audit trail/],
    ['ResourceNotFoundException', UsageError, /the audit table vend-dev-audit \(VEND_AUDIT_TABLE\)/],
  ])('%s becomes %o', (name, type, words) => {
    const e = auditTrailError(err(name, { $metadata: {} }), env);

    expect(e).toBeInstanceOf(type);
    expect(e.message).toMatch(words);
  });

  it('a server fault is unavailable (exit 4), and so is an unreachable endpoint', () => {
    const fault = auditTrailError(err('InternalServerError', { $fault: 'server', $metadata: {} }), env);
    const refused = auditTrailError(
      Object.assign(new TypeError('fetch failed'), { cause: { code: 'ECONNREFUSED' } }),
      env,
    );

    expect([fault.exitCode, refused.exitCode]).toEqual([4, 4]);
    expect(refused.message).toBe('cannot reach http://127.0.0.1:4566: connection refused');
  });
});

describe('vend audit through main()', () => {
  let api: FakeApi;
  let home: string;
  beforeAll(async () => {
    api = await startFakeApi();
  });
  afterAll(async () => {
    await api.close();
  });
  beforeEach(async () => {
    home = await mkdtemp(join(tmpdir(), 'vend-cli-audit-'));
    api.seen.length = 0;
  });
  afterEach(async () => {
    await rm(home, { recursive: true, force: true });
  });

  const token = fakeJwt({ iss: 'https://issuer', sub: 'erin-sub', exp: NOW.getTime() / 1000 + 3600 });
  function io(env: Record<string, string> = {}) {
    const out: string[] = [];
    const err: string[] = [];
    const cli: CliIo = {
      stdout: (s) => out.push(s),
      stderr: (s) => err.push(s),
      env: {
        HOME: home,
        VEND_CONFIG_DIR: join(home, 'config'),
        VEND_URL: api.url,
        VEND_TOKEN: token,
        ...env,
      },
      cwd: home,
      now: () => NOW,
      isTTY: false,
    };
    return { out, err, io: cli };
  }

  it('follows the cursor up to --limit 100 by default and says more match', async () => {
    api.on('GET /v1/audit', (req) => {
      const page = Number(req.query.get('cursor') ?? '0');
      return {
        body: {
          records: Array.from({ length: 60 }, (_, i) => ({
            id: `r${page * 60 + i}`,
            time: NOW.toISOString(),
            decision: 'issued',
          })),
          cursor: String(page + 1),
        },
      };
    });
    const t = io();

    expect(await main(['audit', '--json'], t.io)).toBe(0);

    expect(api.seen.map((s) => s.query.get('cursor'))).toEqual([null, '1']);
    const ids = (JSON.parse(t.out.join('')) as { id: string }[]).map((r) => r.id);
    expect(ids).toHaveLength(100);
    expect(ids.at(-1)).toBe('r99');
    expect(t.err.join('')).toMatch(/showing the newest 100; more match/);
  });

  it('passes every filter to GET /v1/audit and prints a table', async () => {
    api.on('GET /v1/audit', {
      body: {
        records: [
          {
            id: '1',
            time: '2026-11-29T09:59:00.123Z',
            decision: 'denied',
            reasonCode: 'not_entitled',
            caller: { id: 'sub', label: 'mallory@example.com' },
            entitlement: 'prod-admin',
            auditId: 'a-1',
          },
        ],
      },
    });
    const t = io();

    const code = await main(
      [
        'audit',
        '--since',
        '2h',
        '--until',
        '2026-11-29T10:00:00Z',
        '--caller',
        'c',
        '--entitlement',
        'prod-admin',
        '--decision',
        'denied',
        '--request-id',
        'req-9',
      ],
      t.io,
    );

    expect(code).toBe(0);
    expect(Object.fromEntries(api.seen[0]?.query ?? [])).toEqual({
      since: '2026-11-29T08:00:00.000Z',
      until: '2026-11-29T10:00:00.000Z',
      caller: 'c',
      entitlement: 'prod-admin',
      decision: 'denied',
      requestId: 'req-9',
    });
    expect(t.out.join('')).toMatch(
      /^TIME\s+DECISION\s+CALLER\s+ENTITLEMENT\s+DETAIL\s+AUDIT ID\n2026-11-29T09:59:00Z\s+denied\s+mallory@example.com\s+prod-admin\s+not_entitled\s+a-1\n$/,
    );
  });

  it('a non-auditor gets one refusal line and exit 1', async () => {
    api.on('GET /v1/audit', {
      status: 403,
      body: { code: 'not_entitled', status: 403, detail: 'the audit trail is for the auditors group' },
    });
    const t = io();

    expect(await main(['audit'], t.io)).toBe(1);
    expect(t.err.join('')).toBe('vend: not entitled: the audit trail is for the auditors group\n');
  });

  it('--verify is vend audit verify: without VEND_AUDIT_TABLE it is a usage error (exit 2) naming it', async () => {
    const alias = io();
    const sub = io();

    expect(await main(['audit', '--verify'], alias.io)).toBe(2);
    expect(await main(['audit', 'verify'], sub.io)).toBe(2);

    expect(alias.err.join('')).toMatch(/^vend: Missing required environment variable VEND_AUDIT_TABLE.*\n$/);
    expect(alias.err).toEqual(sub.err);
    expect(api.seen).toEqual([]);
  });

  it("--verify and verify refuse the listing's filters rather than ignore them (exit 2)", async () => {
    const alias = io();
    const sub = io();

    expect(await main(['audit', '--verify', '--caller', 'x'], alias.io)).toBe(2);
    expect(await main(['audit', 'verify', '--caller', 'x'], sub.io)).toBe(2);

    expect(alias.err.join('')).toBe('vend: --caller does not apply to vend audit --verify\n');
    expect(sub.err.join('')).toBe('vend: --caller does not apply to vend audit verify\n');
  });
});
