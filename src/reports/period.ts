/**
 * Report periods and history bounds: the words people type (`7d`, `month`,
 * `since=12h`, `at=2026-12-01T14:00`) turned into instants for a given `now`
 * and IANA time zone. Pure: text in, `{ start, end }` (or a `UsageError`
 * naming the bad word) out.
 *
 * Calendar arithmetic runs in the report's time zone through `@date-fns/tz`,
 * so a day is the zone's day — 23 or 25 hours long on a daylight-saving
 * change — and a month starts at the zone's midnight. Hours and minutes are
 * elapsed time; days, months and "midnight" are the zone's calendar.
 */
import { TZDate, tzOffset } from '@date-fns/tz';
import { addDays, startOfDay, startOfMonth, subDays, subMonths } from 'date-fns';
import { UsageError } from '../errors.js';

/** The periods `report` accepts; `last-7d` is the whole-days form scheduled reports use. */
export const REPORT_PERIODS = ['24h', '7d', '30d', 'month', 'last-month', 'last-7d'] as const;

export type ReportPeriodWord = (typeof REPORT_PERIODS)[number];

/** A half-open interval `[start, end)` of instants, with the zone its calendar words were read in. */
export interface Period {
  readonly start: Date;
  readonly end: Date;
  readonly timeZone: string;
}

/** One calendar day of the report's zone, clipped to the period: `[start, end)`. */
export interface ZoneDay {
  /** `2026-10-25` in the zone. */
  readonly day: string;
  readonly start: Date;
  readonly end: Date;
}

/** The longest `since=` duration accepted (ten years); more is surely a typo. */
export const MAX_SINCE_DAYS = 3650;

const HOUR_MS = 3_600_000;
const MINUTE_MS = 60_000;

function quote(word: string): string {
  return `\`${word.replaceAll('`', "'").slice(0, 80)}\``;
}

/** True when `timeZone` is an IANA zone name this runtime knows (`UTC`, `Europe/Berlin`). */
export function isTimeZone(timeZone: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone });
    return true;
  } catch {
    return false;
  }
}

function zoned(at: Date, timeZone: string): TZDate {
  return new TZDate(at.getTime(), timeZone);
}

/**
 * The interval a report period covers at `now`, in `timeZone`:
 * `24h` the last 24 hours; `7d`/`30d` back to the same wall-clock time 7/30
 * days ago in the zone; `month` from the zone's first of this month, 00:00;
 * `last-month` the whole previous calendar month; `last-7d` the seven whole
 * days before today (for a report posted Monday 09:00: Monday to Monday, 00:00).
 *
 * @throws UsageError naming the word when it is not a period.
 */
export function parseReportPeriod(word: string, now: Date, timeZone: string): Period {
  const today = startOfDay(zoned(now, timeZone));
  const period = (start: Date, end: Date): Period => ({
    start: new Date(start.getTime()),
    end: new Date(end.getTime()),
    timeZone,
  });
  switch (word.toLowerCase()) {
    case '24h':
      return period(new Date(now.getTime() - 24 * HOUR_MS), now);
    case '7d':
      return period(subDays(zoned(now, timeZone), 7), now);
    case '30d':
      return period(subDays(zoned(now, timeZone), 30), now);
    case 'month':
      return period(startOfMonth(today), now);
    case 'last-month': {
      const thisMonth = startOfMonth(today);
      return period(subMonths(thisMonth, 1), thisMonth);
    }
    case 'last-7d':
      return period(subDays(today, 7), today);
    default:
      throw new UsageError(
        `I don't understand the period ${quote(word)}: use ${REPORT_PERIODS.join(', ')}.`,
      );
  }
}

const DURATION = /^(\d{1,6})([mhd])$/i;
// Date, optional time (minutes, optional seconds and fraction), optional `Z` or offset.
const ISO =
  /^(\d{4})-(\d{2})-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,3})\d*)?)?)?(Z|[+-]\d{2}:?\d{2})?$/i;

/**
 * Where a `since=` bound starts: a duration back from `now` (`30m`, `12h`
 * elapsed; `7d` = the same wall-clock time 7 days ago in the zone) or an
 * instant as {@link parseInstant} reads it. The result is never after `now`.
 *
 * @throws UsageError naming the word when it is neither, or lies in the future.
 */
export function parseSince(word: string, now: Date, timeZone: string): Date {
  const duration = DURATION.exec(word);
  if (duration) {
    const amount = Number(duration[1]);
    const unit = (duration[2] ?? '').toLowerCase();
    const days = unit === 'd' ? amount : unit === 'h' ? amount / 24 : amount / 1440;
    if (amount === 0 || days > MAX_SINCE_DAYS) {
      throw new UsageError(
        `${quote(word)} is not a duration I can use: give 1m to ${MAX_SINCE_DAYS}d.`,
      );
    }
    if (unit === 'd') return new Date(subDays(zoned(now, timeZone), amount).getTime());
    return new Date(now.getTime() - amount * (unit === 'h' ? HOUR_MS : MINUTE_MS));
  }
  if (!/^\d{4}-/.test(word)) {
    throw new UsageError(
      `I don't understand ${quote(word)} as a start: use a duration (30m, 12h, 7d) or a date (2026-12-01, 2026-12-01T14:00, 2026-12-01T14:00Z).`,
    );
  }
  const at = parseInstant(word, timeZone);
  if (at.getTime() > now.getTime()) {
    throw new UsageError(`${quote(word)} is in the future: history can only look back.`);
  }
  return at;
}

/** The history window of a `since=` word: from {@link parseSince} up to `now`. */
export function parseSincePeriod(word: string, now: Date, timeZone: string): Period {
  return { start: parseSince(word, now, timeZone), end: new Date(now.getTime()), timeZone };
}

/**
 * An ISO 8601 date or date-time (`2026-12-01`, `2026-12-01T14:00`,
 * `2026-12-01T14:00:30`): with `Z` or an offset it is that instant; without
 * one it is read as wall-clock time in `timeZone` (a date alone is its
 * midnight). A wall-clock time that occurs twice (the hour the clocks go
 * back) is its first occurrence; one that never occurs (the hour they skip)
 * is refused.
 *
 * @throws UsageError naming the word when it is not a valid date-time.
 */
export function parseInstant(word: string, timeZone: string): Date {
  const m = ISO.exec(word);
  if (!m) {
    throw new UsageError(
      `I don't understand ${quote(word)} as a date: use 2026-12-01, 2026-12-01T14:00 or 2026-12-01T14:00Z (ISO 8601).`,
    );
  }
  const [year, month, day, hour, minute, second, fraction] = [1, 2, 3, 4, 5, 6, 7].map((i) =>
    Number((m[i] ?? '0').padEnd(i === 7 ? 3 : 1, '0')),
  ) as [number, number, number, number, number, number, number];
  const zone = m[8];
  const fields = { year, month, day, hour, minute, second };
  if (!validFields(fields)) throw new UsageError(`${quote(word)} is not a real date or time.`);
  const utc = Date.UTC(year, month - 1, day, hour, minute, second, fraction);
  if (zone !== undefined) {
    const z = zone.toUpperCase();
    if (z === 'Z') return new Date(utc);
    const digits = z.replace(':', '');
    const offsetMinutes = Number(digits.slice(1, 3)) * 60 + Number(digits.slice(3, 5));
    if (Number(digits.slice(1, 3)) > 23 || Number(digits.slice(3, 5)) > 59) {
      throw new UsageError(`${quote(word)} has an offset that does not exist.`);
    }
    return new Date(utc - (z.startsWith('-') ? -1 : 1) * offsetMinutes * MINUTE_MS);
  }
  return wallClockInZone(word, utc, timeZone);
}

function validFields(f: {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
}): boolean {
  if (f.month < 1 || f.month > 12 || f.day < 1 || f.hour > 23 || f.minute > 59 || f.second > 59) {
    return false;
  }
  const probe = new Date(Date.UTC(f.year, f.month - 1, f.day));
  return probe.getUTCDate() === f.day && probe.getUTCMonth() === f.month - 1;
}

/**
 * The instant whose wall-clock time in `timeZone` is `wallAsUtc` (the fields
 * written as if they were UTC). Candidates are the field time minus the zone's
 * offset just before and just after; the earliest that round-trips wins.
 */
function wallClockInZone(word: string, wallAsUtc: number, timeZone: string): Date {
  const candidates = new Set<number>();
  for (const probe of [wallAsUtc - 86_400_000, wallAsUtc, wallAsUtc + 86_400_000]) {
    candidates.add(wallAsUtc - tzOffset(timeZone, new Date(probe)) * MINUTE_MS);
  }
  const matches = [...candidates]
    .filter((at) => at + tzOffset(timeZone, new Date(at)) * MINUTE_MS === wallAsUtc)
    .sort((a, b) => a - b);
  const first = matches[0];
  if (first === undefined) {
    throw new UsageError(
      `${quote(word)} does not exist in ${timeZone} (the clocks skip that hour): give an offset, e.g. ${word}Z.`,
    );
  }
  return new Date(first);
}

/**
 * The zone's calendar days that the period touches, each clipped to the
 * period, in order. A day on a daylight-saving change is 23 or 25 hours long.
 */
export function zoneDays(period: Period): ZoneDay[] {
  const days: ZoneDay[] = [];
  const endMs = period.end.getTime();
  let dayStart = startOfDay(zoned(period.start, period.timeZone));
  while (dayStart.getTime() < endMs) {
    const next = addDays(dayStart, 1);
    const y = dayStart.getFullYear();
    const mo = String(dayStart.getMonth() + 1).padStart(2, '0');
    const d = String(dayStart.getDate()).padStart(2, '0');
    days.push({
      day: `${y}-${mo}-${d}`,
      start: new Date(Math.max(dayStart.getTime(), period.start.getTime())),
      end: new Date(Math.min(next.getTime(), endMs)),
    });
    dayStart = next;
  }
  return days;
}
