import type { PolicyIssue } from './types';

/**
 * A policy document failed validation. `issues` lists every problem with its path
 * (`Statement[1].Action[0]`); the message names the first few.
 */
export class PolicyValidationError extends Error {
  readonly issues: PolicyIssue[];

  constructor(issues: PolicyIssue[], options?: { cause?: unknown }) {
    const shown = issues
      .slice(0, 3)
      .map((i) => (i.path ? `${i.path}: ${i.message}` : i.message))
      .join('; ');
    const more = issues.length > 3 ? ` (and ${issues.length - 3} more)` : '';
    super(`Invalid policy: ${shown}${more}`, options);
    this.name = 'PolicyValidationError';
    this.issues = issues;
  }
}
