import { CanActivate, ExecutionContext, Injectable } from '@nestjs/common';
import type { Request } from 'express';
import { AppError } from '../common/errors/app-error';
import { waitAtMost } from '../common/with-timeout';
import { AppConfig } from '../config/app-config';
import { ProjectsService } from '../auth/projects.service';
import { Caller, PROJECT_HEADER, requestedProject } from './caller';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const CALLER = Symbol('caller');

type WithCaller = Request & { [CALLER]?: Caller };

/**
 * Resolves who pays for a gateway call before its handler runs: an API key's project, or the
 * project a signed-in user names in X-Conflux-Project (and may use). The route's
 * RequestContext carries it. A guard, so that the lookup is awaited once, ahead of the
 * handler, without an interceptor.
 */
@Injectable()
export class CallerGuard implements CanActivate {
  constructor(
    private readonly projects: ProjectsService,
    private readonly config: AppConfig,
  ) {}

  canActivate(context: ExecutionContext): boolean | Promise<boolean> {
    const req = context.switchToHttp().getRequest<WithCaller>();
    const principal = req.principal;
    if (!principal) throw AppError.unauthorized();
    if (principal.kind === 'api_key') {
      req[CALLER] = { principal, projectId: principal.projectId, apiKeyId: principal.keyId, userId: principal.userId };
      return true;
    }
    const projectId = requestedProject(req);
    if (!projectId || !UUID.test(projectId)) {
      throw new AppError(
        'validation_failed',
        `Signed-in users name the project to bill in the ${PROJECT_HEADER} header`,
      );
    }
    const access = this.projects.assertAccess(principal, projectId);
    return waitAtMost(access, this.config.DATABASE_HOT_PATH_TIMEOUT_MS, 'project access check').then(() => {
      req[CALLER] = { principal, projectId, apiKeyId: null, userId: principal.userId };
      return true;
    });
  }
}

/** The caller CallerGuard resolved for this request. */
export function callerOf(req: Request): Caller {
  const caller = (req as WithCaller)[CALLER];
  if (!caller) throw new Error('A gateway route reads its caller without CallerGuard');
  return caller;
}
