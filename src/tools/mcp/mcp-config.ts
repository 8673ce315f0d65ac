/**
 * The per-agent MCP configuration: which servers an agent connects, how (stdio or Streamable
 * HTTP), which of their tools it may call, which need a participant's approval, and when each
 * server starts. The schema is what the agents file will validate with.
 */
import { z } from 'zod';

/**
 * A server name: lower-case words joined by single underscores, at most 32 characters. It
 * prefixes the server's tools (`<server>__<tool>`), so it may not hold `__` itself.
 */
export const MCP_SERVER_NAME_PATTERN = /^[a-z][a-z0-9]*(?:_[a-z0-9]+)*$/;

const toolNames = z.array(z.string().min(1).max(128)).min(1);

const settings = {
  /** Allow-list of the server's tool names (as the server names them); absent: every tool. */
  tools: toolNames.optional(),
  /** `true`: every tool of the server needs approval; a list: those tools. */
  needsApproval: z.union([z.boolean(), toolNames]).default(false),
  /** `eager`: connect when Parley starts; `lazy`: on the agent's first turn. */
  startup: z.enum(['eager', 'lazy']).default('eager'),
};

const serverFields = z.strictObject({
  /** stdio: the executable to run (looked up on `PATH`). */
  command: z.string().min(1).optional(),
  /** stdio: its arguments. */
  args: z.array(z.string()).optional(),
  /** stdio: environment variables added to a minimal inherited set (`PATH`, `HOME`, …). */
  env: z.record(z.string(), z.string()).optional(),
  /** stdio: its working directory. */
  cwd: z.string().min(1).optional(),
  /** Streamable HTTP: the endpoint, `http:` or `https:`. */
  url: z.url({ protocol: /^https?$/ }).optional(),
  /** Streamable HTTP: headers sent with every request (credentials, typically). */
  headers: z.record(z.string(), z.string()).optional(),
  ...settings,
});

const STDIO_ONLY = ['args', 'env', 'cwd'] as const;

/** A server to run as a child process, speaking MCP over its stdin and stdout. */
export interface StdioServerSettings {
  transport: 'stdio';
  command: string;
  args: string[];
  env: Record<string, string>;
  cwd?: string;
}

/** A server reached over Streamable HTTP. */
export interface HttpServerSettings {
  transport: 'http';
  url: string;
  headers: Record<string, string>;
}

/** One server's configuration once validated: its transport, and what Parley makes of its tools. */
export type McpServerSettings = (StdioServerSettings | HttpServerSettings) & {
  tools?: string[];
  needsApproval: boolean | string[];
  startup: 'eager' | 'lazy';
};

/**
 * One MCP server: either `command` (stdio, with optional `args`, `env`, `cwd`) or `url`
 * (Streamable HTTP, with optional `headers`), plus `tools`, `needsApproval` and `startup`.
 */
export const mcpServerConfigSchema = serverFields
  .superRefine((server, context) => {
    const hasCommand = server.command !== undefined;
    if (hasCommand === (server.url !== undefined)) {
      context.addIssue({
        code: 'custom',
        message: 'Expected exactly one of `command` (a stdio server) or `url` (Streamable HTTP)',
        path: [],
      });
      return;
    }
    const misplaced = hasCommand ? (['headers'] as const) : STDIO_ONLY;
    for (const field of misplaced) {
      if (server[field] !== undefined) {
        context.addIssue({
          code: 'custom',
          message: hasCommand
            ? 'Only a Streamable HTTP server (`url`) takes `headers`'
            : `Only a stdio server (\`command\`) takes \`${field}\``,
          path: [field],
        });
      }
    }
  })
  .transform((server): McpServerSettings => {
    const common = {
      ...(server.tools === undefined ? {} : { tools: server.tools }),
      needsApproval: server.needsApproval,
      startup: server.startup,
    };
    if (server.command !== undefined) {
      return {
        transport: 'stdio',
        command: server.command,
        args: server.args ?? [],
        env: server.env ?? {},
        ...(server.cwd === undefined ? {} : { cwd: server.cwd }),
        ...common,
      };
    }
    return { transport: 'http', url: server.url ?? '', headers: server.headers ?? {}, ...common };
  });

/**
 * An agent's MCP configuration: its servers by name.
 *
 * @example
 * mcpConfigSchema.parse({
 *   servers: {
 *     files: { command: 'npx', args: ['-y', '@modelcontextprotocol/server-filesystem', '/data'] },
 *     crm: {
 *       url: 'https://crm.example.com/mcp',
 *       headers: { authorization: `Bearer ${process.env.CRM_TOKEN}` },
 *       tools: ['find_contact', 'update_contact'],
 *       needsApproval: ['update_contact'],
 *       startup: 'lazy',
 *     },
 *   },
 * });
 */
export const mcpConfigSchema = z.strictObject({
  servers: z.record(
    z
      .string()
      .max(32)
      .regex(MCP_SERVER_NAME_PATTERN, 'Expected lower-case words joined by single underscores'),
    mcpServerConfigSchema,
  ),
});

/** An agent's MCP configuration as written (the agents file, or code). */
export type McpConfig = z.input<typeof mcpConfigSchema>;

/** An agent's MCP configuration once validated, defaults applied. */
export type McpSettings = z.output<typeof mcpConfigSchema>;

/**
 * The `mcp` field of an agent: validated with {@link mcpConfigSchema} (each issue at its path
 * under `mcp`), kept as written, so an agent defined in code and one read from the agents file
 * hold the same shape.
 *
 * @example
 * z.object({ id: z.string(), mcp: mcpConfigField.optional() });
 */
export const mcpConfigField = z.custom<McpConfig>().superRefine((value, context) => {
  const parsed = mcpConfigSchema.safeParse(value);
  if (parsed.success) return;
  for (const issue of mcpConfigIssues(parsed.error)) {
    context.addIssue({ code: 'custom', ...issue });
  }
});

/**
 * The issues of a failed {@link mcpConfigSchema} parse, each with its path and message; a bad
 * server name says what a name must be rather than zod's "Invalid key in record".
 *
 * @example
 * mcpConfigIssues(mcpConfigSchema.safeParse(config).error); // [{ path: ['servers', 'A'], message }]
 */
export function mcpConfigIssues(error: z.ZodError): { path: PropertyKey[]; message: string }[] {
  return error.issues.map((issue) => ({
    path: issue.path,
    message:
      issue.code === 'invalid_key' ? (issue.issues[0]?.message ?? issue.message) : issue.message,
  }));
}

/**
 * Validates an MCP configuration and applies its defaults; throws a `TypeError` naming each bad
 * field (`Invalid MCP configuration: mcp.servers.files.url: Invalid URL`).
 *
 * @example
 * const { servers } = parseMcpConfig({ servers: { files: { command: 'mcp-files' } } });
 */
export function parseMcpConfig(config: unknown): McpSettings {
  const parsed = mcpConfigSchema.safeParse(config);
  if (parsed.success) return parsed.data;
  const details = mcpConfigIssues(parsed.error)
    .map((issue) => `${['mcp', ...issue.path.map(String)].join('.')}: ${issue.message}`)
    .join('; ');
  throw new TypeError(`Invalid MCP configuration: ${details}`);
}
