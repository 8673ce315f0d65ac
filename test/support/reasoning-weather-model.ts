/**
 * An AI SDK LanguageModel V3 (the shape `@ai-sdk/openai` and the others make) that reasons and
 * calls the weather tool, waiting at gates the test opens, so a test can look at what the
 * participants see between two parts of the stream. It goes through Parley's adapter, retries
 * and deadlines like a provider's model.
 */
import type { LanguageModelV3StreamPart } from '@ai-sdk/provider';
import type { AiSdkLanguageModel } from '../../src/server/build-agents.js';

/** The reasoning before the call, in two pieces; its markup must show as text. */
export const REASONING_BEFORE_CALL = [
  'The user wants the weather in Paris. ',
  'I should call the <b>weather</b> tool.',
];
/** The reasoning once the tool has answered. */
export const REASONING_AFTER_CALL = ' The tool answered; one sentence will do.';
/** The answer after the call. */
export const ANSWER = 'It is sunny in Paris.';
/** The first piece of the arguments, after which the model waits. */
export const FIRST_PIECE = '{"location":"Pa';
/** The weather call's arguments, as JSON text. */
export const ARGUMENTS = '{"location":"Paris","units":"metric","days":2}';
/** The rest of the arguments in pieces of two characters, as a model's tokens come. */
export const LATER_PIECES = ARGUMENTS.slice(FIRST_PIECE.length).match(/.{1,2}/g) ?? [];

/** A promise the test resolves when it has seen what it wanted to see. */
export function gate(): { opened: Promise<void>; open: () => void } {
  let open!: () => void;
  const opened = new Promise<void>((resolve) => (open = resolve));
  return { opened, open };
}

const usage = {
  inputTokens: { total: 40, noCache: 40, cacheRead: 0, cacheWrite: 0 },
  outputTokens: { total: 30, text: 10, reasoning: 20 },
};

/**
 * An AI SDK V3 model that reasons, writes a weather call's arguments piece by piece (waiting at
 * `afterFirstPiece` after the first and at `beforeCall` before the complete call), then reasons
 * a little more and answers.
 */
export function reasoningWeatherModel(afterFirstPiece: Promise<void>, beforeCall: Promise<void>) {
  let calls = 0;
  const steps = (): (LanguageModelV3StreamPart | Promise<void>)[] =>
    calls === 1
      ? [
          { type: 'stream-start', warnings: [] },
          { type: 'reasoning-start', id: 'r1' },
          ...REASONING_BEFORE_CALL.map((delta) => ({
            type: 'reasoning-delta' as const,
            id: 'r1',
            delta,
          })),
          { type: 'reasoning-end', id: 'r1' },
          { type: 'tool-input-start', id: 'call_weather', toolName: 'weather' },
          { type: 'tool-input-delta', id: 'call_weather', delta: FIRST_PIECE },
          afterFirstPiece,
          ...LATER_PIECES.map((delta) => ({
            type: 'tool-input-delta' as const,
            id: 'call_weather',
            delta,
          })),
          { type: 'tool-input-end', id: 'call_weather' },
          beforeCall,
          {
            type: 'tool-call',
            toolCallId: 'call_weather',
            toolName: 'weather',
            input: ARGUMENTS,
          },
          { type: 'finish', usage, finishReason: { unified: 'tool-calls', raw: 'tool_calls' } },
        ]
      : [
          { type: 'stream-start', warnings: [] },
          { type: 'reasoning-start', id: 'r2' },
          { type: 'reasoning-delta', id: 'r2', delta: REASONING_AFTER_CALL },
          { type: 'reasoning-end', id: 'r2' },
          { type: 'text-start', id: 't' },
          { type: 'text-delta', id: 't', delta: ANSWER },
          { type: 'text-end', id: 't' },
          { type: 'finish', usage, finishReason: { unified: 'stop', raw: 'stop' } },
        ];
  const model: AiSdkLanguageModel = {
    specificationVersion: 'v3',
    provider: 'scripted',
    modelId: 'reasoner',
    doStream() {
      calls += 1;
      const parts = steps();
      const stream = new ReadableStream<unknown>({
        async pull(controller) {
          for (let part = parts.shift(); part !== undefined; part = parts.shift()) {
            if (!(part instanceof Promise)) {
              controller.enqueue(part);
              return;
            }
            await part;
          }
          controller.close();
        },
      });
      return Promise.resolve({ stream });
    },
  };
  return model;
}
