/**
 * The EC2 emulator in its own process (src/sandbox/ec2-emulator-server.ts), so the process
 * being measured never shares an event loop or a heap with it. The script is run with
 * `node --import tsx` directly and that pid is signalled: `npx` would not forward SIGTERM.
 */
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { ROOT } from './report.js';

export const EMULATOR_SCRIPT = 'src/sandbox/ec2-emulator-server.ts';

export interface EmulatorProcessOptions {
  readonly connections: number;
  readonly endpoints: number;
  /** Frozen clock of the emulator and of the generated fleet. */
  readonly now: string;
  readonly latencyMs?: number;
}

export interface EmulatorProcess {
  readonly url: string;
  readonly endpoints: readonly string[];
  readonly pid: number;
  /** The command line, for the report. */
  readonly command: string;
  /** SIGTERM, then SIGKILL after 5 s. */
  stop(): Promise<void>;
}

const START_TIMEOUT_MS = 60_000;
const STOP_GRACE_MS = 5000;

/** Starts the emulator process and resolves once it has printed its URL. */
export async function startEmulatorProcess(
  options: EmulatorProcessOptions,
): Promise<EmulatorProcess> {
  const args = [
    '--import',
    'tsx',
    EMULATOR_SCRIPT,
    '--connections',
    String(options.connections),
    '--endpoints',
    String(options.endpoints),
    '--now',
    options.now,
    ...(options.latencyMs ? ['--latency-ms', String(options.latencyMs)] : []),
  ];
  const child = spawn(process.execPath, args, {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (chunk: string) => {
    stderr = (stderr + chunk).slice(-2048);
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));

  const first = await new Promise<string>((resolve, reject) => {
    const lines = createInterface({ input: child.stdout });
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`the EC2 emulator did not start within ${START_TIMEOUT_MS} ms\n${stderr}`));
    }, START_TIMEOUT_MS);
    lines.once('line', (line) => {
      clearTimeout(timer);
      resolve(line);
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`the EC2 emulator exited with code ${code} before starting\n${stderr}`));
    });
  });
  const parsed = JSON.parse(first) as { url?: unknown; endpoints?: unknown };
  if (typeof parsed.url !== 'string' || !Array.isArray(parsed.endpoints)) {
    child.kill('SIGKILL');
    throw new Error(`unexpected first line from the EC2 emulator: ${first}`);
  }
  const pid = child.pid as number;
  return {
    url: parsed.url,
    endpoints: parsed.endpoints.map(String),
    pid,
    command: `node ${args.join(' ')}`,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), STOP_GRACE_MS);
      await exited;
      clearTimeout(timer);
    },
  };
}
