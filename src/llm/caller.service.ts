import { Injectable } from '@nestjs/common';
import type { Request } from 'express';
import { AppError } from '../common/errors/app-error';
import { ProjectsService } from '../auth/projects.service';
import { Caller, PROJECT_HEADER, requestedProject } from './caller';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Resolves who pays: an API key's project, or the project a user names in X-Conflux-Project. */
@Injectable()
export class CallerService {
  constructor(private readonly projects: ProjectsService) {}

  async resolve(req: Request): Promise<Caller> {
    const principal = req.principal;
    if (!principal) throw AppError.unauthorized();
    if (principal.kind === 'api_key') {
      return { principal, projectId: principal.projectId, apiKeyId: principal.keyId, userId: principal.userId };
    }
    const projectId = requestedProject(req);
    if (!projectId || !UUID.test(projectId)) {
      throw new AppError(
        'validation_failed',
        `Signed-in users name the project to bill in the ${PROJECT_HEADER} header`,
      );
    }
    await this.projects.assertAccess(principal, projectId);
    return { principal, projectId, apiKeyId: null, userId: principal.userId };
  }
}
