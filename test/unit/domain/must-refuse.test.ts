/**
 * The must-refuse list in one place, run through the domain rules in the order the vend use
 * case applies them: body → entitlement → duration → session policy. Each refusal must carry the
 * CONTRACT §4 status and code.
 */
import { describe, expect, it } from 'vitest';
import { resolveDuration } from '../../../lib/domain/duration';
import { resolveEntitlement } from '../../../lib/domain/entitlement';
import { VendError } from '../../../lib/domain/errors';
import { buildSessionPolicy } from '../../../lib/domain/session-policy';
import type { Caller, Entitlement } from '../../../lib/domain/types';
import { parseVendRequest } from '../../../lib/domain/vend-request';
import { alice, ciService, entitlement, mallory } from './world';

const store = new Map<string, Entitlement>(
  (['prod-readonly', 'prod-deploy', 'prod-s3-read', 'prod-admin'] as const).map((id) => [
    id,
    entitlement(id),
  ]),
);

function vend(caller: Caller, body: unknown) {
  const req = parseVendRequest(body);
  const ent = resolveEntitlement(caller, req.entitlement, store.get(req.entitlement));
  const durationSeconds = resolveDuration({ requested: req.durationSeconds, entitlement: ent });
  const policy = buildSessionPolicy({ requested: req.policy, ceiling: ent.ceiling });
  return { ent, durationSeconds, policy };
}

function refusal(caller: Caller, body: unknown): { status: number; code: string } {
  try {
    vend(caller, body);
  } catch (e) {
    if (e instanceof VendError) return { status: e.status, code: e.code };
    throw e;
  }
  throw new Error('expected a refusal');
}

const BUCKET = 'arn:aws:s3:::my-prod-data-bucket';
const policy = (Action: unknown, Resource: unknown = `${BUCKET}/*`) => ({
  Version: '2012-10-17',
  Statement: [{ Effect: 'Allow', Action, Resource }],
});

describe('the vend path', () => {
  it('issues for an allowed request (baseline for the refusals below)', () => {
    const out = vend(ciService(), {
      entitlement: 'prod-s3-read',
      durationSeconds: 900,
      policy: policy('s3:GetObject'),
    });

    expect(out.ent.id).toBe('prod-s3-read');
    expect(out.durationSeconds).toBe(900);
    expect(out.policy.hash).toMatch(/^[0-9a-f]{64}$/);
  });

  it.each([
    ['an unknown entitlement', ciService(), { entitlement: 'prod-unknown' }, 403, 'not_entitled'],
    ["another caller's entitlement", mallory(), { entitlement: 'prod-readonly' }, 403, 'not_entitled'],
    [
      'a gated entitlement without approval',
      alice(),
      { entitlement: 'prod-admin' },
      403,
      'approval_required',
    ],
    [
      'duration 899',
      ciService(),
      { entitlement: 'prod-readonly', durationSeconds: 899 },
      400,
      'duration_out_of_range',
    ],
    [
      'duration 3601',
      ciService(),
      { entitlement: 'prod-readonly', durationSeconds: 3601 },
      400,
      'duration_out_of_range',
    ],
    [
      'duration 43201',
      ciService(),
      { entitlement: 'prod-readonly', durationSeconds: 43201 },
      400,
      'duration_out_of_range',
    ],
    [
      'duration -1',
      ciService(),
      { entitlement: 'prod-readonly', durationSeconds: -1 },
      400,
      'duration_out_of_range',
    ],
    [
      'duration "3600"',
      ciService(),
      { entitlement: 'prod-readonly', durationSeconds: '3600' },
      400,
      'duration_out_of_range',
    ],
    [
      'duration 1e9',
      ciService(),
      { entitlement: 'prod-readonly', durationSeconds: 1e9 },
      400,
      'duration_out_of_range',
    ],
    [
      'a policy wider than the ceiling',
      ciService(),
      { entitlement: 'prod-s3-read', policy: policy(['s3:GetObject', 's3:PutObject']) },
      403,
      'policy_exceeds_ceiling',
    ],
    [
      '"Action": "*"',
      ciService(),
      { entitlement: 'prod-s3-read', policy: policy('*') },
      403,
      'policy_exceeds_ceiling',
    ],
    [
      'an invalid JSON policy',
      ciService(),
      { entitlement: 'prod-s3-read', policy: '{"Statement":' },
      400,
      'invalid_request',
    ],
    [
      'a policy over the size limit',
      ciService(),
      {
        entitlement: 'prod-s3-read',
        policy: policy(
          's3:GetObject',
          Array.from({ length: 80 }, (_, i) => `${BUCKET}/p-${i}/*`),
        ),
      },
      400,
      'policy_too_large',
    ],
    [
      'a body with roleArn',
      ciService(),
      { entitlement: 'prod-readonly', roleArn: 'arn:aws:iam::444455556666:role/BreakGlassAdmin' },
      400,
      'invalid_request',
    ],
    [
      'a body with externalId',
      ciService(),
      { entitlement: 'prod-readonly', externalId: 'prod-readonly-ext-7f3a' },
      400,
      'invalid_request',
    ],
    [
      'a body with sessionName',
      ciService(),
      { entitlement: 'prod-readonly', sessionName: 'x' },
      400,
      'invalid_request',
    ],
    [
      'a body with sourceIdentity',
      ciService(),
      { entitlement: 'prod-readonly', sourceIdentity: 'x' },
      400,
      'invalid_request',
    ],
    ['a body with tags', ciService(), { entitlement: 'prod-readonly', tags: [] }, 400, 'invalid_request'],
  ] as const)('refuses %s', (_what, caller, body, status, code) => {
    expect(refusal(caller, body)).toEqual({ status, code });
  });
});
