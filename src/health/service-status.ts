import { originOf, type RemoteWorkerInfo } from '../common/upstream/remote-worker-client';
import type { ProviderInstanceInfo } from '../providers/dto/provider-info';
import type { InstanceHealthDto, ServiceHealthDto, ServiceStatus, WorkerHealthDto } from './dto/health-summary.dto';

/** `ollama`, `vllm` for a self-hosted OpenAI-compatible server, else the kind. */
function serviceName(instance: ProviderInstanceInfo): string {
  if (instance.kind === 'openai' && instance.self_hosted) return 'vllm';
  return instance.kind;
}

/**
 * Open breaker or failed probe: unhealthy; half-open breaker, or not probed yet: degraded; else
 * healthy.
 */
function instanceStatus(instance: ProviderInstanceInfo): ServiceStatus {
  if (instance.breaker === 'open' || instance.reachable === false) return 'unhealthy';
  if (instance.breaker === 'half_open' || instance.reachable === null) return 'degraded';
  return 'healthy';
}

function serviceStatus(instances: readonly InstanceHealthDto[]): ServiceStatus {
  if (instances.every((i) => i.status === 'healthy')) return 'healthy';
  return instances.some((i) => i.status !== 'unhealthy') ? 'degraded' : 'unhealthy';
}

/** The upstream instances grouped by service, as the vLLM + Ollama service's /health listed them. */
export function servicesOf(instances: readonly ProviderInstanceInfo[]): Record<string, ServiceHealthDto> {
  const groups = new Map<string, ProviderInstanceInfo[]>();
  for (const instance of instances) {
    const name = serviceName(instance);
    groups.set(name, [...(groups.get(name) ?? []), instance]);
  }
  const services: Record<string, ServiceHealthDto> = {};
  for (const [name, members] of groups) {
    const shown = members.map((i): InstanceHealthDto => ({
      id: i.id,
      url: originOf(i.base_url),
      status: instanceStatus(i),
      breaker: i.breaker,
      latency_ms: i.probe_latency_ms,
      last_checked: i.last_probe_at,
      models: i.upstream_models ?? i.models,
    }));
    const models = [...new Set(shown.flatMap((i) => i.models))];
    const service: ServiceHealthDto = {
      status: serviceStatus(shown),
      url: shown[0].url,
      available_models: models,
      total_models: models.length,
      instances: shown,
    };
    if (name === 'ollama') {
      service.ollama_url = service.url;
      service.bge_m3_available = models.some((m) => m.split(':')[0] === 'bge-m3');
      service.gpt_oss_available = models.some((m) => m.split(':')[0] === 'gpt-oss');
    }
    services[name] = service;
  }
  return services;
}

/** Open breaker: unhealthy; half-open breaker or a failed last call: degraded; else healthy. */
export function workerStatus(worker: RemoteWorkerInfo): WorkerHealthDto {
  const status: ServiceStatus =
    worker.breaker === 'open'
      ? 'unhealthy'
      : worker.breaker === 'half_open' || worker.last_call?.ok === false
        ? 'degraded'
        : 'healthy';
  return {
    id: worker.id,
    url: worker.url,
    status,
    breaker: worker.breaker,
    latency_ms: worker.last_call?.latency_ms ?? null,
    last_checked: worker.last_call?.at ?? null,
  };
}
