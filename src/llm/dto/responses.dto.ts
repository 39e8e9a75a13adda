import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import {
  IsBoolean,
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
import { OptionalStrategy } from './strategy-field';
import { isOptionalBoolean, isOptionalString, isPlainObject, IsShape } from './shape.validator';
import { OptionalNumberIn } from './number-field';

const MAX_ITEMS = 2048;
const MAX_TEXT = 4_000_000;
const MESSAGE_ROLES = ['user', 'assistant', 'system', 'developer'];
const IMAGE_URL = /^(data:image\/[a-z0-9.+-]+;base64,|https?:\/\/)/i;

type Json = Record<string, unknown>;

/** A Responses message item: `{role, content}`, `type: "message"` optional. */
export interface ResponsesMessageItem {
  type?: 'message';
  role: 'user' | 'assistant' | 'system' | 'developer';
  content: string | Json[];
}

export interface ResponsesFunctionCallItem {
  type: 'function_call';
  call_id: string;
  name: string;
  arguments: string;
}

export interface ResponsesFunctionCallOutputItem {
  type: 'function_call_output';
  call_id: string;
  output: string | Json[];
}

/** A reasoning item of an earlier answer, sent back: its `encrypted_content` carries the thinking. */
export interface ResponsesReasoningItem {
  type: 'reasoning';
  id?: string;
  summary: Json[];
  encrypted_content?: string | null;
}

export type ResponsesInputItem =
  ResponsesMessageItem | ResponsesFunctionCallItem | ResponsesFunctionCallOutputItem | ResponsesReasoningItem;

/** How much of the thinking a reasoning item shows as its summary (any of them: all of it). */
export const REASONING_SUMMARIES = ['auto', 'concise', 'detailed'] as const;

/**
 * What `include` may name: the reasoning's encrypted content (always sent, since nothing is stored), and
 * the extras of hosted tools and stored inputs, which cannot occur here. Log probabilities are refused.
 */
const INCLUDABLE = [
  'reasoning.encrypted_content',
  'message.input_image.image_url',
  'file_search_call.results',
  'web_search_call.results',
  'web_search_call.action.sources',
  'computer_call_output.output.image_url',
  'code_interpreter_call.outputs',
];

export interface ResponsesFunctionTool {
  type: 'function';
  name: string;
  description?: string | null;
  parameters?: Json | null;
  strict?: boolean | null;
}

export type ResponsesToolChoice = 'auto' | 'none' | 'required' | { type: 'function'; name: string };

export type ResponsesTextFormat =
  | { type: 'text' }
  | { type: 'json_object' }
  | { type: 'json_schema'; name: string; schema: Json; description?: string; strict?: boolean | null };

/** What is wrong with a content part of a message, or null. */
function partProblem(part: unknown, role: string): string | null {
  if (!isPlainObject(part)) return 'must be an object';
  switch (part.type) {
    case 'input_text':
    case 'output_text':
      return typeof part.text === 'string' && part.text.length <= MAX_TEXT ? null : 'must have a string text';
    case 'refusal':
      return role === 'assistant' && typeof part.refusal === 'string' ? null : 'must be an assistant refusal';
    case 'input_image':
      if (typeof part.file_id === 'string') return 'input_image file_id is not supported: send image_url';
      return typeof part.image_url === 'string' && IMAGE_URL.test(part.image_url)
        ? null
        : 'input_image needs an image_url (https or data:image/…;base64)';
    default:
      return `type ${JSON.stringify(part.type)} is not supported (input_text, input_image, output_text)`;
  }
}

function contentProblem(content: unknown, role: string): string | null {
  if (typeof content === 'string') return content.length <= MAX_TEXT ? null : 'content is too long';
  if (!Array.isArray(content) || content.length > MAX_ITEMS) return 'content must be a string or a list of parts';
  for (const [i, part] of content.entries()) {
    const problem = partProblem(part, role);
    if (problem) return `content[${i}] ${problem}`;
  }
  return null;
}

function reasoningItemProblem(item: Json): string | null {
  const texts = (list: unknown, type: string): boolean =>
    Array.isArray(list) &&
    list.length <= MAX_ITEMS &&
    list.every((p) => isPlainObject(p) && p.type === type && typeof p.text === 'string');
  const ok =
    isOptionalString(item.id) &&
    texts(item.summary, 'summary_text') &&
    (item.content === undefined || item.content === null || texts(item.content, 'reasoning_text')) &&
    (item.encrypted_content === null || isOptionalString(item.encrypted_content));
  return ok ? null : 'reasoning needs summary [{type:"summary_text", text}] and may have a string encrypted_content';
}

/** What is wrong with one input item, or null; unsupported item types are named. */
function itemProblem(item: unknown): string | null {
  if (!isPlainObject(item)) return 'must be an object';
  switch (item.type ?? 'message') {
    case 'message':
      if (!MESSAGE_ROLES.includes(item.role as string)) return 'role must be user, assistant, system or developer';
      return contentProblem(item.content, item.role as string);
    case 'function_call':
      return typeof item.call_id === 'string' && typeof item.name === 'string' && typeof item.arguments === 'string'
        ? null
        : 'function_call needs string call_id, name and arguments';
    case 'function_call_output':
      if (typeof item.call_id !== 'string') return 'function_call_output needs a string call_id';
      return typeof item.output === 'string' ? null : contentProblem(item.output, 'tool');
    case 'reasoning':
      return reasoningItemProblem(item);
    default:
      return `type ${JSON.stringify(item.type)} is not supported (message, function_call, function_call_output, reasoning)`;
  }
}

function inputProblem(value: unknown): string | null {
  if (typeof value === 'string') return value.length <= MAX_TEXT ? null : 'is too long';
  if (!Array.isArray(value) || value.length === 0 || value.length > MAX_ITEMS) {
    return 'must be a string or a non-empty list of items';
  }
  for (const [i, item] of value.entries()) {
    const problem = itemProblem(item);
    if (problem) return `[${i}] ${problem}`;
  }
  return null;
}

function toolProblem(tool: unknown): string | null {
  if (!isPlainObject(tool)) return 'must be an object';
  if (tool.type !== 'function') {
    return `${JSON.stringify(tool.type)} is a hosted tool, which Conflux does not run: only function tools are supported`;
  }
  const ok =
    typeof tool.name === 'string' &&
    tool.name.length > 0 &&
    tool.name.length <= 64 &&
    (tool.description === null || isOptionalString(tool.description)) &&
    (tool.parameters === null || tool.parameters === undefined || isPlainObject(tool.parameters)) &&
    (tool.strict === null || isOptionalBoolean(tool.strict));
  return ok ? null : 'must be {type:"function", name, description?, parameters?, strict?}';
}

function toolsProblem(value: unknown): string | null {
  if (!Array.isArray(value) || value.length > 128) return 'must be a list of at most 128 tools';
  for (const [i, tool] of value.entries()) {
    const problem = toolProblem(tool);
    if (problem) return `[${i}] ${problem}`;
  }
  return null;
}

/** A field checked by `problem`, whose answer completes the message "<field><answer>". */
function Checked(problem: (value: unknown) => string | null) {
  return (target: object, property: string): void => {
    registerDecorator({
      name: 'checked',
      target: target.constructor,
      propertyName: property,
      options: { message: (args: ValidationArguments) => `${property}${problem(args.value) ?? ''}` },
      validator: { validate: (value: unknown) => problem(value) === null },
    });
  };
}

/** A field the stateless server refuses when `refused(value)`, saying why. */
function Refused(refused: (value: unknown) => boolean, why: string) {
  return (target: object, property: string): void => {
    registerDecorator({
      name: 'refused',
      target: target.constructor,
      propertyName: property,
      options: { message: `${property} is not supported: ${why}` },
      validator: { validate: (value: unknown) => !refused(value) },
    });
  };
}

const STATELESS = 'Conflux keeps no responses or conversations; send the whole conversation in input';
const isSet = (value: unknown): boolean => value !== undefined && value !== null;

function isToolChoice(value: unknown): boolean {
  if (value === 'auto' || value === 'none' || value === 'required') return true;
  return isPlainObject(value) && value.type === 'function' && typeof value.name === 'string';
}

function isTextConfig(value: unknown): boolean {
  if (!isPlainObject(value) || Object.keys(value).some((k) => k !== 'format')) return false;
  const format = value.format;
  if (format === undefined) return true;
  if (!isPlainObject(format)) return false;
  if (format.type === 'text' || format.type === 'json_object') return true;
  return (
    format.type === 'json_schema' &&
    typeof format.name === 'string' &&
    isPlainObject(format.schema) &&
    isOptionalString(format.description) &&
    (format.strict === null || isOptionalBoolean(format.strict))
  );
}

function isReasoning(value: unknown): boolean {
  const isSummary = (v: unknown): boolean =>
    v === null || v === undefined || (REASONING_SUMMARIES as readonly unknown[]).includes(v);
  return (
    isPlainObject(value) &&
    Object.keys(value).every((k) => k === 'effort' || k === 'summary' || k === 'generate_summary') &&
    (value.effort === null || isOptionalString(value.effort)) &&
    isSummary(value.summary) &&
    isSummary(value.generate_summary)
  );
}

function includeProblem(value: unknown): string | null {
  if (!Array.isArray(value) || value.length > 16) return ' must be a list of names';
  const names = value as unknown[];
  const at = names.findIndex((name) => !INCLUDABLE.includes(name as string));
  if (at === -1) return null;
  return ` ${JSON.stringify(names[at]) ?? 'null'} is not supported (${INCLUDABLE.join(', ')})`;
}

/**
 * OpenAI's Responses request, served statelessly: everything the answer needs is in the
 * request; fields that need stored state or hosted tools are refused by name.
 */
export class ResponsesRequestDto {
  @ApiProperty({ example: 'auto', description: 'A model, an alias, or `auto` (routed by strategy)' })
  @IsString()
  @MinLength(1)
  @MaxLength(200)
  model!: string;

  @ApiProperty({
    description:
      'Text, or items: messages (content as text or input_text / input_image / output_text parts), ' +
      '`function_call`, `function_call_output`, and `reasoning` items of earlier answers',
    oneOf: [{ type: 'string' }, { type: 'array', items: { type: 'object' } }],
  })
  @Checked(inputProblem)
  input!: string | ResponsesInputItem[];

  @ApiPropertyOptional({ description: 'A system message placed before the input' })
  @IsOptional()
  @IsString()
  @MaxLength(MAX_TEXT)
  instructions?: string;

  @ApiPropertyOptional({ description: 'Function tools only', type: 'array', items: { type: 'object' } })
  @IsOptional()
  @Checked(toolsProblem)
  tools?: ResponsesFunctionTool[];

  @ApiPropertyOptional({
    description: '`auto`, `none`, `required`, or `{type:"function", name}`',
    oneOf: [{ type: 'string', enum: ['auto', 'none', 'required'] }, { type: 'object' }],
  })
  @IsOptional()
  @IsShape(isToolChoice, 'auto, none, required or {type:"function", name}')
  tool_choice?: ResponsesToolChoice;

  @ApiPropertyOptional()
  @IsOptional()
  @IsBoolean()
  parallel_tool_calls?: boolean;

  @ApiPropertyOptional({
    description: '`{format}`: `{type:"text"}`, `{type:"json_object"}` or `{type:"json_schema", name, schema, strict}`',
  })
  @IsOptional()
  @IsShape(isTextConfig, '{format: {type:"text"} | {type:"json_object"} | {type:"json_schema", name, schema, strict}}')
  text?: { format?: ResponsesTextFormat };

  @ApiPropertyOptional({ minimum: 1, description: 'Absent: the model answers up to its own limit' })
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(1_000_000)
  max_output_tokens?: number;

  @ApiPropertyOptional({
    description:
      '`{effort, summary}`: the effort is sent as reasoning_effort; with a summary (`auto`, `concise`, ' +
      '`detailed`), reasoning items show the thinking of models that return it (Anthropic)',
  })
  @IsOptional()
  @IsShape(isReasoning, '{effort, summary: auto | concise | detailed | null}')
  reasoning?: { effort?: string | null; summary?: string | null; generate_summary?: string | null };

  @ApiPropertyOptional({
    description: 'Extra output: reasoning items always carry their encrypted_content, nothing being stored',
    type: [String],
  })
  @IsOptional()
  @Checked(includeProblem)
  include?: string[];

  @OptionalNumberIn(0, 2)
  temperature?: number;

  @OptionalNumberIn(0, 1)
  top_p?: number;

  @ApiPropertyOptional({ type: 'object', additionalProperties: true })
  @IsOptional()
  @IsObject()
  metadata?: Record<string, unknown>;

  @ApiPropertyOptional()
  @IsOptional()
  @IsString()
  @MaxLength(256)
  user?: string;

  @ApiPropertyOptional({ example: 'auto' })
  @IsOptional()
  @IsString()
  @MaxLength(64)
  service_tier?: string;

  @ApiPropertyOptional()
  @IsOptional()
  @IsBoolean()
  stream?: boolean;

  @ApiPropertyOptional({ description: 'Only false: nothing is stored' })
  @Refused((v) => v === true, STATELESS)
  @IsOptional()
  @IsBoolean()
  store?: boolean;

  @ApiPropertyOptional({ description: 'Refused: nothing is stored' })
  @Refused(isSet, STATELESS)
  previous_response_id?: string;

  @ApiPropertyOptional({ description: 'Refused: nothing is stored' })
  @Refused(isSet, STATELESS)
  conversation?: unknown;

  @ApiPropertyOptional({ description: 'Refused: responses are answered while the client waits' })
  @Refused((v) => v === true, 'responses are answered while the client waits')
  background?: boolean;

  @OptionalStrategy()
  conflux_strategy?: string;
}
