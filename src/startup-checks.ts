/**
 * What the bot checks and says when it cannot start: each failure names the
 * setting to fix, the host it tried (never a password) and what to check.
 * The bot's start-up reads these; nothing here keeps state.
 */

/** A start-up failure with the setting a person should look at. */
export class StartupError extends Error {
  override readonly name = 'StartupError';
  constructor(
    readonly setting: string,
    message: string,
    details: { cause?: unknown } = {},
  ) {
    super(message, { cause: details.cause });
  }
}

/** `postgres://vpn:****@db.internal:5432/vpn`: the URL with its password masked. */
export function maskDatabaseUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password !== '') parsed.password = '****';
    return parsed.toString();
  } catch {
    return url.replace(/\/\/([^:/@]*):[^@]*@/, '//$1:****@');
  }
}

/** The error code of a thrown value or of its causes (`ECONNREFUSED`, `28P01`, …). */
function codeOf(error: unknown): string | undefined {
  for (let e = error, depth = 0; e && depth < 5; depth++) {
    const { code, errors } = e as { code?: unknown; errors?: unknown };
    if (typeof code === 'string' && code !== '') return code;
    // Node reports a refused dual-stack connect as an AggregateError of per-address errors.
    if (Array.isArray(errors) && errors.length > 0) return codeOf(errors[0]);
    e = (e as { cause?: unknown }).cause;
  }
  return undefined;
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * Why the state store named by `DATABASE_URL` could not be opened, in words a
 * person can act on: the masked URL, `host:port`, and what to check.
 */
export function describeStoreFailure(error: unknown, databaseUrl: string): StartupError {
  const code = codeOf(error);
  if (/^sqlite:/i.test(databaseUrl)) {
    const path = databaseUrl.slice('sqlite:'.length);
    return new StartupError(
      'DATABASE_URL',
      `DATABASE_URL: cannot open the SQLite file ${path} (${code ?? messageOf(error)}): ` +
        'check that its folder exists and is writable by the bot, or point DATABASE_URL elsewhere',
      { cause: error },
    );
  }
  let host = '(unknown host)';
  let user = '';
  let database = '';
  try {
    const parsed = new URL(databaseUrl);
    host = `${parsed.hostname}:${parsed.port || '5432'}`;
    user = decodeURIComponent(parsed.username);
    database = decodeURIComponent(parsed.pathname.slice(1));
  } catch {
    // The configuration check already refused URLs that do not parse.
  }
  const advice: Record<string, string> = {
    ECONNREFUSED: `nothing accepts connections at ${host}: check the host and port, and that Postgres runs and listens there`,
    ENOTFOUND: `the host name in ${host} does not resolve: check the host`,
    EAI_AGAIN: `the host name in ${host} could not be resolved right now: check DNS from this machine`,
    ETIMEDOUT: `${host} did not answer: check the host, the port and any firewall or security group between`,
    EHOSTUNREACH: `${host} is unreachable from here: check the host and the network path`,
    '28P01': `Postgres at ${host} refused the password of user "${user}": check the user and password`,
    '28000': `Postgres at ${host} refused user "${user}" (pg_hba.conf or SSL): check the user and ?sslmode=require`,
    '3D000': `Postgres at ${host} has no database "${database}": create it or fix the name`,
  };
  const what =
    (code !== undefined ? advice[code] : undefined) ??
    `could not connect to Postgres at ${host} (${messageOf(error)}): check the URL and that the server accepts connections from here`;
  return new StartupError(
    'DATABASE_URL',
    `DATABASE_URL: ${what} (DATABASE_URL=${maskDatabaseUrl(databaseUrl)}${code ? `, ${code}` : ''})`,
    { cause: error },
  );
}

/** Slack's Web API base when `SLACK_API_URL` is unset. */
export const DEFAULT_SLACK_API_URL = 'https://slack.com/api/';

const TOKEN_REFUSED = new Set([
  'invalid_auth',
  'not_authed',
  'account_inactive',
  'token_revoked',
  'token_expired',
  'not_allowed_token_type',
]);

/**
 * Calls Slack's `auth.test` once, without retries, before the app starts: an
 * unreachable Web API or a refused bot token becomes one line naming the
 * call, the URL and the setting, instead of the Web API client's anonymous
 * `http request failed` retries.
 *
 * @throws StartupError
 */
export async function checkSlackReachable(options: {
  readonly botToken: string;
  readonly apiUrl: string | undefined;
  readonly timeoutMs?: number;
  readonly fetch?: typeof fetch;
}): Promise<void> {
  const base = options.apiUrl ?? DEFAULT_SLACK_API_URL;
  const url = `${base}auth.test`;
  const setting = options.apiUrl === undefined ? 'network' : 'SLACK_API_URL';
  const where =
    options.apiUrl === undefined
      ? 'check the network path, proxies and firewalls to slack.com (SLACK_API_URL is unset)'
      : `check SLACK_API_URL=${base}`;
  let response: Response;
  try {
    response = await (options.fetch ?? fetch)(url, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${options.botToken}`,
        'content-type': 'application/x-www-form-urlencoded',
      },
      signal: AbortSignal.timeout(options.timeoutMs ?? 10_000),
    });
  } catch (error) {
    const cause = (error as { cause?: unknown }).cause;
    const code = codeOf(error) ?? (cause instanceof Error ? cause.message : messageOf(error));
    throw new StartupError(
      setting,
      `Slack Web API auth.test at ${url} could not be reached (${code}): ${where}`,
      { cause: error },
    );
  }
  const body = (await response.json().catch(() => null)) as { ok?: unknown; error?: unknown };
  if (!response.ok || body === null || typeof body !== 'object') {
    throw new StartupError(
      setting,
      `Slack Web API auth.test at ${url} answered HTTP ${response.status}${body === null ? ' without JSON' : ''}: ${where}`,
    );
  }
  if (body.ok === true) return;
  const error = typeof body.error === 'string' ? body.error : 'unknown_error';
  if (TOKEN_REFUSED.has(error)) {
    throw new StartupError(
      'SLACK_BOT_TOKEN',
      `SLACK_BOT_TOKEN: Slack refused it (auth.test: ${error}): copy the Bot User OAuth Token (OAuth & Permissions) again, and reinstall the app if it was revoked`,
    );
  }
  throw new StartupError('SLACK_BOT_TOKEN', `Slack Web API auth.test at ${url} failed: ${error}`);
}
