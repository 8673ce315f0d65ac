import { readFile } from 'node:fs/promises';
import { ParleyError } from '../errors.js';
import {
  LOG_ENTRY_VERSION,
  LOG_ENTRY_VERSIONS,
  logEntrySchema,
  type LogEntry,
} from '../event-log/log-entry.js';

/** A parsed, checked recording of one conversation. */
export interface Recording {
  conversationId: string;
  entries: LogEntry[];
  /** Where it came from, for messages. */
  source: string;
}

/**
 * Parses a JSONL recording (one log entry per line) and checks it: valid JSON, a known entry
 * version, a known entry shape, one conversation, positions increasing, event seqs gapless.
 * Each problem is a `ParleyError` naming the line and the reason.
 *
 * @example
 * const recording = parseRecording(text, 'session.jsonl');
 */
export function parseRecording(text: string, source = 'recording'): Recording {
  const entries: LogEntry[] = [];
  const lines = text.split('\n');
  let conversationId: string | undefined;
  let lastPosition = 0;
  let lastSeq = 0;
  lines.forEach((line, index) => {
    const number = index + 1;
    if (line.trim() === '') return;
    const fail = (reason: string): never => {
      throw new ParleyError('invalid_frame', `${source}:${number}: ${reason}`, {
        details: { line: number },
      });
    };
    let json: unknown;
    try {
      json = JSON.parse(line);
    } catch {
      fail(
        index === lines.length - 1
          ? 'truncated line (not valid JSON, and the file does not end with a newline)'
          : 'not valid JSON',
      );
    }
    const version = (json as { v?: unknown } | null)?.v;
    if (typeof version !== 'number' || !LOG_ENTRY_VERSIONS.includes(version)) {
      fail(
        `unknown entry version ${JSON.stringify(version)} (this parley reads versions ${LOG_ENTRY_VERSIONS.join(' and ')}, writes ${LOG_ENTRY_VERSION})`,
      );
    }
    const parsed = logEntrySchema.safeParse(json);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      fail(`invalid entry: ${issue?.path.join('.') ?? ''} ${issue?.message ?? ''}`.trim());
    }
    const entry = parsed.data as LogEntry;
    conversationId ??= entry.conversation_id;
    if (entry.conversation_id !== conversationId) {
      fail(`entry of conversation ${entry.conversation_id} in a recording of ${conversationId}`);
    }
    if (entry.position <= lastPosition) {
      fail(`position ${entry.position} is not after position ${lastPosition} (out of order)`);
    }
    lastPosition = entry.position;
    if (entry.kind === 'frame' && entry.to === undefined) {
      if (entry.seq !== lastSeq + 1) {
        fail(
          `seq ${entry.seq} follows seq ${lastSeq} (expected ${lastSeq + 1}: out of order or a gap)`,
        );
      }
      lastSeq = entry.seq;
    }
    if (entry.kind === 'conversation.started' && entry.from_seq !== lastSeq) {
      fail(`conversation restarts from seq ${entry.from_seq} but the log is at seq ${lastSeq}`);
    }
    entries.push(entry);
  });
  const first = entries[0];
  if (first === undefined || conversationId === undefined) {
    throw new ParleyError('invalid_frame', `${source}: empty recording`);
  }
  if (first.kind !== 'conversation.started') {
    throw new ParleyError(
      'invalid_frame',
      `${source}:1: a recording starts with a conversation.started entry, not ${first.kind}`,
    );
  }
  return { conversationId, entries, source };
}

/** Reads and parses a recording file. */
export async function readRecording(path: string): Promise<Recording> {
  return parseRecording(await readFile(path, 'utf8'), path);
}

/** A recording as JSONL text, one entry per line. */
export function formatRecording(entries: readonly LogEntry[]): string {
  return entries.map((entry) => JSON.stringify(entry)).join('\n') + '\n';
}
