/**
 * Test hook of the local AWS endpoint: DynamoDB faults answered over the wire. Faults injected as
 * SDK middleware sit in front of the SDK's retry layer, so a retry is never exercised; these are
 * answered by the endpoint itself, exactly as DynamoDB answers them, so the client's whole stack
 * runs: the deserializer reads the error, the retry strategy classifies it (throttling, transient),
 * backs off and tries again, and gives up after its attempts like against AWS.
 *
 * A fault answers the next `times` requests it matches (Infinity: until cleared), then lets them
 * through to dynalite. Nothing reaches dynalite while a fault answers: the table is unchanged.
 *
 * @example
 * const faults = dynamoFaultsFor(stack.awsUrl)!;
 * const f = faults.inject({ code: 'ProvisionedThroughputExceededException', times: 2,
 *   match: (op, body) => op === 'PutItem' && body.TableName === 'vend-dev-audit' });
 * // … the client's first two attempts are throttled, the third succeeds …
 * f.hits; // 2
 */
import { randomUUID } from 'node:crypto';
import type { RawRequest, RawResponse } from '../types';

/** The DynamoDB errors a fault can answer, as DynamoDB sends them (status, `__type`, message). */
export const DYNAMO_FAULTS = {
  ProvisionedThroughputExceededException: {
    status: 400,
    type: 'com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException',
    message:
      'The level of configured provisioned throughput for the table was exceeded. Consider increasing your provisioning level with the UpdateTable API.',
  },
  ThrottlingException: {
    status: 400,
    type: 'com.amazon.coral.availability#ThrottlingException',
    message: 'Rate of requests exceeds the allowed throughput.',
  },
  RequestLimitExceeded: {
    status: 400,
    type: 'com.amazonaws.dynamodb.v20120810#RequestLimitExceeded',
    message: 'Throughput exceeds the current throughput limit for your account.',
  },
  InternalServerError: {
    status: 500,
    type: 'com.amazonaws.dynamodb.v20120810#InternalServerError',
    message: 'Internal server error',
  },
} as const;

export type DynamoFaultCode = keyof typeof DYNAMO_FAULTS;

/** Selects requests by operation (`PutItem`, `GetItem`, …) and JSON body. */
export type DynamoFaultMatch = (operation: string, body: Record<string, unknown>) => boolean;

/** One injected fault. */
export interface DynamoFault {
  /** Requests it answered so far. */
  readonly hits: number;
  /** Requests it still answers (Infinity: until cleared). */
  readonly remaining: number;
  clear(): void;
}

/** The fault switch of one endpoint. */
export interface DynamoFaults {
  inject(fault: { code: DynamoFaultCode; times: number; match?: DynamoFaultMatch }): DynamoFault;
  /** Removes every fault. */
  clear(): void;
  /** The error answer for `req` if a fault takes it, else undefined (the endpoint calls this). */
  answer(req: RawRequest, now: Date): RawResponse | undefined;
}

/** Makes an endpoint's fault switch (no fault active). */
export function createDynamoFaults(): DynamoFaults {
  type Active = { code: DynamoFaultCode; remaining: number; hits: number; match?: DynamoFaultMatch };
  let active: Active[] = [];
  return {
    inject({ code, times, match }) {
      const f: Active = { code, remaining: times, hits: 0, ...(match && { match }) };
      active.push(f);
      return {
        get hits() {
          return f.hits;
        },
        get remaining() {
          return f.remaining;
        },
        clear: () => {
          active = active.filter((a) => a !== f);
        },
      };
    },
    clear() {
      active = [];
    },
    answer(req, now) {
      if (active.length === 0) return undefined;
      const operation = (req.headers['x-amz-target'] ?? '').replace(/^DynamoDB_\d+\./, '');
      let body: Record<string, unknown> = {};
      try {
        body = JSON.parse(req.body.toString('utf8')) as Record<string, unknown>;
      } catch {
        // A body that is not JSON is matched as empty.
      }
      const f = active.find((a) => a.remaining > 0 && (a.match?.(operation, body) ?? true));
      if (!f) return undefined;
      f.remaining -= 1;
      f.hits += 1;
      const e = DYNAMO_FAULTS[f.code];
      return {
        status: e.status,
        headers: {
          'content-type': 'application/x-amz-json-1.0',
          'x-amzn-requestid': randomUUID(),
          date: now.toUTCString(),
        },
        body: JSON.stringify({ __type: e.type, message: e.message }),
      };
    },
  };
}

const byUrl = new Map<string, DynamoFaults>();

/** Registers an endpoint's switch under its URL (the endpoint calls this; tests use {@link dynamoFaultsFor}). */
export function registerDynamoFaults(url: string, faults: DynamoFaults | undefined): void {
  const key = url.replace(/\/+$/, '');
  if (faults) byUrl.set(key, faults);
  else byUrl.delete(key);
}

/**
 * The DynamoDB fault switch of the endpoint listening at `url` in this process.
 *
 * @example dynamoFaultsFor(stack.awsUrl)?.inject({ code: 'ThrottlingException', times: Infinity });
 */
export function dynamoFaultsFor(url: string): DynamoFaults | undefined {
  return byUrl.get(url.replace(/\/+$/, ''));
}
