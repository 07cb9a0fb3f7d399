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
import { randomBytes, randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { dispatch } from './ec2/actions.js';
import { ApiError, type ApiResult, readBody } from './ec2/query.js';
import {
  type ConnectionRecord,
  createState,
  type Ec2State,
  type EndpointRecord,
  expiryOf,
  refresh,
  resetFaults,
  TokenBucket,
} from './ec2/state.js';
import type {
  Ec2Emulator,
  Ec2EmulatorFaults,
  Ec2EmulatorOptions,
  EmulatedConnection,
  EmulatedEndpoint,
  RequestLogEntry,
} from './ec2/types.js';
import { failure, stsFailure } from './ec2/xml.js';

export type {
  Ec2Emulator,
  Ec2EmulatorFaults,
  Ec2EmulatorOptions,
  EmulatedAuthenticationType,
  EmulatedConnection,
  EmulatedConnectionStatus,
  EmulatedEndpoint,
  RequestLogEntry,
} from './ec2/types.js';
export { formatAwsTime } from './ec2/xml.js';

/** Writes an answer and records its status (and error code) in the request's log entry. */
function send(res: ServerResponse, entry: RequestLogEntry, result: ApiResult): void {
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
}

/** Waits `ms`, or less if the emulator closes meanwhile. */
function delay(state: Ec2State, ms: number): Promise<void> {
  return new Promise<void>((resolve) => {
    const handle = {
      timer: setTimeout(() => {
        state.timers.delete(handle);
        resolve();
      }, ms),
      resolve,
    };
    state.timers.add(handle);
  });
}

/** The Query parameters of the URL and the form body; a bad body is answered and logged here. */
async function readParams(
  state: Ec2State,
  req: IncomingMessage,
  res: ServerResponse,
  requestId: string,
): Promise<URLSearchParams | undefined> {
  try {
    const body = req.method === 'POST' ? await readBody(req) : '';
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const params = new URLSearchParams(url.search);
    for (const [k, v] of new URLSearchParams(body)) params.set(k, v);
    return params;
  } catch (error) {
    const apiError =
      error instanceof ApiError ? error : new ApiError(400, 'MalformedQueryString', String(error));
    const entry: RequestLogEntry = {
      action: '',
      params: {},
      status: 0,
      requestId,
      at: state.now(),
    };
    state.requests.push(entry);
    send(res, entry, failure(apiError, requestId));
    return undefined;
  }
}

/** Logs a request, with who signed it (the SigV4 access key id and its principal). */
function logRequest(
  state: Ec2State,
  req: IncomingMessage,
  params: URLSearchParams,
  requestId: string,
): RequestLogEntry {
  const entry: RequestLogEntry = {
    action: params.get('Action') ?? '',
    params: Object.fromEntries(params),
    status: 0,
    requestId,
    at: state.now(),
  };
  const accessKeyId = /Credential=([^/,\s]+)\//.exec(req.headers.authorization ?? '')?.[1];
  if (accessKeyId !== undefined) {
    entry.accessKeyId = accessKeyId;
    entry.principal = state.assumed.get(accessKeyId) ?? 'base';
  }
  state.requests.push(entry);
  return entry;
}

/** Serves one request: parse, log, drop or delay as injected, dispatch, answer. */
async function handle(state: Ec2State, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const requestId = randomUUID();
  const params = await readParams(state, req, res, requestId);
  if (params === undefined) return;
  const entry = logRequest(state, req, params, requestId);
  const action = entry.action;
  const faults = state.faults;
  if (faults.dropRemaining > 0) {
    faults.dropRemaining--;
    req.socket.destroy();
    return;
  }
  const wait = typeof faults.latency === 'function' ? faults.latency(action) : faults.latency;
  if (wait > 0) await delay(state, wait);
  if (state.closed) return;
  let result: ApiResult;
  try {
    result = dispatch(state, action, params, requestId);
  } catch (error) {
    const apiError =
      error instanceof ApiError
        ? error
        : new ApiError(500, 'InternalError', `Emulator error: ${String(error)}`);
    result =
      action === 'AssumeRole' ? stsFailure(apiError, requestId) : failure(apiError, requestId);
  }
  send(res, entry, result);
}

function addEndpoints(state: Ec2State, list: EmulatedEndpoint[]): void {
  for (const endpoint of list) {
    if (state.endpoints.has(endpoint.id)) {
      throw new Error(`Endpoint ${endpoint.id} already exists in the emulator`);
    }
    state.endpoints.set(endpoint.id, {
      endpoint: { ...endpoint },
      seq: ++state.seq,
      createdAt: state.now(),
      xml: undefined,
      records: [],
      pending: new Set(),
      nextExpiryMs: Number.POSITIVE_INFINITY,
    });
  }
}

function addConnections(state: Ec2State, list: EmulatedConnection[]): void {
  for (const input of list) {
    const record = state.endpoints.get(input.endpointId);
    if (!record) {
      throw new Error(
        `Connection ${input.connectionId}: endpoint ${input.endpointId} was not added`,
      );
    }
    if (state.connectionsById.has(input.connectionId)) {
      throw new Error(`Connection ${input.connectionId} already exists in the emulator`);
    }
    const rec: ConnectionRecord = { conn: input, seq: ++state.seq, xml: undefined };
    record.records.push(rec);
    state.connectionsById.set(input.connectionId, rec);
    record.nextExpiryMs = Math.min(record.nextExpiryMs, expiryOf(input));
  }
}

function connections(state: Ec2State, endpointId: string | undefined): EmulatedConnection[] {
  const nowMs = state.now().getTime();
  const selected =
    endpointId === undefined
      ? [...state.endpoints.values()]
      : [state.endpoints.get(endpointId)].filter((r): r is EndpointRecord => r !== undefined);
  return selected.flatMap((record) => {
    refresh(state, record, nowMs);
    return record.records.map(({ conn }) => ({
      ...conn,
      postureCompliance: conn.postureCompliance ? [...conn.postureCompliance] : undefined,
      raw: conn.raw ? { ...conn.raw } : undefined,
    }));
  });
}

function disconnect(state: Ec2State, connectionId: string): boolean {
  const rec = state.connectionsById.get(connectionId);
  const record = rec === undefined ? undefined : state.endpoints.get(rec.conn.endpointId);
  if (rec === undefined || record === undefined) return false;
  if (rec.conn.status !== 'active' && rec.conn.status !== 'failed-to-terminate') return false;
  rec.conn = { ...rec.conn, status: 'terminated', statusMessage: undefined, endedAt: state.now() };
  rec.xml = undefined;
  record.nextExpiryMs = Math.min(record.nextExpiryMs, expiryOf(rec.conn));
  return true;
}

function faultControls(state: Ec2State): Ec2EmulatorFaults {
  const faults = state.faults;
  return {
    throttleNext(n) {
      faults.throttleRemaining = n;
    },
    tokenBucket(config) {
      faults.buckets = config
        ? {
            describe: new TokenBucket(config.burst, config.perSecond),
            mutate: new TokenBucket(config.burst / 4, config.perSecond / 4),
          }
        : null;
    },
    failNext(n, status = 500, code = 'InternalError') {
      faults.failRemaining = n;
      faults.failStatus = status;
      faults.failCode = code;
    },
    latency(ms) {
      faults.latency = ms;
    },
    dropNext(n) {
      faults.dropRemaining = n;
    },
    deny(action) {
      faults.denied.add(action);
    },
    authFailure(on) {
      faults.authFailing = on;
    },
    reset: () => resetFaults(state),
  };
}

async function close(state: Ec2State, server: Server): Promise<void> {
  if (state.closed) return;
  state.closed = true;
  for (const t of state.timers) {
    clearTimeout(t.timer);
    t.resolve();
  }
  state.timers.clear();
  const done = new Promise<void>((resolve) => server.close(() => resolve()));
  for (const socket of state.sockets) socket.destroy();
  server.closeAllConnections();
  await done;
}

/**
 * Starts an emulator on 127.0.0.1 (a free port unless `options.port` is set).
 * Every test and benchmark that needs EC2 gets its own instance; close it when done.
 */
export async function startEc2Emulator(options: Ec2EmulatorOptions = {}): Promise<Ec2Emulator> {
  const state = createState(options.now ?? (() => new Date()));
  const server = createServer((req, res) => {
    void handle(state, req, res);
  });
  server.on('connection', (socket) => {
    state.sockets.add(socket);
    socket.on('close', () => state.sockets.delete(socket));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    requests: state.requests,
    addEndpoints: (list) => addEndpoints(state, list),
    addConnections: (list) => addConnections(state, list),
    connections: (endpointId) => connections(state, endpointId),
    disconnect: (connectionId) => disconnect(state, connectionId),
    clear() {
      state.endpoints.clear();
      state.connectionsById.clear();
      state.requests.length = 0;
      resetFaults(state);
      state.secret = randomBytes(32);
    },
    faults: faultControls(state),
    close: () => close(state, server),
  };
}
