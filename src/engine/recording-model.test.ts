import { VirtualTimeScheduler } from 'rxjs';
import { describe, expect, it } from 'vitest';
import type { LanguageModel, ModelStreamPart } from '../agent/model.js';
import { recordingModel } from './recording-model.js';

type Recorded = { step: number; offsetMs: number; part: ModelStreamPart };

const TEXT: ModelStreamPart = { type: 'text-delta', delta: 'Hi' };
const FINISH: ModelStreamPart = {
  type: 'finish',
  finishReason: 'stop',
  usage: { inputTokens: 1, outputTokens: 1 },
};

/** A model whose stream runs `body`; `log` says what the reader and the model saw, in order. */
function scriptedModel(
  body: (log: string[]) => AsyncGenerator<ModelStreamPart>,
  log: string[],
): LanguageModel {
  return {
    specificationVersion: 'parley.model.v2',
    provider: 'test',
    modelId: 'scripted',
    stream: () => body(log),
  };
}

function recorded(model: LanguageModel, clock = new VirtualTimeScheduler()) {
  const records: Recorded[] = [];
  const wrapped = recordingModel(
    model,
    (step, offsetMs, part) => {
      records.push({ step, offsetMs, part });
    },
    clock,
  );
  return { wrapped, records, clock };
}

const REQUEST = { messages: [], tools: [] };
/** One turn of the event loop, as a model's network read takes. */
const tick = () => new Promise<void>((resolve) => setImmediate(resolve));

const read = async (stream: AsyncIterable<ModelStreamPart>, seen: string[]) => {
  for await (const part of stream) seen.push(`read ${part.type}`);
};

describe('recordingModel', () => {
  it('records each part, with its step and offset, before the reader sees it', async () => {
    const log: string[] = [];
    const clock = new VirtualTimeScheduler();
    const model = scriptedModel(async function* () {
      await tick();
      yield TEXT;
      clock.frame = 25;
      yield FINISH;
    }, log);
    const { wrapped, records } = recorded(model, clock);
    const signal = new AbortController().signal;
    const seen: string[] = [];
    const original = records.push.bind(records);
    records.push = (...items) => {
      seen.push(...items.map((item) => `record ${item.part.type}`));
      return original(...items);
    };

    await read(wrapped.stream(REQUEST, { signal }), seen);
    await read(wrapped.stream(REQUEST, { signal }), seen);

    expect(seen).toEqual([
      'record text-delta',
      'read text-delta',
      'record finish',
      'read finish',
      'record text-delta',
      'read text-delta',
      'record finish',
      'read finish',
    ]);
    expect(records.map(({ step, offsetMs }) => [step, offsetMs])).toEqual([
      [1, 0],
      [1, 25],
      [2, 0],
      [2, 0],
    ]);
  });

  it('opens the stream at the first read, not when it is asked for', async () => {
    const log: string[] = [];
    const model = scriptedModel(async function* (calls) {
      calls.push('opened');
      await tick();
      yield FINISH;
    }, log);
    let opened = 0;
    const counting: LanguageModel = {
      ...model,
      stream: (...args: Parameters<LanguageModel['stream']>) => {
        opened += 1;
        return model.stream(...args);
      },
    };
    const { wrapped } = recorded(counting);

    const stream = wrapped.stream(REQUEST, { signal: new AbortController().signal });
    expect(opened).toBe(0);
    await read(stream, []);
    expect(opened).toBe(1);
  });

  it('records a failing stream as an error part, and rethrows', async () => {
    const failure = new Error('connection reset');
    const model = scriptedModel(async function* () {
      yield TEXT;
      await tick();
      throw failure;
    }, []);
    const { wrapped, records } = recorded(model);
    const stream = wrapped.stream(REQUEST, { signal: new AbortController().signal });

    await expect(read(stream, [])).rejects.toBe(failure);
    expect(records.map((record) => record.part)).toEqual([TEXT, { type: 'error', error: failure }]);
    // Ended: a later read is done, and records nothing.
    await expect(stream[Symbol.asyncIterator]().next()).resolves.toMatchObject({ done: true });
    expect(records).toHaveLength(2);
  });

  it('records a model that throws as it is called', async () => {
    const failure = new Error('no such model');
    const model = {
      specificationVersion: 'parley.model.v2',
      provider: 'test',
      modelId: 'broken',
      stream: () => {
        throw failure;
      },
    } as unknown as LanguageModel;
    const { wrapped, records } = recorded(model);

    await expect(
      read(wrapped.stream(REQUEST, { signal: new AbortController().signal }), []),
    ).rejects.toBe(failure);
    expect(records.map((record) => record.part)).toEqual([{ type: 'error', error: failure }]);
  });

  it('records no error part for a stream its signal aborted', async () => {
    const controller = new AbortController();
    const model = scriptedModel(async function* () {
      yield TEXT;
      await tick();
      controller.abort();
      throw new DOMException('aborted', 'AbortError');
    }, []);
    const { wrapped, records } = recorded(model);

    await expect(read(wrapped.stream(REQUEST, { signal: controller.signal }), [])).rejects.toThrow(
      'aborted',
    );
    expect(records.map((record) => record.part)).toEqual([TEXT]);
  });

  it('closes the model stream when its reader stops early', async () => {
    const log: string[] = [];
    const model = scriptedModel(async function* (calls) {
      try {
        await tick();
        yield TEXT;
        yield TEXT;
        yield FINISH;
      } finally {
        calls.push('closed');
      }
    }, log);
    const { wrapped, records } = recorded(model);

    for await (const part of wrapped.stream(REQUEST, { signal: new AbortController().signal })) {
      expect(part).toEqual(TEXT);
      break;
    }
    expect(log).toEqual(['closed']);
    expect(records).toHaveLength(1);
  });
});
