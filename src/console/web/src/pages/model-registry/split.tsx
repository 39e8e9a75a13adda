import { useState } from 'preact/hooks';
import { useAction } from '../../action';
import { api } from '../../api';
import { TextField } from '../../fields';
import { TableHead } from '../../table';
import { ErrorNote, Field, formatNumber } from '../../ui';
import { type Model, modelPath, type SplitArm } from './types';

export function SplitTable(props: { split: SplitArm[]; model: string }) {
  return (
    <div class="table-wrap">
      <table aria-label={`A/B split of ${props.model}`}>
        <TableHead columns={['Version', { title: 'Weight', num: true }, { title: 'Share', num: true }]} />
        <tbody>
          {props.split.map((arm) => (
            <tr key={arm.version}>
              <td>
                <code>{arm.version}</code>
              </td>
              <td class="num">{arm.weight}</td>
              <td class="num">{formatNumber(arm.share * 100, 1)} %</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

interface Arm {
  version: string;
  weight: string;
}

/** Sets the A/B split (versions and weights) or removes it. */
export function SplitForm(props: { model: Model; onChanged: () => void }) {
  const { model } = props;
  const candidates = model.versions.filter((v) => v.stage !== 'archived').map((v) => v.version);
  const initial = (): Arm[] =>
    model.split?.map((a) => ({ version: a.version, weight: String(a.weight) })) ?? [
      { version: model.production_version ?? candidates[0] ?? '', weight: '50' },
    ];
  const [arms, setArms] = useState<Arm[]>(initial);
  const update = (index: number, change: Partial<Arm>) =>
    setArms((all) => all.map((arm, i) => (i === index ? { ...arm, ...change } : arm)));
  const save = useAction(async () => {
    const json = { arms: arms.map((a) => ({ version: a.version, weight: Number(a.weight) })) };
    await api<Model>(`${modelPath(model.name)}/split`, { method: 'PUT', json });
    props.onChanged();
  });
  const clear = useAction(async () => {
    await api<Model>(`${modelPath(model.name)}/split`, { method: 'DELETE' });
    setArms(initial);
    props.onChanged();
  });
  const unused = candidates.find((v) => !arms.some((a) => a.version === v));
  return (
    <form class="split-form" noValidate onSubmit={save.submit}>
      <h4>Set the A/B split</h4>
      <p class="hint">Requests are assigned to a version by weight, sticky by routing key.</p>
      {arms.map((arm, i) => (
        <div class="row form-row split-arm" key={i}>
          <Field label={`Version of arm ${i + 1}`}>
            {(id) => (
              <select id={id} value={arm.version} onChange={(e) => update(i, { version: e.currentTarget.value })}>
                {candidates.map((v) => (
                  <option key={v} value={v}>
                    {v}
                  </option>
                ))}
              </select>
            )}
          </Field>
          <TextField
            label={`Weight of arm ${i + 1}`}
            inputMode="numeric"
            value={arm.weight}
            onInput={(weight) => update(i, { weight })}
          />
          {arms.length > 1 && (
            <button
              type="button"
              class="secondary field-button"
              aria-label={`Remove arm ${i + 1}`}
              onClick={() => setArms((all) => all.filter((_, j) => j !== i))}
            >
              Remove
            </button>
          )}
        </div>
      ))}
      <div class="row">
        <button
          type="button"
          class="secondary"
          disabled={unused === undefined}
          onClick={() => unused !== undefined && setArms((all) => [...all, { version: unused, weight: '50' }])}
        >
          Add arm
        </button>
        <button type="submit" disabled={save.busy || arms.length === 0}>
          {save.busy ? 'Saving…' : 'Save split'}
        </button>
        {model.split && (
          <button type="button" class="secondary" disabled={clear.busy} onClick={() => void clear.run()}>
            Remove split
          </button>
        )}
      </div>
      <ErrorNote error={save.error ?? clear.error} />
    </form>
  );
}
