/**
 * The layers are enforced, not remembered: `npm run lint` runs dependency-cruiser with
 * `.dependency-cruiser.cjs` (docs/architecture.md). This spec shows that the rules bite: it cruises
 * a miniature tree (./fixtures) in which each file breaks one rule, or keeps to all of them, and
 * checks that each breach is rejected by name and nothing else is; then it cruises the real tree and
 * expects no violation at all.
 */
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const FIXTURES = fileURLToPath(new URL('./fixtures/', import.meta.url));
const CONFIG = `${ROOT}.dependency-cruiser.cjs`;
const DEPCRUISE = `${ROOT}node_modules/dependency-cruiser/bin/dependency-cruise.mjs`;

interface Violation {
  from: string;
  to: string;
  rule: { name: string; severity: string };
  cycle?: { name: string }[];
}

/** Cruises `paths` from `cwd` with the project's rules; the violations, whatever the exit code. */
async function cruise(cwd: string, paths: string[]): Promise<Violation[]> {
  const args = [DEPCRUISE, ...paths, '--config', CONFIG, '--output-type', 'json'];
  const { stdout } = await promisify(execFile)(process.execPath, args, { cwd, maxBuffer: 64 << 20 }).catch(
    (e: { stdout?: string }) => ({ stdout: e.stdout ?? '' }),
  );
  return (JSON.parse(stdout) as { summary: { violations: Violation[] } }).summary.violations;
}

describe('the layer rules reject each breach by name', () => {
  let violations: Violation[];
  const rulesOf = (file: string) =>
    violations
      .filter((v) => v.from === file || v.cycle?.some((c) => c.name === file))
      .map((v) => v.rule.name);

  beforeAll(async () => {
    violations = await cruise(FIXTURES, ['lib', 'functions']);
  });

  it('a domain file importing lib/dynamodb/… (table keys in the pure rules)', () => {
    expect(rulesOf('lib/domain/reads-table-keys.ts')).toEqual(['domain-is-pure']);
  });

  it('a domain file importing a node: module with I/O', () => {
    expect(rulesOf('lib/domain/reads-files.ts')).toEqual(['domain-no-io-modules']);
  });

  it('a use case importing an adapter', () => {
    expect(rulesOf('lib/usecases/uses-adapter.ts')).toEqual(['usecases-use-ports']);
  });

  it('shipped code importing infra/local statically', () => {
    expect(rulesOf('lib/cli/dev-static.ts')).toEqual(['shipped-code-never-loads-the-local-stack-statically']);
  });

  it('a handler constructing an adapter instead of asking the wiring', () => {
    expect(rulesOf('functions/builds-adapter.ts')).toEqual(['entries-go-through-the-wiring']);
  });

  it('two modules that import each other', () => {
    expect(rulesOf('lib/usecases/cycle-a.ts')).toContain('no-circular');
    expect(rulesOf('lib/usecases/cycle-b.ts')).toContain('no-circular');
  });

  it('and accepts what keeps to the layers: ports, adapters, hashing, a lazy or typed dev import', () => {
    for (const file of [
      'lib/domain/hashes.ts',
      'lib/ports/issuer.ts',
      'lib/sts/issuer.ts',
      'lib/usecases/uses-port.ts',
      'lib/cli/dev-lazy.ts',
      'lib/cli/dev-typed.ts',
      'lib/dynamodb/keys.ts',
    ]) {
      expect(rulesOf(file), file).toEqual([]);
    }
    // Nothing else is reported: six breaches (the cycle once), each from a file made to break a rule.
    expect(violations.map((v) => v.from).sort()).toEqual([
      'functions/builds-adapter.ts',
      'lib/cli/dev-static.ts',
      'lib/domain/reads-files.ts',
      'lib/domain/reads-table-keys.ts',
      'lib/usecases/cycle-a.ts',
      'lib/usecases/uses-adapter.ts',
    ]);
  });
});

describe('the real tree', () => {
  it('keeps to every rule', async () => {
    const violations = await cruise(ROOT, ['lib', 'functions', 'bin']);
    expect(violations.map((v) => `${v.rule.name}: ${v.from} → ${v.to}`)).toEqual([]);
  });
});
