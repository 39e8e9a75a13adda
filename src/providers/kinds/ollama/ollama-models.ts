import type { ListedModel, ModelDetailsWire, ShownModel, WireRequest } from '../kind-mapper';
import { isObject, objectAt, optionalCount, optionalString } from '../wire';

/**
 * What Ollama says of its models: `GET /api/tags` (name, size, digest, details) and `POST /api/show`
 * (template, capabilities, details, model_info). Lenient: a field of an unexpected type is null.
 */

/** `GET /api/tags` → `{models: [{name, model, modified_at, size, digest, details}]}`; null when not a listing. */
export function ollamaListing(body: unknown): ListedModel[] | null {
  if (!isObject(body) || !Array.isArray(body.models)) return null;
  return body.models.flatMap((m): ListedModel[] => {
    if (!isObject(m)) return [];
    const name = optionalString(m.name) ?? optionalString(m.model);
    if (!name) return [];
    const details = isObject(m.details) ? m.details : {};
    return [
      {
        name,
        digest: optionalString(m.digest) ?? null,
        size_bytes: optionalCount(m.size) ?? null,
        parameter_size: nonEmpty(details.parameter_size),
        family: nonEmpty(details.family),
        quantization_level: nonEmpty(details.quantization_level),
        modified_at: optionalString(m.modified_at) ?? null,
      },
    ];
  });
}

export function ollamaShowRequest(name: string): WireRequest {
  return { method: 'POST', path: '/api/show', body: { model: name } };
}

/** `POST /api/show` → template, capabilities (newer Ollama), details and the context length in model_info. */
export function ollamaShow(body: unknown): ShownModel {
  const root = objectAt(body, 'show response');
  const details = isObject(root.details) ? root.details : {};
  const capabilities = Array.isArray(root.capabilities)
    ? root.capabilities.filter((c): c is string => typeof c === 'string')
    : null;
  return {
    template: nonEmpty(root.template),
    capabilities,
    parameter_size: nonEmpty(details.parameter_size),
    family: nonEmpty(details.family),
    quantization_level: nonEmpty(details.quantization_level),
    context_length: contextLength(root.model_info),
  };
}

/** `model_info["<general.architecture>.context_length"]`. */
function contextLength(info: unknown): number | null {
  if (!isObject(info)) return null;
  const architecture = optionalString(info['general.architecture']);
  return architecture ? (optionalCount(info[`${architecture}.context_length`]) ?? null) : null;
}

function nonEmpty(value: unknown): string | null {
  return typeof value === 'string' && value !== '' ? value : null;
}

export const ollamaModelDetails: ModelDetailsWire = {
  listRequest: () => ({ method: 'GET', path: '/api/tags' }),
  listing: (body) => ollamaListing(body) ?? [],
  showRequest: ollamaShowRequest,
  show: ollamaShow,
};
