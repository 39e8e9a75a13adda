import { applyDecorators, createParamDecorator, ExecutionContext, SetMetadata } from '@nestjs/common';
import type { Request } from 'express';
import { AppError } from '../errors/app-error';
import type { Principal, Role } from './principal';

export const IS_PUBLIC = 'conflux:isPublic';
export const REQUIRED_ROLE = 'conflux:requiredRole';
export const USER_ONLY = 'conflux:userOnly';

/** Opts a route out of the global authentication guard. */
export const Public = (): MethodDecorator & ClassDecorator => SetMetadata(IS_PUBLIC, true);

/** Requires a global role (checked after authentication). */
export const Roles = (role: Role): MethodDecorator & ClassDecorator => SetMetadata(REQUIRED_ROLE, role);

/** Refuses API keys: the route needs a signed-in person. */
export const UserOnly = (): MethodDecorator & ClassDecorator => SetMetadata(USER_ONLY, true);

/**
 * Opens one route of a @UserOnly() / @Roles() controller to every authenticated caller, API keys
 * included (a read that programs need); the controller's other routes keep their restriction.
 */
export const AnyCaller = (): MethodDecorator & ClassDecorator =>
  applyDecorators(SetMetadata(USER_ONLY, false), SetMetadata(REQUIRED_ROLE, 'member'));

/** The authenticated caller of this request. */
export const CurrentPrincipal = createParamDecorator((_: unknown, ctx: ExecutionContext): Principal => {
  const req = ctx.switchToHttp().getRequest<Request>();
  if (!req.principal) throw AppError.unauthorized();
  return req.principal;
});
