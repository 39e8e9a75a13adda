import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { ERROR_STATUS } from '../errors/app-error';

/** The one error body of every endpoint. */
export class ErrorBodyDto {
  @ApiProperty({ enum: Object.keys(ERROR_STATUS), example: 'validation_failed' })
  error!: string;

  @ApiProperty({ example: 'Request body is invalid' })
  message!: string;

  @ApiProperty({ example: '5f0c6a2e-2a9f-4c55-9b9e-4b8f0f6b1c1d' })
  request_id!: string;

  @ApiPropertyOptional({ description: 'Structured detail, e.g. the failing fields' })
  details?: unknown;
}
