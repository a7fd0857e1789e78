/**
 * The web console's build and where it is served from, without a browser (the browser specs are in
 * ./console.test.ts):
 * - the bundle stays under 100 KB of gzipped script, with no source map and no inline script/style;
 * - the app's sources never build markup from strings nor touch persistent storage or cookies;
 * - the local gateway's static handler serves only the files the build wrote, with the security
 *   headers, and nothing under /v1;
 * - serverless.yml puts the app in a private bucket that only its CloudFront distribution reads
 *   (origin access control), routes /v1/* to the HTTP API on the same origin, and sends the same
 *   Content-Security-Policy as the local gateway.
 */
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseServerlessYaml } from '../../../infra/local/gateway/serverless';
import { createWebApp, WEB_CLIENT_ID, webCsp } from '../../../infra/local/gateway/static';
import { buildWeb, type WebBuild } from '../../../web/build';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const ISSUER = 'http://127.0.0.1:4566/oidc';

let out: string;
let built: WebBuild;

beforeAll(async () => {
  out = await mkdtemp(join(tmpdir(), 'vend-web-'));
  built = await buildWeb({ outDir: out });
}, 60_000);

afterAll(async () => {
  if (out) await rm(out, { recursive: true, force: true });
});

describe('the web console build', () => {
  it('ships at most 100 KB of gzipped script, one script and one stylesheet, no source map', async () => {
    const scripts = built.files.filter((f) => f.name.endsWith('.js'));

    expect(scripts).toHaveLength(1);
    expect(scripts[0]!.gzipBytes).toBeLessThanOrEqual(100 * 1024);
    expect((await readdir(out)).sort()).toEqual([built.script, built.stylesheet, 'index.html'].sort());
    expect(await readFile(join(out, built.script), 'utf8')).not.toMatch(/sourceMappingURL/);
  });

  it('index.html loads the built files by name and has no inline script, style or handler', async () => {
    const html = await readFile(join(out, 'index.html'), 'utf8');

    expect(html).toContain(`<script type="module" src="/${built.script}"></script>`);
    expect(html).toContain(`<link rel="stylesheet" href="/${built.stylesheet}" />`);
    expect(html).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/);
    expect(html).not.toMatch(/<style|\sstyle=|\son[a-z]+=/i);
  });

  it("the app's sources never write markup from strings, eval, or use persistent storage or cookies", async () => {
    const dir = join(ROOT, 'web', 'src');
    const files = (await readdir(dir, { recursive: true })).filter((f) => /\.tsx?$/.test(f));
    const forbidden =
      /dangerouslySetInnerHTML|innerHTML|outerHTML|insertAdjacentHTML|document\.write|\beval\(|new Function|localStorage|document\.cookie|indexedDB/;

    expect(files.length).toBeGreaterThan(5);
    for (const f of files) {
      const source = await readFile(join(dir, f), 'utf8');
      expect(source, f).not.toMatch(forbidden);
    }
    const bundle = await readFile(join(out, built.script), 'utf8');
    expect(bundle).not.toMatch(/localStorage|document\.cookie|indexedDB/);
  });
});

describe('the local gateway serves the built app (infra/local/gateway/static.ts)', () => {
  const app = () => createWebApp({ dir: out, issuer: ISSUER, auditorsGroup: 'auditors' });

  it('answers / with index.html and the security headers', async () => {
    const res = await app()('GET', '/');

    expect(res?.status).toBe(200);
    expect(res?.headers).toMatchObject({
      'content-type': 'text/html; charset=utf-8',
      'content-security-policy': webCsp('http://127.0.0.1:4566'),
      'referrer-policy': 'no-referrer',
      'x-content-type-options': 'nosniff',
      'x-frame-options': 'DENY',
      'cache-control': 'no-cache',
    });
    expect(res?.body.toString()).toContain(built.script);
  });

  it('the policy allows scripts and styles from the origin only, connects only to it and the issuer, and needs Trusted Types', () => {
    const csp = webCsp('http://127.0.0.1:4566');

    expect(csp).toContain("default-src 'self'");
    expect(csp).toContain("script-src 'self';");
    expect(csp).toContain("style-src 'self';");
    expect(csp).toContain("connect-src 'self' http://127.0.0.1:4566;");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).toContain("require-trusted-types-for 'script'");
    expect(csp).not.toMatch(/unsafe-inline|unsafe-eval|\*|data:/);
  });

  it('answers /config.json with the issuer and the public client id', async () => {
    const res = await app()('GET', '/config.json');

    expect(JSON.parse(res!.body.toString())).toEqual({
      issuer: ISSUER,
      clientId: WEB_CLIENT_ID,
      scope: 'openid profile email groups',
      auditorsGroup: 'auditors',
    });
  });

  it('caches the content-hashed files for good', async () => {
    const res = await app()('GET', `/${built.script}`);

    expect(res?.headers['content-type']).toBe('text/javascript; charset=utf-8');
    expect(res?.headers['cache-control']).toBe('public, max-age=31536000, immutable');
  });

  it.each([
    '/../package.json',
    '/%2e%2e/package.json',
    '/..%2fpackage.json',
    '/web/src/main.tsx',
    '/src/main.tsx',
    '/.env',
    '/index.html/',
    '/nothing.js',
    '/v1/entitlements',
    '/v1',
  ])('serves nothing for %s (the gateway answers its own 404)', async (path) => {
    expect(await app()('GET', path)).toBeUndefined();
  });

  it('serves GET and HEAD only', async () => {
    expect(await app()('POST', '/')).toBeUndefined();
    expect(await app()('PUT', '/config.json')).toBeUndefined();
    expect((await app()('HEAD', '/'))?.status).toBe(200);
  });

  it('says how to build when the app is not built', async () => {
    const res = await createWebApp({ dir: join(out, 'missing'), issuer: ISSUER })('GET', '/');

    expect(res?.status).toBe(503);
    expect(res?.body.toString()).toContain('npm run build:web');
  });
});

type Node = Record<string, unknown>;

describe('the web console in AWS (serverless.yml)', () => {
  let resources: Record<string, { Type: string; Properties: Node }>;
  beforeAll(async () => {
    const doc = parseServerlessYaml(await readFile(join(ROOT, 'serverless.yml'), 'utf8'));
    resources = (doc.resources as Node).Resources as typeof resources;
  });
  const props = (id: string) => resources[id]!.Properties;

  it('keeps the files in a bucket no one can make public, readable only by the distribution through OAC', () => {
    expect(resources.WebBucket?.Type).toBe('AWS::S3::Bucket');
    expect(props('WebBucket').PublicAccessBlockConfiguration).toEqual({
      BlockPublicAcls: true,
      BlockPublicPolicy: true,
      IgnorePublicAcls: true,
      RestrictPublicBuckets: true,
    });
    const statements = (props('WebBucketPolicy').PolicyDocument as { Statement: Node[] }).Statement;
    const allows = statements.filter((s) => s.Effect === 'Allow');
    expect(allows).toHaveLength(1);
    expect(allows[0]).toMatchObject({
      Principal: { Service: 'cloudfront.amazonaws.com' },
      Action: 's3:GetObject',
    });
    expect(JSON.stringify(allows[0]!.Condition)).toMatch(/distribution\/\$\{WebDistribution\}/);
    expect(props('WebOriginAccessControl').OriginAccessControlConfig).toMatchObject({
      OriginAccessControlOriginType: 's3',
      SigningBehavior: 'always',
      SigningProtocol: 'sigv4',
    });
  });

  it('serves the app from the bucket and /v1/* from the HTTP API on the same origin, uncached', () => {
    const config = props('WebDistribution').DistributionConfig as Node;
    const origins = config.Origins as Node[];
    const web = origins.find((o) => o.Id === 'web')!;
    const api = origins.find((o) => o.Id === 'api')!;
    expect(JSON.stringify(web.OriginAccessControlId)).toContain('WebOriginAccessControl');
    expect(JSON.stringify(api.DomainName)).toMatch(/\$\{HttpApi\}\.execute-api\./);
    expect((config.DefaultCacheBehavior as Node).TargetOriginId).toBe('web');
    const v1 = (config.CacheBehaviors as Node[]).find((b) => b.PathPattern === '/v1/*')!;
    expect(v1).toMatchObject({
      TargetOriginId: 'api',
      ViewerProtocolPolicy: 'https-only',
      CachePolicyId: '4135ea2d-6df8-44a3-9df3-4b5a84be39ad',
      OriginRequestPolicyId: 'b689b0a8-53d0-40ab-baf2-68738e2966ac',
    });
    expect(v1.AllowedMethods).toEqual(expect.arrayContaining(['GET', 'POST', 'OPTIONS']));
  });

  it('sends the same Content-Security-Policy as the local gateway, with the issuer origin', () => {
    const policy = (props('WebSecurityHeaders').ResponseHeadersPolicyConfig as Node)
      .SecurityHeadersConfig as Node;
    const join = (policy.ContentSecurityPolicy as Node).ContentSecurityPolicy as {
      'Fn::Join': [string, unknown[]];
    };
    const csp = join['Fn::Join'][1]
      .map((part) => (typeof part === 'string' ? part : 'login.example.com'))
      .join('');

    expect(csp).toBe(webCsp('https://login.example.com'));
    expect(policy).toMatchObject({
      ReferrerPolicy: { ReferrerPolicy: 'no-referrer', Override: true },
      ContentTypeOptions: { Override: true },
      FrameOptions: { FrameOption: 'DENY', Override: true },
    });
  });
});
