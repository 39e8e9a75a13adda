import { ApiKeySecretEntity } from './api-key-secret.entity';
import { ApiKeyEntity } from './api-key.entity';
import { ProjectMemberEntity } from './project-member.entity';
import { ProjectEntity } from './project.entity';
import { RefreshTokenEntity } from './refresh-token.entity';
import { SessionEntity } from './session.entity';
import { UserEntity } from './user.entity';

export type { ProjectRole } from './project-member.entity';
export {
  ApiKeyEntity,
  ApiKeySecretEntity,
  ProjectEntity,
  ProjectMemberEntity,
  RefreshTokenEntity,
  SessionEntity,
  UserEntity,
};

export const AUTH_ENTITIES = [
  UserEntity,
  ProjectEntity,
  ProjectMemberEntity,
  SessionEntity,
  RefreshTokenEntity,
  ApiKeyEntity,
  ApiKeySecretEntity,
];
