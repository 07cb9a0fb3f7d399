/**
 * Checking the audit trail of a bot harness started with `audit: true`: what a step added to the
 * store and to the log, which must agree, one row and one `audit` log line per step.
 */
import { expect } from 'vitest';
import type { AuditEntry } from '../../src/store/types.js';
import type { BotHarness } from './bot-harness.js';

/** How much audit there was before a step. */
export interface AuditMark {
  readonly rows: number;
  readonly lines: number;
}

function storeOf(bot: BotHarness) {
  if (!bot.store) throw new Error('start the harness with `audit: true`');
  return bot.store;
}

/** Counts the audit rows and log lines so far. */
export async function auditMark(bot: BotHarness): Promise<AuditMark> {
  const rows = await storeOf(bot).recentAudit(10_000);
  return { rows: rows.length, lines: bot.logEvents('audit').length };
}

/**
 * The one audit entry recorded since `mark`, checked against its log line: exactly one new row,
 * exactly one new `audit` line, with the same fields.
 */
export async function onlyAuditSince(bot: BotHarness, mark: AuditMark): Promise<AuditEntry> {
  const rows = await storeOf(bot).recentAudit(10_000);
  const lines = bot.logEvents('audit');
  expect(rows.length - mark.rows, 'new audit rows').toBe(1);
  expect(lines.length - mark.lines, 'new audit log lines').toBe(1);
  const [row] = rows;
  const line = lines[lines.length - 1];
  if (!row || !line) throw new Error('no audit entry');
  expect(typeof line.time).toBe('string');
  expect(line).toMatchObject({
    level: 'info',
    event: 'audit',
    at: row.at.toISOString(),
    teamId: row.teamId,
    userId: row.userId,
    channelId: row.channelId,
    action: row.action,
    detail: row.detail,
    endpoints: row.endpoints,
    outcome: row.outcome,
    requestIds: row.requestIds,
  });
  return row;
}
