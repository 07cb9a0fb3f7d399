/**
 * The usage report message (Block Kit): a pure function of a `UsageReport`.
 * Totals, peak concurrent sessions per endpoint (with `<!date>` tokens), the
 * top people by connection-hours, the estimated cost, and where history
 * starts; everyone is in the CSV that goes with it (src/reports/rows.ts).
 * Every name is escaped; the limits guard has the last word.
 */
import type { types } from '@slack/bolt';
import type { ReportPeriodWord } from '../../reports/period.js';
import type { UsageReport } from '../../reports/usage.js';
import { formatBytes, formatCount } from '../../vpn/format.js';
import { formatInZone } from './digest.js';
import { guardMessage, type SlackMessage } from './limits.js';
import { dateToken, escapeMrkdwn, literal, truncate } from './mrkdwn.js';

type KnownBlock = types.KnownBlock;

/** People listed in the message; everyone is in the CSV. */
export const MAX_LISTED_PEOPLE = 15;
/** Endpoints listed with their peak; the rest are summed up in one line. */
export const MAX_LISTED_ENDPOINTS = 20;
const LINES_PER_SECTION = 10;

export interface ReportView {
  readonly report: UsageReport;
  /** The period as asked (`7d`, `last-month`…), for the title. */
  readonly period: ReportPeriodWord;
  /** The first recorded moment of history; `null` when nothing is recorded yet. */
  readonly historyStartsAt: Date | null;
}

const PERIOD_TITLES: Readonly<Record<ReportPeriodWord, string>> = {
  '24h': 'last 24 hours',
  '7d': 'last 7 days',
  '30d': 'last 30 days',
  month: 'this month',
  'last-month': 'last month',
  'last-7d': 'last 7 days',
};

/** `last 7 days`, `this month`: the period's words in a title. */
export function periodTitle(period: ReportPeriodWord): string {
  return PERIOD_TITLES[period];
}

/** `1 session`, `2,345 sessions`. */
function counted(n: number, noun: string, plural = `${noun}s`): string {
  return `${formatCount(n)} ${n === 1 ? noun : plural}`;
}

/** Connection-hours for people: `0.15 h`, `7.5 h`, `1,234 h`. */
export function formatHours(hours: number): string {
  if (!Number.isFinite(hours) || hours <= 0) return '0 h';
  const digits = hours >= 100 ? 0 : hours >= 10 ? 1 : 2;
  const text = new Intl.NumberFormat('en-US', { maximumFractionDigits: digits }).format(hours);
  return `${text === '0' ? '< 0.01' : text} h`;
}

/** Money with its currency: `$4.68`, `< $0.01`; an unknown code as `4.68 XYZ`. */
export function formatMoney(amount: number, currency: string): string {
  let format: (n: number) => string;
  try {
    const f = new Intl.NumberFormat('en-US', {
      style: 'currency',
      currency,
      minimumFractionDigits: 2,
      maximumFractionDigits: 2,
    });
    format = (n) => f.format(n);
  } catch {
    // Unknown to Intl: letters only, so a bad code cannot carry markup.
    format = (n) => `${n.toFixed(2)} ${currency.replace(/[^A-Za-z]/g, '')}`;
  }
  if (amount > 0 && amount < 0.005) return `< ${format(0.01)}`;
  return format(amount);
}

function section(text: string): KnownBlock {
  return { type: 'section', text: { type: 'mrkdwn', text: truncate(text, 3000) } };
}

function context(text: string): KnownBlock {
  return { type: 'context', elements: [{ type: 'mrkdwn', text: truncate(text, 2000) }] };
}

function zoned(date: Date, timeZone: string): string {
  return `${formatInZone(date, timeZone)} ${timeZone}`;
}

/** A name in bold-safe mrkdwn, cut after escaping so the escaped text stays short. */
function name(text: string): string {
  return truncate(literal(text), 80);
}

/**
 * A titled list as sections of at most {@link LINES_PER_SECTION} lines, so no
 * section nears Slack's 3,000 characters and a cut never falls mid-line.
 */
function chunked(title: string, lines: readonly string[]): KnownBlock[] {
  const blocks: KnownBlock[] = [];
  for (let i = 0; i < lines.length; i += LINES_PER_SECTION) {
    const part = lines.slice(i, i + LINES_PER_SECTION).join('\n');
    blocks.push(section(i === 0 ? `${title}\n${part}` : part));
  }
  return blocks;
}

function peaksSection(view: ReportView): KnownBlock[] {
  const { report } = view;
  const zone = report.period.timeZone;
  if (report.endpoints.length === 0) return [];
  const lines = report.endpoints.slice(0, MAX_LISTED_ENDPOINTS).map((e) => {
    const when = e.peak.at ? ` at ${dateToken(e.peak.at, zoned(e.peak.at, zone))}` : '';
    return (
      `• *${name(e.endpoint)}*: ${counted(e.peak.count, 'session')}${when} · ` +
      `${formatHours(e.connectionHours)} · ${formatMoney(e.estimatedCost, report.currency)}`
    );
  });
  const more = report.endpoints.length - MAX_LISTED_ENDPOINTS;
  if (more > 0) lines.push(`…and ${counted(more, 'more endpoint')}`);
  return chunked('*Peak concurrent sessions*', lines);
}

function peopleSection(view: ReportView): KnownBlock[] {
  const { report } = view;
  if (report.people.length === 0) return [];
  const lines = report.people
    .slice(0, MAX_LISTED_PEOPLE)
    .map(
      (p, i) =>
        `${i + 1}. *${name(p.person)}* — ${formatHours(p.connectionHours)} · ` +
        `${counted(p.sessions, 'session')} · ${formatMoney(p.estimatedCost, report.currency)} · ` +
        `↓ ${formatBytes(p.ingressBytes)} ↑ ${formatBytes(p.egressBytes)}`,
    );
  const title =
    report.people.length > MAX_LISTED_PEOPLE
      ? `*Top ${MAX_LISTED_PEOPLE} of ${formatCount(report.people.length)} people by connection-hours*`
      : '*People by connection-hours*';
  return chunked(title, lines);
}

function costSection(report: UsageReport): KnownBlock {
  const prices = [...new Set(report.endpoints.map((e) => e.pricePerConnectionHour))];
  const rate =
    prices.length === 1
      ? `${formatMoney(prices[0] ?? 0, report.currency)} per connection-hour`
      : 'each endpoint’s price per connection-hour';
  return section(
    `*Estimated cost: ${formatMoney(report.totals.estimatedCost, report.currency)}* ` +
      `(${escapeMrkdwn(report.currency)}) — ${formatHours(report.totals.connectionHours)} × ${rate}. ` +
      'AWS also bills each endpoint’s subnet associations by the hour; that is not included.',
  );
}

/** Builds the report message. */
export function buildReportMessage(view: ReportView): SlackMessage {
  const { report } = view;
  const zone = report.period.timeZone;
  const { start, end } = report.period;
  const t = report.totals;
  const title = `VPN usage · ${periodTitle(view.period)}`;
  const span =
    `${dateToken(start, zoned(start, zone))} – ${dateToken(end, zoned(end, zone))}` +
    ` · days in ${escapeMrkdwn(zone)}`;
  const totals =
    t.sessions === 0
      ? 'No VPN sessions in this period.'
      : `*${counted(t.sessions, 'session')}* · ${counted(t.people, 'person', 'people')} · ` +
        `${formatHours(t.connectionHours)} connected · ↓ ${formatBytes(t.ingressBytes)} ↑ ${formatBytes(t.egressBytes)} · ` +
        `est. ${formatMoney(t.estimatedCost, report.currency)}`;

  const blocks: KnownBlock[] = [
    { type: 'header', text: { type: 'plain_text', text: truncate(title, 150), emoji: true } },
    section(`${span}\n${totals}`),
  ];
  blocks.push(...peaksSection(view), ...peopleSection(view));
  if (t.sessions > 0) blocks.push(costSection(report));

  const history = view.historyStartsAt
    ? `History starts ${dateToken(view.historyStartsAt, zoned(view.historyStartsAt, zone))}: the report counts only sessions seen since then.`
    : 'No history recorded yet: the report counts only sessions the bot has seen.';
  const csv =
    t.people > 0
      ? ` The attached CSV has everyone (${counted(t.people, 'person', 'people')}).`
      : '';
  blocks.push(context(`${history}${csv}`));

  const text =
    `${title}: ${counted(t.sessions, 'session')}, ${counted(t.people, 'person', 'people')}, ` +
    `${formatHours(t.connectionHours)}, est. ${formatMoney(t.estimatedCost, report.currency)}`;
  const guarded = guardMessage({ text: escapeMrkdwn(text), blocks });
  return { text: guarded.text, blocks: guarded.blocks };
}
