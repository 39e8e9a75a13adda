import { Transform, Type } from 'class-transformer';
import { IsIn, Matches, ValidateBy, ValidateNested } from 'class-validator';
import { BreakerSettings } from './breaker-settings';
import { IfPresent, IsIntIn, isMapping, IsMapping, parseDocument, readMapping, unknownKeys } from './validation';

export const ML_REMOTE_PROTOCOLS = ['v2', 'predict'] as const;
export type MlRemoteProtocol = (typeof ML_REMOTE_PROTOCOLS)[number];

const ML_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/;
const ML_NAME_MESSAGE = `must match ${ML_NAME.source}`;

/** `fallback_version` names another version than the one the worker serves. */
function IsOtherThanVersion(): PropertyDecorator {
  return ValidateBy({
    name: 'isOtherThanVersion',
    validator: {
      validate: (value, args) => value !== (args?.object as MlRemoteWorkerSetting).version,
      defaultMessage: () => 'must be another version than the remote one',
    },
  });
}

/** One model version served by a remote HTTP worker, as declared in ML_REMOTE_WORKERS. */
export class MlRemoteWorkerSetting {
  /** Registry model name and version id this worker serves. */
  @Matches(ML_NAME, { message: ML_NAME_MESSAGE })
  model!: string;

  @Matches(ML_NAME, { message: ML_NAME_MESSAGE })
  version!: string;

  /** Base URL; `/v2/models/<remote_model>/infer` or `/predict` is appended. */
  @Matches(/^https?:\/\/[^\s]+$/, { message: 'must be an http(s) URL' })
  @ValidateBy({
    name: 'hasNoCredentials',
    validator: {
      validate: (value) => typeof value !== 'string' || !/^https?:\/\/[^/]*@/.test(value),
      defaultMessage: () => 'must not carry credentials (use ML_REMOTE_TOKEN)',
    },
  })
  @Transform(({ value }: { value: unknown }) => (typeof value === 'string' ? value.replace(/\/+$/, '') : value))
  url!: string;

  /** `v2` when not declared (or left empty). */
  @Transform(({ value }: { value: unknown }) => value ?? 'v2')
  @IsIn(ML_REMOTE_PROTOCOLS, { message: `must be one of ${ML_REMOTE_PROTOCOLS.join(', ')}` })
  protocol: MlRemoteProtocol = 'v2';

  /** Model name at the worker (V2 protocol); `model` when not declared. */
  @IfPresent()
  @Matches(ML_NAME, { message: ML_NAME_MESSAGE })
  remote_model!: string;

  @IsIntIn(10, 600_000)
  timeout_ms = 2000;

  /** Local version that serves when the worker cannot; default: the production version. */
  @IfPresent()
  @Matches(ML_NAME, { message: ML_NAME_MESSAGE })
  @IsOtherThanVersion()
  fallback_version?: string;

  @IsMapping()
  @ValidateNested()
  @Type(() => BreakerSettings)
  breaker = new BreakerSettings();
}

/**
 * Parses ML_REMOTE_WORKERS: a JSON (or YAML) list of `{model, version, url, protocol, remote_model?,
 * timeout_ms?, fallback_version?, breaker?}`. Never throws; problems are listed (`[1].url must be …`), and
 * the value itself is never quoted (a URL may carry a secret).
 */
export function parseMlRemoteWorkers(text: string | undefined): {
  workers: MlRemoteWorkerSetting[];
  problems: string[];
} {
  if (text === undefined || text.trim() === '') return { workers: [], problems: [] };
  const parsed = parseDocument(text);
  if ('error' in parsed) return { workers: [], problems: ['must be a JSON or YAML list'] };
  if (!Array.isArray(parsed.doc)) return { workers: [], problems: ['must be a list of workers'] };
  const workers: MlRemoteWorkerSetting[] = [];
  const problems: string[] = [];
  const seen = new Set<string>();
  parsed.doc.forEach((item: unknown, i) => {
    const at = `[${i}]`;
    if (!isMapping(item)) {
      problems.push(`${at} must be a mapping`);
      return;
    }
    const { value: worker, problems: found } = readMapping(MlRemoteWorkerSetting, item);
    const listed = [
      ...found.map((p) => `${at}.${p.path} ${p.message}`),
      ...unknownKeys(MlRemoteWorkerSetting, item).map((key) => `${at}.${key} is not a known setting`),
    ];
    problems.push(...listed);
    if (listed.length > 0) return;
    const id = `${worker.model}@${worker.version}`;
    if (seen.has(id)) problems.push(`${at} declares ${id} a second time`);
    seen.add(id);
    worker.remote_model ??= worker.model;
    workers.push(worker);
  });
  return { workers, problems };
}
