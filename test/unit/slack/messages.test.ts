import { describe, expect, it } from 'vitest';
import { breakGlassRequest } from '../../../lib/domain/break-glass';
import {
  type AccessRequest,
  addSeconds,
  cancelRequest,
  castVote,
  newRequest,
} from '../../../lib/domain/request';
import type { Entitlement } from '../../../lib/domain/types';
import {
  approvalMessage,
  type Block,
  breakGlassBroadcast,
  formatDuration,
  REVOKE_BLOCK_ID,
  requesterNotice,
  VOTE_BLOCK_ID,
} from '../../../lib/slack/messages';
import { alice, bob, dave, entitlement, person } from '../domain/world';

const T0 = new Date('2026-11-29T10:00:00.000Z');
const at = (seconds: number) => addSeconds(T0, seconds);
const carol = () => person('carol', ['security-approvers']);

function prodAdmin(): Entitlement {
  return { ...entitlement('prod-admin'), description: 'Prod admin, for incidents' };
}

function pending(reason = 'db failover'): AccessRequest {
  return newRequest({
    id: '01JREQ',
    now: T0,
    caller: alice(),
    entitlement: prodAdmin(),
    body: { entitlement: 'prod-admin', durationSeconds: 3600, reason, ticket: 'INC-42' },
  });
}

function vote(
  req: AccessRequest,
  who: ReturnType<typeof bob>,
  decision: 'approve' | 'deny',
  s: number,
  comment?: string,
) {
  return castVote(req, { approver: who, decision, now: at(s), entitlement: prodAdmin(), comment }).next;
}

const actions = (blocks: Block[]) => blocks.filter((b) => b.type === 'actions');
const allText = (msg: { text: string; blocks: Block[] }) => JSON.stringify(msg);

describe('approvalMessage', () => {
  it('a pending request: header, requester, entitlement, duration, reason, ticket, Approve/Deny carrying the id', () => {
    const msg = approvalMessage(pending(), prodAdmin(), at(1));

    expect(msg.blocks[0]).toEqual({
      type: 'header',
      text: { type: 'plain_text', text: 'Access request: prod-admin', emoji: true },
    });
    const text = allText(msg);
    for (const part of [
      'alice@example.com',
      'prod-admin — Prod admin, for incidents',
      '1h',
      'db failover',
      'INC-42',
      '01JREQ',
    ]) {
      expect(text).toContain(part);
    }
    const [buttons] = actions(msg.blocks);
    expect(buttons).toMatchObject({ block_id: VOTE_BLOCK_ID });
    expect(
      buttons?.type === 'actions' && buttons.elements.map((e) => [e.action_id, e.value, e.style]),
    ).toEqual([
      ['vend_approve', '01JREQ', 'primary'],
      ['vend_deny', '01JREQ', 'danger'],
    ]);
    expect(msg.text).toContain('0 of 2 approvals');
  });

  it('after bob approves: still buttons, and who voted', () => {
    const msg = approvalMessage(vote(pending(), bob(), 'approve', 60, 'looks fine'), prodAdmin(), at(61));

    expect(actions(msg.blocks)).toHaveLength(1);
    expect(allText(msg)).toContain('bob@example.com approved');
    expect(allText(msg)).toContain('looks fine');
    expect(msg.text).toContain('1 of 2 approvals');
  });

  it('once approved: the outcome with both approvers, and no buttons', () => {
    const approved = vote(vote(pending(), bob(), 'approve', 60), carol(), 'approve', 120);

    const msg = approvalMessage(approved, prodAdmin(), at(121));

    expect(actions(msg.blocks)).toHaveLength(0);
    expect(allText(msg)).toContain('*Approved* by bob@example.com, carol@example.com');
    expect(msg.text).toBe('prod-admin for alice@example.com: approved by bob@example.com, carol@example.com');
  });

  it('once denied, cancelled or expired: the outcome and no buttons', () => {
    const denied = approvalMessage(vote(pending(), bob(), 'deny', 60), prodAdmin(), at(61));
    const cancelled = approvalMessage(cancelRequest(pending(), alice(), at(5)).next, prodAdmin(), at(6));
    const expired = approvalMessage(pending(), prodAdmin(), at(3600));

    expect(actions(denied.blocks)).toHaveLength(0);
    expect(allText(denied)).toContain('*Denied* by bob@example.com');
    expect(actions(cancelled.blocks)).toHaveLength(0);
    expect(allText(cancelled)).toContain('*Cancelled*');
    expect(actions(expired.blocks)).toHaveLength(0);
    expect(allText(expired)).toContain('*Expired* unanswered');
  });

  it('escapes what people typed, so a reason cannot ping the channel or forge a link', () => {
    const msg = approvalMessage(
      pending('<!channel> see <https://evil.example|docs> & more'),
      prodAdmin(),
      at(1),
    );

    const text = allText(msg);
    expect(text).not.toContain('<!channel>');
    expect(text).not.toContain('<https://evil.example');
    expect(text).toContain('&lt;!channel&gt; see &lt;https://evil.example|docs&gt; &amp; more');
  });

  it('never shows the ExternalId or the role trust details', () => {
    const ent = prodAdmin();

    const text = allText(approvalMessage(pending(), ent, at(1)));

    expect(ent.externalId).toBe('prod-breakglass-ext-5d8e');
    expect(text).not.toContain('prod-breakglass-ext-5d8e');
    expect(text).not.toContain('externalId');
  });
});

describe('breakGlassBroadcast', () => {
  it('names who, what, for how long, the ticket, the reason and that a review is open', () => {
    const req = breakGlassRequest({
      id: '01JBG',
      now: T0,
      caller: dave(),
      entitlement: prodAdmin(),
      body: { entitlement: 'prod-admin', breakGlass: true, reason: 'primary db down', ticket: 'INC-7' },
    });

    const msg = breakGlassBroadcast(req);

    expect(msg.blocks[0]).toMatchObject({
      type: 'header',
      text: { text: '🚨 Break-glass used: prod-admin' },
    });
    expect(msg.text).toBe(
      '🚨 Break-glass: dave@example.com took prod-admin for 1h (ticket INC-7): primary db down',
    );
    expect(allText(msg)).toContain('review is open');
    expect(allText(msg)).not.toContain('prod-breakglass-ext-5d8e');
  });

  it('carries one Revoke button for the request, behind a confirmation; once used, says who revoked', () => {
    const req = breakGlassRequest({
      id: '01JBG',
      now: T0,
      caller: dave(),
      entitlement: prodAdmin(),
      body: { entitlement: 'prod-admin', breakGlass: true, reason: 'primary db down', ticket: 'INC-7' },
    });

    const [block] = actions(breakGlassBroadcast(req).blocks);
    const after = breakGlassBroadcast(req, { by: 'bob@example.com', sessions: 2, at: at(60).toISOString() });

    expect(block).toMatchObject({
      block_id: REVOKE_BLOCK_ID,
      elements: [
        {
          action_id: 'vend_revoke',
          value: '01JBG',
          style: 'danger',
          confirm: { confirm: { text: 'Revoke' } },
        },
      ],
    });
    expect(allText(after)).toMatch(/\*Revoked\* by bob@example.com .*: 2 live sessions denied every action/);
    expect(actions(after.blocks)).toHaveLength(1);
  });
});

describe('requesterNotice', () => {
  it('tells the requester who approved and until when', () => {
    const approved = vote(vote(pending(), bob(), 'approve', 60), carol(), 'approve', 120);

    const msg = requesterNotice(approved, at(121));

    expect(msg.text).toBe(
      `Your request for prod-admin was approved by bob@example.com, carol@example.com; vend until ${at(3720 + 300).toISOString()}.`,
    );
    expect(allText(msg)).toContain('01JREQ');
  });

  it('tells the requester who denied it', () => {
    expect(requesterNotice(vote(pending(), bob(), 'deny', 60), at(61)).text).toBe(
      'Your request for prod-admin: denied by bob@example.com',
    );
  });

  it('tells the requester it is waiting, and when it expired', () => {
    expect(requesterNotice(pending(), at(1)).text).toContain('waiting for approval (0 of 2)');
    expect(requesterNotice(pending(), at(3600)).text).toBe('Your request for prod-admin: expired unanswered');
  });
});

describe('formatDuration', () => {
  it.each([
    [900, '15m'],
    [3600, '1h'],
    [5400, '1h30m'],
    [61, '61s'],
  ])('%i → %s', (seconds, text) => {
    expect(formatDuration(seconds)).toBe(text);
  });
});
