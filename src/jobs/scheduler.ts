/**
 * The scheduled-job abstraction: a job is a name, a schedule (a cron
 * expression in a time zone, or a fixed interval), whether only the leader
 * runs it, and `run(at)`. The scheduler fires each job on its schedule
 * (node-cron for cron jobs), never two runs of one job at once, checks
 * leadership before every run of a leader-only job, and on `stop()` waits for
 * runs in progress before giving up the lead — so a digest being posted is
 * also marked reported before another instance may take over.
 *
 * Exactly once per period is the job's part, through the store: it records
 * what it did for the period in the same transaction as its effect (see
 * `jobs/digest.ts` and `jobs/period.ts`). A run that fails leaves its work for
 * the next period; the scheduler logs the failure and keeps the schedule.
 */
import { createTask, type ScheduledTask } from 'node-cron';
import { describeError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { Leadership } from './leadership.js';

/** Fires at the times a cron expression (5 or 6 fields) names in an IANA time zone. */
export interface CronSchedule {
  readonly cron: string;
  readonly timezone: string;
}

/** Fires when the scheduler starts, then every `everyMs`. */
export interface IntervalSchedule {
  readonly everyMs: number;
}

export interface ScheduledJob<Outcome = unknown> {
  /** Unique within a scheduler; used in logs and by `nextRun`. */
  readonly name: string;
  readonly schedule: CronSchedule | IntervalSchedule;
  /** Runs only on the instance that leads (see `Leadership`); elsewhere a run is `not-leader`. */
  readonly leaderOnly: boolean;
  /** Said once in the start-up log line after the schedule (e.g. `to C0123`). */
  readonly description?: string;
  /**
   * One run. `at` is the period's instant: for a cron job the scheduled second (not the moment
   * the timer fired, which is a little later), for an interval job the time of the run.
   * `signal` aborts when the scheduler stops: a run that waits (a pause before trying again)
   * should give up then, as `stop()` waits for it.
   */
  run(at: Date, signal?: AbortSignal): Promise<Outcome>;
}

/** The outcome of a leader-only run on an instance that does not lead. */
export interface NotLeader {
  readonly kind: 'not-leader';
}

export type RunOutcome<Outcome> = Outcome | NotLeader;

export interface Scheduler {
  start(): void;
  /** Stops firing, waits for runs in progress, then gives up the lead. */
  stop(): Promise<void>;
  /** The next run of a cron job (computed from its schedule before `start()`), else `null`. */
  nextRun(name: string): Date | null;
}

export interface SchedulerOptions {
  readonly jobs: readonly ScheduledJob[];
  /** Needed when any job is leader-only. */
  readonly leadership?: Leadership;
  readonly logger: Logger;
  /** The clock for interval runs' `at`; default the system clock. */
  readonly now?: () => Date;
}

const NOT_LEADER: NotLeader = { kind: 'not-leader' };

function isCron(schedule: CronSchedule | IntervalSchedule): schedule is CronSchedule {
  return 'cron' in schedule;
}

/**
 * Runs a job once for `at`, as the scheduler does: a leader-only job first asks `leadership`.
 * Tests call this to step jobs on a manual clock through the same gate.
 */
export async function runJob<Outcome>(
  job: ScheduledJob<Outcome>,
  at: Date,
  leadership: Leadership | undefined,
  signal?: AbortSignal,
): Promise<RunOutcome<Outcome>> {
  if (job.leaderOnly) {
    if (leadership === undefined) throw new Error(`job ${job.name} is leader-only: no leadership`);
    if (!(await leadership.lead())) return NOT_LEADER;
  }
  return job.run(at, signal);
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

/** The scheduled second of a node-cron firing (its `date` carries the firing's milliseconds). */
function scheduledSecond(date: Date): Date {
  return new Date(Math.floor(date.getTime() / 1000) * 1000);
}

function kindOf(outcome: unknown): string {
  if (typeof outcome === 'object' && outcome !== null && 'kind' in outcome) {
    return String(outcome.kind);
  }
  return 'done';
}

function describeSchedule(job: ScheduledJob, next: Date | null): string {
  const suffix = job.description ? ` ${job.description}` : '';
  if (!isCron(job.schedule)) return `every ${job.schedule.everyMs / 1000} s${suffix}`;
  const { cron, timezone } = job.schedule;
  return `"${cron}" in ${timezone}${suffix}; next ${next?.toISOString() ?? 'unknown'}`;
}

/** What a running scheduler keeps: its timers and the runs in progress. */
interface SchedulerState {
  readonly options: SchedulerOptions;
  readonly now: () => Date;
  readonly tasks: Map<string, ScheduledTask>;
  readonly timers: NodeJS.Timeout[];
  /** Jobs with a run in progress: never two runs of one job at once. */
  readonly runningJobs: Set<string>;
  /** Every run in progress: `stop()` waits for them. */
  readonly running: Set<Promise<void>>;
  /** Aborted by `stop()`: runs that wait give up. */
  readonly stopping: AbortController;
}

/** Runs a job once through the leadership gate, logging the outcome or the failure. */
function fire(state: SchedulerState, job: ScheduledJob, at: Date): Promise<void> {
  const { logger, leadership } = state.options;
  state.runningJobs.add(job.name);
  const run = runJob(job, at, leadership, state.stopping.signal)
    .then((outcome) => logger.debug(`job ${job.name} at ${at.toISOString()}: ${kindOf(outcome)}`))
    .catch((error: unknown) => logger.error(`job ${job.name} failed`, describeError(error)))
    .finally(() => {
      state.runningJobs.delete(job.name);
      state.running.delete(run);
    });
  state.running.add(run);
  return run;
}

function startCron(state: SchedulerState, job: ScheduledJob, schedule: CronSchedule): void {
  const task = createTask(
    schedule.cron,
    (context) => fire(state, job, scheduledSecond(context.date)),
    { timezone: schedule.timezone, noOverlap: true, name: job.name },
  );
  void task.start();
  state.tasks.set(job.name, task);
}

function startInterval(state: SchedulerState, job: ScheduledJob, schedule: IntervalSchedule): void {
  const tick = () => {
    // A slow run makes the next one wait its turn rather than run beside it.
    if (!state.runningJobs.has(job.name)) void fire(state, job, state.now());
  };
  tick();
  state.timers.push(setInterval(tick, schedule.everyMs));
}

function nextRunIn(state: SchedulerState, name: string): Date | null {
  const task = state.tasks.get(name);
  if (task) return task.getNextRun();
  const job = state.options.jobs.find((j) => j.name === name);
  return job && isCron(job.schedule) ? nextRunOf(job.schedule.cron, job.schedule.timezone) : null;
}

async function stopAll(state: SchedulerState): Promise<void> {
  const { jobs, leadership, logger } = state.options;
  for (const timer of state.timers) clearInterval(timer);
  state.timers.length = 0;
  for (const task of state.tasks.values()) await task.destroy();
  state.tasks.clear();
  state.stopping.abort();
  await Promise.allSettled([...state.running]);
  // Only now, with no run in progress, may another instance take over.
  if (leadership && jobs.some((job) => job.leaderOnly)) {
    await leadership
      .release()
      .catch((error: unknown) => logger.warn('jobs: release failed', describeError(error)));
  }
}

/** Builds the scheduler; nothing runs until `start()`. */
export function createScheduler(options: SchedulerOptions): Scheduler {
  if (options.leadership === undefined) {
    const needy = options.jobs.find((job) => job.leaderOnly);
    if (needy) throw new Error(`job ${needy.name} is leader-only: the scheduler needs leadership`);
  }
  const state: SchedulerState = {
    options,
    now: options.now ?? (() => new Date()),
    tasks: new Map(),
    timers: [],
    runningJobs: new Set(),
    running: new Set(),
    stopping: new AbortController(),
  };
  return {
    start() {
      for (const job of options.jobs) {
        if (isCron(job.schedule)) startCron(state, job, job.schedule);
        else startInterval(state, job, job.schedule);
        options.logger.info(
          `job ${job.name}: ${describeSchedule(job, nextRunIn(state, job.name))}`,
        );
      }
    },
    stop: () => stopAll(state),
    nextRun: (name) => nextRunIn(state, name),
  };
}
