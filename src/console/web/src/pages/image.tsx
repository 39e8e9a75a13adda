import { useEffect, useRef, useState } from 'preact/hooks';
import { api, call } from '../api';
import { IMAGE_MAX_BYTES, IMAGE_TYPES, imageProblem, SNIFF_BYTES } from '../image-check';
import {
  formatCount,
  formatCredits,
  ProjectNeeded,
  RequestError,
  type Sampling,
  SamplingFields,
  samplingOf,
  type Stat,
  Stats,
  useRevealed,
} from '../playground-ui';
import { ROUTES } from '../routes';
import { useSession } from '../session';
import { Card, Field, formatNumber, Page, Spinner, useId, useLoad } from '../ui';

/** The answer of POST /api/v1/image/analyze (the Production API's). */
interface Analysis {
  success: boolean;
  data: { text: string; generated_tokens: number; input_tokens: number };
  metrics: { generation_time: number; total_time: number; tokens_per_second: number };
  request_id: string;
}

interface Answered {
  analysis: Analysis;
  model: string | null;
  provider: string | null;
  credits: number | undefined;
}

interface ModelList {
  data: { id: string; modalities?: string[] }[];
}

/** The replaced form's defaults (MAX_TOKENS_AVISION, TEMPERATURE) and the server's prompt limit. */
const DEFAULT_MAX_TOKENS = 200;
const DEFAULT_TEMPERATURE = 0.7;
const PROMPT_MAX_CHARS = 2000;
const DEFAULT_PROMPT = 'Describe this image in detail.';

function sizeText(bytes: number): string {
  return bytes >= 1024 * 1024 ? `${formatNumber(bytes / (1024 * 1024), 1)} MB` : `${formatNumber(bytes / 1024, 1)} KB`;
}

function answerStats(a: Answered): Stat[] {
  const { data, metrics } = a.analysis;
  return [
    { label: 'Model', value: a.model ?? '—' },
    { label: 'Provider', value: a.provider ?? '—' },
    { label: 'Cost (credits)', value: formatCredits(a.credits) },
    { label: 'Input tokens', value: formatCount(data.input_tokens) },
    { label: 'Generated tokens', value: formatCount(data.generated_tokens) },
    { label: 'Generation time', value: `${formatNumber(metrics.generation_time, 2)} s` },
    { label: 'Total time', value: `${formatNumber(metrics.total_time, 2)} s` },
    { label: 'Tokens/s', value: formatCount(metrics.tokens_per_second, 1) },
  ];
}

/** An image chosen by the file input or dropped: checked, and previewed through a blob: URL. */
function useChosenImage() {
  const [file, setFile] = useState<File | null>(null);
  const [problem, setProblem] = useState<string | null>(null);
  const [preview, setPreview] = useState<string | null>(null);
  const choice = useRef(0);

  useEffect(() => {
    if (!preview) return;
    return () => URL.revokeObjectURL(preview);
  }, [preview]);

  const choose = async (chosen: File | null) => {
    const turn = ++choice.current;
    setFile(null);
    setPreview(null);
    setProblem(null);
    if (!chosen) return;
    const head = new Uint8Array(await chosen.slice(0, SNIFF_BYTES).arrayBuffer());
    if (turn !== choice.current) return;
    const refused = imageProblem(chosen.size, head);
    if (refused) {
      setProblem(refused);
      return;
    }
    setFile(chosen);
    setPreview(URL.createObjectURL(chosen));
  };
  return { file, problem, preview, choose };
}

export function ImagePage() {
  const { projectId } = useSession();
  const models = useLoad(() => api<ModelList>('/v1/models'), []);
  const image = useChosenImage();
  const [over, setOver] = useState(false);
  const [prompt, setPrompt] = useState('');
  const [model, setModel] = useState('auto');
  const [sampling, setSampling] = useState<Sampling>({
    temperature: String(DEFAULT_TEMPERATURE),
    maxTokens: String(DEFAULT_MAX_TOKENS),
  });
  const [answer, setAnswer] = useState<Answered | null>(null);
  const revealed = useRevealed<HTMLDivElement>(answer);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const inputRef = useRef<HTMLInputElement>(null);
  const hintId = useId('image-hint');
  const problemId = useId('image-problem');

  const pick = (file: File | null) => {
    setAnswer(null);
    setError(null);
    void image.choose(file);
  };

  const analyze = async (event: Event) => {
    event.preventDefault();
    if (!image.file || !projectId || busy) return;
    setBusy(true);
    setError(null);
    setAnswer(null);
    const form = new FormData();
    if (prompt.trim()) form.append('prompt', prompt);
    for (const [name, value] of Object.entries(samplingOf(sampling))) form.append(name, String(value));
    if (model !== 'auto') form.append('model', model);
    form.append('file', image.file, image.file.name);
    try {
      const res = await call('/api/v1/image/analyze', { body: form, project: projectId });
      const credits = Number(res.headers.get('X-Conflux-Credits') ?? NaN);
      setAnswer({
        analysis: (await res.json()) as Analysis,
        model: res.headers.get('X-Conflux-Model'),
        provider: res.headers.get('X-Conflux-Provider'),
        credits: Number.isFinite(credits) ? credits : undefined,
      });
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };

  const visionModels = models.data?.data.filter((m) => m.modalities?.includes('vision')).map((m) => m.id) ?? [];
  const described = [hintId, ...(image.problem ? [problemId] : [])].join(' ');
  return (
    <Page title={ROUTES.image.title}>
      <ProjectNeeded projectId={projectId} />
      <div class="playground">
        <Card title="Request" class="playground-settings">
          <form onSubmit={(e) => void analyze(e)}>
            <div
              class={`dropzone ${over ? 'over' : ''}`}
              onDragOver={(e) => {
                e.preventDefault();
                setOver(true);
              }}
              onDragLeave={() => setOver(false)}
              onDrop={(e) => {
                e.preventDefault();
                setOver(false);
                const dropped = e.dataTransfer?.files[0] ?? null;
                if (inputRef.current) inputRef.current.value = '';
                pick(dropped);
              }}
            >
              <Field label="Image">
                {(id) => (
                  <input
                    id={id}
                    ref={inputRef}
                    type="file"
                    accept={IMAGE_TYPES.join(',')}
                    aria-describedby={described}
                    aria-invalid={image.problem ? true : undefined}
                    onChange={(e) => pick(e.currentTarget.files?.[0] ?? null)}
                  />
                )}
              </Field>
              <p id={hintId} class="hint">
                Drop an image here or choose a file: PNG, JPEG, GIF or WebP, up to {IMAGE_MAX_BYTES / (1024 * 1024)} MB.
              </p>
            </div>
            {image.problem && (
              <p id={problemId} class="note error" role="alert">
                {image.problem}
              </p>
            )}
            {image.file && image.preview && (
              <figure class="image-figure">
                <img class="preview" src={image.preview} alt={`Preview of ${image.file.name}`} />
                <figcaption class="muted">
                  {image.file.name} · {sizeText(image.file.size)}
                </figcaption>
              </figure>
            )}
            <Field label="Prompt" hint={`Empty: “${DEFAULT_PROMPT}”`}>
              {(id) => (
                <textarea
                  id={id}
                  class="short"
                  maxLength={PROMPT_MAX_CHARS}
                  value={prompt}
                  placeholder={DEFAULT_PROMPT}
                  onInput={(e) => setPrompt(e.currentTarget.value)}
                />
              )}
            </Field>
            <div class="row">
              <Field label="Model">
                {(id) => (
                  <select id={id} value={model} onChange={(e) => setModel(e.currentTarget.value)}>
                    <option value="auto">auto (a vision model)</option>
                    {visionModels.map((m) => (
                      <option key={m} value={m}>
                        {m}
                      </option>
                    ))}
                  </select>
                )}
              </Field>
              <SamplingFields value={sampling} onChange={setSampling} />
            </div>
            <button type="submit" disabled={!image.file || busy || !projectId}>
              {busy ? 'Analyzing…' : 'Analyze'}
            </button>
          </form>
        </Card>
        <Card title="Answer" class="playground-main">
          <div aria-live="polite" ref={revealed}>
            {busy && <Spinner label="Analyzing the image…" />}
            {answer && (
              <>
                <div class="output">{answer.analysis.data.text}</div>
                <Stats label="Answer measurements" stats={answerStats(answer)} />
              </>
            )}
          </div>
          {!busy && !answer && !error && <p class="muted">The answer appears here.</p>}
          <RequestError error={error} />
        </Card>
      </div>
    </Page>
  );
}
