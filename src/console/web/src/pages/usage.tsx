import { ROUTES } from '../routes';
import { Page } from '../ui';

export function UsagePage() {
  return (
    <Page title={ROUTES.usage.title}>
      <p class="muted">Coming next.</p>
    </Page>
  );
}
