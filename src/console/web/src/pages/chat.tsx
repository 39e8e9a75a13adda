import { ROUTES } from '../routes';
import { Page } from '../ui';

export function ChatPage() {
  return (
    <Page title={ROUTES.chat.title}>
      <p class="muted">Coming next.</p>
    </Page>
  );
}
