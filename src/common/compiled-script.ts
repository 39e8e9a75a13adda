import { existsSync } from 'node:fs';
import { join, sep } from 'node:path';

/**
 * The compiled JavaScript of a worker script that lives in `dir` (a folder under `src/`): next to the
 * caller in a build; when running from TypeScript sources (ts-jest), the build's copy under `dist/`
 * (the test command builds first).
 */
export function compiledScript(dir: string, file: string): string {
  const sibling = join(dir, file);
  if (existsSync(sibling)) return sibling;
  const marker = `${sep}src${sep}`;
  const at = `${dir}${sep}`.lastIndexOf(marker);
  if (at < 0) return sibling;
  return join(dir.slice(0, at), 'dist', 'src', `${dir}${sep}`.slice(at + marker.length), file);
}
