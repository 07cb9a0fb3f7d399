import { afterEach, describe, expect, it } from 'vitest';
import { connectionId } from '../../src/sandbox/vpn-data.js';
import { createCrashPoints } from '../support/crash-points.js';
import {
  DEV,
  type DigestHarness,
  endedConnection,
  PROD,
  startDigestHarness,
} from '../support/digest-harness.js';

const START = new Date('2026-11-27T09:00:00Z');
const at = (hhmmss: string) => new Date(`2026-11-27T${hhmmss}Z`);
const IDS = [PROD.id, DEV.id];

let harness: DigestHarness | undefined;
afterEach(async () => {
  await harness?.close();
  harness = undefined;
});

/** Sessions recorded for a digest that has reported nothing, as connection ids. */
async function recorded(h: DigestHarness): Promise<string[]> {
  const sessions = await h.instance.store.pendingSessions(
    'never-posted',
    IDS,
    at('23:59:59'),
    at('00:00:00'),
  );
  return sessions.map((s) => s.connectionId).sort();
}

describe('the collector', () => {
  it('records each ended session once, never an active one, and reports what each endpoint listed', async () => {
    harness = await startDigestHarness({ start: START });
    const h = harness;
    h.emulator.addConnections([
      endedConnection(1, at('08:50:00'), { status: 'active', endedAt: null }),
      endedConnection(2, at('08:55:00'), { status: 'active', endedAt: null, endpointId: DEV.id }),
    ]);
    h.scheduleSessions([
      endedConnection(3, at('08:40:00')),
      endedConnection(4, at('09:02:00'), { endpointId: DEV.id }),
      endedConnection(5, at('09:07:00')),
    ]);

    h.setClock(at('09:05:00'));
    const first = await h.instance.poll();
    if (first.kind === 'not-leader') throw new Error('the only instance must lead');
    expect(first.recorded).toBe(2);
    expect(first.failures).toEqual([]);
    expect(
      first.polls.map((p) => ({ alias: p.endpoint.alias, active: p.active, ended: p.ended })),
    ).toEqual([
      { alias: 'prod', active: 1, ended: 1 },
      { alias: 'dev', active: 1, ended: 1 },
    ]);
    expect(await recorded(h)).toEqual([connectionId(3), connectionId(4)].sort());

    h.setClock(at('09:10:00'));
    const second = await h.instance.poll();
    // Seen again, recorded once: only the session that ended since is new.
    expect(second).toMatchObject({ recorded: 1, gaps: [] });
    expect(await recorded(h)).toEqual([connectionId(3), connectionId(4), connectionId(5)].sort());
  });

  it('collects on the leader only: a second instance on the same database waits until the first stops', async () => {
    harness = await startDigestHarness({ start: START });
    const h = harness;
    h.scheduleSessions([endedConnection(1, at('08:50:00'))]);
    h.setClock(at('09:00:00'));
    const first = h.instance;
    expect(await first.poll()).toMatchObject({ recorded: 1 });

    const second = await h.startInstance('instance-b');
    h.scheduleSessions([endedConnection(2, at('09:03:00'))]);
    h.setClock(at('09:05:00'));
    expect(await second.poll()).toEqual({ kind: 'not-leader' });
    expect(await recorded(h)).toEqual([connectionId(1)]);

    // A clean stop gives the lead up at once: the second instance takes over at its next round.
    await first.stop();
    h.setClock(at('09:06:00'));
    expect(await second.poll()).toMatchObject({ recorded: 1 });
    expect(second.logs.some((l) => l.includes('instance-b now collects and posts'))).toBe(true);
    const sessions = await second.store.pendingSessions(
      'never-posted',
      IDS,
      at('23:59:59'),
      at('00:00:00'),
    );
    expect(sessions.map((s) => s.connectionId).sort()).toEqual(
      [connectionId(1), connectionId(2)].sort(),
    );
  });

  it('exports each endpoint’s connections by status, its last successful poll and its failures', async () => {
    harness = await startDigestHarness({ start: START });
    const h = harness;
    h.emulator.addConnections([
      endedConnection(1, at('08:50:00'), { status: 'active', endedAt: null }),
      endedConnection(2, at('08:51:00'), { status: 'active', endedAt: null }),
      endedConnection(3, at('08:40:00')),
    ]);
    expect(h.instance.collector.lastSuccessAt()).toBeNull();
    h.setClock(at('09:05:00'));
    await h.instance.poll();
    expect(h.instance.collector.lastSuccessAt()).toEqual(at('09:05:00'));
    const first = (await h.instance.metrics.scrape()).body;
    expect(first).toContain('vpn_conns_connections{endpoint="prod",status="active"} 2');
    expect(first).toContain('vpn_conns_connections{endpoint="prod",status="terminated"} 1');
    expect(first).toContain('vpn_conns_connections{endpoint="dev",status="active"} 0');
    expect(first).toContain(
      `vpn_conns_last_poll_success_timestamp_seconds{endpoint="prod"} ${at('09:05:00').getTime() / 1000}`,
    );
    expect(first).toContain('vpn_conns_collector_poll_duration_seconds_count 1');

    h.emulator.faults.deny('DescribeClientVpnConnections');
    h.setClock(at('09:10:00'));
    await h.instance.poll();
    const second = (await h.instance.metrics.scrape()).body;
    expect(second).toContain('vpn_conns_polls_total{endpoint="prod",outcome="error"} 1');
    // A failed poll keeps the last success: a stalled collector shows in its age.
    expect(second).toContain(
      `vpn_conns_last_poll_success_timestamp_seconds{endpoint="prod"} ${at('09:05:00').getTime() / 1000}`,
    );
    expect(h.instance.collector.lastSuccessAt()).toEqual(at('09:05:00'));
  });

  it('records nothing when AWS refuses, says it will retry, and picks the sessions up at the next round', async () => {
    harness = await startDigestHarness({ start: START });
    const h = harness;
    h.scheduleSessions([endedConnection(1, at('08:50:00'))]);
    h.setClock(at('09:00:00'));
    h.emulator.faults.deny('DescribeClientVpnConnections');

    const refused = await h.instance.poll();
    expect(refused).toMatchObject({ recorded: 0, polls: [] });
    if (refused.kind === 'not-leader') throw new Error('the only instance must lead');
    expect(refused.failures.map((f) => f.endpoint.alias)).toEqual(['prod', 'dev']);
    expect(
      h.instance.logs.some((l) => l.includes('reading prod failed; will retry next poll')),
    ).toBe(true);
    expect(await h.instance.store.lastPoll(PROD.id)).toBeNull();

    h.emulator.faults.reset();
    h.setClock(at('09:05:00'));
    expect(await h.instance.poll()).toMatchObject({ recorded: 1, failures: [] });
    expect(await h.instance.store.lastPoll(PROD.id)).toEqual(at('09:05:00'));
  });

  it('finds a gap again after the process died between recording the poll and the gap', async () => {
    const crash = createCrashPoints();
    harness = await startDigestHarness({
      start: START,
      endpoints: [PROD],
      wrapStore: (store) => crash.wrapStore(store),
    });
    const h = harness;
    h.setClock(at('09:00:00'));
    await h.instance.poll();
    // Down for two hours; the first poll after it dies while recording what it found.
    h.setClock(at('11:00:00'));
    crash.arm({ step: 'store.recordGap' });
    const crashed = await Promise.race([h.instance.poll(), crash.crashed()]);
    expect(crashed).toBe('store.recordGap');
    await h.restart({ crash: true });

    h.setClock(at('11:05:00'));
    await h.instance.poll();
    const gaps = await h.instance.store.pendingGaps('never-posted', [PROD.id]);
    expect(gaps.map(({ from, to }) => ({ from, to }))).toEqual([
      { from: at('09:00:00'), to: at('10:05:00') },
    ]);
  });
});
