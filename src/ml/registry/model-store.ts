import { createHash, randomUUID } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { copyFile, mkdir, readdir, rename, rm, stat } from 'node:fs/promises';
import { isAbsolute, join, relative, resolve, sep } from 'node:path';

/** Where uploads wait while they are validated: inside the store, so that moving one in is a rename. */
export const INCOMING_DIR = '.incoming';

/**
 * The model store: a folder holding one ONNX file per registered version, at `<model>/<version>.onnx`
 * (paths in the registry are relative to the store). Files are written under a temporary name and
 * renamed into place, so a reader never sees half a file.
 */
export class ModelStore {
  readonly root: string;

  constructor(dir: string) {
    this.root = resolve(dir);
  }

  get incomingDir(): string {
    return join(this.root, INCOMING_DIR);
  }

  /** Creates the store and its incoming folder. */
  async ensure(): Promise<void> {
    await mkdir(this.incomingDir, { recursive: true });
  }

  /**
   * Where the upload interceptor writes a file: the incoming folder, created on first use (so that an
   * unwritable store fails uploads, not the start of the service).
   */
  uploadDestination(): (req: unknown, file: unknown, done: (error: Error | null, dir?: string) => void) => void {
    return (_req, _file, done) => {
      mkdir(this.incomingDir, { recursive: true }).then(
        () => done(null, this.incomingDir),
        (error: Error) => done(error),
      );
    };
  }

  /** Relative artifact path of a version. Names are checked against NAME_PATTERN before they get here. */
  artifactPath(model: string, version: string): string {
    return `${model}/${version}.onnx`;
  }

  /** Absolute path of a relative artifact path; refuses paths leaving the store. */
  absolute(artifactPath: string): string {
    const full = resolve(this.root, artifactPath);
    const rel = relative(this.root, full);
    if (rel === '' || rel.startsWith('..') || isAbsolute(rel) || rel.split(sep)[0] === INCOMING_DIR) {
      throw new Error(`artifact path ${artifactPath} is outside the model store`);
    }
    return full;
  }

  /** A fresh name in the incoming folder. */
  incomingPath(): string {
    return join(this.incomingDir, `${randomUUID()}.onnx`);
  }

  /** Copies a file into the incoming folder (for the shipped model). */
  async stage(source: string): Promise<string> {
    await mkdir(this.incomingDir, { recursive: true });
    const target = this.incomingPath();
    await copyFile(source, target);
    return target;
  }

  /** Moves a validated incoming file to its artifact path (replacing a leftover file of the same name). */
  async commit(incoming: string, artifactPath: string): Promise<void> {
    const target = this.absolute(artifactPath);
    await mkdir(resolve(target, '..'), { recursive: true });
    await rename(incoming, target);
  }

  async remove(artifactPath: string): Promise<void> {
    await rm(this.absolute(artifactPath), { force: true });
  }

  async removeIncoming(path: string): Promise<void> {
    const rel = relative(this.incomingDir, resolve(path));
    if (rel.startsWith('..') || isAbsolute(rel)) return;
    await rm(path, { force: true });
  }

  async exists(artifactPath: string): Promise<boolean> {
    try {
      return (await stat(this.absolute(artifactPath))).isFile();
    } catch {
      return false;
    }
  }

  /** Removes incoming files older than `maxAgeMs` (left by a crash during an upload). */
  async sweepIncoming(maxAgeMs: number): Promise<void> {
    let names: string[];
    try {
      names = await readdir(this.incomingDir);
    } catch {
      return;
    }
    const now = Date.now();
    for (const name of names) {
      const full = join(this.incomingDir, name);
      try {
        if (now - (await stat(full)).mtimeMs > maxAgeMs) await rm(full, { force: true });
      } catch {
        // Gone meanwhile.
      }
    }
  }
}

/** sha256 (hex) and size of a file. */
export async function fileDigest(path: string): Promise<{ sha256: string; size: number }> {
  const hash = createHash('sha256');
  let size = 0;
  for await (const chunk of createReadStream(path)) {
    const buffer = chunk as Buffer;
    size += buffer.length;
    hash.update(buffer);
  }
  return { sha256: hash.digest('hex'), size };
}
