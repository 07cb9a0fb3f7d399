/**
 * `vpn-conns history …` and `vpn-conns report …`: the same services as the
 * slash command, over the store `DATABASE_URL` names. History prints the
 * connections list (`--json`: the 14 keys of `list --json`; `--csv`: its
 * columns); a report prints one row per person (`--json`: one object per
 * line with exactly the keys of `REPORT_COLUMNS`; `--csv`: the same columns).
 */
import type { Config } from '../config.js';
import { reportCsv, reportJsonLines } from '../reports/rows.js';
import { runHistoryQuery, runReportQuery } from '../services/history.js';
import type { StateStore } from '../store/types.js';
import type { EndpointCatalogue } from '../vpn/catalogue.js';
import type { Connection } from '../vpn/connection.js';
import type { Endpoint } from '../vpn/endpoint.js';
import { formatBytes, formatCount, formatUtc } from '../vpn/format.js';
import type { HistoryQuery, ReportQuery } from '../vpn/query.js';
import { csvHeader, toCsvRow, toJsonLine } from '../vpn/records.js';
import { type Column, formatHeader, formatLine, widest } from './table.js';

export type StoredFormat = 'table' | 'json' | 'csv';

interface Out {
  write(chunk: string): Promise<void>;
}

export interface StoredDeps {
  readonly config: Config;
  readonly catalogue: EndpointCatalogue;
  readonly store: StateStore;
  readonly format: StoredFormat;
  readonly stdout: Out;
  readonly stderr: Out;
  readonly now: () => Date;
  /** Prints connections as the `list` table does. */
  readonly printTable: (
    connections: readonly Connection[],
    endpoints: readonly Endpoint[],
  ) => Promise<void>;
}

/** Runs a history or report query and prints it. @throws UsageError */
export async function runStoredQuery(
  query: HistoryQuery | ReportQuery,
  deps: StoredDeps,
): Promise<void> {
  const common = {
    store: deps.store,
    catalogue: deps.catalogue,
    region: deps.config.aws.region,
    timeZone: deps.config.history.timeZone,
    now: deps.now,
  };
  if (query.kind === 'history') {
    const answer = await runHistoryQuery(query, '', common);
    const { connections } = answer;
    if (deps.format === 'json') {
      await deps.stdout.write(connections.map((c) => `${toJsonLine(c)}\n`).join(''));
    } else if (deps.format === 'csv') {
      await deps.stdout.write(
        `${csvHeader()}\n${connections.map((c) => `${toCsvRow(c)}\n`).join('')}`,
      );
    } else {
      await deps.printTable(connections, answer.endpoints);
      if (connections.length === 0) await deps.stderr.write('No sessions.\n');
    }
    const starts = answer.historyStartsAt;
    await deps.stderr.write(
      starts === null ? 'No history recorded yet.\n' : `History starts ${formatUtc(starts)}.\n`,
    );
    return;
  }
  const { report, historyStartsAt } = await runReportQuery(query, {
    ...common,
    pricing: deps.config.pricing,
  });
  if (deps.format === 'json') {
    await deps.stdout.write(reportJsonLines(report));
    return;
  }
  if (deps.format === 'csv') {
    await deps.stdout.write(reportCsv(report));
    return;
  }
  await printReportTable(report, historyStartsAt, deps);
}

const money = (amount: number, currency: string) => `${amount.toFixed(2)} ${currency}`;

async function printReportTable(
  report: Awaited<ReturnType<typeof runReportQuery>>['report'],
  historyStartsAt: Date | null,
  deps: StoredDeps,
): Promise<void> {
  const t = report.totals;
  const head = [
    `Period: ${formatUtc(report.period.start)} – ${formatUtc(report.period.end)} (${report.period.timeZone})`,
    `Sessions: ${formatCount(t.sessions)} · people: ${formatCount(t.people)} · connection-hours: ${t.connectionHours.toFixed(2)} · in: ${formatBytes(t.ingressBytes)} · out: ${formatBytes(t.egressBytes)} · estimated cost: ${money(t.estimatedCost, report.currency)}`,
    ...report.endpoints.map(
      (e) =>
        `Peak on ${e.endpoint}: ${formatCount(e.peak.count)}${e.peak.at ? ` at ${formatUtc(e.peak.at)}` : ''}`,
    ),
    historyStartsAt === null
      ? 'No history recorded yet.'
      : `History starts ${formatUtc(historyStartsAt)}.`,
  ];
  await deps.stdout.write(`${head.join('\n')}\n\n`);
  const columns: Column[] = [
    {
      header: 'PERSON',
      width: Math.min(40, widest(report.people.map((p) => p.person))),
      cut: true,
    },
    { header: 'SESSIONS', width: 8, align: 'right' },
    { header: 'HOURS', width: 10, align: 'right' },
    { header: 'IN', width: 8, align: 'right' },
    { header: 'OUT', width: 8, align: 'right' },
    { header: 'COST', width: 0, align: 'right' },
  ];
  if (report.people.length === 0) {
    await deps.stderr.write('No sessions in this period.\n');
    return;
  }
  const lines = report.people.map((p) =>
    formatLine(columns, [
      p.person,
      formatCount(p.sessions),
      p.connectionHours.toFixed(2),
      formatBytes(p.ingressBytes),
      formatBytes(p.egressBytes),
      money(p.estimatedCost, report.currency),
    ]),
  );
  await deps.stdout.write(`${formatHeader(columns)}${lines.join('')}`);
}
