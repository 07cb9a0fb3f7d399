/**
 * The alert rules the tests run: the example file (`shared-credentials`,
 * `long-sessions`) and one rule for each other condition, in one YAML file read by the real
 * configuration loader — so the scenarios run exactly what a person would write.
 */
import type { AlertRule } from '../../src/alerts/rules.js';
import { loadConfig } from '../../src/config.js';

/** The channel every test rule posts to. */
export const ALERTS_CHANNEL = 'C0ALERTS1';

export const TEST_ALERTS_YAML = `
alerts:
  - name: shared-credentials
    channel: ${ALERTS_CHANNEL}
    maxSessionsPerUser: 3
  - name: long-sessions
    channel: ${ALERTS_CHANNEL}
    endpoints: [prod]
    maxSessionHours: 20
  - name: posture
    channel: ${ALERTS_CHANNEL}
    postureNonCompliant: true
  - name: stuck
    channel: ${ALERTS_CHANNEL}
    failedToTerminate: true
  - name: busy
    channel: ${ALERTS_CHANNEL}
    endpoints: [prod]
    endpointUsagePercent: 80
  - name: idle
    channel: ${ALERTS_CHANNEL}
    endpoints: [dev]
    idleHours: 4
  - name: newcomers
    channel: ${ALERTS_CHANNEL}
    newUser: true
`;

/** The rules of {@link TEST_ALERTS_YAML}, in its order. */
export const TEST_RULES: readonly AlertRule[] = loadConfig(
  { AWS_REGION: 'us-east-1', VPN_CONNS_CONFIG: 'alerts.yml' },
  () => TEST_ALERTS_YAML,
).alerts.rules;

/** One rule of {@link TEST_RULES} by name. */
export function testRule(name: string): AlertRule {
  const rule = TEST_RULES.find((r) => r.name === name);
  if (!rule) throw new Error(`no test rule ${name}`);
  return rule;
}
