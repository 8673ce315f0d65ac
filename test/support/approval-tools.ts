/**
 * A tool that needs a participant's approval, with a record of the calls that really ran, and a
 * scripted model that calls it: for tests (and golden recordings) of tool approval.
 */
import { z } from 'zod';
import type { LanguageModel, ModelStreamPart } from '../../src/agent/model.js';
import { ToolRegistry } from '../../src/tools/registry.js';
import { defineTool } from '../../src/tools/tool.js';

/** What the model asks to send in every approval test. */
export const REPORT_EMAIL = { to: 'board@example.com', subject: 'Q3 report' };

const usage = { inputTokens: 1, outputTokens: 1 };

/**
 * A model that calls `send_email` when the user's message says "send", then reports what the
 * tool answered ("Sent to …", or the error it got); any other message gets "Nothing to send.".
 */
export function createMailingModel(): LanguageModel {
  return {
    specificationVersion: 'parley.model.v1',
    provider: 'test',
    modelId: 'mailer',
    async *stream({ messages }) {
      await Promise.resolve();
      const last = messages.at(-1);
      const say = (text: string): ModelStreamPart[] => [
        { type: 'text-delta', delta: text },
        { type: 'finish', finishReason: 'stop', usage },
      ];
      if (last?.role === 'tool') {
        const output = last.output as { to?: string; error?: { message: string } };
        yield* say(
          last.isError
            ? `I did not send it: ${output.error?.message ?? 'the tool failed'}`
            : `Sent to ${output.to ?? '?'}.`,
        );
        return;
      }
      if (last?.role !== 'user' || !/send/i.test(last.content)) {
        yield* say('Nothing to send.');
        return;
      }
      yield { type: 'text-delta', delta: 'Sending it. ' };
      yield {
        type: 'tool-call',
        toolCallId: `call_${String(messages.length)}`,
        toolName: 'send_email',
        input: REPORT_EMAIL,
      };
      yield { type: 'finish', finishReason: 'tool-calls', usage };
    },
  };
}

/** A `send_email` tool with `needsApproval`, the arguments of every call that ran, the model. */
export function approvalTools() {
  const sent: unknown[] = [];
  const sendEmail = defineTool({
    name: 'send_email',
    description: 'Sends an e-mail. A participant must approve each one.',
    parameters: z.object({ to: z.string(), subject: z.string() }),
    needsApproval: true,
    execute: (parameters) => {
      sent.push(parameters);
      return { sent: true, to: parameters.to };
    },
  });
  return { sent, tools: new ToolRegistry([sendEmail]), model: createMailingModel() };
}
