/**
 * Runs the EC2 emulator filled with a generated fleet, for benchmarks and for
 * trying the CLI by hand:
 *
 *   npx tsx src/sandbox/ec2-emulator-server.ts --connections 10000 --endpoints 3 \
 *     [--port N] [--latency-ms N] [--seed N] [--now 2026-11-27T12:00:00Z]
 *
 * Prints one JSON line `{"url":…,"endpoints":[…]}` on stdout once listening,
 * and runs until SIGTERM or SIGINT. Without `--now` the clock is real and the
 * data is generated relative to start-up; with it, the clock is frozen there.
 *
 * From another program, spawn `node --import tsx src/sandbox/ec2-emulator-server.ts …` and
 * signal that pid: `npx` does not forward SIGTERM to the script.
 */
import { parseArgs } from 'node:util';
import { startEc2Emulator } from './ec2-emulator.js';
import { generateFleet } from './vpn-data.js';

function integer(name: string, value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < 0) {
    throw new Error(`--${name} must be a non-negative integer, got ${JSON.stringify(value)}`);
  }
  return n;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      connections: { type: 'string' },
      endpoints: { type: 'string' },
      port: { type: 'string' },
      'latency-ms': { type: 'string' },
      seed: { type: 'string' },
      now: { type: 'string' },
    },
    strict: true,
  });
  const frozen = values.now === undefined ? undefined : new Date(values.now);
  if (frozen !== undefined && Number.isNaN(frozen.getTime())) {
    throw new Error(`--now must be an ISO date, got ${JSON.stringify(values.now)}`);
  }
  const emulator = await startEc2Emulator({
    port: integer('port', values.port, 0),
    ...(frozen ? { now: () => new Date(frozen) } : {}),
  });
  const fleet = generateFleet({
    connections: integer('connections', values.connections, 1000),
    endpoints: integer('endpoints', values.endpoints, 3),
    seed: integer('seed', values.seed, 1),
    now: frozen ?? new Date(),
  });
  emulator.addEndpoints(fleet.endpoints);
  emulator.addConnections(fleet.connections);
  const latency = integer('latency-ms', values['latency-ms'], 0);
  if (latency > 0) emulator.faults.latency(latency);

  process.stdout.write(
    `${JSON.stringify({ url: emulator.url, endpoints: fleet.endpoints.map((e) => e.id) })}\n`,
  );

  const stop = () => {
    void emulator.close().then(() => process.exit(0));
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
