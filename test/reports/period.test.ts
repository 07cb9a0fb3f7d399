import { describe, expect, it } from 'vitest';
import { UsageError } from '../../src/errors.js';
import {
  parseInstant,
  parseReportPeriod,
  parseSince,
  parseSincePeriod,
  zoneDays,
} from '../../src/reports/period.js';

const BERLIN = 'Europe/Berlin';
const iso = (d: Date) => d.toISOString();
const hours = (a: Date, b: Date) => (b.getTime() - a.getTime()) / 3_600_000;

describe('parseReportPeriod', () => {
  const now = new Date('2026-12-01T15:30:00Z');

  it('reads 24h as the last 24 elapsed hours', () => {
    const p = parseReportPeriod('24h', now, BERLIN);
    expect([iso(p.start), iso(p.end)]).toEqual(['2026-11-30T15:30:00.000Z', iso(now)]);
  });

  it('reads month as the zone’s first of the month at midnight up to now', () => {
    const p = parseReportPeriod('month', now, BERLIN);
    expect(iso(p.start)).toBe('2026-11-30T23:00:00.000Z'); // 1 Dec 00:00 CET
    expect(iso(parseReportPeriod('month', now, 'UTC').start)).toBe('2026-12-01T00:00:00.000Z');
  });

  it('reads last-month as the whole previous calendar month in the zone (October has a 25-hour day)', () => {
    const p = parseReportPeriod('last-month', new Date('2026-11-10T08:00:00Z'), BERLIN);
    expect(iso(p.start)).toBe('2026-09-30T22:00:00.000Z'); // 1 Oct 00:00 CEST
    expect(iso(p.end)).toBe('2026-10-31T23:00:00.000Z'); // 1 Nov 00:00 CET
    expect(hours(p.start, p.end)).toBe(31 * 24 + 1);
  });

  it('reads last-month in January as December of the year before', () => {
    const p = parseReportPeriod('last-month', new Date('2027-01-15T12:00:00Z'), 'UTC');
    expect([iso(p.start), iso(p.end)]).toEqual([
      '2026-12-01T00:00:00.000Z',
      '2027-01-01T00:00:00.000Z',
    ]);
  });

  it('reads 7d as the same wall-clock time 7 zone days ago: 169 hours across the autumn change', () => {
    const p = parseReportPeriod('7d', new Date('2026-10-28T09:00:00Z'), BERLIN);
    expect(iso(p.start)).toBe('2026-10-21T08:00:00.000Z'); // 10:00 CEST → 10:00 CET
    expect(hours(p.start, p.end)).toBe(169);
  });

  it('reads 7d as 167 hours across the spring change', () => {
    const p = parseReportPeriod('7d', new Date('2027-03-31T08:00:00Z'), BERLIN);
    expect(hours(p.start, p.end)).toBe(167);
  });

  it('reads 30d back 30 calendar days in the zone', () => {
    const p = parseReportPeriod('30d', now, 'UTC');
    expect(iso(p.start)).toBe('2026-11-01T15:30:00.000Z');
  });

  it('reads last-7d as the seven whole zone days before today (a Monday-morning scheduled report)', () => {
    const monday = new Date('2026-10-26T08:00:00Z'); // Mon 09:00 CET, the day after the change
    const p = parseReportPeriod('last-7d', monday, BERLIN);
    expect(iso(p.start)).toBe('2026-10-18T22:00:00.000Z'); // Mon 19 Oct 00:00 CEST
    expect(iso(p.end)).toBe('2026-10-25T23:00:00.000Z'); // Mon 26 Oct 00:00 CET
    expect(hours(p.start, p.end)).toBe(7 * 24 + 1);
  });

  it('accepts the word in any case and keeps the zone', () => {
    expect(parseReportPeriod('MONTH', now, BERLIN).timeZone).toBe(BERLIN);
  });

  it('rejects an unknown period as a usage error naming the word and the choices', () => {
    expect(() => parseReportPeriod('fortnight', now, BERLIN)).toThrow(UsageError);
    expect(() => parseReportPeriod('fortnight', now, BERLIN)).toThrow(
      /`fortnight`.*24h, 7d, 30d, month, last-month, last-7d/,
    );
  });
});

describe('parseSince', () => {
  const now = new Date('2026-10-25T12:00:00Z');

  it('reads minutes and hours as elapsed time', () => {
    expect(iso(parseSince('30m', now, BERLIN))).toBe('2026-10-25T11:30:00.000Z');
    expect(iso(parseSince('12h', now, BERLIN))).toBe('2026-10-25T00:00:00.000Z');
  });

  it('reads days as zone calendar days (1d on the 25-hour day is 25 hours)', () => {
    expect(hours(parseSince('1d', now, BERLIN), now)).toBe(25);
    expect(hours(parseSince('1d', now, 'UTC'), now)).toBe(24);
  });

  it('reads a date-time with Z or an offset as given', () => {
    expect(iso(parseSince('2026-10-20T14:00Z', now, BERLIN))).toBe('2026-10-20T14:00:00.000Z');
    expect(iso(parseSince('2026-10-20T14:00:00-05:00', now, BERLIN))).toBe(
      '2026-10-20T19:00:00.000Z',
    );
  });

  it('reads a date without an offset as the zone’s midnight', () => {
    expect(iso(parseSince('2026-10-20', now, BERLIN))).toBe('2026-10-19T22:00:00.000Z');
  });

  it('rejects a zero, a huge or a malformed duration, naming it', () => {
    expect(() => parseSince('0h', now, BERLIN)).toThrow(/`0h`/);
    expect(() => parseSince('99999d', now, BERLIN)).toThrow(/`99999d`/);
    expect(() => parseSince('7w', now, BERLIN)).toThrow(/`7w`.*30m, 12h, 7d/);
  });

  it('gives the history window from the start up to now', () => {
    const p = parseSincePeriod('12h', now, BERLIN);
    expect([iso(p.start), iso(p.end), p.timeZone]).toEqual([
      '2026-10-25T00:00:00.000Z',
      iso(now),
      BERLIN,
    ]);
  });

  it('rejects a start in the future', () => {
    expect(() => parseSince('2026-10-26T00:00Z', now, BERLIN)).toThrow(/future/);
  });
});

describe('parseInstant', () => {
  it('reads a wall-clock time in the zone, summer and winter', () => {
    expect(iso(parseInstant('2026-07-01T14:00', BERLIN))).toBe('2026-07-01T12:00:00.000Z');
    expect(iso(parseInstant('2026-12-01T14:00:30', BERLIN))).toBe('2026-12-01T13:00:30.000Z');
    expect(iso(parseInstant('2026-12-01T14:00:30.25', 'UTC'))).toBe('2026-12-01T14:00:30.250Z');
  });

  it('reads an hour that happens twice (clocks go back) as its first occurrence', () => {
    expect(iso(parseInstant('2026-10-25T02:30', BERLIN))).toBe('2026-10-25T00:30:00.000Z');
  });

  it('refuses an hour the clocks skip, suggesting an offset', () => {
    expect(() => parseInstant('2027-03-28T02:30', BERLIN)).toThrow(
      /`2027-03-28T02:30` does not exist in Europe\/Berlin/,
    );
  });

  it('refuses dates that are not on the calendar and offsets that do not exist', () => {
    expect(() => parseInstant('2026-02-30', 'UTC')).toThrow(/`2026-02-30` is not a real date/);
    expect(() => parseInstant('2026-12-01T24:00', 'UTC')).toThrow(UsageError);
    expect(() => parseInstant('2026-12-01T10:00+25:00', 'UTC')).toThrow(/offset/);
    expect(() => parseInstant('yesterday', 'UTC')).toThrow(/`yesterday`/);
  });
});

describe('zoneDays', () => {
  it('splits a period at the zone’s midnights, with a 25-hour and a 23-hour day', () => {
    const autumn = zoneDays({
      start: new Date('2026-10-24T22:00:00Z'),
      end: new Date('2026-10-26T23:00:00Z'),
      timeZone: BERLIN,
    });
    expect(autumn.map((d) => [d.day, hours(d.start, d.end)])).toEqual([
      ['2026-10-25', 25],
      ['2026-10-26', 24],
    ]);
    const spring = zoneDays({
      start: new Date('2027-03-27T23:00:00Z'),
      end: new Date('2027-03-28T22:00:00Z'),
      timeZone: BERLIN,
    });
    expect(spring.map((d) => [d.day, hours(d.start, d.end)])).toEqual([['2027-03-28', 23]]);
  });

  it('clips the first and last day to the period', () => {
    const days = zoneDays({
      start: new Date('2026-12-01T10:00:00Z'),
      end: new Date('2026-12-02T06:00:00Z'),
      timeZone: 'UTC',
    });
    expect(days.map((d) => [d.day, iso(d.start), iso(d.end)])).toEqual([
      ['2026-12-01', '2026-12-01T10:00:00.000Z', '2026-12-02T00:00:00.000Z'],
      ['2026-12-02', '2026-12-02T00:00:00.000Z', '2026-12-02T06:00:00.000Z'],
    ]);
  });
});
