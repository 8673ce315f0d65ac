/**
 * Remote models on a worker thread (`PARLEY_MODEL_THREAD=worker`). Reading a provider's stream
 * through the AI SDK costs about 50 µs of CPU per token (web streams, undici, SSE parsing, zod;
 * docs/PERFORMANCE.md), as much as the rest of Parley's token path; on the server's thread it
 * competes with every conversation's frames. Here one worker thread runs every remote model's
 * streams and sends the parts back, everything of one event-loop turn in one message, so the
 * server's thread pays for a message, not for the HTTP stream.
 *
 * The models stay `LanguageModel`s on the server's side: the agent loop, recording and replay see
 * no difference. Each model is also built on the server's thread, so that a missing key or URL
 * stops the server at start as before; keys reach the worker in its `workerData`, in memory only.
 */
import type { Worker } from 'node:worker_threads';
import type {
  LanguageModel,
  ModelCallOptions,
  ModelRequest,
  ModelStreamPart,
} from '../agent/model.js';
import { ParleyError } from '../errors.js';
import type { Logger } from '../logger.js';
import { startModuleWorker } from '../start-worker.js';
import type { ModelEnvironment } from './create-model-from-spec.js';
import {
  fromThreadError,
  type FromModelThread,
  type ModelThreadData,
  type ThreadModelSettings,
  type ToModelThread,
} from './model-thread-protocol.js';

/** One stream's parts as they arrive, read by its `stream()` generator. */
class StreamInbox {
  readonly parts: ModelStreamPart[] = [];
  done = false;
  failure: Error | undefined;
  #wake: (() => void) | undefined;

  constructor(readonly onRetry: ((code: string) => void) | undefined) {}

  push(part: ModelStreamPart): void {
    this.parts.push(part);
    this.#notify();
  }

  end(failure?: Error): void {
    this.done = true;
    this.failure = failure;
    this.#notify();
  }

  /** Resolves once there is a part to read or the stream ended. */
  wait(): Promise<void> {
    if (this.parts.length > 0 || this.done) return Promise.resolve();
    return new Promise((resolve) => {
      this.#wake = resolve;
    });
  }

  #notify(): void {
    const wake = this.#wake;
    this.#wake = undefined;
    wake?.();
  }
}

/**
 * The worker thread and the streams running in it. Started at the first stream; `close()` ends it
 * (a later stream starts a new one).
 *
 * @example
 * const thread = new ModelThread(environment, logger);
 * const model = thread.model('openai:gpt-4o-mini', built, { maxRetries: 2 });
 */
export class ModelThread {
  readonly #environment: ModelEnvironment;
  readonly #logger: Pick<Logger, 'warn'> | undefined;
  readonly #streams = new Map<number, StreamInbox>();
  #worker: Worker | undefined;
  #nextId = 1;

  constructor(environment: ModelEnvironment, logger?: Pick<Logger, 'warn'>) {
    this.#environment = environment;
    this.#logger = logger;
  }

  /** Streams now running in the worker. */
  get activeStreams(): number {
    return this.#streams.size;
  }

  /**
   * The model `spec` names, run in the worker. `local` is the same model built on this thread
   * (by `createModelFromSpec`, which checked the configuration): its name and contract version
   * are this model's.
   */
  model(spec: string, local: LanguageModel, settings: ThreadModelSettings): LanguageModel {
    const stream = (request: ModelRequest, options: ModelCallOptions) =>
      this.#stream(spec, settings, request, options);
    return {
      specificationVersion: local.specificationVersion,
      provider: local.provider,
      modelId: local.modelId,
      stream,
    };
  }

  /** Ends the worker; streams still running end with `provider_unavailable`. */
  async close(): Promise<void> {
    const worker = this.#worker;
    this.#worker = undefined;
    this.#failAll('The model thread was closed.');
    await worker?.terminate();
  }

  async *#stream(
    spec: string,
    settings: ThreadModelSettings,
    request: ModelRequest,
    options: ModelCallOptions,
  ): AsyncGenerator<ModelStreamPart> {
    if (options.signal.aborted) return;
    const id = this.#nextId;
    this.#nextId += 1;
    const inbox = new StreamInbox(options.onRetry);
    this.#streams.set(id, inbox);
    const worker = this.#start();
    const abort = () => {
      this.#post(worker, { type: 'abort', id });
      inbox.end();
    };
    options.signal.addEventListener('abort', abort, { once: true });
    this.#post(worker, { type: 'stream', id, spec, settings, request });
    try {
      for (;;) {
        await inbox.wait();
        // Everything that arrived is yielded before the end is looked at.
        while (inbox.parts.length > 0) {
          const part = inbox.parts.shift() as ModelStreamPart;
          yield part;
        }
        if (inbox.done) {
          if (inbox.failure !== undefined) throw inbox.failure;
          return;
        }
      }
    } finally {
      options.signal.removeEventListener('abort', abort);
      // The reader stopped early (or the stream was aborted): the worker stops the request.
      if (this.#streams.delete(id) && !inbox.done) this.#post(worker, { type: 'abort', id });
    }
  }

  #post(worker: Worker, message: ToModelThread): void {
    if (worker === this.#worker) worker.postMessage(message);
  }

  #start(): Worker {
    if (this.#worker !== undefined) return this.#worker;
    const data: ModelThreadData = { environment: this.#environment };
    const worker = startModuleWorker(import.meta.url, 'model-thread-worker', data);
    // The server's own handles keep the process alive; an idle worker must not.
    worker.unref();
    worker.on('message', (message: FromModelThread) => {
      this.#receive(message);
    });
    const stopped = (reason: string) => {
      if (this.#worker !== worker) return;
      this.#worker = undefined;
      this.#failAll(reason);
    };
    worker.on('error', (error) => {
      stopped(`The model thread failed: ${error.message}`);
    });
    worker.on('exit', (code) => {
      stopped(`The model thread exited with code ${String(code)}.`);
    });
    this.#worker = worker;
    return worker;
  }

  #receive({ events }: FromModelThread): void {
    for (const event of events) {
      if ('warn' in event) {
        this.#logger?.warn(event.fields, event.warn);
        continue;
      }
      const inbox = this.#streams.get(event.id);
      if (inbox === undefined || inbox.done) continue;
      if ('part' in event) {
        const { part } = event;
        inbox.push(
          part.type === 'error'
            ? { type: 'error', error: fromThreadError(part.error as never) }
            : part,
        );
      } else if ('retry' in event) {
        inbox.onRetry?.(event.retry);
      } else if ('end' in event) {
        inbox.end();
      } else {
        inbox.end(fromThreadError(event.failure));
      }
    }
  }

  #failAll(reason: string): void {
    for (const inbox of this.#streams.values()) {
      inbox.end(new ParleyError('provider_unavailable', reason));
    }
  }
}
