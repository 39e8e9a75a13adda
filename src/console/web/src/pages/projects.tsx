import { ROUTES } from '../routes';
import { Page } from '../ui';

export function ProjectsPage() {
  return (
    <Page title={ROUTES.projects.title}>
      <p class="muted">Coming next.</p>
    </Page>
  );
}
