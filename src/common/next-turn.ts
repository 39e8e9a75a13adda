let turn: Promise<void> | null = null;

/**
 * Resolves in the check phase of the current event-loop turn, after its I/O callbacks: every caller
 * of the turn shares one setImmediate and goes on together, in the order they called.
 *
 * Work that used to wait for a reply from Redis continued in batches (the replies of one turn come
 * in one read); the same work decided in process continues request by request, interleaved with the
 * turn's other I/O, which on a busy process costs more CPU per request (measured at 50 connections:
 * ~20 %). Waiting for the turn's end gives that batching back for a few microseconds.
 */
export function nextTurn(): Promise<void> {
  turn ??= new Promise((resolve) =>
    setImmediate(() => {
      turn = null;
      resolve();
    }),
  );
  return turn;
}
