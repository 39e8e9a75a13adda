import { ROUTES } from '../routes';
import { Page } from '../ui';

export function ModelsPage() {
  return (
    <Page title={ROUTES.models.title}>
      <p class="muted">Coming next.</p>
    </Page>
  );
}
