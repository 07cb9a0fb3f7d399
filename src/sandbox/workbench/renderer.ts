/** The renderer the workbench uses (see ./types.ts for the contract). */
export { renderMessage } from './plain-render.js';
