/**
 * Seeds entitlements from a YAML file into the entitlements table, through the same validation and
 * store the service uses. The local stack seeds the demo world with it at every start, so editing
 * infra/local/entitlements.yaml and restarting is how a developer changes the demo.
 */
import { readFile } from 'node:fs/promises';
import { parse } from 'yaml';
import { parseEntitlement } from '../../lib/domain/entitlement';
import type { Entitlement } from '../../lib/domain/types';
import type { EntitlementStore } from '../../lib/ports';

/** Reads and validates every entitlement of a YAML file (`entitlements: [...]`). */
export async function loadEntitlementsFile(file: string): Promise<Entitlement[]> {
  const doc = parse(await readFile(file, 'utf8')) as { entitlements?: unknown } | null;
  if (!doc || !Array.isArray(doc.entitlements)) {
    throw new Error(`${file}: expected a top-level "entitlements:" list`);
  }
  return doc.entitlements.map((raw) => parseEntitlement(raw));
}

/** Puts every entitlement of `file` into `store`; returns their ids. */
export async function seedEntitlements(store: EntitlementStore, file: string): Promise<string[]> {
  const entitlements = await loadEntitlementsFile(file);
  for (const ent of entitlements) await store.put(ent);
  return entitlements.map((e) => e.id);
}
