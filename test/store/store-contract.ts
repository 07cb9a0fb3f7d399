/**
 * The behaviour every StateStore implementation owes its callers, as one suite
 * that each backend's test file runs with its own `open`.
 *
 * `open` must return a store on the SAME database each time it is called
 * within a test file (a second instance), so the tests share one database and
 * keep out of each other's way: ids are random per test, the general tests use
 * 2024 dates, the pruning test 1990 dates and the audit test 2100 dates.
 */
import { randomUUID } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type {
  DigestIntent,
  DigestPost,
  EndedSession,
  FiringAlertRecord,
  HistoryPoll,
  HistorySession,
  ObservedSession,
  StateStore,
} from '../../src/store/types.js';

const T0 = Date.parse('2024-05-01T10:00:00.000Z');
const MINUTE = 60_000;

/** A time `minutes` after the suite's reference instant (fractions give milliseconds). */
function at(minutes: number): Date {
  return new Date(T0 + minutes * MINUTE);
}

function id(prefix: string): string {
  return `${prefix}-${randomUUID()}`;
}

function session(
  endpointId: string,
  connectionId: string,
  endedAt: Date,
  extra: Partial<EndedSession> = {},
): EndedSession {
  return {
    endpointId,
    connectionId,
    username: 'alice',
    commonName: 'alice.vpn.example.com',
    clientIp: '10.0.0.7',
    clientIpv6: null,
    status: 'terminated',
    establishedAt: new Date(endedAt.getTime() - 30 * MINUTE),
    endedAt,
    ingressBytes: 1_000,
    egressBytes: 2_000,
    ...extra,
  };
}

function post(digestId: string, tickAt: Date, extra: Partial<DigestPost> = {}): DigestPost {
  return {
    digestId,
    tickAt,
    postedAt: new Date(tickAt.getTime() + 1_500),
    channel: 'C0123456789',
    ts: `${Math.floor(tickAt.getTime() / 1000)}.${randomUUID().slice(0, 6)}`,
    sessionCount: 0,
    ...extra,
  };
}

function observed(
  endpointId: string,
  connectionId: string,
  extra: Partial<ObservedSession> = {},
): ObservedSession {
  return {
    endpointId,
    connectionId,
    username: 'alice',
    commonName: 'alice.vpn.example.com',
    clientIp: '10.0.0.7',
    clientIpv6: null,
    status: 'active',
    postureCompliance: ['compliant'],
    startedAt: at(0),
    endedAt: null,
    ingressBytes: 1_000,
    egressBytes: 2_000,
    ingressPackets: 10,
    egressPackets: 20,
    ...extra,
  };
}

function poll(
  endpointId: string,
  pollAt: Date,
  sessions: ObservedSession[],
  active: number,
): HistoryPoll {
  return { endpointId, at: pollAt, sessions, active };
}

const keyOf = (s: EndedSession) => ({ endpointId: s.endpointId, connectionId: s.connectionId });
const connectionIds = (sessions: readonly EndedSession[]) => sessions.map((s) => s.connectionId);

/** Registers the contract tests for one backend. */
export function describeStoreContract(
  name: string,
  open: (now: () => Date) => Promise<StateStore>,
): void {
  describe(`${name} store (contract)`, () => {
    const opened: StateStore[] = [];
    let clock = at(0);

    /** A store on the test database, closed after the test. */
    const openStore = async (now: () => Date = () => clock): Promise<StateStore> => {
      const store = await open(now);
      opened.push(store);
      return store;
    };

    // Digest ids fresh for each test, as reporting is per digest and the database is shared.
    let digest = '';
    let digestA = '';
    let digestB = '';
    beforeEach(() => {
      [digest, digestA, digestB] = [id('digest'), id('digest-a'), id('digest-b')];
    });

    afterEach(async () => {
      await Promise.all(opened.splice(0).map((store) => store.close()));
      clock = at(0);
    });

    it('reports its kind', async () => {
      const store = await openStore();
      expect(store.kind).toBe(name);
    });

    describe('recordSessions', () => {
      it('records a session once per endpoint and connection and counts only new ones', async () => {
        const store = await openStore();
        const [endpoint, other] = [id('cvpn-endpoint'), id('cvpn-endpoint')];
        const first = session(endpoint, 'cvpn-connection-1', at(1));
        expect(await store.recordSessions([first])).toBe(1);
        expect(await store.recordSessions([first])).toBe(0);
        expect(
          await store.recordSessions([
            first,
            session(endpoint, 'cvpn-connection-2', at(2)),
            session(other, 'cvpn-connection-1', at(2)),
          ]),
        ).toBe(2);
        expect(await store.recordSessions([])).toBe(0);
        const pending = await store.pendingSessions(digest, [endpoint, other], at(60), at(-60));
        expect(pending).toHaveLength(3);
      });

      it('counts a session repeated within one call once and keeps its last occurrence', async () => {
        const store = await openStore();
        const endpoint = id('cvpn-endpoint');
        const added = await store.recordSessions([
          session(endpoint, 'c1', at(1), { status: 'failed-to-terminate', ingressBytes: 1 }),
          session(endpoint, 'c1', at(2), { status: 'terminated', ingressBytes: 2 }),
        ]);
        expect(added).toBe(1);
        const [only] = await store.pendingSessions(digest, [endpoint], at(60), at(-60));
        expect(only).toMatchObject({ status: 'terminated', endedAt: at(2), ingressBytes: 2 });
      });

      it('updates status, end and byte counts of a session no digest has reported', async () => {
        const store = await openStore();
        const endpoint = id('cvpn-endpoint');
        const first = session(endpoint, 'c1', at(1), {
          status: 'failed-to-terminate',
          ingressBytes: 10,
          egressBytes: 20,
        });
        await store.recordSessions([first]);
        const again = session(endpoint, 'c1', at(3), {
          status: 'terminated',
          ingressBytes: 11,
          egressBytes: 22,
        });
        expect(await store.recordSessions([again])).toBe(0);
        expect(await store.pendingSessions(digest, [endpoint], at(60), at(-60))).toEqual([
          { ...first, status: 'terminated', endedAt: at(3), ingressBytes: 11, egressBytes: 22 },
        ]);
      });

      it('leaves a session as it was once a digest has reported it', async () => {
        const store = await openStore();
        const endpoint = id('cvpn-endpoint');
        const original = session(endpoint, 'c1', at(1), { status: 'failed-to-terminate' });
        await store.recordSessions([original]);
        await store.markReported(post(digestA, at(60)), [keyOf(original)], []);
        await store.recordSessions([
          session(endpoint, 'c1', at(5), { status: 'terminated', ingressBytes: 99 }),
        ]);
        expect(await store.pendingSessions(digestB, [endpoint], at(60), at(-60))).toEqual([
          original,
        ]);
      });

      it('round-trips every field: nulls, millisecond times, byte counts above 2^32', async () => {
        const store = await openStore();
        const endpoint = id('cvpn-endpoint');
        const big = session(endpoint, 'c-big', new Date(T0 + 123), {
          establishedAt: new Date(T0 - 987_654_321),
          clientIpv6: '2001:db8::7',
          ingressBytes: 2 ** 40 + 7,
          egressBytes: 2 ** 33,
        });
        const sparse = session(endpoint, 'c-sparse', new Date(T0 + 456), {
          username: null,
          commonName: null,
          clientIp: null,
          clientIpv6: null,
          status: 'failed-to-terminate',
          establishedAt: null,
          ingressBytes: null,
          egressBytes: null,
        });
        await store.recordSessions([sparse, big]);
        expect(await store.pendingSessions(digest, [endpoint], at(60), at(-60))).toEqual([
          big,
          sparse,
        ]);
      });
    });

    describe('pendingSessions', () => {
      it('includes a session ending a millisecond before the tick but not one ending at it', async () => {
        const store = await openStore();
        const endpoint = id('cvpn-endpoint');
        const tick = at(60);
        await store.recordSessions([
          session(endpoint, 'at-tick', tick),
          session(endpoint, 'just-before', new Date(tick.getTime() - 1)),
          session(endpoint, 'after', new Date(tick.getTime() + 1)),
        ]);
        const pending = await store.pendingSessions(digest, [endpoint], tick, at(-60));
        expect(connectionIds(pending)).toEqual(['just-before']);
      });

      it('excludes sessions that ended before the horizon and includes one ending at it', async () => {
        const store = await openStore();
        const endpoint = id('cvpn-endpoint');
        const horizon = at(-60);
        await store.recordSessions([
          session(endpoint, 'before-horizon', new Date(horizon.getTime() - 1)),
          session(endpoint, 'at-horizon', horizon),
          session(endpoint, 'recent', at(30)),
        ]);
        const pending = await store.pendingSessions(digest, [endpoint], at(60), horizon);
        expect(connectionIds(pending)).toEqual(['at-horizon', 'recent']);
        expect(await store.countPending(digest, [endpoint], horizon)).toBe(2);
      });

      it('returns only the given endpoints, oldest end first', async () => {
        const store = await openStore();
        const [a, b, c] = [id('cvpn-a'), id('cvpn-b'), id('cvpn-c')];
        await store.recordSessions([
          session(a, 'a-late', at(50)),
          session(b, 'b-early', at(10)),
          session(c, 'c-middle', at(20)),
          session(a, 'a-middle', at(30)),
        ]);
        const pending = await store.pendingSessions(digest, [a, b], at(60), at(-60));
        expect(connectionIds(pending)).toEqual(['b-early', 'a-middle', 'a-late']);
        expect(await store.pendingSessions(digest, [], at(60), at(-60))).toEqual([]);
        expect(await store.countPending(digest, [a, b], at(-60))).toBe(3);
        expect(await store.countPending(digest, [], at(-60))).toBe(0);
      });

      it('keeps a session pending for digest B after digest A reported it', async () => {
        const store = await openStore();
        const endpoint = id('cvpn-endpoint');
        const ended = session(endpoint, 'c1', at(10));
        await store.recordSessions([ended]);
        await store.markReported(post(digestA, at(60)), [keyOf(ended)], []);
        expect(await store.pendingSessions(digestA, [endpoint], at(60), at(-60))).toEqual([]);
        expect(await store.countPending(digestA, [endpoint], at(-60))).toBe(0);
        expect(await store.pendingSessions(digestB, [endpoint], at(60), at(-60))).toEqual([ended]);
        expect(await store.countPending(digestB, [endpoint], at(-60))).toBe(1);
      });

      it('counts pending sessions whatever their end, unlike a tick', async () => {
        const store = await openStore();
        const endpoint = id('cvpn-endpoint');
        await store.recordSessions([
          session(endpoint, 'c1', at(10)),
          session(endpoint, 'c2', at(90)),
        ]);
        expect(await store.countPending(digest, [endpoint], at(-60))).toBe(2);
        expect(await store.pendingSessions(digest, [endpoint], at(60), at(-60))).toHaveLength(1);
      });
    });

    describe('markReported', () => {
      it('records the post and marks the sessions and gaps for that digest only', async () => {
        const store = await openStore();
        const endpoint = id('cvpn-endpoint');
        const sessions = [session(endpoint, 'c1', at(10)), session(endpoint, 'c2', at(20))];
        await store.recordSessions(sessions);
        await store.recordGap(endpoint, at(-200), at(-100));
        const [gap] = await store.pendingGaps(digestA, [endpoint]);
        const digestPost = post(digestA, at(60), { sessionCount: 2 });
        const marked = await store.markReported(
          digestPost,
          sessions.map(keyOf),
          gap === undefined ? [] : [gap.id],
        );
        expect(marked).toBe(2);
        expect(await store.lastPost(digestA)).toEqual(digestPost);
        expect(await store.pendingSessions(digestA, [endpoint], at(60), at(-60))).toEqual([]);
        expect(await store.pendingGaps(digestA, [endpoint])).toEqual([]);
        expect(await store.pendingSessions(digestB, [endpoint], at(60), at(-60))).toHaveLength(2);
        expect(await store.pendingGaps(digestB, [endpoint])).toHaveLength(1);
      });

      it('is a no-op for what this digest already reported, the same post included', async () => {
        const store = await openStore();
        const endpoint = id('cvpn-endpoint');
        const [first, second] = [session(endpoint, 'c1', at(10)), session(endpoint, 'c2', at(20))];
        await store.recordSessions([first, second]);
        const digestPost = post(digest, at(60));
        expect(await store.markReported(digestPost, [keyOf(first)], [])).toBe(1);
        expect(await store.markReported(digestPost, [keyOf(first)], [])).toBe(0);
        const later = post(digest, at(120));
        expect(
          await store.markReported(later, [keyOf(first), keyOf(second), keyOf(second)], []),
        ).toBe(1);
        expect(await store.lastPost(digest)).toEqual(later);
      });

      it('skips sessions and gaps the store does not hold', async () => {
        const store = await openStore();
        const endpoint = id('cvpn-endpoint');
        const known = session(endpoint, 'known', at(10));
        await store.recordSessions([known]);
        const marked = await store.markReported(
          post(digest, at(60)),
          [keyOf(known), { endpointId: endpoint, connectionId: 'never-recorded' }],
          [2_000_000_000],
        );
        expect(marked).toBe(1);
      });

      it('records nothing at all when it fails midway', async () => {
        const store = await openStore();
        const endpoint = id('cvpn-endpoint');
        const sessions = [session(endpoint, 'c1', at(10)), session(endpoint, 'c2', at(20))];
        await store.recordSessions(sessions);
        await store.recordGap(endpoint, at(-200), at(-100));
        const gapIds = (await store.pendingGaps(digest, [endpoint])).map((gap) => gap.id);
        const earlier = post(digest, at(0));
        await store.markReported(earlier, [], []);
        // Both fail after the marks were written: the post is recorded last.
        const failing = [
          post(digest, at(60), { ts: null as never }),
          post(digest, at(60), { tickAt: new Date(Number.NaN) }),
        ];
        for (const bad of failing) {
          await expect(store.markReported(bad, sessions.map(keyOf), gapIds)).rejects.toThrow();
        }
        expect(await store.pendingSessions(digest, [endpoint], at(60), at(-60))).toEqual(sessions);
        expect((await store.pendingGaps(digest, [endpoint])).map((gap) => gap.id)).toEqual(gapIds);
        expect(await store.lastPost(digest)).toEqual(earlier);
        expect(await store.markReported(post(digest, at(60)), sessions.map(keyOf), gapIds)).toBe(2);
      });
    });

    describe('lastPost', () => {
      it('is null before a digest posts, then its latest post, per digest', async () => {
        const store = await openStore();
        const other = id('digest');
        expect(await store.lastPost(digest)).toBeNull();
        const first = post(digest, at(60), { sessionCount: 3 });
        const second = post(digest, at(120), { sessionCount: 0, channel: 'C999' });
        await store.markReported(second, [], []);
        await store.markReported(first, [], []);
        await store.markReported(post(other, at(180)), [], []);
        expect(await store.lastPost(digest)).toEqual(second);
      });
    });

    describe('digest intents', () => {
      const intent = (digestId: string, createdAt: Date, extra: Partial<DigestIntent> = {}) => ({
        id: id('intent'),
        digestId,
        tickAt: new Date(createdAt.getTime() - 2_000),
        channel: 'C0123456789',
        createdAt,
        sessions: [
          { endpointId: 'cvpn-endpoint-a', connectionId: 'cvpn-connection-1' },
          { endpointId: 'cvpn-endpoint-b', connectionId: 'cvpn-connection-2' },
        ],
        gapIds: [7, 9],
        ...extra,
      });

      it('keeps an intent until it is cleared, per digest, oldest first, every field intact', async () => {
        const store = await openStore();
        const later = intent(digest, at(120), { sessions: [], gapIds: [] });
        const earlier = intent(digest, at(60));
        await store.recordIntent(later);
        await store.recordIntent(earlier);
        await store.recordIntent(earlier);
        await store.recordIntent(intent(digestA, at(30)));
        expect(await store.pendingIntents(digest)).toEqual([earlier, later]);
        // Another instance on the same database sees them.
        expect(await (await openStore()).pendingIntents(digest)).toEqual([earlier, later]);
        await store.clearIntent(earlier.id);
        await store.clearIntent(earlier.id);
        await store.clearIntent(id('unknown'));
        expect(await store.pendingIntents(digest)).toEqual([later]);
        expect(await store.pendingIntents(digestB)).toEqual([]);
      });

      it('are pruned with the posts: those recorded before the cutoff', async () => {
        const store = await openStore();
        // 1989: the pruning test's first cutoff (1990-01-31) would otherwise count these.
        const base = Date.parse('1989-03-01T00:00:00.000Z');
        const old = intent(digest, new Date(base));
        const recent = intent(digest, new Date(base + 40 * 86_400_000));
        await store.recordIntent(old);
        await store.recordIntent(recent);
        expect(await store.prune(new Date(base + 30 * 86_400_000), new Date(0))).toBe(1);
        expect(await store.pendingIntents(digest)).toEqual([recent]);
        await store.clearIntent(recent.id);
      });
    });

    describe('gaps', () => {
      it('lists unreported gaps of the given endpoints, earliest first, per digest', async () => {
        const store = await openStore();
        const [a, b, c] = [id('cvpn-a'), id('cvpn-b'), id('cvpn-c')];
        await store.recordGap(a, at(-100), at(-10));
        await store.recordGap(b, at(-300), at(-200));
        await store.recordGap(c, at(-400), at(-350));
        const gaps = await store.pendingGaps(digestA, [a, b]);
        expect(gaps.map(({ endpointId, from, to }) => ({ endpointId, from, to }))).toEqual([
          { endpointId: b, from: at(-300), to: at(-200) },
          { endpointId: a, from: at(-100), to: at(-10) },
        ]);
        expect(gaps.every((gap) => Number.isInteger(gap.id))).toBe(true);
        await store.markReported(
          post(digestA, at(60)),
          [],
          gaps.map((gap) => gap.id),
        );
        expect(await store.pendingGaps(digestA, [a, b])).toEqual([]);
        expect(await store.pendingGaps(digestB, [a, b])).toEqual(gaps);
        expect(await store.pendingGaps(digestA, [])).toEqual([]);
      });
    });

    describe('polls', () => {
      it('returns the previous successful poll of that endpoint, null the first time', async () => {
        const store = await openStore();
        const [a, b] = [id('cvpn-a'), id('cvpn-b')];
        expect(await store.lastPoll(a)).toBeNull();
        expect(await store.recordPoll(a, at(0))).toBeNull();
        expect(await store.recordPoll(a, at(5))).toEqual(at(0));
        expect(await store.recordPoll(b, at(6))).toBeNull();
        expect(await store.recordPoll(a, at(10))).toEqual(at(5));
        expect(await store.lastPoll(a)).toEqual(at(10));
        expect(await store.lastPoll(b)).toEqual(at(6));
      });
    });

    describe('audit', () => {
      it('lists entries newest first, at most `limit`, every field intact', async () => {
        const store = await openStore();
        const base = Date.parse('2100-01-01T00:00:00.000Z');
        const entry = (
          minutes: number,
          extra: Partial<Parameters<StateStore['appendAudit']>[0]>,
        ) => ({
          at: new Date(base + minutes * MINUTE),
          teamId: 'T01',
          userId: 'U01',
          channelId: 'C01',
          action: 'terminate',
          detail: `entry ${minutes}`,
          endpoints: ['cvpn-endpoint-1', 'cvpn-endpoint-2'],
          outcome: 'ok',
          requestIds: ['req-1'],
          ...extra,
        });
        const entries = [
          entry(2, { teamId: null, channelId: null, endpoints: [], requestIds: [] }),
          entry(1, { outcome: 'refused: access denied' }),
          entry(3, { action: 'list', detail: 'quote \' and "double" and ünïcode' }),
        ];
        for (const e of entries) await store.appendAudit(e);
        expect(await store.recentAudit(2)).toEqual([entries[2], entries[0]]);
        expect(await store.recentAudit(3)).toEqual([entries[2], entries[0], entries[1]]);
        expect(await store.recentAudit(0)).toEqual([]);
      });
    });

    describe('prune', () => {
      it('deletes old sessions with their marks, old gaps, posts and audit entries', async () => {
        const store = await openStore();
        const base = Date.parse('1990-01-01T00:00:00.000Z');
        const old = (days: number) => new Date(base + days * 86_400_000);
        const endpoint = id('cvpn-endpoint');
        const reported = session(endpoint, 'old-reported', old(1));
        const unreported = session(endpoint, 'old-unreported', old(2));
        const recent = session(endpoint, 'recent', old(40));
        await store.recordSessions([reported, unreported, recent]);
        await store.recordGap(endpoint, old(1), old(2));
        await store.recordGap(endpoint, old(39), old(40));
        const [oldGap] = await store.pendingGaps(digestA, [endpoint]);
        const oldPost = post(digestA, old(3), { postedAt: old(3) });
        // 2 marks for `reported`, 1 for `recent`, 1 for the old gap.
        await store.markReported(
          oldPost,
          [keyOf(reported), keyOf(recent)],
          oldGap === undefined ? [] : [oldGap.id],
        );
        const recentPost = post(digestB, old(41), { postedAt: old(41) });
        await store.markReported(recentPost, [keyOf(reported)], []);
        const auditEntry = (day: number) => ({
          at: old(day),
          teamId: null,
          userId: 'U-prune',
          channelId: null,
          action: 'list',
          detail: `prune test day ${day}`,
          endpoints: [endpoint],
          outcome: 'ok',
          requestIds: [],
        });
        await store.appendAudit(auditEntry(5));
        await store.appendAudit(auditEntry(50));

        const cutoff = old(30);
        // sessions 2 + marks 2 + gap 1 + gap mark 1 + post 1 + audit 1
        expect(await store.prune(cutoff, old(10))).toBe(8);
        expect(await store.prune(cutoff, old(10))).toBe(0);

        expect(await store.pendingSessions(digestA, [endpoint], old(60), old(0))).toEqual([]);
        expect(await store.pendingSessions(digestB, [endpoint], old(60), old(0))).toEqual([recent]);
        expect(
          (await store.pendingGaps(digestA, [endpoint])).map(({ from, to }) => ({ from, to })),
        ).toEqual([{ from: old(39), to: old(40) }]);
        expect(await store.lastPost(digestA)).toBeNull();
        expect(await store.lastPost(digestB)).toEqual(recentPost);
        const audit = await store.recentAudit(1_000);
        expect(audit.filter((e) => e.userId === 'U-prune').map((e) => e.detail)).toEqual([
          'prune test day 50',
        ]);
      });
    });

    describe('a second instance on the same database', () => {
      it('sees what the first recorded', async () => {
        const first = await openStore();
        const endpoint = id('cvpn-endpoint');
        const ended = session(endpoint, 'c1', at(10));
        await first.recordSessions([ended]);
        await first.recordPoll(endpoint, at(5));
        const digestPost = post(digest, at(0));
        await first.markReported(digestPost, [], []);

        const second = await openStore();
        expect(await second.recordSessions([ended])).toBe(0);
        expect(await second.pendingSessions(digest, [endpoint], at(60), at(-60))).toEqual([ended]);
        expect(await second.lastPoll(endpoint)).toEqual(at(5));
        expect(await second.lastPost(digest)).toEqual(digestPost);
      });

      it('opens concurrently with others, migrating nothing twice and losing nothing', async () => {
        const first = await openStore();
        const endpoint = id('cvpn-endpoint');
        const ended = session(endpoint, 'c1', at(10));
        await first.recordSessions([ended]);
        const others = await Promise.all([openStore(), openStore(), openStore()]);
        for (const other of others) {
          expect(await other.pendingSessions(digest, [endpoint], at(60), at(-60))).toEqual([ended]);
        }
      });
    });

    describe('history', () => {
      /** Everything a query selects, read through the store's pages. */
      const all = async (iterable: AsyncIterable<HistorySession>): Promise<HistorySession[]> => {
        const sessions: HistorySession[] = [];
        for await (const s of iterable) sessions.push(s);
        return sessions;
      };

      it('records a session once, follows its counters, and ends it when AWS ends it', async () => {
        const store = await openStore();
        const endpoint = id('cvpn-endpoint');
        const up = observed(endpoint, 'c1', { startedAt: at(0), ingressBytes: 10 });
        expect(await store.recordHistory(poll(endpoint, at(5), [up], 1))).toEqual({
          added: 1,
          closed: 0,
        });
        await store.recordHistory(poll(endpoint, at(10), [{ ...up, ingressBytes: 99 }], 1));
        const query = { endpointIds: [endpoint], from: at(-60), to: at(60) };
        expect(await all(store.historySessions(query))).toEqual([
          {
            ...up,
            postureCompliance: ['compliant'],
            ingressBytes: 99,
            startedAt: at(0),
            firstSeenAt: at(5),
            lastSeenAt: at(10),
          },
        ]);
        const ended = { ...up, status: 'terminated' as const, endedAt: at(12), ingressBytes: 120 };
        expect(await store.recordHistory(poll(endpoint, at(15), [ended], 0))).toEqual({
          added: 0,
          closed: 0,
        });
        // AWS lists it for another hour; the row stays as it ended.
        await store.recordHistory(poll(endpoint, at(20), [ended], 0));
        const [row] = await all(store.historySessions(query));
        expect(row).toMatchObject({ status: 'terminated', endedAt: at(12), ingressBytes: 120 });
        expect(row?.lastSeenAt).toEqual(at(15));
      });

      it('continues a session across a second instance (a restart) and never duplicates it', async () => {
        const endpoint = id('cvpn-endpoint');
        const up = observed(endpoint, 'c1', { startedAt: at(0) });
        await (await openStore()).recordHistory(poll(endpoint, at(5), [up], 1));
        const restarted = await openStore();
        expect(await restarted.recordHistory(poll(endpoint, at(6), [up], 1))).toEqual({
          added: 0,
          closed: 0,
        });
        const rows = await all(
          restarted.historySessions({ endpointIds: [endpoint], from: at(0), to: at(10) }),
        );
        expect(rows.map((r) => [r.connectionId, r.firstSeenAt, r.lastSeenAt])).toEqual([
          ['c1', at(5), at(6)],
        ]);
      });

      it('closes an open session a poll no longer lists at its last sighting, on that endpoint only', async () => {
        const store = await openStore();
        const [endpoint, other] = [id('cvpn-endpoint'), id('cvpn-endpoint')];
        await store.recordHistory(poll(endpoint, at(5), [observed(endpoint, 'gone')], 1));
        await store.recordHistory(poll(other, at(5), [observed(other, 'elsewhere')], 1));
        // A 90-minute outage: AWS forgot the session meanwhile.
        expect(await store.recordHistory(poll(endpoint, at(95), [], 0))).toEqual({
          added: 0,
          closed: 1,
        });
        const rows = await all(
          store.historySessions({ endpointIds: [endpoint, other], from: at(0), to: at(100) }),
        );
        const byId = Object.fromEntries(rows.map((r) => [r.connectionId, [r.status, r.endedAt]]));
        expect(byId).toEqual({ gone: ['terminated', at(5)], elsewhere: ['active', null] });
      });

      it('selects sessions overlapping a period, ordered by start, across pages', async () => {
        const store = await openStore();
        const endpoint = id('cvpn-endpoint');
        const sessions = Array.from({ length: 4_500 }, (_, i) =>
          observed(endpoint, `c${String(i).padStart(5, '0')}`, {
            status: 'terminated',
            startedAt: at(i),
            endedAt: at(i + 10),
          }),
        );
        await store.recordHistory(poll(endpoint, at(5_000), sessions, 0));
        const rows = await all(
          store.historySessions({ endpointIds: [endpoint], from: at(100), to: at(4_000) }),
        );
        // Ended at or after minute 100 (started at 90 or later), started before minute 4,000.
        expect(rows).toHaveLength(4_000 - 90);
        expect(rows[0]?.connectionId).toBe('c00090');
        expect(rows.at(-1)?.connectionId).toBe('c03999');
        expect(
          rows.every((r, i) => i === 0 || (rows[i - 1] as HistorySession).startedAt <= r.startedAt),
        ).toBe(true);
        // A report's lean read selects the same sessions, in the same order.
        const usage: string[] = [];
        for await (const u of store.historyUsage({
          endpointIds: [endpoint],
          from: at(100),
          to: at(4_000),
        })) {
          usage.push(u.connectionId);
        }
        expect(usage).toEqual(rows.map((r) => r.connectionId));
      });

      it('includes a session open since long before the window, and nothing else of old', async () => {
        const store = await openStore();
        const endpoint = id('cvpn-endpoint');
        await store.recordHistory(
          poll(
            endpoint,
            at(10_000),
            [
              observed(endpoint, 'open-for-days', { startedAt: at(0) }),
              observed(endpoint, 'ended-long-ago', {
                status: 'terminated',
                startedAt: at(1),
                endedAt: at(2),
              }),
            ],
            1,
          ),
        );
        const rows = await all(
          store.historySessions({ endpointIds: [endpoint], from: at(9_000), to: at(9_500) }),
        );
        expect(rows.map((r) => r.connectionId)).toEqual(['open-for-days']);
      });

      it('answers at an instant from the first to the last millisecond of a session', async () => {
        const store = await openStore();
        const endpoint = id('cvpn-endpoint');
        const s = observed(endpoint, 'c1', {
          status: 'terminated',
          startedAt: at(0),
          endedAt: at(30),
        });
        await store.recordHistory(poll(endpoint, at(40), [s], 0));
        const atInstant = (t: Date) =>
          all(
            store.historySessions({ endpointIds: 'all', from: t, to: new Date(t.getTime() + 1) }),
          ).then((rows) => rows.filter((r) => r.endpointId === endpoint).length);
        expect(await atInstant(at(-0.001 / 60))).toBe(0);
        expect(await atInstant(at(0))).toBe(1);
        expect(await atInstant(at(30))).toBe(1);
        expect(await atInstant(new Date(at(30).getTime() + 1))).toBe(0);
      });

      it('selects one person by user name or common name', async () => {
        const store = await openStore();
        const endpoint = id('cvpn-endpoint');
        await store.recordHistory(
          poll(
            endpoint,
            at(5),
            [
              observed(endpoint, 'c1', { username: 'bob', commonName: 'bob.example' }),
              observed(endpoint, 'c2', { username: null, commonName: 'carol.example' }),
              observed(endpoint, 'c3', { username: 'dave', commonName: 'dave.example' }),
            ],
            3,
          ),
        );
        const ids = async (person: string) =>
          (
            await all(
              store.historySessions({ endpointIds: [endpoint], from: at(0), to: at(10), person }),
            )
          ).map((r) => r.connectionId);
        expect(await ids('bob')).toEqual(['c1']);
        expect(await ids('carol.example')).toEqual(['c2']);
        expect(await ids('nobody')).toEqual([]);
        // A certificate's common name answers to its head, as `user NAME` does on live sessions.
        expect(await ids('carol')).toEqual(['c2']);
        expect(await ids('CAROL')).toEqual(['c2']);
        expect(await ids('car')).toEqual([]);
        // LIKE wildcards in a name are literal.
        expect(await ids('%')).toEqual([]);
        expect(await ids('_arol')).toEqual([]);
      });

      it('keeps one sample per endpoint and poll, and says when history starts', async () => {
        const store = await openStore();
        const [endpoint, other] = [id('cvpn-endpoint'), id('cvpn-endpoint')];
        const early = new Date('1970-01-02T00:00:00Z');
        await store.recordHistory(poll(endpoint, early, [], 2));
        await store.recordHistory(poll(endpoint, early, [], 2));
        await store.recordHistory(poll(other, new Date(early.getTime() + MINUTE), [], 5));
        expect(await store.historyStartsAt()).toEqual(early);
        expect(
          await store.concurrencySamples(
            [endpoint, other],
            early,
            new Date(early.getTime() + 2 * MINUTE),
          ),
        ).toEqual([
          { endpointId: endpoint, at: early, active: 2 },
          { endpointId: other, at: new Date(early.getTime() + MINUTE), active: 5 },
        ]);
        expect(await store.pruneHistory(new Date('1970-01-03T00:00:00Z'))).toBe(2);
        expect(await store.concurrencySamples([endpoint, other], early, at(0))).toEqual([]);
      });

      it('prunes sessions that ended before the cutoff, never open ones', async () => {
        const store = await openStore();
        const endpoint = id('cvpn-endpoint');
        const t = (day: number) => new Date(Date.UTC(1975, 0, day));
        await store.recordHistory(
          poll(
            endpoint,
            t(3),
            [
              observed(endpoint, 'old', { status: 'terminated', startedAt: t(1), endedAt: t(2) }),
              observed(endpoint, 'recent', {
                status: 'terminated',
                startedAt: t(1),
                endedAt: t(3),
              }),
              observed(endpoint, 'open', { startedAt: t(1) }),
            ],
            1,
          ),
        );
        // The sample at day 3 stays; the old session goes.
        expect(await store.pruneHistory(t(3))).toBe(1);
        const rows = await all(
          store.historySessions({ endpointIds: [endpoint], from: t(0), to: t(10) }),
        );
        expect(rows.map((r) => r.connectionId).sort()).toEqual(['open', 'recent']);
        await store.pruneHistory(t(4));
      });
    });

    describe('alerts', () => {
      const record = (key: string, extra: Partial<FiringAlertRecord> = {}): FiringAlertRecord => ({
        key,
        ruleName: 'shared-credentials',
        subjectKind: 'person',
        subjectName: 'alice',
        channel: 'C0123456789',
        firedAt: at(0),
        postId: randomUUID(),
        ts: null,
        ...extra,
      });
      const mine = async (store: StateStore, keys: readonly string[]) =>
        (await store.firingAlerts()).filter((r) => keys.includes(r.key));

      it('keeps one record per key, first come first kept, until it is cleared', async () => {
        const store = await openStore();
        const [a, b] = [id('rule/person'), id('rule/session')];
        const first = record(a, { firedAt: at(2) });
        expect(await store.recordFiringAlert(first)).toBe(true);
        expect(await store.recordFiringAlert(record(a, { subjectName: 'bob' }))).toBe(false);
        const other = record(b, { subjectKind: 'session', firedAt: at(1) });
        expect(await store.recordFiringAlert(other)).toBe(true);
        const second = await openStore();
        expect(await mine(second, [a, b])).toEqual([other, first]);
        await second.clearFiringAlert(a);
        await second.clearFiringAlert(id('unknown'));
        expect(await mine(store, [a, b])).toEqual([other]);
      });

      it('records the ts of a post only for the post id it was recorded with', async () => {
        const store = await openStore();
        const key = id('rule/endpoint');
        const alert = record(key, { subjectKind: 'endpoint' });
        await store.recordFiringAlert(alert);
        await store.setAlertPosted(key, randomUUID(), '1.000001');
        expect((await mine(store, [key]))[0]?.ts).toBeNull();
        await store.setAlertPosted(key, alert.postId, '1700000000.000200');
        expect(await mine(store, [key])).toEqual([{ ...alert, ts: '1700000000.000200' }]);
      });

      it('says when an endpoint last had an active session and when watching it began', async () => {
        const store = await openStore();
        const [busy, idle, unseen] = [
          id('cvpn-endpoint'),
          id('cvpn-endpoint'),
          id('cvpn-endpoint'),
        ];
        const day = (d: number) => new Date(Date.UTC(1980, 0, d));
        await store.recordHistory(poll(busy, day(1), [], 0));
        await store.recordHistory(poll(busy, day(2), [], 3));
        await store.recordHistory(poll(busy, day(3), [], 0));
        await store.recordHistory(poll(idle, day(2), [], 0));
        const activity = await store.endpointActivity([busy, idle, unseen]);
        expect(activity.get(busy)).toEqual({ lastActiveAt: day(2), firstSampleAt: day(1) });
        expect(activity.get(idle)).toEqual({ lastActiveAt: null, firstSampleAt: day(2) });
        expect(activity.has(unseen)).toBe(false);
        await store.pruneHistory(day(10));
      });

      it('says what the history knows of people, by user name or common name', async () => {
        const store = await openStore();
        const endpoint = id('cvpn-endpoint');
        const [ada, cert, stranger] = [id('ada'), id('cn'), id('nobody')];
        await store.recordHistory(
          poll(
            endpoint,
            at(30),
            [
              observed(endpoint, 'c1', { username: ada, commonName: null, startedAt: at(10) }),
              observed(endpoint, 'c2', { username: null, commonName: cert, startedAt: at(20) }),
            ],
            2,
          ),
        );
        await store.recordHistory(
          poll(
            endpoint,
            at(40),
            [
              observed(endpoint, 'c1', { username: ada, commonName: null, startedAt: at(10) }),
              observed(endpoint, 'c2', { username: null, commonName: cert, startedAt: at(20) }),
              observed(endpoint, 'c3', { username: ada, commonName: null, startedAt: at(5) }),
            ],
            3,
          ),
        );
        const seen = await store.peopleSeen([ada, cert, stranger]);
        expect(seen.get(ada)).toEqual({ firstStartedAt: at(5), firstSeenAt: at(30) });
        expect(seen.get(cert)).toEqual({ firstStartedAt: at(20), firstSeenAt: at(30) });
        expect(seen.has(stranger)).toBe(false);
      });
    });

    describe('leadership', () => {
      it('lets one holder lead at a time and renews its lead', async () => {
        const [a, b] = [await openStore(), await openStore()];
        const lead = id('lead');
        expect(await a.tryLead(lead, 'holder-a', 60_000)).toBe(true);
        expect(await a.tryLead(lead, 'holder-a', 60_000)).toBe(true);
        expect(await a.tryLead(lead, 'holder-x', 60_000)).toBe(false);
        expect(await b.tryLead(lead, 'holder-b', 60_000)).toBe(false);
        expect(await b.tryLead(id('other-lead'), 'holder-b', 60_000)).toBe(true);
      });

      it('hands the lead over on release, and ignores a release by a non-holder', async () => {
        const [a, b] = [await openStore(), await openStore()];
        const lead = id('lead');
        expect(await a.tryLead(lead, 'holder-a', 60_000)).toBe(true);
        await b.releaseLead(lead, 'holder-b');
        expect(await b.tryLead(lead, 'holder-b', 60_000)).toBe(false);
        await a.releaseLead(lead, 'holder-a');
        await a.releaseLead(lead, 'holder-a');
        expect(await b.tryLead(lead, 'holder-b', 60_000)).toBe(true);
        expect(await a.tryLead(lead, 'holder-a', 60_000)).toBe(false);
      });
    });
  });
}
