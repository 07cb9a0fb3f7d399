/** What a digest message shows: built by the digest job (`jobs/digest.ts`), rendered by `slack/blocks/digest.ts`. */
import type { CoverageGap, EndedSession } from '../store/types.js';

export interface DigestView {
  /** The digest's name (`default` for the one from `DIGEST_*` variables). */
  readonly name: string;
  readonly timezone: string;
  /** The interval the digest covers: since the last digest posted, up to the tick. */
  readonly from: Date;
  readonly to: Date;
  readonly sessions: readonly EndedSession[];
  readonly gaps: readonly CoverageGap[];
  readonly aliasOf: (endpointId: string) => string;
  /** Marks a preview (`/vpn-conns digest now`): nothing will be marked reported. */
  readonly preview?: boolean;
}
