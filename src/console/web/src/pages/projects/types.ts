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

export interface QuotaLimits {
  daily_credits: number | null;
  monthly_credits: number | null;
  rpm: number | null;
  tpm: number | null;
}

export interface QuotaWindow {
  limit: number | null;
  spent: number;
  reserved: number;
  remaining: number | null;
  resets_at: string;
}

export interface QuotaStatus {
  project_id: string;
  limits: QuotaLimits;
  daily: QuotaWindow;
  monthly: QuotaWindow;
}

/** What the signed-in user may do in one project (the API decides; the page only hides what it would refuse). */
export interface ProjectRights {
  /** Add members: the project's owner or an administrator. */
  manageMembers: boolean;
  /** Change quota limits: administrators. */
  editQuota: boolean;
  /** See every user (to pick one as a member): administrators. */
  listUsers: boolean;
}
