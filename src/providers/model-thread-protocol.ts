/** Messages between {@link ModelThread} (model-thread.ts) and its worker (model-thread-worker.ts). */
import type { ModelRequest, ModelStreamPart } from '../agent/model.js';
import { ParleyError, type ErrorCode } from '../errors.js';
import type { ModelEnvironment } from './create-model-from-spec.js';

/** What the worker is started with. */
export interface ModelThreadData {
  /** The provider variables (keys and URLs): they stay in this process's memory. */
  environment: ModelEnvironment;
}

/** The settings a model is built with in the worker: data only (no logger, clock or random). */
export interface ThreadModelSettings {
  temperature?: number;
  maxOutputTokens?: number;
  maxRetries?: number;
  firstByteTimeoutMs?: number;
  idleTimeoutMs?: number;
}

/** From the server's thread to the worker. */
export type ToModelThread =
  | {
      type: 'stream';
      id: number;
      spec: string;
      settings: ThreadModelSettings;
      request: ModelRequest;
    }
  | { type: 'abort'; id: number };

/** An error as it crosses the thread: a `ParleyError`'s code, message and details, or a message. */
export type ThreadError =
  | { parley: true; code: ErrorCode; message: string; details?: Record<string, unknown> }
  | { parley: false; message: string };

/** One thing that happened in the worker, in order. */
export type ModelThreadEvent =
  | { id: number; part: ModelStreamPart }
  | { id: number; retry: string }
  | { id: number; end: true }
  | { id: number; failure: ThreadError }
  | { warn: string; fields: Record<string, unknown> };

/** From the worker: everything that happened in one turn of its event loop, in one message. */
export interface FromModelThread {
  events: ModelThreadEvent[];
}

/** Flattens an error for `postMessage` (a class instance would arrive as a plain `Error`). */
export function toThreadError(error: unknown): ThreadError {
  if (error instanceof ParleyError) {
    return {
      parley: true,
      code: error.code,
      message: error.message,
      ...(error.details === undefined ? {} : { details: error.details }),
    };
  }
  return { parley: false, message: error instanceof Error ? error.message : String(error) };
}

/** The error again, on the server's side. */
export function fromThreadError(error: ThreadError): Error {
  if (!error.parley) return new Error(error.message);
  return new ParleyError(error.code, error.message, {
    ...(error.details === undefined ? {} : { details: error.details }),
  });
}
