import { ROUTES } from '../routes';
import { Page } from '../ui';

export function ImagePage() {
  return (
    <Page title={ROUTES.image.title}>
      <p class="muted">Coming next.</p>
    </Page>
  );
}
