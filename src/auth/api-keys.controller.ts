import { Body, Controller, Delete, Get, HttpCode, Param, ParseUUIDPipe, Post } from '@nestjs/common';
import { ApiCreatedResponse, ApiNoContentResponse, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { CurrentPrincipal, UserOnly } from '../common/auth/decorators';
import type { Principal } from '../common/auth/principal';
import { ApiAuthenticated } from '../common/http/api-docs.decorators';
import { ApiKeysService, ApiKeyView, IssuedApiKey } from './api-keys.service';
import { ApiKeyDto, CreateApiKeyDto, IssuedApiKeyDto, RotatedApiKeyDto } from './dto/auth.dto';
import { ProjectsService } from './projects.service';

/** API keys of one project; any member of the project may manage them. */
@ApiTags('api-keys')
@ApiAuthenticated()
@UserOnly()
@Controller('projects/:projectId/api-keys')
export class ApiKeysController {
  constructor(
    private readonly keys: ApiKeysService,
    private readonly projects: ProjectsService,
  ) {}

  @Post()
  @ApiCreatedResponse({ type: IssuedApiKeyDto })
  async create(
    @CurrentPrincipal() principal: Principal,
    @Param('projectId', ParseUUIDPipe) projectId: string,
    @Body() body: CreateApiKeyDto,
  ): Promise<IssuedApiKey> {
    await this.projects.assertAccess(principal, projectId);
    const expiresAt = body.expires_at ? new Date(body.expires_at) : null;
    return this.keys.create(projectId, principal.userId, body.name, expiresAt);
  }

  @Get()
  @ApiOkResponse({ type: [ApiKeyDto] })
  async list(
    @CurrentPrincipal() principal: Principal,
    @Param('projectId', ParseUUIDPipe) projectId: string,
  ): Promise<ApiKeyView[]> {
    await this.projects.assertAccess(principal, projectId);
    return this.keys.list(projectId);
  }

  @Post(':keyId/rotate')
  @HttpCode(200)
  @ApiOkResponse({ type: RotatedApiKeyDto })
  async rotate(
    @CurrentPrincipal() principal: Principal,
    @Param('projectId', ParseUUIDPipe) projectId: string,
    @Param('keyId', ParseUUIDPipe) keyId: string,
  ): Promise<RotatedApiKeyDto> {
    await this.projects.assertAccess(principal, projectId);
    return this.keys.rotate(projectId, keyId);
  }

  @Delete(':keyId')
  @HttpCode(204)
  @ApiNoContentResponse({ description: 'Revoked at once' })
  async revoke(
    @CurrentPrincipal() principal: Principal,
    @Param('projectId', ParseUUIDPipe) projectId: string,
    @Param('keyId', ParseUUIDPipe) keyId: string,
  ): Promise<void> {
    await this.projects.assertAccess(principal, projectId);
    await this.keys.revoke(projectId, keyId);
  }
}
