/**
 * `vend entitlements validate` as an operator runs it: file:line:column problems on stdout, a
 * summary on stderr, exit 1 on errors; the demo world's roles judge ceilings of a local file, and
 * `--roles` names the roles for any other file; `--json` is machine-readable.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../../lib/cli/main';

const WORLD = fileURLToPath(new URL('../../../infra/local/world', import.meta.url));
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'vend-validate-'));
  await writeFile(
    join(dir, 'bad.yaml'),
    [
      'entitlements:',
      '  - id: too-long',
      '    roleArn: arn:aws:iam::444455556666:role/ProdReadOnly',
      '    externalId: { ssm: /vend/prod/external-ids/too-long }',
      '    maxDurationSeconds: 7200',
      '  - id: typo',
      '    roleArn: arn:aws:iam::444455556666:role/ProdReadOnly',
      '    externalId: { env: TYPO }',
      '    defaultDuration: 900',
      '  - id: too-wide',
      '    roleArn: arn:aws:iam::444455556666:role/S3ReadAll',
      '    externalId: { env: WIDE }',
      '    ceiling:',
      '      Version: "2012-10-17"',
      '      Statement:',
      '        - Effect: Allow',
      '          Action: s3:DeleteObject',
      '          Resource: "*"',
      '',
    ].join('\n'),
  );
});

afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

async function cli(argv: string[]) {
  let stdout = '';
  let stderr = '';
  const code = await main(argv, {
    stdout: (s) => {
      stdout += s;
    },
    stderr: (s) => {
      stderr += s;
    },
    env: {},
    cwd: dir,
  });
  return { code, stdout, stderr };
}

describe('vend entitlements validate', () => {
  it('rejects a 7200 s max, an unknown key and a too-wide ceiling, each at file:line:column', async () => {
    const { code, stdout, stderr } = await cli(['entitlements', 'validate', 'bad.yaml', '--roles', WORLD]);
    expect(code).toBe(1);
    const lines = stdout.trim().split('\n');
    expect(lines[0]).toMatch(
      /^bad\.yaml:5:5: error: entitlement "too-long": maxDurationSeconds \(7200\) must be at most 3600/,
    );
    expect(lines[1]).toMatch(
      /^bad\.yaml:9:5: error: entitlement "typo": defaultDuration is not a known field/,
    );
    expect(lines[2]).toMatch(
      /^bad\.yaml:16:11: error: entitlement "too-wide": ceiling Statement\[0\] is wider than role S3ReadAll's own permissions: action s3:DeleteObject/,
    );
    expect(lines).toHaveLength(3);
    expect(stderr).toBe('bad.yaml: 3 error(s)\n');
  });

  it('prints JSON with --json (the parent command also has --json)', async () => {
    const { code, stdout } = await cli(['entitlements', 'validate', 'bad.yaml', '--json']);
    expect(code).toBe(1);
    const report = JSON.parse(stdout) as {
      ok: boolean;
      problems: { field: string; position: { line: number } }[];
    };
    expect(report.ok).toBe(false);
    expect(report.problems.map((p) => [p.position.line, p.field])).toEqual([
      [5, 'maxDurationSeconds'],
      [9, 'defaultDuration'],
    ]);
  });

  it('passes the demo file, judged against the demo world (exit 0)', async () => {
    const demo = fileURLToPath(new URL('../../../infra/local/entitlements.yaml', import.meta.url));
    const { code, stdout, stderr } = await cli(['entitlements', 'validate', demo]);
    expect(code).toBe(0);
    expect(stdout).toBe('');
    expect(stderr).toMatch(/5 entitlement\(s\) valid/);
  });

  it('is a usage error (exit 2) for a missing file', async () => {
    const { code, stderr } = await cli(['entitlements', 'validate', 'nope.yaml']);
    expect(code).toBe(2);
    expect(stderr).toMatch(/^vend: cannot read .*nope\.yaml: ENOENT/);
  });
});
