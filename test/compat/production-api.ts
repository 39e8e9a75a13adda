import type { ApiResponse } from '../support/http';

/** The Production API's answer to a generation (`/api/v1/text/generate`, `/api/v1/image/analyze`): `text` generated. */
export function expectGenerated(res: ApiResponse, text: string): void {
  expect(res.status).toBe(200);
  expect(res.body).toEqual({
    success: true,
    data: { text, generated_tokens: expect.any(Number), input_tokens: expect.any(Number) },
    metrics: {
      generation_time: expect.any(Number),
      total_time: expect.any(Number),
      tokens_per_second: expect.any(Number),
    },
    request_id: res.headers.get('x-request-id'),
  });
}
