import { api } from './api';
import { type Me, session } from './session';

/** Reads who is signed in (after a sign-in or a refreshed session). */
export async function loadMe(): Promise<void> {
  const me = await api<Me | { kind: 'api_key' }>('/auth/me');
  if (me.kind !== 'user') throw new Error('The console is for users; API keys call the API directly.');
  session.signedIn(me);
}
