import { AppError } from '../errors/app-error';

/**
 * How deeply a JSON body may nest (the body itself is level 1). Deeper bodies are refused as they are
 * parsed: validation and serialisation walk values recursively, and a few hundred kilobytes of nested
 * brackets would otherwise exhaust the stack. No request of the API comes close (a tensor of rank 8
 * in a batch is 10 levels).
 */
export const MAX_JSON_DEPTH = 64;

/** Any surrogate code unit: only then is a closer look needed. */
const SURROGATE = /[\ud800-\udfff]/;
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/**
 * Why a string cannot be taken, or undefined. NUL is refused because Postgres cannot store it in text
 * (nor `\u0000` in jsonb); a lone surrogate is not Unicode text at all and cannot be encoded as UTF-8
 * (for Postgres, for an upstream, for a log line) without silently changing it.
 */
function textProblem(text: string): string | undefined {
  if (text.includes('\u0000')) return 'must not contain a NUL character';
  if (!SURROGATE.test(text) || !LONE_SURROGATE.test(text)) return undefined;
  return 'must not contain a lone surrogate (invalid Unicode)';
}

function fieldOf(parent: string, key: string | number): string {
  return parent === '' ? String(key) : `${parent}.${key}`;
}

function refuse(field: string, problem: string): AppError {
  return new AppError('validation_failed', `Request is invalid: ${field}: ${problem}`, {
    details: [{ field, messages: [problem] }],
  });
}

function tooDeep(): AppError {
  return new AppError('malformed_json', `Request body nests deeper than ${MAX_JSON_DEPTH} levels`);
}

/** Throws for a value nested deeper than MAX_JSON_DEPTH or holding a string (or key) `textProblem` refuses. */
function check(value: unknown, field: string, depth: number): void {
  if (typeof value === 'string') {
    const problem = textProblem(value);
    if (problem) throw refuse(field || 'body', problem);
    return;
  }
  if (typeof value !== 'object' || value === null) return;
  if (depth > MAX_JSON_DEPTH) throw tooDeep();
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i += 1) check(value[i], fieldOf(field, i), depth + 1);
    return;
  }
  for (const key of Object.keys(value)) {
    const keyProblem = textProblem(key);
    if (keyProblem) throw refuse(fieldOf(field, JSON.stringify(key)), `field name ${keyProblem}`);
    check((value as Record<string, unknown>)[key], fieldOf(field, key), depth + 1);
  }
}

/**
 * Checks a parsed JSON body: nesting within MAX_JSON_DEPTH (else `malformed_json`), and no NUL or lone
 * surrogate in any string or field name (else `validation_failed` naming the field, as `a.0.b`). The
 * walk stops at the depth limit, so it never recurses deeper than the limit whatever the body.
 */
export function checkJsonBody(body: unknown): void {
  check(body, '', 1);
}

/**
 * Checks the text of a URL (path and query, still percent-encoded): an encoded NUL (`%00`) is refused,
 * naming the query parameter that holds it. A raw NUL never reaches us (Node's parser refuses it) and
 * percent-decoding refuses lone surrogates, so `%00` is the only way in.
 */
export function checkUrlText(url: string): void {
  const at = url.search(/%00/i);
  if (at === -1) return;
  const queryStart = url.indexOf('?');
  if (queryStart === -1 || at < queryStart) throw refuse('path', 'must not contain a NUL character');
  const param = url
    .slice(queryStart + 1)
    .split('&')
    .find((pair) => /%00/i.test(pair));
  const name = param?.split('=')[0] ?? '';
  throw refuse(
    /%00/i.test(name) || name === '' ? 'query' : `query.${safeDecode(name)}`,
    'must not contain a NUL character',
  );
}

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text.replace(/\+/g, ' '));
  } catch {
    return text;
  }
}
