/**
 * The MCP client transport for one configured server: the SDK's stdio transport (its command run
 * under Parley's stdio guard) or its Streamable HTTP transport.
 */
import { StreamableHTTPClientTransport, type Transport } from '@modelcontextprotocol/client';
import { StdioClientTransport } from '@modelcontextprotocol/client/stdio';
import type { McpServerSettings } from './mcp-config.js';
import { guardedArguments } from './stdio-guard.js';

/** A transport, and the pid of the process behind it (stdio only). */
export interface McpTransport {
  transport: Transport;
  /** The stdio guard's pid while it runs; `null` for HTTP or before start. */
  pid: () => number | null;
  /** Ends the session politely where the transport has one (HTTP `DELETE`); never rejects. */
  terminate: () => Promise<void>;
}

/** Longer stderr lines are cut to this many characters. */
const MAX_STDERR_LINE = 4_096;

/** How long `terminate` waits for the server to acknowledge the end of its session. */
const TERMINATE_TIMEOUT_MS = 1_000;

/**
 * Creates the transport for a server. Nothing starts until the MCP client connects it. A stdio
 * server's stderr is read line by line and handed to `onStderr`.
 *
 * @example
 * const { transport } = createMcpTransport(settings, (line) => logger.info({ line }));
 * await client.connect(transport);
 */
export function createMcpTransport(
  settings: McpServerSettings,
  onStderr: (line: string) => void,
): McpTransport {
  if (settings.transport === 'stdio') {
    const transport = new StdioClientTransport({
      command: process.execPath,
      args: guardedArguments(settings.command, settings.args),
      env: settings.env,
      ...(settings.cwd === undefined ? {} : { cwd: settings.cwd }),
      stderr: 'pipe',
    });
    forwardLines(transport, onStderr);
    return { transport, pid: () => transport.pid, terminate: () => Promise.resolve() };
  }
  const transport = new StreamableHTTPClientTransport(new URL(settings.url), {
    requestInit: { headers: settings.headers },
  });
  return {
    transport,
    pid: () => null,
    terminate: () => terminateSession(transport),
  };
}

function forwardLines(transport: StdioClientTransport, onLine: (line: string) => void): void {
  let pending = '';
  // `stderr` is a PassThrough that exists before start, so early output is not lost.
  transport.stderr?.on('data', (chunk: Buffer) => {
    const lines = (pending + chunk.toString('utf8')).split('\n');
    pending = lines.pop() ?? '';
    // A server that never ends its line must not grow Parley's memory.
    if (pending.length > MAX_STDERR_LINE) {
      lines.push(pending);
      pending = '';
    }
    for (const line of lines) {
      if (line.trim() === '') continue;
      onLine(line.length > MAX_STDERR_LINE ? `${line.slice(0, MAX_STDERR_LINE)}…` : line);
    }
  });
}

async function terminateSession(transport: StreamableHTTPClientTransport): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  // The SDK's DELETE takes no signal; an unresponsive server must not hold up shutdown.
  const timeout = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, TERMINATE_TIMEOUT_MS);
  });
  await Promise.race([transport.terminateSession().catch(() => undefined), timeout]);
  clearTimeout(timer);
}
