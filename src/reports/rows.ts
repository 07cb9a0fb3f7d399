/**
 * The report's per-person rows, shared by `vpn-conns report --json` / `--csv`
 * and the CSV uploaded with the Slack message: one set of columns everywhere,
 * following src/vpn/records.ts (JSON lines; CSV with RFC 4180 quoting and
 * formula-prefix defusing, since a VPN user name is attacker-chosen text).
 */
import type { PersonUsage, UsageReport } from './usage.js';

export const REPORT_COLUMNS = [
  'person',
  'sessions',
  'connectionHours',
  'ingressBytes',
  'egressBytes',
  'estimatedCost',
] as const;

export type ReportColumn = (typeof REPORT_COLUMNS)[number];

/** One person's row: hours and cost unrounded, bytes as integers. */
export interface ReportRow {
  person: string;
  sessions: number;
  connectionHours: number;
  ingressBytes: number;
  egressBytes: number;
  estimatedCost: number;
}

/** The row of one person, keys in `REPORT_COLUMNS` order. */
export function toReportRow(p: PersonUsage): ReportRow {
  return {
    person: p.person,
    sessions: p.sessions,
    connectionHours: p.connectionHours,
    ingressBytes: Math.round(p.ingressBytes),
    egressBytes: Math.round(p.egressBytes),
    estimatedCost: p.estimatedCost,
  };
}

/** Everyone's rows, most connection-hours first (the report's order). */
export function reportRows(report: UsageReport): ReportRow[] {
  return report.people.map(toReportRow);
}

/** One JSON object per line, one line per person (each line ends with `\n`; empty for nobody). */
export function reportJsonLines(report: UsageReport): string {
  return report.people.map((p) => `${JSON.stringify(toReportRow(p))}\n`).join('');
}

// Same rule as src/vpn/records.ts: a cell starting with one of these runs as a formula.
const FORMULA_START = /^[=+\-@\t\r]/;

function csvCell(value: string | number): string {
  if (typeof value === 'number') return String(value);
  const safe = FORMULA_START.test(value) ? `'${value}` : value;
  return /[",\r\n]/.test(safe) ? `"${safe.replaceAll('"', '""')}"` : safe;
}

/** One CSV row (no trailing newline). */
export function reportCsvRow(row: ReportRow): string {
  return REPORT_COLUMNS.map((column) => csvCell(row[column])).join(',');
}

/** The whole CSV: a header line, then everyone, `\n` line ends. */
export function reportCsv(report: UsageReport): string {
  const lines = [REPORT_COLUMNS.join(',')];
  for (const p of report.people) lines.push(reportCsvRow(toReportRow(p)));
  return `${lines.join('\n')}\n`;
}
