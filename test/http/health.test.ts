import { describe, expect, it } from 'vitest';
import { readiness } from '../../src/http/health.js';

const T0 = new Date('2026-11-27T12:00:00Z');
const at = (seconds: number) => new Date(T0.getTime() + seconds * 1000);
const POLL = 300;

describe('readiness (/readyz)', () => {
  it('is 503 until the store is open and the first poll has succeeded', () => {
    const closed = readiness(
      { storeOpen: false, lastPollSuccessAt: null, pollIntervalSeconds: POLL },
      T0,
    );
    expect(closed.status).toBe(503);
    expect(closed.reasons).toEqual([
      'the state store is not open yet',
      'no poll has succeeded yet',
    ]);
    expect(closed.body).toBe(
      'not ready: the state store is not open yet; no poll has succeeded yet',
    );
    expect(
      readiness({ storeOpen: true, lastPollSuccessAt: null, pollIntervalSeconds: POLL }, T0),
    ).toMatchObject({
      status: 503,
      reasons: ['no poll has succeeded yet'],
    });
    expect(
      readiness({ storeOpen: false, lastPollSuccessAt: T0, pollIntervalSeconds: POLL }, T0),
    ).toMatchObject({
      status: 503,
      reasons: ['the state store is not open yet'],
    });
  });

  it('is 200 once both hold, up to three poll intervals after the last successful poll', () => {
    const state = { storeOpen: true, lastPollSuccessAt: T0, pollIntervalSeconds: POLL };
    expect(readiness(state, T0)).toEqual({ status: 200, reasons: [], body: 'ready' });
    expect(readiness(state, at(3 * POLL)).status).toBe(200);
  });

  it('flips to 503 when the last successful poll is older than three intervals, and back after a poll', () => {
    const state = { storeOpen: true, lastPollSuccessAt: T0, pollIntervalSeconds: POLL };
    const stale = readiness(state, at(3 * POLL + 1));
    expect(stale.status).toBe(503);
    expect(stale.reasons).toEqual([
      'the last successful poll was 901 s ago (more than 3 poll intervals, 900 s)',
    ]);
    expect(readiness({ ...state, lastPollSuccessAt: at(3 * POLL) }, at(3 * POLL + 1)).status).toBe(
      200,
    );
  });
});
