/**
 * Every schema change, oldest first. To add a table: a new file here with the
 * next version, its entry below, its interface in schema.ts; no dialect code
 * unless it needs a column type `ColumnTypes` does not have yet.
 */
import { digestState } from './001-digest-state.js';
import { auditLog } from './002-audit-log.js';
import { digestIntents } from './003-digest-intents.js';
import { history } from './004-history.js';
import { alerts } from './005-alerts.js';
import type { Migration } from './migration.js';

export type { Migration } from './migration.js';

export const MIGRATIONS: readonly Migration[] = [
  digestState,
  auditLog,
  digestIntents,
  history,
  alerts,
];
