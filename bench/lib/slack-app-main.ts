/**
 * Entry point of the app process started by `startAppProcess` (bench/lib/slack-app.ts): starts
 * the app with the options given as JSON in argv[2], then answers `stats` and `stop` over IPC.
 */
import {
  type AppReply,
  type AppRequest,
  type BenchAppOptions,
  startBenchApp,
} from './slack-app.js';

function reply(message: AppReply): void {
  process.send?.(message);
}

async function main(): Promise<void> {
  const options = JSON.parse(process.argv[2] ?? '{}') as BenchAppOptions;
  const app = await startBenchApp(options);
  process.on('message', (message: AppRequest) => {
    if (message.type === 'stats') reply({ type: 'stats', stats: app.stats() });
    if (message.type === 'invalidate') {
      app.invalidate();
      reply({ type: 'invalidated' });
    }
    if (message.type === 'stop') {
      void app.stop().finally(() => process.exit(0));
    }
  });
  // The benchmark went away: do not linger.
  process.on('disconnect', () => {
    void app.stop().finally(() => process.exit(0));
  });
  reply({ type: 'ready', eventsUrl: app.eventsUrl });
}

main().catch((error: unknown) => {
  reply({ type: 'failed', message: error instanceof Error ? error.message : String(error) });
  process.exit(1);
});
