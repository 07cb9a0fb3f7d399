/**
 * `npm run demo`: the real bot (the composition root `npm start` runs, `dist/main.js`, as a child
 * process) against the EC2 emulator with a living fleet and the Slack workbench, all on 127.0.0.1.
 * With `slack: true` the bot connects to a real workspace in Socket Mode instead, AWS still
 * emulated.
 *
 * The bot's environment is built here from nothing but a few harmless variables (PATH, HOME,
 * locale): no AWS profile, credential or config file, no Slack token from the caller's
 * environment reaches it unless `slack: true` asks for the Slack tokens. EC2 calls go to the
 * emulator (`AWS_ENDPOINT_URL_EC2`), STS to the emulator too, with dummy keys.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createWriteStream, existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { type Ec2Emulator, startEc2Emulator } from './ec2-emulator.js';
import { freePort } from './free-port.js';
import { type LivingFleet, startLivingFleet } from './living-fleet.js';
import { renderMessage } from './workbench/render/index.js';
import { startWorkbench, type Workbench, type WorkbenchPerson } from './workbench/server.js';

/** The repository root (this file is `src/sandbox/demo.ts`). */
export const ROOT = fileURLToPath(new URL('../../', import.meta.url));

export const DEMO_BOT = { id: 'U0VPNCONNS', name: 'vpn-conns' } as const;
export const DEMO_CHANNELS = [
  { id: 'C0GENERAL', name: 'general' },
  { id: 'C0VPNDIGEST', name: 'vpn-digest' },
  { id: 'C0VPNALERTS', name: 'vpn-alerts' },
] as const;
/** The person switcher: the first is the default. Email local parts are VPN user names. */
export const DEMO_PEOPLE: readonly WorkbenchPerson[] = [
  {
    id: 'U0BOB',
    name: 'bob',
    realName: 'Bob Martin',
    email: 'bob@corp.example',
    label: 'Bob (allowed user)',
  },
  {
    id: 'U0ADA',
    name: 'ada',
    realName: 'Ada Admin',
    email: 'ada@corp.example',
    label: 'Ada (admin)',
  },
  {
    id: 'U0SAM',
    name: 'sam',
    realName: 'Sam Stranger',
    email: 'sam@elsewhere.example',
    label: 'Sam (stranger)',
  },
];
const BOT_TOKEN = 'xoxb-vpn-conns-demo';

/** Options of {@link startDemo}. */
export interface DemoOptions {
  /** Workbench port; 0 = any free port. */
  port: number;
  /** Sessions in the fleet at start. */
  connections: number;
  /** Socket Mode against the real workspace: needs `slackTokens`. */
  slack?: { botToken: string; appToken: string } | undefined;
  /** Variables the bot may additionally get in Socket Mode (VPN_CONNS_ALLOWED, DIGEST_CHANNEL…). */
  slackSettings?: Record<string, string>;
  /** Builds `dist/` when it is older than `src/` (default true). */
  build?: boolean;
  /** Fleet churn period in ms (default 5000); 0: only `fleet.tick()` changes it (tests). */
  churnMs?: number;
  /** When the digest posts to #vpn-digest (default every minute, `* * * * *`). */
  digestCron?: string;
}

/** A running demo; see {@link startDemo}. */
export interface Demo {
  /** The workbench page, or undefined in Socket Mode. */
  url: string | undefined;
  emulator: Ec2Emulator;
  fleet: LivingFleet;
  workbench: Workbench | undefined;
  /** The bot's JSON log lines. */
  logFile: string;
  bot: ChildProcess;
  /** Stops the bot, then the servers; removes the temporary folder. */
  close(): Promise<void>;
}

async function newestMtime(dir: string): Promise<number> {
  let newest = 0;
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) newest = Math.max(newest, await newestMtime(path));
    else if (entry.name.endsWith('.ts')) newest = Math.max(newest, (await stat(path)).mtimeMs);
  }
  return newest;
}

/** Compiles `src/` to `dist/` (as `npm run build` does) when `dist/main.js` is missing or older. */
async function buildIfStale(): Promise<void> {
  const main = join(ROOT, 'dist', 'main.js');
  if (existsSync(main) && (await stat(main)).mtimeMs >= (await newestMtime(join(ROOT, 'src')))) {
    return;
  }
  const tsc = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
  const child = spawn(process.execPath, [tsc, '-p', 'tsconfig.build.json'], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.on('data', (d: Buffer) => {
    output += d.toString();
  });
  child.stderr?.on('data', (d: Buffer) => {
    output += d.toString();
  });
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  if (code !== 0) throw new Error(`building dist/ failed (tsc -p tsconfig.build.json):\n${output}`);
}

/** Only these of the caller's variables reach the bot: nothing that names AWS or Slack. */
const PASSED_THROUGH = ['PATH', 'HOME', 'LANG', 'LC_ALL', 'TZ', 'TMPDIR', 'SYSTEMROOT'];

/**
 * The bot's whole environment. AWS: dummy keys, the emulator as EC2 and STS endpoint, profile and
 * credential files pointed at an empty folder, instance metadata off, so nothing real is reached.
 */
function botEnvironment(input: {
  dir: string;
  emulatorUrl: string;
  /** The YAML file (`VPN_CONNS_CONFIG`): the endpoints and, with the workbench, alert rules. */
  configFile: string;
  slack: Record<string, string>;
}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const name of PASSED_THROUGH) {
    const value = process.env[name];
    if (value !== undefined) env[name] = value;
  }
  return {
    ...env,
    NODE_ENV: 'production',
    AWS_REGION: 'eu-west-1',
    AWS_ACCESS_KEY_ID: 'AKIAVPNCONNSDEMO0000',
    AWS_SECRET_ACCESS_KEY: 'vpn-conns-demo-not-a-secret',
    AWS_ENDPOINT_URL_EC2: input.emulatorUrl,
    AWS_ENDPOINT_URL_STS: input.emulatorUrl,
    AWS_CONFIG_FILE: join(input.dir, 'no-aws-config'),
    AWS_SHARED_CREDENTIALS_FILE: join(input.dir, 'no-aws-credentials'),
    AWS_EC2_METADATA_DISABLED: 'true',
    DATABASE_URL: `sqlite:${join(input.dir, 'vpn-conns.db')}`,
    LOG_LEVEL: 'info',
    VPN_CONNS_CONFIG: input.configFile,
    ...input.slack,
  };
}

async function waitUntil(
  check: () => Promise<boolean>,
  bot: ChildProcess,
  logFile: string,
  timeoutMs: number,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (bot.exitCode !== null || bot.signalCode !== null) break;
    if (await check().catch(() => false)) return;
    await sleep(50);
  }
  const log = await readFile(logFile, 'utf8').catch(() => '');
  const tail = log.trim().split('\n').slice(-15).join('\n');
  throw new Error(
    bot.exitCode !== null || bot.signalCode !== null
      ? `the bot stopped (exit ${bot.exitCode ?? bot.signalCode}). Its last lines:\n${tail}`
      : `the bot did not start within ${timeoutMs / 1000} s. Its last lines:\n${tail}`,
  );
}

/**
 * The demo's YAML file: the fleet's endpoints by name (so `corp` is the default endpoint) and,
 * when the bot answers the workbench, alert rules posting to #vpn-alerts, tuned to the living
 * fleet so a few of them fire (a real workspace's channel IDs are not known here).
 */
export function demoConfigFile(
  endpoints: readonly { name?: string | undefined; id: string }[],
  withAlerts: boolean,
): string {
  const lines = ['endpoints:'];
  for (const e of endpoints) {
    lines.push(`  - alias: ${e.name ?? e.id}`, `    id: ${e.id}`);
    // A third of the sessions are on corp: 80 % of 100 is reached at the default size.
    if (e.name === 'corp') lines.push('    maxConnections: 100');
  }
  if (!withAlerts) return `${lines.join('\n')}\n`;
  const channel = DEMO_CHANNELS[2].id;
  const rules: [string, string, string?][] = [
    ['shared-credentials', 'maxSessionsPerUser: 5'],
    ['long-sessions', 'maxSessionHours: 9', '[partners]'],
    ['posture', 'postureNonCompliant: true', '[partners]'],
    ['stuck-sessions', 'failedToTerminate: true'],
    ['corp-near-limit', 'endpointUsagePercent: 80', '[corp]'],
    ['newcomers', 'newUser: true', '[corp]'],
  ];
  lines.push('alerts:');
  for (const [name, condition, watched] of rules) {
    lines.push(`  - name: ${name}`, `    channel: ${channel}`);
    if (watched) lines.push(`    endpoints: ${watched}`);
    lines.push(`    ${condition}`);
  }
  return `${lines.join('\n')}\n`;
}

/** Clean-up steps, run in reverse order of registration. */
type Cleanups = (() => Promise<void>)[];

/** What the bot needs to talk to Slack (the workbench or a real workspace). */
interface SlackSide {
  workbench?: Workbench;
  env: Record<string, string>;
  /** The bot's health URL in HTTP mode; undefined in Socket Mode (watch its log). */
  healthUrl?: string;
}

/** Starts the workbench and the environment of a bot that answers it over HTTP. */
async function startWorkbenchSide(options: DemoOptions, cleanups: Cleanups): Promise<SlackSide> {
  const wb = await startWorkbench({
    port: options.port,
    botToken: BOT_TOKEN,
    botUserId: DEMO_BOT.id,
    botName: DEMO_BOT.name,
    people: DEMO_PEOPLE,
    channels: DEMO_CHANNELS,
    render: renderMessage,
  });
  cleanups.push(() => wb.close());
  const botPort = await freePort();
  const signingSecret = randomBytes(16).toString('hex');
  wb.setBot({ url: `http://127.0.0.1:${botPort}/slack/events`, signingSecret });
  const [bob, ada] = DEMO_PEOPLE;
  return {
    workbench: wb,
    env: {
      SLACK_BOT_TOKEN: BOT_TOKEN,
      SLACK_SIGNING_SECRET: signingSecret,
      SLACK_API_URL: wb.standIn.url,
      PORT: String(botPort),
      DIGEST_CHANNEL: DEMO_CHANNELS[1].id,
      DIGEST_CRON: options.digestCron ?? '* * * * *',
      DIGEST_POLL_SECONDS: '10',
      DIGEST_EMPTY: 'post',
      VPN_CONNS_ALLOWED: `${bob?.id},${ada?.id}`,
      VPN_CONNS_ADMINS: `${ada?.id}`,
    },
    healthUrl: `http://127.0.0.1:${botPort}/healthz`,
  };
}

/** The environment of a bot that connects to a real workspace in Socket Mode. */
function realSlackSide(slack: NonNullable<DemoOptions['slack']>, options: DemoOptions): SlackSide {
  const settings = options.slackSettings ?? {};
  return {
    env: {
      // A digest every minute when the admin names a channel for it (and no schedule).
      ...(settings.DIGEST_CHANNEL !== undefined ? { DIGEST_CRON: '* * * * *' } : {}),
      ...settings,
      SLACK_BOT_TOKEN: slack.botToken,
      SLACK_APP_TOKEN: slack.appToken,
    },
  };
}

/** Spawns the built bot with its output in `bot.log`; its clean-up stops it and closes the log. */
function spawnBot(
  dir: string,
  env: NodeJS.ProcessEnv,
  cleanups: Cleanups,
): { bot: ChildProcess; logFile: string } {
  const logFile = join(dir, 'bot.log');
  const log = createWriteStream(logFile);
  const bot = spawn(process.execPath, [join(ROOT, 'dist', 'main.js')], {
    cwd: dir,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  bot.stdout?.pipe(log, { end: false });
  bot.stderr?.pipe(log, { end: false });
  const exited = new Promise<void>((resolve) => bot.once('exit', () => resolve()));
  cleanups.push(async () => {
    if (bot.exitCode === null && bot.signalCode === null) {
      bot.kill('SIGTERM');
      const killer = setTimeout(() => bot.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(killer);
    }
    await new Promise<void>((resolve) => log.end(() => resolve()));
  });
  return { bot, logFile };
}

/** Waits until the bot answers its health URL, or (Socket Mode) logs that it connected. */
async function waitForBot(
  bot: ChildProcess,
  logFile: string,
  healthUrl: string | undefined,
): Promise<void> {
  if (healthUrl !== undefined) {
    await waitUntil(async () => (await fetch(healthUrl)).ok, bot, logFile, 30_000);
    return;
  }
  await waitUntil(
    async () => (await readFile(logFile, 'utf8')).includes('connected to Slack'),
    bot,
    logFile,
    30_000,
  );
}

/**
 * Starts the emulator with a living fleet, the workbench (unless `slack`), and the bot; resolves
 * once the bot answers. Every port is on 127.0.0.1. Each step registers its own clean-up right
 * after it succeeds; a failure runs those registered so far.
 */
export async function startDemo(options: DemoOptions): Promise<Demo> {
  if (options.build !== false) await buildIfStale();
  const dir = await mkdtemp(join(tmpdir(), 'vpn-conns-demo-'));
  const emulator = await startEc2Emulator();
  const fleet = startLivingFleet({
    emulator,
    connections: options.connections,
    ...(options.churnMs !== undefined ? { tickMs: options.churnMs } : {}),
  });
  // Named explicitly (not discovered) so that `corp` is the default endpoint.
  const configFile = join(dir, 'vpn-conns.yml');
  await writeFile(configFile, demoConfigFile(fleet.endpoints, options.slack === undefined));
  const cleanups: Cleanups = [
    async () => fleet.stop(),
    () => emulator.close(),
    () => rm(dir, { recursive: true, force: true }),
  ];
  const cleanup = async () => {
    for (const step of cleanups.reverse()) await step().catch(() => {});
  };
  try {
    const slack =
      options.slack === undefined
        ? await startWorkbenchSide(options, cleanups)
        : realSlackSide(options.slack, options);
    const env = botEnvironment({ dir, emulatorUrl: emulator.url, configFile, slack: slack.env });
    const { bot, logFile } = spawnBot(dir, env, cleanups);
    await waitForBot(bot, logFile, slack.healthUrl);
    const { workbench } = slack;
    return { url: workbench?.url, emulator, fleet, workbench, logFile, bot, close: cleanup };
  } catch (error) {
    await cleanup();
    throw error;
  }
}
