/**
 * Seeds entitlements from a YAML file into the entitlements table, through the same file reader
 * (`vend entitlements validate`: positions, domain validation) and the same store the service uses.
 * The local stack seeds the demo world with it at every start, so editing
 * infra/local/entitlements.yaml and restarting is how a developer changes the demo.
 */

import type { Entitlement } from '../../lib/domain/types';
import { readEntitlementsFile, resolveExternalIds } from '../../lib/entitlements';
import type { EntitlementStore } from '../../lib/ports';

/** The entitlements file has errors; the message lists them as `file:line:column: …`. */
export class SeedFileError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SeedFileError';
  }
}

/**
 * Reads and validates every entitlement of a YAML file (`entitlements: [...]`). ExternalId
 * references resolve from the environment (`{ env: NAME }`); SSM references are for real
 * deployments and are refused here.
 */
export async function loadEntitlementsFile(file: string): Promise<Entitlement[]> {
  const read = await readEntitlementsFile(file);
  const errors = read.problems.filter((p) => p.severity === 'error');
  if (errors.length > 0) {
    throw new SeedFileError(
      errors
        .map((p) => `${p.position.file}:${p.position.line}:${p.position.column}: ${p.message}`)
        .join('\n'),
    );
  }
  return resolveExternalIds(read.entitlements, {
    env: (name) => process.env[name],
    ssm: async (name) => {
      throw new SeedFileError(
        `${file}: SSM reference ${name} cannot be resolved by the local stack; use { env: NAME }`,
      );
    },
  });
}

/** Puts every entitlement of `file` into `store`; returns their ids. */
export async function seedEntitlements(store: EntitlementStore, file: string): Promise<string[]> {
  const entitlements = await loadEntitlementsFile(file);
  for (const ent of entitlements) await store.put(ent);
  return entitlements.map((e) => e.id);
}
