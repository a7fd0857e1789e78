/**
 * Leak canary: captures everything the process prints while a suite runs (stdout/stderr, where
 * Powertools Logger writes as it does in Lambda, and `console.*`), and checks at the end that no
 * secret vend issued or holds appears in any captured line or text it was given.
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
import { onOutput } from './leaks/taps';

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
  let stop: (() => void) | undefined;

  beforeAll(() => {
    stop = onOutput((text) => captured.push(text));
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
    stop?.();
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
