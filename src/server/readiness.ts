/**
 * Readiness as a list of named checks (`GET /health/ready`): the server is ready when every check
 * passes. Parley registers its own (not draining, event log writable); a cluster, a store or an
 * application adds more with `addReadinessCheck`.
 */

/** What one check says: ready, or not with a reason an operator can act on (never a secret). */
export type ReadinessResult = { ok: true } | { ok: false; reason: string };

/** One named readiness check. */
export interface ReadinessCheck {
  /** Shown in `/health/ready`'s `checks`, e.g. `event_log`, `cluster`. Unique per server. */
  readonly name: string;
  /** Asked at each `/health/ready`; a check that throws or takes longer than the timeout fails. */
  check(): ReadinessResult | Promise<ReadinessResult>;
}

/** `/health/ready`'s body. */
export interface ReadinessReport {
  status: 'ready' | 'not_ready';
  checks: ({ name: string } & ReadinessResult)[];
}

/** How long one check may take before it counts as failed. */
export const READINESS_CHECK_TIMEOUT_MS = 2_000;

/**
 * The server's readiness checks, asked together.
 *
 * @example
 * const readiness = new Readiness();
 * readiness.add({ name: 'draining', check: () => ({ ok: true }) });
 * const report = await readiness.report(); // { status: 'ready', checks: [{ name: 'draining', ok: true }] }
 */
export class Readiness {
  readonly #checks = new Map<string, ReadinessCheck>();

  constructor(private readonly timeoutMs = READINESS_CHECK_TIMEOUT_MS) {}

  /**
   * Adds a check; a check with the same name replaces the earlier one (so a fuller check, such
   * as the event log's own status, can take the place of a built-in one).
   *
   * @throws {TypeError} when the name is empty or `check` is not a function.
   */
  add(check: ReadinessCheck): void {
    if (typeof check.name !== 'string' || !/^[a-z][a-z0-9_]*$/.test(check.name)) {
      throw new TypeError(
        `A readiness check needs a name of lowercase letters, digits and _, got ${JSON.stringify(check.name)}.`,
      );
    }
    if (typeof check.check !== 'function') {
      throw new TypeError(`Readiness check "${check.name}" needs a check() function.`);
    }
    this.#checks.set(check.name, check);
  }

  /** Asks every check at once; ready when all pass. */
  async report(): Promise<ReadinessReport> {
    const checks = await Promise.all(
      [...this.#checks.values()].map(async (item) => ({
        name: item.name,
        ...(await this.#ask(item)),
      })),
    );
    return { status: checks.every((item) => item.ok) ? 'ready' : 'not_ready', checks };
  }

  async #ask(item: ReadinessCheck): Promise<ReadinessResult> {
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<ReadinessResult>((resolve) => {
      timer = setTimeout(() => {
        resolve({ ok: false, reason: `no answer within ${this.timeoutMs} ms` });
      }, this.timeoutMs);
    });
    try {
      return await Promise.race([Promise.resolve().then(() => item.check()), timedOut]);
    } catch (error) {
      return { ok: false, reason: error instanceof Error ? error.message : String(error) };
    } finally {
      clearTimeout(timer);
    }
  }
}
