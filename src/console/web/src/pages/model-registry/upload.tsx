import { useRef, useState } from 'preact/hooks';
import { useAction } from '../../action';
import { api } from '../../api';
import { SubmitButton, TextField } from '../../fields';
import { ErrorNote, Field } from '../../ui';
import { type ModelVersion, modelPath } from './types';

/** Uploads an .onnx file as a new version (multipart/form-data: the fields, then `file`). */
export function UploadVersion(props: { model: string; onUploaded: () => void }) {
  const [file, setFile] = useState<File | null>(null);
  const [version, setVersion] = useState('');
  const [stage, setStage] = useState('none');
  const [description, setDescription] = useState('');
  const [uploaded, setUploaded] = useState<ModelVersion | null>(null);
  const form = useRef<HTMLFormElement>(null);
  const upload = useAction(async () => {
    setUploaded(null);
    if (!file) throw new Error('Choose an .onnx file first.');
    const body = new FormData();
    if (version.trim()) body.append('version', version.trim());
    body.append('stage', stage);
    if (description.trim()) body.append('description', description.trim());
    body.append('file', file, file.name);
    const created = await api<ModelVersion>(`${modelPath(props.model)}/versions`, { body });
    setUploaded(created);
    setFile(null);
    setVersion('');
    setDescription('');
    form.current?.reset();
    props.onUploaded();
  });
  return (
    <form ref={form} class="upload-version" onSubmit={upload.submit}>
      <h4>Upload a version</h4>
      <div class="row">
        <Field label={`ONNX file for ${props.model}`}>
          {(id) => (
            <input
              id={id}
              type="file"
              accept=".onnx"
              required
              onChange={(e) => setFile(e.currentTarget.files?.[0] ?? null)}
            />
          )}
        </Field>
        <TextField
          label={`Version id for ${props.model}`}
          hint="Optional: by default the date and the file's hash."
          value={version}
          onInput={setVersion}
        />
        <Field label={`Stage of the upload to ${props.model}`}>
          {(id) => (
            <select id={id} value={stage} onChange={(e) => setStage(e.currentTarget.value)}>
              <option value="none">none</option>
              <option value="staging">staging</option>
              <option value="production">production</option>
            </select>
          )}
        </Field>
        <TextField
          label={`Description of the upload to ${props.model}`}
          hint="Optional."
          value={description}
          onInput={setDescription}
        />
      </div>
      <ErrorNote error={upload.error} />
      {uploaded && (
        <p class="note success" role="status">
          Version {uploaded.version} uploaded ({uploaded.stage}).
        </p>
      )}
      <SubmitButton action={upload} label="Upload version" busyLabel="Uploading…" />
    </form>
  );
}
