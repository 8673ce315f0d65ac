import { toParleyError } from '../errors.js';
import type { Recording } from '../replay/read-recording.js';
import type { Timeline } from './build-timeline.js';
import type { HubListener, InspectionHub, RawRecord } from './inspection-hub.js';
import {
  INSPECTOR_PROTOCOL_VERSION,
  type ActorSummary,
  type InspectorMessage,
  type InspectorRequest,
} from './inspector-protocol.js';

/** How often buffered events and actor-list changes go out. */
const EVENT_FLUSH_MS = 50;
const ACTORS_FLUSH_MS = 250;
/** Past this many unsent records, the oldest are dropped and counted as skipped. */
const MAX_BUFFERED_RECORDS = 5_000;

/** What a session needs besides the hub. */
export interface InspectorSessionOptions {
  hub: InspectionHub;
  send: (message: InspectorMessage) => void;
  devMode: boolean;
  machines: Record<'root' | 'conversation' | 'connection', unknown>;
  /** A conversation's persisted log as a recording, or undefined when it has none. */
  loadConversation: (conversationId: string) => Promise<Recording | undefined>;
  parseRecording: (text: string, name: string) => Recording;
  buildTimeline: (recording: Recording) => Promise<Timeline>;
}

/**
 * One connected inspector: answers its requests, streams the events of the actors it
 * subscribed to (a conversation includes its connections) in batches, and sends the changes to
 * the actor list as deltas a few times a second, so 10,000 live actors stay cheap to watch.
 *
 * @example
 * const session = createInspectorSession({ hub, send, devMode, machines, ... });
 * socket.on('message', (data) => session.handle(parseRequest(data)));
 */
export function createInspectorSession(options: InspectorSessionOptions) {
  const { hub, send } = options;
  const subscriptions = new Set<string>();
  const changes = new Map<string, 'added' | 'updated' | 'removed'>();
  let buffered: RawRecord[] = [];
  let skipped = 0;
  let paused = false;

  const wants = (record: RawRecord) => {
    if (subscriptions.size === 0) return false;
    if (subscriptions.has(record.path) || record.path === 'pool') return true;
    const conversation = hub.summary(record.path)?.conversation;
    return conversation != null && subscriptions.has(conversation);
  };

  const listener: HubListener = {
    onRecord(record) {
      if (!wants(record)) return;
      if (paused) {
        skipped += 1;
        return;
      }
      buffered.push(record);
      if (buffered.length > MAX_BUFFERED_RECORDS) {
        buffered.shift();
        skipped += 1;
      }
    },
    onActorChanged(path, change) {
      const previous = changes.get(path);
      // added then updated is still added; added then removed is nothing at all.
      if (previous === 'added' && change === 'removed') changes.delete(path);
      else if (previous !== 'added') changes.set(path, change);
    },
  };
  const stopListening = hub.listen(listener);

  const flushEvents = setInterval(() => {
    if (buffered.length === 0 || paused) return;
    const records = buffered.map((record) => hub.toRecord(record));
    buffered = [];
    send({ type: 'events', records });
  }, EVENT_FLUSH_MS);
  const flushActors = setInterval(() => {
    if (changes.size === 0 || paused) return;
    const added: ActorSummary[] = [];
    const updated: ActorSummary[] = [];
    const removed: string[] = [];
    for (const [path, change] of changes) {
      const summary = hub.summary(path);
      if (change === 'removed' || summary === undefined) removed.push(path);
      else (change === 'added' ? added : updated).push(summary);
    }
    changes.clear();
    send({ type: 'actors.changed', added, updated, removed });
  }, ACTORS_FLUSH_MS);

  const actorMessage = (path: string): InspectorMessage | undefined => {
    const summary = hub.summary(path);
    if (summary === undefined) return undefined;
    return {
      type: 'actor',
      path,
      summary,
      context: hub.context(path),
      recent: hub.recent(path).map((record) => hub.toRecord(record)),
    };
  };

  const sendTimeline = async (recording: Recording | undefined, conversationId: string) => {
    if (recording === undefined) {
      send({
        type: 'error',
        code: 'not_found',
        message: `No log for conversation ${conversationId}.`,
        in_reply_to: 'timeline',
      });
      return;
    }
    const timeline = await options.buildTimeline(recording);
    send({
      type: 'timeline',
      conversation_id: recording.conversationId,
      source: recording.source,
      ...timeline,
    });
  };

  send({
    type: 'welcome',
    protocol_version: INSPECTOR_PROTOCOL_VERSION,
    dev_mode: options.devMode,
    actor_count: hub.actorCount,
    machines: options.machines,
  });

  return {
    async handle(request: InspectorRequest): Promise<void> {
      try {
        switch (request.type) {
          case 'list': {
            const all = hub.list(request.filter);
            send({
              type: 'actors',
              total: all.length,
              offset: request.offset,
              actors: all.slice(request.offset, request.offset + request.limit),
            });
            return;
          }
          case 'subscribe': {
            subscriptions.add(request.path);
            const message = actorMessage(request.path);
            send(
              message ?? {
                type: 'error',
                code: 'not_found',
                message: `No live actor at ${request.path}.`,
                in_reply_to: 'subscribe',
              },
            );
            return;
          }
          case 'unsubscribe':
            subscriptions.delete(request.path);
            return;
          case 'pause':
            paused = true;
            buffered = [];
            send({ type: 'paused' });
            return;
          case 'resume': {
            paused = false;
            send({ type: 'resumed', skipped });
            skipped = 0;
            for (const path of subscriptions) {
              const message = actorMessage(path);
              if (message !== undefined) send(message);
            }
            return;
          }
          case 'send': {
            if (!options.devMode) {
              send({
                type: 'error',
                code: 'policy_violation',
                message: 'Sending events to actors is allowed in development mode only.',
                in_reply_to: 'send',
              });
              return;
            }
            if (!hub.send(request.path, request.event)) {
              send({
                type: 'error',
                code: 'not_found',
                message: `No live actor at ${request.path}.`,
                in_reply_to: 'send',
              });
              return;
            }
            send({ type: 'sent', path: request.path, event_type: request.event.type });
            return;
          }
          case 'timeline':
            await sendTimeline(
              await options.loadConversation(request.conversation_id),
              request.conversation_id,
            );
            return;
          case 'load_recording':
            await sendTimeline(options.parseRecording(request.text, request.name), request.name);
            return;
        }
      } catch (error) {
        const failure = toParleyError(error);
        send({
          type: 'error',
          code: failure.code,
          message: failure.message,
          in_reply_to: request.type,
        });
      }
    },
    close(): void {
      stopListening();
      clearInterval(flushEvents);
      clearInterval(flushActors);
    },
  };
}
