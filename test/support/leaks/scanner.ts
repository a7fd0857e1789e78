/**
 * The suite-wide leak scanner: one per test file (vitest runs each file in its own worker), fed by
 * the taps of test/support/leaks/taps.ts (wired by ./setup.ts), which see every channel a secret
 * could leave by: stdout/stderr (Powertools Logger writes there, as in Lambda), `console.*`, every
 * exchange served by an HTTP server in this process (the local gateway, the local AWS endpoint with
 * its STS, DynamoDB, OIDC and Slack mounts) and every response a test receives over node:http or
 * fetch from elsewhere, and the output of every child process (the `vend` bin, the AWS CLI, python).
 * After the file it fails on any secret found where it must not be.
 *
 * Secrets it knows:
 * - fixed: the demo ExternalIds (read from infra/local/world/world.yaml), the local Slack signing
 *   secret, the broker's own secret key and session token (when a stack runs in the file);
 * - learned: every person token a client sent in `Authorization: Bearer …` or got from a token
 *   endpoint, and the SecretAccessKey and SessionToken of every credentials answer (vend's 200, the
 *   local STS's AssumeRole answer, a child's credentials output). In that answer only those own
 *   fields are legitimate: they are taken out and the rest of the answer is scanned like any other;
 * - by shape: anything that looks like a JWT (three base64url parts, header `eyJ`) in any haystack
 *   but the texts suites hand in themselves.
 *
 * A finding names its haystack uniquely (`response #12 POST /v1/… (200)`, `console.log #3`), so a
 * spec that plants a leak on purpose can {@link LeakScanner.excuse} exactly the findings it caused.
 *
 * @example
 * import { leaks } from '../support/leaks/scanner';
 * leaks().secret(value);            // a secret the suite knows of its own
 * leaks().findings();               // [] while nothing leaked
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** One secret found where it must not be. The secret itself is never part of the finding. */
export interface LeakFinding {
  /** What kind of secret (`ExternalId`, `SecretAccessKey`, `JWT`, …). */
  kind: string;
  /** Where, unique per haystack: `log line 12`, `response #7 POST /v1/requests (400)`, `child aws#2 stdout #9`. */
  where: string;
  /** The first 4 characters and the length, enough to find it, not enough to use it. */
  hint: string;
}

/** The channels the scanner counts (see {@link LeakScanner.stats}). */
export type Channel = 'log' | 'console' | 'response' | 'request' | 'audit' | 'child' | 'text';

/** What the taps and suites feed into the scanner, and how it judges. */
export interface LeakScanner {
  /** A secret that must appear nowhere the scanner looks (short values are ignored: they match by accident). */
  secret(value: string | undefined, kind?: string): void;
  /** Issued credentials (from a legitimate credentials answer): their secret parts must appear nowhere else. */
  issued(credentials: { SecretAccessKey?: unknown; SessionToken?: unknown }): void;
  /** A chunk written to stdout or stderr (lines may span chunks). */
  log(chunk: string): void;
  /** One `console.*` call as it would print. */
  console(method: string, text: string): void;
  /** A response body (credentials answers arrive here with their own secret fields taken out). */
  response(where: string, body: string): void;
  /** A request body sent by vend or the stack to a service (Slack, STS, DynamoDB). */
  request(where: string, body: string): void;
  /** An audit record as written (JSON). */
  audit(where: string, record: string): void;
  /** Output of a child process (stdout with its own credentials taken out, or stderr). */
  child(where: string, text: string): void;
  /** Texts to scan that the suite collected itself (not checked for JWT shapes). */
  text(where: string, value: string): void;
  /** Work still feeding the scanner (a response body being read). */
  track(work: Promise<unknown>): void;
  /** Resolves once all tracked work is done. */
  settle(): Promise<void>;
  /** Everything found so far and not excused. */
  findings(): LeakFinding[];
  /** Withdraws exactly these findings (a spec planted them on purpose and asserted them). */
  excuse(found: readonly LeakFinding[]): void;
  /** Counters for the report: how much was looked at, per channel. */
  stats(): { secrets: number; haystacks: number } & Record<
    Exclude<Channel, 'text'> | 'logs' | 'responses' | 'audits',
    number
  >;
}

const MIN_SECRET = 8;
const JWT_SHAPE = /eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*/;
// Issued secrets are base64-ish runs; splitting on everything else and looking each run up by
// prefix finds them in O(text) instead of one `includes` per secret per text (a load run issues
// thousands). A secret glued to other base64 characters (`…/ProdReadOnly/<key>`) is found too: every
// position of a run is looked up by the PREFIX characters starting there.
const TOKEN_SPLIT = /[^A-Za-z0-9+/=]+/;
const PREFIX = 12;

const WORLD = fileURLToPath(new URL('../../../infra/local/world/world.yaml', import.meta.url));

/** The demo ExternalIds of the local world (every `sts:ExternalId:` condition value). */
export function demoExternalIds(): string[] {
  const text = readFileSync(WORLD, 'utf8');
  return [...text.matchAll(/sts:ExternalId:\s*["']?([^\s"']+)/g)].map((m) => m[1]!);
}

function hintOf(value: string): string {
  return `${value.slice(0, 4)}…, ${value.length} chars`;
}

const keyOf = (f: Pick<LeakFinding, 'kind' | 'where'>) => `${f.kind}|${f.where}`;

/** Makes a scanner (tests of the scanner itself make their own; suites use {@link leaks}). */
export function createLeakScanner(): LeakScanner {
  const fixed = new Map<string, string>(); // secret → kind, found with includes
  const issuedTokens = new Map<string, string>(); // secret → kind, found by prefix within runs
  const byPrefix = new Map<string, string[]>(); // first PREFIX characters → issued secrets
  const haystacks: { where: string; value: string; jwtShape: boolean }[] = [];
  // The same text seen twice on one channel (the endpoint forwards DynamoDB bodies to dynalite
  // verbatim; a health answer repeats) is scanned once: a digest per text keeps memory flat in long
  // runs. The channel is part of the digest, so a leak that travels on is reported on each channel.
  const seenTexts = new Set<string>();
  const excused = new Set<string>();
  const counts = { log: 0, console: 0, response: 0, request: 0, audit: 0, child: 0 };
  let seq = 0;
  let logBuffer = '';
  let logLine = 0;
  const pending = new Set<Promise<unknown>>();

  const add = (where: string, value: string, jwtShape: boolean, unique = true) => {
    if (value === '') return;
    const digest = createHash('sha1')
      .update(`${jwtShape ? 'j' : 't'} ${where.split(' ')[0]}\n`)
      .update(value)
      .digest('base64');
    if (seenTexts.has(digest)) return;
    seenTexts.add(digest);
    seq += 1;
    haystacks.push({ where: unique ? `${where} #${seq}` : where, value, jwtShape });
  };

  const flushLog = (force: boolean) => {
    const parts = logBuffer.split('\n');
    logBuffer = force ? '' : (parts.pop() ?? '');
    for (const line of parts) {
      logLine += 1;
      if (line.trim() !== '') add(`log line ${logLine}`, line, true, false);
    }
  };

  return {
    secret(value, kind = 'secret') {
      if (typeof value === 'string' && value.length >= MIN_SECRET) fixed.set(value, kind);
    },
    issued(credentials) {
      for (const [k, v] of Object.entries({
        SecretAccessKey: credentials.SecretAccessKey,
        SessionToken: credentials.SessionToken,
      })) {
        if (typeof v !== 'string' || v.length < MIN_SECRET) continue;
        if (v.split(TOKEN_SPLIT).length === 1 && v.length >= PREFIX) {
          if (!issuedTokens.has(v)) {
            const p = v.slice(0, PREFIX);
            byPrefix.set(p, [...(byPrefix.get(p) ?? []), v]);
          }
          issuedTokens.set(v, k);
        } else fixed.set(v, k);
      }
    },
    log(chunk) {
      counts.log += 1;
      logBuffer += chunk;
      if (logBuffer.includes('\n')) flushLog(false);
    },
    console(method, text) {
      counts.console += 1;
      add(`console.${method}`, text, true);
    },
    response(where, body) {
      counts.response += 1;
      add(`response ${where}`, body, true);
    },
    request(where, body) {
      counts.request += 1;
      add(`request ${where}`, body, true);
    },
    audit(where, record) {
      counts.audit += 1;
      add(`audit record ${where}`, record, true);
    },
    child(where, text) {
      counts.child += 1;
      add(`child ${where}`, text, true);
    },
    text(where, value) {
      add(where, value, false);
    },
    track(work) {
      const p = work.catch(() => undefined).finally(() => pending.delete(p));
      pending.add(p);
    },
    async settle() {
      while (pending.size > 0) await Promise.all([...pending]);
    },
    findings() {
      flushLog(true);
      const out: LeakFinding[] = [];
      const seen = new Set<string>();
      const found = (f: LeakFinding) => {
        const key = keyOf(f);
        if (!seen.has(key) && !excused.has(key)) {
          seen.add(key);
          out.push(f);
        }
      };
      for (const h of haystacks) {
        for (const [s, kind] of fixed)
          if (h.value.includes(s)) found({ kind, where: h.where, hint: hintOf(s) });
        if (issuedTokens.size > 0) {
          for (const run of h.value.split(TOKEN_SPLIT)) {
            for (let i = 0; i + PREFIX <= run.length; i++) {
              for (const s of byPrefix.get(run.slice(i, i + PREFIX)) ?? []) {
                if (run.startsWith(s, i))
                  found({ kind: issuedTokens.get(s)!, where: h.where, hint: hintOf(s) });
              }
            }
          }
        }
        if (h.jwtShape) {
          const m = JWT_SHAPE.exec(h.value);
          if (m) found({ kind: 'JWT', where: h.where, hint: hintOf(m[0]) });
        }
      }
      return out;
    },
    excuse(found) {
      for (const f of found) excused.add(keyOf(f));
    },
    stats: () => ({
      secrets: fixed.size + issuedTokens.size,
      haystacks: haystacks.length,
      ...counts,
      logs: counts.log,
      responses: counts.response,
      audits: counts.audit,
    }),
  };
}

const KEY = Symbol.for('vend.test.leakScanner');

/** This test file's scanner (one per worker; created on first use). */
export function leaks(): LeakScanner {
  const g = globalThis as unknown as Record<symbol, LeakScanner | undefined>;
  g[KEY] ??= createLeakScanner();
  return g[KEY];
}

/** A finding as one line for a failure message (never the secret). */
export function describeFinding(f: LeakFinding): string {
  return `${f.kind} (${f.hint}) in ${f.where}`;
}
