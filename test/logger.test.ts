import { setImmediate as nextTurn } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { createLogger, redact, routeProcessWarnings } from '../src/logger.js';

const NOW = new Date('2026-11-27T12:00:00Z');

function capture(level: 'debug' | 'info' | 'warn' | 'error' = 'info') {
  const lines: string[] = [];
  const logger = createLogger(
    level,
    (line) => lines.push(line),
    () => NOW,
  );
  const parsed = () => lines.map((l) => JSON.parse(l) as Record<string, unknown>);
  return { logger, lines, parsed };
}

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
  it('writes one JSON line per message at or above its level, fields as JSON fields', () => {
    const { logger, parsed } = capture('info');
    logger.debug('not shown');
    logger.info('digest posted', { digest: 'security', sessions: 3 });
    expect(parsed()).toEqual([
      {
        time: '2026-11-27T12:00:00.000Z',
        level: 'info',
        name: 'vpn-conns',
        msg: 'digest posted',
        digest: 'security',
        sessions: 3,
      },
    ]);
  });

  it('logs an error as an err field with its type, message and code', () => {
    const { logger, parsed } = capture('info');
    const error = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), {
      code: 'ECONNREFUSED',
    });
    logger.warn('store unreachable', error);
    const [line] = parsed();
    expect(line).toMatchObject({
      level: 'warn',
      msg: 'store unreachable',
      err: { type: 'Error', message: 'connect ECONNREFUSED 127.0.0.1:1', code: 'ECONNREFUSED' },
    });
  });

  it('redacts secret keys by path and secret-shaped strings anywhere', () => {
    const { logger, lines, parsed } = capture('info');
    logger.warn('bad token xoxb-secret-1', {
      token: 'plain-secret-value',
      slack: { botToken: 'another-plain-secret', team: 'T1' },
      detail: 'key AKIAABCDEFGHIJKLMNOP used',
    });
    const [line] = parsed();
    expect(line).toMatchObject({
      msg: 'bad token [redacted]',
      token: '[redacted]',
      slack: { botToken: '[redacted]', team: 'T1' },
      detail: 'key [redacted] used',
    });
    expect(lines.join('\n')).not.toMatch(/plain-secret|another-plain|AKIAABCD|xoxb-secret/);
  });

  it("takes Bolt's variadic calls: strings join the message, objects become fields", () => {
    const { logger, parsed } = capture('debug');
    logger.debug('http request failed', 'fetch failed', { api: 'auth.test' });
    expect(parsed()[0]).toMatchObject({
      msg: 'http request failed fetch failed',
      api: 'auth.test',
    });
  });

  it('writes audit events whatever the level', () => {
    const { logger, parsed } = capture('error');
    logger.event('audit', { userId: 'U0ALICE', outcome: 'ok', requestIds: ['r-1'] });
    expect(parsed()[0]).toEqual({
      time: '2026-11-27T12:00:00.000Z',
      level: 'info',
      name: 'vpn-conns',
      event: 'audit',
      userId: 'U0ALICE',
      outcome: 'ok',
      requestIds: ['r-1'],
    });
  });

  it('follows setLevel and setName', () => {
    const { logger, parsed } = capture('info');
    logger.setLevel('error');
    logger.warn('quiet');
    logger.setName('bolt-app');
    logger.error('loud');
    expect(parsed()).toEqual([expect.objectContaining({ name: 'bolt-app', msg: 'loud' })]);
    expect(logger.getLevel()).toBe('error');
  });
});

describe('routeProcessWarnings', () => {
  const saved = process.listeners('warning');
  afterEach(() => {
    process.removeAllListeners('warning');
    for (const listener of saved) process.on('warning', listener);
  });

  it('turns a process warning into one JSON line instead of plain text on stderr', async () => {
    const { logger, parsed } = capture('info');
    routeProcessWarnings(logger, 'warn');
    expect(process.listeners('warning')).toHaveLength(1);
    process.emitWarning('NodeVersionSupportWarning: The AWS SDK\nwill require node >=22.');
    await nextTurn();
    expect(parsed()).toEqual([
      expect.objectContaining({
        level: 'warn',
        msg: 'process warning: NodeVersionSupportWarning: The AWS SDK',
        warning: {
          name: 'Warning',
          message: 'NodeVersionSupportWarning: The AWS SDK\nwill require node >=22.',
        },
      }),
    ]);
  });
});
