import type { QuotaStatus } from '../../usage-data';

/** The API's answers used by the projects page (see the Swagger document). */
export interface Project {
  id: string;
  name: string;
  owner_id: string;
  created_at: string;
}

export interface Member {
  user_id: string;
  email: string;
  role: 'owner' | 'member';
  added_at: string;
}

export interface ProjectDetail extends Project {
  members: Member[];
}

export interface User {
  id: string;
  email: string;
  role: 'admin' | 'member';
}

export interface ApiKey {
  id: string;
  name: string;
  prefix: string;
  created_at: string;
  last_used_at: string | null;
  expires_at: string | null;
  previous_key_expires_at: string | null;
}

export interface IssuedKey extends ApiKey {
  key: string;
}

/** The quota's answer, as the usage page reads it. */
export type { QuotaStatus, QuotaWindow } from '../../usage-data';
export type QuotaLimits = QuotaStatus['limits'];

/** What the signed-in user may do in one project (the API decides; the page only hides what it would refuse). */
export interface ProjectRights {
  /** Add members: the project's owner or an administrator. */
  manageMembers: boolean;
  /** Change quota limits: administrators. */
  editQuota: boolean;
  /** See every user (to pick one as a member): administrators. */
  listUsers: boolean;
}
