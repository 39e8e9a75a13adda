import { ROUTES } from '../routes';
import { Page } from '../ui';

export function StatusPage() {
  return (
    <Page title={ROUTES.status.title}>
      <p class="muted">Coming next.</p>
    </Page>
  );
}
