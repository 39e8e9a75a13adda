import { api } from '../api';
import { ROUTES } from '../routes';
import { useSession } from '../session';
import { ErrorNote, Page, Spinner, useLoad } from '../ui';
import { ModelCard } from './model-registry/model-card';
import { RegisterModel } from './model-registry/register';
import type { Model } from './model-registry/types';

export function ModelsPage() {
  const { me } = useSession();
  const isAdmin = me?.role === 'admin';
  const models = useLoad(() => api<{ models: Model[] }>('/api/ml/models'), []);
  return (
    <Page title={ROUTES.models.title}>
      {!isAdmin && (
        <p class="note">
          Read only: registering models, uploading versions and changing stages or splits is for administrators.
        </p>
      )}
      <ErrorNote error={models.error} />
      {!models.data && !models.error && <Spinner label="Loading models…" />}
      {models.data?.models.length === 0 && <p class="muted">No model is registered.</p>}
      {models.data?.models.map((m) => (
        <ModelCard key={m.name} model={m} isAdmin={isAdmin} onChanged={models.reload} />
      ))}
      {isAdmin && <RegisterModel onRegistered={models.reload} />}
    </Page>
  );
}
