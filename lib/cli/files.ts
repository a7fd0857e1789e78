/**
 * Owner-only files for tokens and cached credentials: directories 0700, files 0600, written
 * atomically (temp file in the same directory, then rename) so a reader never sees half a file and
 * two concurrent writers leave one whole version.
 */
import { randomBytes } from 'node:crypto';
import { chmod, mkdir, open, rename, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';

/** Creates `dir` (and parents) 0700; tightens an existing one. */
export async function ensurePrivateDir(dir: string): Promise<void> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  await chmod(dir, 0o700);
}

/**
 * Writes `text` to `file` atomically with `mode` (default 0600).
 *
 * @example await writeFileAtomic('/home/me/.cache/vend/x.json', '{}')
 */
export async function writeFileAtomic(file: string, text: string, mode = 0o600): Promise<void> {
  const tmp = join(dirname(file), `.${randomBytes(6).toString('hex')}.tmp`);
  const handle = await open(tmp, 'wx', mode);
  try {
    await handle.writeFile(text);
    await handle.sync();
  } finally {
    await handle.close();
  }
  try {
    await chmod(tmp, mode); // the umask may have narrowed or (for 0o644 requests) kept bits
    await rename(tmp, file);
  } catch (error) {
    await rm(tmp, { force: true });
    throw error;
  }
}
