import { ROUTES } from '../routes';
import { Page } from '../ui';

export function PredictPage() {
  return (
    <Page title={ROUTES.predict.title}>
      <p class="muted">Coming next.</p>
    </Page>
  );
}
