/**
 * The Parley wire protocol, importable by clients as `parley-engine/protocol`.
 *
 * @example
 * import { serverFrameSchema } from 'parley-engine/protocol';
 * const frame = serverFrameSchema.parse(JSON.parse(event.data));
 */
export * from './frames.js';
export { parseClientFrame, type ParseResult } from './parse-client-frame.js';
