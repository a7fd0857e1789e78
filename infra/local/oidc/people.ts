/**
 * The demo people (CONTRACT §3), read from people.yaml next to this file. Shared by the local OIDC
 * issuer (token claims) and the local Slack sink (`users.info`).
 */
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';

/** One demo person. */
export interface Person {
  /** Login name, also `preferred_username`. */
  username: string;
  /** Stable opaque subject id (never the email). */
  sub: string;
  name: string;
  /** `<username>@example.com` */
  email: string;
  groups: string[];
  /** Slack user id, `U0<NAME>`. */
  slackUserId: string;
}

/** people.yaml is malformed. */
export class PeopleFileError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'PeopleFileError';
  }
}

/** Path of the default people file. */
export const PEOPLE_FILE = new URL('./people.yaml', import.meta.url);

function text(value: unknown, where: string): string {
  if (typeof value !== 'string' || value === '')
    throw new PeopleFileError(`${where} must be a non-empty string`);
  return value;
}

/**
 * Parses a people document (the people.yaml format).
 *
 * @example parsePeople('people: [{username: a, sub: s1, name: A, groups: [], slackUserId: U0A}]')[0].email // 'a@example.com'
 */
export function parsePeople(source: string): Person[] {
  const doc = parseYaml(source) as { people?: unknown } | null;
  if (!doc || !Array.isArray(doc.people)) throw new PeopleFileError('people.yaml must have a `people` list');
  const seen = new Set<string>();
  return doc.people.map((raw: unknown, i) => {
    const p = (raw ?? {}) as Record<string, unknown>;
    const where = `people[${i}]`;
    const username = text(p.username, `${where}.username`);
    if (seen.has(username)) throw new PeopleFileError(`${where}: duplicate username ${username}`);
    seen.add(username);
    const groups = p.groups ?? [];
    if (!Array.isArray(groups) || groups.some((g) => typeof g !== 'string')) {
      throw new PeopleFileError(`${where}.groups must be a list of strings`);
    }
    return {
      username,
      sub: text(p.sub, `${where}.sub`),
      name: text(p.name, `${where}.name`),
      email: `${username}@example.com`,
      groups: groups as string[],
      slackUserId: text(p.slackUserId, `${where}.slackUserId`),
    };
  });
}

let cached: Person[] | undefined;

/** The demo people from infra/local/oidc/people.yaml (read once). */
export function demoPeople(): Person[] {
  cached ??= parsePeople(readFileSync(PEOPLE_FILE, 'utf8'));
  return cached;
}
