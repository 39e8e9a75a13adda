import type { Response } from 'express';

/**
 * An AbortSignal that fires when the client goes away before the response is complete (at once when it
 * already has).
 */
export function clientGone(res: Response): AbortSignal {
  const controller = new AbortController();
  if (res.destroyed && !res.writableFinished) {
    controller.abort(new Error('client disconnected'));
    return controller.signal;
  }
  res.once('close', () => {
    if (!res.writableFinished) controller.abort(new Error('client disconnected'));
  });
  return controller.signal;
}

/**
 * clientGone, made on first use: for a request that only sometimes calls out (a prediction that is
 * usually served in-process), the signal and its listener cost nothing when it does not.
 */
export function clientGoneWhenAsked(res: Response): () => AbortSignal {
  let signal: AbortSignal | undefined;
  return () => (signal ??= clientGone(res));
}
