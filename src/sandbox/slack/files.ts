/**
 * File uploads as `filesUploadV2` does them: `files.getUploadURLExternal`, a POST of the bytes to
 * the upload URL, then `files.completeUploadExternal` (which shares them in a channel).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { nextTs, type PendingUpload, type StandInState, show } from './state.js';
import type { ConversationMessage, UploadedFile } from './types.js';
import { isObject, type Json, newId, readBody, readUploadContent, sendText, str } from './wire.js';

/** What a file-upload Web API method answers (the same shape as the Web API's `ApiAnswer`). */
interface FileAnswer {
  body: Json;
}

type CompletedUpload = { upload: PendingUpload & { bytes: Buffer }; title?: string };

/** `files.getUploadURLExternal`: announces a file and gives the URL to POST its bytes to. */
export function getUploadUrlExternal(state: StandInState, body: Json): FileAnswer {
  const filename = str(body.filename);
  const length = Number(str(body.length));
  if (filename === undefined || filename === '') {
    return { body: { ok: false, error: 'invalid_arguments' } };
  }
  if (!Number.isInteger(length) || length < 0) {
    return { body: { ok: false, error: 'invalid_arguments' } };
  }
  const fileId = newId('F');
  state.uploads.set(fileId, { fileId, filename, length });
  return { body: { ok: true, upload_url: `${state.origin}/upload/${fileId}`, file_id: fileId } };
}

/** The uploads a `files` list names, or undefined when one is unknown or has no bytes yet. */
function completedUploads(state: StandInState, list: unknown[]): CompletedUpload[] | undefined {
  const pending: CompletedUpload[] = [];
  for (const entry of list) {
    const upload = isObject(entry) ? state.uploads.get(str(entry.id) ?? '') : undefined;
    if (upload === undefined || upload.bytes === undefined || !isObject(entry)) return undefined;
    const title = str(entry.title);
    pending.push({
      upload: { ...upload, bytes: upload.bytes },
      ...(title === undefined ? {} : { title }),
    });
  }
  return pending;
}

/** `files.completeUploadExternal`: keeps the files, and shows them in the channel if one is given. */
export function completeUploadExternal(state: StandInState, body: Json): FileAnswer {
  const list = body.files;
  if (!Array.isArray(list) || list.length === 0) {
    return { body: { ok: false, error: 'invalid_arguments' } };
  }
  const pending = completedUploads(state, list);
  if (pending === undefined) return { body: { ok: false, error: 'file_not_found' } };
  const channelId = str(body.channel_id) ?? str(body.channels);
  const initialComment = str(body.initial_comment);
  const threadTs = str(body.thread_ts);
  const answered: Json[] = [];
  const shownFiles: NonNullable<ConversationMessage['files']> = [];
  for (const { upload, title } of pending) {
    const file: UploadedFile = {
      fileId: upload.fileId,
      filename: upload.filename,
      bytes: upload.bytes,
      content: upload.bytes.toString('utf8'),
    };
    if (channelId !== undefined) file.channelId = channelId;
    if (title !== undefined) file.title = title;
    if (initialComment !== undefined) file.initialComment = initialComment;
    if (threadTs !== undefined) file.threadTs = threadTs;
    state.files.push(file);
    state.uploads.delete(upload.fileId);
    answered.push({ id: upload.fileId, name: upload.filename, title: title ?? upload.filename });
    shownFiles.push({ id: upload.fileId, name: upload.filename, title: title ?? upload.filename });
  }
  if (channelId !== undefined) {
    const message: ConversationMessage = {
      ts: nextTs(state),
      channel: channelId,
      userId: state.botUserId,
      files: shownFiles,
    };
    if (initialComment !== undefined) message.text = initialComment;
    if (threadTs !== undefined) message.threadTs = threadTs;
    show(state, message);
  }
  return { body: { ok: true, files: answered } };
}

/** Handles `POST /upload/<fileId>`: keeps the bytes of an announced file. */
export async function handleUpload(
  state: StandInState,
  req: IncomingMessage,
  res: ServerResponse,
  fileId: string,
): Promise<void> {
  const raw = await readBody(req);
  const upload = state.uploads.get(fileId);
  if (upload === undefined) {
    sendText(res, 404, 'not_found');
    return;
  }
  upload.bytes = await readUploadContent(raw, req.headers);
  sendText(res, 200, `OK - ${raw.length}`);
}
