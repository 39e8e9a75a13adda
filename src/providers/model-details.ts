import { Logger } from '@nestjs/common';
import type { ServedModel } from './dto/served-model';
import type { ListedModel, ShownModel } from './kinds/kind-mapper';
import type { ProviderInstance } from './provider-instance';

const logger = new Logger('ModelDetails');

/** At most this many models of one instance are asked about at once. */
const SHOW_CONCURRENCY = 4;

export interface ModelDetailsOptions {
  /** How long what an instance said is served before it is asked again. */
  ttlMs: number;
  /** Bound of one refresh of one instance: its listing and the questions about its models. */
  timeoutMs: number;
}

interface InstanceDetails {
  /** The last listing that succeeded, by tagged name; null before the first one. */
  listed: Map<string, ListedModel> | null;
  listedAt: string | null;
  /** What the instance said of each model, for the digest it had then. */
  shown: Map<string, { digest: string | null; model: ShownModel }>;
  /** When the last refresh ended, successful or not (ms). */
  checkedAt: number;
  refreshing?: Promise<void>;
}

/**
 * What instances say of the models they serve (Ollama: /api/tags, then /api/show for each served
 * model), cached for `ttlMs`. Concurrent readers share one refresh; a refresh is bounded by `timeoutMs`
 * and never fails a reader: what it could not get stays as last known (null when never known). A
 * model is asked about again only when its digest changed.
 */
export class ModelDetails {
  private readonly byInstance = new Map<ProviderInstance, InstanceDetails>();

  constructor(
    private readonly instances: readonly ProviderInstance[],
    private readonly options: ModelDetailsOptions,
  ) {
    for (const instance of instances) {
      if (instance.describesModels) {
        this.byInstance.set(instance, { listed: null, listedAt: null, shown: new Map(), checkedAt: -Infinity });
      }
    }
  }

  /** Every model each instance serves, in declaration order, with its details; never throws. */
  async models(): Promise<ServedModel[]> {
    await Promise.all([...this.byInstance].map(([instance, details]) => this.fresh(instance, details)));
    return this.instances.flatMap((instance) => this.entries(instance));
  }

  private fresh(instance: ProviderInstance, details: InstanceDetails): Promise<void> {
    if (Date.now() - details.checkedAt < this.options.ttlMs) return Promise.resolve();
    details.refreshing ??= this.refresh(instance, details).finally(() => {
      details.refreshing = undefined;
    });
    return details.refreshing;
  }

  private async refresh(instance: ProviderInstance, details: InstanceDetails): Promise<void> {
    const signal = AbortSignal.timeout(this.options.timeoutMs);
    try {
      const listed = new Map((await instance.listModelDetails(signal)).map((m) => [tagged(m.name), m]));
      details.listed = listed;
      details.listedAt = new Date().toISOString();
      for (const name of details.shown.keys()) if (!listed.has(name)) details.shown.delete(name);
      const unknown = instance.servedModels().flatMap((name) => {
        const model = listed.get(tagged(name));
        const known = model && model.digest !== null && details.shown.get(tagged(name))?.digest === model.digest;
        return model && !known ? [model] : [];
      });
      await inParallel(unknown, SHOW_CONCURRENCY, async (model) => {
        try {
          details.shown.set(tagged(model.name), {
            digest: model.digest,
            model: await instance.showModel(model.name, signal),
          });
        } catch (err) {
          logger.warn(`Provider ${instance.id} did not describe ${model.name}: ${messageOf(err)}`);
        }
      });
    } catch (err) {
      const why = signal.aborted ? `no answer within ${this.options.timeoutMs} ms` : messageOf(err);
      logger.warn(`Provider ${instance.id} did not list its models: ${why}; serving what is known`);
    } finally {
      details.checkedAt = Date.now();
    }
  }

  private entries(instance: ProviderInstance): ServedModel[] {
    const info = instance.info();
    const details = this.byInstance.get(instance);
    return instance.servedModels().map((name): ServedModel => {
      const listed = details?.listed?.get(tagged(name));
      const shown = details?.shown.get(tagged(name))?.model;
      return {
        name,
        instanceId: instance.id,
        kind: info.kind,
        available: info.breaker !== 'open' && info.reachable !== false,
        size_bytes: listed?.size_bytes ?? null,
        parameter_size: listed?.parameter_size ?? shown?.parameter_size ?? null,
        family: listed?.family ?? shown?.family ?? null,
        quantization_level: listed?.quantization_level ?? shown?.quantization_level ?? null,
        template: shown?.template ?? null,
        capabilities: shown?.capabilities ? [...shown.capabilities] : null,
        context_length: shown?.context_length ?? null,
        modified_at: listed?.modified_at ?? null,
        described_at: listed ? (details?.listedAt ?? null) : null,
      };
    });
  }
}

/** Ollama's name with its tag: `llama3.2` is `llama3.2:latest`. */
function tagged(name: string): string {
  return name.slice(name.lastIndexOf('/') + 1).includes(':') ? name : `${name}:latest`;
}

async function inParallel<T>(items: readonly T[], limit: number, run: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) await run(items[next++]);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
