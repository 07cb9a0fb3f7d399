/**
 * Entry point of `npm run demo` (see ./demo.ts). Prints one line, the page's address, then runs
 * until Ctrl-C (SIGINT) or SIGTERM, and stops everything it started.
 *
 *   DEMO_PORT=3000 DEMO_CONNECTIONS=300 npm run demo
 *   SLACK_BOT_TOKEN=xoxb-… SLACK_APP_TOKEN=xapp-… npm run demo -- --slack
 */
import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { startDemo } from './demo.js';

function integer(name: string, fallback: number, min: number, max: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw.trim() === '') return fallback;
  const n = Number(raw);
  if (!Number.isSafeInteger(n) || n < min || n > max) {
    throw new Error(
      `${name} must be a whole number from ${min} to ${max}, got ${JSON.stringify(raw)}`,
    );
  }
  return n;
}

/** Settings a Slack admin may give the bot in `--slack` mode (the rest is the demo's). */
const SLACK_SETTINGS = [
  'VPN_CONNS_ALLOWED',
  'VPN_CONNS_ADMINS',
  'VPN_USER_MAP',
  'DIGEST_CHANNEL',
  'DIGEST_CRON',
  'DIGEST_TIMEZONE',
  'LOG_LEVEL',
  'SLACK_API_URL',
];

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { slack: { type: 'boolean' } }, strict: true });
  const port = integer('DEMO_PORT', 3000, 0, 65535);
  const connections = integer('DEMO_CONNECTIONS', 300, 0, 100_000);
  let slack: { botToken: string; appToken: string } | undefined;
  const settings: Record<string, string> = {};
  if (values.slack === true) {
    const botToken = process.env.SLACK_BOT_TOKEN ?? '';
    const appToken = process.env.SLACK_APP_TOKEN ?? '';
    if (!botToken.startsWith('xoxb-') || !appToken.startsWith('xapp-')) {
      throw new Error(
        '--slack needs SLACK_BOT_TOKEN (xoxb-…) and SLACK_APP_TOKEN (xapp-…) of an app created ' +
          'from manifest.socket.yml (see the README, "Socket Mode").',
      );
    }
    slack = { botToken, appToken };
    for (const name of SLACK_SETTINGS) {
      const value = process.env[name];
      if (value !== undefined) settings[name] = value;
    }
  }

  const demo = await startDemo({ port, connections, slack, slackSettings: settings });
  process.stdout.write(
    demo.url === undefined
      ? `vpn-conns demo: the bot is connected to your Slack workspace (Socket Mode); AWS is emulated (${demo.emulator.url}), log ${demo.logFile}\n`
      : `vpn-conns demo: ${demo.url}\n`,
  );

  let stopping = false;
  const stop = () => {
    if (stopping) return;
    stopping = true;
    void demo.close().then(() => process.exit(0));
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  demo.bot.once('exit', (code, signal) => {
    if (stopping) return;
    stopping = true;
    void readFile(demo.logFile, 'utf8')
      .catch(() => '')
      .then(async (log) => {
        const tail = log.trim().split('\n').slice(-15).join('\n');
        process.stderr.write(
          `vpn-conns demo: the bot stopped (${signal ?? `exit ${code}`}). Its last lines:\n${tail}\n`,
        );
        await demo.close();
        process.exit(1);
      });
  });
}

main().catch((error: unknown) => {
  process.stderr.write(
    `vpn-conns demo: ${error instanceof Error ? error.message : String(error)}\n`,
  );
  process.exit(1);
});
