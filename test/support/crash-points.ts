/**
 * Hard crashes at chosen steps of a job, for the interrupted-post tests and the soak: the
 * instance's store and digest poster are wrapped (the harness's `wrapStore`/`wrapPoster` seams),
 * and each call passes a named point first — `store.<method>` before a store call, `slack.post`
 * before a post, `slack.ok` after Slack accepted it and before the job sees the `ts` (the window
 * between Slack's `ok` and the commit), `slack.findPosted`, `slack.complete`.
 *
 * When an armed point is reached the call never returns, as if the process had died there:
 * nothing after it runs, and `crashed` resolves with the point's name. The test then crashes
 * the instance (`harness.restart({ crash: true })`), which closes its store without giving up
 * the lead.
 */
import type { DigestPoster } from '../../src/jobs/digest.js';
import type { StateStore } from '../../src/store/types.js';

/** Which point to crash at: the first one named `step` reached, or the `nth` point reached (1 = next). */
export type CrashTarget = { readonly step: string } | { readonly nth: number };

export interface CrashPoints {
  /** Crash at the target from now on (replaces an armed one). */
  arm(target: CrashTarget): void;
  disarm(): void;
  /** Whether a crash is armed and has not happened. */
  armed(): boolean;
  /** Resolves with the step's name when the next crash happens (ask again after each crash). */
  crashed(): Promise<string>;
  /** Every point reached since the last `resetTrace()`, in order. */
  readonly trace: string[];
  resetTrace(): void;
  wrapStore(store: StateStore): StateStore;
  wrapPoster(poster: DigestPoster): DigestPoster;
}

const NEVER = new Promise<never>(() => {});

/** Crash points for one harness; every instance's store and poster share them. */
export function createCrashPoints(): CrashPoints {
  let target: CrashTarget | null = null;
  let remaining = 0;
  let signal: (step: string) => void = () => {};
  let crashed: Promise<string> = Promise.resolve('');
  /** A fresh, unresolved `crashed` promise (each crash resolves one). */
  const renew = () => {
    crashed = new Promise<string>((resolve) => {
      signal = resolve;
    });
  };
  renew();
  const trace: string[] = [];

  const point = async (step: string): Promise<void> => {
    trace.push(step);
    if (target === null) return;
    const hit = 'step' in target ? target.step === step : --remaining <= 0;
    if (!hit) return;
    target = null;
    const fire = signal;
    renew();
    fire(step);
    // The process is gone: this call, and whatever awaits it, never continues.
    await NEVER;
  };

  return {
    arm(next) {
      target = next;
      remaining = 'nth' in next ? next.nth : 0;
    },
    disarm() {
      target = null;
    },
    armed: () => target !== null,
    crashed: () => crashed,
    trace,
    resetTrace() {
      trace.length = 0;
    },
    wrapStore(store) {
      return new Proxy(store, {
        get(real, property, receiver) {
          const value: unknown = Reflect.get(real, property, receiver);
          if (typeof value !== 'function' || property === 'close') return value;
          const method = value as (...args: unknown[]) => Promise<unknown>;
          return async (...args: unknown[]) => {
            await point(`store.${String(property)}`);
            return method.apply(real, args);
          };
        },
      });
    },
    wrapPoster(poster) {
      return {
        async post(digest, view, intentId) {
          await point('slack.post');
          const posted = await poster.post(digest, view, intentId);
          await point('slack.ok');
          return posted;
        },
        async findPosted(digest, intentId, since) {
          await point('slack.findPosted');
          return poster.findPosted(digest, intentId, since);
        },
        async complete(digest, view, ts) {
          await point('slack.complete');
          return poster.complete(digest, view, ts);
        },
      };
    },
  };
}
