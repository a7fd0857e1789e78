/**
 * Runs ./handler-process.ts (the credentials handler alone, the emulators in a process of their
 * own) and returns its figures. Its stdout, where the handler writes its log lines as in Lambda, is
 * discarded; its progress lines go to this process's stderr.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { HandlerFigures } from './handler-process';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

/**
 * @example const figures = await measureHandler({ vends: 1000, soak: 10_000, timeLimitMs: 600_000 });
 */
export async function measureHandler(opts: {
  vends: number;
  soak: number;
  timeLimitMs: number;
}): Promise<HandlerFigures> {
  const dir = await mkdtemp(join(tmpdir(), 'vend-bench-handler-'));
  const out = join(dir, 'handler.json');
  try {
    const child = spawn(
      process.execPath,
      [
        '--expose-gc',
        '--import',
        'tsx',
        'bench/handler-process.ts',
        '--vends',
        String(opts.vends),
        '--soak',
        String(opts.soak),
        '--time-limit',
        String(opts.timeLimitMs),
        '--out',
        out,
      ],
      { cwd: ROOT, stdio: ['ignore', 'ignore', 'inherit'] },
    );
    const code = await new Promise<number | null>((resolve, reject) => {
      child.once('error', reject);
      child.once('exit', resolve);
    });
    if (code !== 0) throw new Error(`the handler benchmark exited with ${code}`);
    return JSON.parse(await readFile(out, 'utf8')) as HandlerFigures;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
