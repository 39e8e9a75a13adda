import { useState } from 'preact/hooks';
import { useAction } from '../../action';
import { api } from '../../api';
import { SubmitButton, TextField } from '../../fields';
import { formatDateTime } from '../../format-date';
import { Bar, Card, ErrorNote, formatNumber, Spinner, useLoad } from '../../ui';
import { fetchQuota } from '../../usage-data';
import type { QuotaLimits, QuotaStatus, QuotaWindow } from './types';

type LimitName = keyof QuotaLimits;

const LIMITS: Array<{ name: LimitName; label: string; unit: string; integer: boolean }> = [
  { name: 'daily_credits', label: 'Credits per day', unit: 'credits', integer: false },
  { name: 'monthly_credits', label: 'Credits per month', unit: 'credits', integer: false },
  { name: 'rpm', label: 'Requests per minute, per key', unit: 'requests', integer: true },
  { name: 'tpm', label: 'Tokens per minute, per key', unit: 'tokens', integer: true },
];

function QuotaWindowView(props: { label: string; window: QuotaWindow }) {
  const { window: w } = props;
  const used = w.spent + w.reserved;
  const reserved = w.reserved > 0 ? ` (${formatNumber(w.reserved, 6)} held by requests in flight)` : '';
  return (
    <div class="quota-window">
      {w.limit === null ? (
        <p>
          <strong>{props.label}</strong>: {formatNumber(used, 6)} credits used{reserved}, no limit.
        </p>
      ) : (
        <Bar
          label={props.label}
          value={used}
          max={w.limit}
          text={`${formatNumber(used, 6)} of ${formatNumber(w.limit, 6)} credits${reserved}`}
        />
      )}
      <small class="hint">Starts over {formatDateTime(w.resets_at)}</small>
    </div>
  );
}

/** What the form sends for one field: empty is "no limit" (null); anything else goes to the API as typed, to be judged there. */
function limitValue(text: string): number | string | null {
  const trimmed = text.trim();
  if (trimmed === '') return null;
  const value = Number(trimmed);
  return Number.isNaN(value) ? trimmed : value;
}

function QuotaForm(props: { projectId: string; limits: QuotaLimits; onSaved: (status: QuotaStatus) => void }) {
  const initial = () =>
    Object.fromEntries(LIMITS.map((l) => [l.name, props.limits[l.name]?.toString() ?? ''])) as Record<
      LimitName,
      string
    >;
  const [values, setValues] = useState(initial);
  const [saved, setSaved] = useState(false);
  const save = useAction(async () => {
    setSaved(false);
    const json = Object.fromEntries(LIMITS.map((l) => [l.name, limitValue(values[l.name])]));
    const status = await api<QuotaStatus>(`/projects/${props.projectId}/quota`, { method: 'PUT', json });
    setSaved(true);
    props.onSaved(status);
  });
  return (
    <form class="quota-form" noValidate onSubmit={save.submit}>
      <h3>Change the limits</h3>
      <div class="row">
        {LIMITS.map((l) => (
          <TextField
            key={l.name}
            label={l.label}
            hint="Empty: no limit."
            inputMode={l.integer ? 'numeric' : 'decimal'}
            autocomplete="off"
            value={values[l.name]}
            onInput={(text) => setValues((v) => ({ ...v, [l.name]: text }))}
          />
        ))}
      </div>
      <ErrorNote error={save.error} />
      {saved && !save.error && (
        <p class="note success" role="status">
          Limits saved.
        </p>
      )}
      <SubmitButton action={save} label="Save limits" busyLabel="Saving…" />
    </form>
  );
}

/** The project's quota: each window's use against its limit; administrators change the limits. */
export function QuotaCard(props: { projectId: string; editable: boolean }) {
  const quota = useLoad(() => fetchQuota(props.projectId), [props.projectId]);
  const [latest, setLatest] = useState<QuotaStatus | null>(null);
  const status = latest ?? quota.data;
  return (
    <Card title="Quota">
      <ErrorNote error={quota.error} />
      {!status && !quota.error && <Spinner label="Loading the quota…" />}
      {status && (
        <>
          <QuotaWindowView label="Today" window={status.daily} />
          <QuotaWindowView label="This month" window={status.monthly} />
          <dl class="stats">
            {LIMITS.map((l) => (
              <div key={l.name}>
                <dt>{l.label}</dt>
                <dd>
                  {status.limits[l.name] === null
                    ? 'no limit'
                    : `${formatNumber(status.limits[l.name] ?? 0, 6)} ${l.unit}`}
                </dd>
              </div>
            ))}
          </dl>
          {props.editable ? (
            <QuotaForm projectId={props.projectId} limits={status.limits} onSaved={setLatest} />
          ) : (
            <p class="muted">Only administrators change the limits.</p>
          )}
        </>
      )}
    </Card>
  );
}
