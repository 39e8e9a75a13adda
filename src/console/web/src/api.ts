/**
 * The console's one way to the API: same origin, the access token kept in memory only (never in
 * storage), the refresh token in an HttpOnly cookie the page cannot read. An answer 401 gets one
 * silent refresh; when that fails too, the session is marked expired and the call waits until the
 * user signs in again (the page and what was typed stay), then runs once more.
 */
import { session } from './session';

/** The uniform error body of the API. */
export interface ErrorBody {
  error: string;
  message: string;
  request_id?: string;
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly requestId?: string,
    /** Seconds to wait before trying again (the answer's Retry-After), when it said. */
    readonly retryAfter?: number,
  ) {
    super(message);
  }
}

export interface TokenAnswer {
  access_token: string;
  token_type: string;
  expires_in: number;
}

let accessToken: string | null = null;

/**
 * Whether this browser signed in and has not signed out: not a secret (the session itself is the
 * HttpOnly cookie), only spares an anonymous visit the refresh call that would be refused.
 */
const SIGNED_IN_HINT = 'conflux.console.signed-in';

export function mayHaveSession(): boolean {
  return localStorage.getItem(SIGNED_IN_HINT) === '1';
}
let refreshing: Promise<boolean> | null = null;

export function setAccessToken(token: string | null): void {
  accessToken = token;
}

export function hasAccessToken(): boolean {
  return accessToken !== null;
}

/** The OpenAI-compatible routes answer errors as `{error: {message, code}, request_id}`. */
interface DialectErrorBody {
  error?: { message?: unknown; code?: unknown };
  request_id?: string;
}

/** An ApiError from a failed answer: its uniform body (or its OpenAI-dialect body) when it has one. */
export async function errorOf(res: Response): Promise<ApiError> {
  let body: Partial<ErrorBody> | DialectErrorBody = {};
  try {
    body = (await res.json()) as Partial<ErrorBody> | DialectErrorBody;
  } catch {
    // not JSON: the status says enough
  }
  const inner = typeof body.error === 'object' && body.error !== null ? body.error : undefined;
  const text = inner ? inner.message : (body as Partial<ErrorBody>).message;
  const code = inner ? inner.code : body.error;
  const message = typeof text === 'string' ? text : `${res.status} ${res.statusText}`;
  const retry = Number(res.headers.get('Retry-After') ?? NaN);
  return new ApiError(
    res.status,
    typeof code === 'string' ? code : 'http_error',
    message,
    body.request_id,
    Number.isFinite(retry) && retry >= 0 ? retry : undefined,
  );
}

/** Rotates the refresh cookie into a new access token; false when there is no valid session. */
export function refreshSession(): Promise<boolean> {
  refreshing ??= (async () => {
    try {
      const res = await fetch('/auth/session/refresh', {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: '{}',
        credentials: 'same-origin',
      });
      if (!res.ok) {
        localStorage.removeItem(SIGNED_IN_HINT);
        return false;
      }
      const answer = (await res.json()) as TokenAnswer;
      accessToken = answer.access_token;
      return true;
    } catch {
      return false;
    } finally {
      refreshing = null;
    }
  })();
  return refreshing;
}

export interface CallOptions {
  method?: string;
  /** Sent as JSON. */
  json?: unknown;
  /** Sent as is (FormData, Blob, string). */
  body?: BodyInit;
  headers?: Record<string, string>;
  signal?: AbortSignal;
  /** Bill this project (signed-in users calling the LLM, ML and forecast routes). */
  project?: string;
}

function send(path: string, options: CallOptions): Promise<Response> {
  const headers: Record<string, string> = { Accept: 'application/json', ...options.headers };
  if (accessToken) headers.Authorization = `Bearer ${accessToken}`;
  if (options.project) headers['X-Conflux-Project'] = options.project;
  let body = options.body;
  if (options.json !== undefined) {
    headers['Content-Type'] = 'application/json';
    body = JSON.stringify(options.json);
  }
  return fetch(path, {
    method: options.method ?? (body === undefined ? 'GET' : 'POST'),
    headers,
    body,
    signal: options.signal,
    credentials: 'same-origin',
  });
}

/**
 * A call whose answer is returned as a Response when it is 2xx (streams are read by the caller);
 * otherwise an ApiError. Handles an expired access token and an expired session.
 */
export async function call(path: string, options: CallOptions = {}): Promise<Response> {
  let res = await send(path, options);
  if (res.status === 401 && !options.signal?.aborted) {
    if (!(await refreshSession())) await session.expired();
    res = await send(path, options);
  }
  if (!res.ok) throw await errorOf(res);
  return res;
}

/** A call answered with JSON (or nothing, for 204). */
export async function api<T>(path: string, options: CallOptions = {}): Promise<T> {
  const res = await call(path, options);
  if (res.status === 204) return undefined as T;
  return (await res.json()) as T;
}

/** Signs in: the access token comes in the body, the refresh token as an HttpOnly cookie. */
export async function signIn(email: string, password: string): Promise<void> {
  const res = await fetch('/auth/session', {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
    body: JSON.stringify({ email, password }),
    credentials: 'same-origin',
  });
  if (!res.ok) throw await errorOf(res);
  accessToken = ((await res.json()) as TokenAnswer).access_token;
  localStorage.setItem(SIGNED_IN_HINT, '1');
}

/** Signs out: the session is revoked and the cookie cleared, whatever the access token's state. */
export async function signOut(): Promise<void> {
  const headers: Record<string, string> = { 'Content-Type': 'application/json' };
  if (accessToken) headers.Authorization = `Bearer ${accessToken}`;
  accessToken = null;
  localStorage.removeItem(SIGNED_IN_HINT);
  await fetch('/auth/session', { method: 'DELETE', headers, credentials: 'same-origin' }).catch(() => undefined);
}
