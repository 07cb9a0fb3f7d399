/**
 * Turns a parsed query into the Slack message that answers it. Shared by the
 * slash command and the paging buttons, so a click re-runs exactly what the
 * command ran. Every failure becomes a message; nothing here throws.
 */
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import type { AuditTrail } from '../audit.js';
import { AwsError, UsageError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { EndpointCatalogue } from '../vpn/catalogue.js';
import { displayName } from '../vpn/connection.js';
import { formatQuery, type Query, type UserRef } from '../vpn/query.js';
import type { ConnectionService, ConnectionsResult } from '../vpn/service.js';
import { type AccessChecker, ADMIN_ONLY_MESSAGE } from './access.js';
import { buildAuditMessage } from './blocks/audit.js';
import type { TerminateButtons } from './blocks/connections.js';
import { buildConnectionsMessage } from './blocks/connections.js';
import type { SlackMessage } from './blocks/limits.js';
import {
  buildAwsErrorMessage,
  buildEndpointsMessage,
  buildHelpMessage,
  buildUsageErrorMessage,
} from './blocks/messages.js';
import type { IdentityResolver } from './identity.js';
import type { TerminateValue, ValueSigner } from './signed-values.js';

export interface AnswerDeps {
  readonly service: ConnectionService;
  readonly catalogue: EndpointCatalogue;
  readonly identity: IdentityResolver;
  readonly logger: Logger;
  readonly now: () => Date;
  /** Answers `digest` / `digest now`; absent when digests are not configured. */
  readonly digest?: (action: 'show' | 'now') => Promise<SlackMessage>;
  /** Who may act; absent = nobody is an admin (no Terminate buttons, no audit command). */
  readonly access?: AccessChecker;
  readonly audit?: AuditTrail;
  /** Signs Terminate button values; absent = no Terminate buttons. */
  readonly signer?: ValueSigner;
}

/** Messages built from one (briefly cached) result, by query text, page and viewer kind. */
const builtMessages = new WeakMap<ConnectionsResult, Map<string, SlackMessage>>();

export interface AnswerContext {
  /** The signed Slack user ID of the person asking. */
  readonly userId: string;
  readonly page: number;
}

export interface QueryResult {
  readonly title: string;
  readonly result: ConnectionsResult;
  readonly statusesNote: string;
  /** The VPN user name of a `user` query. */
  readonly name?: string;
}

export const ADMIN_ONLY: SlackMessage = {
  text: ADMIN_ONLY_MESSAGE,
  blocks: [{ type: 'section', text: { type: 'mrkdwn', text: ADMIN_ONLY_MESSAGE } }],
};

const DIGEST_OFF: SlackMessage = {
  text: 'Digests are not configured.',
  blocks: [
    {
      type: 'section',
      text: {
        type: 'mrkdwn',
        text: ':calendar: Digests are not configured: set `DIGEST_CHANNEL` to post an hourly digest of ended VPN sessions.',
      },
    },
  ],
};

/** The VPN user name a `user …` query is about. */
async function resolveWho(who: UserRef, ctx: AnswerContext, identity: IdentityResolver) {
  if (who.kind === 'name') return who.name;
  return identity.vpnUsername(who.kind === 'me' ? ctx.userId : who.userId);
}

function titleOf(result: ConnectionsResult): string {
  const aliases = result.endpoints.map((e) => e.alias);
  return aliases.length > 3 ? `${aliases.length} endpoints` : aliases.join(', ');
}

function statusesNote(statuses: readonly string[] | null): string {
  return statuses === null
    ? 'active and terminated in the last hour'
    : `status: ${statuses.join(', ')}`;
}

/**
 * Runs a list or user query. Throws what the service throws (UsageError,
 * AwsError); `answerQuery` turns those into messages.
 */
export async function runConnectionsQuery(
  query: Extract<Query, { kind: 'list' | 'user' }>,
  ctx: AnswerContext,
  deps: AnswerDeps,
): Promise<QueryResult> {
  if (query.kind === 'list') {
    const result = await deps.service.list({
      endpoints: query.endpoints,
      usernames: query.usernames,
      connectionIds: query.connectionIds,
      statuses: query.statuses,
    });
    return { title: titleOf(result), result, statusesNote: statusesNote(query.statuses) };
  }
  const name = await resolveWho(query.who, ctx, deps.identity);
  const result = await deps.service.lookupUser({
    name,
    endpoints: query.endpoints,
    statuses: query.statuses,
  });
  const where = query.endpoints.kind === 'all' ? 'every endpoint' : titleOf(result);
  return { title: `${name} on ${where}`, result, statusesNote: statusesNote(query.statuses), name };
}

/**
 * Terminate buttons for admins: each value signed, carrying the list to refresh afterwards
 * (dropped when it would not fit in a button). "Terminate all" carries the endpoints the
 * lookup showed (`scope`; `undefined` = every endpoint), so it acts on nothing more.
 */
async function terminateButtons(
  queryText: string,
  page: number,
  who: { readonly name: string; readonly scope: readonly string[] | undefined } | undefined,
  ctx: AnswerContext,
  deps: AnswerDeps,
): Promise<TerminateButtons | undefined> {
  const { signer, access } = deps;
  if (!signer || !access || !(await access.isAdmin(ctx.userId))) return undefined;
  const refresh = queryText.length <= 1500 ? { q: queryText, p: page } : {};
  const sign = (value: TerminateValue) =>
    signer.sign({ ...value, ...refresh }) ?? signer.sign(value);
  const all =
    who === undefined
      ? null
      : sign({ k: 'user', n: who.name, ...(who.scope ? { e: [...who.scope] } : {}) });
  return {
    valueFor: (c) =>
      sign({
        k: 'conn',
        e: c.endpointId,
        c: c.connectionId,
        n: displayName(c).slice(0, 128),
      }),
    ...(all && who ? { all: { name: who.name, value: all } } : {}),
  };
}

/** The message for a thrown error: a person can act on it, the log has the rest. */
export function errorMessage(
  error: unknown,
  logger: Pick<Logger, 'warn' | 'error'>,
  context: string,
): SlackMessage {
  if (error instanceof UsageError) return buildUsageErrorMessage(error);
  if (error instanceof AwsError) {
    logger.warn(
      `${context}: ${error.name} ${error.code ?? ''} requestId=${error.requestId ?? '-'}`,
    );
    return buildAwsErrorMessage(error, context);
  }
  logger.error(
    `${context}: unexpected error`,
    error instanceof Error ? (error.stack ?? error) : error,
  );
  return buildAwsErrorMessage(error, context);
}

export interface Answer {
  readonly message: SlackMessage;
  /** True when the message reports a problem (it is then always ephemeral). */
  readonly isError: boolean;
  /** For the audit trail: how it ended, which endpoints were read, AWS request ids of failures. */
  readonly outcome: string;
  readonly endpoints?: readonly string[];
  readonly requestIds?: readonly string[];
}

/** The audit outcome of a thrown error: `usage-error`, `EndpointNotFoundError`, … */
export function outcomeOf(error: unknown): string {
  if (error instanceof UsageError) return 'usage-error';
  if (error instanceof AwsError) return `error: ${error.name}`;
  return 'error';
}

/** The full answer to a query, as a Slack message. Never throws. */
export async function answerQuery(
  query: Query,
  ctx: AnswerContext,
  deps: AnswerDeps,
): Promise<Answer> {
  try {
    return await answerOrThrow(query, ctx, deps);
  } catch (error) {
    const requestIds = error instanceof AwsError && error.requestId ? [error.requestId] : [];
    return {
      message: errorMessage(error, deps.logger, 'vpn-conns'),
      isError: true,
      outcome: outcomeOf(error),
      requestIds,
    };
  }
}

/**
 * The query a button carries: `user me` becomes the asker's Slack ID, so a click by
 * someone else (on a public message) pages or exports what the message shows.
 */
function pinnedQuery(query: Query, ctx: AnswerContext): Query {
  if (query.kind !== 'user' || query.who.kind !== 'me') return query;
  return { ...query, who: { kind: 'slack-user', userId: ctx.userId } };
}

async function answerOrThrow(query: Query, ctx: AnswerContext, deps: AnswerDeps): Promise<Answer> {
  const ok = (message: SlackMessage): Answer => ({ message, isError: false, outcome: 'ok' });
  switch (query.kind) {
    case 'help':
      return ok(buildHelpMessage());
    case 'endpoints': {
      const endpoints = await deps.catalogue.described();
      return ok(buildEndpointsMessage(endpoints, endpoints[0]?.alias ?? ''));
    }
    case 'digest':
      return ok(deps.digest ? await deps.digest(query.action) : DIGEST_OFF);
    case 'audit': {
      if (!deps.access || !deps.audit || !(await deps.access.isAdmin(ctx.userId))) {
        return { message: ADMIN_ONLY, isError: true, outcome: 'denied' };
      }
      return ok(buildAuditMessage(await deps.audit.recent(query.limit), query.limit));
    }
    case 'list':
    case 'user': {
      const { title, result, statusesNote, name } = await runConnectionsQuery(query, ctx, deps);
      const endpoints = result.endpoints.map((e) => e.alias);
      const { requestIds } = result;
      const [only] = result.failures;
      // One endpoint asked and it failed: the error itself is the answer.
      if (result.endpoints.length === 1 && only) {
        return {
          message: errorMessage(only.error, deps.logger, title),
          isError: true,
          outcome: outcomeOf(only.error),
          endpoints,
          requestIds,
        };
      }
      const aliases = new Map(result.endpoints.map((e) => [e.id, e.alias]));
      const queryText = formatQuery(pinnedQuery(query, ctx));
      const who =
        name === undefined
          ? undefined
          : {
              name,
              scope:
                query.kind === 'user' && query.endpoints.kind === 'all'
                  ? undefined
                  : result.endpoints.map((e) => e.id),
            };
      const terminate = await terminateButtons(queryText, ctx.page, who, ctx, deps);
      // Identical commands in a burst share one result object: build its message once.
      const memoKey = `${queryText}\n${ctx.page}\n${terminate ? 'admin' : 'viewer'}`;
      // Let pending acks go out before the CPU work of sorting and building;
      // by then the first of a burst may have built the message for all.
      await yieldToEventLoop();
      let memo = builtMessages.get(result);
      const cached = memo?.get(memoKey);
      if (cached) return { outcome: 'ok', isError: false, endpoints, requestIds, message: cached };
      const message = buildConnectionsMessage({
        title,
        connections: result.connections,
        page: ctx.page,
        queryText,
        failures: result.failures.map((f) => ({
          endpointAlias: f.endpoint.alias,
          message: f.error instanceof AwsError ? f.error.message : 'unexpected error (logged)',
        })),
        aliasOf: (id) => aliases.get(id) ?? id,
        fetchedAt: result.fetchedAt,
        now: deps.now(),
        statusesNote,
        ...(result.matchedField ? { matchedField: result.matchedField } : {}),
        ...(terminate ? { terminate } : {}),
      });
      if (result.failures.length === 0) {
        memo ??= new Map();
        memo.set(memoKey, message);
        builtMessages.set(result, memo);
      }
      return {
        outcome: result.failures.length > 0 ? 'partial' : 'ok',
        isError: false,
        endpoints,
        requestIds,
        message,
      };
    }
  }
}
