import type { ConversationEffects, ConversationSettings } from '../../actors/conversation-state.js';

/** Conversation settings with the production defaults, for actor tests. */
export const TEST_CONVERSATION_SETTINGS: ConversationSettings = {
  maxParticipants: 10,
  historyMessages: 200,
  overlapPolicy: 'queue',
  approvalTimeoutMs: 300_000,
  welcomeLimits: {
    max_frame_bytes: 65_536,
    max_content_chars: 16_000,
    outbound_buffer_frames: 256,
    rate_limit_messages: 20,
    rate_limit_window_ms: 10_000,
    heartbeat_interval_ms: 30_000,
  },
};

/** An effects port that does nothing and always has room for a turn, for actor tests. */
export const NO_CONVERSATION_EFFECTS: ConversationEffects = {
  hasTurnRoom: () => true,
  publish: () => undefined,
  recordInput: () => undefined,
  reserveTurnSlot: () => undefined,
  releaseTurnSlot: () => undefined,
  submitTurn: () => undefined,
  cancelTurn: () => undefined,
  resumeTurn: () => undefined,
  closeConnection: () => undefined,
};
