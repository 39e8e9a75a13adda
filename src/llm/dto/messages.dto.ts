import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
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
  registerDecorator,
  ValidateNested,
} from 'class-validator';

function isBlock(value: unknown): boolean {
  if (typeof value !== 'object' || value === null) return false;
  const block = value as Record<string, unknown>;
  if (block.type === 'text') return typeof block.text === 'string';
  if (block.type !== 'image') return false;
  const source = block.source as Record<string, unknown> | undefined;
  return (
    typeof source === 'object' &&
    source !== null &&
    ((source.type === 'base64' && typeof source.media_type === 'string' && typeof source.data === 'string') ||
      (source.type === 'url' && typeof source.url === 'string'))
  );
}

/** Anthropic content: a string or a non-empty list of text/image blocks. */
function IsAnthropicContent(allowImages: boolean) {
  return (target: object, property: string): void => {
    registerDecorator({
      name: 'isAnthropicContent',
      target: target.constructor,
      propertyName: property,
      options: { message: `${property} must be a string or a non-empty list of content blocks` },
      validator: {
        validate: (value: unknown) =>
          typeof value === 'string' ||
          (Array.isArray(value) &&
            value.length > 0 &&
            value.every((b) => isBlock(b) && (allowImages || (b as { type: string }).type === 'text'))),
      },
    });
  };
}

export class AnthropicMessageDto {
  @ApiProperty({ enum: ['user', 'assistant'] })
  @IsIn(['user', 'assistant'])
  role!: 'user' | 'assistant';

  @ApiProperty({ oneOf: [{ type: 'string' }, { type: 'array', items: { type: 'object' } }] })
  @IsAnthropicContent(true)
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
  @ValidateNested({ each: true })
  @Type(() => AnthropicMessageDto)
  messages!: AnthropicMessageDto[];

  @ApiPropertyOptional({ oneOf: [{ type: 'string' }, { type: 'array', items: { type: 'object' } }] })
  @IsOptional()
  @IsAnthropicContent(false)
  system?: string | Record<string, unknown>[];

  @ApiProperty({ minimum: 1 })
  @IsInt()
  @Min(1)
  @Max(1_000_000)
  max_tokens!: number;

  @ApiPropertyOptional({ minimum: 0, maximum: 1 })
  @IsOptional()
  @IsNumber()
  @Min(0)
  @Max(1)
  temperature?: number;

  @ApiPropertyOptional({ minimum: 0, maximum: 1 })
  @IsOptional()
  @IsNumber()
  @Min(0)
  @Max(1)
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

  @ApiPropertyOptional()
  @IsOptional()
  @IsObject()
  metadata?: Record<string, unknown>;
}
