/**
 * Runs the `vend` CLI as a child process, as a user would, with the local stack's environment.
 * It is started through the package bin, `node bin/vend.js`, exactly as `npx vend` would: the built
 * CLI in dist/cli/ (the suite's global setup builds it when stale). The command is built in one
 * place: {@link VEND}.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const REPO = fileURLToPath(new URL('../../../', import.meta.url));
/** The argv that runs vend (absolute paths, so a credential_process line works from anywhere). */
export const VEND = [process.execPath, `${REPO}bin/vend.js`];

export interface Ran {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a command to completion (stdin closed) and collects its output. */
export function run(
  argv: string[],
  env: Record<string, string>,
  opts: { timeoutMs?: number } = {},
): Promise<Ran> {
  return new Promise((resolve, reject) => {
    const child = spawn(argv[0]!, argv.slice(1), { env, cwd: REPO, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 25_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** `vend …` to completion. */
export const vend = (args: string[], env: Record<string, string>): Promise<Ran> =>
  run([...VEND, ...args], env);

/** A long-running child (vend serve, vend login) whose output can be awaited line by line. */
export interface Running {
  child: ChildProcess;
  stdout(): string;
  stderr(): string;
  /** Resolves with the first match of `re` in stdout+stderr. */
  waitFor(re: RegExp, timeoutMs?: number): Promise<RegExpMatchArray>;
  exited: Promise<number | null>;
}

export function start(args: string[], env: Record<string, string>): Running {
  const child = spawn(VEND[0]!, [...VEND.slice(1), ...args], {
    env,
    cwd: REPO,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  const waiters: (() => void)[] = [];
  const poke = () => {
    for (const w of waiters.splice(0)) w();
  };
  child.stdout?.on('data', (d) => {
    out += d;
    poke();
  });
  child.stderr?.on('data', (d) => {
    err += d;
    poke();
  });
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  return {
    child,
    stdout: () => out,
    stderr: () => err,
    exited,
    waitFor: (re, timeoutMs = 20_000) =>
      new Promise((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`timed out waiting for ${re}; stderr: ${err.slice(0, 500)}`)),
          timeoutMs,
        );
        const check = () => {
          const m = (out + err).match(re);
          if (m) {
            clearTimeout(timer);
            resolve(m);
          } else waiters.push(check);
        };
        check();
      }),
  };
}
