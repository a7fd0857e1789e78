// biome-ignore-all lint/suspicious/noExplicitAny: tests poke at a parsed document
// biome-ignore-all lint/suspicious/noTemplateCurlyInString: Serverless variables are the subject of these tests
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import {
  interpretServerless,
  loadServerless,
  parseServerlessYaml,
  resolveVariables,
  ServerlessConfigError,
} from '../../../../infra/local/gateway/serverless';

const REPO_SERVERLESS = fileURLToPath(new URL('../../../../serverless.yml', import.meta.url));

describe('serverless variables', () => {
  it('resolves env, self, sls:stage and opt with defaults, nested innermost first', () => {
    const doc = {
      provider: { stage: "${opt:stage, 'dev'}" },
      custom: { names: { dev: 'vend-dev-x' }, table: '${self:custom.names.${sls:stage}}' },
      a: '${env:A}',
      b: '${env:MISSING, self:custom.table}',
      c: 'prefix-${sls:stage}-${aws:region}-${aws:accountId}',
      d: '${env:MISSING, 42}',
    };

    const r = resolveVariables(doc, { env: { A: 'from-env' } });

    expect(r.a).toBe('from-env');
    expect(r.b).toBe('vend-dev-x');
    expect(r.c).toBe('prefix-dev-us-east-1-222233334444');
    expect(r.d).toBe(42);
  });

  it('lets --stage win over the default', () => {
    const r = resolveVariables(
      { provider: { stage: "${opt:stage, 'dev'}" }, x: '${sls:stage}' },
      { stage: 'prod', env: {} },
    );

    expect(r.x).toBe('prod');
  });

  it('keeps an object when the variable is the whole value', () => {
    const r = resolveVariables({ custom: { tags: { a: '1' } }, tags: '${self:custom.tags}' }, { env: {} });

    expect(r.tags).toEqual({ a: '1' });
  });

  it('leaves CloudFormation placeholders of Fn::Sub alone', () => {
    const r = resolveVariables(
      { x: { 'Fn::Sub': 'arn:aws:s3:::${AWS::AccountId}-${Bucket}-${sls:stage}' } },
      { env: {} },
    );

    expect(r.x).toEqual({ 'Fn::Sub': 'arn:aws:s3:::${AWS::AccountId}-${Bucket}-dev' });
  });

  it('fails naming the element when no source has a value', () => {
    expect(() => resolveVariables({ provider: { environment: { X: '${env:NOPE}' } } }, { env: {} })).toThrow(
      /provider\.environment\.X: cannot resolve \$\{env:NOPE\}/,
    );
  });

  it('refuses sources the local stack does not support', () => {
    expect(() => resolveVariables({ x: '${ssm:/vend/secret}' }, { env: {} })).toThrow(ServerlessConfigError);
  });

  it('parses CloudFormation short-form tags to their long form', () => {
    const doc = parseServerlessYaml('a: !Ref T\nb: !GetAtt T.Arn\nc: !Join [":", [x, !Ref T]]\n');

    expect(doc).toEqual({
      a: { Ref: 'T' },
      b: { 'Fn::GetAtt': ['T', 'Arn'] },
      c: { 'Fn::Join': [':', ['x', { Ref: 'T' }]] },
    });
  });
});

describe('serverless.yml interpretation', () => {
  const doc = (): Record<string, unknown> =>
    parseServerlessYaml(`
service: svc
provider:
  name: aws
  timeout: 8
  environment:
    TABLE: !Ref Things
    TABLE_ARN: !GetAtt Things.Arn
  httpApi:
    authorizers:
      person:
        identitySource: $request.header.Authorization
        issuerUrl: https://issuer.example
        audience: aud-1
functions:
  one:
    handler: functions/one.handler
    timeout: 3
    events:
      - httpApi: { method: POST, path: /v1/service/x, authorizer: { type: aws_iam } }
      - httpApi: { method: GET, path: '/v1/things/{id}', authorizer: { name: person, scopes: [read] } }
      - httpApi: 'GET /v1/open'
      - httpApi: '*'
resources:
  Resources:
    Things:
      Type: AWS::DynamoDB::Table
      Properties:
        TableName: svc-things
        KeySchema: [{ AttributeName: pk, KeyType: HASH }]
`);

  it('reads routes with their authorizers', () => {
    const svc = interpretServerless(doc(), { rootDir: '/r', env: {} });

    expect(svc.routes).toEqual([
      {
        routeKey: 'POST /v1/service/x',
        method: 'POST',
        path: '/v1/service/x',
        functionKey: 'one',
        auth: { type: 'aws_iam' },
      },
      {
        routeKey: 'GET /v1/things/{id}',
        method: 'GET',
        path: '/v1/things/{id}',
        functionKey: 'one',
        auth: {
          type: 'jwt',
          name: 'person',
          issuer: 'https://issuer.example',
          audience: ['aud-1'],
          identitySource: 'authorization',
          scopes: ['read'],
        },
      },
      {
        routeKey: 'GET /v1/open',
        method: 'GET',
        path: '/v1/open',
        functionKey: 'one',
        auth: { type: 'none' },
      },
      { routeKey: '$default', method: 'ANY', functionKey: 'one', auth: { type: 'none' } },
    ]);
  });

  it('reads functions: deployed name, timeout, environment with table intrinsics resolved', () => {
    const fn = interpretServerless(doc(), { rootDir: '/r', env: {} }).functions.get('one');

    expect(fn).toEqual({
      key: 'one',
      name: 'svc-dev-one',
      handler: 'functions/one.handler',
      timeoutSeconds: 3,
      memorySize: 1024,
      environment: {
        TABLE: 'svc-things',
        TABLE_ARN: 'arn:aws:dynamodb:us-east-1:222233334444:table/svc-things',
      },
    });
  });

  it('refuses a route naming an authorizer that does not exist', () => {
    const d = doc();
    (d.functions as any).one.events = [
      { httpApi: { method: 'GET', path: '/x', authorizer: { name: 'nobody' } } },
    ];

    expect(() => interpretServerless(d, { rootDir: '/r', env: {} })).toThrow(/no authorizer named nobody/);
  });

  it('refuses a route declared twice', () => {
    const d = doc();
    (d.functions as any).two = { handler: 'f.h', events: [{ httpApi: 'GET /v1/open' }] };

    expect(() => interpretServerless(d, { rootDir: '/r', env: {} })).toThrow(
      /GET \/v1\/open is declared twice/,
    );
  });

  it("loads the repository's serverless.yml: health without authorizer, personJwt from the environment, its tables", () => {
    const svc = loadServerless(REPO_SERVERLESS, { env: { VEND_OIDC_ISSUER: 'http://127.0.0.1:4566/oidc' } });

    expect(svc.routes.find((r) => r.routeKey === 'GET /v1/health')?.auth).toEqual({ type: 'none' });
    expect(svc.authorizers.get('personJwt')).toMatchObject({
      issuer: 'http://127.0.0.1:4566/oidc',
      audience: ['vend'],
    });
    expect(svc.tables.map((t) => t.properties.TableName).sort()).toEqual([
      'vend-dev-audit',
      'vend-dev-audit-seals',
      'vend-dev-entitlements',
      'vend-dev-limits',
      'vend-dev-requests',
    ]);
    expect(svc.functions.get('health')?.environment.VEND_AUDIT_TABLE).toBe('vend-dev-audit');
  });

  it("fails to load the repository's serverless.yml without VEND_OIDC_ISSUER, naming it", () => {
    expect(() => loadServerless(REPO_SERVERLESS, { env: {} })).toThrow(/env:VEND_OIDC_ISSUER/);
  });
});
