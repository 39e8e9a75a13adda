import { useState } from 'preact/hooks';
import { useAction } from '../../action';
import { api } from '../../api';
import { formatDateTime } from '../../format-date';
import { TableHead } from '../../table';
import { ErrorNote, formatNumber, useId } from '../../ui';
import { SplitForm, SplitTable } from './split';
import { AbStatsTable } from './stats';
import { type Model, type ModelVersion, modelPath, type ReloadResult, type Stage, STAGES } from './types';
import { UploadVersion } from './upload';

function LoadedState(props: { version: ModelVersion }) {
  const { version: v } = props;
  if (v.remote) return <span>remote worker ({v.remote.breaker.replace('_', ' ')})</span>;
  if (v.loaded) return <span class="badge loaded">loaded</span>;
  return (
    <span>
      <span class="badge unloaded">not loaded</span>
      {v.load_error && <small class="hint"> {v.load_error}</small>}
    </span>
  );
}

/** Changes one version's stage (the API loads a version about to serve first). */
function StageControl(props: {
  model: string;
  version: ModelVersion;
  archivePrevious: boolean;
  onChanged: () => void;
}) {
  const [stage, setStage] = useState<Stage>(props.version.stage);
  const id = useId('stage');
  const change = useAction(async () => {
    const json = stage === 'production' && props.archivePrevious ? { stage, archive_previous: true } : { stage };
    await api<ModelVersion>(`${modelPath(props.model)}/versions/${encodeURIComponent(props.version.version)}`, {
      method: 'PATCH',
      json,
    });
    props.onChanged();
  });
  return (
    <div class="stage-control">
      <label class="visually-hidden" for={id}>
        Stage of {props.version.version}
      </label>
      <select id={id} value={stage} onChange={(e) => setStage(e.currentTarget.value as Stage)}>
        {STAGES.map((s) => (
          <option key={s} value={s}>
            {s}
          </option>
        ))}
      </select>
      <button
        type="button"
        class="secondary"
        aria-label={`Apply stage to ${props.version.version}`}
        disabled={change.busy || stage === props.version.stage}
        onClick={() => void change.run()}
      >
        {change.busy ? 'Applying…' : 'Apply'}
      </button>
      <ErrorNote error={change.error} />
    </div>
  );
}

function VersionsTable(props: { model: Model; isAdmin: boolean; onChanged: () => void }) {
  const { model } = props;
  const [archivePrevious, setArchivePrevious] = useState(false);
  const archiveId = useId('archive');
  if (model.versions.length === 0)
    return <p class="muted">No version yet{props.isAdmin ? ': upload one below' : ''}.</p>;
  return (
    <>
      <div class="table-wrap">
        <table aria-label={`Versions of ${model.name}`}>
          <TableHead
            columns={[
              'Version',
              'Stage',
              'Serving',
              { title: 'Size', num: true },
              'Created',
              'Description',
              ...(props.isAdmin ? ['Change stage'] : []),
            ]}
          />
          <tbody>
            {model.versions.map((v) => (
              <tr key={v.version}>
                <td>
                  <code>{v.version}</code>
                </td>
                <td>
                  <span class={`badge stage-${v.stage}`}>{v.stage}</span>
                </td>
                <td>
                  <LoadedState version={v} />
                </td>
                <td class="num">{formatNumber(v.size_bytes / 1024, 1)} KiB</td>
                <td>{formatDateTime(v.created_at)}</td>
                <td class="text-cell">{v.description ?? '—'}</td>
                {props.isAdmin && (
                  <td>
                    <StageControl
                      key={`${v.version}:${v.stage}`}
                      model={model.name}
                      version={v}
                      archivePrevious={archivePrevious}
                      onChanged={props.onChanged}
                    />
                  </td>
                )}
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {props.isAdmin && (
        <div class="checkbox">
          <input
            id={archiveId}
            type="checkbox"
            checked={archivePrevious}
            onChange={(e) => setArchivePrevious(e.currentTarget.checked)}
          />
          <label for={archiveId}>When promoting to production, archive the previous production version</label>
        </div>
      )}
    </>
  );
}

function Signature(props: { model: Model }) {
  const { input_signature: input, output_mapping: output } = props.model;
  return (
    <dl class="stats">
      <div>
        <dt>Input</dt>
        <dd>
          <code>
            {input.name} {input.dtype} [{input.shape.join(', ')}]
          </code>
        </dd>
      </div>
      <div>
        <dt>Classes</dt>
        <dd>{output.labels.join(' / ')}</dd>
      </div>
      <div>
        <dt>Production</dt>
        <dd>{props.model.production_version ? <code>{props.model.production_version}</code> : 'none'}</dd>
      </div>
    </dl>
  );
}

/** One model: signature, versions and stages, split; administrators change them. */
export function ModelCard(props: { model: Model; isAdmin: boolean; onChanged: () => void }) {
  const { model, isAdmin } = props;
  const titleId = useId('model');
  const [revision, setRevision] = useState(0);
  const [reloaded, setReloaded] = useState<ReloadResult | null>(null);
  const changed = () => {
    setRevision((r) => r + 1);
    props.onChanged();
  };
  const reload = useAction(async () => {
    setReloaded(await api<ReloadResult>(`${modelPath(model.name)}/reload`, { method: 'POST' }));
    changed();
  });
  return (
    <section class="card model-card" aria-labelledby={titleId}>
      <header class="model-head">
        <h2 class="card-title" id={titleId}>
          {model.name}
        </h2>
        {isAdmin && (
          <button type="button" class="secondary" disabled={reload.busy} onClick={() => void reload.run()}>
            {reload.busy ? 'Reloading…' : `Reload ${model.name}`}
          </button>
        )}
      </header>
      <p class="muted">{model.task}</p>
      <Signature model={model} />
      <ErrorNote error={reload.error} />
      {reloaded && (
        <p class="note success" role="status">
          Reloaded{' '}
          {reloaded.reloaded.length === 0
            ? 'nothing (no version serves)'
            : reloaded.reloaded.map((r) => `${r.version} (${formatNumber(r.load_ms)} ms)`).join(', ')}
          .
        </p>
      )}
      <h3>Versions</h3>
      <VersionsTable model={model} isAdmin={isAdmin} onChanged={changed} />
      <h3>A/B split</h3>
      {model.split ? (
        <SplitTable split={model.split} model={model.name} />
      ) : (
        <p class="muted">No split: the production version serves every request.</p>
      )}
      {isAdmin && model.versions.length > 0 && <SplitForm model={model} onChanged={changed} />}
      {isAdmin && (
        <>
          <h3>Per-arm statistics</h3>
          <AbStatsTable model={model.name} revision={revision} />
          <UploadVersion model={model.name} onUploaded={changed} />
        </>
      )}
    </section>
  );
}
