/**
 * YAML (and JSON, which is YAML) read with positions, so every problem vend reports about a file can
 * name `file:line:column`. Built on the `yaml` package's Document + LineCounter: the parsed value
 * is the same as `yaml.parse` gives, and {@link SourceFile.lineOf} finds where any path of it was
 * written.
 */
import { isMap, isNode, isSeq, LineCounter, parseDocument } from 'yaml';

/** A place in a file, 1-based, as editors and compilers print it. */
export interface Position {
  file: string;
  line: number;
  column: number;
}

/** The file is not YAML at all (a syntax error): names the file and the line. */
export class SourceSyntaxError extends Error {
  constructor(
    readonly position: Position,
    detail: string,
    options?: { cause?: unknown },
  ) {
    super(`${position.file}:${position.line}:${position.column}: ${detail}`, options);
    this.name = 'SourceSyntaxError';
  }
}

/** One path segment: a mapping key or a sequence index. */
export type PathSegment = string | number;

/** A parsed file that can say where each of its values was written. */
export interface SourceFile {
  file: string;
  /** The plain JS value (`yaml.parse` semantics). */
  value: unknown;
  /**
   * The position of the deepest node along `path` that exists (so a missing field points at the
   * mapping that lacks it). For a mapping entry, the key's position; for a list item, the item's.
   */
  positionOf(path: readonly PathSegment[]): Position;
}

/**
 * Parses `text` as YAML with positions.
 *
 * @throws SourceSyntaxError the first YAML syntax error, with its line
 * @example
 * const src = parseSource('entitlements:\n  - id: x\n', 'e.yaml');
 * src.positionOf(['entitlements', 0, 'id']); // { file: 'e.yaml', line: 2, column: 5 }
 */
export function parseSource(text: string, file: string): SourceFile {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  const at = (offset: number): Position => {
    const { line, col } = lineCounter.linePos(offset);
    return { file, line, column: col };
  };
  const first = doc.errors[0];
  if (first) throw new SourceSyntaxError(at(first.pos[0]), first.message.split('\n')[0] ?? 'invalid YAML');
  return {
    file,
    value: doc.toJS(),
    positionOf(path) {
      let node: unknown = doc.contents;
      let best = at(0);
      if (isNode(node) && node.range) best = at(node.range[0]);
      for (const segment of path) {
        if (isMap(node)) {
          const pair = node.items.find((p) => (isNode(p.key) ? String(p.key.toJSON()) : p.key) === segment);
          if (!pair) break;
          if (isNode(pair.key) && pair.key.range) best = at(pair.key.range[0]);
          node = pair.value;
        } else if (isSeq(node) && typeof segment === 'number') {
          const item = node.items[segment];
          if (!item) break;
          node = item;
          if (isNode(node) && node.range) best = at(node.range[0]);
        } else {
          break;
        }
      }
      return best;
    },
  };
}

/**
 * Splits a field path as the domain and lib/iam write them (`ceiling.Statement[0].Action[1]`,
 * `principals.roles[2]`, `Statement.Action`) into segments.
 *
 * @example fieldPath('ceiling.Statement[0].Action') // ['ceiling', 'Statement', 0, 'Action']
 */
export function fieldPath(field: string): PathSegment[] {
  const out: PathSegment[] = [];
  for (const part of field.split('.')) {
    const m = /^([^[]*)((?:\[\d+\])*)$/.exec(part);
    if (!m) {
      out.push(part);
      continue;
    }
    if (m[1]) out.push(m[1]);
    for (const idx of (m[2] ?? '').matchAll(/\[(\d+)\]/g)) out.push(Number(idx[1]));
  }
  return out;
}

/** `file:line:column`. */
export function formatPosition(p: Position): string {
  return `${p.file}:${p.line}:${p.column}`;
}
