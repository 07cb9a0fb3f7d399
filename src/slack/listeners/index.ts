/** Registers every listener on the app; one file per listener under `commands/`, `actions/` and `events/`. */
import type { App, BlockButtonAction } from '@slack/bolt';
import type { AnswerDeps } from '../answer.js';
import {
  ACTION_EXPORT_CSV,
  ACTION_HOME_REFRESH,
  ACTION_PAGE_NEXT,
  ACTION_PAGE_PREV,
  ACTION_TERMINATE,
  ACTION_TERMINATE_USER,
} from '../blocks/ids.js';
import { createExportCsvAction } from './actions/export-csv.js';
import { createPagingAction } from './actions/paging.js';
import { createTerminateAction, type TerminateDeps } from './actions/terminate.js';
import { COMMAND, createVpnConnsCommand } from './commands/vpn-conns.js';
import {
  type AppHomeDeps,
  createAppHomeOpened,
  createHomeRefreshAction,
} from './events/app-home.js';

/** What the App Home adds to the answers' dependencies. */
export type HomeExtras = Partial<Pick<AppHomeDeps, 'digests' | 'chart'>>;

/**
 * The command, paging, export, the App Home tab and its Refresh button, and —
 * when a terminate service is given — the Terminate buttons. Unknown action ids are never registered, so a forged
 * payload naming one gets no answer from any listener. Every listener runs
 * after the access middleware (`access-middleware.ts`).
 */
export function registerListeners(
  app: App,
  deps: AnswerDeps & Partial<Pick<TerminateDeps, 'terminator'>>,
  home: HomeExtras = {},
): void {
  app.command(COMMAND, createVpnConnsCommand(deps));
  const paging = createPagingAction(deps);
  app.action<BlockButtonAction>(ACTION_PAGE_PREV, paging);
  app.action<BlockButtonAction>(ACTION_PAGE_NEXT, paging);
  app.action<BlockButtonAction>(ACTION_EXPORT_CSV, createExportCsvAction(deps));
  // The App Home tab checks access itself (a refusal is a view): see events/app-home.ts.
  const homeDeps: AppHomeDeps = { ...deps, ...home };
  app.event('app_home_opened', createAppHomeOpened(homeDeps));
  app.action<BlockButtonAction>(ACTION_HOME_REFRESH, createHomeRefreshAction(homeDeps));
  if (deps.terminator) {
    const terminate = createTerminateAction({ ...deps, terminator: deps.terminator });
    app.action<BlockButtonAction>(ACTION_TERMINATE, terminate);
    app.action<BlockButtonAction>(ACTION_TERMINATE_USER, terminate);
  }
}
