/** EC2 Query protocol XML: escaping, the `<item>`s of connections and endpoints, answer and error envelopes. */
import { createHmac } from 'node:crypto';
import type { ApiError, ApiResult } from './query.js';
import type { EndpointRecord } from './state.js';
import type { EmulatedConnection } from './types.js';

const XMLNS = 'http://ec2.amazonaws.com/doc/2016-11-15/';
/** The XML declaration every answer starts with. */
export const XML_DECL = '<?xml version="1.0" encoding="UTF-8"?>\n';
/** STS's namespace (AssumeRole and its errors). */
export const STS_XMLNS = 'https://sts.amazonaws.com/doc/2011-06-15/';

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

/** `<name>value</name>` escaped, `<name/>` for empty, nothing for undefined. */
export function element(name: string, value: string | undefined): string {
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
export function renderConnection(conn: EmulatedConnection): readonly [string, string] | string {
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

/** One endpoint `<item>` of DescribeClientVpnEndpoints. */
export function renderEndpoint(record: EndpointRecord): string {
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
    element('sessionTimeoutHours', String(e.sessionTimeoutHours ?? 24)),
    '<disconnectOnSessionTimeout>true</disconnectOnSessionTimeout>',
    '</item>',
  ].join('');
}

/** An EC2 answer envelope with the action's result elements. */
export function success(action: string, requestId: string, inner: string): ApiResult {
  return {
    status: 200,
    body: `${XML_DECL}<${action}Response xmlns="${XMLNS}"><requestId>${requestId}</requestId>${inner}</${action}Response>`,
  };
}

/** An EC2 error envelope. */
export function failure(error: ApiError, requestId: string): ApiResult {
  return {
    status: error.status,
    code: error.code,
    body: `${XML_DECL}<Response><Errors><Error>${element('Code', error.code)}${element('Message', error.message)}</Error></Errors><RequestID>${requestId}</RequestID></Response>`,
  };
}

/** STS (the same Query protocol) answers errors in its own envelope. */
export function stsFailure(error: ApiError, requestId: string): ApiResult {
  return {
    status: error.status,
    code: error.code,
    body: `${XML_DECL}<ErrorResponse xmlns="${STS_XMLNS}"><Error><Type>Sender</Type>${element('Code', error.code)}${element('Message', error.message)}</Error><RequestId>${requestId}</RequestId></ErrorResponse>`,
  };
}
