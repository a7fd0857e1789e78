/**
 * The credential scope and the request date at the local AWS endpoint (STS and DynamoDB), tried the
 * way a confused or hostile client would: the real AWS CLI with a wrong `--region`, botocore signing
 * for a tampered region, service or clock, a presigned URL from boto3, and requests signed by hand
 * CORRECTLY over a wrong scope part (test/support/sigv4.ts), so only the scope check can refuse
 * them. Every refusal must carry AWS's own code, status and message (sources:
 * infra/local/sigv4/verify.ts); every control with the right scope must pass.
 */
import { XMLParser } from 'fast-xml-parser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { amzDateOf, type HandScope, handSign } from '../../support/sigv4';
import { type LocalAws, run, startLocalAws } from './harness';

// Values untrimmed: AWS's scope messages end in a space, and that is part of the message.
const xml = new XMLParser({ trimValues: false, parseTagValue: false });

/** `{type, code, message}` of an STS `<ErrorResponse>`. */
function stsError(body: string): { type: string; code: string; message: string } {
  const doc = xml.parse(body) as {
    ErrorResponse?: { Error?: { Type: string; Code: string; Message: string } };
  };
  const e = doc.ErrorResponse?.Error;
  if (!e) throw new Error(`not an STS ErrorResponse: ${body}`);
  return { type: e.Type, code: e.Code, message: e.Message };
}

const REGION_MESSAGE = 'Credential should be scoped to a valid region. ';
const STS_BODY = 'Action=GetCallerIdentity&Version=2011-06-15';

/**
 * botocore, as the AWS CLI and boto3 use it: `SigV4Auth(credentials, service, region)` signs each
 * case; the clock is botocore's own (`botocore.auth.get_current_datetime`), shifted per case.
 * Then boto3 itself: a client whose clock is 16 minutes off, and a presigned GetCallerIdentity URL
 * from a client in another region. Prints one JSON object of results.
 */
const BOTOCORE = `
import json, os, sys, datetime
import boto3, botocore.auth, botocore.exceptions
from botocore.awsrequest import AWSRequest
from botocore.httpsession import URLLib3Session

endpoint = os.environ["AWS_ENDPOINT_URL"]
creds = boto3.Session(profile_name=sys.argv[1]).get_credentials().get_frozen_credentials()
real_now = botocore.auth.get_current_datetime
http = URLLib3Session()

def shifted(minutes):
    return lambda *a, **k: real_now(*a, **k) + datetime.timedelta(minutes=minutes)

def answer(res):
    return {"status": res.status_code, "body": res.text}

def send(target, service, region, minutes=0):
    if target == "sts":
        req = AWSRequest(method="POST", url=endpoint + "/", data="${STS_BODY}",
                         headers={"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"})
    else:
        req = AWSRequest(method="POST", url=endpoint + "/", data="{}",
                         headers={"Content-Type": "application/x-amz-json-1.0",
                                  "X-Amz-Target": "DynamoDB_20120810.ListTables"})
    botocore.auth.get_current_datetime = shifted(minutes)
    try:
        botocore.auth.SigV4Auth(creds, service, region).add_auth(req)
    finally:
        botocore.auth.get_current_datetime = real_now
    return answer(http.send(req.prepare()))

out = {}
for name, target, service, region, minutes in json.loads(sys.argv[2]):
    out[name] = send(target, service, region, minutes)

botocore.auth.get_current_datetime = shifted(-16)
try:
    boto3.Session(profile_name=sys.argv[1]).client("sts").get_caller_identity()
    out["boto3 clock -16 min"] = {"status": 200}
except botocore.exceptions.ClientError as e:
    out["boto3 clock -16 min"] = {"status": e.response["ResponseMetadata"]["HTTPStatusCode"],
                                  "code": e.response["Error"]["Code"], "message": e.response["Error"]["Message"]}
finally:
    botocore.auth.get_current_datetime = real_now

for region in ["eu-west-1", "us-east-1"]:
    # HttpMethod GET: botocore signs with the operation's method (POST) unless told, as EKS tokens do.
    url = boto3.Session(profile_name=sys.argv[1]).client("sts", region_name=region).generate_presigned_url(
        "get_caller_identity", HttpMethod="GET")
    out["presigned " + region] = answer(http.send(AWSRequest(method="GET", url=url).prepare()))
print(json.dumps(out))
`;

/** [name, routed to, signing service, signing region, clock shift in minutes]. */
type BotoCase = [string, 'sts' | 'dynamodb', string, string, number];
const BOTO_CASES: BotoCase[] = [
  ['sts control', 'sts', 'sts', 'us-east-1', 0],
  ['sts region', 'sts', 'sts', 'eu-west-1', 0],
  ['sts service', 'sts', 'iam', 'us-east-1', 0],
  ['sts dynamodb-signed', 'sts', 'dynamodb', 'us-east-1', 0],
  ['sts -16 min', 'sts', 'sts', 'us-east-1', -16],
  ['sts +16 min', 'sts', 'sts', 'us-east-1', 16],
  ['dynamodb control', 'dynamodb', 'dynamodb', 'us-east-1', 0],
  ['dynamodb region', 'dynamodb', 'dynamodb', 'ap-southeast-2', 0],
  ['dynamodb sts-signed', 'dynamodb', 'sts', 'us-east-1', 0],
  ['dynamodb -16 min', 'dynamodb', 'dynamodb', 'us-east-1', -16],
];

type Answer = { status: number; body?: string; code?: string; message?: string };

describe('the local AWS endpoint refuses a credential scope that is not its own', () => {
  let aws: LocalAws;
  let boto: Record<string, Answer>;
  const cli = (...args: string[]) => run('aws', args, aws.env);

  beforeAll(async () => {
    aws = await startLocalAws();
    const r = await run('python3', ['-c', BOTOCORE, 'ci', JSON.stringify(BOTO_CASES)], aws.env);
    if (r.code !== 0) throw new Error(`python3 failed: ${r.stderr}`);
    boto = JSON.parse(r.stdout) as Record<string, Answer>;
  });
  afterAll(async () => {
    await aws.close();
  });

  /** An STS refusal: `<ErrorResponse>` with Type Sender, the code and the message. */
  const expectSts = (a: Answer | undefined, status: number, code: string, message: string | RegExp) => {
    expect(a?.status).toBe(status);
    const e = stsError(a?.body ?? '');
    expect(e.type).toBe('Sender');
    expect(e.code).toBe(code);
    if (typeof message === 'string') expect(e.message).toBe(message);
    else expect(e.message).toMatch(message);
  };
  /** A DynamoDB refusal: HTTP 400, `__type` com.amazon.coral.service#…, the message. */
  const expectDynamo = (a: Answer | undefined, type: string, message: string | RegExp) => {
    expect(a?.status).toBe(400);
    const body = JSON.parse(a?.body ?? '{}') as { __type: string; message: string };
    expect(body.__type).toBe(`com.amazon.coral.service#${type}`);
    if (typeof message === 'string') expect(body.message).toBe(message);
    else expect(body.message).toMatch(message);
  };

  describe('the real AWS CLI with a wrong --region', () => {
    it('`aws sts get-caller-identity --region eu-west-1` is refused with SignatureDoesNotMatch', async () => {
      const wrong = await cli('sts', 'get-caller-identity', '--profile', 'ci', '--region', 'eu-west-1');
      const right = await cli('sts', 'get-caller-identity', '--profile', 'ci', '--region', 'us-east-1');

      expect(wrong.code).not.toBe(0);
      expect(wrong.stdout).toBe('');
      expect(wrong.stderr).toContain(
        `An error occurred (SignatureDoesNotMatch) when calling the GetCallerIdentity operation: ${REGION_MESSAGE}`,
      );
      expect(right.code).toBe(0);
    });

    it('`aws dynamodb list-tables --region eu-west-1` is refused with InvalidSignatureException', async () => {
      const wrong = await cli('dynamodb', 'list-tables', '--profile', 'vend-broker', '--region', 'eu-west-1');

      expect(wrong.code).not.toBe(0);
      expect(wrong.stderr).toContain(
        `An error occurred (InvalidSignatureException) when calling the ListTables operation: ${REGION_MESSAGE}`,
      );
    });

    it('`aws sts assume-role --region eu-west-1` issues nothing', async () => {
      const r = await cli(
        'sts',
        'assume-role',
        '--profile',
        'vend-broker',
        '--region',
        'eu-west-1',
        '--role-arn',
        'arn:aws:iam::444455556666:role/ProdReadOnly',
        '--role-session-name',
        'alice',
        '--external-id',
        'prod-readonly-ext-7f3a',
        '--source-identity',
        'alice',
      );

      expect(r.code).not.toBe(0);
      expect(r.stdout).not.toContain('SecretAccessKey');
      expect(r.stderr).toContain('(SignatureDoesNotMatch)');
    });
  });

  describe('botocore signing a tampered scope or clock', () => {
    it('the controls pass (so each refusal below is the scope or the clock)', () => {
      expect(boto['sts control']?.status).toBe(200);
      expect(boto['dynamodb control']?.status).toBe(200);
    });

    it('STS: another region → 403 SignatureDoesNotMatch, AWS’s message', () => {
      expectSts(boto['sts region'], 403, 'SignatureDoesNotMatch', REGION_MESSAGE);
    });

    it('STS: another service (iam, dynamodb) → 403 naming sts', () => {
      const message = "Credential should be scoped to correct service: 'sts'. ";
      expectSts(boto['sts service'], 403, 'SignatureDoesNotMatch', message);
      expectSts(boto['sts dynamodb-signed'], 403, 'SignatureDoesNotMatch', message);
    });

    it('STS: a clock 16 minutes off either way → 403 "Signature expired" / "not yet current" (15 min.)', () => {
      expectSts(
        boto['sts -16 min'],
        403,
        'SignatureDoesNotMatch',
        /^Signature expired: \d{8}T\d{6}Z is now earlier than \d{8}T\d{6}Z \(\d{8}T\d{6}Z - 15 min\.\)$/,
      );
      expectSts(
        boto['sts +16 min'],
        403,
        'SignatureDoesNotMatch',
        /^Signature not yet current: \d{8}T\d{6}Z is still later than \d{8}T\d{6}Z \(\d{8}T\d{6}Z \+ 15 min\.\)$/,
      );
    });

    it('DynamoDB: region, service and clock → 400 InvalidSignatureException', () => {
      expectDynamo(boto['dynamodb region'], 'InvalidSignatureException', REGION_MESSAGE);
      expectDynamo(
        boto['dynamodb sts-signed'],
        'InvalidSignatureException',
        "Credential should be scoped to correct service: 'dynamodb'. ",
      );
      expectDynamo(
        boto['dynamodb -16 min'],
        'InvalidSignatureException',
        /^Signature expired: .* - 15 min\.\)$/,
      );
    });

    it('boto3 with its clock 16 minutes behind gets ClientError SignatureDoesNotMatch 403', () => {
      expect(boto['boto3 clock -16 min']).toMatchObject({
        status: 403,
        code: 'SignatureDoesNotMatch',
        message: expect.stringMatching(/^Signature expired: .* - 15 min\.\)$/),
      });
    });

    it('a presigned GetCallerIdentity URL from boto3 in eu-west-1 is refused; from us-east-1 it works', () => {
      expectSts(boto['presigned eu-west-1'], 403, 'SignatureDoesNotMatch', REGION_MESSAGE);
      expect(boto['presigned us-east-1']?.status).toBe(200);
      expect(boto['presigned us-east-1']?.body).toContain('assumed-role/CICDDeployRole/ci');
    });
  });

  describe('requests signed correctly over a wrong scope part (hand-built)', () => {
    const today = () => amzDateOf(new Date()).slice(0, 8);
    const send = (
      target: 'sts' | 'dynamodb',
      scope: Partial<HandScope>,
      o: { shiftMinutes?: number; credential?: string } = {},
    ) => {
      const key = aws.profiles[target === 'sts' ? 'ci' : 'vend-broker']!;
      const url = new URL(aws.endpoint.url);
      const at = new Date(Date.now() + (o.shiftMinutes ?? 0) * 60_000);
      const body = target === 'sts' ? STS_BODY : '{}';
      const headers = handSign({
        method: 'POST',
        path: '/',
        headers: {
          host: url.host,
          ...(target === 'sts'
            ? { 'content-type': 'application/x-www-form-urlencoded' }
            : {
                'content-type': 'application/x-amz-json-1.0',
                'x-amz-target': 'DynamoDB_20120810.ListTables',
              }),
        },
        body,
        accessKeyId: key.accessKeyId,
        secretAccessKey: key.secretAccessKey,
        sessionToken: key.sessionToken,
        amzDate: amzDateOf(at),
        scope: { date: amzDateOf(at).slice(0, 8), region: 'us-east-1', service: target, ...scope },
        ...(o.credential !== undefined && { credential: o.credential }),
      });
      return fetch(url, { method: 'POST', headers, body }).then(async (r) => ({
        status: r.status,
        body: await r.text(),
      }));
    };

    it('the hand signer with the right scope passes at STS and DynamoDB', async () => {
      expect((await send('sts', {})).status).toBe(200);
      expect((await send('dynamodb', {})).status).toBe(200);
    });

    it.each<[string, Partial<HandScope>, (day: string) => string]>([
      ['region', { region: 'eu-west-1' }, () => REGION_MESSAGE],
      ['service', { service: 'execute-api' }, () => "Credential should be scoped to correct service: '%s'. "],
      [
        'terminator',
        { terminator: 'aws5_request' },
        () => "Credential should be scoped with a valid terminator: 'aws4_request', not 'aws5_request'. ",
      ],
      [
        'date',
        { date: '20200101' },
        (day) =>
          `Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '20200101' != '${day}', from '`,
      ],
    ])('a wrong %s is refused by STS (403 XML) and DynamoDB (400 JSON)', async (_part, scope, message) => {
      const sts = await send('sts', scope);
      const dynamo = await send('dynamodb', scope);

      const expected = (service: string) => message(today()).replace('%s', service);
      expect(sts.status).toBe(403);
      expect(stsError(sts.body)).toMatchObject({ type: 'Sender', code: 'SignatureDoesNotMatch' });
      expect(stsError(sts.body).message.startsWith(expected('sts'))).toBe(true);
      expect(dynamo.status).toBe(400);
      const d = JSON.parse(dynamo.body) as { __type: string; message: string };
      expect(d.__type).toBe('com.amazon.coral.service#InvalidSignatureException');
      expect(d.message.startsWith(expected('dynamodb'))).toBe(true);
    });

    it('a request date 16 minutes off (scope date matching) is refused by both', async () => {
      const sts = await send('sts', {}, { shiftMinutes: -16 });
      const dynamo = await send('dynamodb', {}, { shiftMinutes: 16 });

      expect(stsError(sts.body)).toMatchObject({
        code: 'SignatureDoesNotMatch',
        message: expect.stringMatching(/^Signature expired: .* - 15 min\.\)$/),
      });
      expect(JSON.parse(dynamo.body)).toEqual({
        __type: 'com.amazon.coral.service#InvalidSignatureException',
        message: expect.stringMatching(/^Signature not yet current: .* \+ 15 min\.\)$/),
      });
    });

    it('a malformed credential (four parts) is IncompleteSignature at both', async () => {
      const key = aws.profiles.ci!;
      const credential = `${key.accessKeyId}/${today()}/us-east-1/sts`;
      const message = `Credential must have exactly 5 slash-delimited elements, e.g. keyid/date/region/service/term, got '${credential}'`;
      const sts = await send('sts', {}, { credential });
      const dynamo = await send('dynamodb', {}, { credential });

      expect(sts.status).toBe(400);
      expect(stsError(sts.body)).toMatchObject({ code: 'IncompleteSignature', message });
      expect(JSON.parse(dynamo.body)).toEqual({
        __type: 'com.amazon.coral.service#IncompleteSignatureException',
        message,
      });
    });
  });
});
