/**
 * Deterministic Client VPN fleets for the EC2 emulator: the same options give
 * the same endpoints and connections, byte for byte, on every run.
 */
import type {
  EmulatedConnection,
  EmulatedConnectionStatus,
  EmulatedEndpoint,
} from './ec2-emulator.js';

export interface FleetOptions {
  /** How many endpoints to generate (default 3), or the endpoints to fill. */
  endpoints?: number | EmulatedEndpoint[];
  connections: number;
  /** PRNG seed; default 1. */
  seed?: number;
  /** The instant the data is relative to; default 2026-11-27T12:00:00Z. */
  now?: Date;
  /** Share of `terminated` connections; default 0.1. */
  terminatedShare?: number;
}

export interface Fleet {
  endpoints: EmulatedEndpoint[];
  connections: EmulatedConnection[];
}

/**
 * User names that break naive Slack mrkdwn, HTML/XML or URL encoding, plus
 * non-ASCII names. The first AD connections of every fleet use them, in order.
 */
export const TRICKY_USERNAMES: readonly string[] = [
  'Mary Ann',
  '<script>alert(1)</script>',
  'tom&jerry',
  'a>b',
  '*bold*',
  '_italic_',
  '~strike~',
  '`code`',
  '<!channel>',
  '<https://evil.example|click>',
  'zoë',
  '名前',
  'José',
  "o'brien",
  'say "hi"',
  'plus+sign',
  '100%20off',
  'a=b&c=d',
];

export const DEFAULT_FLEET_NOW = new Date('2026-11-27T12:00:00Z');

/** mulberry32: a tiny, fast, seedable PRNG returning floats in [0, 1). */
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

/** murmur3's finaliser: a bijection on 32-bit integers. */
function fmix32(input: number): number {
  let h = input >>> 0;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

const hex8 = (n: number) => n.toString(16).padStart(8, '0');

/** 17 hex digits; the first 8 are a bijection of `n`, so ids never collide for n < 2^32. */
function hex17(n: number, salt: number): string {
  const a = fmix32(n ^ salt);
  const b = fmix32((n + salt * 7) >>> 0);
  const c = fmix32((n * 31 + salt) >>> 0) & 0xf;
  return `${hex8(a)}${hex8(b)}${c.toString(16)}`;
}

/** The deterministic id of the n-th generated endpoint: `cvpn-endpoint-<17 hex>`. */
export function endpointId(n: number): string {
  return `cvpn-endpoint-${hex17(n, 0x5eed0e9)}`;
}

/** The deterministic id of the n-th generated connection: `cvpn-connection-<17 hex>`. */
export function connectionId(n: number): string {
  return `cvpn-connection-${hex17(n, 0x0c0ffee)}`;
}

const FIRST = [
  'alice',
  'bob',
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
];
const LAST = ['martin', 'nguyen', 'schmidt', 'rossi', 'tanaka', 'okafor', 'silva', 'kowalski'];
const REGIONS = ['eu-west-1', 'us-east-1', 'ap-southeast-2', 'us-west-2'];
const ENDPOINT_NAMES = ['prod', 'contractors', 'staging'];

function generateEndpoints(count: number): EmulatedEndpoint[] {
  return Array.from({ length: count }, (_, i) => ({
    id: endpointId(i),
    name: ENDPOINT_NAMES[i] ?? `vpn-${i}`,
    description: `Generated endpoint ${i}`,
    authenticationType: i === 1 ? 'certificate-authentication' : 'directory-service-authentication',
    region: REGIONS[i % REGIONS.length] ?? 'us-east-1',
  }));
}

function adUsername(i: number): string {
  const first = FIRST[i % FIRST.length] ?? 'user';
  const last = LAST[Math.floor(i / FIRST.length) % LAST.length] ?? 'user';
  const round = Math.floor(i / (FIRST.length * LAST.length));
  return round === 0 ? `${first}.${last}` : `${first}.${last}${round}`;
}

const SECOND = 1000;

/** The seeded random source of one fleet: floats in [0, 1), and integers below a bound. */
interface Draw {
  rng: () => number;
  int: (below: number) => number;
}

/** How many of `total` round-robin connections land on certificate-auth endpoints. */
function certificateCount(certificate: boolean[], total: number): number {
  const n = certificate.length;
  return certificate.reduce(
    (sum, isCert, e) => (isCert ? sum + Math.floor(total / n) + (e < total % n ? 1 : 0) : sum),
    0,
  );
}

/** A status drawn with `terminatedShare`; connections 0, 5, 7 and 9 get one of each. */
function drawStatus(draw: Draw, i: number, terminatedShare: number): EmulatedConnectionStatus {
  const r = draw.rng();
  let status: EmulatedConnectionStatus =
    r < terminatedShare
      ? 'terminated'
      : r < terminatedShare + 0.01
        ? 'terminating'
        : r < terminatedShare + 0.015
          ? 'failed-to-terminate'
          : 'active';
  if (i === 0) status = 'active';
  if (i === 5) status = 'terminating';
  if (i === 7) status = 'failed-to-terminate';
  if (i === 9) status = 'terminated';
  return status;
}

/** Start (up to 12 h ago) and, for an ending connection, end time and status message. */
function drawTimes(
  draw: Draw,
  status: EmulatedConnectionStatus,
  nowMs: number,
): { establishedMs: number; endedMs: number | null; statusMessage: string | undefined } {
  const ageSeconds = 60 + draw.int(12 * 3600 - 60);
  const establishedMs = nowMs - ageSeconds * SECOND;
  let endedMs: number | null = null;
  let statusMessage: string | undefined;
  if (status === 'terminated') {
    endedMs = nowMs - draw.int(Math.min(59 * 60, ageSeconds - 1)) * SECOND;
  } else if (status === 'terminating') {
    endedMs = nowMs - draw.int(30) * SECOND;
  } else if (status === 'failed-to-terminate') {
    statusMessage = 'Failed to terminate the connection';
  }
  return { establishedMs, endedMs, statusMessage };
}

/** Byte and packet counters for a connection of `seconds`; about 3% beyond 2^32 bytes. */
function drawTraffic(
  draw: Draw,
  seconds: number,
): Pick<EmulatedConnection, 'ingressBytes' | 'egressBytes' | 'ingressPackets' | 'egressPackets'> {
  const { rng, int } = draw;
  const ingressBytes =
    rng() < 0.03 ? 2 ** 32 + int(2 ** 36) : Math.floor(seconds * rng() * 200_000);
  const egressBytes = Math.floor(ingressBytes * (0.05 + rng() * 0.45));
  const ingressPackets = Math.floor(ingressBytes / (400 + int(1000))) + 1;
  const egressPackets = Math.floor(egressBytes / (200 + int(1000))) + 1;
  return { ingressBytes, egressBytes, ingressPackets, egressPackets };
}

/** Client addresses: connection 2 is IPv6-only, 6 dual-stack, some others either. */
function drawAddresses(
  draw: Draw,
  i: number,
  e: number,
): { clientIp: string | undefined; clientIpv6: string | undefined } {
  const { int } = draw;
  const ipRoll = draw.rng();
  const ipv6 = i === 2 || i === 6 || ipRoll < 0.1;
  const ipv6Only = i === 2 || (i !== 6 && ipRoll < 0.05);
  const clientIp = ipv6Only ? undefined : `10.${e % 200}.${int(256)}.${2 + int(252)}`;
  const clientIpv6 = ipv6
    ? `2001:db8:${e.toString(16)}::${int(0x10000).toString(16)}:${int(0x10000).toString(16)}`
    : undefined;
  return { clientIp, clientIpv6 };
}

function drawPosture(draw: Draw): string[] | undefined {
  const postureRoll = draw.rng();
  return postureRoll < 0.2
    ? undefined
    : postureRoll < 0.76
      ? ['compliant']
      : postureRoll < 0.92
        ? ['non-compliant']
        : ['unknown'];
}

/** Who connects: a device common name on certificate auth, else an AD (or federated) username. */
function drawIdentity(
  draw: Draw,
  endpoint: EmulatedEndpoint,
  certificate: boolean,
  adIndex: number,
  pools: { users: number; devices: number },
): { username: string | undefined; commonName: string } {
  const { rng, int } = draw;
  if (certificate) {
    const commonName = `laptop-${String(int(pools.devices)).padStart(3, '0')}.corp.example`;
    return { username: undefined, commonName };
  }
  let username =
    TRICKY_USERNAMES[adIndex] ??
    (rng() < 0.05
      ? (TRICKY_USERNAMES[int(TRICKY_USERNAMES.length)] ?? 'alice')
      : adUsername(int(pools.users)));
  if (endpoint.authenticationType === 'federated-authentication') {
    username = `${username}@corp.example`;
  }
  return { username, commonName: username };
}

/**
 * Builds a fleet of endpoints and connections from a seed. Connections go
 * round-robin over the endpoints. Endpoint 1 of a generated fleet uses
 * certificate auth (no username, `laptop-NNN.corp.example` common names);
 * given endpoints keep their own `authenticationType`. With 20 or more
 * connections every status, an IPv6-only and a dual-stack client appear;
 * the first AD connections carry `TRICKY_USERNAMES`.
 */
export function generateFleet(options: FleetOptions): Fleet {
  const rng = mulberry32(options.seed ?? 1);
  const draw: Draw = { rng, int: (below) => Math.floor(rng() * below) };
  const nowMs = Math.floor((options.now ?? DEFAULT_FLEET_NOW).getTime() / SECOND) * SECOND;
  const terminatedShare = options.terminatedShare ?? 0.1;
  const endpoints =
    typeof options.endpoints === 'object'
      ? options.endpoints.map((e) => ({ ...e }))
      : generateEndpoints(options.endpoints ?? 3);
  if (endpoints.length === 0 && options.connections > 0) {
    throw new Error('generateFleet: connections need at least one endpoint');
  }
  const total = options.connections;
  const certificate = endpoints.map((e) => e.authenticationType === 'certificate-authentication');
  const certCount = certificateCount(certificate, total);
  const pools = {
    users: Math.max(1, Math.ceil((total - certCount) / 3)),
    devices: Math.max(1, Math.ceil(certCount / 2)),
  };
  const connections: EmulatedConnection[] = new Array(total);
  let adIndex = 0;
  for (let i = 0; i < total; i++) {
    const e = i % endpoints.length;
    const endpoint = endpoints[e] as EmulatedEndpoint;
    const isCert = certificate[e] === true;
    const { username, commonName } = drawIdentity(draw, endpoint, isCert, adIndex, pools);
    if (!isCert) adIndex++;
    const status = drawStatus(draw, i, terminatedShare);
    const { establishedMs, endedMs, statusMessage } = drawTimes(draw, status, nowMs);
    const seconds = Math.max(1, ((endedMs ?? nowMs) - establishedMs) / SECOND);
    const traffic = drawTraffic(draw, seconds);
    const { clientIp, clientIpv6 } = drawAddresses(draw, i, e);
    connections[i] = {
      endpointId: endpoint.id,
      connectionId: connectionId(i),
      username,
      commonName,
      clientIp,
      clientIpv6,
      establishedAt: new Date(establishedMs),
      endedAt: endedMs === null ? null : new Date(endedMs),
      status,
      statusMessage,
      ...traffic,
      postureCompliance: drawPosture(draw),
    };
  }
  return { endpoints, connections };
}
