/**
 * Class 2 of issue 12: date values in every form AWS accepts, in policies and in request context.
 *
 * AWS: "You must specify date/time values with one of the W3C implementations of the ISO 8601 date
 * formats or in epoch (UNIX) time"
 * (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html#Conditions_Date).
 * The W3C profile (https://www.w3.org/TR/NOTE-datetime): YYYY, YYYY-MM, YYYY-MM-DD,
 * YYYY-MM-DDThh:mmTZD, YYYY-MM-DDThh:mm:ssTZD, YYYY-MM-DDThh:mm:ss.sTZD; TZD = Z | +hh:mm | -hh:mm.
 */
import { describe, expect, it } from 'vitest';
import type { RequestContext } from '../../../lib/iam';
import { evaluatePolicySet, validatePolicy } from '../../../lib/iam';
import { parseDate } from '../../../lib/iam/dates';
import { policy, request } from './helpers';

describe('parseDate: the six W3C forms and epoch seconds', () => {
  it.each([
    ['2026', Date.UTC(2026, 0, 1)],
    ['2026-11', Date.UTC(2026, 10, 1)],
    ['2026-11-29', Date.UTC(2026, 10, 29)],
    ['2026-11-29T10:20Z', Date.UTC(2026, 10, 29, 10, 20)],
    ['2026-11-29T10:20+01:00', Date.UTC(2026, 10, 29, 9, 20)],
    ['2026-11-29T10:20:30Z', Date.UTC(2026, 10, 29, 10, 20, 30)],
    ['2026-11-29T10:20:30-05:30', Date.UTC(2026, 10, 29, 15, 50, 30)],
    ['2026-11-29T10:20:30.45Z', Date.UTC(2026, 10, 29, 10, 20, 30, 450)],
    ['2026-11-29T10:20:30.123456+00:00', Date.UTC(2026, 10, 29, 10, 20, 30, 123)],
    // Epoch seconds, as aws:EpochTime carries them.
    ['1795947630', 1795947630_000],
    ['0', 0],
    ['1795947630.5', 1795947630_500],
    // Choices (docs/iam-evaluator.md, "Dates"): a zone-less time is UTC, not the machine's zone.
    ['2026-11-29T10:20:30', Date.UTC(2026, 10, 29, 10, 20, 30)],
    ['2024-02-29', Date.UTC(2024, 1, 29)],
  ])('%s', (text, ms) => {
    expect(parseDate(text)).toBe(ms);
  });

  it('reads years below 100 as such, not as 19xx', () => {
    expect(new Date(parseDate('0050')!).getUTCFullYear()).toBe(50);
  });

  it.each([
    '2026-13',
    '2026-02-30',
    '2025-02-29',
    '2026-11-29T24:00Z',
    '2026-11-29T10:60Z',
    '2026-11-29T10:20:61Z',
    '2026-11-29T10Z',
    '2026-11-29 10:20:30Z',
    '20261129T102030Z',
    '2026-11-29T10:20:30+0100',
    '2026-11-29T10:20:30+24:00',
    'Sun, 29 Nov 2026 10:20:30 GMT',
    'tomorrow',
    '',
  ])('refuses %j', (text) => {
    expect(parseDate(text)).toBeUndefined();
  });
});

describe('Date operators with every form on both sides', () => {
  const at = '2026-11-29T10:20:30Z';
  const holds = (op: string, policyValue: string, context: RequestContext) =>
    evaluatePolicySet(
      [
        policy('identity', [
          {
            Effect: 'Allow',
            Action: 's3:GetObject',
            Resource: '*',
            Condition: { [op]: { 'aws:CurrentTime': policyValue } },
          },
        ]),
      ],
      request('s3:GetObject', 'arn:aws:s3:::b/k', { context }),
    ).decision === 'Allow';

  it.each([
    ['DateGreaterThan', '2026'],
    ['DateGreaterThan', '2026-11'],
    ['DateGreaterThan', '2026-11-29'],
    ['DateGreaterThan', '2026-11-29T10:20Z'],
    ['DateEquals', '2026-11-29T11:20:30+01:00'],
    ['DateEquals', '2026-11-29T10:20:30.000Z'],
    ['DateEquals', String(Date.parse(at) / 1000)],
    ['DateLessThan', '2027'],
    ['DateLessThanEquals', '2026-11-29T10:20:30Z'],
    ['DateGreaterThanEquals', '1795947630'],
    ['DateNotEquals', '2026-11-29'],
  ])('%s %s holds at %s', (op, value) => {
    expect(holds(op, value, { 'aws:CurrentTime': at })).toBe(true);
  });

  it.each([
    ['an ISO time with an offset', '2026-11-29T11:20:30+01:00'],
    ['epoch seconds', '1795947630'],
    ['a date only', '2026-11-29'],
  ])('request values are parsed alike: %s', (_what, contextValue) => {
    expect(holds('DateGreaterThanEquals', '2026-11-29', { 'aws:CurrentTime': contextValue })).toBe(true);
    expect(holds('DateLessThan', '2026-11-30', { 'aws:CurrentTime': contextValue })).toBe(true);
  });

  it('a request value that is not a date matches no positive operator and every negated one', () => {
    expect(holds('DateLessThan', '2099', { 'aws:CurrentTime': 'soon' })).toBe(false);
    expect(holds('DateNotEquals', '2099', { 'aws:CurrentTime': 'soon' })).toBe(true);
  });
});

describe('policy values in every form are accepted, other shapes refused loudly', () => {
  const doc = (value: string) => ({
    Version: '2012-10-17',
    Statement: {
      Effect: 'Allow',
      Action: 's3:GetObject',
      Resource: '*',
      Condition: { DateLessThan: { 'aws:CurrentTime': value } },
    },
  });

  it.each([
    '2026',
    '2026-11',
    '2026-11-29',
    '2026-11-29T10:20Z',
    '2026-11-29T10:20:30+01:00',
    '2026-11-29T10:20:30.5Z',
    '1795947630',
  ])('accepts %s', (value) => {
    expect(validatePolicy(doc(value), 'identity')).toEqual([]);
  });

  it.each(['2026-02-30', 'next week', '29/11/2026'])('refuses %s, naming the forms AWS takes', (value) => {
    const [issue] = validatePolicy(doc(value), 'identity');
    expect(issue?.message).toMatch(/W3C ISO 8601 date .*or epoch seconds/);
  });
});
