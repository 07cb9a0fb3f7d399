/** Commands and clicks counted by outcome where they are audited: once each, no person in a label. */
import { describe, expect, it } from 'vitest';
import { createAuditTrail } from '../../src/audit.js';
import { createMetrics } from '../../src/http/metrics.js';
import { createLogger } from '../../src/logger.js';
import { meteredAuditTrail, metricsOutcome } from '../../src/slack/metered-audit.js';

const actor = { teamId: 'T1', userId: 'U1', channelId: 'C1', endpoints: [], requestIds: [] };

describe('metricsOutcome', () => {
  it('maps every audit outcome to one of the five metric outcomes', () => {
    expect(metricsOutcome('ok')).toBe('ok');
    expect(metricsOutcome('usage-error')).toBe('usage_error');
    expect(metricsOutcome('denied')).toBe('refused');
    expect(metricsOutcome('refused by AWS (dry run)')).toBe('refused');
    expect(metricsOutcome('error: EndpointNotFoundError')).toBe('aws_error');
    expect(metricsOutcome('partial')).toBe('aws_error');
    expect(metricsOutcome('error')).toBe('error');
  });
});

describe('meteredAuditTrail', () => {
  it('counts a command by its first word and a click by its action, and still audits both', async () => {
    const lines: string[] = [];
    const trail = createAuditTrail({
      store: null,
      logger: createLogger('info', (line) => lines.push(line)),
      now: () => new Date('2026-11-27T12:00:00Z'),
    });
    const metrics = createMetrics({ defaultMetrics: false });
    const metered = meteredAuditTrail(trail, metrics);
    await metered.record({ ...actor, action: 'command', detail: 'user alice', outcome: 'ok' });
    await metered.record({ ...actor, action: 'command', detail: 'prod', outcome: 'usage-error' });
    await metered.record({ ...actor, action: 'terminate', detail: 'x', outcome: 'denied' });
    const { body } = await metrics.scrape();
    expect(body).toContain('vpn_conns_commands_total{command="user",outcome="ok"} 1');
    expect(body).toContain('vpn_conns_commands_total{command="list",outcome="usage_error"} 1');
    expect(body).toContain(
      'vpn_conns_clicks_total{action="vpn_conns_terminate",outcome="refused"} 1',
    );
    expect(body).not.toContain('alice');
    expect(lines).toHaveLength(3);
  });
});
