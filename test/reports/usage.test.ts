import { describe, expect, it } from 'vitest';
import { parseReportPeriod } from '../../src/reports/period.js';
import {
  type ConcurrencySample,
  personOf,
  type SessionRecord,
  summarizeUsage,
} from '../../src/reports/usage.js';

const BERLIN = 'Europe/Berlin';
const MIN = 60_000;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;

function session(
  endpoint: string,
  who: string,
  start: string | number,
  end: string | number | null,
  bytes: [number | null, number | null] = [1_000, 2_000],
): SessionRecord {
  const certificate = endpoint === 'lab';
  return {
    endpoint,
    connectionId: `cvpn-connection-${who}-${start}`,
    username: certificate ? null : who,
    commonName: certificate ? who : `${who}.vpn.example`,
    authentication: certificate ? ['certificate-authentication'] : ['federated-authentication'],
    start: new Date(start),
    end: end === null ? null : new Date(end),
    ingressBytes: bytes[0],
    egressBytes: bytes[1],
  };
}

/**
 * Two weeks of history before Monday 30 Nov 2026, 09:00 in Berlin (CET, UTC+1). Every day from
 * 16 to 29 Nov: alice on prod 08:00–16:00Z (8 h), bob on prod 20:00–22:30Z (2.5 h), carol on the
 * certificate endpoint lab 12:00–13:00Z (1 h). Around the week's edges: dave 20:00Z Sun 22 Nov to
 * 04:00Z Mon 23 Nov (5 h of it inside), eve connected since 22:00Z Sun 29 Nov and still active
 * (1 h inside). A 3-minute spike on Wed 25 Nov 10:01–10:04Z (frank, grace, heidi) falls between
 * two polls.
 */
function twoWeeks(): SessionRecord[] {
  const sessions: SessionRecord[] = [];
  for (let d = 16; d <= 29; d += 1) {
    const day = `2026-11-${d}`;
    sessions.push(
      session('prod', 'alice', `${day}T08:00:00Z`, `${day}T16:00:00Z`, [1_000_000, 3_000_000]),
      session('prod', 'bob', `${day}T20:00:00Z`, `${day}T22:30:00Z`, [50_000, 70_000]),
      session('lab', 'carol', `${day}T12:00:00Z`, `${day}T13:00:00Z`, [10, 20]),
    );
  }
  sessions.push(
    session('prod', 'dave', '2026-11-22T20:00:00Z', '2026-11-23T04:00:00Z', [7, 9]),
    session('prod', 'eve', '2026-11-29T22:00:00Z', null, [null, null]),
  );
  for (const who of ['frank', 'grace', 'heidi']) {
    sessions.push(session('prod', who, '2026-11-25T10:01:00Z', '2026-11-25T10:04:00Z', [1, 1]));
  }
  return sessions;
}

/**
 * What the collector would have sampled every 5 minutes over the two weeks, minus a 90-minute
 * outage on 26 Nov, plus one poll on lab that saw 3 sessions the store never recorded.
 */
function samples(sessions: readonly SessionRecord[], now: Date): ConcurrencySample[] {
  const out: ConcurrencySample[] = [];
  const outage = [Date.parse('2026-11-26T10:00:00Z'), Date.parse('2026-11-26T11:30:00Z')];
  for (let t = Date.parse('2026-11-16T00:00:00Z'); t < now.getTime(); t += 5 * MIN) {
    if (t >= (outage[0] as number) && t < (outage[1] as number)) continue;
    for (const endpoint of ['prod', 'lab']) {
      const active = sessions.filter(
        (s) =>
          s.endpoint === endpoint &&
          s.start.getTime() <= t &&
          (s.end === null || s.end.getTime() > t),
      ).length;
      const missed = endpoint === 'lab' && t === Date.parse('2026-11-27T12:30:00Z');
      out.push({ endpoint, at: new Date(t), active: missed ? 3 : active });
    }
  }
  return out;
}

describe('summarizeUsage over two simulated weeks (last-7d, Europe/Berlin)', () => {
  const now = new Date('2026-11-30T08:00:00Z'); // Mon 09:00 CET
  const period = parseReportPeriod('last-7d', now, BERLIN); // 22 Nov 23:00Z → 29 Nov 23:00Z
  const sessions = twoWeeks();
  const report = summarizeUsage({
    sessions,
    samples: samples(sessions, now),
    period,
    now,
    pricing: { currency: 'USD', perConnectionHour: 0.05, byEndpoint: { lab: 0.1 } },
  });

  it('counts every session overlapping the week, and the distinct people', () => {
    // 7 alice + 7 bob + 7 carol + dave + eve + 3 in the spike
    expect(report.totals.sessions).toBe(26);
    expect(report.totals.people).toBe(8);
  });

  it('counts connection-hours inside the week only (dave 5 of 8 h, eve 1 h up to the end)', () => {
    expect(report.totals.connectionHours).toBe(86.65);
    expect(report.endpoints.map((e) => [e.endpoint, e.sessions, e.connectionHours])).toEqual([
      ['lab', 7, 7],
      ['prod', 19, 79.65],
    ]);
  });

  it('sums the sessions’ whole byte counters, unknown counters as 0', () => {
    expect(report.totals.ingressBytes).toBe(7 * 1_000_000 + 7 * 50_000 + 7 * 10 + 7 + 3);
    expect(report.totals.egressBytes).toBe(7 * 3_000_000 + 7 * 70_000 + 7 * 20 + 9 + 3);
  });

  it('prices each endpoint’s hours at its own price', () => {
    const [lab, prod] = report.endpoints;
    expect(lab?.estimatedCost).toBeCloseTo(0.7, 12);
    expect(prod?.estimatedCost).toBeCloseTo(3.9825, 12);
    expect(report.totals.estimatedCost).toBeCloseTo(4.6825, 12);
    expect(report.currency).toBe('USD');
  });

  it('finds the spike between two polls from the sessions, and what only a sample saw', () => {
    const peaks = Object.fromEntries(
      report.endpoints.map((e) => [e.endpoint, [e.peak.count, e.peak.at?.toISOString()]]),
    );
    expect(peaks).toEqual({
      prod: [4, '2026-11-25T10:01:00.000Z'],
      lab: [3, '2026-11-27T12:30:00.000Z'],
    });
  });

  it('rolls up per person (user name; common name on the certificate endpoint), most hours first', () => {
    expect(
      report.people.map((p) => [
        p.person,
        p.sessions,
        p.connectionHours,
        p.ingressBytes,
        p.egressBytes,
      ]),
    ).toEqual([
      ['alice', 7, 56, 7_000_000, 21_000_000],
      ['bob', 7, 17.5, 350_000, 490_000],
      ['carol', 7, 7, 70, 140],
      ['dave', 1, 5, 7, 9],
      ['eve', 1, 1, 0, 0],
      ['frank', 1, 0.05, 1, 1],
      ['grace', 1, 0.05, 1, 1],
      ['heidi', 1, 0.05, 1, 1],
    ]);
    const cost = Object.fromEntries(report.people.map((p) => [p.person, p.estimatedCost]));
    expect(cost.alice).toBeCloseTo(2.8, 12);
    expect(cost.carol).toBeCloseTo(0.7, 12);
    expect(cost.frank).toBeCloseTo(0.0025, 12);
  });

  it('splits connection-hours by Berlin day, per endpoint', () => {
    expect(report.days.map((d) => [d.day, d.connectionHours, ...d.byEndpoint])).toEqual([
      ['2026-11-23', 16.5, 1, 15.5],
      ['2026-11-24', 11.5, 1, 10.5],
      ['2026-11-25', 11.65, 1, 10.65],
      ['2026-11-26', 11.5, 1, 10.5],
      ['2026-11-27', 11.5, 1, 10.5],
      ['2026-11-28', 11.5, 1, 10.5],
      ['2026-11-29', 12.5, 1, 11.5],
    ]);
  });

  it('gives each endpoint a series of the maximum concurrency per 30-minute bucket', () => {
    const prod = report.concurrency.find((c) => c.endpoint === 'prod');
    expect(prod?.stepMs).toBe(30 * MIN);
    expect(prod?.points).toHaveLength(336);
    const at = (iso: string) => prod?.points.find((p) => p.at.toISOString() === iso)?.active;
    expect(at('2026-11-25T10:00:00.000Z')).toBe(4);
    expect(at('2026-11-25T10:30:00.000Z')).toBe(1);
    expect(at('2026-11-26T10:30:00.000Z')).toBe(1); // during the outage, from the sessions
    expect(at('2026-11-25T16:00:00.000Z')).toBe(0); // alice left at 16:00 sharp
    expect(at('2026-11-25T15:30:00.000Z')).toBe(1);
    expect(at('2026-11-22T23:00:00.000Z')).toBe(1); // dave, from before the week
  });
});

describe('summarizeUsage at the edges', () => {
  const period = { start: new Date(0), end: new Date(10 * HOUR), timeZone: 'UTC' };
  const now = new Date(20 * HOUR);

  it('leaves out sessions that end at the start or begin at the end (half-open)', () => {
    const report = summarizeUsage({
      sessions: [
        session('prod', 'early', -HOUR, 0),
        session('prod', 'late', 10 * HOUR, 11 * HOUR),
        session('prod', 'inside', 0, HOUR),
      ],
      period,
      now,
    });
    expect(report.people.map((p) => p.person)).toEqual(['inside']);
  });

  it('counts an active session up to now when now is before the period’s end', () => {
    const report = summarizeUsage({
      sessions: [session('prod', 'alice', 2 * HOUR, null)],
      period,
      now: new Date(5 * HOUR),
    });
    expect(report.totals.connectionHours).toBe(3);
  });

  it('does not count back-to-back sessions as concurrent', () => {
    const report = summarizeUsage({
      sessions: [session('prod', 'a', 0, HOUR), session('prod', 'b', HOUR, 2 * HOUR)],
      period,
      now,
    });
    expect(report.endpoints[0]?.peak).toEqual({ count: 1, at: new Date(0) });
  });

  it('trusts the sessions when a sample saw fewer (a poll just before a connect)', () => {
    const report = summarizeUsage({
      sessions: [session('prod', 'a', 0, HOUR), session('prod', 'b', 0, HOUR)],
      samples: [{ endpoint: 'prod', at: new Date(30 * MIN), active: 1 }],
      period,
      now,
    });
    expect(report.endpoints[0]?.peak.count).toBe(2);
  });

  it('lists asked-for endpoints without sessions, with zeros and no peak time', () => {
    const report = summarizeUsage({ sessions: [], period, now, endpoints: ['staging'] });
    expect(report.endpoints).toEqual([
      {
        endpoint: 'staging',
        sessions: 0,
        connectionHours: 0,
        ingressBytes: 0,
        egressBytes: 0,
        estimatedCost: 0,
        pricePerConnectionHour: 0.05,
        peak: { count: 0, at: null },
      },
    ]);
    expect(report.concurrency[0]?.points.every((p) => p.active === 0)).toBe(true);
  });

  it('gives a session connected through the autumn change 25 hours on that Berlin day', () => {
    const now = new Date('2026-10-26T08:00:00Z');
    const week = parseReportPeriod('last-7d', now, BERLIN);
    const report = summarizeUsage({
      sessions: [session('prod', 'always', '2026-10-01T00:00:00Z', null)],
      period: week,
      now,
    });
    expect(report.days.map((d) => d.connectionHours)).toEqual([24, 24, 24, 24, 24, 24, 25]);
    expect(report.totals.connectionHours).toBe(169);
    expect(report.days.map((d) => d.start.getTime() - week.start.getTime())).toEqual(
      [0, 1, 2, 3, 4, 5, 6].map((d) => d * DAY),
    );
  });
});

describe('personOf', () => {
  it('names a person by user name, and by common name on certificate-only endpoints', () => {
    expect(personOf(session('prod', 'alice', 0, 1))).toBe('alice');
    expect(personOf(session('lab', 'carol', 0, 1))).toBe('carol');
  });

  it('falls back to the other name, then to (unknown)', () => {
    const base = session('prod', 'x', 0, 1);
    expect(personOf({ ...base, username: null })).toBe('x.vpn.example');
    expect(personOf({ ...base, username: null, commonName: null })).toBe('(unknown)');
  });
});
