import { ROUTES } from '../routes';
import { Page } from '../ui';

export function ForecastPage() {
  return (
    <Page title={ROUTES.forecast.title}>
      <p class="muted">Coming next.</p>
    </Page>
  );
}
