/**
 * Answer work waits its turn behind acks. Slack gives up on a command not acknowledged within
 * 3 s, and an ack is little work once its request is read; building and posting an answer is
 * much more. Node runs every I/O callback that is ready (new commands, hence their acks) before
 * the `setImmediate` callbacks of a loop turn, but then runs *all* of those: a burst of answers
 * each waiting on its own `setImmediate` would run back to back while acks queue. Here waiters
 * are let go one per loop turn, so requests that arrived meanwhile are read and acked between
 * any two steps of answer work; and only a few answers are posted at once, so that their
 * responses do not all land in one turn either. One per app, never module state.
 */
export interface Turns {
  /** Resolves on a later loop turn, after I/O already pending; at most one waiter per turn. */
  next(): Promise<void>;
  /** Runs `task` on its turn once fewer than `inFlight` tasks run; settles as it settles. */
  run<T>(task: () => Promise<T>): Promise<T>;
}

/** At most this many answers are posted at once by default. */
export const ANSWERS_IN_FLIGHT = 4;

/** Builds an empty queue of answer steps. */
export function createTurns(options: { readonly inFlight?: number } = {}): Turns {
  const inFlight = options.inFlight ?? ANSWERS_IN_FLIGHT;
  const waiting: (() => void)[] = [];
  let head = 0;
  let scheduled = false;
  const release = () => {
    const resolve = waiting[head];
    waiting[head++] = noop;
    if (head === waiting.length) {
      waiting.length = 0;
      head = 0;
      scheduled = false;
    } else {
      setImmediate(release);
    }
    resolve?.();
  };
  const next = () =>
    new Promise<void>((resolve) => {
      waiting.push(resolve);
      if (!scheduled) {
        scheduled = true;
        setImmediate(release);
      }
    });

  let running = 0;
  const slots: (() => void)[] = [];
  const acquire = (): Promise<void> => {
    if (running >= inFlight) return new Promise((resolve) => slots.push(resolve));
    running++;
    return Promise.resolve();
  };
  const free = () => {
    const nextTask = slots.shift();
    if (nextTask) nextTask();
    else running--;
  };
  return {
    next,
    async run(task) {
      await acquire();
      try {
        await next();
        return await task();
      } finally {
        free();
      }
    },
  };
}

function noop(): void {}
