/**
 * Entitlements-file specs: problems carry file:line:column; the domain's rules decide validity
 * (durations, unknown keys); ceilings are checked against the target role's own permissions; an
 * ExternalId is a reference except in files marked `local: true`; references resolve at sync time
 * without ever being quoted.
 */
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import {
  ExternalIdResolutionError,
  readEntitlementsFile,
  readEntitlementsText,
  resolveExternalIds,
} from '../../../lib/entitlements';
import { loadWorldRoles } from '../../../lib/trust/roles';

const WORLD = fileURLToPath(new URL('../../../infra/local/world', import.meta.url));
const DEMO = fileURLToPath(new URL('../../../infra/local/entitlements.yaml', import.meta.url));
const EXAMPLE = fileURLToPath(new URL('../../../entitlements.example.yaml', import.meta.url));

const lines = (...l: string[]) => `${l.join('\n')}\n`;

// Line numbers matter below: each bad entry's offending field is on a known line.
const BAD = lines(
  'entitlements:', //                                                    1
  '  - id: too-long', //                                                 2
  '    roleArn: arn:aws:iam::444455556666:role/ProdReadOnly', //         3
  '    externalId: { ssm: /vend/prod/external-ids/too-long }', //       4
  '    maxDurationSeconds: 7200', //                                     5
  '  - id: typo', //                                                     6
  '    roleArn: arn:aws:iam::444455556666:role/ProdReadOnly', //         7
  '    externalId: { env: TYPO_EXTERNAL_ID }', //                        8
  '    maxDuration: 900', //                                             9
  '  - id: too-wide', //                                                10
  '    roleArn: arn:aws:iam::444455556666:role/S3ReadAll', //           11
  '    externalId: { env: WIDE_EXTERNAL_ID }', //                       12
  '    ceiling:', //                                                    13
  '      Version: "2012-10-17"', //                                     14
  '      Statement:', //                                                15
  '        - Sid: ReadAndWrite', //                                     16
  '          Effect: Allow', //                                         17
  '          Action: [s3:GetObject, s3:PutObject]', //                  18
  '          Resource: "arn:aws:s3:::my-prod-data-bucket/*"', //        19
  '  - id: literal-secret', //                                          20
  '    roleArn: arn:aws:iam::444455556666:role/ProdReadOnly', //        21
  '    externalId: prod-readonly-ext-7f3a', //                          22
);

describe('readEntitlementsText', () => {
  it('rejects a 7200 s maximum with the domain rule, at the line of the field', async () => {
    const f = readEntitlementsText(BAD, 'bad.yaml', { roles: await loadWorldRoles(WORLD) });
    const p = f.problems.find((x) => x.entitlement === 'too-long');
    expect(p).toMatchObject({
      severity: 'error',
      field: 'maxDurationSeconds',
      position: { file: 'bad.yaml', line: 5 },
    });
    expect(p?.message).toMatch(/\(7200\) must be at most 3600/);
  });

  it('rejects an unknown key at its line', () => {
    const f = readEntitlementsText(BAD, 'bad.yaml');
    const p = f.problems.find((x) => x.entitlement === 'typo');
    expect(p).toMatchObject({ field: 'maxDuration', position: { line: 9, column: 5 } });
    expect(p?.message).toMatch(/maxDuration is not a known field/);
  });

  it("rejects a ceiling wider than the target role's own permissions when the role is known", async () => {
    const f = readEntitlementsText(BAD, 'bad.yaml', { roles: await loadWorldRoles(WORLD) });
    const p = f.problems.find((x) => x.entitlement === 'too-wide');
    expect(p).toMatchObject({ severity: 'error', field: 'ceiling.Statement[0]', position: { line: 16 } });
    expect(p?.message).toMatch(/wider than role S3ReadAll's own permissions: action s3:PutObject/);
  });

  it('does not judge the ceiling when the role is unknown', () => {
    const f = readEntitlementsText(BAD, 'bad.yaml');
    expect(f.problems.some((x) => x.entitlement === 'too-wide')).toBe(false);
  });

  it('refuses a literal ExternalId outside a local file, without quoting it', () => {
    const f = readEntitlementsText(BAD, 'bad.yaml');
    const p = f.problems.find((x) => x.entitlement === 'literal-secret');
    expect(p).toMatchObject({ field: 'externalId', position: { line: 22 } });
    expect(p?.message).toMatch(/reference it instead/);
    expect(JSON.stringify(f.problems)).not.toContain('prod-readonly-ext-7f3a');
  });

  it('allows a literal ExternalId in a file marked local: true', () => {
    const f = readEntitlementsText(
      lines(
        'local: true',
        'entitlements:',
        '  - id: demo',
        '    roleArn: arn:aws:iam::444455556666:role/ProdReadOnly',
        '    externalId: demo-ext-1234',
      ),
      'local.yaml',
    );
    expect(f.problems).toEqual([]);
    expect(f.entitlements[0]?.externalId).toEqual({ kind: 'literal', value: 'demo-ext-1234' });
  });

  it('refuses unknown top-level keys, malformed references and duplicate ids', () => {
    const f = readEntitlementsText(
      lines(
        'entitlement: []', // 1
        'entitlements:', // 2
        '  - id: dup', // 3
        '    roleArn: arn:aws:iam::444455556666:role/ProdReadOnly', // 4
        '    externalId: { vault: secret/x }', // 5
        '  - id: dup', // 6
        '    roleArn: arn:aws:iam::444455556666:role/ProdReadOnly', // 7
        '    externalId: { env: DUP }', // 8
        '  - id: dup', // 9
        '    roleArn: arn:aws:iam::444455556666:role/ProdReadOnly', // 10
        '    externalId: { env: DUP }', // 11
      ),
      'x.yaml',
    );
    expect(f.problems.map((p) => [p.position.line, p.field])).toEqual([
      [1, 'entitlement'],
      [5, 'externalId'],
      [9, 'id'],
    ]);
    expect(f.problems[2]?.message).toMatch(/defined twice \(first at line 6\)/);
  });

  it('reports a YAML syntax error at its line', () => {
    const f = readEntitlementsText('entitlements:\n  - id: [unclosed\n', 's.yaml');
    expect(f.problems).toHaveLength(1);
    expect(f.problems[0]).toMatchObject({ severity: 'error', position: { file: 's.yaml' } });
    expect(f.problems[0]?.message).toMatch(/^not valid YAML/);
  });

  it('accepts the demo file and the published example', async () => {
    const roles = await loadWorldRoles(WORLD);
    const demo = await readEntitlementsFile(DEMO, { roles });
    expect(demo.problems).toEqual([]);
    expect(demo.entitlements.map((e) => e.entitlement.id)).toEqual([
      'prod-readonly',
      'prod-deploy',
      'prod-s3-read',
      'staging-deploy',
      'prod-admin',
    ]);
    const example = await readEntitlementsFile(EXAMPLE, { roles });
    expect(example.problems.filter((p) => p.severity === 'error')).toEqual([]);
    expect(example.local).toBe(false);
  });
});

describe('resolveExternalIds', () => {
  const file = readEntitlementsText(
    lines(
      'entitlements:',
      '  - id: from-env',
      '    roleArn: arn:aws:iam::444455556666:role/ProdReadOnly',
      '    externalId: { env: FROM_ENV_EXTERNAL_ID }',
      '  - id: from-ssm',
      '    roleArn: arn:aws:iam::444455556666:role/DeployRole',
      '    externalId: { ssm: /vend/prod/external-ids/from-ssm }',
    ),
    'refs.yaml',
  );

  it('reads env and SSM references into the entitlements', async () => {
    const asked: string[] = [];
    const out = await resolveExternalIds(file.entitlements, {
      env: (n) => (n === 'FROM_ENV_EXTERNAL_ID' ? 'env-secret-1234' : undefined),
      ssm: async (n) => {
        asked.push(n);
        return 'ssm-secret-5678';
      },
    });
    expect(out.map((e) => [e.id, e.externalId])).toEqual([
      ['from-env', 'env-secret-1234'],
      ['from-ssm', 'ssm-secret-5678'],
    ]);
    expect(asked).toEqual(['/vend/prod/external-ids/from-ssm']);
  });

  it('names the missing variable, never a value', async () => {
    const attempt = resolveExternalIds(file.entitlements, {
      env: () => undefined,
      ssm: async () => 'ssm-secret-5678',
    });
    await expect(attempt).rejects.toThrow(ExternalIdResolutionError);
    await expect(attempt).rejects.toThrow(/environment variable FROM_ENV_EXTERNAL_ID is not set/);
  });

  it('validates a resolved value with the domain rule, without quoting it', async () => {
    const attempt = resolveExternalIds(file.entitlements, {
      env: () => 'bad value with spaces',
      ssm: async () => 'x',
    });
    await expect(attempt).rejects.toThrow(/externalId must be 2–1224 characters/);
    await expect(attempt).rejects.not.toThrow(/bad value/);
  });
});
