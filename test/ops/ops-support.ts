import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { parseAllDocuments, parse as parseYaml } from 'yaml';

/** The repository's root directory. */
export const ROOT = join(__dirname, '..', '..');

/** Reads a file of the repository (path relative to the root). */
export function readRepoFile(path: string): string {
  return readFileSync(join(ROOT, path), 'utf8');
}

/** Parses one YAML document of the repository. */
export function readYaml<T = unknown>(path: string): T {
  return parseYaml(readRepoFile(path)) as T;
}

/** Every document of a YAML file of the repository; empty documents are left out. */
export function readYamlDocuments(path: string): unknown[] {
  return parseAllDocuments(readRepoFile(path))
    .map((doc) => {
      if (doc.errors.length > 0) throw new Error(`${path}: ${doc.errors.map((e) => e.message).join('; ')}`);
      return doc.toJS() as unknown;
    })
    .filter((doc) => doc !== null && doc !== undefined);
}

/**
 * The files of a repository directory whose name ends with one of `extensions`, as repository paths,
 * sorted; none when the directory does not exist (yet).
 */
export function repoFiles(dir: string, extensions: string[]): string[] {
  const abs = join(ROOT, dir);
  if (!existsSync(abs)) return [];
  return readdirSync(abs)
    .filter((name) => extensions.some((ext) => name.endsWith(ext)))
    .sort()
    .map((name) => relative(ROOT, join(abs, name)));
}

/** The value as a plain object (throws naming `what` otherwise). */
export function asRecord(value: unknown, what: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new Error(`${what} is not a mapping`);
  }
  return value as Record<string, unknown>;
}
