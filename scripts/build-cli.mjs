/**
 * Bundles the `vpn-conns` terminal command into dist/bin/ with esbuild.
 *
 * Why a bundle: the AWS SDK's EC2 client is one large module graph; bundling
 * its ES modules lets esbuild drop every EC2 operation the CLI never calls,
 * which halves start-up memory. The gateway stays a separate chunk, loaded
 * only when AWS is called (`help` and bad input never load it).
 *
 * The shebang caps the V8 heap: the CLI streams page by page and keeps no
 * result in memory, so a small heap only makes the garbage collector return
 * memory sooner instead of letting RSS grow with the number of connections.
 */
import { chmod } from 'node:fs/promises';
import { join } from 'node:path';
import { build } from 'esbuild';

export const HEAP_FLAGS = '--max-old-space-size=96 --max-semi-space-size=4';

/** Builds the CLI bundle into `outdir`; returns the path of the executable. */
export async function buildCli(outdir = 'dist/bin') {
  await build({
    entryPoints: { 'vpn-conns': 'src/cli.ts' },
    outdir,
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    // ES module builds first: only they can be tree-shaken.
    mainFields: ['module', 'main'],
    minify: true,
    sourcemap: true,
    legalComments: 'none',
    logLevel: 'warning',
    banner: {
      js: [
        `#!/usr/bin/env -S node ${HEAP_FLAGS}`,
        // CommonJS dependencies inside the ES module bundle still call require().
        "import { createRequire as __vpnConnsCreateRequire } from 'node:module';",
        'const require = __vpnConnsCreateRequire(import.meta.url);',
      ].join('\n'),
    },
  });
  const bin = join(outdir, 'vpn-conns.js');
  await chmod(bin, 0o755);
  return bin;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const bin = await buildCli(process.argv[2]);
  console.log(`built ${bin}`);
}
