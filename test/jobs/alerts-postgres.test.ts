/**
 * Alerts from two instances on one Postgres: both run the collector job at every step, only
 * the leader checks the rules, each alert is posted once, and when the leader goes the other
 * takes over without posting what already fired — it edits those messages when they clear.
 */
import { afterEach, describe, expect, inject, it } from 'vitest';
import type { EmulatedConnection } from '../../src/sandbox/ec2-emulator.js';
import { connectionId } from '../../src/sandbox/vpn-data.js';
import { ALERT_EVENT_TYPE } from '../../src/slack/alert-poster.js';
import { testRule } from '../support/alert-rules.js';
import { type DigestHarness, PROD, startDigestHarness } from '../support/digest-harness.js';

const databaseUrl = inject('databaseUrl');
const SKIP_REASON = databaseUrl
  ? ''
  : ' (SKIPPED: no TEST_DATABASE_URL and no Postgres server binaries in /usr/lib/postgresql)';

const START = new Date('2026-12-01T08:00:00Z');
const STEP_MS = 5 * 60_000;
const RULES = [testRule('shared-credentials'), testRule('long-sessions')];

let harness: DigestHarness | undefined;
afterEach(async () => {
  await harness?.close();
  harness = undefined;
});

function session(n: number, user: string, startedMinutesAgo: number): EmulatedConnection {
  return {
    endpointId: PROD.id,
    connectionId: connectionId(n),
    username: user,
    commonName: user,
    clientIp: `10.2.0.${n}`,
    establishedAt: new Date(START.getTime() - startedMinutesAgo * 60_000),
    status: 'active',
    ingressBytes: 1,
    egressBytes: 1,
    ingressPackets: 1,
    egressPackets: 1,
  };
}

describe.skipIf(!databaseUrl)(`alerts from two instances on one Postgres${SKIP_REASON}`, () => {
  it('posts each alert once, and the survivor neither repeats nor forgets them', async () => {
    harness = await startDigestHarness({
      start: START,
      store: { kind: 'postgres', databaseUrl },
      alerts: { rules: RULES },
    });
    const h = harness;
    const a = h.instance;
    const b = await h.startInstance('instance-b');
    const shared = [1, 2, 3, 4].map((n) => session(n, 'uma', 10));
    const long = session(5, 'vic', 20 * 60 - 12);
    h.emulator.addConnections([...shared, long]);
    const posts = () => h.slack.messages.filter((m) => m.metadata?.event_type === ALERT_EVENT_TYPE);

    let leader = a;
    const step = async (instances: (typeof a)[]) => {
      h.advance(STEP_MS);
      const outcomes = await Promise.all(instances.map((i) => i.poll()));
      const led = instances.find((_, i) => outcomes[i]?.kind === 'collected');
      if (led) leader = led;
      return outcomes.map((o) => o.kind).sort();
    };
    expect(await step([a, b])).toEqual(['collected', 'not-leader']);
    expect(posts()).toHaveLength(1);
    await step([a, b]);
    await step([a, b]); // vic passes 20 hours here
    expect(posts()).toHaveLength(2);
    await step([a, b]);
    expect(posts()).toHaveLength(2);

    // The leader's process goes away; its lock goes with its connection.
    const survivor = leader === a ? b : a;
    await leader.crash();
    expect(await step([survivor])).toEqual(['collected']);
    expect(posts()).toHaveLength(2);

    h.emulator.disconnect(long.connectionId);
    await step([survivor]);
    expect(posts()).toHaveLength(2);
    const longPost = posts().find((m) => JSON.stringify(m.metadata).includes('long-sessions'));
    expect(JSON.stringify(h.slack.conversation.get(longPost?.ts ?? '')?.blocks)).toContain(
      'Cleared: long-sessions',
    );
    expect((await survivor.alerts.firing()).map((f) => f.ruleName)).toEqual(['shared-credentials']);
  });
});
