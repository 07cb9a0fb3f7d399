/**
 * Ack latency and answer time of the slash command and the buttons, recorded by the real Bolt
 * app (HTTP mode, signed requests) into `/metrics`: each command and click observed once in
 * each histogram, by kind, beside its outcome counted once through the audit trail.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AccessConfig } from '../../src/config.js';
import { type AppMetrics, createMetrics } from '../../src/http/metrics.js';
import { generateFleet, TRICKY_USERNAMES } from '../../src/sandbox/vpn-data.js';
import { ACCESS_ACK_BUDGET_MS } from '../../src/slack/access-middleware.js';
import { ACTION_HOME_REFRESH, ACTION_PAGE_NEXT } from '../../src/slack/blocks/ids.js';
import { type Family, parsePrometheusText, sampleValue } from '../http/prometheus-text.js';
import { type BotHarness, HARNESS_USER_ID, startBotHarness } from '../support/bot-harness.js';

const NOW = new Date('2026-11-27T12:00:00Z');
const GROUP = 'S0OPS';
const GROUP_MEMBER = 'U0GROUPIE';
const STRANGER = 'U0STRANGER';
const ACCESS: AccessConfig = {
  allowed: { users: [HARNESS_USER_ID], groups: [GROUP], channels: [] },
  admins: { users: [], groups: [], channels: [] },
};

/** The scrape, through the strict reader (it throws on anything Prometheus would refuse). */
async function scrape(metrics: AppMetrics): Promise<Map<string, Family>> {
  return parsePrometheusText((await metrics.scrape()).body);
}

/** Count and sum of one histogram for one kind (0 when nothing was observed). */
async function histogram(metrics: AppMetrics, name: string, kind: 'command' | 'click') {
  const families = await scrape(metrics);
  return {
    count: sampleValue(families, `${name}_count`, { kind }) ?? 0,
    sum: sampleValue(families, `${name}_sum`, { kind }) ?? 0,
  };
}

const ack = (m: AppMetrics, kind: 'command' | 'click') =>
  histogram(m, 'vpn_conns_ack_latency_seconds', kind);
const answer = (m: AppMetrics, kind: 'command' | 'click') =>
  histogram(m, 'vpn_conns_answer_seconds', kind);

/** All outcomes of a counter summed, e.g. every command counted. */
async function total(metrics: AppMetrics, name: string): Promise<number> {
  const family = (await scrape(metrics)).get(name);
  return (family?.samples ?? []).reduce((sum, s) => sum + s.value, 0);
}

describe('ack latency and answer time (real Bolt app, /metrics)', () => {
  let bot: BotHarness;
  let metrics: AppMetrics;
  beforeAll(async () => {
    metrics = createMetrics({ defaultMetrics: false });
    bot = await startBotHarness({
      fleet: generateFleet({ endpoints: 1, connections: 45, now: NOW }),
      access: ACCESS,
      audit: true,
      metrics,
    });
    bot.slack.userGroups.set(GROUP, [GROUP_MEMBER]);
  });
  afterAll(() => bot.stop());

  it('observes a slash command once in each histogram, the answer after the ack, and counts it once', async () => {
    const sent = await bot.command('prod');
    expect(sent.status).toBe(200);
    expect(sent.json()?.text).toMatch(/^:hourglass_flowing_sand:/);
    await bot.waitForAnswer(sent.responseUrlId);

    // The answer is observed when respond() resolves, just after the stand-in has the post.
    await expect.poll(async () => (await answer(metrics, 'command')).count).toBe(1);
    const acked = await ack(metrics, 'command');
    const answered = await answer(metrics, 'command');
    expect(acked.count).toBe(1);
    expect(acked.sum).toBeGreaterThan(0);
    expect(answered.sum).toBeGreaterThan(0);
    // The ack carried "working…"; the answer came through the response_url after it.
    expect(answered.sum).toBeGreaterThanOrEqual(acked.sum);
    // Counted once, by outcome, through the audit trail; not again by the timing.
    expect(await total(metrics, 'vpn_conns_commands_total')).toBe(1);
    expect(await total(metrics, 'vpn_conns_clicks_total')).toBe(0);
    expect((await ack(metrics, 'click')).count).toBe(0);
  });

  it('observes a button click (Next page) as kind "click"', async () => {
    const before = { ack: await ack(metrics, 'click'), answer: await answer(metrics, 'click') };
    const sent = await bot.click(ACTION_PAGE_NEXT, JSON.stringify({ q: 'prod', p: 1 }));
    expect(sent.status).toBe(200);
    await bot.waitForAnswer(sent.responseUrlId);
    await expect
      .poll(async () => (await answer(metrics, 'click')).count)
      .toBe(before.answer.count + 1);
    const acked = await ack(metrics, 'click');
    const answered = await answer(metrics, 'click');
    expect(acked.count).toBe(before.ack.count + 1);
    expect(acked.sum).toBeGreaterThan(before.ack.sum);
    expect(answered.sum).toBeGreaterThan(before.answer.sum);
    expect(await total(metrics, 'vpn_conns_clicks_total')).toBe(1);
  });

  it('observes a refusal sent in the ack as both acked and answered', async () => {
    const before = { ack: await ack(metrics, 'command'), answer: await answer(metrics, 'command') };
    const sent = await bot.command('prod', { userId: STRANGER });
    expect(sent.json()?.text).toMatch(/not allowed/);
    await expect
      .poll(async () => (await answer(metrics, 'command')).count)
      .toBe(before.answer.count + 1);
    expect((await ack(metrics, 'command')).count).toBe(before.ack.count + 1);
    expect(bot.answers(sent.responseUrlId)).toEqual([]);
  });

  it('observes the App Home Refresh button: acked, then answered when the tab is published', async () => {
    const before = { ack: await ack(metrics, 'click'), answer: await answer(metrics, 'click') };
    const sent = await bot.click(ACTION_HOME_REFRESH, 'refresh');
    expect(sent.status).toBe(200);
    await expect
      .poll(async () => (await answer(metrics, 'click')).count)
      .toBe(before.answer.count + 1);
    expect((await ack(metrics, 'click')).count).toBe(before.ack.count + 1);
    expect(bot.slack.homeViews.size).toBeGreaterThan(0);
  });

  it('keeps every person out of the labels, and the scrape parses strictly', async () => {
    const families = await scrape(metrics);
    const values = new Set<string>();
    for (const family of families.values()) {
      for (const s of family.samples) {
        for (const [k, v] of Object.entries(s.labels)) if (k !== 'le') values.add(v);
      }
    }
    // Not vacuous: the timings and counts of the tests above are there, by kind and outcome.
    expect(values).toContain('command');
    expect(values).toContain('click');
    const people = [HARNESS_USER_ID, GROUP_MEMBER, STRANGER, ...TRICKY_USERNAMES];
    for (const person of people) expect(values).not.toContain(person);
    for (const name of bot.emulator.connections().map((c) => c.username ?? '')) {
      if (name !== '') expect(values).not.toContain(name);
    }
  });
});

describe('ack latency with a slow access check (real Bolt app)', () => {
  let bot: BotHarness;
  let metrics: AppMetrics;
  beforeAll(async () => {
    metrics = createMetrics({ defaultMetrics: false });
    bot = await startBotHarness({
      fleet: generateFleet({ endpoints: 1, connections: 5, now: NOW }),
      access: ACCESS,
      audit: true,
      metrics,
    });
    bot.slack.userGroups.set(GROUP, [GROUP_MEMBER]);
  });
  afterAll(() => bot.stop());

  it('includes a slow access check in the ack: acked at the budget, answered after the check', async () => {
    bot.slack.faults.slowNext('usergroups.users.list', ACCESS_ACK_BUDGET_MS + 500, 'before');
    const sent = await bot.command('prod', { userId: GROUP_MEMBER });
    expect(sent.json()?.text).toMatch(/Checking your access/);
    await bot.waitForAnswer(sent.responseUrlId);
    await expect.poll(async () => (await answer(metrics, 'command')).count).toBe(1);
    const acked = await ack(metrics, 'command');
    const answered = await answer(metrics, 'command');
    expect(acked.count).toBe(1);
    // Lower bounds only; a few ms off because Node's timers run on its cached loop time.
    expect(acked.sum).toBeGreaterThanOrEqual((ACCESS_ACK_BUDGET_MS - 20) / 1000);
    expect(answered.sum).toBeGreaterThanOrEqual((ACCESS_ACK_BUDGET_MS + 500 - 20) / 1000);
  });
});
