import { getMetadataStorage } from 'class-validator';

const INSTALLED = Symbol.for('conflux.validationMetadataCache');

type Storage = ReturnType<typeof getMetadataStorage> & { [INSTALLED]?: true };
type Lookup = Storage['getTargetValidationMetadatas'];
type ValidationMetadata = ReturnType<Lookup>[number];

/**
 * Memoises class-validator's metadata lookups, which it recomputes for every object it
 * validates: `getTargetValidationMetadatas` filters the class's decorators and walks every
 * registered class for inherited ones (cost grows with the number of DTO classes in the
 * app), and `groupByPropertyName` regroups the result. Both are pure functions of the
 * decorators, which are all registered when the classes load; the cache is dropped whenever
 * one is added later. Validation with groups is not cached (Conflux uses none). Measured on
 * a chat completion body: about 100 µs → 45 µs per request, with far less garbage.
 *
 * Installed once per process (the storage is global); safe to call again.
 */
export function cacheValidationMetadata(): void {
  const storage = getMetadataStorage() as Storage;
  if (storage[INSTALLED]) return;
  storage[INSTALLED] = true;

  const lookup: Lookup = storage.getTargetValidationMetadatas.bind(storage);
  const group = storage.groupByPropertyName.bind(storage);
  const add = storage.addValidationMetadata.bind(storage);
  let byTarget = new Map<unknown, Map<string, ValidationMetadata[]>>();
  let grouped = new WeakMap<ValidationMetadata[], Record<string, ValidationMetadata[]>>();

  storage.getTargetValidationMetadatas = (target, schema, always, strictGroups, groups) => {
    if (groups !== undefined && groups.length > 0) return lookup(target, schema, always, strictGroups, groups);
    const key = `${always}|${strictGroups}|${schema}`;
    let forTarget = byTarget.get(target);
    if (forTarget === undefined) byTarget.set(target, (forTarget = new Map<string, ValidationMetadata[]>()));
    let metadatas = forTarget.get(key);
    if (metadatas === undefined) forTarget.set(key, (metadatas = lookup(target, schema, always, strictGroups, groups)));
    return metadatas;
  };
  storage.groupByPropertyName = (metadatas) => {
    let byProperty = grouped.get(metadatas);
    if (byProperty === undefined) grouped.set(metadatas, (byProperty = group(metadatas)));
    return byProperty;
  };
  storage.addValidationMetadata = (metadata) => {
    byTarget = new Map();
    grouped = new WeakMap();
    add(metadata);
  };
}
