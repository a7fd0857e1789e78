/**
 * boto3 with credentials vend issued, beside the AWS CLI, against the local stack: a client no one
 * on the team wrote reads vend's output and signs with it.
 *
 * - `credential_process` profile pointing at the `vend` bin: boto3 (python3) and the AWS CLI both
 *   run the bin, and STS's GetCallerIdentity names the assumed role; the AccessKeyId boto3 signs with
 *   is one vend audited as issued, and the session STS issued carries that audit id as its tag.
 * - the JSON answer directly (a person's vend over the API, handed to boto3 on stdin): boto3 signs
 *   with it and GetCallerIdentity returns the answer's `assumedRoleArn`; the same key with a wrong
 *   secret is refused (SignatureDoesNotMatch), so the check is real.
 */
import { spawn } from 'node:child_process';
import { appendFile, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { issuedSessionsOf } from '../../infra/local/sts/issued';
import { commandLine } from '../../lib/cli/profile';
import { issuedKeys, scanTable } from '../support/audit-table';
import { withStack } from '../support/stack';
import { run, VEND } from './cli/harness';

const stack = withStack();
let scratch: string;
let dynamodb: typeof import('../../lib/wiring/clients').dynamodb;

beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'vend-boto3-e2e-'));
  ({ dynamodb } = await import('../../lib/wiring/clients'));
});
afterAll(async () => {
  await rm(scratch, { recursive: true, force: true });
});

/** The stack's environment for a fresh user (own vend cache), without AWS_PROFILE. */
function userEnv(name: string): Record<string, string> {
  return {
    ...stack.env,
    VEND_CACHE_DIR: join(scratch, name, 'cache'),
    VEND_CONFIG_DIR: join(scratch, name, 'config'),
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
  };
}

/**
 * boto3: GetCallerIdentity with a profile (argv[1]) or with the credentials JSON on stdin (argv[1]
 * = "-"; a vend answer `{credentials: {…}}`). Prints only what is not secret.
 */
const CALLER_IDENTITY = `
import json, sys, boto3, botocore.exceptions
if sys.argv[1] == "-":
    c = json.load(sys.stdin)["credentials"]
    session = boto3.Session(aws_access_key_id=c["AccessKeyId"], aws_secret_access_key=c["SecretAccessKey"],
                            aws_session_token=c["SessionToken"], region_name="us-east-1")
else:
    session = boto3.Session(profile_name=sys.argv[1])
out = {"accessKeyId": session.get_credentials().get_frozen_credentials().access_key}
try:
    me = session.client("sts").get_caller_identity()
    out.update(arn=me["Arn"], account=me["Account"])
except botocore.exceptions.ClientError as e:
    out.update(error=e.response["Error"]["Code"], status=e.response["ResponseMetadata"]["HTTPStatusCode"])
print(json.dumps(out))
`;

interface Identity {
  accessKeyId: string;
  arn?: string;
  account?: string;
  error?: string;
  status?: number;
}

/** Runs the boto3 script; `stdin` (a credentials JSON) is written to the child, never put on argv. */
function boto3(arg: string, env: Record<string, string>, stdin?: string): Promise<Identity> {
  return new Promise((resolve, reject) => {
    const child = spawn('python3', ['-c', CALLER_IDENTITY, arg], { env, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code !== 0) reject(new Error(`python3 exited ${code}: ${stderr}`));
      else resolve(JSON.parse(stdout) as Identity);
    });
    child.stdin.end(stdin ?? '');
  });
}

const ASSUMED = /^arn:aws:sts::444455556666:assumed-role\/ProdReadOnly\/vend-CICDDeployRole-([0-9A-Z]{26})$/;

describe('boto3 through a credential_process profile running the vend bin, beside the AWS CLI', () => {
  it('both get the assumed role from STS; boto3 signs with a key vend audited as issued', async () => {
    // Arrange: one profile, as a user would write it, for boto3 and the AWS CLI alike.
    const env = userEnv('profile');
    const line = commandLine([...VEND, 'credential-process', 'prod-readonly', '--aws-profile', 'ci']);
    await appendFile(
      env.AWS_CONFIG_FILE!,
      `\n[profile vend-boto3]\nregion = us-east-1\ncredential_process = ${line}\n`,
    );

    // Act
    const py = await boto3('vend-boto3', env);
    const cli = await run(
      ['aws', '--profile', 'vend-boto3', 'sts', 'get-caller-identity', '--output', 'json'],
      env,
    );

    // Assert: STS names the role vend assumed, for boto3 and for the AWS CLI.
    expect(py.error).toBeUndefined();
    expect(py.arn).toMatch(ASSUMED);
    expect(py.account).toBe('444455556666');
    expect(cli.code, cli.stderr).toBe(0);
    expect((JSON.parse(cli.stdout) as { Arn: string }).Arn).toBe(py.arn);
    // The key boto3 signed with is one vend issued, recorded under the audit id in the session name…
    const auditId = ASSUMED.exec(py.arn!)![1]!;
    expect(issuedKeys(await scanTable(dynamodb)).get(py.accessKeyId)).toBe(auditId);
    // …and the session STS itself issued carries that audit id as its tag.
    const session = issuedSessionsOf(stack.stack.store)
      .list()
      .find((s) => s.accessKeyId === py.accessKeyId);
    expect(session?.sessionTags['vend:audit-id']).toBe(auditId);
  });
});

describe('boto3 with the JSON answer of a vend', () => {
  it('a person’s vend: GetCallerIdentity returns the answer’s assumedRoleArn; a wrong secret is refused', async () => {
    // Arrange: alice vends prod-readonly over the API.
    const token = await stack.token('alice');
    const res = await fetch(`${stack.apiUrl}/v1/credentials`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ entitlement: 'prod-readonly', durationSeconds: 900 }),
    });
    expect(res.status).toBe(200);
    const answer = (await res.json()) as {
      credentials: { AccessKeyId: string; SecretAccessKey: string; SessionToken: string };
      assumedRoleArn: string;
      sourceIdentity: string;
    };
    const env = userEnv('json');

    // Act
    const py = await boto3('-', env, JSON.stringify(answer));
    const forged = await boto3(
      '-',
      env,
      JSON.stringify({ ...answer, credentials: { ...answer.credentials, SecretAccessKey: 'A'.repeat(40) } }),
    );

    // Assert
    expect(py.error).toBeUndefined();
    expect(py.accessKeyId).toBe(answer.credentials.AccessKeyId);
    expect(py.arn).toBe(answer.assumedRoleArn);
    expect(py.arn).toMatch(/^arn:aws:sts::444455556666:assumed-role\/ProdReadOnly\//);
    expect(forged).toMatchObject({ error: 'SignatureDoesNotMatch', status: 403 });
    const session = issuedSessionsOf(stack.stack.store)
      .list()
      .find((s) => s.accessKeyId === answer.credentials.AccessKeyId);
    expect(session?.sourceIdentity).toBe(answer.sourceIdentity);
  });

  it('a service’s vend printed by `vend credentials --format json`, piped to boto3 as it is', async () => {
    const env = userEnv('cli-json');
    const printed = await run([...VEND, 'credentials', 'prod-s3-read', '--format', 'json'], {
      ...env,
      AWS_PROFILE: 'ci',
    });
    expect(printed.code, printed.stderr).toBe(0);

    const py = await boto3('-', env, printed.stdout);

    const answer = JSON.parse(printed.stdout) as {
      assumedRoleArn: string;
      credentials: { AccessKeyId: string };
    };
    expect(py.error).toBeUndefined();
    expect(py.arn).toBe(answer.assumedRoleArn);
    expect(py.arn).toMatch(/^arn:aws:sts::444455556666:assumed-role\/S3ReadAll\/vend-CICDDeployRole-/);
    expect(py.accessKeyId).toBe(answer.credentials.AccessKeyId);
  });
});
