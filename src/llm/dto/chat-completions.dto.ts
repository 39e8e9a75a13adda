import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import {
  ArrayMaxSize,
  ArrayMinSize,
  IsArray,
  IsBoolean,
  IsIn,
  IsInt,
  IsNumber,
  IsObject,
  IsOptional,
  IsString,
  Max,
  MaxLength,
  Min,
  MinLength,
  ValidateIf,
} from 'class-validator';
import { NestedDto } from '../../common/http/nested-dto';
import { KeepUnknownFields } from '../../common/http/validation';
import type {
  RedactedThinkingPart,
  ResponseFormat,
  ThinkingPart,
  ToolCall,
  ToolChoice,
} from '../../providers/dto/chat';
import { OptionalStrategy } from './strategy-field';
import { IsMessageContent } from './message-content.validator';
import { isOptionalBoolean, isOptionalString, isPlainObject, IsShape, isThinkingBlock } from './shape.validator';
import { OptionalNumberIn } from './number-field';

const ROLES = ['system', 'developer', 'user', 'assistant', 'tool'] as const;

function isToolCall(value: unknown): boolean {
  if (!isPlainObject(value) || typeof value.id !== 'string' || value.type !== 'function') return false;
  const fn = value.function;
  return isPlainObject(fn) && typeof fn.name === 'string' && typeof fn.arguments === 'string';
}

function isToolChoice(value: unknown): boolean {
  if (value === 'auto' || value === 'none' || value === 'required') return true;
  return isPlainObject(value) && value.type === 'function' && isPlainObject(value.function)
    ? typeof value.function.name === 'string'
    : false;
}

function isResponseFormat(value: unknown): boolean {
  if (!isPlainObject(value)) return false;
  if (value.type === 'text' || value.type === 'json_object') return true;
  const spec = value.json_schema;
  return (
    value.type === 'json_schema' &&
    isPlainObject(spec) &&
    typeof spec.name === 'string' &&
    isOptionalString(spec.description) &&
    (spec.schema === undefined || isPlainObject(spec.schema)) &&
    isOptionalBoolean(spec.strict)
  );
}

export class ChatMessageDto {
  @ApiProperty({ enum: ROLES })
  @IsIn([...ROLES])
  role!: (typeof ROLES)[number];

  @ApiProperty({
    description:
      'Text, or content parts: `{type:"text",text}` and `{type:"image_url",image_url:{url}}`; ' +
      'null or absent on an assistant turn that only calls tools',
    oneOf: [{ type: 'string' }, { type: 'array', items: { type: 'object' } }],
    nullable: true,
  })
  @ValidateIf((m: ChatMessageDto) => m.role !== 'assistant' || (m.content !== null && m.content !== undefined))
  @IsMessageContent()
  content!: string | Record<string, unknown>[] | null;

  @ApiPropertyOptional()
  @IsOptional()
  @IsString()
  @MaxLength(64)
  name?: string;

  @ApiPropertyOptional({
    description: 'The function calls of an assistant turn',
    type: 'array',
    items: { type: 'object' },
  })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(128)
  @IsShape(
    (calls) => Array.isArray(calls) && calls.every(isToolCall),
    'a list of {id, type:"function", function:{name, arguments}}',
  )
  tool_calls?: ToolCall[];

  @ApiPropertyOptional({
    description:
      'On an assistant turn: the `thinking_blocks` its answer carried (Anthropic models), sent back intact so ' +
      'that a tool loop can go on thinking (other roles ignore it)',
    type: 'array',
    items: { type: 'object' },
  })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(64)
  @IsShape(
    (blocks) => Array.isArray(blocks) && blocks.every(isThinkingBlock),
    'a list of {type:"thinking", thinking, signature} or {type:"redacted_thinking", data}',
  )
  thinking_blocks?: (ThinkingPart | RedactedThinkingPart)[];

  @ApiPropertyOptional({ description: 'On a `tool` message: the id of the call it answers' })
  @ValidateIf((m: ChatMessageDto) => m.role === 'tool' || m.tool_call_id !== undefined)
  @IsString()
  @MinLength(1)
  @MaxLength(256)
  tool_call_id?: string;
}

export class StreamOptionsDto {
  @ApiPropertyOptional()
  @IsOptional()
  @IsBoolean()
  include_usage?: boolean;
}

export class FunctionDefinitionDto {
  @ApiProperty()
  @IsString()
  @MinLength(1)
  @MaxLength(64)
  name!: string;

  @ApiPropertyOptional()
  @IsOptional()
  @IsString()
  description?: string;

  @ApiPropertyOptional({ description: 'A JSON schema of the arguments', type: 'object', additionalProperties: true })
  @IsOptional()
  @IsObject()
  parameters?: Record<string, unknown>;

  @ApiPropertyOptional()
  @IsOptional()
  @IsBoolean()
  strict?: boolean;
}

export class ToolDto {
  @ApiProperty({ enum: ['function'] })
  @IsIn(['function'])
  type!: 'function';

  @ApiProperty({ type: FunctionDefinitionDto })
  @NestedDto(() => FunctionDefinitionDto)
  function!: FunctionDefinitionDto;
}

/**
 * OpenAI's chat completion request; `model` may also be an alias or `auto`. Fields it does not
 * model are kept and sent unchanged to OpenAI-kind upstreams (vLLM's `min_p`, `guided_json`…).
 */
@KeepUnknownFields()
export class ChatCompletionRequestDto {
  @ApiProperty({ example: 'auto', description: 'A model, an alias, or `auto` (routed by strategy)' })
  @IsString()
  @MinLength(1)
  @MaxLength(200)
  model!: string;

  @ApiProperty({ type: [ChatMessageDto] })
  @IsArray()
  @ArrayMinSize(1, { message: 'messages must contain at least one message' })
  @ArrayMaxSize(1000)
  @NestedDto(() => ChatMessageDto, { each: true })
  messages!: ChatMessageDto[];

  @ApiPropertyOptional({ minimum: 1, description: 'Absent: the model answers up to its own limit' })
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(1_000_000)
  max_tokens?: number;

  @ApiPropertyOptional({ minimum: 1, description: 'Alias of max_tokens' })
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(1_000_000)
  max_completion_tokens?: number;

  @OptionalNumberIn(0, 2)
  temperature?: number;

  @OptionalNumberIn(0, 1)
  top_p?: number;

  @ApiPropertyOptional({ oneOf: [{ type: 'string' }, { type: 'array', items: { type: 'string' } }] })
  @IsOptional()
  stop?: string | string[];

  @ApiPropertyOptional()
  @IsOptional()
  @IsBoolean()
  stream?: boolean;

  @ApiPropertyOptional({ type: StreamOptionsDto })
  @IsOptional()
  @NestedDto(() => StreamOptionsDto)
  stream_options?: StreamOptionsDto;

  @ApiPropertyOptional({ type: [ToolDto] })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(128)
  @NestedDto(() => ToolDto, { each: true })
  tools?: ToolDto[];

  @ApiPropertyOptional({
    description: '`auto`, `none`, `required`, or `{type:"function", function:{name}}`',
    oneOf: [{ type: 'string', enum: ['auto', 'none', 'required'] }, { type: 'object' }],
  })
  @IsOptional()
  @IsShape(isToolChoice, 'auto, none, required or {type:"function", function:{name}}')
  tool_choice?: ToolChoice;

  @ApiPropertyOptional()
  @IsOptional()
  @IsBoolean()
  parallel_tool_calls?: boolean;

  @ApiPropertyOptional({
    description: '`{type:"text"}`, `{type:"json_object"}` or `{type:"json_schema", json_schema}`',
  })
  @IsOptional()
  @IsShape(
    isResponseFormat,
    '{type:"text"}, {type:"json_object"} or {type:"json_schema", json_schema:{name, schema, strict}}',
  )
  response_format?: ResponseFormat;

  @ApiPropertyOptional()
  @IsOptional()
  @IsInt()
  seed?: number;

  @ApiPropertyOptional({ minimum: -2, maximum: 2 })
  @IsOptional()
  @IsNumber()
  @Min(-2)
  @Max(2)
  presence_penalty?: number;

  @ApiPropertyOptional({ minimum: -2, maximum: 2 })
  @IsOptional()
  @IsNumber()
  @Min(-2)
  @Max(2)
  frequency_penalty?: number;

  @ApiPropertyOptional({ description: 'Token id → bias (-100..100)', type: 'object', additionalProperties: true })
  @IsOptional()
  @IsShape(
    (v) => isPlainObject(v) && Object.values(v).every((b) => typeof b === 'number' && b >= -100 && b <= 100),
    'an object of token ids to numbers between -100 and 100',
  )
  logit_bias?: Record<string, number>;

  @ApiPropertyOptional()
  @IsOptional()
  @IsBoolean()
  logprobs?: boolean;

  @ApiPropertyOptional({ minimum: 0, maximum: 20 })
  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(20)
  top_logprobs?: number;

  @ApiPropertyOptional({
    minimum: 1,
    maximum: 128,
    description: 'Number of choices: Conflux answers one, so more than 1 is refused',
  })
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(128)
  n?: number;

  @ApiPropertyOptional()
  @IsOptional()
  @IsString()
  @MaxLength(256)
  user?: string;

  @ApiPropertyOptional({ type: 'object', additionalProperties: true })
  @IsOptional()
  @IsObject()
  metadata?: Record<string, unknown>;

  @ApiPropertyOptional()
  @IsOptional()
  @IsBoolean()
  store?: boolean;

  @ApiPropertyOptional({ example: 'auto' })
  @IsOptional()
  @IsString()
  @MaxLength(64)
  service_tier?: string;

  @ApiPropertyOptional({ example: 'medium' })
  @IsOptional()
  @IsString()
  @MaxLength(64)
  reasoning_effort?: string;

  @ApiPropertyOptional({ type: [String], example: ['text'] })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(8)
  @IsString({ each: true })
  modalities?: string[];

  @ApiPropertyOptional({
    description: 'Predicted output: `{type:"content", content}`',
    type: 'object',
    additionalProperties: true,
  })
  @IsOptional()
  @IsObject()
  prediction?: Record<string, unknown>;

  @ApiPropertyOptional({
    description:
      "Sample from the k likeliest tokens (not OpenAI's: vLLM's, Anthropic's and Ollama's; -1 is off for vLLM)",
  })
  @IsOptional()
  @IsInt()
  top_k?: number;

  @OptionalStrategy()
  conflux_strategy?: string;
}

export class EmbeddingsRequestDto {
  @ApiProperty({ example: 'text-embedding-3-small' })
  @IsString()
  @MinLength(1)
  @MaxLength(200)
  model!: string;

  @ApiProperty({
    description:
      "A text, texts, a token list or token lists (ids in the model's tiktoken encoding, as LangChain sends " +
      'them): token lists go as they are to OpenAI-kind upstreams and as their text to the others',
    oneOf: [
      { type: 'string' },
      { type: 'array', items: { type: 'string' } },
      { type: 'array', items: { type: 'integer' } },
      { type: 'array', items: { type: 'array', items: { type: 'integer' } } },
    ],
  })
  @IsMessageContent({ embeddings: true })
  input!: string | string[] | number[] | number[][];

  @ApiPropertyOptional({
    minimum: 1,
    maximum: 65_536,
    description: 'The length of the vectors (models that can shorten them)',
  })
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(65_536)
  dimensions?: number;

  @ApiPropertyOptional({
    enum: ['float', 'base64'],
    description: 'base64: little-endian float32, as the OpenAI SDKs ask',
  })
  @IsOptional()
  @IsIn(['float', 'base64'])
  encoding_format?: 'float' | 'base64';

  @ApiPropertyOptional()
  @IsOptional()
  @IsString()
  @MaxLength(256)
  user?: string;
}
