import { describe, expect, it } from 'vitest';
import { mcpToolName } from './mcp-tool.js';

describe('mcpToolName', () => {
  it('prefixes the tool with its server and two underscores, keeping its spelling', () => {
    expect(mcpToolName('files', 'read_file')).toBe('files__read_file');
    expect(mcpToolName('crm', 'findContact-v2')).toBe('crm__findContact-v2');
  });

  it('refuses names a function-calling API would refuse', () => {
    expect(mcpToolName('files', 'read.file')).toBeUndefined();
    expect(mcpToolName('files', 'read/file')).toBeUndefined();
    expect(mcpToolName('files', 'x'.repeat(58))).toBeUndefined();
    expect(mcpToolName('files', 'x'.repeat(57))).toBe(`files__${'x'.repeat(57)}`);
  });
});
