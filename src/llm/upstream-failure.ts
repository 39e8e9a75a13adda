import { AppError, type ErrorCode } from '../common/errors/app-error';

/** One failed attempt, as the client is told of it (in `details.attempts`) and the ledger records it. */
export interface AttemptFailure {
  provider: string;
  model: string;
  error_class: string;
}

/**
 * The answer when every candidate failed, each a 502 or 504 (the gateway's side failed, never the
 * client): `upstream_timeout` when all timed out, `upstream_auth_failed` when every upstream that was
 * called refused our credentials (the others skipped by an open breaker), else `upstream_error`.
 */
export function exhaustedError(failures: readonly AttemptFailure[]): AppError {
  const called = failures.filter((f) => f.error_class !== 'breaker_open');
  const all = (errorClass: string): boolean => called.length > 0 && called.every((f) => f.error_class === errorClass);
  let code: ErrorCode = 'upstream_error';
  if (all('timeout') && called.length === failures.length) code = 'upstream_timeout';
  else if (all('auth_failed')) code = 'upstream_auth_failed';
  const message =
    code === 'upstream_auth_failed'
      ? `The upstream refused the gateway's credentials (${called.length} attempt(s)); the operator must fix them`
      : `All ${failures.length} upstream attempt(s) failed`;
  return new AppError(code, message, { details: { attempts: failures } });
}
