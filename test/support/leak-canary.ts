/**
 * Leak canary: captures everything the process writes to stdout/stderr (Powertools Logger writes
 * there, as it does in Lambda) while a suite runs, and checks at the end that no secret vend issued
 * or holds appears in any log line, response body or audit record.
 *
 * @example
 * const canary = leakCanary();            // at file scope: starts capturing in beforeAll
 * canary.secret(body.credentials.SecretAccessKey);
 * canary.text('error body', await res.text());
 * // afterAll asserts: none of the secrets appears in the captured logs or the texts
 *
 * Everything given to a canary is also given to the suite-wide scanner (./leaks/scanner.ts), which
 * scans the whole file's logs, responses and audit writes for it too.
 */
import { afterAll, beforeAll, expect } from 'vitest';
import { leaks } from './leaks/scanner';

export interface LeakCanary {
  /** A value that must never appear in logs, error bodies or audit records. */
  secret(value: string | undefined): void;
  /** A text to scan at the end (an error body, an audit record dump). */
  text(label: string, value: string): void;
  /** Lines captured so far (for assertions about logging itself). */
  logs(): string[];
  /** Scans now; also runs in afterAll. */
  check(): void;
}

export function leakCanary(extra: { lateTexts?: () => Promise<Record<string, string>> } = {}): LeakCanary {
  const secrets = new Set<string>();
  const texts: { label: string; value: string }[] = [];
  const captured: string[] = [];
  const originals = { out: process.stdout.write, err: process.stderr.write };

  const tap =
    (stream: NodeJS.WriteStream, original: typeof process.stdout.write) =>
    (chunk: unknown, ...rest: unknown[]): boolean => {
      captured.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk as Uint8Array).toString('utf8'));
      return (original as (...a: unknown[]) => boolean).call(stream, chunk, ...rest);
    };

  beforeAll(() => {
    process.stdout.write = tap(process.stdout, originals.out) as typeof process.stdout.write;
    process.stderr.write = tap(process.stderr, originals.err) as typeof process.stderr.write;
  });

  const check = () => {
    const haystacks = [...captured.map((value, i) => ({ label: `log line ${i}`, value })), ...texts];
    for (const s of secrets) {
      for (const h of haystacks) {
        if (h.value.includes(s)) {
          expect.fail(`a secret (${s.slice(0, 4)}…, ${s.length} chars) appeared in ${h.label}`);
        }
      }
    }
  };

  afterAll(async () => {
    process.stdout.write = originals.out;
    process.stderr.write = originals.err;
    for (const [label, value] of Object.entries((await extra.lateTexts?.()) ?? {}))
      texts.push({ label, value });
    check();
  });

  return {
    secret(value) {
      // Short values would match by accident; every real secret is far longer.
      if (value && value.length >= 8) secrets.add(value);
      leaks().secret(value);
    },
    text(label, value) {
      texts.push({ label, value });
      leaks().text(label, value);
    },
    logs: () => [...captured],
    check,
  };
}
