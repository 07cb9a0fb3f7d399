/**
 * The demo's YAML file is one the bot accepts: the fleet's endpoints under their names (corp
 * first, the default), and with the workbench alert rules posting to #vpn-alerts.
 */
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { DEMO_CHANNELS, demoConfigFile } from '../../src/sandbox/demo.js';
import { DEMO_ENDPOINTS } from '../../src/sandbox/living-fleet.js';

describe('the demo configuration file', () => {
  const load = (withAlerts: boolean) =>
    loadConfig({ AWS_REGION: 'eu-west-1', VPN_CONNS_CONFIG: 'demo.yml' }, () =>
      demoConfigFile(DEMO_ENDPOINTS, withAlerts),
    );

  it('names the fleet endpoints, corp first, and gives alert rules to #vpn-alerts', () => {
    const config = load(true);
    expect(config.aws.endpoints?.map((e) => e.alias)).toEqual(['corp', 'devices', 'partners']);
    expect(config.alerts.maxConnections).toEqual({ corp: 100 });
    expect(config.alerts.rules.length).toBeGreaterThanOrEqual(5);
    expect(new Set(config.alerts.rules.map((r) => r.channel))).toEqual(
      new Set([DEMO_CHANNELS[2].id]),
    );
  });

  it('has no alert rules for a real workspace, whose channel IDs it cannot know', () => {
    expect(load(false).alerts.rules).toEqual([]);
  });
});
