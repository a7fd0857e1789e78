/**
 * Runs a serverless.yml function in-process, as Lambda would run it: the handler module named by
 * `handler:` is imported once (cold start) and called with the event and a Lambda context; a
 * handler slower than its `timeout` is abandoned (the gateway answers 500, as API Gateway does when
 * the function times out).
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Context } from 'aws-lambda';
import type { FunctionDef } from './serverless';

type Handler = (event: unknown, context: Context) => unknown;

/** The handler module or export cannot be loaded. */
export class HandlerLoadError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'HandlerLoadError';
  }
}

/** The handler ran longer than the function's timeout. */
export class FunctionTimeoutError extends Error {
  constructor(
    readonly functionName: string,
    readonly timeoutSeconds: number,
  ) {
    super(`${functionName} timed out after ${timeoutSeconds} seconds`);
    this.name = 'FunctionTimeoutError';
  }
}

const EXTENSIONS = ['.ts', '.mts', '.js', '.mjs'];

/** `functions/health.handler` → the module file under rootDir and the export name. */
export function splitHandler(rootDir: string, handler: string): { file: string; exportName: string } {
  const dot = handler.lastIndexOf('.');
  const modulePath = handler.slice(0, dot);
  const exportName = handler.slice(dot + 1);
  const base = join(rootDir, modulePath);
  const file = EXTENSIONS.map((ext) => base + ext).find((f) => existsSync(f));
  if (!file)
    throw new HandlerLoadError(
      `handler ${handler}: no ${modulePath}{${EXTENSIONS.join(',')}} under ${rootDir}`,
    );
  return { file, exportName };
}

/** Imports handlers once per function and invokes them. */
export class FunctionRunner {
  private readonly loaded = new Map<string, Promise<Handler>>();

  constructor(private readonly rootDir: string) {}

  private load(fn: FunctionDef): Promise<Handler> {
    let handler = this.loaded.get(fn.key);
    if (!handler) {
      handler = (async () => {
        const { file, exportName } = splitHandler(this.rootDir, fn.handler);
        const mod = (await import(pathToFileURL(file).href)) as Record<string, unknown>;
        const h = mod[exportName];
        if (typeof h !== 'function')
          throw new HandlerLoadError(`handler ${fn.handler}: ${file} has no exported function ${exportName}`);
        return h as Handler;
      })();
      this.loaded.set(fn.key, handler);
      // A failed import is retried on the next request (the developer may be fixing the file).
      handler.catch(() => this.loaded.delete(fn.key));
    }
    return handler;
  }

  /**
   * Calls the function's handler, racing its timeout.
   *
   * @example await runner.invoke(fn, event, context)
   */
  async invoke(fn: FunctionDef, event: unknown, context: Context): Promise<unknown> {
    const handler = await this.load(fn);
    // Each invocation sees its function's environment; process.env is shared (docs/local-stack.md).
    Object.assign(process.env, fn.environment, {
      AWS_LAMBDA_FUNCTION_NAME: fn.name,
      AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(fn.memorySize),
    });
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new FunctionTimeoutError(fn.name, fn.timeoutSeconds)),
        fn.timeoutSeconds * 1000,
      );
      timer.unref();
    });
    try {
      return await Promise.race([Promise.resolve().then(() => handler(event, context)), timeout]);
    } finally {
      clearTimeout(timer);
    }
  }
}
