/**
 * The small replies of `/vpn-conns`: help, usage errors, AWS errors, the
 * endpoint list and the "working on it" note. Each is pure and guarded.
 */
import { AwsError, type AwsErrorKind, UsageError } from '../../errors.js';
import type { AuthenticationType, Endpoint } from '../../vpn/endpoint.js';
import { formatCount } from '../../vpn/format.js';
import { type EndpointSelector, type Query, usage } from '../../vpn/query.js';
import { guardMessage, type KnownBlock, type SlackMessage } from './limits.js';
import { escapeMrkdwn, inlineCode, literal, truncate } from './mrkdwn.js';

export const GENERIC_ERROR_MESSAGE =
  ':boom: Something went wrong looking that up; the error was logged.';

const ABOUT =
  '`/vpn-conns` shows who is connected to the AWS Client VPN endpoints: live sessions, ' +
  'connections terminated in the last hour, one person across every endpoint, and a CSV export.';

function section(text: string): KnownBlock {
  return { type: 'section', text: { type: 'mrkdwn', text } };
}

function note(text: string): KnownBlock {
  return { type: 'context', elements: [{ type: 'mrkdwn', text }] };
}

/** Runs the guard and drops its flag: what callers send is a plain message. */
function guarded(text: string, blocks: KnownBlock[]): SlackMessage {
  const message = guardMessage({ text, blocks });
  return { text: message.text, blocks: message.blocks };
}

function usageBlock(): KnownBlock {
  return section(`\`\`\`\n${escapeMrkdwn(usage('slack'))}\n\`\`\``);
}

/** The answer to `/vpn-conns help`: what the bot does, then the usage in a code block. */
export function buildHelpMessage(): SlackMessage {
  return guarded('How to use /vpn-conns', [section(ABOUT), usageBlock()]);
}

/** The answer to a command (or button) the bot could not understand: the reason, then the usage. */
export function buildUsageErrorMessage(error: UsageError): SlackMessage {
  const reason = `:x: ${escapeMrkdwn(error.message)}`;
  return guarded(reason, [section(reason), usageBlock()]);
}

const AWS_ERROR_EMOJI: Readonly<Record<AwsErrorKind, string>> = {
  'endpoint-not-found': ':mag:',
  'access-denied': ':no_entry:',
  throttled: ':snail:',
  credentials: ':key:',
  unavailable: ':electric_plug:',
  refused: ':x:',
};

/** What a person can do about each kind of AWS failure. */
export const AWS_ERROR_ADVICE: Readonly<Record<AwsErrorKind, string>> = {
  'endpoint-not-found': '`/vpn-conns endpoints` lists the endpoints the bot knows.',
  'access-denied':
    "The bot's AWS role is not allowed to do this: ask an AWS admin to grant it " +
    '`ec2:DescribeClientVpnConnections` and `ec2:DescribeClientVpnEndpoints`.',
  throttled: 'AWS is rate-limiting the bot: wait a minute and try again.',
  credentials:
    'The bot has no valid AWS credentials (they may have expired): tell whoever runs the bot.',
  unavailable: 'AWS could not be reached or did not answer in time: try again in a moment.',
  refused:
    'AWS refused the request: check the command and try again; if it keeps happening, tell whoever runs the bot.',
};

/**
 * The reply when a lookup failed. An `AwsError` shows its kind's emoji, the
 * escaped message, what to do and (in a context) the AWS request id and error
 * code; a `UsageError` gets {@link buildUsageErrorMessage}; anything else gets
 * a generic line and never its details (the caller logs them).
 *
 * @param context - what was being done, e.g. `Listing connections on prod`; shown in bold.
 */
export function buildAwsErrorMessage(error: unknown, context: string): SlackMessage {
  if (error instanceof UsageError) return buildUsageErrorMessage(error);
  if (!(error instanceof AwsError)) {
    return guarded(GENERIC_ERROR_MESSAGE, [section(GENERIC_ERROR_MESSAGE)]);
  }
  const doing = escapeMrkdwn(truncate(context.replace(/\s+/g, ' ').trim(), 200));
  const emoji = AWS_ERROR_EMOJI[error.kind];
  const heading = doing === '' ? emoji : `${emoji} *${doing}*`;
  const message = escapeMrkdwn(truncate(error.message, 1500));
  const blocks = [section(`${heading}\n${message}\n${AWS_ERROR_ADVICE[error.kind]}`)];
  const details: string[] = [];
  if (error.requestId) details.push(`AWS request id: ${inlineCode(error.requestId)}`);
  if (error.code) details.push(`error code: ${inlineCode(error.code)}`);
  if (details.length > 0) blocks.push(note(details.join(' · ')));
  return guarded(`${emoji} ${message}`, blocks);
}

const AUTH_NAMES: Readonly<Record<AuthenticationType, string>> = {
  'certificate-authentication': 'certificate',
  'directory-service-authentication': 'Active Directory',
  'federated-authentication': 'SAML federation',
};

function endpointLine(endpoint: Endpoint, defaultAlias: string): string {
  const alias = `*${literal(truncate(endpoint.alias, 64))}*`;
  const parts = [endpoint.alias === defaultAlias ? `${alias} (default)` : alias];
  parts.push(inlineCode(endpoint.id, 64), escapeMrkdwn(truncate(endpoint.region, 32)));
  const auth = (endpoint.authenticationTypes ?? []).map((type) => AUTH_NAMES[type] ?? type);
  if (auth.length > 0) parts.push(`auth: ${escapeMrkdwn(auth.join(', '))}`);
  const description = endpoint.description?.replace(/\s+/g, ' ').trim();
  if (description) parts.push(literal(truncate(description, 200)));
  return parts.join(' · ');
}

/**
 * The answer to `/vpn-conns endpoints`: every known endpoint with its alias
 * (the default one marked), id, region, authentication types and description.
 */
export function buildEndpointsMessage(
  endpoints: readonly Endpoint[],
  defaultAlias: string,
): SlackMessage {
  if (endpoints.length === 0) {
    const none =
      'No Client VPN endpoints are configured or could be found: set `VPN_ENDPOINTS` (alias=cvpn-endpoint-…).';
    return guarded(none, [section(none)]);
  }
  const count = `${formatCount(endpoints.length)} Client VPN ${endpoints.length === 1 ? 'endpoint' : 'endpoints'}`;
  const blocks: KnownBlock[] = [{ type: 'header', text: { type: 'plain_text', text: count } }];
  // Several endpoints per section: a long list then needs far fewer than 50 blocks.
  let lines: string[] = [];
  let length = 0;
  for (const endpoint of endpoints) {
    const line = endpointLine(endpoint, defaultAlias);
    if (lines.length > 0 && length + line.length + 1 > 2900) {
      blocks.push(section(lines.join('\n')));
      lines = [];
      length = 0;
    }
    lines.push(line);
    length += line.length + 1;
  }
  blocks.push(section(lines.join('\n')));
  const aliases = endpoints.map((endpoint) => escapeMrkdwn(endpoint.alias)).join(', ');
  return guarded(truncate(`${count}: ${aliases}`, 300), blocks);
}

function endpointsPhrase(selector: EndpointSelector, fallback: string): string {
  if (selector.kind === 'all') return 'every endpoint';
  if (selector.kind === 'named') return selector.names.join(', ');
  return fallback;
}

function statusPhrase(statuses: readonly string[] | null): string {
  return statuses === null ? '' : ` (${statuses.join(', ')})`;
}

/** What is being looked up, in words, escaped for mrkdwn: one phrasing per kind of query. */
function workingText(query: Query): string {
  switch (query.kind) {
    case 'list': {
      const where = escapeMrkdwn(endpointsPhrase(query.endpoints, 'the default endpoint'));
      const status = escapeMrkdwn(statusPhrase(query.statuses));
      if (query.connectionIds.length > 0) {
        const ids = query.connectionIds.map((id) => inlineCode(id, 64)).join(', ');
        const noun = query.connectionIds.length === 1 ? 'connection' : 'connections';
        return `Looking up ${noun} ${ids} on ${where}${status}`;
      }
      if (query.usernames.length > 0) {
        const who = query.usernames.map((u) => literal(truncate(u, 64))).join(', ');
        return `Looking up the connections of ${who} on ${where}${status}`;
      }
      return `Looking up connections on ${where}${status}`;
    }
    case 'user': {
      const where = escapeMrkdwn(endpointsPhrase(query.endpoints, 'every endpoint'));
      const status = escapeMrkdwn(statusPhrase(query.statuses));
      const who =
        query.who.kind === 'me'
          ? 'your'
          : query.who.kind === 'slack-user'
            ? // A signed-format user ID (`U…`/`W…`): Slack shows it as the person's name.
              `<@${query.who.userId}>'s`
            : `${literal(truncate(query.who.name, 64))}'s`;
      return `Looking up ${who} sessions on ${where}${status}`;
    }
    case 'history': {
      const where = escapeMrkdwn(endpointsPhrase(query.endpoints, 'every endpoint'));
      const who =
        query.who === null
          ? 'the session history'
          : query.who.kind === 'me'
            ? 'your session history'
            : query.who.kind === 'slack-user'
              ? `<@${query.who.userId}>'s session history`
              : `${literal(truncate(query.who.name, 64))}'s session history`;
      return `Reading ${who} on ${where}`;
    }
    case 'report':
      return `Preparing the ${escapeMrkdwn(query.period)} usage report for ${escapeMrkdwn(endpointsPhrase(query.endpoints, 'every endpoint'))}`;
    case 'endpoints':
      return 'Listing the Client VPN endpoints';
    case 'digest':
      return query.action === 'now' ? 'Preparing a preview of the digest' : 'Reading the digests';
    case 'audit':
      return 'Reading the audit trail';
    case 'alerts':
      return 'Reading the alert rules';
    case 'help':
      return 'Getting help';
  }
}

/**
 * The note shown while AWS is being asked, phrased for the kind of query:
 * `:hourglass_flowing_sand: Looking up connections on prod…`, `…Looking up
 * bob's sessions on every endpoint…`, `…Listing the Client VPN endpoints…`.
 */
export function buildWorkingMessage(query: Query): SlackMessage {
  const text = `:hourglass_flowing_sand: ${truncate(workingText(query), 2900)}…`;
  return guarded(text, [section(text)]);
}
