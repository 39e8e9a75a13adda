import { api } from '../../api';
import { TableHead } from '../../table';
import { ErrorNote, formatNumber, Spinner, useLoad } from '../../ui';
import { type AbStats, modelPath } from './types';

function rate(value: number | null): string {
  return value === null ? '—' : `${formatNumber(value * 100, 1)} %`;
}

/** Per-arm statistics of a model's A/B test (administrators only: the API refuses others). */
export function AbStatsTable(props: { model: string; revision: number }) {
  const stats = useLoad(() => api<AbStats>(`${modelPath(props.model)}/ab`), [props.model, props.revision]);
  if (stats.error) return <ErrorNote error={stats.error} />;
  if (!stats.data) return <Spinner label="Loading A/B statistics…" />;
  if (stats.data.arms.length === 0) return <p class="muted">No prediction recorded yet.</p>;
  return (
    <div class="table-wrap">
      <table aria-label={`A/B statistics of ${props.model}`}>
        <TableHead
          columns={[
            'Version',
            ...['Weight', 'Predictions', 'Share', 'Latency mean / p50 / p95', 'Fallbacks', 'Feedback', 'Hit rate'].map(
              (title) => ({ title, num: true }),
            ),
            { title: 'Mean abs. error', num: true },
          ]}
        />
        <tbody>
          {stats.data.arms.map((arm) => (
            <tr key={arm.version}>
              <td>
                <code>{arm.version}</code>
              </td>
              <td class="num">{arm.weight ?? '—'}</td>
              <td class="num">{formatNumber(arm.predictions)}</td>
              <td class="num">{rate(arm.share)}</td>
              <td class="num">
                {formatNumber(arm.latency_ms.mean, 1)} / {formatNumber(arm.latency_ms.p50, 1)} /{' '}
                {formatNumber(arm.latency_ms.p95, 1)} ms
              </td>
              <td class="num">{formatNumber(arm.fallbacks)}</td>
              <td class="num">{formatNumber(arm.feedback.count)}</td>
              <td class="num">{rate(arm.feedback.hit_rate)}</td>
              <td class="num">
                {arm.feedback.mean_abs_error === null ? '—' : formatNumber(arm.feedback.mean_abs_error, 5)}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
