/**
 * `/vpn-conns history …` and `/vpn-conns report …` through the real Bolt app and the Slack
 * stand-in, over a SQLite store holding recorded sessions (the collector's tests cover how they
 * get there): the list with paging and CSV export, `at=` at a session's first and last second,
 * where history starts, the report's message with its chart and CSV, and the audit trail.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPORT_COLUMNS } from '../../src/reports/rows.js';
import { validateBlocks } from '../../src/sandbox/block-kit-limits.js';
import { connectionId, endpointId } from '../../src/sandbox/vpn-data.js';
import { ACTION_EXPORT_CSV, ACTION_PAGE_NEXT, PAGE_SIZE } from '../../src/slack/blocks/ids.js';
import type { ObservedSession } from '../../src/store/types.js';
import { auditMark, onlyAuditSince } from '../support/audit-check.js';
import {
  type BotHarness,
  createTestClock,
  type SentRequest,
  startBotHarness,
} from '../support/bot-harness.js';
import { allText, buttonsWith, type MessageBody } from '../support/slack-message.js';

const NOW = new Date('2026-12-01T12:00:00Z');
const HOUR = 3_600_000;
const PROD = endpointId(30);
const DEV = endpointId(31);
const ago = (hours: number) => new Date(NOW.getTime() - hours * HOUR);

function session(
  n: number,
  endpoint: string,
  start: Date,
  end: Date | null,
  username: string,
): ObservedSession {
  return {
    endpointId: endpoint,
    connectionId: connectionId(n),
    username,
    commonName: `${username}.example`,
    clientIp: `10.0.0.${n % 250}`,
    clientIpv6: null,
    status: end === null ? 'active' : 'terminated',
    postureCompliance: [],
    startedAt: start,
    endedAt: end,
    ingressBytes: 1_000 * n,
    egressBytes: 500 * n,
    ingressPackets: n,
    egressPackets: n,
  };
}

let bot: BotHarness;

beforeAll(async () => {
  bot = await startBotHarness({
    fleet: {
      endpoints: [
        { id: PROD, name: 'prod' },
        { id: DEV, name: 'dev' },
      ],
      connections: [],
    },
    endpoints: `prod=${PROD},dev=${DEV}`,
    clock: createTestClock(NOW, { running: false }),
    history: { pricing: { currency: 'USD', perConnectionHour: 0.1 } },
    audit: true,
  });
  const store = bot.store;
  if (!store) throw new Error('no store');
  // History starts 48 hours ago; bob's two sessions, carol's one, and 30 short ones on dev.
  await store.recordHistory({
    endpointId: PROD,
    at: ago(48),
    sessions: [session(1, PROD, ago(50), ago(40), 'bob')],
    active: 1,
  });
  await store.recordHistory({
    endpointId: PROD,
    at: ago(1),
    sessions: [session(2, PROD, ago(10), ago(8), 'bob'), session(3, PROD, ago(6), null, 'carol')],
    active: 1,
  });
  await store.recordHistory({
    endpointId: DEV,
    at: ago(1),
    sessions: Array.from({ length: 30 }, (_, i) =>
      session(100 + i, DEV, ago(20 - i / 10), ago(19 - i / 10), `dev${i}`),
    ),
    active: 0,
  });
});
afterAll(() => bot.stop());

async function answerTo(sent: SentRequest): Promise<MessageBody> {
  return (await bot.waitForAnswer(sent.responseUrlId)).body;
}

describe('/vpn-conns history', () => {
  it('lists the sessions of the last 24 hours on every endpoint, says since when history exists, and pages', async () => {
    const body = await answerTo(await bot.command('history'));
    const text = allText(body);
    expect(validateBlocks(body.blocks)).toEqual([]);
    expect(text).toContain('history starts 2026-11-29 12:00 UTC');
    expect(text).toContain('sessions since 2026-11-30 12:00 UTC');
    expect(text).toContain('page 1 of 2');
    // Bob's session of 50 hours ago is outside the window; carol's active one is in.
    expect(text).not.toContain(connectionId(1));
    expect(text).toContain(connectionId(3));
    const [next] = buttonsWith(body, ACTION_PAGE_NEXT);
    const click = await bot.click(ACTION_PAGE_NEXT, next?.value ?? '');
    const page2 = (await bot.waitForAnswer(click.responseUrlId)).body;
    expect(allText(page2)).toContain('page 2 of 2');
    expect(PAGE_SIZE).toBeLessThan(32);
  });

  it('answers who was connected at a moment, from the first to the last second of a session', async () => {
    const at = async (iso: string) =>
      allText(await answerTo(await bot.command(`history at=${iso}`)));
    // Session 2: 02:00 to 04:00 UTC on 1 December.
    expect(await at('2026-12-01T02:00:00Z')).toContain(connectionId(2));
    expect(await at('2026-12-01T04:00:00Z')).toContain(connectionId(2));
    expect(await at('2026-12-01T04:00:01Z')).not.toContain(connectionId(2));
    // Before collection began, for the sessions it saw: session 1 started 50 hours ago.
    const early = await at('2026-11-29T11:00Z');
    expect(early).toContain(connectionId(1));
    expect(early).toContain('connected at 2026-11-29 11:00 UTC');
  });

  it('finds one person since a date, and exports the same rows as CSV', async () => {
    const mark = await auditMark(bot);
    const body = await answerTo(await bot.command('history user bob prod since=2026-11-28'));
    const text = allText(body);
    expect(text).toContain(connectionId(1));
    expect(text).toContain(connectionId(2));
    expect(text).not.toContain(connectionId(3));
    const [exportButton] = buttonsWith(body, ACTION_EXPORT_CSV);
    const before = bot.slack.files.length;
    await bot.click(ACTION_EXPORT_CSV, exportButton?.value ?? '');
    const file = await bot.slack.waitFor(() => bot.slack.files[before]);
    const rows = file.content.trimEnd().split('\n').slice(1);
    expect(rows.map((row) => row.split(',')[1]).sort()).toEqual(
      [connectionId(1), connectionId(2)].sort(),
    );
    // The click is audited after its upload: wait for it, so the next test counts only its own.
    await bot.slack.waitFor(() => bot.logEvents('audit').length >= mark.lines + 2);
  });

  it('names a bad date and is recorded in the audit trail', async () => {
    const mark = await auditMark(bot);
    const sent = await bot.command('history since=yesterday');
    // A usage error is the acknowledgement itself.
    const body = JSON.parse(sent.body) as MessageBody;
    expect(allText(body)).toContain('`yesterday`');
    expect(await onlyAuditSince(bot, mark)).toMatchObject({ outcome: 'usage-error' });
  });
});

describe('/vpn-conns report', () => {
  it('posts the usage message, then uploads the chart and everyone as CSV to the asker', async () => {
    const mark = await auditMark(bot);
    const before = bot.slack.files.length;
    const body = await answerTo(await bot.command('report 7d'));
    expect(validateBlocks(body.blocks)).toEqual([]);
    const text = allText(body);
    expect(text).toContain('last 7 days');
    expect(text).toContain('History starts');
    await bot.slack.waitFor(() => bot.slack.files[before + 1]);
    const [png, csv] = bot.slack.files.slice(before);
    expect(png?.filename).toMatch(/^vpn-conns-report-7d-20261201-1200\.png$/);
    expect(csv?.filename).toMatch(/^vpn-conns-report-7d-20261201-1200\.csv$/);
    expect(png?.channelId).toBe(bot.slack.directMessageOf('U0TESTER'));
    const lines = csv?.content.trimEnd().split('\n') ?? [];
    expect(lines[0]).toBe(REPORT_COLUMNS.join(','));
    // Bob: 10 h + 2 h, bytes 1,000 + 2,000 in; carol: 6 h up to now; 30 people on dev, 1 h each.
    // At 0.10 USD per connection-hour.
    expect(lines).toHaveLength(1 + 32);
    expect(lines[1]).toBe('bob,2,12,3000,1500,1.2');
    expect(lines[2]).toMatch(/^carol,1,6,3000,1500,0\.6(0000000000000\d)?$/);
    expect(await onlyAuditSince(bot, mark)).toMatchObject({
      outcome: 'ok',
      endpoints: ['prod', 'dev'],
    });
  });
});
