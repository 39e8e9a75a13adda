import { humanBytes, legacyModelList } from '../../src/compat/legacy-llm.format';
import type { ServedModel } from '../../src/providers/dto/served-model';
import { ollamaListing, ollamaShow } from '../../src/providers/kinds/ollama/ollama-models';

describe('GET /models pieces', () => {
  it('writes sizes as `ollama list` does, without the space', () => {
    expect(humanBytes(1_157_672_605)).toBe('1.2GB');
    expect(humanBytes(13_780_173_839)).toBe('13GB');
    expect(humanBytes(2_000_000_000)).toBe('2GB');
    expect(humanBytes(274_302_450)).toBe('274MB');
    expect(humanBytes(1_500)).toBe('1.5KB');
    expect(humanBytes(512)).toBe('512B');
    expect(humanBytes(0)).toBe('0B');
  });

  it('reads /api/tags and /api/show leniently: a field of an unexpected type is null', () => {
    expect(ollamaListing({ models: [{ model: 'a:1', size: 'big', details: null }, { name: 7 }, 'x'] })).toEqual([
      {
        name: 'a:1',
        digest: null,
        size_bytes: null,
        parameter_size: null,
        family: null,
        quantization_level: null,
        modified_at: null,
      },
    ]);
    expect(ollamaListing({ error: 'nope' })).toBeNull();
    expect(
      ollamaShow({
        template: '',
        capabilities: ['completion', 3],
        details: { parameter_size: '8.0B' },
        model_info: { 'general.architecture': 'llama', 'llama.context_length': 8192 },
      }),
    ).toEqual({
      template: null,
      capabilities: ['completion'],
      parameter_size: '8.0B',
      family: null,
      quantization_level: null,
      context_length: 8192,
    });
    // Older Ollama versions say nothing of capabilities.
    expect(ollamaShow({ template: '{{ .Prompt }}' })).toMatchObject({ template: '{{ .Prompt }}', capabilities: null });
  });

  it('says "embedding" for the template of a model that only embeds, and keeps other templates', () => {
    const model = (capabilities: string[] | null): ServedModel => ({
      name: 'm',
      instanceId: 'i',
      kind: 'ollama',
      available: true,
      size_bytes: null,
      parameter_size: null,
      family: null,
      quantization_level: null,
      template: '{{ .Prompt }}',
      capabilities,
      context_length: null,
      modified_at: null,
      described_at: null,
    });
    const templates = (
      legacyModelList([model(['embedding']), model(['completion', 'embedding']), model(null)], []) as {
        models: { template: string }[];
      }
    ).models.map((m) => m.template);
    expect(templates).toEqual(['embedding', '{{ .Prompt }}', '{{ .Prompt }}']);
  });
});
