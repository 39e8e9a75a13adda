import type { ProviderKind } from '../dto/provider-info';
import { anthropicMapper } from './anthropic/anthropic.mapper';
import type { KindMapper } from './kind-mapper';
import { ollamaMapper } from './ollama/ollama.mapper';
import { openaiMapper } from './openai/openai.mapper';

const MAPPERS: Record<ProviderKind, KindMapper> = {
  openai: openaiMapper,
  anthropic: anthropicMapper,
  ollama: ollamaMapper,
};

export function mapperFor(kind: ProviderKind): KindMapper {
  return MAPPERS[kind];
}
