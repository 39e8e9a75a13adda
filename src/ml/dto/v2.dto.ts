/**
 * Open Inference Protocol (KServe V2) shapes, for the API documentation. Request bodies are checked by
 * the V2 tensor parser (its errors follow the protocol), not by the DTO validation pipe.
 */
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';

const DATATYPES = [
  'BOOL',
  'UINT8',
  'UINT16',
  'UINT32',
  'UINT64',
  'INT8',
  'INT16',
  'INT32',
  'INT64',
  'FP16',
  'FP32',
  'FP64',
  'BYTES',
];

export class V2TensorDto {
  @ApiProperty({ example: 'features' })
  name!: string;

  @ApiProperty({ type: [Number], example: [1, 12] })
  shape!: number[];

  @ApiProperty({ enum: DATATYPES, example: 'FP32' })
  datatype!: string;

  @ApiProperty({ type: 'array', items: {}, description: 'Row-major values, flat or nested' })
  data!: unknown[];

  @ApiPropertyOptional({ type: 'object', additionalProperties: true })
  parameters?: Record<string, unknown>;
}

export class V2RequestedOutputDto {
  @ApiProperty({ example: 'probabilities' })
  name!: string;

  @ApiPropertyOptional({ type: 'object', additionalProperties: true })
  parameters?: Record<string, unknown>;
}

export class V2InferRequestDto {
  @ApiPropertyOptional({ description: 'Echoed in the response' })
  id?: string;

  @ApiPropertyOptional({
    type: 'object',
    additionalProperties: true,
    description: '`routing_key` (string): sticky A/B routing key (default: the caller)',
  })
  parameters?: Record<string, unknown>;

  @ApiProperty({ type: [V2TensorDto] })
  inputs!: V2TensorDto[];

  @ApiPropertyOptional({ type: [V2RequestedOutputDto], description: 'Outputs to return (default: all)' })
  outputs?: V2RequestedOutputDto[];
}

export class V2InferResponseDto {
  @ApiProperty()
  model_name!: string;

  @ApiProperty()
  model_version!: string;

  @ApiPropertyOptional()
  id?: string;

  @ApiPropertyOptional({
    type: 'object',
    additionalProperties: true,
    description: '`served_by`, and `fallback`/`fallback_from` when a remote worker could not answer',
  })
  parameters?: Record<string, unknown>;

  @ApiProperty({ type: [V2TensorDto] })
  outputs!: V2TensorDto[];
}

export class V2TensorMetadataDto {
  @ApiProperty()
  name!: string;

  @ApiProperty({ enum: DATATYPES })
  datatype!: string;

  @ApiProperty({ type: [Number], description: '-1 for a dynamic dimension' })
  shape!: number[];
}

export class V2ModelMetadataDto {
  @ApiProperty()
  name!: string;

  @ApiProperty({ type: [String], description: 'Versions that can be requested explicitly' })
  versions!: string[];

  @ApiProperty({ example: 'onnxruntime_onnx' })
  platform!: string;

  @ApiProperty({ type: [V2TensorMetadataDto] })
  inputs!: V2TensorMetadataDto[];

  @ApiProperty({ type: [V2TensorMetadataDto] })
  outputs!: V2TensorMetadataDto[];
}

export class V2ServerMetadataDto {
  @ApiProperty({ example: 'conflux' })
  name!: string;

  @ApiProperty()
  version!: string;

  @ApiProperty({ type: [String] })
  extensions!: string[];
}

export class V2ErrorDto {
  @ApiProperty({ description: 'What went wrong (the protocol error body)', example: 'Model "x" is not registered' })
  error!: string;

  @ApiProperty({ description: 'Same as the X-Request-Id header' })
  request_id!: string;
}
