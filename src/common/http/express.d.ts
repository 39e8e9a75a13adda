import type { Principal } from '../auth/principal';

declare module 'http' {
  interface IncomingMessage {
    /** Request id, set by the first middleware. */
    id: string;
  }
}

declare global {
  namespace Express {
    interface Request {
      id: string;
      /** Who is calling, set by the global auth guard. */
      principal?: Principal;
    }
  }
}

export {};
