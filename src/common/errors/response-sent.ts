/**
 * Thrown by a guard that has answered the request itself (e.g. an idempotent replay), to stop
 * the pipeline: the exception filter then writes nothing and logs nothing.
 */
export class ResponseAlreadySent extends Error {
  constructor() {
    super('The response was already sent');
  }
}
