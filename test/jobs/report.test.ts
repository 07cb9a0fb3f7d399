/**
 * Scheduled usage reports: the real job over a SQLite store holding recorded sessions, the
 * endpoint catalogue over the EC2 emulator, and the real Slack poster against the stand-in. A
 * period is posted once, whatever the number of runs or instances; the chart and the CSV go in
 * the message's thread.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfiguredRetryStrategy } from '@smithy/core/retry';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAwsGateway } from '../../src/aws/gateway.js';
import type { ReportConfig } from '../../src/config.js';
import { createLeadership } from '../../src/jobs/leadership.js';
import { createReportJobs, type ReportJobDeps } from '../../src/jobs/report.js';
import { runJob } from '../../src/jobs/scheduler.js';
import { createLogger } from '../../src/logger.js';
import { type Ec2Emulator, startEc2Emulator } from '../../src/sandbox/ec2-emulator.js';
import { type SlackStandIn, startSlackStandIn } from '../../src/sandbox/slack-stand-in.js';
import { connectionId, endpointId } from '../../src/sandbox/vpn-data.js';
import { createSlackReportPoster, REPORT_EVENT_TYPE } from '../../src/slack/report-poster.js';
import { openStore } from '../../src/store/index.js';
import type { StateStore } from '../../src/store/types.js';
import { createEndpointCatalogue } from '../../src/vpn/catalogue.js';

const PROD = endpointId(40);
const TOKEN = 'xoxb-reports';
const WEEKLY: ReportConfig = {
  name: 'weekly',
  channel: 'C0REPORTS',
  cron: '0 9 * * 1',
  period: 'last-7d',
  timezone: 'Europe/Berlin',
  endpoints: 'all',
};
// Monday 7 December 2026, 09:00 in Berlin: the period is Monday 30 November to Monday 7, 00:00.
const TICK = new Date('2026-12-07T08:00:00Z');
const dir = mkdtempSync(join(tmpdir(), 'vpn-conns-reports-'));
let emulator: Ec2Emulator;
let slack: SlackStandIn;
let store: StateStore;

function deps(overrides: Partial<ReportJobDeps> = {}, lines: string[] = []): ReportJobDeps {
  const logger = createLogger('warn', (line) => lines.push(String(JSON.parse(line).msg)));
  const gateway = createAwsGateway({
    region: 'us-east-1',
    logger,
    maxAttempts: 1,
    requestTimeoutMs: 5000,
    clientConfig: {
      endpoint: emulator.url,
      credentials: { accessKeyId: 'AKIDREPORT', secretAccessKey: 'report-secret' },
      retryStrategy: new ConfiguredRetryStrategy(1, () => 0),
    },
  });
  return {
    reports: [WEEKLY],
    store,
    catalogue: createEndpointCatalogue({
      gateway,
      configured: [{ alias: 'prod', id: PROD, region: 'us-east-1' }],
      region: 'us-east-1',
      logger,
    }),
    region: 'us-east-1',
    pricing: { currency: 'USD', perConnectionHour: 0.05, byEndpoint: {} },
    poster: createSlackReportPoster({ token: TOKEN, apiUrl: slack.url, logger, timeoutMs: 300 }),
    logger,
    now: () => TICK,
    retryDelaysMs: [0, 0],
    ...overrides,
  };
}

beforeAll(async () => {
  emulator = await startEc2Emulator();
  emulator.addEndpoints([{ id: PROD, name: 'prod' }]);
  slack = await startSlackStandIn({ botToken: TOKEN });
  store = await openStore(`sqlite:${join(dir, 'state.db')}`, { now: () => TICK });
  const session = (n: number, start: string, end: string, user: string) => ({
    endpointId: PROD,
    connectionId: connectionId(n),
    username: user,
    commonName: null,
    clientIp: null,
    clientIpv6: null,
    status: 'terminated' as const,
    postureCompliance: [],
    startedAt: new Date(start),
    endedAt: new Date(end),
    ingressBytes: 100,
    egressBytes: 10,
    ingressPackets: 1,
    egressPackets: 1,
  });
  await store.recordHistory({
    endpointId: PROD,
    at: new Date('2026-11-29T00:00:00Z'),
    sessions: [
      // Half of it (from 23:00 UTC on 29 November, midnight in Berlin) falls in the period: 1 h.
      session(1, '2026-11-29T22:00:00Z', '2026-11-30T00:00:00Z', 'alice'),
      session(2, '2026-12-02T10:00:00Z', '2026-12-02T13:00:00Z', 'bob'),
      // After the period: not in it.
      session(3, '2026-12-07T07:00:00Z', '2026-12-07T07:30:00Z', 'carol'),
    ],
    active: 0,
  });
});
afterAll(async () => {
  await store.close();
  await slack.close();
  await emulator.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('a scheduled report', () => {
  it('posts the last 7 whole days once, with the chart and everyone as CSV in its thread', async () => {
    const [job] = createReportJobs(deps());
    if (!job) throw new Error('no job');
    expect(job.schedule).toEqual({ cron: '0 9 * * 1', timezone: 'Europe/Berlin' });
    const leadership = createLeadership({
      store,
      holder: 'instance-a',
      leaseMs: 60_000,
      logger: createLogger('error', () => {}),
    });
    const first = await runJob(job, TICK, leadership);
    expect(first).toMatchObject({ kind: 'posted', sessions: 2 });
    // The same period again, from this instance or another one (same store): nothing more.
    const [again] = createReportJobs(deps());
    expect(await runJob(job, TICK, leadership)).toEqual({ kind: 'already-posted' });
    // Even a run that skipped the lead (clocks apart, a lapsed lease) finds the period posted.
    expect(await again?.run(TICK)).toEqual({ kind: 'already-posted' });

    const posts = slack.messages.filter((m) => m.channel === 'C0REPORTS');
    expect(posts).toHaveLength(1);
    expect(posts[0]?.text).toContain('last 7 days');
    const files = await slack.waitFor(() => (slack.files.length >= 2 ? slack.files : undefined));
    expect(files.map((f) => [f.filename, f.threadTs])).toEqual([
      ['vpn-conns-report-weekly-2026-12-07.png', posts[0]?.ts],
      ['vpn-conns-report-weekly-2026-12-07.csv', posts[0]?.ts],
    ]);
    expect(files[1]?.content).toBe(
      [
        'person,sessions,connectionHours,ingressBytes,egressBytes,estimatedCost',
        'bob,1,3,100,10,0.15',
        'alice,1,1,100,10,0.05',
        '',
      ].join('\n'),
    );
  });
});

describe('delivering a scheduled report', () => {
  /** A report of its own per test (its own name: its own periods), posted to the stand-in. */
  const run = async (name: string, lines: string[] = [], retryDelaysMs = [0, 0]) => {
    const report = { ...WEEKLY, name, channel: 'C0DELIVERY' };
    // The clock the stand-in stamps messages with: a post is looked for from the run's time on.
    const now = () => new Date();
    const [job] = createReportJobs(deps({ reports: [report], retryDelaysMs, now }, lines));
    if (!job) throw new Error('no job');
    return job.run(TICK);
  };
  const posts = (name: string) =>
    slack.messages.filter(
      (m) =>
        m.metadata?.event_type === REPORT_EVENT_TYPE &&
        (m.metadata.event_payload as { report?: string } | undefined)?.report === name,
    );

  it('tries again after Slack failed, and posts once', async () => {
    slack.faults.serverErrorNext('chat.postMessage', 503);
    const lines: string[] = [];
    expect(await run('after-503', lines)).toMatchObject({ kind: 'posted' });
    expect(posts('after-503')).toHaveLength(1);
    expect(lines.join('\n')).toContain(
      'report after-503: not posted to C0DELIVERY (slack_unreachable); trying again in 0 s',
    );
  });

  it('finds a post Slack took but never confirmed by its id, instead of posting it twice', async () => {
    slack.faults.slowNext('chat.postMessage', 1000, 'after');
    const outcome = await run('unanswered', [], [1200]);
    expect(outcome).toMatchObject({ kind: 'posted', ts: posts('unanswered')[0]?.ts });
    expect(posts('unanswered')).toHaveLength(1);
    expect(await run('unanswered')).toEqual({ kind: 'already-posted' });
  });

  it('does not retry a refusal only a person can fix, and says what to fix', async () => {
    slack.faults.failNext('chat.postMessage', 'not_in_channel');
    const lines: string[] = [];
    expect(await run('refused', lines)).toEqual({
      kind: 'failed',
      reason:
        'not_in_channel: the bot is not in that channel: invite it there (/invite @vpn-conns)',
    });
    expect(posts('refused')).toHaveLength(0);
    expect(lines).toEqual([
      'report refused: the report due 2026-12-07T08:00:00.000Z was not posted to C0DELIVERY. not_in_channel: the bot is not in that channel: invite it there (/invite @vpn-conns)',
    ]);
  });

  it('stops waiting to try again when the process stops', async () => {
    slack.faults.serverErrorNext('chat.postMessage', 503);
    const report = { ...WEEKLY, name: 'stopping', channel: 'C0DELIVERY' };
    const [job] = createReportJobs(deps({ reports: [report], retryDelaysMs: [600_000] }));
    const stop = new AbortController();
    const outcome = job?.run(TICK, stop.signal);
    setTimeout(() => stop.abort(), 100);
    await expect(outcome).resolves.toMatchObject({
      kind: 'failed',
      reason: expect.stringMatching(/^slack_unreachable/),
    });
    expect(posts('stopping')).toHaveLength(0);
  });

  it('gives up after the last attempt, saying so', async () => {
    slack.faults.serverErrorNext('chat.postMessage', 500, 3);
    const outcome = await run('down');
    expect(outcome).toMatchObject({
      kind: 'failed',
      reason: expect.stringMatching(/^slack_unreachable/),
    });
    expect(posts('down')).toHaveLength(0);
  });
});
