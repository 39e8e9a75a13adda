import { ApiProperty, ApiPropertyOptional, PickType } from '@nestjs/swagger';
import {
  ArrayMaxSize,
  ArrayMinSize,
  IsArray,
  IsBoolean,
  IsIn,
  IsInt,
  IsObject,
  IsOptional,
  IsString,
  Max,
  MaxLength,
  Min,
  MinLength,
  registerDecorator,
  ValidationArguments,
} from 'class-validator';
import { NestedDto } from '../../common/http/nested-dto';
import type { CacheControl, ThinkingConfig } from '../../providers/dto/chat';
import { isOptionalBoolean, isOptionalString, isPlainObject, IsShape, isThinkingBlock } from './shape.validator';
import { OptionalNumberIn } from './number-field';

function isCacheControl(value: unknown): boolean {
  return value === undefined || (isPlainObject(value) && value.type === 'ephemeral' && isOptionalString(value.ttl));
}

function isTextBlock(block: Record<string, unknown>): boolean {
  return block.type === 'text' && typeof block.text === 'string';
}

function isImageBlock(block: Record<string, unknown>): boolean {
  if (block.type !== 'image') return false;
  const source = block.source;
  return (
    isPlainObject(source) &&
    ((source.type === 'base64' && typeof source.media_type === 'string' && typeof source.data === 'string') ||
      (source.type === 'url' && typeof source.url === 'string'))
  );
}

/** What a tool_result may hold: a string, or text and image blocks. */
function isToolResultContent(value: unknown): boolean {
  if (value === undefined || typeof value === 'string') return true;
  return (
    Array.isArray(value) &&
    value.every((b) => isPlainObject(b) && (isTextBlock(b) || isImageBlock(b)) && isCacheControl(b.cache_control))
  );
}

/** One content block of a message, by its type. */
function isBlock(value: unknown, role: 'user' | 'assistant' | 'system'): boolean {
  if (!isPlainObject(value) || !isCacheControl(value.cache_control)) return false;
  if (isTextBlock(value)) return true;
  if (role === 'system') return false;
  switch (value.type) {
    case 'image':
      return isImageBlock(value);
    case 'tool_result':
      return (
        typeof value.tool_use_id === 'string' && isToolResultContent(value.content) && isOptionalBoolean(value.is_error)
      );
    case 'tool_use':
      return typeof value.id === 'string' && typeof value.name === 'string' && isPlainObject(value.input);
    case 'thinking':
    case 'redacted_thinking':
      return isThinkingBlock(value);
    default:
      return false;
  }
}

/** Anthropic content: a string or a non-empty list of the blocks the role may send. */
function IsAnthropicContent(role: 'system' | 'message') {
  const expected =
    role === 'system'
      ? 'a string or a non-empty list of text blocks'
      : 'a string or a non-empty list of text/image/tool_use/tool_result/thinking/redacted_thinking blocks';
  return (target: object, property: string): void => {
    registerDecorator({
      name: 'isAnthropicContent',
      target: target.constructor,
      propertyName: property,
      options: { message: `${property} must be ${expected}` },
      validator: {
        validate: (value: unknown, args: ValidationArguments) => {
          const owner = role === 'system' ? 'system' : (args.object as AnthropicMessageDto).role;
          return (
            typeof value === 'string' ||
            (Array.isArray(value) && value.length > 0 && value.every((b) => isBlock(b, owner)))
          );
        },
      },
    });
  };
}

function isTool(value: unknown): boolean {
  return (
    isPlainObject(value) &&
    typeof value.name === 'string' &&
    isOptionalString(value.description) &&
    isPlainObject(value.input_schema) &&
    isCacheControl(value.cache_control)
  );
}

function isToolChoice(value: unknown): boolean {
  if (!isPlainObject(value) || !isOptionalBoolean(value.disable_parallel_tool_use)) return false;
  if (value.type === 'tool') return typeof value.name === 'string';
  return value.type === 'auto' || value.type === 'any' || value.type === 'none';
}

function isThinking(value: unknown): boolean {
  if (!isPlainObject(value)) return false;
  if (value.type === 'disabled') return true;
  return value.type === 'enabled' && Number.isInteger(value.budget_tokens) && (value.budget_tokens as number) >= 1;
}

export interface AnthropicTool {
  name: string;
  description?: string;
  input_schema: Record<string, unknown>;
  cache_control?: CacheControl;
}

export type AnthropicToolChoice =
  | { type: 'auto' | 'any' | 'none'; disable_parallel_tool_use?: boolean }
  | { type: 'tool'; name: string; disable_parallel_tool_use?: boolean };

export class AnthropicMessageDto {
  @ApiProperty({ enum: ['user', 'assistant'] })
  @IsIn(['user', 'assistant'])
  role!: 'user' | 'assistant';

  @ApiProperty({ oneOf: [{ type: 'string' }, { type: 'array', items: { type: 'object' } }] })
  @IsAnthropicContent('message')
  content!: string | Record<string, unknown>[];
}

/** Anthropic's Messages API request, served by any provider kind. */
export class MessagesRequestDto {
  @ApiProperty({ example: 'claude-3-haiku-20240307' })
  @IsString()
  @MinLength(1)
  @MaxLength(200)
  model!: string;

  @ApiProperty({ type: [AnthropicMessageDto] })
  @IsArray()
  @ArrayMinSize(1, { message: 'messages must contain at least one message' })
  @ArrayMaxSize(1000)
  @NestedDto(() => AnthropicMessageDto, { each: true })
  messages!: AnthropicMessageDto[];

  @ApiPropertyOptional({ oneOf: [{ type: 'string' }, { type: 'array', items: { type: 'object' } }] })
  @IsOptional()
  @IsAnthropicContent('system')
  system?: string | Record<string, unknown>[];

  @ApiProperty({ minimum: 1 })
  @IsInt()
  @Min(1)
  @Max(1_000_000)
  max_tokens!: number;

  @OptionalNumberIn(0, 1)
  temperature?: number;

  @OptionalNumberIn(0, 1)
  top_p?: number;

  @ApiPropertyOptional()
  @IsOptional()
  @IsInt()
  @Min(0)
  top_k?: number;

  @ApiPropertyOptional({ type: [String] })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(16)
  @IsString({ each: true })
  stop_sequences?: string[];

  @ApiPropertyOptional()
  @IsOptional()
  @IsBoolean()
  stream?: boolean;

  @ApiPropertyOptional({ description: '`{user_id}`', type: 'object', additionalProperties: true })
  @IsOptional()
  @IsObject()
  metadata?: Record<string, unknown>;

  @ApiPropertyOptional({
    description: 'Tools: `{name, description, input_schema, cache_control}`',
    type: 'array',
    items: { type: 'object' },
  })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(128)
  @IsShape((tools) => Array.isArray(tools) && tools.every(isTool), 'a list of {name, description, input_schema}')
  tools?: AnthropicTool[];

  @ApiPropertyOptional({
    description: '`{type: auto | any | none}` or `{type:"tool", name}`, with `disable_parallel_tool_use`',
  })
  @IsOptional()
  @IsShape(isToolChoice, '{type: auto, any, none or tool (with name), disable_parallel_tool_use}')
  tool_choice?: AnthropicToolChoice;

  @ApiPropertyOptional({ description: 'Extended thinking: `{type:"enabled", budget_tokens}` or `{type:"disabled"}`' })
  @IsOptional()
  @IsShape(isThinking, '{type:"enabled", budget_tokens} or {type:"disabled"}')
  thinking?: ThinkingConfig;

  @ApiPropertyOptional({ example: 'auto' })
  @IsOptional()
  @IsString()
  @MaxLength(64)
  service_tier?: string;
}

/** Anthropic's token count request: what a message would be sent with, without its generation settings. */
export class CountTokensRequestDto extends PickType(MessagesRequestDto, [
  'model',
  'messages',
  'system',
  'tools',
  'tool_choice',
  'thinking',
] as const) {}
