import { recordAgent, type Agent } from '../agent/agent.js';
import type { ParleyConfig } from '../config.js';
import type { ReplaySettings } from '../event-log/log-entry.js';
import { MAX_CONTENT_CHARS } from '../protocol/frames.js';

/** A conversation's settings, from the server configuration and its agent. */
export function conversationSettings(config: ParleyConfig, agent: Agent | undefined) {
  return {
    maxParticipants: config.maxParticipants,
    historyMessages: config.historyMessages,
    overlapPolicy: config.overlapPolicy,
    approvalTimeoutMs: config.approvalTimeoutMs,
    ...(agent === undefined ? {} : { agent: { id: agent.id, model: agent.modelSpec } }),
    welcomeLimits: {
      max_frame_bytes: config.maxFrameBytes,
      max_content_chars: MAX_CONTENT_CHARS,
      outbound_buffer_frames: config.outboundBufferFrames,
      rate_limit_messages: config.rateLimitMessages,
      rate_limit_window_ms: config.rateLimitWindowMs,
      heartbeat_interval_ms: config.heartbeatIntervalMs,
    },
  };
}

/** The settings a replay needs to run the engine as this one runs, with the conversation's agent. */
export function replaySettings(
  config: ParleyConfig,
  agent: Agent,
  withAgent = true,
): ReplaySettings {
  const conversation = conversationSettings(config, agent);
  return {
    token_pacing_ms: config.tokenPacingMs,
    tool_timeout_ms: config.toolTimeoutMs,
    turn_timeout_ms: config.turnTimeoutMs,
    max_steps: config.maxSteps,
    approval_timeout_ms: config.approvalTimeoutMs,
    overlap_policy: config.overlapPolicy,
    history_messages: config.historyMessages,
    max_participants: config.maxParticipants,
    welcome_limits: conversation.welcomeLimits,
    model: { provider: agent.model.provider, model_id: agent.model.modelId },
    ...(withAgent ? { agent: recordAgent(agent) } : {}),
  };
}
