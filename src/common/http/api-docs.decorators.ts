import { applyDecorators } from '@nestjs/common';
import { ApiBearerAuth, ApiDefaultResponse, ApiSecurity } from '@nestjs/swagger';
import { ErrorBodyDto } from './error-body.dto';

export const BEARER_SCHEME = 'bearer';
export const API_KEY_SCHEME = 'api-key';

/** Documents that a controller takes a JWT or an API key and answers errors with the envelope. */
export const ApiAuthenticated = (): ClassDecorator & MethodDecorator =>
  applyDecorators(
    ApiBearerAuth(BEARER_SCHEME),
    ApiSecurity(API_KEY_SCHEME),
    ApiDefaultResponse({ description: 'Error envelope', type: ErrorBodyDto }),
  );
