/**
 * A loopback emulator of the three EC2 Client VPN actions the product uses:
 * DescribeClientVpnConnections, DescribeClientVpnEndpoints and
 * TerminateClientVpnConnections. It speaks the EC2 Query protocol on the wire
 * (form-encoded requests, namespaced XML responses, EC2 error envelopes), so
 * the real `@aws-sdk/client-ec2` and the AWS CLI can be pointed at it.
 *
 * Its contract (wire format, behaviour, choices) is docs/ec2-emulator.md. Choices the
 * wire facts leave open, made here and relied on by tests:
 * - Validation order: missing parameters, MaxResults, filters, NextToken,
 *   DryRun (412), then existence of the endpoint / connection / user.
 * - A filter with a name but no values is rejected (InvalidParameterValue).
 * - A connection moved to `terminating` by TerminateClientVpnConnections
 *   becomes `terminated` whenever state is next read (a Describe or
 *   `connections()`) at least 1 s later on the injected clock. Connections
 *   added as `terminating` stay so: they are fixtures.
 * - A `terminated` connection disappears 60 min after its end time (clock).
 * - Terminate by username acts on the user's `active` connections only; more
 *   than 5 → ClientVpnTerminateConnectionsLimitExceeded. A user whose
 *   connections have all ended gets an empty `connectionStatuses`.
 * - Token buckets refill on real (monotonic) time, not the injected clock, so
 *   a frozen test clock does not freeze them.
 * - NextToken is an HMAC-signed position, bound to the action, endpoint,
 *   filters and MaxResults; it stays valid when connections come and go.
 */
import { createHmac, randomBytes, randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

export type EmulatedAuthenticationType =
  | 'certificate-authentication'
  | 'directory-service-authentication'
  | 'federated-authentication';

export interface EmulatedEndpoint {
  /** `cvpn-endpoint-<17 hex>` */
  id: string;
  /** Becomes the `Name` tag. */
  name?: string;
  description?: string;
  /** Default `directory-service-authentication`. */
  authenticationType?: EmulatedAuthenticationType;
  /** Informational; shows in `dnsName`. Default `us-east-1`. */
  region?: string;
  /** Default `udp`; matched by the `transport-protocol` filter. */
  transportProtocol?: 'udp' | 'tcp';
}

export type EmulatedConnectionStatus =
  | 'active'
  | 'failed-to-terminate'
  | 'terminating'
  | 'terminated';

export interface EmulatedConnection {
  endpointId: string;
  /** `cvpn-connection-<17 hex>` */
  connectionId: string;
  /** Omitted for certificate auth. */
  username?: string | undefined;
  commonName?: string | undefined;
  clientIp?: string | undefined;
  clientIpv6?: string | undefined;
  establishedAt: Date;
  /** `null`/`undefined` while active: serialised as `-`. */
  endedAt?: Date | null | undefined;
  status: EmulatedConnectionStatus;
  statusMessage?: string | undefined;
  ingressBytes: number;
  egressBytes: number;
  ingressPackets: number;
  egressPackets: number;
  postureCompliance?: string[] | undefined;
  /**
   * Raw overrides of wire element values (e.g. `{ connectionEstablishedTime: 'garbage' }`) for
   * malformed-record tests. Keys are element names of the `<item>` (`status.code` and
   * `status.message` for the nested status); a key present with value `undefined` omits the
   * element; an unknown key is appended as an extra element.
   */
  raw?: Partial<Record<string, string>> | undefined;
}

export interface RequestLogEntry {
  action: string;
  /** The access key id the request was signed with (from the SigV4 `Authorization` header). */
  accessKeyId?: string;
  /**
   * Who signed it: `assumed-role/ROLE/SESSION` for credentials this emulator issued through
   * STS AssumeRole, else `base`.
   */
  principal?: string;
  params: Record<string, string>;
  /** HTTP status answered; 0 for a dropped request (and while a request is still in flight). */
  status: number;
  /** Error code, when the answer was an error. */
  code?: string;
  requestId: string;
  /** Arrival time, on the emulator's clock. */
  at: Date;
}

export interface Ec2EmulatorOptions {
  /** Injectable clock; default `() => new Date()`. */
  now?: () => Date;
  /** Port to listen on (127.0.0.1); default 0, any free port. */
  port?: number;
}

export interface Ec2EmulatorFaults {
  /** The next `n` calls answer 503 RequestLimitExceeded. */
  throttleNext(n: number): void;
  /**
   * Token buckets like EC2's (e.g. 100 burst / 20 per s for Describe*); mutating calls get a
   * bucket of `burst / 4` refilled at `perSecond / 4`. `null` turns them off.
   */
  tokenBucket(config: { burst: number; perSecond: number } | null): void;
  /** The next `n` calls fail with `status` (default 500) and `code` (default InternalError). */
  failNext(n: number, status?: number, code?: string): void;
  /** Delay before answering each call (ms, or per action). */
  latency(ms: number | ((action: string) => number)): void;
  /** Destroy the socket of the next `n` calls without answering. */
  dropNext(n: number): void;
  /** 403 UnauthorizedOperation for that action (or every action), DryRun included. */
  deny(action: string): void;
  /** 401 AuthFailure for every call while on. */
  authFailure(on: boolean): void;
  reset(): void;
}

export interface Ec2Emulator {
  /** `http://127.0.0.1:PORT` */
  url: string;
  port: number;
  /** Every request, in order of arrival. */
  requests: RequestLogEntry[];
  addEndpoints(endpoints: EmulatedEndpoint[]): void;
  /**
   * Adds connections to endpoints already added. The emulator keeps these objects and never
   * mutates them (a change replaces the stored object), so do not mutate them afterwards.
   */
  addConnections(connections: EmulatedConnection[]): void;
  /** Copies of the current state (after terminate transitions and expiry), insertion order. */
  connections(endpointId?: string): EmulatedConnection[];
  /**
   * The client of an `active` (or `failed-to-terminate`) connection disconnected: it becomes
   * `terminated` with the clock's time as its end, as AWS shows a session the user ended.
   * Returns false (and changes nothing) for an unknown or already ending connection.
   */
  disconnect(connectionId: string): boolean;
  /** Removes all endpoints, connections, faults and the request log; invalidates tokens. */
  clear(): void;
  faults: Ec2EmulatorFaults;
  /** Closes the server and any open sockets promptly. */
  close(): Promise<void>;
}

const XMLNS = 'http://ec2.amazonaws.com/doc/2016-11-15/';
const XML_DECL = '<?xml version="1.0" encoding="UTF-8"?>\n';
const EXPIRY_MS = 60 * 60 * 1000;
const SETTLE_MS = 1000;
const DEFAULT_MAX_RESULTS = 1000;
const MAX_BODY_BYTES = 1024 * 1024;

class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

interface ApiResult {
  status: number;
  body: string;
  code?: string;
}

interface ConnectionRecord {
  /** The caller's object until the emulator changes it; then a changed copy (never mutated). */
  conn: EmulatedConnection;
  seq: number;
  /** Cached `<item>` XML split around the timestamp value, or whole when the timestamp is raw. */
  xml: readonly [string, string] | string | undefined;
  /** Clock time (ms) of a Terminate that moved it to `terminating`. */
  terminatedAtMs?: number;
}

interface EndpointRecord {
  endpoint: EmulatedEndpoint;
  seq: number;
  createdAt: Date;
  xml: string | undefined;
  records: ConnectionRecord[];
  pending: Set<ConnectionRecord>;
  nextExpiryMs: number;
}

interface Filter {
  name: string;
  values: Set<string>;
}

const ESCAPES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&apos;',
};
const NEEDS_ESCAPE = /[&<>"']/;

function escapeXml(value: string): string {
  return NEEDS_ESCAPE.test(value) ? value.replace(/[&<>"']/g, (c) => ESCAPES[c] ?? c) : value;
}

function element(name: string, value: string | undefined): string {
  if (value === undefined) return '';
  return value === '' ? `<${name}/>` : `<${name}>${escapeXml(value)}</${name}>`;
}

/** `YYYY-MM-DD HH:MM:SS` in UTC, as EC2 writes Client VPN times. */
export function formatAwsTime(date: Date): string {
  if (Number.isNaN(date.getTime())) return 'Invalid Date';
  return date.toISOString().slice(0, 19).replace('T', ' ');
}

function counter(n: number): string {
  if (Number.isSafeInteger(n) || !Number.isFinite(n)) return String(n);
  return BigInt(Math.trunc(n)).toString();
}

function expiryOf(conn: EmulatedConnection): number {
  if (conn.status !== 'terminated' || !conn.endedAt) return Number.POSITIVE_INFINITY;
  const ended = conn.endedAt.getTime();
  return Number.isNaN(ended) ? Number.POSITIVE_INFINITY : ended + EXPIRY_MS;
}

const ELEMENT_NAME = /^[A-Za-z_][A-Za-z0-9_.-]*$/;
const KNOWN_ELEMENTS = new Set([
  'clientVpnEndpointId',
  'timestamp',
  'connectionId',
  'username',
  'connectionEstablishedTime',
  'ingressBytes',
  'egressBytes',
  'ingressPackets',
  'egressPackets',
  'clientIp',
  'clientIpv6Address',
  'commonName',
  'status',
  'status.code',
  'status.message',
  'connectionEndTime',
]);

/**
 * Renders one `<item>`, split around the timestamp value (served per request) unless the
 * timestamp is a raw override. Built with `join` so the cached strings are flat, not ropes:
 * joining ropes into every page costs several times more.
 */
function renderConnection(conn: EmulatedConnection): readonly [string, string] | string {
  const raw = conn.raw;
  const has = (key: string) => raw !== undefined && Object.hasOwn(raw, key);
  const pick = (key: string, fallback: string | undefined) =>
    raw !== undefined && Object.hasOwn(raw, key) ? raw[key] : fallback;
  const el = (key: string, fallback: string | undefined) => element(key, pick(key, fallback));

  const head = ['<item>', el('clientVpnEndpointId', conn.endpointId)];
  const tail = [
    el('connectionId', conn.connectionId),
    el('username', conn.username),
    el('connectionEstablishedTime', formatAwsTime(conn.establishedAt)),
    el('ingressBytes', counter(conn.ingressBytes)),
    el('egressBytes', counter(conn.egressBytes)),
    el('ingressPackets', counter(conn.ingressPackets)),
    el('egressPackets', counter(conn.egressPackets)),
    el('clientIp', conn.clientIp),
    el('clientIpv6Address', conn.clientIpv6),
    el('commonName', conn.commonName),
  ];
  // `raw: { status: undefined }` omits the whole status element.
  if (!has('status') || raw?.status !== undefined) {
    tail.push(
      '<status>',
      element('code', pick('status.code', conn.status)),
      element('message', pick('status.message', conn.statusMessage)),
      '</status>',
    );
  }
  tail.push(el('connectionEndTime', conn.endedAt ? formatAwsTime(conn.endedAt) : '-'));
  if (conn.postureCompliance !== undefined) {
    if (conn.postureCompliance.length === 0) tail.push('<postureComplianceStatusSet/>');
    else {
      tail.push('<postureComplianceStatusSet>');
      for (const s of conn.postureCompliance) tail.push(element('item', s));
      tail.push('</postureComplianceStatusSet>');
    }
  }
  if (raw !== undefined) {
    for (const [key, extra] of Object.entries(raw)) {
      if (!KNOWN_ELEMENTS.has(key) && ELEMENT_NAME.test(key)) tail.push(element(key, extra));
    }
  }
  tail.push('</item>');
  if (has('timestamp')) return [...head, element('timestamp', raw?.timestamp), ...tail].join('');
  head.push('<timestamp>');
  tail.unshift('</timestamp>');
  return [head.join(''), tail.join('')];
}

function hexOf(id: string, length: number): string {
  return createHmac('sha256', 'emulator').update(id).digest('hex').slice(0, length);
}

function renderEndpoint(record: EndpointRecord): string {
  const e = record.endpoint;
  const region = e.region ?? 'us-east-1';
  const tags =
    e.name === undefined
      ? '<tagSet/>'
      : `<tagSet><item>${element('key', 'Name')}${element('value', e.name)}</item></tagSet>`;
  const octet = Number.parseInt(hexOf(e.id, 2), 16) % 200;
  return [
    '<item>',
    element('clientVpnEndpointId', e.id),
    element('description', e.description),
    '<status><code>available</code></status>',
    element('creationTime', formatAwsTime(record.createdAt)),
    element('dnsName', `*.${e.id}.prod.clientvpn.${region}.amazonaws.com`),
    element('clientCidrBlock', `10.${octet}.0.0/16`),
    '<splitTunnel>true</splitTunnel>',
    '<vpnProtocol>openvpn</vpnProtocol>',
    element('transportProtocol', e.transportProtocol ?? 'udp'),
    '<vpnPort>443</vpnPort>',
    '<authenticationOptions><item>',
    element('type', e.authenticationType ?? 'directory-service-authentication'),
    '</item></authenticationOptions>',
    '<connectionLogOptions><Enabled>false</Enabled></connectionLogOptions>',
    tags,
    element('vpcId', `vpc-${hexOf(e.id, 17)}`),
    '<sessionTimeoutHours>24</sessionTimeoutHours>',
    '<disconnectOnSessionTimeout>true</disconnectOnSessionTimeout>',
    '</item>',
  ].join('');
}

function success(action: string, requestId: string, inner: string): ApiResult {
  return {
    status: 200,
    body: `${XML_DECL}<${action}Response xmlns="${XMLNS}"><requestId>${requestId}</requestId>${inner}</${action}Response>`,
  };
}

function failure(error: ApiError, requestId: string): ApiResult {
  return {
    status: error.status,
    code: error.code,
    body: `${XML_DECL}<Response><Errors><Error>${element('Code', error.code)}${element('Message', error.message)}</Error></Errors><RequestID>${requestId}</RequestID></Response>`,
  };
}

const STS_XMLNS = 'https://sts.amazonaws.com/doc/2011-06-15/';

/** STS (the same Query protocol) answers errors in its own envelope. */
function stsFailure(error: ApiError, requestId: string): ApiResult {
  return {
    status: error.status,
    code: error.code,
    body: `${XML_DECL}<ErrorResponse xmlns="${STS_XMLNS}"><Error><Type>Sender</Type>${element('Code', error.code)}${element('Message', error.message)}</Error><RequestId>${requestId}</RequestId></ErrorResponse>`,
  };
}

function invalidValue(message: string): ApiError {
  return new ApiError(400, 'InvalidParameterValue', message);
}

function parseMaxResults(params: URLSearchParams): number {
  const raw = params.get('MaxResults');
  if (raw === null) return DEFAULT_MAX_RESULTS;
  const n = /^\d{1,9}$/.test(raw) ? Number(raw) : Number.NaN;
  if (!(n >= 5 && n <= 1000)) {
    throw invalidValue(
      `Value ( ${raw} ) for parameter maxResults is invalid. Parameter must be between 5 and 1000.`,
    );
  }
  return n;
}

const FILTER_KEY = /^Filter\.(\d+)\.(Name|Value)(?:\.(\d+))?$/;

function parseFilters(params: URLSearchParams, allowed: readonly string[]): Filter[] {
  const byIndex = new Map<number, { name?: string; values: Array<[number, string]> }>();
  for (const [key, value] of params) {
    const match = FILTER_KEY.exec(key);
    if (!match) continue;
    const index = Number(match[1]);
    const entry = byIndex.get(index) ?? { values: [] };
    byIndex.set(index, entry);
    if (match[2] === 'Name') entry.name = value;
    else if (match[3] !== undefined) entry.values.push([Number(match[3]), value]);
  }
  return [...byIndex.entries()]
    .sort(([a], [b]) => a - b)
    .map(([index, entry]) => {
      if (entry.name === undefined) {
        throw invalidValue(`The filter Filter.${index} has no Name.`);
      }
      if (!allowed.includes(entry.name)) {
        throw invalidValue(
          `The filter '${entry.name}' is invalid. Valid filters: ${allowed.join(', ')}.`,
        );
      }
      if (entry.values.length === 0) {
        throw invalidValue(`The filter '${entry.name}' requires at least one value.`);
      }
      return { name: entry.name, values: new Set(entry.values.map(([, v]) => v)) };
    });
}

function isDryRun(params: URLSearchParams): boolean {
  return params.get('DryRun')?.toLowerCase() === 'true';
}

function dryRun(): ApiError {
  return new ApiError(
    412,
    'DryRunOperation',
    'Request would have succeeded, but DryRun flag is set.',
  );
}

function queryKey(action: string, scope: string, filters: Filter[], maxResults: number): string {
  const canonical = filters
    .map((f) => JSON.stringify([f.name, [...f.values].sort()]))
    .sort()
    .join(',');
  return `${action}\n${scope}\n${canonical}\n${maxResults}`;
}

/** Index of the first record whose `seq` is at least `seq` (records are sorted by seq). */
function lowerBound(records: readonly { seq: number }[], seq: number): number {
  let lo = 0;
  let hi = records.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((records[mid]?.seq ?? Number.POSITIVE_INFINITY) < seq) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

class TokenBucket {
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

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        reject(new ApiError(413, 'RequestEntityTooLarge', 'Request body too large.'));
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

/**
 * Starts an emulator on 127.0.0.1 (a free port unless `options.port` is set).
 * Every test and benchmark that needs EC2 gets its own instance; close it when done.
 */
export async function startEc2Emulator(options: Ec2EmulatorOptions = {}): Promise<Ec2Emulator> {
  const now = options.now ?? (() => new Date());
  const endpoints = new Map<string, EndpointRecord>();
  const connectionsById = new Map<string, ConnectionRecord>();
  const requests: RequestLogEntry[] = [];
  const sockets = new Set<Socket>();
  const timers = new Set<{ timer: NodeJS.Timeout; resolve: () => void }>();
  let secret = randomBytes(32);
  let seq = 0;
  let closed = false;

  let throttleRemaining = 0;
  let dropRemaining = 0;
  let failRemaining = 0;
  let failStatus = 500;
  let failCode = 'InternalError';
  let latency: number | ((action: string) => number) = 0;
  let denied = new Set<string>();
  let authFailing = false;
  let buckets: { describe: TokenBucket; mutate: TokenBucket } | null = null;
  /** Credentials issued by AssumeRole: access key id → principal. */
  const assumed = new Map<string, string>();

  const resetFaults = () => {
    throttleRemaining = 0;
    dropRemaining = 0;
    failRemaining = 0;
    failStatus = 500;
    failCode = 'InternalError';
    latency = 0;
    denied = new Set();
    authFailing = false;
    buckets = null;
  };

  const sign = (key: string, position: number): string => {
    const mac = createHmac('sha256', secret).update(`${key}\n${position}`).digest('base64url');
    return Buffer.from(`${position.toString(36)}.${mac.slice(0, 32)}`).toString('base64url');
  };

  const verify = (key: string, token: string): number => {
    const decoded = Buffer.from(token, 'base64url').toString('utf8');
    const [pos, mac] = decoded.split('.');
    const position =
      pos !== undefined && /^[0-9a-z]{1,12}$/.test(pos) ? Number.parseInt(pos, 36) : -1;
    if (position < 0 || mac === undefined || sign(key, position) !== token) {
      throw invalidValue(
        `The value for NextToken is invalid: the token is malformed or belongs to a different request (${token.slice(0, 40)}).`,
      );
    }
    return position;
  };

  const startPosition = (params: URLSearchParams, key: string): number => {
    const token = params.get('NextToken');
    return token === null || token === '' ? 0 : verify(key, token);
  };

  /** Applies due terminate transitions and drops expired connections of one endpoint. */
  const refresh = (record: EndpointRecord, nowMs: number) => {
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
        connectionsById.delete(rec.conn.connectionId);
        return false;
      }
      next = Math.min(next, expiry);
      return true;
    });
    record.nextExpiryMs = next;
  };

  const requireEndpoint = (id: string): EndpointRecord => {
    const record = endpoints.get(id);
    if (!record) {
      throw new ApiError(
        400,
        'InvalidClientVpnEndpointId.NotFound',
        `The ClientVpnEndpointId '${id}' does not exist`,
      );
    }
    return record;
  };

  const requireParam = (params: URLSearchParams, name: string): string => {
    const value = params.get(name);
    if (value === null || value === '') {
      throw new ApiError(400, 'MissingParameter', `The request must contain the parameter ${name}`);
    }
    return value;
  };

  const itemXml = (rec: ConnectionRecord): readonly [string, string] | string => {
    rec.xml ??= renderConnection(rec.conn);
    return rec.xml;
  };

  const describeConnections = (params: URLSearchParams, requestId: string): ApiResult => {
    const action = 'DescribeClientVpnConnections';
    const endpointId = requireParam(params, 'ClientVpnEndpointId');
    const maxResults = parseMaxResults(params);
    const filters = parseFilters(params, ['connection-id', 'username']);
    const key = queryKey(action, endpointId, filters, maxResults);
    const start = startPosition(params, key);
    if (isDryRun(params)) throw dryRun();
    const record = requireEndpoint(endpointId);
    const at = now();
    refresh(record, at.getTime());

    const matches = (conn: EmulatedConnection) =>
      filters.every((f) =>
        f.name === 'connection-id'
          ? f.values.has(conn.connectionId)
          : conn.username !== undefined && f.values.has(conn.username),
      );
    const page: ConnectionRecord[] = [];
    let next: ConnectionRecord | undefined;
    const records = record.records;
    for (let i = lowerBound(records, start); i < records.length; i++) {
      const rec = records[i];
      if (rec === undefined || !matches(rec.conn)) continue;
      if (page.length === maxResults) {
        next = rec;
        break;
      }
      page.push(rec);
    }

    const timestamp = formatAwsTime(at);
    const out: string[] = [];
    for (const rec of page) {
      const xml = itemXml(rec);
      if (typeof xml === 'string') out.push(xml);
      else out.push(xml[0], timestamp, xml[1]);
    }
    const list = out.length === 0 ? '<connections/>' : `<connections>${out.join('')}</connections>`;
    const token = next ? element('nextToken', sign(key, next.seq)) : '';
    return success(action, requestId, `${list}${token}`);
  };

  const describeEndpoints = (params: URLSearchParams, requestId: string): ApiResult => {
    const action = 'DescribeClientVpnEndpoints';
    const ids = [...params.entries()]
      .map(([k, v]) => [/^ClientVpnEndpointId\.(\d+)$/.exec(k)?.[1], v] as const)
      .filter((pair): pair is readonly [string, string] => pair[0] !== undefined)
      .sort(([a], [b]) => Number(a) - Number(b))
      .map(([, v]) => v);
    const maxResults = parseMaxResults(params);
    const filters = parseFilters(params, ['endpoint-id', 'transport-protocol']);
    const key = queryKey(action, JSON.stringify([...new Set(ids)].sort()), filters, maxResults);
    const start = startPosition(params, key);
    if (isDryRun(params)) throw dryRun();
    for (const id of ids) requireEndpoint(id);

    const wanted = new Set(ids);
    const all = [...endpoints.values()].filter(
      (r) =>
        (wanted.size === 0 || wanted.has(r.endpoint.id)) &&
        filters.every((f) =>
          f.values.has(
            f.name === 'endpoint-id' ? r.endpoint.id : (r.endpoint.transportProtocol ?? 'udp'),
          ),
        ),
    );
    const from = lowerBound(all, start);
    const page = all.slice(from, from + maxResults);
    const next = all[from + maxResults];
    const items = page.map((r) => {
      r.xml ??= renderEndpoint(r);
      return r.xml;
    });
    const list =
      items.length === 0
        ? '<clientVpnEndpoint/>'
        : `<clientVpnEndpoint>${items.join('')}</clientVpnEndpoint>`;
    const token = next ? element('nextToken', sign(key, next.seq)) : '';
    return success(action, requestId, `${list}${token}`);
  };

  const terminateConnections = (params: URLSearchParams, requestId: string): ApiResult => {
    const action = 'TerminateClientVpnConnections';
    const endpointId = requireParam(params, 'ClientVpnEndpointId');
    const connectionId = params.get('ConnectionId') || undefined;
    const username = params.get('Username') || undefined;
    if (connectionId !== undefined && username !== undefined) {
      throw new ApiError(
        400,
        'InvalidParameterCombination',
        'Specify either ConnectionId or Username, not both.',
      );
    }
    if (connectionId === undefined && username === undefined) {
      throw new ApiError(
        400,
        'MissingParameter',
        'The request must contain either the parameter ConnectionId or Username',
      );
    }
    if (isDryRun(params)) throw dryRun();
    const record = requireEndpoint(endpointId);
    const nowMs = now().getTime();
    refresh(record, nowMs);

    let targets: ConnectionRecord[];
    if (connectionId !== undefined) {
      const rec = connectionsById.get(connectionId);
      if (!rec || rec.conn.endpointId !== endpointId) {
        throw new ApiError(
          400,
          'InvalidClientVpnConnection.IdNotFound',
          `The connection ID '${connectionId}' does not exist`,
        );
      }
      targets = [rec];
    } else {
      const own = record.records.filter((r) => r.conn.username === username);
      if (own.length === 0) {
        throw new ApiError(
          400,
          'InvalidClientVpnConnection.UserNotFound',
          `The user '${username}' has no connections on Client VPN endpoint ${endpointId}`,
        );
      }
      targets = own.filter((r) => r.conn.status === 'active');
      if (targets.length > 5) {
        throw new ApiError(
          400,
          'ClientVpnTerminateConnectionsLimitExceeded',
          `The user '${username}' has ${targets.length} active connections; at most 5 can be terminated by username. Terminate them by connection ID.`,
        );
      }
    }

    const statuses = targets.map((rec) => {
      const previous = rec.conn.status;
      if (previous === 'active' || previous === 'failed-to-terminate') {
        rec.conn = {
          ...rec.conn,
          status: 'terminating',
          statusMessage: undefined,
          endedAt: new Date(nowMs),
        };
        rec.terminatedAtMs = nowMs;
        rec.xml = undefined;
        record.pending.add(rec);
      }
      return (
        `<item>${element('connectionId', rec.conn.connectionId)}` +
        `<previousStatus>${element('code', previous)}</previousStatus>` +
        `<currentStatus>${element('code', rec.conn.status)}</currentStatus></item>`
      );
    });
    const list =
      statuses.length === 0
        ? '<connectionStatuses/>'
        : `<connectionStatuses>${statuses.join('')}</connectionStatuses>`;
    return success(
      action,
      requestId,
      `${element('clientVpnEndpointId', endpointId)}${element('username', username)}${list}`,
    );
  };

  /** STS AssumeRole, so that per-endpoint roles can be tested end to end (CloudTrail names the session). */
  const assumeRole = (params: URLSearchParams, requestId: string): ApiResult => {
    const roleArn = params.get('RoleArn');
    const sessionName = params.get('RoleSessionName');
    if (!roleArn) throw new ApiError(400, 'MissingParameter', 'RoleArn is required');
    if (!sessionName || !/^[\w+=,.@-]{2,64}$/.test(sessionName)) {
      throw new ApiError(400, 'ValidationError', `Invalid RoleSessionName ${sessionName ?? ''}`);
    }
    if (denied.has('AssumeRole')) {
      throw new ApiError(
        403,
        'AccessDenied',
        `User is not authorized to perform: sts:AssumeRole on resource: ${roleArn}`,
      );
    }
    const roleName = roleArn.split('/').pop() ?? 'role';
    const accessKeyId = `ASIA${randomBytes(8).toString('hex').toUpperCase()}`;
    assumed.set(accessKeyId, `assumed-role/${roleName}/${sessionName}`);
    // Credential expiry is about real time, not the emulator's (possibly frozen) clock.
    const expiration = new Date(Date.now() + 3600_000).toISOString();
    return {
      status: 200,
      body:
        `${XML_DECL}<AssumeRoleResponse xmlns="${STS_XMLNS}"><AssumeRoleResult><Credentials>` +
        `${element('AccessKeyId', accessKeyId)}${element('SecretAccessKey', randomBytes(20).toString('hex'))}` +
        `${element('SessionToken', randomBytes(32).toString('base64'))}${element('Expiration', expiration)}` +
        `</Credentials><AssumedRoleUser>${element('AssumedRoleId', `AROAEMULATOR:${sessionName}`)}` +
        `${element('Arn', `arn:aws:sts::123456789012:assumed-role/${roleName}/${sessionName}`)}</AssumedRoleUser>` +
        `</AssumeRoleResult><ResponseMetadata>${element('RequestId', requestId)}</ResponseMetadata></AssumeRoleResponse>`,
    };
  };

  const dispatch = (action: string, params: URLSearchParams, requestId: string): ApiResult => {
    if (action === 'AssumeRole') return assumeRole(params, requestId);
    if (authFailing) {
      throw new ApiError(
        401,
        'AuthFailure',
        'AWS was not able to validate the provided access credentials',
      );
    }
    let throttled = false;
    if (throttleRemaining > 0) {
      throttleRemaining--;
      throttled = true;
    } else if (buckets) {
      const bucket = action.startsWith('Describe') ? buckets.describe : buckets.mutate;
      throttled = !bucket.take();
    }
    if (throttled) throw new ApiError(503, 'RequestLimitExceeded', 'Request limit exceeded.');
    if (failRemaining > 0) {
      failRemaining--;
      throw new ApiError(
        failStatus,
        failCode,
        failCode === 'InternalError'
          ? 'An internal error has occurred'
          : `Injected failure ${failCode}`,
      );
    }
    if (denied.has('*') || denied.has(action)) {
      throw new ApiError(
        403,
        'UnauthorizedOperation',
        `You are not authorized to perform this operation. User: arn:aws:iam::123456789012:user/test is not authorized to perform: ec2:${action}`,
      );
    }
    if (action === '') {
      throw new ApiError(400, 'MissingAction', 'The request must contain the parameter Action');
    }
    requireParam(params, 'Version');
    switch (action) {
      case 'DescribeClientVpnConnections':
        return describeConnections(params, requestId);
      case 'DescribeClientVpnEndpoints':
        return describeEndpoints(params, requestId);
      case 'TerminateClientVpnConnections':
        return terminateConnections(params, requestId);
      default:
        throw new ApiError(
          400,
          'InvalidAction',
          `The action ${action} is not valid for this web service.`,
        );
    }
  };

  const send = (res: ServerResponse, entry: RequestLogEntry, result: ApiResult) => {
    entry.status = result.status;
    if (result.code !== undefined) entry.code = result.code;
    if (res.destroyed || res.writableEnded) return;
    const payload = Buffer.from(result.body, 'utf8');
    res.writeHead(result.status, {
      'content-type': 'text/xml;charset=UTF-8',
      'content-length': payload.length,
      'x-amzn-requestid': entry.requestId,
      server: 'AmazonEC2',
    });
    res.end(payload);
  };

  const delay = (ms: number) =>
    new Promise<void>((resolve) => {
      const handle = {
        timer: setTimeout(() => {
          timers.delete(handle);
          resolve();
        }, ms),
        resolve,
      };
      timers.add(handle);
    });

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const requestId = randomUUID();
    let params: URLSearchParams;
    try {
      const body = req.method === 'POST' ? await readBody(req) : '';
      const url = new URL(req.url ?? '/', 'http://127.0.0.1');
      params = new URLSearchParams(url.search);
      for (const [k, v] of new URLSearchParams(body)) params.set(k, v);
    } catch (error) {
      const apiError =
        error instanceof ApiError
          ? error
          : new ApiError(400, 'MalformedQueryString', String(error));
      const entry: RequestLogEntry = { action: '', params: {}, status: 0, requestId, at: now() };
      requests.push(entry);
      send(res, entry, failure(apiError, requestId));
      return;
    }
    const action = params.get('Action') ?? '';
    const entry: RequestLogEntry = {
      action,
      params: Object.fromEntries(params),
      status: 0,
      requestId,
      at: now(),
    };
    const accessKeyId = /Credential=([^/,\s]+)\//.exec(req.headers.authorization ?? '')?.[1];
    if (accessKeyId !== undefined) {
      entry.accessKeyId = accessKeyId;
      entry.principal = assumed.get(accessKeyId) ?? 'base';
    }
    requests.push(entry);

    if (dropRemaining > 0) {
      dropRemaining--;
      req.socket.destroy();
      return;
    }
    const wait = typeof latency === 'function' ? latency(action) : latency;
    if (wait > 0) await delay(wait);
    if (closed) return;

    let result: ApiResult;
    try {
      result = dispatch(action, params, requestId);
    } catch (error) {
      const apiError =
        error instanceof ApiError
          ? error
          : new ApiError(500, 'InternalError', `Emulator error: ${String(error)}`);
      result =
        action === 'AssumeRole' ? stsFailure(apiError, requestId) : failure(apiError, requestId);
    }
    send(res, entry, result);
  };

  const server = createServer((req, res) => {
    void handle(req, res);
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;

  const emulator: Ec2Emulator = {
    url: `http://127.0.0.1:${port}`,
    port,
    requests,
    addEndpoints(list) {
      for (const endpoint of list) {
        if (endpoints.has(endpoint.id)) {
          throw new Error(`Endpoint ${endpoint.id} already exists in the emulator`);
        }
        endpoints.set(endpoint.id, {
          endpoint: { ...endpoint },
          seq: ++seq,
          createdAt: now(),
          xml: undefined,
          records: [],
          pending: new Set(),
          nextExpiryMs: Number.POSITIVE_INFINITY,
        });
      }
    },
    addConnections(list) {
      for (const input of list) {
        const record = endpoints.get(input.endpointId);
        if (!record) {
          throw new Error(
            `Connection ${input.connectionId}: endpoint ${input.endpointId} was not added`,
          );
        }
        if (connectionsById.has(input.connectionId)) {
          throw new Error(`Connection ${input.connectionId} already exists in the emulator`);
        }
        const rec: ConnectionRecord = {
          conn: input,
          seq: ++seq,
          xml: undefined,
        };
        record.records.push(rec);
        connectionsById.set(input.connectionId, rec);
        record.nextExpiryMs = Math.min(record.nextExpiryMs, expiryOf(input));
      }
    },
    connections(endpointId) {
      const nowMs = now().getTime();
      const selected =
        endpointId === undefined
          ? [...endpoints.values()]
          : [endpoints.get(endpointId)].filter((r): r is EndpointRecord => r !== undefined);
      return selected.flatMap((record) => {
        refresh(record, nowMs);
        return record.records.map(({ conn }) => ({
          ...conn,
          postureCompliance: conn.postureCompliance ? [...conn.postureCompliance] : undefined,
          raw: conn.raw ? { ...conn.raw } : undefined,
        }));
      });
    },
    disconnect(connectionId) {
      const rec = connectionsById.get(connectionId);
      const record = rec === undefined ? undefined : endpoints.get(rec.conn.endpointId);
      if (rec === undefined || record === undefined) return false;
      if (rec.conn.status !== 'active' && rec.conn.status !== 'failed-to-terminate') return false;
      rec.conn = { ...rec.conn, status: 'terminated', statusMessage: undefined, endedAt: now() };
      rec.xml = undefined;
      record.nextExpiryMs = Math.min(record.nextExpiryMs, expiryOf(rec.conn));
      return true;
    },
    clear() {
      endpoints.clear();
      connectionsById.clear();
      requests.length = 0;
      resetFaults();
      secret = randomBytes(32);
    },
    faults: {
      throttleNext(n) {
        throttleRemaining = n;
      },
      tokenBucket(config) {
        buckets = config
          ? {
              describe: new TokenBucket(config.burst, config.perSecond),
              mutate: new TokenBucket(config.burst / 4, config.perSecond / 4),
            }
          : null;
      },
      failNext(n, status = 500, code = 'InternalError') {
        failRemaining = n;
        failStatus = status;
        failCode = code;
      },
      latency(ms) {
        latency = ms;
      },
      dropNext(n) {
        dropRemaining = n;
      },
      deny(action) {
        denied.add(action);
      },
      authFailure(on) {
        authFailing = on;
      },
      reset: resetFaults,
    },
    async close() {
      if (closed) return;
      closed = true;
      for (const t of timers) {
        clearTimeout(t.timer);
        t.resolve();
      }
      timers.clear();
      const done = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const socket of sockets) socket.destroy();
      server.closeAllConnections();
      await done;
    },
  };
  return emulator;
}
