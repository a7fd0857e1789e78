/**
 * The demo world of CONTRACT §3 as domain values, for the domain specs. Builders return fresh
 * objects, so a spec may mutate what it gets.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Entitlement, PersonCaller, ServiceCaller } from '../../../lib/domain/types';

export const ISSUER = 'http://127.0.0.1:4566/oidc';

/** A fresh copy of a JSON event fixture from test/fixtures/events. */
export function eventFixture(
  name: string,
): Record<string, unknown> & { requestContext: Record<string, unknown> } {
  const file = fileURLToPath(new URL(`../../fixtures/events/${name}`, import.meta.url));
  return JSON.parse(readFileSync(file, 'utf8'));
}

export function ciService(): ServiceCaller {
  return {
    kind: 'service',
    roleArn: 'arn:aws:iam::111122223333:role/CICDDeployRole',
    account: '111122223333',
    principalArn: 'arn:aws:sts::111122223333:assumed-role/CICDDeployRole/ci',
    userId: 'AROAEXAMPLECICDROLE1:ci',
    accessKeyId: 'ASIAEXAMPLECICD00001',
  };
}

export function person(name: string, groups: string[]): PersonCaller {
  return { kind: 'person', issuer: ISSUER, subject: name, email: `${name}@example.com`, groups };
}

export const alice = () => person('alice', ['sre']);
export const bob = () => person('bob', ['security-approvers']);
export const dave = () => person('dave', ['oncall']);
export const mallory = () => person('mallory', []);

const CI_ROLE = 'arn:aws:iam::111122223333:role/CICDDeployRole';

/** Raw definitions (what config holds), before parseEntitlement. */
export function rawEntitlements(): Record<string, Record<string, unknown>> {
  return {
    'prod-readonly': {
      id: 'prod-readonly',
      roleArn: 'arn:aws:iam::444455556666:role/ProdReadOnly',
      externalId: 'prod-readonly-ext-7f3a',
      maxDurationSeconds: 3600,
      defaultDurationSeconds: 3600,
      principals: { roles: [CI_ROLE], groups: ['sre'] },
    },
    'prod-deploy': {
      id: 'prod-deploy',
      roleArn: 'arn:aws:iam::444455556666:role/DeployRole',
      externalId: 'prod-deploy-external-id-abc123',
      maxDurationSeconds: 3600,
      principals: { roles: [CI_ROLE] },
      ceiling: {
        Version: '2012-10-17',
        Statement: [
          {
            Sid: 'EcrPull',
            Effect: 'Allow',
            Action: ['ecr:GetAuthorizationToken', 'ecr:BatchGetImage', 'ecr:GetDownloadUrlForLayer'],
            Resource: '*',
          },
          {
            Sid: 'Artifacts',
            Effect: 'Allow',
            Action: ['s3:GetObject', 's3:PutObject'],
            Resource: 'arn:aws:s3:::prod-artifacts/*',
          },
        ],
      },
    },
    'prod-s3-read': {
      id: 'prod-s3-read',
      roleArn: 'arn:aws:iam::444455556666:role/S3ReadAll',
      externalId: 'prod-s3-ext-19c2',
      maxDurationSeconds: 3600,
      defaultDurationSeconds: 900,
      principals: { roles: [CI_ROLE], groups: ['sre'] },
      ceiling: s3ReadCeiling(),
    },
    'prod-admin': {
      id: 'prod-admin',
      roleArn: 'arn:aws:iam::444455556666:role/BreakGlassAdmin',
      externalId: 'prod-breakglass-ext-5d8e',
      maxDurationSeconds: 3600,
      principals: { roles: [], groups: [] },
      requesterGroups: ['sre', 'oncall'],
      approval: { approvals: 2, approverGroups: ['security-approvers'] },
      breakGlass: { groups: ['oncall'], maxDurationSeconds: 3600 },
    },
  };
}

// The contract's prod-s3-read ceiling, plus one Deny so specs can see ceiling Denies carried over.
export function s3ReadCeiling(): Record<string, unknown> {
  return {
    Version: '2012-10-17',
    Statement: [
      {
        Sid: 'ReadBucket',
        Effect: 'Allow',
        Action: ['s3:GetObject', 's3:ListBucket'],
        Resource: ['arn:aws:s3:::my-prod-data-bucket', 'arn:aws:s3:::my-prod-data-bucket/*'],
      },
      {
        Sid: 'NoSecrets',
        Effect: 'Deny',
        Action: 's3:GetObject',
        Resource: 'arn:aws:s3:::my-prod-data-bucket/secrets/*',
      },
    ],
  };
}

/** A parsed-shaped entitlement without going through parseEntitlement (no lib/iam needed). */
export function entitlement(id: keyof ReturnType<typeof rawEntitlements>): Entitlement {
  const raw = rawEntitlements()[id] as unknown as Omit<Entitlement, 'principals'> & {
    principals: Partial<Entitlement['principals']>;
  };
  return {
    ...raw,
    defaultDurationSeconds: raw.defaultDurationSeconds ?? raw.maxDurationSeconds,
    principals: { roles: raw.principals.roles ?? [], groups: raw.principals.groups ?? [] },
  };
}
