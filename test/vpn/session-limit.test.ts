import { describe, expect, it } from 'vitest';
import { sessionTimeLeft } from '../../src/vpn/session-limit.js';

const NOW = new Date('2026-11-27T12:00:00Z');
const MINUTE = 60_000;
const ago = (minutes: number) => new Date(NOW.getTime() - minutes * MINUTE);

describe('sessionTimeLeft', () => {
  it('says how long until the endpoint limit ends the session, minutes rounded down', () => {
    // 24 h limit, started 22 h 40 min ago: 1 h 20 min left.
    const left = sessionTimeLeft(24, ago(22 * 60 + 40), NOW);
    expect(left).toEqual({
      endsAt: new Date(NOW.getTime() + 80 * MINUTE),
      leftMs: 80 * MINUTE,
      lastHour: false,
      text: 'ends in 1h 20m',
    });
    expect(sessionTimeLeft(8, new Date(ago(60).getTime() - 30_000), NOW)?.text).toBe(
      'ends in 6h 59m',
    );
    expect(sessionTimeLeft(10, ago(0), NOW)?.text).toBe('ends in 10h');
    expect(sessionTimeLeft(12, ago(12 * 60 - 65), NOW)?.text).toBe('ends in 1h 05m');
  });

  it('marks sessions in the last hour of the limit', () => {
    expect(sessionTimeLeft(24, ago(23 * 60 - 1), NOW)).toMatchObject({ lastHour: false });
    expect(sessionTimeLeft(24, ago(23 * 60), NOW)).toMatchObject({
      lastHour: true,
      text: 'ends in 1h',
    });
    expect(sessionTimeLeft(24, ago(23 * 60 + 45), NOW)).toMatchObject({
      lastHour: true,
      text: 'ends in 15m',
    });
    expect(sessionTimeLeft(24, new Date(ago(24 * 60).getTime() + 30_000), NOW)).toMatchObject({
      lastHour: true,
      text: 'ends in under a minute',
    });
  });

  it('says "ending now" once the limit has passed (AWS is about to end it)', () => {
    expect(sessionTimeLeft(8, ago(9 * 60), NOW)).toMatchObject({
      leftMs: 0,
      lastHour: true,
      text: 'ending now',
    });
  });

  it('knows nothing without a limit or a start time', () => {
    expect(sessionTimeLeft(null, ago(5), NOW)).toBeNull();
    expect(sessionTimeLeft(undefined, ago(5), NOW)).toBeNull();
    expect(sessionTimeLeft(0, ago(5), NOW)).toBeNull();
    expect(sessionTimeLeft(Number.NaN, ago(5), NOW)).toBeNull();
    expect(sessionTimeLeft(24, null, NOW)).toBeNull();
    expect(sessionTimeLeft(24, new Date(Number.NaN), NOW)).toBeNull();
  });
});
