import { Body, Controller, Get, Post } from '@nestjs/common';
import { ApiCreatedResponse, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { Roles, UserOnly } from '../common/auth/decorators';
import { ApiAuthenticated } from '../common/http/api-docs.decorators';
import { CreateUserDto, UserDto } from './dto/auth.dto';
import type { UserEntity } from './entities';
import { UsersService } from './users.service';

function toDto(user: UserEntity): UserDto {
  return { id: user.id, email: user.email, role: user.role, created_at: user.createdAt };
}

@ApiTags('admin')
@ApiAuthenticated()
@UserOnly()
@Roles('admin')
@Controller('admin/users')
export class AdminUsersController {
  constructor(private readonly users: UsersService) {}

  @Post()
  @ApiCreatedResponse({ type: UserDto })
  async create(@Body() body: CreateUserDto): Promise<UserDto> {
    return toDto(await this.users.create(body.email, body.password, body.role));
  }

  @Get()
  @ApiOkResponse({ type: [UserDto] })
  async list(): Promise<UserDto[]> {
    return (await this.users.list()).map(toDto);
  }
}
