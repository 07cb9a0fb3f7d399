/**
 * One structured logger for the whole process: pino, one JSON object per
 * line on stderr, `{level, time, name, msg, ...fields}`. Fields stay JSON
 * fields (queryable), secrets are removed twice: by pino's `redact` paths
 * (keys that hold secrets) and by masking anything shaped like a Slack token
 * or an AWS access key id in every string. The call signature
 * `logger.info(message, fields?)` is the product's; Bolt's variadic logger
 * calls land here too (see `slack/app.ts`, which adapts Bolt's interface).
 */
import pino from 'pino';
import type { LogLevel } from './config.js';

export interface Logger {
  /** `fields`: an object (merged as JSON fields), an Error (`err`), or any other value (`detail`). */
  debug(message: unknown, fields?: unknown, ...more: unknown[]): void;
  info(message: unknown, fields?: unknown, ...more: unknown[]): void;
  warn(message: unknown, fields?: unknown, ...more: unknown[]): void;
  error(message: unknown, fields?: unknown, ...more: unknown[]): void;
  setLevel(level: string): void;
  getLevel(): string;
  setName(name: string): void;
  /** One structured line, at any log level: `{level: 'info', time, name, event, ...fields}` (audit trail). */
  event(event: string, fields: Record<string, unknown>): void;
}

const LEVELS: readonly LogLevel[] = ['debug', 'info', 'warn', 'error'];

// Values that look like Slack or AWS secrets are masked wherever they appear.
const SECRET_PATTERNS = [
  /xox[abposr]-[A-Za-z0-9-]+/g,
  /xapp-[A-Za-z0-9-]+/g,
  /(?<![A-Za-z0-9])(AKIA|ASIA)[A-Z0-9]{16}(?![A-Za-z0-9])/g,
];

const CENSOR = '[redacted]';

/** Keys whose values are secrets whatever they look like (pino `redact` paths, one level deep too). */
export const REDACT_KEYS = [
  'token',
  'botToken',
  'appToken',
  'signingSecret',
  'password',
  'secret',
  'secretAccessKey',
  'sessionToken',
  'authorization',
  'cookie',
];
const REDACT_PATHS = REDACT_KEYS.flatMap((key) => [key, `*.${key}`, `*.headers.${key}`]);

/** Replaces anything shaped like a Slack token or an AWS access key id with `[redacted]`. */
export function redact(text: string): string {
  return SECRET_PATTERNS.reduce((out, pattern) => out.replace(pattern, CENSOR), text);
}

/** A loggable copy of an Error: name, message, code, the causes' messages; never the raw object. */
function serializeError(error: Error, depth = 0): Record<string, unknown> {
  const out: Record<string, unknown> = { type: error.name, message: error.message };
  const { code, requestId } = error as { code?: unknown; requestId?: unknown };
  if (typeof code === 'string' || typeof code === 'number') out.code = code;
  if (typeof requestId === 'string') out.requestId = requestId;
  if (error.stack) out.stack = error.stack;
  if (error.cause instanceof Error && depth < 3) out.cause = serializeError(error.cause, depth + 1);
  return out;
}

/** Strings masked, errors serialized, at any depth (bounded: log fields are small). */
function clean(value: unknown, depth = 0): unknown {
  if (typeof value === 'string') return redact(value);
  if (value instanceof Error) return clean(serializeError(value), depth + 1);
  if (value === null || typeof value !== 'object' || depth > 6) return value;
  if (value instanceof Date) return value.toISOString();
  if (Array.isArray(value)) return value.map((item) => clean(item, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value)) out[key] = clean(item, depth + 1);
  return out;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value) as unknown;
  return proto === Object.prototype || proto === null;
}

/** `(message, fields?, ...more)` → pino's `(object, message)`. */
function toRecord(message: unknown, rest: readonly unknown[]): [Record<string, unknown>, string] {
  const fields: Record<string, unknown> = {};
  let text = typeof message === 'string' ? message : '';
  if (typeof message !== 'string') {
    if (message instanceof Error) fields.err = message;
    else if (isPlainObject(message)) Object.assign(fields, message);
    else if (message !== undefined) text = String(message);
  }
  const extra: unknown[] = [];
  for (const part of rest) {
    if (part instanceof Error && fields.err === undefined) fields.err = part;
    else if (isPlainObject(part)) Object.assign(fields, part);
    else if (part !== undefined) extra.push(part);
  }
  // Bolt logs several strings in one call: they belong to the message.
  if (extra.length === 1 && typeof extra[0] !== 'string') fields.detail = extra[0];
  else if (extra.length > 0)
    text = [text, ...extra.map((p) => String(p))].filter(Boolean).join(' ');
  return [clean(fields) as Record<string, unknown>, redact(text)];
}

function isLogLevel(level: string): level is LogLevel {
  return (LEVELS as readonly string[]).includes(level);
}

/**
 * A pino logger writing one JSON object per line. `write` (one line, no
 * newline) and `now` are parameters so tests can capture lines; by default
 * lines go synchronously to stderr, so nothing is lost on `process.exit`.
 */
export function createLogger(
  level: LogLevel = 'info',
  write?: (line: string) => void,
  now: () => Date = () => new Date(),
): Logger {
  let name = 'vpn-conns';
  const destination = write
    ? { write: (line: string) => write(line.endsWith('\n') ? line.slice(0, -1) : line) }
    : pino.destination({ dest: 2, sync: true });
  const options = (at: LogLevel): pino.LoggerOptions => ({
    level: at,
    base: null,
    messageKey: 'msg',
    timestamp: () => `,"time":"${now().toISOString()}"`,
    formatters: { level: (label) => ({ level: label }) },
    mixin: () => ({ name }),
    redact: { paths: REDACT_PATHS, censor: CENSOR },
    // Errors are serialized by `clean` already (with masking): pino's own `err` serializer would redo it.
    serializers: { err: (value: unknown) => value },
  });
  const main = pino(options(level), destination);
  // Events (the audit trail) are written whatever the level: they are records, not chatter.
  const events = pino(options('info'), destination);
  const at =
    (method: LogLevel) =>
    (message: unknown, ...rest: unknown[]) => {
      if (!main.isLevelEnabled(method)) return;
      const [fields, text] = toRecord(message, rest);
      main[method](fields, text);
    };
  return {
    debug: at('debug'),
    info: at('info'),
    warn: at('warn'),
    error: at('error'),
    setLevel: (next) => {
      if (isLogLevel(next)) main.level = next;
    },
    getLevel: () => main.level,
    setName: (next) => {
      name = next;
    },
    event: (event, fields) => events.info({ event, ...(clean(fields) as object) }),
  };
}

/**
 * Sends the process's warnings (`process.emitWarning`, such as the AWS SDK's
 * Node-version notice) to `logger` at `level` instead of Node's plain-text
 * lines on stderr: the bot's log stays JSON, the terminal stays quiet.
 */
export function routeProcessWarnings(
  logger: Pick<Logger, LogLevel>,
  level: LogLevel,
  target: NodeJS.Process = process,
): void {
  // Node prints warnings through a listener it installs at start-up; ours replaces it.
  target.removeAllListeners('warning');
  target.on('warning', (warning) => {
    logger[level](`process warning: ${warning.message.split('\n', 1)[0] ?? ''}`, {
      warning: { name: warning.name, message: warning.message },
    });
  });
}
