/** A dependency that did not answer within the time its caller can wait: answered 503, like a refused connection. */
export class DependencyTimeout extends Error {
  readonly code = 'ETIMEDOUT';
}

async function race<T>(promise: Promise<T>, ms: number, timedOut: () => Error): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(timedOut()), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Resolves with the promise's value, or rejects after `ms` with a timeout error. */
export function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  return race(promise, ms, () => new Error(`${what} timed out after ${ms} ms`));
}

/**
 * Bounds how long a request waits on a dependency: after `ms` it rejects with a
 * DependencyTimeout (503). The call itself is not cancelled: it finishes or fails on
 * its own (bounded by the driver's own timeouts), so its connection stays usable.
 */
export function waitAtMost<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  return race(promise, ms, () => new DependencyTimeout(`${what} did not answer within ${ms} ms`));
}
