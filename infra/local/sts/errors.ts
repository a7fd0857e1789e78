/** The STS faults the emulator answers with; each carries the wire code and HTTP status. */

/** Base of every STS fault: `code` and `status` go on the wire, `message` too (never a secret). */
export class StsFaultError extends Error {
  constructor(
    readonly code: string,
    readonly status: number,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'StsFaultError';
  }
}

/** Model constraint failures, `N validation error(s) detected: …` (HTTP 400). */
export class StsValidationError extends StsFaultError {
  constructor(readonly issues: string[]) {
    super(
      'ValidationError',
      400,
      `${issues.length} validation error${issues.length === 1 ? '' : 's'} detected: ${issues.join('; ')}`,
    );
    this.name = 'StsValidationError';
  }
}

/** A plain ValidationError whose message is not a model constraint (durations). */
export class StsDurationError extends StsFaultError {
  constructor(message: string) {
    super('ValidationError', 400, message);
    this.name = 'StsDurationError';
  }
}

/** `InvalidParameterValue` (HTTP 400): tag rules, unknown PolicyArns. */
export class StsInvalidParameterError extends StsFaultError {
  constructor(message: string) {
    super('InvalidParameterValue', 400, message);
    this.name = 'StsInvalidParameterError';
  }
}

/** `AccessDenied` (HTTP 403): `User: <caller> is not authorized to perform: <action> on resource: <role>`. */
export class StsAccessDeniedError extends StsFaultError {
  constructor(callerArn: string, action: string, resource: string) {
    super(
      'AccessDenied',
      403,
      `User: ${callerArn} is not authorized to perform: ${action} on resource: ${resource}`,
    );
    this.name = 'StsAccessDeniedError';
  }
}

/** `MalformedPolicyDocument` (HTTP 400): the session policy does not parse or validate. */
export class StsMalformedPolicyError extends StsFaultError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('MalformedPolicyDocument', 400, message, options);
    this.name = 'StsMalformedPolicyError';
  }
}

/** `PackedPolicyTooLarge` (HTTP 400): session policy and tags over the packed budget. */
export class StsPackedPolicyTooLargeError extends StsFaultError {
  constructor(what: string, percent: number) {
    super('PackedPolicyTooLarge', 400, `Packed size of ${what} consumes ${percent}% of allotted space.`);
    this.name = 'StsPackedPolicyTooLargeError';
  }
}
