/**
 * Prometheus metrics (`prom-client`): one registry per app, never the library's global one, so
 * two apps in one process (tests, the demo) do not share counters. Callers record through small
 * typed functions and never see a label name; every label value is checked against a narrow
 * pattern and a cap on distinct values, so nothing a person types (a user name, a query) can
 * become a label and no label can grow without bound.
 */
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import { CONNECTION_STATUSES, type Connection, type ConnectionStatus } from '../vpn/connection.js';
import { COMMAND_WORDS } from '../vpn/query.js';

/** How a command or a click ended. */
export type Outcome = 'ok' | 'usage_error' | 'refused' | 'aws_error' | 'error';

/** Connection counts of one endpoint at one poll; absent statuses count 0. */
export type StatusCounts = Partial<Record<ConnectionStatus | 'unknown', number>>;

/** What the bot was asked through: its slash command or one of its buttons. */
export type RequestKind = 'command' | 'click';

/**
 * Ack and answer times of one command or click, in seconds; what "receipt" is exactly is said
 * in `src/slack/request-timing.ts`, which measures them.
 */
export interface Timings {
  /** From receipt to `ack()` resolving: Slack gives up after 3 s. */
  readonly ackSeconds?: number;
  /** From receipt to the answer being sent (the reply that answers, or the error reply). */
  readonly answerSeconds?: number;
}

/** The recording side of the metrics; see {@link createMetrics}. */
export interface AppMetrics {
  /** The registry: serve `registry.metrics()` with `registry.contentType`. */
  readonly registry: Registry;
  /** The scrape body and its content type, for `/metrics`. */
  scrape(): Promise<{ readonly contentType: string; readonly body: string }>;
  /** A successful poll of one endpoint: its connections by status, and when. */
  recordPoll(endpoint: string, counts: StatusCounts, at: Date): void;
  /** A poll of one endpoint that failed (its gauges keep their last values). */
  recordPollFailure(endpoint: string): void;
  /** How long one collector poll of every endpoint took. */
  recordPollDuration(seconds: number): void;
  /**
   * A slash command: the label is its first word (`user`, `digest`, …; a query is `list`).
   * `timings`, when the caller knows them with the outcome; the app records them apart, as
   * they happen, with {@link AppMetrics.recordTimings}.
   */
  recordCommand(text: string, outcome: Outcome, timings?: Timings): void;
  /** A button click, by action id; `timings` as for {@link AppMetrics.recordCommand}. */
  recordClick(actionId: string, outcome: Outcome, timings?: Timings): void;
  /**
   * The ack and/or answer time of a command or click, without counting it again (its outcome
   * is counted once, by `recordCommand` / `recordClick`): the ack is known before the outcome,
   * the answer after it.
   */
  recordTimings(kind: RequestKind, timings: Timings): void;
  /** One AWS call (`DescribeClientVpnConnections`), with the error code or kind if it failed. */
  recordAwsCall(operation: string, error?: string): void;
  /**
   * One Slack Web API request (`chat.postMessage`), with Slack's error (`not_in_channel`,
   * `ratelimited`) or the network error's kind (`ECONNREFUSED`, `timeout`) if it failed.
   */
  recordSlackCall(method: string, error?: string): void;
  /** A digest post (or a refused one), by digest name. */
  recordDigestPost(digest: string, outcome: 'ok' | 'error'): void;
  /** An alert posted (`fire`) or edited as cleared (`clear`), by rule name. */
  recordAlertPost(rule: string, kind: 'fire' | 'clear', outcome: 'ok' | 'error'): void;
  /** Sessions recorded for a digest and not yet posted. */
  setPendingDigestSessions(digest: string, sessions: number): void;
  /** Alerts of a rule firing now. */
  setFiringAlerts(rule: string, alerts: number): void;
}

export interface MetricsOptions {
  /** Also export the process and Node.js metrics (`process_cpu_seconds_total`, …); default true. */
  readonly defaultMetrics?: boolean;
}

/** Label values a metric takes when the given one does not pass its check. */
export const OTHER = 'other';
/** The error label of a call that succeeded. */
export const NO_ERROR = 'none';
/** Distinct values one label may take before the rest are counted as `other`. */
export const MAX_LABEL_VALUES = 64;

const ENDPOINT = /^[a-z0-9][a-z0-9._-]{0,63}$/;
const NAME = /^[a-z0-9][a-z0-9_-]{0,63}$/i;
const ACTION = /^vpn_conns_[a-z0-9_]{1,48}$/;
const AWS_OPERATION = /^[A-Z][A-Za-z0-9]{1,63}$/;
/** Slack Web API method families: `alice.martin` is not a method, `chat.postMessage` is. */
const SLACK_METHOD =
  /^(?:admin|api|apps|auth|bots|chat|conversations|dnd|emoji|files|pins|reactions|reminders|search|team|usergroups|users|views|workflows)(?:\.[a-zA-Z]+){1,3}$/;
const ERROR_CODE = /^[A-Za-z][A-Za-z0-9_.-]{0,63}$/;
const COMMANDS: ReadonlySet<string> = new Set([...COMMAND_WORDS, 'alerts']);
const OUTCOMES: ReadonlySet<string> = new Set([
  'ok',
  'usage_error',
  'refused',
  'aws_error',
  'error',
]);
const STATUS_LABELS = [...CONNECTION_STATUSES, 'unknown'] as const;

/** Checks label values: a narrow pattern, and at most MAX_LABEL_VALUES distinct values per label. */
class LabelGuard {
  private readonly seen = new Map<string, Set<string>>();

  value(label: string, value: string, pattern: RegExp): string {
    if (!pattern.test(value)) return OTHER;
    let values = this.seen.get(label);
    if (!values) {
      values = new Set();
      this.seen.set(label, values);
    }
    if (values.has(value)) return value;
    if (values.size >= MAX_LABEL_VALUES) return OTHER;
    values.add(value);
    return value;
  }

  error(label: string, error: string | undefined): string {
    return error === undefined ? NO_ERROR : this.value(label, error, ERROR_CODE);
  }
}

/** The counts {@link AppMetrics.recordPoll} takes, from one poll's connections of an endpoint. */
export function statusCounts(connections: readonly Connection[]): StatusCounts {
  const counts: Record<ConnectionStatus | 'unknown', number> = {
    active: 0,
    'failed-to-terminate': 0,
    terminating: 0,
    terminated: 0,
    unknown: 0,
  };
  for (const c of connections) counts[c.status ?? 'unknown'] += 1;
  return counts;
}

/** The first word of a command's text when it is a command word; any other text is a query. */
function commandLabel(text: string): string {
  const word = text.trim().split(/\s+/, 1)[0]?.toLowerCase() ?? '';
  return COMMANDS.has(word) ? word : 'list';
}

function outcomeLabel(outcome: string): string {
  return OUTCOMES.has(outcome) ? outcome : OTHER;
}

/** A finite, non-negative number, or `null` (a clock going backwards records nothing). */
function seconds(value: number | undefined): number | null {
  return value !== undefined && Number.isFinite(value) && value >= 0 ? value : null;
}

/**
 * Builds a fresh registry with the bot's metrics, and the functions that record them. Long
 * because it is the list of metrics: each is declared once, here, with its help text.
 */
export function createMetrics(options: MetricsOptions = {}): AppMetrics {
  const registry = new Registry();
  const registers = [registry];
  if (options.defaultMetrics ?? true) collectDefaultMetrics({ register: registry });
  const labels = new LabelGuard();

  const connections = new Gauge({
    name: 'vpn_conns_connections',
    help: 'Connections AWS lists for the endpoint at the last successful poll, by status (terminated: ended in the last hour).',
    labelNames: ['endpoint', 'status'] as const,
    registers,
  });
  const lastPoll = new Gauge({
    name: 'vpn_conns_last_poll_success_timestamp_seconds',
    help: 'Unix time of the last successful poll of the endpoint.',
    labelNames: ['endpoint'] as const,
    registers,
  });
  const polls = new Counter({
    name: 'vpn_conns_polls_total',
    help: 'Polls of an endpoint by the collector, by outcome.',
    labelNames: ['endpoint', 'outcome'] as const,
    registers,
  });
  const pollDuration = new Histogram({
    name: 'vpn_conns_collector_poll_duration_seconds',
    help: 'Time one collector poll of every endpoint took.',
    buckets: [0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 120],
    registers,
  });
  const commands = new Counter({
    name: 'vpn_conns_commands_total',
    help: 'Slash commands handled, by command word and outcome.',
    labelNames: ['command', 'outcome'] as const,
    registers,
  });
  const clicks = new Counter({
    name: 'vpn_conns_clicks_total',
    help: 'Button clicks handled, by action and outcome.',
    labelNames: ['action', 'outcome'] as const,
    registers,
  });
  const ack = new Histogram({
    name: 'vpn_conns_ack_latency_seconds',
    help: 'Time from a command or click reaching the app (its first middleware) to its ack going out (Slack gives up after 3 s).',
    labelNames: ['kind'] as const,
    buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2, 3, 5],
    registers,
  });
  const answer = new Histogram({
    name: 'vpn_conns_answer_seconds',
    help: 'Time from a command or click reaching the app (its first middleware) to its answer being sent.',
    labelNames: ['kind'] as const,
    buckets: [0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60],
    registers,
  });
  const awsCalls = new Counter({
    name: 'vpn_conns_aws_calls_total',
    help: 'AWS API calls, by operation and error ("none" when it succeeded).',
    labelNames: ['operation', 'error'] as const,
    registers,
  });
  const slackCalls = new Counter({
    name: 'vpn_conns_slack_api_calls_total',
    help: 'Slack Web API requests, by method and error ("none" when it succeeded); a retried call counts each attempt.',
    labelNames: ['method', 'error'] as const,
    registers,
  });
  const digestPosts = new Counter({
    name: 'vpn_conns_digest_posts_total',
    help: 'Digest posts, by digest and outcome.',
    labelNames: ['digest', 'outcome'] as const,
    registers,
  });
  const alertPosts = new Counter({
    name: 'vpn_conns_alert_posts_total',
    help: 'Alert messages posted (fire) or edited as cleared (clear), by rule and outcome.',
    labelNames: ['rule', 'kind', 'outcome'] as const,
    registers,
  });
  const pending = new Gauge({
    name: 'vpn_conns_digest_pending_sessions',
    help: 'Ended sessions recorded for a digest and not yet posted.',
    labelNames: ['digest'] as const,
    registers,
  });
  const firing = new Gauge({
    name: 'vpn_conns_alerts_firing',
    help: 'Alerts of a rule whose condition holds now.',
    labelNames: ['rule'] as const,
    registers,
  });

  const timings = (kind: RequestKind, t: Timings | undefined) => {
    const a = seconds(t?.ackSeconds);
    const b = seconds(t?.answerSeconds);
    if (a !== null) ack.observe({ kind }, a);
    if (b !== null) answer.observe({ kind }, b);
  };
  const endpointLabel = (endpoint: string) => labels.value('endpoint', endpoint, ENDPOINT);
  const count = (n: number | undefined) =>
    n !== undefined && Number.isFinite(n) && n >= 0 ? n : 0;

  return {
    registry,
    async scrape() {
      return { contentType: registry.contentType, body: await registry.metrics() };
    },
    recordPoll(endpoint, counts, at) {
      const e = endpointLabel(endpoint);
      for (const status of STATUS_LABELS)
        connections.set({ endpoint: e, status }, count(counts[status]));
      lastPoll.set({ endpoint: e }, at.getTime() / 1000);
      polls.inc({ endpoint: e, outcome: 'ok' });
    },
    recordPollFailure(endpoint) {
      polls.inc({ endpoint: endpointLabel(endpoint), outcome: 'error' });
    },
    recordPollDuration(value) {
      const s = seconds(value);
      if (s !== null) pollDuration.observe(s);
    },
    recordCommand(text, outcome, t) {
      commands.inc({ command: commandLabel(text), outcome: outcomeLabel(outcome) });
      timings('command', t);
    },
    recordClick(actionId, outcome, t) {
      clicks.inc({
        action: labels.value('action', actionId, ACTION),
        outcome: outcomeLabel(outcome),
      });
      timings('click', t);
    },
    recordTimings(kind, t) {
      timings(kind, t);
    },
    recordAwsCall(operation, error) {
      awsCalls.inc({
        operation: labels.value('operation', operation, AWS_OPERATION),
        error: labels.error('aws_error', error),
      });
    },
    recordSlackCall(method, error) {
      slackCalls.inc({
        method: labels.value('method', method, SLACK_METHOD),
        error: labels.error('slack_error', error),
      });
    },
    recordDigestPost(digest, outcome) {
      digestPosts.inc({ digest: labels.value('digest', digest, NAME), outcome });
    },
    recordAlertPost(rule, kind, outcome) {
      alertPosts.inc({ rule: labels.value('rule', rule, NAME), kind, outcome });
    },
    setPendingDigestSessions(digest, sessions) {
      pending.set({ digest: labels.value('digest', digest, NAME) }, count(sessions));
    },
    setFiringAlerts(rule, alerts) {
      firing.set({ rule: labels.value('rule', rule, NAME) }, count(alerts));
    },
  };
}
