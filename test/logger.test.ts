import { describe, expect, it } from 'vitest';
import { createLogger, redact } from '../src/logger.js';

const NOW = new Date('2026-11-27T12:00:00Z');

describe('redact', () => {
  it('masks Slack tokens and AWS access key ids wherever they appear', () => {
    expect(redact('token xoxb-123-456-abcDEF and xapp-1-A0-xyz, key AKIAABCDEFGHIJKLMNOP')).toBe(
      'token [redacted] and [redacted], key [redacted]',
    );
    expect(redact('cvpn-endpoint-0123456789abcdef0 stays')).toBe(
      'cvpn-endpoint-0123456789abcdef0 stays',
    );
  });
});

describe('createLogger', () => {
  it('writes one JSON line per message at or above its level, secrets masked', () => {
    const lines: string[] = [];
    const logger = createLogger(
      'info',
      (line) => lines.push(line),
      () => NOW,
    );
    logger.debug('not shown');
    logger.warn('bad token', 'xoxb-secret-1', new Error('boom'));
    expect(lines.map((l) => JSON.parse(l))).toEqual([
      {
        time: '2026-11-27T12:00:00.000Z',
        level: 'warn',
        name: 'vpn-conns',
        msg: 'bad token [redacted] Error: boom',
      },
    ]);
  });

  it('writes audit events whatever the level', () => {
    const lines: string[] = [];
    const logger = createLogger(
      'error',
      (line) => lines.push(line),
      () => NOW,
    );
    logger.event('audit', { userId: 'U0ALICE', outcome: 'ok' });
    expect(JSON.parse(lines[0] ?? '')).toEqual({
      time: '2026-11-27T12:00:00.000Z',
      level: 'info',
      name: 'vpn-conns',
      event: 'audit',
      userId: 'U0ALICE',
      outcome: 'ok',
    });
  });
});
