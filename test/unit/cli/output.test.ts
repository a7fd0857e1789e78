import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import {
  credentialProcessOutput,
  envExports,
  formatCredentials,
  humanDuration,
  shellQuote,
  table,
} from '../../../lib/cli/output';
import { vendBody } from './fake-api';

const nasty = {
  AccessKeyId: 'ASIA EXAMPLE',
  SecretAccessKey: `it's a "secret" $HOME \`id\` $(echo pwned) \\ end`,
  SessionToken: "tok'en\nwith newline",
  Expiration: '2026-11-29T10:15:00Z',
};

describe('env output', () => {
  it('quotes with single quotes and escapes embedded ones', () => {
    expect(shellQuote("it's")).toBe(`'it'\\''s'`);
    expect(shellQuote('$HOME')).toBe(`'$HOME'`);
  });

  it('round-trips values with quotes, spaces, $ and newlines through a real shell', () => {
    const script = `${envExports(nasty)}printf '%s\\0' "$AWS_ACCESS_KEY_ID" "$AWS_SECRET_ACCESS_KEY" "$AWS_SESSION_TOKEN" "$AWS_CREDENTIAL_EXPIRATION" "\${AWS_PROFILE-unset}"`;

    const out = execFileSync('sh', ['-c', script], {
      env: { PATH: process.env.PATH, AWS_PROFILE: 'ci' },
    }).toString();

    expect(out.split('\0').slice(0, 5)).toEqual([
      nasty.AccessKeyId,
      nasty.SecretAccessKey,
      nasty.SessionToken,
      nasty.Expiration,
      'unset',
    ]);
  });

  it('exports the three AWS variables and unsets AWS_PROFILE', () => {
    const lines = envExports(nasty).trim().split('\n');

    expect(lines[0]).toBe('unset AWS_PROFILE');
    expect(lines.filter((l) => l.startsWith('export ')).map((l) => l.split('=')[0])).toEqual([
      'export AWS_ACCESS_KEY_ID',
      'export AWS_SECRET_ACCESS_KEY',
      'export AWS_SESSION_TOKEN',
      'export AWS_CREDENTIAL_EXPIRATION',
    ]);
  });
});

describe('credential-process output', () => {
  it('is Version 1 with exactly the five fields the AWS CLI reads', () => {
    const body = vendBody({ expiration: '2026-11-29T10:15:00Z' });

    const parsed = JSON.parse(formatCredentials(body, 'credential-process'));

    expect(parsed).toEqual({
      Version: 1,
      AccessKeyId: body.credentials.AccessKeyId,
      SecretAccessKey: body.credentials.SecretAccessKey,
      SessionToken: body.credentials.SessionToken,
      Expiration: '2026-11-29T10:15:00Z',
    });
    expect(credentialProcessOutput(body.credentials)).toEqual(parsed);
  });

  it('json format is the API body unchanged', () => {
    const body = vendBody({ expiration: '2026-11-29T10:15:00Z' });

    expect(JSON.parse(formatCredentials(body, 'json'))).toEqual(body);
  });
});

describe('tables and durations', () => {
  it('aligns columns and keeps a hostile cell on one line', () => {
    const out = table(
      ['ID', 'REASON'],
      [
        ['r-1', 'fix\nr-2  approved'],
        ['r-10', undefined],
      ],
    );

    expect(out).toBe('ID    REASON\nr-1   fix r-2  approved\nr-10  -\n');
  });

  it.each([
    [900, '15m'],
    [3600, '1h'],
    [5400, '1h30m'],
    [61, '61s'],
  ])('shows %i seconds as %s', (s, text) => {
    expect(humanDuration(s)).toBe(text);
  });
});
