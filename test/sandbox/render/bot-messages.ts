/**
 * Real messages of the bot, made by its own builders from a generated fleet
 * (tricky user names included): what the renderer tests check and what
 * `scripts/render-gallery.ts` shows. Deterministic: same messages every run.
 */
import { AccessDeniedError, UsageError } from '../../../src/errors.js';
// The fleet generator is the one the EC2 emulator uses; imported here only, for the other tests too.
import type { EmulatedConnection } from '../../../src/sandbox/ec2-emulator.js';
import {
  DEFAULT_FLEET_NOW,
  generateFleet,
  TRICKY_USERNAMES,
} from '../../../src/sandbox/vpn-data.js';
import { buildAuditMessage } from '../../../src/slack/blocks/audit.js';
import {
  buildConnectionsMessage,
  type ConnectionsView,
} from '../../../src/slack/blocks/connections.js';
import { buildDigestMessage } from '../../../src/slack/blocks/digest.js';
import type { SlackMessage } from '../../../src/slack/blocks/limits.js';
import {
  buildAwsErrorMessage,
  buildEndpointsMessage,
  buildHelpMessage,
  buildUsageErrorMessage,
  buildWorkingMessage,
} from '../../../src/slack/blocks/messages.js';
import { buildTerminateResultMessage } from '../../../src/slack/blocks/terminate.js';
import type { EndedSession } from '../../../src/store/types.js';
import { type Connection, normalizeConnection } from '../../../src/vpn/connection.js';
import type { Endpoint } from '../../../src/vpn/endpoint.js';

export { TRICKY_USERNAMES };

export const NOW = DEFAULT_FLEET_NOW;

/** One bot message and how the workbench would show it. */
export interface BotMessage {
  readonly name: string;
  readonly message: SlackMessage;
  readonly ephemeral: boolean;
}

/** EC2's zone-less time format, `2026-11-27 11:59:00`. */
const awsTime = (date: Date) => date.toISOString().slice(0, 19).replace('T', ' ');

function toConnection(c: EmulatedConnection): Connection {
  return normalizeConnection({
    ClientVpnEndpointId: c.endpointId,
    ConnectionId: c.connectionId,
    Username: c.username,
    CommonName: c.commonName,
    ClientIp: c.clientIp,
    ClientIpv6Address: c.clientIpv6,
    Status: { Code: c.status },
    ConnectionEstablishedTime: awsTime(c.establishedAt),
    ConnectionEndTime: c.endedAt ? awsTime(c.endedAt) : '-',
    IngressBytes: String(c.ingressBytes),
    EgressBytes: String(c.egressBytes),
  });
}

const fleet = generateFleet({ connections: 300, now: NOW });
export const CONNECTIONS: readonly Connection[] = fleet.connections.map(toConnection);
export const ENDPOINTS: readonly Endpoint[] = fleet.endpoints.map((e) => ({
  alias: e.name ?? e.id,
  id: e.id,
  region: e.region ?? 'us-east-1',
  ...(e.description === undefined ? {} : { description: e.description }),
  authenticationTypes: [e.authenticationType ?? 'directory-service-authentication'],
}));
const ALIAS = new Map(ENDPOINTS.map((e) => [e.id, e.alias]));
const aliasOf = (id: string) => ALIAS.get(id) ?? id;

function connectionsView(overrides: Partial<ConnectionsView>): ConnectionsView {
  return {
    title: 'every endpoint',
    connections: CONNECTIONS,
    page: 0,
    queryText: 'list all',
    failures: [],
    aliasOf,
    fetchedAt: NOW,
    now: NOW,
    ...overrides,
  };
}

const terminate = { valueFor: (c: Connection) => `signed:${c.connectionId}` };

function endedSessions(): EndedSession[] {
  return CONNECTIONS.filter((c) => c.status === 'terminated' || c.status === 'failed-to-terminate')
    .slice(0, 40)
    .map((c) => ({
      endpointId: c.endpointId,
      connectionId: c.connectionId,
      username: c.username,
      commonName: c.commonName,
      clientIp: c.clientIp,
      clientIpv6: c.clientIpv6,
      status: c.status === 'failed-to-terminate' ? 'failed-to-terminate' : 'terminated',
      establishedAt: c.establishedAt,
      endedAt: c.endedAt ?? NOW,
      ingressBytes: c.ingressBytes,
      egressBytes: c.egressBytes,
    }));
}

function digestMessages(): BotMessage[] {
  const [first] = ENDPOINTS;
  const view = {
    name: 'default',
    timezone: 'Europe/Berlin',
    from: new Date(NOW.getTime() - 3_600_000),
    to: NOW,
    sessions: endedSessions(),
    gaps: first
      ? [{ id: 1, endpointId: first.id, from: new Date(NOW.getTime() - 7_200_000), to: NOW }]
      : [],
    aliasOf,
  };
  return [
    { name: 'digest', message: buildDigestMessage(view).message, ephemeral: false },
    {
      name: 'digest preview',
      message: buildDigestMessage({ ...view, preview: true, gaps: [] }).message,
      ephemeral: true,
    },
    {
      name: 'empty digest',
      message: buildDigestMessage({ ...view, sessions: [], gaps: [] }).message,
      ephemeral: false,
    },
  ];
}

function userLookup(): BotMessage {
  const name = '<script>alert(1)</script>';
  const mine = CONNECTIONS.filter((c) => c.username === name || c.username === 'tom&jerry');
  const message = buildConnectionsMessage(
    connectionsView({
      title: `${name} on every endpoint`,
      connections: mine,
      queryText: 'user "<script>alert(1)</script>"',
      matchedField: () => 'username',
      terminate: { ...terminate, all: { name, value: 'signed:all' } },
    }),
  );
  return { name: 'user lookup', message, ephemeral: true };
}

function auditMessage(): BotMessage {
  const entries = Array.from({ length: 7 }, (_, i) => ({
    at: new Date(NOW.getTime() - i * 600_000),
    teamId: 'T1',
    userId: i % 3 === 0 ? 'U0ADMIN01' : 'W0OTHER02',
    channelId: i % 2 === 0 ? 'C0GENERAL' : null,
    action: i % 2 === 0 ? 'terminate' : 'list',
    detail: i === 1 ? 'user *`<!channel>`*' : `list prod status=active page ${i}`,
    endpoints: ['prod'],
    outcome: i === 3 ? 'denied' : 'ok',
    requestIds: [],
  }));
  return { name: 'audit', message: buildAuditMessage(entries, 20), ephemeral: true };
}

/** Every kind of message the bot sends, each built by its real builder. */
export function botMessages(): BotMessage[] {
  const ephemeral = (name: string, message: SlackMessage): BotMessage => ({
    name,
    message,
    ephemeral: true,
  });
  return [
    ephemeral(
      'connections, page 1, admin',
      buildConnectionsMessage(connectionsView({ terminate })),
    ),
    ephemeral('connections, page 2', buildConnectionsMessage(connectionsView({ page: 1 }))),
    userLookup(),
    ephemeral(
      'no connections',
      buildConnectionsMessage(connectionsView({ title: 'staging', connections: [] })),
    ),
    ephemeral(
      'connections with a failed endpoint',
      buildConnectionsMessage(
        connectionsView({
          connections: CONNECTIONS.slice(0, 5),
          failures: [{ endpointAlias: 'us', message: 'AWS refused: <b>AccessDenied</b> & more' }],
        }),
      ),
    ),
    ephemeral('help', buildHelpMessage()),
    ephemeral('usage error', buildUsageErrorMessage(new UsageError('Unknown status "<zap>".'))),
    ephemeral(
      'AWS error',
      buildAwsErrorMessage(
        new AccessDeniedError('User is not authorized to perform ec2:Describe*', {
          requestId: 'req-1234',
          code: 'UnauthorizedOperation',
        }),
        'Listing connections on prod',
      ),
    ),
    ephemeral('endpoints', buildEndpointsMessage(ENDPOINTS, 'prod')),
    ephemeral(
      'working',
      buildWorkingMessage({
        kind: 'list',
        endpoints: { kind: 'all' },
        usernames: [],
        connectionIds: [],
        statuses: null,
      }),
    ),
    ...digestMessages(),
    ephemeral(
      'terminate result',
      buildTerminateResultMessage({
        who: '*bold*',
        done: [
          {
            alias: 'prod',
            connectionId: 'cvpn-connection-0123456789abcdef0',
            previous: 'active',
            current: 'terminating',
          },
        ],
        failed: [{ alias: 'staging', message: 'Throttled <retry later>' }],
        refusedByDryRun: false,
      }),
    ),
    ephemeral(
      'terminate refused by dry run',
      buildTerminateResultMessage({ who: 'bob', done: [], failed: [], refusedByDryRun: true }),
    ),
    auditMessage(),
  ];
}
