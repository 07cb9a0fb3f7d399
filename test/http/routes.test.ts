import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { App, type CustomRoute } from '@slack/bolt';
import { afterEach, describe, expect, it } from 'vitest';
import type { ReadinessState } from '../../src/http/health.js';
import { createMetrics } from '../../src/http/metrics.js';
import {
  type MetricsServer,
  observabilityRoutes,
  startMetricsServer,
} from '../../src/http/routes.js';
import { parsePrometheusText, sampleValue } from './prometheus-text.js';

const T0 = new Date('2026-11-27T12:00:00Z');
const POLL = 60;

/** A process as the composition root would describe it; the test moves its clock and state. */
function world() {
  const state: { storeOpen: boolean; lastPollSuccessAt: Date | null } = {
    storeOpen: false,
    lastPollSuccessAt: null,
  };
  let now = T0;
  const metrics = createMetrics();
  const deps = {
    metrics,
    readinessState: (): ReadinessState => ({ ...state, pollIntervalSeconds: POLL }),
    now: () => now,
  };
  return {
    state,
    metrics,
    deps,
    setNow(date: Date) {
      now = date;
    },
  };
}

const servers: MetricsServer[] = [];
const apps: App[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
  await Promise.all(apps.splice(0).map((a) => a.stop()));
});

describe('startMetricsServer (METRICS_PORT)', () => {
  it('serves a scrape that parses strictly and moves with polls', async () => {
    const w = world();
    const server = await startMetricsServer({ ...w.deps, port: 0, host: '127.0.0.1' });
    servers.push(server);
    const url = `http://127.0.0.1:${server.port}/metrics`;
    const first = await fetch(url);
    expect(first.status).toBe(200);
    expect(first.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    parsePrometheusText(await first.text());

    w.metrics.recordPoll('prod', { active: 3 }, T0);
    w.metrics.recordPoll('prod', { active: 4 }, T0);
    const families = parsePrometheusText(await (await fetch(url)).text());
    expect(
      sampleValue(families, 'vpn_conns_connections', { endpoint: 'prod', status: 'active' }),
    ).toBe(4);
    expect(
      sampleValue(families, 'vpn_conns_polls_total', { endpoint: 'prod', outcome: 'ok' }),
    ).toBe(2);
  });

  it('flips /readyz: 503 until the store is open and a poll succeeded, 503 again when polls stall', async () => {
    const w = world();
    const server = await startMetricsServer({ ...w.deps, port: 0, host: '127.0.0.1' });
    servers.push(server);
    const readyz = async () => {
      const res = await fetch(`http://127.0.0.1:${server.port}/readyz`);
      return [res.status, await res.text()] as const;
    };
    expect(await readyz()).toEqual([
      503,
      'not ready: the state store is not open yet; no poll has succeeded yet\n',
    ]);
    w.state.storeOpen = true;
    expect((await readyz())[0]).toBe(503);
    w.state.lastPollSuccessAt = T0;
    expect(await readyz()).toEqual([200, 'ready\n']);
    w.setNow(new Date(T0.getTime() + 3 * POLL * 1000 + 1000));
    expect(await readyz()).toEqual([
      503,
      'not ready: the last successful poll was 181 s ago (more than 3 poll intervals, 180 s)\n',
    ]);
  });

  it('answers HEAD without a body, 404 elsewhere and 405 to other methods', async () => {
    const w = world();
    const server = await startMetricsServer({ ...w.deps, port: 0, host: '127.0.0.1' });
    servers.push(server);
    const base = `http://127.0.0.1:${server.port}`;
    const head = await fetch(`${base}/metrics`, { method: 'HEAD' });
    expect([head.status, await head.text()]).toEqual([200, '']);
    expect(Number(head.headers.get('content-length'))).toBeGreaterThan(1000);
    expect((await fetch(`${base}/slack/events`)).status).toBe(404);
    const post = await fetch(`${base}/metrics`, { method: 'POST' });
    expect([post.status, post.headers.get('allow')]).toEqual([405, 'GET, HEAD']);
  });

  it('says when the port is taken instead of hanging', async () => {
    const w = world();
    const first = await startMetricsServer({ ...w.deps, port: 0, host: '127.0.0.1' });
    servers.push(first);
    await expect(
      startMetricsServer({ ...w.deps, port: first.port, host: '127.0.0.1' }),
    ).rejects.toThrow(/EADDRINUSE/);
  });
});

describe('observabilityRoutes on the Bolt HTTP receiver', () => {
  it("are Bolt custom routes: the real app serves /metrics and /readyz next to Slack's events", async () => {
    const w = world();
    w.state.storeOpen = true;
    w.state.lastPollSuccessAt = T0;
    const customRoutes: CustomRoute[] = observabilityRoutes(w.deps);
    const app = new App({
      token: 'xoxb-test-token',
      signingSecret: 'test-signing-secret',
      tokenVerificationEnabled: false,
      customRoutes,
    });
    apps.push(app);
    const server = (await app.start(0)) as Server;
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    expect(await (await fetch(`${base}/readyz`)).text()).toBe('ready\n');
    w.metrics.recordCommand('user alice', 'ok');
    const families = parsePrometheusText(await (await fetch(`${base}/metrics`)).text());
    expect(
      sampleValue(families, 'vpn_conns_commands_total', { command: 'user', outcome: 'ok' }),
    ).toBe(1);
  });
});
