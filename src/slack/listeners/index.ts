/** Registers every listener on the app; one file per listener under `commands/` and `actions/`. */
import type { App, BlockButtonAction } from '@slack/bolt';
import type { AnswerDeps } from '../answer.js';
import {
  ACTION_EXPORT_CSV,
  ACTION_PAGE_NEXT,
  ACTION_PAGE_PREV,
  ACTION_TERMINATE,
  ACTION_TERMINATE_USER,
} from '../blocks/ids.js';
import { createExportCsvAction } from './actions/export-csv.js';
import { createPagingAction } from './actions/paging.js';
import { createTerminateAction, type TerminateDeps } from './actions/terminate.js';
import { COMMAND, createVpnConnsCommand } from './commands/vpn-conns.js';

/**
 * The command, paging, export and — when a terminate service is given —
 * the Terminate buttons. Unknown action ids are never registered, so a forged
 * payload naming one gets no answer from any listener. Every listener runs
 * after the access middleware (`access-middleware.ts`).
 */
export function registerListeners(
  app: App,
  deps: AnswerDeps & Partial<Pick<TerminateDeps, 'terminator'>>,
): void {
  app.command(COMMAND, createVpnConnsCommand(deps));
  const paging = createPagingAction(deps);
  app.action<BlockButtonAction>(ACTION_PAGE_PREV, paging);
  app.action<BlockButtonAction>(ACTION_PAGE_NEXT, paging);
  app.action<BlockButtonAction>(ACTION_EXPORT_CSV, createExportCsvAction(deps));
  if (deps.terminator) {
    const terminate = createTerminateAction({ ...deps, terminator: deps.terminator });
    app.action<BlockButtonAction>(ACTION_TERMINATE, terminate);
    app.action<BlockButtonAction>(ACTION_TERMINATE_USER, terminate);
  }
}
