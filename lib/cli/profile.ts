/**
 * `vend credentials --write-profile NAME`: adds or updates `[profile NAME]` in the AWS config file
 * with a `credential_process` line that runs vend. Only that section's `credential_process` (and
 * `region`, when given) are touched: other profiles, comments, blank lines and the order of the
 * file are kept byte for byte.
 */
import { mkdir, readFile, stat } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { UsageError } from './errors';
import { writeFileAtomic } from './files';
import { shellQuote } from './output';

const PROFILE_NAME = /^[A-Za-z0-9_.+@-]+$/;

/** The AWS config file: `AWS_CONFIG_FILE`, else `~/.aws/config`. */
export function awsConfigFile(env: Record<string, string | undefined>): string {
  const set = env.AWS_CONFIG_FILE?.trim();
  if (set) return resolve(set.replace(/^~(?=$|\/)/, env.HOME ?? homedir()));
  return join(env.HOME ?? homedir(), '.aws', 'config');
}

/**
 * Quotes one argument of a `credential_process` command line. Both readers of that line agree on
 * single quotes: botocore splits it with POSIX shlex rules, the SDK for JavaScript hands it to
 * `/bin/sh`. Plain words are left bare so the line stays readable.
 *
 * @example commandLine(['/usr/bin/node', '/opt/my vend/bin/vend.js', 'credential-process', 'x'])
 * // "/usr/bin/node '/opt/my vend/bin/vend.js' credential-process x"
 */
export function commandLine(args: string[]): string {
  return args.map((a) => (/^[A-Za-z0-9_./:=@%+,-]+$/.test(a) ? a : shellQuote(a))).join(' ');
}

const SECTION = /^\s*\[\s*([^\]]*?)\s*\]\s*(?:[#;].*)?$/;
const KEY = /^([A-Za-z0-9_.-]+)\s*=/;

/**
 * Returns `text` with `settings` set in the profile `name` (`[profile NAME]`, or `[default]`),
 * appending the section when it is missing.
 *
 * @example upsertProfile('[profile a]\nregion = x\n', 'b', { credential_process: 'vend …' })
 * // '[profile a]\nregion = x\n\n[profile b]\ncredential_process = vend …\n'
 */
export function upsertProfile(text: string, name: string, settings: Record<string, string>): string {
  if (!PROFILE_NAME.test(name))
    throw new UsageError(`invalid profile name '${name}': use letters, digits and _ . + @ -`);
  for (const [k, v] of Object.entries(settings)) {
    if (/[\r\n]/.test(v)) throw new UsageError(`the value of ${k} cannot contain a line break`);
  }
  const header = name === 'default' ? 'default' : `profile ${name}`;
  const eol = text.includes('\r\n') ? '\r\n' : '\n';
  const lines = text === '' ? [] : text.split(/\r?\n/);
  const trailingNewline = text === '' || /\r?\n$/.test(text);
  if (trailingNewline && lines.length > 0) lines.pop();

  const start = lines.findIndex((l) => {
    const m = SECTION.exec(l);
    return m !== null && m[1]?.replace(/\s+/g, ' ') === header;
  });
  if (start === -1) {
    const section = [`[${header}]`, ...Object.entries(settings).map(([k, v]) => `${k} = ${v}`)];
    const sep = lines.length > 0 && lines[lines.length - 1]?.trim() !== '' ? [''] : [];
    return `${[...lines, ...sep, ...section].join(eol)}${eol}`;
  }
  let end = lines.findIndex((l, i) => i > start && SECTION.test(l));
  if (end === -1) end = lines.length;

  const pending = new Map(Object.entries(settings));
  const body: string[] = [];
  for (const line of lines.slice(start + 1, end)) {
    const key = KEY.exec(line)?.[1];
    if (key !== undefined && settings[key] !== undefined) {
      if (pending.has(key)) {
        body.push(`${key} = ${settings[key]}`);
        pending.delete(key);
      } // a repeated key would be ambiguous: keep only the first, rewritten
      continue;
    }
    body.push(line);
  }
  // New keys go after the section's last setting, before blank lines and comments that lead into
  // the next section.
  let insertAt = body.length;
  while (insertAt > 0 && (body[insertAt - 1]?.trim() === '' || /^\s*[#;]/.test(body[insertAt - 1] ?? '')))
    insertAt--;
  body.splice(insertAt, 0, ...[...pending].map(([k, v]) => `${k} = ${v}`));
  const out = [...lines.slice(0, start + 1), ...body, ...lines.slice(end)];
  return `${out.join(eol)}${trailingNewline ? eol : ''}`;
}

/**
 * Reads, updates and atomically rewrites the AWS config file, keeping its mode (0600 when new).
 *
 * @example await writeProfile('/home/me/.aws/config', 'prod-ro', { credential_process: '…' })
 */
export async function writeProfile(
  file: string,
  name: string,
  settings: Record<string, string>,
): Promise<void> {
  let text = '';
  let mode = 0o600;
  try {
    text = await readFile(file, 'utf8');
    mode = (await stat(file)).mode & 0o777;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    await mkdir(dirname(file), { recursive: true, mode: 0o700 }); // an existing ~/.aws keeps its mode
  }
  await writeFileAtomic(file, upsertProfile(text, name, settings), mode);
}
