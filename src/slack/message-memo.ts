/**
 * Messages already built from one connections result. Identical commands in a burst share
 * one result object (the connection service's cache), so the first of them builds the message
 * and the others reuse it. Keyed weakly by the result: when the cache lets a result go, its
 * messages go too. One per app, never module state.
 */
import type { ConnectionsResult } from '../services/connections.js';
import type { SlackMessage } from './blocks/limits.js';

export interface MessageMemo {
  get(result: ConnectionsResult, key: string): SlackMessage | undefined;
  set(result: ConnectionsResult, key: string, message: SlackMessage): void;
}

/** Builds an empty memo. */
export function createMessageMemo(): MessageMemo {
  const built = new WeakMap<ConnectionsResult, Map<string, SlackMessage>>();
  return {
    get: (result, key) => built.get(result)?.get(key),
    set(result, key, message) {
      let messages = built.get(result);
      if (!messages) {
        messages = new Map();
        built.set(result, messages);
      }
      messages.set(key, message);
    },
  };
}
