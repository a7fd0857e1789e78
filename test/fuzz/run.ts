/**
 * Runs the fuzz of one route: FUZZ_RUNS cases in batches of FUZZ_BATCH (a fast-check run is one
 * batch, sent concurrently), the first FUZZ_GATEWAY_RUNS through the gateway and the rest invoked
 * directly, every answer judged by ./properties.ts. Returns how many went each way, for the report.
 */
import fc from 'fast-check';
import { isTextContentType } from '../../infra/local/gateway/event';
import type { Auth, FuzzRequest, Outcome, Route } from './harness';
import {
  describeRequest,
  type Expected,
  FUZZ_BATCH,
  FUZZ_GATEWAY_RUNS,
  FUZZ_RUNS,
  type Handed,
  judge,
} from './properties';

/** The seed CI uses when FUZZ_SEED is not set (see docs/reliability.md). */
const CI_SEED = 20261129;

export interface RouteFuzz {
  route: Route;
  auth: Auth;
  cases: fc.Arbitrary<FuzzRequest>;
  send: (door: 'gateway' | 'direct', route: Route, auth: Auth, req: FuzzRequest) => Promise<Outcome>;
  /** Whether this case may get credentials (credentials routes only). */
  valid?: (req: FuzzRequest) => boolean;
  /** Sees every answer (to learn ids the suite made, for example). */
  observe?: (req: FuzzRequest, out: Outcome) => void;
  /** The answer the oracle predicts exactly for this request, if it predicts one. */
  expected?: (req: FuzzRequest) => Expected | undefined;
  /** A route-specific property of an answer (throws when it does not hold). */
  check?: (req: FuzzRequest, out: Outcome) => void;
  secrets: () => readonly string[];
  handed: Handed[];
  /** Adds the signature a route needs over the final bytes (Slack). */
  finalise?: (req: FuzzRequest) => FuzzRequest;
}

/**
 * The body bytes the handler decodes from a direct event whose `isBase64Encoded` was flipped: text
 * read as base64 (Node's decoder skips what is not base64, so `{}` becomes empty, which the request
 * routes read as `{}`), or base64 read as text.
 */
function asHandlerSees(req: FuzzRequest): FuzzRequest {
  if (!req.flipBase64 || req.body === undefined || req.body.length === 0) return req;
  const wasText = isTextContentType(req.headers['content-type']);
  const body = wasText
    ? Buffer.from(req.body.toString('utf8'), 'base64')
    : Buffer.from(req.body.toString('base64'), 'utf8');
  return { ...req, body };
}

/** Fuzzes one route; throws (with fast-check's counterexample) when a property fails. */
export async function fuzzRoute(
  spec: RouteFuzz,
): Promise<{ gateway: number; direct: number; statuses: Record<number, number> }> {
  const name = `${spec.route.method} ${spec.route.path}`;
  const credentialsRoute = spec.route.path.endsWith('/credentials');
  let sent = 0;
  const counts = { gateway: 0, direct: 0 };
  const statuses: Record<number, number> = {};
  const one = async (generated: FuzzRequest) => {
    const req = spec.finalise ? spec.finalise(generated) : generated;
    const door = sent++ < FUZZ_GATEWAY_RUNS ? 'gateway' : 'direct';
    counts[door] += 1;
    const onWire = door === 'gateway' ? { ...req, flipBase64: false } : req;
    const out = await spec.send(door, spec.route, spec.auth, onWire);
    statuses[out.status] = (statuses[out.status] ?? 0) + 1;
    spec.observe?.(req, out);
    judge(out, {
      route: name,
      credentialsRoute,
      valid: spec.valid ? spec.valid(door === 'direct' ? asHandlerSees(req) : req) : false,
      secrets: spec.secrets(),
      handed: spec.handed,
      describe: () => describeRequest(req),
      expected: spec.expected?.(req),
    });
    spec.check?.(onWire, out);
  };
  await fc.assert(
    fc.asyncProperty(
      fc.array(spec.cases, { minLength: FUZZ_BATCH, maxLength: FUZZ_BATCH }),
      async (batch) => {
        await Promise.all(batch.map(one));
      },
    ),
    {
      numRuns: Math.ceil(FUZZ_RUNS / FUZZ_BATCH),
      // A failure prints its seed; FUZZ_SEED replays it. CI runs a fixed seed so a landing is
      // reproducible; every developer run (and FUZZ_RUNS long runs) explores new seeds.
      ...(process.env.FUZZ_SEED
        ? { seed: Number(process.env.FUZZ_SEED) }
        : process.env.CI
          ? { seed: CI_SEED }
          : {}),
    },
  );
  return { ...counts, statuses };
}
