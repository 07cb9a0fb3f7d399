/**
 * The domain model of a Client VPN connection.
 *
 * The EC2 API hands every field over as an optional string. This module turns
 * that shape into a strict `Connection` exactly once, so nothing downstream
 * ever formats `Invalid Date`, `NaN` or `undefined`.
 */

export const CONNECTION_STATUSES = [
  'active',
  'failed-to-terminate',
  'terminating',
  'terminated',
] as const;

export type ConnectionStatus = (typeof CONNECTION_STATUSES)[number];

/**
 * The wire shape of one connection, field for field as the SDK returns it.
 * Declared here (not imported from the SDK) so the domain stays free of
 * `@aws-sdk/*`; the SDK's `ClientVpnConnection` is structurally assignable.
 */
export interface RawConnection {
  ClientVpnEndpointId?: string | undefined;
  Timestamp?: string | undefined;
  ConnectionId?: string | undefined;
  Username?: string | undefined;
  ConnectionEstablishedTime?: string | undefined;
  IngressBytes?: string | undefined;
  EgressBytes?: string | undefined;
  IngressPackets?: string | undefined;
  EgressPackets?: string | undefined;
  ClientIp?: string | undefined;
  ClientIpv6Address?: string | undefined;
  CommonName?: string | undefined;
  Status?: { Code?: string | undefined; Message?: string | undefined } | undefined;
  ConnectionEndTime?: string | undefined;
  PostureComplianceStatuses?: string[] | undefined;
}

/** A connection as the rest of the product sees it. Absent values are `null`. */
export interface Connection {
  readonly endpointId: string;
  readonly connectionId: string;
  /** Active Directory / federated user name; `null` for certificate auth. */
  readonly username: string | null;
  /** Certificate common name (AWS also fills it for AD users). */
  readonly commonName: string | null;
  /** `null` only when AWS sent a status this version does not know (see `issues`). */
  readonly status: ConnectionStatus | null;
  readonly statusMessage: string | null;
  readonly clientIp: string | null;
  readonly clientIpv6: string | null;
  readonly establishedAt: Date | null;
  /** `null` while the connection is active (AWS sends `-`). */
  readonly endedAt: Date | null;
  /** When AWS last updated the record. */
  readonly observedAt: Date | null;
  readonly ingressBytes: number | null;
  readonly egressBytes: number | null;
  readonly ingressPackets: number | null;
  readonly egressPackets: number | null;
  readonly postureCompliance: readonly string[];
  /** Fields AWS sent in a form we could not read; empty for a well-formed record. */
  readonly issues: readonly string[];
}

const AWS_TIME = /^(\d{4})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2}):(\d{2})(?:\.\d+)?Z?$/;

/**
 * Parses an EC2 Client VPN time (`2019-08-12 07:58:34`, no zone) as UTC,
 * whatever `TZ` the process runs with. Returns `null` for `-`, empty or
 * malformed input; never an invalid `Date`.
 */
export function parseAwsTime(value: string | undefined): Date | null {
  if (value === undefined) return null;
  const match = AWS_TIME.exec(value.trim());
  if (!match) return null;
  const written = match.slice(1, 7).map(Number);
  const [y = 0, mo = 1, d = 0, h = 0, mi = 0, s = 0] = written;
  const date = new Date(Date.UTC(y, mo - 1, d, h, mi, s));
  // Date.UTC rolls 2019-02-31 over to March, 10:60 to 11:00 and year 19 to 1919: reject
  // instead of inventing an instant.
  const read = [date.getUTCFullYear(), date.getUTCMonth() + 1, date.getUTCDate()];
  read.push(date.getUTCHours(), date.getUTCMinutes(), date.getUTCSeconds());
  if (read.some((field, i) => field !== written[i])) return null;
  return date;
}

const COUNTER = /^\d+$/;

function parseCounter(value: string | undefined): number | null {
  if (value === undefined || !COUNTER.test(value.trim())) return null;
  const n = Number(value.trim());
  return Number.isSafeInteger(n) ? n : null;
}

function text(value: string | undefined): string | null {
  if (value === undefined) return null;
  const trimmed = value.trim();
  return trimmed === '' || trimmed === '-' ? null : trimmed;
}

export function isConnectionStatus(value: unknown): value is ConnectionStatus {
  return typeof value === 'string' && (CONNECTION_STATUSES as readonly string[]).includes(value);
}

/**
 * Normalizes one wire record. A malformed field becomes `null` and is named
 * in `issues` (the caller logs it); the record itself is always kept.
 */
export function normalizeConnection(raw: RawConnection, fallbackEndpointId = ''): Connection {
  const issues: string[] = [];

  const timeField = (name: keyof RawConnection, value: string | undefined, dashOk: boolean) => {
    if (value === undefined || value.trim() === '') return null;
    if (dashOk && value.trim() === '-') return null;
    const parsed = parseAwsTime(value);
    if (parsed === null) issues.push(`${name}=${JSON.stringify(value)}`);
    return parsed;
  };
  const counterField = (name: keyof RawConnection, value: string | undefined) => {
    if (value === undefined || value.trim() === '') return null;
    const parsed = parseCounter(value);
    if (parsed === null) issues.push(`${name}=${JSON.stringify(value)}`);
    return parsed;
  };

  const code = raw.Status?.Code;
  let status: ConnectionStatus | null = null;
  if (isConnectionStatus(code)) status = code;
  else issues.push(`Status.Code=${JSON.stringify(code ?? null)}`);

  const connectionId = text(raw.ConnectionId);
  if (connectionId === null) issues.push('ConnectionId missing');
  const endpointId = text(raw.ClientVpnEndpointId) ?? fallbackEndpointId;

  return {
    endpointId,
    connectionId: connectionId ?? '(unknown)',
    username: text(raw.Username),
    commonName: text(raw.CommonName),
    status,
    statusMessage: text(raw.Status?.Message),
    clientIp: text(raw.ClientIp),
    clientIpv6: text(raw.ClientIpv6Address),
    establishedAt: timeField('ConnectionEstablishedTime', raw.ConnectionEstablishedTime, false),
    endedAt: timeField('ConnectionEndTime', raw.ConnectionEndTime, true),
    observedAt: timeField('Timestamp', raw.Timestamp, false),
    ingressBytes: counterField('IngressBytes', raw.IngressBytes),
    egressBytes: counterField('EgressBytes', raw.EgressBytes),
    ingressPackets: counterField('IngressPackets', raw.IngressPackets),
    egressPackets: counterField('EgressPackets', raw.EgressPackets),
    postureCompliance: (raw.PostureComplianceStatuses ?? []).filter((s) => s.trim() !== ''),
    issues,
  };
}

/** The name a person would recognise: the AD user name, else the certificate CN. */
export function displayName(connection: Connection): string {
  return connection.username ?? connection.commonName ?? '(unknown user)';
}
