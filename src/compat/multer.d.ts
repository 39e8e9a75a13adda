/**
 * The part of multer's API used by the image route (multer comes with @nestjs/platform-express and
 * ships no types of its own).
 */
declare module 'multer' {
  import type { RequestHandler } from 'express';

  namespace multer {
    interface File {
      fieldname: string;
      originalname: string;
      mimetype: string;
      size: number;
      /** Set by the memory storage. */
      buffer: Buffer;
    }

    interface Limits {
      fieldNameSize?: number;
      fieldSize?: number;
      fields?: number;
      fileSize?: number;
      files?: number;
      parts?: number;
    }

    interface StorageEngine {
      _handleFile(...args: unknown[]): void;
      _removeFile(...args: unknown[]): void;
    }

    interface Options {
      storage?: StorageEngine;
      limits?: Limits;
    }

    interface Multer {
      single(fieldName: string): RequestHandler;
    }

    /** Raised by multer for a limit or a malformed form; `code` names which. */
    class MulterError extends Error {
      readonly code: string;
      readonly field?: string;
    }

    function memoryStorage(): StorageEngine;
  }

  function multer(options?: multer.Options): multer.Multer;

  export = multer;
}
