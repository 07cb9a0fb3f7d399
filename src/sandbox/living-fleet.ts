/**
 * A living Client VPN fleet for the EC2 emulator, for `npm run demo`: three endpoints (Active
 * Directory, certificate, SAML), a few hundred sessions at start, and a steady churn of sessions
 * ending and new ones connecting. Deterministic for a seed, on the emulator's clock.
 *
 * The fleet only adds connections and disconnects active ones; expiry after 60 minutes and
 * TerminateClientVpnConnections are the emulator's own behaviour (docs/ec2-emulator.md).
 */
import type { Ec2Emulator, EmulatedConnection, EmulatedEndpoint } from './ec2-emulator.js';
import { connectionId, endpointId } from './vpn-data.js';

/** The demo's endpoints: the names become aliases (`/vpn-conns corp`). */
export const DEMO_ENDPOINTS: readonly EmulatedEndpoint[] = [
  {
    id: endpointId(100),
    name: 'corp',
    description: 'Employees (Active Directory)',
    authenticationType: 'directory-service-authentication',
    region: 'eu-west-1',
  },
  {
    id: endpointId(101),
    name: 'devices',
    description: 'Managed laptops (certificates)',
    authenticationType: 'certificate-authentication',
    region: 'eu-west-1',
  },
  {
    id: endpointId(102),
    name: 'partners',
    description: 'Contractors and partners (SAML)',
    authenticationType: 'federated-authentication',
    region: 'eu-west-1',
  },
];

/** People of the demo: the first ones always have sessions (bob on every endpoint). */
const PEOPLE = [
  'bob',
  'alice',
  'carol',
  'dave',
  'erin',
  'frank',
  'grace',
  'heidi',
  'ivan',
  'judy',
  'mallory',
  'niaj',
  'olivia',
  'peggy',
  'rupert',
  'sybil',
  'trent',
  'victor',
  'walter',
  'yara',
  'zoë',
  'José',
];

/** Options of {@link startLivingFleet}. */
export interface LivingFleetOptions {
  emulator: Ec2Emulator;
  /** Sessions at start, over the three endpoints; also the size the churn keeps. */
  connections: number;
  /** Clock of the emulator; default `() => new Date()`. */
  now?: () => Date;
  /** PRNG seed; default 7. */
  seed?: number;
  /** Churn period in ms; default 5000. 0: no timer (call `tick()` yourself). */
  tickMs?: number;
}

/** A running fleet; see {@link startLivingFleet}. */
export interface LivingFleet {
  readonly endpoints: readonly EmulatedEndpoint[];
  /** Sessions ended and connected per tick. */
  readonly churnPerTick: number;
  /** One step of churn: some sessions end, as many new ones connect. */
  tick(): { ended: number; connected: number };
  stop(): void;
}

function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** What the fleet's steps share: the emulator, the clock, the seeded source, the people. */
interface FleetState {
  emulator: Ec2Emulator;
  now: () => Date;
  rng: () => number;
  int: (below: number) => number;
  endpoints: EmulatedEndpoint[];
  peopleCount: number;
  /** Sessions made so far: numbers the connection ids. */
  serial: number;
}

/** The n-th person: the named ones first, then numbered variants of them. */
function person(n: number): string {
  return n < PEOPLE.length
    ? (PEOPLE[n] as string)
    : `${PEOPLE[n % PEOPLE.length]}${Math.floor(n / PEOPLE.length)}`;
}

/** A new active session of person `who` on endpoint `e`, connected `ageSeconds` ago. */
function session(
  state: FleetState,
  e: number,
  who: number,
  ageSeconds: number,
): EmulatedConnection {
  const { rng, int } = state;
  const endpoint = state.endpoints[e] as EmulatedEndpoint;
  const name = person(who);
  const nowMs = state.now().getTime();
  const n = state.serial++;
  const bytes = Math.floor(ageSeconds * (2_000 + rng() * 150_000));
  const certificate = endpoint.authenticationType === 'certificate-authentication';
  return {
    endpointId: endpoint.id,
    connectionId: connectionId(1_000_000 + n),
    username: certificate ? undefined : name,
    commonName: certificate ? `${name}.laptop.corp.example` : name,
    clientIp: `10.${20 + e}.${int(256)}.${2 + int(252)}`,
    clientIpv6: undefined,
    establishedAt: new Date(Math.floor((nowMs - ageSeconds * 1000) / 1000) * 1000),
    endedAt: null,
    status: 'active',
    ingressBytes: bytes,
    egressBytes: Math.floor(bytes * (0.05 + rng() * 0.4)),
    ingressPackets: Math.floor(bytes / 900) + 1,
    egressPackets: Math.floor(bytes / 1400) + 1,
    postureCompliance: rng() < 0.85 ? ['compliant'] : ['non-compliant'],
  };
}

/** The sessions at start: bob (person 0) on every endpoint, the rest spread at random. */
function initialSessions(state: FleetState, count: number): EmulatedConnection[] {
  const { int, endpoints } = state;
  const initial: EmulatedConnection[] = [];
  for (let i = 0; i < count; i++) {
    const who = i < endpoints.length ? 0 : 1 + int(state.peopleCount - 1);
    initial.push(session(state, i % endpoints.length, who, 60 + int(10 * 3600)));
  }
  return initial;
}

/** One step of churn: `churnPerTick` active sessions (never bob's) end, as many connect. */
function churn(state: FleetState, churnPerTick: number): { ended: number; connected: number } {
  const { emulator, int } = state;
  const active = emulator
    .connections()
    .filter(
      (c) =>
        c.status === 'active' && c.username !== 'bob' && c.commonName !== 'bob.laptop.corp.example',
    );
  let ended = 0;
  for (let k = 0; k < churnPerTick && active.length > 0; k++) {
    const [gone] = active.splice(int(active.length), 1);
    if (gone !== undefined && emulator.disconnect(gone.connectionId)) ended++;
  }
  const fresh = Array.from({ length: churnPerTick }, () =>
    session(state, int(state.endpoints.length), 1 + int(state.peopleCount - 1), int(30)),
  );
  emulator.addConnections(fresh);
  return { ended, connected: fresh.length };
}

/**
 * Fills the emulator with the demo endpoints and `connections` sessions, then keeps it alive:
 * every `tickMs` about one in 600 sessions (at least one) ends and as many connect, so each
 * endpoint sees sessions end every minute and a minute's digest is never empty.
 */
export function startLivingFleet(options: LivingFleetOptions): LivingFleet {
  const rng = mulberry32(options.seed ?? 7);
  const state: FleetState = {
    emulator: options.emulator,
    now: options.now ?? (() => new Date()),
    rng,
    int: (below) => Math.floor(rng() * below),
    endpoints: DEMO_ENDPOINTS.map((e) => ({ ...e })),
    // Enough distinct people that a big fleet is not 22 people with 450 sessions each.
    peopleCount: Math.max(PEOPLE.length, Math.ceil(options.connections / 3)),
    serial: 0,
  };
  options.emulator.addEndpoints(state.endpoints);
  options.emulator.addConnections(initialSessions(state, options.connections));
  const churnPerTick = Math.max(1, Math.round(options.connections / 600));
  const tick = () => churn(state, churnPerTick);
  const tickMs = options.tickMs ?? 5000;
  const timer = tickMs > 0 ? setInterval(tick, tickMs) : undefined;
  timer?.unref();
  return {
    endpoints: state.endpoints,
    churnPerTick,
    tick,
    stop: () => clearInterval(timer),
  };
}
