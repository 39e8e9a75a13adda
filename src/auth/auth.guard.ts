import { CanActivate, ExecutionContext, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { Request } from 'express';
import { IS_PUBLIC, REQUIRED_ROLE, USER_ONLY } from '../common/auth/decorators';
import type { Principal, Role } from '../common/auth/principal';
import { AppError } from '../common/errors/app-error';
import { AuthFailuresService } from '../rate-limit/auth-failures.service';
import { ApiKeysService } from './api-keys.service';
import { looksLikeApiKey } from './secrets';
import { SessionsService } from './sessions.service';

/** Reads the credential a request carries: `X-API-Key`, or `Authorization: Bearer`. */
export function extractCredential(req: Request): { kind: 'api_key' | 'bearer'; value: string } | null {
  const apiKey = req.headers['x-api-key'];
  if (typeof apiKey === 'string' && apiKey.length > 0) return { kind: 'api_key', value: apiKey.trim() };
  const authorization = req.headers.authorization;
  if (typeof authorization !== 'string') return null;
  const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization);
  if (!match) throw new AppError('unauthorized', 'Authorization header must be "Bearer <token>"');
  const value = match[1];
  return { kind: looksLikeApiKey(value) ? 'api_key' : 'bearer', value };
}

/**
 * Global guard: every route needs a JWT or an API key unless marked @Public().
 * Then @UserOnly() and @Roles() are enforced.
 */
@Injectable()
export class AuthGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly sessions: SessionsService,
    private readonly apiKeys: ApiKeysService,
    private readonly failures: AuthFailuresService,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const targets = [context.getHandler(), context.getClass()];
    if (this.reflector.getAllAndOverride<boolean>(IS_PUBLIC, targets)) return true;
    const req = context.switchToHttp().getRequest<Request>();
    let principal: Principal;
    try {
      principal = await this.authenticate(req);
    } catch (err) {
      if (err instanceof AppError && err.status === 401) {
        throw await this.failures.register(req.ip ?? 'unknown', err);
      }
      throw err;
    }
    req.principal = principal;
    if (this.reflector.getAllAndOverride<boolean>(USER_ONLY, targets) && principal.kind !== 'user') {
      throw AppError.forbidden('This endpoint needs a signed-in user, not an API key');
    }
    const role = this.reflector.getAllAndOverride<Role | undefined>(REQUIRED_ROLE, targets);
    if (role === 'admin' && (principal.kind !== 'user' || principal.role !== 'admin')) {
      throw AppError.forbidden('Administrator role required');
    }
    return true;
  }

  private async authenticate(req: Request): Promise<Principal> {
    const credential = extractCredential(req);
    if (!credential) throw AppError.unauthorized('Authentication required: send a Bearer token or X-API-Key');
    if (credential.kind === 'bearer') return this.sessions.authenticate(credential.value);
    const principal = await this.apiKeys.authenticate(credential.value);
    if (!principal) throw new AppError('invalid_token', 'Invalid, expired or revoked API key');
    return principal;
  }
}
