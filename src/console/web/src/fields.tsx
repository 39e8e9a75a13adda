/** Form pieces of the management pages: a labelled one-line text field, and a submit button that shows its action's progress. */
import type { Action } from './action';
import { Field } from './ui';

export function TextField(props: {
  label: string;
  value: string;
  onInput: (value: string) => void;
  hint?: string;
  type?: 'text' | 'email' | 'datetime-local';
  placeholder?: string;
  required?: boolean;
  maxLength?: number;
  inputMode?: 'numeric' | 'decimal';
  autocomplete?: string;
  list?: string;
}) {
  return (
    <Field label={props.label} hint={props.hint}>
      {(id) => (
        <input
          id={id}
          type={props.type ?? 'text'}
          placeholder={props.placeholder}
          required={props.required}
          maxLength={props.maxLength}
          inputMode={props.inputMode}
          autocomplete={props.autocomplete}
          list={props.list}
          value={props.value}
          onInput={(e) => props.onInput(e.currentTarget.value)}
        />
      )}
    </Field>
  );
}

/** The submit button of a form: disabled while the action runs, saying what it does. */
export function SubmitButton(props: { action: Action; label: string; busyLabel: string; inRow?: boolean }) {
  return (
    <button type="submit" class={props.inRow ? 'field-button' : undefined} disabled={props.action.busy}>
      {props.action.busy ? props.busyLabel : props.label}
    </button>
  );
}
