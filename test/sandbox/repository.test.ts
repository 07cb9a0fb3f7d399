/**
 * The repository states its own contracts: no source or document points at a file outside it
 * (the emulator's contract once lived in a reference file on one machine).
 */
import { readdir, readFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { expect, it } from 'vitest';
import { ROOT } from '../../src/sandbox/demo.js';

const SCANNED = ['src', 'test', 'bench', 'scripts', 'docs', 'README.md', '.ci'];
const TEXT = /\.(ts|mts|js|mjs|css|html|md|json|yml)$|^run$/;

async function files(path: string): Promise<string[]> {
  const entries = await readdir(path, { withFileTypes: true }).catch(() => null);
  if (entries === null) return [path];
  const nested = await Promise.all(
    entries.map((e) => (e.isDirectory() ? files(join(path, e.name)) : [join(path, e.name)])),
  );
  return nested.flat();
}

it('points at no file outside the repository', async () => {
  const found: string[] = [];
  for (const top of SCANNED) {
    for (const file of await files(join(ROOT, top))) {
      if (!TEXT.test(file.split('/').at(-1) ?? '')) continue;
      const text = await readFile(file, 'utf8');
      for (const match of text.matchAll(/(?<![\w.])\/(work|home|Users)\/[\w./-]+/g)) {
        found.push(`${relative(ROOT, file)}: ${match[0]}`);
      }
    }
  }
  expect(found).toEqual([]);
});

it("states the EC2 emulator's contract inside the repository, and the emulator points at it", async () => {
  const contract = await readFile(join(ROOT, 'docs', 'ec2-emulator.md'), 'utf8');
  for (const action of [
    'DescribeClientVpnConnections',
    'DescribeClientVpnEndpoints',
    'TerminateClientVpnConnections',
  ]) {
    expect(contract).toContain(`## ${action}`);
  }
  const source = await readFile(join(ROOT, 'src', 'sandbox', 'ec2-emulator.ts'), 'utf8');
  expect(source).toContain('docs/ec2-emulator.md');
});
