import { useState } from 'preact/hooks';
import { useAction } from '../../action';
import { api } from '../../api';
import { SubmitButton, TextField } from '../../fields';
import { Card, ErrorNote, Field } from '../../ui';
import type { InputSignature, Model, OutputMapping } from './types';

/** The shipped trading-signal model's signature and mapping: a working example to adapt. */
const EXAMPLE_SIGNATURE: InputSignature = {
  name: 'features',
  dtype: 'float32',
  shape: [-1, 12],
  feature_names: [
    'log_return_1',
    'log_return_2',
    'log_return_3',
    'log_return_4',
    'log_return_5',
    'momentum_5',
    'momentum_20',
    'ma_gap_5',
    'ma_gap_20',
    'volatility_5',
    'volatility_20',
    'rsi_14',
  ],
};
const EXAMPLE_MAPPING: OutputMapping = {
  probabilities: 'probabilities',
  labels: ['SELL', 'HOLD', 'BUY'],
  expected_return: 'expected_return',
  threshold: 0.004,
};

/** Reads a JSON text area; a syntax error names the field (the API judges the content). */
function parseJson(label: string, text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch (e) {
    throw new Error(`${label} is not valid JSON: ${e instanceof Error ? e.message : String(e)}`);
  }
}

function JsonField(props: { label: string; hint: string; value: string; onInput: (value: string) => void }) {
  return (
    <Field label={props.label} hint={props.hint}>
      {(id) => (
        <textarea
          id={id}
          class="json"
          spellcheck={false}
          value={props.value}
          onInput={(e) => props.onInput(e.currentTarget.value)}
        />
      )}
    </Field>
  );
}

export function RegisterModel(props: { onRegistered: (model: Model) => void }) {
  const [name, setName] = useState('');
  const [task, setTask] = useState('classification: next-day direction');
  const [signature, setSignature] = useState(JSON.stringify(EXAMPLE_SIGNATURE, null, 2));
  const [mapping, setMapping] = useState(JSON.stringify(EXAMPLE_MAPPING, null, 2));
  const register = useAction(async () => {
    const json = {
      name: name.trim(),
      task,
      input_signature: parseJson('The input signature', signature),
      output_mapping: parseJson('The output mapping', mapping),
    };
    const model = await api<Model>('/api/ml/models', { json });
    setName('');
    props.onRegistered(model);
  });
  return (
    <Card title="Register a model">
      <form onSubmit={register.submit}>
        <div class="row">
          <TextField
            label="Model name"
            hint="Letters, digits, “.”, “_” or “-”."
            required
            placeholder="trading-signal-v2"
            value={name}
            onInput={setName}
          />
          <TextField label="Task" required value={task} onInput={setTask} />
        </div>
        <div class="row">
          <JsonField
            label="Input signature (JSON)"
            hint="The one input tensor: its name in the ONNX graph, float32 or float64, shape [-1, features]."
            value={signature}
            onInput={setSignature}
          />
          <JsonField
            label="Output mapping (JSON)"
            hint="The probabilities output, its column labels (SELL, HOLD, BUY), optionally expected_return and threshold."
            value={mapping}
            onInput={setMapping}
          />
        </div>
        <ErrorNote error={register.error} />
        <SubmitButton action={register} label="Register model" busyLabel="Registering…" />
      </form>
    </Card>
  );
}
