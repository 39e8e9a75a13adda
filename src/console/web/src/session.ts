/**
 * Who is signed in, which project the console works on, and the wait for a new sign-in when the
 * session expired. A small store with subscribers (components read it through useSession).
 */
import { useEffect, useState } from 'preact/hooks';

export interface ProjectRef {
  id: string;
  name: string;
}

export interface Me {
  kind: 'user';
  id: string;
  email: string;
  /** `admin` may do everything; other users act in their projects. */
  role: string;
  projects: ProjectRef[];
}

export type SessionState = 'loading' | 'signed_out' | 'signed_in' | 'expired';

export interface SessionSnapshot {
  state: SessionState;
  me: Me | null;
  projectId: string | null;
}

/** The chosen project is not a secret: it is remembered across visits. */
const PROJECT_STORAGE_KEY = 'conflux.console.project';

class SessionStore {
  private snapshot: SessionSnapshot = { state: 'loading', me: null, projectId: null };
  private readonly listeners = new Set<() => void>();
  private waiters: Array<() => void> = [];

  get(): SessionSnapshot {
    return this.snapshot;
  }

  subscribe(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private set(next: Partial<SessionSnapshot>): void {
    this.snapshot = { ...this.snapshot, ...next };
    for (const listener of this.listeners) listener();
  }

  signedIn(me: Me): void {
    const remembered = localStorage.getItem(PROJECT_STORAGE_KEY);
    const current = this.snapshot.projectId ?? remembered;
    const projectId = me.projects.some((p) => p.id === current) ? current : (me.projects[0]?.id ?? null);
    this.set({ state: 'signed_in', me, projectId });
    const waiters = this.waiters;
    this.waiters = [];
    for (const resume of waiters) resume();
  }

  signedOut(): void {
    this.set({ state: 'signed_out', me: null });
    this.waiters = [];
  }

  /** Marks the session expired and resolves once the user has signed in again. */
  expired(): Promise<void> {
    if (this.snapshot.state === 'signed_in' || this.snapshot.state === 'expired') {
      this.set({ state: 'expired' });
      return new Promise((resolve) => this.waiters.push(resolve));
    }
    return Promise.reject(new Error('Not signed in'));
  }

  chooseProject(projectId: string): void {
    localStorage.setItem(PROJECT_STORAGE_KEY, projectId);
    this.set({ projectId });
  }

  /** After a project was created: the list is read again by the caller and passed here. */
  updateProjects(projects: ProjectRef[]): void {
    if (!this.snapshot.me) return;
    this.set({ me: { ...this.snapshot.me, projects } });
  }
}

export const session = new SessionStore();

export function useSession(): SessionSnapshot {
  const [snapshot, setSnapshot] = useState(session.get());
  useEffect(() => session.subscribe(() => setSnapshot(session.get())), []);
  return snapshot;
}
