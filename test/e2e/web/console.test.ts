/**
 * The web console in a real browser (issue 16): Debian's Chromium driven by playwright-core against
 * the local stack, one browser for the file and one context (a separate person, cookies and storage
 * of their own) per demo person. The people sign in through the local issuer's login form, exactly
 * as a person would, and then act as the stories tell:
 * - alice sees prod-readonly and gets keys once; they are gone after she navigates away and were
 *   never in storage, a cookie or a URL; she opens the console and lands on the local console page;
 * - alice requests prod-admin, bob and carol approve from their own browsers, alice's page shows
 *   the approval without a reload and she uses the grant; her own request has no buttons for her,
 *   and the server refuses her vote anyway;
 * - a reason carrying markup is shown as text and runs nothing; its requester cancels it;
 * - dave breaks glass after its warning; erin finds it in Audit (filters, paging, sealed-up-to) and
 *   in Reviews; bob signs the review off; bob revokes alice's live session from Sessions;
 * - mallory sees no entitlement and no approval;
 * - when the access token's lifetime is over, the page drops it and asks to sign in again;
 * - axe-core finds no serious or critical violation on any page.
 * Screenshots of each page go to test-output/screenshots/; first-render timings to
 * test-output/web-timings.json (reported, never asserted: speed is not a test here).
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { webCsp } from '../../../infra/local/gateway/static';
import { buildWeb } from '../../../web/build';
import { withStack } from '../../support/stack';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const OUT = join(ROOT, 'test-output');
const SHOTS = join(OUT, 'screenshots');
const stack = withStack();

/** One person at their own browser: a context of their own, what it sent and what it saw. */
interface Person {
  name: string;
  context: BrowserContext;
  page: Page;
  /** Every URL the page requested (the app, the issuer, the API). */
  urls: string[];
  /** JavaScript dialogs the page opened (alert/confirm/prompt): markup that ran would open one. */
  dialogs: string[];
  /** Access tokens the issuer gave this page (to prove they never reach a URL or storage). */
  tokens: string[];
  /** Main-frame navigations (a reload or a new document counts; nothing else happens between checks). */
  navigations: number;
}

let browser: Browser;
const people: Person[] = [];
const a11y = new Map<string, { id: string; impact: string; help: string; nodes: number }[]>();
const timings: Record<string, number> = {};
let axeSource: string;

beforeAll(async () => {
  await buildWeb();
  axeSource = await readFile(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');
  await mkdir(SHOTS, { recursive: true });
  browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: [
      '--no-sandbox',
      '--headless',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
    ],
  });
}, 60_000);

afterAll(async () => {
  for (const p of people) await p.context.close().catch(() => undefined);
  await browser?.close();
  await writeFile(join(OUT, 'web-timings.json'), `${JSON.stringify(timings, null, 2)}\n`).catch(
    () => undefined,
  );
  await writeFile(join(OUT, 'web-a11y.json'), `${JSON.stringify(Object.fromEntries(a11y), null, 2)}\n`).catch(
    () => undefined,
  );
});

/** Opens the console as `name`, signing in through the issuer's login form. */
async function signIn(name: string, opts: { fakeClock?: boolean } = {}): Promise<Person> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  // A clock the spec can move (it keeps running at the real pace until moved).
  if (opts.fakeClock) await context.clock.install();
  const page = await context.newPage();
  const person: Person = { name, context, page, urls: [], dialogs: [], tokens: [], navigations: 0 };
  people.push(person);
  page.on('request', (r) => person.urls.push(r.url()));
  page.on('dialog', (d) => {
    person.dialogs.push(d.message());
    void d.dismiss();
  });
  page.on('framenavigated', (f) => {
    if (f === page.mainFrame()) person.navigations += 1;
  });
  page.on('response', (r) => {
    if (r.url().endsWith('/oidc/token') && r.status() === 200)
      void r
        .json()
        .then((b: { access_token?: string }) => b.access_token && person.tokens.push(b.access_token));
  });
  await page.goto(`${stack.apiUrl}/`);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.locator('input[name="login"]').fill(name);
  await page.locator('form button[type="submit"], form input[type="submit"]').first().click();
  await page.getByRole('heading', { name: 'My access', level: 1 }).waitFor();
  return person;
}

async function goTo(p: Person, link: string): Promise<void> {
  await p.page
    .getByRole('navigation', { name: 'Pages' })
    .getByRole('link', { name: link, exact: true })
    .click();
  await p.page.getByRole('heading', { name: link, level: 1 }).waitFor();
}

/** Runs axe-core in the page (evaluated, so the page's CSP stays as it is) and keeps what it found. */
async function checkA11y(p: Person, name: string): Promise<void> {
  await p.page.evaluate(axeSource);
  const found = await p.page.evaluate<{ id: string; impact: string; help: string; nodes: number }[]>(`
    axe.run(document, { resultTypes: ['violations'] }).then((r) =>
      r.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.length })))`);
  a11y.set(name, [...(a11y.get(name) ?? []), ...found]);
}

async function shot(p: Person, name: string): Promise<void> {
  await p.page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });
}

/** Everything the browser keeps for the app's origin that script or the server could read back. */
async function stored(p: Person): Promise<string> {
  const inPage = await p.page.evaluate<string>(
    'JSON.stringify([Object.entries(sessionStorage), Object.entries(localStorage), document.cookie])',
  );
  const state = await p.context.storageState();
  return inPage + JSON.stringify(state);
}

const article = (p: Person, name: string | RegExp) => p.page.getByRole('article', { name });

/** The API as the person's browser calls it, with the token the issuer gave that browser. */
async function api(p: Person, method: string, path: string, body?: unknown): Promise<Response> {
  const token = p.tokens.at(-1);
  if (!token) throw new Error(`${p.name} has no token`);
  return fetch(`${stack.apiUrl}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
}

describe('the web console, served by the local gateway', () => {
  it('serves the app at / with the strict headers, beside an unchanged API under /v1', async () => {
    const home = await fetch(`${stack.apiUrl}/`);
    const health = await fetch(`${stack.apiUrl}/v1/health`);
    const unknown = await fetch(`${stack.apiUrl}/v1/nothing-here`);

    expect(home.status).toBe(200);
    expect(home.headers.get('content-security-policy')).toBe(webCsp(new URL(stack.stack.oidc.issuer).origin));
    expect(home.headers.get('referrer-policy')).toBe('no-referrer');
    expect(home.headers.get('x-content-type-options')).toBe('nosniff');
    expect(await home.text()).toContain('<div id="app"></div>');
    expect(health.status).toBe(200);
    expect(await health.json()).toMatchObject({ status: 'ok' });
    expect(unknown.status).toBe(404);
    expect(await unknown.json()).toEqual({ message: 'Not Found' });
    expect(await (await fetch(`${stack.apiUrl}/config.json`)).json()).toMatchObject({
      issuer: stack.stack.oidc.issuer,
      clientId: 'vend-web',
    });
  });
});

describe('the web console in Chromium', () => {
  let alice: Person;
  let bob: Person;
  let carol: Person;
  let erin: Person;
  let adminRequestId: string;
  let aliceKeysAuditId: string;

  it('alice signs in through the issuer login form and sees prod-readonly; the code leaves the address bar', async () => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const page = await context.newPage();
    await page.goto(`${stack.apiUrl}/`);
    await page.getByRole('button', { name: 'Sign in' }).waitFor();
    timings.signInPageRenderedMs = await page.evaluate<number>(
      "performance.getEntriesByName('vend:ready')[0]?.startTime ?? -1",
    );
    await checkA11y(
      { name: 'anon', context, page, urls: [], dialogs: [], tokens: [], navigations: 0 },
      'sign-in',
    );
    await page.screenshot({ path: join(SHOTS, 'sign-in.png') });
    await context.close();

    alice = await signIn('alice');

    timings.signedInRenderedMs = await alice.page.evaluate<number>(
      "performance.getEntriesByName('vend:signed-in')[0]?.startTime ?? -1",
    );
    await article(alice, 'prod-readonly').waitFor();
    timings.myAccessListedMs = await alice.page.evaluate<number>('performance.now()');
    expect(alice.page.url()).toBe(`${stack.apiUrl}/#/access`);
    expect(alice.urls.some((u) => u.startsWith(`${stack.apiUrl}/?code=`))).toBe(true);
    await expect(
      article(alice, 'prod-readonly').getByRole('button', { name: 'Get keys' }).count(),
    ).resolves.toBe(1);
    await expect(article(alice, 'prod-admin').getByRole('link', { name: 'Request' }).count()).resolves.toBe(
      1,
    );
    await expect(
      alice.page.getByRole('navigation', { name: 'Pages' }).getByRole('link', { name: 'Audit' }).count(),
    ).resolves.toBe(0);
    await checkA11y(alice, 'my-access');
    await shot(alice, 'my-access');
  }, 60_000);

  it('alice gets keys once: shown after a click, gone after she navigates away, never in storage, a cookie or a URL', async () => {
    const card = article(alice, 'prod-readonly');
    await card.getByRole('button', { name: 'Get keys' }).click();
    const panel = alice.page.getByRole('region', { name: 'Keys for prod-readonly' });
    const exports = (await panel.locator('pre').first().textContent()) ?? '';
    const secret = /AWS_SECRET_ACCESS_KEY='([^']+)'/.exec(exports)?.[1];
    const sessionToken = /AWS_SESSION_TOKEN='([^']+)'/.exec(exports)?.[1];
    const keyId = /AWS_ACCESS_KEY_ID='([^']+)'/.exec(exports)?.[1];
    expect(keyId).toMatch(/^ASIA/);
    aliceKeysAuditId = /audit id (\w+)/.exec((await panel.textContent()) ?? '')?.[1] ?? '';
    expect(aliceKeysAuditId).toMatch(/^[0-9A-Z]{26}$/);
    expect(secret?.length).toBeGreaterThan(20);
    expect(sessionToken?.length).toBeGreaterThan(20);
    await expect(panel.getByRole('button', { name: 'Copy exports' }).count()).resolves.toBe(1);
    await expect(
      panel.getByText('credential_process = vend credential-process prod-readonly').count(),
    ).resolves.toBe(1);
    await checkA11y(alice, 'my-access-keys');

    await goTo(alice, 'Requests');
    await goTo(alice, 'My access');

    const html = await alice.page.content();
    expect(html).not.toContain(secret!);
    expect(html).not.toContain(sessionToken!);
    await expect(alice.page.getByRole('region', { name: /Keys for/ }).count()).resolves.toBe(0);
    const kept = await stored(alice);
    for (const value of [secret!, sessionToken!, keyId!, ...alice.tokens]) {
      expect(kept).not.toContain(value);
      expect(alice.urls.filter((u) => u.includes(value))).toEqual([]);
    }
    expect(alice.tokens).toHaveLength(1);
  }, 60_000);

  it('alice opens the console: a new tab lands on the local console page for her ProdReadOnly session', async () => {
    const [tab] = await Promise.all([
      alice.context.waitForEvent('page'),
      article(alice, 'prod-readonly').getByRole('button', { name: 'Open console' }).click(),
    ]);
    await tab.waitForURL(/\/federation\/console\//);
    await tab
      .getByText(/assumed-role\/ProdReadOnly\//)
      .first()
      .waitFor();
    await article(alice, 'prod-readonly')
      .getByText(/Console opened in a new tab for arn:aws:sts::444455556666:assumed-role\/ProdReadOnly\//)
      .waitFor();
    expect(await tab.evaluate<boolean>('window.opener === null')).toBe(true);
    expect(alice.page.url()).toBe(`${stack.apiUrl}/#/access`);
    expect(alice.urls.filter((u) => /SigninToken=/.test(u))).toEqual([]);
    await tab.close();
  }, 60_000);

  it('alice requests prod-admin; her own request has no buttons for her and the server refuses her vote', async () => {
    await article(alice, 'prod-admin').getByRole('link', { name: 'Request' }).click();
    await alice.page.getByRole('heading', { name: 'Requests', level: 1 }).waitFor();
    await expect(alice.page.getByLabel('Entitlement').inputValue()).resolves.toBe('prod-admin');
    await alice.page.getByLabel('Reason').fill('web e2e: rotate the primary database password');
    await alice.page.getByLabel(/^Ticket/).fill('OPS-7');
    await alice.page.getByRole('button', { name: 'Send request' }).click();
    await alice.page.getByText('Request for prod-admin sent: 0 of 2 approvals so far.').waitFor();
    const mine = (await (await api(alice, 'GET', '/v1/requests?mine=true')).json()) as {
      requests: { id: string; reason: string }[];
    };
    adminRequestId = mine.requests.find((r) => r.reason.startsWith('web e2e: rotate'))!.id;
    await checkA11y(alice, 'requests');
    await shot(alice, 'requests');

    await goTo(alice, 'Approvals');
    const own = article(alice, /^prod-admin for alice@example\.com/);
    await own.getByText('Your own request: someone else decides it.').waitFor();
    await expect(own.getByRole('button').count()).resolves.toBe(0);
    const vote = await api(alice, 'POST', `/v1/requests/${adminRequestId}/approve`, {});
    expect(vote.status).toBe(403);
    expect(((await vote.json()) as { code: string }).code).toBe('self_approval');
    await goTo(alice, 'Requests');
  }, 60_000);

  it('bob and carol approve from their own browsers; alice sees it without reloading and uses the grant', async () => {
    const request = article(alice, /^prod-admin/).filter({ hasText: 'web e2e: rotate' });
    await request.getByText('0 of 2 approvals').waitFor();
    const before = alice.navigations;

    bob = await signIn('bob');
    await goTo(bob, 'Approvals');
    const pending = article(bob, /^prod-admin for alice@example\.com/).filter({ hasText: 'web e2e: rotate' });
    await pending.getByText('0 of 2 approvals').waitFor();
    await checkA11y(bob, 'approvals');
    await shot(bob, 'approvals');
    await pending.getByLabel('Comment (optional)').fill('ok, bob');
    await pending.getByRole('button', { name: 'Approve' }).click();
    await bob.page
      .getByText('Approved prod-admin for alice@example.com: pending, 1 of 2 approvals.')
      .waitFor();
    await request.getByText('1 of 2 approvals').waitFor();

    carol = await signIn('carol');
    await goTo(carol, 'Approvals');
    const forCarol = article(carol, /^prod-admin for alice@example\.com/).filter({
      hasText: 'web e2e: rotate',
    });
    await forCarol.getByRole('button', { name: 'Approve' }).click();
    await carol.page
      .getByText('Approved prod-admin for alice@example.com: approved, 2 of 2 approvals.')
      .waitFor();

    await request.getByText('approved', { exact: true }).waitFor({ timeout: 15_000 });
    expect(alice.navigations).toBe(before);
    await request.getByText('bob@example.com: approve “ok, bob”').waitFor();

    await request.getByRole('button', { name: 'Get keys' }).click();
    const panel = alice.page.getByRole('region', { name: 'Keys for prod-admin' });
    await panel.getByText(/assumed-role\/BreakGlassAdmin\//).waitFor();
    await checkA11y(alice, 'requests-approved');
    await goTo(alice, 'My access');
  }, 90_000);

  it('a reason carrying markup is shown as text to the approver and runs nothing', async () => {
    const hostile = '<img src=x onerror="alert(document.domain)"> <script>alert(1)</script> <b>bold</b>';
    const created = await api(alice, 'POST', '/v1/requests', {
      entitlement: 'prod-admin',
      reason: hostile,
      ticket: 'XSS-1',
    });
    expect(created.status).toBe(201);

    await goTo(bob, 'Approvals');
    const item = article(bob, /^prod-admin for alice@example\.com/).filter({ hasText: 'XSS-1' });
    await item.getByText(hostile, { exact: true }).waitFor();

    expect(bob.dialogs).toEqual([]);
    expect(
      await bob.page.evaluate<number>("document.querySelectorAll('main img, main b, main script').length"),
    ).toBe(0);
    expect(bob.urls.filter((u) => /\/x$/.test(u))).toEqual([]);
    await goTo(alice, 'Requests');
    await article(alice, /^prod-admin/)
      .filter({ hasText: 'XSS-1' })
      .getByText(hostile, { exact: true })
      .waitFor();
    expect(alice.dialogs).toEqual([]);

    // Alice withdraws it; bob's list drops it on its next read.
    const mine = article(alice, /^prod-admin/).filter({ hasText: 'XSS-1' });
    await mine.getByRole('button', { name: 'Cancel request' }).click();
    await mine.getByText('cancelled', { exact: true }).waitFor();
    await expect.poll(() => item.count(), { timeout: 15_000 }).toBe(0);
  }, 60_000);

  it('mallory sees no entitlement and no approval, and the server shows her nothing either', async () => {
    const mallory = await signIn('mallory');
    await mallory.page.getByText('You have no entitlements.').waitFor();
    await expect(mallory.page.getByRole('article').count()).resolves.toBe(0);
    await goTo(mallory, 'Approvals');
    await mallory.page.getByText('Nothing is waiting for your decision.').waitFor();
    await expect(mallory.page.getByRole('article').count()).resolves.toBe(0);
    await checkA11y(mallory, 'approvals-empty');

    expect((await api(mallory, 'GET', `/v1/requests/${adminRequestId}`)).status).toBe(404);
    expect((await api(mallory, 'POST', `/v1/requests/${adminRequestId}/approve`, {})).status).toBe(403);
  }, 60_000);

  it('dave breaks glass after its warning; erin finds it in Audit (filters, paging, sealed-up-to) and in Reviews; bob signs it off', async () => {
    const dave = await signIn('dave');
    await goTo(dave, 'Requests');
    await dave.page.getByLabel('Entitlement').selectOption('prod-admin');
    await expect(dave.page.getByRole('alert').count()).resolves.toBe(0);
    await dave.page.getByLabel('Break glass (emergency)').check();
    await dave.page
      .getByRole('alert')
      .getByText('Break-glass gives you access at once, without approval.')
      .waitFor();
    await dave.page.getByLabel('Reason').fill('INC-42: payments are down, need admin now');
    await dave.page.getByLabel(/^Ticket/).fill('INC-42');
    await checkA11y(dave, 'requests-break-glass');
    await shot(dave, 'requests-break-glass');
    await dave.page.getByRole('button', { name: 'Break glass now' }).click();
    await dave.page.getByText('Break-glass access to prod-admin is open now.').waitFor();
    const used = article(dave, /^prod-admin/).filter({ hasText: 'INC-42' });
    await used.getByText('approved', { exact: true }).waitFor();
    await used.getByRole('button', { name: 'Get keys' }).click();
    await dave.page.getByRole('region', { name: 'Keys for prod-admin' }).waitFor();

    // Thirty refusals, so the audit trail has more than one page of `denied` records.
    const mallory = people.find((p) => p.name === 'mallory')!;
    for (let i = 0; i < 30; i++)
      expect((await api(mallory, 'POST', '/v1/credentials', { entitlement: 'prod-readonly' })).status).toBe(
        403,
      );

    erin = await signIn('erin');
    await goTo(erin, 'Audit');
    await erin.page.getByLabel('Decision').selectOption('break-glass');
    await erin.page.getByRole('button', { name: 'Search' }).click();
    const row = erin.page
      .getByRole('row')
      .filter({ hasText: 'dave@example.com' })
      .filter({ hasText: 'INC-42' });
    await row.filter({ hasText: 'break-glass' }).filter({ hasText: 'prod-admin' }).waitFor();
    await expect.poll(() => erin.page.locator('tbody tr').count()).toBe(1);
    await row.filter({ hasText: 'break-glass' }).waitFor();
    await erin.page.getByText('Sealed up to: nothing sealed yet.').waitFor();
    // Seal as the hourly sealer would once this minute's interval has closed (the records are all new).
    await stack.stack.sealAudit({ upTo: new Date(Date.now() + 70_000) });
    await erin.page.getByRole('button', { name: 'Search' }).click();
    await erin.page.getByText(/^Sealed up to: \d{4}-\d\d-\d\d \d\d:\d\d:\d\d/).waitFor();
    await checkA11y(erin, 'audit');
    await shot(erin, 'audit');

    await erin.page.getByLabel('Decision').selectOption('denied');
    await erin.page.getByLabel('Per page').selectOption('25');
    await erin.page.getByRole('button', { name: 'Search' }).click();
    await erin.page.getByText('Page 1').waitFor();
    await expect.poll(() => erin.page.locator('tbody tr').count()).toBe(25);
    await erin.page.getByRole('button', { name: 'Next page' }).click();
    await erin.page.getByText('Page 2').waitFor();
    await expect.poll(() => erin.page.locator('tbody tr').count()).toBeGreaterThanOrEqual(5);
    await erin.page.getByRole('button', { name: 'Previous page' }).click();
    await erin.page.getByText('Page 1').waitFor();

    await goTo(erin, 'Reviews');
    const audited = erin.page.getByRole('row').filter({ hasText: 'INC-42' });
    await audited.getByText('open', { exact: true }).waitFor();
    await checkA11y(erin, 'reviews-auditor');

    await goTo(bob, 'Reviews');
    const review = article(bob, 'Break-glass: prod-admin open');
    await review.getByText('00u1p7h3k9dave5c8a').waitFor();
    await checkA11y(bob, 'reviews');
    await shot(bob, 'reviews');
    await review.getByLabel('Comment (optional)').fill('checked INC-42, fine');
    await review.getByRole('button', { name: 'Sign off' }).click();
    await bob.page.getByText('Signed off the break-glass use of prod-admin.').waitFor();

    await goTo(erin, 'Audit');
    await goTo(erin, 'Reviews');
    await erin.page
      .getByRole('row')
      .filter({ hasText: 'INC-42' })
      .getByText(/signed off by bob@example\.com/)
      .waitFor();
  }, 120_000);

  it("bob revokes alice's live session from Sessions; both their pages show it revoked", async () => {
    await goTo(bob, 'Sessions');
    await bob.page.getByText(/^Every live session vend has issued\./).waitFor();
    const row = bob.page.getByRole('row').filter({ hasText: aliceKeysAuditId });
    await row.getByText('alice@example.com').waitFor();
    await checkA11y(bob, 'sessions');
    await shot(bob, 'sessions');
    await row.getByRole('button', { name: `Revoke session ${aliceKeysAuditId}` }).click();
    await row.getByLabel('Reason').fill('laptop lost');
    await row.getByRole('button', { name: 'Revoke now' }).click();
    await bob.page.getByText(`Session ${aliceKeysAuditId} revoked.`).waitFor();
    await row.getByText('revoked', { exact: true }).waitFor();

    await goTo(alice, 'Sessions');
    await alice.page.getByText(/^Your live sessions\./).waitFor();
    await alice.page
      .getByRole('row')
      .filter({ hasText: aliceKeysAuditId })
      .getByText('revoked', { exact: true })
      .waitFor();
    await checkA11y(alice, 'sessions-own');
  }, 60_000);

  it("signs out when the token's lifetime is over and offers to sign in again", async () => {
    const carol2 = await signIn('carol', { fakeClock: true });
    await goTo(carol2, 'Approvals');
    // The page's own first load must be over before counting, or its answer lands after the count.
    await carol2.page.waitForLoadState('networkidle');
    const calls = carol2.urls.length;

    await carol2.page.clock.fastForward('01:00:00');

    await carol2.page.getByText('Your sign-in has expired. Sign in again.').waitFor();
    await expect(carol2.page.getByRole('navigation', { name: 'Pages' }).count()).resolves.toBe(0);
    expect(carol2.urls.slice(calls).filter((u) => u.includes('/v1/'))).toEqual([]);
    await carol2.page.getByRole('button', { name: 'Sign in' }).waitFor();
    expect(await stored(carol2)).not.toContain(carol2.tokens[0]!);
  }, 60_000);

  it('axe-core finds no serious or critical violation on any page', () => {
    expect([...a11y.keys()].sort()).toEqual(
      [
        'sign-in',
        'my-access',
        'my-access-keys',
        'requests',
        'requests-approved',
        'requests-break-glass',
        'approvals',
        'approvals-empty',
        'audit',
        'reviews',
        'reviews-auditor',
        'sessions',
        'sessions-own',
      ].sort(),
    );
    const serious = [...a11y.entries()].flatMap(([page, found]) =>
      found.filter((v) => v.impact === 'serious' || v.impact === 'critical').map((v) => ({ page, ...v })),
    );
    expect(serious).toEqual([]);
  });
});
