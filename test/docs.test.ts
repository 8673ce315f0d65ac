import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { CLOSE_CODES, ERROR_CODES } from '../src/errors.js';
import { clientFrameSchema, serverFrameSchema } from '../src/protocol/frames.js';

// The protocol reference is what client authors build against; these checks keep it in step
// with the error table and the frame schemas, so a new code or frame cannot ship undocumented.
const DOC_URL = new URL('../docs/WEBSOCKET_API.md', import.meta.url);
const doc = readFileSync(DOC_URL, 'utf8');

const headings = doc.split('\n').filter((line) => line.startsWith('#'));

function isInHeadingOrBackticks(word: string): boolean {
  return doc.includes(`\`${word}\``) || headings.some((heading) => heading.includes(word));
}

const clientTypes = clientFrameSchema.options.map((option) => option.shape.type.value);
const serverTypes = serverFrameSchema.options.map((option) => option.shape.type.value);

/** Every ```json block of the doc that holds a frame (an object with a `type`). */
function jsonFrameExamples(): Record<string, unknown>[] {
  const blocks = [...doc.matchAll(/```json\n([\s\S]*?)```/g)].map((match) => match[1] ?? '');
  return blocks
    .map((block) => JSON.parse(block) as unknown)
    .filter(
      (value): value is Record<string, unknown> =>
        typeof value === 'object' && value !== null && 'type' in value,
    );
}

describe('docs/WEBSOCKET_API.md', () => {
  it('documents every error code', () => {
    const missing = Object.keys(ERROR_CODES).filter((code) => !doc.includes(`\`${code}\``));
    expect(missing).toEqual([]);
  });

  it('documents every close code', () => {
    const missing = Object.values(CLOSE_CODES).filter(
      (closeCode) => !new RegExp(`\\b${String(closeCode)}\\b`).test(doc),
    );
    expect(missing).toEqual([]);
  });

  it('documents every client frame type', () => {
    expect(clientTypes.filter((type) => !isInHeadingOrBackticks(type))).toEqual([]);
  });

  it('documents every server frame type', () => {
    expect(serverTypes.filter((type) => !isInHeadingOrBackticks(type))).toEqual([]);
  });

  it('shows JSON frame examples that match the frame schemas exactly', () => {
    const examples = jsonFrameExamples();
    expect(examples.length).toBeGreaterThan(0);
    for (const example of examples) {
      // Server frames carry the envelope; client frames never do.
      const schema = 'conversation_id' in example ? serverFrameSchema : clientFrameSchema;
      const parsed = schema.safeParse(example);
      expect(parsed.error?.issues ?? [], JSON.stringify(example)).toEqual([]);
      const option = schema.options.find(
        (candidate) => candidate.shape.type.value === example.type,
      );
      const unknownFields = Object.keys(example).filter(
        (field) => option === undefined || !(field in option.shape),
      );
      expect(unknownFields, JSON.stringify(example)).toEqual([]);
    }
  });
});
