import { randomBytes } from 'node:crypto';
import { imageTooLarge, sniffImageType as serverSniff } from '../../src/compat/image-content';
import { AppConfig } from '../../src/config/app-config';
import { STRATEGIES as SERVER_STRATEGIES } from '../../src/routing/routing.api';
import { type ChatStreamEvent, readChatStream, SseReader, STRATEGIES } from '../../src/console/web/src/chat-stream';
import { futureTimes, parseQuantiles, parseSeries, SeriesError } from '../../src/console/web/src/forecast-series';
import {
  IMAGE_MAX_BYTES,
  imageProblem,
  imageTooLargeMessage,
  sniffImageType,
  SNIFF_BYTES,
  UNSUPPORTED_IMAGE_MESSAGE,
} from '../../src/console/web/src/image-check';

const MiB = 1024 * 1024;

describe('the playgrounds keep to the server', () => {
  it('offers exactly the routing strategies the server takes', () => {
    expect([...STRATEGIES].sort()).toEqual([...SERVER_STRATEGIES].sort());
  });

  it("checks images with the server's default limit, its words, and its reading of the first bytes", () => {
    expect(IMAGE_MAX_BYTES).toBe(new AppConfig().IMAGE_MAX_BYTES);
    for (const max of [IMAGE_MAX_BYTES, 1024, 5 * MiB + 123, 64 * MiB]) {
      expect(imageTooLargeMessage(max)).toBe(imageTooLarge(max).message);
    }
    expect(imageTooLargeMessage(IMAGE_MAX_BYTES)).toBe('File too large. Maximum size: 16 MB');
    const heads = [
      Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13]),
      Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a]),
      Buffer.from([0xff, 0xd8, 0xff, 0xe0]),
      Buffer.from('GIF87a\x01\x00', 'latin1'),
      Buffer.from('GIF89a\x01\x00', 'latin1'),
      Buffer.from('GIF88a\x01\x00', 'latin1'),
      Buffer.from('RIFF\x10\x00\x00\x00WEBPVP8 ', 'latin1'),
      Buffer.from('RIFF\x10\x00\x00\x00WAVEfmt ', 'latin1'),
      Buffer.from('%PDF-1.7\n%âãÏÓ', 'latin1'),
      Buffer.alloc(0),
      ...Array.from({ length: 50 }, () => randomBytes(SNIFF_BYTES)),
    ];
    for (const head of heads) {
      expect(sniffImageType(new Uint8Array(head.subarray(0, SNIFF_BYTES)))).toBe(serverSniff(head));
    }
  });

  it('refuses in the order the server does: empty, too large, not an image', () => {
    const png = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
    const pdf = new Uint8Array(Buffer.from('%PDF-1.7', 'latin1'));
    expect(imageProblem(0, new Uint8Array())).toBe('The image is empty');
    expect(imageProblem(17 * MiB, png)).toBe('File too large. Maximum size: 16 MB');
    expect(imageProblem(17 * MiB, pdf)).toBe('File too large. Maximum size: 16 MB');
    expect(imageProblem(16 * MiB, png)).toBeNull();
    expect(imageProblem(1000, pdf)).toBe(UNSUPPORTED_IMAGE_MESSAGE);
  });
});

describe('reading a chat completion stream', () => {
  const frames = [
    'data: {"choices":[{"index":0,"delta":{"role":"assistant","content":""}}]}\n\n',
    'data: {"choices":[{"index":0,"delta":{"content":"Hello "}}]}\n\n',
    'data: {"choices":[{"index":0,"delta":{"content":"wörld"}}]}\n\n',
    'data: {"choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}\n\n',
    'data: {"choices":[],"usage":{"prompt_tokens":12,"completion_tokens":6,"total_tokens":18,"credits":0.0042}}\n\n',
    'data: [DONE]\n\n',
  ];
  const expected: ChatStreamEvent[] = [
    { type: 'delta', text: 'Hello ' },
    { type: 'delta', text: 'wörld' },
    {
      type: 'usage',
      usage: { prompt_tokens: 12, completion_tokens: 6, total_tokens: 18, credits: 0.0042 },
    },
    { type: 'done' },
  ];

  function bodyOf(pieces: Uint8Array[]): ReadableStream<Uint8Array> {
    return new ReadableStream({
      start(controller) {
        for (const piece of pieces) controller.enqueue(piece);
        controller.close();
      },
    });
  }

  async function read(pieces: Uint8Array[]): Promise<ChatStreamEvent[]> {
    const events: ChatStreamEvent[] = [];
    await readChatStream(bodyOf(pieces), (e) => events.push(e));
    return events;
  }

  it('hands over text, usage and the end, however the bytes are cut (inside a character too)', async () => {
    const bytes = new Uint8Array(Buffer.from(frames.join(''), 'utf8'));
    expect(await read([bytes])).toEqual(expected);
    for (const size of [1, 2, 3, 7, 64]) {
      const pieces: Uint8Array[] = [];
      for (let at = 0; at < bytes.length; at += size) pieces.push(bytes.subarray(at, at + size));
      expect(await read(pieces)).toEqual(expected);
    }
  });

  it('takes CRLF line ends, joined data lines, comments, and a last event without its blank line', () => {
    const sse = new SseReader();
    expect(sse.push(': keep-alive\r\n\r\nevent: message\r\ndata: {"a":\r\ndata: 1}\r\n\r\ndata: [DO')).toEqual([
      '{"a":\n1}',
    ]);
    expect(sse.push('NE]')).toEqual([]);
    expect(sse.end()).toEqual(['[DONE]']);
    // A CRLF cut between its two characters is one line end, not two.
    expect(sse.push('data: a\r')).toEqual([]);
    expect(sse.push('\ndata: b\r\n\r\n')).toEqual(['a\nb']);
  });

  it('reports the error event of a stream cut after its first token', async () => {
    const text =
      frames[1] +
      'data: {"error":{"message":"The upstream stream failed before completion","type":"server_error","code":"stream_cut"}}\n\n';
    expect(await read([new Uint8Array(Buffer.from(text))])).toEqual([
      { type: 'delta', text: 'Hello ' },
      { type: 'error', message: 'The upstream stream failed before completion', code: 'stream_cut' },
    ]);
  });
});

describe('reading a series to forecast', () => {
  it('reads one number per line, with missing values', () => {
    expect(parseSeries('1\n2.5\n\nNA\n-3e2\n  4 \nnull\n')).toEqual({
      values: [1, 2.5, null, -300, 4, null],
      times: null,
      columns: [],
      valueColumn: null,
      timeColumn: null,
    });
  });

  it('reads a CSV with a header: times, the value column by name, another when chosen', () => {
    const csv = 'date,visits,value\n2024-01-01,10,1.5\n2024-01-02,11,\n"2024-01-03",12,2.5\n';
    const parsed = parseSeries(csv);
    expect(parsed).toEqual({
      values: [1.5, null, 2.5],
      times: [Date.UTC(2024, 0, 1), Date.UTC(2024, 0, 2), Date.UTC(2024, 0, 3)],
      columns: ['visits', 'value'],
      valueColumn: 'value',
      timeColumn: 'date',
    });
    expect(parseSeries(csv, 'visits').values).toEqual([10, 11, 12]);
    expect(futureTimes(parsed.times!, 2)).toEqual([Date.UTC(2024, 0, 4), Date.UTC(2024, 0, 5)]);
  });

  it('continues calendar months as months, and other steps by their median interval', () => {
    const monthly = [Date.UTC(2023, 10, 1), Date.UTC(2023, 11, 1), Date.UTC(2024, 0, 1)];
    expect(futureTimes(monthly, 3)).toEqual([Date.UTC(2024, 1, 1), Date.UTC(2024, 2, 1), Date.UTC(2024, 3, 1)]);
    const quarterly = [Date.UTC(2023, 0, 15), Date.UTC(2023, 3, 15), Date.UTC(2023, 6, 15)];
    expect(futureTimes(quarterly, 2)).toEqual([Date.UTC(2023, 9, 15), Date.UTC(2024, 0, 15)]);
    const hourly = [0, 3_600_000, 7_200_000, 10_900_000];
    expect(futureTimes(hourly, 1)).toEqual([10_900_000 + 3_600_000]);
    expect(futureTimes([0], 1)).toBeNull();
  });

  it('reads a CSV without a header (semicolons, times with hours), taking the last numeric column', () => {
    const parsed = parseSeries('2024-01-01 00:00;7;1\n2024-01-01 01:00;8;2\n2024-01-01 02:00;9;3');
    expect(parsed.values).toEqual([1, 2, 3]);
    expect(parsed.timeColumn).toBe('column 1');
    expect(parsed.columns).toEqual(['column 2', 'column 3']);
  });

  it('says which line is wrong, and refuses a series without any value', () => {
    expect(() => parseSeries('1\n2\nabc')).toThrow(new SeriesError('Line 3: “abc” is not a number'));
    expect(() => parseSeries('t,value\n2024-01-01,1\n2024-01-02,x', 'value')).toThrow(
      'Line 3: “x” in value is not a number',
    );
    expect(() => parseSeries('NA\n\nnull')).toThrow('The series has no observed value');
    expect(() => parseSeries('   ')).toThrow('The series is empty');
  });

  it('reads quantile levels, sorted, each strictly between 0 and 1', () => {
    expect(parseQuantiles('0.9, 0.1 0.5;0.5')).toEqual([0.1, 0.5, 0.9]);
    expect(parseQuantiles('')).toEqual([]);
    expect(() => parseQuantiles('0.1, 1')).toThrow('Quantile “1” must be a number strictly between 0 and 1');
  });
});
