import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { UsageError } from '../../../lib/cli/errors';
import { commandLine, upsertProfile, writeProfile } from '../../../lib/cli/profile';

const existing = `# my settings
[default]
region = eu-west-1

[profile ci]
region = us-east-1
; a comment in ci
credential_process = old

[profile other]
output = json
`;

describe('upsertProfile', () => {
  it('appends a new profile and keeps every other line byte for byte', () => {
    const out = upsertProfile(existing, 'prod-ro', {
      credential_process: 'vend credential-process prod-readonly',
    });

    expect(out).toBe(
      `${existing}\n[profile prod-ro]\ncredential_process = vend credential-process prod-readonly\n`,
    );
  });

  it('updates the key in place inside its own section only', () => {
    const out = upsertProfile(existing, 'ci', { credential_process: 'new' });

    expect(out).toBe(existing.replace('credential_process = old', 'credential_process = new'));
  });

  it("adds a missing key after the section's last setting, before the blank line", () => {
    const out = upsertProfile(existing, 'other', { credential_process: 'x' });

    expect(out).toBe(existing.replace('output = json\n', 'output = json\ncredential_process = x\n'));
  });

  it('writes [default] for the default profile', () => {
    expect(upsertProfile('', 'default', { credential_process: 'x' })).toBe(
      '[default]\ncredential_process = x\n',
    );
  });

  it('refuses names and values that could break the file', () => {
    expect(() => upsertProfile('', 'a]b', { credential_process: 'x' })).toThrow(UsageError);
    expect(() => upsertProfile('', 'a', { credential_process: 'x\n[profile evil]' })).toThrow(UsageError);
  });
});

describe('commandLine', () => {
  it('leaves plain words bare and single-quotes the rest', () => {
    expect(
      commandLine([
        '/usr/bin/node',
        '/opt/my vend/bin/vend.js',
        'credential-process',
        'prod-readonly',
        '--url',
        'http://127.0.0.1:4000',
      ]),
    ).toBe(
      "/usr/bin/node '/opt/my vend/bin/vend.js' credential-process prod-readonly --url http://127.0.0.1:4000",
    );
  });
});

describe('writeProfile', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'vend-profile-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('creates a missing config file owner-only', async () => {
    const file = join(dir, 'aws', 'config');

    await writeProfile(file, 'p', { credential_process: 'x' });

    expect(await readFile(file, 'utf8')).toBe('[profile p]\ncredential_process = x\n');
    expect((await stat(file)).mode & 0o777).toBe(0o600);
  });

  it("keeps an existing file's other profiles and its mode", async () => {
    const file = join(dir, 'config');
    await writeFile(file, existing, { mode: 0o640 });

    await writeProfile(file, 'prod-ro', { credential_process: 'x' });

    expect(await readFile(file, 'utf8')).toContain(existing);
    expect((await stat(file)).mode & 0o777).toBe(0o640);
  });
});
