import { releaseHarness } from './global-setup';

const TEARDOWN_LIMIT_MS = 45_000;

/**
 * Stops the servers global setup started and removes their temp dirs. Bounded in
 * time: whatever has not stopped by then is killed by the 'exit' hook.
 */
export default async function globalTeardown(): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const limit = new Promise<void>((resolve) => {
    timer = setTimeout(() => {
      console.warn(`test services did not stop within ${TEARDOWN_LIMIT_MS / 1000} s; killing them at exit`);
      resolve();
    }, TEARDOWN_LIMIT_MS);
  });
  const release = releaseHarness();
  release.catch(() => undefined); // a late failure, after the limit, must not be an unhandled rejection
  try {
    await Promise.race([release, limit]);
  } finally {
    clearTimeout(timer);
  }
}
