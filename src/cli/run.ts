/**
 * The terminal front end: the same grammar (`vpn/query.ts`) and gateway as
 * the slash command, printing a table, JSON lines or CSV. Output streams
 * page by page, so memory stays flat however many connections there are.
 */
import { loadConfig } from '../config.js';
import { AwsError, ConfigError, UsageError } from '../errors.js';
import { createLogger } from '../logger.js';
import { createEndpointCatalogue } from '../vpn/catalogue.js';
import { type Connection, displayName } from '../vpn/connection.js';
import { type Endpoint, resolveEndpoints } from '../vpn/endpoint.js';
import { collectPages, type FetchQuery, settleBounded } from '../vpn/fetch.js';
import { formatBytes, formatDuration, formatUtc } from '../vpn/format.js';
import type { VpnGateway } from '../vpn/gateway.js';
import { userLookupQuery } from '../vpn/lookup.js';
import { parseCommand, usage } from '../vpn/query.js';
import { csvHeader, toCsvRow, toJsonLine } from '../vpn/records.js';

export const EXIT_OK = 0;
export const EXIT_AWS = 1;
export const EXIT_USAGE = 2;

type Format = 'table' | 'json' | 'csv';

/** Where the CLI writes; `write` resolves once the chunk may be followed by more (backpressure). */
export interface Output {
  write(chunk: string): Promise<void>;
}

export interface CliDeps {
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly stdout: Output;
  readonly stderr: Output;
  /** Builds the AWS gateway; loaded lazily so `help` and bad input never pay for the SDK. */
  readonly createGateway?: (config: ReturnType<typeof loadConfig>) => Promise<VpnGateway>;
  readonly now?: () => Date;
}

/** Wraps a Node writable so each write waits for `drain` when the buffer is full. */
export function streamOutput(stream: NodeJS.WritableStream): Output {
  return {
    write: (chunk) =>
      new Promise((resolve, reject) => {
        const ok = stream.write(chunk, (error) => {
          if (error) reject(error);
        });
        if (ok) resolve();
        else stream.once('drain', resolve);
      }),
  };
}

async function defaultGateway(config: ReturnType<typeof loadConfig>): Promise<VpnGateway> {
  const { createAwsGateway } = await import('../aws/gateway.js');
  return createAwsGateway({
    region: config.aws.region,
    requestTimeoutMs: config.aws.requestTimeoutMs,
    maxAttempts: config.aws.maxAttempts,
    logger: createLogger(config.logLevel),
  });
}

const TABLE_COLUMNS = [
  'ENDPOINT',
  'USER',
  'STATUS',
  'CLIENT IP',
  'CONNECTED',
  'DURATION',
  'IN',
  'OUT',
  'CONNECTION',
] as const;

function tableCells(c: Connection, alias: string, now: Date): string[] {
  const ip = c.clientIpv6 ? `${c.clientIp ?? '–'} ${c.clientIpv6}` : (c.clientIp ?? '–');
  return [
    alias,
    displayName(c),
    c.status ?? 'unknown',
    ip,
    formatUtc(c.establishedAt),
    formatDuration(c.establishedAt, c.endedAt ?? now),
    formatBytes(c.ingressBytes),
    formatBytes(c.egressBytes),
    c.connectionId,
  ];
}

/** A table printer whose column widths come from the first page it sees. */
function createTablePrinter(out: Output) {
  let widths: number[] | undefined;
  const line = (cells: readonly string[]) =>
    `${cells
      .map((cell, i) => {
        const width = widths?.[i] ?? cell.length;
        const fitted = cell.length > width ? `${cell.slice(0, width - 1)}…` : cell;
        return i === cells.length - 1 ? fitted : fitted.padEnd(width);
      })
      .join('  ')}\n`;
  return {
    async rows(rows: string[][]) {
      if (rows.length === 0) return;
      if (!widths) {
        widths = TABLE_COLUMNS.map((h, i) =>
          Math.min(40, Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length))),
        );
        // The connection id is last and never cut.
        widths[widths.length - 1] = 64;
        await out.write(line(TABLE_COLUMNS));
      }
      await out.write(rows.map(line).join(''));
    },
    printedAny: () => widths !== undefined,
  };
}

async function runList(
  gateway: VpnGateway,
  endpoints: readonly Endpoint[],
  query: FetchQuery,
  format: Format,
  deps: CliDeps,
  concurrency: number,
): Promise<unknown[]> {
  const now = deps.now?.() ?? new Date();
  const table = createTablePrinter(deps.stdout);
  if (format === 'csv') await deps.stdout.write(`${csvHeader()}\n`);
  const settled = await settleBounded(endpoints, concurrency, async (endpoint) => {
    for await (const page of collectPages(gateway, endpoint, query)) {
      if (format === 'json')
        await deps.stdout.write(page.map((c) => `${toJsonLine(c)}\n`).join(''));
      else if (format === 'csv')
        await deps.stdout.write(page.map((c) => `${toCsvRow(c)}\n`).join(''));
      else await table.rows(page.map((c) => tableCells(c, endpoint.alias, now)));
    }
  });
  if (format === 'table' && !table.printedAny()) await deps.stderr.write('No connections.\n');
  return settled.flatMap((r, i) =>
    r.status === 'rejected' ? [{ endpoint: endpoints[i], error: r.reason }] : [],
  );
}

function describeFailure(failure: unknown): string {
  const { endpoint, error } = failure as { endpoint: Endpoint; error: unknown };
  const where = `${endpoint.alias}${endpoint.alias === endpoint.id ? '' : ` (${endpoint.id})`}`;
  const message = error instanceof Error ? error.message : String(error);
  const requestId =
    error instanceof AwsError && error.requestId ? ` [request id ${error.requestId}]` : '';
  return `vpn-conns: ${where}: ${message}${requestId}\n`;
}

/**
 * Runs one CLI invocation and returns its exit code: 0 success, 2 bad input
 * (usage on stderr), 1 AWS failure (the named error's message on stderr).
 */
export async function runCli(argv: readonly string[], deps: CliDeps): Promise<number> {
  let format: Format = 'table';
  const words: string[] = [];
  for (const arg of argv) {
    if (arg === '--json') format = 'json';
    else if (arg === '--csv') format = 'csv';
    else if (arg === '--help' || arg === '-h') words.splice(0, words.length, 'help');
    else if (arg.startsWith('--')) {
      await deps.stderr.write(`vpn-conns: unknown option ${arg}\n\n${usage('cli')}\n`);
      return EXIT_USAGE;
    } else words.push(arg);
  }

  let parsed: ReturnType<typeof parseCommand>;
  try {
    parsed = parseCommand(words.length === 0 ? ['help'] : words, 'cli');
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    await deps.stderr.write(`vpn-conns: ${error.message}\n\n${usage('cli')}\n`);
    return EXIT_USAGE;
  }
  const { query } = parsed;
  if (query.kind === 'help') {
    await deps.stdout.write(`${usage('cli')}\n`);
    return EXIT_OK;
  }

  let config: ReturnType<typeof loadConfig>;
  try {
    config = loadConfig(deps.env);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    await deps.stderr.write(`vpn-conns: ${error.message}\n`);
    return EXIT_USAGE;
  }

  const gateway = await (deps.createGateway ?? defaultGateway)(config);
  const catalogue = createEndpointCatalogue({
    gateway,
    configured: config.aws.endpoints,
    region: config.aws.region,
    logger: createLogger(config.logLevel),
  });

  try {
    if (query.kind === 'endpoints') {
      const endpoints = await catalogue.described();
      for (const e of endpoints) {
        if (format === 'json') await deps.stdout.write(`${JSON.stringify(e)}\n`);
        else {
          const auth = e.authenticationTypes?.join(',') || '–';
          await deps.stdout.write(`${e.alias.padEnd(24)}  ${e.id}  ${e.region}  ${auth}\n`);
        }
      }
      return EXIT_OK;
    }
    if (query.kind === 'digest' || query.kind === 'audit') {
      throw new UsageError(`\`${query.kind}\` works only in Slack.`);
    }

    let endpoints: Endpoint[];
    let fetchQuery: FetchQuery;
    if (query.kind === 'user') {
      if (query.who.kind !== 'name') throw new UsageError('Give a name: vpn-conns user NAME.');
      endpoints = resolveEndpoints(query.endpoints, await catalogue.described(), config.aws.region);
      fetchQuery = userLookupQuery(query.who.name, query.statuses);
    } else {
      endpoints = resolveEndpoints(query.endpoints, await catalogue.list(), config.aws.region);
      fetchQuery = {
        usernames: query.usernames,
        connectionIds: query.connectionIds,
        statuses: query.statuses,
      };
    }
    const failures = await runList(
      gateway,
      endpoints,
      fetchQuery,
      format,
      deps,
      config.aws.concurrency,
    );
    for (const failure of failures) await deps.stderr.write(describeFailure(failure));
    return failures.length > 0 ? EXIT_AWS : EXIT_OK;
  } catch (error) {
    if (error instanceof UsageError) {
      await deps.stderr.write(`vpn-conns: ${error.message}\n\n${usage('cli')}\n`);
      return EXIT_USAGE;
    }
    if (error instanceof AwsError) {
      const requestId = error.requestId ? ` [request id ${error.requestId}]` : '';
      await deps.stderr.write(`vpn-conns: ${error.message}${requestId}\n`);
      return EXIT_AWS;
    }
    throw error;
  }
}
