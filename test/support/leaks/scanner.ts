/**
 * The suite-wide leak scanner: one per test file (vitest runs each file in its own worker), fed by
 * test/support/leaks/setup.ts, which taps stdout/stderr (Powertools Logger writes there, as in
 * Lambda), wraps the global fetch (every response body the tests see) and records every audit
 * record vend's own DynamoDB client writes. After the file it fails on any secret found in a log
 * line, a response body that is not the legitimate answer, or an audit record.
 *
 * Secrets it knows:
 * - fixed: the demo ExternalIds (read from infra/local/world/world.yaml), the local Slack signing
 *   secret, the broker's own secret key and session token (when a stack runs in the file);
 * - learned: every person token a test sent in `Authorization: Bearer …` (the header is the one
 *   legitimate place of a JWT, and it is never scanned), and the SecretAccessKey and SessionToken of
 *   every 200 credentials body (that body is the one legitimate place of those, and is not scanned);
 * - by shape: anything that looks like a JWT (three base64url parts, header `eyJ`) in a log line or
 *   a response body.
 *
 * @example
 * import { leaks } from '../support/leaks/scanner';
 * leaks().secret(value);            // a secret the suite knows of its own
 * leaks().findings();               // [] while nothing leaked
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** One secret found where it must not be. The secret itself is never part of the finding. */
export interface LeakFinding {
  /** What kind of secret (`ExternalId`, `SecretAccessKey`, `JWT`, …). */
  kind: string;
  /** Where: `log line 12`, `response POST /v1/requests (400)`, `audit record …`. */
  where: string;
  /** The first 4 characters and the length, enough to find it, not enough to use it. */
  hint: string;
}

/** What the setup file and suites feed into the scanner, and how it judges. */
export interface LeakScanner {
  /** A secret that must appear nowhere the scanner looks (short values are ignored: they match by accident). */
  secret(value: string | undefined, kind?: string): void;
  /** Issued credentials (from a legitimate 200 body): their secret parts must appear nowhere else. */
  issued(credentials: { SecretAccessKey?: unknown; SessionToken?: unknown }): void;
  /** A chunk written to stdout or stderr. */
  log(chunk: string): void;
  /** A response body a test received; `legitimate` bodies (the 200 credentials answer) are not scanned. */
  response(where: string, body: string): void;
  /** An audit record as written (JSON). */
  audit(where: string, record: string): void;
  /** Texts to scan that the suite collected itself. */
  text(where: string, value: string): void;
  /** Work still feeding the scanner (a response body being read). */
  track(work: Promise<unknown>): void;
  /** Resolves once all tracked work is done. */
  settle(): Promise<void>;
  /** Everything found so far. */
  findings(): LeakFinding[];
  /** Counters for the report: how much was looked at. */
  stats(): { secrets: number; logs: number; responses: number; audits: number };
}

const MIN_SECRET = 8;
const JWT_SHAPE = /eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*/;
// Issued secrets are base64-ish runs; splitting on everything else finds them as whole tokens in
// O(text) instead of one `includes` per secret per text (a load run issues thousands).
const TOKEN_SPLIT = /[^A-Za-z0-9+/=]+/;

const WORLD = fileURLToPath(new URL('../../../infra/local/world/world.yaml', import.meta.url));

/** The demo ExternalIds of the local world (every `sts:ExternalId:` condition value). */
export function demoExternalIds(): string[] {
  const text = readFileSync(WORLD, 'utf8');
  return [...text.matchAll(/sts:ExternalId:\s*["']?([^\s"']+)/g)].map((m) => m[1]!);
}

function hintOf(value: string): string {
  return `${value.slice(0, 4)}…, ${value.length} chars`;
}

/** Makes a scanner (tests of the scanner itself make their own; suites use {@link leaks}). */
export function createLeakScanner(): LeakScanner {
  const fixed = new Map<string, string>(); // secret → kind, found with includes
  const issuedTokens = new Map<string, string>(); // secret → kind, found as whole tokens
  const haystacks: { where: string; value: string; jwtShape: boolean }[] = [];
  let logs = 0;
  let responses = 0;
  let audits = 0;
  let logBuffer = '';
  let logLine = 0;
  const pending = new Set<Promise<unknown>>();

  const flushLog = (force: boolean) => {
    const parts = logBuffer.split('\n');
    logBuffer = force ? '' : (parts.pop() ?? '');
    for (const line of parts) {
      logLine += 1;
      if (line.trim() !== '') haystacks.push({ where: `log line ${logLine}`, value: line, jwtShape: true });
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
        if (v.split(TOKEN_SPLIT).length === 1) issuedTokens.set(v, k);
        else fixed.set(v, k);
      }
    },
    log(chunk) {
      logs += 1;
      logBuffer += chunk;
      if (logBuffer.includes('\n')) flushLog(false);
    },
    response(where, body) {
      responses += 1;
      haystacks.push({ where: `response ${where}`, value: body, jwtShape: true });
    },
    audit(where, record) {
      audits += 1;
      haystacks.push({ where: `audit record ${where}`, value: record, jwtShape: true });
    },
    text(where, value) {
      haystacks.push({ where, value, jwtShape: false });
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
      const add = (f: LeakFinding) => {
        const key = `${f.kind}|${f.where}`;
        if (!seen.has(key)) {
          seen.add(key);
          out.push(f);
        }
      };
      for (const h of haystacks) {
        for (const [s, kind] of fixed)
          if (h.value.includes(s)) add({ kind, where: h.where, hint: hintOf(s) });
        if (issuedTokens.size > 0) {
          for (const token of h.value.split(TOKEN_SPLIT)) {
            const kind = issuedTokens.get(token);
            if (kind) add({ kind, where: h.where, hint: hintOf(token) });
          }
        }
        if (h.jwtShape) {
          const m = JWT_SHAPE.exec(h.value);
          if (m) add({ kind: 'JWT', where: h.where, hint: hintOf(m[0]) });
        }
      }
      return out;
    },
    stats: () => ({ secrets: fixed.size + issuedTokens.size, logs, responses, audits }),
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
