import { Injectable } from '@nestjs/common';
import { InjectDataSource, InjectRepository } from '@nestjs/typeorm';
import { DataSource, Repository } from 'typeorm';
import type { Principal, UserPrincipal } from '../common/auth/principal';
import { AppError } from '../common/errors/app-error';
import { ProjectEntity, ProjectMemberEntity, ProjectRole } from './entities';
import { isUniqueViolation, UsersService } from './users.service';

export type ProjectAccess = 'member' | 'owner';

export interface ProjectMemberView {
  user_id: string;
  email: string;
  role: ProjectRole;
  added_at: Date;
}

/**
 * Projects and who belongs to them. Every project-scoped resource of every module
 * is reached through `assertAccess`: outsiders get 404 (existence is not revealed),
 * members asking for an owner's action get 403.
 */
@Injectable()
export class ProjectsService {
  constructor(
    @InjectRepository(ProjectEntity) private readonly projects: Repository<ProjectEntity>,
    @InjectRepository(ProjectMemberEntity) private readonly members: Repository<ProjectMemberEntity>,
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly users: UsersService,
  ) {}

  async create(owner: UserPrincipal, name: string): Promise<ProjectEntity> {
    return this.dataSource.transaction(async (tx) => {
      const project = await tx.save(tx.create(ProjectEntity, { name: name.trim(), ownerId: owner.userId }));
      await tx.insert(ProjectMemberEntity, { projectId: project.id, userId: owner.userId, role: 'owner' });
      return project;
    });
  }

  /** Admins see every project, users their own, an API key its one project. */
  listFor(principal: Principal): Promise<ProjectEntity[]> {
    if (principal.kind === 'api_key') return this.projects.findBy({ id: principal.projectId });
    if (principal.role === 'admin') return this.projects.find({ order: { createdAt: 'ASC' } });
    return this.projects
      .createQueryBuilder('p')
      .innerJoin(ProjectMemberEntity, 'm', 'm.project_id = p.id AND m.user_id = :userId', {
        userId: principal.userId,
      })
      .orderBy('p.created_at', 'ASC')
      .getMany();
  }

  /** Returns the project when `principal` may act on it at `level`; 404/403 otherwise. */
  async assertAccess(principal: Principal, projectId: string, level: ProjectAccess = 'member'): Promise<ProjectEntity> {
    const project = await this.projects.findOneBy({ id: projectId });
    const notFound = AppError.notFound('Project');
    if (!project) throw notFound;
    if (principal.kind === 'api_key') {
      if (principal.projectId !== projectId) throw notFound;
      if (level === 'owner') throw AppError.forbidden('API keys cannot manage projects');
      return project;
    }
    if (principal.role === 'admin') return project;
    const membership = await this.members.findOneBy({ projectId, userId: principal.userId });
    if (!membership) throw notFound;
    if (level === 'owner' && membership.role !== 'owner') {
      throw AppError.forbidden('Only the project owner or an administrator can do this');
    }
    return project;
  }

  async membersOf(projectId: string): Promise<ProjectMemberView[]> {
    const rows = await this.dataSource.query<{ user_id: string; email: string; role: ProjectRole; added_at: Date }[]>(
      `SELECT m.user_id, u.email, m.role, m.created_at AS added_at
         FROM project_members m JOIN users u ON u.id = m.user_id
        WHERE m.project_id = $1 ORDER BY m.created_at`,
      [projectId],
    );
    return rows;
  }

  async addMember(principal: Principal, projectId: string, email: string): Promise<ProjectMemberView> {
    await this.assertAccess(principal, projectId, 'owner');
    const user = await this.users.findByEmail(email);
    if (!user) throw AppError.notFound('User');
    try {
      // insert, not save: save would silently update an existing membership.
      const result = await this.members.insert({ projectId, userId: user.id, role: 'member' });
      const addedAt = (result.generatedMaps[0] as { createdAt?: Date } | undefined)?.createdAt ?? new Date();
      return { user_id: user.id, email: user.email, role: 'member', added_at: addedAt };
    } catch (err) {
      if (isUniqueViolation(err)) throw new AppError('conflict', 'This user is already a member of the project');
      throw err;
    }
  }
}
