import { readdir, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { loadConfig } from '../config.js';
import { ParleyError } from '../errors.js';
import { buildAgents } from '../server/build-agents.js';
import { createDefaultToolRegistry } from '../tools/registry.js';
import { formatRecording } from '../replay/read-recording.js';
import { replayRecording, type ReplayResult } from '../replay/replay-recording.js';

/**
 * `parley replay <file|directory> [--live] [--update]`: replays recordings and compares every
 * frame. Exit 0 when all match, 1 when one diverges, 2 when one cannot be read.
 */
export async function replayCommand(
  target: string | undefined,
  values: { live?: boolean; update?: boolean },
): Promise<number> {
  if (target === undefined) {
    process.stderr.write('parley replay: give a recording file or a directory of them\n');
    return 2;
  }
  const kind = await stat(target).catch(() => undefined);
  if (kind === undefined) {
    process.stderr.write(`parley replay: no such file or directory: ${target}\n`);
    return 2;
  }
  const files = kind.isDirectory()
    ? (await readdir(target))
        .filter((name) => name.endsWith('.jsonl'))
        .sort()
        .map((name) => join(target, name))
    : [target];
  // `--live` runs the recorded agent against the model configured now (PARLEY_MODEL, the agents
  // file, the providers' keys), so a recording made with a real provider calls it again.
  const agents =
    values.live === true
      ? await buildAgents(loadConfig(process.env), {
          modelWasSet: (process.env.PARLEY_MODEL ?? '') !== '',
          toolNames: createDefaultToolRegistry()
            .describe()
            .map((tool) => tool.name),
        })
      : undefined;
  let diverged = 0;
  let unreadable = 0;
  for (const [index, file] of files.entries()) {
    const prefix = files.length > 1 ? `[${index + 1}/${files.length}] ` : '';
    try {
      const result = await replayRecording(file, {
        live: values.live === true,
        ...(agents === undefined ? {} : { agents }),
      });
      report(prefix, result);
      if (!result.ok) diverged += 1;
      if (values.update === true && !result.ok) {
        await writeFile(file, formatRecording(result.entries));
        process.stdout.write(`   updated ${file} with the replayed session\n`);
      }
    } catch (error) {
      unreadable += 1;
      const message = error instanceof ParleyError ? error.message : String(error);
      process.stdout.write(`${prefix}✗ ${file}: cannot replay: ${message}\n`);
    }
  }
  if (files.length > 1) {
    const identical = files.length - diverged - unreadable;
    process.stdout.write(
      `\n${files.length} recordings: ${identical} identical, ${diverged} diverged, ${unreadable} unreadable\n`,
    );
  }
  if (values.update === true) return unreadable > 0 ? 2 : 0;
  return unreadable > 0 ? 2 : diverged > 0 ? 1 : 0;
}

function report(prefix: string, result: ReplayResult): void {
  const timing = `recorded ${seconds(result.recordedMs)}, replayed in ${result.replayMs.toFixed(0)} ms (${Math.round(result.speedup)}× real time)`;
  if (result.divergence === undefined) {
    process.stdout.write(
      `${prefix}✓ ${result.source}: ${result.frames} frames identical; ${timing}\n`,
    );
    return;
  }
  const { divergence } = result;
  process.stdout.write(
    `${prefix}✗ ${result.source}: diverges at seq ${divergence.seq} (frame ${divergence.index + 1} of ${result.frames})\n`,
  );
  for (const line of divergence.diff) process.stdout.write(`    ${line}\n`);
  process.stdout.write(`    expected: ${JSON.stringify(divergence.expected)}\n`);
  process.stdout.write(`    actual:   ${JSON.stringify(divergence.actual)}\n`);
}

function seconds(ms: number): string {
  return ms >= 1000 ? `${(ms / 1000).toFixed(1)} s` : `${ms} ms`;
}
