/**
 * `vend lint-trust`: the no-standing-trust check over role trust policies (docs/trust.md); the
 * command and its report live in lib/cli/lint-trust.ts.
 */
import type { Command } from 'commander';
import { registerLintTrust } from '../lint-trust';
import { adminContext, type Runtime } from '../runtime';

/** Registers `vend lint-trust`. */
export function register(program: Command, rt: Runtime): void {
  registerLintTrust(program, adminContext(rt));
}
