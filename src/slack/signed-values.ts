/**
 * Button values that cannot be forged. A Terminate button's value says which
 * session to end; Slack sends it back in a payload anyone who sees the
 * message can imitate, so it carries an HMAC made with a key only the bot
 * knows. A value that was tampered with fails the check.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { z } from 'zod';
import { UsageError } from '../errors.js';
import { INVALID_BUTTON_MESSAGE, MAX_BUTTON_VALUE } from './blocks/ids.js';

/** Terminate one connection (`conn`) or every active session of a person (`user`). */
export const terminateValueSchema = z.discriminatedUnion('k', [
  z.object({
    k: z.literal('conn'),
    /** Endpoint id and connection id. */
    e: z.string().max(64),
    c: z.string().max(64),
    /** Who, for the messages. */
    n: z.string().max(128),
    /** The list to refresh afterwards: query text and page (absent when too long to carry). */
    q: z.string().max(1500).optional(),
    p: z.number().int().min(0).max(10_000).optional(),
  }),
  z.object({
    k: z.literal('user'),
    n: z.string().max(128),
    /** The endpoint ids the lookup showed; absent = every endpoint (`user NAME all`). */
    e: z.array(z.string().max(64)).optional(),
    q: z.string().max(1500).optional(),
    p: z.number().int().min(0).max(10_000).optional(),
  }),
]);

export type TerminateValue = z.infer<typeof terminateValueSchema>;

export interface ValueSigner {
  /**
   * `base64url(json).mac`, or `null` when it would not fit in a button value or a field is
   * longer than the schema allows (a 200-character user name): then there is no button.
   */
  sign(value: TerminateValue): string | null;
  /** @throws UsageError for anything `sign` did not make. */
  verify(value: unknown): TerminateValue;
}

/** Builds a signer; the key is derived from a secret the bot holds (never sent to Slack). */
export function createValueSigner(secret: string): ValueSigner {
  const key = createHmac('sha256', secret).update('vpn-conns/button-values/v1').digest();
  const mac = (data: string) =>
    createHmac('sha256', key).update(data).digest('base64url').slice(0, 32);
  return {
    sign(value) {
      const parsed = terminateValueSchema.safeParse(value);
      if (!parsed.success) return null;
      const data = Buffer.from(JSON.stringify(parsed.data)).toString('base64url');
      const signed = `${data}.${mac(data)}`;
      return signed.length <= MAX_BUTTON_VALUE ? signed : null;
    },
    verify(value) {
      if (typeof value !== 'string' || value.length > MAX_BUTTON_VALUE)
        throw new UsageError(INVALID_BUTTON_MESSAGE);
      const [data, given, extra] = value.split('.');
      if (data === undefined || given === undefined || extra !== undefined)
        throw new UsageError(INVALID_BUTTON_MESSAGE);
      const expected = Buffer.from(mac(data));
      const actual = Buffer.from(given);
      if (expected.length !== actual.length || !timingSafeEqual(expected, actual)) {
        throw new UsageError(INVALID_BUTTON_MESSAGE);
      }
      try {
        return terminateValueSchema.parse(
          JSON.parse(Buffer.from(data, 'base64url').toString('utf8')),
        );
      } catch (cause) {
        throw new UsageError(INVALID_BUTTON_MESSAGE, { cause });
      }
    },
  };
}
