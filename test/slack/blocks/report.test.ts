import { describe, expect, it } from 'vitest';
import { parseReportPeriod } from '../../../src/reports/period.js';
import {
  type SessionRecord,
  summarizeUsage,
  type UsageReport,
} from '../../../src/reports/usage.js';
import { validateBlocks } from '../../../src/sandbox/block-kit-limits.js';
import { MESSAGE_LIMITS } from '../../../src/slack/blocks/limits.js';
import {
  buildReportMessage,
  formatHours,
  formatMoney,
  MAX_LISTED_PEOPLE,
} from '../../../src/slack/blocks/report.js';

const HOUR = 3_600_000;
const now = new Date('2026-11-30T08:00:00Z');
const period = parseReportPeriod('last-7d', now, 'Europe/Berlin');

function session(endpoint: string, who: string, startHour: number, hours: number): SessionRecord {
  const start = period.start.getTime() + startHour * HOUR;
  return {
    endpoint,
    connectionId: `cvpn-connection-${who}-${startHour}`,
    username: who,
    commonName: null,
    authentication: ['federated-authentication'],
    start: new Date(start),
    end: new Date(start + hours * HOUR),
    ingressBytes: 1_500_000,
    egressBytes: 250_000,
  };
}

function report(sessions: SessionRecord[], endpoints?: string[]): UsageReport {
  return summarizeUsage({ sessions, period, now, ...(endpoints ? { endpoints } : {}) });
}

function allText(message: { text: string; blocks: unknown[] }): string {
  return JSON.stringify(message.blocks);
}

describe('buildReportMessage', () => {
  const small = report([
    session('prod', 'alice', 10, 8),
    session('prod', 'bob', 12, 2.5),
    session('lab', 'carol', 30, 1),
  ]);
  const historyStartsAt = new Date('2026-11-16T14:00:00Z');
  const message = buildReportMessage({ report: small, period: 'last-7d', historyStartsAt });
  const text = allText(message);

  it('titles the period and states the totals, with the period as date tokens', () => {
    expect(message.blocks[0]).toEqual({
      type: 'header',
      text: { type: 'plain_text', text: 'VPN usage · last 7 days', emoji: true },
    });
    expect(text).toContain(
      `<!date^${period.start.getTime() / 1000}^{date_short_pretty} {time}|2026-11-23 00:00 Europe/Berlin>`,
    );
    expect(text).toContain(
      '*3 sessions* · 3 people · 11.5 h connected · ↓ 4.5 MB ↑ 750 KB · est. $0.58',
    );
    expect(message.text).toBe('VPN usage · last 7 days: 3 sessions, 3 people, 11.5 h, est. $0.58');
  });

  it('gives each endpoint’s peak with when it happened', () => {
    const at = (period.start.getTime() + 12 * HOUR) / 1000;
    expect(text).toContain(
      `• *prod*: 2 sessions at <!date^${at}^{date_short_pretty} {time}|2026-11-23 12:00 Europe/Berlin> · 10.5 h · $0.53`,
    );
    expect(text).toContain('• *lab*: 1 session at');
  });

  it('lists people by connection-hours with sessions, cost and bytes', () => {
    expect(text).toContain(
      '*People by connection-hours*\\n1. *alice* — 8 h · 1 session · $0.40 · ↓ 1.5 MB ↑ 250 KB\\n2. *bob* — 2.5 h',
    );
  });

  it('says what the cost counts, with the currency', () => {
    expect(text).toContain('*Estimated cost: $0.58* (USD) — 11.5 h × $0.05 per connection-hour.');
  });

  it('says where history starts and that the CSV has everyone', () => {
    const starts = historyStartsAt.getTime() / 1000;
    expect(text).toContain(
      `History starts <!date^${starts}^{date_short_pretty} {time}|2026-11-16 15:00 Europe/Berlin>`,
    );
    expect(text).toContain('The attached CSV has everyone (3 people).');
  });

  it('fits Block Kit', () => {
    expect(validateBlocks(message.blocks)).toEqual([]);
  });

  it('escapes names so they cannot ping, link or format', () => {
    const hostile = report([
      session('prod', '<!channel> *boss*', 0, 1),
      session('prod', '<https://evil.example|click>', 2, 1),
    ]);
    const t = allText(buildReportMessage({ report: hostile, period: '7d', historyStartsAt: null }));
    expect(t).not.toContain('<!channel>');
    expect(t).not.toContain('<https://evil');
    expect(t).toContain('&lt;!channel&gt; \u200B*boss\u200B*');
    expect(t).toContain('No history recorded yet');
  });

  it('lists the top 15 of many people, and stays within the limits with 2,000 long names and 60 endpoints', () => {
    const sessions: SessionRecord[] = [];
    for (let i = 0; i < 2000; i += 1) {
      sessions.push(
        session(`endpoint-${i % 60}`, `${'&<>*_~`'.repeat(20)}person-${i}`, i % 100, 1 + (i % 7)),
      );
    }
    const big = buildReportMessage({
      report: report(sessions),
      period: '30d',
      historyStartsAt: historyStartsAt,
    });
    expect(validateBlocks(big.blocks)).toEqual([]);
    const t = allText(big);
    expect(t).toContain(`*Top ${MAX_LISTED_PEOPLE} of 2,000 people by connection-hours*`);
    expect(t).toContain('\\n15. *');
    expect(t).not.toContain('scissors'); // nothing had to be cut
    expect(t).not.toContain('\\n16. *');
    expect(t).toContain('…and 40 more endpoints');
    expect(big.text.length).toBeLessThanOrEqual(MESSAGE_LIMITS.topLevelText);
  });

  it('says so when nothing happened, listing the endpoints asked about', () => {
    const empty = buildReportMessage({
      report: report([], ['prod']),
      period: '24h',
      historyStartsAt,
    });
    const t = allText(empty);
    expect(t).toContain('No VPN sessions in this period.');
    expect(t).toContain('• *prod*: 0 sessions · 0 h · $0.00');
    expect(t).not.toContain('CSV');
    expect(validateBlocks(empty.blocks)).toEqual([]);
  });
});

describe('formatHours and formatMoney', () => {
  it('shows hours with sensible precision', () => {
    expect([0, 0.004, 0.15, 7.5, 12.25, 1234.4].map(formatHours)).toEqual([
      '0 h',
      '< 0.01 h',
      '0.15 h',
      '7.5 h',
      '12.3 h',
      '1,234 h',
    ]);
  });

  it('shows money in its currency, tiny amounts as less than a cent', () => {
    expect(formatMoney(4.6825, 'USD')).toBe('$4.68');
    expect(formatMoney(0.0025, 'USD')).toBe('< $0.01');
    expect(formatMoney(3, 'EUR')).toBe('€3.00');
    expect(formatMoney(3, '<b>')).toBe('3.00 b');
  });
});
