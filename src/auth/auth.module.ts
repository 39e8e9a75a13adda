import { Module } from '@nestjs/common';
import { JwtModule } from '@nestjs/jwt';
import { TypeOrmModule } from '@nestjs/typeorm';
import { AppConfig } from '../config/app-config';
import { RateLimitModule } from '../rate-limit/rate-limit.module';
import { AdminUsersController } from './admin-users.controller';
import { ApiKeysController } from './api-keys.controller';
import { ApiKeysService } from './api-keys.service';
import { AuthController } from './auth.controller';
import { AuthGuard } from './auth.guard';
import { BrowserSessionController } from './browser-session.controller';
import { AUTH_ENTITIES } from './entities';
import { buildJwtOptions } from './jwt-options';
import { ProjectsController } from './projects.controller';
import { ProjectsService } from './projects.service';
import { SessionsService } from './sessions.service';
import { UsersService } from './users.service';

/**
 * Identity and access: users, projects and their members, sessions, API keys.
 * Other modules use `AuthGuard` (global), `ProjectsService.assertAccess` and `ApiKeysService.labels`.
 */
@Module({
  imports: [
    RateLimitModule,
    TypeOrmModule.forFeature(AUTH_ENTITIES),
    JwtModule.registerAsync({ inject: [AppConfig], useFactory: buildJwtOptions }),
  ],
  controllers: [AuthController, BrowserSessionController, AdminUsersController, ProjectsController, ApiKeysController],
  providers: [UsersService, SessionsService, ProjectsService, ApiKeysService, AuthGuard],
  exports: [AuthGuard, ProjectsService, ApiKeysService],
})
export class AuthModule {}
