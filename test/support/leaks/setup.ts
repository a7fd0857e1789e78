/**
 * Vitest setup file (vitest.config.ts `setupFiles`): wires the suite-wide leak scanner
 * (./scanner.ts) into every test file.
 *
 * 1. Installs the taps (./taps.ts): stdout/stderr, `console.*`, every HTTP exchange served in this
 *    process and every answer from a server elsewhere (node:http and fetch), every child process.
 *    Credentials and token answers teach the scanner their secrets; only their own fields are
 *    legitimate (./judge.ts).
 * 2. Once a local stack runs in the file (its environment is in process.env), registers the
 *    broker's own keys and the Slack signing secret, and names the audit table (its writes over the
 *    wire, from any process, are audit records).
 * 3. afterAll: scans what still-running children printed, and fails the file on any finding.
 */
import { afterAll, beforeEach, expect } from 'vitest';
import { demoExternalIds, describeFinding, leaks } from './scanner';
import { flushChildren, installTaps, tapConfig } from './taps';

const scanner = leaks();
for (const id of demoExternalIds()) scanner.secret(id, 'ExternalId');

// 1. Taps.
installTaps(scanner);

// 2. The stack's own secrets, once its environment is in place.
let registered = false;
beforeEach(() => {
  if (registered) return;
  const env = process.env;
  if (!env.VEND_AUDIT_TABLE || !env.AWS_ENDPOINT_URL) return;
  registered = true;
  tapConfig.auditTable = env.VEND_AUDIT_TABLE;
  scanner.secret(env.VEND_SLACK_SIGNING_SECRET, 'Slack signing secret');
  scanner.secret(env.AWS_SECRET_ACCESS_KEY, 'broker SecretAccessKey');
  scanner.secret(env.AWS_SESSION_TOKEN, 'broker SessionToken');
});

// 3. Judge.
afterAll(async () => {
  await scanner.settle();
  flushChildren();
  const found = scanner.findings();
  if (found.length > 0) {
    expect.fail(
      `leak scanner: ${found.length} secret(s) where they must not be:\n${found
        .slice(0, 20)
        .map(describeFinding)
        .join('\n')}`,
    );
  }
});
