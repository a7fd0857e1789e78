/**
 * Fault injection for the fault matrix: SDK middleware on vend's own clients (lib/wiring/clients.ts, the
 * module instances the in-process handlers use) and a wrapper around the local Slack sink. Each
 * external call fails one of three ways, as its real counterpart fails:
 * - `error`: a server fault (DynamoDB `InternalServerError` 500, STS `ServiceUnavailable` 503,
 *   Slack HTTP 500);
 * - `throttle`: DynamoDB `ThrottlingException`, STS `Throttling`, Slack 429 `ratelimited` with
 *   `Retry-After`;
 * - `timeout`: the SDK's `TimeoutError` after a delay (what @smithy/node-http-handler throws when the
 *   socket times out; a real hang would cost the client's 2-3 s request timeout per attempt), and for
 *   Slack a real hang longer than the notifier's per-attempt timeout.
 *
 * These faults are thrown at the `initialize` step, IN FRONT of the SDK's retry layer: the client
 * never retries them, so they test vend's own handling of a failed call. Faults behind the retry
 * layer (the SDK retrying a throttled DynamoDB call) are answered over the wire by the local AWS
 * endpoint instead: infra/local/aws/faults.ts, used by dynamo-retry.test.ts and campaign.test.ts.
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { STSClient } from '@aws-sdk/client-sts';
import type { SlackSink } from '../../infra/local/slack/sink';
import type { RawRequest, RawResponse } from '../../infra/local/types';

export type Way = 'error' | 'throttle' | 'timeout';
export const WAYS: readonly Way[] = ['error', 'throttle', 'timeout'];

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function sdkFault(service: 'dynamodb' | 'sts', way: Way): Error {
  if (way === 'timeout') {
    return Object.assign(new Error('injected: socket timed out'), { name: 'TimeoutError', $metadata: {} });
  }
  if (way === 'throttle') {
    const name = service === 'sts' ? 'Throttling' : 'ThrottlingException';
    return Object.assign(new Error('injected: Rate exceeded'), {
      name,
      Code: name,
      $fault: 'client',
      $retryable: { throttling: true },
      $metadata: { httpStatusCode: 400 },
    });
  }
  const name = service === 'sts' ? 'ServiceUnavailable' : 'InternalServerError';
  return Object.assign(new Error('injected: service unavailable'), {
    name,
    Code: name,
    $fault: 'server',
    $metadata: { httpStatusCode: service === 'sts' ? 503 : 500 },
  });
}

/** What a matcher sees: the command name and its input. */
export type CallInput = Record<string, unknown> & { command: string };

/** A string attribute of a (marshalled or plain) DynamoDB item. */
export function attr(item: unknown, name: string): string | undefined {
  const v = (item as Record<string, unknown> | undefined)?.[name];
  if (typeof v === 'string') return v;
  const s = (v as { S?: unknown } | undefined)?.S;
  return typeof s === 'string' ? s : undefined;
}

/** Matchers for the external calls of the vend and approval paths. */
export const calls = {
  entitlementRead: (i: CallInput) =>
    (i.command === 'GetItemCommand' || i.command === 'GetCommand') &&
    String(i.TableName).endsWith('-entitlements'),
  auditWrite: (decision: string) => (i: CallInput) =>
    (i.command === 'PutItemCommand' || i.command === 'PutCommand') &&
    String(i.TableName).endsWith('-audit') &&
    attr(i.Item, 'decision') === decision,
  requestCreate: (i: CallInput) =>
    (i.command === 'PutItemCommand' || i.command === 'PutCommand') &&
    String(i.TableName).endsWith('-requests') &&
    attr(i.Item, 'requesterId') !== undefined &&
    attr(i.Item, 'status') === 'pending',
  requestTransition: (i: CallInput) =>
    (i.command === 'UpdateItemCommand' || i.command === 'UpdateCommand') &&
    String(i.TableName).endsWith('-requests') &&
    String(i.ConditionExpression ?? '').includes(':expectedVersion'),
};

type Client = Pick<DynamoDBClient | STSClient, 'middlewareStack'>;

/**
 * Fails every call of `client` that `match` selects, `way`; returns a counter of the calls it
 * failed. Remove with {@link clearFaults}.
 */
export function failCalls(
  client: Client,
  service: 'dynamodb' | 'sts',
  match: (i: CallInput) => boolean,
  way: Way,
): { hits: number } {
  const counter = { hits: 0 };
  (client.middlewareStack as DynamoDBClient['middlewareStack']).add(
    (next, context) => async (args) => {
      const input = { ...(args.input as Record<string, unknown>), command: context.commandName ?? '' };
      if (!match(input)) return next(args);
      counter.hits += 1;
      if (way === 'timeout') await sleep(25);
      throw sdkFault(service, way);
    },
    { step: 'initialize', name: 'faultMatrix', override: true },
  );
  return counter;
}

/** Removes every injected SDK fault. */
export function clearFaults(...clients: Client[]): void {
  for (const c of clients) (c.middlewareStack as DynamoDBClient['middlewareStack']).remove('faultMatrix');
}

/**
 * Fails the local Slack Web API for the methods given (`chat.postMessage`, `chat.update`); returns
 * a restore function and a counter.
 */
export function failSlack(
  sink: SlackSink,
  methods: readonly string[],
  way: Way,
): { restore: () => void; hits: () => number } {
  const original = sink.handler;
  let hits = 0;
  const mutable = sink as { handler: (req: RawRequest) => Promise<RawResponse> };
  mutable.handler = async (req) => {
    if (!methods.some((m) => req.path.endsWith(`/${m}`))) return original(req);
    hits += 1;
    if (way === 'error') return { status: 500, headers: { 'content-type': 'text/plain' }, body: 'injected' };
    if (way === 'throttle') {
      return {
        status: 429,
        headers: { 'content-type': 'application/json', 'retry-after': '1' },
        body: JSON.stringify({ ok: false, error: 'ratelimited' }),
      };
    }
    // Longer than the notifier's per-attempt timeout (1 s); then answer, too late to count.
    await sleep(1_200);
    return original(req);
  };
  return {
    restore: () => {
      mutable.handler = original;
    },
    hits: () => hits,
  };
}

/** Ways a call fails behind the SDK's retry layer (see {@link failBehindRetries}). */
export type WireWay = Way | 'request lost' | 'response lost';

/** One fault behind the retry layer; `clear()` removes it, `hits` counts the attempts it failed. */
export interface ArmedFault {
  readonly hits: number;
  clear(): void;
}

interface Armed {
  service: 'dynamodb' | 'sts';
  match: (i: CallInput) => boolean;
  way: WireWay;
  remaining: number;
  hits: number;
}
const armed = new WeakMap<object, Armed[]>();

/**
 * Fails the next `times` ATTEMPTS of the calls `match` selects, behind the SDK's retry layer (the
 * middleware sits after `retryMiddleware`, per attempt), so the client's retry strategy sees each
 * failure and retries as against AWS:
 * - `error`, `throttle`, `timeout`: as {@link failCalls}, but per attempt;
 * - `request lost`: a socket timeout before the request is sent (the service never saw it);
 * - `response lost`: the request is sent and the service acts on it, then the answer is lost to a
 *   socket timeout (the ambiguous case: a write may have landed, STS may have issued a session).
 *
 * @example
 * const f = failBehindRetries(dynamodb, 'dynamodb', calls.auditWrite('issued'), 'response lost', 1);
 * // … the first attempt's put lands but its answer is lost; the SDK retries …
 * f.clear();
 */
export function failBehindRetries(
  client: Client,
  service: 'dynamodb' | 'sts',
  match: (i: CallInput) => boolean,
  way: WireWay,
  times: number,
): ArmedFault {
  const stack = client.middlewareStack as DynamoDBClient['middlewareStack'];
  let list = armed.get(client);
  if (!list) {
    const faults: Armed[] = [];
    list = faults;
    armed.set(client, faults);
    type Next = (args: { input: unknown }) => Promise<unknown>;
    const middleware =
      (next: Next, context: { commandName?: string }) =>
      async (args: { input: unknown }): Promise<unknown> => {
        const input = { ...(args.input as Record<string, unknown>), command: context.commandName ?? '' };
        const f = faults.find((a) => a.remaining > 0 && a.match(input));
        if (!f) return next(args);
        f.remaining -= 1;
        f.hits += 1;
        if (f.way === 'response lost') {
          await next(args);
          throw sdkFault(f.service, 'timeout');
        }
        if (f.way === 'request lost' || f.way === 'timeout') await sleep(25);
        throw sdkFault(f.service, f.way === 'request lost' ? 'timeout' : f.way);
      };
    stack.addRelativeTo(middleware as never, {
      relation: 'after',
      toMiddleware: 'retryMiddleware',
      name: 'faultBehindRetries',
    });
  }
  const fault: Armed = { service, match, way, remaining: times, hits: 0 };
  list.push(fault);
  return {
    get hits() {
      return fault.hits;
    },
    clear: () => {
      const i = list.indexOf(fault);
      if (i !== -1) list.splice(i, 1);
    },
  };
}
