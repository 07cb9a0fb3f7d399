/**
 * One structured logger for the whole process: JSON lines on stderr. It
 * implements Bolt's `Logger` shape so the Slack app logs through it too.
 */
import type { LogLevel } from './config.js';

export interface Logger {
  debug(...msg: unknown[]): void;
  info(...msg: unknown[]): void;
  warn(...msg: unknown[]): void;
  error(...msg: unknown[]): void;
  setLevel(level: string): void;
  getLevel(): string;
  setName(name: string): void;
  /** One structured line, at any log level: `{time, level: 'info', name, event, ...fields}` (audit trail). */
  event(event: string, fields: Record<string, unknown>): void;
}

const ORDER: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

// Values that look like Slack or AWS secrets are masked wherever they appear.
const SECRET_PATTERNS = [
  /xox[abposr]-[A-Za-z0-9-]+/g,
  /xapp-[A-Za-z0-9-]+/g,
  /(?<![A-Za-z0-9])(AKIA|ASIA)[A-Z0-9]{16}(?![A-Za-z0-9])/g,
];

/** Replaces anything shaped like a Slack token or an AWS access key id with `[redacted]`. */
export function redact(text: string): string {
  return SECRET_PATTERNS.reduce((out, pattern) => out.replace(pattern, '[redacted]'), text);
}

function render(part: unknown): string {
  if (typeof part === 'string') return part;
  if (part instanceof Error) return `${part.name}: ${part.message}`;
  try {
    return JSON.stringify(part);
  } catch {
    return String(part);
  }
}

function isLogLevel(level: string): level is LogLevel {
  return level in ORDER;
}

/**
 * A logger writing one JSON object per line: `{time, level, name, msg}`.
 * `write` and `now` are parameters so tests can capture lines.
 */
export function createLogger(
  level: LogLevel = 'info',
  write: (line: string) => void = (line) => process.stderr.write(`${line}\n`),
  now: () => Date = () => new Date(),
): Logger {
  let current: LogLevel = level;
  let name = 'vpn-conns';
  const log = (at: LogLevel, msg: unknown[]) => {
    if (ORDER[at] < ORDER[current]) return;
    const text = redact(msg.map(render).join(' '));
    write(JSON.stringify({ time: now().toISOString(), level: at, name, msg: text }));
  };
  return {
    debug: (...msg) => log('debug', msg),
    info: (...msg) => log('info', msg),
    warn: (...msg) => log('warn', msg),
    error: (...msg) => log('error', msg),
    setLevel: (next) => {
      if (isLogLevel(next)) current = next;
    },
    getLevel: () => current,
    setName: (next) => {
      name = next;
    },
    // Events (the audit trail) are written whatever the level: they are records, not chatter.
    event: (event, fields) => {
      const line = JSON.stringify({
        time: now().toISOString(),
        level: 'info',
        name,
        event,
        ...fields,
      });
      write(redact(line));
    },
  };
}
