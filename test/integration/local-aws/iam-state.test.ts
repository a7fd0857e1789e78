/**
 * A deny list written through the IAM API survives a restart of the local stack (`.vend/` state),
 * as a revocation in AWS does: the IAM store persists every version of a changed managed policy
 * and restores it at open, and a restored boundary is in force for the sessions issued before.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { IamStore } from '../../../infra/local/iam/store';
import { denyListArn, denyListDocument } from './deny-list';
import { WORLD_DIR } from './harness';

const dir = mkdtempSync(join(tmpdir(), 'vend-iam-state-'));
const stateFile = join(dir, 'iam-state.json');
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('the IAM store state file', () => {
  it('keeps the versions of a changed policy and the sessions they revoke across a restart', async () => {
    const arn = denyListArn('444455556666', 'ProdReadOnly');
    const first = await IamStore.open({ worldDir: WORLD_DIR, stateFile });
    const broker = first.mintBaseSession('vend-broker');
    const role = first.getRole('arn:aws:iam::444455556666:role/ProdReadOnly')!;
    const session = first.issueSession({
      role,
      sessionName: 'vend-alice-01KB',
      durationSeconds: 900,
      sourceIdentity: 'alice@example.com',
      sessionTags: { 'vend:audit-id': '01KBPERSISTED0000000000001' },
      chained: true,
    });
    expect(first.revocationOf(session)).toBeUndefined();
    first.policies.create(
      arn,
      denyListDocument({ sessions: [{ until: new Date(), auditIds: ['01KBPERSISTED0000000000001'] }] }),
      true,
    );
    first.policiesChanged();
    expect(first.revocationOf(session)?.decision).toBe('ExplicitDeny');
    expect(JSON.parse(readFileSync(stateFile, 'utf8')).policies).toHaveLength(1);

    const second = await IamStore.open({ worldDir: WORLD_DIR, stateFile });
    expect(second.policies.get(arn)?.defaultVersionId).toBe('v2');
    expect(second.policies.get(arn)?.versions.map((v) => v.versionId)).toEqual(['v1', 'v2']);
    expect(second.revocationOf(second.lookupAccessKey(session.accessKeyId)!)?.decision).toBe('ExplicitDeny');
    // The broker's own session has no boundary: never revoked by a target role's list.
    expect(second.revocationOf(second.lookupAccessKey(broker.accessKeyId)!)).toBeUndefined();
    // The next version id continues where the first run stopped.
    expect(second.policies.create(arn, denyListDocument({}), false).versionId).toBe('v3');
  });
});
