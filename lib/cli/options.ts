/**
 * The options and help text several `vend` commands share (lib/cli/commands/*), so the same flag
 * reads the same everywhere: `--duration`, `--url`, `--aws-profile`, and the "Examples" block every
 * command's `--help` ends with.
 */
import { type Command, Option } from 'commander';
import { parseDuration } from './duration';

/** `--duration <duration>`, parsed to whole seconds (lib/cli/duration.ts). */
export function durationOption(): Option {
  return new Option('--duration <duration>', 'how long the credentials last: 900, 15m, 1h').argParser((v) =>
    parseDuration(v),
  );
}

/** `--url <url>`: the API instead of VEND_URL. */
export const urlOption = (): Option => new Option('--url <url>', 'the vend API (default VEND_URL)');

/** `--aws-profile <name>`: sign with SigV4 as that profile even when a person is logged in. */
export const awsProfileOption = (): Option =>
  new Option('--aws-profile <name>', 'sign with this AWS profile (SigV4) even when a person is logged in');

/**
 * Appends an "Example(s):" block to a command's `--help`.
 *
 * @example example(program.command('logout'), 'vend logout')
 */
export function example(cmd: Command, ...lines: string[]): Command {
  return cmd.addHelpText(
    'after',
    `\nExample${lines.length > 1 ? 's' : ''}:\n${lines.map((l) => `  $ ${l}`).join('\n')}\n`,
  );
}

/** An ISO time for a table cell, without milliseconds: `2026-11-29T10:00:00Z`. */
export function when(iso: unknown): string | undefined {
  return typeof iso === 'string' ? iso.replace(/\.\d+Z$/, 'Z') : undefined;
}
