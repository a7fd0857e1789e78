// dynalite 4 ships no types; only the factory is used (infra/local/aws/dynamodb.ts).
declare module 'dynalite' {
  import type { Server } from 'node:http';

  interface DynaliteOptions {
    path?: string;
    createTableMs?: number;
    deleteTableMs?: number;
    updateTableMs?: number;
    maxItemSizeKb?: number;
    verbose?: boolean;
    debug?: boolean;
  }
  export default function dynalite(options?: DynaliteOptions): Server;
}
