import { Body, Controller, Get, HttpCode, Post } from '@nestjs/common';
import { ApiDefaultResponse, ApiNoContentResponse, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { CurrentPrincipal, Public, UserOnly } from '../common/auth/decorators';
import type { Principal } from '../common/auth/principal';
import { ApiAuthenticated } from '../common/http/api-docs.decorators';
import { ErrorBodyDto } from '../common/http/error-body.dto';
import { AppError } from '../common/errors/app-error';
import { LoginDto, RefreshDto, TokenPairDto } from './dto/auth.dto';
import { ProjectsService } from './projects.service';
import { SessionsService, TokenPair } from './sessions.service';
import { UsersService } from './users.service';

@ApiTags('auth')
@Controller('auth')
export class AuthController {
  constructor(
    private readonly sessions: SessionsService,
    private readonly users: UsersService,
    private readonly projects: ProjectsService,
  ) {}

  @Public()
  @Post('login')
  @HttpCode(200)
  @ApiOkResponse({ type: TokenPairDto })
  @ApiDefaultResponse({ type: ErrorBodyDto })
  login(@Body() body: LoginDto): Promise<TokenPair> {
    return this.sessions.login(body.email, body.password);
  }

  @Public()
  @Post('refresh')
  @HttpCode(200)
  @ApiOkResponse({ type: TokenPairDto, description: 'A new pair; the refresh token sent is now used up' })
  @ApiDefaultResponse({ type: ErrorBodyDto })
  refresh(@Body() body: RefreshDto): Promise<TokenPair> {
    return this.sessions.refresh(body.refresh_token);
  }

  @UserOnly()
  @Post('logout')
  @HttpCode(204)
  @ApiAuthenticated()
  @ApiNoContentResponse({ description: 'The session and all its tokens are revoked' })
  async logout(@CurrentPrincipal() principal: Principal): Promise<void> {
    if (principal.kind !== 'user') throw AppError.forbidden();
    await this.sessions.logout(principal.sessionId);
  }

  @Get('me')
  @ApiAuthenticated()
  @ApiOkResponse({ description: 'The caller: a user with their projects, or an API key with its project' })
  async me(@CurrentPrincipal() principal: Principal): Promise<Record<string, unknown>> {
    if (principal.kind === 'api_key') {
      return { kind: 'api_key', key_id: principal.keyId, project_id: principal.projectId };
    }
    const user = await this.users.findById(principal.userId);
    if (!user) throw AppError.unauthorized();
    const projects = await this.projects.listFor(principal);
    return {
      kind: 'user',
      id: user.id,
      email: user.email,
      role: user.role,
      created_at: user.createdAt,
      projects: projects.map((p) => ({ id: p.id, name: p.name })),
    };
  }
}
