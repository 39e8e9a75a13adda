/** One sample of a Prometheus text exposition: its metric name, its raw label set and its value. */
export interface Sample {
  name: string;
  /** The text between the braces, as written (empty without labels): tells series apart. */
  labels: string;
  value: number;
}

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*/;

/** Index of the `}` closing a label set opened at `open`, skipping quoted values (with escapes). */
function closingBrace(line: string, open: number): number {
  let quoted = false;
  for (let i = open + 1; i < line.length; i += 1) {
    const c = line[i];
    if (quoted) {
      if (c === '\\') i += 1;
      else if (c === '"') quoted = false;
    } else if (c === '"') quoted = true;
    else if (c === '}') return i;
  }
  return -1;
}

function sampleOf(line: string): Sample | undefined {
  const name = NAME.exec(line)?.[0];
  if (name === undefined) return undefined;
  let rest = line.slice(name.length);
  let labels = '';
  if (rest.startsWith('{')) {
    const close = closingBrace(rest, 0);
    if (close < 0) return undefined;
    labels = rest.slice(1, close);
    rest = rest.slice(close + 1);
  }
  // The value, then an optional timestamp.
  const value = Number(rest.trim().split(/\s+/)[0]);
  return Number.isFinite(value) ? { name, labels, value } : undefined;
}

/**
 * The samples of a Prometheus text exposition (format 0.0.4): comments and blank lines are skipped,
 * labels kept as written, timestamps dropped; a malformed line and a NaN or infinite value are left out.
 */
export function parsePrometheusText(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const sample = sampleOf(line);
    if (sample) samples.push(sample);
  }
  return samples;
}
