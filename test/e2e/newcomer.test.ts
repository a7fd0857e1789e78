/**
 * The newcomer path (issue 11, item 7): start the stack the way `npm start` does (the package's
 * `start` script, in a child process, with state on disk), take ONLY the `export` lines it prints,
 * paste them into a fresh shell, and run the commands the docs show, copied out of the docs
 * themselves: README "Try it", docs/local-stack.md, docs/audit.md and docs/cli.md. Each must
 * succeed. The shell inherits nothing from this process but PATH (with `vend` on it, as `npm i -g`
 * or `npm link` would put it) and an empty HOME: no AWS or VEND variable, no profile.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO, run } from './cli/harness';

const SLOW = 180_000;
let dir: string;
let child: ChildProcess | undefined;
let out = '';
let exports: string[] = [];

/** The first fenced code block after `marker` in a doc, without its fences. */
async function block(doc: string, marker: string): Promise<string[]> {
  const text = await readFile(join(REPO, doc), 'utf8');
  const at = text.indexOf(marker);
  if (at < 0) throw new Error(`${doc} no longer says "${marker}": update this spec with the doc`);
  const open = text.indexOf('```', at);
  const start = text.indexOf('\n', open) + 1;
  const end = text.indexOf('```', start);
  return text.slice(start, end).split('\n');
}

/** Runs `lines` in a fresh bash that has only PATH, HOME and the printed export lines. */
async function shell(lines: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const script = ['set -euo pipefail', ...exports, ...lines].join('\n');
  return run(
    ['/bin/bash', '-c', script],
    { PATH: `${join(dir, 'bin')}:${process.env.PATH ?? ''}`, HOME: join(dir, 'home') },
    {
      timeoutMs: 120_000,
    },
  );
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'vend-newcomer-'));
  await mkdir(join(dir, 'bin'));
  await mkdir(join(dir, 'home'));
  // `vend` on PATH, as an installed package bin would be.
  await writeFile(
    join(dir, 'bin', 'vend'),
    `#!/bin/sh\nexec "${process.execPath}" "${REPO}bin/vend.js" "$@"\n`,
  );
  await chmod(join(dir, 'bin', 'vend'), 0o755);

  const pkg = JSON.parse(await readFile(join(REPO, 'package.json'), 'utf8')) as {
    scripts: { start: string };
  };
  // What `npm start` runs: the start script, with node_modules/.bin on PATH.
  child = spawn('/bin/sh', ['-c', `exec ${pkg.scripts.start}`], {
    cwd: REPO,
    env: {
      PATH: `${join(REPO, 'node_modules/.bin')}:${process.env.PATH ?? ''}`,
      HOME: join(dir, 'home'),
      VEND_API_PORT: '0',
      VEND_AWS_PORT: '0',
      VEND_DATA_DIR: join(dir, 'state'),
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout?.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr?.on('data', (c: Buffer) => (out += c.toString()));
  await new Promise<void>((resolve, reject) => {
    const check = () => {
      if (out.includes('Ctrl-C stops')) resolve();
    };
    child?.stdout?.on('data', check);
    child?.once('exit', (code) => reject(new Error(`npm start exited (${code}):\n${out}`)));
  });
  exports = out.split('\n').filter((l) => l.trim().startsWith('export '));
}, SLOW);

afterAll(async () => {
  if (child && child.exitCode === null && child.pid) child.kill('SIGKILL');
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('the newcomer path, from the printed export lines alone', () => {
  it('npm start prints one export line with the AWS and URL variables first, then every other one', () => {
    expect(exports).toHaveLength(1);
    expect(exports[0]).toMatch(
      /^ {2}export AWS_CONFIG_FILE=\S+ AWS_SHARED_CREDENTIALS_FILE=\S+ AWS_ENDPOINT_URL=\S+ VEND_URL=\S+ /,
    );
    for (const name of [
      'AWS_REGION',
      'VEND_DATA_DIR',
      'VEND_AUDIT_TABLE',
      'VEND_AUDIT_SEALS_TABLE',
      'VEND_AUDIT_SIGNING_KEY_ID',
      'VEND_AUDIT_TRAIL_START',
      'VEND_AUDIT_SEAL_INTERVAL_SECONDS',
      'VEND_AUDIT_SEAL_GRACE_SECONDS',
    ]) {
      expect(exports[0], name).toMatch(new RegExp(` ${name}=\\S`));
    }
  });

  it(
    'README "Try it" runs',
    async () => {
      const r = await shell(await block('README.md', 'paste it, then:'));

      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      expect(r.stdout).toContain('"status":"ok"');
      expect(r.stdout).toContain('arn:aws:sts::111122223333:assumed-role/CICDDeployRole/');
      expect(r.stdout).toContain('"AccessKeyId":"ASIA');
    },
    SLOW,
  );

  it(
    'docs/local-stack.md first calls run (the sample export line replaced by the printed one)',
    async () => {
      // Drop the doc's sample `export …` statement (with its continuation lines).
      const lines: string[] = [];
      let inExport = false;
      for (const line of await block(
        'docs/local-stack.md',
        'an `export` line to paste into another shell:',
      )) {
        if (/^\s*export /.test(line)) inExport = true;
        if (!inExport) lines.push(line);
        if (inExport && !line.trimEnd().endsWith('\\')) inExport = false;
      }
      expect(lines.join('\n')).not.toMatch(/AWS_ENDPOINT_URL=|VEND_AUDIT_TABLE=/);

      const r = await shell(lines);

      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toContain('CICDDeployRole');
    },
    SLOW,
  );

  it(
    'docs/audit.md: seal, verify, orphans and the auditor listing run against the local stack',
    async () => {
      // Something to audit first: a service vend (docs/cli.md), as `AWS_PROFILE=ci vend credentials …`.
      const vended = await shell([
        'AWS_PROFILE=ci vend credentials prod-readonly --duration 15m > /dev/null',
      ]);
      expect(vended.stderr).toBe('');
      expect(vended.code).toBe(0);

      const r = await shell(
        await block('docs/audit.md', "Against the\nlocal stack, in the stack's client environment:"),
      );

      expect(r.code).toBe(0);
      expect(r.stdout).toMatch(/sealed|nothing new to seal/);
      expect(r.stdout).toMatch(
        /^audit trail verified from \S+ to \S+: \d+ digests?, \d+ sealed records?, no findings/m,
      );
      // A trail younger than an interval and its grace has nothing sealed, and nothing due yet.
      expect(r.stdout).toMatch(
        /^the trail is (sealed through \S+|not sealed at all \(no digest\)) \(due through /m,
      );
    },
    SLOW,
  );

  it(
    'docs/cli.md audit commands run: an auditor lists, an operator verifies',
    async () => {
      const r = await shell([
        'VEND_TOKEN=$(vend dev token --user erin) vend audit --since 24h --entitlement prod-readonly',
        'AWS_PROFILE=vend-broker vend audit verify --since 24h',
      ]);

      expect(r.code).toBe(0);
      expect(r.stdout).toMatch(/^TIME\s+DECISION\s+CALLER/m);
      expect(r.stdout).toMatch(/no findings/);
    },
    SLOW,
  );

  it(
    'npm start stops on Ctrl-C with exit 0, sealing what has closed',
    async () => {
      const exited = new Promise<number | null>((resolve) => child?.once('exit', (code) => resolve(code)));
      child?.kill('SIGINT');
      expect(await exited).toBe(0);
      expect(out).toMatch(/audit: sealed \d+ interval\(s\); sealed up to /);
    },
    SLOW,
  );
});
