/**
 * A TCP port on 127.0.0.1 that was free a moment ago: for the demo's servers and for tests that
 * start a process on a port of their own (or need one nothing listens on).
 */
import { createServer } from 'node:net';

/** Asks the kernel for a free loopback port, then releases it. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      if (address === null || typeof address === 'string') {
        server.close(() => reject(new Error('no port')));
        return;
      }
      server.close(() => resolve(address.port));
    });
  });
}
