/**
 * A Slack channel ID as the configuration takes it (`C0123456789`, or `G…` for an old private
 * channel): digests, reports and alert rules post there. Names (`#security`) are refused because
 * a channel can be renamed; the message says where Slack shows the ID.
 */
import { z } from 'zod';

/** `C…` or `G…`, upper-case letters and digits. */
export const CHANNEL_ID = /^[CG][A-Z0-9]{6,}$/;

/** The `channel` field of a digest, report or alert rule. */
export const channelIdSchema = z
  .string({ error: 'is required (a channel ID such as C0123456789)' })
  .trim()
  .regex(CHANNEL_ID, {
    error: 'is not a channel ID such as C0123456789 (channel details → bottom of the About tab)',
  });
