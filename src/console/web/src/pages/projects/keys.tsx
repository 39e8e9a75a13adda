import { useEffect, useRef, useState } from 'preact/hooks';
import { useAction } from '../../action';
import { api } from '../../api';
import { ConfirmDialog } from '../../confirm';
import { SubmitButton, TextField } from '../../fields';
import { formatDateTime } from '../../format-date';
import { TableHead } from '../../table';
import { Card, CopyButton, ErrorNote, Spinner, useId, useLoad } from '../../ui';
import type { ApiKey, IssuedKey } from './types';

/** A secret just issued: held in this component's memory only, until the panel is closed or the page left. */
interface Shown {
  keyId: string;
  name: string;
  secret: string;
  /** Set after a rotation: until when the previous secret keeps working. */
  previousValidUntil?: string;
}

function SecretPanel(props: { shown: Shown; onClose: () => void }) {
  const titleId = useId('secret');
  const heading = useRef<HTMLHeadingElement>(null);
  useEffect(() => heading.current?.focus(), [props.shown.secret]);
  const { shown } = props;
  return (
    <div class="secret-panel" role="region" aria-labelledby={titleId}>
      <h3 id={titleId} ref={heading} tabIndex={-1}>
        {shown.previousValidUntil ? `New secret of “${shown.name}”` : `API key “${shown.name}” created`}
      </h3>
      <p>
        <strong>Copy it now: you will not see it again.</strong> Only a hash is kept; closing this panel or leaving the
        page removes it from the screen for good.
      </p>
      <code class="secret">{shown.secret}</code>
      {shown.previousValidUntil && (
        <p class="note">
          The previous secret keeps working until <strong>{formatDateTime(shown.previousValidUntil)}</strong>; update
          the programs that use it before then.
        </p>
      )}
      <div class="row">
        <CopyButton value={shown.secret} label="Copy key" />
        <button type="button" onClick={props.onClose}>
          I have stored it, close
        </button>
      </div>
    </div>
  );
}

function CreateKey(props: { projectId: string; onCreated: (issued: IssuedKey) => void }) {
  const [name, setName] = useState('');
  const [expires, setExpires] = useState('');
  const create = useAction(async () => {
    const json: { name: string; expires_at?: string } = { name };
    if (expires) json.expires_at = new Date(expires).toISOString();
    const issued = await api<IssuedKey>(`/projects/${props.projectId}/api-keys`, { json });
    setName('');
    setExpires('');
    props.onCreated(issued);
  });
  return (
    <form onSubmit={create.submit}>
      <h3>Create a key</h3>
      <div class="row form-row">
        <TextField label="Key name" required maxLength={200} placeholder="ci-pipeline" value={name} onInput={setName} />
        <TextField
          label="Expires (optional)"
          hint="Empty: the key does not expire."
          type="datetime-local"
          value={expires}
          onInput={setExpires}
        />
        <SubmitButton action={create} label="Create key" busyLabel="Creating…" inRow />
      </div>
      <ErrorNote error={create.error} />
    </form>
  );
}

const CONFIRMATIONS = {
  rotate: 'A new secret is issued and shown once. The current secret keeps working for a grace period, then stops.',
  revoke:
    'Programs using this key are refused at once, including a previous secret still in its grace period. This cannot be undone.',
};

function rotationState(key: ApiKey): string {
  if (!key.previous_key_expires_at) return '—';
  return `previous secret valid until ${formatDateTime(key.previous_key_expires_at)}`;
}

function expiryState(key: ApiKey): string {
  if (!key.expires_at) return 'never';
  const at = formatDateTime(key.expires_at);
  return new Date(key.expires_at).getTime() <= Date.now() ? `expired ${at}` : at;
}

/** The project's API keys: list, create, rotate, revoke. Any member of the project may manage them. */
export function KeysCard(props: { projectId: string }) {
  const keys = useLoad(() => api<ApiKey[]>(`/projects/${props.projectId}/api-keys`), [props.projectId]);
  const [shown, setShown] = useState<Shown | null>(null);
  const [confirming, setConfirming] = useState<{ kind: 'rotate' | 'revoke'; key: ApiKey } | null>(null);
  const [revoked, setRevoked] = useState<string | null>(null);

  const rotate = async (key: ApiKey) => {
    const rotated = await api<IssuedKey & { previous_key_expires_at: string }>(
      `/projects/${props.projectId}/api-keys/${key.id}/rotate`,
      { method: 'POST' },
    );
    setShown({
      keyId: key.id,
      name: key.name,
      secret: rotated.key,
      previousValidUntil: rotated.previous_key_expires_at,
    });
    keys.reload();
  };
  const revoke = async (key: ApiKey) => {
    await api<void>(`/projects/${props.projectId}/api-keys/${key.id}`, { method: 'DELETE' });
    if (shown?.keyId === key.id) setShown(null);
    setRevoked(key.name);
    keys.reload();
  };

  return (
    <Card title="API keys">
      {shown && <SecretPanel shown={shown} onClose={() => setShown(null)} />}
      <ErrorNote error={keys.error} />
      {keys.data === undefined && !keys.error && <Spinner label="Loading keys…" />}
      {keys.data?.length === 0 && <p class="muted">No API key yet.</p>}
      {keys.data && keys.data.length > 0 && (
        <div class="table-wrap">
          <table aria-label="API keys">
            <TableHead
              columns={[
                'Name',
                'Key',
                'Created',
                'Last used',
                'Expires',
                'Rotation',
                { title: 'Actions', hidden: true },
              ]}
            />
            <tbody>
              {keys.data.map((k) => (
                <tr key={k.id}>
                  <td>{k.name}</td>
                  <td>
                    <code>{k.prefix}…</code>
                  </td>
                  <td>{formatDateTime(k.created_at)}</td>
                  <td>{k.last_used_at ? formatDateTime(k.last_used_at) : 'never'}</td>
                  <td>{expiryState(k)}</td>
                  <td>{rotationState(k)}</td>
                  <td>
                    <div class="row-actions">
                      <button
                        type="button"
                        class="secondary"
                        aria-label={`Rotate ${k.name}`}
                        onClick={() => setConfirming({ kind: 'rotate', key: k })}
                      >
                        Rotate
                      </button>
                      <button
                        type="button"
                        class="secondary danger-text"
                        aria-label={`Revoke ${k.name}`}
                        onClick={() => setConfirming({ kind: 'revoke', key: k })}
                      >
                        Revoke
                      </button>
                    </div>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {revoked && (
        <p class="note success" role="status">
          “{revoked}” was revoked: it no longer authenticates.
        </p>
      )}
      <CreateKey
        projectId={props.projectId}
        onCreated={(issued) => {
          setRevoked(null);
          setShown({ keyId: issued.id, name: issued.name, secret: issued.key });
          keys.reload();
        }}
      />
      {confirming && (
        <ConfirmDialog
          title={`${confirming.kind === 'rotate' ? 'Rotate' : 'Revoke'} “${confirming.key.name}”?`}
          confirmLabel={confirming.kind === 'rotate' ? 'Rotate key' : 'Revoke key'}
          onConfirm={() => (confirming.kind === 'rotate' ? rotate(confirming.key) : revoke(confirming.key))}
          onClose={() => setConfirming(null)}
        >
          <p>{CONFIRMATIONS[confirming.kind]}</p>
        </ConfirmDialog>
      )}
    </Card>
  );
}
