import { describe, expect, it } from 'vitest';
import {
  formatBytes,
  formatCount,
  formatDuration,
  formatMilliseconds,
  formatUtc,
} from '../../src/vpn/format.js';

describe('formatBytes', () => {
  it('uses decimal units with one decimal below 100', () => {
    expect(formatBytes(0)).toBe('0 B');
    expect(formatBytes(999)).toBe('999 B');
    expect(formatBytes(1536)).toBe('1.5 KB');
    expect(formatBytes(123_456_789)).toBe('123 MB');
    expect(formatBytes(5_000_000_000)).toBe('5.0 GB');
  });

  it('shows a dash for an unknown counter', () => {
    expect(formatBytes(null)).toBe('–');
    expect(formatBytes(Number.NaN)).toBe('–');
  });
});

describe('formatDuration', () => {
  const start = new Date('2026-11-27T10:00:00Z');
  it('is compact at every scale', () => {
    expect(formatDuration(start, new Date('2026-11-27T10:00:07Z'))).toBe('7s');
    expect(formatDuration(start, new Date('2026-11-27T10:04:10Z'))).toBe('4m 10s');
    expect(formatDuration(start, new Date('2026-11-27T12:05:00Z'))).toBe('2h 05m');
    expect(formatDuration(start, new Date('2026-11-30T14:00:00Z'))).toBe('3d 4h');
  });

  it('shows a dash when an end is unknown or the interval runs backwards', () => {
    expect(formatDuration(null, start)).toBe('–');
    expect(formatDuration(start, new Date('2026-11-27T09:00:00Z'))).toBe('–');
  });

  it('formats a total in milliseconds the same way', () => {
    expect(formatMilliseconds(90 * 60_000)).toBe('1h 30m');
  });
});

describe('formatUtc and formatCount', () => {
  it('prints UTC to the minute and groups thousands', () => {
    expect(formatUtc(new Date('2026-11-27T20:40:59Z'))).toBe('2026-11-27 20:40 UTC');
    expect(formatUtc(null)).toBe('–');
    expect(formatCount(2345)).toBe('2,345');
  });
});
