/**
 * The four DynamoDB tables vend uses, described once. serverless.yml (`resources`) and the local
 * stack mirror these definitions; integration tests create tables from them directly, so a
 * definition that does not work fails a test here first.
 *
 * | table | base key | gsi1 | gsi2 |
 * |---|---|---|---|
 * | entitlements | `ENT#<id>` / `ENTITLEMENT` | – | – |
 * | audit | `AUDIT#<yyyy-mm-dd>` / `<time>#<id>` | `AUDIT_CALLER#<callerId>` / `<time>#<id>` | `AUDIT_ENT#<entitlement>` / `<time>#<id>` |
 * | audit (digests) | `AUDIT_DIGEST` / `<interval start>` | – (no gsi attributes) | – |
 * | requests | `REQ#<id>` / `REQUEST` | `REQUESTER#<callerId>` / `<createdAt>#<id>` | `REQ_STATUS#<status>` / `<createdAt>#<id>` |
 * | requests (sessions) | `SESSION#<auditId>` / `SESSION` | `SESSION_CALLER#<callerId>` / `<expiresAt>#<auditId>` | `SESSION_ENT#<entitlement>` / `<expiresAt>#<auditId>` |
 * | requests (revocation ledger) | `REVOCATIONS#<roleArn>` / `REVOCATIONS` | – | – |
 * | limits | `RATE_CALLER#…`, `RATE_ENT#…`, `RATE_REQUESTER#…` / `<window start>` | – | – |
 *
 * All are on-demand (PAY_PER_REQUEST) and project ALL attributes into their indexes: the items are
 * small and every query returns whole records. The requests and limits tables have a TTL attribute
 * `ttl`, which only cleans up: expiry is always checked in code (dynalite has no TTL, and real TTL
 * deletes late). The limits table holds only rate-limit counters, apart from the request state: it
 * takes a write on every vend, and the runtime role may only UpdateItem it.
 */
import type { CreateTableCommandInput } from '@aws-sdk/client-dynamodb';
import { INDEX } from './keys';

/** Which table; matches the config keys in lib/config.ts (`config().tables.<name>`). */
export type TableName = 'entitlements' | 'audit' | 'requests' | 'limits';

/** A table definition without its name (names come from the environment). */
export type TableDefinition = Omit<CreateTableCommandInput, 'TableName'> & {
  /** The attribute DynamoDB TTL should read, if any (not part of CreateTable; set separately). */
  ttlAttribute?: string;
};

const S = 'S' as const;

const baseKey = {
  AttributeDefinitions: [
    { AttributeName: 'pk', AttributeType: S },
    { AttributeName: 'sk', AttributeType: S },
  ],
  KeySchema: [
    { AttributeName: 'pk', KeyType: 'HASH' as const },
    { AttributeName: 'sk', KeyType: 'RANGE' as const },
  ],
};

const twoIndexes = {
  AttributeDefinitions: [
    ...baseKey.AttributeDefinitions,
    { AttributeName: 'gsi1pk', AttributeType: S },
    { AttributeName: 'gsi1sk', AttributeType: S },
    { AttributeName: 'gsi2pk', AttributeType: S },
    { AttributeName: 'gsi2sk', AttributeType: S },
  ],
  KeySchema: baseKey.KeySchema,
  GlobalSecondaryIndexes: [
    {
      IndexName: INDEX.gsi1,
      KeySchema: [
        { AttributeName: 'gsi1pk', KeyType: 'HASH' as const },
        { AttributeName: 'gsi1sk', KeyType: 'RANGE' as const },
      ],
      Projection: { ProjectionType: 'ALL' as const },
    },
    {
      IndexName: INDEX.gsi2,
      KeySchema: [
        { AttributeName: 'gsi2pk', KeyType: 'HASH' as const },
        { AttributeName: 'gsi2sk', KeyType: 'RANGE' as const },
      ],
      Projection: { ProjectionType: 'ALL' as const },
    },
  ],
};

/**
 * Table definitions, ready for `new CreateTableCommand({ TableName, ...tableDefinitions.audit })`
 * (drop `ttlAttribute` first, or use {@link createTableInput}).
 */
export const tableDefinitions: Readonly<Record<TableName, TableDefinition>> = {
  entitlements: { ...baseKey, BillingMode: 'PAY_PER_REQUEST' },
  audit: { ...twoIndexes, BillingMode: 'PAY_PER_REQUEST' },
  requests: { ...twoIndexes, BillingMode: 'PAY_PER_REQUEST', ttlAttribute: 'ttl' },
  limits: { ...baseKey, BillingMode: 'PAY_PER_REQUEST', ttlAttribute: 'ttl' },
};

/**
 * The CreateTable input for one table under a given name.
 *
 * @example
 * await client.send(new CreateTableCommand(createTableInput('audit', 'vend-audit-test-1')));
 */
export function createTableInput(table: TableName, tableName: string): CreateTableCommandInput {
  const { ttlAttribute: _ttl, ...definition } = tableDefinitions[table];
  return structuredClone({ ...definition, TableName: tableName });
}
