/** The emulator's state, one object every action reads and changes, and the connection lifecycle. */
import { createHmac, randomBytes } from 'node:crypto';
import type { Socket } from 'node:net';
import { ApiError, invalidValue } from './query.js';
import type { EmulatedConnection, EmulatedEndpoint, RequestLogEntry } from './types.js';

const EXPIRY_MS = 60 * 60 * 1000;
const SETTLE_MS = 1000;
/** A connection as stored, with its place in the list and cached XML. */
export interface ConnectionRecord {
  /** The caller's object until the emulator changes it; then a changed copy (never mutated). */
  conn: EmulatedConnection;
  seq: number;
  /** Cached `<item>` XML split around the timestamp value, or whole when the timestamp is raw. */
  xml: readonly [string, string] | string | undefined;
  /** Clock time (ms) of a Terminate that moved it to `terminating`. */
  terminatedAtMs?: number;
}

/** An endpoint as stored, with its connections in order of adding. */
export interface EndpointRecord {
  endpoint: EmulatedEndpoint;
  seq: number;
  createdAt: Date;
  xml: string | undefined;
  records: ConnectionRecord[];
  pending: Set<ConnectionRecord>;
  nextExpiryMs: number;
}
/** When a terminated connection disappears (clock ms); never for other states. */
export function expiryOf(conn: EmulatedConnection): number {
  if (conn.status !== 'terminated' || !conn.endedAt) return Number.POSITIVE_INFINITY;
  const ended = conn.endedAt.getTime();
  return Number.isNaN(ended) ? Number.POSITIVE_INFINITY : ended + EXPIRY_MS;
}
/** Index of the first record whose `seq` is at least `seq` (records are sorted by seq). */
export function lowerBound(records: readonly { seq: number }[], seq: number): number {
  let lo = 0;
  let hi = records.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((records[mid]?.seq ?? Number.POSITIVE_INFINITY) < seq) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** A token bucket refilled on real (monotonic) time. */
export class TokenBucket {
  private tokens: number;
  private last = performance.now();

  constructor(
    private readonly capacity: number,
    private readonly perSecond: number,
  ) {
    this.tokens = capacity;
  }

  take(): boolean {
    const now = performance.now();
    this.tokens = Math.min(
      this.capacity,
      this.tokens + ((now - this.last) / 1000) * this.perSecond,
    );
    this.last = now;
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }
}

/** The injected faults; {@link resetFaults} puts them back to none. */
export interface FaultState {
  throttleRemaining: number;
  dropRemaining: number;
  failRemaining: number;
  failStatus: number;
  failCode: string;
  latency: number | ((action: string) => number);
  denied: Set<string>;
  authFailing: boolean;
  buckets: { describe: TokenBucket; mutate: TokenBucket } | null;
}

/** Everything a running emulator knows; the actions read and change it. */
export interface Ec2State {
  now: () => Date;
  endpoints: Map<string, EndpointRecord>;
  connectionsById: Map<string, ConnectionRecord>;
  requests: RequestLogEntry[];
  sockets: Set<Socket>;
  /** Pending latency waits, ended early by `close()`. */
  timers: Set<{ timer: NodeJS.Timeout; resolve: () => void }>;
  /** Signs NextTokens; replaced by `clear()`, which invalidates them. */
  secret: Buffer;
  /** Order of adding, shared by endpoints and connections (NextToken positions). */
  seq: number;
  closed: boolean;
  faults: FaultState;
  /** Credentials issued by AssumeRole: access key id → principal. */
  assumed: Map<string, string>;
}

function noFaults(): FaultState {
  return {
    throttleRemaining: 0,
    dropRemaining: 0,
    failRemaining: 0,
    failStatus: 500,
    failCode: 'InternalError',
    latency: 0,
    denied: new Set(),
    authFailing: false,
    buckets: null,
  };
}

/** A fresh, empty state on this clock. */
export function createState(now: () => Date): Ec2State {
  return {
    now,
    endpoints: new Map(),
    connectionsById: new Map(),
    requests: [],
    sockets: new Set(),
    timers: new Set(),
    secret: randomBytes(32),
    seq: 0,
    closed: false,
    faults: noFaults(),
    assumed: new Map(),
  };
}

/** Turns every injected fault off. */
export function resetFaults(state: Ec2State): void {
  Object.assign(state.faults, noFaults());
}

/** A NextToken for `position` bound to the query `key`. */
export function sign(state: Ec2State, key: string, position: number): string {
  const mac = createHmac('sha256', state.secret).update(`${key}\n${position}`).digest('base64url');
  return Buffer.from(`${position.toString(36)}.${mac.slice(0, 32)}`).toString('base64url');
}

function verify(state: Ec2State, key: string, token: string): number {
  const decoded = Buffer.from(token, 'base64url').toString('utf8');
  const [pos, mac] = decoded.split('.');
  const position =
    pos !== undefined && /^[0-9a-z]{1,12}$/.test(pos) ? Number.parseInt(pos, 36) : -1;
  if (position < 0 || mac === undefined || sign(state, key, position) !== token) {
    throw invalidValue(
      `The value for NextToken is invalid: the token is malformed or belongs to a different request (${token.slice(0, 40)}).`,
    );
  }
  return position;
}

/** Where a page starts: 0, or the position of a valid `NextToken` for this query. */
export function startPosition(state: Ec2State, params: URLSearchParams, key: string): number {
  const token = params.get('NextToken');
  return token === null || token === '' ? 0 : verify(state, key, token);
}

/** Applies due terminate transitions and drops expired connections of one endpoint. */
export function refresh(state: Ec2State, record: EndpointRecord, nowMs: number): void {
  for (const rec of record.pending) {
    if (rec.conn.status !== 'terminating') {
      record.pending.delete(rec);
    } else if (nowMs - (rec.terminatedAtMs ?? nowMs) >= SETTLE_MS) {
      rec.conn = { ...rec.conn, status: 'terminated' };
      rec.xml = undefined;
      record.pending.delete(rec);
      record.nextExpiryMs = Math.min(record.nextExpiryMs, expiryOf(rec.conn));
    }
  }
  if (nowMs < record.nextExpiryMs) return;
  let next = Number.POSITIVE_INFINITY;
  record.records = record.records.filter((rec) => {
    const expiry = expiryOf(rec.conn);
    if (nowMs >= expiry) {
      state.connectionsById.delete(rec.conn.connectionId);
      return false;
    }
    next = Math.min(next, expiry);
    return true;
  });
  record.nextExpiryMs = next;
}

/** The endpoint with this id, or 400 InvalidClientVpnEndpointId.NotFound. */
export function requireEndpoint(state: Ec2State, id: string): EndpointRecord {
  const record = state.endpoints.get(id);
  if (!record) {
    throw new ApiError(
      400,
      'InvalidClientVpnEndpointId.NotFound',
      `The ClientVpnEndpointId '${id}' does not exist`,
    );
  }
  return record;
}
