/**
 * Durations typed in Slack follow the one duration rule (lib/domain/duration.ts): anything outside
 * 15m–1h is refused when the command is read, in the units the person typed; text that is not a
 * duration is a usage error. (The entitlement's own maximum is the request use case's check.)
 */
import { describe, expect, it } from 'vitest';
import { DurationOutOfRangeError, InvalidRequestError } from '../../../lib/domain/errors';
import { parseVendCommand } from '../../../lib/slack/payload';

function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (e) {
    return e;
  }
  return undefined;
}

describe('/vend durations', () => {
  it.each([
    ['request', 'request prod-admin 2h db failover', 7200],
    ['break-glass', 'break-glass prod-admin 2h INC-7 db down', 7200],
    ['request', 'request prod-admin 7200 db failover', 7200],
    ['request', 'request prod-admin 899 db failover', 899],
    ['request', 'request prod-admin 14m59s db failover', 899],
    ['break-glass', 'break-glass prod-admin 1h1s INC-7 db down', 3601],
    ['request', 'request prod-admin 23h59m db failover', 86_340],
  ])('%s: %j → duration_out_of_range, in the units typed', (_, text, seconds) => {
    const err = thrown(() => parseVendCommand(text));

    expect(err).toBeInstanceOf(DurationOutOfRangeError);
    expect((err as DurationOutOfRangeError).detail).toContain('the duration must be from 15m to 1h');
    expect((err as DurationOutOfRangeError).detail).toContain(`is ${seconds} seconds`);
  });

  it.each(['0', '-900', '1.5h', '1d', '9999999', '１h', 'PT1H'])(
    '%j is not a duration: a usage error',
    (word) => {
      const err = thrown(() => parseVendCommand(`request prod-admin ${word} db failover`));

      expect(err).toBeInstanceOf(InvalidRequestError);
      expect((err as Error).message).toContain('usage:');
    },
  );

  it.each([
    ['15m', 900],
    ['1h', 3600],
    ['1800', 1800],
  ])('%s is accepted as %d seconds', (word, seconds) => {
    expect(parseVendCommand(`request prod-admin ${word} db failover`)).toMatchObject({
      durationSeconds: seconds,
    });
  });
});
