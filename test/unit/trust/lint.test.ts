/**
 * `vend lint-trust` specs: the seeded side doors of fixtures/bad-roles.yaml are each reported under
 * their rule, the demo world passes, and the CLI exits non-zero with machine-readable JSON.
 */
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { main } from '../../../lib/cli/main';
import { BrokerUnknownError, lintTrust, type TrustFinding } from '../../../lib/trust/lint';
import { loadRoleFiles, loadWorldRoles, type RoleDocument } from '../../../lib/trust/roles';
import { REFUSED_TRUST, TARGET, TRUST_SPECS } from '../iam/fixtures/trust-specs';

const BAD = fileURLToPath(new URL('./fixtures/bad-roles.yaml', import.meta.url));
const AUTHZ = fileURLToPath(new URL('./fixtures/authz-details.json', import.meta.url));
const WORLD = fileURLToPath(new URL('../../../infra/local/world', import.meta.url));
const BROKER = 'arn:aws:iam::222233334444:role/vend-broker';

const of = (findings: TrustFinding[], role: string) =>
  findings.filter((f) => f.role === `arn:aws:iam::444455556666:role/${role}`).map((f) => f.rule);

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
    cwd: process.cwd(),
  });
  return { code, stdout, stderr };
}

describe('lintTrust on seeded bad roles', () => {
  it('reports a foreign principal on a vend-managed role, naming the statement and the line', async () => {
    const report = lintTrust(await loadRoleFiles([BAD]));
    const foreign = report.findings.find((f) => f.rule === 'foreign-principal');
    expect(foreign).toMatchObject({
      role: 'arn:aws:iam::444455556666:role/ForeignTrust',
      statement: 'Sid "PartnerAccess"',
      principal: 'arn:aws:iam::999988887777:root',
      severity: 'error',
    });
    expect(foreign?.source).toMatch(/bad-roles\.yaml:13$/);
    expect(report.ok).toBe(false);
  });

  it('reports "*" without conditions, a missing ExternalId and a missing SourceIdentity', async () => {
    const { findings } = lintTrust(await loadRoleFiles([BAD]));
    expect(of(findings, 'EveryoneWelcome')).toContain('wildcard-principal');
    expect(of(findings, 'NoExternalId')).toEqual(['missing-external-id']);
    expect(of(findings, 'NoSourceIdentity')).toEqual(['missing-source-identity']);
  });

  it('reports chaining both ways: trust in a vended role, and sessions allowed to assume roles', async () => {
    const { findings } = lintTrust(await loadRoleFiles([BAD]));
    expect(of(findings, 'ChainTarget')).toContain('chain-from-vended-role');
    expect(of(findings, 'Chainer')).toEqual(expect.arrayContaining(['can-chain', 'max-session-duration']));
  });

  it('reports a federated path into a target account, but not a workload role trusting a service', async () => {
    const { findings } = lintTrust(await loadRoleFiles([BAD]));
    expect(of(findings, 'GithubDeploy')).toEqual(['federated-principal']);
    expect(of(findings, 'OrdersLambda')).toEqual([]);
  });

  it('accepts a principal the operator allows on purpose', async () => {
    const { findings } = lintTrust(await loadRoleFiles([BAD]), {
      allowPrincipals: ['arn:aws:iam::444455556666:oidc-provider/token.actions.githubusercontent.com'],
    });
    expect(of(findings, 'GithubDeploy')).toEqual([]);
  });

  it('refuses to guess the broker when none is given or tagged', async () => {
    const roles = (await loadRoleFiles([BAD])).filter((r) => r.arn !== BROKER);
    expect(() => lintTrust(roles)).toThrow(BrokerUnknownError);
    expect(lintTrust(roles, { brokerArns: [BROKER] }).findings.length).toBeGreaterThan(0);
  });

  it('reads get-account-authorization-details output, URL-encoded documents and managed policies included', async () => {
    const report = lintTrust(await loadRoleFiles([AUTHZ]), { brokerArns: [BROKER] });
    expect(report.roles.map((r) => r.arn).sort()).toEqual([
      'arn:aws:iam::444455556666:role/AuditorAccess',
      'arn:aws:iam::444455556666:role/ProdReadOnly',
    ]);
    expect(of(report.findings, 'ProdReadOnly')).toEqual([]);
    expect(of(report.findings, 'AuditorAccess')).toEqual(['foreign-principal']);
  });
});

describe('lintTrust on the demo world', () => {
  it('finds no path around the broker', async () => {
    const report = lintTrust(await loadWorldRoles(WORLD));
    expect(report.findings).toEqual([]);
    expect(report.ok).toBe(true);
    expect(report.brokerArns).toEqual([BROKER]);
    expect(report.roles.filter((r) => r.managed)).toHaveLength(5);
  });
});

describe('vend lint-trust', () => {
  it('exits 1 on the seeded roles and prints a JSON report with every finding', async () => {
    const { code, stdout, stderr } = await cli(['lint-trust', BAD, '--json']);
    expect(code).toBe(1);
    const report = JSON.parse(stdout) as { ok: boolean; findings: TrustFinding[] };
    expect(report.ok).toBe(false);
    expect(new Set(report.findings.map((f) => f.rule))).toEqual(
      new Set([
        'foreign-principal',
        'wildcard-principal',
        'missing-external-id',
        'missing-source-identity',
        'chain-from-vended-role',
        'can-chain',
        'max-session-duration',
        'federated-principal',
        'no-broker-path',
      ]),
    );
    expect(stderr).toMatch(/path\(s\) around the broker/);
  });

  it('exits 0 on the demo world', async () => {
    const { code, stdout, stderr } = await cli(['lint-trust', '--world', WORLD]);
    expect(code).toBe(0);
    expect(stdout).toBe('');
    expect(stderr).toMatch(/checked 7 role\(s\).*no path around the broker/);
  });

  it('is a usage error (exit 2) without any source', async () => {
    const { code, stderr } = await cli(['lint-trust']);
    expect(code).toBe(2);
    expect(stderr).toMatch(/^vend: give role files, --world DIR or --endpoint URL/);
  });
});

describe('lintTrust judges conditions with the evaluator AssumeRole uses', () => {
  const NOW = new Date('2026-11-29T10:00:00Z');
  const specRole = (name: string, trustPolicy: unknown, tags: Record<string, string> = {}): RoleDocument => ({
    arn: `arn:aws:iam::${TARGET}:role/${name}`,
    account: TARGET,
    name,
    trustPolicy,
    policies: [],
    unresolvedPolicyArns: [],
    tags,
    source: `spec:${name}`,
  });
  const lint = (roles: RoleDocument[]) =>
    lintTrust(roles, { brokerArns: [BROKER], targetAccounts: [TARGET], now: NOW });

  it.each(TRUST_SPECS.map((s) => [s.role, s] as const))(
    '%s: reports a side door exactly when a caller from another account gets in',
    (_name, spec) => {
      const { findings } = lint([specRole(spec.role, spec.trustPolicy, spec.tags)]);
      const errors = findings.filter((f) => f.severity === 'error');
      expect(errors.length > 0).toBe(spec.sideDoor);
      expect(spec.sideDoor).toBe(spec.expect.otherSessionAllowed === 'Allow');
    },
  );

  it('reports a "*" statement whose condition is vacuous, naming why', () => {
    const spec = TRUST_SPECS.find((s) => s.role === 'SpecVacuousCondition')!;
    const [finding] = lint([specRole(spec.role, spec.trustPolicy)]).findings;
    expect(finding).toMatchObject({ rule: 'wildcard-principal', principal: '*' });
    expect(finding?.message).toMatch(/conditions do not keep out a caller from another account/);
  });

  it('does not report a "*" Allow that a Deny keeps to the own account', () => {
    const trust = {
      Version: '2012-10-17',
      Statement: [
        { Effect: 'Allow', Principal: { AWS: '*' }, Action: 'sts:AssumeRole' },
        {
          Effect: 'Deny',
          Principal: { AWS: '*' },
          Action: 'sts:AssumeRole',
          Condition: { StringNotEquals: { 'aws:PrincipalAccount': TARGET } },
        },
      ],
    };
    expect(lint([specRole('OwnAccountByDeny', trust)]).findings).toEqual([]);
  });

  it.each(REFUSED_TRUST.map((r) => [r.iam, r] as const))(
    "reports a trust policy IAM refuses as invalid-policy with IAM's message: %s",
    (iam, refused) => {
      const [finding] = lint([specRole('Refused', refused.trustPolicy)]).findings;
      expect(finding).toMatchObject({ rule: 'invalid-policy', severity: 'error' });
      expect(finding?.message).toContain(`MalformedPolicyDocument: ${iam}`);
    },
  );
});
