import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsDateString, IsEmail, IsIn, IsOptional, IsString, MaxLength, MinLength } from 'class-validator';
import type { Role } from '../../common/auth/principal';

const trim = ({ value }: { value: unknown }): unknown => (typeof value === 'string' ? value.trim() : value);

export class LoginDto {
  @ApiProperty({ example: 'admin@conflux.local' })
  @IsEmail()
  @MaxLength(320)
  email!: string;

  @ApiProperty({ format: 'password' })
  @IsString()
  @MinLength(1)
  @MaxLength(256)
  password!: string;
}

export class RefreshDto {
  @ApiProperty()
  @IsString()
  @MinLength(1)
  @MaxLength(256)
  refresh_token!: string;
}

export class TokenPairDto {
  @ApiProperty() access_token!: string;
  @ApiProperty() refresh_token!: string;
  @ApiProperty({ example: 'Bearer' }) token_type!: 'Bearer';
  @ApiProperty({ description: 'Access token lifetime in seconds' }) expires_in!: number;
}

/** A browser session's answer: the access token only; the refresh token is in the session cookie. */
export class SessionTokenDto {
  @ApiProperty() access_token!: string;
  @ApiProperty({ example: 'Bearer' }) token_type!: 'Bearer';
  @ApiProperty({ description: 'Access token lifetime in seconds' }) expires_in!: number;
}

export class CreateUserDto {
  @ApiProperty()
  @IsEmail()
  @MaxLength(320)
  email!: string;

  @ApiProperty({ minLength: 12, format: 'password' })
  @IsString()
  @MinLength(12)
  @MaxLength(256)
  password!: string;

  @ApiProperty({ enum: ['admin', 'member'] })
  @IsIn(['admin', 'member'])
  role!: Role;
}

export class UserDto {
  @ApiProperty() id!: string;
  @ApiProperty() email!: string;
  @ApiProperty({ enum: ['admin', 'member'] }) role!: Role;
  @ApiProperty() created_at!: Date;
}

export class CreateProjectDto {
  @ApiProperty({ example: 'search-team' })
  @Transform(trim)
  @IsString()
  @MinLength(1)
  @MaxLength(200)
  name!: string;
}

export class AddMemberDto {
  @ApiProperty()
  @IsEmail()
  @MaxLength(320)
  email!: string;
}

export class CreateApiKeyDto {
  @ApiProperty({ example: 'ci-pipeline' })
  @Transform(trim)
  @IsString()
  @MinLength(1)
  @MaxLength(200)
  name!: string;

  @ApiPropertyOptional({ description: 'ISO 8601 time after which the key stops working' })
  @IsOptional()
  @IsDateString({ strict: true })
  expires_at?: string;
}

export class ApiKeyDto {
  @ApiProperty() id!: string;
  @ApiProperty() project_id!: string;
  @ApiProperty() name!: string;
  @ApiProperty({ description: 'Visible start of the key, for recognising it' }) prefix!: string;
  @ApiProperty() created_at!: Date;
  @ApiProperty({ nullable: true, type: Date }) last_used_at!: Date | null;
  @ApiProperty({ nullable: true, type: Date }) expires_at!: Date | null;
  @ApiProperty({
    nullable: true,
    type: Date,
    description: 'Until when the secret replaced by the last rotation keeps working (null when none does)',
  })
  previous_key_expires_at!: Date | null;
}

export class IssuedApiKeyDto extends ApiKeyDto {
  @ApiProperty({ description: 'The secret. Shown only in this response: store it now.' }) key!: string;
}

export class RotatedApiKeyDto extends IssuedApiKeyDto {
  @ApiProperty({ type: Date, nullable: false, description: 'Until when the previous secret keeps working' })
  declare previous_key_expires_at: Date;
}

export class ProjectDto {
  @ApiProperty() id!: string;
  @ApiProperty() name!: string;
  @ApiProperty() owner_id!: string;
  @ApiProperty() created_at!: Date;
}

export class ProjectMemberDto {
  @ApiProperty() user_id!: string;
  @ApiProperty() email!: string;
  @ApiProperty({ enum: ['owner', 'member'] }) role!: string;
  @ApiProperty() added_at!: Date;
}

export class ProjectDetailDto extends ProjectDto {
  @ApiProperty({ type: [ProjectMemberDto] }) members!: ProjectMemberDto[];
}
