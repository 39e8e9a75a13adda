// Summary of a V8 .cpuprofile (node --cpu-prof), shared by the benchmarks that profile the server:
//
//   node bench/profile.mjs <file.cpuprofile> [startUs-endUs ...]
//
// The optional windows are on the monotonic clock in µs (process.hrtime), as the benchmarks print them.
import { existsSync, readFileSync } from 'node:fs';
import { SourceMap } from 'node:module';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const [path, ...spans] = process.argv.slice(2);
  if (!path) {
    console.error('usage: node bench/profile.mjs <file.cpuprofile> [startUs-endUs ...]');
    process.exit(2);
  }
  summariseProfile(path, { windows: spans.map((s) => s.split('-').map(Number)), scope: 'given windows' });
}

/**
 * Summarises a .cpuprofile: the top 25 functions by self time (url:line, with dist/ lines
 * mapped back to src/ through the source maps), self time by file, self time charged to
 * the nearest package on the stack (native code and node internals charged to whoever
 * called them: a socket write under ioredis is Redis-client cost), and the inclusive time
 * of Conflux's own functions.
 *
 * `windows` ([startUs, endUs] on the monotonic clock, which V8's profiler shares with
 * process.hrtime on Linux) keeps only the samples taken during those runs; without them
 * every sample counts. `requests` (answered during the windows; `unit` names one, default
 * 'request') gives µs per request; `scope` names the windows in the heading.
 * Idle samples never count.
 */
export function summariseProfile(
  path,
  { windows = [], requests = 0, unit = 'request', scope: what = 'profiled runs' } = {},
) {
  const profile = JSON.parse(readFileSync(path, 'utf8'));
  const nodes = new Map(profile.nodes.map((n) => [n.id, n]));
  const parentOf = new Map();
  for (const n of profile.nodes) for (const child of n.children ?? []) parentOf.set(child, n.id);

  // Sample i lasts until sample i + 1; its timestamp is startTime plus the deltas so far.
  const { samples, timeDeltas } = profile;
  const inWindow = (t) => windows.some(([a, b]) => t >= a && t <= b);
  let t = profile.startTime;
  const timestamps = samples.map((_, i) => (t += timeDeltas[i]));
  const windowed = windows.length > 0 && timestamps.some(inWindow);
  if (windows.length > 0 && !windowed) console.log('  (run windows do not match the profile clock: all samples used)');
  const selfUs = new Map(); // node id → µs
  for (let i = 0; i < samples.length - 1; i++) {
    if (windowed && !inWindow(timestamps[i])) continue;
    if (nodes.get(samples[i]).callFrame.functionName === '(idle)') continue;
    selfUs.set(samples[i], (selfUs.get(samples[i]) ?? 0) + timeDeltas[i + 1]);
  }

  // ---- naming
  const sourceMaps = new Map();
  const original = (frame) => {
    if (!frame.url.includes('/dist/src/')) return null;
    const file = frame.url.startsWith('file://') ? fileURLToPath(frame.url) : frame.url;
    if (!sourceMaps.has(file)) {
      const mapFile = `${file}.map`;
      sourceMaps.set(file, existsSync(mapFile) ? new SourceMap(JSON.parse(readFileSync(mapFile, 'utf8'))) : null);
    }
    const entry = sourceMaps.get(file)?.findEntry(frame.lineNumber, frame.columnNumber);
    if (!entry?.originalSource) return null;
    const source = entry.originalSource.startsWith('file://')
      ? fileURLToPath(entry.originalSource)
      : join(dirname(file), entry.originalSource);
    return `${relative(ROOT, source)}:${entry.originalLine + 1}`;
  };
  const shortUrl = (url) => {
    const file = url.startsWith('file://') ? fileURLToPath(url) : url;
    const i = file.lastIndexOf('/node_modules/');
    return i >= 0 ? file.slice(i + 1) : file.startsWith('/') ? relative(ROOT, file) : file;
  };
  const label = (frame) =>
    `${frame.functionName || '(anonymous)'} ${frame.url ? `${shortUrl(frame.url)}:${frame.lineNumber + 1}` : '(native)'}`;
  /** npm package, Conflux directory, or null for node internals and native code. */
  const packageOf = (frame) => {
    if (!frame.url || frame.url.startsWith('node:')) return null;
    const url = shortUrl(frame.url);
    const m = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
    if (m) return `npm ${m[1]}`;
    if (url.startsWith('dist/src/')) return `conflux src/${url.split('/').slice(2, -1).join('/') || '.'}`;
    return url;
  };

  // ---- aggregation
  let total = 0;
  const byFunction = new Map();
  const byFile = new Map();
  const byOwner = new Map();
  const inclusive = new Map();
  const add = (map, key, us, frame) => {
    const e = map.get(key) ?? { us: 0, frame };
    e.us += us;
    map.set(key, e);
  };
  for (const [id, us] of selfUs) {
    const frame = nodes.get(id).callFrame;
    total += us;
    add(byFunction, label(frame), us, frame);
    add(byFile, frame.url ? shortUrl(frame.url) : `(native) ${frame.functionName}`, us);
    // Charge the sample to the nearest package up the stack; GC and the like to themselves.
    let owner = null;
    for (let cur = id; cur !== undefined && owner === null; cur = parentOf.get(cur)) {
      owner = packageOf(nodes.get(cur).callFrame);
    }
    if (owner === null) {
      owner = frame.functionName.startsWith('(') ? frame.functionName : 'node internals (event loop, timers)';
    }
    add(byOwner, owner, us);
    // Inclusive time of Conflux's own functions, each counted once per stack.
    const seen = new Set();
    for (let cur = id; cur !== undefined; cur = parentOf.get(cur)) {
      const f = nodes.get(cur).callFrame;
      if (!f.url.includes('/dist/src/')) continue;
      const key = label(f);
      if (!seen.has(key)) add(inclusive, key, us, f);
      seen.add(key);
    }
  }

  // ---- printing
  const ms = (us) => (us / 1000).toFixed(0).padStart(7);
  const pct = (us) => `${((100 * us) / total).toFixed(1).padStart(5)} %`;
  const perRequest = (us) => (requests > 0 ? `${(us / requests).toFixed(1).padStart(7)} µs/${unit.slice(0, 5)}` : '');
  const top = (map, n) => [...map].sort((a, b) => b[1].us - a[1].us).slice(0, n);
  const mapped = (e) => {
    const src = e.frame && original(e.frame);
    return src ? `  → ${src}` : '';
  };
  const scope = windowed ? `during the ${windows.length} ${what}` : 'whole profile';
  const costs = requests > 0 ? `, ${requests} ${unit}s: ${(total / requests).toFixed(1)} µs of CPU each` : '';
  console.log(`  non-idle main-thread CPU ${(total / 1e6).toFixed(2)} s (${scope}${costs})`);
  console.log('\n  top 25 functions by self time   (ms, % of non-idle)   function url:line');
  for (const [key, e] of top(byFunction, 25)) console.log(`  ${ms(e.us)} ${pct(e.us)}   ${key}${mapped(e)}`);
  console.log('\n  self time by file (top 15):');
  for (const [key, e] of top(byFile, 15)) console.log(`  ${ms(e.us)} ${pct(e.us)}   ${key}`);
  console.log('\n  self time charged to the nearest package on the stack (top 20):');
  for (const [key, e] of top(byOwner, 20)) console.log(`  ${ms(e.us)} ${pct(e.us)} ${perRequest(e.us)}   ${key}`);
  console.log('\n  Conflux functions by inclusive time (synchronous part only; top 20):');
  for (const [key, e] of top(inclusive, 20)) console.log(`  ${ms(e.us)} ${pct(e.us)}   ${key}${mapped(e)}`);
}
