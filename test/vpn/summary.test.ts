import { describe, expect, it } from 'vitest';
import { type Connection, normalizeConnection } from '../../src/vpn/connection.js';
import { countByStatus, sortConnections, summarize } from '../../src/vpn/summary.js';

function connection(
  id: string,
  status: string | undefined,
  established: string | undefined,
  endpoint = 'cvpn-endpoint-0a',
): Connection {
  return normalizeConnection({
    ClientVpnEndpointId: endpoint,
    ConnectionId: `cvpn-connection-${id}`,
    Username: `user-${id}`,
    Status: { Code: status },
    ConnectionEstablishedTime: established,
  });
}

const ids = (cs: readonly Connection[]) => cs.map((c) => c.connectionId.slice(16));

/** A deterministic shuffle (a fixed permutation), so the test needs no randomness. */
function shuffled<T>(items: readonly T[], step: number): T[] {
  return items.map((_, i) => items[(i * step) % items.length] as T);
}

describe('sortConnections', () => {
  const fleet = [
    connection('t1', 'terminated', '2026-11-27 11:00:00'),
    connection('u1', 'bogus', '2026-11-27 11:59:00'),
    connection('a-old', 'active', '2026-11-27 08:00:00'),
    connection('f1', 'failed-to-terminate', '2026-11-27 09:00:00'),
    connection('a-new', 'active', '2026-11-27 11:30:00'),
    connection('g1', 'terminating', '2026-11-27 07:00:00'),
    connection('a-nostart', 'active', undefined),
    connection('t2', 'terminated', '2026-11-27 11:45:00'),
  ];

  it('puts active first, then terminating, failed-to-terminate, terminated, unknown status last', () => {
    expect(sortConnections(fleet).map((c) => c.status)).toEqual([
      'active',
      'active',
      'active',
      'terminating',
      'failed-to-terminate',
      'terminated',
      'terminated',
      null,
    ]);
  });

  it('shows the newest connection of a status first, and unknown start times last', () => {
    expect(ids(sortConnections(fleet)).slice(0, 3)).toEqual(['a-new', 'a-old', 'a-nostart']);
    expect(ids(sortConnections(fleet)).slice(5, 7)).toEqual(['t2', 't1']);
  });

  it('breaks ties by connection id, then endpoint id', () => {
    const same = '2026-11-27 10:00:00';
    const tied = [
      connection('b', 'active', same, 'cvpn-endpoint-02'),
      connection('b', 'active', same, 'cvpn-endpoint-01'),
      connection('a', 'active', same, 'cvpn-endpoint-09'),
    ];
    expect(sortConnections(tied).map((c) => `${c.connectionId.slice(16)}@${c.endpointId}`)).toEqual(
      ['a@cvpn-endpoint-09', 'b@cvpn-endpoint-01', 'b@cvpn-endpoint-02'],
    );
  });

  it('gives the same order whatever the input order', () => {
    const expected = ids(sortConnections(fleet));
    for (const step of [3, 5, 7]) {
      expect(ids(sortConnections(shuffled(fleet, step)))).toEqual(expected);
    }
    expect(ids(sortConnections([...fleet].reverse()))).toEqual(expected);
  });

  it('returns a new array and leaves its input alone', () => {
    const input = [...fleet];
    const sorted = sortConnections(input);
    expect(sorted).not.toBe(input);
    expect(input).toEqual(fleet);
  });
});

describe('countByStatus', () => {
  it('counts every bucket, unknown statuses included, and reports empty buckets as zero', () => {
    const counts = countByStatus([
      connection('1', 'active', undefined),
      connection('2', 'active', undefined),
      connection('3', 'terminated', undefined),
      connection('4', 'something-new', undefined),
    ]);
    expect(counts).toEqual({
      active: 2,
      terminating: 0,
      'failed-to-terminate': 0,
      terminated: 1,
      unknown: 1,
    });
  });
});

describe('summarize', () => {
  it('gives the exact total and per-status counts of a large set', () => {
    const many = Array.from({ length: 2345 }, (_, i) =>
      connection(String(i), i < 2101 ? 'active' : 'terminated', '2026-11-27 10:00:00'),
    );
    const summary = summarize(many);
    expect(summary.total).toBe(2345);
    expect(summary.byStatus.active).toBe(2101);
    expect(summary.byStatus.terminated).toBe(244);
  });

  it('summarizes nothing as zeros', () => {
    expect(summarize([])).toEqual({
      total: 0,
      byStatus: { active: 0, terminating: 0, 'failed-to-terminate': 0, terminated: 0, unknown: 0 },
    });
  });
});
