import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalAws, run, startLocalAws } from './harness';

const PROD_READONLY = 'arn:aws:iam::444455556666:role/ProdReadOnly';

describe('the real AWS CLI against the local AWS endpoint', () => {
  let aws: LocalAws;
  const cli = (...args: string[]) => run('aws', args, aws.env);
  const assumeProdReadOnly = (...extra: string[]) =>
    cli(
      'sts',
      'assume-role',
      '--profile',
      'vend-broker',
      '--role-arn',
      PROD_READONLY,
      '--role-session-name',
      'alice',
      ...extra,
    );

  beforeAll(async () => {
    aws = await startLocalAws();
  });
  afterAll(async () => {
    await aws.close();
  });

  it('`aws sts get-caller-identity --profile ci` prints the CICDDeployRole session', async () => {
    const r = await cli('sts', 'get-caller-identity', '--profile', 'ci');
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.Arn).toBe('arn:aws:sts::111122223333:assumed-role/CICDDeployRole/ci');
    expect(out.Account).toBe('111122223333');
    expect(out.UserId).toMatch(/^AROA[A-Z0-9]{17}:ci$/);
  });

  it('as vend-broker, assume-role into ProdReadOnly succeeds and the credentials work', async () => {
    const r = await assumeProdReadOnly(
      '--external-id',
      'prod-readonly-ext-7f3a',
      '--source-identity',
      'alice',
    );
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.AssumedRoleUser.Arn).toBe('arn:aws:sts::444455556666:assumed-role/ProdReadOnly/alice');
    expect(out.SourceIdentity).toBe('alice');

    const env = {
      ...aws.env,
      AWS_ACCESS_KEY_ID: out.Credentials.AccessKeyId,
      AWS_SECRET_ACCESS_KEY: out.Credentials.SecretAccessKey,
      AWS_SESSION_TOKEN: out.Credentials.SessionToken,
    };
    const who = await run('aws', ['sts', 'get-caller-identity'], env);
    expect(who.code).toBe(0);
    expect(JSON.parse(who.stdout).Arn).toBe('arn:aws:sts::444455556666:assumed-role/ProdReadOnly/alice');
  });

  it('a wrong ExternalId is AccessDenied', async () => {
    const r = await assumeProdReadOnly('--external-id', 'not-the-id', '--source-identity', 'alice');
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('(AccessDenied)');
    expect(r.stderr).toContain(
      'User: arn:aws:sts::222233334444:assumed-role/vend-broker/vend-broker is not authorized to perform: sts:AssumeRole on resource: arn:aws:iam::444455556666:role/ProdReadOnly',
    );
    expect(r.stderr).not.toContain('not-the-id');
  });

  it('a missing ExternalId is AccessDenied', async () => {
    const r = await assumeProdReadOnly('--source-identity', 'alice');
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('(AccessDenied)');
  });

  it('--duration-seconds 43201 is a ValidationError from the server', async () => {
    const r = await assumeProdReadOnly(
      '--external-id',
      'prod-readonly-ext-7f3a',
      '--source-identity',
      'alice',
      '--duration-seconds',
      '43201',
    );
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('(ValidationError)');
    expect(r.stderr).toContain("Value '43201' at 'durationSeconds' failed to satisfy constraint");
  });

  it('--duration-seconds 7200 from the broker session is the role-chaining ValidationError', async () => {
    const r = await assumeProdReadOnly(
      '--external-id',
      'prod-readonly-ext-7f3a',
      '--source-identity',
      'alice',
      '--duration-seconds',
      '7200',
    );
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('(ValidationError)');
    expect(r.stderr).toContain(
      'The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by role chaining.',
    );
  });

  it('CICDDeployRole straight into prod is AccessDenied', async () => {
    const r = await cli(
      'sts',
      'assume-role',
      '--profile',
      'ci',
      '--role-arn',
      PROD_READONLY,
      '--role-session-name',
      'ci',
      '--external-id',
      'prod-readonly-ext-7f3a',
      '--source-identity',
      'ci',
    );
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('(AccessDenied)');
    expect(r.stderr).toContain('arn:aws:sts::111122223333:assumed-role/CICDDeployRole/ci is not authorized');
  });

  it('session tags travel as Tags.member.N and come back in a chained identity', async () => {
    const r = await assumeProdReadOnly(
      '--external-id',
      'prod-readonly-ext-7f3a',
      '--source-identity',
      'alice',
      '--tags',
      'Key=vend:caller,Value=alice',
      'Key=vend:entitlement,Value=prod-readonly',
      '--transitive-tag-keys',
      'vend:caller',
    );
    expect(r.code).toBe(0);
    const key = aws.store.lookupAccessKey(JSON.parse(r.stdout).Credentials.AccessKeyId);
    expect(key?.principal.sessionTags).toEqual({
      'vend:caller': 'alice',
      'vend:entitlement': 'prod-readonly',
    });
    expect(key?.principal.transitiveTagKeys).toEqual(['vend:caller']);
  });

  it('`aws dynamodb list-tables` works with the profile credentials', async () => {
    const r = await cli('dynamodb', 'list-tables', '--profile', 'vend-broker');
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({ TableNames: [] });
  });

  it('DynamoDB rejects an unknown key as UnrecognizedClientException', async () => {
    const env = {
      ...aws.env,
      AWS_ACCESS_KEY_ID: 'AKIAIOSFODNN7EXAMPLE',
      AWS_SECRET_ACCESS_KEY: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYzEXAMPLEKEY',
    };
    const r = await run('aws', ['dynamodb', 'list-tables'], env);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('(UnrecognizedClientException)');
  });
});
