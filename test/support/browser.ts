/**
 * Debian's Chromium for browser tests: the skip-or-fail rule and the launch, in one place.
 * Without a browser a suite is skipped locally (with a one-line reason) and fails in CI
 * (`CI=true`), so a CI image without a browser cannot pass silently.
 */
import { existsSync } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';

const CHROMIUM_PATH = '/usr/bin/chromium';
const hasBrowser = existsSync(CHROMIUM_PATH);
const MISSING_BROWSER = `Chromium not found at ${CHROMIUM_PATH} (install it with: apt-get install -y chromium)`;

/** Whether a browser suite runs; when it does not, says why on one line. */
export function browserSuiteRuns(name: string): boolean {
  const runs = hasBrowser || process.env.CI === 'true';
  if (!runs) console.warn(`Skipping ${name}: ${MISSING_BROWSER}`);
  return runs;
}

/** Launches headless Chromium, or throws (in CI) when it is missing. */
export async function launchChromium(): Promise<Browser> {
  if (!hasBrowser) throw new Error(MISSING_BROWSER);
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
  });
}
