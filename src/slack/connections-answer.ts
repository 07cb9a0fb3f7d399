/**
 * The answer to a `list` or `user` query as a Slack message: the service runs the query, this
 * names it, adds the Terminate buttons an admin may use, and builds the page asked for.
 */
import {
  type ConnectionsQuery,
  type QueryAnswer,
  runConnectionsQuery,
} from '../services/connections.js';
import { formatQuery, type Query } from '../vpn/query.js';
import type { Answer, AnswerContext, AnswerDeps } from './answer.js';
import { buildConnectionsMessage } from './blocks/connections.js';
import { errorMessage, failureText, outcomeOf } from './error-reply.js';
import { terminateButtons } from './terminate-buttons.js';

/** How a query's answer is named: in the message's title, the CSV file name and its comment. */
export function titleOf(answer: QueryAnswer): string {
  const aliases = answer.result.endpoints.map((e) => e.alias);
  const where = aliases.length > 3 ? `${aliases.length} endpoints` : aliases.join(', ');
  if (!answer.user) return where;
  return `${answer.user.name} on ${answer.user.endpointIds === null ? 'every endpoint' : where}`;
}

function statusesNote(statuses: readonly string[] | null): string {
  return statuses === null
    ? 'active and terminated in the last hour'
    : `status: ${statuses.join(', ')}`;
}

/**
 * The query a button carries: `user me` becomes the asker's Slack ID, so a click by
 * someone else (on a public message) pages or exports what the message shows.
 */
function pinnedQuery(query: Query, ctx: AnswerContext): Query {
  if (query.kind !== 'user' || query.who.kind !== 'me') return query;
  return { ...query, who: { kind: 'slack-user', userId: ctx.userId } };
}

/** Runs the query for the asker; throws what the service throws (UsageError, AwsError). */
export function runQuery(
  query: ConnectionsQuery,
  ctx: AnswerContext,
  deps: AnswerDeps,
): Promise<QueryAnswer> {
  return runConnectionsQuery(query, ctx.userId, {
    service: deps.service,
    directory: deps.identity,
  });
}

/** The answer to a list or user query. Throws what `runQuery` throws. */
export async function answerConnections(
  query: ConnectionsQuery,
  ctx: AnswerContext,
  deps: AnswerDeps,
): Promise<Answer> {
  const answer = await runQuery(query, ctx, deps);
  const { result } = answer;
  const title = titleOf(answer);
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
  const queryText = formatQuery(pinnedQuery(query, ctx));
  const list = { queryText, page: ctx.page, ...(answer.user ? { user: answer.user } : {}) };
  const terminate = await terminateButtons(list, ctx.userId, deps);
  const outcome = result.failures.length > 0 ? 'partial' : 'ok';
  // Identical commands in a burst share one result object: build its message once.
  const memoKey = `${queryText}\n${ctx.page}\n${terminate ? 'admin' : 'viewer'}`;
  // Let pending acks go out before the CPU work of sorting and building;
  // by then the first of a burst may have built the message for all.
  await deps.turns.next();
  const cached = deps.messages.get(result, memoKey);
  if (cached) return { outcome, isError: false, endpoints, requestIds, message: cached };
  const aliases = new Map(result.endpoints.map((e) => [e.id, e.alias]));
  const timeouts = new Map(result.endpoints.map((e) => [e.id, e.sessionTimeoutHours ?? null]));
  const message = buildConnectionsMessage({
    title,
    connections: result.connections,
    page: ctx.page,
    queryText,
    failures: result.failures.map((f) => ({
      endpointAlias: f.endpoint.alias,
      message: failureText(f.error),
    })),
    aliasOf: (id) => aliases.get(id) ?? id,
    sessionTimeoutOf: (id) => timeouts.get(id) ?? null,
    fetchedAt: result.fetchedAt,
    now: deps.now(),
    statusesNote: statusesNote(query.statuses),
    ...(result.matchedField ? { matchedField: result.matchedField } : {}),
    ...(terminate ? { terminate } : {}),
  });
  if (result.failures.length === 0) deps.messages.set(result, memoKey, message);
  return { outcome, isError: false, endpoints, requestIds, message };
}
