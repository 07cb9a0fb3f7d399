/**
 * The terminal front end: the same grammar (`vpn/query.ts`) and gateway as
 * the slash command, printing a table, JSON lines or CSV. Output streams
 * page by page, so memory stays flat however many connections there are.
 */
import { loadConfig } from '../config.js';
import { AwsError, ConfigError, UsageError } from '../errors.js';
import type { Logger } from '../logger.js';
import { createEndpointCatalogue, type EndpointCatalogue } from '../vpn/catalogue.js';
import { type Connection, displayName } from '../vpn/connection.js';
import { type Endpoint, resolveEndpoints } from '../vpn/endpoint.js';
import {
  collectPages,
  type EndpointFailure,
  type FetchQuery,
  settleBounded,
} from '../vpn/fetch.js';
import { formatBytes, formatDuration, formatUtc, MISSING } from '../vpn/format.js';
import type { VpnGateway } from '../vpn/gateway.js';
import { type MatchedField, matchAnyUser, userLookupQuery, usersQuery } from '../vpn/lookup.js';
import { parseCommand, type Query, STATUS_VALUES, usage } from '../vpn/query.js';
import { csvHeader, toCsvRow, toJsonLine } from '../vpn/records.js';
import { type Column, formatHeader, formatLine, widest } from './table.js';

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
  readonly createGateway?: (
    config: ReturnType<typeof loadConfig>,
    logger: Logger,
  ) => Promise<VpnGateway>;
  /** The logger to use (default: one at LOG_LEVEL); its level is set once the configuration is read. */
  readonly logger?: Logger;
  /** The process whose warnings go to the log (at debug level) instead of the terminal. */
  readonly warningsOf?: NodeJS.Process;
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

async function defaultGateway(
  config: ReturnType<typeof loadConfig>,
  logger: Logger,
): Promise<VpnGateway> {
  const { createAwsGateway } = await import('../aws/gateway.js');
  return createAwsGateway({
    region: config.aws.region,
    requestTimeoutMs: config.aws.requestTimeoutMs,
    maxAttempts: config.aws.maxAttempts,
    logger,
  });
}

/** Statuses as AWS spells them; `unknown` when it sent none. */
const STATUS_WIDTH = Math.max(...[...STATUS_VALUES, 'unknown'].map((v) => v.length));
/** `255.255.255.255`. */
const IPV4_WIDTH = 15;
/** `2026-11-27 20:40 UTC`. */
const DATE_WIDTH = formatUtc(new Date(0)).length;
/** `999.9 KB`, `1000 PB`. */
const BYTES_WIDTH = 8;
/** `365d 23h`; longer sessions push the row right rather than lose digits. */
const DURATION_WIDTH = 8;
/** `cvpn-connection-` and 17 hex digits, as AWS makes them. */
const CONNECTION_WIDTH = 33;
/** User names and certificate names are free text: cut (visibly) beyond this. */
const USER_WIDTH = 24;

/** The table's columns; the endpoint column is as wide as the longest alias asked. */
function tableColumns(endpoints: readonly Endpoint[]): Column[] {
  return [
    { header: 'ENDPOINT', width: Math.min(64, widest(endpoints.map((e) => e.alias))) },
    { header: 'USER', width: USER_WIDTH, cut: true },
    { header: 'STATUS', width: STATUS_WIDTH },
    { header: 'CLIENT IP', width: IPV4_WIDTH },
    { header: 'CONNECTED', width: DATE_WIDTH },
    { header: 'DURATION', width: DURATION_WIDTH, align: 'right' },
    { header: 'IN', width: BYTES_WIDTH, align: 'right' },
    { header: 'OUT', width: BYTES_WIDTH, align: 'right' },
    { header: 'CONNECTION', width: CONNECTION_WIDTH },
    // Last, so a 39-character IPv6 address never pushes the other columns out of line.
    { header: 'CLIENT IPV6', width: 0 },
  ];
}

function tableCells(c: Connection, alias: string, now: Date): string[] {
  return [
    alias,
    displayName(c),
    c.status ?? 'unknown',
    c.clientIp ?? MISSING,
    formatUtc(c.establishedAt),
    formatDuration(c.establishedAt, c.endedAt ?? now),
    formatBytes(c.ingressBytes),
    formatBytes(c.egressBytes),
    c.connectionId,
    c.clientIpv6 ?? '',
  ];
}

/** A table printer: the header before the first row, every row in the same fixed columns. */
function createTablePrinter(out: Output, columns: readonly Column[]) {
  let printed = false;
  return {
    async rows(rows: string[][]) {
      if (rows.length === 0) return;
      const text = rows.map((row) => formatLine(columns, row)).join('');
      await out.write(printed ? text : `${formatHeader(columns)}${text}`);
      printed = true;
    },
    printedAny: () => printed,
  };
}

/** What to read and how to print it. */
interface ListPlan {
  readonly endpoints: readonly Endpoint[];
  readonly query: FetchQuery;
  /** The people asked for (`user NAME`, `user=NAME`): the answer says which field matched. */
  readonly names: readonly string[];
}

/** "matched by user name: 2, by certificate common name: 1", or '' when nothing matched by name. */
function matchNote(counts: Record<MatchedField, number>): string {
  if (counts.commonName === 0) return '';
  const parts = [];
  if (counts.username > 0) parts.push(`${counts.username} by user name`);
  parts.push(
    `${counts.commonName} by certificate common name (certificate endpoints send no user name)`,
  );
  return `Matched ${parts.join(', ')}.\n`;
}

async function runList(
  gateway: VpnGateway,
  plan: ListPlan,
  format: Format,
  deps: CliDeps,
  concurrency: number,
): Promise<EndpointFailure[]> {
  const { endpoints, query, names } = plan;
  const now = deps.now?.() ?? new Date();
  const table = createTablePrinter(deps.stdout, tableColumns(endpoints));
  const matched: Record<MatchedField, number> = { username: 0, commonName: 0 };
  if (format === 'csv') await deps.stdout.write(`${csvHeader()}\n`);
  const settled = await settleBounded(endpoints, concurrency, async (endpoint) => {
    for await (const page of collectPages(gateway, endpoint, query)) {
      if (names.length > 0) {
        for (const c of page) {
          const field = matchAnyUser(c, names);
          if (field) matched[field] += 1;
        }
      }
      if (format === 'json')
        await deps.stdout.write(page.map((c) => `${toJsonLine(c)}\n`).join(''));
      else if (format === 'csv')
        await deps.stdout.write(page.map((c) => `${toCsvRow(c)}\n`).join(''));
      else await table.rows(page.map((c) => tableCells(c, endpoint.alias, now)));
    }
  });
  const failures = settled.flatMap((r, i): EndpointFailure[] =>
    r.status === 'rejected' ? [{ endpoint: endpoints[i] as Endpoint, error: r.reason }] : [],
  );
  if (format === 'table') {
    // After a failed read, "No connections." would be a claim about an endpoint that was not read.
    if (!table.printedAny() && failures.length === 0) await deps.stderr.write('No connections.\n');
    await deps.stderr.write(matchNote(matched));
  }
  return failures;
}

function describeFailure({ endpoint, error }: EndpointFailure): string {
  const where = `${endpoint.alias}${endpoint.alias === endpoint.id ? '' : ` (${endpoint.id})`}`;
  const message = error instanceof Error ? error.message : String(error);
  const requestId =
    error instanceof AwsError && error.requestId ? ` [request id ${error.requestId}]` : '';
  return `vpn-conns: ${where}: ${message}${requestId}\n`;
}

/** `Usage:` and the grammar, indented, then the options. */
export function usageText(): string {
  const lines = usage('cli').split('\n');
  const commands = lines.filter((line) => line.startsWith('vpn-conns '));
  const notes = lines.filter((line) => !line.startsWith('vpn-conns '));
  return `Usage:\n${commands.map((line) => `  ${line}\n`).join('')}\n${notes.join('\n')}\n`;
}

/** Reads `--json`, `--csv`, `--help` and the words. @throws UsageError */
function parseArgs(argv: readonly string[]): { format: Format; words: string[] } {
  let format: Format | undefined;
  const words: string[] = [];
  for (const arg of argv) {
    if (arg === '--json' || arg === '--csv') {
      const chosen = arg === '--json' ? 'json' : 'csv';
      if (format !== undefined && format !== chosen) {
        throw new UsageError('--json and --csv cannot be used together: choose one.');
      }
      format = chosen;
    } else if (arg === '--help' || arg === '-h') words.splice(0, words.length, 'help');
    else if (arg.startsWith('--')) throw new UsageError(`Unknown option ${arg}.`);
    else words.push(arg);
  }
  return { format: format ?? 'table', words };
}

const ENDPOINT_COLUMNS = (endpoints: readonly Endpoint[]): Column[] => [
  { header: 'ALIAS', width: widest(endpoints.map((e) => e.alias)) },
  { header: 'ENDPOINT ID', width: widest(endpoints.map((e) => e.id)) },
  { header: 'REGION', width: widest(endpoints.map((e) => e.region)) },
  { header: 'AUTHENTICATION', width: 0 },
];

async function printEndpoints(endpoints: readonly Endpoint[], format: Format, out: Output) {
  if (format === 'json') {
    for (const e of endpoints) await out.write(`${JSON.stringify(e)}\n`);
    return;
  }
  if (format === 'csv') {
    await out.write('alias,endpointId,region,authentication\n');
    for (const e of endpoints) {
      await out.write(
        `${[e.alias, e.id, e.region, (e.authenticationTypes ?? []).join(';')].join(',')}\n`,
      );
    }
    return;
  }
  const columns = ENDPOINT_COLUMNS(endpoints);
  await out.write(formatHeader(columns));
  for (const e of endpoints) {
    const auth = e.authenticationTypes?.join(',') || MISSING;
    await out.write(formatLine(columns, [e.alias, e.id, e.region, auth]));
  }
}

/**
 * Runs one CLI invocation and returns its exit code: 0 success, 2 bad input
 * (usage on stderr), 1 AWS failure (the named error's message on stderr).
 * A little over 60 lines: it is the command's whole sequence (arguments,
 * configuration, logger, gateway, query), each step's failure mapped to its
 * exit code in one place.
 */
export async function runCli(argv: readonly string[], deps: CliDeps): Promise<number> {
  const usageError = async (message: string) => {
    await deps.stderr.write(`vpn-conns: ${message}\n\n${usageText()}`);
    return EXIT_USAGE;
  };
  let format: Format;
  let parsed: ReturnType<typeof parseCommand>;
  try {
    const args = parseArgs(argv);
    format = args.format;
    parsed = parseCommand(args.words.length === 0 ? ['help'] : args.words, 'cli');
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    return usageError(error.message);
  }
  const { query } = parsed;
  if (query.kind === 'help') {
    await deps.stdout.write(usageText());
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
  // Loaded only now: `help` and bad input never pay for the logger either.
  const { createLogger, routeProcessWarnings } = await import('../logger.js');
  const logger = deps.logger ?? createLogger(config.logLevel);
  logger.setLevel(config.logLevel);
  // Warnings not about the request (the AWS SDK's Node-version notice, emitted once the SDK
  // loads, below) stay out of the terminal: debug-level log lines, shown with LOG_LEVEL=debug.
  if (deps.warningsOf) routeProcessWarnings(logger, 'debug', deps.warningsOf);

  const gateway = await (deps.createGateway ?? defaultGateway)(config, logger);
  const catalogue = createEndpointCatalogue({
    gateway,
    configured: config.aws.endpoints,
    region: config.aws.region,
    logger,
  });

  try {
    if (query.kind === 'endpoints') {
      await printEndpoints(await catalogue.described(), format, deps.stdout);
      return EXIT_OK;
    }
    if (query.kind === 'digest' || query.kind === 'audit' || query.kind === 'alerts') {
      throw new UsageError(`\`${query.kind}\` works only in Slack.`);
    }
    if (query.kind === 'history' || query.kind === 'report') {
      await runStored(query, config, catalogue, format, deps);
      return EXIT_OK;
    }
    const plan = await planList(query, catalogue, config.aws.region);
    const failures = await runList(gateway, plan, format, deps, config.aws.concurrency);
    for (const failure of failures) await deps.stderr.write(describeFailure(failure));
    return failures.length > 0 ? EXIT_AWS : EXIT_OK;
  } catch (error) {
    if (error instanceof UsageError) return usageError(error.message);
    if (error instanceof AwsError) {
      const requestId = error.requestId ? ` [request id ${error.requestId}]` : '';
      await deps.stderr.write(`vpn-conns: ${error.message}${requestId}\n`);
      return EXIT_AWS;
    }
    throw error;
  }
}

/** `history` and `report`: over the store `DATABASE_URL` names, closed afterwards. */
async function runStored(
  query: Extract<Query, { kind: 'history' | 'report' }>,
  config: ReturnType<typeof loadConfig>,
  catalogue: EndpointCatalogue,
  format: Format,
  deps: CliDeps,
): Promise<void> {
  const [{ openStore }, { runStoredQuery }] = await Promise.all([
    import('../store/index.js'),
    import('./stored.js'),
  ]);
  const now = deps.now ?? (() => new Date());
  const store = await openStore(config.databaseUrl);
  try {
    await runStoredQuery(query, {
      config,
      catalogue,
      store,
      format,
      stdout: deps.stdout,
      stderr: deps.stderr,
      now,
      printTable: async (connections, endpoints) => {
        const aliases = new Map(endpoints.map((e) => [e.id, e.alias]));
        const table = createTablePrinter(deps.stdout, tableColumns(endpoints));
        const at = now();
        await table.rows(
          connections.map((c) => tableCells(c, aliases.get(c.endpointId) ?? c.endpointId, at)),
        );
      },
    });
  } finally {
    await store.close();
  }
}

/** The endpoints and filters of a `list` or `user` query; names match certificate users too. */
async function planList(
  query: Extract<Query, { kind: 'list' | 'user' }>,
  catalogue: EndpointCatalogue,
  region: string,
): Promise<ListPlan> {
  if (query.kind === 'user') {
    if (query.who.kind !== 'name') throw new UsageError('Give a name: vpn-conns user NAME.');
    return {
      endpoints: resolveEndpoints(query.endpoints, await catalogue.described(), region),
      query: userLookupQuery(query.who.name, query.statuses),
      names: [query.who.name],
    };
  }
  const names = query.usernames;
  const ids = query.connectionIds.length > 0 ? { connectionIds: query.connectionIds } : {};
  // `user=NAME` follows `user NAME`: certificate endpoints need their authentication type.
  const known = names.length > 0 ? await catalogue.described() : await catalogue.list();
  return {
    endpoints: resolveEndpoints(query.endpoints, known, region),
    query:
      names.length > 0
        ? usersQuery(names, { ...ids, statuses: query.statuses })
        : { ...ids, statuses: query.statuses },
    names,
  };
}
