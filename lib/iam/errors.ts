import type { PolicyIssue } from './types';

/**
 * A policy document failed validation. `issues` lists every problem with its path
 * (`Statement[1].Action[0]`); the message names the first few. `code` and `iamMessage` are what
 * IAM answers for the same document (`MalformedPolicyDocument`, with the text IAM uses for the first
 * problem), so an emulator can answer as IAM does.
 */
export class PolicyValidationError extends Error {
  readonly issues: PolicyIssue[];
  /** IAM's error class for a policy it cannot accept. */
  readonly code = 'MalformedPolicyDocument';
  /** IAM's message for the first issue, e.g. `Statement IDs (SID) in a single policy must be unique.` */
  readonly iamMessage: string;

  constructor(issues: PolicyIssue[], options?: { cause?: unknown }) {
    const shown = issues
      .slice(0, 3)
      .map((i) => (i.path ? `${i.path}: ${i.message}` : i.message))
      .join('; ');
    const more = issues.length > 3 ? ` (and ${issues.length - 3} more)` : '';
    super(`Invalid policy: ${shown}${more}`, options);
    this.name = 'PolicyValidationError';
    this.issues = issues;
    this.iamMessage = issues[0]?.iam ?? 'Syntax errors in policy.';
  }
}
