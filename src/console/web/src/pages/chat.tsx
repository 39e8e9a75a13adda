import { useEffect, useRef, useState } from 'preact/hooks';
import { api, call } from '../api';
import { type ChatUsage, readChatStream, STRATEGIES, STRATEGY_LABELS, type Strategy } from '../chat-stream';
import {
  formatCount,
  formatCredits,
  formatDuration,
  ProjectNeeded,
  RequestError,
  type Sampling,
  SamplingFields,
  samplingOf,
  type Stat,
  Stats,
} from '../playground-ui';
import { ROUTES } from '../routes';
import { useSession } from '../session';
import { Card, Field, Page, useLoad } from '../ui';

interface ModelList {
  data: { id: string; modalities?: string[] }[];
}

/** What was measured of one answer. */
interface AnswerMetrics {
  model: string | null;
  provider: string | null;
  usage: ChatUsage | null;
  /** From sending to the first token, and to the end, in ms. */
  firstTokenMs?: number;
  totalMs?: number;
}

interface Turn {
  role: 'user' | 'assistant';
  content: string;
  /** Assistant turns: streaming, done, stopped by the user, or cut by an error. */
  state?: 'streaming' | 'done' | 'stopped' | 'failed';
  metrics?: AnswerMetrics;
}

/** The seed form's defaults (MAX_TOKENS_AVIBE, TEMPERATURE). */
const DEFAULT_MAX_TOKENS = 256;
const DEFAULT_TEMPERATURE = 0.7;

function answerStats(turn: Turn): Stat[] {
  const m = turn.metrics;
  if (!m) return [];
  const usage = m.usage;
  const seconds = m.totalMs !== undefined ? m.totalMs / 1000 : undefined;
  const perSecond = usage && seconds ? usage.completion_tokens / seconds : undefined;
  return [
    { label: 'Model', value: m.model ?? '—' },
    { label: 'Provider', value: m.provider ?? '—' },
    { label: 'Cost (credits)', value: formatCredits(usage?.credits) },
    { label: 'Prompt tokens', value: formatCount(usage?.prompt_tokens) },
    { label: 'Completion tokens', value: formatCount(usage?.completion_tokens) },
    { label: 'First token', value: formatDuration(m.firstTokenMs) },
    { label: 'Total time', value: formatDuration(m.totalMs) },
    { label: 'Tokens/s', value: formatCount(perSecond, 1) },
  ];
}

const STATE_NOTES: Record<NonNullable<Turn['state']>, string | null> = {
  streaming: 'Answering…',
  done: null,
  stopped: 'Stopped before the end.',
  failed: 'The answer was cut by an error.',
};

function TurnView(props: { turn: Turn; index: number }) {
  const { turn } = props;
  const who = turn.role === 'user' ? 'You' : 'Assistant';
  const note = turn.state ? STATE_NOTES[turn.state] : null;
  return (
    <li class={`turn ${turn.role}`}>
      <span class="turn-who">{who}</span>
      <div class="output">{turn.content || (turn.state === 'streaming' ? '…' : '')}</div>
      {note && <small class="muted">{note}</small>}
      {turn.role === 'assistant' && turn.state !== 'streaming' && turn.metrics && (
        <Stats label={`Answer ${props.index} measurements`} stats={answerStats(turn)} />
      )}
    </li>
  );
}

export function ChatPage() {
  const { projectId } = useSession();
  const models = useLoad(() => api<ModelList>('/v1/models'), []);
  const [model, setModel] = useState('auto');
  const [strategy, setStrategy] = useState<Strategy>('balanced');
  const [system, setSystem] = useState('');
  const [sampling, setSampling] = useState<Sampling>({
    temperature: String(DEFAULT_TEMPERATURE),
    maxTokens: String(DEFAULT_MAX_TOKENS),
  });
  const [input, setInput] = useState('');
  const [turns, setTurns] = useState<Turn[]>([]);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const abort = useRef<AbortController | null>(null);

  // Leaving the page stops an answer in flight.
  useEffect(() => () => abort.current?.abort(), []);

  /** Changes the last (assistant) turn. */
  const updateAnswer = (change: (turn: Turn) => Turn) =>
    setTurns((all) => [...all.slice(0, -1), change(all[all.length - 1])]);

  const send = async (event: Event) => {
    event.preventDefault();
    const text = input.trim();
    if (!text || busy || !projectId) return;
    // Earlier turns, partial answers included (a stopped answer is still what the model said).
    const history = turns.filter((t) => t.content !== '').map((t) => ({ role: t.role, content: t.content }));
    const messages = [...(system.trim() ? [{ role: 'system', content: system.trim() }] : []), ...history];
    messages.push({ role: 'user', content: text });
    const controller = new AbortController();
    abort.current = controller;
    setBusy(true);
    setError(null);
    const metrics: AnswerMetrics = { model: null, provider: null, usage: null };
    setTurns((all) => [
      ...all,
      { role: 'user', content: text },
      { role: 'assistant', content: '', state: 'streaming', metrics },
    ]);
    const started = performance.now();
    let streaming = false;
    try {
      const res = await call('/v1/chat/completions', {
        json: {
          model,
          ...(model === 'auto' ? { conflux_strategy: strategy } : {}),
          messages,
          ...samplingOf(sampling),
          stream: true,
          stream_options: { include_usage: true },
        },
        project: projectId,
        signal: controller.signal,
      });
      streaming = true;
      setInput('');
      metrics.model = res.headers.get('X-Conflux-Model');
      metrics.provider = res.headers.get('X-Conflux-Provider');
      if (!res.body) throw new Error('The answer has no body to stream');
      let failed = false;
      await readChatStream(res.body, (ev) => {
        switch (ev.type) {
          case 'delta':
            metrics.firstTokenMs ??= performance.now() - started;
            updateAnswer((t) => ({ ...t, content: t.content + ev.text }));
            break;
          case 'usage':
            metrics.usage = ev.usage;
            break;
          case 'error':
            failed = true;
            setError(new Error(ev.message));
            break;
          case 'done':
            break;
        }
      });
      metrics.totalMs = performance.now() - started;
      updateAnswer((t) => ({ ...t, state: failed ? 'failed' : 'done', metrics: { ...metrics } }));
    } catch (e) {
      if (controller.signal.aborted) {
        metrics.totalMs = performance.now() - started;
        updateAnswer((t) => ({ ...t, state: 'stopped', metrics: { ...metrics } }));
      } else if (streaming) {
        metrics.totalMs = performance.now() - started;
        updateAnswer((t) => ({ ...t, state: 'failed', metrics: { ...metrics } }));
        setError(e);
      } else {
        // Refused before anything was answered: the prompt stays in the box, the turn goes away.
        setTurns((all) => all.slice(0, -2));
        setError(e);
      }
    } finally {
      abort.current = null;
      setBusy(false);
    }
  };

  // Chat models only (an embeddings model cannot answer a conversation).
  const chatModels = models.data?.data.filter((m) => m.modalities?.includes('chat') ?? true) ?? [];
  const modelOptions = ['auto', ...chatModels.map((m) => m.id)];
  return (
    <Page title={ROUTES.chat.title}>
      <ProjectNeeded projectId={projectId} />
      <div class="playground">
        <Card title="Settings" class="playground-settings">
          <Field label="Model" hint={models.error ? 'The model list could not be read.' : undefined}>
            {(id) => (
              <select id={id} value={model} onChange={(e) => setModel(e.currentTarget.value)}>
                {modelOptions.map((m) => (
                  <option key={m} value={m}>
                    {m === 'auto' ? 'auto (routed by strategy)' : m}
                  </option>
                ))}
              </select>
            )}
          </Field>
          {model === 'auto' && (
            <Field label="Strategy">
              {(id) => (
                <select id={id} value={strategy} onChange={(e) => setStrategy(e.currentTarget.value as Strategy)}>
                  {STRATEGIES.map((s) => (
                    <option key={s} value={s}>
                      {STRATEGY_LABELS[s]}
                    </option>
                  ))}
                </select>
              )}
            </Field>
          )}
          <Field label="System prompt">
            {(id) => (
              <textarea
                id={id}
                class="short"
                value={system}
                placeholder="Optional instructions for the assistant"
                onInput={(e) => setSystem(e.currentTarget.value)}
              />
            )}
          </Field>
          <div class="row">
            <SamplingFields value={sampling} onChange={setSampling} />
          </div>
        </Card>
        <Card title="Conversation" class="playground-main">
          <ol class="chat-log" role="log" aria-live="polite" aria-label="Conversation">
            {turns.map((t, i) => (
              <TurnView key={i} turn={t} index={Math.ceil((i + 1) / 2)} />
            ))}
          </ol>
          {turns.length === 0 && <p class="muted">Send a message to start.</p>}
          <RequestError error={error} />
          <form onSubmit={(e) => void send(e)}>
            <Field label="Message">
              {(id) => (
                <textarea
                  id={id}
                  class="short"
                  value={input}
                  required
                  onInput={(e) => setInput(e.currentTarget.value)}
                  onKeyDown={(e) => {
                    if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) e.currentTarget.form?.requestSubmit();
                  }}
                />
              )}
            </Field>
            <div class="row">
              <button type="submit" disabled={busy || !projectId}>
                Send
              </button>
              {busy && (
                <button type="button" class="danger" onClick={() => abort.current?.abort()}>
                  Stop
                </button>
              )}
              <button
                type="button"
                class="secondary"
                disabled={busy || turns.length === 0}
                onClick={() => {
                  setTurns([]);
                  setError(null);
                }}
              >
                New conversation
              </button>
              <small class="hint">Ctrl+Enter sends.</small>
            </div>
          </form>
        </Card>
      </div>
    </Page>
  );
}
