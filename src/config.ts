/**
 * Configuration: one zod schema over the environment, parsed once at start-up.
 * `loadConfig(env)` is the only reader of `process.env` in the product (the
 * AWS SDK still reads its own credential chain and `AWS_ENDPOINT_URL_EC2`).
 */
import { z } from 'zod';
import { ConfigError } from './errors.js';
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
);

export interface Config {
  readonly aws: AwsConfig;
  /** `null` when `SLACK_BOT_TOKEN` is unset (the CLI needs no Slack). */
  readonly slack: SlackConfig | null;
  readonly logLevel: LogLevel;
}

const REGION = /^[a-z]{2}(-[a-z]+)+-\d{1,2}$/;

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

const integer = (name: string, min: number, max: number, fallback: number) =>
  z
    .string()
    .optional()
    .transform((value, ctx) => {
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
          message: `does not look right: a ${variable} starts with "${prefix}"`,
        });
      } else if (/\s/.test(value) || value.length < 8) {
        ctx.addIssue({
          code: 'custom',
          message: `does not look right (too short or contains spaces)`,
        });
      }
    });

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
  SLACK_BOT_TOKEN: secret('bot token', 'xoxb-'),
  SLACK_SIGNING_SECRET: secret('signing secret', null),
  SLACK_APP_TOKEN: secret('app-level token', 'xapp-'),
  SLACK_API_URL: z
    .url({ error: 'is not a URL such as https://slack.com/api/' })
    .optional()
    .transform((url) => (url === undefined || url.endsWith('/') ? url : `${url}/`)),
  PORT: integer('port', 0, 65535, 3000),
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
});

/** One line per problem, each naming the variable: `VPN_ENDPOINTS: …`. */
function problemsOf(error: z.ZodError): string[] {
  return error.issues.map((issue) => {
    const variable = issue.path.map(String).join('.') || '(environment)';
    return `${variable}: ${issue.message}`;
  });
}

/**
 * Parses and checks the environment once. Never echoes a secret.
 *
 * @throws ConfigError with one line per problem.
 */
export function loadConfig(env: Readonly<Record<string, string | undefined>>): Config {
  // Treat empty strings as unset, as most shells and dotenv files intend.
  const source: Record<string, string | undefined> = {};
  for (const [key, value] of Object.entries(env)) {
    if (value !== undefined && value.trim() !== '') source[key] = value;
  }
  source.AWS_REGION ??= source.AWS_DEFAULT_REGION;

  const parsed = envSchema.safeParse(source);
  if (!parsed.success) throw new ConfigError(problemsOf(parsed.error));
  const value = parsed.data;
  let slack: SlackConfig | null = null;
  if (value.SLACK_BOT_TOKEN !== undefined) {
    const common = {
      botToken: value.SLACK_BOT_TOKEN,
      apiUrl: value.SLACK_API_URL,
      userMap: value.VPN_USER_MAP,
    };
    if (value.SLACK_APP_TOKEN !== undefined) {
      slack = { ...common, mode: 'socket', appToken: value.SLACK_APP_TOKEN, port: value.PORT };
    } else if (value.SLACK_SIGNING_SECRET !== undefined) {
      slack = {
        ...common,
        mode: 'http',
        signingSecret: value.SLACK_SIGNING_SECRET,
        port: value.PORT,
      };
    } else {
      throw new ConfigError([
        'SLACK_SIGNING_SECRET: is required for HTTP mode (or set SLACK_APP_TOKEN=xapp-… for Socket Mode)',
      ]);
    }
  }
  return {
    aws: {
      region: value.AWS_REGION,
      endpoints:
        value.VPN_ENDPOINTS?.map((e) => ({ ...e, region: e.region ?? value.AWS_REGION })) ?? null,
      requestTimeoutMs: value.AWS_REQUEST_TIMEOUT_SECONDS * 1000,
      maxAttempts: value.AWS_MAX_ATTEMPTS,
      concurrency: value.VPN_CONCURRENCY,
    },
    slack,
    logLevel: value.LOG_LEVEL,
  };
}
