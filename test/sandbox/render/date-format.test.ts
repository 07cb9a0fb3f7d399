/**
 * The date formatting of static/blocks.js, loaded as the browser loads it (a
 * plain script) into a `node:vm` context without a DOM.
 */
import { readFileSync } from 'node:fs';
import { createContext, runInContext } from 'node:vm';
import { describe, expect, it } from 'vitest';

interface FormatOptions {
  now?: number | Date;
  timeZone?: string;
  hour12?: boolean;
}
type FormatSlackDate = (
  unix: number | string,
  format: string,
  options?: FormatOptions,
) => string | null;

function loadFormatter(): FormatSlackDate {
  const source = readFileSync(
    new URL('../../../src/sandbox/workbench/static/blocks.js', import.meta.url),
    'utf8',
  );
  const context = createContext({});
  runInContext(source, context);
  return (context as { VpnWorkbenchFormat: { formatSlackDate: FormatSlackDate } })
    .VpnWorkbenchFormat.formatSlackDate;
}

const format = loadFormatter();
// 2026-11-27T20:40:05Z, a Friday.
const T = 1795812005;
const LATER = Date.UTC(2027, 0, 15);
const at = (zone: string, fmt: string, now: number | Date = LATER, hour12 = true) =>
  format(T, fmt, { timeZone: zone, now, hour12 });

describe('formatSlackDate (static/blocks.js)', () => {
  it('formats every date token of Slack in the given time zone', () => {
    expect(at('UTC', '{date_num}')).toBe('2026-11-27');
    expect(at('UTC', '{date}')).toBe('November 27th, 2026');
    expect(at('UTC', '{date_short}')).toBe('Nov 27, 2026');
    expect(at('UTC', '{date_long}')).toBe('Friday, November 27th, 2026');
    expect(at('UTC', '{date_slash}')).toBe('27/11/2026');
    expect(at('UTC', '{date_long_full}')).toBe('November 27, 2026');
    expect(at('UTC', '{day_divider_pretty}')).toBe('Friday, November 27th, 2026');
    expect(at('UTC', '{day_divider_pretty}', Date.UTC(2026, 11, 1))).toBe('Friday, November 27th');
  });

  it('moves to the next day where the reader lives', () => {
    expect(at('Asia/Tokyo', '{date_long} {time}')).toBe('Saturday, November 28th, 2026 5:40 AM');
    expect(at('America/Los_Angeles', '{date_num} {time}')).toBe('2026-11-27 12:40 PM');
    expect(at('Asia/Kolkata', '{time}')).toBe('2:10 AM');
  });

  it('shows times on a 12- or 24-hour clock, with seconds for {time_secs}', () => {
    expect(at('UTC', '{time}')).toBe('8:40 PM');
    expect(at('UTC', '{time_secs}')).toBe('8:40:05 PM');
    expect(at('UTC', '{time}', LATER, false)).toBe('20:40');
    expect(at('UTC', '{time_secs}', LATER, false)).toBe('20:40:05');
    expect(format(1795737600, '{time}', { timeZone: 'UTC', now: LATER })).toBe('12:00 AM');
    expect(format(1795780800, '{time}', { timeZone: 'UTC', now: LATER })).toBe('12:00 PM');
  });

  it("says today, yesterday or tomorrow in the *_pretty tokens, by the reader's calendar", () => {
    const sameDay = Date.UTC(2026, 10, 27, 23, 0);
    expect(at('UTC', '{date_pretty}', sameDay)).toBe('Today');
    expect(at('UTC', '{date_short_pretty} {time}', sameDay)).toBe('Today 8:40 PM');
    expect(at('UTC', '{date_long_pretty}', Date.UTC(2026, 10, 28, 1))).toBe('Yesterday');
    expect(at('UTC', '{date_pretty}', Date.UTC(2026, 10, 26, 12))).toBe('Tomorrow');
    // 23:00 UTC on the 27th is already the 28th in Tokyo, where the date is the 28th too.
    expect(at('Asia/Tokyo', '{date_short_pretty}', sameDay)).toBe('Today');
    expect(at('America/Los_Angeles', '{date_short_pretty}', Date.UTC(2026, 10, 28, 12))).toBe(
      'Yesterday',
    );
    expect(at('UTC', '{date_short_pretty}')).toBe('Nov 27, 2026');
    expect(at('UTC', 'since {date_pretty} at {time}', sameDay)).toBe('since today at 8:40 PM');
  });

  it('says how long ago, or in how long, for {ago}', () => {
    expect(at('UTC', '{ago}', (T + 20) * 1000)).toBe('just now');
    expect(at('UTC', '{ago}', (T + 60) * 1000)).toBe('1 minute ago');
    expect(at('UTC', '{ago}', (T + 3 * 60) * 1000)).toBe('3 minutes ago');
    expect(at('UTC', '{ago}', (T + 5 * 3600) * 1000)).toBe('5 hours ago');
    expect(at('UTC', '{ago}', (T + 2 * 86_400) * 1000)).toBe('2 days ago');
    expect(at('UTC', '{ago}', (T - 2 * 3600) * 1000)).toBe('in 2 hours');
  });

  it('keeps the text around the tokens', () => {
    expect(at('UTC', 'Posted {date_short} at {time}.')).toBe('Posted Nov 27, 2026 at 8:40 PM.');
  });

  it('writes ordinals the English way', () => {
    const day = (d: number) =>
      format(Date.UTC(2026, 0, d, 12) / 1000, '{date}', { timeZone: 'UTC' });
    expect([1, 2, 3, 4, 11, 12, 13, 21, 22, 23, 31].map(day)).toEqual(
      ['1st', '2nd', '3rd', '4th', '11th', '12th', '13th', '21st', '22nd', '23rd', '31st'].map(
        (d) => `January ${d}, 2026`,
      ),
    );
  });

  it('gives up (so the fallback stays) on unknown tokens, bad times and unknown zones', () => {
    expect(at('UTC', '{date_short} {weird}')).toBeNull();
    expect(format('soon', '{date}', { timeZone: 'UTC' })).toBeNull();
    expect(format(T, '', { timeZone: 'UTC' })).toBeNull();
    expect(at('Mars/Olympus_Mons', '{date}')).toBeNull();
    expect(format(1e20, '{date}', { timeZone: 'UTC' })).toBeNull();
  });
});
