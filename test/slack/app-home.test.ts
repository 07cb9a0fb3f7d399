/**
 * The App Home tab end to end: a signed `app_home_opened` event to the real Bolt app (HTTP
 * mode) makes it read the fleet from the EC2 emulator and the history from a SQLite store,
 * draw and upload the 24-hour chart, and publish the view to the Slack stand-in with
 * `views.publish`; the Refresh button publishes it again with fresh figures; a person
 * `VPN_CONNS_ALLOWED` does not name gets the "not allowed" Home and nothing is read.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EmulatedConnection } from '../../src/sandbox/ec2-emulator.js';
import {
  appHomeOpenedBody,
  postInteraction,
  signSlackRequest,
} from '../../src/sandbox/slack-signing.js';
import { connectionId, endpointId } from '../../src/sandbox/vpn-data.js';
import { HOME_DENIED_TEXT } from '../../src/slack/blocks/home.js';
import { ACTION_HOME_REFRESH } from '../../src/slack/blocks/ids.js';
import type { ObservedSession } from '../../src/store/types.js';
import { type BotHarness, createTestClock, startBotHarness } from '../support/bot-harness.js';
import { allText } from '../support/slack-message.js';

const NOW = new Date('2026-11-27T12:00:00Z');
const PROD = endpointId(0);
const DEV = endpointId(1);
const ALLOWED = 'U0ALLOWED';
const STRANGER = 'U0STRANGER';
const minutesAgo = (m: number) => new Date(NOW.getTime() - m * 60_000);

function connection(
  n: number,
  endpoint: string,
  username: string,
  startedMinutesAgo: number,
  endedMinutesAgo: number | null = null,
): EmulatedConnection {
  return {
    endpointId: endpoint,
    connectionId: connectionId(n),
    username,
    commonName: username,
    clientIp: `10.0.0.${n + 2}`,
    establishedAt: minutesAgo(startedMinutesAgo),
    endedAt: endedMinutesAgo === null ? null : minutesAgo(endedMinutesAgo),
    status: endedMinutesAgo === null ? 'active' : 'terminated',
    ingressBytes: 1000,
    egressBytes: 500,
    ingressPackets: 1,
    egressPackets: 1,
  };
}

/** A session the collector saw, for the history store. */
function observed(n: number, endpoint: string, start: Date, end: Date | null): ObservedSession {
  return {
    endpointId: endpoint,
    connectionId: connectionId(n),
    username: `user${n}`,
    commonName: `user${n}`,
    clientIp: '10.0.0.9',
    clientIpv6: null,
    status: end === null ? 'active' : 'terminated',
    postureCompliance: [],
    startedAt: start,
    endedAt: end,
    ingressBytes: 0,
    egressBytes: 0,
    ingressPackets: 0,
    egressPackets: 0,
  };
}

let bot: BotHarness;

/** Sends a signed Events API request, as Slack does when someone opens the app. */
async function openHome(userId: string, tab: 'home' | 'messages' = 'home'): Promise<number> {
  const body = appHomeOpenedBody({ userId, botUserId: 'UBOT', channel: 'D0HOME', tab });
  const timestamp = Math.floor(Date.now() / 1000);
  const response = await fetch(bot.url, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'x-slack-request-timestamp': String(timestamp),
      'x-slack-signature': signSlackRequest(bot.signingSecret, timestamp, body),
    },
    body,
  });
  await response.text();
  return response.status;
}

/** Clicks Refresh in a Home tab: a `block_actions` payload from a view, with no response_url. */
async function clickRefresh(userId: string): Promise<number> {
  const viewId = String(bot.slack.homeViews.get(userId)?.id ?? 'V0NONE');
  const { status } = await postInteraction(bot.url, bot.signingSecret, {
    type: 'block_actions',
    user: { id: userId, username: 'tester', name: 'tester', team_id: 'T0TEST' },
    api_app_id: 'A0TEST',
    token: 'verification-token-unused',
    container: { type: 'view', view_id: viewId },
    trigger_id: `${Date.now()}.1.${randomBytes(8).toString('hex')}`,
    team: { id: 'T0TEST', domain: 'test-workspace' },
    is_enterprise_install: false,
    view: { id: viewId, type: 'home', blocks: [] },
    actions: [
      {
        action_id: ACTION_HOME_REFRESH,
        block_id: 'refresh',
        text: { type: 'plain_text', text: 'Refresh' },
        value: 'refresh',
        type: 'button',
        action_ts: (Date.now() / 1000).toFixed(6),
      },
    ],
  });
  return status;
}

const publishes = () => bot.slack.calls.filter((c) => c.method === 'views.publish').length;

/** Waits for the `count`-th views.publish and answers the view the user now sees, as text. */
async function homeAfter(userId: string, count: number): Promise<string> {
  await bot.slack.waitFor(() => publishes() >= count, 15_000);
  const view = bot.slack.homeViews.get(userId);
  if (!view) throw new Error(`no Home view for ${userId}`);
  return allText(view);
}

beforeAll(async () => {
  bot = await startBotHarness({
    fleet: {
      endpoints: [
        { id: PROD, name: 'prod', authenticationType: 'directory-service-authentication' },
        { id: DEV, name: 'dev', authenticationType: 'directory-service-authentication' },
      ],
      connections: [
        connection(1, PROD, 'alice', 300),
        connection(2, PROD, '<!channel>', 600),
        connection(3, PROD, 'bob', 20),
        connection(4, PROD, 'carol', 90, 30),
        connection(5, DEV, 'dave', 45),
      ],
    },
    endpoints: `prod=${PROD},dev=${DEV}`,
    clock: createTestClock(NOW, { running: false }),
    access: {
      allowed: { users: [ALLOWED], groups: [], channels: [] },
      admins: { users: [], groups: [], channels: [] },
    },
    history: {},
  });
  const store = bot.store;
  if (!store) throw new Error('no store');
  await store.recordHistory({
    endpointId: PROD,
    at: minutesAgo(5),
    sessions: [
      observed(10, PROD, minutesAgo(180), minutesAgo(60)),
      observed(11, PROD, minutesAgo(120), null),
    ],
    active: 1,
  });
}, 30_000);
afterAll(() => bot.stop());

describe('the App Home tab', () => {
  it('publishes, for an allowed person opening it, the fleet’s counts, the longest sessions and the last 24 hours with the chart', async () => {
    expect(await openHome(ALLOWED)).toBe(200);
    const text = await homeAfter(ALLOWED, 1);
    expect(text).toContain(`*prod* \`${PROD}\` · active now: *3* · ended in the last hour: 1`);
    expect(text).toContain(`*dev* \`${DEV}\` · active now: *1* · ended in the last hour: 0`);
    // Most senior first; the hostile user name is shown, not obeyed.
    expect(text).toMatch(
      /1\. \*&lt;!channel&gt;\* on prod[^\n]*\n2\. \*alice\* on prod[^\n]*\n3\. \*dave\* on dev/,
    );
    expect(text).not.toContain('<!channel>');
    expect(text).toContain('Sessions: *2* · people: *2* · connection-hours: *4.0 h*');
    expect(text).toContain('Digests are not configured');
    const publish = bot.slack.calls.find((c) => c.method === 'views.publish');
    expect(publish?.body.user_id).toBe(ALLOWED);
    // The chart: one private upload (no channel), shown by its file id.
    const view = bot.slack.homeViews.get(ALLOWED);
    const blocks = (view?.blocks ?? []) as { type: string; slack_file?: { id: string } }[];
    const image = blocks.find((b) => b.type === 'image');
    expect(bot.slack.files).toHaveLength(1);
    expect(image?.slack_file?.id).toBe(bot.slack.files[0]?.fileId);
    expect(bot.slack.files[0]?.filename).toMatch(/^vpn-conns-home-24h-.*\.png$/);
    expect(bot.slack.files[0]?.channelId).toBeUndefined();
  }, 30_000);

  it('publishes nothing for the Messages tab', async () => {
    const before = publishes();
    expect(await openHome(ALLOWED, 'messages')).toBe(200);
    await openHome(STRANGER);
    await bot.slack.waitFor(() => publishes() > before);
    // Only the stranger's Home came (the events are handled in order of arrival, the first is skipped).
    expect(
      bot.slack.calls
        .filter((c) => c.method === 'views.publish')
        .slice(before)
        .map((c) => c.body.user_id),
    ).toEqual([STRANGER]);
  });

  it('shows a stranger the not-allowed Home, and reads no VPN data for them', async () => {
    const before = bot.emulator.requests.length;
    await openHome(STRANGER);
    const text = await homeAfter(STRANGER, publishes() + 1);
    expect(text).toContain(HOME_DENIED_TEXT);
    expect(text).not.toContain('prod');
    expect(bot.emulator.requests.length).toBe(before);
    expect(await clickRefresh(STRANGER)).toBe(200);
    expect(await homeAfter(STRANGER, publishes() + 1)).toContain(HOME_DENIED_TEXT);
    expect(bot.emulator.requests.length).toBe(before);
  });

  it('publishes fresh figures on Refresh', async () => {
    expect(bot.emulator.disconnect(connectionId(3))).toBe(true);
    const count = publishes();
    expect(await clickRefresh(ALLOWED)).toBe(200);
    const text = await homeAfter(ALLOWED, count + 1);
    expect(text).toContain(`*prod* \`${PROD}\` · active now: *2* · ended in the last hour: 2`);
    // The chart of a few minutes ago is reused, not uploaded again.
    expect(bot.slack.files).toHaveLength(1);
  });
});
