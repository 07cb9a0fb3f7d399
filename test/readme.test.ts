/**
 * The README as a new user reads it: every npm script is documented, the quick start says
 * where `npm start` keeps its state, which is where the configuration's default puts it, and
 * the example configuration files are ones the bot accepts.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { DEFAULT_DATABASE_URL, loadConfig } from '../src/config.js';

const readme = readFileSync('README.md', 'utf8');
const pkg = JSON.parse(readFileSync('package.json', 'utf8')) as { scripts: Record<string, string> };

/** The text of one `## ` section. */
function section(title: string): string {
  const start = readme.indexOf(`\n## ${title}\n`);
  if (start < 0) throw new Error(`no section ${title}`);
  const end = readme.indexOf('\n## ', start + 1);
  return readme.slice(start, end < 0 ? undefined : end);
}

describe('README', () => {
  it('documents every npm script', () => {
    for (const script of Object.keys(pkg.scripts)) {
      const documented =
        script === 'test' || script === 'start'
          ? readme.includes(`npm ${script}`)
          : readme.includes(`npm run ${script}`);
      expect(documented, `npm run ${script}`).toBe(true);
    }
  });

  it('says in the quick start where npm start keeps its state, as the default says', () => {
    const path = DEFAULT_DATABASE_URL.replace(/^sqlite:/, '');
    expect(section('Quick start')).toContain(`\`${path}\``);
    expect(section('Quick start')).toContain('DATABASE_URL');
    expect(readFileSync('.gitignore', 'utf8').split('\n')).toContain(
      `${path.replace(/^\.\//, '').split('/')[0]}/`,
    );
  });

  it('gives an alerts example file the configuration accepts, with a rule for every condition', () => {
    const example = /```yaml\n(endpoints:[\s\S]*?alerts:[\s\S]*?)```/.exec(section('Alerts'))?.[1];
    expect(example).toBeDefined();
    const config = loadConfig(
      { AWS_REGION: 'eu-west-1', VPN_CONNS_CONFIG: 'vpn-conns.yml' },
      () => example ?? '',
    );
    expect(config.alerts.rules.map((r) => r.condition.kind).sort()).toEqual([
      'endpointUsagePercent',
      'failedToTerminate',
      'idleHours',
      'maxSessionHours',
      'maxSessionsPerUser',
      'newUser',
      'postureNonCompliant',
    ]);
    expect(config.alerts.maxConnections).toEqual({ prod: 500 });
  });
});
