/**
 * Uploads the files that go with an answer (a report's chart and CSV) with
 * `files.uploadV2`: into the channel when the answer was posted there
 * (`public`), else into the asker's direct message, as Export CSV does (a
 * report names people and their hours). A failure is logged and told to the
 * asker; the message itself has gone out already.
 */
import type { webApi } from '@slack/bolt';
import type { Logger } from '../logger.js';
import type { AnswerUpload } from './history-answer.js';

export interface UploadTarget {
  readonly client: webApi.WebClient;
  readonly userId: string;
  /** The channel of a public answer; `null` = the asker's direct message. */
  readonly channelId: string | null;
  readonly logger: Logger;
}

/** Uploads `uploads` in one `files.uploadV2` call; returns where they went, or `null` on failure. */
export async function uploadAnswerFiles(
  uploads: readonly AnswerUpload[],
  target: UploadTarget,
): Promise<string | null> {
  try {
    let channelId = target.channelId;
    if (channelId === null) {
      const dm = await target.client.conversations.open({ users: target.userId });
      channelId = dm.channel?.id ?? null;
      if (channelId === null) throw new Error('conversations.open returned no channel');
    }
    await target.client.filesUploadV2({
      channel_id: channelId,
      file_uploads: uploads.map((u) => ({
        file: typeof u.content === 'string' ? Buffer.from(u.content, 'utf8') : u.content,
        filename: u.filename,
        title: u.title,
        ...(u.altText !== undefined ? { alt_text: u.altText } : {}),
      })),
    });
    return channelId;
  } catch (error) {
    target.logger.warn('could not upload the files of a /vpn-conns answer', error);
    return null;
  }
}
