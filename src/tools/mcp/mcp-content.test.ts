import { describe, expect, it } from 'vitest';
import { toolErrorMessage, toToolResult } from './mcp-content.js';

describe('toToolResult', () => {
  it('answers with the structured content when there is some, whatever the text says', () => {
    expect(
      toToolResult({
        content: [{ type: 'text', text: '{"sum":5}' }],
        structuredContent: { sum: 5 },
      }),
    ).toEqual({ sum: 5 });
    expect(toToolResult({ content: [], structuredContent: [1, 2] })).toEqual([1, 2]);
  });

  it('answers with the text of a single text block', () => {
    expect(toToolResult({ content: [{ type: 'text', text: 'hello' }] })).toBe('hello');
  });

  it('keeps several blocks as a list, and says an empty result is empty', () => {
    expect(
      toToolResult({
        content: [
          { type: 'text', text: 'a' },
          { type: 'text', text: 'b', annotations: { priority: 1 } },
        ],
      }),
    ).toEqual({
      content: [
        { type: 'text', text: 'a' },
        { type: 'text', text: 'b' },
      ],
    });
    expect(toToolResult({ content: [] })).toEqual({ content: [] });
  });

  it('gives the decoded size of base64 data instead of the data', () => {
    expect(
      toToolResult({
        content: [
          { type: 'image', data: 'AAAA', mimeType: 'image/png' },
          { type: 'audio', data: 'AAA=', mimeType: 'audio/wav' },
          { type: 'resource', resource: { uri: 'file:///b', blob: 'AA==' } },
        ],
      }),
    ).toEqual({
      content: [
        { type: 'image', mimeType: 'image/png', bytes: 3 },
        { type: 'audio', mimeType: 'audio/wav', bytes: 2 },
        { type: 'resource', uri: 'file:///b', bytes: 1 },
      ],
    });
  });
});

describe('toolErrorMessage', () => {
  it('joins the text blocks of an error result, one a line', () => {
    expect(
      toolErrorMessage({
        content: [
          { type: 'text', text: 'No such file' },
          { type: 'image', data: 'AAAA', mimeType: 'image/png' },
          { type: 'text', text: 'Try another path' },
        ],
        isError: true,
      }),
    ).toBe('No such file\nTry another path');
  });

  it('says so when the error result has no text', () => {
    expect(toolErrorMessage({ content: [], isError: true })).toBe(
      'The tool reported an error without a message.',
    );
  });
});
