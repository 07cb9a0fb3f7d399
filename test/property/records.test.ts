/**
 * Properties of the records every output shares (src/vpn/records.ts) and of the normalization
 * that feeds them (src/vpn/connection.ts): any SDK-shaped record becomes a connection whose JSON
 * line and CSV row hold only what they promise, and CSV rows read back cell for cell with a
 * strict RFC 4180 reader, formula prefixes defused.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type Connection, normalizeConnection, parseAwsTime } from '../../src/vpn/connection.js';
import { formatBytes, formatDuration, formatUtc } from '../../src/vpn/format.js';
import {
  type ConnectionRecord,
  csvHeader,
  csvRow,
  RECORD_COLUMNS,
  toCsv,
  toJsonLine,
  toRecord,
} from '../../src/vpn/records.js';
import { sortConnections, summarize } from '../../src/vpn/summary.js';
import { awsTime, hostileText, rawConnection } from './arbitraries.js';
import { settings } from './settings.js';

/**
 * A strict RFC 4180 reader (records end with `\n`, as the CLI writes them): a field is either
 * unquoted, without `"`, CR or LF, or wholly quoted with `""` for a quote. Anything else throws.
 */
function parseCsv(text: string): string[][] {
  const records: string[][] = [];
  let record: string[] = [];
  let i = 0;
  const fail = (why: string): never => {
    throw new Error(`not RFC 4180 at ${i}: ${why} in ${JSON.stringify(text)}`);
  };
  while (i < text.length) {
    let field = '';
    if (text[i] === '"') {
      i += 1;
      for (;;) {
        if (i >= text.length) fail('unclosed quote');
        if (text[i] === '"') {
          if (text[i + 1] === '"') {
            field += '"';
            i += 2;
          } else {
            i += 1;
            break;
          }
        } else {
          field += text[i];
          i += 1;
        }
      }
    } else {
      while (i < text.length && text[i] !== ',' && text[i] !== '\n') {
        if (text[i] === '"' || text[i] === '\r') fail('quote or CR in an unquoted field');
        field += text[i];
        i += 1;
      }
    }
    record.push(field);
    if (text[i] === ',') {
      i += 1;
      if (i === text.length) fail('a comma ends the document');
    } else if (text[i] === '\n') {
      records.push(record);
      record = [];
      i += 1;
    } else if (i < text.length) {
      fail('text after a closing quote');
    }
  }
  if (record.length > 0) records.push(record);
  return records;
}

// What spreadsheet programs read as the start of a formula (OWASP's list).
const FORMULA_START = /^[=+\-@\t\r]/;

/** The cell a record's value should become: empty for null, digits for counters, else the text defused. */
function expectedCell(value: string | number | null): string {
  if (value === null) return '';
  if (typeof value === 'number') return String(value);
  return FORMULA_START.test(value) ? `'${value}` : value;
}

const NOW = new Date('2026-11-27T12:00:00Z');
const ISO_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
const STATUSES = ['active', 'terminated', 'terminating', 'failed-to-terminate'];

/** Every value of a connection is of its declared type: no NaN, no invalid date, no undefined. */
function expectWellFormed(c: Connection): void {
  for (const [key, value] of Object.entries(c)) {
    expect(value, key).not.toBeUndefined();
    if (typeof value === 'number') {
      expect(Number.isSafeInteger(value) && value >= 0, `${key} = ${value}`).toBe(true);
    }
    if (value instanceof Date) expect(Number.isNaN(value.getTime()), key).toBe(false);
  }
  expect(typeof c.endpointId).toBe('string');
  expect(c.connectionId).not.toBe('');
  if (c.status !== null) expect(STATUSES).toContain(c.status);
}

/** The JSON line holds exactly the record columns, each a string, a counter or null, as promised. */
function expectJsonLine(c: Connection): void {
  const line = toJsonLine(c);
  expect(line).not.toMatch(/\n/);
  const parsed = JSON.parse(line) as Record<string, unknown>;
  expect(Object.keys(parsed)).toEqual([...RECORD_COLUMNS]);
  for (const column of ['establishedAt', 'endedAt'] as const) {
    const value = parsed[column];
    if (value !== null) expect(value, column).toMatch(ISO_UTC);
  }
  for (const column of ['ingressBytes', 'egressBytes', 'ingressPackets', 'egressPackets']) {
    const value = parsed[column];
    if (value !== null) expect(Number.isSafeInteger(value), column).toBe(true);
  }
  for (const [column, value] of Object.entries(parsed)) {
    expect(value === null || ['string', 'number'].includes(typeof value), column).toBe(true);
  }
}

/** Any record, including values normalization never produces (formula starts, quotes, CR, LF). */
const anyRecord: fc.Arbitrary<ConnectionRecord> = fc.record({
  endpointId: hostileText,
  connectionId: hostileText,
  username: fc.option(hostileText),
  commonName: fc.option(hostileText),
  status: fc.option(hostileText),
  clientIp: fc.option(hostileText),
  clientIpv6: fc.option(hostileText),
  establishedAt: fc.option(hostileText),
  endedAt: fc.option(hostileText),
  ingressBytes: fc.option(fc.nat()),
  egressBytes: fc.option(fc.maxSafeNat()),
  ingressPackets: fc.option(fc.nat()),
  egressPackets: fc.option(fc.nat()),
  postureCompliance: fc.option(hostileText),
});

const AWS_TIME_FIELDS = /^(\d{4})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2}):(\d{2})/;

describe('parseAwsTime, for any text', () => {
  it('gives null or the very instant written, never a rolled-over or invalid one', () => {
    fc.assert(
      fc.property(awsTime, (text) => {
        const date = parseAwsTime(text);
        if (date === null) return;
        expect(Number.isNaN(date.getTime())).toBe(false);
        // Whatever it accepted, it read field for field: 10:60 is not 11:00, 0019 is not 1919.
        const written = AWS_TIME_FIELDS.exec(text.trim())?.slice(1, 7).join(' ');
        const read = AWS_TIME_FIELDS.exec(date.toISOString())?.slice(1, 7).join(' ');
        expect(read, text).toBe(written);
      }),
      settings(),
    );
  });
});

describe('normalizeConnection, for any SDK-shaped record', () => {
  it('gives a connection with no NaN, invalid date or undefined, and names what it dropped', () => {
    fc.assert(
      fc.property(rawConnection, fc.string(), (raw, fallback) => {
        const c = normalizeConnection(raw, fallback);
        expectWellFormed(c);
        // A counter AWS sent but we could not read is named in `issues`, never silently lost.
        if (raw.IngressBytes !== undefined && raw.IngressBytes.trim() !== '') {
          if (c.ingressBytes === null) expect(c.issues.join('\n')).toContain('IngressBytes=');
        }
      }),
      settings(),
    );
  });

  it('gives JSON lines with exactly the documented columns and types', () => {
    fc.assert(
      fc.property(rawConnection, (raw) => {
        expectJsonLine(normalizeConnection(raw));
      }),
      settings(),
    );
  });

  it('gives summaries whose counts add up, and durations and sizes that read as text', () => {
    fc.assert(
      fc.property(fc.array(rawConnection, { maxLength: 20 }), (raws) => {
        const connections = raws.map((raw) => normalizeConnection(raw));
        const { total, byStatus } = summarize(connections);
        expect(total).toBe(connections.length);
        expect(Object.values(byStatus).reduce((sum, n) => sum + n, 0)).toBe(total);
        expect(sortConnections(connections)).toHaveLength(total);
        for (const c of connections) {
          const shown = [
            formatDuration(c.establishedAt, c.endedAt ?? NOW),
            formatBytes(c.ingressBytes),
            formatBytes(c.egressBytes),
            formatUtc(c.establishedAt),
            formatUtc(c.endedAt),
          ];
          for (const text of shown) expect(text).toMatch(/^(?:–|[0-9][0-9a-zA-Z .:-]*)$/);
        }
      }),
      settings(),
    );
  });
});

describe('CSV rows', () => {
  it('read back cell for cell with a strict RFC 4180 reader, formula starts defused', () => {
    fc.assert(
      fc.property(anyRecord, (record) => {
        const [cells, ...rest] = parseCsv(`${csvRow(record)}\n`);
        expect(rest).toEqual([]);
        expect(cells).toEqual(RECORD_COLUMNS.map((column) => expectedCell(record[column])));
        for (const cell of cells ?? []) expect(cell).not.toMatch(FORMULA_START);
      }),
      settings(),
    );
  });

  it('make a document of one header and one record per connection, whatever the names hold', () => {
    fc.assert(
      fc.property(fc.array(rawConnection, { maxLength: 8 }), (raws) => {
        const connections = raws.map((raw) => normalizeConnection(raw));
        const [header, ...rows] = parseCsv(toCsv(connections));
        expect(header?.join(',')).toBe(csvHeader());
        expect(rows).toHaveLength(connections.length);
        rows.forEach((cells, i) => {
          const record = toRecord(connections[i] as Connection);
          expect(cells).toEqual(RECORD_COLUMNS.map((column) => expectedCell(record[column])));
          const [, , , , , , , establishedAt, endedAt, ...counters] = cells;
          for (const time of [establishedAt, endedAt]) if (time) expect(time).toMatch(ISO_UTC);
          for (const counter of counters.slice(0, 4)) if (counter) expect(counter).toMatch(/^\d+$/);
        });
      }),
      settings(0.5),
    );
  });
});

describe('the strict CSV reader used above', () => {
  it('refuses what RFC 4180 refuses, so the properties above can fail', () => {
    expect(() => parseCsv('a"b\n')).toThrow('quote or CR');
    expect(() => parseCsv('"a"b\n')).toThrow('after a closing quote');
    expect(() => parseCsv('"a\n')).toThrow('unclosed quote');
    expect(() => parseCsv('a\rb\n')).toThrow('quote or CR');
    expect(parseCsv('a,"b,""c""\nd",\n')).toEqual([['a', 'b,"c"\nd', '']]);
  });
});

describe('parseAwsTime, on the counterexamples the properties found', () => {
  it.each([
    '0000-01-01 00:00:00',
    '0019-08-12 07:58:34',
    '2019-08-12 10:60:00',
    '2019-08-12 23:59:60',
    '2019-08-12 24:00:00',
  ])('refuses %s instead of reading another instant', (text) => {
    expect(parseAwsTime(text)).toBeNull();
  });
});
