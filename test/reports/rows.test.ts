import { describe, expect, it } from 'vitest';
import { REPORT_COLUMNS, reportCsv, reportJsonLines, reportRows } from '../../src/reports/rows.js';
import { type SessionRecord, summarizeUsage } from '../../src/reports/usage.js';

const HOUR = 3_600_000;

function session(who: string, hours: number, bytes: number): SessionRecord {
  return {
    endpoint: 'prod',
    connectionId: `cvpn-connection-${who}${hours}`,
    username: who,
    commonName: null,
    authentication: ['directory-service-authentication'],
    start: new Date(0),
    end: new Date(hours * HOUR),
    ingressBytes: bytes,
    egressBytes: bytes * 2,
  };
}

const report = summarizeUsage({
  sessions: [
    session('bob', 1 / 3, 10),
    session('=HYPERLINK("http://evil")', 2, 5),
    session('alice', 5, 1_000_000),
    session('alice', 1, 1),
    session('carol, "the admin"', 0.5, 0),
  ],
  period: { start: new Date(0), end: new Date(24 * HOUR), timeZone: 'UTC' },
  now: new Date(24 * HOUR),
});

describe('reportJsonLines', () => {
  it('prints one object per person with exactly the six keys, most hours first', () => {
    const lines = reportJsonLines(report).trimEnd().split('\n');
    const objects = lines.map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(objects.map((o) => Object.keys(o))).toEqual(objects.map(() => [...REPORT_COLUMNS]));
    expect(objects.map((o) => o.person)).toEqual([
      'alice',
      '=HYPERLINK("http://evil")',
      'carol, "the admin"',
      'bob',
    ]);
    expect(objects[0]).toEqual({
      person: 'alice',
      sessions: 2,
      connectionHours: 6,
      ingressBytes: 1_000_001,
      egressBytes: 2_000_002,
      estimatedCost: 0.3,
    });
  });

  it('keeps hours and cost unrounded and bytes as integers', () => {
    const bob = reportRows(report).find((r) => r.person === 'bob');
    expect(bob?.connectionHours).toBe(1 / 3);
    expect(bob?.estimatedCost).toBeCloseTo(0.05 / 3, 15);
    expect(Number.isInteger(bob?.ingressBytes)).toBe(true);
  });

  it('prints nothing for nobody', () => {
    const empty = summarizeUsage({
      sessions: [],
      period: { start: new Date(0), end: new Date(HOUR), timeZone: 'UTC' },
      now: new Date(HOUR),
    });
    expect(reportJsonLines(empty)).toBe('');
  });
});

describe('reportCsv', () => {
  it('has a header, everyone in order, quotes commas and quotes, and defuses formulas', () => {
    expect(reportCsv(report).split('\n')).toEqual([
      'person,sessions,connectionHours,ingressBytes,egressBytes,estimatedCost',
      'alice,2,6,1000001,2000002,0.3',
      `"'=HYPERLINK(""http://evil"")",1,2,5,10,0.1`,
      '"carol, ""the admin""",1,0.5,0,0,0.025',
      `bob,1,${1 / 3},10,20,${report.people[3]?.estimatedCost}`,
      '',
    ]);
  });
});
