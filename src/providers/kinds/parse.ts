import { UpstreamError } from '../../common/upstream/upstream-error';

/** Runs a mapper's parser; anything but an UpstreamError it throws means the payload was unusable. */
export function parseWith<T>(parse: () => T): T {
  try {
    return parse();
  } catch (err) {
    if (err instanceof UpstreamError) throw err;
    throw new UpstreamError('malformed', 'unexpected upstream payload', { cause: err });
  }
}
