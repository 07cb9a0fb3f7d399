/**
 * Runs a command once under GNU time and reports its wall time and peak RSS, so every process
 * benchmark measures the same way: `/usr/bin/time -f '%e %M' -o <file> command …`.
 */
import { spawn } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';

export const GNU_TIME = '/usr/bin/time';

export interface TimedRunOptions {
  readonly command: string;
  readonly args: readonly string[];
  /** The whole environment of the child: nothing is inherited. */
  readonly env: Readonly<Record<string, string>>;
  readonly cwd: string;
  /** Where stdout goes: `null` for /dev/null, or a file path (to check the output afterwards). */
  readonly stdoutFile: string | null;
  /** The child is killed after this long and the run reported as failed. */
  readonly timeoutMs: number;
}

export interface TimedRun {
  /** Measured here around the spawn (sub-millisecond; includes GNU time's own exec, ~1 ms). */
  readonly wallMs: number;
  /** GNU time's `%e` (10 ms resolution), kept to cross-check `wallMs`. */
  readonly timeWallS: number;
  /** GNU time's `%M`: peak resident set size of the command, in KB. */
  readonly peakRssKb: number;
  readonly exitCode: number | null;
  readonly timedOut: boolean;
  /** The last 2 KB of stderr, for error messages. */
  readonly stderrTail: string;
}

/** Shell-style rendering of a command, for printing what was run. */
export function describeCommand(
  command: string,
  args: readonly string[],
  env: Readonly<Record<string, string>> = {},
  stdout = '/dev/null',
): string {
  const quote = (s: string) => (/^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`);
  const vars = Object.entries(env).map(([k, v]) => `${k}=${quote(v)}`);
  return [...vars, command, ...args.map(quote), '>', stdout].join(' ');
}

/** Runs the command once under GNU time. Never throws for a failing command: check `exitCode`. */
export async function runTimed(options: TimedRunOptions): Promise<TimedRun> {
  const dir = await mkdtemp(join(tmpdir(), 'vpn-conns-bench-'));
  const timeFile = join(dir, 'time');
  const stdoutFd = openSync(options.stdoutFile ?? '/dev/null', 'w');
  try {
    const child = spawn(
      GNU_TIME,
      ['-f', '%e %M', '-o', timeFile, options.command, ...options.args],
      {
        cwd: options.cwd,
        env: { ...options.env },
        stdio: ['ignore', stdoutFd, 'pipe'],
      },
    );
    const started = performance.now();
    let stderr = '';
    child.stderr?.setEncoding('utf8');
    child.stderr?.on('data', (chunk: string) => {
      stderr = (stderr + chunk).slice(-2048);
    });
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, options.timeoutMs);
    const exitCode = await new Promise<number | null>((resolve, reject) => {
      child.once('error', reject);
      child.once('close', (code) => resolve(code));
    });
    const wallMs = performance.now() - started;
    clearTimeout(timer);
    const report = await readFile(timeFile, 'utf8').catch(() => '');
    // With a failing command GNU time writes "Command exited with non-zero status N" first.
    const last = report.trim().split('\n').at(-1) ?? '';
    const [elapsed, rss] = last.split(' ').map(Number);
    return {
      wallMs,
      timeWallS: elapsed ?? Number.NaN,
      peakRssKb: rss ?? Number.NaN,
      exitCode,
      timedOut,
      stderrTail: stderr,
    };
  } finally {
    closeSync(stdoutFd);
    await rm(dir, { recursive: true, force: true });
  }
}

/** Throws with the command's stderr when a run failed: a failure must never be measured. */
export function assertSucceeded(run: TimedRun, what: string): void {
  if (run.timedOut) throw new Error(`${what}: timed out`);
  if (run.exitCode !== 0 || !Number.isFinite(run.peakRssKb)) {
    throw new Error(`${what}: exit code ${run.exitCode}\n${run.stderrTail}`);
  }
}
