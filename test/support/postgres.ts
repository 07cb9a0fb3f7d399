/**
 * Vitest globalSetup: gives the tests a Postgres to use as `inject('databaseUrl')`.
 * - `TEST_DATABASE_URL` when set;
 * - else a throwaway cluster from the Postgres server binaries
 *   (`/usr/lib/postgresql/<version>/bin`), in a temp dir on a free port,
 *   stopped and deleted at teardown;
 * - else `''` (the Postgres tests skip themselves), except under CI, which
 *   must run them, so there it throws.
 */
import { execFileSync } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { freePort } from '../../src/sandbox/free-port.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /** A Postgres URL for the tests, or '' when none is available. */
    databaseUrl: string;
  }
}

const POSTGRES_ROOT = '/usr/lib/postgresql';

export interface ServerBinaries {
  initdb: string;
  pgCtl: string;
}

/** The newest installed Postgres server binaries, if any. */
export function findServerBinaries(): ServerBinaries | null {
  if (!existsSync(POSTGRES_ROOT)) return null;
  const versions = readdirSync(POSTGRES_ROOT)
    .filter((entry) => /^\d+$/.test(entry))
    .sort((a, b) => Number(b) - Number(a));
  for (const version of versions) {
    const bin = join(POSTGRES_ROOT, version, 'bin');
    const initdb = join(bin, 'initdb');
    const pgCtl = join(bin, 'pg_ctl');
    if (existsSync(initdb) && existsSync(pgCtl)) return { initdb, pgCtl };
  }
  return null;
}

function idOf(flag: '-u' | '-g'): number {
  return Number(execFileSync('id', [flag, 'postgres'], { encoding: 'utf8' }).trim());
}

/** Postgres refuses to run as root, so as root the commands run as the `postgres` user. */
function runAsServerUser(command: string, args: readonly string[]): void {
  const asRoot = process.getuid?.() === 0;
  const [file, argv] = asRoot
    ? ['runuser', ['-u', 'postgres', '--', command, ...args]]
    : [command, [...args]];
  try {
    // stdin ignored, output captured: pg_ctl's server writes only to its log file.
    execFileSync(file, argv, { stdio: ['ignore', 'pipe', 'pipe'], timeout: 60_000 });
  } catch (error) {
    const output =
      error instanceof Error && 'stderr' in error ? String(error.stderr).trim() : String(error);
    throw new Error(`${command} ${args[0] ?? ''} failed: ${output}`);
  }
}

/** A running throwaway cluster: its URL, and `stop` to stop it and delete its files. */
export interface Cluster {
  url: string;
  stop: () => void;
}

/** Starts a throwaway Postgres cluster (benchmarks use it too). */
export async function startCluster(binaries: ServerBinaries): Promise<Cluster> {
  const dir = mkdtempSync(join(tmpdir(), 'vpn-conns-pg-'));
  const data = join(dir, 'data');
  const log = join(dir, 'server.log');
  let running = false;
  const stop = (): void => {
    if (running) {
      running = false;
      try {
        runAsServerUser(binaries.pgCtl, ['stop', '-D', data, '-m', 'immediate', '-w']);
      } catch {
        // The directory goes anyway; a server that would not stop has already died.
      }
    }
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    if (process.getuid?.() === 0) chownSync(dir, idOf('-u'), idOf('-g'));
    runAsServerUser(binaries.initdb, [
      '-D',
      data,
      '--auth=trust',
      '-U',
      'postgres',
      '--no-sync',
      '--encoding=UTF8',
      '--locale=C',
    ]);
    // A port found free may be taken before the server binds it: try a few.
    for (let attempt = 1; ; attempt += 1) {
      const port = await freePort();
      const serverOptions = `-k ${dir} -p ${port} -h 127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off`;
      try {
        runAsServerUser(binaries.pgCtl, [
          'start',
          '-D',
          data,
          '-l',
          log,
          '-o',
          serverOptions,
          '-w',
        ]);
        running = true;
        return { url: `postgres://postgres@127.0.0.1:${port}/postgres`, stop };
      } catch (error) {
        if (attempt >= 3) {
          const tail = existsSync(log) ? readFileSync(log, 'utf8').slice(-2000) : '';
          throw new Error(`Could not start the test Postgres: ${String(error)}\n${tail}`);
        }
      }
    }
  } catch (error) {
    stop();
    throw error;
  }
}

export default async function setup(project: TestProject): Promise<() => void> {
  const given = process.env.TEST_DATABASE_URL;
  if (given !== undefined && given !== '') {
    project.provide('databaseUrl', given);
    return () => {};
  }
  const binaries = findServerBinaries();
  if (binaries === null) {
    if (process.env.CI) {
      throw new Error(
        `CI must run the Postgres tests: set TEST_DATABASE_URL or install the Postgres server (${POSTGRES_ROOT}/<version>/bin)`,
      );
    }
    project.provide('databaseUrl', '');
    return () => {};
  }
  const cluster = await startCluster(binaries);
  // Teardown does not run if the process exits early; this still stops the server.
  process.once('exit', cluster.stop);
  project.provide('databaseUrl', cluster.url);
  return () => {
    process.off('exit', cluster.stop);
    cluster.stop();
  };
}
