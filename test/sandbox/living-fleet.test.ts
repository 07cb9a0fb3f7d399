/** The demo's living fleet, on the real emulator read through the real AWS SDK. */
import { DescribeClientVpnConnectionsCommand, EC2Client } from '@aws-sdk/client-ec2';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type Ec2Emulator, startEc2Emulator } from '../../src/sandbox/ec2-emulator.js';
import { startLivingFleet } from '../../src/sandbox/living-fleet.js';

let emulator: Ec2Emulator;
let clock: Date;

beforeEach(async () => {
  clock = new Date('2026-12-01T12:00:00Z');
  emulator = await startEc2Emulator({ now: () => clock });
});

afterEach(async () => {
  await emulator.close();
});

describe('startLivingFleet', () => {
  it('starts three endpoints, one per authentication type, with the sessions asked for', () => {
    const fleet = startLivingFleet({ emulator, connections: 300, now: () => clock, tickMs: 0 });
    expect(fleet.endpoints.map((e) => [e.name, e.authenticationType])).toEqual([
      ['corp', 'directory-service-authentication'],
      ['devices', 'certificate-authentication'],
      ['partners', 'federated-authentication'],
    ]);
    const all = emulator.connections();
    expect(all).toHaveLength(300);
    expect(all.every((c) => c.status === 'active')).toBe(true);
    for (const endpoint of fleet.endpoints) {
      expect(emulator.connections(endpoint.id)).toHaveLength(100);
    }
    // Certificate sessions carry no user name, only a common name.
    expect(
      emulator.connections(fleet.endpoints[1]?.id).every((c) => c.username === undefined),
    ).toBe(true);
    // bob is on every endpoint, so `user bob` always has something to show.
    expect(
      all.filter((c) => c.username === 'bob' || c.commonName === 'bob.laptop.corp.example'),
    ).toHaveLength(3);
  });

  it('ends sessions and connects new ones on every tick; the ended ones read as terminated', async () => {
    const fleet = startLivingFleet({ emulator, connections: 300, now: () => clock, tickMs: 0 });
    clock = new Date(clock.getTime() + 5000);
    expect(fleet.tick()).toEqual({ ended: 1, connected: 1 });
    const client = new EC2Client({
      endpoint: emulator.url,
      region: 'eu-west-1',
      credentials: { accessKeyId: 'AKIDTEST', secretAccessKey: 'test' },
    });
    try {
      const ended = [];
      for (const endpoint of fleet.endpoints) {
        const page = await client.send(
          new DescribeClientVpnConnectionsCommand({ ClientVpnEndpointId: endpoint.id }),
        );
        ended.push(...(page.Connections ?? []).filter((c) => c.Status?.Code === 'terminated'));
      }
      expect(ended).toHaveLength(1);
      expect(ended[0]?.ConnectionEndTime).toBe('2026-12-01 12:00:05');
    } finally {
      client.destroy();
    }
    expect(emulator.connections()).toHaveLength(301);
  });

  it('churns enough that every minute has ended sessions, also at 10,000 sessions', () => {
    const small = startLivingFleet({ emulator, connections: 300, now: () => clock, tickMs: 0 });
    expect(small.churnPerTick * (60_000 / 5000)).toBeGreaterThanOrEqual(12);
  });

  it('holds 10,000 sessions', async () => {
    const fleet = startLivingFleet({ emulator, connections: 10_000, now: () => clock, tickMs: 0 });
    expect(emulator.connections()).toHaveLength(10_000);
    expect(fleet.tick()).toEqual({ ended: 17, connected: 17 });
  });
});
