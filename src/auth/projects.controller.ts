import { Body, Controller, Get, Param, ParseUUIDPipe, Post } from '@nestjs/common';
import { ApiCreatedResponse, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { CurrentPrincipal, UserOnly } from '../common/auth/decorators';
import type { Principal } from '../common/auth/principal';
import { AppError } from '../common/errors/app-error';
import { ApiAuthenticated } from '../common/http/api-docs.decorators';
import { AddMemberDto, CreateProjectDto, ProjectDetailDto, ProjectDto, ProjectMemberDto } from './dto/auth.dto';
import type { ProjectEntity } from './entities';
import { ProjectMemberView, ProjectsService } from './projects.service';

function toDto(project: ProjectEntity): ProjectDto {
  return { id: project.id, name: project.name, owner_id: project.ownerId, created_at: project.createdAt };
}

@ApiTags('projects')
@ApiAuthenticated()
@Controller('projects')
export class ProjectsController {
  constructor(private readonly projects: ProjectsService) {}

  @UserOnly()
  @Post()
  @ApiCreatedResponse({ type: ProjectDto, description: 'The caller becomes the owner' })
  async create(@CurrentPrincipal() principal: Principal, @Body() body: CreateProjectDto): Promise<ProjectDto> {
    if (principal.kind !== 'user') throw AppError.forbidden();
    return toDto(await this.projects.create(principal, body.name));
  }

  @Get()
  @ApiOkResponse({ type: [ProjectDto], description: 'Mine (every project for an administrator)' })
  async list(@CurrentPrincipal() principal: Principal): Promise<ProjectDto[]> {
    return (await this.projects.listFor(principal)).map(toDto);
  }

  @Get(':id')
  @ApiOkResponse({ type: ProjectDetailDto })
  async get(
    @CurrentPrincipal() principal: Principal,
    @Param('id', ParseUUIDPipe) id: string,
  ): Promise<ProjectDetailDto> {
    const project = await this.projects.assertAccess(principal, id);
    return { ...toDto(project), members: await this.projects.membersOf(id) };
  }

  @UserOnly()
  @Post(':id/members')
  @ApiCreatedResponse({ type: ProjectMemberDto, description: 'Owner or administrator only' })
  addMember(
    @CurrentPrincipal() principal: Principal,
    @Param('id', ParseUUIDPipe) id: string,
    @Body() body: AddMemberDto,
  ): Promise<ProjectMemberView> {
    return this.projects.addMember(principal, id, body.email);
  }
}
