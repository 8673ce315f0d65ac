/**
 * What a non-owner instance forwards to a conversation's owner: one participant input (join,
 * leave, `user_message`, `typing_indicator`, `cancel`) of a connection it serves, as a small JSON
 * record with an id that a resend keeps, so the owner can drop duplicates.
 */
import { z } from 'zod';

/** The schema of a forwarded record, checked when the owner reads it. */
export const inboundRecordSchema = z.object({
  /** Unique per record; a resend keeps it. */
  id: z.string().min(1),
  /** The instance that forwarded it: where the participant's connection is. */
  from: z.string().min(1),
  conversation_id: z.string().min(1),
  connection_id: z.string().min(1),
  /** The input as the conversation takes it (the `input` of an `input` log entry). */
  input: z.record(z.string(), z.unknown()).and(z.object({ type: z.string() })),
  /** When it was forwarded, epoch ms. */
  sent_at: z.number().int().nonnegative(),
});

/** A forwarded participant input. */
export type InboundRecord = z.infer<typeof inboundRecordSchema>;

/** The record in a stream entry's fields (`r`: its JSON), or undefined when it is not one. */
export function decodeInboundRecord(fields: readonly string[] | null): InboundRecord | undefined {
  if (fields === null) return undefined;
  const index = fields.indexOf('r');
  const text = index % 2 === 0 ? fields[index + 1] : undefined;
  if (text === undefined) return undefined;
  try {
    const parsed = inboundRecordSchema.safeParse(JSON.parse(text));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}
