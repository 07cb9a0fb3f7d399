/**
 * Ack latency and answer time of the bot's slash command and buttons, for `/metrics`
 * (`vpn_conns_ack_latency_seconds`, `vpn_conns_answer_seconds`, label `kind`).
 *
 * Bolt gives no time of receipt, so the clock starts at the earliest point in our code: the
 * first global middleware, registered before the access check. What the figures therefore
 * include and leave out:
 * - **Not included**: the network from Slack, the time a request waited for Node to read it
 *   (a busy event loop), reading the body, and Bolt's own work before its middleware runs
 *   (the signature check in HTTP mode, parsing the Socket Mode envelope, `authorize`, which
 *   is cached); nor, after `ack()`, the way back to Slack.
 * - **Included**: the access check (a user-group lookup may take up to `ACCESS_ACK_BUDGET_MS`
 *   before the ack goes out anyway), the listener's work before its ack, and `ack()` itself:
 *   in HTTP mode until the response is handed to Node's socket, in Socket Mode until the ack
 *   envelope is written to the WebSocket.
 * - The answer time runs from the same start to the reply that answers resolving (the
 *   response_url post or the ack that carries the answer, the error or refusal reply, the
 *   App Home published): a "working…" message is not the answer. An answer Slack did not take
 *   (an expired response_url) is not observed; the log says so.
 *
 * Times are taken from `performance.now()` (monotonic), and each is observed once, when it
 * happens: the first `acked()` and the first `answered()` of a request count, later calls
 * are ignored. The outcome is counted elsewhere (the audit trail, `metered-audit.ts`), so
 * nothing here counts a command or click twice.
 */
import { performance } from 'node:perf_hooks';
import type { AnyMiddlewareArgs, Context, Middleware } from '@slack/bolt';
import type { AppMetrics, RequestKind } from '../http/metrics.js';
import { COMMAND } from './blocks/ids.js';

/** Marks on one request's clock; listeners call them after `ack()` and after answering. */
export interface RequestClock {
  /** The request's `ack()` has resolved; only the first call is observed. */
  acked(): void;
  /** The answer was sent (and Slack took it); only the first call is observed. */
  answered(): void;
}

const CLOCK = 'vpnConnsClock';

/** The clock of a request that is not timed (no metrics, or not the bot's command or button). */
const UNTIMED: RequestClock = { acked() {}, answered() {} };

/** The clock of this request; one that records nothing when the request is not timed. */
export function clockOf(context: Context): RequestClock {
  return (context[CLOCK] as RequestClock | undefined) ?? UNTIMED;
}

/** The bot's command is a `command`, a click on one of its buttons (`vpn_conns_…`) a `click`. */
function kindOf(args: AnyMiddlewareArgs): RequestKind | null {
  if ('command' in args) return args.command.command === COMMAND ? 'command' : null;
  if ('action' in args && args.body.type === 'block_actions') {
    const actionId = 'action_id' in args.action ? args.action.action_id : '';
    return actionId.startsWith('vpn_conns_') ? 'click' : null;
  }
  return null;
}

/** A clock started now, observing into `metrics` as its marks come. */
function startClock(
  kind: RequestKind,
  metrics: Pick<AppMetrics, 'recordTimings'>,
  now: () => number,
): RequestClock {
  const start = now();
  let acked = false;
  let answered = false;
  const since = () => (now() - start) / 1000;
  return {
    acked() {
      if (acked) return;
      acked = true;
      metrics.recordTimings(kind, { ackSeconds: since() });
    },
    answered() {
      if (answered) return;
      answered = true;
      metrics.recordTimings(kind, { answerSeconds: since() });
    },
  };
}

export interface RequestTimingOptions {
  readonly metrics: Pick<AppMetrics, 'recordTimings'>;
  /** Milliseconds on a monotonic clock; default `performance.now`. */
  readonly now?: () => number;
}

/**
 * The global middleware that starts each command's and click's clock. Register it first
 * (`app.use`, before the access middleware), so the clock starts as early as our code can.
 */
export function createRequestTimingMiddleware(
  options: RequestTimingOptions,
): Middleware<AnyMiddlewareArgs> {
  const now = options.now ?? (() => performance.now());
  return async (args) => {
    const kind = kindOf(args);
    if (kind !== null) args.context[CLOCK] = startClock(kind, options.metrics, now);
    await args.next();
  };
}
