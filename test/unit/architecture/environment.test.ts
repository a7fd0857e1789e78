/**
 * The environment is read in one place (docs/architecture.md): lib/config.ts reads `process.env`,
 * the composition root (lib/wiring/) reads lib/config.ts once and passes values on, and the CLI
 * reads its own environment (VEND_URL, VEND_TOKEN, profiles) once, in lib/cli/runtime.ts, and
 * hands it to its commands (bin/vend.js and lib/cli/run.ts only set the SDK's warning flag). A
 * property access is invisible to dependency-cruiser, so this spec reads the shipped sources: any
 * other module that mentions `process.env` in code is named here.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
/** Who may read the environment directly. */
const READERS = [/^lib\/config\.ts$/, /^lib\/cli\/runtime\.ts$/, /^lib\/cli\/run\.ts$/, /^bin\//];

function sources(dir: string): string[] {
  return readdirSync(join(ROOT, dir), { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && /\.(ts|js|mjs)$/.test(e.name))
    .map((e) => relative(ROOT, join(e.parentPath, e.name)));
}

/** `process.env` in code: comments (TSDoc examples, explanations) are not reads. */
function readsEnvironment(text: string): boolean {
  const code = text.replace(/\/\*[\s\S]*?\*\//g, '').replace(/^\s*\/\/.*$/gm, '');
  return /\bprocess\s*\.\s*env\b|\bprocess\s*\[\s*['"]env['"]\s*\]/.test(code);
}

describe('the environment is read in one place', () => {
  it('recognises a read, and not a comment about one', () => {
    expect(readsEnvironment("const table = process.env.VEND_AUDIT_TABLE ?? 'x';")).toBe(true);
    expect(readsEnvironment("const { env } = process; const e = process['env'];")).toBe(true);
    expect(readsEnvironment('/** @example loadConfig(process.env) */\nexport const x = 1;')).toBe(false);
    expect(readsEnvironment('// process.env is read by lib/config.ts\nexport const x = 1;')).toBe(false);
  });

  it('outside lib/config.ts and the CLI’s runtime, no shipped module reads process.env', () => {
    const files = ['lib', 'functions', 'bin'].flatMap(sources);
    expect(files).toContain('lib/config.ts');
    const readers = files.filter((f) => readsEnvironment(readFileSync(join(ROOT, f), 'utf8')));
    expect(readers).toContain('lib/config.ts');
    expect(readers.filter((f) => !READERS.some((r) => r.test(f)))).toEqual([]);
  });
});
