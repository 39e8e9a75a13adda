export type Role = 'admin' | 'member';

/** A person signed in with a JWT. */
export interface UserPrincipal {
  kind: 'user';
  userId: string;
  email: string;
  role: Role;
  sessionId: string;
}

/** A program calling with a project-scoped API key. */
export interface ApiKeyPrincipal {
  kind: 'api_key';
  keyId: string;
  projectId: string;
  /** The user who created the key. */
  userId: string;
  role: 'member';
}

export type Principal = UserPrincipal | ApiKeyPrincipal;
