/**
 * Configuration: one zod schema over the environment, parsed once at start-up.
 * `loadConfig(env)` is the only reader of `process.env` in the product (the
 * AWS SDK still reads its own credential chain and `AWS_ENDPOINT_URL_EC2`).
 */
import { readFileSync } from 'node:fs';
import { validate as isCronExpression } from 'node-cron';
import { isMap, isSeq, LineCounter, parseDocument } from 'yaml';
import { z } from 'zod';
import {
  type AlertRule,
  alertRulesSchema,
  checkAlertRules,
  maxConnectionsSchema,
} from './alerts/rules.js';
import { ConfigError } from './errors.js';
import { REPORT_PERIODS, type ReportPeriodWord } from './reports/period.js';
import { channelIdSchema } from './slack/channel-id.js';
import { ENDPOINT_ID, type Endpoint } from './vpn/endpoint.js';
import { ALIAS, RESERVED_WORDS } from './vpn/query.js';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

export interface AwsConfig {
  readonly region: string;
  /** `null` = discover with DescribeClientVpnEndpoints in `region`. */
  readonly endpoints: readonly Endpoint[] | null;
  /** Per-request timeout; a stuck socket fails after this long. */
  readonly requestTimeoutMs: number;
  /** SDK attempts per call, first try included. */
  readonly maxAttempts: number;
  /** Endpoints read at the same time. */
  readonly concurrency: number;
}

export type SlackConfig = {
  readonly botToken: string;
  /** Web API base URL override (tests, egress proxies); ends with `/api/`. */
  readonly apiUrl: string | undefined;
  /** Slack user ID → VPN user name, for `user me` / `user @someone` when the email does not match. */
  readonly userMap: ReadonlyMap<string, string>;
} & (
  | { readonly mode: 'http'; readonly signingSecret: string; readonly port: number }
  | { readonly mode: 'socket'; readonly appToken: string; readonly port: number }
  /** A `worker` process only posts digests: it listens to nothing. */
  | { readonly mode: 'none'; readonly port: number }
);

/** One channel digest of ended sessions. */
export interface DigestConfig {
  /** Identifies the digest in the state store: renaming it starts it afresh. */
  readonly name: string;
  /** Channel ID (`C…`/`G…`). */
  readonly channel: string;
  readonly cron: string;
  /** IANA time zone of the schedule and of the times in the message. */
  readonly timezone: string;
  /** Endpoint aliases, or every endpoint. */
  readonly endpoints: 'all' | readonly string[];
  /** Post a "nothing ended" digest, or stay quiet. */
  readonly empty: 'skip' | 'post';
}

/** Slack IDs: people (`U…`/`W…`), user groups (`S…`), channels (`C…`/`G…`). */
export interface IdList {
  readonly users: readonly string[];
  readonly groups: readonly string[];
  readonly channels: readonly string[];
}

export interface AccessConfig {
  /** Who may use the bot at all: `*` for everyone, or these people, groups and channels. */
  readonly allowed: '*' | IdList;
  /** Who may terminate sessions and read the audit trail (people and groups; never channels). */
  readonly admins: IdList;
}

/** Which parts of the bot this process runs. */
export type Role = 'all' | 'web' | 'worker';

export interface Config {
  readonly aws: AwsConfig;
  readonly access: AccessConfig;
  /** `null` when `SLACK_BOT_TOKEN` is unset (the CLI needs no Slack). */
  readonly slack: SlackConfig | null;
  readonly digests: readonly DigestConfig[];
  /** How often the collector polls for ended sessions. */
  readonly pollSeconds: number;
  /** `sqlite:PATH` or `postgres://…`. */
  readonly databaseUrl: string;
  readonly role: Role;
  readonly logLevel: LogLevel;
  readonly history: HistoryConfig;
  readonly pricing: PricingConfig;
  /** Usage reports posted on a schedule (`reports:` in the YAML file). */
  readonly reports: readonly ReportConfig[];
  /** Alert rules checked at every collector poll (`alerts:` in the YAML file). */
  readonly alerts: AlertsConfig;
  /**
   * `METRICS_PORT`: `/metrics` and `/readyz` on their own port (Socket Mode, the worker role);
   * `null` = off. HTTP mode serves them on `PORT` anyway.
   */
  readonly metricsPort: number | null;
}

/** Alert rules and the endpoints' connection limits they compare with. */
export interface AlertsConfig {
  readonly rules: readonly AlertRule[];
  /** `maxConnections` of the YAML file's endpoints, by alias; others have {@link DEFAULT_MAX_CONNECTIONS}. */
  readonly maxConnections: Readonly<Record<string, number>>;
}

/** Session history: how often the collector polls for it, how long it is kept. */
export interface HistoryConfig {
  /** `HISTORY_POLL_SECONDS`, default the digest poll interval. */
  readonly pollSeconds: number;
  /** `HISTORY_DAYS`, default 90. */
  readonly days: number;
  /**
   * Where history and report dates without an offset are read, and calendar
   * periods fall: the first digest's time zone (`DIGEST_TIMEZONE`), else UTC.
   */
  readonly timeZone: string;
}

/** Prices of a connection-hour, for reports (USD). */
export interface PricingConfig {
  readonly currency: 'USD';
  /** `VPN_CONNECTION_HOUR_PRICE`, default 0.05 (the us-east-1 list price). */
  readonly perConnectionHour: number;
  /** `connectionHourPrice` of the YAML file's endpoints, by alias. */
  readonly byEndpoint: Readonly<Record<string, number>>;
}

/** The us-east-1 list price of a Client VPN connection-hour, USD. */
export const DEFAULT_CONNECTION_HOUR_PRICE = 0.05;

export const DEFAULT_DATABASE_URL = 'sqlite:./data/vpn-conns.db';
export const DEFAULT_DIGEST_CRON = '0 * * * *';

function isTimeZone(value: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: value });
    return true;
  } catch {
    return false;
  }
}

/** The shape of one digest, shared by the `DIGEST_*` variables and the YAML file. */
const digestSchema = z
  .object({
    name: z
      .string({ error: 'is required (a short name such as security)' })
      .regex(/^[a-z0-9][a-z0-9_-]{0,63}$/i, { error: 'must be letters, digits, "_" or "-"' }),
    channel: channelIdSchema,
    cron: z
      .string()
      .trim()
      .default(DEFAULT_DIGEST_CRON)
      .refine(isCronExpression, { error: 'is not a cron expression such as "0 * * * *"' }),
    timezone: z
      .string()
      .trim()
      .default('UTC')
      .refine(isTimeZone, { error: 'is not an IANA time zone such as Europe/Berlin' }),
    endpoints: z
      .union([
        z.literal('all'),
        z.array(z.string().trim().toLowerCase()).min(1, { error: 'lists no endpoint (use "all")' }),
      ])
      .default('all'),
    empty: z.enum(['skip', 'post'], { error: 'must be skip or post' }).default('skip'),
  })
  .strict();

/** One scheduled usage report in the YAML file's `reports:`. */
const reportSchema = z
  .object({
    name: z
      .string({ error: 'is required (a short name such as weekly)' })
      .regex(/^[a-z0-9][a-z0-9_-]{0,63}$/i, { error: 'must be letters, digits, "_" or "-"' }),
    channel: digestSchema.shape.channel,
    cron: z
      .string({ error: 'is required (a cron expression such as "0 9 * * 1")' })
      .trim()
      .refine(isCronExpression, { error: 'is not a cron expression such as "0 9 * * 1"' }),
    period: z
      .enum(REPORT_PERIODS, { error: `must be one of ${REPORT_PERIODS.join(', ')}` })
      .default('last-7d'),
    timezone: digestSchema.shape.timezone,
    endpoints: digestSchema.shape.endpoints,
  })
  .strict();

/** A usage report posted on a schedule (the YAML file's `reports:`). */
export interface ReportConfig {
  readonly name: string;
  readonly channel: string;
  readonly cron: string;
  /** The period each post covers, ending at the scheduled time (`last-7d`: the 7 whole days before). */
  readonly period: ReportPeriodWord;
  readonly timezone: string;
  readonly endpoints: 'all' | readonly string[];
}

const ROLE = z.enum(['all', 'web', 'worker'], { error: 'must be all, web or worker' });

/** The YAML file named by `VPN_CONNS_CONFIG`: several digests, validated like the variables. */
const REGION = /^[a-z]{2}(-[a-z]+)+-\d{1,2}$/;
const ROLE_ARN = /^arn:aws[a-z-]*:iam::\d{12}:role\/[\w+=,.@/-]{1,512}$/;

/** An endpoint in the YAML file: like `VPN_ENDPOINTS`, plus an IAM role to assume for it. */
const fileEndpointSchema = z
  .object({
    alias: z
      .string()
      .trim()
      .toLowerCase()
      .refine((a) => ALIAS.test(a) && !RESERVED_WORDS.has(a), {
        error: `must be letters, digits, ".", "_" or "-" and not a command word`,
      }),
    id: z
      .string()
      .trim()
      .toLowerCase()
      .regex(ENDPOINT_ID, { error: 'is not a cvpn-endpoint-… id' }),
    region: z
      .string()
      .trim()
      .regex(REGION, { error: 'is not an AWS region such as eu-west-1' })
      .optional(),
    roleArn: z
      .string()
      .trim()
      .regex(ROLE_ARN, {
        error: 'is not an IAM role ARN such as arn:aws:iam::123456789012:role/vpn-conns',
      })
      .optional(),
    connectionHourPrice: z
      .number({ error: 'is not a price such as 0.05 (USD per connection-hour)' })
      .min(0, { error: 'must not be negative' })
      .optional(),
    /** The endpoint's connection limit, for `endpointUsagePercent` alert rules. */
    maxConnections: maxConnectionsSchema.optional(),
  })
  .strict();

const fileSchema = z
  .object({
    pollSeconds: z.number().int().min(10, { error: 'must be at least 10' }).optional(),
    digests: z.array(digestSchema).optional(),
    reports: z.array(reportSchema).optional(),
    alerts: alertRulesSchema.optional(),
    endpoints: z.array(fileEndpointSchema).min(1, { error: 'lists no endpoint' }).optional(),
  })
  .strict();

interface ConfiguredEndpoint {
  alias: string;
  id: string;
  /** Absent: the endpoint is in `AWS_REGION`. */
  region?: string;
}

/** `alias=cvpn-endpoint-…[@region]`, comma-separated; the first is the default. */
function parseEndpointList(value: string, ctx: z.RefinementCtx): ConfiguredEndpoint[] {
  const endpoints: ConfiguredEndpoint[] = [];
  const entries = value
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  if (entries.length === 0) {
    ctx.addIssue({ code: 'custom', message: 'is empty: expected alias=cvpn-endpoint-…[@region]' });
    return endpoints;
  }
  for (const entry of entries) {
    const match = /^([^=]+)=([^@]+)(?:@(.+))?$/.exec(entry);
    const alias = match?.[1]?.trim().toLowerCase();
    const id = match?.[2]?.trim().toLowerCase();
    const region = match?.[3]?.trim();
    if (!match || alias === undefined || id === undefined) {
      ctx.addIssue({
        code: 'custom',
        message: `"${entry}" should look like alias=cvpn-endpoint-0123456789abcdef0 (optionally @region)`,
      });
      continue;
    }
    if (!ALIAS.test(alias) || RESERVED_WORDS.has(alias)) {
      ctx.addIssue({
        code: 'custom',
        message: `alias "${alias}" must be letters, digits, ".", "_" or "-" and not one of ${[...RESERVED_WORDS].join(', ')}`,
      });
    } else if (!ENDPOINT_ID.test(id)) {
      ctx.addIssue({
        code: 'custom',
        message: `"${id}" (for ${alias}) is not a cvpn-endpoint-… id`,
      });
    } else if (region !== undefined && !REGION.test(region)) {
      ctx.addIssue({
        code: 'custom',
        message: `region "${region}" (for ${alias}) is not an AWS region such as eu-west-1`,
      });
    } else if (endpoints.some((e) => e.alias === alias)) {
      ctx.addIssue({ code: 'custom', message: `alias "${alias}" appears twice` });
    } else {
      endpoints.push(region === undefined ? { alias, id } : { alias, id, region });
    }
  }
  return endpoints;
}

const DATABASE_EXPECTED = 'expected sqlite:PATH or postgres://user:password@host:5432/db';

/**
 * What is wrong with a `DATABASE_URL`, or `null`. Names at most the scheme,
 * never the URL, which may hold a password.
 */
function databaseUrlProblem(url: string): string | null {
  if (/^sqlite:/i.test(url)) {
    const path = url.slice('sqlite:'.length);
    return path === '' || path.startsWith('//')
      ? `sqlite: takes a file path (sqlite:./data/vpn-conns.db, sqlite:/abs/path.db or sqlite::memory:)`
      : null;
  }
  if (/^postgres(ql)?:\/\//i.test(url)) {
    try {
      return new URL(url).hostname === '' ? `names no host; ${DATABASE_EXPECTED}` : null;
    } catch {
      return `is not a valid postgres:// URL; ${DATABASE_EXPECTED}`;
    }
  }
  // Only a URL-shaped scheme is named: in `user:secret@host` the text before ':' is not one.
  const scheme = /^([a-z][a-z0-9+.-]{0,19}):\/\//i.exec(url)?.[1];
  return `${scheme === undefined ? 'is not a URL' : `has the unsupported scheme ${scheme}:`}; ${DATABASE_EXPECTED}`;
}

const integer = <F extends number | undefined>(
  name: string,
  min: number,
  max: number,
  fallback: F,
) =>
  z
    .string()
    .optional()
    .transform((value, ctx): number | F => {
      if (value === undefined || value.trim() === '') return fallback;
      const n = Number(value);
      if (!Number.isInteger(n) || n < min || n > max) {
        ctx.addIssue({
          code: 'custom',
          message: `"${value}" is not a whole number from ${min} to ${max} (${name})`,
        });
        return fallback;
      }
      return n;
    });

const secret = (variable: string, prefix: string | null) =>
  z
    .string()
    .trim()
    .optional()
    .superRefine((value, ctx) => {
      if (value === undefined) return;
      // Never put the value itself in the message: it is a secret.
      if (prefix !== null && !value.startsWith(prefix)) {
        ctx.addIssue({
          code: 'custom',
          message: `does not look right: ${variable} starts with "${prefix}"`,
        });
      } else if (/\s/.test(value) || value.length < 8) {
        ctx.addIssue({
          code: 'custom',
          message: `does not look right (too short or contains spaces)`,
        });
      }
    });

/**
 * A comma-separated list of Slack IDs. Names are refused on purpose: anyone
 * can rename themselves, only IDs come signed from Slack.
 */
function parseIdList(value: string, ctx: z.RefinementCtx, allowChannels: boolean): IdList {
  const users: string[] = [];
  const groups: string[] = [];
  const channels: string[] = [];
  for (const id of value
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '')) {
    if (/^[UW][A-Z0-9]{2,}$/.test(id)) users.push(id);
    else if (/^S[A-Z0-9]{2,}$/.test(id)) groups.push(id);
    else if (allowChannels && /^[CG][A-Z0-9]{2,}$/.test(id)) channels.push(id);
    else {
      ctx.addIssue({
        code: 'custom',
        message: `"${id}" is not a Slack ${allowChannels ? 'user, user group or channel' : 'user or user group'} ID (U…, W…, S…${allowChannels ? ', C…, G…' : ''}); names are not accepted`,
      });
    }
  }
  return { users, groups, channels };
}

function parseUserMap(value: string, ctx: z.RefinementCtx): Map<string, string> {
  const map = new Map<string, string>();
  for (const entry of value
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '')) {
    const match = /^([UW][A-Z0-9]{2,})=(.+)$/.exec(entry);
    if (!match?.[1] || !match[2]) {
      ctx.addIssue({
        code: 'custom',
        message: `"${entry}" should look like U012ABCDEF=alice (a Slack user ID, "=", the VPN user name)`,
      });
    } else {
      map.set(match[1], match[2].trim());
    }
  }
  return map;
}

const envSchema = z.object({
  SLACK_BOT_TOKEN: secret('a bot token', 'xoxb-'),
  SLACK_SIGNING_SECRET: secret('a signing secret', null),
  SLACK_APP_TOKEN: secret('an app-level token', 'xapp-'),
  SLACK_API_URL: z
    .url({ error: 'is not a URL such as https://slack.com/api/' })
    .optional()
    .transform((url) => (url === undefined || url.endsWith('/') ? url : `${url}/`)),
  PORT: integer('port', 0, 65535, 3000),
  METRICS_PORT: integer('port', 1, 65535, undefined),
  VPN_USER_MAP: z
    .string()
    .optional()
    .transform((value, ctx) =>
      value === undefined ? new Map<string, string>() : parseUserMap(value, ctx),
    ),
  AWS_REGION: z
    .string({ error: 'is required (the AWS region of your endpoints, e.g. eu-west-1)' })
    .trim()
    .regex(REGION, { error: 'is not an AWS region such as eu-west-1' }),
  VPN_ENDPOINTS: z
    .string()
    .optional()
    .transform((value, ctx) => (value === undefined ? null : parseEndpointList(value, ctx))),
  AWS_REQUEST_TIMEOUT_SECONDS: integer('seconds', 1, 120, 10),
  AWS_MAX_ATTEMPTS: integer('attempts', 1, 10, 3),
  VPN_CONCURRENCY: integer('endpoints at once', 1, 20, 4),
  LOG_LEVEL: z
    .enum(['debug', 'info', 'warn', 'error'], { error: 'must be debug, info, warn or error' })
    .optional()
    .default('info'),
  DATABASE_URL: z
    .string()
    .trim()
    .optional()
    .default(DEFAULT_DATABASE_URL)
    .superRefine((value, ctx) => {
      const problem = databaseUrlProblem(value);
      if (problem !== null) ctx.addIssue({ code: 'custom', message: problem });
    }),
  VPN_CONNS_ROLE: ROLE.optional().default('all'),
  VPN_CONNS_CONFIG: z.string().optional(),
  DIGEST_POLL_SECONDS: integer('seconds', 10, 3600, 300),
  HISTORY_POLL_SECONDS: integer('seconds', 10, 3600, undefined),
  HISTORY_DAYS: integer('days', 1, 3650, 90),
  VPN_CONNECTION_HOUR_PRICE: z
    .string()
    .optional()
    .transform((value, ctx) => {
      if (value === undefined) return DEFAULT_CONNECTION_HOUR_PRICE;
      const price = Number(value);
      if (!Number.isFinite(price) || price < 0 || value.trim() === '') {
        ctx.addIssue({
          code: 'custom',
          message: `"${value}" is not a price such as 0.05 (USD per connection-hour)`,
        });
        return DEFAULT_CONNECTION_HOUR_PRICE;
      }
      return price;
    }),
  VPN_CONNS_ALLOWED: z
    .string()
    .optional()
    .transform((value, ctx): '*' | IdList =>
      value === undefined || value.trim() === '*' ? '*' : parseIdList(value, ctx, true),
    ),
  VPN_CONNS_ADMINS: z
    .string()
    .optional()
    .transform(
      (value, ctx): IdList =>
        value === undefined
          ? { users: [], groups: [], channels: [] }
          : parseIdList(value, ctx, false),
    ),
});

/** Digest variables → the digest schema's fields, for error messages. */
const DIGEST_VARIABLES = {
  channel: 'DIGEST_CHANNEL',
  cron: 'DIGEST_CRON',
  timezone: 'DIGEST_TIMEZONE',
  endpoints: 'DIGEST_ENDPOINTS',
  empty: 'DIGEST_EMPTY',
} as const;

/** The digest described by `DIGEST_*` variables, or none when `DIGEST_CHANNEL` is unset. */
function digestFromEnv(
  env: Record<string, string | undefined>,
  problems: string[],
): DigestConfig[] {
  if (env.DIGEST_CHANNEL === undefined) {
    // Still check each value: a bad cron should not wait for the day the channel is set.
    const fields = { cron: 'DIGEST_CRON', timezone: 'DIGEST_TIMEZONE', empty: 'DIGEST_EMPTY' };
    for (const [field, variable] of Object.entries(fields) as [keyof typeof fields, string][]) {
      const value = env[variable];
      if (value === undefined) continue;
      const checked = digestSchema.shape[field].safeParse(
        field === 'empty' ? value.trim().toLowerCase() : value,
      );
      const why = checked.success
        ? ''
        : `${checked.error.issues[0]?.message ?? 'is not valid'}, and `;
      problems.push(`${variable}: ${why}has no effect without DIGEST_CHANNEL`);
    }
    if (env.DIGEST_ENDPOINTS !== undefined) {
      problems.push('DIGEST_ENDPOINTS: has no effect without DIGEST_CHANNEL');
    }
    return [];
  }
  const endpoints = env.DIGEST_ENDPOINTS?.trim().toLowerCase();
  const parsed = digestSchema.safeParse({
    name: 'default',
    channel: env.DIGEST_CHANNEL,
    ...(env.DIGEST_CRON !== undefined ? { cron: env.DIGEST_CRON } : {}),
    ...(env.DIGEST_TIMEZONE !== undefined ? { timezone: env.DIGEST_TIMEZONE } : {}),
    ...(endpoints !== undefined
      ? {
          endpoints:
            endpoints === 'all'
              ? 'all'
              : endpoints
                  .split(',')
                  .map((e) => e.trim())
                  .filter((e) => e !== ''),
        }
      : {}),
    ...(env.DIGEST_EMPTY !== undefined ? { empty: env.DIGEST_EMPTY.trim().toLowerCase() } : {}),
  });
  if (parsed.success) return [parsed.data];
  for (const issue of parsed.error.issues) {
    const field = issue.path[0] as keyof typeof DIGEST_VARIABLES;
    problems.push(`${DIGEST_VARIABLES[field] ?? 'DIGEST_CHANNEL'}: ${issue.message}`);
  }
  return [];
}

/**
 * Reads the YAML file; each problem names the file, the line and the field
 * (`vpn-conns.yml:7: digests[1].timezone: is not an IANA time zone …`).
 */
function loadConfigFile(
  file: string,
  readFile: (path: string) => string,
  problems: string[],
): z.infer<typeof fileSchema> {
  let text: string;
  try {
    text = readFile(file);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'unreadable';
    problems.push(`VPN_CONNS_CONFIG: cannot read ${file} (${code})`);
    return {};
  }
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false });
  if (doc.errors.length > 0) {
    for (const error of doc.errors) {
      const line = lineCounter.linePos(error.pos[0]).line;
      problems.push(`${file}:${line}: ${error.message.split('\n')[0]}`);
    }
    return {};
  }
  const parsed = fileSchema.safeParse(doc.toJS() ?? {});
  if (parsed.success) return parsed.data;
  const located: { line: number; text: string }[] = [];
  for (const issue of parsed.error.issues) {
    // An unknown key is reported on its parent: point at the key itself.
    const path =
      issue.code === 'unrecognized_keys' && issue.keys.length === 1
        ? [...issue.path, ...issue.keys]
        : issue.path;
    // Walk back up the path until a node with a position is found.
    let line: number | undefined;
    for (let depth = path.length; depth >= 0 && line === undefined; depth--) {
      const node = doc.getIn(path.slice(0, depth) as (string | number)[], true);
      if (node && typeof node === 'object' && 'range' in node && Array.isArray(node.range)) {
        line = lineCounter.linePos(node.range[0] as number).line;
      } else if (depth === 0 && (isMap(doc.contents) || isSeq(doc.contents))) {
        line = lineCounter.linePos(doc.contents.range[0]).line;
      }
    }
    const field = path
      .map((part, i) =>
        typeof part === 'number' ? `[${part}]` : `${i === 0 ? '' : '.'}${String(part)}`,
      )
      .join('');
    located.push({
      line: line ?? 0,
      text: `${file}:${line ?? 1}: ${field || '(file)'}: ${issue.message}`,
    });
  }
  located.sort((a, b) => a.line - b.line);
  for (const { text } of located) problems.push(text);
  return {};
}

/** One line per problem, each naming the variable: `VPN_ENDPOINTS: …`. */
function problemsOf(error: z.ZodError): string[] {
  return error.issues.map((issue) => {
    const variable = issue.path.map(String).join('.') || '(environment)';
    return `${variable}: ${issue.message}`;
  });
}

/** Who reads the configuration: the bot needs Slack settings, the terminal command does not. */
export type ConfigPurpose = 'cli' | 'bot';

/** The Slack settings problems of a bot start, from the raw (non-empty) variables. */
function slackProblems(source: Record<string, string | undefined>, role: string): string[] {
  if (source.SLACK_BOT_TOKEN === undefined) {
    const also =
      role === 'worker' || source.SLACK_APP_TOKEN !== undefined
        ? ''
        : ' (with SLACK_SIGNING_SECRET, or SLACK_APP_TOKEN for Socket Mode)';
    return [
      `SLACK_BOT_TOKEN: is required to run the bot${also}: OAuth & Permissions → Bot User OAuth Token, xoxb-…; the terminal command needs no Slack settings (vpn-conns help)`,
    ];
  }
  if (
    role !== 'worker' &&
    source.SLACK_APP_TOKEN === undefined &&
    source.SLACK_SIGNING_SECRET === undefined
  ) {
    return [
      'SLACK_SIGNING_SECRET: is required for HTTP mode (Basic Information → Signing Secret), or set SLACK_APP_TOKEN=xapp-… for Socket Mode',
    ];
  }
  return [];
}

/**
 * Parses and checks the environment once, and reports every problem in one
 * go (never one per start). Never echoes a secret. With `purpose: 'bot'`,
 * missing Slack settings and a worker without a digest are problems too.
 *
 * Longer than most functions on purpose: one pass that collects every
 * problem (variables, file, cross-checks, bot-only settings) before it
 * throws, so a person fixes them all after one start, not one per start.
 *
 * @throws ConfigError with one line per problem.
 */
export function loadConfig(
  env: Readonly<Record<string, string | undefined>>,
  readFile: (path: string) => string = (path) => readFileSync(path, 'utf8'),
  purpose: ConfigPurpose = 'cli',
): Config {
  // Treat empty strings as unset, as most shells and dotenv files intend.
  const source: Record<string, string | undefined> = {};
  for (const [key, value] of Object.entries(env)) {
    if (value !== undefined && value.trim() !== '') source[key] = value;
  }
  source.AWS_REGION ??= source.AWS_DEFAULT_REGION;

  const parsed = envSchema.safeParse(source);
  const problems = parsed.success ? [] : problemsOf(parsed.error);
  const envDigests = digestFromEnv(source, problems);
  const file =
    source.VPN_CONNS_CONFIG === undefined
      ? {}
      : loadConfigFile(source.VPN_CONNS_CONFIG, readFile, problems);
  const digests = [...envDigests, ...(file.digests ?? [])];
  const names = new Set<string>();
  for (const digest of digests) {
    if (names.has(digest.name)) problems.push(`digest "${digest.name}" is defined twice`);
    names.add(digest.name);
  }
  if (source.VPN_ENDPOINTS !== undefined && file.endpoints !== undefined) {
    problems.push(
      'VPN_ENDPOINTS: endpoints are also listed in VPN_CONNS_CONFIG; keep them in one place',
    );
  }
  const reports = file.reports ?? [];
  const reportNames = new Set<string>();
  for (const report of reports) {
    if (reportNames.has(report.name)) problems.push(`report "${report.name}" is defined twice`);
    reportNames.add(report.name);
  }
  const fileAliases = new Set<string>();
  for (const endpoint of file.endpoints ?? []) {
    if (fileAliases.has(endpoint.alias))
      problems.push(`${source.VPN_CONNS_CONFIG}: endpoint alias "${endpoint.alias}" appears twice`);
    fileAliases.add(endpoint.alias);
  }
  // VPN_ENDPOINTS may be fine while other variables are not: check the digests against it anyway.
  const envEndpoints = parsed.success
    ? parsed.data.VPN_ENDPOINTS
    : source.VPN_ENDPOINTS === undefined
      ? null
      : envSchema.shape.VPN_ENDPOINTS.safeParse(source.VPN_ENDPOINTS).data;
  const configured = envEndpoints ?? file.endpoints ?? null;
  if (configured) {
    const aliases = new Set(configured.map((e) => e.alias));
    for (const [kind, list] of [
      ['digest', digests],
      ['report', reports],
    ] as const) {
      for (const item of list) {
        if (item.endpoints === 'all') continue;
        const unknown = item.endpoints.filter((a) => !aliases.has(a));
        if (unknown.length > 0) {
          problems.push(
            `${kind} "${item.name}": unknown endpoint ${unknown.join(', ')} (known: ${[...aliases].join(', ')})`,
          );
        }
      }
    }
  }
  const alertRules = file.alerts ?? [];
  problems.push(
    ...checkAlertRules(alertRules, configured ? new Set(configured.map((e) => e.alias)) : null),
  );
  const role = parsed.success ? parsed.data.VPN_CONNS_ROLE : (source.VPN_CONNS_ROLE ?? 'all');
  if (purpose === 'bot') {
    problems.push(...slackProblems(source, role));
  } else if (parsed.success && source.SLACK_BOT_TOKEN !== undefined) {
    // The terminal command ignores Slack, but a half-configured bot token is still worth a line.
    problems.push(...slackProblems(source, role));
  }
  if (!parsed.success || problems.length > 0) throw new ConfigError(problems);
  const value = parsed.data;
  return {
    access: { allowed: value.VPN_CONNS_ALLOWED, admins: value.VPN_CONNS_ADMINS },
    aws: {
      region: value.AWS_REGION,
      endpoints: configured?.map((e) => configuredEndpoint(e, value.AWS_REGION, source)) ?? null,
      requestTimeoutMs: value.AWS_REQUEST_TIMEOUT_SECONDS * 1000,
      maxAttempts: value.AWS_MAX_ATTEMPTS,
      concurrency: value.VPN_CONCURRENCY,
    },
    slack: slackConfig(value),
    digests,
    pollSeconds: file.pollSeconds ?? value.DIGEST_POLL_SECONDS,
    databaseUrl: value.DATABASE_URL,
    role: value.VPN_CONNS_ROLE,
    logLevel: value.LOG_LEVEL,
    history: {
      pollSeconds: value.HISTORY_POLL_SECONDS ?? file.pollSeconds ?? value.DIGEST_POLL_SECONDS,
      days: value.HISTORY_DAYS,
      timeZone: digests[0]?.timezone ?? 'UTC',
    },
    pricing: {
      currency: 'USD',
      perConnectionHour: value.VPN_CONNECTION_HOUR_PRICE,
      byEndpoint: Object.fromEntries(
        (file.endpoints ?? []).flatMap((e) =>
          e.connectionHourPrice === undefined ? [] : [[e.alias, e.connectionHourPrice]],
        ),
      ),
    },
    reports,
    alerts: {
      rules: alertRules,
      maxConnections: Object.fromEntries(
        (file.endpoints ?? []).flatMap((e) =>
          e.maxConnections === undefined ? [] : [[e.alias, e.maxConnections]],
        ),
      ),
    },
    metricsPort: value.METRICS_PORT ?? null,
  };
}

/** A configured endpoint in its final shape: region filled in, origin named for error messages. */
function configuredEndpoint(
  {
    alias,
    id,
    region,
    ...rest
  }: { alias: string; id: string; region?: string | undefined; roleArn?: string | undefined },
  defaultRegion: string,
  source: Record<string, string | undefined>,
): Endpoint {
  return {
    alias,
    id,
    region: region ?? defaultRegion,
    ...(rest.roleArn !== undefined ? { roleArn: rest.roleArn } : {}),
    origin:
      source.VPN_ENDPOINTS !== undefined
        ? { kind: 'VPN_ENDPOINTS' }
        : { kind: 'file', file: source.VPN_CONNS_CONFIG ?? 'VPN_CONNS_CONFIG' },
  };
}

/** The Slack settings of a checked environment; `null` without a bot token. */
function slackConfig(value: z.infer<typeof envSchema>): SlackConfig | null {
  if (value.SLACK_BOT_TOKEN === undefined) return null;
  const common = {
    botToken: value.SLACK_BOT_TOKEN,
    apiUrl: value.SLACK_API_URL,
    userMap: value.VPN_USER_MAP,
  };
  if (value.SLACK_APP_TOKEN !== undefined) {
    return { ...common, mode: 'socket', appToken: value.SLACK_APP_TOKEN, port: value.PORT };
  }
  if (value.SLACK_SIGNING_SECRET !== undefined) {
    return { ...common, mode: 'http', signingSecret: value.SLACK_SIGNING_SECRET, port: value.PORT };
  }
  return { ...common, mode: 'none', port: value.PORT };
}
