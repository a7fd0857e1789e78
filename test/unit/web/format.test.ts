/**
 * The web console's pure parts: what people copy out of the keys panel (the same exports the CLI
 * prints), the durations offered, vote counts, the routes, and which URLs the app will open.
 */
import { describe, expect, it } from 'vitest';
import { envExports as cliEnvExports } from '../../../lib/cli/output';
import {
  credentialProcessProfile,
  durationChoices,
  envExports,
  humanDuration,
  safeToOpen,
  shellQuote,
  votesSummary,
} from '../../../web/src/format';
import { parseRoute } from '../../../web/src/routes';

const creds = {
  AccessKeyId: 'ASIAEXAMPLE0000001',
  SecretAccessKey: "se'cr$et`x",
  SessionToken: 'tok/en+==',
  Expiration: '2026-11-29T10:15:00Z',
};

describe('what the keys panel offers to copy', () => {
  it('prints the same exports as `vend credentials --format env`', () => {
    expect(`${envExports(creds)}\n`).toBe(cliEnvExports(creds));
  });

  it('quotes so that nothing in a value is special to the shell', () => {
    expect(shellQuote("it's $HOME `x`")).toBe(`'it'\\''s $HOME \`x\`'`);
  });

  it('a credential_process profile that names the entitlement and holds no secret', () => {
    const profile = credentialProcessProfile('prod-readonly', 'https://vend.example.com', 900);

    expect(profile).toBe(
      '[profile vend-prod-readonly]\ncredential_process = vend credential-process prod-readonly --url https://vend.example.com --duration 900',
    );
  });
});

describe('durations and votes', () => {
  it.each([
    [3600, [900, 1800, 2700, 3600]],
    [7200, [900, 1800, 2700, 3600]],
    [1800, [900, 1800]],
    [900, [900]],
  ])('offers 15-minute steps up to min(%i, 3600)', (max, expected) => {
    expect(durationChoices(max)).toEqual(expected);
  });

  it('says durations as people read them', () => {
    expect([900, 3600, 5400].map(humanDuration)).toEqual(['15 min', '1 h', '1 h 30 min']);
  });

  it('counts approvals only', () => {
    const at = '2026-11-29T10:00:00Z';
    expect(
      votesSummary({
        approvalsRequired: 2,
        votes: [
          { approverId: 'a', label: 'a', decision: 'approve', at },
          { approverId: 'b', label: 'b', decision: 'deny', at },
        ],
      }),
    ).toBe('1 of 2 approvals');
  });
});

describe('routes and links', () => {
  it('reads the page and its parameters from the hash; anything else is My access', () => {
    expect(parseRoute('#/requests?entitlement=prod-admin').page).toBe('requests');
    expect(parseRoute('#/requests?entitlement=prod-admin').params.get('entitlement')).toBe('prod-admin');
    expect(parseRoute('#/nope').page).toBe('access');
    expect(parseRoute('').page).toBe('access');
    expect(parseRoute('#/audit/../../x').page).toBe('access');
  });

  it.each([
    ['https://signin.aws.amazon.com/federation?Action=login', true],
    ['http://127.0.0.1:4566/federation?Action=login', true],
    ['http://example.com/federation', false],
    ['javascript:alert(1)', false],
    ['data:text/html,<script>alert(1)</script>', false],
    ['not a url', false],
  ])('opens %s: %s', (url, ok) => {
    expect(safeToOpen(url)).toBe(ok);
  });
});
