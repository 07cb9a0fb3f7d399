/**
 * The bot's App Home tab (issue 11): per endpoint the active sessions now and
 * those that ended in the last hour, the longest-running active sessions, the
 * last digest of each configured digest, the last 24 hours from the session
 * history (as figures, and as the chart when one was uploaded), and a Refresh
 * button. Pure: the input is gathered by `services/home.ts`. Every AWS- or
 * user-supplied string is escaped; every time is a `<!date>` token.
 */
import type { HomeInput, HomeSession, HomeUsage } from '../../services/home.js';
import { HOME_LONGEST } from '../../services/home.js';
import { formatCount, formatMilliseconds } from '../../vpn/format.js';
import { ACTION_HOME_REFRESH } from './ids.js';
import type { KnownBlock } from './limits.js';
import { dateToken, escapeMrkdwn, inlineCode, literal, truncate } from './mrkdwn.js';

/** A published Home tab. */
export interface HomeView {
  readonly type: 'home';
  readonly blocks: KnownBlock[];
}

/** Endpoint lines shown; the rest are counted in one line. */
export const HOME_MAX_ENDPOINTS = 60;
/** Slack's limit on blocks in a Home view. */
export const HOME_MAX_BLOCKS = 100;
const SECTION_TEXT = 2900;

export const HOME_DENIED_TEXT =
  ':no_entry: You are not allowed to use vpn-conns. Ask the bot’s owners to add you to `VPN_CONNS_ALLOWED`.';

const section = (text: string): KnownBlock => ({
  type: 'section',
  text: { type: 'mrkdwn', text: truncate(text, SECTION_TEXT) },
});
const header = (text: string): KnownBlock => ({
  type: 'header',
  text: { type: 'plain_text', text: truncate(text, 150) },
});
const context = (text: string): KnownBlock => ({
  type: 'context',
  elements: [{ type: 'mrkdwn', text: truncate(text, SECTION_TEXT) }],
});

/** Lines packed into as few sections as fit Slack's section text limit. */
function sections(lines: readonly string[]): KnownBlock[] {
  const out: KnownBlock[] = [];
  let current = '';
  for (const line of lines) {
    const next = current === '' ? line : `${current}\n${line}`;
    if (next.length > SECTION_TEXT && current !== '') {
      out.push(section(current));
      current = line;
    } else {
      current = next;
    }
  }
  if (current !== '') out.push(section(current));
  return out;
}

const count = (n: number | null) => (n === null ? ':warning: unreadable' : formatCount(n));

function endpointBlocks(input: HomeInput): KnownBlock[] {
  if (input.endpoints.length === 0) return [section('No endpoints are configured or found.')];
  const shown = input.endpoints.slice(0, HOME_MAX_ENDPOINTS);
  const lines = shown.map(
    (e) =>
      `*${literal(e.alias)}* ${inlineCode(e.id)} · active now: *${count(e.active)}* · ended in the last hour: ${count(e.endedLastHour)}`,
  );
  const rest = input.endpoints.length - shown.length;
  if (rest > 0) lines.push(`…and ${formatCount(rest)} more endpoints.`);
  const failed = input.endpoints.filter((e) => e.active === null).length;
  const blocks = sections(lines);
  if (failed > 0) {
    blocks.push(
      context(
        `:warning: ${formatCount(failed)} ${failed === 1 ? 'endpoint' : 'endpoints'} could not be read just now.`,
      ),
    );
  }
  return blocks;
}

function who(s: HomeSession): string {
  const name = s.username ?? s.commonName;
  return name === null || name === '' ? '(unknown)' : literal(truncate(name, 100));
}

function longestBlocks(input: HomeInput, now: Date): KnownBlock[] {
  const top = input.longest.slice(0, HOME_LONGEST);
  if (top.length === 0) return [section('Nobody is connected.')];
  return sections(
    top.map(
      (s, i) =>
        `${i + 1}. *${who(s)}* on ${literal(s.endpoint)} · ${inlineCode(s.clientIp)} · since ${dateToken(s.establishedAt)} (${formatMilliseconds(now.getTime() - s.establishedAt.getTime())})`,
    ),
  );
}

function digestBlocks(input: HomeInput): KnownBlock[] {
  if (input.digests === null) {
    return [section('Digests are not configured (`DIGEST_CHANNEL`).')];
  }
  return sections(
    input.digests.map(
      (d) =>
        `*${escapeMrkdwn(d.name)}* → <#${escapeMrkdwn(d.channel)}> · last posted: ${
          d.lastPostAt === null
            ? 'never'
            : `${dateToken(d.lastPostAt)} (${formatCount(d.sessions)} sessions)`
        }`,
    ),
  );
}

function usageBlocks(usage: HomeUsage | null): KnownBlock[] {
  if (usage === null) return [section('Session history is not available on this instance.')];
  const hours = (h: number) => `${h.toFixed(1)} h`;
  const blocks: KnownBlock[] = [
    section(
      `Sessions: *${formatCount(usage.sessions)}* · people: *${formatCount(usage.people)}* · connection-hours: *${hours(usage.connectionHours)}* · estimated cost: *${usage.estimatedCost.toFixed(2)} ${escapeMrkdwn(usage.currency)}*`,
    ),
  ];
  const lines = usage.endpoints
    .slice(0, HOME_MAX_ENDPOINTS)
    .map(
      (e) =>
        `*${literal(e.endpoint)}* · ${hours(e.connectionHours)} · peak ${formatCount(e.peak)}${e.peakAt ? ` at ${dateToken(e.peakAt)}` : ''}`,
    );
  blocks.push(...sections(lines));
  if (usage.chart !== null) {
    blocks.push({
      type: 'image',
      slack_file: { id: usage.chart.fileId },
      alt_text: truncate(usage.chart.altText, 2000),
    });
  }
  blocks.push(
    context(
      usage.historyStartsAt === null
        ? 'No history recorded yet.'
        : `History starts ${dateToken(usage.historyStartsAt)}. \`/vpn-conns report 24h\` posts the full report with its chart.`,
    ),
  );
  return blocks;
}

/**
 * The Home tab for someone allowed to use the bot, within Slack's view limits
 * (at most 100 blocks; section text under 3,000 characters).
 */
export function buildHomeView(input: HomeInput, now: Date): HomeView {
  const blocks: KnownBlock[] = [
    header('VPN connections'),
    {
      type: 'actions',
      elements: [
        {
          type: 'button',
          action_id: ACTION_HOME_REFRESH,
          text: { type: 'plain_text', text: 'Refresh' },
          value: 'refresh',
        },
      ],
    },
    context(`Updated ${dateToken(input.fetchedAt)}`),
    { type: 'divider' },
    header('Endpoints'),
    ...endpointBlocks(input),
    { type: 'divider' },
    header('Longest-running sessions'),
    ...longestBlocks(input, now),
    { type: 'divider' },
    header('Last digest'),
    ...digestBlocks(input),
    { type: 'divider' },
    header('Last 24 hours'),
    ...usageBlocks(input.usage),
  ];
  // Sections hold many lines each, so this stays far below the limit; cut rather than be refused.
  return { type: 'home', blocks: blocks.slice(0, HOME_MAX_BLOCKS) };
}

/** The Home tab for someone not allowed to use the bot: no data at all. */
export function buildHomeDeniedView(): HomeView {
  return { type: 'home', blocks: [header('vpn-conns'), section(HOME_DENIED_TEXT)] };
}

/** The Home tab when the endpoints could not be read at all: a short note and Refresh. */
export function buildHomeUnavailableView(now: Date): HomeView {
  return {
    type: 'home',
    blocks: [
      header('VPN connections'),
      section(
        `:warning: The VPN endpoints could not be read just now (${dateToken(now)}). Try Refresh in a minute.`,
      ),
      {
        type: 'actions',
        elements: [
          {
            type: 'button',
            action_id: ACTION_HOME_REFRESH,
            text: { type: 'plain_text', text: 'Refresh' },
            value: 'refresh',
          },
        ],
      },
    ],
  };
}
