/**
 * The emulated actions, one function each in {@link ACTIONS}, and {@link dispatch}, which applies
 * the injected faults and the common checks before running one.
 */
import { randomBytes } from 'node:crypto';
import {
  ApiError,
  type ApiResult,
  dryRun,
  type Filter,
  isDryRun,
  parseFilters,
  parseMaxResults,
  queryKey,
  requireParam,
} from './query.js';
import {
  type ConnectionRecord,
  type Ec2State,
  type EndpointRecord,
  lowerBound,
  refresh,
  requireEndpoint,
  sign,
  startPosition,
} from './state.js';
import type { EmulatedConnection } from './types.js';
import {
  element,
  formatAwsTime,
  renderConnection,
  renderEndpoint,
  STS_XMLNS,
  success,
  XML_DECL,
} from './xml.js';

/** One EC2 action: reads the Query parameters, answers the XML result (or throws an ApiError). */
export type Action = (state: Ec2State, params: URLSearchParams, requestId: string) => ApiResult;

function itemXml(rec: ConnectionRecord): readonly [string, string] | string {
  rec.xml ??= renderConnection(rec.conn);
  return rec.xml;
}

function matchesConnection(filters: Filter[], conn: EmulatedConnection): boolean {
  return filters.every((f) =>
    f.name === 'connection-id'
      ? f.values.has(conn.connectionId)
      : conn.username !== undefined && f.values.has(conn.username),
  );
}

/** Up to `maxResults` matching records from position `start`, and the first one after them. */
function connectionPage(
  records: readonly ConnectionRecord[],
  filters: Filter[],
  start: number,
  maxResults: number,
): { page: ConnectionRecord[]; next: ConnectionRecord | undefined } {
  const page: ConnectionRecord[] = [];
  for (let i = lowerBound(records, start); i < records.length; i++) {
    const rec = records[i];
    if (rec === undefined || !matchesConnection(filters, rec.conn)) continue;
    if (page.length === maxResults) return { page, next: rec };
    page.push(rec);
  }
  return { page, next: undefined };
}

function describeConnections(
  state: Ec2State,
  params: URLSearchParams,
  requestId: string,
): ApiResult {
  const action = 'DescribeClientVpnConnections';
  const endpointId = requireParam(params, 'ClientVpnEndpointId');
  const maxResults = parseMaxResults(params);
  const filters = parseFilters(params, ['connection-id', 'username']);
  const key = queryKey(action, endpointId, filters, maxResults);
  const start = startPosition(state, params, key);
  if (isDryRun(params)) throw dryRun();
  const record = requireEndpoint(state, endpointId);
  const at = state.now();
  refresh(state, record, at.getTime());
  const { page, next } = connectionPage(record.records, filters, start, maxResults);
  const timestamp = formatAwsTime(at);
  const out: string[] = [];
  for (const rec of page) {
    const xml = itemXml(rec);
    if (typeof xml === 'string') out.push(xml);
    else out.push(xml[0], timestamp, xml[1]);
  }
  const list = out.length === 0 ? '<connections/>' : `<connections>${out.join('')}</connections>`;
  const token = next ? element('nextToken', sign(state, key, next.seq)) : '';
  return success(action, requestId, `${list}${token}`);
}

/** The `ClientVpnEndpointId.N` parameters, in order of N. */
function endpointIds(params: URLSearchParams): string[] {
  return [...params.entries()]
    .map(([k, v]) => [/^ClientVpnEndpointId\.(\d+)$/.exec(k)?.[1], v] as const)
    .filter((pair): pair is readonly [string, string] => pair[0] !== undefined)
    .sort(([a], [b]) => Number(a) - Number(b))
    .map(([, v]) => v);
}

function describeEndpoints(state: Ec2State, params: URLSearchParams, requestId: string): ApiResult {
  const action = 'DescribeClientVpnEndpoints';
  const ids = endpointIds(params);
  const maxResults = parseMaxResults(params);
  const filters = parseFilters(params, ['endpoint-id', 'transport-protocol']);
  const key = queryKey(action, JSON.stringify([...new Set(ids)].sort()), filters, maxResults);
  const start = startPosition(state, params, key);
  if (isDryRun(params)) throw dryRun();
  for (const id of ids) requireEndpoint(state, id);

  const wanted = new Set(ids);
  const all = [...state.endpoints.values()].filter(
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
  const token = next ? element('nextToken', sign(state, key, next.seq)) : '';
  return success(action, requestId, `${list}${token}`);
}

/** Exactly one of `ConnectionId` and `Username`, else 400. */
function terminateTarget(params: URLSearchParams): {
  connectionId: string | undefined;
  username: string | undefined;
} {
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
  return { connectionId, username };
}

/** The connection with this id on this endpoint, or 400 IdNotFound. */
function connectionTarget(
  state: Ec2State,
  endpointId: string,
  connectionId: string,
): ConnectionRecord[] {
  const rec = state.connectionsById.get(connectionId);
  if (!rec || rec.conn.endpointId !== endpointId) {
    throw new ApiError(
      400,
      'InvalidClientVpnConnection.IdNotFound',
      `The connection ID '${connectionId}' does not exist`,
    );
  }
  return [rec];
}

/** The user's active connections on the endpoint (at most 5), or 400 UserNotFound / limit. */
function userTargets(
  record: EndpointRecord,
  endpointId: string,
  username: string | undefined,
): ConnectionRecord[] {
  const own = record.records.filter((r) => r.conn.username === username);
  if (own.length === 0) {
    throw new ApiError(
      400,
      'InvalidClientVpnConnection.UserNotFound',
      `The user '${username}' has no connections on Client VPN endpoint ${endpointId}`,
    );
  }
  const targets = own.filter((r) => r.conn.status === 'active');
  if (targets.length > 5) {
    throw new ApiError(
      400,
      'ClientVpnTerminateConnectionsLimitExceeded',
      `The user '${username}' has ${targets.length} active connections; at most 5 can be terminated by username. Terminate them by connection ID.`,
    );
  }
  return targets;
}

/** Moves an active (or failed-to-terminate) connection to `terminating`; its status `<item>`. */
function terminateOne(record: EndpointRecord, rec: ConnectionRecord, nowMs: number): string {
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
}

function terminateConnections(
  state: Ec2State,
  params: URLSearchParams,
  requestId: string,
): ApiResult {
  const action = 'TerminateClientVpnConnections';
  const endpointId = requireParam(params, 'ClientVpnEndpointId');
  const { connectionId, username } = terminateTarget(params);
  if (isDryRun(params)) throw dryRun();
  const record = requireEndpoint(state, endpointId);
  const nowMs = state.now().getTime();
  refresh(state, record, nowMs);
  const targets =
    connectionId !== undefined
      ? connectionTarget(state, endpointId, connectionId)
      : userTargets(record, endpointId, username);
  const statuses = targets.map((rec) => terminateOne(record, rec, nowMs));
  const list =
    statuses.length === 0
      ? '<connectionStatuses/>'
      : `<connectionStatuses>${statuses.join('')}</connectionStatuses>`;
  return success(
    action,
    requestId,
    `${element('clientVpnEndpointId', endpointId)}${element('username', username)}${list}`,
  );
}

/** STS AssumeRole, so that per-endpoint roles can be tested end to end (CloudTrail names the session). */
export function assumeRole(state: Ec2State, params: URLSearchParams, requestId: string): ApiResult {
  const roleArn = params.get('RoleArn');
  const sessionName = params.get('RoleSessionName');
  if (!roleArn) throw new ApiError(400, 'MissingParameter', 'RoleArn is required');
  if (!sessionName || !/^[\w+=,.@-]{2,64}$/.test(sessionName)) {
    throw new ApiError(400, 'ValidationError', `Invalid RoleSessionName ${sessionName ?? ''}`);
  }
  if (state.faults.denied.has('AssumeRole')) {
    throw new ApiError(
      403,
      'AccessDenied',
      `User is not authorized to perform: sts:AssumeRole on resource: ${roleArn}`,
    );
  }
  const roleName = roleArn.split('/').pop() ?? 'role';
  const accessKeyId = `ASIA${randomBytes(8).toString('hex').toUpperCase()}`;
  state.assumed.set(accessKeyId, `assumed-role/${roleName}/${sessionName}`);
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
}

/** The EC2 actions the emulator answers, by `Action`; others get 400 InvalidAction. */
export const ACTIONS: Record<string, Action> = {
  DescribeClientVpnConnections: describeConnections,
  DescribeClientVpnEndpoints: describeEndpoints,
  TerminateClientVpnConnections: terminateConnections,
};

/** Throws the injected fault this call meets: auth failure, throttling, failure, denial. */
function injectedFault(state: Ec2State, action: string): void {
  const faults = state.faults;
  if (faults.authFailing) {
    throw new ApiError(
      401,
      'AuthFailure',
      'AWS was not able to validate the provided access credentials',
    );
  }
  let throttled = false;
  if (faults.throttleRemaining > 0) {
    faults.throttleRemaining--;
    throttled = true;
  } else if (faults.buckets) {
    const bucket = action.startsWith('Describe') ? faults.buckets.describe : faults.buckets.mutate;
    throttled = !bucket.take();
  }
  if (throttled) throw new ApiError(503, 'RequestLimitExceeded', 'Request limit exceeded.');
  if (faults.failRemaining > 0) {
    faults.failRemaining--;
    const code = faults.failCode;
    throw new ApiError(
      faults.failStatus,
      code,
      code === 'InternalError' ? 'An internal error has occurred' : `Injected failure ${code}`,
    );
  }
  if (faults.denied.has('*') || faults.denied.has(action)) {
    throw new ApiError(
      403,
      'UnauthorizedOperation',
      `You are not authorized to perform this operation. User: arn:aws:iam::123456789012:user/test is not authorized to perform: ec2:${action}`,
    );
  }
}

/** Runs one request's action after the faults and common checks; throws an ApiError to refuse. */
export function dispatch(
  state: Ec2State,
  action: string,
  params: URLSearchParams,
  requestId: string,
): ApiResult {
  if (action === 'AssumeRole') return assumeRole(state, params, requestId);
  injectedFault(state, action);
  if (action === '') {
    throw new ApiError(400, 'MissingAction', 'The request must contain the parameter Action');
  }
  requireParam(params, 'Version');
  const run = Object.hasOwn(ACTIONS, action) ? ACTIONS[action] : undefined;
  if (run === undefined) {
    throw new ApiError(
      400,
      'InvalidAction',
      `The action ${action} is not valid for this web service.`,
    );
  }
  return run(state, params, requestId);
}
