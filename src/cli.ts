/**
 * `vpn-conns`: the terminal command. All logic lives in `cli/run.ts`; this
 * file only connects it to the process.
 */
import { runCli, streamOutput } from './cli/run.js';

const stdout = streamOutput(process.stdout);
const stderr = streamOutput(process.stderr);

// `vpn-conns list | head` closes the pipe early: that is not an error.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code === 'EPIPE') process.exit(0);
});

runCli(process.argv.slice(2), { env: process.env, stdout, stderr, warningsOf: process }).then(
  (code) => {
    process.exitCode = code;
    // Idle keep-alive sockets of the SDK must not hold the process open.
    setImmediate(() => process.exit(code));
  },
  (error: unknown) => {
    process.stderr.write(
      `vpn-conns: unexpected error: ${error instanceof Error ? error.stack : String(error)}\n`,
    );
    process.exit(1);
  },
);
