/**
 * `parley-engine/replay`: recordings (a conversation's log as JSONL), replaying them under virtual
 * time, and comparing frames (docs/EVENT_LOG.md, "Replay").
 *
 * @example
 * import { replayRecording } from 'parley-engine/replay';
 * const result = await replayRecording('session.jsonl');
 */
export { replayRecording, type ReplayOptions, type ReplayResult } from './replay-recording.js';
export {
  parseRecording,
  readRecording,
  formatRecording,
  type Recording,
} from './read-recording.js';
export { exportConversation } from './export-conversation.js';
export { firstDivergence, TIMING_FIELDS, type FrameDivergence } from './compare-frames.js';
export { VirtualClock } from './virtual-clock.js';
