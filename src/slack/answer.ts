/**
 * Turns a parsed query into the Slack message that answers it: the dispatch over the
 * grammar's kinds. Shared by the slash command and the buttons, so a click re-runs exactly
 * what the command ran. Every failure becomes a message; nothing here throws.
 */
import type { AuditTrail } from '../audit.js';
import type { Logger } from '../logger.js';
import type { ConnectionService } from '../services/connections.js';
import type { EndpointCatalogue } from '../vpn/catalogue.js';
import type { Query } from '../vpn/query.js';
import { type AccessChecker, ADMIN_ONLY_MESSAGE } from './access.js';
import { buildAuditMessage } from './blocks/audit.js';
import type { SlackMessage } from './blocks/limits.js';
import { buildEndpointsMessage, buildHelpMessage } from './blocks/messages.js';
import { answerConnections } from './connections-answer.js';
import { errorMessage, outcomeOf, requestIdsOf } from './error-reply.js';
import {
  type AnswerUpload,
  answerHistory,
  answerReport,
  type HistoryAnswerDeps,
} from './history-answer.js';
import type { IdentityResolver } from './identity.js';
import type { MessageMemo } from './message-memo.js';
import type { ValueSigner } from './signed-values.js';
import type { Turns } from './turns.js';

export interface AnswerDeps {
  readonly service: ConnectionService;
  readonly catalogue: EndpointCatalogue;
  readonly identity: IdentityResolver;
  readonly logger: Logger;
  readonly now: () => Date;
  /** Messages built from a shared result, reused by a burst of identical commands. */
  readonly messages: MessageMemo;
  /** Answer work takes turns behind acks (see turns.ts). */
  readonly turns: Turns;
  /** Answers `alerts`: the rules and what fires now; absent when this process has no store. */
  readonly alerts?: () => Promise<SlackMessage>;
  /** Answers `digest` / `digest now`; absent when digests are not configured. */
  readonly digest?: (action: 'show' | 'now') => Promise<SlackMessage>;
  /** Who may act; absent = nobody is an admin (no Terminate buttons, no audit command). */
  readonly access?: AccessChecker;
  readonly audit?: AuditTrail;
  /** Signs Terminate button values; absent = no Terminate buttons. */
  readonly signer?: ValueSigner;
  /** The session history for `history` and `report`; absent, they say it is not available. */
  readonly history?: HistoryAnswerDeps;
}

export interface AnswerContext {
  /** The signed Slack user ID of the person asking. */
  readonly userId: string;
  readonly page: number;
}

export interface Answer {
  readonly message: SlackMessage;
  /** True when the message reports a problem (it is then always ephemeral). */
  readonly isError: boolean;
  /** For the audit trail: how it ended, which endpoints were read, AWS request ids of failures. */
  readonly outcome: string;
  readonly endpoints?: readonly string[];
  readonly requestIds?: readonly string[];
  /** Files that go with the message (a report's chart and CSV), uploaded after it. */
  readonly uploads?: readonly AnswerUpload[];
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

const ALERTS_OFF: SlackMessage = {
  text: 'Alert rules are not available here.',
  blocks: [
    {
      type: 'section',
      text: {
        type: 'mrkdwn',
        text: ':rotating_light: Alert rules are not available in this process: they need the state store (`DATABASE_URL`).',
      },
    },
  ],
};

/** The full answer to a query, as a Slack message. Never throws. */
export async function answerQuery(
  query: Query,
  ctx: AnswerContext,
  deps: AnswerDeps,
): Promise<Answer> {
  try {
    return await answerOrThrow(query, ctx, deps);
  } catch (error) {
    return {
      message: errorMessage(error, deps.logger, 'vpn-conns'),
      isError: true,
      outcome: outcomeOf(error),
      requestIds: requestIdsOf(error),
    };
  }
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
    case 'alerts':
      return ok(deps.alerts ? await deps.alerts() : ALERTS_OFF);
    case 'audit': {
      if (!deps.access || !deps.audit || !(await deps.access.isAdmin(ctx.userId))) {
        return { message: ADMIN_ONLY, isError: true, outcome: 'denied' };
      }
      return ok(buildAuditMessage(await deps.audit.recent(query.limit), query.limit));
    }
    case 'list':
    case 'user':
      return answerConnections(query, ctx, deps);
    case 'history':
      return answerHistory(query, ctx, deps);
    case 'report':
      return answerReport(query, deps);
  }
}
