/**
 * Runs the digests on their schedules (node-cron, in each digest's time zone,
 * never overlapping itself) and the collector every `pollSeconds`.
 */
import { createTask, type ScheduledTask } from 'node-cron';
import type { DigestConfig } from '../config.js';
import { describeError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { DigestService } from './service.js';

export interface DigestScheduler {
  start(): void;
  stop(): Promise<void>;
  /** The next scheduled run of a digest, or `null` when unknown. */
  nextRun(name: string): Date | null;
}

/** The next time `cron` fires in `timezone`, without scheduling anything. */
export function nextRunOf(cron: string, timezone: string): Date | null {
  const task = createTask(cron, () => {}, { timezone });
  try {
    // A task that is not started reports no next run; start it just long enough to ask.
    void task.start();
    return task.getNextRun();
  } finally {
    void task.destroy();
  }
}

/** Builds the scheduler; nothing runs until `start()`. */
export function createDigestScheduler(options: {
  digests: readonly DigestConfig[];
  service: DigestService;
  pollSeconds: number;
  logger: Logger;
}): DigestScheduler {
  const { service, logger } = options;
  const tasks = new Map<string, ScheduledTask>();
  let timer: NodeJS.Timeout | undefined;
  let polling: Promise<void> | undefined;
  // Ticks in progress: stop() waits for them, so a digest being posted is also marked reported
  // before leadership is given up (and the store closed) — else the next leader posts it again.
  const ticking = new Set<Promise<unknown>>();

  const poll = () => {
    // Never two collector rounds at once: a slow round makes the next one wait its turn.
    if (polling) return;
    polling = service
      .poll()
      .catch((error: unknown) => logger.error('digest: poll failed', describeError(error)))
      .finally(() => {
        polling = undefined;
      });
  };

  return {
    start() {
      for (const digest of options.digests) {
        const task = createTask(
          digest.cron,
          async (context) => {
            // The scheduled minute, not the moment the timer fired: sessions ending in between go to the next digest.
            const tickAt = new Date(Math.floor(context.date.getTime() / 1000) * 1000);
            const run = service.tick(digest, tickAt);
            ticking.add(run);
            try {
              const outcome = await run;
              logger.debug(`digest ${digest.name} tick ${tickAt.toISOString()}: ${outcome.kind}`);
            } finally {
              ticking.delete(run);
            }
          },
          { timezone: digest.timezone, noOverlap: true, name: `digest-${digest.name}` },
        );
        void task.start();
        tasks.set(digest.name, task);
        logger.info(
          `digest ${digest.name}: "${digest.cron}" in ${digest.timezone} to ${digest.channel}; next ${task.getNextRun()?.toISOString() ?? 'unknown'}`,
        );
      }
      if (options.digests.length > 0) {
        poll();
        timer = setInterval(poll, options.pollSeconds * 1000);
      }
    },
    async stop() {
      if (timer) clearInterval(timer);
      for (const task of tasks.values()) await task.destroy();
      tasks.clear();
      await polling;
      await Promise.allSettled([...ticking]);
      await service
        .release()
        .catch((error: unknown) => logger.warn('digest: release failed', describeError(error)));
    },
    nextRun(name) {
      const task = tasks.get(name);
      if (task) return task.getNextRun();
      const digest = options.digests.find((d) => d.name === name);
      return digest ? nextRunOf(digest.cron, digest.timezone) : null;
    },
  };
}
