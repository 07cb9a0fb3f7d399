/**
 * The answers to `history` and `report` (issue 11). History is the usual
 * connections list (paging, Export CSV) over recorded sessions, with the
 * window and where history starts in its context line. A report is the
 * message of `buildReportMessage`, plus two files the command listener
 * uploads after it: the chart (PNG, drawn on the report path only, so the
 * charting library loads when someone asks) and everyone's rows (CSV).
 */
import type { Pricing } from '../reports/usage.js';
import {
  type HistoryAnswer,
  type HistoryStore,
  runHistoryQuery,
  runReportQuery,
} from '../services/history.js';
import { formatQuery, type HistoryQuery, type ReportQuery } from '../vpn/query.js';
import type { Answer, AnswerContext, AnswerDeps } from './answer.js';
import { buildConnectionsMessage } from './blocks/connections.js';
import { formatInZone } from './blocks/digest.js';
import type { SlackMessage } from './blocks/limits.js';
import { buildReportMessage, periodTitle } from './blocks/report.js';

/** What history and reports need beyond the other answers; absent, they say so. */
export interface HistoryAnswerDeps {
  readonly store: HistoryStore;
  /** Region of endpoint ids typed without being configured. */
  readonly region: string;
  /** Where dates without an offset are read (`DIGEST_TIMEZONE`, else UTC). */
  readonly timeZone: string;
  readonly pricing: Pricing;
}

/** A file to upload with an answer (the report's chart and CSV). */
export interface AnswerUpload {
  readonly filename: string;
  readonly title: string;
  readonly content: Buffer | string;
  /** Alt text of an image. */
  readonly altText?: string;
}

export const HISTORY_OFF: SlackMessage = {
  text: 'Session history is not available here.',
  blocks: [
    {
      type: 'section',
      text: {
        type: 'mrkdwn',
        text: ':card_index_dividers: Session history is not available on this instance.',
      },
    },
  ],
};

/** `since 2026-12-01 14:00 (UTC) · history starts 2026-12-01 15:00 UTC`: plain text, escaped by the builder. */
export function historyNote(answer: HistoryAnswer, timeZone: string): string {
  const w = answer.window;
  const window =
    w.kind === 'at'
      ? `connected at ${formatInZone(w.at, timeZone)} ${timeZone}`
      : `sessions since ${formatInZone(w.from, timeZone)} ${timeZone}`;
  const starts =
    answer.historyStartsAt === null
      ? 'no history recorded yet'
      : `history starts ${formatInZone(answer.historyStartsAt, timeZone)} ${timeZone}`;
  return `${window} · ${starts}`;
}

/** The title of a history answer: whose, where. */
export function historyTitle(answer: HistoryAnswer): string {
  const aliases = answer.endpoints.map((e) => e.alias);
  const where = aliases.length > 3 ? `${aliases.length} endpoints` : aliases.join(', ');
  return `History: ${answer.user === null ? where : `${answer.user} on ${where}`}`;
}

/** `user me` becomes the asker's ID in buttons, so a click by someone else shows the same. */
function pinned(query: HistoryQuery, ctx: AnswerContext): HistoryQuery {
  if (query.who?.kind !== 'me') return query;
  return { ...query, who: { kind: 'slack-user', userId: ctx.userId } };
}

/** Runs a history query for the asker. @throws UsageError */
export function runHistory(
  query: HistoryQuery,
  ctx: AnswerContext,
  deps: AnswerDeps,
  history: HistoryAnswerDeps,
): Promise<HistoryAnswer> {
  return runHistoryQuery(query, ctx.userId, {
    store: history.store,
    catalogue: deps.catalogue,
    region: history.region,
    timeZone: history.timeZone,
    now: deps.now,
    directory: deps.identity,
  });
}

/** The answer to `history …`. Throws what `runHistory` throws. */
export async function answerHistory(
  query: HistoryQuery,
  ctx: AnswerContext,
  deps: AnswerDeps,
): Promise<Answer> {
  const history = deps.history;
  if (!history) return { message: HISTORY_OFF, isError: true, outcome: 'unavailable' };
  const answer = await runHistory(query, ctx, deps, history);
  const aliases = new Map(answer.endpoints.map((e) => [e.id, e.alias]));
  const message = buildConnectionsMessage({
    title: historyTitle(answer),
    connections: answer.connections,
    page: ctx.page,
    queryText: formatQuery(pinned(query, ctx)),
    failures: [],
    aliasOf: (id) => aliases.get(id) ?? id,
    fetchedAt: answer.fetchedAt,
    now: deps.now(),
    statusesNote: historyNote(answer, history.timeZone),
  });
  return {
    message,
    isError: false,
    outcome: 'ok',
    endpoints: answer.endpoints.map((e) => e.alias),
  };
}

/** `vpn-conns-report-7d-20261201-1400` */
function reportFileStem(query: ReportQuery, at: Date): string {
  const stamp = at.toISOString().slice(0, 16).replace(/[-:]/g, '').replace('T', '-');
  return `vpn-conns-report-${query.period}-${stamp}`;
}

/** The answer to `report …`: the message, and the chart and CSV to upload with it. */
export async function answerReport(query: ReportQuery, deps: AnswerDeps): Promise<Answer> {
  const history = deps.history;
  if (!history) return { message: HISTORY_OFF, isError: true, outcome: 'unavailable' };
  const { report, endpoints, historyStartsAt } = await runReportQuery(query, {
    store: history.store,
    catalogue: deps.catalogue,
    region: history.region,
    timeZone: history.timeZone,
    now: deps.now,
    pricing: history.pricing,
  });
  const message = buildReportMessage({ report, period: query.period, historyStartsAt });
  // Loaded here only: the charting library is large, and only reports draw.
  const [{ renderUsageChart }, { reportCsv }] = await Promise.all([
    import('../reports/chart.js'),
    import('../reports/rows.js'),
  ]);
  const title = `VPN usage · ${periodTitle(query.period)}`;
  const chart = await renderUsageChart(report, { title });
  const stem = reportFileStem(query, report.now);
  return {
    message,
    isError: false,
    outcome: 'ok',
    endpoints: endpoints.map((e) => e.alias),
    uploads: [
      { filename: `${stem}.png`, title, content: chart.png, altText: chart.altText },
      { filename: `${stem}.csv`, title: `${title} (everyone)`, content: reportCsv(report) },
    ],
  };
}
