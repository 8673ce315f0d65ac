import { z } from 'zod';
import { defineTool } from '../../src/tools/tool.js';

/** A tool that answers only when the test says so: the conversation stays in calling_tool. */
export function gatedTool() {
  let release!: () => void;
  const released = new Promise<void>((resolve) => (release = resolve));
  const tool = defineTool({
    name: 'slow',
    description: 'Answers when released.',
    parameters: z.object({}),
    execute: async () => {
      await released;
      return { done: true };
    },
  });
  return {
    tool,
    release: () => {
      release();
    },
  };
}
