import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalAws, run, startLocalAws } from './harness';

/** boto3 script: AssumeRole as the broker, then GetCallerIdentity with the result; prints JSON. */
const SCRIPT = `
import json, sys, boto3, botocore.exceptions
from datetime import timezone
broker = boto3.Session(profile_name="vend-broker")
sts = broker.client("sts")
out = {}
try:
    r = sts.assume_role(RoleArn=sys.argv[1], RoleSessionName="bob", ExternalId=sys.argv[2],
                        SourceIdentity="bob", DurationSeconds=900,
                        Tags=[{"Key": "vend:caller", "Value": "bob"}], TransitiveTagKeys=[])
    c = r["Credentials"]
    out["assumedArn"] = r["AssumedRoleUser"]["Arn"]
    out["accessKeyId"] = c["AccessKeyId"]
    out["expiration"] = c["Expiration"].astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    me = boto3.client("sts", aws_access_key_id=c["AccessKeyId"], aws_secret_access_key=c["SecretAccessKey"],
                      aws_session_token=c["SessionToken"]).get_caller_identity()
    out["callerArn"] = me["Arn"]
except botocore.exceptions.ClientError as e:
    out["error"] = e.response["Error"]["Code"]
    out["status"] = e.response["ResponseMetadata"]["HTTPStatusCode"]
    out["requestId"] = e.response["ResponseMetadata"].get("RequestId")
print(json.dumps(out))
`;

describe('boto3 against the local AWS endpoint', () => {
  let aws: LocalAws;
  const py = async (roleArn: string, externalId: string) => {
    const r = await run('python3', ['-c', SCRIPT, roleArn, externalId], aws.env);
    if (r.code !== 0) throw new Error(`python3 failed: ${r.stderr}`);
    return JSON.parse(r.stdout) as Record<string, string | number | null>;
  };

  beforeAll(async () => {
    aws = await startLocalAws();
  });
  afterAll(async () => {
    await aws.close();
  });

  it('assumes S3ReadAll (with an empty TransitiveTagKeys list) and the session signs its own calls', async () => {
    const out = await py('arn:aws:iam::444455556666:role/S3ReadAll', 'prod-s3-ext-19c2');
    expect(out.assumedArn).toBe('arn:aws:sts::444455556666:assumed-role/S3ReadAll/bob');
    expect(out.callerArn).toBe('arn:aws:sts::444455556666:assumed-role/S3ReadAll/bob');
    // boto3 parsed the Expiration into the same instant the store recorded.
    const issued = aws.store.lookupAccessKey(String(out.accessKeyId));
    expect(issued?.expiration).toBe(out.expiration);
    expect(issued?.principal.sessionTags).toEqual({ 'vend:caller': 'bob' });
  });

  it('parses AccessDenied with its status and request id', async () => {
    const out = await py('arn:aws:iam::444455556666:role/S3ReadAll', 'wrong-external-id');
    expect(out.error).toBe('AccessDenied');
    expect(out.status).toBe(403);
    expect(out.requestId).toMatch(/^[0-9a-f-]{36}$/);
  });
});
