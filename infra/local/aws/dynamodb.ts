/**
 * DynamoDB on the local AWS endpoint: dynalite on a private loopback port, fronted by SigV4
 * verification against the IAM store (the endpoint's verifier: scope `…/<region>/dynamodb/…`) so a
 * bad key or scope fails as AWS fails.
 */
import { randomUUID } from 'node:crypto';
import { request as httpRequest, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import dynalite from 'dynalite';
import { type RequestVerifier, toJsonServiceError } from '../sigv4/verify';
import type { RawRequest, RawResponse } from '../types';

export interface DynamoBackend {
  handle(req: RawRequest, now: Date): Promise<RawResponse>;
  close(): Promise<void>;
}

/** dynalite could not start (bad data directory, locked LevelDB…). */
export class DynaliteStartError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'DynaliteStartError';
  }
}

/**
 * Starts dynalite (in memory when `dataDir` is undefined) on an ephemeral loopback port; every
 * request is checked with `verify` first.
 */
export async function startDynamo(
  dataDir: string | undefined,
  verify: RequestVerifier,
): Promise<DynamoBackend> {
  const server: Server = dynalite({
    ...(dataDir !== undefined && { path: dataDir }),
    createTableMs: 0,
    deleteTableMs: 0,
    updateTableMs: 0,
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err) => reject(new DynaliteStartError('dynalite failed to start', { cause: err })));
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;

  const forward = (req: RawRequest): Promise<RawResponse> =>
    new Promise((resolve, reject) => {
      const headers: Record<string, string> = { ...req.headers, host: `127.0.0.1:${port}` };
      headers['content-length'] = String(req.body.length);
      delete headers['transfer-encoding'];
      const out = httpRequest(
        {
          host: '127.0.0.1',
          port,
          method: req.method,
          path: req.path + (req.query ? `?${req.query}` : ''),
          headers,
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            const h: Record<string, string> = {};
            for (const [k, v] of Object.entries(res.headers)) {
              if (v !== undefined && k !== 'connection' && k !== 'transfer-encoding')
                h[k] = Array.isArray(v) ? v.join(',') : v;
            }
            resolve({ status: res.statusCode ?? 500, headers: h, body: Buffer.concat(chunks) });
          });
          res.on('error', reject);
        },
      );
      out.on('error', reject);
      out.end(req.body);
    });

  return {
    async handle(req, now) {
      const auth = verify(req, now);
      if (!auth.ok) {
        const e = toJsonServiceError(auth);
        const requestId = randomUUID();
        return {
          status: e.status,
          headers: {
            'content-type': 'application/x-amz-json-1.0',
            'x-amzn-requestid': requestId,
            date: now.toUTCString(),
          },
          body: JSON.stringify({ __type: e.type, message: e.message }),
        };
      }
      const res = await forward(req);
      res.headers.date = now.toUTCString();
      return res;
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((err?: Error) => (err ? reject(err) : resolve()));
      }),
  };
}
