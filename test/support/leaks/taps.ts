/**
 * The leak scanner's taps: everything by which a secret can leave a test process, fed to one
 * scanner (./scanner.ts) through the rules of ./judge.ts. Installed once per test file by
 * ./setup.ts, before any test code runs.
 *
 * 1. stdout/stderr writes (Powertools Logger, the stack's own output), through the streams or
 *    straight to file descriptors 1 and 2 (`fs.write`/`fs.writeSync`, as pino-style loggers do);
 * 2. `console.*` (vitest routes the console of a worker around process.stdout, so it needs its own
 *    tap);
 * 3. every HTTP server in this process (`http.Server`): the local gateway, the local AWS endpoint
 *    (STS, DynamoDB, OIDC, Slack), dynalite behind it, the fixtures' servers. Each exchange is seen
 *    whole (request body, answer) whoever the client is: a test's fetch or node:http, vend's SDK
 *    clients, the AWS CLI, boto3 or the `vend` bin in a child process;
 * 4. node:http client responses and fetch responses from servers NOT in this process (a child's
 *    server, `npm start` in a child): the server tap cannot see those;
 * 5. child processes (`child_process`, async and sync): their stdout (a credentials answer without
 *    its own fields) and stderr. A child whose stdout or stderr would be inherited gets a pipe
 *    instead, forwarded to this process's stream, so nothing it prints bypasses the scanner.
 *
 * Node's builtins are patched on the module objects and re-exported with `syncBuiltinESMExports()`,
 * so `import { spawn } from 'node:child_process'` in a test sees the patched function.
 */
import type { EventEmitter } from 'node:events';
import * as http from 'node:http';
import { createRequire, syncBuiltinESMExports } from 'node:module';
import { basename } from 'node:path';
import { format, inspect } from 'node:util';
import { bodyText, type Exchange, judgeAnswer, judgeExchange } from './judge';
import type { LeakScanner } from './scanner';

const require = createRequire(import.meta.url);
const childProcess = require('node:child_process') as typeof import('node:child_process');
const fs = require('node:fs') as typeof import('node:fs');

/** Bytes kept per body or child stream; beyond it a stream is scanned in pieces (esbuild's protocol). */
const BODY_CAP = 1 << 20;

/**
 * The taps' state, once per process (on globalThis: should vitest ever evaluate this module again in
 * the same process, the taps already installed keep reading the same state).
 */
interface TapState {
  installed: boolean;
  /** Ports of HTTP servers listening in this process (their exchanges are seen by the server tap). */
  localPorts: Set<number>;
  outputListeners: Set<(text: string) => void>;
  liveChildren: Set<() => void>;
  childSeq: number;
  config: { auditTable?: string };
}
const STATE = Symbol.for('vend.test.leakTaps');
const holder = globalThis as unknown as Record<symbol, TapState | undefined>;
holder[STATE] ??= {
  installed: false,
  localPorts: new Set(),
  outputListeners: new Set(),
  liveChildren: new Set(),
  childSeq: 0,
  config: {},
};
const state: TapState = holder[STATE];
const { localPorts, outputListeners, liveChildren } = state;

/** Subscribes to everything this process prints (stdout, stderr, console); returns the unsubscribe. */
export function onOutput(listener: (text: string) => void): () => void {
  outputListeners.add(listener);
  return () => outputListeners.delete(listener);
}
const emitOutput = (text: string) => {
  for (const l of outputListeners) l(text);
};

/** The audit table of the stack running in this file (set by setup.ts once the environment is there). */
export const tapConfig = state.config;

/** Installs every tap once per process; feeds `scanner`. */
export function installTaps(scanner: LeakScanner): void {
  if (state.installed) return;
  state.installed = true;
  tapStreams(scanner);
  tapConsole(scanner);
  tapHttpServers(scanner);
  tapHttpClients(scanner);
  tapFetch(scanner);
  tapChildren(scanner);
  syncBuiltinESMExports();
}

/** Scans what children still running have printed so far (a long-lived `vend serve`, esbuild). */
export function flushChildren(): void {
  for (const flush of [...liveChildren]) flush();
}

// 1. stdout / stderr
const rawWrite = {
  out: process.stdout.write.bind(process.stdout),
  err: process.stderr.write.bind(process.stderr),
};
function tapStreams(scanner: LeakScanner): void {
  const fsApi = fs as unknown as Record<string, (...args: unknown[]) => unknown>;
  for (const name of ['write', 'writeSync'] as const) {
    const original = fsApi[name]!;
    fsApi[name] = (...args: unknown[]) => {
      const [fd, data] = args;
      if ((fd === 1 || fd === 2) && data !== undefined && data !== null) {
        const text = typeof data === 'string' ? data : Buffer.from(data as Uint8Array).toString('utf8');
        scanner.log(text);
        emitOutput(text);
      }
      return original(...args);
    };
  }
  for (const stream of [process.stdout, process.stderr]) {
    const original = stream.write;
    stream.write = ((chunk: unknown, ...rest: unknown[]): boolean => {
      const text = typeof chunk === 'string' ? chunk : Buffer.from(chunk as Uint8Array).toString('utf8');
      scanner.log(text);
      emitOutput(text);
      return (original as (...a: unknown[]) => boolean).call(stream, chunk, ...rest);
    }) as typeof stream.write;
  }
}

// 2. console
function tapConsole(scanner: LeakScanner): void {
  const c = console as unknown as Record<string, (...args: unknown[]) => unknown>;
  const wrap = (method: string, render: (args: unknown[]) => string | undefined) => {
    const original = c[method];
    if (typeof original !== 'function') return;
    c[method] = (...args: unknown[]) => {
      const text = render(args);
      if (text !== undefined) {
        scanner.console(method, text);
        emitOutput(`${text}\n`);
      }
      return original.apply(console, args);
    };
  };
  for (const m of ['log', 'info', 'warn', 'error', 'debug', 'trace', 'table'])
    wrap(m, (args) => format(...args));
  wrap('dir', ([obj, opts]) => inspect(obj, opts as object));
  wrap('assert', ([ok, ...args]) => (ok ? undefined : format('Assertion failed', ...args)));
}

// 3. servers in this process
function tapHttpServers(scanner: LeakScanner): void {
  const baseEmit = http.Server.prototype.emit as (
    this: unknown,
    event: string | symbol,
    ...a: unknown[]
  ) => boolean;
  const portOf = new WeakMap<http.Server, number>();
  http.Server.prototype.emit = function (this: http.Server, event: string | symbol, ...args: unknown[]) {
    if (event === 'request')
      tapExchange(scanner, args[0] as http.IncomingMessage, args[1] as http.ServerResponse);
    else if (event === 'listening') {
      const a = this.address();
      if (a && typeof a === 'object') {
        localPorts.add(a.port);
        portOf.set(this, a.port);
      }
    } else if (event === 'close') {
      const port = portOf.get(this);
      if (port !== undefined) localPorts.delete(port);
    }
    return baseEmit.call(this, event, ...args);
  } as typeof http.Server.prototype.emit;
}

/** Collects what a readable emits as `data` without changing how it flows. */
function collect(stream: EventEmitter, cap = BODY_CAP): Buffer[] {
  const chunks: Buffer[] = [];
  let size = 0;
  const baseEmit = stream.emit;
  stream.emit = function (this: EventEmitter, event: string | symbol, ...args: unknown[]) {
    if (event === 'data' && size < cap) {
      const c = args[0];
      const b = typeof c === 'string' ? Buffer.from(c) : Buffer.from(c as Uint8Array);
      chunks.push(b);
      size += b.length;
    }
    return baseEmit.call(this, event, ...args);
  } as typeof stream.emit;
  return chunks;
}

function feedVerdict(scanner: LeakScanner, ex: Exchange): void {
  const v = judgeExchange(ex, tapConfig.auditTable);
  for (const c of v.issued) scanner.issued(c);
  for (const t of v.tokens) scanner.secret(t, 'JWT');
  if (v.request) {
    if (v.request.audit) scanner.audit(v.label, v.request.text);
    else scanner.request(v.label, v.request.text);
  }
  if (v.response !== undefined) scanner.response(v.label, v.response);
}

function tapExchange(scanner: LeakScanner, req: http.IncomingMessage, res: http.ServerResponse): void {
  const requestChunks = collect(req);
  const responseChunks: Buffer[] = [];
  let size = 0;
  const keep = (chunk: unknown, encoding: unknown) => {
    if (chunk === undefined || chunk === null || typeof chunk === 'function' || size >= BODY_CAP) return;
    const b =
      typeof chunk === 'string'
        ? Buffer.from(chunk, typeof encoding === 'string' ? (encoding as BufferEncoding) : 'utf8')
        : Buffer.from(chunk as Uint8Array);
    responseChunks.push(b);
    size += b.length;
  };
  const write = res.write;
  const end = res.end;
  res.write = function (this: http.ServerResponse, chunk: unknown, ...rest: unknown[]) {
    keep(chunk, rest[0]);
    return (write as (...a: unknown[]) => boolean).call(this, chunk, ...rest);
  } as typeof res.write;
  res.end = function (this: http.ServerResponse, chunk?: unknown, ...rest: unknown[]) {
    keep(chunk, rest[0]);
    return (end as (...a: unknown[]) => http.ServerResponse).call(this, chunk, ...rest);
  } as typeof res.end;
  let judged = false;
  const judge = () => {
    if (judged) return;
    judged = true;
    const encoding = res.getHeader('content-encoding');
    feedVerdict(scanner, {
      method: req.method ?? 'GET',
      url: req.url ?? '/',
      requestHeaders: req.headers,
      requestBody: bodyText(requestChunks, req.headers['content-encoding'] as string | undefined),
      status: res.statusCode,
      responseBody: bodyText(responseChunks, typeof encoding === 'string' ? encoding : undefined),
    });
  };
  res.once('finish', judge);
  res.once('close', judge);
}

// 4. clients talking to other processes
function tapHttpClients(scanner: LeakScanner): void {
  const baseEmit = http.ClientRequest.prototype.emit;
  http.ClientRequest.prototype.emit = function (
    this: http.ClientRequest,
    event: string | symbol,
    ...args: unknown[]
  ) {
    if (event === 'response') {
      const res = args[0] as http.IncomingMessage;
      if (!localPorts.has(res.socket?.remotePort ?? -1)) {
        const chunks = collect(res);
        const method = this.method;
        const url = this.path;
        const headers = Object.fromEntries(
          Object.entries(this.getHeaders()).map(([k, v]) => [k, Array.isArray(v) ? v : String(v)]),
        );
        res.once('end', () =>
          feedVerdict(scanner, {
            method,
            url,
            requestHeaders: headers,
            status: res.statusCode ?? 0,
            responseBody: bodyText(chunks, res.headers['content-encoding']),
          }),
        );
      }
    }
    return baseEmit.call(this, event, ...args);
  } as typeof http.ClientRequest.prototype.emit;
}

function tapFetch(scanner: LeakScanner): void {
  const realFetch = globalThis.fetch;
  globalThis.fetch = async (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
    const res = await realFetch(input, init);
    const url = new URL(input instanceof Request ? input.url : String(input));
    // A server in this process saw the exchange whole; only answers from elsewhere are read here.
    if (localPorts.has(Number(url.port || (url.protocol === 'https:' ? 443 : 80)))) return res;
    const headers = Object.fromEntries(
      new Headers(init?.headers ?? (input instanceof Request ? input.headers : undefined) ?? undefined),
    );
    const method = (init?.method ?? (input instanceof Request ? input.method : 'GET')).toUpperCase();
    // A body the test aborted or never read is one that nothing arrived from, so errors are dropped.
    if (res.body)
      scanner.track(
        res
          .clone()
          .text()
          .then((body) =>
            feedVerdict(scanner, {
              method,
              url: url.pathname + url.search,
              requestHeaders: headers,
              status: res.status,
              responseBody: body,
            }),
          ),
      );
    return res;
  };
}

// 5. child processes
type Stdio = string | number | null | undefined | object;

/** stdio with an inherited stdout/stderr replaced by a pipe; which of the two were inherited. */
function pipeInherited(stdio: unknown): { stdio: unknown; inherited: [boolean, boolean] } {
  const list: Stdio[] =
    typeof stdio === 'string' ? [stdio, stdio, stdio] : Array.isArray(stdio) ? [...stdio] : [];
  if (list.length === 0) return { stdio, inherited: [false, false] };
  const inherited: [boolean, boolean] = [false, false];
  for (const fd of [1, 2] as const) {
    const s = list[fd];
    if (s === 'inherit' || s === fd || s === (fd === 1 ? process.stdout : process.stderr)) {
      list[fd] = 'pipe';
      inherited[fd - 1] = true;
    }
  }
  return { stdio: inherited.some(Boolean) ? list : stdio, inherited };
}

/** `aws#3`, `node vend.js#4`, `python3#5`: the program (and an interpreter's script), never its arguments. */
function childLabel(file: unknown, args?: unknown): string {
  state.childSeq += 1;
  const program = basename(String(file ?? 'child'));
  const list = Array.isArray(args) ? (args as unknown[]) : [];
  // ChildProcess.spawn's args start with argv0; the sync functions' do not.
  const first = list.find((a, i) => !(i === 0 && basename(String(a)) === program));
  const script =
    /^(node|python3?|tsx)$/.test(program) && typeof first === 'string' && !first.startsWith('-')
      ? ` ${basename(first)}`
      : '';
  return `${program}${script}#${state.childSeq}`;
}

/** Judges a child's output: stdout may be a credentials or token answer, stderr is scanned whole. */
function judgeChild(scanner: LeakScanner, label: string, stdout: string, stderr: string): void {
  if (stdout !== '') {
    const j = judgeAnswer(stdout, { tokenAnswer: true });
    for (const c of j.issued) scanner.issued(c);
    for (const t of j.tokens) scanner.secret(t, 'JWT');
    scanner.child(`${label} stdout`, j.rest);
  }
  if (stderr !== '') scanner.child(`${label} stderr`, stderr);
}

function tapChildren(scanner: LeakScanner): void {
  const proto = childProcess.ChildProcess.prototype as unknown as {
    spawn(this: import('node:child_process').ChildProcess, options: Record<string, unknown>): unknown;
  };
  const baseSpawn = proto.spawn;
  proto.spawn = function (options) {
    const { stdio, inherited } = pipeInherited(options?.stdio);
    const result = baseSpawn.call(this, { ...options, stdio });
    const label = childLabel(options?.file, options?.args);
    const streams = [this.stdout, this.stderr];
    const texts = ['', ''];
    streams.forEach((s, i) => {
      if (!s) return;
      const base = s.emit;
      s.emit = function (this: EventEmitter, event: string | symbol, ...args: unknown[]) {
        if (event === 'data') {
          const text = Buffer.isBuffer(args[0]) ? args[0].toString('utf8') : String(args[0]);
          texts[i] += text;
          // A stream that never ends (esbuild's service protocol) is scanned in pieces.
          if (texts[i]!.length > BODY_CAP) {
            judgeChild(scanner, label, i === 0 ? texts[0]! : '', i === 1 ? texts[1]! : '');
            texts[i] = texts[i]!.slice(-4096);
          }
        }
        return base.call(this, event, ...args);
      } as typeof s.emit;
      if (inherited[i]) s.on('data', (c: Buffer) => (i === 0 ? rawWrite.out(c) : rawWrite.err(c)));
    });
    const flush = () => {
      liveChildren.delete(flush);
      judgeChild(scanner, label, texts[0]!, texts[1]!);
      texts[0] = '';
      texts[1] = '';
    };
    liveChildren.add(flush);
    this.once('close', flush);
    return result;
  };

  const judgeSync = (label: string, out: unknown, err: unknown) =>
    judgeChild(
      scanner,
      label,
      out === undefined || out === null ? '' : String(out),
      err === undefined || err === null ? '' : String(err),
    );
  const cp = childProcess as unknown as Record<string, (...args: unknown[]) => unknown>;

  const spawnSync = cp.spawnSync!;
  cp.spawnSync = (file: unknown, args?: unknown, options?: unknown) => {
    const opts = (Array.isArray(args) ? options : args) as Record<string, unknown> | undefined;
    const { stdio, inherited } = pipeInherited(opts?.stdio);
    const patched = { ...(opts ?? {}), ...(stdio !== undefined && { stdio }) };
    const r = (Array.isArray(args) ? spawnSync(file, args, patched) : spawnSync(file, patched)) as {
      stdout?: unknown;
      stderr?: unknown;
    };
    if (inherited[0] && r.stdout) rawWrite.out(r.stdout as Buffer);
    if (inherited[1] && r.stderr) rawWrite.err(r.stderr as Buffer);
    judgeSync(childLabel(file, args), r.stdout, r.stderr);
    if (inherited[0]) r.stdout = null;
    if (inherited[1]) r.stderr = null;
    return r;
  };

  // execSync / execFileSync return stdout and write the child's stderr to process.stderr themselves
  // (tapped above); their stdout is judged here, also when they throw. One that would inherit
  // stdout or stderr runs through the patched spawnSync above instead, with the same result.
  for (const name of ['execSync', 'execFileSync'] as const) {
    const original = cp[name]!;
    cp[name] = (...args: unknown[]) => {
      const at = args.findIndex((a, i) => i > 0 && a !== null && typeof a === 'object' && !Array.isArray(a));
      const options = at === -1 ? undefined : (args[at] as Record<string, unknown>);
      if (pipeInherited(options?.stdio).inherited.some(Boolean)) {
        const [file, argv] =
          name === 'execSync'
            ? [typeof options?.shell === 'string' ? options.shell : '/bin/sh', ['-c', String(args[0])]]
            : [args[0], Array.isArray(args[1]) ? (args[1] as unknown[]) : []];
        const r = cp.spawnSync!(file, argv, options) as {
          error?: Error;
          status: number | null;
          signal: string | null;
          stdout: unknown;
          stderr: unknown;
        };
        if (r.error) throw r.error;
        if (r.status !== 0 || r.signal) {
          throw Object.assign(new Error(`Command failed: ${[file, ...argv].join(' ')}`), r);
        }
        return r.stdout;
      }
      const label = childLabel(args[0], name === 'execFileSync' ? args[1] : undefined);
      try {
        const out = original(...args);
        judgeSync(label, out, undefined);
        return out;
      } catch (e) {
        const err = e as { stdout?: unknown; stderr?: unknown };
        judgeSync(label, err.stdout, err.stderr);
        throw e;
      }
    };
  }
}
