/**
 * The flat record of a connection shared by the CLI's `--json` / `--csv`
 * output and the Slack CSV export: one set of columns everywhere.
 */
import type { Connection } from './connection.js';

export const RECORD_COLUMNS = [
  'endpointId',
  'connectionId',
  'username',
  'commonName',
  'status',
  'clientIp',
  'clientIpv6',
  'establishedAt',
  'endedAt',
  'ingressBytes',
  'egressBytes',
  'ingressPackets',
  'egressPackets',
  'postureCompliance',
] as const;

export type RecordColumn = (typeof RECORD_COLUMNS)[number];

export interface ConnectionRecord {
  endpointId: string;
  connectionId: string;
  username: string | null;
  commonName: string | null;
  status: string | null;
  clientIp: string | null;
  clientIpv6: string | null;
  /** ISO 8601 UTC with `Z`. */
  establishedAt: string | null;
  endedAt: string | null;
  ingressBytes: number | null;
  egressBytes: number | null;
  ingressPackets: number | null;
  egressPackets: number | null;
  /** Posture statuses joined with `;`, or `null` when AWS sent none. */
  postureCompliance: string | null;
}

/** The record of one connection, keys in `RECORD_COLUMNS` order. */
export function toRecord(c: Connection): ConnectionRecord {
  return {
    endpointId: c.endpointId,
    connectionId: c.connectionId,
    username: c.username,
    commonName: c.commonName,
    status: c.status,
    clientIp: c.clientIp,
    clientIpv6: c.clientIpv6,
    establishedAt: c.establishedAt?.toISOString() ?? null,
    endedAt: c.endedAt?.toISOString() ?? null,
    ingressBytes: c.ingressBytes,
    egressBytes: c.egressBytes,
    ingressPackets: c.ingressPackets,
    egressPackets: c.egressPackets,
    postureCompliance: c.postureCompliance.length > 0 ? c.postureCompliance.join(';') : null,
  };
}

/** One JSON line (no trailing newline). */
export function toJsonLine(c: Connection): string {
  return JSON.stringify(toRecord(c));
}

// Spreadsheet programs run a cell that starts with one of these as a formula;
// a VPN user name is attacker-chosen text, so such cells get a leading quote.
const FORMULA_START = /^[=+\-@\t\r]/;

function csvCell(value: string | number | null): string {
  if (value === null) return '';
  if (typeof value === 'number') return String(value);
  const safe = FORMULA_START.test(value) ? `'${value}` : value;
  return /[",\r\n]/.test(safe) ? `"${safe.replaceAll('"', '""')}"` : safe;
}

/** The CSV header line (no trailing newline). */
export function csvHeader(): string {
  return RECORD_COLUMNS.join(',');
}

/** One CSV row of a record (RFC 4180 quoting, no trailing newline). */
export function csvRow(record: ConnectionRecord): string {
  return RECORD_COLUMNS.map((column) => csvCell(record[column])).join(',');
}

/** One CSV row of a connection. */
export function toCsvRow(c: Connection): string {
  return csvRow(toRecord(c));
}

/** A whole CSV document with header and CRLF-free `\n` line ends. */
export function toCsv(connections: Iterable<Connection>): string {
  const lines = [csvHeader()];
  for (const c of connections) lines.push(toCsvRow(c));
  return `${lines.join('\n')}\n`;
}
