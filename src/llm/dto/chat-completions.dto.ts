import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import {
  ArrayMaxSize,
  ArrayMinSize,
  Equals,
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
  ValidateNested,
} from 'class-validator';
import { STRATEGIES } from '../../routing/routing.api';
import { IsMessageContent } from './message-content.validator';

export class ChatMessageDto {
  @ApiProperty({ enum: ['system', 'user', 'assistant', 'developer'] })
  @IsIn(['system', 'user', 'assistant', 'developer'])
  role!: 'system' | 'user' | 'assistant' | 'developer';

  @ApiProperty({
    description: 'Text, or content parts: `{type:"text",text}` and `{type:"image_url",image_url:{url}}`',
    oneOf: [{ type: 'string' }, { type: 'array', items: { type: 'object' } }],
  })
  @IsMessageContent()
  content!: string | Record<string, unknown>[];

  @ApiPropertyOptional()
  @IsOptional()
  @IsString()
  @MaxLength(64)
  name?: string;
}

export class StreamOptionsDto {
  @ApiPropertyOptional()
  @IsOptional()
  @IsBoolean()
  include_usage?: boolean;
}

/** OpenAI's chat completion request; `model` may also be an alias or `auto`. */
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
  @ValidateNested({ each: true })
  @Type(() => ChatMessageDto)
  messages!: ChatMessageDto[];

  @ApiPropertyOptional({ minimum: 1 })
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

  @ApiPropertyOptional({ minimum: 0, maximum: 2 })
  @IsOptional()
  @IsNumber()
  @Min(0)
  @Max(2)
  temperature?: number;

  @ApiPropertyOptional({ minimum: 0, maximum: 1 })
  @IsOptional()
  @IsNumber()
  @Min(0)
  @Max(1)
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
  @IsObject()
  @ValidateNested()
  @Type(() => StreamOptionsDto)
  stream_options?: StreamOptionsDto;

  @ApiPropertyOptional({ description: 'Only one choice is supported', enum: [1] })
  @IsOptional()
  @Equals(1, { message: 'n must be 1' })
  n?: number;

  @ApiPropertyOptional()
  @IsOptional()
  @IsString()
  @MaxLength(256)
  user?: string;

  @ApiPropertyOptional({
    enum: [...STRATEGIES],
    description: 'Routing strategy for `auto` (also the X-Conflux-Strategy header)',
  })
  @IsOptional()
  @IsIn([...STRATEGIES])
  conflux_strategy?: string;
}

export class EmbeddingsRequestDto {
  @ApiProperty({ example: 'text-embedding-3-small' })
  @IsString()
  @MinLength(1)
  @MaxLength(200)
  model!: string;

  @ApiProperty({ oneOf: [{ type: 'string' }, { type: 'array', items: { type: 'string' } }] })
  @IsMessageContent({ textOnly: true })
  input!: string | string[];

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
