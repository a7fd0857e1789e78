/**
 * `npm start` as a user runs it: a child process that prints the export lines once ready, stops
 * with exit 0 on Ctrl-C (SIGINT), and refuses a taken port with one line naming the variable.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';

// As `npm start` runs it: node with tsx's loader in the same process (tsx's own CLI relays signals
// through a second process and SIGKILLs a child that is slow to acknowledge one, which a loaded
// machine can be).
const START = [process.execPath, '--import', 'tsx', 'infra/local/start.ts'] as const;
const dirs: string[] = [];
const children: ChildProcess[] = [];

async function startChild(
  env: Record<string, string>,
): Promise<{ child: ChildProcess; out: () => string; err: () => string }> {
  const dataDir = await mkdtemp(join(tmpdir(), 'vend-start-'));
  dirs.push(dataDir);
  const child = spawn(START[0], [...START.slice(1), '--memory'], {
    env: { ...process.env, VEND_API_PORT: '0', VEND_AWS_PORT: '0', VEND_DATA_DIR: dataDir, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  let out = '';
  let err = '';
  child.stdout!.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr!.on('data', (c: Buffer) => (err += c.toString()));
  return { child, out: () => out, err: () => err };
}

const exited = (child: ChildProcess): Promise<number | null> =>
  new Promise((resolve) =>
    child.exitCode !== null ? resolve(child.exitCode) : child.once('exit', (code) => resolve(code)),
  );

/** Resolves once `text` appears on stdout (or rejects when the child exits first). */
function waitFor(child: ChildProcess, out: () => string, text: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const check = (): void => {
      if (out().includes(text)) {
        child.stdout!.off('data', check);
        resolve();
      }
    };
    child.stdout!.on('data', check);
    child.once('exit', (code) => reject(new Error(`npm start exited (${code}) before printing ${text}`)));
    check();
  });
}

afterEach(async () => {
  for (const c of children.splice(0)) if (c.exitCode === null && c.pid) process.kill(c.pid, 'SIGKILL');
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
});

describe('npm start', () => {
  it('prints the export lines and the demo profiles, serves the API, and exits 0 on SIGINT', async () => {
    const { child, out } = await startChild({});
    await waitFor(child, out, 'Ctrl-C stops');

    const exportLine = out()
      .split('\n')
      .find((l) => l.trim().startsWith('export '));
    const vendUrl = /VEND_URL=(\S+)/.exec(exportLine ?? '')?.[1];
    const health = await fetch(`${vendUrl}/v1/health`);
    child.kill('SIGINT');
    const code = await exited(child);

    expect(exportLine).toMatch(
      /AWS_CONFIG_FILE=\S+ AWS_SHARED_CREDENTIALS_FILE=\S+ AWS_ENDPOINT_URL=http:\/\/127\.0\.0\.1:\d+ VEND_URL=http/,
    );
    expect(out()).toContain('arn:aws:sts::111122223333:assumed-role/CICDDeployRole/');
    expect(out()).toContain('vend-broker');
    expect(health.status).toBe(200);
    expect(code).toBe(0);
  });

  it('refuses a taken API port with one line naming VEND_API_PORT and a non-zero exit', async () => {
    const blocker: Server = createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', () => r()));
    const port = (blocker.address() as { port: number }).port;
    try {
      const { child, err } = await startChild({ VEND_API_PORT: String(port) });

      const code = await exited(child);

      expect(code).not.toBe(0);
      expect(err().trim().split('\n')).toEqual([
        `vend: port ${port} is in use: set VEND_API_PORT to another port`,
      ]);
    } finally {
      blocker.close();
    }
  });

  it('--fresh with a taken port wipes nothing: the running stack keeps its state', async () => {
    const blocker: Server = createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', () => r()));
    const port = (blocker.address() as { port: number }).port;
    const dataDir = await mkdtemp(join(tmpdir(), 'vend-fresh-'));
    dirs.push(dataDir);
    await writeFile(join(dataDir, 'keep.json'), '{}');
    try {
      const child = spawn(START[0], [...START.slice(1), '--fresh'], {
        env: { ...process.env, VEND_API_PORT: '0', VEND_AWS_PORT: String(port), VEND_DATA_DIR: dataDir },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      children.push(child);

      const code = await exited(child);

      expect(code).not.toBe(0);
      expect(await readFile(join(dataDir, 'keep.json'), 'utf8')).toBe('{}');
    } finally {
      blocker.close();
    }
  });
});
