/**
 * Slack ids in a signed body become DynamoDB keys (the binding of team + user), so they are held to
 * Slack's id shape when the body is read: a 10 kB, NUL-bearing or non-ASCII id is a 400, never a
 * store call (issue 11).
 */
import { describe, expect, it } from 'vitest';
import { InvalidRequestError } from '../../../lib/domain/errors';
import { parseInteraction, parseSlashCommandBody } from '../../../lib/slack/payload';

const command = (over: Record<string, string>) =>
  new URLSearchParams({
    command: '/vend',
    text: 'help',
    team_id: 'T0VENDLOCAL',
    api_app_id: 'A0VENDLOCAL',
    user_id: 'U0ALICE',
    ...over,
  }).toString();

const click = (over: { team?: string; app?: string; user?: string }) =>
  `payload=${encodeURIComponent(
    JSON.stringify({
      type: 'block_actions',
      api_app_id: over.app ?? 'A0VENDLOCAL',
      team: { id: over.team ?? 'T0VENDLOCAL' },
      user: { id: over.user ?? 'U0BOB' },
      actions: [{ action_id: 'vend_approve', value: '01KB0000000000000000000000' }],
    }),
  )}`;

const HOSTILE = ['U'.repeat(10_240), 'U0BOB\u0000', 'U0部署', 'u0bob', '../..', 'U 0BOB'];

describe('Slack ids', () => {
  it('real-looking ids pass', () => {
    expect(parseSlashCommandBody(command({})).userId).toBe('U0ALICE');
    expect(parseInteraction(click({})).userId).toBe('U0BOB');
  });

  it.each(HOSTILE)('a command refuses team, user or app id %j', (id) => {
    for (const field of ['team_id', 'user_id', 'api_app_id']) {
      expect(() => parseSlashCommandBody(command({ [field]: id }))).toThrow(InvalidRequestError);
    }
  });

  it.each(HOSTILE)('a click refuses team, user or app id %j', (id) => {
    expect(() => parseInteraction(click({ team: id }))).toThrow(InvalidRequestError);
    expect(() => parseInteraction(click({ user: id }))).toThrow(InvalidRequestError);
    expect(() => parseInteraction(click({ app: id }))).toThrow(InvalidRequestError);
  });
});
