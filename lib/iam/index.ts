/**
 * vend's IAM policy evaluator: parsing and validation, evaluation in the AWS order, and the
 * containment check behind session-policy ceilings. See docs/iam-evaluator.md for the subset.
 */

export { arnLike, parseArn } from './arn';
export { checkContainment } from './containment';
export { PolicyValidationError } from './errors';
export { authorize, evaluatePolicySet } from './evaluate';
export { parsePolicy, validatePolicy } from './parse';
export { principalMatches } from './principal';
export * from './types';
export { matchWildcard } from './wildcard';
