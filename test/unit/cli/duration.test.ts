import { describe, expect, it } from 'vitest';
import { parseDuration } from '../../../lib/cli/duration';
import { UsageError } from '../../../lib/cli/errors';

describe('parseDuration', () => {
  it.each([
    ['900', 900],
    ['900s', 900],
    ['15m', 900],
    ['1h', 3600],
    ['1h30m', 5400],
    ['2m5s', 125],
    [' 45M ', 2700],
  ])('reads %s as %i seconds', (text, seconds) => {
    expect(parseDuration(text)).toBe(seconds);
  });

  it.each(['', '0', '0m', '-5', '1.5h', '15 minutes', 'h', 'm15', '1d'])(
    'refuses %j with a usage error',
    (text) => {
      expect(() => parseDuration(text)).toThrow(UsageError);
    },
  );

  it('names the accepted forms in the message', () => {
    expect(() => parseDuration('soon')).toThrow(/15m, 1h/);
  });
});
