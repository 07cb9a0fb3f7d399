/**
 * Answer work waits its turn behind acks. Slack gives up on a command not acknowledged within
 * 3 s, and an ack is a few microseconds of work once its request is read; building and posting
 * an answer is much more. Node runs every I/O callback that is ready (new commands, hence their
 * acks) before the `setImmediate` callbacks of a loop turn, but then runs *all* of those: a burst
 * of answers each waiting on its own `setImmediate` would run back to back while acks queue.
 * Here the waiters are let go one per loop turn, so the requests that arrived meanwhile are read
 * and acked between any two steps of answer work. One per app, never module state.
 */
export interface Turns {
  /** Resolves on a later loop turn, after I/O already pending; at most one waiter per turn. */
  next(): Promise<void>;
}

/** Builds an empty queue of answer steps. */
export function createTurns(): Turns {
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
  return {
    next: () =>
      new Promise<void>((resolve) => {
        waiting.push(resolve);
        if (!scheduled) {
          scheduled = true;
          setImmediate(release);
        }
      }),
  };
}

function noop(): void {}
