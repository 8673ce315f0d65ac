/**
 * The worker thread behind {@link ModelThread}: it builds remote models from their specs and runs
 * their streams (HTTP, SSE parsing, the AI SDK's web streams and schemas, retries and deadlines),
 * and sends the parts back, everything of one event-loop turn in one message.
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { LanguageModel, ModelStreamPart } from '../agent/model.js';
import { createModelFromSpec } from './create-model-from-spec.js';
import {
  toThreadError,
  type FromModelThread,
  type ModelThreadData,
  type ModelThreadEvent,
  type ThreadModelSettings,
  type ToModelThread,
} from './model-thread-protocol.js';

const port = parentPort;
if (port === null) throw new Error('model-thread-worker must run in a worker thread.');
const { environment } = workerData as ModelThreadData;

const models = new Map<string, LanguageModel>();
const running = new Map<number, AbortController>();
let outbox: ModelThreadEvent[] = [];
let flushScheduled = false;

function flush(): void {
  flushScheduled = false;
  const message: FromModelThread = { events: outbox };
  outbox = [];
  port?.postMessage(message);
}

/** Queues an event; the queue leaves at the end of this turn of the event loop. */
function emit(event: ModelThreadEvent): void {
  outbox.push(event);
  if (!flushScheduled) {
    flushScheduled = true;
    setImmediate(flush);
  }
}

const logger = {
  warn(fields: Record<string, unknown>, message?: string): void {
    emit({ warn: message ?? '', fields });
  },
};

function modelFor(spec: string, settings: ThreadModelSettings): LanguageModel {
  const key = `${spec}\n${JSON.stringify(settings)}`;
  let model = models.get(key);
  if (model === undefined) {
    const { temperature, maxOutputTokens, ...resilience } = settings;
    model = createModelFromSpec(spec, environment, {
      ...(temperature === undefined ? {} : { temperature }),
      ...(maxOutputTokens === undefined ? {} : { maxOutputTokens }),
      resilience: { ...resilience, logger: logger as never },
    });
    models.set(key, model);
  }
  return model;
}

function toSendable(part: ModelStreamPart): ModelStreamPart {
  return part.type === 'error' ? { type: 'error', error: toThreadError(part.error) } : part;
}

async function run(message: Extract<ToModelThread, { type: 'stream' }>): Promise<void> {
  const { id } = message;
  const controller = new AbortController();
  running.set(id, controller);
  try {
    const model = modelFor(message.spec, message.settings);
    const parts = model.stream(message.request, {
      signal: controller.signal,
      onRetry: (code) => {
        emit({ id, retry: code });
      },
    });
    for await (const part of parts) emit({ id, part: toSendable(part) });
    emit({ id, end: true });
  } catch (error) {
    emit({ id, failure: toThreadError(error) });
  } finally {
    running.delete(id);
  }
}

port.on('message', (message: ToModelThread) => {
  if (message.type === 'abort') {
    running.get(message.id)?.abort();
    return;
  }
  void run(message);
});
