import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { BASE_SCOPES, METHOD_SCOPES } from '../../src/slack/scopes.js';

interface Manifest {
  display_information: { name: string; description?: string };
  features: {
    app_home?: { home_tab_enabled?: boolean; messages_tab_enabled?: boolean };
    bot_user: { display_name: string };
    slash_commands: {
      command: string;
      description: string;
      usage_hint?: string;
      url?: string;
      should_escape?: boolean;
    }[];
  };
  oauth_config: { scopes: { bot: string[] } };
  settings: {
    event_subscriptions?: { request_url?: string; bot_events?: string[] };
    interactivity: { is_enabled: boolean; request_url?: string };
    socket_mode_enabled: boolean;
  };
}

const load = (file: string) => parse(readFileSync(file, 'utf8')) as Manifest;

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? sourceFiles(path) : path.endsWith('.ts') ? [path] : [];
  });
}

/** Every Web API method the product calls through a Bolt/WebClient `client`. */
function methodsUsed(): Set<string> {
  const used = new Set<string>();
  for (const file of sourceFiles('src')) {
    const text = readFileSync(file, 'utf8');
    // Only Slack code: the AWS and database clients have `client.send`, `client.query`, ….
    if (!file.startsWith(join('src', 'slack')) && !text.includes('@slack/')) continue;
    for (const match of text.matchAll(/client\.((?:[a-z]+\.)*[a-zA-Z0-9]+)\(/g)) {
      if (match[1]) used.add(match[1]);
    }
  }
  return used;
}

describe.each(['manifest.yml', 'manifest.socket.yml'])('%s', (file) => {
  const manifest = load(file);

  it("follows Slack's manifest rules for the name and the command", () => {
    expect(manifest.display_information.name.length).toBeGreaterThanOrEqual(1);
    expect(manifest.display_information.name.length).toBeLessThanOrEqual(35);
    expect(manifest.features.bot_user.display_name.length).toBeLessThanOrEqual(80);
    for (const command of manifest.features.slash_commands) {
      expect(command.command).toMatch(/^\/[a-z0-9_-]{1,31}$/);
      expect(command.description.length).toBeGreaterThan(0);
      expect(command.should_escape).toBe(true);
    }
    expect(manifest.features.slash_commands.map((c) => c.command)).toEqual(['/vpn-conns']);
    expect(manifest.settings.interactivity.is_enabled).toBe(true);
  });

  it('enables the Home tab and subscribes to app_home_opened, the one event the bot listens to', () => {
    expect(manifest.features.app_home?.home_tab_enabled).toBe(true);
    // Export CSV and reports reach people in the bot's direct messages.
    expect(manifest.features.app_home?.messages_tab_enabled).toBe(true);
    expect(manifest.settings.event_subscriptions?.bot_events).toEqual(['app_home_opened']);
    const events = new Set<string>();
    for (const file of sourceFiles(join('src', 'slack'))) {
      for (const match of readFileSync(file, 'utf8').matchAll(/app\.event\('([a-z_]+)'/g)) {
        if (match[1]) events.add(match[1]);
      }
    }
    expect([...events]).toEqual(['app_home_opened']);
  });

  it('declares exactly the bot scopes the code uses', () => {
    const used = methodsUsed();
    const unknown = [...used].filter((m) => !(m in METHOD_SCOPES));
    expect(unknown, 'methods missing from METHOD_SCOPES').toEqual([]);
    const needed = new Set([...BASE_SCOPES, ...[...used].flatMap((m) => METHOD_SCOPES[m] ?? [])]);
    expect([...manifest.oauth_config.scopes.bot].sort()).toEqual([...needed].sort());
  });
});

describe('the two manifests', () => {
  it('differ only in transport: URLs for HTTP mode, socket_mode_enabled for Socket Mode', () => {
    const http = load('manifest.yml');
    const socket = load('manifest.socket.yml');
    expect(http.settings.socket_mode_enabled).toBe(false);
    expect(http.features.slash_commands[0]?.url).toMatch(/\/slack\/events$/);
    expect(http.settings.interactivity.request_url).toMatch(/\/slack\/events$/);
    expect(socket.settings.socket_mode_enabled).toBe(true);
    expect(socket.features.slash_commands[0]?.url).toBeUndefined();
    expect(socket.settings.interactivity.request_url).toBeUndefined();
    expect(http.settings.event_subscriptions?.request_url).toMatch(/\/slack\/events$/);
    expect(socket.settings.event_subscriptions?.request_url).toBeUndefined();
    expect(socket.oauth_config.scopes.bot).toEqual(http.oauth_config.scopes.bot);
  });
});
