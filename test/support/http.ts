export interface ApiResponse<T = Record<string, unknown>> {
  status: number;
  headers: Headers;
  body: T;
  text: string;
}

export interface RequestOptions {
  token?: string;
  apiKey?: string;
  headers?: Record<string, string>;
  /** Sent as JSON unless `raw` is given. */
  body?: unknown;
  raw?: string;
}

/** A tiny JSON client over fetch, for talking to an app under test. */
export class Api {
  constructor(readonly baseUrl: string) {}

  async request<T = Record<string, unknown>>(
    method: string,
    path: string,
    options: RequestOptions = {},
  ): Promise<ApiResponse<T>> {
    const headers: Record<string, string> = { ...options.headers };
    if (options.token) headers.authorization = `Bearer ${options.token}`;
    if (options.apiKey) headers['x-api-key'] = options.apiKey;
    let body: string | undefined;
    if (options.raw !== undefined) body = options.raw;
    else if (options.body !== undefined) body = JSON.stringify(options.body);
    if (body !== undefined) headers['content-type'] ??= 'application/json';
    const res = await fetch(`${this.baseUrl}${path}`, { method, headers, body });
    const text = await res.text();
    let parsed: unknown = undefined;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      parsed = undefined;
    }
    return { status: res.status, headers: res.headers, body: parsed as T, text };
  }

  get<T = Record<string, unknown>>(path: string, options?: RequestOptions): Promise<ApiResponse<T>> {
    return this.request<T>('GET', path, options);
  }

  post<T = Record<string, unknown>>(
    path: string,
    body?: unknown,
    options: RequestOptions = {},
  ): Promise<ApiResponse<T>> {
    return this.request<T>('POST', path, { ...options, body });
  }

  delete<T = Record<string, unknown>>(path: string, options?: RequestOptions): Promise<ApiResponse<T>> {
    return this.request<T>('DELETE', path, options);
  }

  /** Signs in and returns the token pair. */
  async login(email: string, password: string): Promise<{ access_token: string; refresh_token: string }> {
    const res = await this.post<{ access_token: string; refresh_token: string }>('/auth/login', { email, password });
    if (res.status !== 200) throw new Error(`login failed: ${res.status} ${res.text}`);
    return res.body;
  }
}

/** Asserts the uniform error envelope and returns it. */
export function expectEnvelope(res: ApiResponse, status: number, error: string): void {
  expect({ status: res.status, error: res.body?.error }).toEqual({ status, error });
  expect(typeof res.body.message).toBe('string');
  expect(res.body.request_id).toBe(res.headers.get('x-request-id'));
}

/** Asserts OpenAI's error shape (the OpenAI-compatible routes), carrying our code and request id. */
export function expectOpenAiError(res: ApiResponse, status: number, code: string): void {
  const error = res.body?.error as { param?: unknown } | undefined;
  expect({ status: res.status, error }).toEqual({
    status,
    error: { message: expect.any(String), type: expect.any(String), param: error?.param ?? null, code },
  });
  expect(res.body.request_id).toBe(res.headers.get('x-request-id'));
}

/** Asserts KServe's time-series error shape (`/v1/timeseries/forecast`): the status in `code`, our code in `type`. */
export function expectKserveError(res: ApiResponse, status: number, type: string, param: string | null = null): void {
  expect({ status: res.status, error: res.body?.error }).toEqual({
    status,
    error: { code: String(status), message: expect.any(String), param, type },
  });
  expect(res.body.request_id).toBe(res.headers.get('x-request-id'));
}
